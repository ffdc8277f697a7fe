//! Card payments through an external processor (Stripe's PaymentIntents model). The network call that
//! authorizes a card happens before the order's transaction (never while holding database locks); the
//! transaction then records the authorization as a ledger hold on the card clearing account. Capture,
//! cancellation and refunds are written as `psp_jobs` in the same transaction as the order change and
//! performed after the commit by a worker that retries until the processor confirms — the processor's
//! idempotency key is the job id, so a retry never captures or refunds twice.

use crate::error::{EngineError, Result};
use crate::money::ledger;
use crate::money::payments::{PaymentContext, PaymentMethod, PaymentProvider, PaymentStatus, RefundOutcome};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use store::{params, Tx};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the processor did not do what was asked.
#[derive(Debug, Clone)]
pub enum CardError {
    /// A final answer: the card was declined (`card_declined`, `insufficient_funds`, …).
    Declined(String),
    /// Unreachable, timed out, or a server error: the outcome is unknown; retry with the same key.
    Unavailable(String),
}

/// A card processor. Implemented in the binary (HTTP); the engine only sees this interface.
pub trait CardGateway: Send + Sync {
    /// Authorizes `amount_minor` without capturing; returns the processor's payment id.
    fn authorize<'a>(
        &'a self,
        amount_minor: i64,
        currency: &'a str,
        payment_method: &'a str,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, std::result::Result<String, CardError>>;
    fn capture<'a>(
        &'a self,
        payment_id: &'a str,
        amount_minor: i64,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, std::result::Result<(), CardError>>;
    fn cancel<'a>(
        &'a self,
        payment_id: &'a str,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, std::result::Result<(), CardError>>;
    fn refund<'a>(
        &'a self,
        payment_id: &'a str,
        amount_minor: i64,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, std::result::Result<(), CardError>>;
}

/// `card:<payment id>:<authorized amount>` in the order's `payment_reference`.
pub(crate) fn encode(payment_id: &str, amount: i64) -> String {
    format!("card:{payment_id}:{amount}")
}

fn decode(s: &str) -> Option<(String, i64)> {
    let rest = s.strip_prefix("card:")?;
    let (id, amount) = rest.rsplit_once(':')?;
    Some((id.to_owned(), amount.parse().ok()?))
}

pub const MAX_JOB_ATTEMPTS: i64 = 20;
/// How long a card authorization (manual capture) stays capturable at the processor.
pub const AUTHORIZATION_VALIDITY_MS: i64 = 7 * 24 * 3600 * 1000;

/// Whether a cancellation was ever queued for this payment.
pub(crate) fn is_cancelled(tx: &mut dyn Tx, payment_id: &str) -> Result<bool> {
    Ok(tx.query_opt("SELECT 1 FROM psp_jobs WHERE intent = ? AND kind = 'cancel'", params![payment_id])?.is_some())
}

/// Compensation for a checkout that failed after its card was authorized: queues the cancellation
/// durably, unless an order uses the payment after all (a concurrent duplicate that won). The cart row is
/// locked first, so this waits for any checkout of the same cart still in flight.
pub(crate) fn release_unused(tx: &mut dyn Tx, cart_id: &str, payment_id: &str, now: i64) -> Result<bool> {
    let lock = format!("SELECT id FROM carts WHERE id = ?{}", tx.for_update());
    tx.query_opt(&lock, params![cart_id])?;
    if super::intents::order_using(tx, payment_id)?.is_some() {
        super::intents::close_for_payment(tx, payment_id, "done", now)?;
        return Ok(false);
    }
    if is_cancelled(tx, payment_id)? {
        return Ok(false);
    }
    enqueue(tx, "cancel", payment_id, 0, None, now)?;
    super::intents::close_for_payment(tx, payment_id, "released", now)?;
    Ok(true)
}

