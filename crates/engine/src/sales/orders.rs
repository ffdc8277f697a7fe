//! Orders from every channel through one pipeline: web checkout (delivery or click & collect), POS sales,
//! pickup handover, shipment, cancellation, expiry of uncollected pickups, and returns at any store.
//! Each use case is one transaction: stock movements, order rows, payment state and events commit together.

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

#[derive(Debug, Clone, Serialize)]
pub struct OrderLineView {
    pub line_no: i64,
    pub sku: String,
    pub title: Localized,
    pub quantity: i64,
    pub returned_quantity: i64,
    pub unit_price: PriceView,
    pub line_total: PriceView,
    /// Where the line's stock is reserved or was sold.
    pub location_id: String,
    /// For delivery lines: why routing chose that location.
    pub routing: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PickupView {
    pub location_id: String,
    /// The code the shopper shows at the desk; only present once the order is ready, and only in the
    /// shopper's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
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
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub method: String,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
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
            "SELECT line_no, sku, title_ko, title_en, quantity, returned_quantity, unit_price_minor, location_id, routing FROM order_lines WHERE order_id = ? ORDER BY line_no",
            params![&id],
        )?
        .iter()
        .map(|l| {
            let (q, unit) = (l.i64(4)?, l.i64(6)?);
            Ok(OrderLineView {
                line_no: l.i64(0)?,
                sku: l.text(1)?,
                title: Localized { ko: l.text(2)?, en: l.text(3)? },
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
    })
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
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    ps.push((q.limit as i64).into());
    let rows = tx.query(&sql, &ps)?;
    rows.iter().map(|r| order_from_row(tx, r, false)).collect()
}

struct Placed {
    line_no: i64,
    sku: String,
    title_ko: String,
    title_en: String,
    quantity: i64,
    unit_price_minor: i64,
    location_id: String,
    routing: Option<String>,
}

/// Chooses where a delivery line ships from and reserves it there: warehouses first, then the location
/// with the most available. Tries the next candidate if a concurrent checkout took the last units.
/// Returns the location and a sentence explaining the choice, kept on the order line.
fn reserve_for_delivery(tx: &mut dyn Tx, sku: &str, q: i64, order_id: &str, now: i64) -> Result<(String, String)> {
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
    let available: i64 = tx
        .query_one(
            "SELECT CAST(COALESCE(MAX(s.on_hand - s.reserved - s.safety_stock), 0) AS BIGINT) FROM stock_levels s JOIN locations l ON l.id = s.location_id WHERE s.sku = ? AND l.ships = 1",
            params![sku],
        )?
        .i64(0)?;
    Err(EngineError::OutOfStock {
        sku: sku.to_owned(),
        location_id: "any shipping location".into(),
        available: available.max(0),
        requested: q,
    })
}

fn reserve(
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
fn settle_reservations(tx: &mut dyn Tx, order_id: &str, to: &str, reason: &str, now: i64) -> Result<()> {
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

pub(crate) struct CheckoutCmd {
    /// A gift card's secret code when paying by gift card.
    pub gift_card_code: Option<String>,
    /// A card authorization obtained before the transaction (`card:<payment id>:<amount>`).
    pub card_ref: Option<String>,
    /// Pay from the wallet in this currency when it differs from the cart's (converted at the rate in
    /// effect now, recorded on the order).
    pub wallet_currency: Option<String>,
    /// A split payment's tenders (one part may leave the amount to the remainder).
    pub split: Option<Vec<crate::sales::SplitTender>>,
    pub cart_id: String,
    pub email: Option<String>,
    pub payment_method: String,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub customer_id: Option<String>,
}

/// Resolves a split payment's parts: 2–4 tenders, amounts positive and adding up to the total, at most one
/// part left to take the remainder.
/// The card part, if any, was authorized before the transaction; `card_ref` carries that authorization.
pub(crate) fn split_parts(
    parts: &[crate::sales::SplitTender],
    total: i64,
    currency: &str,
    card_ref: Option<&str>,
) -> Result<Vec<crate::money::payments::SplitPart>> {
    if parts.iter().filter(|p| p.method == "card").count() > 1 {
        return Err(EngineError::invalid("invalid_split", "a split payment takes at most one card"));
    }
    if parts.len() < 2 || parts.len() > 4 {
        return Err(EngineError::invalid("invalid_split", "a split payment has 2 to 4 tenders"));
    }
    let open = parts.iter().filter(|p| p.amount_minor.is_none()).count();
    let fixed: i64 = parts.iter().filter_map(|p| p.amount_minor).sum();
    if open > 1 || parts.iter().any(|p| p.amount_minor.is_some_and(|a| a <= 0)) {
        return Err(EngineError::invalid(
            "invalid_split",
            "give every tender a positive `amount_minor`, except at most one that takes the rest",
        ));
    }
    if (open == 0 && fixed != total) || (open == 1 && fixed >= total) {
        return Err(EngineError::invalid(
            "invalid_split",
            format!("the tenders must add up to the order total of {total} {currency}"),
        ));
    }
    parts
        .iter()
        .map(|crate::sales::SplitTender { method: m, code, amount_minor: amount }| {
            let r = match (m.as_str(), code) {
                ("gift_card", Some(c)) => Some(crate::money::ledger::gift_card_account_code(c, currency)),
                ("gift_card", None) => {
                    return Err(EngineError::invalid("invalid_gift_card", "a gift card tender needs its `code`"))
                }
                ("wallet" | "store_credit", None) => None,
                ("card", Some(_)) => Some(
                    card_ref
                        .ok_or_else(|| EngineError::invalid("card_required", "the card part was not authorized"))?
                        .to_owned(),
                ),
                (other, _) => {
                    return Err(EngineError::invalid(
                        "unsupported_payment_method",
                        format!("`{other}` cannot be part of a split payment (wallet, gift_card, store_credit)"),
                    ))
                }
            };
            Ok(crate::money::payments::SplitPart { m: m.clone(), r, a: amount.unwrap_or(total - fixed) })
        })
        .collect()
}

/// Web checkout: reserves every line (at the pickup store, or where routing chooses), places the order.
///
/// Statement order matters for throughput: a pickup order writes its own rows first and takes the row lock
/// on the store's stock balance last, so competing checkouts for one hot SKU hold that lock only for the
/// few statements of the reservation itself.
pub(crate) fn checkout(
    tx: &mut dyn Tx,
    payments: &Payments,
    pickup_hold_ms: i64,
    cmd: &CheckoutCmd,
    now: i64,
) -> Result<OrderView> {
    let order_id = ids::new_id("ord");
    if let Some(key) = &cmd.idempotency_key {
        let scope = format!("store.checkout:{}", cmd.cart_id);
        if let Some(existing) = idempotency::begin(tx, &scope, key, &cmd.request_hash, &order_id, now)? {
            return get(tx, &existing, true);
        }
    }
    // Locks the cart: a concurrent checkout of the same cart or a line added meanwhile waits for this one.
    let cart = carts::lock(tx, &cmd.cart_id)?;
    if cart.status != "open" {
        return Err(EngineError::conflict(
            "cart_completed",
            format!("cart `{}` is already checked out as order `{}`", cmd.cart_id, cart.order_id.unwrap_or_default()),
        ));
    }
    let fulfillment = cart.fulfillment.clone().ok_or_else(|| {
        EngineError::invalid(
            "fulfillment_required",
            "set the cart's fulfillment (delivery address or pickup store) before checkout",
        )
    })?;
    let email = match &cmd.email {
        Some(e) => Some(domain::text::email(e).map_err(bad)?),
        None => None,
    };
    // The cart id is a bearer token for the cart, not for its owner's money: a wallet pays only for the
    // signed-in customer who owns the cart.
    let owner_funds = |m: &str| {
        PaymentMethod::parse(m).is_ok_and(|m| matches!(m, PaymentMethod::Wallet | PaymentMethod::StoreCredit))
    };
    let uses_wallet = owner_funds(&cmd.payment_method)
        || cmd.split.as_ref().is_some_and(|p| p.iter().any(|t| owner_funds(&t.method)));
    if uses_wallet
        && (cmd.customer_id.is_none() || cart.customer_id.as_ref().is_some_and(|c| Some(c) != cmd.customer_id.as_ref()))
    {
        return Err(EngineError::invalid(
            "customer_required",
            "wallet and store credit payments need the signed-in customer who owns the cart",
        ));
    }
    let customer_id = cmd.customer_id.clone().or(cart.customer_id.clone());
    if email.is_none() && customer_id.is_none() {
        return Err(bad("`email` is required for a guest checkout"));
    }
    let lines = carts::priced_lines(tx, &cmd.cart_id, &cart.currency)?;
    if lines.is_empty() {
        return Err(EngineError::invalid("cart_empty", "the cart has no lines"));
    }
    let pickup = matches!(fulfillment, Fulfillment::Pickup { .. });
    let provider = payments.require(PaymentMethod::parse(&cmd.payment_method)?)?.clone();
    if !provider.allowed(Channel::Web, pickup) {
        return Err(EngineError::invalid(
            "unsupported_payment_method",
            format!("`{}` cannot pay a {} order", cmd.payment_method, if pickup { "pickup" } else { "delivery" }),
        ));
    }
    let expires = if pickup { Some(now + pickup_hold_ms) } else { None };
    let mut placed = Vec::with_capacity(lines.len());
    let mut subtotal: i64 = 0;
    for (i, l) in lines.iter().enumerate() {
        let unit = l.unit_price(&cart.currency)?;
        let (loc, routing) = match &fulfillment {
            Fulfillment::Pickup { location_id } => (location_id.clone(), None),
            Fulfillment::Delivery { .. } => {
                let (loc, why) = reserve_for_delivery(tx, &l.sku, l.quantity, &order_id, now)?;
                (loc, Some(why))
            }
        };
        subtotal =
            unit.checked_mul(l.quantity).and_then(|t| subtotal.checked_add(t)).ok_or_else(|| bad("amount overflow"))?;
        placed.push(Placed {
            line_no: i as i64 + 1,
            sku: l.sku.clone(),
            title_ko: l.title_ko.clone(),
            title_en: l.title_en.clone(),
            quantity: l.quantity,
            unit_price_minor: unit,
            location_id: loc,
            routing,
        });
    }
    let (ftype, location_id, address) = match &fulfillment {
        Fulfillment::Pickup { location_id } => (FulfillmentType::Pickup, Some(location_id.clone()), None),
        Fulfillment::Delivery { address } => (FulfillmentType::Delivery, None, Some(address.clone())),
    };
    let address_json = address.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default());
    // Written as `pending` and updated below once the provider has authorized: the payment runs last (see
    // the lock order in ARCHITECTURE.md: stock rows before ledger accounts).
    insert_order(
        tx,
        &order_id,
        Channel::Web,
        OrderStatus::Placed,
        customer_id.as_deref(),
        email.as_deref(),
        &cart.currency,
        subtotal,
        ftype,
        location_id.as_deref(),
        address_json.as_deref(),
        provider.method().as_str(),
        PaymentStatus::Pending,
        expires,
        Some(&cmd.cart_id),
        None,
        &placed,
        now,
    )?;
    let n = tx.exec(
        "UPDATE carts SET status = 'completed', order_id = ?, updated_at = ? WHERE id = ? AND status = 'open'",
        params![&order_id, now, &cmd.cart_id],
    )?;
    if n != 1 {
        return Err(EngineError::conflict("cart_completed", "the cart was checked out concurrently"));
    }
    if let Fulfillment::Pickup { location_id } = &fulfillment {
        for p in &placed {
            reserve(tx, &p.sku, location_id, p.quantity, &order_id, expires, now)?;
        }
    }
    let pickup_location = match &fulfillment {
        Fulfillment::Pickup { location_id } => Some(location_id.as_str()),
        Fulfillment::Delivery { .. } => None,
    };
    let mut tender_ref = cmd
        .gift_card_code
        .as_deref()
        .map(|c| crate::money::ledger::gift_card_account_code(c, &cart.currency))
        .or(cmd.card_ref.clone());
    if let Some(wc) = cmd.wallet_currency.as_deref() {
        let wallet_cur = domain::Currency::parse(wc).map_err(|e| bad(e.to_string()))?;
        let order_cur = domain::Currency::parse(&cart.currency).map_err(|e| bad(e.to_string()))?;
        if provider.method() != PaymentMethod::Wallet {
            return Err(bad("`payment.currency` is for wallet payments"));
        }
        if wallet_cur != order_cur {
            let rate = crate::money::fx::rate_at(tx, order_cur, wallet_cur, now)?;
            let fx = crate::money::payments::FxTender {
                rate_id: rate.id.clone(),
                wallet_currency: wallet_cur.code().into(),
                wallet_amount: rate.convert_up(subtotal)?,
            };
            tender_ref = Some(fx.encode());
        }
    }
    if let Some(split) = &cmd.split {
        if provider.method() != PaymentMethod::Split {
            return Err(bad("`tenders` go with `method: \"split\"`"));
        }
        tender_ref = Some(crate::money::payments::encode_split(&split_parts(
            split,
            subtotal,
            &cart.currency,
            cmd.card_ref.as_deref(),
        )?));
    } else if provider.method() == PaymentMethod::Split {
        return Err(bad("a split payment needs `tenders`"));
    }
    let ctx = PaymentContext {
        order_id: &order_id,
        channel: Channel::Web,
        currency: &cart.currency,
        amount_minor: subtotal,
        customer_id: customer_id.as_deref(),
        location_id: pickup_location,
        // A pickup may be readied at the last moment of its window, which then restarts: the authorization
        // covers both windows, so it never lapses while the order can still be collected.
        hold_until: expires.map_or(now + DELIVERY_HOLD_MS, |e| e + pickup_hold_ms),
        tender_ref: tender_ref.as_deref(),
        now,
        payments,
    };
    let pay_status = provider.authorize(tx, &ctx)?;
    if pay_status != PaymentStatus::Pending || tender_ref.is_some() {
        tx.exec(
            "UPDATE orders SET payment_status = ?, payment_reference = ? WHERE id = ?",
            params![pay_status.as_str(), tender_ref.clone(), &order_id],
        )?;
    }
    let view = OrderView {
        id: order_id.clone(),
        channel: Channel::Web.as_str().into(),
        status: OrderStatus::Placed.as_str().into(),
        customer_id,
        email,
        currency: cart.currency.clone(),
        subtotal: price_view(&cart.currency, subtotal),
        total: price_view(&cart.currency, subtotal),
        fulfillment_type: ftype.as_str().into(),
        location_id: location_id.clone(),
        shipping_address: address,
        payment: PaymentView { method: provider.method().as_str().into(), status: pay_status.as_str().into() },
        pickup: location_id.as_ref().map(|l| PickupView {
            location_id: l.clone(),
            code: None,
            expires_at: expires.map(domain::time::rfc3339),
        }),
        lines: placed
            .iter()
            .map(|p| OrderLineView {
                line_no: p.line_no,
                sku: p.sku.clone(),
                title: Localized { ko: p.title_ko.clone(), en: p.title_en.clone() },
                quantity: p.quantity,
                returned_quantity: 0,
                unit_price: price_view(&cart.currency, p.unit_price_minor),
                line_total: price_view(&cart.currency, p.unit_price_minor.saturating_mul(p.quantity)),
                location_id: p.location_id.clone(),
                routing: p.routing.clone(),
            })
            .collect(),
        placed_at: domain::time::rfc3339(now),
        updated_at: domain::time::rfc3339(now),
    };
    events::emit(tx, "order.placed", &order_id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(view)
}

fn order_for_event(v: &OrderView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

#[allow(clippy::too_many_arguments)]
fn insert_order(
    tx: &mut dyn Tx,
    id: &str,
    channel: Channel,
    status: OrderStatus,
    customer_id: Option<&str>,
    email: Option<&str>,
    currency: &str,
    subtotal: i64,
    ftype: FulfillmentType,
    location_id: Option<&str>,
    address: Option<&str>,
    payment_method: &str,
    payment_status: PaymentStatus,
    pickup_expires_at: Option<i64>,
    cart_id: Option<&str>,
    staff_key_id: Option<&str>,
    lines: &[Placed],
    now: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO orders (id, channel, status, customer_id, email, currency, subtotal_minor, total_minor, fulfillment_type, location_id, shipping_address, \
         payment_method, payment_status, pickup_code, pickup_expires_at, cart_id, staff_key_id, placed_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
        params![id, channel.as_str(), status.as_str(), customer_id, email, currency, subtotal, subtotal, ftype.as_str(), location_id, address,
            payment_method, payment_status.as_str(), pickup_expires_at, cart_id, staff_key_id, now, now],
    )?;
    for l in lines {
        tx.exec(
            "INSERT INTO order_lines (order_id, line_no, sku, title_ko, title_en, quantity, unit_price_minor, location_id, returned_quantity, routing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            params![id, l.line_no, &l.sku, &l.title_ko, &l.title_en, l.quantity, l.unit_price_minor, &l.location_id, l.routing.clone()],
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleLineInput {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct PosSaleCmd {
    pub location_id: String,
    pub lines: Vec<SaleLineInput>,
    pub currency: String,
    pub customer_id: Option<String>,
    pub payment_method: String,
    pub staff_key_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    /// A customer-presented payment code (the shopper's QR); pays from that customer's wallet.
    pub payment_code: Option<String>,
    /// A gift card's secret code when paying by gift card.
    pub gift_card_code: Option<String>,
    /// The shopper confirmed this sale in their app (a merchant-presented payment request).
    pub shopper_confirmed: bool,
    /// `Pos`, or `Cashierless` for a visit charged at the exit gate.
    pub channel: Channel,
    /// Passed to the payment provider (the cashierless session whose entry hold pays).
    pub tender_ref: Option<String>,
}

/// A counter sale: stock leaves the location's ledger at once (no end-of-day sync).
pub(crate) fn pos_sale(tx: &mut dyn Tx, payments: &Payments, cmd: &PosSaleCmd, now: i64) -> Result<OrderView> {
    let order_id = ids::new_id("ord");
    if let Some(key) = &cmd.idempotency_key {
        if let Some(existing) =
            idempotency::begin(tx, &format!("pos.sale:{}", cmd.location_id), key, &cmd.request_hash, &order_id, now)?
        {
            return get(tx, &existing, false);
        }
    }
    if cmd.lines.is_empty() || cmd.lines.len() > MAX_POS_LINES {
        return Err(bad(format!("a sale needs 1–{MAX_POS_LINES} lines")));
    }
    let loc = crate::catalog::locations::get(tx, &cmd.location_id)?
        .ok_or_else(|| EngineError::not_found("location", &cmd.location_id))?;
    if loc.kind == "warehouse" {
        return Err(EngineError::invalid(
            "not_a_store",
            format!("{} is a warehouse; POS sales happen at stores", loc.code),
        ));
    }
    if let Some(c) = &cmd.customer_id {
        if tx.query_opt("SELECT 1 FROM customers WHERE id = ?", params![c])?.is_none() {
            return Err(EngineError::not_found("customer", c));
        }
    }
    // A scanned payment code names the customer and pays from their wallet; its claim rolls back with the
    // sale if anything below fails.
    let mut cmd = cmd.clone();
    if let Some(code) = cmd.payment_code.clone() {
        let owner = crate::money::paycodes::redeem(tx, &code, &order_id, now)?;
        if cmd.customer_id.as_deref().is_some_and(|c| c != owner) {
            return Err(EngineError::conflict(
                "payment_code_customer_mismatch",
                "this payment code belongs to another customer",
            ));
        }
        cmd.customer_id = Some(owner);
        cmd.payment_method = "wallet".into();
    }
    // Staff cannot charge a wallet on their own say-so: the shopper consents by showing a payment code or by
    // confirming a payment request in the app.
    if cmd.payment_method == "wallet" && cmd.payment_code.is_none() && !cmd.shopper_confirmed {
        return Err(EngineError::Forbidden(
            "a wallet is charged at a counter only with the shopper's payment code (wallet_qr) or a payment request they confirm".into(),
        ));
    }
    let cmd = &cmd;
    let provider = payments.require(PaymentMethod::parse(&cmd.payment_method)?)?.clone();
    if !provider.allowed(cmd.channel, false) {
        return Err(EngineError::invalid(
            "unsupported_payment_method",
            format!("`{}` cannot pay a POS sale", cmd.payment_method),
        ));
    }
    // Merge duplicate SKUs and lock rows in a stable order.
    let mut merged: std::collections::BTreeMap<String, i64> = Default::default();
    for l in &cmd.lines {
        let sku = Sku::parse(&l.sku).map_err(bad)?;
        Qty::new(l.quantity).map_err(bad)?;
        let e = merged.entry(sku.as_str().to_owned()).or_default();
        *e = Qty::new(*e + l.quantity).map_err(bad)?.get();
    }
    let mut placed = Vec::new();
    let mut subtotal: i64 = 0;
    for (i, (sku, q)) in merged.iter().enumerate() {
        let p = priced_sku(tx, sku, &cmd.currency)?;
        movements::post(
            tx,
            &Movement {
                sku,
                location_id: &loc.id,
                kind: MovementKind::Sale,
                on_hand: -q,
                reserved: 0,
                unsellable: 0,
                reason: "pos sale",
                source_type: "order",
                source_id: &order_id,
            },
            Guard::Unreserved(*q),
            now,
        )?;
        subtotal = p
            .unit_price_minor
            .checked_mul(*q)
            .and_then(|t| subtotal.checked_add(t))
            .ok_or_else(|| bad("amount overflow"))?;
        placed.push(Placed {
            line_no: i as i64 + 1,
            sku: sku.clone(),
            title_ko: p.title_ko,
            title_en: p.title_en,
            quantity: *q,
            unit_price_minor: p.unit_price_minor,
            location_id: loc.id.clone(),
            routing: None,
        });
    }
    let tender_ref = cmd
        .gift_card_code
        .as_deref()
        .map(|c| crate::money::ledger::gift_card_account_code(c, &cmd.currency))
        .or(cmd.tender_ref.clone());
    let ctx = PaymentContext {
        order_id: &order_id,
        channel: cmd.channel,
        currency: &cmd.currency,
        amount_minor: subtotal,
        customer_id: cmd.customer_id.as_deref(),
        location_id: Some(&loc.id),
        hold_until: now,
        tender_ref: tender_ref.as_deref(),
        now,
        payments,
    };
    let st = provider.authorize(tx, &ctx)?;
    let st = provider.on_handover(tx, &ctx, st)?;
    insert_order(
        tx,
        &order_id,
        cmd.channel,
        OrderStatus::Completed,
        cmd.customer_id.as_deref(),
        None,
        &cmd.currency,
        subtotal,
        FulfillmentType::InStore,
        Some(&loc.id),
        None,
        provider.method().as_str(),
        st,
        None,
        None,
        cmd.staff_key_id.as_deref(),
        &placed,
        now,
    )?;
    if let Some(r) = &tender_ref {
        tx.exec("UPDATE orders SET payment_reference = ? WHERE id = ?", params![r, &order_id])?;
    }
    let view = get(tx, &order_id, false)?;
    events::emit(tx, "order.placed", &order_id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    events::emit(tx, "order.completed", &order_id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(view)
}

struct OrderState {
    status: OrderStatus,
    ftype: FulfillmentType,
    location_id: Option<String>,
    pickup_code: Option<String>,
    payment_method: String,
    payment_status: String,
    currency: String,
    total: i64,
    channel: String,
    pickup_expires_at: Option<i64>,
    customer_id: Option<String>,
    payment_reference: Option<String>,
}

impl OrderState {
    fn payment_status(&self) -> PaymentStatus {
        match self.payment_status.as_str() {
            "paid" => PaymentStatus::Paid,
            "authorized" => PaymentStatus::Authorized,
            "refunded" => PaymentStatus::Refunded,
            "voided" => PaymentStatus::Voided,
            _ => PaymentStatus::Pending,
        }
    }

    fn payment_ctx<'a>(&'a self, id: &'a str, now: i64, payments: &'a Payments) -> PaymentContext<'a> {
        PaymentContext {
            order_id: id,
            channel: match self.channel.as_str() {
                "pos" => Channel::Pos,
                "cashierless" => Channel::Cashierless,
                _ => Channel::Web,
            },
            currency: &self.currency,
            amount_minor: self.total,
            customer_id: self.customer_id.as_deref(),
            location_id: if self.ftype == FulfillmentType::Delivery { None } else { self.location_id.as_deref() },
            hold_until: self.pickup_expires_at.unwrap_or(now),
            tender_ref: self.payment_reference.as_deref(),
            now,
            payments,
        }
    }
}

/// Reads an order's state for a change and locks its row (`FOR UPDATE` on PostgreSQL; SQLite's single
/// writer already serialises), so concurrent handovers, cancellations, expiries and returns of one order
/// run one after the other instead of racing.
fn state(tx: &mut dyn Tx, id: &str, _now: i64) -> Result<OrderState> {
    let sql = format!(
        "SELECT status, fulfillment_type, location_id, pickup_code, payment_method, payment_status, currency, total_minor, channel, pickup_expires_at, customer_id, payment_reference \
         FROM orders WHERE id = ?{}",
        tx.for_update()
    );
    let r = tx.query_opt(&sql, params![id])?.ok_or_else(|| EngineError::not_found("order", id))?;
    let ftype = match r.text(1)?.as_str() {
        "pickup" => FulfillmentType::Pickup,
        "delivery" => FulfillmentType::Delivery,
        _ => FulfillmentType::InStore,
    };
    Ok(OrderState {
        status: OrderStatus::parse(&r.text(0)?).map_err(|m| EngineError::conflict("corrupt_order", m))?,
        ftype,
        location_id: r.opt_text(2)?,
        pickup_code: r.opt_text(3)?,
        payment_method: r.text(4)?,
        payment_status: r.text(5)?,
        currency: r.text(6)?,
        total: r.i64(7)?,
        channel: r.text(8)?,
        pickup_expires_at: r.opt_i64(9)?,
        customer_id: r.opt_text(10)?,
        payment_reference: r.opt_text(11)?,
    })
}

fn check_transition(id: &str, s: &OrderState, next: OrderStatus) -> Result<()> {
    if !s.status.can_become(next, s.ftype) {
        return Err(EngineError::conflict(
            "invalid_transition",
            format!("order `{id}` is {} ({}); it cannot become {}", s.status.as_str(), s.ftype.as_str(), next.as_str()),
        ));
    }
    Ok(())
}

/// Staff at the pickup location restrict their actions to their own store.
fn check_location(s: &OrderState, staff_location: Option<&str>) -> Result<()> {
    if let (Some(staff), Some(loc)) = (staff_location, s.location_id.as_deref()) {
        if staff != loc {
            return Err(EngineError::Forbidden("this order is collected at another location".into()));
        }
    }
    Ok(())
}

fn set_status(tx: &mut dyn Tx, id: &str, from: OrderStatus, to: OrderStatus, now: i64) -> Result<()> {
    let n = tx.exec(
        "UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
        params![to.as_str(), now, id, from.as_str()],
    )?;
    if n != 1 {
        return Err(EngineError::conflict("invalid_transition", format!("order `{id}` changed concurrently")));
    }
    Ok(())
}

/// Picked and waiting: issues a 6-digit pickup code and restarts the collection window.
pub(crate) fn ready_for_pickup(
    tx: &mut dyn Tx,
    id: &str,
    staff_location: Option<&str>,
    hold_ms: i64,
    now: i64,
) -> Result<OrderView> {
    let s = state(tx, id, now)?;
    check_transition(id, &s, OrderStatus::ReadyForPickup)?;
    check_location(&s, staff_location)?;
    set_status(tx, id, s.status, OrderStatus::ReadyForPickup, now)?;
    let code = ids::random_digits(6);
    let expires = now + hold_ms;
    tx.exec("UPDATE orders SET pickup_code = ?, pickup_expires_at = ? WHERE id = ?", params![&code, expires, id])?;
    tx.exec(
        "UPDATE reservations SET expires_at = ?, updated_at = ? WHERE order_id = ? AND status = 'held'",
        params![expires, now, id],
    )?;
    // The payment authorization must last as long as the new collection window: renew it (transfers are
    // immutable, so the old hold is voided and an equal one placed until the new expiry).
    // (Checkout holds for two windows, so this only happens if the pickup window was lengthened since.)
    if let Some(hold) = crate::money::ledger::open_pending(tx, "order", id)?.filter(|h| h.expires_at < expires) {
        crate::money::ledger::renew(tx, &hold, expires, now)?;
    }
    let view = get(tx, id, true)?;
    events::emit(tx, "order.ready_for_pickup", id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(view)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Handover at the desk: the code must match; the reservation becomes a sale.
pub(crate) fn picked_up(
    tx: &mut dyn Tx,
    payments: &Payments,
    id: &str,
    code: &str,
    staff_location: Option<&str>,
    now: i64,
) -> Result<OrderView> {
    let s = state(tx, id, now)?;
    check_transition(id, &s, OrderStatus::PickedUp)?;
    check_location(&s, staff_location)?;
    if s.pickup_expires_at.is_some_and(|t| t < now) {
        return Err(EngineError::conflict(
            "pickup_expired",
            "the pickup window of this order has passed; its stock is being released",
        ));
    }
    if !constant_time_eq(s.pickup_code.as_deref().unwrap_or(""), code.trim()) {
        return Err(EngineError::invalid("wrong_pickup_code", "the pickup code does not match this order"));
    }
    settle_reservations(tx, id, "committed", "picked up", now)?;
    set_status(tx, id, s.status, OrderStatus::PickedUp, now)?;
    handover_payment(tx, payments, id, &s, now)?;
    let view = get(tx, id, false)?;
    events::emit(tx, "order.picked_up", id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(view)
}

fn handover_payment(tx: &mut dyn Tx, payments: &Payments, id: &str, s: &OrderState, now: i64) -> Result<()> {
    if let Some(p) = PaymentMethod::parse(&s.payment_method).ok().and_then(|m| payments.get(m)) {
        let next = p.on_handover(tx, &s.payment_ctx(id, now, payments), s.payment_status())?;
        tx.exec("UPDATE orders SET payment_status = ? WHERE id = ?", params![next.as_str(), id])?;
    }
    Ok(())
}

/// Releases an order's payment authorization (cancellation, expiry).
fn cancel_payment(tx: &mut dyn Tx, payments: &Payments, id: &str, s: &OrderState, now: i64) -> Result<()> {
    if let Some(p) = PaymentMethod::parse(&s.payment_method).ok().and_then(|m| payments.get(m)) {
        let next = p.on_cancel(tx, &s.payment_ctx(id, now, payments), s.payment_status())?;
        tx.exec("UPDATE orders SET payment_status = ? WHERE id = ?", params![next.as_str(), id])?;
    }
    Ok(())
}

/// A delivery order leaves its shipping location(s).
pub(crate) fn ship(tx: &mut dyn Tx, payments: &Payments, id: &str, now: i64) -> Result<OrderView> {
    let s = state(tx, id, now)?;
    check_transition(id, &s, OrderStatus::Shipped)?;
    settle_reservations(tx, id, "committed", "shipped", now)?;
    set_status(tx, id, s.status, OrderStatus::Shipped, now)?;
    handover_payment(tx, payments, id, &s, now)?;
    let view = get(tx, id, false)?;
    events::emit(tx, "order.shipped", id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(view)
}

/// Cancels a placed or ready order and releases its stock. Staff may cancel only pickup orders of their
/// own location; delivery orders are an admin's call.
pub(crate) fn cancel(
    tx: &mut dyn Tx,
    payments: &Payments,
    id: &str,
    reason: &str,
    staff_location: Option<&str>,
    now: i64,
) -> Result<OrderView> {
    let s = state(tx, id, now)?;
    check_transition(id, &s, OrderStatus::Cancelled)?;
    if staff_location.is_some() {
        if s.ftype != FulfillmentType::Pickup {
            return Err(EngineError::Forbidden(
                "staff cancel pickup orders of their own store; ask an admin for delivery orders".into(),
            ));
        }
        check_location(&s, staff_location)?;
    }
    settle_reservations(tx, id, "released", reason, now)?;
    set_status(tx, id, s.status, OrderStatus::Cancelled, now)?;
    cancel_payment(tx, payments, id, &s, now)?;
    let view = get(tx, id, false)?;
    events::emit(
        tx,
        "order.cancelled",
        id,
        &serde_json::json!({ "order": order_for_event(&view), "reason": reason }),
        now,
    )?;
    Ok(view)
}

/// Pickup orders whose collection window has passed, oldest first (at most `limit`).
pub(crate) fn due_pickups(tx: &mut dyn Tx, now: i64, limit: usize) -> Result<Vec<String>> {
    tx.query(
        "SELECT id FROM orders WHERE fulfillment_type = 'pickup' AND status IN ('placed', 'ready_for_pickup') AND pickup_expires_at < ? ORDER BY pickup_expires_at LIMIT ?",
        params![now, limit as i64],
    )?
    .iter()
    .map(|r| Ok(r.text(0)?))
    .collect()
}

/// Expires one uncollected pickup order and releases its stock. `false` if it is no longer due (collected
/// or cancelled meanwhile, or its window was extended).
pub(crate) fn expire_one(tx: &mut dyn Tx, payments: &Payments, id: &str, now: i64) -> Result<bool> {
    let s = state(tx, id, now)?;
    if !s.status.can_become(OrderStatus::Expired, s.ftype) || s.pickup_expires_at.is_none_or(|t| t >= now) {
        return Ok(false);
    }
    settle_reservations(tx, id, "expired", "pickup window passed", now)?;
    set_status(tx, id, s.status, OrderStatus::Expired, now)?;
    cancel_payment(tx, payments, id, &s, now)?;
    let view = get(tx, id, false)?;
    events::emit(tx, "order.expired", id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(true)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    pub sku: String,
    pub quantity: i64,
    /// `restock` (default: back on the shelf) or `unsellable` (damaged, kept out of available stock).
    #[serde(default)]
    pub disposition: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub order_id: String,
    pub location_id: String,
    pub lines: Vec<ReturnLineInput>,
    #[serde(default)]
    pub reason: String,
    /// `original` (default: back to the tenders that paid) or `store_credit` (the shopper's choice; needs a
    /// known customer; money that was collected becomes credit to spend later).
    #[serde(default)]
    pub refund_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefundView {
    pub id: String,
    pub amount: PriceView,
    pub method: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnView {
    pub id: String,
    pub order_id: String,
    pub location_id: String,
    pub reason: String,
    pub lines: Vec<serde_json::Value>,
    pub refund: RefundView,
    pub created_at: String,
}

/// A return at any store: stock comes back at that store (or as unsellable), a refund record is created.
/// `idem` is (scope, key, request hash).
pub(crate) fn create_return(
    tx: &mut dyn Tx,
    payments: &Payments,
    input: &ReturnInput,
    staff_location: Option<&str>,
    idem: Option<(&str, &str, &str)>,
    now: i64,
) -> Result<ReturnView> {
    let rid = ids::new_id("ret");
    if let Some((scope, key, hash)) = idem {
        if let Some(existing) = idempotency::begin(tx, scope, key, hash, &rid, now)? {
            return get_return(tx, &existing);
        }
    }
    if input.lines.is_empty() || input.lines.len() > MAX_RETURN_LINES {
        return Err(bad(format!("a return needs 1–{MAX_RETURN_LINES} lines")));
    }
    let reason = domain::text::optional("reason", &input.reason, 500).map_err(bad)?;
    let loc = crate::catalog::locations::get(tx, &input.location_id)?
        .ok_or_else(|| EngineError::not_found("location", &input.location_id))?;
    if let Some(staff) = staff_location {
        if staff != loc.id {
            return Err(EngineError::Forbidden("staff can take returns only at their own location".into()));
        }
    }
    let s = state(tx, &input.order_id, now)?;
    if !s.status.is_returnable() {
        return Err(EngineError::conflict(
            "not_returnable",
            format!(
                "order `{}` is {}; only handed-over orders can be returned (cancel it instead)",
                input.order_id,
                s.status.as_str()
            ),
        ));
    }
    tx.exec(
        "INSERT INTO returns (id, order_id, location_id, reason, created_at) VALUES (?, ?, ?, ?, ?)",
        params![&rid, &input.order_id, &loc.id, &reason, now],
    )?;
    let mut amount: i64 = 0;
    // Stock rows are locked in SKU order, as everywhere, so concurrent movements cannot deadlock.
    let mut lines = input.lines.clone();
    lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    for (i, l) in lines.iter().enumerate() {
        let q = Qty::new(l.quantity).map_err(bad)?.get();
        let disposition = l.disposition.clone().unwrap_or_else(|| "restock".into());
        if disposition != "restock" && disposition != "unsellable" {
            return Err(bad(format!("`disposition` must be restock or unsellable, got `{disposition}`")));
        }
        // Take the quantity from the order's lines of this SKU that still have unreturned units.
        let mut left = q;
        let order_lines = tx.query(
            "SELECT line_no, quantity - returned_quantity, unit_price_minor FROM order_lines WHERE order_id = ? AND sku = ? ORDER BY line_no",
            params![&input.order_id, &l.sku],
        )?;
        if order_lines.is_empty() {
            return Err(EngineError::invalid(
                "not_in_order",
                format!("`{}` is not in order `{}`", l.sku, input.order_id),
            ));
        }
        for ol in order_lines {
            if left == 0 {
                break;
            }
            let take = left.min(ol.i64(1)?);
            if take == 0 {
                continue;
            }
            tx.exec(
                "UPDATE order_lines SET returned_quantity = returned_quantity + ? WHERE order_id = ? AND line_no = ?",
                params![take, &input.order_id, ol.i64(0)?],
            )?;
            amount = ol
                .i64(2)?
                .checked_mul(take)
                .and_then(|t| amount.checked_add(t))
                .ok_or_else(|| bad("amount overflow"))?;
            left -= take;
        }
        if left > 0 {
            return Err(EngineError::invalid(
                "return_exceeds_order",
                format!("`{}`: {} more returned than were bought and not yet returned", l.sku, left),
            ));
        }
        let (on_hand, unsellable) = if disposition == "restock" { (q, 0) } else { (0, q) };
        movements::post(
            tx,
            &Movement {
                sku: &l.sku,
                location_id: &loc.id,
                kind: MovementKind::Return,
                on_hand,
                reserved: 0,
                unsellable,
                reason: "customer return",
                source_type: "return",
                source_id: &rid,
            },
            Guard::None,
            now,
        )?;
        tx.exec(
            "INSERT INTO return_lines (return_id, line_no, sku, quantity, disposition) VALUES (?, ?, ?, ?, ?)",
            params![&rid, i as i64 + 1, &l.sku, q, &disposition],
        )?;
    }
    // Money goes back only if it was collected, to the tender it came from: the wallet at once, offline
    // tenders by staff (`pending`). An order still unpaid (manual invoice) gets a record that says so, for
    // the finance team to reconcile.
    let refund_id = ids::new_id("rfd");
    let to_credit = match input.refund_to.as_deref() {
        None | Some("original") => false,
        Some("store_credit") => true,
        Some(other) => return Err(bad(format!("`refund_to` must be original or store_credit, got `{other}`"))),
    };
    let provider = PaymentMethod::parse(&s.payment_method).ok().and_then(|m| payments.get(m)).cloned();
    let (method, refund_status) = match (&provider, s.payment_status == "paid") {
        (_, true) if to_credit => {
            let customer = s.customer_id.as_deref().ok_or_else(|| {
                EngineError::invalid(
                    "customer_required",
                    "store credit needs the order's customer; refund to the original tender instead",
                )
            })?;
            let credit = crate::money::ledger::store_credit_account(tx, customer, &s.currency, now)?;
            let refunds = crate::money::ledger::books_account(
                tx,
                crate::money::ledger::kind::REFUNDS,
                &loc.id,
                &s.currency,
                now,
            )?;
            if amount > 0 {
                let purpose = crate::money::ledger::Purpose {
                    reason: "return refunded as store credit",
                    ref_type: "refund",
                    ref_id: &refund_id,
                    transfer_id: None,
                };
                crate::money::ledger::single(tx, &refunds, &credit, amount, &s.currency, &purpose, now)?;
            }
            ("store_credit", "refunded")
        }
        (Some(p), true) => {
            let mut ctx = s.payment_ctx(&input.order_id, now, payments);
            ctx.location_id = Some(&loc.id);
            let out = p.refund(tx, &ctx, amount, &refund_id)?;
            (out.method, out.status)
        }
        (Some(p), false) => (p.refund_method(), "no_payment_collected"),
        (None, _) => ("manual", if s.payment_status == "paid" { "pending" } else { "no_payment_collected" }),
    };
    tx.exec(
        "INSERT INTO refunds (id, order_id, return_id, amount_minor, currency, method, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![&refund_id, &input.order_id, &rid, amount, &s.currency, method, refund_status, now],
    )?;
    let view = get_return(tx, &rid)?;
    let data = serde_json::to_value(&view).unwrap_or_default();
    events::emit(tx, "return.created", &rid, &serde_json::json!({ "return": &data }), now)?;
    events::emit(
        tx,
        "refund.created",
        &refund_id,
        &serde_json::json!({ "refund": &view.refund, "order_id": &input.order_id }),
        now,
    )?;
    Ok(view)
}

pub(crate) fn get_return(tx: &mut dyn Tx, id: &str) -> Result<ReturnView> {
    let r = tx
        .query_opt("SELECT id, order_id, location_id, reason, created_at FROM returns WHERE id = ?", params![id])?
        .ok_or_else(|| EngineError::not_found("return", id))?;
    let lines = tx
        .query("SELECT sku, quantity, disposition FROM return_lines WHERE return_id = ? ORDER BY line_no", params![id])?
        .iter()
        .map(|l| Ok(serde_json::json!({"sku": l.text(0)?, "quantity": l.i64(1)?, "disposition": l.text(2)?})))
        .collect::<Result<Vec<_>>>()?;
    let f = tx
        .query_one("SELECT id, amount_minor, currency, method, status FROM refunds WHERE return_id = ?", params![id])?;
    Ok(ReturnView {
        id: r.text(0)?,
        order_id: r.text(1)?,
        location_id: r.text(2)?,
        reason: r.text(3)?,
        lines,
        refund: RefundView {
            id: f.text(0)?,
            amount: price_view(&f.text(2)?, f.i64(1)?),
            method: f.text(3)?,
            status: f.text(4)?,
        },
        created_at: domain::time::rfc3339(r.i64(4)?),
    })
}
