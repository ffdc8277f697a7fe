//! Products as integrators send them. What the API answers can be sent back: `title` and `description` as
//! `{ko, en}` (the flat `title_ko`/`title_en` of imports also work), prices with `amount_minor` or the
//! decimal `amount` the API shows (or both, when they agree), and the read-only `id`, `created_at` and
//! `updated_at` of a product read earlier are accepted and ignored. Partial updates (`ProductPatch`,
//! `VariantPatch`) name only what changes.

use crate::{PriceInput, PriceView, ProductInput, ProductView, VariantInput, VariantView};
use domain::{Currency, Money};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Text in Korean and English; in a patch, either may be left out.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalizedIn {
    pub ko: Option<String>,
    pub en: Option<String>,
}

/// A price: `amount_minor` (integer minor units) or `amount` (a decimal string such as `"12.50"`), or both
/// when they agree.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceIn {
    /// ISO-4217, e.g. `KRW`.
    pub currency: String,
    pub amount_minor: Option<i64>,
    pub amount: Option<String>,
}

impl PriceIn {
    fn resolve(&self, at: &str) -> Result<PriceInput, String> {
        let cur = Currency::parse(&self.currency).map_err(|e| format!("{at}.currency: {e}"))?;
        let from_text = match &self.amount {
            Some(a) => Some(
                Money::parse_decimal(a, cur)
                    .map_err(|_| {
                        format!(
                            "{at}.amount: `{a}` is not an amount of {} (at most {} decimal places)",
                            cur.code(),
                            cur.exponent()
                        )
                    })?
                    .minor,
            ),
            None => None,
        };
        let minor = match (self.amount_minor, from_text) {
            (Some(m), Some(t)) if m != t => {
                return Err(format!("{at}: `amount_minor` {m} and `amount` {t} (in minor units) disagree; send one"))
            }
            (Some(m), _) => m,
            (None, Some(t)) => t,
            (None, None) => return Err(format!("{at}: give `amount_minor` (or the decimal `amount`)")),
        };
        Ok(PriceInput { currency: cur.code().to_owned(), amount_minor: minor })
    }
}

/// A variant as sent.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantIn {
    /// ASCII letters, digits and `- _ . /`; not case-sensitive (stored in capitals).
    pub sku: String,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub weight_g: i64,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub prices: Vec<PriceIn>,
}

/// A product as sent to create it (or as read from the API, sent back).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductIn {
    /// The product's URL name: a–z, 0–9, - and _ (stored in lower case).
    pub handle: String,
    /// `{ko, en}`; or send `title_ko` and `title_en`.
    #[serde(default)]
    pub title: Option<LocalizedIn>,
    #[serde(default)]
    pub title_ko: Option<String>,
    #[serde(default)]
    pub title_en: Option<String>,
    /// `{ko, en}`; or send `description_ko` and `description_en`.
    #[serde(default)]
    pub description: Option<LocalizedIn>,
    #[serde(default)]
    pub description_ko: Option<String>,
    #[serde(default)]
    pub description_en: Option<String>,
    /// e.g. `apparel/tops`.
    pub category: String,
    #[serde(default)]
    pub vendor: String,
    /// `active` (default), `draft` or `archived`.
    #[serde(default)]
    pub status: Option<String>,
    pub variants: Vec<VariantIn>,
    /// Read-only (ignored): a product read from the API can be sent back as it is.
    #[serde(default)]
    pub id: Option<String>,
    /// Read-only (ignored).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Read-only (ignored).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// One of two spellings of a text field; both given must agree.
fn either(field: &str, nested: Option<&Option<String>>, flat: &Option<String>) -> Result<Option<String>, String> {
    match (nested.and_then(|n| n.clone()), flat) {
        (Some(a), Some(b)) if a.trim() != b.trim() => {
            Err(format!("`{field}` is given twice with different text; send it once"))
        }
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b.clone()),
    }
}

