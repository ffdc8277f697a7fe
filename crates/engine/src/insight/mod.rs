//! Shopper analytics: the one event model fed from the event feed (each happening counted once), web
//! events recorded with consent, segments from what customers share, retention and erasure, and the
//! questions a seller asks every morning, answered by the pure `insight` crate under the k-anonymity rule.

mod export;
mod ingest;
mod load;
mod shoppers;

pub use export::{dir_sink, ExportFile, ExportSink, Exported};

use crate::error::bad;
use crate::platform::events;
use crate::{Engine, EngineError, Result};
use ::insight::dwell::{DwellQuery, DwellRow, Level};
use ::insight::funnels::{FunnelBy, InstoreFunnelQuery, InstoreFunnelRow, OnlineFunnelQuery, OnlineFunnelRow, Place};
use ::insight::journeys::{JourneyQuery, JourneyRow};
use ::insight::sales::{ChannelMixRow, RepeatRow, StockOutRow, TrafficRow};
use ::insight::{SegmentBy, Table, Window};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::{params, Dialect, Tx};

const CURSOR_KEY: &str = "insight.events_cursor";
/// Changes when analytics events are deleted or rewritten (erasure, a cancelled order): snapshots read
/// under another value are read again whole.
const GENERATION_KEY: &str = "insight.generation";
const DAY_MS: i64 = 86_400_000;
/// An event's day (UTC) as the indexes by customer and by order hold it (both dialects divide integers
/// toward zero, as Rust's `/` does): `at / DAY_MS`.
const DAY: &str = "(at / 86400000)";
/// The latest moment an event may carry (9999-12-31T23:59:59.999Z).
const MAX_AT_MS: i64 = 253_402_300_799_999;
/// Events an import writes per transaction.
const IMPORT_CHUNK: usize = 5_000;
/// The most segments a seller defines.
pub const MAX_SEGMENTS: usize = 20;
/// The longest period one question may cover.
pub const MAX_DAYS: i64 = 400;
/// A snapshot serves questions for this long before it takes in what arrived since (at once after this
/// node's own writes).
const SNAPSHOT_MS: u64 = 2_000;

/// What this node holds: the analytics events as a columnar table, kept up to date by taking in what
/// arrived since it was read (read whole only at first and after an erasure or a cancelled order).
#[derive(Default)]
pub(crate) struct InsightState {
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    loading: tokio::sync::Mutex<()>,
    /// This node wrote events since the snapshot was brought up to date.
    stale: std::sync::atomic::AtomicBool,
}

pub(crate) struct Snapshot {
    /// Wall time it was last brought up to date (not the engine's clock, which tests hold still).
    checked: std::time::Instant,
    /// The generation it was read under, and how far its events go (`load::mark`).
    generation: String,
    mark: i64,
    /// Shared by the snapshots that follow, which take in new events under the write lock; a question
    /// reads it under the read lock for the few milliseconds it takes.
    table: Arc<std::sync::RwLock<Table>>,
    profiles: ::insight::Profiles,
    facings: Vec<load::Facing>,
    places: Vec<Place>,
    /// The seller's own segments (`segment=custom`).
    segments: Vec<::insight::SegmentDef>,
    offset_min: i32,
    /// Events before this are outside the retention window.
    since: i64,
}

/// What a refresh read: the whole table, or what arrived since the snapshot's mark.
enum Fresh {
    Whole(Box<Table>),
    Arrivals(Vec<::insight::Event>),
}

/// Arrivals taken in by merging; beyond this many the table is read whole.
const MAX_ARRIVALS: usize = 500_000;

impl Snapshot {
    fn table(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The common part of every question: a period of local days, a location, a segment breakdown and k.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// First local day, `YYYY-MM-DD` (default: six days before `to`).
    pub from: Option<String>,
    /// Last local day included (default: today).
    pub to: Option<String>,
    pub location_id: Option<String>,
    /// `tier`, `age_band`, `visitor`, `home_store` or `preferred_channel`.
    pub segment: Option<String>,
    /// At least the configured k (a caller may only raise it).
    pub k: Option<u32>,
}

/// An answer: the rows, the period they cover, and how many were withheld under the k rule.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Answer<T> {
    pub from: String,
    pub to: String,
    /// The retailer's UTC offset hours and days are read in.
    pub utc_offset_minutes: i32,
    /// Cells with fewer distinct shoppers than this show no figures.
    pub k: u32,
    pub withheld: usize,
    pub rows: Vec<T>,
}

