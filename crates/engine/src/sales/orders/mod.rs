//! Orders from every channel through one pipeline: web checkout (delivery or click & collect), POS sales,
//! pickup handover, shipment, cancellation, expiry of uncollected pickups, and returns at any store.
//! Each use case is one transaction: stock movements, order rows, payment state and events commit together.

mod checkout;
mod lifecycle;
mod pos;
mod reserve;
mod returns;

pub(crate) use checkout::*;
pub(crate) use lifecycle::*;
pub use pos::*;
pub(crate) use reserve::*;
pub use returns::*;

use crate::catalog::products::{price_view, priced_sku, Localized, PriceView};
use crate::error::{bad, EngineError, Result};
use crate::money::payments::{PaymentContext, PaymentMethod, PaymentStatus, Payments};
use crate::platform::events;
use crate::platform::idempotency;
use crate::sales::carts::{self, Fulfillment};
use crate::stock::movements::{self, Guard, Movement};
use domain::{ids, Channel, FulfillmentType, MovementKind, OrderStatus, Qty, Sku};
use serde::{Deserialize, Serialize};
use store::{params, Row, Tx};

pub const MAX_POS_LINES: usize = 200;
/// How long a payment authorization for a delivery order holds before it must be captured by shipping.
pub const DELIVERY_HOLD_MS: i64 = 30 * 24 * 3600 * 1000;
pub const MAX_RETURN_LINES: usize = 200;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OrderLineView {
    pub line_no: i64,
    pub sku: String,
    pub title: Localized,
    /// The variant's options (size, colour, …).
    pub options: std::collections::BTreeMap<String, String>,
    pub quantity: i64,
    pub returned_quantity: i64,
    pub unit_price: PriceView,
    pub line_total: PriceView,
    /// Where the line's stock is reserved or was sold.
    pub location_id: String,
    /// For delivery lines: why routing chose that location.
    pub routing: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PickupView {
    pub location_id: String,
    /// The code the shopper shows at the desk; only present once the order is ready, and only in the
    /// shopper's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OrderView {
    pub id: String,
    pub channel: String,
    pub status: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub currency: String,
    pub subtotal: PriceView,
    pub total: PriceView,
    pub fulfillment_type: String,
    pub location_id: Option<String>,
    pub shipping_address: Option<crate::catalog::locations::Address>,
    pub payment: PaymentView,
    pub pickup: Option<PickupView>,
    pub lines: Vec<OrderLineView>,
    pub placed_at: String,
    pub updated_at: String,
    /// Only in the checkout's answer: the secret that lets a guest read this order later
    /// (`GET /store/orders/{id}` with `X-Order-Token` or `?token=`). Keep it like a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PaymentView {
    pub method: String,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct CheckoutInput {
    pub email: Option<String>,
    pub payment_method: String,
}

const ORDER_COLS: &str =
    "id, channel, status, customer_id, email, currency, subtotal_minor, total_minor, fulfillment_type, location_id, \
    shipping_address, payment_method, payment_status, pickup_code, pickup_expires_at, placed_at, updated_at";

fn order_from_row(tx: &mut dyn Tx, r: &Row, with_code: bool) -> Result<OrderView> {
    let id = r.text(0)?;
    let currency = r.text(5)?;
    let status = r.text(2)?;
    let fulfillment_type = r.text(8)?;
    let location_id = r.opt_text(9)?;
    let lines = tx
        .query(
            "SELECT l.line_no, l.sku, l.title_ko, l.title_en, l.quantity, l.returned_quantity, l.unit_price_minor, l.location_id, l.routing, v.attributes \
             FROM order_lines l LEFT JOIN variants v ON v.sku = l.sku WHERE l.order_id = ? ORDER BY l.line_no",
            params![&id],
        )?
        .iter()
        .map(|l| {
            let (q, unit) = (l.i64(4)?, l.i64(6)?);
            Ok(OrderLineView {
                line_no: l.i64(0)?,
                sku: l.text(1)?,
                title: Localized { ko: l.text(2)?, en: l.text(3)? },
                options: l.opt_text(9)?.map(|a| crate::catalog::products::options(&a)).unwrap_or_default(),
                quantity: q,
                returned_quantity: l.i64(5)?,
                unit_price: price_view(&currency, unit),
                line_total: price_view(&currency, unit.saturating_mul(q)),
                location_id: l.text(7)?,
                routing: l.opt_text(8)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pickup = if fulfillment_type == "pickup" {
        Some(PickupView {
            location_id: location_id.clone().unwrap_or_default(),
            code: if with_code && status == "ready_for_pickup" { r.opt_text(13)? } else { None },
            expires_at: r.opt_i64(14)?.map(domain::time::rfc3339),
        })
    } else {
        None
    };
    Ok(OrderView {
        id,
        channel: r.text(1)?,
        status,
        customer_id: r.opt_text(3)?,
        email: r.opt_text(4)?,
        subtotal: price_view(&currency, r.i64(6)?),
        total: price_view(&currency, r.i64(7)?),
        currency,
        fulfillment_type,
        location_id,
        shipping_address: r.opt_text(10)?.and_then(|s| serde_json::from_str(&s).ok()),
        payment: PaymentView { method: r.text(11)?, status: r.text(12)? },
        pickup,
        lines,
        placed_at: domain::time::rfc3339(r.i64(15)?),
        updated_at: domain::time::rfc3339(r.i64(16)?),
        access_token: None,
    })
}

const ACCESS_LABEL: &str = "order-access:";

/// The order's access token: a MAC of its id under the installation's secret, so nothing is stored and a
/// retried checkout gets the same token. 128 bits, hex.
pub(crate) fn access_token(tx: &mut dyn Tx, order_id: &str) -> Result<String> {
    let mac = crate::money::paycodes::derive_long(tx, &format!("{ACCESS_LABEL}{order_id}"))?;
    Ok(mac[..16].iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `token` is the order's access token (compared in constant time).
pub(crate) fn access_token_matches(tx: &mut dyn Tx, order_id: &str, token: &str) -> Result<bool> {
    let Some(bytes) = (token.len() == 32)
        .then(|| {
            (0..16).map(|i| u8::from_str_radix(token.get(i * 2..i * 2 + 2)?, 16).ok()).collect::<Option<Vec<u8>>>()
        })
        .flatten()
    else {
        return Ok(false);
    };
    crate::money::paycodes::verify_long(tx, &format!("{ACCESS_LABEL}{order_id}"), &bytes)
}

/// An order as its shopper may see it: the signed-in owner, or whoever holds its access token. Anyone else
/// is told there is no such order, so an id alone reveals nothing.
pub(crate) fn get_for_shopper(
    tx: &mut dyn Tx,
    id: &str,
    customer_id: Option<&str>,
    token: Option<&str>,
) -> Result<OrderView> {
    let sql = format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?");
    let r = tx.query_opt(&sql, params![id])?.ok_or_else(|| EngineError::not_found("order", id))?;
    let owner = r.opt_text(3)?;
    let by_session = matches!((customer_id, owner.as_deref()), (Some(c), Some(o)) if c == o);
    let by_token = match token {
        Some(t) if !by_session => access_token_matches(tx, id, t)?,
        _ => false,
    };
    if !by_session && !by_token {
        return Err(EngineError::not_found("order", id));
    }
    order_from_row(tx, &r, true)
}

/// Loads an order; `with_code` includes the pickup code (the shopper's view, not staff's).
pub(crate) fn get(tx: &mut dyn Tx, id: &str, with_code: bool) -> Result<OrderView> {
    let sql = format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?");
    let r = tx.query_opt(&sql, params![id])?.ok_or_else(|| EngineError::not_found("order", id))?;
    order_from_row(tx, &r, with_code)
}

#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub after: Option<String>,
    pub limit: usize,
    pub status: Option<String>,
    pub location_id: Option<String>,
    pub customer_id: Option<String>,
    pub channel: Option<String>,
    /// Placed at or after this instant (ms).
    pub placed_from: Option<i64>,
    /// Placed before this instant (ms).
    pub placed_before: Option<i64>,
    /// What a person at a desk types: an order id, an email, a phone number or a pickup code.
    pub search: Option<String>,
}

/// How a typed search narrows the order list.
fn search_clause(text: &str) -> Option<(&'static str, String)> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.starts_with("ord_") {
        return Some(("id = ?", t.to_owned()));
    }
    if t.contains('@') {
        return Some(("email = ?", t.to_lowercase()));
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 6 && t.len() == 6 {
        return Some(("pickup_code = ?", digits));
    }
    match domain::text::phone(t) {
        Ok(p) => Some(("customer_id IN (SELECT id FROM customers WHERE phone = ?)", p)),
        // Nothing recognisable: match nothing rather than everything.
        Err(_) => Some(("id = ?", t.to_owned())),
    }
}

/// Pickup orders still to prepare or collect, oldest first (`q.location_id` narrows to one store).
pub(crate) fn pickup_queue(tx: &mut dyn Tx, q: &OrderQuery) -> Result<Vec<OrderView>> {
    let mut sql = format!(
        "SELECT {ORDER_COLS} FROM orders WHERE fulfillment_type = 'pickup' AND status IN ('placed', 'ready_for_pickup')"
    );
    let mut ps: Vec<store::Val> = Vec::new();
    if let Some(l) = &q.location_id {
        sql.push_str(" AND location_id = ?");
        ps.push(l.into());
    }
    sql.push_str(" ORDER BY placed_at LIMIT ?");
    ps.push((q.limit as i64).into());
    let rows = tx.query(&sql, &ps)?;
    rows.iter().map(|r| order_from_row(tx, r, false)).collect()
}

/// Newest first; `after` is the last id of the previous page.
pub(crate) fn list(tx: &mut dyn Tx, q: &OrderQuery) -> Result<Vec<OrderView>> {
    let mut sql = format!("SELECT {ORDER_COLS} FROM orders WHERE 1 = 1");
    let mut ps: Vec<store::Val> = Vec::new();
    if let Some(a) = &q.after {
        sql.push_str(" AND id < ?");
        ps.push(a.into());
    }
    for (col, v) in [
        ("status", &q.status),
        ("location_id", &q.location_id),
        ("customer_id", &q.customer_id),
        ("channel", &q.channel),
    ] {
        if let Some(v) = v {
            sql.push_str(&format!(" AND {col} = ?"));
            ps.push(v.into());
        }
    }
    if let Some(from) = q.placed_from {
        sql.push_str(" AND placed_at >= ?");
        ps.push(from.into());
    }
    if let Some(before) = q.placed_before {
        sql.push_str(" AND placed_at < ?");
        ps.push(before.into());
    }
    if let Some((clause, v)) = q.search.as_deref().and_then(search_clause) {
        sql.push_str(" AND ");
        sql.push_str(clause);
        ps.push(v.into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    ps.push((q.limit as i64).into());
    let rows = tx.query(&sql, &ps)?;
    rows.iter().map(|r| order_from_row(tx, r, false)).collect()
}
