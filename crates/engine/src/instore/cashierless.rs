//! The money side of a cashierless visit. At the entry gate the shopper's one-time payment code (their QR)
//! opens a session and pre-authorizes their wallet up to a cap (a pending transfer that expires with the
//! session). At the exit the basket that the store's sensors built is sold at the store — stock leaves its
//! ledger — and paid from that hold: the basket's amount is captured and the rest released in the same
//! transaction; a basket above the hold takes the difference from the wallet if it can. A shopper who
//! leaves with nothing has the hold released. (Gates, shelves and tracking that build the basket are #4.)

use crate::error::{bad, EngineError, Result};
use crate::money::ledger;
use crate::money::payments::{PaymentContext, PaymentMethod, PaymentProvider, PaymentStatus, Payments, RefundOutcome};
use crate::sales::orders::{self, OrderView, SaleLineInput};
use serde::Serialize;
use store::{params, Tx};

/// How long a visit may last before its hold lapses.
pub const SESSION_TTL_MS: i64 = 3 * 3600 * 1000;
/// The least an entry gate holds (or the cap, if smaller): a wallet with less does not open the gate.
pub const MIN_ENTRY_HOLD_MINOR: i64 = 10_000;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SessionView {
    pub id: String,
    pub location_id: String,
    pub customer_id: String,
    pub status: String,
    pub currency: String,
    /// What the entry gate pre-authorized on the wallet.
    pub hold_minor: i64,
    pub order_id: Option<String>,
    pub entered_at: String,
    pub expires_at: String,
}

fn get(tx: &mut dyn Tx, id: &str, lock: bool) -> Result<SessionView> {
    let sql = format!(
        "SELECT id, location_id, customer_id, status, currency, hold_minor, order_id, entered_at, expires_at FROM cashierless_sessions WHERE id = ?{}",
        if lock { tx.for_update() } else { "" }
    );
    let r = tx.query_opt(&sql, params![id])?.ok_or_else(|| EngineError::not_found("cashierless session", id))?;
    Ok(SessionView {
        id: r.text(0)?,
        location_id: r.text(1)?,
        customer_id: r.text(2)?,
        status: r.text(3)?,
        currency: r.text(4)?,
        hold_minor: r.i64(5)?,
        order_id: r.opt_text(6)?,
        entered_at: domain::time::rfc3339(r.i64(7)?),
        expires_at: domain::time::rfc3339(r.i64(8)?),
    })
}

pub(crate) fn view(tx: &mut dyn Tx, id: &str) -> Result<SessionView> {
    get(tx, id, false)
}

/// The entry gate: the payment code names the shopper; their wallet is held for up to `cap_minor`.
pub(crate) fn enter(
    tx: &mut dyn Tx,
    location_id: &str,
    payment_code: &str,
    cap_minor: i64,
    currency: &str,
    now: i64,
) -> Result<SessionView> {
    let loc = crate::catalog::locations::get(tx, location_id)?
        .ok_or_else(|| EngineError::not_found("location", location_id))?;
    if loc.kind != "cashierless" {
        return Err(EngineError::invalid("not_cashierless", format!("{} is not a cashierless store", loc.code)));
    }
    let id = domain::ids::new_id("visit");
    let customer = crate::money::paycodes::redeem(tx, payment_code, &id, now)?;
    let wallet = ledger::wallet_account(tx, &customer, currency, now)?;
    let available = ledger::get_account(tx, &wallet)?.map_or(0, |a| a.available_minor);
    let hold = available.min(cap_minor);
    if hold < MIN_ENTRY_HOLD_MINOR.min(cap_minor) {
        return Err(EngineError::conflict(
            "insufficient_funds",
            format!(
                "entering needs at least {} won in the wallet; top it up first",
                MIN_ENTRY_HOLD_MINOR.min(cap_minor)
            ),
        ));
    }
    let revenue = ledger::books_account(tx, ledger::kind::REVENUE, &loc.id, currency, now)?;
    let expires = now + SESSION_TTL_MS;
    let purpose = ledger::Purpose {
        reason: "cashierless entry pre-authorization",
        ref_type: "cashierless",
        ref_id: &id,
        transfer_id: None,
    };
    ledger::pending(tx, &wallet, &revenue, hold, currency, expires, &purpose, now)?;
    tx.exec(
        "INSERT INTO cashierless_sessions (id, location_id, customer_id, status, currency, hold_minor, order_id, entered_at, exited_at, expires_at) \
         VALUES (?, ?, ?, 'open', ?, ?, NULL, ?, NULL, ?)",
        params![&id, &loc.id, &customer, currency, hold, now, expires],
    )?;
    crate::platform::events::emit(
        tx,
        "cashierless.entered",
        &id,
        &serde_json::json!({"session": &id, "location_id": &loc.id, "customer_id": &customer, "hold_minor": hold}),
        now,
    )?;
    get(tx, &id, false)
}

