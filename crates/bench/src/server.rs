//! What the harnesses share: the target (a child `borderless serve` on a fresh data directory, or a given
//! URL), a small admin API client, one shopper checkout, percentiles and peak memory.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Target {
    /// An already running server; when absent a child server is started.
    pub url: Option<String>,
    pub admin_key: Option<String>,
    /// Database for the child server (default: SQLite in a temporary directory).
    pub database_url: Option<String>,
    pub concurrency: Vec<usize>,
    pub duration: Duration,
}

impl Target {
    /// The server's URL and admin key, starting a child server when no URL was given (kept alive by the
    /// returned guard).
    pub(crate) async fn connect(&self) -> Result<(Option<Child>, String, String)> {
        let key = self.admin_key.clone().unwrap_or_else(|| format!("bench-admin-{}", domain::ids::random_token(12)));
        match &self.url {
            Some(u) => Ok((None, u.trim_end_matches('/').to_owned(), key)),
            None => {
                let (c, u) = spawn_server(self.database_url.as_deref(), &key).await?;
                Ok((Some(c), u, key))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct BenchOpts {
    pub target: Target,
    pub flash_attempts: usize,
    pub flash_units: i64,
    pub flash_in_flight: usize,
}

pub(crate) struct Child {
    pub(crate) proc: std::process::Child,
    pub(crate) dir: std::path::PathBuf,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) async fn spawn_server(database_url: Option<&str>, key: &str) -> Result<(Child, String)> {
    // A load test from one address: the per-address limits would measure themselves.
    spawn_server_with(database_url, key, &["--rate-limits", "off"]).await
}

/// A child `borderless serve` with extra arguments (the hostile bench keeps the public defaults and names
/// loopback as its trusted proxy).
pub(crate) async fn spawn_server_with(database_url: Option<&str>, key: &str, args: &[&str]) -> Result<(Child, String)> {
    let port = free_port()?;
    let dir = std::env::temp_dir().join(format!("borderless-bench-{}", domain::ids::random_token(6)));
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("serve").args(args).arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(&dir);
    if let Some(u) = database_url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.env("BORDERLESS_ADMIN_KEY", key).env("RUST_LOG", "warn").stdout(std::process::Stdio::null());
    let proc = cmd.spawn().context("cannot start the server child process")?;
    let child = Child { proc, dir };
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server child did not become healthy within 10 s")
}

pub(crate) struct Api {
    pub(crate) client: reqwest::Client,
    pub(crate) url: String,
    pub(crate) key: String,
}

impl Api {
    pub(crate) async fn admin(&self, path: &str, body: Value) -> Result<Value> {
        let r = self.client.post(format!("{}{path}", self.url)).bearer_auth(&self.key).json(&body).send().await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path} → {status}: {v}");
        }
        Ok(v)
    }
    pub(crate) async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.client.get(format!("{}{path}", self.url)).bearer_auth(&self.key).send().await?.json().await?)
    }
}

