//! The analytics export: raw events with every shopper, customer, visit and order key replaced by a
//! pseudonym made for this export alone (distinct counts stay true inside it; nothing leads back to a
//! person or joins two exports), and the daily rollups under the k rule, as Parquet partitioned by local
//! day (`events/day=YYYY-MM-DD/part-0.parquet`, `rollups/<name>/day=…/…`) for DuckDB, Spark or pandas.

use super::*;
use ::insight::parquet::{self, Column, Values};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// One file of an export, relative to the export's directory.
pub struct ExportFile {
    pub path: String,
    pub rows: usize,
    pub bytes: Vec<u8>,
}

/// Where an export's files go, one at a time as they are made (a day's files are written before the next
/// day is read, so an export of any length needs the memory of one day).
pub type ExportSink = Box<dyn FnMut(&ExportFile) -> std::io::Result<()> + Send>;

/// A sink that writes each file under `dir` (creating the day's directories).
pub fn dir_sink(dir: std::path::PathBuf) -> ExportSink {
    Box::new(move |f| {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap_or(&dir))?;
        std::fs::write(&path, &f.bytes)
    })
}

/// A file an export wrote: its path, rows and size.
#[derive(Debug, Clone)]
pub struct Exported {
    pub path: String,
    pub rows: usize,
    pub bytes: usize,
}

struct Pseudonyms {
    key: [u8; 32],
    cache: HashMap<u32, String>,
}

impl Pseudonyms {
    fn of(&mut self, t: &Table, id: u32) -> Option<String> {
        if id == ::insight::NONE {
            return None;
        }
        let key = &self.key;
        Some(
            self.cache
                .entry(id)
                .or_insert_with(|| {
                    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
                    m.update(t.name(id).as_bytes());
                    hex::encode(&m.finalize().into_bytes()[..10])
                })
                .clone(),
        )
    }
}

fn s(v: Vec<Option<String>>, name: &str) -> Column {
    Column { name: name.into(), optional: true, values: Values::Str(v) }
}
fn i(v: Vec<Option<i64>>, name: &str, optional: bool) -> Column {
    Column { name: name.into(), optional, values: Values::I64(v) }
}
fn f(v: Vec<Option<f64>>, name: &str) -> Column {
    Column { name: name.into(), optional: true, values: Values::F64(v) }
}

fn file(path: String, cols: Vec<Column>) -> Result<ExportFile> {
    let rows = match cols.first().map(|c| &c.values) {
        Some(Values::I64(v)) => v.len(),
        Some(Values::F64(v)) => v.len(),
        Some(Values::Str(v)) => v.len(),
        None => 0,
    };
    let bytes = parquet::write(&cols).map_err(crate::error::internal)?;
    Ok(ExportFile { path, rows, bytes })
}

/// The raw events of one window.
fn events(t: &Table, w: &Window, names: &mut Pseudonyms) -> Result<Option<Vec<Column>>> {
    let rows = t.rows(w);
    if rows.is_empty() {
        return Ok(None);
    }
    let name = |id: u32| (id != ::insight::NONE).then(|| t.name(id).to_owned());
    let (mut shopper, mut customer, mut visit, mut order) = (vec![], vec![], vec![], vec![]);
    for r in rows.clone() {
        shopper.push(names.of(t, t.shopper[r]));
        customer.push(names.of(t, t.customer(r)));
        visit.push(names.of(t, t.visit[r]));
        order.push(names.of(t, t.order[r]));
    }
    let off = w.utc_offset_min;
    Ok(Some(vec![
        i(rows.clone().map(|r| Some(r as i64)).collect(), "event", false),
        s(rows.clone().map(|r| Some(t.kind[r].as_str().to_owned())).collect(), "kind"),
        i(rows.clone().map(|r| Some(t.at[r])).collect(), "at_ms", false),
        i(rows.clone().map(|r| Some(::insight::time::hour(t.at[r], off) as i64)).collect(), "hour", false),
        i(rows.clone().map(|r| Some(::insight::time::weekday(t.at[r], off) as i64)).collect(), "weekday", false),
        s(shopper, "shopper"),
        s(customer, "customer"),
        s(rows.clone().map(|r| name(t.location.get(r))).collect(), "location_id"),
        s(rows.clone().map(|r| name(t.channel.get(r))).collect(), "channel"),
        s(rows.clone().map(|r| name(t.device.get(r))).collect(), "device"),
        s(rows.clone().map(|r| name(t.product[r])).collect(), "product_id"),
        s(rows.clone().map(|r| name(t.sku[r])).collect(), "sku"),
        s(rows.clone().map(|r| name(t.category.get(r))).collect(), "category"),
        s(rows.clone().map(|r| name(t.zone.get(r))).collect(), "zone"),
        s(visit, "visit"),
        s(order, "order_key"),
        i(rows.clone().map(|r| Some(i64::from(t.dwell_ms[r]))).collect(), "dwell_ms", false),
        i(rows.clone().map(|r| Some(i64::from(t.qty[r]))).collect(), "quantity", false),
        i(rows.clone().map(|r| Some(t.amount[r])).collect(), "amount_minor", false),
        s(rows.map(|r| name(t.currency.get(r))).collect(), "currency"),
    ]))
}

