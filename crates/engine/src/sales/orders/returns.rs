//! Returns at any store: stock comes back (or as unsellable) and the refund goes back to the tenders.

use super::*;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    pub sku: String,
    pub quantity: i64,
    /// `restock` (default: back on the shelf) or `unsellable` (damaged, kept out of available stock).
    #[serde(default)]
    pub disposition: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RefundView {
    pub id: String,
    pub amount: PriceView,
    pub method: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    for l in lines.iter_mut() {
        l.sku = crate::catalog::products::canonical_sku(&l.sku)?;
    }
    lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    for (i, l) in lines.iter().enumerate() {
        let q = Qty::new(l.quantity).map_err(|m| EngineError::invalid("invalid_quantity", m))?.get();
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
