//! The demo's live cashierless store (GO-SEONGSU): the instore simulator plays the store's devices in real
//! time — shelf weight plates at 60 Hz and body tracks at about 11 Hz — into the fusion engine. Each
//! simulated shopper is one of the demo's members: walking in opens a visit with their one-time payment code
//! (a wallet hold), and walking out turns the virtual cart into a cashierless order at that store through
//! the same exit a real gate uses (stock leaves the store's ledger, the hold is captured). A visit whose
//! events wait for staff review stays open (the review queue's API is not built yet; the hold lapses).

use anyhow::{Context, Result};
use engine::auth::Principal;
use engine::orders::SaleLineInput;
use engine::Engine;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How the live store runs.
#[derive(Debug, Clone)]
pub struct LiveStoreOpts {
    /// Store time per wall-clock time (1.0 = real time).
    pub speed: f64,
    /// Shoppers per simulated round (a round is a few minutes of store time).
    pub shoppers_per_round: usize,
    /// Rounds to run (0: until stopped).
    pub rounds: u64,
    /// Units received at the store for every product on its shelves that runs below this.
    pub restock_below: i64,
}

impl Default for LiveStoreOpts {
    fn default() -> Self {
        LiveStoreOpts { speed: 1.0, shoppers_per_round: 6, rounds: 0, restock_below: 20 }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct LiveStoreSummary {
    pub visits: usize,
    pub orders: Vec<String>,
    pub left_empty: usize,
    pub waiting_for_review: usize,
    pub refused_at_entry: usize,
}

/// One visit in progress.
struct Visit {
    session_id: Option<String>,
    last_frame_s: f64,
}

/// Runs the live store until `stop` (or `opts.rounds`); returns what happened.
pub async fn run(engine: Engine, opts: LiveStoreOpts, mut stop: watch::Receiver<bool>) -> Result<LiveStoreSummary> {
    let loc = engine.location(engine::demo_data::CASHIERLESS).await.context("the demo's cashierless store")?;
    let key = engine.issue_key("staff", Some(loc.id.clone()), "demo live store gates".into()).await?;
    let gate: Principal = engine.authenticate(&key.key).await?;
    // The products on this store's shelves: what the demo stocks there.
    let products = engine::demo_data::products();
    let skus: Vec<String> = engine::demo_data::stock(&products).into_iter().filter(|s| s.location_code == engine::demo_data::CASHIERLESS).map(|s| s.sku).collect::<BTreeSet<_>>().into_iter().collect();
    anyhow::ensure!(!skus.is_empty(), "the cashierless store has no products to put on its shelves");
    let mut members = Vec::new();
    for c in engine::demo_data::customers() {
        if let Some(v) = engine.find_customers(Some(c.email.clone()), None, None).await?.into_iter().next() {
            members.push((v.id, c.name.clone()));
        }
    }
    anyhow::ensure!(!members.is_empty(), "no demo members to shop");
    let mut summary = LiveStoreSummary::default();
    let mut round = 0u64;
    while opts.rounds == 0 || round < opts.rounds {
        round += 1;
        restock(&engine, &loc.id, &skus, opts.restock_below).await?;
        let cfg = instore::SimConfig {
            seed: 1 + round + std::process::id() as u64,
            shoppers: opts.shoppers_per_round,
            max_concurrent: 3,
            gondolas: 2,
            hard_share: 0.0,
            t0_s: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
            ..Default::default()
        };
        let sim = tokio::task::spawn_blocking(move || instore::simulate(&cfg)).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
        let rec = sim.recording;
        // The simulator's products stand for the store's SKUs (one each, in order).
        let barcodes: BTreeSet<&str> = rec.planogram.iter().filter_map(|r| r.barcode.as_deref()).collect();
        let sku_of: HashMap<String, String> = barcodes.iter().enumerate().map(|(i, b)| ((*b).to_owned(), skus[i % skus.len()].clone())).collect();
        let layout = rec.layout().map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut samples = rec.samples_for(&layout).map_err(|e| anyhow::anyhow!("{e}"))?;
        samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        let mut fusion = instore::Engine::new(layout, instore::EngineConfig::default());
        let mut visits: HashMap<String, Visit> = HashMap::new();
        for f in &rec.frames {
            visits.entry(f.target_id.clone()).or_insert(Visit { session_id: None, last_frame_s: f.t_s }).last_frame_s = f.t_s;
        }
        let t0 = samples.first().map_or(0.0, |s| s.t_s).min(rec.frames.first().map_or(f64::MAX, |f| f.t_s));
        let wall0 = Instant::now();
        let (mut si, mut fi) = (0, 0);
        let mut member = (round as usize * 7) % members.len();
        tracing::info!(round, shoppers = visits.len(), "cashierless: a new round of shoppers at {}", loc.code);
        while si < samples.len() || fi < rec.frames.len() {
            // Keep store time in step with the wall clock (in 50 ms steps).
            let sim_now = t0 + wall0.elapsed().as_secs_f64() * opts.speed + 0.05 * opts.speed;
            while si < samples.len() && samples[si].t_s <= sim_now && (fi >= rec.frames.len() || samples[si].t_s <= rec.frames[fi].t_s) {
                fusion.push_plate(samples[si].plate, samples[si].t_s, samples[si].grams);
                si += 1;
            }
            if fi < rec.frames.len() && rec.frames[fi].t_s <= sim_now && (si >= samples.len() || rec.frames[fi].t_s <= samples[si].t_s) {
                let frame = &rec.frames[fi];
                fi += 1;
                let visit = visits.get_mut(&frame.target_id).expect("every framed target has a visit");
                let first = fusion.shoppers().iter().all(|s| s.0 != frame.target_id);
                if first {
                    summary.visits += 1;
                    let (customer, name) = members[member % members.len()].clone();
                    member += 1;
                    let code = engine.payment_code(&customer).await?;
                    match engine.cashierless_enter(&gate, &loc.id, &code.code, None).await {
                        Ok(s) => {
                            tracing::info!(visit = %s.id, shopper = %name, hold = s.hold_minor, "cashierless: entered");
                            visit.session_id = Some(s.id);
                        }
                        Err(e) => {
                            summary.refused_at_entry += 1;
                            tracing::warn!(shopper = %name, error = %e, "cashierless: the entry gate refused");
                        }
                    }
                    fusion.enter(&frame.target_id, frame.t_s, visit.session_id.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                fusion.push_track(frame).map_err(|e| anyhow::anyhow!("{e}"))?;
                if frame.t_s >= visit.last_frame_s {
                    let out = fusion.exit(&frame.target_id, frame.t_s).map_err(|e| anyhow::anyhow!("{e}"))?;
                    let Some(session) = visit.session_id.clone() else { continue };
                    if out.pending_reviews > 0 {
                        summary.waiting_for_review += 1;
                        tracing::warn!(visit = %session, reviews = out.pending_reviews, "cashierless: the visit waits for staff review");
                        continue;
                    }
                    let lines: Vec<SaleLineInput> = out.receipt.items.iter().map(|l| SaleLineInput { sku: sku_of[&l.barcode].clone(), quantity: l.quantity as i64 }).collect();
                    match engine.cashierless_exit(&gate, &session, lines).await {
                        Ok((_, Some(order))) => {
                            tracing::info!(visit = %session, order = %order.id, items = order.lines.len(), "cashierless: left; order placed and charged");
                            summary.orders.push(order.id);
                        }
                        Ok((_, None)) => summary.left_empty += 1,
                        Err(e) => tracing::warn!(visit = %session, error = %e, "cashierless: the exit failed"),
                    }
                }
                continue;
            }
            if si >= samples.len() && fi >= rec.frames.len() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stop.wait_for(|v| *v) => return Ok(summary),
            }
        }
    }
    Ok(summary)
}

/// Receives stock for every shelf product that runs low at the store.
async fn restock(engine: &Engine, location_id: &str, skus: &[String], below: i64) -> Result<()> {
    let mut rows = Vec::new();
    for sku in skus {
        let levels = engine.stock(sku).await?;
        let available = levels.locations.iter().filter(|l| l.location_id == location_id).map(|l| l.level.available).sum::<i64>();
        if available < below {
            rows.push((sku.clone(), engine::demo_data::CASHIERLESS.to_owned(), below * 3));
        }
    }
    if !rows.is_empty() {
        engine.receive_many(rows, "cashierless store restock").await?;
    }
    Ok(())
}