impl ProductIn {
    /// The product to validate and save; the error names the field.
    pub fn into_input(self) -> Result<ProductInput, String> {
        let title_ko = either("title.ko", self.title.as_ref().map(|t| &t.ko), &self.title_ko)?;
        let title_en = either("title.en", self.title.as_ref().map(|t| &t.en), &self.title_en)?;
        let desc_ko = either("description.ko", self.description.as_ref().map(|t| &t.ko), &self.description_ko)?;
        let desc_en = either("description.en", self.description.as_ref().map(|t| &t.en), &self.description_en)?;
        let variants = self
            .variants
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let prices = v
                    .prices
                    .iter()
                    .enumerate()
                    .map(|(j, p)| p.resolve(&format!("variants[{i}].prices[{j}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(VariantInput { sku: v.sku, gtin: v.gtin, weight_g: v.weight_g, attributes: v.attributes, prices })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ProductInput {
            handle: self.handle,
            title_ko: title_ko.ok_or("`title.ko` (or `title_ko`) is required")?,
            title_en: title_en.ok_or("`title.en` (or `title_en`) is required")?,
            description_ko: desc_ko.unwrap_or_default(),
            description_en: desc_en.unwrap_or_default(),
            category: self.category,
            vendor: self.vendor,
            status: self.status,
            variants,
        })
    }
}

/// A partial update of a variant: only what is given changes. Prices are merged by currency; a currency is
/// dropped only by naming it in `remove_currencies`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub weight_g: Option<i64>,
    /// Replaces the variant's attributes.
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
    /// Sets these currencies' prices; the others stay.
    #[serde(default)]
    pub prices: Option<Vec<PriceIn>>,
    /// Stops selling the variant in these currencies.
    #[serde(default)]
    pub remove_currencies: Option<Vec<String>>,
}

/// A variant in a product patch: its SKU, then what changes (an unknown SKU is a new variant, which needs
/// its prices).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatchIn {
    pub sku: String,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub weight_g: Option<i64>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub prices: Option<Vec<PriceIn>>,
    #[serde(default)]
    pub remove_currencies: Option<Vec<String>>,
}

impl VariantPatchIn {
    fn split(self) -> (String, VariantPatch) {
        let VariantPatchIn { sku, gtin, weight_g, attributes, prices, remove_currencies } = self;
        (sku, VariantPatch { gtin, weight_g, attributes, prices, remove_currencies })
    }
}

/// A partial update of a product: only what is given changes.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default)]
    pub title: Option<LocalizedIn>,
    #[serde(default)]
    pub description: Option<LocalizedIn>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    /// `active`, `draft` or `archived`.
    #[serde(default)]
    pub status: Option<String>,
    /// Variants to change or add, by SKU; variants not listed stay as they are.
    #[serde(default)]
    pub variants: Option<Vec<VariantPatchIn>>,
}

fn input_of(v: &VariantView) -> VariantInput {
    VariantInput {
        sku: v.sku.clone(),
        gtin: v.gtin.clone(),
        weight_g: v.weight_g,
        attributes: v.attributes.clone(),
        prices: v.prices.iter().map(price_input).collect(),
    }
}

fn price_input(p: &PriceView) -> PriceInput {
    PriceInput { currency: p.currency.clone(), amount_minor: p.amount_minor }
}

impl VariantPatch {
    /// Applies this patch to a variant (`at` names it in errors).
    pub fn apply(self, v: &mut VariantInput, at: &str) -> Result<(), String> {
        if let Some(g) = self.gtin {
            v.gtin = if g.trim().is_empty() { None } else { Some(g) };
        }
        if let Some(w) = self.weight_g {
            v.weight_g = w;
        }
        if let Some(a) = self.attributes {
            v.attributes = a;
        }
        for (j, p) in self.prices.unwrap_or_default().iter().enumerate() {
            let p = p.resolve(&format!("{at}.prices[{j}]"))?;
            match v.prices.iter_mut().find(|x| x.currency == p.currency) {
                Some(x) => *x = p,
                None => v.prices.push(p),
            }
        }
        for c in self.remove_currencies.unwrap_or_default() {
            let c = Currency::parse(&c).map_err(|e| format!("{at}.remove_currencies: {e}"))?;
            v.prices.retain(|p| p.currency != c.code());
        }
        Ok(())
    }
}

