//! The `borderless` command's own parts: the demo retailer (its data, seeding and live cashierless store)
//! and the offline commands (`instore replay/simulate/score`, `recs eval`). The node itself (wiring,
//! listeners, workers) is the `node` crate and the benchmark harness the `bench` crate; `main.rs` is the CLI.

pub mod assistant_eval;
pub mod demo;
pub mod instore_cli;
pub mod recs_eval;
