//! `bench ledger`: durable money transfers through the API and in the engine alone.

use crate::server::*;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct LedgerBenchOpts {
    pub target: Target,
    /// Transfers posted by the engine-only part.
    pub engine_transfers: usize,
    /// Transfers per transaction in the engine-only batched part.
    pub batch: usize,
}

/// `borderless bench ledger`: durable wallet top-ups (one double-entry transfer each) through the HTTP API
/// at several concurrency levels, then the engine alone: one transfer per transaction from 32 tasks (group
/// commit) and batches of many transfers per transaction. Ends with the ledger doctor.
pub async fn ledger(opts: LedgerBenchOpts) -> Result<()> {
    let (_child, url, key) = opts.target.connect().await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let api = Api { client: client.clone(), url: url.clone(), key: key.clone() };
    let wallets = opts.target.concurrency.iter().copied().max().unwrap_or(1);
    let run = domain::ids::random_token(3);
    let bar = indicatif::ProgressBar::new(wallets as u64);
    bar.set_message("creating bench customers");
    let mut customers = Vec::with_capacity(wallets);
    for i in 0..wallets {
        let email = format!("bench-{run}-{i}@bench.example");
        let r = client
            .post(format!("{url}/store/customers"))
            .json(&json!({"email": email, "password": "bench password", "name": "Bench"}))
            .send()
            .await?;
        anyhow::ensure!(r.status().as_u16() == 202, "sign-up: {} {}", r.status(), r.text().await.unwrap_or_default());
        // The link from the mail outbox (as staff read it), then opened.
        let mail: Value = client
            .get(format!("{url}/admin/mail"))
            .query(&[("to", email.as_str()), ("status", "waiting")])
            .bearer_auth(&key)
            .send()
            .await?
            .json()
            .await?;
        let body = mail["data"][0]["body"].as_str().context("no sign-up link in the outbox")?;
        let token =
            body.split("token=").nth(1).and_then(|t| t.split_whitespace().next()).context("no link in the mail")?;
        let v: Value = client
            .post(format!("{url}/store/customers/verify"))
            .json(&json!({"token": token}))
            .send()
            .await?
            .json()
            .await?;
        customers.push(v["customer"]["id"].as_str().context("signup failed")?.to_owned());
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("borderless bench ledger — API: POST /admin/customers/{{id}}/wallet/top-ups (one durable double-entry transfer each)");
    println!();
    println!("| concurrency | transfers | transfers/s | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let counter = Arc::new(AtomicU64::new(0));
    let customers = Arc::new(customers);
    for &c in &opts.target.concurrency {
        let (client, url, key, customers) = (client.clone(), url.clone(), key.clone(), customers.clone());
        let step = move |w: usize, n: u64| {
            let (client, url, key, cid) = (client.clone(), url.clone(), key.clone(), customers[w].clone());
            async move {
                let r = client
                    .post(format!("{url}/admin/customers/{cid}/wallet/top-ups"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", format!("bench-topup-{n}"))
                    .json(&json!({"amount_minor": 100, "currency": "KRW"}))
                    .send()
                    .await;
                matches!(r, Ok(r) if r.status().as_u16() == 201)
            }
        };
        let (mut all, errors, secs) = run_level(c, opts.target.duration, counter.clone(), step).await?;
        latency_row(c.to_string(), all.len(), secs, &mut all, errors);
    }
    let doctor = api.get("/admin/doctor").await?;
    let ledger_drift = doctor["ledger_drift"].as_array().map_or(-1, |d| d.len() as i64);
    println!();
    println!(
        "ledger doctor after the API run: {} accounts, {ledger_drift} problems",
        doctor["ledger_accounts_checked"]
    );
    if ledger_drift != 0 {
        bail!("the money ledger does not balance after the API run: {doctor}");
    }
    drop(_child);
    engine_only(&opts).await
}

async fn engine_only(opts: &LedgerBenchOpts) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("borderless-ledger-bench-{}", domain::ids::random_token(6)));
    let cfg = node::app::AppConfig {
        data_dir: dir.clone(),
        database_url: opts.target.database_url.clone(),
        ..Default::default()
    };
    let db = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || node::app::open_db(&cfg)).await??
    };
    let engine = engine::Engine::new(db, Default::default(), Arc::new(engine::SystemClock));
    const WALLETS: usize = 1000;
    let run = domain::ids::random_token(3);
    let cash = format!("cash:bench-{run}:KRW");
    engine.ensure_account(&cash, "cash", "KRW", None, false).await?;
    let mut wallets = Vec::with_capacity(WALLETS);
    for i in 0..WALLETS {
        let code = format!("wallet:bench-{run}-{i}:KRW");
        engine.ensure_account(&code, "wallet", "KRW", None, true).await?;
        wallets.push(code);
    }
    let spec = |i: usize| engine::money::ledger::TransferSpec {
        debit_account: cash.clone(),
        credit_account: wallets[i % WALLETS].clone(),
        amount_minor: 100,
        currency: "KRW".into(),
        reason: "bench".into(),
        reference: String::new(),
    };
    println!();
    println!(
        "engine only, no HTTP ({}):",
        if opts.target.database_url.is_some() { "PostgreSQL" } else { "SQLite, synchronous=FULL" }
    );
    println!();
    println!("| mode | transfers | transfers/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    // One transfer per transaction, 32 tasks: the SQLite writer folds them into group commits.
    let specs: Arc<Vec<_>> = Arc::new((0..32).map(spec).collect());
    let e = engine.clone();
    let step = move |w: usize, _| {
        let (engine, spec) = (e.clone(), specs[w].clone());
        async move { engine.post_transfers(&engine::platform::auth::Principal::system("bench"), vec![spec]).await.is_ok() }
    };
    let (mut all, errors, secs) = run_level(32, opts.target.duration, Arc::new(AtomicU64::new(0)), step).await?;
    latency_row("1 per transaction, 32 tasks".into(), all.len(), secs, &mut all, errors);
    // Batches: many transfers per transaction (bulk postings, settlement files).
    let batch = opts.batch.clamp(1, engine::money::ledger::MAX_BATCH);
    let batches = opts.engine_transfers.div_ceil(batch).max(1);
    let start = Instant::now();
    let mut lat = Vec::with_capacity(batches);
    let mut done = 0;
    for b in 0..batches {
        let specs: Vec<_> = (0..batch).map(|i| spec(b * batch + i)).collect();
        let t = Instant::now();
        done += engine.post_transfers(&engine::platform::auth::Principal::system("bench"), specs).await?.len();
        lat.push(t.elapsed().as_micros() as u64);
    }
    latency_row(format!("batches of {batch} (latency per batch)"), done, start.elapsed().as_secs_f64(), &mut lat, 0);
    let report = engine.doctor().await?;
    println!();
    println!(
        "ledger doctor after the engine run: {} accounts, {} problems",
        report.ledger_accounts_checked,
        report.ledger_drift.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    if !report.ledger_drift.is_empty() {
        bail!("the money ledger does not balance after the engine run");
    }
    Ok(())
}
