//! Durable intent rows for calls to the card processor. Before borderless asks the processor to authorize
//! or capture, it writes what it is about to do (the purpose, the amount, the processor idempotency key);
//! each step's outcome moves the row on, and the step that finishes the work (the wallet credit, the
//! order) closes it in the same transaction. A crash anywhere in between leaves an open row, and the
//! reconciliation sweep drives it to its end with the same processor keys: a captured top-up is credited
//! once, an authorization no order uses is cancelled.

use crate::error::Result;
use store::{params, Tx};

/// An intent left open this long is taken over by the sweep (requests in flight finish well within it).
pub const RECONCILE_AFTER_MS: i64 = 10_000;
/// Times the sweep retries an intent whose processor does not answer before it is left to staff.
pub const MAX_SWEEPS: i64 = 50;

/// An open intent, as the sweep reads it.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    /// `top_up` or `checkout`.
    pub purpose: String,
    pub customer_id: Option<String>,
    pub cart_id: Option<String>,
    pub idempotency_key: String,
    pub request_hash: String,
    pub amount_minor: i64,
    pub currency: String,
    pub payment_method: String,
    pub processor_key: String,
    pub payment_id: Option<String>,
    /// `started`, `authorized` or `captured`.
    pub status: String,
    pub attempts: i64,
}

pub(crate) struct NewIntent<'a> {
    pub purpose: &'a str,
    pub customer_id: Option<&'a str>,
    pub cart_id: Option<&'a str>,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub payment_method: &'a str,
    pub processor_key: &'a str,
}

const COLS: &str = "id, purpose, customer_id, cart_id, idempotency_key, request_hash, amount_minor, currency, payment_method, processor_key, payment_id, status, attempts";

fn from_row(r: &store::Row) -> Result<Intent> {
    Ok(Intent {
        id: r.text(0)?,
        purpose: r.text(1)?,
        customer_id: r.opt_text(2)?,
        cart_id: r.opt_text(3)?,
        idempotency_key: r.text(4)?,
        request_hash: r.text(5)?,
        amount_minor: r.i64(6)?,
        currency: r.text(7)?,
        payment_method: r.text(8)?,
        processor_key: r.text(9)?,
        payment_id: r.opt_text(10)?,
        status: r.text(11)?,
        attempts: r.i64(12)?,
    })
}

/// Records the intent before the processor is called (a retry of the same request finds the same row).
pub(crate) fn begin(tx: &mut dyn Tx, n: &NewIntent<'_>, now: i64) -> Result<Intent> {
    tx.exec(
        "INSERT INTO card_intents (id, purpose, customer_id, cart_id, idempotency_key, request_hash, amount_minor, currency, payment_method, processor_key, payment_id, status, attempts, last_error, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'started', 0, NULL, ?, ?) ON CONFLICT (purpose, processor_key) DO NOTHING",
        params![
            domain::ids::new_id("cin"),
            n.purpose,
            n.customer_id,
            n.cart_id,
            n.idempotency_key,
            n.request_hash,
            n.amount_minor,
            n.currency,
            n.payment_method,
            n.processor_key,
            now,
            now
        ],
    )?;
    let sql = format!("SELECT {COLS} FROM card_intents WHERE purpose = ? AND processor_key = ?");
    from_row(&tx.query_one(&sql, params![n.purpose, n.processor_key])?)
}

/// Moves an open intent on (`authorized` with its payment id, `captured`, or an end: `done`, `released`,
/// `failed`). An intent already at an end stays there.
pub(crate) fn step(
    tx: &mut dyn Tx,
    id: &str,
    status: &str,
    payment_id: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    tx.exec(
        "UPDATE card_intents SET status = ?, payment_id = COALESCE(?, payment_id), last_error = ?, updated_at = ? \
         WHERE id = ? AND status IN ('started', 'authorized', 'captured')",
        params![status, payment_id, error, now, id],
    )?;
    Ok(())
}

/// Closes the checkout intent that authorized `payment_id` (the order now holds it).
pub(crate) fn close_for_payment(tx: &mut dyn Tx, payment_id: &str, status: &str, now: i64) -> Result<()> {
    tx.exec(
        "UPDATE card_intents SET status = ?, updated_at = ? WHERE payment_id = ? AND status IN ('started', 'authorized', 'captured')",
        params![status, now, payment_id],
    )?;
    Ok(())
}

/// Open intents nobody has moved for [`RECONCILE_AFTER_MS`], claimed for one sweep (their `updated_at` is
/// pushed forward so two nodes do not work the same intent at once).
pub(crate) fn claim_stale(tx: &mut dyn Tx, limit: usize, now: i64) -> Result<Vec<Intent>> {
    let sql = format!(
        "SELECT {COLS} FROM card_intents WHERE status IN ('started', 'authorized', 'captured') AND updated_at < ? \
         ORDER BY updated_at LIMIT ?{}",
        tx.for_update()
    );
    let rows = tx.query(&sql, params![now - RECONCILE_AFTER_MS, limit as i64])?;
    let mut out = Vec::new();
    for r in rows.iter() {
        let i = from_row(r)?;
        tx.exec("UPDATE card_intents SET updated_at = ?, attempts = attempts + 1 WHERE id = ?", params![now, &i.id])?;
        if i.attempts >= MAX_SWEEPS {
            tx.exec(
                "UPDATE card_intents SET status = 'failed', last_error = 'the processor never confirmed; needs staff' WHERE id = ?",
                params![&i.id],
            )?;
            tracing::error!(intent = %i.id, purpose = %i.purpose, "a card intent could not be reconciled; needs staff");
            crate::platform::events::emit(
                tx,
                "payment.intent_failed",
                &i.id,
                &serde_json::json!({"intent": i.id, "purpose": i.purpose, "payment_id": i.payment_id}),
                now,
            )?;
            continue;
        }
        out.push(i);
    }
    Ok(out)
}

/// Whether an order's `payment_reference` names this card payment (exactly: `card:<id>:<amount>`, alone
/// or inside a split), never by a pattern an id could widen.
pub(crate) fn order_using(tx: &mut dyn Tx, payment_id: &str) -> Result<Option<String>> {
    if payment_id.is_empty() {
        return Ok(None);
    }
    let pattern = format!("%card:{}:%", crate::stock::grid::like_escape(payment_id));
    let rows = tx.query(
        "SELECT id, payment_reference FROM orders WHERE payment_reference LIKE ? ESCAPE '\\'",
        params![pattern],
    )?;
    for r in rows.iter() {
        let reference = r.text(1)?;
        if references(&reference, payment_id) {
            return Ok(Some(r.text(0)?));
        }
    }
    Ok(None)
}

/// Whether `reference` holds `card:<payment_id>:` as a whole token.
pub(crate) fn references(reference: &str, payment_id: &str) -> bool {
    let needle = format!("card:{payment_id}:");
    reference
        .match_indices(&needle)
        .any(|(i, _)| i == 0 || !reference[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn references_match_whole_payment_ids_only() {
        assert!(super::references("card:pi_1:5000", "pi_1"));
        assert!(super::references("split:[gift_card:x:100,card:pi_1:4900]", "pi_1"));
        assert!(!super::references("card:pi_10:5000", "pi_1"));
        assert!(!super::references("card:xpi_1:5000", "pi_1"));
        assert!(!super::references("card:pi_1:5000", ""));
    }
}