/// The exit gate: sells the basket at the store and charges it from the entry hold.
pub(crate) fn exit(
    tx: &mut dyn Tx,
    payments: &Payments,
    session_id: &str,
    lines: Vec<SaleLineInput>,
    staff_key_id: &str,
    now: i64,
) -> Result<(SessionView, Option<OrderView>)> {
    let s = get(tx, session_id, true)?;
    if s.status != "open" {
        // A gate that retries the same exit (say, after a network blip) gets the same receipt; a different
        // basket for a closed visit is refused.
        let previous = match &s.order_id {
            Some(o) => Some(orders::get(tx, o, false)?),
            None => None,
        };
        let mut asked: std::collections::BTreeMap<&str, i64> = Default::default();
        for l in &lines {
            *asked.entry(l.sku.as_str()).or_default() += l.quantity;
        }
        let mut sold: std::collections::BTreeMap<&str, i64> = Default::default();
        for l in previous.iter().flat_map(|o| o.lines.iter()) {
            *sold.entry(l.sku.as_str()).or_default() += l.quantity;
        }
        if asked == sold {
            return Ok((s, previous));
        }
        return Err(EngineError::conflict(
            "session_closed",
            format!("this visit is already {} with a different basket", s.status),
        ));
    }
    let order = if lines.is_empty() {
        // Left with nothing: release the hold.
        if let Some(hold) = ledger::open_pending(tx, "cashierless", session_id)? {
            let purpose = ledger::Purpose {
                reason: "left without items",
                ref_type: "cashierless",
                ref_id: session_id,
                transfer_id: None,
            };
            ledger::resolve(tx, &hold, "void", None, &purpose, now)?;
        }
        None
    } else {
        let cmd = orders::PosSaleCmd {
            location_id: s.location_id.clone(),
            lines,
            currency: s.currency.clone(),
            customer_id: Some(s.customer_id.clone()),
            payment_method: "cashierless_hold".into(),
            staff_key_id: Some(staff_key_id.to_owned()),
            idempotency_key: None,
            request_hash: String::new(),
            payment_code: None,
            gift_card_code: None,
            shopper_confirmed: true,
            channel: domain::Channel::Cashierless,
            tender_ref: Some(session_id.to_owned()),
        };
        Some(orders::pos_sale(tx, payments, &cmd, now)?)
    };
    let status = "completed";
    tx.exec(
        "UPDATE cashierless_sessions SET status = ?, order_id = ?, exited_at = ? WHERE id = ? AND status = 'open'",
        params![status, order.as_ref().map(|o| o.id.clone()), now, session_id],
    )?;
    crate::platform::events::emit(
        tx,
        "cashierless.exited",
        session_id,
        &serde_json::json!({"session": session_id, "order_id": order.as_ref().map(|o| o.id.clone())}),
        now,
    )?;
    Ok((get(tx, session_id, false)?, order))
}

/// Closes visits past their expiry that never passed the exit (a shopper who left unseen, a visit that
/// waited for a review nobody settled): their wallet holds lapse with them (the hold sweep releases them).
/// Returns how many.
pub(crate) fn expire(tx: &mut dyn Tx, now: i64) -> Result<usize> {
    let ids: Vec<String> = tx
        .query("SELECT id FROM cashierless_sessions WHERE status = 'open' AND expires_at < ? ORDER BY expires_at LIMIT 500", params![now])?
        .iter()
        .map(|r| r.text(0))
        .collect::<std::result::Result<_, _>>()?;
    let mut n = 0;
    for id in ids {
        if tx.exec(
            "UPDATE cashierless_sessions SET status = 'cancelled', exited_at = ? WHERE id = ? AND status = 'open'",
            params![now, &id],
        )? == 1
        {
            crate::platform::events::emit(tx, "cashierless.expired", &id, &serde_json::json!({"session": &id}), now)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Pays a cashierless basket from the session's entry hold (and the wallet for any excess).
pub struct EntryHold;

impl PaymentProvider for EntryHold {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::CashierlessHold
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        channel == domain::Channel::Cashierless
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        // The shopper has left with the goods: collect what the hold covers, then what the wallet can give;
        // never fail the sale (the stock is gone either way) — record any shortfall for staff instead.
        let session = ctx.tender_ref.ok_or_else(|| bad("no cashierless session"))?;
        let customer = ctx.customer_id.ok_or_else(|| bad("no customer on the visit"))?;
        let mut collected = 0;
        if let Some(hold) = ledger::open_pending(tx, "cashierless", session)? {
            let captured = ctx.amount_minor.min(hold.amount);
            let purpose = ledger::Purpose {
                reason: "cashierless basket captured at exit",
                ref_type: "cashierless",
                ref_id: session,
                transfer_id: None,
            };
            ledger::resolve(tx, &hold, "post", Some(captured), &purpose, ctx.now)?;
            collected = captured;
        }
        let excess = ctx.amount_minor - collected;
        if excess > 0 {
            let wallet = ledger::wallet_account(tx, customer, ctx.currency, ctx.now)?;
            let available = ledger::get_account(tx, &wallet)?.map_or(0, |a| a.available_minor).max(0);
            let take = excess.min(available);
            if take > 0 {
                let revenue = ledger::books_account(
                    tx,
                    ledger::kind::REVENUE,
                    ctx.location_id.unwrap_or("web"),
                    ctx.currency,
                    ctx.now,
                )?;
                let extra = ledger::Purpose {
                    reason: "cashierless basket beyond the entry hold",
                    ref_type: "order",
                    ref_id: ctx.order_id,
                    transfer_id: None,
                };
                ledger::single(tx, &wallet, &revenue, take, ctx.currency, &extra, ctx.now)?;
                collected += take;
            }
        }
        if collected < ctx.amount_minor {
            crate::platform::events::emit(
                tx,
                "cashierless.shortfall",
                session,
                &serde_json::json!({"session": session, "order_id": ctx.order_id, "customer_id": customer, "amount_minor": ctx.amount_minor, "collected_minor": collected}),
                ctx.now,
            )?;
            return Ok(PaymentStatus::PartiallyPaid);
        }
        Ok(PaymentStatus::Paid)
    }
    fn on_handover(&self, _: &mut dyn Tx, _: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        Ok(current)
    }
    fn refund_method(&self) -> &'static str {
        "wallet"
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        let mut wallet_ctx = PaymentContext { tender_ref: None, ..*ctx };
        wallet_ctx.channel = domain::Channel::Pos;
        crate::money::payments::StoredValue::WALLET.refund(tx, &wallet_ctx, amount, refund_id)
    }
}