/// A facing of a store's floor with its dwell: the heatmap's cells.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HeatCell {
    pub key: String,
    pub sku: String,
    pub product_id: String,
    pub title_ko: String,
    pub title_en: String,
    pub gondola: u16,
    pub shelf: u16,
    /// Corner and size on the floor (metres): `x` along the gondolas, `y` across the store.
    pub x_m: f64,
    pub y_m: f64,
    pub width_m: f64,
    pub depth_m: f64,
    /// Height of the facing's bottom and its own height (metres): with `x` and `width`, the gondola as a
    /// shopper in the aisle sees it.
    pub z_m: f64,
    pub height_m: f64,
    pub suppressed: bool,
    pub visitors: Option<u64>,
    pub dwells: Option<u64>,
    pub mean_ms: Option<f64>,
    /// Total dwell time (dwells × mean).
    pub total_ms: Option<f64>,
}

/// A store's floor: its size and every facing.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Heatmap {
    pub location_id: String,
    pub width_m: f64,
    pub depth_m: f64,
    /// The top of the highest facing (metres).
    pub height_m: f64,
    pub cells: Vec<HeatCell>,
}

/// What a customer shares for analytics.
#[derive(Debug, Clone, serde::Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsProfile {
    /// Recognise me across web, stores and cashierless visits, for segments and journeys. Turning it off
    /// erases what was recorded.
    pub consent: bool,
    pub birth_year: Option<i32>,
    pub home_location_id: Option<String>,
}

fn parse_day(name: &str, s: &str) -> Result<i64> {
    let d: jiff::civil::Date =
        s.trim().parse().map_err(|_| bad(format!("`{name}` must be a date such as 2026-12-04 (YYYY-MM-DD)")))?;
    let days = d.since(jiff::civil::date(1970, 1, 1)).map_err(|e| bad(e.to_string()))?.get_days() as i64;
    Ok(days)
}

fn check_id(name: &str, v: &Option<String>) -> Result<()> {
    if v.as_ref().is_some_and(|s| s.is_empty() || s.len() > 64) {
        return Err(bad(format!("`{name}` is 1–64 characters")));
    }
    Ok(())
}

/// One web event as analytics keep it (the query of a search is not kept).
pub(crate) struct WebEvent {
    pub(crate) kind: String,
    pub(crate) product_id: Option<String>,
    pub(crate) location_id: Option<String>,
    pub(crate) device: Option<String>,
}

/// Writes web events (views, searches, cart adds, checkouts) to the analytics events in the caller's
/// transaction: an anonymous visitor's under their session, a signed-in customer's only when they agreed
/// to be recognised across channels. Callers pass only what the shopper agreed to have recorded.
pub(crate) fn record_web(
    tx: &mut dyn Tx,
    evs: &[WebEvent],
    customer_id: Option<&str>,
    session_id: Option<&str>,
    now: i64,
) -> Result<()> {
    let who = match (customer_id, session_id) {
        (Some(c), _) => {
            let consents = tx
                .query_opt("SELECT analytics_consent FROM customers WHERE id = ?", params![c])?
                .map(|r| r.i64(0))
                .transpose()?
                == Some(1);
            consents.then(|| (c.to_owned(), Some(c.to_owned())))
        }
        (None, Some(s)) => Some((format!("s:{s}"), None)),
        (None, None) => None,
    };
    if let Some((shopper, customer)) = who {
        for e in evs {
            let kind = ::insight::Kind::parse(&e.kind).unwrap_or(::insight::Kind::View);
            let category = match &e.product_id {
                Some(p) => tx
                    .query_opt("SELECT category FROM products WHERE id = ?", params![p])?
                    .map(|r| r.text(0))
                    .transpose()?,
                None => None,
            };
            ingest::insert(
                tx,
                &::insight::Event {
                    id: domain::ids::new_id("web"),
                    kind: Some(kind),
                    at_ms: now,
                    shopper: Some(shopper.clone()),
                    customer: customer.clone(),
                    location: e.location_id.clone(),
                    channel: Some("web".into()),
                    device: e.device.clone(),
                    product: e.product_id.clone(),
                    category,
                    qty: 1,
                    ..Default::default()
                },
            )?;
        }
    }
    Ok(())
}

