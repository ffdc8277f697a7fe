//! Turning the event feed into analytics events, each counted once: the batch is read on a reader, then
//! written with the cursor moved in the same transaction unless another worker or node moved it first;
//! every analytics event's id is derived from what happened, so a happening seen twice is one row.

use super::*;

/// One batch read from the feed, ready to write.
pub(crate) struct Batch {
    pub(crate) from: events::Cursor,
    pub(crate) next: events::Cursor,
    /// Feed events looked at.
    pub(crate) seen: usize,
    pub(crate) rows: Vec<insight::Event>,
    /// Orders cancelled or expired: nothing of them was bought.
    pub(crate) void_orders: Vec<String>,
    /// (sku, location, out since) after the batch: `None` where stock came back.
    pub(crate) stock: Vec<(String, String, Option<i64>)>,
}

/// Who a shopper is to analytics: the customer when they agreed to be recognised across channels,
/// otherwise a key that lives only as long as the visit or the order.
fn shopper(customer: Option<&str>, consent: bool, fallback: String) -> (Option<String>, Option<String>) {
    match customer {
        Some(c) if consent => (Some(c.to_owned()), Some(c.to_owned())),
        _ => (Some(fallback), None),
    }
}

fn channel(channel: &str, fulfillment: &str) -> String {
    if channel == "web" && fulfillment == "pickup" {
        "click_collect".into()
    } else {
        channel.to_owned()
    }
}

struct Reader<'a> {
    tx: &'a mut dyn Tx,
    consent: HashMap<String, bool>,
    visits: HashMap<String, Option<(String, String)>>,
    skus: HashMap<String, (Option<String>, Option<String>)>,
}

