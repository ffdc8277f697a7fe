//! Where an order's stock is reserved: delivery routing (warehouses first, then the location with the most available) and settling an order's reservations.

use super::*;

pub(crate) struct Placed {
    pub(crate) line_no: i64,
    pub(crate) sku: String,
    pub(crate) title_ko: String,
    pub(crate) title_en: String,
    pub(crate) options: std::collections::BTreeMap<String, String>,
    pub(crate) quantity: i64,
    pub(crate) unit_price_minor: i64,
    pub(crate) location_id: String,
    pub(crate) routing: Option<String>,
}

/// Chooses where a delivery line ships from and reserves it there: warehouses first, then the location
/// with the most available. Tries the next candidate if a concurrent checkout took the last units.
/// Returns the location and a sentence explaining the choice, kept on the order line.
pub(crate) fn reserve_for_delivery(
    tx: &mut dyn Tx,
    sku: &str,
    q: i64,
    order_id: &str,
    now: i64,
) -> Result<(String, String)> {
    let candidates = tx.query(
        "SELECT l.id, l.code, l.kind, s.on_hand - s.reserved - s.safety_stock FROM locations l JOIN stock_levels s ON s.location_id = l.id AND s.sku = ? \
         WHERE l.ships = 1 AND s.on_hand - s.reserved - s.safety_stock >= ? \
         ORDER BY CASE WHEN l.kind = 'warehouse' THEN 0 ELSE 1 END, s.on_hand - s.reserved - s.safety_stock DESC, l.code LIMIT 8",
        params![sku, q],
    )?;
    let mut passed = Vec::new();
    for c in &candidates {
        let (loc, code, kind, available) = (c.text(0)?, c.text(1)?, c.text(2)?, c.i64(3)?);
        match reserve(tx, sku, &loc, q, order_id, None, now) {
            Ok(()) => {
                let mut why = if kind == "warehouse" {
                    format!("{code}: warehouse with {available} available; warehouses ship first")
                } else {
                    format!("{code}: ship-from-store with {available} available; no warehouse had {q} available")
                };
                if !passed.is_empty() {
                    why.push_str(&format!(" ({} sold out meanwhile)", passed.join(", ")));
                }
                return Ok((loc, why));
            }
            Err(EngineError::OutOfStock { .. }) => passed.push(code),
            Err(e) => return Err(e),
        }
    }
    // Name the shipping location that came closest, so the shopper and staff see a real place and number.
    let best = tx.query_opt(
        "SELECT l.id, CAST(COALESCE(s.on_hand - s.reserved - s.safety_stock, 0) AS BIGINT) AS avail FROM locations l \
         LEFT JOIN stock_levels s ON s.location_id = l.id AND s.sku = ? WHERE l.ships = 1 \
         ORDER BY avail DESC, CASE WHEN l.kind = 'warehouse' THEN 0 ELSE 1 END, l.code LIMIT 1",
        params![sku],
    )?;
    let Some(best) = best else {
        return Err(EngineError::conflict(
            "no_shipping_location",
            "no location ships orders; choose pickup at a store, or let a warehouse or store ship",
        ));
    };
    Err(EngineError::OutOfStock {
        sku: sku.to_owned(),
        location_id: best.text(0)?,
        available: best.i64(1)?.max(0),
        requested: q,
    })
}

pub(crate) fn reserve(
    tx: &mut dyn Tx,
    sku: &str,
    loc: &str,
    q: i64,
    order_id: &str,
    expires_at: Option<i64>,
    now: i64,
) -> Result<()> {
    // The reservation row first: it takes no lock that other checkouts wait for; the guarded balance
    // update (the hot row) comes last.
    let rid = ids::new_id("res");
    tx.exec(
        "INSERT INTO reservations (id, order_id, sku, location_id, quantity, status, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'held', ?, ?, ?)",
        params![&rid, order_id, sku, loc, q, expires_at, now, now],
    )?;
    let res = movements::post(
        tx,
        &Movement {
            sku,
            location_id: loc,
            kind: MovementKind::Reservation,
            on_hand: 0,
            reserved: q,
            unsellable: 0,
            reason: "order placed",
            source_type: "order",
            source_id: order_id,
        },
        Guard::Available(q),
        now,
    );
    if let Err(e @ EngineError::OutOfStock { .. }) = res {
        // Delivery routing goes on to the next location inside this transaction: take the row back.
        // (No SQL error happened — the guarded UPDATE matched no row — so the transaction is usable.)
        tx.exec("DELETE FROM reservations WHERE id = ?", params![rid])?;
        return Err(e);
    }
    res.map(|_| ())
}

/// Ends every held reservation of an order: `committed` turns it into a sale (stock leaves), `released` or
/// `expired` gives it back.
pub(crate) fn settle_reservations(tx: &mut dyn Tx, order_id: &str, to: &str, reason: &str, now: i64) -> Result<()> {
    let held = tx.query(
        "SELECT id, sku, location_id, quantity FROM reservations WHERE order_id = ? AND status = 'held' ORDER BY sku, location_id",
        params![order_id],
    )?;
    for r in held {
        let (rid, sku, loc, q) = (r.text(0)?, r.text(1)?, r.text(2)?, r.i64(3)?);
        let (kind, on_hand) = if to == "committed" { (MovementKind::Sale, -q) } else { (MovementKind::Release, 0) };
        movements::post(
            tx,
            &Movement {
                sku: &sku,
                location_id: &loc,
                kind,
                on_hand,
                reserved: -q,
                unsellable: 0,
                reason,
                source_type: "order",
                source_id: order_id,
            },
            Guard::None,
            now,
        )?;
        let n = tx.exec(
            "UPDATE reservations SET status = ?, updated_at = ? WHERE id = ? AND status = 'held'",
            params![to, now, &rid],
        )?;
        if n != 1 {
            return Err(EngineError::conflict(
                "reservation_changed",
                format!("reservation {rid} changed concurrently"),
            ));
        }
    }
    Ok(())
}
