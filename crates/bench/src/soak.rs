//! `borderless bench soak`: the demo retailer (seeded history, the live cashierless store walking shoppers
//! through GO-SEONGSU) served by a child `borderless demo` on a fresh data directory, under mixed traffic
//! for --minutes: shoppers check out for pickup, browse the storefront (home, search, product pages), call
//! the search API and leave carts behind. Every --sample-secs it reads the server's resident memory and the
//! database and write-ahead log sizes; it prints one row per 100,000 orders, then checks the ledgers
//! (`/admin/doctor`) and prints one JSON line last.

use crate::server::{free_port, pct, peak_rss_kib, place_order, setup_sku, Api, Child};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SoakBenchOpts {
    pub minutes: f64,
    pub concurrency: usize,
    pub sample_secs: u64,
    /// PostgreSQL for the child instead of SQLite (then no file sizes are read).
    pub database_url: Option<String>,
}

/// One sample of the server's footprint.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    secs: f64,
    orders: u64,
    rss_kib: u64,
    /// The heap and stacks (RssAnon); the rest of RSS is mapped files (SQLite's memory-mapped reads,
    /// the binary), shared and reclaimable.
    anon_kib: u64,
    pss_kib: u64,
    wal_bytes: u64,
    db_bytes: u64,
}

/// A line of /proc/PID/status in KiB (0 when the process is gone).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim_start_matches(':').trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Proportional set size: RSS with each shared page divided among the mappings that share it (every
/// SQLite connection maps the same database pages, so RSS counts them once per connection).
fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS")
}

