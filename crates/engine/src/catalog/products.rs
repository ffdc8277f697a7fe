//! The catalog: products with Korean and English text, variants (SKU, GTIN, weight, attributes) and prices
//! in integer minor units per currency. Validation happens here, once, for the API, imports and the demo.

use crate::error::{bad, EngineError, Result};
use crate::platform::events;
use domain::stock::validate_gtin;
use domain::{ids, text, Currency, Sku};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{params, Row, Tx};

pub const MAX_VARIANTS: usize = 100;
pub const MAX_ATTRIBUTES: usize = 16;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub handle: String,
    pub title_ko: String,
    pub title_en: String,
    #[serde(default)]
    pub description_ko: String,
    #[serde(default)]
    pub description_en: String,
    pub category: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub status: Option<String>,
    pub variants: Vec<VariantInput>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    pub sku: String,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub weight_g: i64,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub prices: Vec<PriceInput>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    pub currency: String,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Localized {
    pub ko: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceView {
    pub currency: String,
    pub amount_minor: i64,
    /// The same amount as a decimal string in major units, for display (`"12.50"`).
    pub amount: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantView {
    pub sku: String,
    pub gtin: Option<String>,
    pub weight_g: i64,
    pub attributes: BTreeMap<String, String>,
    pub prices: Vec<PriceView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub id: String,
    pub handle: String,
    pub title: Localized,
    pub description: Localized,
    pub category: String,
    pub vendor: String,
    pub status: String,
    pub variants: Vec<VariantView>,
    pub created_at: String,
    pub updated_at: String,
}

/// A validated product, ready to write.
#[derive(Debug, Clone)]
pub(crate) struct ValidProduct {
    input: ProductInput,
    status: String,
}

pub(crate) fn price_view(currency: &str, amount_minor: i64) -> PriceView {
    let amount = Currency::parse(currency)
        .map(|c| domain::Money::new(amount_minor, c).to_decimal())
        .unwrap_or_else(|_| amount_minor.to_string());
    PriceView { currency: currency.to_owned(), amount_minor, amount }
}

/// Checks every field of a product; the error names the first offending field.
pub fn validate(mut p: ProductInput) -> Result<ProductInput> {
    let handle = p.handle.trim().to_lowercase();
    if handle.is_empty()
        || handle.len() > 120
        || !handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(format!("`handle` must be 1–120 characters of a–z, 0–9, - and _ (got `{}`)", p.handle)));
    }
    p.handle = handle;
    p.title_ko = text::required("title_ko", &p.title_ko, 200).map_err(bad)?;
    p.title_en = text::required("title_en", &p.title_en, 200).map_err(bad)?;
    p.description_ko = text::optional("description_ko", &p.description_ko, 10_000).map_err(bad)?;
    p.description_en = text::optional("description_en", &p.description_en, 10_000).map_err(bad)?;
    p.category = text::required("category", &p.category, 120).map_err(bad)?.to_lowercase();
    p.vendor = text::optional("vendor", &p.vendor, 120).map_err(bad)?;
    if let Some(s) = &p.status {
        if !matches!(s.as_str(), "active" | "draft" | "archived") {
            return Err(bad(format!("`status` must be active, draft or archived, got `{s}`")));
        }
    }
    if p.variants.is_empty() || p.variants.len() > MAX_VARIANTS {
        return Err(bad(format!("a product needs 1–{MAX_VARIANTS} variants, got {}", p.variants.len())));
    }
    let mut seen = std::collections::HashSet::new();
    for v in p.variants.iter_mut() {
        v.sku = Sku::parse(&v.sku).map_err(bad)?.as_str().to_owned();
        if !seen.insert(v.sku.clone()) {
            return Err(bad(format!("SKU `{}` appears twice in one product", v.sku)));
        }
        if let Some(g) = &v.gtin {
            let g = g.trim().to_owned();
            if g.is_empty() {
                v.gtin = None;
            } else {
                validate_gtin(&g).map_err(bad)?;
                v.gtin = Some(g);
            }
        }
        if v.weight_g < 0 || v.weight_g > 10_000_000 {
            return Err(bad(format!("`weight_g` of `{}` must be 0–10,000,000", v.sku)));
        }
        if v.attributes.len() > MAX_ATTRIBUTES {
            return Err(bad(format!("`{}` has more than {MAX_ATTRIBUTES} attributes", v.sku)));
        }
        for (k, val) in &v.attributes {
            text::required("attribute name", k, 40).map_err(bad)?;
            text::optional("attribute value", val, 120).map_err(bad)?;
        }
        if v.prices.is_empty() {
            return Err(bad(format!("variant `{}` needs at least one price", v.sku)));
        }
        let mut cur = std::collections::HashSet::new();
        for pr in v.prices.iter_mut() {
            let c = Currency::parse(&pr.currency).map_err(|e| bad(e.to_string()))?;
            pr.currency = c.code().to_owned();
            if !cur.insert(c) {
                return Err(bad(format!("variant `{}` has two {} prices", v.sku, c)));
            }
            if pr.amount_minor < 0 || pr.amount_minor > 1_000_000_000_000 {
                return Err(bad(format!("price of `{}` must be 0–10^12 minor units", v.sku)));
            }
        }
    }
    Ok(p)
}