fn enqueue(
    tx: &mut dyn Tx,
    kind: &str,
    payment_id: &str,
    amount: i64,
    refund_id: Option<&str>,
    now: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO psp_jobs (id, kind, intent, amount_minor, refund_id, status, attempts, next_attempt_at, locked_until, last_error, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, 0, NULL, ?, ?)",
        params![domain::ids::new_id("psp"), kind, payment_id, amount, refund_id, now, now, now],
    )?;
    Ok(())
}

/// Pays by card: the hold sits on the card clearing account until the processor captures.
pub struct Card;

fn accounts(tx: &mut dyn Tx, ctx: &PaymentContext<'_>, books: &str) -> Result<(String, String)> {
    let clearing = ledger::books_account(tx, ledger::kind::CLEARING, "card", ctx.currency, ctx.now)?;
    let other = ledger::books_account(tx, books, ctx.location_id.unwrap_or("web"), ctx.currency, ctx.now)?;
    Ok((clearing, other))
}

impl PaymentProvider for Card {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Card
    }
    fn splittable(&self) -> bool {
        true
    }
    fn allowed(&self, channel: domain::Channel, _pickup: bool) -> bool {
        channel == domain::Channel::Web
    }
    fn authorize(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>) -> Result<PaymentStatus> {
        let (payment_id, authorized) = ctx
            .tender_ref
            .and_then(decode)
            .ok_or_else(|| EngineError::invalid("card_required", "a card payment needs an authorized card"))?;
        if authorized != ctx.amount_minor {
            return Err(EngineError::conflict(
                "price_changed",
                "the cart changed after the card was authorized; try again",
            ));
        }
        // A processor replays its first answer for a reused key, even for a payment we cancelled since.
        if is_cancelled(tx, &payment_id)? {
            return Err(EngineError::conflict(
                "card_authorization_cancelled",
                "this card authorization was cancelled; pay again",
            ));
        }
        let (clearing, revenue) = accounts(tx, ctx, ledger::kind::REVENUE)?;
        let purpose = ledger::Purpose {
            reason: "card authorization",
            ref_type: "order",
            ref_id: ctx.order_id,
            transfer_id: None,
        };
        // Card authorizations lapse at the processor after about a week.
        let until = ctx.hold_until.min(ctx.now + AUTHORIZATION_VALIDITY_MS);
        ledger::pending(tx, &clearing, &revenue, ctx.amount_minor, ctx.currency, until, &purpose, ctx.now)?;
        // The order holds the authorization now: its intent is done, in the order's own transaction.
        super::intents::close_for_payment(tx, &payment_id, "done", ctx.now)?;
        Ok(PaymentStatus::Authorized)
    }
    fn on_handover(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        let next = crate::money::payments::capture_order_hold(tx, ctx, current)?;
        if current == PaymentStatus::Authorized {
            let (payment_id, amount) = ctx
                .tender_ref
                .and_then(decode)
                .ok_or_else(|| EngineError::invalid("card_required", "no card on this order"))?;
            enqueue(tx, "capture", &payment_id, amount, None, ctx.now)?;
        }
        Ok(next)
    }
    fn on_cancel(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, current: PaymentStatus) -> Result<PaymentStatus> {
        let next = crate::money::payments::release_order_hold(tx, ctx, current)?;
        if next == PaymentStatus::Voided {
            if let Some((payment_id, _)) = ctx.tender_ref.and_then(decode) {
                enqueue(tx, "cancel", &payment_id, 0, None, ctx.now)?;
            }
        }
        Ok(next)
    }
    fn refund_method(&self) -> &'static str {
        "card"
    }
    fn refund(&self, tx: &mut dyn Tx, ctx: &PaymentContext<'_>, amount: i64, refund_id: &str) -> Result<RefundOutcome> {
        let (payment_id, _) = ctx
            .tender_ref
            .and_then(decode)
            .ok_or_else(|| EngineError::invalid("card_required", "no card on this order"))?;
        if amount > 0 {
            let (clearing, refunds) = accounts(tx, ctx, ledger::kind::REFUNDS)?;
            let purpose =
                ledger::Purpose { reason: "card refund", ref_type: "refund", ref_id: refund_id, transfer_id: None };
            ledger::single(tx, &refunds, &clearing, amount, ctx.currency, &purpose, ctx.now)?;
            enqueue(tx, "refund", &payment_id, amount, Some(refund_id), ctx.now)?;
        }
        // `pending` until the processor confirms; the job worker marks it `refunded`.
        Ok(RefundOutcome { method: "card", status: if amount > 0 { "pending" } else { "refunded" } })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payment_id: String,
    pub amount_minor: i64,
    pub refund_id: Option<String>,
    pub attempts: i64,
    pub lease: i64,
}