fn file_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn mib(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

/// A child `borderless demo` (the seeded retailer and its live cashierless store), rate limits off, its
/// embedded broker on free ports.
async fn spawn_demo(database_url: Option<&str>, key: &str) -> Result<(Child, String)> {
    let (port, mqtt, mqtt5) = (free_port()?, free_port()?, free_port()?);
    let dir = std::env::temp_dir().join(format!("borderless-soak-{}", domain::ids::random_token(6)));
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("demo")
        .args(["--rate-limits", "off"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--mqtt-listen")
        .arg(format!("127.0.0.1:{mqtt}"))
        .arg("--mqtt5-listen")
        .arg(format!("127.0.0.1:{mqtt5}"))
        .arg("--data-dir")
        .arg(&dir);
    if let Some(u) = database_url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.env("BORDERLESS_ADMIN_KEY", key)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let proc = cmd.spawn().context("cannot start the demo child process")?;
    let child = Child { proc, dir };
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // The demo seeds its retailer before it serves the admin API: wait for the seeded Gangnam store.
    for _ in 0..1200 {
        if let Ok(r) = client.get(format!("{url}/admin/locations")).bearer_auth(key).send().await {
            if r.status().is_success() && r.text().await.is_ok_and(|t| t.contains("GANGNAM")) {
                return Ok((child, url));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the demo child did not serve its seeded retailer within 120 s")
}

pub async fn soak(opts: SoakBenchOpts) -> Result<()> {
    let key = format!("bench-admin-{}", domain::ids::random_token(12));
    let (child, url) = spawn_demo(opts.database_url.as_deref(), &key).await?;
    let pid = child.proc.id();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let api = Api { client: client.clone(), url: url.clone(), key };
    let locations = api.get("/admin/locations").await?;
    let gangnam = locations["data"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["code"] == "GANGNAM"))
        .and_then(|l| l["id"].as_str())
        .context("the demo has no GANGNAM store")?
        .to_owned();
    // A SKU with stock for the whole run, beside the demo's own catalog that shoppers browse.
    setup_sku(&api, "SOAK-TEE", &gangnam, 1_000_000).await?;
    for _ in 0..19 {
        api.admin(
            "/admin/inventory/adjustments",
            json!({"sku": "SOAK-TEE", "location_id": gangnam, "quantity_delta": 1_000_000, "reason": "soak stock"}),
        )
        .await?;
    }
    let products: Value = client.get(format!("{url}/store/products?limit=100")).send().await?.json().await?;
    let handles: Vec<String> = products["data"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["handle"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if handles.is_empty() {
        bail!("the demo's catalog answered no products: {products}");
    }
    let handles = Arc::new(handles);
    let words = Arc::new(["이어폰", "sneakers", "티셔츠", "coffee", "가방", "wireless", "운동화", "jacket"]);
    let (wal, db) = (child.dir.join("borderless.db-wal"), child.dir.join("borderless.db"));
    let sqlite = opts.database_url.is_none();
    println!(
        "borderless bench soak — {:.0} min of mixed traffic on the demo retailer ({}; the live cashierless store running): {} clients, each a pickup checkout (4 requests), one storefront or search read and every 10th an abandoned cart; a sample every {} s",
        opts.minutes,
        if sqlite { "SQLite, WAL, synchronous=FULL".to_owned() } else { node::app::redact(opts.database_url.as_deref().unwrap_or_default()) },
        opts.concurrency,
        opts.sample_secs
    );
    println!();
    println!("| orders | minutes | orders/s | failed | RSS MiB | PSS MiB | heap MiB | peak RSS MiB | WAL MiB (peak) | DB MiB | order p99 ms |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");

    let stop = Arc::new(AtomicBool::new(false));
    let orders = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let window = Arc::new(Mutex::new(Vec::<u64>::new()));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let mut tasks = Vec::new();
    for w in 0..opts.concurrency {
        let (client, url, gangnam, handles, words) =
            (client.clone(), url.clone(), gangnam.clone(), handles.clone(), words.clone());
        let (stop, orders, failed, reads, counter, window, first_error) = (
            stop.clone(),
            orders.clone(),
            failed.clone(),
            reads.clone(),
            counter.clone(),
            window.clone(),
            first_error.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = w as u64;
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match place_order(&client, &url, "SOAK-TEE", &gangnam, n).await {
                    Ok(true) => {
                        orders.fetch_add(1, Ordering::Relaxed);
                        window.lock().unwrap_or_else(|e| e.into_inner()).push(t.elapsed().as_micros() as u64);
                    }
                    Ok(false) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert("out of stock".into());
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(format!("{e:#}"));
                    }
                }
                let word = words[(i as usize) % words.len()];
                let path = match i % 4 {
                    0 => "/".to_owned(),
                    1 => format!("/search?q={}", crate::search::urlencode(word)),
                    2 => format!("/p/{}", handles[(i as usize * 7) % handles.len()]),
                    _ => format!("/store/search?q={}", crate::search::urlencode(word)),
                };
                match client.get(format!("{url}{path}")).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(format!("GET {path} → {}", r.status()));
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(format!("GET {path}: {e}"));
                    }
                }
                if i.is_multiple_of(10) {
                    // A cart left behind: the retention sweep's work.
                    if let Ok(r) =
                        client.post(format!("{url}/store/carts")).json(&json!({"currency": "KRW"})).send().await
                    {
                        if let Ok(v) = r.json::<Value>().await {
                            if let Some(id) = v["cart"]["id"].as_str() {
                                let _ = client
                                    .post(format!("{url}/store/carts/{id}/lines"))
                                    .json(&json!({"sku": "SOAK-TEE", "quantity": 1}))
                                    .send()
                                    .await;
                            }
                        }
                    }
                }
                i += opts.concurrency as u64;
            }
        }));
    }

    let start = Instant::now();
    let deadline = Duration::from_secs_f64(opts.minutes * 60.0);
    let mut samples = vec![Sample {
        rss_kib: rss_kib(pid),
        anon_kib: status_kib(pid, "RssAnon"),
        pss_kib: pss_kib(pid),
        wal_bytes: file_len(&wal),
        db_bytes: file_len(&db),
        ..Default::default()
    }];
    let mut next_row = 100_000u64;
    let mut last_row = samples[0];
    let pb = indicatif::ProgressBar::new(deadline.as_secs());
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} s  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    while start.elapsed() < deadline {
        tokio::time::sleep(Duration::from_secs(opts.sample_secs).min(deadline.saturating_sub(start.elapsed()))).await;
        let s = Sample {
            secs: start.elapsed().as_secs_f64(),
            orders: orders.load(Ordering::Relaxed),
            rss_kib: rss_kib(pid),
            anon_kib: status_kib(pid, "RssAnon"),
            pss_kib: pss_kib(pid),
            wal_bytes: file_len(&wal),
            db_bytes: file_len(&db),
        };
        if s.rss_kib == 0 {
            pb.finish_and_clear();
            bail!("the demo child is gone (pid {pid}) after {:.0} s", s.secs);
        }
        samples.push(s);
        pb.set_position(s.secs as u64);
        pb.set_message(format!(
            "{} orders, RSS {:.0} MiB, WAL {:.0} MiB, DB {:.0} MiB",
            s.orders,
            s.rss_kib as f64 / 1024.0,
            mib(s.wal_bytes),
            mib(s.db_bytes)
        ));
        if s.orders >= next_row || start.elapsed() >= deadline {
            let mut w = std::mem::take(&mut *window.lock().unwrap_or_else(|e| e.into_inner()));
            w.sort_unstable();
            let peak = samples.iter().map(|x| x.rss_kib).max().unwrap_or(0);
            let wal_peak = samples.iter().filter(|x| x.secs > last_row.secs).map(|x| x.wal_bytes).max().unwrap_or(0);
            pb.suspend(|| {
                println!(
                    "| {} | {:.1} | {:.0} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {:.1} |",
                    s.orders,
                    s.secs / 60.0,
                    (s.orders - last_row.orders) as f64 / (s.secs - last_row.secs).max(0.001),
                    failed.load(Ordering::Relaxed),
                    s.rss_kib as f64 / 1024.0,
                    s.pss_kib as f64 / 1024.0,
                    s.anon_kib as f64 / 1024.0,
                    peak as f64 / 1024.0,
                    if sqlite { format!("{:.0}", mib(wal_peak)) } else { "–".into() },
                    if sqlite { format!("{:.0}", mib(s.db_bytes)) } else { "–".into() },
                    pct(&w, 0.99),
                )
            });
            last_row = s;
            while next_row <= s.orders {
                next_row += 100_000;
            }
        }
    }
    pb.finish_and_clear();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let doctor = api.get("/admin/doctor").await?;
    let drift = doctor["drift"].as_array().map_or(-1, |d| d.len() as i64);
    let orders = orders.load(Ordering::Relaxed);
    let failed = failed.load(Ordering::Relaxed);
    let end = *samples.last().unwrap_or(&Sample::default());
    let rss_max = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let wal_max = samples.iter().map(|s| s.wal_bytes).max().unwrap_or(0);
    // Memory after the first 100,000 orders (caches warm) against the end: what the run added.
    let warm = samples.iter().find(|s| s.orders >= 100_000).copied().unwrap_or(samples[0]);
    let per_100k = |a: u64, b: u64, o: u64| if o == 0 { 0.0 } else { mib(b.saturating_sub(a)) * 100_000.0 / o as f64 };
    println!();
    println!(
        "{orders} orders in {:.1} min ({:.0}/s), {} storefront and search reads, {failed} failed{}; ledger drift: {drift}",
        secs / 60.0,
        orders as f64 / secs,
        reads.load(Ordering::Relaxed),
        first_error.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
    let line = json!({
        "minutes": (secs / 60.0 * 10.0).round() / 10.0,
        "orders": orders,
        "orders_per_s": (orders as f64 / secs).round(),
        "failed": failed,
        "drift": drift,
        "rss_mib_start": (samples[0].rss_kib as f64 / 1024.0).round(),
        "rss_mib_warm": (warm.rss_kib as f64 / 1024.0).round(),
        "rss_mib_end": (end.rss_kib as f64 / 1024.0).round(),
        "rss_mib_max": (rss_max as f64 / 1024.0).round(),
        "pss_mib_warm": (warm.pss_kib as f64 / 1024.0).round(),
        "pss_mib_end": (end.pss_kib as f64 / 1024.0).round(),
        "pss_mib_max": (samples.iter().map(|s| s.pss_kib).max().unwrap_or(0) as f64 / 1024.0).round(),
        "heap_mib_warm": (warm.anon_kib as f64 / 1024.0).round(),
        "heap_mib_end": (end.anon_kib as f64 / 1024.0).round(),
        "peak_rss_mib": peak_rss_kib(pid).map(|k| (k as f64 / 1024.0).round()),
        "rss_mib_per_100k_orders_after_warm": (per_100k(warm.rss_kib * 1024, end.rss_kib * 1024, orders.saturating_sub(warm.orders)) * 10.0).round() / 10.0,
        "wal_mib_max": if sqlite { Some(mib(wal_max).round()) } else { None },
        "db_mib_end": if sqlite { Some(mib(end.db_bytes).round()) } else { None },
        "db_mib_per_100k_orders": if sqlite { Some((per_100k(samples[0].db_bytes, end.db_bytes, orders) * 10.0).round() / 10.0) } else { None },
    });
    println!("{line}");
    drop(child);
    if drift != 0 {
        bail!("the ledgers drifted after the soak: {doctor}");
    }
    Ok(())
}
