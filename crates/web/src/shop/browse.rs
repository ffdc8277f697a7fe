//! Browsing the shop: the home page with its recommendation rails (each item with its reason), search and
//! category pages (facets, filters, sort, paging, "pick up today" at a chosen store or near the shopper),
//! product pages (variants, price, per-store availability, often bought with, schema.org `Product` data)
//! and the store list.

use super::{category_name, page, price, problem, store_picker, urlencode, variant_price, Meta, Visitor};
use crate::i18n::Lang;
use crate::Web;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use engine::discovery::product_search::{SearchQuery, SearchView};
use engine::discovery::recommendations::{RecItem, RecsQuery};
use maud::{html, Markup};
use serde_json::json;

/// Results per search page.
const PER_PAGE: usize = 24;
/// Radius of "near me" in km.
const NEAR_KM: f64 = 10.0;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
        .route("/p/{handle}", get(product))
        .route("/stores", get(stores))
        .route("/media/models/{file}", get(model_file))
}

/// A product tile: a coloured placeholder naming the category (the catalog has no photos yet), the title,
/// the price and one line of context (a reason, a brand, where it can be picked up today).
pub(super) fn tile(
    v: &Visitor,
    handle: &str,
    title: &str,
    category: &str,
    money: Option<String>,
    note: Option<&str>,
) -> Markup {
    let hue = category.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360;
    html! {
        li.tile {
            a href=(format!("/p/{handle}")) {
                span class=(format!("thumb h{}", hue / 30)) aria-hidden="true" { (category_name(category, v.lang)) }
                span.t { (title) }
                @if let Some(m) = money { span.price { (m) } }
                @if let Some(n) = note { span.note { (n) } }
            }
        }
    }
}

fn rec_tiles(v: &Visitor, items: &[RecItem]) -> Markup {
    html! {
        ul.tiles {
            @for it in items {
                (tile(v, &it.handle, v.l(&it.title), &it.category, it.price.as_ref().map(price), Some(v.l(&it.reason.text))))
            }
        }
    }
}

async fn rail(v: &Visitor, context: &str, customer: bool, location: Option<String>, limit: usize) -> Vec<RecItem> {
    let q = RecsQuery {
        context: context.to_owned(),
        customer_id: if customer { v.customer_id().map(str::to_owned) } else { None },
        session_id: if customer { v.sid.clone() } else { None },
        location_id: location,
        limit,
        currency: v.currency.clone(),
    };
    match v.engine().recommendations(q).await {
        Ok(r) => r.items,
        Err(e) => {
            tracing::warn!(error = %e, context, "recommendations unavailable for the storefront");
            Vec::new()
        }
    }
}

async fn home(v: Visitor) -> Response {
    let personal = v.customer.is_some() || v.sid.is_some();
    let store = v.store.clone().or_else(|| v.pickup_stores().next().map(|l| l.id.clone()));
    let for_you = if personal { rail(&v, "home", true, None, 8).await } else { Vec::new() };
    let at_store = match &store {
        Some(s) => rail(&v, "home", false, Some(s.clone()), 8).await,
        None => Vec::new(),
    };
    let best = rail(&v, "home", false, None, 8).await;
    let categories = match v.engine().search_products(query(&v, String::new(), 1, 0)).await {
        Ok(s) => s.facets.get("category").cloned().unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let store_name = store.as_deref().map(|s| v.location_name(s)).unwrap_or_default();
    let body = html! {
        section.hero {
            h1 { (v.t("One shop, online and in store", "온라인과 매장이 하나인 쇼핑")) }
            p { (v.t("See what is in stock at the store near you, pick it up today, and pay with one wallet on the web, at the till and in our cashierless store.",
                     "가까운 매장 재고를 확인하고 오늘 픽업하세요. 온라인, 계산대, 무인 매장 어디서나 하나의 지갑으로 결제할 수 있습니다.")) }
        }
        @if !for_you.is_empty() {
            section.rail aria-labelledby="rail-you" {
                h2 #rail-you { (v.t("For you", "나를 위한 추천")) }
                (rec_tiles(&v, &for_you))
            }
        }
        @if !at_store.is_empty() {
            section.rail aria-labelledby="rail-store" {
                h2 #rail-store { (match v.lang { Lang::Ko => format!("{store_name}에서 인기", ), Lang::En => format!("Trending at {store_name}") }) }
                (rec_tiles(&v, &at_store))
            }
        }
        @if !best.is_empty() {
            section.rail aria-labelledby="rail-best" {
                h2 #rail-best { (v.t("Best sellers", "베스트셀러")) }
                (rec_tiles(&v, &best))
            }
        }
        @if !categories.is_empty() {
            section aria-labelledby="cats" {
                h2 #cats { (v.t("Shop by category", "카테고리")) }
                ul.chips {
                    @for c in categories.keys() {
                        li { a href=(format!("/search?category={}", urlencode(c))) { (category_name(c, v.lang)) } }
                    }
                }
            }
        }
        section.card aria-labelledby="mystore" {
            h2 #mystore { (v.t("Pick up today", "오늘 픽업")) }
            p.muted { (v.t("Choose your store: search shows what it has now and the cart offers pickup there.",
                           "내 매장을 고르면 검색에서 지금 있는 상품을 보여 주고, 장바구니에서 그 매장 픽업을 제안합니다.")) }
            (store_picker(&v, "/"))
        }
    };
    let meta = Meta::new(
        v.t("Shop online, pick up today", "온라인 주문, 오늘 매장 픽업"),
        v.t(
            "borderless: one shop on the web and in our stores. Live stock per store, pickup today, one wallet everywhere.",
            "borderless: 온라인과 매장이 하나인 쇼핑. 매장별 실시간 재고, 오늘 픽업, 어디서나 하나의 지갑.",
        ),
    )
    .canonical("/");
    page(&v, StatusCode::OK, meta, body)
}

fn param<'a>(v: &'a Visitor, k: &str) -> Option<&'a str> {
    v.param(k)
}