fn u(v: Option<u64>) -> Option<i64> {
    v.map(|x| x as i64)
}

/// The daily rollups of one window (every figure of a row below k withheld).
fn rollups(snap: &Snapshot, t: &Table, w: &Window, k: u32) -> Vec<(&'static str, Vec<Column>)> {
    let mut out = Vec::new();
    for (name, level) in [("dwell_by_zone_hour", Level::Zone), ("dwell_by_facing_hour", Level::Facing)] {
        let q = DwellQuery {
            window: *w,
            location: None,
            level,
            by_hour: true,
            by_weekday: false,
            segment: SegmentBy::None,
            k,
        };
        let (rows, _) = ::insight::dwell::dwell(t, &snap.profiles, &q);
        if rows.is_empty() {
            continue;
        }
        out.push((
            name,
            vec![
                s(rows.iter().map(|r| Some(r.location_id.clone())).collect(), "location_id"),
                s(rows.iter().map(|r| Some(r.key.clone())).collect(), "key"),
                i(rows.iter().map(|r| r.hour.map(i64::from)).collect(), "hour", true),
                i(rows.iter().map(|r| Some(r.suppressed as i64)).collect(), "suppressed", false),
                i(rows.iter().map(|r| u(r.visits)).collect(), "visits", true),
                i(rows.iter().map(|r| u(r.visitors)).collect(), "visitors", true),
                i(rows.iter().map(|r| u(r.dwells)).collect(), "dwells", true),
                f(rows.iter().map(|r| r.mean_ms).collect(), "mean_ms"),
                f(rows.iter().map(|r| r.median_ms).collect(), "median_ms"),
                f(rows.iter().map(|r| r.p90_ms).collect(), "p90_ms"),
                f(rows.iter().map(|r| r.share_of_store_visitors).collect(), "share_of_store_visitors"),
            ],
        ));
    }
    let (mix, _) = ::insight::sales::channel_mix(t, w, None, k);
    if !mix.is_empty() {
        out.push((
            "channel_mix",
            vec![
                s(mix.iter().map(|r| Some(r.location_id.clone())).collect(), "location_id"),
                s(mix.iter().map(|r| Some(r.channel.clone())).collect(), "channel"),
                s(mix.iter().map(|r| Some(r.currency.clone())).collect(), "currency"),
                i(mix.iter().map(|r| Some(r.suppressed as i64)).collect(), "suppressed", false),
                i(mix.iter().map(|r| u(r.orders)).collect(), "orders", true),
                i(mix.iter().map(|r| r.units).collect(), "units", true),
                i(mix.iter().map(|r| r.revenue_minor).collect(), "revenue_minor", true),
                i(mix.iter().map(|r| r.returned_minor).collect(), "returned_minor", true),
                f(mix.iter().map(|r| r.share).collect(), "share"),
            ],
        ));
    }
    let (traffic, _) = ::insight::sales::traffic(t, w, None, k);
    if !traffic.is_empty() {
        out.push((
            "traffic_by_hour",
            vec![
                s(traffic.iter().map(|r| Some(r.location_id.clone())).collect(), "location_id"),
                i(traffic.iter().map(|r| Some(r.hour as i64)).collect(), "hour", false),
                i(traffic.iter().map(|r| Some(r.suppressed as i64)).collect(), "suppressed", false),
                i(traffic.iter().map(|r| u(r.visits)).collect(), "visits", true),
                i(traffic.iter().map(|r| u(r.orders)).collect(), "orders", true),
                i(traffic.iter().map(|r| u(r.buyers)).collect(), "buyers", true),
                f(traffic.iter().map(|r| r.conversion).collect(), "conversion"),
                f(traffic.iter().map(|r| r.basket_units).collect(), "basket_units"),
            ],
        ));
    }
    let q = OnlineFunnelQuery { window: *w, segment: SegmentBy::None, by_device: true, k };
    let (web, _) = ::insight::funnels::online_funnel(t, &snap.profiles, &q);
    if !web.is_empty() {
        out.push((
            "online_funnel_by_device",
            vec![
                s(web.iter().map(|r| r.device.clone()).collect(), "device"),
                i(web.iter().map(|r| Some(r.suppressed as i64)).collect(), "suppressed", false),
                i(web.iter().map(|r| u(r.viewed)).collect(), "viewed", true),
                i(web.iter().map(|r| u(r.carted)).collect(), "carted", true),
                i(web.iter().map(|r| u(r.checked_out)).collect(), "checked_out", true),
                i(web.iter().map(|r| u(r.purchased)).collect(), "purchased", true),
            ],
        ));
    }
    let q = InstoreFunnelQuery {
        window: *w,
        location: None,
        by: FunnelBy::Product,
        min_dwell_ms: 5_000,
        segment: SegmentBy::None,
        k,
    };
    let (funnel, _) = ::insight::funnels::instore_funnel(t, &snap.profiles, &snap.places, &q);
    if !funnel.is_empty() {
        out.push((
            "instore_funnel_by_product",
            vec![
                s(funnel.iter().map(|r| Some(r.location_id.clone())).collect(), "location_id"),
                s(funnel.iter().map(|r| Some(r.key.clone())).collect(), "product_id"),
                i(funnel.iter().map(|r| Some(r.suppressed as i64)).collect(), "suppressed", false),
                i(funnel.iter().map(|r| u(r.passed)).collect(), "passed", true),
                i(funnel.iter().map(|r| u(r.dwelled)).collect(), "dwelled", true),
                i(funnel.iter().map(|r| u(r.picked)).collect(), "picked", true),
                i(funnel.iter().map(|r| u(r.bought)).collect(), "bought", true),
                i(funnel.iter().map(|r| r.picked_units).collect(), "picked_units", true),
                i(funnel.iter().map(|r| r.put_back_units).collect(), "put_back_units", true),
            ],
        ));
    }
    out
}

