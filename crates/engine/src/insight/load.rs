//! What the questions read, loaded from the store: the analytics events as a columnar table, the segment
//! profiles of consenting customers, where each SKU stands in the cashierless stores, and the floor boxes
//! of their facings.

use super::*;

/// Rows read per query while loading (the table grows column by column; no list of events is held, and
/// a page of rows is a few megabytes beside it).
const PAGE: i64 = 10_000;

const COLS: &str =
    "id, kind, at, shopper, customer_id, location_id, channel, device, product_id, sku, category, zone, visit, \
                    order_id, dwell_ms, quantity, amount_minor, currency";

/// Where a snapshot stands in the arrival of analytics events: on SQLite the last `seq` it holds (one
/// writer, `seq` never handed out twice); on PostgreSQL the horizon below which every transaction has
/// ended (`pg_snapshot_xmin`), so that no row can still arrive behind it.
pub(crate) fn mark(tx: &mut dyn Tx) -> Result<i64> {
    let r = match tx.dialect() {
        Dialect::Sqlite => tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM insight_events", &[])?,
        Dialect::Postgres => {
            tx.query_one("SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT)", &[])?
        }
    };
    Ok(r.i64(0)?)
}

/// Where a row arrived, comparable with a mark (SQLite: `seq`; PostgreSQL: its transaction id).
fn arrival(tx: &mut dyn Tx) -> &'static str {
    match tx.dialect() {
        Dialect::Sqlite => "seq",
        Dialect::Postgres => "CAST(CAST(tx_id AS TEXT) AS BIGINT)",
    }
}

/// Whether a row that arrived at `arrival` is within `mark`.
fn within(tx: &mut dyn Tx, arrival: i64, mark: i64) -> bool {
    match tx.dialect() {
        Dialect::Sqlite => arrival <= mark,
        Dialect::Postgres => arrival < mark,
    }
}

/// Changes that are not arrivals (erasure, cancelled orders) change this token: a snapshot read under
/// another token is read again whole.
pub(crate) fn generation(tx: &mut dyn Tx) -> Result<String> {
    Ok(tx
        .query_opt("SELECT value FROM meta WHERE key = ?", params![GENERATION_KEY])?
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_default())
}

/// Marks a change that is not an arrival (in the caller's transaction).
pub(crate) fn bump_generation(tx: &mut dyn Tx) -> Result<()> {
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![GENERATION_KEY, domain::ids::new_id("gen")],
    )?;
    Ok(())
}

/// A mark as a parameter: PostgreSQL compares transaction ids, which it reads from text.
fn mark_param(tx: &mut dyn Tx, mark: i64) -> store::Val {
    match tx.dialect() {
        Dialect::Sqlite => mark.into(),
        Dialect::Postgres => mark.to_string().into(),
    }
}

fn event(r: &store::Row) -> Result<insight::Event> {
    Ok(insight::Event {
        id: r.text(0)?,
        kind: insight::Kind::parse(&r.text(1)?),
        at_ms: r.i64(2)?,
        shopper: r.opt_text(3)?,
        customer: r.opt_text(4)?,
        location: r.opt_text(5)?,
        channel: r.opt_text(6)?,
        device: r.opt_text(7)?,
        product: r.opt_text(8)?,
        sku: r.opt_text(9)?,
        category: r.opt_text(10)?,
        zone: r.opt_text(11)?,
        visit: r.opt_text(12)?,
        order: r.opt_text(13)?,
        dwell_ms: r.i64(14)?,
        qty: r.i64(15)?,
        amount_minor: r.i64(16)?,
        currency: r.opt_text(17)?,
    })
}

/// The analytics events of the retention window that arrived up to `mark`, as the columnar table, read
/// page by page in time order along the index of `(at, id)` (rows past the mark are skipped here: a
/// condition on arrival in the query would tempt the planner to scan by arrival and sort every row).
pub(crate) fn table(tx: &mut dyn Tx, since: i64, mark: i64) -> Result<Table> {
    let arrived = arrival(tx);
    let mut t = Table::default();
    let n = tx.query_one("SELECT COUNT(*) FROM insight_events WHERE at >= ?", params![since])?.i64(0)?;
    t.reserve(n.max(0) as usize);
    let (mut at, mut id) = (since, String::new());
    loop {
        let rows = tx.query(
            &format!(
                "SELECT {COLS}, {arrived} FROM insight_events WHERE at >= ? AND (at > ? OR id > ?) ORDER BY at, id LIMIT ?"
            ),
            params![at, at, &id, PAGE],
        )?;
        let mut last = None;
        for r in rows.iter() {
            last = Some(r);
            if !within(tx, r.i64(18)?, mark) {
                continue;
            }
            let e = event(r)?;
            if e.kind.is_some() {
                t.push_event(&e);
            }
        }
        if let Some(r) = last {
            (at, id) = (r.i64(2)?, r.text(0)?);
        }
        if (rows.len() as i64) < PAGE {
            t.shrink_to_fit();
            return Ok(t);
        }
    }
}

