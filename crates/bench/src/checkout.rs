//! `bench checkout`: the full shopper flow over HTTP at several concurrency levels, then a flash sale with
//! oversell/undersell checks.

use crate::server::*;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

pub async fn checkout(opts: BenchOpts) -> Result<()> {
    let (_child, url, key) = opts.target.connect().await?;
    let backend = match (&opts.target.url, &opts.target.database_url) {
        (Some(_), _) => "external server".to_owned(),
        (None, Some(u)) => node::app::redact(u),
        (None, None) => "SQLite (WAL, synchronous=FULL)".to_owned(),
    };
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let api = Api { client: client.clone(), url: url.clone(), key };
    let run_id = domain::ids::random_token(3).to_uppercase();
    let store = api
        .admin(
            "/admin/locations",
            json!({"code": format!("BENCH-{run_id}"), "name_ko": "벤치 매장", "name_en": "Bench Store", "kind": "store", "pickup_enabled": true, "lat": 37.5, "lon": 127.0}),
        )
        .await?;
    let loc = store["location"]["id"].as_str().context("no location id")?.to_owned();
    let sku = format!("BENCH-{run_id}-TEE");
    setup_sku(&api, &sku, &loc, 1_000_000).await?;
    println!("borderless bench checkout — backend: {backend}; flow: create cart → add line → pickup → checkout (4 HTTP requests per order)");
    println!();
    println!("| concurrency | orders | orders/s | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let counter = Arc::new(AtomicU64::new(0));
    for &c in &opts.target.concurrency {
        let (client, url, sku, loc) = (client.clone(), url.clone(), sku.clone(), loc.clone());
        let step = move |_, n| {
            let (client, url, sku, loc) = (client.clone(), url.clone(), sku.clone(), loc.clone());
            async move { matches!(place_order(&client, &url, &sku, &loc, n).await, Ok(true)) }
        };
        let (mut all, errors, secs) = run_level(c, opts.target.duration, counter.clone(), step).await?;
        latency_row(c.to_string(), all.len(), secs, &mut all, errors);
    }
    if opts.flash_attempts > 0 {
        flash_sale(&api, &client, &url, &loc, &run_id, &opts).await?;
    }
    if let Some(c) = &_child {
        if let Some(kb) = peak_rss_kib(c.proc.id()) {
            println!();
            println!("server peak memory (VmHWM): {:.1} MiB", kb as f64 / 1024.0);
        }
    }
    Ok(())
}

async fn flash_sale(
    api: &Api,
    client: &reqwest::Client,
    url: &str,
    loc: &str,
    run_id: &str,
    opts: &BenchOpts,
) -> Result<()> {
    let sku = format!("BENCH-{run_id}-FLASH");
    setup_sku(api, &sku, loc, opts.flash_units).await?;
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.flash_in_flight.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(opts.flash_attempts);
    for n in 0..opts.flash_attempts {
        let (client, url, sku, loc, sem) = (client.clone(), url.to_owned(), sku.clone(), loc.to_owned(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            place_order(&client, &url, &sku, &loc, 10_000_000 + n as u64).await
        }));
    }
    let (mut placed, mut sold_out, mut errors) = (0i64, 0, 0);
    let mut first_error = None;
    for t in tasks {
        match t.await? {
            Ok(true) => placed += 1,
            Ok(false) => sold_out += 1,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    if let Some(e) = first_error {
        eprintln!("first flash-sale error: {e}");
    }
    let secs = start.elapsed().as_secs_f64();
    let stock = api.get(&format!("/admin/inventory/{sku}")).await?;
    let at = stock["locations"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["location_id"] == loc))
        .cloned()
        .unwrap_or(Value::Null);
    let (available, reserved) = (at["available"].as_i64().unwrap_or(-1), at["reserved"].as_i64().unwrap_or(-1));
    let doctor = api.get("/admin/doctor").await?;
    let drift = doctor["drift"].as_array().map_or(-1, |d| d.len() as i64);
    let oversold = (placed - opts.flash_units).max(0);
    let undersold = if available > 0 { available } else { 0 };
    println!();
    println!(
        "flash sale: {} attempts ({} in flight) on {} units",
        opts.flash_attempts, opts.flash_in_flight, opts.flash_units
    );
    println!();
    println!("| placed | out_of_stock | other errors | oversold | undersold | reserved after | available after | ledger drift | seconds |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!("| {placed} | {sold_out} | {errors} | {oversold} | {undersold} | {reserved} | {available} | {drift} | {secs:.1} |");
    if oversold > 0 || undersold > 0 || drift != 0 || reserved != placed {
        bail!("flash sale invariant broken: oversold {oversold}, undersold {undersold}, drift {drift}, reserved {reserved} vs placed {placed}");
    }
    Ok(())
}