fn query(v: &Visitor, q: String, limit: usize, offset: usize) -> SearchQuery {
    SearchQuery {
        q,
        category: None,
        brand: None,
        attributes: Vec::new(),
        currency: v.currency.clone(),
        price_min: None,
        price_max: None,
        in_stock_at: None,
        pickup_near: None,
        sort: "relevance".into(),
        limit,
        offset,
    }
}

const SORTS: &[(&str, &str, &str)] = &[
    ("relevance", "Best match", "정확도순"),
    ("popular", "Most popular", "인기순"),
    ("price_asc", "Price: low to high", "낮은 가격순"),
    ("price_desc", "Price: high to low", "높은 가격순"),
    ("newest", "Newest", "최신순"),
];

/// Facets shown as filters, with the query parameter each sets.
const FACETS: &[(&str, &str, &str, &str)] = &[
    ("category", "category", "Category", "카테고리"),
    ("brand", "brand", "Brand", "브랜드"),
    ("attributes.color", "color", "Colour", "색상"),
    ("attributes.size", "size", "Size", "사이즈"),
];

/// A colour value as the shop says it (one list for the filters, the product page, the cart and the assistant).
fn colour_name(c: &str, lang: Lang) -> String {
    engine::discovery::assistant::texts::colour(c, lang == Lang::Ko)
}

fn facet_value(facet: &str, value: &str, lang: Lang) -> String {
    match facet {
        "category" => category_name(value, lang),
        "attributes.color" => colour_name(value, lang),
        _ => value.to_owned(),
    }
}

