//! The stock ledger. Every change to a (SKU, location) balance is an append-only movement; the running
//! balance (`on_hand`, `reserved`, `safety_stock`, `unsellable`) sits beside it for O(1) reads.
//!
//! Architecture invariant: the availability check and the reservation are one conditional UPDATE here
//! (`… WHERE on_hand - reserved - safety_stock >= q`), never a read-then-write in a caller. That single
//! statement is what makes overselling impossible on both backends and across server processes: PostgreSQL
//! re-evaluates the condition on the latest row version after a concurrent update, and SQLite has one
//! writer. The table's CHECK constraint (`on_hand >= reserved`, no negatives) is the second line of defence.

use crate::error::{bad, EngineError, Result};
use crate::platform::events;
use domain::MovementKind;
use serde::Serialize;
use store::{params, DbErrorKind, Tx};

/// A movement to post. Deltas are signed.
pub(crate) struct Movement<'a> {
    pub sku: &'a str,
    pub location_id: &'a str,
    pub kind: MovementKind,
    pub on_hand: i64,
    pub reserved: i64,
    pub unsellable: i64,
    pub reason: &'a str,
    pub source_type: &'a str,
    pub source_id: &'a str,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
    pub safety_stock: i64,
    pub unsellable: i64,
    /// `on_hand − reserved − safety_stock`, floored at 0: what can still be promised.
    pub available: i64,
}

impl Level {
    pub(crate) fn new(on_hand: i64, reserved: i64, safety_stock: i64, unsellable: i64) -> Level {
        Level { on_hand, reserved, safety_stock, unsellable, available: (on_hand - reserved - safety_stock).max(0) }
    }
}

/// How a movement guards availability before it applies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Only the table's CHECK constraint (on_hand ≥ reserved ≥ 0).
    None,
    /// Needs `on_hand − reserved − safety_stock ≥ q` (promises to shoppers: reservations, transfers).
    Available(i64),
    /// Needs `on_hand − reserved ≥ q` (an item physically at a counter; safety stock is for online promises).
    Unreserved(i64),
}

