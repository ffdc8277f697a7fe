//! Recommendations from one history: the interaction log (purchases of every channel, fed from the
//! `order.placed` events; views, searches and cart adds posted by shoppers), training that turns it into a
//! versioned `recs::Model` stored in the database, and serving with stock, repeat and diversity filters.

mod log;
mod models;
mod serve;

pub use log::*;
pub use models::*;
pub use serve::*;

/// How a model is trained (the defaults are what the nightly retraining uses).
pub use ::recs::TrainConfig;

use crate::error::bad;
use crate::platform::events;
use crate::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use store::{params, Tx};

/// Meta key holding the event-feed position the interaction log has consumed.
const CURSOR_KEY: &str = "recs.events_cursor";
/// Shopper events accepted per request.
pub const MAX_EVENTS_PER_POST: usize = 100;
/// A session ends after this long without a view.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Purchases and views read to build one shopper's profile at serving time.
const PROFILE_ROWS: i64 = 400;
/// Items recommended per request at most.
pub const MAX_LIMIT: usize = 50;
/// A just-bought item is recommended again only if at least this share of its buyers rebuy it.
const REPEAT_WORTHY: f32 = 0.25;
/// "Just bought" means within this window.
const JUST_BOUGHT_MS: i64 = 24 * 3600 * 1000;
