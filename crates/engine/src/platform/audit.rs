//! The audit log: who moved stock or money, written in the same transaction as the change itself, so that
//! it can neither be lost nor claim something that did not happen. Actors are API keys (`key_…`) and console
//! staff (`staff:stf_…`).

use crate::error::Result;
use crate::platform::auth::Principal;
use serde::Serialize;
use store::{params, Tx};

/// Records one staff action.
pub(crate) fn record(
    tx: &mut dyn Tx,
    actor: &Principal,
    action: &str,
    target: &str,
    location_id: Option<&str>,
    details: &serde_json::Value,
    now: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO audit_log (actor, action, target, location_id, details, at) VALUES (?, ?, ?, ?, ?, ?)",
        params![actor.key_id(), action, target, location_id, details.to_string(), now],
    )?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuditEntry {
    pub seq: i64,
    /// `key_…` (an API key) or `staff:stf_…` (a console account).
    pub actor: String,
    /// e.g. `stock.adjusted`, `wallet.topped_up`, `order.picked_up`.
    pub action: String,
    /// What it was done to (an order, a SKU, a customer, a gift card).
    pub target: String,
    pub location_id: Option<String>,
    pub details: serde_json::Value,
    pub at: String,
}

/// The newest entries (before `before`), optionally about one target or by one actor.
pub(crate) fn list(
    tx: &mut dyn Tx,
    target: Option<&str>,
    actor: Option<&str>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let mut sql = "SELECT seq, actor, action, target, location_id, details, at FROM audit_log WHERE 1 = 1".to_owned();
    let mut ps: Vec<store::Val> = Vec::new();
    if let Some(t) = target {
        sql.push_str(" AND target = ?");
        ps.push(t.into());
    }
    if let Some(a) = actor {
        sql.push_str(" AND actor = ?");
        ps.push(a.into());
    }
    if let Some(b) = before {
        sql.push_str(" AND seq < ?");
        ps.push(b.into());
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    ps.push((limit as i64).into());
    tx.query(&sql, &ps)?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                seq: r.i64(0)?,
                actor: r.text(1)?,
                action: r.text(2)?,
                target: r.text(3)?,
                location_id: r.opt_text(4)?,
                details: serde_json::from_str(&r.text(5)?).unwrap_or_default(),
                at: domain::time::rfc3339(r.i64(6)?),
            })
        })
        .collect()
}
