//! Live cashierless stores: each store's layout (planogram and facings), its device registry (gates, shelf
//! gondolas, trackers, shelf labels — each with its own token and sequence bookkeeping), the durable intake
//! of device events (stored before they are acknowledged, duplicates dropped, gaps counted, bad events
//! rejected one by one with a reason), and per store the fusion engine folded over the stored events:
//! entries open visits with a wallet hold, exits place the cashierless order, and events the sensors cannot
//! settle wait in a review queue that staff resolve. The fold is replayed from the stored events after a
//! restart, so an acknowledged event is never lost. One node should serve a store's devices at a time.

mod devices;
mod events;
mod fold;
mod labels;
mod layout;

pub use devices::*;
pub use events::*;
pub use fold::*;
pub use labels::*;
pub use layout::*;

use crate::error::{bad, EngineError, Result};
use crate::sales::orders::SaleLineInput;
use instore::{PlateKey, StoreLayout};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::{params, Tx};

/// Events per ingest call at most.
pub const MAX_BATCH: usize = 500;
/// Plate samples per `plates` event at most (a gondola of 72 plates sends 12 samples each per message).
pub const MAX_SAMPLES: usize = 5_000;
/// Track frames per `tracks` event at most.
pub const MAX_FRAMES: usize = 200;
/// How far one event's `seq` may run ahead of the device's last.
pub const MAX_SEQ_JUMP: i64 = 1_000_000;
/// Plates in a store layout at most.
pub const MAX_LAYOUT_PLATES: usize = 20_000;