impl Engine {
    /// The export of a period (local days, as questions take them): every day's raw events (pseudonymised)
    /// and rollups (under k), and a `manifest.json` saying what is where, each handed to `sink` as it is
    /// made. Returns what was written.
    pub async fn analytics_export(&self, a: Ask, mut sink: ExportSink) -> Result<Vec<Exported>> {
        self.insight_catch_up().await?;
        let snap = self.insight_snapshot().await?;
        let (w, from, to, _, k) = self.insight_frame(&snap, &a)?;
        tokio::task::spawn_blocking(move || {
            let mut names = Pseudonyms { key: rand::random(), cache: HashMap::new() };
            let mut done = Vec::new();
            let mut put = |done: &mut Vec<Exported>, f: ExportFile| -> Result<()> {
                sink(&f).map_err(|e| crate::error::internal(format!("cannot write {}: {e}", f.path)))?;
                done.push(Exported { path: f.path, rows: f.rows, bytes: f.bytes.len() });
                Ok(())
            };
            let mut day = w.from_ms;
            while day < w.to_ms {
                let dw = Window { from_ms: day, to_ms: day + DAY_MS, utc_offset_min: w.utc_offset_min };
                let date = ::insight::time::date(day, w.utc_offset_min);
                // Read under the lock a day at a time: new arrivals wait for one day, not the export.
                let t = snap.table();
                if let Some(cols) = events(&t, &dw, &mut names)? {
                    put(&mut done, file(format!("events/day={date}/part-0.parquet"), cols)?)?;
                    for (name, cols) in rollups(&snap, &t, &dw, k) {
                        put(&mut done, file(format!("rollups/{name}/day={date}/part-0.parquet"), cols)?)?;
                    }
                }
                // Pseudonyms are the same every day (one key); the memo of them need not outlive a day.
                names.cache.clear();
                day += DAY_MS;
            }
            let manifest = serde_json::json!({
                "from": from, "to": to, "k": k, "utc_offset_minutes": w.utc_offset_min,
                "pseudonyms": "shopper, customer, visit and order_key are HMAC-SHA256 pseudonyms with a key made for this export and then forgotten: they match within the export only",
                "rollups": "a row made of fewer than k distinct shoppers has suppressed = 1 and no figures",
                "files": done.iter().map(|f| serde_json::json!({"path": f.path, "rows": f.rows})).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
            put(&mut done, ExportFile { path: "manifest.json".into(), rows: 0, bytes })?;
            Ok(done)
        })
        .await
        .map_err(|e| crate::error::internal(e.to_string()))?
    }
}
