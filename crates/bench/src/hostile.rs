//! `borderless bench hostile`: shoppers check out while attackers hit the same node, everything on loopback
//! with the defaults a public shop runs (rate limits and timeouts on). The node trusts 127.0.0.1 as its
//! proxy, so each simulated client carries its own `X-Forwarded-For` address: shoppers one each, the
//! attackers a few. Attacks: slow clients (half-sent headers, dribbled), a login flood, an events flood and
//! guest checkout loops trying to hoard stock unpaid. It prints the shoppers' request latencies (p50, p99,
//! max) and orders, what each attack sent and how it was answered, and checks that the stock ledger has no
//! drift and that every reserved unit belongs to an order that is paid or promised (`pay_at_pickup`).

use crate::server::{pct, peak_rss_kib, spawn_server_with, Api};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone)]
pub struct HostileBenchOpts {
    pub seconds: u64,
    pub shoppers: usize,
    pub slow_clients: usize,
}

/// Counts of what one attack got back, by status.
#[derive(Default)]
struct Answers(Mutex<HashMap<u16, u64>>);

impl Answers {
    fn add(&self, status: u16) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(status).or_default() += 1;
    }
    fn total(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).values().sum()
    }
    fn line(&self) -> String {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = m.iter().collect();
        v.sort();
        let total: u64 = m.values().sum();
        format!("{total} sent: {}", v.iter().map(|(s, n)| format!("{n} × {s}")).collect::<Vec<_>>().join(", "))
    }
}

