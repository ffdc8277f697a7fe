//! Stock vocabulary: SKUs, quantities, location kinds and the kinds of ledger movement.

use std::fmt;

/// Most units of one SKU in one cart line or one movement; larger numbers are typos or attacks.
pub const MAX_LINE_QTY: i64 = 10_000;
/// Most units a single inventory adjustment may move.
pub const MAX_ADJUSTMENT_QTY: i64 = 1_000_000;

/// A stock keeping unit: 1–64 characters of ASCII letters, digits and `- _ . /`. SKUs are not case-sensitive:
/// `good-1` and `GOOD-1` are the same SKU, always stored and shown in capitals, so a SKU typed in any case at
/// a till, in a cart or in an import finds the same product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    pub fn parse(s: &str) -> Result<Sku, String> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 64 {
            return Err(format!("a SKU is 1–64 characters, got {}", t.chars().count()));
        }
        if let Some(c) = t.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_./".contains(*c))) {
            return Err(format!(
                "SKU `{t}` contains `{c}`; a SKU is made of ASCII letters A–Z (any case, stored in capitals), digits 0–9 and - _ . /"
            ));
        }
        Ok(Sku(t.to_ascii_uppercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A positive quantity of units in a cart line or order line (1 ..= [`MAX_LINE_QTY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qty(i64);

impl Qty {
    pub fn new(q: i64) -> Result<Qty, String> {
        if !(1..=MAX_LINE_QTY).contains(&q) {
            return Err(format!("quantity must be between 1 and {MAX_LINE_QTY}, got {q}"));
        }
        Ok(Qty(q))
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Validates a GTIN-8/12/13/14 (EAN/UPC barcode) including its check digit.
pub fn validate_gtin(s: &str) -> Result<(), String> {
    let t = s.trim();
    if !matches!(t.len(), 8 | 12 | 13 | 14) || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("GTIN `{t}` must be 8, 12, 13 or 14 digits"));
    }
    let digits: Vec<u32> = t.chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    if (10 - sum % 10) % 10 != check[0] {
        return Err(format!("GTIN `{t}` has a wrong check digit"));
    }
    Ok(())
}

/// Computes the check digit for a GTIN body (all digits but the last).
pub fn gtin_check_digit(body: &str) -> char {
    let sum: u32 =
        body.chars().rev().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 3 } else { 1 }).sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationKind {
    Warehouse,
    Store,
    Cashierless,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Warehouse => "warehouse",
            LocationKind::Store => "store",
            LocationKind::Cashierless => "cashierless",
        }
    }
    pub fn parse(s: &str) -> Result<LocationKind, String> {
        match s {
            "warehouse" => Ok(LocationKind::Warehouse),
            "store" => Ok(LocationKind::Store),
            "cashierless" => Ok(LocationKind::Cashierless),
            _ => Err(format!("location kind must be warehouse, store or cashierless, got `{s}`")),
        }
    }
}

/// The kinds of stock ledger movement. Each changes `on_hand`, `reserved` and `unsellable` by fixed rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    Receipt,
    Adjustment,
    Reservation,
    Release,
    Sale,
    TransferOut,
    TransferIn,
    Return,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receipt => "receipt",
            MovementKind::Adjustment => "adjustment",
            MovementKind::Reservation => "reservation",
            MovementKind::Release => "release",
            MovementKind::Sale => "sale",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::Return => "return",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn skus_are_not_case_sensitive() {
        assert_eq!(super::Sku::parse(" good-1 ").unwrap().as_str(), "GOOD-1");
        assert_eq!(super::Sku::parse("GOOD-1").unwrap(), super::Sku::parse("good-1").unwrap());
        let e = super::Sku::parse("양말-1").unwrap_err();
        assert!(e.contains("ASCII letters"), "{e}");
    }

    use super::*;

    #[test]
    fn sku_and_qty_validation() {
        assert!(Sku::parse("TEE-BLK-M").is_ok());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("a b").is_err());
        assert!(Sku::parse(&"x".repeat(65)).is_err());
        assert!(Qty::new(0).is_err());
        assert!(Qty::new(MAX_LINE_QTY + 1).is_err());
        assert_eq!(Qty::new(3).unwrap().get(), 3);
    }

    #[test]
    fn gtin_check_digits() {
        assert!(validate_gtin("8801234567893").is_ok());
        assert!(validate_gtin("8801234567890").is_err());
        assert!(validate_gtin("12345").is_err());
        assert_eq!(gtin_check_digit("880123456789"), '3');
        assert!(validate_gtin("036000291452").is_ok()); // UPC-A
    }
}