fn insight_answer<T>(w: &Window, from: String, to: String, k: u32, (rows, withheld): (Vec<T>, usize)) -> Answer<T> {
    Answer { from, to, utc_offset_minutes: w.utc_offset_min, k, withheld, rows }
}

impl Engine {
    /// Moves new events of the feed into the analytics events; returns the feed events consumed. Reading
    /// happens on a reader; the writer only writes, after checking nobody wrote the batch first.
    pub async fn insight_ingest(&self, limit: usize) -> Result<usize> {
        loop {
            let batch = Arc::new(self.db.read(move |tx| ingest::ingest_read(tx, limit)).await?);
            let b = batch.clone();
            if let Some(n) = self.db.write(move |tx| ingest::ingest_write(tx, &b)).await? {
                if !batch.rows.is_empty() || !batch.void_orders.is_empty() {
                    self.insight_touch();
                }
                return Ok(n);
            }
        }
    }

    /// Catches up with the whole feed (tests, the demo and the export).
    pub async fn insight_catch_up(&self) -> Result<usize> {
        let mut n = 0;
        loop {
            let got = self.insight_ingest(events::MAX_FEED_PAGE).await?;
            n += got;
            if got == 0 {
                return Ok(n);
            }
        }
    }

    /// Records a web event for analytics only (the storefront's cart adds, which the cart already logs
    /// for recommendations, and checkouts opened), naming the product by its SKU. Failures are the
    /// caller's to log.
    pub async fn record_web_analytics(
        &self,
        kind: &str,
        sku: Option<String>,
        location_id: Option<String>,
        device: Option<String>,
        customer_id: Option<String>,
        session_id: Option<String>,
    ) -> Result<()> {
        if !matches!(kind, "view" | "search" | "cart_add" | "checkout") {
            return Err(bad(format!("unknown web event `{kind}`")));
        }
        let kind = kind.to_owned();
        let now = self.now();
        self.db
            .write(move |tx| {
                let product_id = match &sku {
                    Some(s) => tx
                        .query_opt("SELECT product_id FROM variants WHERE sku = ?", params![s])?
                        .map(|r| r.text(0))
                        .transpose()?,
                    None => None,
                };
                let ev = WebEvent {
                    kind: kind.clone(),
                    product_id,
                    location_id: location_id.clone(),
                    device: device.clone(),
                };
                record_web(tx, &[ev], customer_id.as_deref(), session_id.as_deref(), now)
            })
            .await?;
        self.insight_touch();
        Ok(())
    }

    /// Writes analytics events that come from elsewhere (the demo's generated history, the benchmark's
    /// traffic, an import), 5,000 per transaction, the statements' parameters made ready while the writer
    /// writes the previous ones; an id already there is skipped. Returns how many were new.
    pub async fn insight_import(&self, evs: Vec<::insight::Event>) -> Result<usize> {
        if evs.iter().any(|e| e.id.is_empty() || e.id.len() > 200 || e.kind.is_none()) {
            return Err(bad("an analytics event needs an id of 1–200 characters and a kind"));
        }
        if let Some(e) = evs.iter().find(|e| !(0..=MAX_AT_MS).contains(&e.at_ms)) {
            return Err(bad(format!(
                "analytics event `{}`: `at` must lie between 1970-01-01 and 9999-12-31 (it is {} ms since 1970)",
                e.id, e.at_ms
            )));
        }
        if let Some(e) = evs.iter().find(|e| e.customer.is_some() && e.shopper != e.customer) {
            return Err(bad(format!(
                "analytics event `{}`: a customer is the event's shopper too (`shopper` must equal `customer`, or `customer` be left out for a shopper who is not recognised)",
                e.id
            )));
        }
        if let Some(e) = evs.iter().find(|e| !::insight::fits(e)) {
            return Err(bad(format!(
                "analytics event `{}`: dwell_ms and quantity must each lie within ±2,147,483,647",
                e.id
            )));
        }
        // One write at a time (two queued writes would share a commit, each under a savepoint that copies
        // every page it touches), the next batch's parameters made ready while the writer writes.
        let mut new = 0;
        let mut chunks = evs.chunks(IMPORT_CHUNK);
        let mut next = chunks.next().map(ingest::Rows::new);
        while let Some(rows) = next.take() {
            let db = self.db.clone();
            let write = tokio::spawn(async move { db.write(move |tx| ingest::insert_rows(tx, &rows)).await });
            next = chunks.next().map(ingest::Rows::new);
            new += write.await.map_err(|e| crate::error::internal(e.to_string()))??;
        }
        self.insight_touch();
        Ok(new)
    }