pub async fn hostile(opts: HostileBenchOpts) -> Result<()> {
    let key = format!("bench-admin-{}", domain::ids::random_token(12));
    // The public defaults (rate limits on), with loopback trusted as the proxy that names each client.
    let (child, url) = spawn_server_with(None, &key, &["--no-mqtt", "--trusted-proxies", "127.0.0.1"]).await?;
    let pid = child.proc.id();
    let api = Api { client: reqwest::Client::new(), url: url.clone(), key: key.clone() };
    let loc = api
        .admin(
            "/admin/locations",
            json!({"code": "GANGNAM", "name_ko": "강남", "name_en": "Gangnam", "kind": "store", "pickup_enabled": true}),
        )
        .await?["location"]["id"]
        .as_str()
        .context("no location id")?
        .to_owned();
    api.admin(
        "/admin/products",
        json!({"handle": "hostile", "title_ko": "상품", "title_en": "Product", "category": "c",
               "variants": [{"sku": "HOSTILE-1", "prices": [{"currency": "KRW", "amount_minor": 1000}]}]}),
    )
    .await?;
    api.admin(
        "/admin/inventory/adjustments",
        json!({"sku": "HOSTILE-1", "location_id": loc, "quantity_delta": 1_000_000, "reason": "bench"}),
    )
    .await?;
    println!(
        "borderless bench hostile — {} s; {} shoppers checking out (one address each) while {} slow clients, a login flood, an events flood and guest checkout loops hit the same node (rate limits and timeouts at their defaults)",
        opts.seconds, opts.shoppers, opts.slow_clients
    );

    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(opts.seconds);
    let mut tasks = Vec::new();

    // Shoppers: each its own address and email; every request's latency recorded.
    let latencies = Arc::new(Mutex::new(Vec::<u64>::new()));
    let orders = Arc::new(AtomicU64::new(0));
    let shopper_errors = Arc::new(Answers::default());
    for s in 0..opts.shoppers {
        let (url, lat, orders, errs, stop) =
            (url.clone(), latencies.clone(), orders.clone(), shopper_errors.clone(), stop.clone());
        let loc = loc.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let ip = format!("10.1.{}.{}", s / 250, s % 250 + 1);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                match shopper_order(&client, &url, &ip, &loc, s, n, &lat).await {
                    Ok(()) => {
                        orders.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(status) => {
                        errs.add(status);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                // A shopper takes a while between orders (real ones take minutes): 2.5 s keeps each under the
                // per-address checkout limit (30 a minute), as a person is.
                tokio::time::sleep(Duration::from_millis(2500)).await;
            }
        }));
    }

    // Slow clients: a few header bytes, then one byte a second, never finishing.
    let slow_cut = Arc::new(AtomicU64::new(0));
    for i in 0..opts.slow_clients {
        let (addr, cut, stop) = (url.trim_start_matches("http://").to_owned(), slow_cut.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else { return };
            let head = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.{}\r\n", i % 250 + 1);
            if s.write_all(head.as_bytes()).await.is_err() {
                cut.fetch_add(1, Ordering::Relaxed);
                return;
            }
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if s.write_all(b"X").await.is_err() {
                    cut.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }));
    }

    // Floods from one attacking address each.
    let logins = Arc::new(Answers::default());
    let events = Arc::new(Answers::default());
    let hoard = Arc::new(Answers::default());
    for w in 0..8 {
        let (url, logins, stop) = (url.clone(), logins.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let r = client
                    .post(format!("{url}/store/auth/login"))
                    .header("X-Forwarded-For", "203.0.113.7")
                    .json(&json!({"email": format!("victim{}@example.com", (w * 1000 + i) % 50), "password": "guess-123456"}))
                    .send()
                    .await;
                logins.add(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
        }));
    }
    for _ in 0..8 {
        let (url, events, stop) = (url.clone(), events.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(format!("{url}/store/events"))
                    .header("X-Forwarded-For", "203.0.113.8")
                    .json(&json!({"session_id": "flood-0001-abcdef", "events": [{"type": "search", "query": "flood"}]}))
                    .send()
                    .await;
                events.add(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
        }));
    }
    for w in 0..4 {
        let (url, hoard, stop, loc) = (url.clone(), hoard.clone(), stop.clone(), loc.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let status = hoard_once(&client, &url, &loc, w, i).await;
                hoard.add(status);
            }
        }));
    }

    let sample = tokio::spawn({
        let url = url.clone();
        async move {
            // Health from yet another address while it all runs: the node stays reachable.
            let client = reqwest::Client::new();
            let mut worst = 0f64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = client
                    .get(format!("{url}/health"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                worst = worst.max(if ok { ms } else { 5000.0 });
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            worst
        }
    });
    tokio::time::sleep_until(deadline.into()).await;
    stop.store(true, Ordering::Relaxed);
    let health_worst = sample.await.unwrap_or(f64::NAN);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
    }

    let mut lat = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    lat.sort_unstable();
    println!();
    println!(
        "shoppers: {} orders, {} requests: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; failed: {}",
        orders.load(Ordering::Relaxed),
        lat.len(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
        shopper_errors.line()
    );
    println!("health from another address: worst {health_worst:.1} ms");
    println!(
        "slow clients: {} held, {} cut off by the header timeout",
        opts.slow_clients,
        slow_cut.load(Ordering::Relaxed)
    );
    println!("login flood (one address): {}", logins.line());
    println!("events flood (one address): {}", events.line());
    println!("guest checkout loops (one address, 20 units each, pay at pickup): {}", hoard.line());

    // Nothing reserved that is not paid or promised, and no drift.
    let doctor: Value = api.get("/admin/doctor").await?;
    let clean = doctor["drift"].as_array().is_some_and(|d| d.is_empty())
        && doctor["ledger_drift"].as_array().is_some_and(|d| d.is_empty());
    let inv: Value = api.get("/admin/inventory/HOSTILE-1").await?;
    let reserved = inv["locations"][0]["reserved"].as_i64().unwrap_or(-1);
    let mut held_by_orders = 0i64;
    let mut unpromised = 0i64;
    let mut after: Option<String> = None;
    loop {
        let q = match &after {
            Some(c) => format!("/admin/orders?limit=100&status=placed&after={c}"),
            None => "/admin/orders?limit=100&status=placed".to_owned(),
        };
        let page: Value = api.get(&q).await?;
        for o in page["data"].as_array().into_iter().flatten() {
            let units: i64 = o["lines"].as_array().into_iter().flatten().filter_map(|l| l["quantity"].as_i64()).sum();
            held_by_orders += units;
            let method = o["payment"]["method"].as_str().unwrap_or("");
            if method != "pay_at_pickup" && o["payment"]["status"] != "authorized" && o["payment"]["status"] != "paid" {
                unpromised += units;
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) if page["has_more"] == true => after = Some(c.to_owned()),
            _ => break,
        }
    }
    println!(
        "stock: {reserved} units reserved, {held_by_orders} held by placed orders, {unpromised} by orders neither paid nor promised; doctor: {}",
        if clean { "no drift".to_owned() } else { format!("{doctor}") }
    );
    if let Some(kib) = peak_rss_kib(pid) {
        println!("server peak memory: {:.0} MiB", kib as f64 / 1024.0);
    }
    if reserved != held_by_orders || unpromised != 0 || !clean {
        bail!("the stock ledger does not add up under attack");
    }
    // The attackers' limits are per address: a shopper from another address is never refused or cut off.
    if shopper_errors.total() > 0 || orders.load(Ordering::Relaxed) == 0 {
        bail!("shoppers were refused while the attackers ran: {}", shopper_errors.line());
    }
    drop(child);
    Ok(())
}

/// One shopper's order through the four requests, from its own address; latencies recorded.
async fn shopper_order(
    client: &reqwest::Client,
    url: &str,
    ip: &str,
    loc: &str,
    s: usize,
    n: u64,
    lat: &Mutex<Vec<u64>>,
) -> std::result::Result<(), u16> {
    let timed = |rb: reqwest::RequestBuilder| async move {
        let t = Instant::now();
        let r = rb.header("X-Forwarded-For", ip).send().await.map_err(|_| 0u16)?;
        lat.lock().unwrap_or_else(|e| e.into_inner()).push(t.elapsed().as_micros() as u64);
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(v)
        } else {
            Err(status)
        }
    };
    let cart = timed(client.post(format!("{url}/store/carts")).json(&json!({"currency": "KRW"}))).await?;
    let id = cart["cart"]["id"].as_str().unwrap_or_default().to_owned();
    timed(client.post(format!("{url}/store/carts/{id}/lines")).json(&json!({"sku": "HOSTILE-1", "quantity": 1})))
        .await?;
    timed(
        client.put(format!("{url}/store/carts/{id}/fulfillment")).json(&json!({"type": "pickup", "location_id": loc})),
    )
    .await?;
    timed(
        client
            .post(format!("{url}/store/carts/{id}/checkout"))
            .header("Idempotency-Key", format!("shopper-{s}-{n}"))
            // A shopper collects and pays: a fresh email each order keeps them under the unpaid-order cap.
            .json(&json!({"email": format!("shopper{s}.{n}@bench.example"), "payment": {"method": "pay_at_pickup"}})),
    )
    .await?;
    Ok(())
}

/// One hoarding attempt: a cart of 20 units at pickup, paid "at pickup", a fresh email each time.
async fn hoard_once(client: &reqwest::Client, url: &str, loc: &str, w: u64, i: u64) -> u16 {
    let ip = "203.0.113.9";
    let send = |rb: reqwest::RequestBuilder| async move {
        match rb.header("X-Forwarded-For", ip).send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    };
    let (s, cart) = send(client.post(format!("{url}/store/carts")).json(&json!({}))).await;
    if s != 201 {
        return s;
    }
    let id = cart["cart"]["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) =
        send(client.post(format!("{url}/store/carts/{id}/lines")).json(&json!({"sku": "HOSTILE-1", "quantity": 20})))
            .await;
    if s != 200 {
        return s;
    }
    let (s, _) = send(
        client.put(format!("{url}/store/carts/{id}/fulfillment")).json(&json!({"type": "pickup", "location_id": loc})),
    )
    .await;
    if s != 200 {
        return s;
    }
    let (s, _) = send(
        client
            .post(format!("{url}/store/carts/{id}/checkout"))
            .json(&json!({"email": format!("hoarder{w}.{i}@evil.example"), "payment": {"method": "pay_at_pickup"}})),
    )
    .await;
    s
}