/// Leases due jobs to one worker.
pub(crate) fn claim(tx: &mut dyn Tx, limit: usize, now: i64) -> Result<Vec<Job>> {
    let rows = tx.query(
        "SELECT j.id, j.kind, j.intent, j.amount_minor, j.refund_id, j.attempts FROM psp_jobs j WHERE j.status = 'pending' AND j.next_attempt_at <= ? AND j.locked_until <= ? \
         AND NOT (j.kind = 'refund' AND EXISTS (SELECT 1 FROM psp_jobs c WHERE c.intent = j.intent AND c.kind = 'capture' AND c.status <> 'done')) \
         ORDER BY j.created_at LIMIT ?",
        params![now, now, limit as i64],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let lease = now + 60_000 + rand::random_range(0..1000i64);
        let id = r.text(0)?;
        if tx.exec(
            "UPDATE psp_jobs SET locked_until = ? WHERE id = ? AND locked_until <= ? AND status = 'pending'",
            params![lease, &id, now],
        )? == 1
        {
            out.push(Job {
                id,
                kind: r.text(1)?,
                payment_id: r.text(2)?,
                amount_minor: r.i64(3)?,
                refund_id: r.opt_text(4)?,
                attempts: r.i64(5)?,
                lease,
            });
        }
    }
    Ok(out)
}

/// Records a job's outcome under its lease: done (and, for refunds, the refund record becomes `refunded`),
/// retried with backoff, or failed after [`MAX_JOB_ATTEMPTS`] (left for staff, logged).
pub(crate) fn finish(tx: &mut dyn Tx, job: &Job, outcome: std::result::Result<(), CardError>, now: i64) -> Result<()> {
    let attempts = job.attempts + 1;
    let (status, err) = match &outcome {
        Ok(()) => ("done", None),
        Err(CardError::Declined(e)) => ("failed", Some(e.clone())),
        Err(CardError::Unavailable(e)) if attempts >= MAX_JOB_ATTEMPTS => ("failed", Some(e.clone())),
        Err(CardError::Unavailable(e)) => ("pending", Some(e.clone())),
    };
    let backoff = (1_000i64 << attempts.min(12)).min(600_000);
    let n = tx.exec(
        "UPDATE psp_jobs SET status = ?, attempts = ?, next_attempt_at = ?, locked_until = 0, last_error = ?, updated_at = ? WHERE id = ? AND locked_until = ?",
        params![status, attempts, now + backoff, err.clone(), now, &job.id, job.lease],
    )?;
    if n == 1 && status == "failed" {
        tracing::error!(job = %job.id, kind = %job.kind, payment = %job.payment_id, "card processor job failed for good; needs staff");
        if job.kind == "capture" {
            // The goods left against an authorization that could not be captured: make it visible.
            if let Some(order) = super::intents::order_using(tx, &job.payment_id)? {
                tx.exec("UPDATE orders SET payment_status = 'capture_failed' WHERE id = ?", params![order])?;
            }
        }
        crate::platform::events::emit(
            tx,
            "payment.job_failed",
            &job.id,
            &serde_json::json!({"job": &job, "error": err}),
            now,
        )?;
    }
    if n == 1 && status == "done" {
        if let Some(rid) = &job.refund_id {
            tx.exec("UPDATE refunds SET status = 'refunded' WHERE id = ?", params![rid])?;
        }
    }
    Ok(())
}

