//! Electronic shelf labels: the catalog price each label should show, what each last confirmed, and zone events.

use super::*;

// ---------------- electronic shelf labels ----------------

/// A price to show on one label.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LabelCommand {
    pub store_code: String,
    pub device_code: String,
    pub sku: String,
    pub price_minor: i64,
    pub currency: String,
    pub title_ko: String,
    pub title_en: String,
}

/// A label with the catalog's price and what it last confirmed showing.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LabelView {
    pub device_id: String,
    pub code: String,
    pub sku: String,
    pub currency: String,
    pub catalog_price_minor: Option<i64>,
    pub shown_price_minor: Option<i64>,
    pub shown_at: Option<String>,
    /// The label shows something else than the catalog (or has not confirmed anything yet).
    pub stale: bool,
}

/// The currency shelf labels show.
pub const LABEL_CURRENCY: &str = "KRW";

/// Label commands for the given SKUs (every label in every store that shows one of them).
pub(crate) fn label_commands(tx: &mut dyn Tx, skus: Option<&[String]>) -> Result<Vec<LabelCommand>> {
    let base = "SELECT l.code, d.code, d.sku, p.amount_minor, pr.title_ko, pr.title_en FROM devices d \
                JOIN locations l ON l.id = d.location_id JOIN variants v ON v.sku = d.sku JOIN products pr ON pr.id = v.product_id \
                LEFT JOIN prices p ON p.sku = d.sku AND p.currency = ? WHERE d.kind = 'esl' AND d.revoked_at IS NULL";
    let rows = match skus {
        None => tx.query(base, params![LABEL_CURRENCY])?,
        Some(list) => {
            let mut all = Vec::new();
            for chunk in list.chunks(200) {
                let marks = vec!["?"; chunk.len()].join(", ");
                let mut ps: Vec<store::Val> = vec![LABEL_CURRENCY.into()];
                ps.extend(chunk.iter().map(|s| store::Val::from(s.clone())));
                all.extend(tx.query(&format!("{base} AND d.sku IN ({marks})"), &ps)?);
            }
            all
        }
    };
    rows.iter()
        .filter_map(|r| match r.opt_i64(3) {
            Ok(Some(price)) => Some((r, price)),
            _ => None,
        })
        .map(|(r, price_minor)| {
            Ok(LabelCommand {
                store_code: r.text(0)?,
                device_code: r.text(1)?,
                sku: r.text(2)?,
                price_minor,
                currency: LABEL_CURRENCY.into(),
                title_ko: r.text(4)?,
                title_en: r.text(5)?,
            })
        })
        .collect()
}

pub(crate) fn labels(tx: &mut dyn Tx, location_id: &str) -> Result<Vec<LabelView>> {
    let rows = tx.query(
        "SELECT d.id, d.code, d.sku, p.amount_minor, d.shown_price_minor, d.shown_currency, d.shown_at FROM devices d \
         LEFT JOIN prices p ON p.sku = d.sku AND p.currency = ? WHERE d.location_id = ? AND d.kind = 'esl' AND d.revoked_at IS NULL ORDER BY d.code",
        params![LABEL_CURRENCY, location_id],
    )?;
    rows.iter()
        .map(|r| {
            let (catalog, shown, cur) = (r.opt_i64(3)?, r.opt_i64(4)?, r.opt_text(5)?);
            Ok(LabelView {
                device_id: r.text(0)?,
                code: r.text(1)?,
                sku: r.opt_text(2)?.unwrap_or_default(),
                currency: LABEL_CURRENCY.into(),
                catalog_price_minor: catalog,
                shown_price_minor: shown,
                shown_at: r.opt_i64(6)?.map(domain::time::rfc3339),
                stale: catalog.is_none() || shown != catalog || cur.as_deref() != Some(LABEL_CURRENCY),
            })
        })
        .collect()
}

/// Writes zone enters and exits as events (`instore.zone_entered`, `instore.zone_exited` with the dwell
/// time) and shelf picks and put-backs (`instore.picked`, `instore.put_back`) for analytics: how long
/// shoppers stand in front of a shelf, and whether a pick follows.
pub(crate) fn emit_floor_events(
    tx: &mut dyn Tx,
    location_id: &str,
    events: &[instore::ZoneEvent],
    shelf: &[super::fold::ShelfEvent],
    now: i64,
) -> Result<()> {
    for s in shelf {
        let (visit, track) = s.target_id.split_once('/').unwrap_or(("", s.target_id.as_str()));
        let kind = if s.quantity > 0 { "instore.picked" } else { "instore.put_back" };
        crate::platform::events::emit(
            tx,
            kind,
            visit,
            &serde_json::json!({"location_id": location_id, "session_id": visit, "track_id": track, "sku": s.sku,
                                "quantity": s.quantity.unsigned_abs(), "at": domain::time::rfc3339((s.t_s * 1000.0) as i64)}),
            now,
        )?;
    }
    for z in events {
        let (visit, track) = z.target_id.split_once('/').unwrap_or(("", z.target_id.as_str()));
        let kind = match z.kind {
            instore::ZoneEventKind::Enter => "instore.zone_entered",
            instore::ZoneEventKind::Exit => "instore.zone_exited",
        };
        crate::platform::events::emit(
            tx,
            kind,
            visit,
            &serde_json::json!({"location_id": location_id, "session_id": visit, "track_id": track, "zone": z.zone,
                                "at": domain::time::rfc3339((z.t_s * 1000.0) as i64), "dwell_ms": z.dwell_ms}),
            now,
        )?;
    }
    Ok(())
}
