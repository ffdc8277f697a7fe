//! The catalog's data model as it crosses the boundary: products with Korean and English text, variants
//! (SKU, GTIN, weight, attributes) and prices in integer minor units per currency, with the one validation
//! that the API, imports and the demo all run.

use domain::stock::validate_gtin;
use domain::{text, Currency, Sku};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_VARIANTS: usize = 100;
pub const MAX_ATTRIBUTES: usize = 16;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    pub currency: String,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Localized {
    pub ko: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PriceView {
    pub currency: String,
    pub amount_minor: i64,
    /// The same amount as a decimal string in major units, for display (`"12.50"`).
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VariantView {
    pub sku: String,
    pub gtin: Option<String>,
    pub weight_g: i64,
    pub attributes: BTreeMap<String, String>,
    pub prices: Vec<PriceView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

pub fn price_view(currency: &str, amount_minor: i64) -> PriceView {
    let amount = Currency::parse(currency)
        .map(|c| domain::Money::new(amount_minor, c).to_decimal())
        .unwrap_or_else(|_| amount_minor.to_string());
    PriceView { currency: currency.to_owned(), amount_minor, amount }
}

/// Checks every field of a product; the error names the first offending field.
pub fn validate(mut p: ProductInput) -> Result<ProductInput, String> {
    let handle = p.handle.trim().to_lowercase();
    if handle.is_empty()
        || handle.len() > 120
        || !handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("`handle` must be 1–120 characters of a–z, 0–9, - and _ (got `{}`)", p.handle));
    }
    p.handle = handle;
    p.title_ko = text::required("title_ko", &p.title_ko, 200)?;
    p.title_en = text::required("title_en", &p.title_en, 200)?;
    p.description_ko = text::optional("description_ko", &p.description_ko, 10_000)?;
    p.description_en = text::optional("description_en", &p.description_en, 10_000)?;
    p.category = text::required("category", &p.category, 120)?.to_lowercase();
    p.vendor = text::optional("vendor", &p.vendor, 120)?;
    if let Some(s) = &p.status {
        if !matches!(s.as_str(), "active" | "draft" | "archived") {
            return Err(format!("`status` must be active, draft or archived, got `{s}`"));
        }
    }
    if p.variants.is_empty() || p.variants.len() > MAX_VARIANTS {
        return Err(format!("a product needs 1–{MAX_VARIANTS} variants, got {}", p.variants.len()));
    }
    let mut seen = std::collections::HashSet::new();
    for v in p.variants.iter_mut() {
        v.sku = Sku::parse(&v.sku)?.as_str().to_owned();
        if !seen.insert(v.sku.clone()) {
            return Err(format!("SKU `{}` appears twice in one product", v.sku));
        }
        if let Some(g) = &v.gtin {
            let g = g.trim().to_owned();
            if g.is_empty() {
                v.gtin = None;
            } else {
                validate_gtin(&g)?;
                v.gtin = Some(g);
            }
        }
        if v.weight_g < 0 || v.weight_g > 10_000_000 {
            return Err(format!("`weight_g` of `{}` must be 0–10,000,000", v.sku));
        }
        if v.attributes.len() > MAX_ATTRIBUTES {
            return Err(format!("`{}` has more than {MAX_ATTRIBUTES} attributes", v.sku));
        }
        for (k, val) in &v.attributes {
            text::required("attribute name", k, 40)?;
            text::optional("attribute value", val, 120)?;
        }
        if v.prices.is_empty() {
            return Err(format!("variant `{}` needs at least one price", v.sku));
        }
        let mut cur = std::collections::HashSet::new();
        for pr in v.prices.iter_mut() {
            let c = Currency::parse(&pr.currency).map_err(|e| e.to_string())?;
            pr.currency = c.code().to_owned();
            if !cur.insert(c) {
                return Err(format!("variant `{}` has two {} prices", v.sku, c));
            }
            if pr.amount_minor < 0 || pr.amount_minor > 1_000_000_000_000 {
                return Err(format!("price of `{}` must be 0–10^12 minor units", v.sku));
            }
        }
    }
    Ok(p)
}
