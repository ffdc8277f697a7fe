//! Limits on the money staff can create: wallet top-ups and gift card sales put stored value in a
//! shopper's hands against cash the till is trusted to have taken, so each call is capped (admin keys ten
//! times higher than staff) and each staff key's or staff account's rolling day too, counted from the audit
//! log those actions already write. (An admin key is the owner's: no day cap, so integrations and
//! migrations can load balances.) The caps are in won; other currencies use a thousandth of the figure in
//! their major unit (₩2,000,000 per call ≈ $2,000).

use crate::error::{EngineError, Result};
use crate::platform::auth::Principal;
use store::{params, Tx};

/// Staff: the most one top-up or gift card may carry, in won.
pub const STAFF_PER_CALL_KRW: i64 = 2_000_000;
/// Staff: the most one key may put on wallets and gift cards in 24 hours, in won.
pub const STAFF_PER_DAY_KRW: i64 = 10_000_000;
/// An admin key's per-call cap is ten times a staff key's.
pub const ADMIN_FACTOR: i64 = 10;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The audited actions that create stored value.
const ACTIONS: [&str; 2] = ["wallet.topped_up", "gift_card.sold"];

/// A cap in `currency`'s minor units.
fn cap_minor(krw: i64, currency: &str) -> i64 {
    match domain::Currency::parse(currency) {
        Ok(c) if c.code() == "KRW" => krw,
        Ok(c) => krw / 1000 * 10i64.pow(c.exponent()),
        Err(_) => krw / 1000,
    }
}

/// Refuses a top-up or gift card sale of `amount_minor` that would take `by` over its caps. Called in the
/// transaction that records the action. (On PostgreSQL two calls of one key at the same instant may both
/// pass the day's check; the per-call cap bounds what that can add.)
pub(crate) fn check(tx: &mut dyn Tx, by: &Principal, amount_minor: i64, currency: &str, now: i64) -> Result<()> {
    let factor = if matches!(by, Principal::Admin { .. }) { ADMIN_FACTOR } else { 1 };
    let per_call = cap_minor(STAFF_PER_CALL_KRW * factor, currency);
    if amount_minor > per_call {
        return Err(EngineError::invalid(
            "money_limit_reached",
            format!("one top-up or gift card carries at most {per_call} {currency} (minor units) for this key; split it or ask an owner"),
        ));
    }
    if factor != 1 {
        return Ok(());
    }
    let per_day = cap_minor(STAFF_PER_DAY_KRW, currency);
    let rows = tx.query(
        "SELECT details FROM audit_log WHERE actor = ? AND action IN (?, ?) AND at > ? ORDER BY seq DESC LIMIT 10000",
        params![by.key_id(), ACTIONS[0], ACTIONS[1], now - DAY_MS],
    )?;
    let mut used = 0i64;
    for r in rows.iter() {
        let d: serde_json::Value = serde_json::from_str(&r.text(0)?).unwrap_or_default();
        if d["currency"] == currency {
            used = used.saturating_add(d["amount_minor"].as_i64().unwrap_or(0));
        }
    }
    if used.saturating_add(amount_minor) > per_day {
        return Err(EngineError::invalid(
            "money_limit_reached",
            format!(
                "this key has put {used} {currency} (minor units) on wallets and gift cards in the last 24 hours; the most is {per_day}. An owner can do it, or wait"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn caps_follow_the_currency_unit() {
        assert_eq!(super::cap_minor(2_000_000, "KRW"), 2_000_000);
        assert_eq!(super::cap_minor(2_000_000, "USD"), 200_000, "$2,000 in cents");
        assert_eq!(super::cap_minor(2_000_000, "JPY"), 2_000);
    }
}
