//! The benchmark harnesses. `borderless bench checkout` drives the full shopper flow over HTTP (create
//! cart, add a line, choose pickup, checkout with an idempotency key) at several concurrency levels and
//! prints orders/s with p50 and p99 latency, then a flash sale (many concurrent attempts on few units) with
//! oversell/undersell checks. `borderless bench ledger` measures durable money transfers through the API
//! and in the engine alone. By default each starts its own `borderless serve` child process on a fresh data
//! directory, so client and server are separate processes as they would be in production. `borderless bench
//! console` times the staff console's screens on a big shop; `borderless bench hostile` runs shoppers beside
//! attackers with the public defaults on; `borderless bench storefront` times the
//! shopper's pages on a big catalog; `borderless bench assistant` times the shopping assistant's turns; `borderless bench analytics` answers
//! the analytics questions at scale and checks them against DuckDB over the Parquet export;
//! `borderless bench soak` runs the demo under mixed traffic for half an hour and records memory, log and
//! database size per 100,000 orders.

mod analytics;
mod assistant;
mod checkout;
mod console;
mod hostile;
mod labels;
mod ledger;
mod recs;
mod search;
mod server;
mod soak;
mod storefront;

pub use analytics::{analytics, AnalyticsBenchOpts};
pub use assistant::{assistant, AssistantBenchOpts};
pub use checkout::checkout;
pub use console::{console, ConsoleBenchOpts};
pub use hostile::{hostile, HostileBenchOpts};
pub use labels::labels;
pub use ledger::{ledger, LedgerBenchOpts};
pub use recs::{recs, synthetic_history, RecsBenchOpts};
pub use search::{search, SearchBenchOpts, SEARCH_BENCH_MODEL};
pub use server::{BenchOpts, Target};
pub use soak::{soak, SoakBenchOpts};
pub use storefront::{storefront, StorefrontBenchOpts};