/// Creates a product, or replaces the product with the same handle when `upsert` is set (imports).
pub(crate) fn save_product(tx: &mut dyn Tx, input: &ProductInput, upsert: bool, now: i64) -> Result<ProductView> {
    let p = ValidProduct { status: input.status.clone().unwrap_or_else(|| "active".into()), input: input.clone() };
    let existing = tx.query_opt("SELECT id FROM products WHERE handle = ?", params![&p.input.handle])?;
    let id = match (existing, upsert) {
        (Some(_), false) => {
            return Err(EngineError::conflict(
                "duplicate_handle",
                format!("a product with handle `{}` exists", p.input.handle),
            ))
        }
        (Some(r), true) => {
            let id = r.text(0)?;
            tx.exec(
                "UPDATE products SET title_ko = ?, title_en = ?, description_ko = ?, description_en = ?, category = ?, vendor = ?, status = ?, updated_at = ? WHERE id = ?",
                params![&p.input.title_ko, &p.input.title_en, &p.input.description_ko, &p.input.description_en, &p.input.category, &p.input.vendor, &p.status, now, &id],
            )?;
            id
        }
        (None, _) => {
            let id = ids::new_id("prod");
            tx.exec(
                "INSERT INTO products (id, handle, title_ko, title_en, description_ko, description_en, category, vendor, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![&id, &p.input.handle, &p.input.title_ko, &p.input.title_en, &p.input.description_ko, &p.input.description_en, &p.input.category, &p.input.vendor, &p.status, now, now],
            )
            .map_err(|e| match e.kind {
                // A concurrent request created the same handle between our check and this insert.
                store::DbErrorKind::UniqueViolation => EngineError::conflict("duplicate_handle", format!("a product with handle `{}` exists", p.input.handle)),
                _ => e.into(),
            })?;
            id
        }
    };
    for (pos, v) in p.input.variants.iter().enumerate() {
        let attrs = serde_json::to_string(&v.attributes).unwrap_or_else(|_| "{}".into());
        if let Some(owner) = tx.query_opt("SELECT product_id FROM variants WHERE sku = ?", params![&v.sku])? {
            let owner = owner.text(0)?;
            if owner != id {
                return Err(EngineError::conflict(
                    "duplicate_sku",
                    format!("SKU `{}` belongs to another product", v.sku),
                ));
            }
            tx.exec(
                "UPDATE variants SET gtin = ?, weight_g = ?, attributes = ?, position = ? WHERE sku = ?",
                params![v.gtin.clone(), v.weight_g, attrs, pos as i64, &v.sku],
            )
            .map_err(|e| gtin_conflict(e, v))?;
        } else {
            tx.exec(
                "INSERT INTO variants (sku, product_id, gtin, weight_g, attributes, position) VALUES (?, ?, ?, ?, ?, ?)",
                params![&v.sku, &id, v.gtin.clone(), v.weight_g, attrs, pos as i64],
            )
            .map_err(|e| gtin_conflict(e, v))?;
        }
        tx.exec("DELETE FROM prices WHERE sku = ?", params![&v.sku])?;
        for pr in &v.prices {
            tx.exec(
                "INSERT INTO prices (sku, currency, amount_minor) VALUES (?, ?, ?)",
                params![&v.sku, &pr.currency, pr.amount_minor],
            )?;
        }
    }
    let view = load_product(tx, &id)?.ok_or_else(|| EngineError::not_found("product", &id))?;
    events::emit(
        tx,
        if upsert { "product.upserted" } else { "product.created" },
        &id,
        &serde_json::json!({"product": &view}),
        now,
    )?;
    Ok(view)
}

/// Maps a unique violation on a variant: its SKU (created concurrently elsewhere) or its GTIN.
fn gtin_conflict(e: store::DbError, v: &VariantInput) -> EngineError {
    if e.kind != store::DbErrorKind::UniqueViolation {
        return e.into();
    }
    let on_gtin = e.constraint.as_deref().is_some_and(|c| c.contains("gtin")) || e.message.contains("gtin");
    if on_gtin {
        EngineError::conflict(
            "duplicate_gtin",
            format!("GTIN `{}` is used by another variant", v.gtin.clone().unwrap_or_default()),
        )
    } else {
        EngineError::conflict("duplicate_sku", format!("SKU `{}` belongs to another product", v.sku))
    }
}