    /// Deletes analytics events older than the retention window; returns how many.
    pub async fn insight_purge(&self) -> Result<u64> {
        let cutoff = self.now() - self.cfg.analytics_retention_days * DAY_MS;
        self.db.write(move |tx| Ok(tx.exec("DELETE FROM insight_events WHERE at < ?", params![cutoff])?)).await
    }

    /// The snapshot questions read: the current one while it is fresh; otherwise the current one with
    /// what arrived since taken in; read whole at first, after this node erased something, and when
    /// another node deleted or rewrote events (the generation changed).
    async fn insight_snapshot(&self) -> Result<Arc<Snapshot>> {
        use std::sync::atomic::Ordering;
        let current = || self.insight.snapshot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let fresh = |s: &Option<Arc<Snapshot>>| {
            s.as_ref()
                .filter(|s| {
                    s.checked.elapsed() < std::time::Duration::from_millis(SNAPSHOT_MS)
                        && !self.insight.stale.load(Ordering::Acquire)
                })
                .cloned()
        };
        if let Some(s) = fresh(&current()) {
            return Ok(s);
        }
        let _one = self.insight.loading.lock().await;
        let prev = current();
        if let Some(s) = fresh(&prev) {
            return Ok(s);
        }
        // Cleared before reading: a write after this point marks the new snapshot stale again.
        self.insight.stale.store(false, Ordering::Release);
        let now = self.now();
        let since = now - self.cfg.analytics_retention_days * DAY_MS;
        let prev_at = prev.as_ref().map(|p| (p.generation.clone(), p.mark));
        // The read only reads (a read may run twice when the store retries it): arrivals are merged
        // after it has succeeded.
        let (generation, mark, fresh, (profiles, segments), facings, offset_min) = self
            .db
            .read(move |tx| {
                let generation = load::generation(tx)?;
                let mark = load::mark(tx)?;
                let fresh = match prev_at.clone() {
                    Some((g, from)) if g == generation => {
                        let mut arrived = Vec::new();
                        if mark > from {
                            load::arrivals(tx, since, from, mark, |evs| {
                                if arrived.len() <= MAX_ARRIVALS {
                                    arrived.extend(evs)
                                }
                            })?;
                        }
                        if arrived.len() > MAX_ARRIVALS {
                            // An import of this size: reading everything is cheaper than holding it twice.
                            Fresh::Whole(Box::new(load::table(tx, since, mark)?))
                        } else {
                            Fresh::Arrivals(arrived)
                        }
                    }
                    _ => Fresh::Whole(Box::new(load::table(tx, since, mark)?)),
                };
                Ok::<_, EngineError>((
                    generation,
                    mark,
                    fresh,
                    (load::profiles(tx)?, load::segments(tx)?),
                    load::facings(tx)?,
                    load::utc_offset_min(tx, now)?,
                ))
            })
            .await?;
        let table = match (fresh, &prev) {
            (Fresh::Arrivals(mut evs), Some(p)) => {
                let mut t = p.table.write().unwrap_or_else(|e| e.into_inner());
                t.merge(&mut evs);
                // Drop what fell out of the retention window once it is a tenth of the table.
                if t.rows_before(since) * 10 > t.len() {
                    t.drop_before(since);
                }
                drop(t);
                p.table.clone()
            }
            (Fresh::Whole(t), _) => Arc::new(std::sync::RwLock::new(*t)),
            (Fresh::Arrivals(_), None) => unreachable!("arrivals are read only over a snapshot"),
        };
        let places = facings
            .iter()
            .map(|f| Place {
                location: f.location.clone(),
                sku: f.facing.sku.clone(),
                product: f.product.clone(),
                category: f.category.clone(),
                gondola: f.facing.gondola,
            })
            .collect();
        let snap = Arc::new(Snapshot {
            checked: std::time::Instant::now(),
            generation,
            mark,
            table,
            profiles,
            facings,
            places,
            segments,
            offset_min,
            since,
        });
        *self.insight.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = Some(snap.clone());
        Ok(snap)
    }