impl Reader<'_> {
    fn consents(&mut self, customer: &str) -> Result<bool> {
        if let Some(&c) = self.consent.get(customer) {
            return Ok(c);
        }
        let c = self
            .tx
            .query_opt("SELECT analytics_consent FROM customers WHERE id = ?", params![customer])?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(0)
            == 1;
        self.consent.insert(customer.to_owned(), c);
        Ok(c)
    }

    /// (location, customer) of a cashierless visit.
    fn visit(&mut self, session: &str) -> Result<Option<(String, String)>> {
        if let Some(v) = self.visits.get(session) {
            return Ok(v.clone());
        }
        let v = self
            .tx
            .query_opt("SELECT location_id, customer_id FROM cashierless_sessions WHERE id = ?", params![session])?
            .map(|r| Ok::<_, EngineError>((r.text(0)?, r.text(1)?)))
            .transpose()?;
        self.visits.insert(session.to_owned(), v.clone());
        Ok(v)
    }

    /// (product, category) of a SKU.
    fn sku(&mut self, sku: &str) -> Result<(Option<String>, Option<String>)> {
        if let Some(v) = self.skus.get(sku) {
            return Ok(v.clone());
        }
        let v = self
            .tx
            .query_opt(
                "SELECT v.product_id, p.category FROM variants v JOIN products p ON p.id = v.product_id WHERE v.sku = ?",
                params![sku],
            )?
            .map(|r| Ok::<_, EngineError>((Some(r.text(0)?), Some(r.text(1)?))))
            .transpose()?
            .unwrap_or((None, None));
        self.skus.insert(sku.to_owned(), v.clone());
        Ok(v)
    }

    fn order_lines(&mut self, order: &str, rows: &mut Vec<insight::Event>) -> Result<()> {
        let lines = self.tx.query(
            "SELECT o.channel, o.fulfillment_type, o.customer_id, o.currency, o.placed_at, COALESCE(l.location_id, o.location_id), \
             l.line_no, l.sku, l.quantity, l.unit_price_minor, (SELECT s.id FROM cashierless_sessions s WHERE s.order_id = o.id) \
             FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.id = ? ORDER BY l.line_no",
            params![order],
        )?;
        for r in lines.iter() {
            let (ch, ful, customer) = (r.text(0)?, r.text(1)?, r.opt_text(2)?);
            let visit = r.opt_text(10)?;
            let consent = match &customer {
                Some(c) => self.consents(c)?,
                None => false,
            };
            let fallback = match &visit {
                Some(v) => format!("v:{v}"),
                None => format!("o:{order}"),
            };
            let (shopper, customer) = shopper(customer.as_deref(), consent, fallback);
            let sku = r.text(7)?;
            let (product, category) = self.sku(&sku)?;
            let qty = r.i64(8)?;
            rows.push(insight::Event {
                id: format!("purchase:{order}:{}", r.i64(6)?),
                kind: Some(insight::Kind::Purchase),
                at_ms: r.i64(4)?,
                shopper,
                customer,
                location: r.opt_text(5)?,
                channel: Some(channel(&ch, &ful)),
                product,
                sku: Some(sku),
                category,
                visit,
                order: Some(order.to_owned()),
                qty,
                amount_minor: qty * r.i64(9)?,
                currency: Some(r.text(3)?),
                ..Default::default()
            });
        }
        Ok(())
    }

    fn return_lines(&mut self, ret: &str, rows: &mut Vec<insight::Event>) -> Result<()> {
        let lines = self.tx.query(
            "SELECT r.location_id, r.created_at, rl.line_no, rl.sku, rl.quantity, o.id, o.channel, o.fulfillment_type, o.customer_id, o.currency, \
             (SELECT MAX(l.unit_price_minor) FROM order_lines l WHERE l.order_id = o.id AND l.sku = rl.sku) \
             FROM returns r JOIN return_lines rl ON rl.return_id = r.id JOIN orders o ON o.id = r.order_id WHERE r.id = ? ORDER BY rl.line_no",
            params![ret],
        )?;
        for r in lines.iter() {
            let (order, customer) = (r.text(5)?, r.opt_text(8)?);
            let consent = match &customer {
                Some(c) => self.consents(c)?,
                None => false,
            };
            let (shopper, customer) = shopper(customer.as_deref(), consent, format!("o:{order}"));
            let sku = r.text(3)?;
            let (product, category) = self.sku(&sku)?;
            let qty = r.i64(4)?;
            rows.push(insight::Event {
                id: format!("return:{ret}:{}", r.i64(2)?),
                kind: Some(insight::Kind::Return),
                at_ms: r.i64(1)?,
                shopper,
                customer,
                location: Some(r.text(0)?),
                channel: Some(channel(&r.text(6)?, &r.text(7)?)),
                product,
                sku: Some(sku),
                category,
                order: Some(order),
                qty,
                amount_minor: qty * r.opt_i64(10)?.unwrap_or(0),
                currency: Some(r.text(9)?),
                ..Default::default()
            });
        }
        Ok(())
    }

    /// A floor event (dwell, pick, put-back) of a tracked shopper in a visit.
    fn floor(&mut self, e: &events::EventView, kind: insight::Kind) -> Result<Option<insight::Event>> {
        let d = &e.data;
        let s = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(visit), Some(location)) = (s("session_id"), s("location_id")) else { return Ok(None) };
        let at = s("at").and_then(|a| a.parse::<jiff::Timestamp>().ok()).map(|t| t.as_millisecond()).unwrap_or(e.at_ms);
        let customer = self.visit(&visit)?.map(|(_, c)| c);
        let consent = match &customer {
            Some(c) => self.consents(c)?,
            None => false,
        };
        let (shopper, customer) = shopper(customer.as_deref(), consent, format!("v:{visit}"));
        let track = s("track_id").unwrap_or_default();
        let mut ev = insight::Event {
            kind: Some(kind),
            shopper,
            customer,
            location: Some(location),
            visit: Some(visit.clone()),
            ..Default::default()
        };
        if kind == insight::Kind::Dwell {
            let zone = s("zone").unwrap_or_default();
            let dwell = d.get("dwell_ms").and_then(|v| v.as_i64()).unwrap_or(0);
            // A dwell is kept at the moment it began.
            ev.at_ms = at - dwell;
            ev.dwell_ms = dwell;
            ev.id = format!("dwell:{visit}:{track}:{zone}:{at}");
            if let Some(sku) = zone.strip_prefix("facing:").and_then(|r| r.split(':').nth(1)) {
                (ev.product, ev.category) = self.sku(sku)?;
                ev.sku = Some(sku.to_owned());
            }
            ev.zone = Some(zone);
        } else {
            let sku = s("sku").unwrap_or_default();
            (ev.product, ev.category) = self.sku(&sku)?;
            ev.at_ms = at;
            ev.qty = d.get("quantity").and_then(|v| v.as_i64()).unwrap_or(1);
            ev.id = format!("{}:{visit}:{track}:{sku}:{at}:{}", kind.as_str(), e.id);
            ev.sku = Some(sku);
        }
        Ok(Some(ev))
    }
}