/// One shopper's full flow. Returns Ok(true) for a placed order, Ok(false) for a clean out_of_stock.
pub(crate) async fn place_order(
    client: &reqwest::Client,
    url: &str,
    sku: &str,
    location_id: &str,
    n: u64,
) -> Result<bool> {
    let cart: Value =
        client.post(format!("{url}/store/carts")).json(&json!({"currency": "KRW"})).send().await?.json().await?;
    let id = cart["cart"]["id"].as_str().context("no cart id")?.to_owned();
    let r =
        client.post(format!("{url}/store/carts/{id}/lines")).json(&json!({"sku": sku, "quantity": 1})).send().await?;
    if !r.status().is_success() {
        bail!("add line → {}", r.status());
    }
    let r = client
        .put(format!("{url}/store/carts/{id}/fulfillment"))
        .json(&json!({"type": "pickup", "location_id": location_id}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("fulfillment → {}", r.status());
    }
    let r = client
        .post(format!("{url}/store/carts/{id}/checkout"))
        .header("Idempotency-Key", format!("bench-{n}-{id}"))
        .json(&json!({"email": format!("shopper{n}@bench.example"), "payment": {"method": "pay_at_pickup"}}))
        .send()
        .await?;
    match r.status().as_u16() {
        201 => Ok(true),
        409 => {
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if v["error"]["code"] == "out_of_stock" {
                Ok(false)
            } else {
                bail!("checkout → 409 {v}")
            }
        }
        s => bail!("checkout → {s}: {}", r.text().await.unwrap_or_default()),
    }
}

/// Peak resident memory of a process on Linux, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// Resident memory of a process now (VmRSS), KiB.
pub(crate) fn resident_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// A field of a process's `/proc/<pid>/status` counted in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Store number `l` of a bench shop (`S00`, `S01`, …, pickup enabled, shipping), at `at` when given;
/// answers its id.
pub(crate) async fn store_location(
    engine: &engine::Engine,
    l: usize,
    at: Option<(f64, f64)>,
) -> anyhow::Result<String> {
    let loc = engine
        .create_location(engine::catalog::locations::LocationInput {
            code: format!("S{l:02}"),
            name_ko: format!("매장 {l}"),
            name_en: format!("Store {l}"),
            kind: "store".into(),
            address: engine::catalog::locations::Address {
                line1: "1".into(),
                city: "Seoul".into(),
                postal_code: "06232".into(),
                country: "KR".into(),
                ..Default::default()
            },
            lat: at.map(|a| a.0),
            lon: at.map(|a| a.1),
            pickup_enabled: true,
            ships: true,
            time_zone: None,
        })
        .await?;
    Ok(loc.id)
}

/// A cashierless store of a bench shop (no pickup, no shipping); answers its id.
pub(crate) async fn cashierless_location(
    engine: &engine::Engine,
    code: &str,
    name_ko: &str,
    name_en: &str,
) -> anyhow::Result<String> {
    let loc = engine
        .create_location(engine::catalog::locations::LocationInput {
            code: code.into(),
            name_ko: name_ko.into(),
            name_en: name_en.into(),
            kind: "cashierless".into(),
            address: engine::catalog::locations::Address {
                line1: "1".into(),
                city: "Seoul".into(),
                postal_code: "04799".into(),
                country: "KR".into(),
                ..Default::default()
            },
            lat: None,
            lon: None,
            pickup_enabled: false,
            ships: false,
            time_zone: None,
        })
        .await?;
    Ok(loc.id)
}

pub(crate) fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

pub(crate) async fn setup_sku(api: &Api, sku: &str, location_id: &str, units: i64) -> Result<()> {
    api.admin(
        "/admin/products",
        json!({
            "handle": sku.to_lowercase(), "title_ko": "벤치마크 티셔츠", "title_en": "Benchmark T-Shirt", "category": "apparel/tops",
            "variants": [{"sku": sku, "weight_g": 200, "prices": [{"currency": "KRW", "amount_minor": 19900}]}]
        }),
    )
    .await?;
    api.admin(
        "/admin/inventory/adjustments",
        json!({"sku": sku, "location_id": location_id, "quantity_delta": units, "reason": "bench stock"}),
    )
    .await?;
    Ok(())
}

/// Runs `workers` concurrent clients for `duration`; each repeatedly awaits `step(worker, n)` (`n` numbers
/// every attempt across workers) and counts it as a success when it returns true. Returns the successful
/// attempts' latencies in microseconds, the failures and the elapsed seconds.
pub(crate) async fn run_level<F, Fut>(
    workers: usize,
    duration: Duration,
    counter: Arc<AtomicU64>,
    step: F,
) -> Result<(Vec<u64>, u64, f64)>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let step = Arc::new(step);
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        let (step, counter) = (step.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                if step(w, n).await {
                    lat.push(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    Ok((all, errors, start.elapsed().as_secs_f64()))
}

pub(crate) fn latency_row(label: String, count: usize, secs: f64, lat: &mut [u64], errors: u64) {
    lat.sort_unstable();
    println!(
        "| {label} | {count} | {:.0} | {:.2} | {:.2} | {errors} |",
        count as f64 / secs,
        pct(lat, 0.5),
        pct(lat, 0.99)
    );
}