fn ensure_row(tx: &mut dyn Tx, sku: &str, location_id: &str, now: i64) -> Result<()> {
    tx.exec(
        "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, safety_stock, unsellable, updated_at) \
         VALUES (?, ?, 0, 0, 0, 0, ?) ON CONFLICT (sku, location_id) DO NOTHING",
        params![sku, location_id, now],
    )
    .map_err(|e| {
        if e.kind == DbErrorKind::ConstraintViolation {
            EngineError::not_found("sku or location", format!("{sku} @ {location_id}"))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Posts one movement atomically: guarded balance update, ledger row, `inventory.changed` event.
pub(crate) fn post(tx: &mut dyn Tx, m: &Movement<'_>, guard: Guard, now: i64) -> Result<Level> {
    let (cond, need) = match guard {
        Guard::None => ("", 0),
        Guard::Available(q) => (" AND on_hand - reserved - safety_stock >= ?", q),
        Guard::Unreserved(q) => (" AND on_hand - reserved >= ?", q),
    };
    if guard == Guard::None {
        ensure_row(tx, m.sku, m.location_id, now)?;
    }
    let sql = format!(
        "UPDATE stock_levels SET on_hand = on_hand + ?, reserved = reserved + ?, unsellable = unsellable + ?, updated_at = ? \
         WHERE sku = ? AND location_id = ?{cond} RETURNING on_hand, reserved, safety_stock, unsellable"
    );
    let mut ps =
        vec![m.on_hand.into(), m.reserved.into(), m.unsellable.into(), now.into(), m.sku.into(), m.location_id.into()];
    if guard != Guard::None {
        ps.push(need.into());
    }
    let row = match tx.query_opt(&sql, &ps) {
        Ok(r) => r,
        // The CHECK constraint refused it. (No further reads here: PostgreSQL has aborted the transaction.)
        Err(e) if e.kind == DbErrorKind::ConstraintViolation => {
            return Err(EngineError::conflict(
                "insufficient_stock",
                format!(
                    "`{}` at `{}` cannot change by {} on hand and {} reserved: on hand would fall below zero or below the units reserved for orders",
                    m.sku, m.location_id, m.on_hand, m.reserved
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(row) = row else {
        let available = match (guard, level(tx, m.sku, m.location_id)?) {
            (_, None) => 0,
            (Guard::Unreserved(_), Some(l)) => l.on_hand - l.reserved,
            (_, Some(l)) => l.available,
        };
        return Err(EngineError::OutOfStock {
            sku: m.sku.to_owned(),
            location_id: m.location_id.to_owned(),
            available,
            requested: need,
        });
    };
    let lvl = Level::new(row.i64(0)?, row.i64(1)?, row.i64(2)?, row.i64(3)?);
    tx.exec(
        "INSERT INTO stock_movements (sku, location_id, kind, on_hand_delta, reserved_delta, unsellable_delta, reason, source_type, source_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![m.sku, m.location_id, m.kind.as_str(), m.on_hand, m.reserved, m.unsellable, m.reason, m.source_type, m.source_id, now],
    )?;
    events::emit(
        tx,
        "inventory.changed",
        m.sku,
        &serde_json::json!({
            "sku": m.sku, "location_id": m.location_id, "movement": m.kind.as_str(),
            "on_hand_delta": m.on_hand, "reserved_delta": m.reserved, "unsellable_delta": m.unsellable,
            "reason": m.reason, "source": {"type": m.source_type, "id": m.source_id}, "level": &lvl,
        }),
        now,
    )?;
    Ok(lvl)
}

pub(crate) fn level(tx: &mut dyn Tx, sku: &str, location_id: &str) -> Result<Option<Level>> {
    tx.query_opt(
        "SELECT on_hand, reserved, safety_stock, unsellable FROM stock_levels WHERE sku = ? AND location_id = ?",
        params![sku, location_id],
    )?
    .map(|r| -> Result<Level> { Ok(Level::new(r.i64(0)?, r.i64(1)?, r.i64(2)?, r.i64(3)?)) })
    .transpose()
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LocationLevel {
    pub location_id: String,
    pub location_code: String,
    pub location_name: crate::catalog::products::Localized,
    pub kind: String,
    pub pickup_enabled: bool,
    #[serde(flatten)]
    pub level: Level,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SkuLevels {
    pub sku: String,
    pub total_on_hand: i64,
    pub total_available: i64,
    pub locations: Vec<LocationLevel>,
}

/// Per-location balances of one SKU, every location listed (zeros where it never had stock).
pub(crate) fn sku_levels(tx: &mut dyn Tx, sku: &str) -> Result<SkuLevels> {
    if tx.query_opt("SELECT 1 FROM variants WHERE sku = ?", params![sku])?.is_none() {
        return Err(EngineError::not_found("sku", sku));
    }
    let rows = tx.query(
        "SELECT l.id, l.code, l.name_ko, l.name_en, l.kind, l.pickup_enabled, \
         COALESCE(s.on_hand, 0), COALESCE(s.reserved, 0), COALESCE(s.safety_stock, 0), COALESCE(s.unsellable, 0) \
         FROM locations l LEFT JOIN stock_levels s ON s.location_id = l.id AND s.sku = ? ORDER BY l.code",
        params![sku],
    )?;
    let mut out = SkuLevels { sku: sku.to_owned(), total_on_hand: 0, total_available: 0, locations: Vec::new() };
    for r in rows {
        let level = Level::new(r.i64(6)?, r.i64(7)?, r.i64(8)?, r.i64(9)?);
        out.total_on_hand += level.on_hand;
        out.total_available += level.available;
        out.locations.push(LocationLevel {
            location_id: r.text(0)?,
            location_code: r.text(1)?,
            location_name: crate::catalog::products::Localized { ko: r.text(2)?, en: r.text(3)? },
            kind: r.text(4)?,
            pickup_enabled: r.bool(5)?,
            level,
        });
    }
    Ok(out)
}

pub(crate) fn set_safety_stock(tx: &mut dyn Tx, sku: &str, location_id: &str, safety: i64, now: i64) -> Result<Level> {
    if !(0..=domain::stock::MAX_ADJUSTMENT_QTY).contains(&safety) {
        return Err(bad("`safety_stock` must be between 0 and 1,000,000"));
    }
    ensure_row(tx, sku, location_id, now)?;
    tx.exec(
        "UPDATE stock_levels SET safety_stock = ?, updated_at = ? WHERE sku = ? AND location_id = ?",
        params![safety, now, sku, location_id],
    )?;
    let lvl = level(tx, sku, location_id)?.ok_or_else(|| EngineError::not_found("stock level", sku))?;
    events::emit(
        tx,
        "inventory.changed",
        sku,
        &serde_json::json!({"sku": sku, "location_id": location_id, "movement": "safety_stock", "level": &lvl}),
        now,
    )?;
    Ok(lvl)
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Drift {
    pub sku: String,
    pub location_id: String,
    pub what: String,
    pub balance: i64,
    pub recomputed: i64,
}

/// Recomputes every balance from the ledger (and `reserved` from held reservations) and lists mismatches.
pub(crate) fn doctor(tx: &mut dyn Tx) -> Result<(usize, Vec<Drift>)> {
    let mut drift = Vec::new();
    let rows = tx.query(
        "SELECT s.sku, s.location_id, s.on_hand, s.reserved, s.unsellable, \
           COALESCE(m.oh, 0), COALESCE(m.rs, 0), COALESCE(m.us, 0), COALESCE(h.held, 0) \
         FROM stock_levels s \
         LEFT JOIN (SELECT sku, location_id, CAST(SUM(on_hand_delta) AS BIGINT) AS oh, CAST(SUM(reserved_delta) AS BIGINT) AS rs, \
                    CAST(SUM(unsellable_delta) AS BIGINT) AS us FROM stock_movements GROUP BY sku, location_id) m \
           ON m.sku = s.sku AND m.location_id = s.location_id \
         LEFT JOIN (SELECT sku, location_id, CAST(SUM(quantity) AS BIGINT) AS held FROM reservations WHERE status = 'held' GROUP BY sku, location_id) h \
           ON h.sku = s.sku AND h.location_id = s.location_id",
        &[],
    )?;
    let checked = rows.len();
    for r in &rows {
        let (sku, loc) = (r.text(0)?, r.text(1)?);
        for (what, bal, re) in [
            ("on_hand", r.i64(2)?, r.i64(5)?),
            ("reserved", r.i64(3)?, r.i64(6)?),
            ("unsellable", r.i64(4)?, r.i64(7)?),
            ("reserved_vs_held_reservations", r.i64(3)?, r.i64(8)?),
        ] {
            if bal != re {
                drift.push(Drift {
                    sku: sku.clone(),
                    location_id: loc.clone(),
                    what: what.into(),
                    balance: bal,
                    recomputed: re,
                });
            }
        }
    }
    // Movements for a (sku, location) that has no balance row at all.
    for r in tx.query(
        "SELECT m.sku, m.location_id, CAST(SUM(m.on_hand_delta) AS BIGINT) FROM stock_movements m \
         LEFT JOIN stock_levels s ON s.sku = m.sku AND s.location_id = m.location_id WHERE s.sku IS NULL GROUP BY m.sku, m.location_id",
        &[],
    )? {
        drift.push(Drift { sku: r.text(0)?, location_id: r.text(1)?, what: "missing_balance_row".into(), balance: 0, recomputed: r.i64(2)? });
    }
    Ok((checked, drift))
}

/// One row of the stock ledger as staff read it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MovementView {
    /// The ledger's own order (pages continue after it).
    pub seq: i64,
    pub sku: String,
    pub location_id: String,
    /// `receipt`, `adjustment`, `reservation`, `release`, `sale`, `return`, `transfer_out`, `transfer_in`, …
    pub kind: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub unsellable_delta: i64,
    pub reason: String,
    /// What caused it: an order, a return, a transfer, an adjustment or a receipt, by id.
    pub source_type: String,
    pub source_id: String,
    pub created_at: String,
}

/// A SKU's movements, newest first.
pub(crate) fn list(
    tx: &mut dyn Tx,
    sku: &str,
    location_id: Option<&str>,
    after: Option<i64>,
    limit: usize,
) -> Result<Vec<MovementView>> {
    let mut sql = "SELECT seq, sku, location_id, kind, on_hand_delta, reserved_delta, unsellable_delta, reason, \
                   source_type, source_id, created_at FROM stock_movements WHERE sku = ?"
        .to_owned();
    let mut ps: Vec<store::Val> = vec![sku.into()];
    if let Some(l) = location_id {
        sql.push_str(" AND location_id = ?");
        ps.push(l.into());
    }
    if let Some(a) = after {
        sql.push_str(" AND seq < ?");
        ps.push(a.into());
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    ps.push((limit as i64).into());
    tx.query(&sql, &ps)?
        .iter()
        .map(|r| {
            Ok(MovementView {
                seq: r.i64(0)?,
                sku: r.text(1)?,
                location_id: r.text(2)?,
                kind: r.text(3)?,
                on_hand_delta: r.i64(4)?,
                reserved_delta: r.i64(5)?,
                unsellable_delta: r.i64(6)?,
                reason: r.text(7)?,
                source_type: r.text(8)?,
                source_id: r.text(9)?,
                created_at: domain::time::rfc3339(r.i64(10)?),
            })
        })
        .collect()
}