/// Reads the next events of the feed and what they mean to analytics (on a reader).
pub(crate) fn ingest_read(tx: &mut dyn Tx, limit: usize) -> Result<Batch> {
    let from = events::stored_cursor(tx, CURSOR_KEY)?;
    let (evs, next) = events::feed(tx, from, limit, None)?;
    let mut rd = Reader { tx, consent: HashMap::new(), visits: HashMap::new(), skus: HashMap::new() };
    let mut rows = Vec::new();
    let mut void_orders = Vec::new();
    let mut stock: HashMap<(String, String), Option<i64>> = HashMap::new();
    for e in &evs {
        let d = &e.data;
        let s = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        match e.kind.as_str() {
            "order.placed" => rd.order_lines(&e.aggregate_id, &mut rows)?,
            "order.cancelled" | "order.expired" => {
                rows.retain(|r| {
                    r.order.as_deref() != Some(e.aggregate_id.as_str()) || r.kind != Some(insight::Kind::Purchase)
                });
                void_orders.push(e.aggregate_id.clone());
            }
            "order.picked_up" => {
                let r = rd
                    .tx
                    .query_opt("SELECT customer_id, location_id FROM orders WHERE id = ?", params![&e.aggregate_id])?;
                if let Some(r) = r {
                    let customer = r.opt_text(0)?;
                    let consent = match &customer {
                        Some(c) => rd.consents(c)?,
                        None => false,
                    };
                    let (shopper, customer) = shopper(customer.as_deref(), consent, format!("o:{}", e.aggregate_id));
                    rows.push(insight::Event {
                        id: format!("pickup:{}", e.aggregate_id),
                        kind: Some(insight::Kind::Pickup),
                        at_ms: e.at_ms,
                        shopper,
                        customer,
                        location: r.opt_text(1)?,
                        channel: Some("click_collect".into()),
                        order: Some(e.aggregate_id.clone()),
                        ..Default::default()
                    });
                }
            }
            "return.created" => rd.return_lines(&e.aggregate_id, &mut rows)?,
            "cashierless.entered" | "cashierless.exited" | "cashierless.expired" => {
                let session = e.aggregate_id.clone();
                let Some((location, customer)) = rd.visit(&session)? else { continue };
                let consent = rd.consents(&customer)?;
                let (shopper, customer) = shopper(Some(&customer), consent, format!("v:{session}"));
                let (kind, tag) = if e.kind == "cashierless.entered" {
                    (insight::Kind::Entry, "entry")
                } else {
                    (insight::Kind::Exit, "exit")
                };
                rows.push(insight::Event {
                    id: format!("{tag}:{session}"),
                    kind: Some(kind),
                    at_ms: e.at_ms,
                    shopper,
                    customer,
                    location: Some(location),
                    channel: Some("cashierless".into()),
                    visit: Some(session),
                    ..Default::default()
                });
            }
            "instore.zone_exited" => rows.extend(rd.floor(e, insight::Kind::Dwell)?),
            "instore.picked" => rows.extend(rd.floor(e, insight::Kind::Pick)?),
            "instore.put_back" => rows.extend(rd.floor(e, insight::Kind::PutBack)?),
            "inventory.changed" => {
                let (Some(sku), Some(location)) = (s("sku"), s("location_id")) else { continue };
                let Some(available) = d.get("level").and_then(|l| l.get("available")).and_then(|v| v.as_i64()) else {
                    continue;
                };
                let key = (sku.clone(), location.clone());
                let was_out = match stock.get(&key) {
                    Some(v) => *v,
                    None => rd
                        .tx
                        .query_opt(
                            "SELECT since FROM insight_stock_out WHERE sku = ? AND location_id = ?",
                            params![&sku, &location],
                        )?
                        .map(|r| r.i64(0))
                        .transpose()?,
                };
                let kind = match (was_out.is_some(), available <= 0) {
                    (false, true) => insight::Kind::StockOut,
                    (true, false) => insight::Kind::StockBack,
                    _ => continue,
                };
                stock.insert(key, (kind == insight::Kind::StockOut).then_some(e.at_ms));
                rows.push(insight::Event {
                    id: format!("{}:{}", kind.as_str(), e.id),
                    kind: Some(kind),
                    at_ms: e.at_ms,
                    location: Some(location),
                    sku: Some(sku),
                    ..Default::default()
                });
            }
            _ => {}
        }
    }
    Ok(Batch {
        from,
        next,
        seen: evs.len(),
        rows,
        void_orders,
        stock: stock.into_iter().map(|((s, l), v)| (s, l, v)).collect(),
    })
}

