//! Web checkout: split tenders, reservations at the pickup store or where routing chooses, the payment's authorization, the order and its event in one transaction.

use super::*;

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
    /// Taken by staff on a shopper's behalf (a phone order, an invoice): `manual` is allowed, and the
    /// caps on unpaid orders do not apply.
    pub staff: bool,
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
    // Checked: amounts near i64::MAX must not wrap around to the total (in a release build they would).
    let fixed: i64 = parts
        .iter()
        .filter_map(|p| p.amount_minor)
        .try_fold(0i64, |acc, a| acc.checked_add(a))
        .ok_or_else(|| EngineError::invalid("invalid_split", "the tenders' amounts are too large"))?;
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
                    return Err(EngineError::invalid(
                        "gift_card_required",
                        "a gift card tender needs the card's number as `code`",
                    ))
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
    cfg: &crate::Config,
    cmd: &CheckoutCmd,
    now: i64,
) -> Result<OrderView> {
    let pickup_hold_ms = cfg.pickup_hold_ms;
    let order_id = ids::new_id("ord");
    if let Some(key) = &cmd.idempotency_key {
        let scope = format!("store.checkout:{}", cmd.cart_id);
        if let Some(existing) = idempotency::begin(tx, &scope, key, &cmd.request_hash, &order_id, now)? {
            let mut view = get(tx, &existing, true)?;
            view.access_token = Some(access_token(tx, &existing)?);
            return Ok(view);
        }
    }
    // Locks the cart: a concurrent checkout of the same cart or a line added meanwhile waits for this one.
    let cart = carts::lock(tx, &cmd.cart_id)?;
    carts::check_owner(&cmd.cart_id, &cart, cmd.customer_id.as_deref())?;
    if cart.status != "open" {
        return Err(EngineError::conflict(
            "cart_completed",
            format!("cart `{}` is already checked out; start a new cart", cmd.cart_id),
        ));
    }
    let fulfillment = cart.fulfillment.clone().ok_or_else(|| {
        EngineError::invalid(
            "fulfillment_required",
            "set the cart's fulfillment (delivery address or pickup store) before checkout",
        )
    })?;
    let email = match &cmd.email {
        Some(e) => Some(domain::text::email(e).map_err(|m| EngineError::invalid("invalid_email", m))?),
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
    let provider = payments.for_channel(&cmd.payment_method, Channel::Web, pickup)?.clone();
    let unpaid = matches!(provider.method(), PaymentMethod::PayAtPickup | PaymentMethod::Manual);
    if provider.method() == PaymentMethod::Manual && !cmd.staff {
        return Err(EngineError::invalid(
            "unsupported_payment_method",
            format!(
                "`manual` (settled outside borderless: an invoice, a bank transfer) is for orders staff take; pay with {}",
                if pickup { "pay_at_pickup, wallet, gift_card, store_credit or card" } else { "wallet, gift_card, store_credit or card" }
            ),
        ));
    }
    if unpaid && !cmd.staff {
        check_unpaid_caps(tx, cfg, &lines, customer_id.as_deref(), email.as_deref())?;
    }
    // Stock held for an order nobody has paid yet is released when the window passes: the pickup window,
    // or for a staff-taken `manual` delivery the time it has to ship.
    let expires = if pickup {
        Some(now + pickup_hold_ms)
    } else if unpaid {
        Some(now + cfg.unpaid_hold_ms)
    } else {
        None
    };
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
            options: l.options.clone(),
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
        let wallet_cur =
            domain::Currency::parse(wc).map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
        let order_cur = domain::Currency::parse(&cart.currency)
            .map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
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
                options: p.options.clone(),
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
        access_token: None,
    };
    events::emit(tx, "order.placed", &order_id, &serde_json::json!({ "order": order_for_event(&view) }), now)?;
    Ok(OrderView { access_token: Some(access_token(tx, &order_id)?), ..view })
}

/// The caps on unpaid click & collect orders: units per order, and open unpaid orders per shopper (the
/// signed-in account, or the guest's email).
fn check_unpaid_caps(
    tx: &mut dyn Tx,
    cfg: &crate::Config,
    lines: &[carts::PricedLine],
    customer_id: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    let units: i64 = lines.iter().map(|l| l.quantity).sum();
    if units > cfg.unpaid_max_units {
        return Err(EngineError::invalid(
            "unpaid_order_too_large",
            format!(
                "an order paid at pickup holds at most {} units (this one has {units}); pay online (wallet, gift card, card) or split the order",
                cfg.unpaid_max_units
            ),
        ));
    }
    const OPEN: &str =
        "SELECT COUNT(*) FROM orders WHERE payment_status = 'pending' AND status IN ('placed', 'ready_for_pickup')";
    let mut open = 0;
    if let Some(c) = customer_id {
        open = tx.query_one(&format!("{OPEN} AND customer_id = ?"), params![c])?.i64(0)?;
    }
    if let Some(e) = email {
        let by_email = tx.query_one(&format!("{OPEN} AND email = ?"), params![e])?.i64(0)?;
        open = open.max(by_email);
    }
    if open >= cfg.unpaid_max_open_orders {
        return Err(EngineError::conflict(
            "too_many_unpaid_orders",
            format!(
                "you already have {open} orders waiting to be paid at pickup (the most is {}); collect one, cancel one from its order page, or pay online",
                cfg.unpaid_max_open_orders
            ),
        ));
    }
    Ok(())
}

pub(crate) fn order_for_event(v: &OrderView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_order(
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

#[cfg(test)]
mod tests {
    use crate::sales::SplitTender;
    use proptest::prelude::*;

    fn tender(method: &str, amount: Option<i64>) -> SplitTender {
        let code = match method {
            "gift_card" => Some("GC-TEST".to_owned()),
            "card" => Some("pm_x".to_owned()),
            _ => None,
        };
        SplitTender { method: method.to_owned(), code, amount_minor: amount }
    }

    proptest! {
        /// Whatever the tenders say, an accepted split pays exactly the total in positive parts, honours
        /// every fixed amount, and nothing panics or wraps.
        #[test]
        fn accepted_splits_pay_exactly_the_total(
            total in 1i64..=i64::MAX,
            amounts in proptest::collection::vec(proptest::option::weighted(0.8, proptest::num::i64::ANY), 0..6),
            methods in proptest::collection::vec(prop_oneof!["wallet", "gift_card", "store_credit", "card", "cash"], 6),
        ) {
            let parts: Vec<SplitTender> = amounts.iter().zip(&methods).map(|(a, m)| tender(m, *a)).collect();
            if let Ok(out) = super::split_parts(&parts, total, "KRW", Some("card:pi_1:1")) {
                let sum = out.iter().try_fold(0i64, |acc, p| acc.checked_add(p.a));
                prop_assert_eq!(sum, Some(total));
                prop_assert!(out.iter().all(|p| p.a > 0));
                for (p, t) in out.iter().zip(&parts) {
                    if let Some(a) = t.amount_minor {
                        prop_assert_eq!(p.a, a);
                    }
                }
                prop_assert!((2..=4).contains(&out.len()));
            }
        }

        /// Amounts that add up to the total only by wrapping around i64 are refused.
        #[test]
        fn wrapped_sums_are_refused(total in 1i64..1_000_000) {
            let big = i64::MAX;
            let rest = total.wrapping_sub(big).wrapping_sub(big);
            let parts = vec![tender("wallet", Some(big)), tender("gift_card", Some(big)), tender("store_credit", Some(rest))];
            prop_assert!(super::split_parts(&parts, total, "KRW", None).is_err());
        }
    }
}
