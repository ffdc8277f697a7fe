//! Exchange rates for cross-border payments. Rates are exact decimals (`rate_num / 10^rate_scale`), recorded
//! with the time they take effect, and a conversion always names the rate it used. Conversion is integer
//! arithmetic in minor units: a charge rounds up to the next minor unit of the paying currency (the seller
//! is never short), and a refund gives back the same share of what was charged.

use crate::error::{bad, EngineError, Result};
use domain::Currency;
use serde::Serialize;
use store::{params, Tx};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RateView {
    pub id: String,
    pub base: String,
    pub quote: String,
    /// The rate as a decimal string: 1 `base` = `rate` `quote`.
    pub rate: String,
    pub effective_at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Rate {
    pub id: String,
    pub base: Currency,
    pub quote: Currency,
    pub num: i64,
    pub scale: u32,
}

/// Parses `"1385.20"` into (13852, 1) after trimming trailing zeros; at most 12 decimals, positive.
pub fn parse_rate(s: &str) -> Result<(i64, u32)> {
    let t = s.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let frac = frac.trim_end_matches('0');
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 12
    {
        return Err(bad(format!("`rate` must be a positive decimal with at most 12 decimals, got `{s}`")));
    }
    let num: i64 = format!("{int}{frac}").trim_start_matches('0').parse().unwrap_or(0);
    if num <= 0 {
        return Err(bad("`rate` must be positive"));
    }
    Ok((num, frac.len() as u32))
}

fn render(num: i64, scale: u32) -> String {
    if scale == 0 {
        return num.to_string();
    }
    let p = 10i64.pow(scale);
    format!("{}.{:0width$}", num / p, num % p, width = scale as usize)
}

pub(crate) fn record(
    tx: &mut dyn Tx,
    base: &str,
    quote: &str,
    rate: &str,
    effective_at: i64,
    now: i64,
) -> Result<RateView> {
    let b = Currency::parse(base).map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
    let q = Currency::parse(quote).map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
    if b == q {
        return Err(bad("`base` and `quote` must differ"));
    }
    let (num, scale) = parse_rate(rate)?;
    let id = domain::ids::new_id("fx");
    tx.exec(
        "INSERT INTO fx_rates (id, base, quote, rate_num, rate_scale, effective_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![&id, b.code(), q.code(), num, scale as i64, effective_at, now],
    )?;
    Ok(RateView {
        id,
        base: b.code().into(),
        quote: q.code().into(),
        rate: render(num, scale),
        effective_at: domain::time::rfc3339(effective_at),
    })
}

/// The rate in effect at `at` for converting `base` into `quote`.
pub(crate) fn rate_at(tx: &mut dyn Tx, base: Currency, quote: Currency, at: i64) -> Result<Rate> {
    let r = tx
        .query_opt(
            "SELECT id, rate_num, rate_scale FROM fx_rates WHERE base = ? AND quote = ? AND effective_at <= ? ORDER BY effective_at DESC, created_at DESC LIMIT 1",
            params![base.code(), quote.code(), at],
        )?
        .ok_or_else(|| EngineError::conflict("no_fx_rate", format!("no exchange rate from {base} to {quote} is in effect")))?;
    Ok(Rate { id: r.text(0)?, base, quote, num: r.i64(1)?, scale: r.i64(2)? as u32 })
}

/// Refuses a balance (a wallet top-up, or a gift card when `convertible` is false) in a currency the shop
/// cannot take it in: nothing in the catalog is priced in it and, for a wallet, no exchange rate into it
/// is recorded (a web wallet payment converts at the order's rate), so the shopper's money would be stuck.
/// Won is always taken: carts start in it and the cashierless store and the shelf labels charge in it.
pub(crate) fn ensure_spendable(tx: &mut dyn Tx, currency: &str, convertible: bool) -> Result<()> {
    if currency == "KRW"
        || tx.query_opt("SELECT 1 FROM prices WHERE currency = ? LIMIT 1", params![currency])?.is_some()
    {
        return Ok(());
    }
    if convertible {
        // A rate into it from a currency orders are placed in (won, or one the catalog prices in).
        let sql = "SELECT 1 FROM fx_rates WHERE quote = ? AND (base = 'KRW' OR base IN (SELECT currency FROM prices)) LIMIT 1";
        if tx.query_opt(sql, params![currency])?.is_some() {
            return Ok(());
        }
        return Err(EngineError::invalid(
            "currency_not_used",
            format!(
                "nothing in the catalog is priced in {currency} and no exchange rate into {currency} is recorded, so a \
                 {currency} balance could not be spent: price products in {currency}, or record an exchange rate into {currency} \
                 (console Settings → Exchange rates, or POST /admin/fx-rates) first"
            ),
        ));
    }
    Err(EngineError::invalid(
        "currency_not_used",
        format!(
            "nothing in the catalog is priced in {currency}, so a {currency} gift card could not be spent: sell it in \
             a currency the shop prices in, or price products in {currency} first"
        ),
    ))
}

pub(crate) fn list(tx: &mut dyn Tx) -> Result<Vec<RateView>> {
    tx.query("SELECT id, base, quote, rate_num, rate_scale, effective_at FROM fx_rates ORDER BY base, quote, effective_at DESC LIMIT 500", &[])?
        .iter()
        .map(|r| {
            Ok(RateView {
                id: r.text(0)?,
                base: r.text(1)?,
                quote: r.text(2)?,
                rate: render(r.i64(3)?, r.i64(4)? as u32),
                effective_at: domain::time::rfc3339(r.i64(5)?),
            })
        })
        .collect()
}

impl Rate {
    /// Converts `minor` units of `base` into `quote` minor units, rounding up.
    pub fn convert_up(&self, minor: i64) -> Result<i64> {
        // quote_minor = minor × num × 10^eq / (10^eb × 10^scale), in i128 to avoid overflow.
        let overflow = || bad("amount overflow in currency conversion");
        let numer = (minor as i128)
            .checked_mul(self.num as i128)
            .and_then(|v| v.checked_mul(10i128.pow(self.quote.exponent())))
            .ok_or_else(overflow)?;
        let denom = 10i128.pow(self.base.exponent()) * 10i128.pow(self.scale);
        // Up for what is owed: the ceiling, also for a negative amount (a refund is never rounded in the
        // shopper's favour twice).
        let q = numer.div_euclid(denom) + i128::from(numer.rem_euclid(denom) != 0);
        i64::try_from(q).map_err(|_| overflow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_exactly_and_convert_up() {
        assert_eq!(parse_rate("1385.20").unwrap(), (13852, 1));
        assert_eq!(parse_rate("0.00072").unwrap(), (72, 5));
        assert!(
            parse_rate("-1").is_err()
                && parse_rate("0").is_err()
                && parse_rate("1e3").is_err()
                && parse_rate("").is_err()
        );
        let usd_krw = Rate { id: "r".into(), base: Currency::Usd, quote: Currency::Krw, num: 13852, scale: 1 };
        assert_eq!(usd_krw.convert_up(1999).unwrap(), 27691); // 19.99 USD × 1385.2 = 27,690.148 KRW, rounded up
        let krw_usd = Rate { id: "r".into(), base: Currency::Krw, quote: Currency::Usd, num: 72, scale: 5 };
        assert_eq!(krw_usd.convert_up(10000).unwrap(), 720); // 10,000 KRW × 0.00072 = 7.20 USD
        assert_eq!(render(13852, 1), "1385.2");
    }

    proptest::proptest! {
        /// Conversion is the exact product rounded up: never less than owed, less than one minor unit more,
        /// monotonic, and an amount too large is an error, never a wrapped number.
        #[test]
        fn conversion_rounds_up_exactly(minor in -1_000_000_000_000i64..1_000_000_000_000, num in 1i64..10_000_000_000, scale in 0u32..12, usd_base in proptest::bool::ANY) {
            let (base, quote) = if usd_base { (Currency::Usd, Currency::Krw) } else { (Currency::Krw, Currency::Usd) };
            let r = Rate { id: "r".into(), base, quote, num, scale };
            let numer = minor as i128 * num as i128 * 10i128.pow(quote.exponent());
            let denom = 10i128.pow(base.exponent()) * 10i128.pow(scale);
            match r.convert_up(minor) {
                Ok(q) => {
                    let q = q as i128;
                    proptest::prop_assert!(q * denom >= numer && (q - 1) * denom < numer, "{minor} → {q}");
                    if let Ok(q2) = r.convert_up(minor + 1) {
                        proptest::prop_assert!(q2 as i128 >= q);
                    }
                }
                Err(_) => proptest::prop_assert!(numer / denom > i64::MAX as i128 - 1 || numer / denom < i64::MIN as i128 + 1),
            }
        }

        #[test]
        fn conversion_never_panics(minor in proptest::num::i64::ANY, num in 1i64..=i64::MAX, scale in 0u32..=12) {
            let r = Rate { id: "r".into(), base: Currency::Krw, quote: Currency::Usd, num, scale };
            let _ = r.convert_up(minor);
        }
    }
}
