//! The use cases of borderless as plain data in, plain data out, one folder per business area: `catalog`,
//! `stock`, `customers`, `sales`, `money`, `instore`, `discovery`, `insight` (shopper analytics), and the
//! `platform` plumbing they share.
//! This crate names no web framework and no concrete database: it runs its SQL through `store::Tx` inside
//! one transaction per use case, and every state change writes its domain event in that same transaction.
//!
//! Each area owns its use cases (an `impl Engine` block in its `mod.rs`), its view types and its SQL (in the
//! area's own modules). This file only assembles: the `Engine` handle, its configuration and its clock.

pub mod catalog;
mod clock;
pub mod customers;
pub mod discovery;
mod doctor;
mod error;
pub mod insight;
pub mod instore;
pub mod money;
pub mod platform;
pub mod sales;
pub mod stock;

pub use clock::{Clock, ManualClock, SystemClock};
pub use doctor::DoctorReport;
pub use error::{EngineError, Result};

use std::sync::Arc;
use store::Db;

#[derive(Clone, Debug)]
pub struct Config {
    /// How long a click & collect order is held for the shopper before it expires and its stock returns.
    pub pickup_hold_ms: i64,
    /// The most a cashierless entry gate pre-authorizes on a wallet (KRW minor units).
    pub cashierless_cap_minor: i64,
    /// Orders nobody has paid for yet hold stock: a shopper (by email or account) may have at most this
    /// many open `pay_at_pickup` orders …
    pub unpaid_max_open_orders: i64,
    /// … of at most this many units each (paid orders are bounded only by stock).
    pub unpaid_max_units: i64,
    /// A staff-taken `manual` delivery order (an invoice, a transfer) releases its stock if it has not
    /// shipped within this long.
    pub unpaid_hold_ms: i64,
    /// Webhook targets may be `http://` and private or loopback addresses (development only).
    pub webhooks_allow_private: bool,
    /// The address shoppers reach the shop at; links in mail start with it (never with a request's `Host`,
    /// which a stranger chooses).
    pub public_url: String,
    /// A mail transport is configured: the mail worker delivers the outbox.
    pub mail_delivery: bool,
    /// Analytics answers withhold every cell of fewer distinct shoppers than this (k-anonymity).
    pub analytics_k: u32,
    /// Raw analytics events older than this many days are deleted.
    pub analytics_retention_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            pickup_hold_ms: 72 * 3600 * 1000,
            cashierless_cap_minor: 100_000,
            unpaid_max_open_orders: 3,
            unpaid_max_units: 20,
            unpaid_hold_ms: 7 * 24 * 3600 * 1000,
            webhooks_allow_private: false,
            public_url: "http://127.0.0.1:8080".into(),
            mail_delivery: false,
            analytics_k: ::insight::DEFAULT_K,
            analytics_retention_days: 400,
        }
    }
}

/// The application's handle: cheap to clone, shared by every request and worker. Each area keeps the
/// in-memory state it needs beside the database (login throttling, the served search index and
/// recommendation model, the fusion state of live stores, the payment providers).
#[derive(Clone)]
pub struct Engine {
    db: Db,
    cfg: Arc<Config>,
    clock: Arc<dyn Clock>,
    money: Arc<money::MoneyState>,
    passwords: Arc<platform::passwords::Passwords>,
    discovery: Arc<discovery::DiscoveryState>,
    instore: Arc<instore::InstoreState>,
    insight: Arc<insight::InsightState>,
}

impl Engine {
    pub fn new(db: Db, cfg: Config, clock: Arc<dyn Clock>) -> Engine {
        Engine {
            db,
            cfg: Arc::new(cfg),
            clock,
            money: Arc::new(money::MoneyState::new(money::payments::Payments::new(vec![
                Arc::new(money::payments::PayAtPickup),
                Arc::new(money::payments::PayInStore),
                Arc::new(money::payments::Manual),
                Arc::new(money::payments::StoredValue::WALLET),
                Arc::new(money::payments::StoredValue::GIFT_CARD),
                Arc::new(money::payments::StoredValue::STORE_CREDIT),
                Arc::new(money::payments::Split),
                Arc::new(money::cards::Card),
                Arc::new(instore::cashierless::EntryHold),
            ]))),
            passwords: Arc::new(platform::passwords::Passwords::new()),
            discovery: Arc::default(),
            instore: Arc::default(),
            insight: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
