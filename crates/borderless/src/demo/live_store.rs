//! The demo's live cashierless store (GO-SEONGSU): the instore simulator plays the store's devices in real
//! time through the same device path as real hardware (`Engine::ingest_device_events`, which HTTP and MQTT
//! also use): an entry gate, one device per shelf gondola (weight plates at 60 Hz, sent every 0.5 s) and a
//! camera tracker (body tracks at about 11 Hz). Each simulated shopper is one of the store's own visitors
//! (`data::store_visitors`, kept apart from the members the README uses, wallets topped up each round): the
//! gate's entry event carries their one-time payment code (a wallet hold), and the exit event places and
//! charges the cashierless order. A round's simulated store becomes the store's layout. Visits whose events
//! wait for staff review stay open until staff settle them (`/admin/stores/{id}/reviews`).

use anyhow::{Context, Result};
use engine::instore::live::{DeviceRef, FacingIn, LayoutInput, PlateIn};
use engine::Engine;
use serde_json::{json, Value};
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

/// The store's devices for this run, with their sequence counters.
struct Devices {
    gate: DeviceRef,
    tracker: DeviceRef,
    gondolas: HashMap<u16, DeviceRef>,
    seq: HashMap<String, i64>,
}

impl Devices {
    fn next(&mut self, dev: &DeviceRef) -> i64 {
        let s = self.seq.entry(dev.id.clone()).or_insert(0);
        *s += 1;
        *s
    }
}

fn device_ref(d: engine::instore::live::IssuedDevice) -> DeviceRef {
    DeviceRef { id: d.id, location_id: d.location_id, kind: d.kind }
}

/// The simulated store as the real store's layout: the simulator's products stand for `skus` in order.
fn layout_of(rec: &instore::Recording, sku_of: &HashMap<String, String>) -> LayoutInput {
    let mut plates: Vec<PlateIn> = rec
        .planogram
        .iter()
        .map(|r| PlateIn {
            gondola: r.plate.gondola,
            shelf: r.plate.shelf,
            plate: r.plate.plate,
            sku: r.barcode.as_ref().and_then(|b| sku_of.get(b).cloned()),
            unit_weight_g: if r.barcode.is_some() { r.unit_weight_g.clamp(1.0, 50_000.0) } else { 0.0 },
        })
        .collect();
    for k in &rec.plate_keys {
        if !plates.iter().any(|p| p.gondola == k.gondola && p.shelf == k.shelf && p.plate == k.plate) {
            plates.push(PlateIn { gondola: k.gondola, shelf: k.shelf, plate: k.plate, sku: None, unit_weight_g: 0.0 });
        }
    }
    let facings = rec
        .facings
        .iter()
        .filter_map(|f| {
            let sku = sku_of.get(f.barcode.as_ref()?)?.clone();
            Some(FacingIn {
                sku,
                gondola: f.gondola,
                shelf: f.shelf,
                plates: f.plates.clone(),
                corner_m: [f.corner.x, f.corner.y, f.corner.z],
                size_m: [f.dim.x, f.dim.y, f.dim.z],
            })
        })
        .collect();
    LayoutInput { plates, facings }
}

fn frame_json(f: &instore::TrackFrame) -> Value {
    let joints: serde_json::Map<String, Value> = instore::Joint::ALL
        .iter()
        .filter_map(|j| f.joints[j.index()].map(|p| (j.name().to_owned(), json!([p.x, p.y, p.z]))))
        .collect();
    json!({"t": f.t_s, "target_id": f.target_id, "joints": joints})
}