const COLUMNS: &str = "id, kind, at, shopper, customer_id, location_id, channel, device, product_id, sku, category, zone, visit, order_id, dwell_ms, quantity, amount_minor, currency";

fn values(e: &::insight::Event) -> Vec<store::Val> {
    let kind = e.kind.map(|k| k.as_str()).unwrap_or("view");
    params![
        &e.id,
        kind,
        e.at_ms,
        e.shopper.as_deref(),
        e.customer.as_deref(),
        e.location.as_deref(),
        e.channel.as_deref(),
        e.device.as_deref(),
        e.product.as_deref(),
        e.sku.as_deref(),
        e.category.as_deref(),
        e.zone.as_deref(),
        e.visit.as_deref(),
        e.order.as_deref(),
        e.dwell_ms,
        e.qty,
        e.amount_minor,
        e.currency.as_deref()
    ]
    .to_vec()
}

/// Analytics events as the parameters of their insert statements (18 per row), made ready before the
/// writer needs them.
pub(crate) struct Rows {
    params: Vec<store::Val>,
}

impl Rows {
    pub(crate) fn new(evs: &[::insight::Event]) -> Rows {
        Rows { params: evs.iter().flat_map(values).collect() }
    }
}

/// Writes prepared rows, one statement each, skipping events already there (the same id at the same
/// moment); returns how many were new. (A statement of many rows opens a statement journal, which copies
/// every page it first touches: measured, the larger cost of bulk inserts into this indexed table.)
pub(crate) fn insert_rows(tx: &mut dyn Tx, rows: &Rows) -> Result<usize> {
    let sql = format!(
        "INSERT INTO insight_events ({COLUMNS}) VALUES ({}) ON CONFLICT (at, id) DO NOTHING",
        vec!["?"; 18].join(", ")
    );
    let mut new = 0;
    for ps in rows.params.chunks(18) {
        new += tx.exec(&sql, ps)? as usize;
    }
    Ok(new)
}

/// Writes analytics events, skipping ids already there; returns how many were new.
pub(crate) fn insert_many(tx: &mut dyn Tx, evs: &[::insight::Event]) -> Result<usize> {
    insert_rows(tx, &Rows::new(evs))
}

/// Writes one analytics event unless its id is there already; returns whether it was new.
pub(crate) fn insert(tx: &mut dyn Tx, e: &insight::Event) -> Result<bool> {
    Ok(insert_many(tx, std::slice::from_ref(e))? > 0)
}

/// Deletes the purchase events of an order that was cancelled or expired: they were written at the
/// moment it was placed (the index by day and order finds them).
fn void_purchases(tx: &mut dyn Tx, order: &str) -> Result<u64> {
    let placed =
        tx.query_opt("SELECT placed_at FROM orders WHERE id = ?", params![order])?.map(|r| r.i64(0)).transpose()?;
    Ok(match placed {
        Some(at) => tx.exec(
            &format!("DELETE FROM insight_events WHERE {DAY} = ? AND order_id = ? AND kind = 'purchase'"),
            params![at / DAY_MS, order],
        )?,
        // Not an order of this shop's: nothing of it was recorded from the feed.
        None => 0,
    })
}

/// Writes a batch read by [`ingest_read`] and moves the cursor in one transaction, unless the cursor moved
/// since (another worker or node wrote it): then nothing is written and the caller reads again. Returns
/// the feed events consumed.
pub(crate) fn ingest_write(tx: &mut dyn Tx, b: &Batch) -> Result<Option<usize>> {
    if !events::cursor_still_at(tx, CURSOR_KEY, b.from)? {
        return Ok(None);
    }
    insert_many(tx, &b.rows)?;
    let mut voided = 0;
    for o in &b.void_orders {
        voided += void_purchases(tx, o)?;
    }
    if voided > 0 {
        load::bump_generation(tx)?;
    }
    for (sku, loc, since) in &b.stock {
        match since {
            Some(t) => tx.exec(
                "INSERT INTO insight_stock_out (sku, location_id, since) VALUES (?, ?, ?) ON CONFLICT (sku, location_id) DO UPDATE SET since = excluded.since",
                params![sku, loc, *t],
            )?,
            None => tx.exec("DELETE FROM insight_stock_out WHERE sku = ? AND location_id = ?", params![sku, loc])?,
        };
    }
    if b.next != b.from {
        events::store_cursor(tx, CURSOR_KEY, b.next)?;
    }
    Ok(Some(b.seen))
}
