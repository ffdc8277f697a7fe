//! An order after it is placed: ready for pickup, handover with the code, shipment, cancellation and expiry, each under the order's row lock.

use super::*;

pub(crate) struct OrderState {
    pub(crate) status: OrderStatus,
    pub(crate) ftype: FulfillmentType,
    pub(crate) location_id: Option<String>,
    pub(crate) pickup_code: Option<String>,
    pub(crate) payment_method: String,
    pub(crate) payment_status: String,
    pub(crate) currency: String,
    pub(crate) total: i64,
    pub(crate) channel: String,
    pub(crate) pickup_expires_at: Option<i64>,
    pub(crate) customer_id: Option<String>,
    pub(crate) payment_reference: Option<String>,
}

impl OrderState {
    pub(crate) fn payment_status(&self) -> PaymentStatus {
        match self.payment_status.as_str() {
            "paid" => PaymentStatus::Paid,
            "authorized" => PaymentStatus::Authorized,
            "refunded" => PaymentStatus::Refunded,
            "voided" => PaymentStatus::Voided,
            _ => PaymentStatus::Pending,
        }
    }

    pub(crate) fn payment_ctx<'a>(&'a self, id: &'a str, now: i64, payments: &'a Payments) -> PaymentContext<'a> {
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
pub(crate) fn state(tx: &mut dyn Tx, id: &str, _now: i64) -> Result<OrderState> {
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

pub(crate) fn check_transition(id: &str, s: &OrderState, next: OrderStatus) -> Result<()> {
    if !s.status.can_become(next, s.ftype) {
        return Err(EngineError::conflict(
            "invalid_transition",
            format!("order `{id}` is {} ({}); it cannot become {}", s.status.as_str(), s.ftype.as_str(), next.as_str()),
        ));
    }
    Ok(())
}

/// Staff at the pickup location restrict their actions to their own store.
pub(crate) fn check_location(s: &OrderState, staff_location: Option<&str>) -> Result<()> {
    if let (Some(staff), Some(loc)) = (staff_location, s.location_id.as_deref()) {
        if staff != loc {
            return Err(EngineError::Forbidden("this order is collected at another location".into()));
        }
    }
    Ok(())
}

pub(crate) fn set_status(tx: &mut dyn Tx, id: &str, from: OrderStatus, to: OrderStatus, now: i64) -> Result<()> {
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

pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
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

pub(crate) fn handover_payment(tx: &mut dyn Tx, payments: &Payments, id: &str, s: &OrderState, now: i64) -> Result<()> {
    if let Some(p) = PaymentMethod::parse(&s.payment_method).ok().and_then(|m| payments.get(m)) {
        let next = p.on_handover(tx, &s.payment_ctx(id, now, payments), s.payment_status())?;
        tx.exec("UPDATE orders SET payment_status = ? WHERE id = ?", params![next.as_str(), id])?;
    }
    Ok(())
}

/// Releases an order's payment authorization (cancellation, expiry).
pub(crate) fn cancel_payment(tx: &mut dyn Tx, payments: &Payments, id: &str, s: &OrderState, now: i64) -> Result<()> {
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

/// Orders whose hold has passed, oldest first (at most `limit`): uncollected pickups, and unpaid
/// staff-taken delivery orders not shipped in time.
pub(crate) fn due_pickups(tx: &mut dyn Tx, now: i64, limit: usize) -> Result<Vec<String>> {
    tx.query(
        "SELECT id FROM orders WHERE status IN ('placed', 'ready_for_pickup') AND pickup_expires_at < ? ORDER BY pickup_expires_at LIMIT ?",
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
    let why =
        if s.ftype == FulfillmentType::Pickup { "pickup window passed" } else { "unpaid and not shipped in time" };
    settle_reservations(tx, id, "expired", why, now)?;
    set_status(tx, id, s.status, OrderStatus::Expired, now)?;
    cancel_payment(tx, payments, id, &s, now)?;
    let view = get(tx, id, false)?;
    events::emit(tx, "order.expired", id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(true)
}