impl ProductPatch {
    /// The product `current` with this patch applied, ready to validate and save.
    pub fn apply(self, current: &ProductView) -> Result<ProductInput, String> {
        let mut p = ProductInput {
            handle: current.handle.clone(),
            title_ko: current.title.ko.clone(),
            title_en: current.title.en.clone(),
            description_ko: current.description.ko.clone(),
            description_en: current.description.en.clone(),
            category: current.category.clone(),
            vendor: current.vendor.clone(),
            status: Some(current.status.clone()),
            variants: current.variants.iter().map(input_of).collect(),
        };
        let set = |dst: &mut String, src: Option<String>| {
            if let Some(s) = src {
                *dst = s;
            }
        };
        let t = self.title.unwrap_or_default();
        set(&mut p.title_ko, t.ko);
        set(&mut p.title_en, t.en);
        let d = self.description.unwrap_or_default();
        set(&mut p.description_ko, d.ko);
        set(&mut p.description_en, d.en);
        set(&mut p.category, self.category);
        set(&mut p.vendor, self.vendor);
        if self.status.is_some() {
            p.status = self.status;
        }
        for (i, vp) in self.variants.unwrap_or_default().into_iter().enumerate() {
            let at = format!("variants[{i}]");
            let (sku, patch) = vp.split();
            let sku = domain::Sku::parse(&sku).map_err(|e| format!("{at}.sku: {e}"))?;
            match p.variants.iter_mut().find(|v| v.sku == sku.as_str()) {
                Some(v) => patch.apply(v, &at)?,
                None => {
                    let mut v = VariantInput { sku: sku.as_str().to_owned(), ..Default::default() };
                    patch.apply(&mut v, &at)?;
                    p.variants.push(v);
                }
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Localized;

    fn localized(ko: &str, en: &str) -> Localized {
        Localized { ko: ko.to_owned(), en: en.to_owned() }
    }

    fn read_back() -> serde_json::Value {
        serde_json::json!({
            "id": "prod_01", "handle": "socks", "title": {"ko": "양말", "en": "Socks"},
            "description": {"ko": "", "en": ""}, "category": "apparel/socks", "vendor": "", "status": "active",
            "variants": [{"sku": "sock-m", "gtin": null, "weight_g": 50, "attributes": {"size": "M"},
                          "prices": [{"currency": "KRW", "amount_minor": 9000, "amount": "9000"},
                                     {"currency": "USD", "amount": "6.50"}]}],
            "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z"
        })
    }

    #[test]
    fn what_is_read_can_be_sent_back() {
        let p: ProductIn = serde_json::from_value(read_back()).unwrap();
        let p = p.into_input().unwrap();
        assert_eq!((p.title_ko.as_str(), p.title_en.as_str()), ("양말", "Socks"));
        assert_eq!(
            p.variants[0].prices,
            vec![
                PriceInput { currency: "KRW".into(), amount_minor: 9000 },
                PriceInput { currency: "USD".into(), amount_minor: 650 }
            ]
        );
        let flat = serde_json::json!({"handle": "socks", "title_ko": "양말", "title_en": "Socks", "category": "c",
                                      "variants": [{"sku": "S", "prices": [{"currency": "KRW", "amount_minor": 1}]}]});
        assert!(serde_json::from_value::<ProductIn>(flat).unwrap().into_input().is_ok());
    }

    #[test]
    fn conflicting_or_missing_values_are_named() {
        let mut v = read_back();
        v["variants"][0]["prices"][0]["amount"] = "9500".into();
        let e = serde_json::from_value::<ProductIn>(v).unwrap().into_input().unwrap_err();
        assert!(e.contains("variants[0].prices[0]") && e.contains("disagree"), "{e}");
        let mut v = read_back();
        v["variants"][0]["prices"][1]["amount"] = "6.505".into();
        let e = serde_json::from_value::<ProductIn>(v).unwrap().into_input().unwrap_err();
        assert!(e.contains("variants[0].prices[1].amount") && e.contains("decimal places"), "{e}");
        let mut v = read_back();
        v["title_ko"] = "다른 양말".into();
        let e = serde_json::from_value::<ProductIn>(v).unwrap().into_input().unwrap_err();
        assert!(e.contains("title.ko"), "{e}");
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let current = ProductView {
            id: "prod_01".into(),
            handle: "socks".into(),
            title: localized("양말", "Socks"),
            description: localized("", ""),
            category: "apparel/socks".into(),
            vendor: "".into(),
            status: "active".into(),
            variants: vec![VariantView {
                sku: "SOCK-M".into(),
                gtin: None,
                weight_g: 50,
                attributes: [("size".to_owned(), "M".to_owned())].into(),
                prices: vec![crate::price_view("KRW", 9000), crate::price_view("USD", 650)],
            }],
            created_at: "".into(),
            updated_at: "".into(),
        };
        let patch: ProductPatch = serde_json::from_value(serde_json::json!({
            "title": {"en": "Warm socks"},
            "variants": [{"sku": "sock-m", "prices": [{"currency": "KRW", "amount": "8,500"}], "remove_currencies": ["USD"]},
                         {"sku": "sock-l", "attributes": {"size": "L"}, "prices": [{"currency": "KRW", "amount_minor": 9500}]}]
        }))
        .unwrap();
        let p = patch.apply(&current).unwrap();
        assert_eq!((p.title_ko.as_str(), p.title_en.as_str()), ("양말", "Warm socks"));
        assert_eq!(p.variants[0].prices, vec![PriceInput { currency: "KRW".into(), amount_minor: 8500 }]);
        assert_eq!(p.variants[1].sku, "SOCK-L");
        assert_eq!(p.status.as_deref(), Some("active"));
    }
}