const PRODUCT_COLS: &str =
    "id, handle, title_ko, title_en, description_ko, description_en, category, vendor, status, created_at, updated_at";

fn product_from_row(r: &Row) -> Result<ProductView> {
    Ok(ProductView {
        id: r.text(0)?,
        handle: r.text(1)?,
        title: Localized { ko: r.text(2)?, en: r.text(3)? },
        description: Localized { ko: r.text(4)?, en: r.text(5)? },
        category: r.text(6)?,
        vendor: r.text(7)?,
        status: r.text(8)?,
        variants: Vec::new(),
        created_at: domain::time::rfc3339(r.i64(9)?),
        updated_at: domain::time::rfc3339(r.i64(10)?),
    })
}

fn attach_variants(tx: &mut dyn Tx, products: &mut [ProductView]) -> Result<()> {
    for p in products.iter_mut() {
        let rows = tx.query(
            "SELECT sku, gtin, weight_g, attributes FROM variants WHERE product_id = ? ORDER BY position, sku",
            params![&p.id],
        )?;
        for r in rows {
            let sku = r.text(0)?;
            let prices = tx
                .query("SELECT currency, amount_minor FROM prices WHERE sku = ? ORDER BY currency", params![&sku])?
                .iter()
                .map(|pr| Ok(price_view(&pr.text(0)?, pr.i64(1)?)))
                .collect::<Result<Vec<_>>>()?;
            p.variants.push(VariantView {
                sku,
                gtin: r.opt_text(1)?,
                weight_g: r.i64(2)?,
                attributes: serde_json::from_str(&r.text(3)?).unwrap_or_default(),
                prices,
            });
        }
    }
    Ok(())
}

pub(crate) fn load_product(tx: &mut dyn Tx, id_or_handle: &str) -> Result<Option<ProductView>> {
    let sql = format!("SELECT {PRODUCT_COLS} FROM products WHERE id = ? OR handle = ?");
    let Some(r) = tx.query_opt(&sql, params![id_or_handle, id_or_handle])? else { return Ok(None) };
    let mut v = vec![product_from_row(&r)?];
    attach_variants(tx, &mut v)?;
    Ok(v.pop())
}

/// Filters for listing products. `after` is the cursor: the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct ProductQuery {
    pub after: Option<String>,
    pub limit: usize,
    pub category: Option<String>,
    pub q: Option<String>,
    pub only_active: bool,
}

pub(crate) fn list_products(tx: &mut dyn Tx, q: &ProductQuery) -> Result<Vec<ProductView>> {
    let mut sql = format!("SELECT {PRODUCT_COLS} FROM products WHERE id > ?");
    let mut ps = vec![store::Val::from(q.after.clone().unwrap_or_default())];
    if q.only_active {
        sql.push_str(" AND status = 'active'");
    }
    if let Some(c) = &q.category {
        sql.push_str(" AND (category = ? OR category LIKE ?)");
        ps.push(c.to_lowercase().into());
        ps.push(format!("{}/%", c.to_lowercase()).into());
    }
    if let Some(term) = &q.q {
        let like = format!("%{}%", term.to_lowercase().replace(['%', '_'], ""));
        sql.push_str(" AND (lower(title_en) LIKE ? OR title_ko LIKE ? OR handle LIKE ?)");
        ps.push(like.clone().into());
        ps.push(like.clone().into());
        ps.push(like.into());
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    ps.push((q.limit as i64).into());
    let mut out = tx.query(&sql, &ps)?.iter().map(product_from_row).collect::<Result<Vec<_>>>()?;
    attach_variants(tx, &mut out)?;
    Ok(out)
}

/// A variant's title and price in one currency, for carts and orders.
pub(crate) struct PricedSku {
    pub title_ko: String,
    pub title_en: String,
    pub unit_price_minor: i64,
}

pub(crate) fn priced_sku(tx: &mut dyn Tx, sku: &str, currency: &str) -> Result<PricedSku> {
    let r = tx
        .query_opt(
            "SELECT p.title_ko, p.title_en, pr.amount_minor, p.status FROM variants v JOIN products p ON p.id = v.product_id \
             LEFT JOIN prices pr ON pr.sku = v.sku AND pr.currency = ? WHERE v.sku = ?",
            params![currency, sku],
        )?
        .ok_or_else(|| EngineError::not_found("sku", sku))?;
    if r.text(3)? != "active" {
        return Err(EngineError::conflict("not_for_sale", format!("`{sku}` is not for sale")));
    }
    let unit_price_minor = r
        .opt_i64(2)?
        .ok_or_else(|| EngineError::conflict("no_price", format!("`{sku}` has no price in {currency}")))?;
    Ok(PricedSku { title_ko: r.text(0)?, title_en: r.text(1)?, unit_price_minor })
}
