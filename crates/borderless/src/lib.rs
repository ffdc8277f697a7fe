//! The borderless application: wiring of storage, engine, HTTP API and background workers (webhook
//! delivery, pickup expiry), the demo retailer, and the benchmark harness. The `borderless` binary is a
//! thin CLI over this library, and the integration tests start the same [`app::start`].

pub mod app;
pub mod bench;
pub mod demo;
pub mod instore_cli;
pub mod listener;
pub mod live_store;
pub mod recs_eval;
pub mod stripe;
pub mod webhooks;