/// The events of the retention window that arrived after `from` up to `to` (marks), a page at a time
/// in order of arrival; `page` gets each page.
pub(crate) fn arrivals(
    tx: &mut dyn Tx,
    since: i64,
    from: i64,
    to: i64,
    mut page: impl FnMut(Vec<insight::Event>),
) -> Result<usize> {
    let range = match tx.dialect() {
        Dialect::Sqlite => "seq > ? AND seq <= ?",
        Dialect::Postgres => "tx_id >= CAST(CAST(? AS TEXT) AS xid8) AND tx_id < CAST(CAST(? AS TEXT) AS xid8)",
    };
    let (from, to) = (mark_param(tx, from), mark_param(tx, to));
    let (mut last, mut n) = (0i64, 0usize);
    loop {
        let rows = tx.query(
            &format!(
                "SELECT {COLS}, seq FROM insight_events WHERE {range} AND seq > ? AND at >= ? ORDER BY seq LIMIT ?"
            ),
            params![from.clone(), to.clone(), last, since, PAGE],
        )?;
        let mut evs = Vec::with_capacity(rows.len());
        for r in rows.iter() {
            evs.push(event(r)?);
            last = r.i64(18)?;
        }
        n += evs.len();
        let more = rows.len() as i64 == PAGE;
        page(evs);
        if !more {
            return Ok(n);
        }
    }
}

/// Segment profiles of the customers who agreed to be recognised (nobody else has one).
pub(crate) fn profiles(tx: &mut dyn Tx) -> Result<insight::Profiles> {
    let mut out = insight::Profiles::new();
    for r in tx.query("SELECT id, birth_year, home_location_id FROM customers WHERE analytics_consent = 1", &[])?.iter()
    {
        out.insert(
            r.text(0)?,
            insight::Profile {
                tiers: Vec::new(),
                birth_year: r.opt_i64(1)?.map(|y| y as i32),
                home_location: r.opt_text(2)?,
            },
        );
    }
    for r in
        tx.query("SELECT customer_id, from_at, tier FROM customer_tiers ORDER BY customer_id, from_at", &[])?.iter()
    {
        if let Some(p) = out.get_mut(&r.text(0)?) {
            p.tiers.push((r.i64(1)?, r.text(2)?));
        }
    }
    Ok(out)
}

/// The seller's own segments, in their order.
pub(crate) fn segments(tx: &mut dyn Tx) -> Result<Vec<insight::SegmentDef>> {
    let mut out = Vec::new();
    for r in tx.query("SELECT name, definition FROM analytics_segments ORDER BY position", &[])?.iter() {
        let def = serde_json::from_str(&r.text(1)?).map_err(|e| {
            crate::error::internal(format!(
                "analytics segment `{}` is stored unreadable: {e}",
                r.text(0).unwrap_or_default()
            ))
        })?;
        out.push(def);
    }
    Ok(out)
}

/// One facing of a cashierless store's layout, with its product.
pub(crate) struct Facing {
    pub(crate) location: String,
    pub(crate) key: String,
    pub(crate) facing: crate::instore::live::FacingIn,
    pub(crate) product: String,
    pub(crate) category: String,
    pub(crate) title_ko: String,
    pub(crate) title_en: String,
}

/// Every facing of every stored layout.
pub(crate) fn facings(tx: &mut dyn Tx) -> Result<Vec<Facing>> {
    let locations: Vec<String> = tx
        .query("SELECT location_id FROM store_layouts ORDER BY location_id", &[])?
        .iter()
        .map(|r| r.text(0))
        .collect::<std::result::Result<_, _>>()?;
    let mut out = Vec::new();
    for loc in locations {
        let Some(layout) = crate::instore::live::get_layout(tx, &loc)? else { continue };
        for f in layout.facings {
            let Some(r) = tx.query_opt(
                "SELECT p.id, p.category, p.title_ko, p.title_en FROM variants v JOIN products p ON p.id = v.product_id WHERE v.sku = ?",
                params![&f.sku],
            )?
            else {
                continue;
            };
            let plates: Vec<String> = f.plates.iter().map(|p| p.to_string()).collect();
            out.push(Facing {
                location: loc.clone(),
                key: format!("facing:{}-{}-{}:{}", f.gondola, f.shelf, plates.join("_"), f.sku),
                product: r.text(0)?,
                category: r.text(1)?,
                title_ko: r.text(2)?,
                title_en: r.text(3)?,
                facing: f,
            });
        }
    }
    Ok(out)
}

/// The retailer's UTC offset now, from the time zone most of its locations keep (Seoul when none).
pub(crate) fn utc_offset_min(tx: &mut dyn Tx, now: i64) -> Result<i32> {
    let tz = tx
        .query_opt("SELECT time_zone FROM locations GROUP BY time_zone ORDER BY COUNT(*) DESC, time_zone LIMIT 1", &[])?
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_else(|| "Asia/Seoul".into());
    let zone = jiff::tz::TimeZone::get(&tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let ts = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Ok(zone.to_offset(ts).seconds() / 60)
}
