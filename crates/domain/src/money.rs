//! Money as integer minor units of an ISO-4217 currency. No floats: amounts parse from and print to decimal
//! strings with the currency's own number of minor digits (KRW 0, USD 2, …).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown or unsupported currency `{0}` (use an ISO-4217 code such as KRW or USD)")]
    UnknownCurrency(String),
    #[error("`{0}` is not a valid amount for {1}")]
    BadAmount(String, &'static str),
    #[error("currency mismatch: {0} and {1}")]
    Mismatch(&'static str, &'static str),
    #[error("amount overflow")]
    Overflow,
}

/// The currencies borderless prices in, with their minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Currency {
    Krw,
    Usd,
    Eur,
    Jpy,
    Cny,
    Gbp,
}

impl Currency {
    pub const ALL: [Currency; 6] =
        [Currency::Krw, Currency::Usd, Currency::Eur, Currency::Jpy, Currency::Cny, Currency::Gbp];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Krw => "KRW",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Jpy => "JPY",
            Currency::Cny => "CNY",
            Currency::Gbp => "GBP",
        }
    }

    /// Digits after the decimal point in the currency's minor unit.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Krw | Currency::Jpy => 0,
            _ => 2,
        }
    }

    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let up = code.trim().to_ascii_uppercase();
        Currency::ALL.into_iter().find(|c| c.code() == up).ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal amount such as `"12.50"` (USD → 1250) or `"39000"` (KRW → 39000).
    /// More fractional digits than the currency has is an error, never a rounding.
    pub fn parse_decimal(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::BadAmount(s.to_owned(), currency.code());
        let t = s.trim().replace(',', "");
        let (neg, t) = match t.strip_prefix('-') {
            Some(r) => (true, r.to_owned()),
            None => (false, t),
        };
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i.to_owned(), f.trim_end_matches('0').to_owned()),
            None => (t.clone(), String::new()),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let exp = currency.exponent();
        if frac.len() as u32 > exp {
            return Err(bad());
        }
        let int_v: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
        let mut frac_v: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
        for _ in frac.len() as u32..exp {
            frac_v *= 10;
        }
        let minor =
            int_v.checked_mul(10i64.pow(exp)).and_then(|v| v.checked_add(frac_v)).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor: if neg { -minor } else { minor }, currency })
    }

    /// The amount as a decimal string in major units: `12.50`, `39000`.
    pub fn to_decimal(self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let p = 10i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let a = self.minor.unsigned_abs();
        format!("{sign}{}.{:0width$}", a / p as u64, a % p as u64, width = exp as usize)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::Mismatch(self.currency.code(), other.currency.code()));
        }
        Ok(Money { minor: self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?, currency: self.currency })
    }

    pub fn checked_mul(self, qty: i64) -> Result<Money, MoneyError> {
        Ok(Money { minor: self.minor.checked_mul(qty).ok_or(MoneyError::Overflow)?, currency: self.currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

/// Whole won with thousands separators ("12,900"), for labels and receipts.
pub fn format_krw(minor: i64) -> String {
    let digits = minor.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if minor < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn won_are_grouped_by_thousands() {
        assert_eq!(super::format_krw(0), "0");
        assert_eq!(super::format_krw(12_900), "12,900");
        assert_eq!(super::format_krw(-1_234_000), "-1,234,000");
    }

    use super::*;

    #[test]
    fn parses_and_prints_by_exponent() {
        assert_eq!(Money::parse_decimal("12.5", Currency::Usd).unwrap().minor, 1250);
        assert_eq!(Money::parse_decimal("39,000", Currency::Krw).unwrap().minor, 39000);
        assert_eq!(Money::parse_decimal("39000.00", Currency::Krw).unwrap().minor, 39000);
        assert!(Money::parse_decimal("1.005", Currency::Usd).is_err());
        assert!(Money::parse_decimal("12.5", Currency::Krw).is_err());
        assert!(Money::parse_decimal("abc", Currency::Usd).is_err());
        assert!(Money::parse_decimal("", Currency::Usd).is_err());
        assert_eq!(Money::new(1250, Currency::Usd).to_decimal(), "12.50");
        assert_eq!(Money::new(-5, Currency::Usd).to_decimal(), "-0.05");
        assert_eq!(Money::new(39000, Currency::Krw).to_string(), "39000 KRW");
    }

    #[test]
    fn arithmetic_checks_currency_and_overflow() {
        let a = Money::new(100, Currency::Usd);
        assert!(a.checked_add(Money::new(1, Currency::Krw)).is_err());
        assert!(Money::new(i64::MAX, Currency::Krw).checked_mul(2).is_err());
        assert_eq!(a.checked_mul(3).unwrap().minor, 300);
    }

    proptest::proptest! {
        /// Every amount prints as a decimal that parses back to itself, in every currency.
        #[test]
        fn decimals_round_trip(minor in (i64::MIN + 1)..=i64::MAX, c in 0usize..4) {
            let currency = [Currency::Krw, Currency::Usd, Currency::Jpy, Currency::Eur][c];
            let m = Money::new(minor, currency);
            proptest::prop_assert_eq!(Money::parse_decimal(&m.to_decimal(), currency).unwrap(), m);
        }

        /// Parsing arbitrary text never panics; what it accepts prints back to an equal amount.
        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}", c in 0usize..2) {
            let currency = [Currency::Krw, Currency::Usd][c];
            if let Ok(m) = Money::parse_decimal(&s, currency) {
                proptest::prop_assert_eq!(Money::parse_decimal(&m.to_decimal(), currency).unwrap(), m);
            }
        }
    }
}
