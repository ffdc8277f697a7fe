//! Carts: lines of SKUs in one currency, and the chosen fulfillment (delivery to an address, or pickup at a
//! store). A cart holds no stock; stock is reserved atomically at checkout.

use crate::catalog::locations::{self, Address};
use crate::catalog::products::{price_view, priced_sku, PriceView};
use crate::error::{bad, EngineError, Result};
use domain::{ids, Currency, Qty, Sku};
use serde::{Deserialize, Serialize};
use store::{params, Tx};

pub const MAX_CART_LINES: usize = 100;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fulfillment {
    #[schemars(title = "DeliveryFulfillment")]
    Delivery { address: Address },
    #[schemars(title = "PickupFulfillment")]
    Pickup { location_id: String },
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CartLineView {
    pub sku: String,
    pub title: crate::catalog::products::Localized,
    /// The variant's options (size, colour, …): what tells two lines of one product apart.
    pub options: std::collections::BTreeMap<String, String>,
    pub quantity: i64,
    pub unit_price: PriceView,
    pub line_total: PriceView,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CartView {
    pub id: String,
    pub status: String,
    pub currency: String,
    pub customer_id: Option<String>,
    pub lines: Vec<CartLineView>,
    pub fulfillment: Option<Fulfillment>,
    pub subtotal: PriceView,
}

pub(crate) fn create(tx: &mut dyn Tx, currency: Option<&str>, customer_id: Option<&str>, now: i64) -> Result<CartView> {
    let cur = Currency::parse(currency.unwrap_or("KRW"))
        .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
    let id = ids::new_id("cart");
    tx.exec(
        "INSERT INTO carts (id, customer_id, currency, fulfillment, status, order_id, created_at, updated_at) VALUES (?, ?, ?, NULL, 'open', NULL, ?, ?)",
        params![&id, customer_id, cur.code(), now, now],
    )?;
    let row = CartRow {
        currency: cur.code().to_owned(),
        customer_id: customer_id.map(str::to_owned),
        fulfillment: None,
        status: "open".into(),
    };
    view(&id, row, Vec::new())
}

pub(crate) struct CartRow {
    pub currency: String,
    pub customer_id: Option<String>,
    pub fulfillment: Option<Fulfillment>,
    pub status: String,
}

fn cart_row(r: &store::Row) -> Result<CartRow> {
    Ok(CartRow {
        currency: r.text(0)?,
        customer_id: r.opt_text(1)?,
        fulfillment: r.opt_text(2)?.and_then(|s| serde_json::from_str(&s).ok()),
        status: r.text(3)?,
    })
}

pub(crate) fn row(tx: &mut dyn Tx, id: &str) -> Result<CartRow> {
    let r = tx
        .query_opt("SELECT currency, customer_id, fulfillment, status FROM carts WHERE id = ?", params![id])?
        .ok_or_else(|| EngineError::not_found("cart", id))?;
    cart_row(&r)
}

fn completed(id: &str) -> EngineError {
    // The order's id is not named: it is the key to the order, and the cart id may have been shared.
    EngineError::conflict("cart_completed", format!("cart `{id}` is already checked out; start a new cart"))
}

/// A signed-in shopper's cart answers only to their session; a guest cart to whoever holds its id (an
/// unguessable 80-bit bearer). Anyone else is told there is no such cart.
pub(crate) fn check_owner(id: &str, c: &CartRow, caller: Option<&str>) -> Result<()> {
    match &c.customer_id {
        Some(owner) if caller != Some(owner.as_str()) => Err(EngineError::not_found("cart", id)),
        _ => Ok(()),
    }
}

/// Locks a cart's row for the rest of the transaction and returns it, whatever its status. (On SQLite the
/// single writer already serialises write transactions, so a plain read suffices.)
pub(crate) fn lock(tx: &mut dyn Tx, id: &str) -> Result<CartRow> {
    let sql = format!("SELECT currency, customer_id, fulfillment, status FROM carts WHERE id = ?{}", tx.for_update());
    let r = tx.query_opt(&sql, params![id])?.ok_or_else(|| EngineError::not_found("cart", id))?;
    cart_row(&r)
}

/// Marks an open cart as changed and returns it, in one statement; a completed cart is refused.
fn touch_open(tx: &mut dyn Tx, id: &str, now: i64) -> Result<CartRow> {
    let r = tx
        .query_opt(
            "UPDATE carts SET updated_at = ? WHERE id = ? RETURNING currency, customer_id, fulfillment, status",
            params![now, id],
        )?
        .ok_or_else(|| EngineError::not_found("cart", id))?;
    let c = cart_row(&r)?;
    if c.status != "open" {
        return Err(completed(id));
    }
    Ok(c)
}

/// Adds `quantity` of a SKU (or increases an existing line).
pub(crate) fn add_line(
    tx: &mut dyn Tx,
    id: &str,
    sku: &str,
    quantity: i64,
    caller: Option<&str>,
    now: i64,
) -> Result<CartView> {
    let sku = Sku::parse(sku).map_err(|m| EngineError::invalid("invalid_sku", m))?;
    let q = Qty::new(quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?;
    let c = touch_open(tx, id, now)?;
    check_owner(id, &c, caller)?;
    priced_sku(tx, sku.as_str(), &c.currency)?;
    let total = tx
        .query_one(
            "INSERT INTO cart_lines (cart_id, sku, quantity, added_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (cart_id, sku) DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity RETURNING quantity",
            params![id, sku.as_str(), q.get(), now],
        )?
        .i64(0)?;
    Qty::new(total).map_err(|_| {
        bad(format!("a cart line holds at most {} units; this would make {total}", domain::stock::MAX_LINE_QTY))
    })?;
    // The cart add joins the shopper's history for recommendations: the customer's when the cart has one,
    // else the anonymous cart is the visit's session (the cart id is already the anonymous cart's key).
    let session = if c.customer_id.is_some() { None } else { Some(id) };
    tx.exec(
        "INSERT INTO interactions (kind, customer_id, session_id, product_id, query, location_id, channel, order_id, quantity, at) \
         SELECT 'cart_add', ?, ?, v.product_id, NULL, NULL, 'web', NULL, ?, ? FROM variants v WHERE v.sku = ?",
        params![c.customer_id.as_deref(), session, q.get(), now, sku.as_str()],
    )?;
    let lines = priced_lines(tx, id, &c.currency)?;
    if lines.len() > MAX_CART_LINES {
        return Err(EngineError::invalid("cart_full", format!("a cart holds at most {MAX_CART_LINES} lines")));
    }
    view(id, c, lines)
}

/// Sets a line's quantity; 0 removes it.
pub(crate) fn set_line(
    tx: &mut dyn Tx,
    id: &str,
    sku: &str,
    quantity: i64,
    caller: Option<&str>,
    now: i64,
) -> Result<CartView> {
    let sku = &crate::catalog::products::canonical_sku(sku)?;
    let c = touch_open(tx, id, now)?;
    check_owner(id, &c, caller)?;
    let n = if quantity == 0 {
        tx.exec("DELETE FROM cart_lines WHERE cart_id = ? AND sku = ?", params![id, sku])?
    } else {
        let q = Qty::new(quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?;
        tx.exec("UPDATE cart_lines SET quantity = ? WHERE cart_id = ? AND sku = ?", params![q.get(), id, sku])?
    };
    if n == 0 {
        return Err(EngineError::not_found("cart line", sku));
    }
    let lines = priced_lines(tx, id, &c.currency)?;
    view(id, c, lines)
}

pub(crate) fn set_fulfillment(
    tx: &mut dyn Tx,
    id: &str,
    f: Fulfillment,
    caller: Option<&str>,
    now: i64,
) -> Result<CartView> {
    let mut c = touch_open(tx, id, now)?;
    check_owner(id, &c, caller)?;
    let f = match f {
        Fulfillment::Delivery { address } => Fulfillment::Delivery { address: address.validate(true)? },
        Fulfillment::Pickup { location_id } => {
            let loc =
                locations::get(tx, &location_id)?.ok_or_else(|| EngineError::not_found("location", &location_id))?;
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
        "UPDATE carts SET fulfillment = ? WHERE id = ?",
        params![serde_json::to_string(&f).unwrap_or_default(), id],
    )?;
    c.fulfillment = Some(f);
    let lines = priced_lines(tx, id, &c.currency)?;
    view(id, c, lines)
}

/// A cart line with its current title and price, read in one query.
pub(crate) struct PricedLine {
    pub sku: String,
    pub quantity: i64,
    pub title_ko: String,
    pub title_en: String,
    pub options: std::collections::BTreeMap<String, String>,
    unit_price_minor: Option<i64>,
    status: String,
}

impl PricedLine {
    /// The unit price, or why the line cannot be bought now.
    pub fn unit_price(&self, currency: &str) -> Result<i64> {
        if self.status != "active" {
            return Err(EngineError::conflict("not_for_sale", format!("`{}` is not for sale", self.sku)));
        }
        self.unit_price_minor
            .ok_or_else(|| EngineError::conflict("no_price", format!("`{}` has no price in {currency}", self.sku)))
    }
}

pub(crate) fn priced_lines(tx: &mut dyn Tx, id: &str, currency: &str) -> Result<Vec<PricedLine>> {
    tx.query(
        "SELECT l.sku, l.quantity, p.title_ko, p.title_en, pr.amount_minor, p.status, v.attributes FROM cart_lines l \
         JOIN variants v ON v.sku = l.sku JOIN products p ON p.id = v.product_id \
         LEFT JOIN prices pr ON pr.sku = l.sku AND pr.currency = ? WHERE l.cart_id = ? ORDER BY l.sku",
        params![currency, id],
    )?
    .iter()
    .map(|r| {
        Ok(PricedLine {
            sku: r.text(0)?,
            quantity: r.i64(1)?,
            title_ko: r.text(2)?,
            title_en: r.text(3)?,
            unit_price_minor: r.opt_i64(4)?,
            status: r.text(5)?,
            options: crate::catalog::products::options(&r.text(6)?),
        })
    })
    .collect()
}

fn view(id: &str, c: CartRow, lines: Vec<PricedLine>) -> Result<CartView> {
    let mut out = Vec::with_capacity(lines.len());
    let mut subtotal = 0i64;
    for l in lines {
        let unit = l.unit_price(&c.currency)?;
        let total = unit.checked_mul(l.quantity).ok_or_else(|| bad("amount overflow"))?;
        subtotal = subtotal.checked_add(total).ok_or_else(|| bad("amount overflow"))?;
        out.push(CartLineView {
            title: crate::catalog::products::Localized { ko: l.title_ko, en: l.title_en },
            options: l.options,
            sku: l.sku,
            quantity: l.quantity,
            unit_price: price_view(&c.currency, unit),
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
    })
}

pub(crate) fn get(tx: &mut dyn Tx, id: &str, caller: Option<&str>) -> Result<CartView> {
    let c = row(tx, id)?;
    check_owner(id, &c, caller)?;
    let lines = priced_lines(tx, id, &c.currency)?;
    view(id, c, lines)
}