async fn search(v: Visitor) -> Response {
    let text = param(&v, "q").unwrap_or("").chars().take(200).collect::<String>();
    let page_no =
        param(&v, "page").and_then(|p| p.parse::<usize>().ok()).filter(|p| (1..=400).contains(p)).unwrap_or(1);
    let mut q = query(&v, text.clone(), PER_PAGE, (page_no - 1) * PER_PAGE);
    q.category = param(&v, "category").map(str::to_owned);
    q.brand = param(&v, "brand").map(str::to_owned);
    for key in ["color", "size"] {
        if let Some(val) = param(&v, key) {
            q.attributes.push((key.to_owned(), val.to_owned()));
        }
    }
    let mut form = crate::forms::FormState::from_values(&v.query);
    for (key, slot) in [("price_min", &mut q.price_min), ("price_max", &mut q.price_max)] {
        if let Some(typed) = param(&v, key) {
            match crate::fmt::parse_money(typed, &v.currency, v.lang) {
                Ok(m) if m >= 0 => *slot = Some(m),
                Ok(_) => form.error(key, v.t("Enter an amount of 0 or more.", "0 이상의 금액을 입력해 주세요.")),
                Err(e) => form.error(key, e),
            }
        }
    }
    if let (Some(lo), Some(hi)) = (q.price_min, q.price_max) {
        if lo > hi {
            form.error(
                "price_max",
                v.t(
                    "The max price is below the min price: raise it or lower the min.",
                    "최고 가격이 최저 가격보다 낮습니다. 최고 가격을 높이거나 최저 가격을 낮춰 주세요.",
                ),
            );
            (q.price_min, q.price_max) = (None, None);
        }
    }
    q.sort = param(&v, "sort").filter(|s| SORTS.iter().any(|(k, _, _)| k == s)).unwrap_or("relevance").to_owned();
    let near = param(&v, "near").and_then(|n| {
        let (a, b) = n.split_once(',')?;
        let (lat, lon) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
        (lat.abs() <= 90.0 && lon.abs() <= 180.0).then_some((lat, lon))
    });
    // Any store's shelf can be browsed ("In stock here now" on /stores, the cashierless store too); only pickup
    // stores promise "pickup today". A store's code works as well as its id.
    let store_view = param(&v, "store").and_then(|s| {
        v.locations.iter().find(|l| l.kind != "warehouse" && (l.id == s || l.code.eq_ignore_ascii_case(s)))
    });
    let pickup_store = store_view.map(|l| l.id.clone());
    let collectable = store_view.is_some_and(|l| l.pickup_enabled);
    if let Some((lat, lon)) = near {
        q.pickup_near = Some((lat, lon, NEAR_KM));
    } else if let Some(s) = &pickup_store {
        q.in_stock_at = Some(s.clone());
    }
    let result = v.engine().search_products(q.clone()).await;
    let s: SearchView = match result {
        Ok(s) => s,
        Err(e) => return super::engine_problem(&v, &e),
    };
    if !text.is_empty() && page_no == 1 {
        v.record("search", None, Some(&text)).await;
    }
    // No match: the nearest categories, never an empty page. With filters on, those where the words match
    // without the filters (linked with the words kept); otherwise every category, largest first.
    let filtered = q.category.is_some()
        || q.brand.is_some()
        || !q.attributes.is_empty()
        || q.price_min.is_some()
        || q.price_max.is_some()
        || q.in_stock_at.is_some()
        || q.pickup_near.is_some();
    let categories = |text: String| {
        let engine = v.engine().clone();
        let q = query(&v, text, 1, 0);
        async move {
            let mut c: Vec<(String, usize)> = engine
                .search_products(q)
                .await
                .ok()
                .and_then(|r| r.facets.get("category").cloned())
                .unwrap_or_default()
                .into_iter()
                .collect();
            c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            c
        }
    };
    let (fallback, relaxed) = if s.total > 0 {
        (Vec::new(), false)
    } else {
        let near = if filtered && !text.is_empty() { categories(text.clone()).await } else { Vec::new() };
        if near.is_empty() {
            (categories(String::new()).await, false)
        } else {
            (near, true)
        }
    };
    let heading = match (text.is_empty(), q.category.as_deref()) {
        (false, _) => match v.lang {
            Lang::Ko => format!("‘{text}’ 검색 결과"),
            Lang::En => format!("Results for “{text}”"),
        },
        (true, Some(c)) => category_name(c, v.lang),
        (true, None) => v.t("All products", "전체 상품").to_owned(),
    };
    let pages = s.total.div_ceil(PER_PAGE).max(1);
    let active_filters: Vec<(&str, String)> =
        ["category", "brand", "color", "size", "price_min", "price_max", "store", "near"]
            .iter()
            .filter_map(|k| param(&v, k).map(|val| (*k, val.to_owned())))
            .collect();
    let body = html! {
        h1 { (heading) }
        p.muted role="status" {
            (match v.lang { Lang::Ko => format!("{}개 상품", crate::fmt::int(s.total as i64)), Lang::En => format!("{} products", crate::fmt::int(s.total as i64)) })
            @if let Some((lat, lon)) = near {
                " · " (match v.lang { Lang::Ko => format!("내 위치 {NEAR_KM}km 안 매장에서 오늘 픽업 ({lat:.3}, {lon:.3})"), Lang::En => format!("pickup today within {NEAR_KM} km of you ({lat:.3}, {lon:.3})") })
            } @else if let Some(st) = pickup_store.as_ref().filter(|_| collectable) {
                " · " (match v.lang { Lang::Ko => format!("{}에서 오늘 픽업 가능", v.location_name(st)), Lang::En => format!("pickup today at {}", v.location_name(st)) })
            } @else if let Some(st) = &pickup_store {
                " · " (match v.lang { Lang::Ko => format!("{}에 지금 있는 상품", v.location_name(st)), Lang::En => format!("in stock now at {}", v.location_name(st)) })
            }
        }
        div.search-layout {
            details.filters {
                summary { (v.t("Sort and filter", "정렬·필터")) @if !active_filters.is_empty() { " (" (active_filters.len()) ")" } }
                form method="get" action="/search" data-autosubmit {
                    @if !text.is_empty() { input type="hidden" name="q" value=(text); }
                    @for (_, key, _, _) in FACETS {
                        @if let Some(val) = param(&v, key) { input type="hidden" name=(key) value=(val); }
                    }
                    @if let Some(n) = param(&v, "near") { input type="hidden" name="near" value=(n); }
                    div.field {
                        label for="f-sort" { (v.t("Sort by", "정렬")) }
                        select #f-sort name="sort" {
                            @for (k, en, ko) in SORTS { option value=(k) selected[q.sort == *k] { (v.t(en, ko)) } }
                        }
                    }
                    div.field {
                        label for="f-store" { (v.t("Pick up today at", "오늘 픽업할 매장")) }
                        select #f-store name="store" {
                            option value="" { (v.t("Any store or delivery", "전체 (배송 포함)")) }
                            @for l in v.pickup_stores() {
                                option value=(l.id) selected[pickup_store.as_deref() == Some(l.id.as_str())] { (v.l(&l.name)) }
                            }
                            @if let Some(l) = store_view.filter(|_| !collectable) {
                                option value=(l.id) selected { (v.l(&l.name)) }
                            }
                        }
                        button.link type="button" data-near hidden { (v.t("Use my location", "내 위치 사용")) }
                        div.hint data-near-status { }
                    }
                    div.row {
                        (crate::forms::Field::new("price_min", v.t("Min price", "최저 가격"), &form, "").kind("text").attrs(&[("inputmode", "decimal")]).render(&form))
                        (crate::forms::Field::new("price_max", v.t("Max price", "최고 가격"), &form, "").kind("text").attrs(&[("inputmode", "decimal")]).render(&form))
                    }
                    button.secondary type="submit" { (v.t("Apply", "적용")) }
                }
                @for (facet, key, en, ko) in FACETS {
                    @if let Some(values) = s.facets.get(*facet).filter(|m| !m.is_empty()) {
                        nav.facet aria-label=(v.t(en, ko)) {
                            h2 { (v.t(en, ko)) }
                            ul {
                                @for (val, n) in values.iter().take(20) {
                                    @let on = param(&v, key) == Some(val.as_str());
                                    li {
                                        a href=(v.with_param(key, if on { "" } else { val })) aria-current=[on.then_some("true")] {
                                            (facet_value(facet, val, v.lang)) " " span.muted { "(" (n) ")" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.results {
                @if !active_filters.is_empty() {
                    p.small {
                        (v.t("Filters:", "필터:")) " "
                        @for (k, val) in &active_filters {
                            a.pill href=(v.with_param(k, "")) aria-label=(format!("{} {}", v.t("Remove filter", "필터 해제"), val)) {
                                (if *k == "store" { v.location_name(val) } else if *k == "near" { v.t("near me", "내 주변").to_owned() } else { facet_value(&format!("attributes.{k}").replace("attributes.category", "category"), val, v.lang) }) " ×"
                            }
                            " "
                        }
                    }
                }
                @if s.hits.is_empty() {
                    @if relaxed {
                        div.alert.info role="status" {
                            (v.t("Nothing matches with these filters. Without them, these categories have matches:",
                                 "선택한 조건에 맞는 상품이 없습니다. 조건을 빼면 다음 카테고리에 있습니다:"))
                        }
                        ul.chips {
                            @for (c, n) in fallback.iter() {
                                li { a href=(format!("/search?q={}&category={}", urlencode(&text), urlencode(c))) { (category_name(c, v.lang)) " (" (n) ")" } }
                            }
                        }
                    } @else {
                        div.alert.info role="status" {
                            (v.t("Nothing matches this search. Check the spelling, remove a filter, or browse a category:",
                                 "검색과 일치하는 상품이 없습니다. 철자를 확인하거나 필터를 해제하거나, 카테고리에서 찾아보세요:"))
                        }
                        ul.chips {
                            @for (c, n) in fallback.iter() {
                                li { a href=(format!("/search?category={}", urlencode(c))) { (category_name(c, v.lang)) " (" (n) ")" } }
                            }
                        }
                    }
                } @else {
                    ul.tiles {
                        @for h in &s.hits {
                            @let note = if h.available_at.is_empty() { h.brand.clone() } else {
                                let names: Vec<String> = h.available_at.iter().take(2).map(|l| v.location_name(l)).collect();
                                match v.lang { Lang::Ko => format!("오늘 픽업: {}", names.join(", ")), Lang::En => format!("Pick up today: {}", names.join(", ")) }
                            };
                            (tile(&v, &h.handle, v.l(&h.title), &h.category, h.price.as_ref().map(price), Some(&note)))
                        }
                    }
                    @if pages > 1 {
                        nav.pager aria-label=(v.t("Pages", "페이지")) {
                            @if page_no > 1 { a rel="prev" href=(v.with_param("page", &(page_no - 1).to_string())) { "← " (v.t("Previous", "이전")) } } @else { span {} }
                            span { (page_no) " / " (pages) }
                            @if page_no < pages { a rel="next" href=(v.with_param("page", &(page_no + 1).to_string())) { (v.t("Next", "다음")) " →" } } @else { span {} }
                        }
                    }
                }
            }
        }
    };
    let mut canonical_q: Vec<(String, String)> = Vec::new();
    for k in ["q", "category", "brand", "color", "size", "page"] {
        if let Some(val) = param(&v, k) {
            canonical_q.push((k.to_owned(), val.to_owned()));
        }
    }
    let description = match v.lang {
        Lang::Ko => format!("{heading}: {}개 상품, 매장별 재고와 오늘 픽업.", s.total),
        Lang::En => format!("{heading}: {} products with live stock per store and pickup today.", s.total),
    };
    let mut meta = Meta::new(heading.clone(), description).canonical(super::with_query("/search", &canonical_q));
    // Free-text result pages are not for search engines (only categories are).
    meta.noindex = !text.is_empty() || near.is_some();
    let status = if form.is_ok() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    page(&v, status, meta, body)
}

pub(super) use crate::fmt::options_text;

async fn product(v: Visitor, Path(handle): Path<String>) -> Response {
    if handle.len() > 120 {
        return problem(
            &v,
            StatusCode::NOT_FOUND,
            &super::shopper_sentence(&engine::EngineError::not_found("product", ""), v.lang, &[]),
        );
    }
    let pa = match v.engine().product_with_availability(&handle).await {
        Ok(p) => p,
        Err(e) => return super::engine_problem(&v, &e),
    };
    let p = &pa.product;
    let chosen = param(&v, "sku").and_then(|s| p.variants.iter().find(|x| x.sku == s)).or_else(|| p.variants.first());
    let Some(variant) = chosen else {
        return super::engine_problem(&v, &engine::EngineError::not_found("product", &handle));
    };
    v.record("view", Some(&p.id), None).await;
    let avail = pa.availability.iter().find(|a| a.sku == variant.sku);
    let mut stores: Vec<&engine::stock::StoreAvailability> =
        avail.map(|a| a.stores.iter().collect()).unwrap_or_default();
    // The shopper's store first, then the ones with stock.
    stores.sort_by_key(|s| {
        (v.store.as_deref() != Some(s.location_id.as_str()), s.available == 0, s.kind == "cashierless")
    });
    let online = avail.map(|a| a.online_available).unwrap_or(0);
    let in_any_store = stores.iter().any(|s| s.available > 0);
    let shown_price = variant_price(&v, variant);
    let title = v.l(&p.title).to_owned();
    let also = rail(&v, &format!("product:{}", p.id), false, v.store.clone(), 8).await;
    let model = v.engine().product_model_info(&p.id).await.ok().flatten();
    let pickup_stores: Vec<&&engine::stock::StoreAvailability> =
        stores.iter().filter(|s| s.pickup_enabled && s.available > 0).collect();

    let offers: Vec<serde_json::Value> = variant
        .prices
        .iter()
        .map(|pr| {
            json!({
                "@type": "Offer",
                "sku": variant.sku,
                "price": pr.amount,
                "priceCurrency": pr.currency,
                "url": format!("{}/p/{}?sku={}", v.base, p.handle, urlencode(&variant.sku)),
                "availability": if online > 0 || in_any_store { "https://schema.org/InStock" } else { "https://schema.org/OutOfStock" },
                "availableDeliveryMethod": if pickup_stores.is_empty() { json!(["http://purl.org/goodrelations/v1#DeliveryModeParcelService"]) } else { json!(["http://purl.org/goodrelations/v1#DeliveryModeParcelService", "http://purl.org/goodrelations/v1#DeliveryModePickUp"]) },
                "availableAtOrFrom": pickup_stores.iter().map(|s| json!({"@type": "Place", "name": v.l(&s.name)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "description": v.l(&p.description),
        "sku": variant.sku,
        "category": category_name(&p.category, v.lang),
        "brand": {"@type": "Brand", "name": p.vendor},
        "offers": offers,
    });
    if let Some(g) = &variant.gtin {
        ld["gtin"] = json!(g);
    }

    let body = html! {
        nav.crumbs aria-label=(v.t("Breadcrumb", "현재 위치")) {
            a href="/" { (v.t("Home", "홈")) } " › "
            a href=(format!("/search?category={}", urlencode(&p.category))) { (category_name(&p.category, v.lang)) }
        }
        article.product {
            div.product-main {
                div class=(format!("thumb big h{}", p.category.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360 / 30)) aria-hidden="true" {
                    (category_name(&p.category, v.lang))
                }
                div {
                    p.muted { (p.vendor) }
                    h1 { (title) }
                    @if let Some(pr) = shown_price {
                        p.big-price { (price(pr)) }
                        @if pr.currency != v.currency {
                            p.small.muted { (v.t("This product is priced in won only.", "이 상품은 원화로만 판매합니다.")) }
                        }
                    }
                    @if p.variants.len() > 1 {
                        nav.variants aria-label=(v.t("Options", "옵션")) {
                            h2.sr-only { (v.t("Options", "옵션")) }
                            ul.chips {
                                @for x in &p.variants {
                                    @let on = x.sku == variant.sku;
                                    li { a href=(format!("/p/{}?sku={}", p.handle, urlencode(&x.sku))) aria-current=[on.then_some("true")] { (options_text(&x.attributes, v.lang)) } }
                                }
                            }
                        }
                    } @else if !variant.attributes.is_empty() {
                        p { (options_text(&variant.attributes, v.lang)) }
                    }
                    form.buy method="post" action="/cart/add" {
                        (v.csrf_field())
                        input type="hidden" name="sku" value=(variant.sku);
                        input type="hidden" name="next" value=(format!("/p/{}?sku={}", p.handle, urlencode(&variant.sku)));
                        div.row {
                            div.field.shrink {
                                label for="f-qty" { (v.t("Quantity", "수량")) }
                                input #f-qty type="number" name="quantity" value="1" min="1" max="20" inputmode="numeric";
                            }
                            button.big type="submit" disabled[online == 0 && !in_any_store] {
                                @if online == 0 && !in_any_store { (v.t("Sold out", "품절")) } @else { (v.t("Add to cart", "장바구니에 담기")) }
                            }
                        }
                    }
                    section aria-labelledby="avail" {
                        h2 #avail { (v.t("Where to get it", "구매 가능한 곳")) }
                        // With JavaScript the list follows the stock live (`data-live`, seconds).
                        div aria-live="polite" {
                        ul.avail data-availability=(variant.sku) data-product=(p.id) data-live="20"
                            data-online-some=(v.t("{n} available for delivery", "온라인 배송 {n}개 가능"))
                            data-online-none=(v.t("Not available for delivery", "온라인 배송 불가")) {
                            li.ok[online > 0] data-online {
                                span.l {
                                    @if online > 0 {
                                        (match v.lang { Lang::Ko => format!("온라인 배송 {online}개 가능"), Lang::En => format!("{online} available for delivery") })
                                    } @else { (v.t("Not available for delivery", "온라인 배송 불가")) }
                                }
                            }
                            @for s in &stores {
                                li.ok[s.available > 0 && s.pickup_enabled] data-loc=(s.location_id) {
                                    span.l { (v.l(&s.label)) }
                                    @if v.store.as_deref() == Some(s.location_id.as_str()) { " " span.pill.info { (v.t("My store", "내 매장")) } }
                                }
                            }
                        }
                        }
                    }
                }
            }
            @if let Some(m) = &model {
                section.viewer3d aria-labelledby="v3d" {
                    h2 #v3d { (v.t("See it in 3D", "3D로 보기")) }
                    div #model-box .model-box data-src=(m.url) data-script=(crate::assets::url("model-viewer.js"))
                        data-alt=(match v.lang { Lang::Ko => format!("{title} 3D 모델"), Lang::En => format!("3D model of {title}") }) {}
                    button.secondary type="button" data-model-viewer="model-box" hidden {
                        (v.t("Turn it around in 3D, or place it in your room (AR)", "3D로 돌려 보기 · 내 공간에 놓아 보기(AR)"))
                    }
                    p.small { a href=(m.url) download=(format!("{}.glb", p.handle)) { (v.t("3D model file (.glb)", "3D 모델 파일 (.glb)")) } }
                }
            }
            section aria-labelledby="about" {
                h2 #about { (v.t("About this product", "상품 설명")) }
                p { (v.l(&p.description)) }
                @if let Some(g) = &variant.gtin { p.small.muted { "GTIN " (g) } }
            }
        }
        @if !also.is_empty() {
            section.rail aria-labelledby="also" {
                h2 #also { (v.t("Often bought with", "함께 많이 산 상품")) }
                (rec_tiles(&v, &also))
            }
        }
    };
    let description = {
        let d = v.l(&p.description);
        let mut d: String = d.chars().take(150).collect();
        if let Some(pr) = shown_price {
            d = format!("{} · {}", price(pr), d);
        }
        d
    };
    let mut meta = Meta::new(title, description).canonical(format!("/p/{}", p.handle));
    meta.og_type = "product";
    meta.json_ld = Some(ld);
    let mut res = page(&v, StatusCode::OK, meta, body);
    if model.is_some() {
        res.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(crate::security::CSP_3D),
        );
    }
    res
}

async fn stores(v: Visitor) -> Response {
    let body = html! {
        h1 { (v.t("Our stores", "매장 안내")) }
        (store_picker(&v, "/stores"))
        ul.store-list {
            @for l in v.locations.iter().filter(|l| l.kind != "warehouse") {
                li.card {
                    h2 { (v.l(&l.name)) }
                    p { (l.address.line1) " " (l.address.line2) " " (l.address.city) }
                    p.small {
                        @if l.kind == "cashierless" {
                            (v.t("Cashierless store: scan your payment QR at the gate, take what you need and walk out; you are charged at the exit.",
                                 "무인 매장: 입구에서 결제 QR을 찍고 원하는 상품을 들고 나가면 출구에서 결제됩니다."))
                            " " a href="/account/pay" { (v.t("My payment QR", "내 결제 QR")) }
                        } @else if l.pickup_enabled {
                            (v.t("Click & collect: order online, pick up here today.", "온라인 주문 후 오늘 이 매장에서 픽업할 수 있습니다."))
                        }
                    }
                    p { a href=(format!("/search?store={}", urlencode(&l.id))) { (v.t("In stock here now", "지금 이 매장에 있는 상품")) } }
                }
            }
        }
    };
    let meta = Meta::new(
        v.t("Our stores", "매장 안내"),
        v.t("Our stores, their stock and pickup.", "매장별 재고와 픽업 안내."),
    )
    .canonical("/stores");
    page(&v, StatusCode::OK, meta, body)
}

/// A product's 3D model file. With the hash the page links to (`?v=`) it never changes, so browsers keep
/// it for a year; without, for five minutes.
async fn model_file(v: Visitor, Path(file): Path<String>) -> Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let Some(id) = file.strip_suffix(".glb").filter(|id| id.len() <= 64) else {
        return (StatusCode::NOT_FOUND, "no such model").into_response();
    };
    let (bytes, sha) = match v.engine().product_model_file(id).await {
        Ok(Some(f)) => f,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such model").into_response(),
        Err(e) => return super::engine_problem(&v, &e),
    };
    let pinned = v.param("v").is_some_and(|x| sha.starts_with(x) && x.len() >= 8);
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("model/gltf-binary"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if pinned { "public, max-age=31536000, immutable" } else { "public, max-age=300" }),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", &sha[..16.min(sha.len())])) {
        h.insert(header::ETAG, etag);
    }
    res
}