/// How old a webhook's signed timestamp may be (Stripe's default tolerance).
pub const WEBHOOK_TOLERANCE_S: i64 = 300;

/// Verifies a `Stripe-Signature` header (`t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`, several
/// `v1` allowed during secret rotation) against the raw payload.
pub fn verify_signature(secret: &str, header: &str, payload: &[u8], now_s: i64) -> Result<()> {
    use hmac::{Hmac, KeyInit, Mac};
    let bad = |m: &str| EngineError::invalid("invalid_signature", m.to_owned());
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_owned()),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| bad("the signature header has no timestamp"))?;
    if (now_s - t).abs() > WEBHOOK_TOLERANCE_S {
        return Err(bad("the webhook's timestamp is outside the tolerance (replayed or clock skew)"));
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    // Each candidate is checked by the MAC's own constant-time verification.
    let ok = sigs.iter().any(|s| hex::decode(s).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok()));
    if !ok {
        return Err(bad("the webhook signature does not match"));
    }
    Ok(())
}

/// Applies a verified processor event once: confirmations of captures, cancellations and refunds settle the
/// matching jobs (the processor may confirm before our own call returns, or our call may have timed out
/// after succeeding). Returns `false` for a duplicate delivery.
pub(crate) fn apply_event(tx: &mut dyn Tx, event: &serde_json::Value, now: i64) -> Result<bool> {
    let id = event["id"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or_else(|| EngineError::invalid("invalid_event", "the event has no id"))?;
    let kind = event["type"].as_str().unwrap_or("");
    let object = &event["data"]["object"];
    let payment = object["payment_intent"].as_str().or(object["id"].as_str()).unwrap_or("").to_owned();
    // Refunds are settled one by one: each refund we ask for carries its job id as metadata.
    let refund_job = object["metadata"]["borderless_job"].as_str().map(str::to_owned);
    let n = tx.exec(
        "INSERT INTO psp_events (id, type, payment_id, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        params![id, kind, &payment, now],
    )?;
    if n == 0 {
        return Ok(false);
    }
    let settle = |tx: &mut dyn Tx, job_kind: &str| -> Result<()> {
        tx.exec(
            "UPDATE psp_jobs SET status = 'done', updated_at = ? WHERE intent = ? AND kind = ? AND status = 'pending'",
            params![now, &payment, job_kind],
        )?;
        Ok(())
    };
    match kind {
        "payment_intent.succeeded" => settle(tx, "capture")?,
        "payment_intent.canceled" => {
            settle(tx, "cancel")?;
            // Whatever cancelled it, an order that relied on it may not be handed over now. (The order is
            // found by the exact payment id: an empty or partial id matches nothing.)
            if let Some(order) = super::intents::order_using(tx, &payment)? {
                tx.exec(
                    "UPDATE orders SET payment_status = 'voided' WHERE payment_status = 'authorized' AND id = ?",
                    params![order],
                )?;
            }
        }
        "refund.created" | "refund.updated" if object["status"] == "succeeded" => {
            if let Some(job) = refund_job {
                let n = tx.exec(
                    "UPDATE psp_jobs SET status = 'done', updated_at = ? WHERE id = ? AND kind = 'refund' AND intent = ? AND status = 'pending'",
                    params![now, &job, &payment],
                )?;
                if n == 1 {
                    tx.exec("UPDATE refunds SET status = 'refunded' WHERE id = (SELECT refund_id FROM psp_jobs WHERE id = ?)", params![&job])?;
                }
            }
        }
        _ => {}
    }
    Ok(true)
}

/// A gateway failure as the engine reports it.
pub(crate) fn card_error(e: CardError) -> EngineError {
    match e {
        CardError::Declined(code) => EngineError::PaymentDeclined(code),
        CardError::Unavailable(m) => {
            EngineError::Db(store::DbError::new(store::DbErrorKind::Unavailable, format!("card processor: {m}")))
        }
    }
}
