//! Carts: lines of SKUs in one currency, and the chosen fulfillment (delivery to an address, or pickup at a
//! store). A cart holds no stock; stock is reserved atomically at checkout.

use crate::catalog::{price_view, priced_sku, PriceView};
use crate::error::{bad, EngineError, Result};
use crate::locations::{self, Address};
use domain::{ids, Currency, Qty, Sku};
use serde::{Deserialize, Serialize};
use store::{params, Tx};

pub const MAX_CART_LINES: usize = 100;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fulfillment {
    Delivery { address: Address },
    Pickup { location_id: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct CartLineView {
    pub sku: String,
    pub title: crate::catalog::Localized,
    pub quantity: i64,
    pub unit_price: PriceView,
    pub line_total: PriceView,
}

#[derive(Debug, Clone, Serialize)]
pub struct CartView {
    pub id: String,
    pub status: String,
    pub currency: String,
    pub customer_id: Option<String>,
    pub lines: Vec<CartLineView>,
    pub fulfillment: Option<Fulfillment>,
    pub subtotal: PriceView,
    pub order_id: Option<String>,
}

pub(crate) fn create(tx: &mut dyn Tx, currency: Option<&str>, customer_id: Option<&str>, now: i64) -> Result<CartView> {
    let cur = Currency::parse(currency.unwrap_or("KRW")).map_err(|e| bad(e.to_string()))?;
    let id = ids::new_id("cart");
    tx.exec(
        "INSERT INTO carts (id, customer_id, currency, fulfillment, status, order_id, created_at, updated_at) VALUES (?, ?, ?, NULL, 'open', NULL, ?, ?)",
        params![&id, customer_id, cur.code(), now, now],
    )?;
    get(tx, &id)
}

pub(crate) struct CartRow {
    pub currency: String,
    pub customer_id: Option<String>,
    pub fulfillment: Option<Fulfillment>,
    pub status: String,
    pub order_id: Option<String>,
}

pub(crate) fn row(tx: &mut dyn Tx, id: &str) -> Result<CartRow> {
    let r = tx
        .query_opt("SELECT currency, customer_id, fulfillment, status, order_id FROM carts WHERE id = ?", params![id])?
        .ok_or_else(|| EngineError::not_found("cart", id))?;
    Ok(CartRow {
        currency: r.text(0)?,
        customer_id: r.opt_text(1)?,
        fulfillment: r.opt_text(2)?.and_then(|s| serde_json::from_str(&s).ok()),
        status: r.text(3)?,
        order_id: r.opt_text(4)?,
    })
}

fn open_row(tx: &mut dyn Tx, id: &str) -> Result<CartRow> {
    let c = row(tx, id)?;
    if c.status != "open" {
        return Err(EngineError::conflict(
            "cart_completed",
            format!("cart `{id}` is already checked out as order `{}`", c.order_id.unwrap_or_default()),
        ));
    }
    Ok(c)
}

/// Adds `quantity` of a SKU (or increases an existing line).
pub(crate) fn add_line(tx: &mut dyn Tx, id: &str, sku: &str, quantity: i64, now: i64) -> Result<CartView> {
    let sku = Sku::parse(sku).map_err(bad)?;
    let q = Qty::new(quantity).map_err(bad)?;
    let c = open_row(tx, id)?;
    priced_sku(tx, sku.as_str(), &c.currency)?;
    let existing = tx.query_opt("SELECT quantity FROM cart_lines WHERE cart_id = ? AND sku = ?", params![id, sku.as_str()])?;
    match existing {
        Some(r) => {
            let total = Qty::new(r.i64(0)? + q.get()).map_err(bad)?;
            tx.exec("UPDATE cart_lines SET quantity = ? WHERE cart_id = ? AND sku = ?", params![total.get(), id, sku.as_str()])?;
        }
        None => {
            let n = tx.query_one("SELECT COUNT(*) FROM cart_lines WHERE cart_id = ?", params![id])?.i64(0)?;
            if n as usize >= MAX_CART_LINES {
                return Err(EngineError::invalid("cart_full", format!("a cart holds at most {MAX_CART_LINES} lines")));
            }
            tx.exec(
                "INSERT INTO cart_lines (cart_id, sku, quantity, added_at) VALUES (?, ?, ?, ?)",
                params![id, sku.as_str(), q.get(), now],
            )?;
        }
    }
    tx.exec("UPDATE carts SET updated_at = ? WHERE id = ?", params![now, id])?;
    get(tx, id)
}

/// Sets a line's quantity; 0 removes it.
pub(crate) fn set_line(tx: &mut dyn Tx, id: &str, sku: &str, quantity: i64, now: i64) -> Result<CartView> {
    open_row(tx, id)?;
    if quantity == 0 {
        let n = tx.exec("DELETE FROM cart_lines WHERE cart_id = ? AND sku = ?", params![id, sku])?;
        if n == 0 {
            return Err(EngineError::not_found("cart line", sku));
        }
    } else {
        let q = Qty::new(quantity).map_err(bad)?;
        let n = tx.exec("UPDATE cart_lines SET quantity = ? WHERE cart_id = ? AND sku = ?", params![q.get(), id, sku])?;
        if n == 0 {
            return Err(EngineError::not_found("cart line", sku));
        }
    }
    tx.exec("UPDATE carts SET updated_at = ? WHERE id = ?", params![now, id])?;
    get(tx, id)
}

pub(crate) fn set_fulfillment(tx: &mut dyn Tx, id: &str, f: Fulfillment, now: i64) -> Result<CartView> {
    open_row(tx, id)?;
    let f = match f {
        Fulfillment::Delivery { address } => Fulfillment::Delivery { address: address.validate(true)? },
        Fulfillment::Pickup { location_id } => {
            let loc = locations::get(tx, &location_id)?.ok_or_else(|| EngineError::not_found("location", &location_id))?;
            if !loc.pickup_enabled {
                return Err(EngineError::invalid(
                    "pickup_unavailable",
                    format!("{} ({}) does not offer pickup", loc.name.en, loc.code),
                ));
            }
            Fulfillment::Pickup { location_id: loc.id }
        }
    };
    tx.exec(
        "UPDATE carts SET fulfillment = ?, updated_at = ? WHERE id = ?",
        params![serde_json::to_string(&f).unwrap_or_default(), now, id],
    )?;
    get(tx, id)
}

pub(crate) struct Line {
    pub sku: String,
    pub quantity: i64,
}

pub(crate) fn lines(tx: &mut dyn Tx, id: &str) -> Result<Vec<Line>> {
    tx.query("SELECT sku, quantity FROM cart_lines WHERE cart_id = ? ORDER BY sku", params![id])?
        .iter()
        .map(|r| Ok(Line { sku: r.text(0)?, quantity: r.i64(1)? }))
        .collect()
}

pub(crate) fn get(tx: &mut dyn Tx, id: &str) -> Result<CartView> {
    let c = row(tx, id)?;
    let mut out = Vec::new();
    let mut subtotal = 0i64;
    for l in lines(tx, id)? {
        let p = priced_sku(tx, &l.sku, &c.currency)?;
        let total = p.unit_price_minor.checked_mul(l.quantity).ok_or_else(|| bad("amount overflow"))?;
        subtotal = subtotal.checked_add(total).ok_or_else(|| bad("amount overflow"))?;
        out.push(CartLineView {
            sku: l.sku,
            title: crate::catalog::Localized { ko: p.title_ko, en: p.title_en },
            quantity: l.quantity,
            unit_price: price_view(&c.currency, p.unit_price_minor),
            line_total: price_view(&c.currency, total),
        });
    }
    Ok(CartView {
        id: id.to_owned(),
        status: c.status,
        subtotal: price_view(&c.currency, subtotal),
        currency: c.currency,
        customer_id: c.customer_id,
        lines: out,
        fulfillment: c.fulfillment,
        order_id: c.order_id,
    })
}
