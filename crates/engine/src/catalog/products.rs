//! The catalog: products with Korean and English text, variants (SKU, GTIN, weight, attributes) and prices
//! in integer minor units per currency. Validation happens here, once, for the API, imports and the demo.

use crate::error::{bad, EngineError, Result};
use crate::platform::events;
use domain::ids;
use std::collections::BTreeMap;
use store::{params, Row, Tx};

pub use catalog_io::{
    price_view, Localized, PriceInput, PriceView, ProductInput, ProductView, VariantInput, VariantView, MAX_ATTRIBUTES,
    MAX_VARIANTS,
};

/// A validated product, ready to write.
#[derive(Debug, Clone)]
pub(crate) struct ValidProduct {
    input: ProductInput,
    status: String,
}

/// A SKU as stored: SKUs are not case-sensitive and are kept in capitals (`domain::Sku`).
pub fn canonical_sku(sku: &str) -> Result<String> {
    domain::Sku::parse(sku).map(|s| s.as_str().to_owned()).map_err(|m| EngineError::invalid("invalid_sku", m))
}

/// Checks every field of a product; the error names the first offending field.
pub fn validate(p: ProductInput) -> Result<ProductInput> {
    catalog_io::validate(p).map_err(bad)
}

/// Creates a product, or replaces the product with the same handle when `upsert` is set (imports).
/// How a product is saved.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Save {
    /// A new product; its handle must be free.
    Create,
    /// Create or replace by handle (imports).
    Upsert,
    /// Change an existing product (its handle stays).
    Update,
}

/// Creates, replaces or changes a product and writes its event (`product.created`, `product.upserted`,
/// `product.updated`): search, recommendations and shelf labels follow those events.
pub(crate) fn save_product(tx: &mut dyn Tx, input: &ProductInput, mode: Save, now: i64) -> Result<ProductView> {
    let upsert = mode != Save::Create;
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
        match mode {
            Save::Create => "product.created",
            Save::Upsert => "product.upserted",
            Save::Update => "product.updated",
        },
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
    /// The variant's attributes (size, colour, …), which tell two variants of one product apart.
    pub options: BTreeMap<String, String>,
}

/// A variant's stored attributes.
pub(crate) fn options(json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub(crate) fn priced_sku(tx: &mut dyn Tx, sku: &str, currency: &str) -> Result<PricedSku> {
    let r = tx
        .query_opt(
            "SELECT p.title_ko, p.title_en, pr.amount_minor, p.status, v.attributes FROM variants v JOIN products p ON p.id = v.product_id \
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
    Ok(PricedSku { title_ko: r.text(0)?, title_en: r.text(1)?, unit_price_minor, options: options(&r.text(4)?) })
}
