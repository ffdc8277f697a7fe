//! What the till reads before it sells: a code typed or scanned at the counter (a SKU or a barcode's GTIN)
//! resolved to the item with its price in the sale's currency and what is on the shelf here. Reads only;
//! the sale itself is [`crate::Engine::pos_sale`].

use crate::catalog::products::{self, Localized};
use crate::{Engine, EngineError, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use store::params;

/// Most lines one till basket holds.
pub const MAX_BASKET_LINES: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct CounterItem {
    pub sku: String,
    pub gtin: Option<String>,
    pub title: Localized,
    pub options: BTreeMap<String, String>,
    /// The unit price in the requested currency (`None`: not priced in it).
    pub unit_minor: Option<i64>,
    /// `active`, `draft` or `archived` (only active items sell).
    pub status: String,
    /// Units here that are not promised to an order (on hand − reserved).
    pub on_shelf: i64,
}

impl Engine {
    /// The item behind a code at a location, or `not_found` naming the code.
    pub async fn counter_item(&self, code: &str, currency: &str, location_id: &str) -> Result<CounterItem> {
        let code = code.trim().to_owned();
        if code.is_empty() || code.len() > 64 {
            return Err(EngineError::invalid("invalid_sku", "`code` is a SKU or a barcode of at most 64 characters"));
        }
        let (currency, loc) = (currency.to_owned(), location_id.to_owned());
        self.db
            .read(move |tx| {
                let by_sku = products::canonical_sku(&code).ok();
                let r = tx.query_opt(
                    "SELECT v.sku, v.gtin, p.title_ko, p.title_en, v.attributes, p.status, pr.amount_minor, \
                     COALESCE(s.on_hand - s.reserved, 0) FROM variants v JOIN products p ON p.id = v.product_id \
                     LEFT JOIN prices pr ON pr.sku = v.sku AND pr.currency = ? \
                     LEFT JOIN stock_levels s ON s.sku = v.sku AND s.location_id = ? \
                     WHERE v.sku = ? OR v.gtin = ? LIMIT 1",
                    params![&currency, &loc, by_sku.as_deref().unwrap_or(""), &code],
                )?;
                let r = r.ok_or_else(|| EngineError::not_found("product", &code))?;
                Ok(CounterItem {
                    sku: r.text(0)?,
                    gtin: r.opt_text(1)?,
                    title: Localized { ko: r.text(2)?, en: r.text(3)? },
                    options: products::options(&r.text(4)?),
                    status: r.text(5)?,
                    unit_minor: r.opt_i64(6)?,
                    on_shelf: r.i64(7)?,
                })
            })
            .await
    }
}