/// Runs the live store until `stop` (or `opts.rounds`); returns what happened.
pub async fn run(engine: Engine, opts: LiveStoreOpts, mut stop: watch::Receiver<bool>) -> Result<LiveStoreSummary> {
    let loc = engine.location(crate::demo::data::CASHIERLESS).await.context("the demo's cashierless store")?;
    // The products on this store's shelves: what the demo stocks there.
    let products = crate::demo::data::products();
    let skus: Vec<String> = crate::demo::data::stock(&products)
        .into_iter()
        .filter(|s| s.location_code == crate::demo::data::CASHIERLESS)
        .map(|s| s.sku)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    anyhow::ensure!(!skus.is_empty(), "the cashierless store has no products to put on its shelves");
    let members = visitors(&engine).await?;
    let gondola_count = 2u16;
    // This run's devices (their tokens stay in memory; a restarted demo registers new ones).
    let tag = domain::ids::random_token(3);
    let mut devices = Devices {
        gate: device_ref(engine.register_device(&loc.id, "gate", &format!("gate-{tag}"), None).await?),
        tracker: device_ref(engine.register_device(&loc.id, "tracker", &format!("cam-{tag}"), None).await?),
        gondolas: HashMap::new(),
        seq: HashMap::new(),
    };
    for g in 1..=gondola_count {
        devices
            .gondolas
            .insert(g, device_ref(engine.register_device(&loc.id, "gondola", &format!("g{g}-{tag}"), None).await?));
    }
    let mut summary = LiveStoreSummary::default();
    let mut round = 0u64;
    while opts.rounds == 0 || round < opts.rounds {
        round += 1;
        restock(&engine, &loc.id, &skus, opts.restock_below).await?;
        top_up_visitors(&engine, &loc.id, &members).await?;
        let cfg = instore::SimConfig {
            seed: 1 + round + std::process::id() as u64,
            shoppers: opts.shoppers_per_round,
            max_concurrent: 3,
            gondolas: gondola_count,
            hard_share: 0.0,
            t0_s: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
            // One store: the same shelves every round (the heatmap compares days on one floor plan).
            layout_seed: Some(7),
            ..Default::default()
        };
        let sim =
            tokio::task::spawn_blocking(move || instore::simulate(&cfg)).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
        let rec = sim.recording;
        let barcodes: BTreeSet<&str> = rec.planogram.iter().filter_map(|r| r.barcode.as_deref()).collect();
        let sku_of: HashMap<String, String> =
            barcodes.iter().enumerate().map(|(i, b)| ((*b).to_owned(), skus[i % skus.len()].clone())).collect();
        let layout = layout_of(&rec, &sku_of);
        engine.put_store_layout(&loc.id, layout.clone()).await.context("the simulated store's layout")?;
        if round == 1 {
            match crate::demo::history::ensure(&engine, &loc.id, &layout).await {
                Ok(n) => tracing::info!(events = n, "analytics: the demo's generated history is written through now"),
                Err(e) => tracing::warn!(error = %e, "analytics: writing the demo's generated history failed"),
            }
        }
        let mut samples: Vec<instore::recording::PlateSample> = rec.samples.clone();
        samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        let mut last_frame: HashMap<String, f64> = HashMap::new();
        for f in &rec.frames {
            last_frame.insert(f.target_id.clone(), f.t_s);
        }
        let t0 = samples.first().map_or(0.0, |s| s.t_s).min(rec.frames.first().map_or(f64::MAX, |f| f.t_s));
        let wall0 = Instant::now();
        let (mut si, mut fi) = (0, 0);
        let mut member = (round as usize * 7) % members.len();
        let mut sessions: HashMap<String, Option<String>> = HashMap::new();
        // Buffers: per gondola plate samples, and track frames, sent every 0.5 s of store time.
        let mut plate_buf: HashMap<u16, Vec<Value>> = HashMap::new();
        let mut frame_buf: Vec<Value> = Vec::new();
        let mut next_flush = t0 + 0.5;
        tracing::info!(round, shoppers = last_frame.len(), "cashierless: a new round of shoppers at {}", loc.code);
        loop {
            let sim_now = t0 + wall0.elapsed().as_secs_f64() * opts.speed + 0.05 * opts.speed;
            let mut progressed = false;
            while si < samples.len() || fi < rec.frames.len() {
                let ts = samples.get(si).map_or(f64::MAX, |s| s.t_s);
                let tf = rec.frames.get(fi).map_or(f64::MAX, |f| f.t_s);
                let t = ts.min(tf);
                if t > sim_now {
                    break;
                }
                progressed = true;
                if t >= next_flush {
                    flush(&engine, &mut devices, &mut plate_buf, &mut frame_buf).await?;
                    next_flush = t + 0.5;
                }
                if ts <= tf {
                    let s = &samples[si];
                    si += 1;
                    let k = rec.plate_keys[s.plate as usize];
                    plate_buf.entry(k.gondola).or_default().push(json!([s.t_s, k.shelf, k.plate, s.grams]));
                    continue;
                }
                let f = &rec.frames[fi];
                fi += 1;
                if !sessions.contains_key(&f.target_id) {
                    // Walks in: the gate reads the member's payment code.
                    summary.visits += 1;
                    let (customer, name) = members[member % members.len()].clone();
                    member += 1;
                    let code = engine.payment_code(&customer).await?;
                    let seq = devices.next(&devices.gate.clone());
                    let out = engine.ingest_device_events(&devices.gate, vec![json!({"seq": seq, "type": "entry", "t": f.t_s, "target_id": f.target_id, "payment_code": code.code})]).await?;
                    let decision = out.entries.first();
                    let session = decision.and_then(|d| d.session_id.clone());
                    match &session {
                        Some(s) => tracing::info!(visit = %s, shopper = %name, "cashierless: entered"),
                        None => {
                            summary.refused_at_entry += 1;
                            tracing::warn!(shopper = %name, reason = ?decision.and_then(|d| d.reason.clone()), "cashierless: the entry gate stayed closed");
                        }
                    }
                    sessions.insert(f.target_id.clone(), session);
                }
                frame_buf.push(frame_json(f));
                if last_frame.get(&f.target_id) == Some(&f.t_s) {
                    // Walks out: everything sensed so far first, then the exit gate.
                    flush(&engine, &mut devices, &mut plate_buf, &mut frame_buf).await?;
                    let seq = devices.next(&devices.gate.clone());
                    let out = engine
                        .ingest_device_events(
                            &devices.gate,
                            vec![json!({"seq": seq, "type": "exit", "t": f.t_s + 0.5, "target_id": f.target_id})],
                        )
                        .await?;
                    if let Some(Some(session)) = sessions.get(&f.target_id) {
                        match out.orders.first() {
                            Some(order) => {
                                tracing::info!(visit = %session, order = %order, "cashierless: left; order placed and charged");
                                summary.orders.push(order.clone());
                            }
                            None => {
                                let s = engine.cashierless_session(session).await?;
                                if s.status == "open" {
                                    summary.waiting_for_review += 1;
                                    tracing::warn!(visit = %session, "cashierless: the visit waits for staff review");
                                } else {
                                    summary.left_empty += 1;
                                }
                            }
                        }
                    }
                }
            }
            if si >= samples.len() && fi >= rec.frames.len() {
                flush(&engine, &mut devices, &mut plate_buf, &mut frame_buf).await?;
                break;
            }
            if !progressed {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = async { let _ = stop.wait_for(|v| *v).await; } => return Ok(summary),
                }
            }
        }
    }
    Ok(summary)
}

