//! The products an answer shows: read with their live stock per SKU and location, narrowed to the variants
//! that fit what was asked, and described (price, where to get it today, why it fits) in the reply's language.

use super::{texts, AssistantProduct, Ctx, StoreStock};
use crate::catalog::products::{self, ProductView};
use crate::Result;
use assistant::Understood;
use std::collections::{BTreeMap, HashMap};
use store::{params, Tx};

/// A product as loaded for an answer, with its live stock per SKU and location.
pub(super) struct Loaded {
    pub(super) product: ProductView,
    /// sku → location id → available units
    stock: HashMap<String, HashMap<String, i64>>,
}

pub(super) fn load_products(tx: &mut dyn Tx, ids: &[String]) -> Result<Vec<Loaded>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(product) = products::load_product(tx, id)? else { continue };
        if product.status != "active" {
            continue;
        }
        let mut stock: HashMap<String, HashMap<String, i64>> = HashMap::new();
        for v in &product.variants {
            let rows = tx.query(
                "SELECT location_id, on_hand - reserved - safety_stock FROM stock_levels WHERE sku = ?",
                params![&v.sku],
            )?;
            let per = stock.entry(v.sku.clone()).or_default();
            for r in rows.iter() {
                per.insert(r.text(0)?, r.i64(1)?.max(0));
            }
        }
        out.push(Loaded { product, stock });
    }
    Ok(out)
}

/// Whether a variant fits the asked attributes (colour, size).
pub(super) fn fits(attrs: &BTreeMap<String, String>, asked: &BTreeMap<String, String>) -> bool {
    asked.iter().all(|(k, v)| attrs.get(k).is_some_and(|a| a.eq_ignore_ascii_case(v)))
}

/// A loaded product as the answer shows it, or `None` when no variant fits the asked attributes or it has
/// no price in the conversation's currency.
pub(super) fn describe(
    l: &Loaded,
    ctx: &Ctx<'_>,
    asked: &BTreeMap<String, String>,
    store: Option<&str>,
    u: &Understood,
    why: &str,
) -> Option<AssistantProduct> {
    let ko = ctx.ko;
    let p = &l.product;
    let variants: Vec<_> = p.variants.iter().filter(|v| fits(&v.attributes, asked)).collect();
    if variants.is_empty() {
        return None;
    }
    let price = variants
        .iter()
        .filter_map(|v| v.prices.iter().find(|x| x.currency == ctx.currency))
        .min_by_key(|x| x.amount_minor)
        .cloned();
    if price.is_none() && why == "find" {
        return None;
    }
    let mut stores = Vec::new();
    let mut online = 0;
    for loc in ctx.locations {
        let units: i64 =
            variants.iter().map(|v| l.stock.get(&v.sku).and_then(|m| m.get(&loc.id)).copied().unwrap_or(0)).sum();
        if loc.kind == "warehouse" {
            online += units;
            continue;
        }
        if units > 0 || store == Some(loc.id.as_str()) {
            stores.push(StoreStock {
                location_id: loc.id.clone(),
                code: loc.code.clone(),
                name: if ko { loc.name.ko.clone() } else { loc.name.en.clone() },
                available: units,
                pickup_enabled: loc.pickup_enabled,
            });
        }
    }
    // Availability: the asked store first, else the pickup store with the most, else online.
    let focus = store
        .and_then(|s| stores.iter().find(|x| x.location_id == s))
        .or_else(|| stores.iter().filter(|x| x.pickup_enabled && x.available > 0).max_by_key(|x| x.available));
    let availability = match focus {
        Some(s) if s.available == 0 => {
            if ko {
                format!("{} 품절", s.name)
            } else {
                format!("Sold out at {}", s.name)
            }
        }
        Some(s) if s.pickup_enabled => {
            if ko {
                format!("{} {}개, 오늘 픽업 가능", s.name, s.available)
            } else {
                format!("{} at {}, pickup today", s.available, s.name)
            }
        }
        Some(s) => {
            if ko {
                format!("{} {}개 (매장 구매)", s.name, s.available)
            } else {
                format!("{} at {} (in store only)", s.available, s.name)
            }
        }
        None if online > 0 => if ko { "온라인 주문 후 배송" } else { "Online, delivered" }.to_owned(),
        None => if ko { "지금은 재고가 없어요" } else { "Out of stock right now" }.to_owned(),
    };
    // Why it fits: what was asked that it meets, in the reply's language.
    let mut why_parts: Vec<String> = Vec::new();
    if let (Some(b), Some(pr)) = (&u.price, &price) {
        if b.currency == pr.currency {
            why_parts.push(texts::bounds(b, ko));
        }
    }
    if let Some(c) = asked.get("color") {
        why_parts.push(texts::colour(c, ko));
    }
    if let Some(s) = asked.get("size") {
        why_parts.push(if ko { format!("{s} 사이즈 있음") } else { format!("size {s} available") });
    }
    if u.brand.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(&p.vendor)) {
        why_parts.push(p.vendor.clone());
    }
    if u.exclude_brand.is_some() {
        why_parts.push(if ko {
            format!("다른 브랜드: {}", p.vendor)
        } else {
            format!("another brand: {}", p.vendor)
        });
    }
    match u.refine.as_deref() {
        Some("cheaper") => {
            why_parts.push(if ko { "앞서 본 것보다 저렴".into() } else { "cheaper than before".into() })
        }
        Some("pricier") => why_parts.push(if ko { "한 단계 위 제품".into() } else { "a step up".into() }),
        _ => {}
    }
    if u.intent == "gift" {
        why_parts.push(if ko { "선물로 인기".into() } else { "popular as a gift".into() });
    }
    if focus.is_some_and(|s| s.available > 0 && s.pickup_enabled) && u.pickup.is_some() {
        why_parts.push(if ko { "오늘 픽업 가능".into() } else { "pickup today".into() });
    }
    if why_parts.is_empty() {
        why_parts.push(if ko { texts::category(&p.category, true) } else { texts::category(&p.category, false) });
    }
    Some(AssistantProduct {
        id: p.id.clone(),
        handle: p.handle.clone(),
        title: if ko { p.title.ko.clone() } else { p.title.en.clone() },
        category: p.category.clone(),
        brand: p.vendor.clone(),
        price,
        availability,
        stores,
        online_available: online,
        reason: why_parts.join(" · "),
    })
}

pub(super) fn titles(ps: &[AssistantProduct]) -> String {
    ps.iter().map(|p| p.title.as_str()).collect::<Vec<_>>().join(", ")
}
