//! Counter sales (POS and cashierless exits): stock leaves the location's ledger at once, paid by the tender.

use super::*;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
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
    let provider = payments.for_channel(&cmd.payment_method, cmd.channel, false)?.clone();
    // Merge duplicate SKUs and lock rows in a stable order.
    let mut merged: std::collections::BTreeMap<String, i64> = Default::default();
    for l in &cmd.lines {
        let sku = Sku::parse(&l.sku).map_err(bad)?;
        Qty::new(l.quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?;
        let e = merged.entry(sku.as_str().to_owned()).or_default();
        *e = Qty::new(*e + l.quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?.get();
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
            options: p.options,
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