/// Sends what the devices sensed since the last flush: one `plates` event per gondola, one `tracks` event.
async fn flush(
    engine: &Engine,
    devices: &mut Devices,
    plates: &mut HashMap<u16, Vec<Value>>,
    frames: &mut Vec<Value>,
) -> Result<()> {
    let mut gs: Vec<u16> = plates.keys().copied().collect();
    gs.sort_unstable();
    for g in gs {
        let samples = plates.remove(&g).unwrap_or_default();
        let Some(dev) = devices.gondolas.get(&g).cloned() else { continue };
        for chunk in samples.chunks(engine::instore::live::MAX_SAMPLES) {
            let seq = devices.next(&dev);
            let out = engine
                .ingest_device_events(&dev, vec![json!({"seq": seq, "type": "plates", "gondola": g, "samples": chunk})])
                .await?;
            if let Some(r) = out.rejected.first() {
                tracing::warn!(error = %r.error, "cashierless: a gondola event was refused");
            }
        }
    }
    for chunk in std::mem::take(frames).chunks(engine::instore::live::MAX_FRAMES) {
        let dev = devices.tracker.clone();
        let seq = devices.next(&dev);
        engine.ingest_device_events(&dev, vec![json!({"seq": seq, "type": "tracks", "frames": chunk})]).await?;
    }
    Ok(())
}

/// The store's visitors (accounts of their own, created on first use), never the README's members.
async fn visitors(engine: &Engine) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for c in crate::demo::data::store_visitors() {
        let found = engine.find_customers(Some(c.email.clone()), None, None).await?.into_iter().next();
        let id = match found {
            Some(v) => v.id,
            None => {
                let input = engine::customers::accounts::SignupInput {
                    email: c.email.clone(),
                    password: c.password.clone(),
                    name: c.name.clone(),
                    phone: Some(c.phone.clone()),
                    locale: Some(c.locale.clone()),
                };
                engine.create_account(input).await.context("creating the store's visitors")?.0.id
            }
        };
        out.push((id, c.name.clone()));
    }
    Ok(out)
}

/// Keeps every visitor's wallet able to open the gate: below 50,000 won it is topped up to 200,000 at the
/// store's counter.
async fn top_up_visitors(engine: &Engine, location_id: &str, visitors: &[(String, String)]) -> Result<()> {
    let counter = engine::platform::auth::Principal::Admin { key_id: "demo-live-store".into() };
    for (id, _) in visitors {
        let available: i64 =
            engine.wallet(id).await?.iter().filter(|a| a.currency == "KRW").map(|a| a.available_minor).sum();
        if available < 50_000 {
            engine
                .wallet_top_up(
                    &counter,
                    id,
                    200_000 - available,
                    "KRW",
                    Some(location_id.to_owned()),
                    None,
                    String::new(),
                )
                .await
                .context("topping up a visitor's wallet")?;
        }
    }
    Ok(())
}

/// Receives stock for every shelf product that runs low at the store.
async fn restock(engine: &Engine, location_id: &str, skus: &[String], below: i64) -> Result<()> {
    let mut rows = Vec::new();
    for sku in skus {
        let levels = engine.stock(sku).await?;
        let available =
            levels.locations.iter().filter(|l| l.location_id == location_id).map(|l| l.level.available).sum::<i64>();
        if available < below {
            rows.push((sku.clone(), crate::demo::data::CASHIERLESS.to_owned(), below * 3));
        }
    }
    if !rows.is_empty() {
        engine.receive_many(rows, "cashierless store restock").await?;
    }
    Ok(())
}
