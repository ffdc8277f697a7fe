//! Merchant-presented QR payments. The till creates a payment request for the items on the counter and
//! shows its QR (`BLPR1:<id>`); the shopper scans it, sees the store, the lines and the amount in the app,
//! and confirms. Confirmation claims the open request and runs the POS sale — stock and wallet — in one
//! transaction; a request lives [`REQUEST_TTL_MS`] and pays once.

use crate::error::{bad, EngineError, Result};
use crate::money::payments::Payments;
use crate::sales::orders::{self, OrderView, SaleLineInput};
use serde::Serialize;
use store::{params, Row, Tx};

pub const REQUEST_TTL_MS: i64 = 5 * 60 * 1000;
const QR_PREFIX: &str = "BLPR1:";

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PaymentRequestView {
    pub id: String,
    /// What the till renders as a QR code.
    pub qr: String,
    pub location_id: String,
    pub location_name: crate::catalog::products::Localized,
    pub lines: Vec<serde_json::Value>,
    pub amount: crate::catalog::products::PriceView,
    pub status: String,
    pub order_id: Option<String>,
    pub expires_at: String,
}

/// Creates a request for a sale at `location_id`, priced now.
pub(crate) fn create(
    tx: &mut dyn Tx,
    location_id: &str,
    lines: &[SaleLineInput],
    currency: &str,
    staff_key_id: &str,
    now: i64,
) -> Result<PaymentRequestView> {
    if lines.is_empty() || lines.len() > orders::MAX_POS_LINES {
        return Err(bad(format!("a payment request needs 1–{} lines", orders::MAX_POS_LINES)));
    }
    let loc = crate::catalog::locations::get(tx, location_id)?
        .ok_or_else(|| EngineError::not_found("location", location_id))?;
    let mut amount: i64 = 0;
    let mut shown = Vec::new();
    for l in lines {
        let sku = domain::Sku::parse(&l.sku).map_err(bad)?;
        let q = domain::Qty::new(l.quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?.get();
        let p = crate::catalog::products::priced_sku(tx, sku.as_str(), currency)?;
        amount = p
            .unit_price_minor
            .checked_mul(q)
            .and_then(|t| amount.checked_add(t))
            .ok_or_else(|| bad("amount overflow"))?;
        shown.push(serde_json::json!({"sku": sku.as_str(), "quantity": q, "title": {"ko": p.title_ko, "en": p.title_en}, "unit_price_minor": p.unit_price_minor}));
    }
    let id = domain::ids::new_id("preq");
    tx.exec(
        "INSERT INTO payment_requests (id, location_id, lines, currency, amount_minor, status, customer_id, order_id, staff_key_id, expires_at, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 'open', NULL, NULL, ?, ?, ?, ?)",
        params![&id, &loc.id, serde_json::Value::Array(shown).to_string(), currency, amount, staff_key_id, now + REQUEST_TTL_MS, now, now],
    )?;
    get(tx, &id, now)
}

fn view(tx: &mut dyn Tx, r: &Row, now: i64) -> Result<PaymentRequestView> {
    let id = r.text(0)?;
    let loc_id = r.text(1)?;
    let loc =
        crate::catalog::locations::get(tx, &loc_id)?.ok_or_else(|| EngineError::not_found("location", &loc_id))?;
    let expires = r.i64(7)?;
    let mut status = r.text(5)?;
    if status == "open" && expires < now {
        status = "expired".into();
    }
    Ok(PaymentRequestView {
        qr: format!("{QR_PREFIX}{id}"),
        id,
        location_id: loc_id,
        location_name: loc.name,
        lines: serde_json::from_str(&r.text(2)?).unwrap_or_default(),
        amount: crate::catalog::products::price_view(&r.text(3)?, r.i64(4)?),
        status,
        order_id: r.opt_text(6)?,
        expires_at: domain::time::rfc3339(expires),
    })
}

/// Accepts the request's id or the scanned QR text.
fn parse_id(id_or_qr: &str) -> &str {
    id_or_qr.trim().strip_prefix(QR_PREFIX).unwrap_or(id_or_qr.trim())
}

pub(crate) fn get(tx: &mut dyn Tx, id_or_qr: &str, now: i64) -> Result<PaymentRequestView> {
    let id = parse_id(id_or_qr);
    let r = tx
        .query_opt("SELECT id, location_id, lines, currency, amount_minor, status, order_id, expires_at FROM payment_requests WHERE id = ?", params![id])?
        .ok_or_else(|| EngineError::not_found("payment request", id))?;
    view(tx, &r, now)
}

/// The shopper confirms: claims the open request and runs the sale from their wallet, all or nothing.
pub(crate) fn confirm(
    tx: &mut dyn Tx,
    payments: &Payments,
    id_or_qr: &str,
    customer_id: &str,
    now: i64,
) -> Result<OrderView> {
    let id = parse_id(id_or_qr).to_owned();
    let r = tx
        .query_opt(
            &format!("SELECT location_id, lines, currency, amount_minor, status, order_id, expires_at, staff_key_id, customer_id FROM payment_requests WHERE id = ?{}", tx.for_update()),
            params![&id],
        )?
        .ok_or_else(|| EngineError::not_found("payment request", &id))?;
    match r.text(4)?.as_str() {
        "completed" if r.opt_text(8)?.as_deref() == Some(customer_id) => {
            // A retried confirmation from the same shopper gets the same sale.
            return orders::get(tx, &r.text(5)?, false);
        }
        "completed" => {
            return Err(EngineError::conflict("payment_request_paid", "this payment request has already been paid"))
        }
        "cancelled" => {
            return Err(EngineError::conflict("payment_request_cancelled", "the store cancelled this payment request"))
        }
        _ => {}
    }
    if r.i64(6)? < now {
        return Err(EngineError::conflict(
            "payment_request_expired",
            "this payment request has expired; ask the cashier for a new code",
        ));
    }
    let lines: Vec<serde_json::Value> = serde_json::from_str(&r.text(1)?).unwrap_or_default();
    let sale_lines = lines
        .iter()
        .map(|l| SaleLineInput {
            sku: l["sku"].as_str().unwrap_or_default().to_owned(),
            quantity: l["quantity"].as_i64().unwrap_or(0),
        })
        .collect();
    let cmd = orders::PosSaleCmd {
        location_id: r.text(0)?,
        lines: sale_lines,
        currency: r.text(2)?,
        customer_id: Some(customer_id.to_owned()),
        payment_method: "wallet".into(),
        staff_key_id: Some(r.text(7)?),
        idempotency_key: None,
        request_hash: String::new(),
        payment_code: None,
        gift_card_code: None,
        shopper_confirmed: true,
        channel: domain::Channel::Pos,
        tender_ref: None,
    };
    let order = orders::pos_sale(tx, payments, &cmd, now)?;
    if order.total.amount_minor != r.i64(3)? {
        return Err(EngineError::conflict(
            "price_changed",
            "prices changed since the request was made; ask the cashier for a new code",
        ));
    }
    tx.exec(
        "UPDATE payment_requests SET status = 'completed', customer_id = ?, order_id = ?, updated_at = ? WHERE id = ? AND status = 'open'",
        params![customer_id, &order.id, now, &id],
    )?;
    Ok(order)
}
