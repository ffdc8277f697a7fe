//! What the console's Today screen and pickup desk read: sales by hour and channel, the pickup queue, and
//! the day's counts (cashierless visits, failed webhook deliveries). Reads only.

use super::orders::{self, OrderView};
use crate::{Engine, Result};
use serde::Serialize;
use store::{params, Val};

/// A pickup order waiting to be prepared longer than this is overdue ("오늘 픽업" means within hours).
pub const PREP_SLA_MS: i64 = 2 * 3600 * 1000;
/// Most orders the pickup queue shows at once.
pub const MAX_QUEUE: usize = 500;

/// Sales in one hour on one channel.
#[derive(Debug, Clone, Serialize)]
pub struct HourSales {
    /// The hour's start (ms since the epoch, UTC).
    pub hour_start: i64,
    pub channel: String,
    pub currency: String,
    pub orders: i64,
    pub total_minor: i64,
}

/// The day's counters for the Today screen.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DayCounts {
    pub cashierless_inside: i64,
    pub cashierless_visits: i64,
    pub failed_deliveries: i64,
}

impl Engine {
    /// Orders placed in `[from, to)` that were not cancelled or expired, by hour and channel.
    pub async fn sales_by_hour(&self, from: i64, to: i64, location_id: Option<String>) -> Result<Vec<HourSales>> {
        self.db
            .read(move |tx| {
                let mut sql = String::from(
                    "SELECT (placed_at / 3600000) * 3600000 AS h, channel, currency, COUNT(*), SUM(total_minor) FROM orders \
                     WHERE placed_at >= ? AND placed_at < ? AND status NOT IN ('cancelled', 'expired')",
                );
                let mut ps: Vec<Val> = vec![from.into(), to.into()];
                if let Some(l) = &location_id {
                    sql.push_str(" AND location_id = ?");
                    ps.push(l.into());
                }
                sql.push_str(" GROUP BY h, channel, currency ORDER BY h, channel");
                tx.query(&sql, &ps)?
                    .iter()
                    .map(|r| {
                        Ok(HourSales {
                            hour_start: r.i64(0)?,
                            channel: r.text(1)?,
                            currency: r.text(2)?,
                            orders: r.i64(3)?,
                            total_minor: r.i64(4)?,
                        })
                    })
                    .collect()
            })
            .await
    }

    /// Pickup orders not yet collected (placed or ready), oldest first, at one location or all.
    pub async fn pickup_queue(&self, location_id: Option<String>) -> Result<Vec<OrderView>> {
        self.db
            .read(move |tx| {
                let mut q = orders::OrderQuery { limit: MAX_QUEUE, ..Default::default() };
                q.location_id = location_id.clone();
                orders::pickup_queue(tx, &q)
            })
            .await
    }

    /// Cashierless shoppers inside now and visits since `since`; webhook deliveries that failed since.
    pub async fn day_counts(&self, since: i64, location_id: Option<String>) -> Result<DayCounts> {
        self.db
            .read(move |tx| {
                let loc = location_id.as_deref();
                let one = |tx: &mut dyn store::Tx, sql: &str, ps: &[Val]| -> Result<i64> {
                    Ok(tx.query_one(sql, ps)?.i64(0)?)
                };
                let (inside, visits) = match loc {
                    Some(l) => (
                        one(
                            tx,
                            "SELECT COUNT(*) FROM cashierless_sessions WHERE status = 'open' AND location_id = ?",
                            params![l],
                        )?,
                        one(
                            tx,
                            "SELECT COUNT(*) FROM cashierless_sessions WHERE entered_at >= ? AND location_id = ?",
                            params![since, l],
                        )?,
                    ),
                    None => (
                        one(tx, "SELECT COUNT(*) FROM cashierless_sessions WHERE status = 'open'", &[])?,
                        one(tx, "SELECT COUNT(*) FROM cashierless_sessions WHERE entered_at >= ?", params![since])?,
                    ),
                };
                let failed = one(
                    tx,
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed' AND updated_at >= ?",
                    params![since],
                )?;
                Ok(DayCounts { cashierless_inside: inside, cashierless_visits: visits, failed_deliveries: failed })
            })
            .await
    }
}

/// One money movement about an order (its payment hold, capture, release or refund).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    pub transfer_id: String,
    /// `single`, `pending` (a hold), `post_pending` (captured), `void_pending` (released), `expire_pending`.
    pub kind: String,
    pub debit: String,
    pub credit: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: String,
    pub at: i64,
}

/// Everything that happened to an order: its events, who did what (the audit log) and its money.
#[derive(Debug, Clone, Serialize)]
pub struct OrderTrail {
    pub events: Vec<crate::platform::events::EventView>,
    pub audit: Vec<crate::platform::audit::AuditEntry>,
    pub ledger: Vec<LedgerEntry>,
}

/// Most entries of each kind an order trail shows.
const MAX_TRAIL: i64 = 200;

impl Engine {
    /// An order's trail, oldest first. Returns and refunds of the order are included.
    pub async fn order_trail(&self, order_id: &str) -> Result<OrderTrail> {
        let id = order_id.to_owned();
        self.db
            .read(move |tx| {
                orders::get(tx, &id, false)?;
                let events = tx
                    .query(
                        "SELECT seq, id, type, aggregate_id, payload, created_at FROM events WHERE aggregate_id = ? \
                         OR aggregate_id IN (SELECT id FROM returns WHERE order_id = ?) ORDER BY seq LIMIT ?",
                        params![&id, &id, MAX_TRAIL],
                    )?
                    .iter()
                    .map(|r| {
                        Ok(crate::platform::events::EventView {
                            cursor: String::new(),
                            seq: r.i64(0)?,
                            id: r.text(1)?,
                            kind: r.text(2)?,
                            aggregate_id: r.text(3)?,
                            data: serde_json::from_str(&r.text(4)?).unwrap_or(serde_json::Value::Null),
                            created_at: domain::time::rfc3339(r.i64(5)?),
                            at_ms: r.i64(5)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let audit = crate::platform::audit::list(tx, Some(&id), None, None, MAX_TRAIL as usize)?;
                let ledger = tx
                    .query(
                        "SELECT t.id, t.kind, d.code, c.code, t.amount, t.currency, t.reason, t.created_at FROM ledger_transfers t \
                         JOIN ledger_accounts d ON d.id = t.debit_account_id JOIN ledger_accounts c ON c.id = t.credit_account_id \
                         WHERE t.ref_id = ? OR t.ref_id IN (SELECT id FROM returns WHERE order_id = ?) ORDER BY t.seq LIMIT ?",
                        params![&id, &id, MAX_TRAIL],
                    )?
                    .iter()
                    .map(|r| {
                        Ok(LedgerEntry {
                            transfer_id: r.text(0)?,
                            kind: r.text(1)?,
                            debit: r.text(2)?,
                            credit: r.text(3)?,
                            amount_minor: r.i64(4)?,
                            currency: r.text(5)?,
                            reason: r.text(6)?,
                            at: r.i64(7)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(OrderTrail { events, audit: audit.into_iter().rev().collect(), ledger })
            })
            .await
    }
}