    /// The loaded snapshot's size: (events, distinct names, heap bytes of its table), if one is loaded.
    pub fn insight_snapshot_size(&self) -> Option<(usize, usize, usize)> {
        let s = self.insight.snapshot.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
        let t = s.table();
        Some((t.len(), t.dict.len(), t.heap_bytes()))
    }

    /// This node wrote analytics events: the next question takes them in first.
    pub(crate) fn insight_touch(&self) {
        self.insight.stale.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Drops the loaded snapshot (after an erasure on this node, so that no answer shows what was
    /// erased). Other nodes see the generation change and read theirs again within two seconds.
    pub(crate) fn insight_forget(&self) {
        *self.insight.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // A refresh that read before the erasure may store its snapshot after this: it is then stale,
        // and the next question finds the generation changed and reads the events again.
        self.insight_touch();
    }

    /// Checks the common part of a question: (window, from, to, segment, k).
    fn insight_frame(&self, s: &Snapshot, a: &Ask) -> Result<(Window, String, String, SegmentBy, u32)> {
        check_id("location_id", &a.location_id)?;
        let off = s.offset_min;
        let today = ::insight::time::day_number(self.now(), off);
        let to = match &a.to {
            Some(t) => parse_day("to", t)?,
            None => today,
        };
        let from = match &a.from {
            Some(f) => parse_day("from", f)?,
            None => to - 6,
        };
        if from > to {
            return Err(bad("`from` must not be after `to`"));
        }
        if to - from + 1 > MAX_DAYS {
            return Err(bad(format!("a question covers at most {MAX_DAYS} days; narrow `from` and `to`")));
        }
        let segment = match a.segment.as_deref() {
            None => SegmentBy::None,
            Some("custom") if s.segments.is_empty() => {
                return Err(bad(
                    "no segments of your own yet: define them first (PUT /admin/analytics/segments), then ask with `segment=custom`",
                ))
            }
            Some("custom") => SegmentBy::Custom(s.segments.clone()),
            Some(x) => SegmentBy::parse(x).ok_or_else(|| {
                bad(format!(
                    "`segment` is one of tier, age_band, visitor, home_store, preferred_channel or custom (your own segments); got `{x}`"
                ))
            })?,
        };
        let floor = self.cfg.analytics_k;
        let k = match a.k {
            None => floor,
            Some(k) if k >= floor && k <= 1_000 => k,
            Some(k) => return Err(bad(format!("`k` may be raised from {floor} up to 1000, not set to {k}"))),
        };
        let w = Window {
            // Events past the retention window may still be in memory until they are dropped.
            from_ms: (from * DAY_MS - off as i64 * 60_000).max(s.since),
            to_ms: (to + 1) * DAY_MS - off as i64 * 60_000,
            utc_offset_min: off,
        };
        let date = |d: i64| ::insight::time::date(d * DAY_MS, 0);
        Ok((w, date(from), date(to), segment, k))
    }

    /// Question 1: dwell by zone, shelf or facing; `by` holds `hour` and/or `weekday`.
    pub async fn analytics_dwell(&self, a: Ask, level: Option<String>, by: Option<String>) -> Result<Answer<DwellRow>> {
        let s = self.insight_snapshot().await?;
        let (w, from, to, segment, k) = self.insight_frame(&s, &a)?;
        let level = match level.as_deref() {
            None => Level::Zone,
            Some(l) => Level::parse(l).ok_or_else(|| bad(format!("`level` is zone, shelf or facing; got `{l}`")))?,
        };
        let (mut by_hour, mut by_weekday) = (false, false);
        for part in by.as_deref().unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "hour" => by_hour = true,
                "weekday" => by_weekday = true,
                other => return Err(bad(format!("`by` lists hour and/or weekday, comma-separated; got `{other}`"))),
            }
        }
        let q = DwellQuery { window: w, location: a.location_id, level, by_hour, by_weekday, segment, k };
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::dwell::dwell(&t, &s.profiles, &q)))
    }

    /// Question 2: the in-store funnel per product, category or zone.
    pub async fn analytics_instore_funnel(
        &self,
        a: Ask,
        by: Option<String>,
        min_dwell_s: Option<i64>,
    ) -> Result<Answer<InstoreFunnelRow>> {
        let s = self.insight_snapshot().await?;
        let (w, from, to, segment, k) = self.insight_frame(&s, &a)?;
        let by = match by.as_deref() {
            None => FunnelBy::Product,
            Some(b) => {
                FunnelBy::parse(b).ok_or_else(|| bad(format!("`by` is product, category or zone; got `{b}`")))?
            }
        };
        let min = min_dwell_s.unwrap_or(5);
        if !(0..=3_600).contains(&min) {
            return Err(bad("`min_dwell_s` is 0–3600 seconds"));
        }
        let q = InstoreFunnelQuery { window: w, location: a.location_id, by, min_dwell_ms: min * 1000, segment, k };
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::funnels::instore_funnel(&t, &s.profiles, &s.places, &q)))
    }

    /// Question 3: the web funnel by segment (and device).
    pub async fn analytics_online_funnel(&self, a: Ask, by_device: bool) -> Result<Answer<OnlineFunnelRow>> {
        let s = self.insight_snapshot().await?;
        if a.location_id.is_some() {
            return Err(bad("the web funnel has no `location_id`: it covers the whole web shop"));
        }
        let (w, from, to, segment, k) = self.insight_frame(&s, &a)?;
        let q = OnlineFunnelQuery { window: w, segment, by_device, k };
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::funnels::online_funnel(&t, &s.profiles, &q)))
    }

    /// Question 4: showrooming, webrooming and click & collect add-ons.
    pub async fn analytics_journeys(
        &self,
        a: Ask,
        within_days: Option<i64>,
        min_dwell_s: Option<i64>,
        top: Option<usize>,
    ) -> Result<Answer<JourneyRow>> {
        let s = self.insight_snapshot().await?;
        if a.location_id.is_some() || a.segment.is_some() {
            return Err(bad("journeys take no `location_id` or `segment`: they cross every channel"));
        }
        let (w, from, to, _, k) = self.insight_frame(&s, &a)?;
        let within = within_days.unwrap_or(7);
        if !(1..=90).contains(&within) {
            return Err(bad("`within_days` is 1–90"));
        }
        let min = min_dwell_s.unwrap_or(5);
        if !(0..=3_600).contains(&min) {
            return Err(bad("`min_dwell_s` is 0–3600 seconds"));
        }
        let top = top.unwrap_or(10);
        if top > 100 {
            return Err(bad("`top` is at most 100 products per journey"));
        }
        let q = JourneyQuery { window: w, within_days: within, min_dwell_ms: min * 1000, k };
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::journeys::journeys(&t, &q, top)))
    }

    /// Question 5: store traffic and conversion by hour.
    pub async fn analytics_traffic(&self, a: Ask) -> Result<Answer<TrafficRow>> {
        let s = self.insight_snapshot().await?;
        if a.segment.is_some() {
            return Err(bad("traffic has no `segment` breakdown"));
        }
        let (w, from, to, _, k) = self.insight_frame(&s, &a)?;
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::sales::traffic(&t, &w, a.location_id.as_deref(), k)))
    }

    /// Question 5: the channel mix of revenue by location and day.
    pub async fn analytics_channel_mix(&self, a: Ask) -> Result<Answer<ChannelMixRow>> {
        let s = self.insight_snapshot().await?;
        if a.segment.is_some() {
            return Err(bad("the channel mix has no `segment` breakdown"));
        }
        let (w, from, to, _, k) = self.insight_frame(&s, &a)?;
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::sales::channel_mix(&t, &w, a.location_id.as_deref(), k)))
    }

    /// Question 5: repeat purchases by segment.
    pub async fn analytics_repeat(&self, a: Ask) -> Result<Answer<RepeatRow>> {
        let s = self.insight_snapshot().await?;
        if a.location_id.is_some() {
            return Err(bad("repeat purchases take no `location_id`: a shopper repeats anywhere"));
        }
        let (w, from, to, segment, k) = self.insight_frame(&s, &a)?;
        let t = s.table();
        Ok(insight_answer(&w, from, to, k, ::insight::sales::repeat(&t, &s.profiles, &w, segment, k)))
    }

    /// Question 6: stock-outs and the sales they probably cost (no shopper data: nothing withheld).
    pub async fn analytics_stockouts(&self, a: Ask) -> Result<Answer<StockOutRow>> {
        let s = self.insight_snapshot().await?;
        if a.segment.is_some() {
            return Err(bad("stock-outs have no `segment` breakdown"));
        }
        let (w, from, to, _, k) = self.insight_frame(&s, &a)?;
        let t = s.table();
        let rows = ::insight::sales::stockouts(&t, &w, a.location_id.as_deref());
        Ok(insight_answer(&w, from, to, k, (rows, 0)))
    }

    /// Question 7: a cashierless store's floor with the dwell at each facing.
    pub async fn analytics_heatmap(&self, a: Ask) -> Result<Answer<Heatmap>> {
        let s = self.insight_snapshot().await?;
        let loc = a.location_id.clone().ok_or_else(|| bad("a heatmap is of one store: pass `location_id`"))?;
        let (w, from, to, segment, k) = self.insight_frame(&s, &a)?;
        if segment != SegmentBy::None {
            return Err(bad("the heatmap has no `segment` breakdown"));
        }
        let facings: Vec<&load::Facing> = s.facings.iter().filter(|f| f.location == loc).collect();
        if facings.is_empty() {
            let known = self.db.read({
                let l = loc.clone();
                move |tx| {
                    Ok::<_, EngineError>(tx.query_opt("SELECT 1 FROM locations WHERE id = ?", params![&l])?.is_some())
                }
            });
            return Err(if known.await? {
                EngineError::invalid(
                    "no_layout",
                    format!("{loc} has no store layout with facings, so there is no floor to draw"),
                )
            } else {
                EngineError::not_found("location", loc)
            });
        }
        let q = DwellQuery {
            window: w,
            location: Some(loc.clone()),
            level: Level::Facing,
            by_hour: false,
            by_weekday: false,
            segment,
            k,
        };
        let t = s.table();
        let (rows, withheld) = ::insight::dwell::dwell(&t, &s.profiles, &q);
        let by_key: HashMap<&str, &DwellRow> = rows.iter().map(|r| (r.key.as_str(), r)).collect();
        let (mut width, mut depth, mut height) = (0.0f64, 0.0f64, 0.0f64);
        let cells = facings
            .iter()
            .map(|f| {
                let (c, sz) = (f.facing.corner_m, f.facing.size_m);
                width = width.max(c[0] + sz[0]);
                depth = depth.max(c[1] + sz[1]);
                height = height.max(c[2] + sz[2]);
                let d = by_key.get(f.key.as_str());
                HeatCell {
                    key: f.key.clone(),
                    sku: f.facing.sku.clone(),
                    product_id: f.product.clone(),
                    title_ko: f.title_ko.clone(),
                    title_en: f.title_en.clone(),
                    gondola: f.facing.gondola,
                    shelf: f.facing.shelf,
                    x_m: c[0],
                    y_m: c[1],
                    width_m: sz[0],
                    depth_m: sz[1],
                    z_m: c[2],
                    height_m: sz[2],
                    suppressed: d.is_some_and(|d| d.suppressed),
                    visitors: d.map_or(Some(0), |d| d.visitors),
                    dwells: d.map_or(Some(0), |d| d.dwells),
                    mean_ms: d.and_then(|d| d.mean_ms),
                    total_ms: d.and_then(|d| Some(d.mean_ms? * d.dwells? as f64)),
                }
            })
            .collect();
        let map = Heatmap { location_id: loc, width_m: width + 1.0, depth_m: depth + 1.0, height_m: height, cells };
        Ok(insight_answer(&w, from, to, k, (vec![map], withheld)))
    }
}
