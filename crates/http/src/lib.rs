//! The REST API of borderless (the only crate that knows HTTP and JSON): the admin surface for sellers and
//! staff, the store surface for shoppers, request limits, the one error shape, and `/openapi.json`.
//! Handlers translate; every rule lives in `engine`.

mod error;
mod extract;
mod openapi;

pub use error::{ApiError, ApiResult};

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use engine::catalog::locations::LocationInput;
use engine::catalog::products::{ProductInput, ProductQuery};
use engine::customers::accounts::SignupInput;
use engine::platform::auth::Principal;
use engine::platform::webhooks::SubscriptionInput;
use engine::sales::carts::Fulfillment;
use engine::sales::orders::{OrderQuery, ReturnInput, SaleLineInput};
use engine::Engine;
use extract::{page_limit, Admin, ApiJson, ApiQuery, Device, IdempotencyKey, MaybeCustomer, Staff, Viewer};
use serde::Deserialize;
use serde_json::json;

/// Largest JSON body accepted (catalog imports have their own, larger limit).
pub const MAX_BODY_BYTES: usize = 1 << 20;
pub const MAX_IMPORT_BYTES: usize = 64 << 20;
pub const MAX_PAGE: usize = 100;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
}

pub fn router(engine: Engine) -> Router {
    let state = AppState { engine };
    let import = Router::new()
        .route("/admin/products/import", post(import_products))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES));
    Router::new()
        .route("/health", get(health))
        .route("/webhooks/card", post(card_webhook))
        .route("/openapi.json", get(openapi::spec))
        // admin
        .route("/admin/products", post(create_product).get(admin_list_products))
        .route("/admin/products/export", get(export_products))
        .route("/admin/products/{id}", get(admin_get_product))
        .route("/admin/locations", post(create_location).get(list_locations))
        .route("/admin/inventory/adjustments", post(adjust))
        .route("/admin/inventory/transfers", post(transfer))
        .route("/admin/inventory/safety-stock", post(safety_stock))
        .route("/admin/inventory/{sku}", get(stock))
        .route("/admin/orders", get(list_orders))
        .route("/admin/orders/{id}", get(admin_get_order))
        .route("/admin/orders/{id}/ready-for-pickup", post(ready_for_pickup))
        .route("/admin/orders/{id}/picked-up", post(picked_up))
        .route("/admin/orders/{id}/ship", post(ship))
        .route("/admin/orders/{id}/cancel", post(cancel))
        .route("/admin/returns", post(create_return))
        .route("/admin/pos/sales", post(pos_sale))
        .route("/admin/gift-cards", post(issue_gift_card))
        .route("/admin/cashierless/sessions", post(cashierless_enter))
        .route("/admin/cashierless/sessions/{id}", get(cashierless_session))
        .route("/admin/cashierless/sessions/{id}/exit", post(cashierless_exit))
        .route("/admin/stores/{id}/layout", put(put_store_layout).get(get_store_layout))
        .route("/admin/stores/{id}/devices", post(register_device).get(list_devices))
        .route("/admin/stores/{id}/devices/{device}", delete(revoke_device))
        .route("/admin/stores/{id}/devices/{device}/token", post(rotate_device_token))
        .route("/admin/stores/{id}/reviews", get(store_reviews))
        .route("/admin/stores/{id}/labels", get(store_labels))
        .route("/admin/stores/{id}/reviews/{review}", post(resolve_store_review))
        .route("/devices/events", post(device_events))
        .route("/admin/fx-rates", post(record_fx_rate).get(list_fx_rates))
        .route("/admin/pos/payment-requests", post(create_payment_request))
        .route("/admin/pos/payment-requests/{id}", get(admin_payment_request))
        .route("/admin/customers", get(find_customers))
        .route("/admin/customers/{id}/wallet", get(admin_wallet))
        .route("/admin/customers/{id}/wallet/statement", get(admin_wallet_statement))
        .route("/admin/customers/{id}/wallet/top-ups", post(wallet_top_up))
        .route("/admin/api-keys", post(issue_key))
        .route("/admin/ledger/transfers", post(post_transfers))
        .route("/admin/ledger/accounts/{code}", get(ledger_account))
        .route("/admin/ledger/accounts/{code}/statement", get(account_statement))
        .route("/admin/events", get(list_events))
        .route("/admin/webhooks", post(subscribe).get(list_webhooks))
        .route("/admin/webhooks/{id}", delete(unsubscribe))
        .route("/admin/webhooks/{id}/deliveries", get(list_deliveries))
        .route("/admin/maintenance/expire-pickups", post(expire_pickups))
        .route("/admin/doctor", get(doctor))
        // store
        .route("/store/products", get(store_list_products))
        .route("/store/products/{id}", get(store_get_product))
        .route("/store/locations", get(list_locations_public))
        .route("/store/carts", post(create_cart))
        .route("/store/carts/{id}", get(get_cart))
        .route("/store/carts/{id}/lines", post(add_line))
        .route("/store/carts/{id}/lines/{sku}", put(set_line))
        .route("/store/carts/{id}/fulfillment", put(set_fulfillment))
        .route("/store/carts/{id}/checkout", post(checkout))
        .route("/store/orders/{id}", get(store_get_order))
        .route("/store/customers", post(signup))
        .route("/store/auth/login", post(login))
        .route("/store/customers/me", get(me))
        .route("/store/customers/me/orders", get(my_orders))
        .route("/store/wallet", get(my_wallet))
        .route("/store/wallet/statement", get(my_wallet_statement))
        .route("/store/wallet/payment-codes", post(new_payment_code))
        .route("/store/wallet/top-ups", post(self_top_up))
        .route("/store/gift-cards/{code}", get(gift_card_balance))
        .route("/store/payment-requests/{id}", get(store_payment_request))
        .route("/store/payment-requests/{id}/confirm", post(confirm_payment_request))
        .route("/store/events", post(shopper_events))
        .route("/store/search", get(search_products))
        .route("/admin/search/synonyms", get(get_synonyms).put(put_synonyms))
        .route("/store/recommendations", get(recommendations))
        .route("/admin/recommendations/model", get(recs_model).post(recs_train))
        .merge(import)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_requests))
        .with_state(state)
}

async fn log_requests(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let start = std::time::Instant::now();
    let res = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = res.status().as_u16();
    if status >= 500 {
        tracing::error!(%method, %path, status, ms, "request failed");
    } else {
        tracing::debug!(%method, %path, status, ms, "request");
    }
    res
}

async fn not_found() -> ApiError {
    ApiError::Request {
        status: StatusCode::NOT_FOUND,
        code: "route_not_found",
        message: "no such endpoint; see /openapi.json".into(),
    }
}

async fn health(State(s): State<AppState>) -> Response {
    match s.engine.locations().await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "error": e.code()}))).into_response()
        }
    }
}

fn created<T: serde::Serialize>(key: &str, v: T) -> Response {
    (StatusCode::CREATED, Json(json!({ key: v }))).into_response()
}

fn ok<T: serde::Serialize>(key: &str, v: T) -> Response {
    Json(json!({ key: v })).into_response()
}

/// A page of items with the cursor for the next page (`null` at the end).
fn page<T: serde::Serialize>(items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Response {
    let next = if items.len() == limit { items.last().map(&cursor) } else { None };
    Json(json!({ "data": items, "next_cursor": next })).into_response()
}

// ---------------- admin: catalog ----------------

async fn create_product(State(s): State<AppState>, _: Admin, ApiJson(p): ApiJson<ProductInput>) -> ApiResult<Response> {
    Ok(created("product", s.engine.create_product(p).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductListQ {
    after: Option<String>,
    limit: Option<usize>,
    category: Option<String>,
    q: Option<String>,
}

async fn list_products(s: &AppState, q: ProductListQ, only_active: bool) -> ApiResult<Response> {
    let limit = page_limit(q.limit)?;
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::bad("invalid_query", "`q` is at most 200 characters"));
    }
    let items = s
        .engine
        .list_products(ProductQuery { after: q.after, limit, category: q.category, q: q.q, only_active })
        .await?;
    Ok(page(items, limit, |p| p.id.clone()))
}

async fn admin_list_products(
    State(s): State<AppState>,
    _: Staff,
    ApiQuery(q): ApiQuery<ProductListQ>,
) -> ApiResult<Response> {
    list_products(&s, q, false).await
}

async fn store_list_products(State(s): State<AppState>, ApiQuery(q): ApiQuery<ProductListQ>) -> ApiResult<Response> {
    list_products(&s, q, true).await
}

async fn admin_get_product(State(s): State<AppState>, _: Staff, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok("product", s.engine.product(&id).await?))
}

async fn store_get_product(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok("product", s.engine.product_with_availability(&id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQ {
    /// `borderless` (default) or `shopify`.
    format: Option<String>,
    /// Currency of Shopify prices (default KRW).
    currency: Option<String>,
}

async fn import_products(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<ImportQ>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let products = match q.format.as_deref().unwrap_or("borderless") {
        "borderless" => catalog_io::csv::read_catalog(&body[..]),
        "shopify" => {
            let cur = domain::Currency::parse(q.currency.as_deref().unwrap_or("KRW"))
                .map_err(|e| ApiError::bad("invalid_query", e.to_string()))?;
            catalog_io::csv::read_shopify(&body[..], cur)
        }
        other => {
            return Err(ApiError::bad(
                "invalid_query",
                format!("`format` must be borderless or shopify, got `{other}`"),
            ))
        }
    }
    .map_err(|e| ApiError::bad("invalid_csv", e.to_string()))?;
    let n = s.engine.upsert_products(products).await?;
    Ok(Json(json!({ "imported": n })).into_response())
}

async fn export_products(State(s): State<AppState>, _: Admin) -> ApiResult<Response> {
    let all = s.engine.all_products().await?;
    let mut buf = Vec::new();
    catalog_io::csv::write_catalog(&mut buf, &all).map_err(|e| ApiError::bad("export_failed", e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"catalog.csv\""),
        ],
        buf,
    )
        .into_response())
}

// ---------------- admin: locations & inventory ----------------

async fn create_location(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(l): ApiJson<LocationInput>,
) -> ApiResult<Response> {
    Ok(created("location", s.engine.create_location(l).await?))
}

async fn list_locations(State(s): State<AppState>, _: Staff) -> ApiResult<Response> {
    Ok(Json(json!({ "data": s.engine.locations().await? })).into_response())
}

async fn list_locations_public(State(s): State<AppState>) -> ApiResult<Response> {
    Ok(Json(json!({ "data": s.engine.locations().await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustmentIn {
    sku: String,
    location_id: String,
    quantity_delta: i64,
    reason: String,
}

async fn adjust(State(s): State<AppState>, _: Admin, ApiJson(a): ApiJson<AdjustmentIn>) -> ApiResult<Response> {
    let level = s.engine.adjust_stock(&a.sku, &a.location_id, a.quantity_delta, &a.reason).await?;
    Ok(created("level", json!({ "sku": a.sku, "location_id": a.location_id, "level": level })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferIn {
    sku: String,
    from_location_id: String,
    to_location_id: String,
    quantity: i64,
}

async fn transfer(State(s): State<AppState>, _: Admin, ApiJson(t): ApiJson<TransferIn>) -> ApiResult<Response> {
    Ok(created("transfer", s.engine.transfer(&t.sku, &t.from_location_id, &t.to_location_id, t.quantity).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SafetyIn {
    sku: String,
    location_id: String,
    safety_stock: i64,
}

async fn safety_stock(State(s): State<AppState>, _: Admin, ApiJson(t): ApiJson<SafetyIn>) -> ApiResult<Response> {
    Ok(ok("level", s.engine.set_safety_stock(&t.sku, &t.location_id, t.safety_stock).await?))
}

async fn stock(State(s): State<AppState>, _: Staff, Path(sku): Path<String>) -> ApiResult<Response> {
    Ok(Json(serde_json::to_value(s.engine.stock(&sku).await?).unwrap_or_default()).into_response())
}

async fn doctor(State(s): State<AppState>, _: Admin) -> ApiResult<Response> {
    Ok(Json(serde_json::to_value(s.engine.doctor().await?).unwrap_or_default()).into_response())
}

// ---------------- admin: orders, pickup, POS, returns ----------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderListQ {
    after: Option<String>,
    limit: Option<usize>,
    status: Option<String>,
    location_id: Option<String>,
    customer_id: Option<String>,
    channel: Option<String>,
}

async fn list_orders(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<OrderListQ>,
) -> ApiResult<Response> {
    let limit = page_limit(q.limit)?;
    if let Some(st) = &q.status {
        domain::OrderStatus::parse(st).map_err(|m| ApiError::bad("invalid_query", m))?;
    }
    // Staff see their own location's orders.
    let location_id = p.location().map(str::to_owned).or(q.location_id);
    let items = s
        .engine
        .orders(OrderQuery {
            after: q.after,
            limit,
            status: q.status,
            location_id,
            customer_id: q.customer_id,
            channel: q.channel,
        })
        .await?;
    Ok(page(items, limit, |o| o.id.clone()))
}

async fn admin_get_order(State(s): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> ApiResult<Response> {
    let mut order = s.engine.order(&id, false).await?;
    // Staff anywhere can look an order up (returns are taken at any store), but the shopper's contact
    // details stay with the staff of the locations that fulfil it.
    if let Some(loc) = p.location() {
        let ours = order.location_id.as_deref() == Some(loc) || order.lines.iter().any(|l| l.location_id == loc);
        if !ours {
            order.email = None;
            order.shipping_address = None;
        }
    }
    Ok(ok("order", order))
}

async fn ready_for_pickup(State(s): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> ApiResult<Response> {
    let mut order = s.engine.ready_for_pickup(&p, &id).await?;
    // Staff get the order without the code: the shopper proves the pickup by showing it.
    if let Some(pk) = order.pickup.as_mut() {
        pk.code = None;
    }
    Ok(ok("order", order))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PickedUpIn {
    code: String,
}

async fn picked_up(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PickedUpIn>,
) -> ApiResult<Response> {
    Ok(ok("order", s.engine.picked_up(&p, &id, &b.code).await?))
}

async fn ship(State(s): State<AppState>, _: Admin, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok("order", s.engine.ship(&id).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CancelIn {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let reason = if body.is_empty() { String::new() } else { parse_json::<CancelIn>(&body)?.reason };
    Ok(ok("order", s.engine.cancel(&p, &id, &reason).await?))
}

async fn create_return(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let input: ReturnInput = parse_json(&body)?;
    let hash = engine::platform::idempotency::fingerprint(&[&String::from_utf8_lossy(&body)]);
    Ok(created("return", s.engine.create_return(&p, input, key, hash).await?))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad("invalid_json", format!("invalid JSON body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentIn {
    method: String,
    /// With `method: "wallet_qr"` at a POS: the code scanned from the shopper's app; with `gift_card`: the card's code.
    #[serde(default)]
    code: Option<String>,
    /// Web wallet payments: pay from the wallet in this currency (converted at the recorded rate).
    #[serde(default)]
    currency: Option<String>,
    /// `method: "split"`: the tenders, e.g. `[{"method":"gift_card","code":"GC-…","amount_minor":10000},{"method":"wallet"}]`.
    #[serde(default)]
    tenders: Option<Vec<TenderIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenderIn {
    method: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    amount_minor: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PosSaleIn {
    location_id: Option<String>,
    lines: Vec<SaleLineInput>,
    currency: Option<String>,
    customer_id: Option<String>,
    payment: Option<PaymentIn>,
}

async fn pos_sale(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: PosSaleIn = parse_json(&body)?;
    let hash = engine::platform::idempotency::fingerprint(&[&String::from_utf8_lossy(&body)]);
    let (method, qr, gift) = match b.payment {
        Some(PaymentIn { currency: Some(_), .. }) => {
            return Err(ApiError::bad("invalid_request", "`payment.currency` (conversion) is for web wallet payments"))
        }
        Some(PaymentIn { tenders: Some(_), .. }) => {
            return Err(ApiError::bad("invalid_request", "split payments are for web checkout"))
        }
        Some(PaymentIn { method, code: Some(c), .. }) if method == "wallet_qr" => {
            (Some("wallet".to_owned()), Some(c), None)
        }
        Some(PaymentIn { method, code: Some(c), .. }) if method == "gift_card" => (Some(method), None, Some(c)),
        Some(PaymentIn { method, code: None, .. }) if method == "wallet_qr" || method == "gift_card" => {
            return Err(ApiError::bad("invalid_request", format!("`{method}` needs the scanned or typed `code`")))
        }
        Some(PaymentIn { code: Some(_), .. }) => {
            return Err(ApiError::bad("invalid_request", "`code` goes with `wallet_qr` or `gift_card`"))
        }
        Some(p) => (Some(p.method), None, None),
        None => (None, None, None),
    };
    let order =
        s.engine.pos_sale(&p, b.location_id, b.lines, b.currency, b.customer_id, method, qr, gift, key, hash).await?;
    Ok(created("order", order))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerQ {
    email: Option<String>,
    phone: Option<String>,
    member_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymsIn {
    groups: Vec<Vec<String>>,
}

async fn get_synonyms(State(s): State<AppState>, _: Staff) -> ApiResult<Response> {
    Ok(Json(json!({ "groups": s.engine.search_synonyms().await? })).into_response())
}

async fn put_synonyms(State(s): State<AppState>, _: Admin, ApiJson(b): ApiJson<SynonymsIn>) -> ApiResult<Response> {
    let n = s.engine.set_search_synonyms(b.groups.clone()).await?;
    Ok(Json(json!({ "groups": b.groups, "count": n })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQ {
    q: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    /// `size:270,color:black`
    attributes: Option<String>,
    currency: Option<String>,
    price_min: Option<i64>,
    price_max: Option<i64>,
    in_stock_at: Option<String>,
    /// `lat,lon`: only products in stock now at a pickup store within `radius_km` (default 5).
    near: Option<String>,
    radius_km: Option<f64>,
    sort: Option<String>,
    limit: Option<usize>,
}

async fn search_products(State(s): State<AppState>, ApiQuery(q): ApiQuery<SearchQ>) -> ApiResult<Response> {
    let bad = |m: &str| ApiError::bad("invalid_query", m.to_owned());
    let attributes = match q.attributes.as_deref() {
        None | Some("") => Vec::new(),
        Some(a) => a
            .split(',')
            .map(|kv| {
                kv.split_once(':')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`attributes` looks like `size:270,color:black`"))?,
    };
    let pickup_near = match q.near.as_deref() {
        None => None,
        Some(n) => {
            let (lat, lon) = n
                .split_once(',')
                .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
                .ok_or_else(|| bad("`near` is `lat,lon`, e.g. 37.4979,127.0276"))?;
            Some((lat, lon, q.radius_km.unwrap_or(5.0)))
        }
    };
    let query = engine::discovery::product_search::SearchQuery {
        q: q.q.unwrap_or_default(),
        category: q.category,
        brand: q.brand,
        attributes,
        currency: q.currency.unwrap_or_else(|| "KRW".into()),
        price_min: q.price_min,
        price_max: q.price_max,
        in_stock_at: q.in_stock_at,
        pickup_near,
        sort: q.sort.unwrap_or_else(|| "relevance".into()),
        limit: q.limit.unwrap_or(20),
    };
    Ok(ok("search", s.engine.search_products(query).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsIn {
    /// An anonymous visitor's id (the app's or page's own), when nobody is signed in.
    session_id: Option<String>,
    events: Vec<engine::discovery::recommendations::ShopperEvent>,
}

async fn shopper_events(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiJson(b): ApiJson<EventsIn>,
) -> ApiResult<Response> {
    let n = s.engine.record_shopper_events(b.events, c, b.session_id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": n }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecsQ {
    /// `home` (default), `product:{id}` or `cart:{id}`.
    context: Option<String>,
    /// Whose recommendations: the signed-in customer by default; another customer only with a staff key.
    customer: Option<String>,
    session_id: Option<String>,
    /// Only products in stock at this location (default: in stock anywhere that ships).
    location: Option<String>,
    limit: Option<usize>,
    currency: Option<String>,
}

async fn recommendations(
    State(s): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<RecsQ>,
) -> ApiResult<Response> {
    let customer_id = match (viewer, q.customer) {
        (Viewer::Customer(me), None) => Some(me),
        (Viewer::Customer(me), Some(c)) if c == me => Some(me),
        (Viewer::Customer(_), Some(_)) => {
            return Err(ApiError::Request {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: "a customer session sees its own recommendations only".into(),
            })
        }
        (Viewer::Staff, c) => c,
        (Viewer::Anonymous, Some(_)) => {
            return Err(ApiError::Request {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: "recommendations for a customer need that customer's session or a staff API key".into(),
            })
        }
        (Viewer::Anonymous, None) => None,
    };
    let query = engine::discovery::recommendations::RecsQuery {
        context: q.context.unwrap_or_else(|| "home".into()),
        customer_id,
        session_id: q.session_id,
        location_id: q.location,
        limit: q.limit.unwrap_or(10),
        currency: q.currency.unwrap_or_else(|| "KRW".into()),
    };
    Ok(ok("recommendations", s.engine.recommendations(query).await?))
}

async fn recs_model(State(s): State<AppState>, _: Staff) -> ApiResult<Response> {
    let v = s.engine.recs_refresh().await?;
    let trained_at = s.engine.recs_model_version().map(|(_, t)| domain::time::rfc3339(t));
    Ok(Json(json!({ "model": { "version": v, "trained_at": trained_at } })).into_response())
}

async fn recs_train(State(s): State<AppState>, _: Admin) -> ApiResult<Response> {
    let summary = s
        .engine
        .recs_train(recs::TrainConfig::default(), std::sync::Arc::new(|m: &str| tracing::info!("recs: {m}")))
        .await?;
    Ok(created("model", summary))
}

async fn find_customers(State(s): State<AppState>, _: Staff, ApiQuery(q): ApiQuery<CustomerQ>) -> ApiResult<Response> {
    Ok(Json(json!({ "data": s.engine.find_customers(q.email, q.phone, q.member_code).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyIn {
    role: String,
    location_id: Option<String>,
    label: String,
}

async fn issue_key(State(s): State<AppState>, _: Admin, ApiJson(k): ApiJson<KeyIn>) -> ApiResult<Response> {
    let loc = match k.location_id {
        Some(l) => Some(s.engine.location(&l).await?.id),
        None => None,
    };
    Ok(created("api_key", s.engine.issue_key(&k.role, loc, k.label).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQ {
    after: Option<String>,
    limit: Option<usize>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn list_events(State(s): State<AppState>, _: Admin, ApiQuery(q): ApiQuery<EventsQ>) -> ApiResult<Response> {
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=engine::platform::events::MAX_FEED_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad(
                "invalid_limit",
                format!("`limit` must be 1–{}, got {n}", engine::platform::events::MAX_FEED_PAGE),
            ))
        }
    };
    let after = match q.after.as_deref() {
        None | Some("") => engine::platform::events::Cursor::default(),
        Some(c) => engine::platform::events::Cursor::parse(c).map_err(|m| ApiError::bad("invalid_cursor", m))?,
    };
    let (items, next) = s.engine.events(after, limit, q.kind).await?;
    Ok(Json(json!({ "data": items, "next_cursor": next.to_string() })).into_response())
}

async fn subscribe(State(s): State<AppState>, _: Admin, ApiJson(b): ApiJson<SubscriptionInput>) -> ApiResult<Response> {
    Ok(created("webhook", s.engine.subscribe(b).await?))
}

async fn list_webhooks(State(s): State<AppState>, _: Admin) -> ApiResult<Response> {
    Ok(Json(json!({ "data": s.engine.subscriptions().await? })).into_response())
}

async fn unsubscribe(State(s): State<AppState>, _: Admin, Path(id): Path<String>) -> ApiResult<Response> {
    s.engine.unsubscribe(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQ {
    limit: Option<usize>,
}

async fn list_deliveries(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LimitQ>,
) -> ApiResult<Response> {
    let limit = page_limit(q.limit)?;
    Ok(Json(json!({ "data": s.engine.deliveries(&id, limit).await? })).into_response())
}

async fn expire_pickups(State(s): State<AppState>, _: Admin) -> ApiResult<Response> {
    Ok(Json(json!({ "expired": s.engine.expire_pickups().await? })).into_response())
}

// ---------------- store: carts & checkout ----------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CartIn {
    currency: Option<String>,
}

async fn create_cart(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: CartIn = if body.is_empty() { CartIn::default() } else { parse_json(&body)? };
    Ok(created("cart", s.engine.create_cart(b.currency, c).await?))
}

async fn get_cart(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok("cart", s.engine.cart(&id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn {
    sku: String,
    quantity: i64,
}

async fn add_line(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(l): ApiJson<LineIn>,
) -> ApiResult<Response> {
    Ok(ok("cart", s.engine.add_cart_line(&id, &l.sku, l.quantity).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QtyIn {
    quantity: i64,
}

async fn set_line(
    State(s): State<AppState>,
    Path((id, sku)): Path<(String, String)>,
    ApiJson(q): ApiJson<QtyIn>,
) -> ApiResult<Response> {
    Ok(ok("cart", s.engine.set_cart_line(&id, &sku, q.quantity).await?))
}

async fn set_fulfillment(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<Fulfillment>,
) -> ApiResult<Response> {
    Ok(ok("cart", s.engine.set_fulfillment(&id, f).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutIn {
    email: Option<String>,
    payment: PaymentIn,
}

async fn checkout(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CheckoutIn>,
) -> ApiResult<Response> {
    // `code`: the gift card's code, or the card's payment-method token from the processor's client SDK.
    let gift = match (b.payment.method.as_str(), b.payment.code) {
        ("gift_card" | "card", Some(code)) => Some(code),
        ("gift_card" | "card", None) => {
            return Err(ApiError::bad("invalid_request", "this payment method needs its `code`"))
        }
        (_, Some(_)) => return Err(ApiError::bad("invalid_request", "`code` goes with `gift_card` or `card`")),
        (_, None) => None,
    };
    let split = b.payment.tenders.map(|ts| {
        ts.into_iter()
            .map(|t| engine::sales::SplitTender { method: t.method, code: t.code, amount_minor: t.amount_minor })
            .collect()
    });
    let req = engine::sales::CheckoutRequest {
        cart_id: id,
        email: b.email,
        payment_method: b.payment.method,
        idempotency_key: key,
        customer_id: c,
        tender_code: gift,
        wallet_currency: b.payment.currency,
        split,
    };
    let mut order = s.engine.checkout(req).await?;
    for l in order.lines.iter_mut() {
        l.routing = None;
    }
    Ok(created("order", order))
}

async fn store_get_order(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let mut order = s.engine.order(&id, true).await?;
    // Routing notes name internal locations and stock counts: for staff, not shoppers.
    for l in order.lines.iter_mut() {
        l.routing = None;
    }
    Ok(ok("order", order))
}

// ---------------- store: customers ----------------

async fn signup(State(s): State<AppState>, ApiJson(b): ApiJson<SignupInput>) -> ApiResult<Response> {
    let (customer, token) = s.engine.signup(b).await?;
    Ok((StatusCode::CREATED, Json(json!({ "customer": customer, "token": token }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginIn {
    email: String,
    password: String,
}

async fn login(State(s): State<AppState>, ApiJson(b): ApiJson<LoginIn>) -> ApiResult<Response> {
    match s.engine.login(&b.email, &b.password).await {
        Ok((customer, token)) => Ok(Json(json!({ "customer": customer, "token": token })).into_response()),
        Err(engine::EngineError::Unauthorized) => Err(ApiError::Request {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_credentials",
            message: "email or password is wrong".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

async fn me(State(s): State<AppState>, MaybeCustomer(c): MaybeCustomer) -> ApiResult<Response> {
    let id = signed_in(c)?;
    Ok(ok("customer", s.engine.customer(&id).await?))
}

async fn my_orders(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiQuery(q): ApiQuery<LimitQ>,
) -> ApiResult<Response> {
    let id = signed_in(c)?;
    let limit = page_limit(q.limit)?;
    let items = s.engine.orders(OrderQuery { limit, customer_id: Some(id), ..Default::default() }).await?;
    Ok(page(items, limit, |o| o.id.clone()))
}

// ---------------- wallet ----------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopUpIn {
    amount_minor: i64,
    currency: String,
    location_id: Option<String>,
}

async fn wallet_top_up(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: TopUpIn = parse_json(&body)?;
    let hash = engine::platform::idempotency::fingerprint(&[&id, &String::from_utf8_lossy(&body)]);
    Ok(created("top_up", s.engine.wallet_top_up(&p, &id, b.amount_minor, &b.currency, b.location_id, key, hash).await?))
}

async fn admin_wallet(State(s): State<AppState>, _: Staff, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(json!({ "data": s.engine.wallet(&id).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementQ {
    currency: Option<String>,
    after: Option<i64>,
    limit: Option<usize>,
}

async fn statement(s: &AppState, customer: &str, q: StatementQ) -> ApiResult<Response> {
    let limit = page_limit(q.limit)?;
    let after = q.after.unwrap_or(0);
    let lines = s.engine.wallet_statement(customer, q.currency.as_deref().unwrap_or("KRW"), after, limit).await?;
    let next = if lines.len() == limit { lines.last().map(|l| l.seq) } else { None };
    Ok(Json(json!({ "data": lines, "next_cursor": next })).into_response())
}

async fn admin_wallet_statement(
    State(s): State<AppState>,
    _: Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StatementQ>,
) -> ApiResult<Response> {
    statement(&s, &id, q).await
}

fn signed_in(c: Option<String>) -> ApiResult<String> {
    c.ok_or(ApiError::Request {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: "log in first".into(),
    })
}

async fn my_wallet(State(s): State<AppState>, MaybeCustomer(c): MaybeCustomer) -> ApiResult<Response> {
    let id = signed_in(c)?;
    Ok(Json(json!({ "data": s.engine.wallet(&id).await? })).into_response())
}

async fn my_wallet_statement(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiQuery(q): ApiQuery<StatementQ>,
) -> ApiResult<Response> {
    let id = signed_in(c)?;
    statement(&s, &id, q).await
}

async fn new_payment_code(State(s): State<AppState>, MaybeCustomer(c): MaybeCustomer) -> ApiResult<Response> {
    let id = signed_in(c)?;
    Ok(created("payment_code", s.engine.payment_code(&id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransfersIn {
    transfers: Vec<engine::money::ledger::TransferSpec>,
}

/// Finance postings and corrections (corrections are new transfers, never edits). All or nothing.
async fn post_transfers(
    State(s): State<AppState>,
    Admin(p): Admin,
    IdempotencyKey(key): IdempotencyKey,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: TransfersIn = parse_json(&body)?;
    let idem = key.map(|k| {
        (
            format!("ledger.batch:{}", p.key_id()),
            k,
            engine::platform::idempotency::fingerprint(&[&String::from_utf8_lossy(&body)]),
        )
    });
    let ids = s.engine.post_transfers_once(b.transfers, idem).await?;
    Ok((StatusCode::CREATED, Json(json!({ "transfer_ids": ids }))).into_response())
}

async fn ledger_account(State(s): State<AppState>, _: Admin, Path(code): Path<String>) -> ApiResult<Response> {
    Ok(ok("account", s.engine.ledger_account(&code).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentRequestIn {
    location_id: Option<String>,
    lines: Vec<SaleLineInput>,
    currency: Option<String>,
}

async fn create_payment_request(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiJson(b): ApiJson<PaymentRequestIn>,
) -> ApiResult<Response> {
    Ok(created("payment_request", s.engine.create_payment_request(&p, b.location_id, b.lines, b.currency).await?))
}

async fn admin_payment_request(State(s): State<AppState>, _: Staff, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok("payment_request", s.engine.payment_request(&id).await?))
}

async fn store_payment_request(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    signed_in(c)?;
    Ok(ok("payment_request", s.engine.payment_request(&id).await?))
}

async fn confirm_payment_request(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let cid = signed_in(c)?;
    Ok(created("order", s.engine.confirm_payment_request(&id, &cid).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GiftCardIn {
    amount_minor: i64,
    currency: String,
    location_id: Option<String>,
}

async fn issue_gift_card(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: GiftCardIn = parse_json(&body)?;
    let hash = engine::platform::idempotency::fingerprint(&[&String::from_utf8_lossy(&body)]);
    Ok(created("gift_card", s.engine.issue_gift_card(&p, b.amount_minor, &b.currency, b.location_id, key, hash).await?))
}

async fn gift_card_balance(State(s): State<AppState>, Path(code): Path<String>) -> ApiResult<Response> {
    Ok(ok("gift_card", s.engine.gift_card(&code).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FxRateIn {
    base: String,
    quote: String,
    /// Decimal string: 1 `base` = `rate` `quote` (e.g. "1385.20").
    rate: String,
    /// Unix milliseconds; default now.
    effective_at_ms: Option<i64>,
}

async fn record_fx_rate(State(s): State<AppState>, _: Admin, ApiJson(b): ApiJson<FxRateIn>) -> ApiResult<Response> {
    Ok(created("fx_rate", s.engine.record_fx_rate(&b.base, &b.quote, &b.rate, b.effective_at_ms).await?))
}

async fn list_fx_rates(State(s): State<AppState>, _: Staff) -> ApiResult<Response> {
    Ok(Json(json!({ "data": s.engine.fx_rates().await? })).into_response())
}

/// The card processor's webhooks (Stripe format): verified by signature, applied once.
async fn card_webhook(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let sig = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let new = s.engine.card_webhook(sig, &body).await?;
    Ok(Json(json!({ "received": true, "duplicate": !new })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelfTopUpIn {
    amount_minor: i64,
    currency: String,
    /// The card's payment-method token from the processor's client SDK.
    payment_method: String,
}

async fn self_top_up(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(b): ApiJson<SelfTopUpIn>,
) -> ApiResult<Response> {
    let id = signed_in(c)?;
    Ok(created("top_up", s.engine.self_top_up(&id, b.amount_minor, &b.currency, &b.payment_method, key).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnterIn {
    location_id: String,
    /// The code scanned from the shopper's app at the gate.
    payment_code: String,
}

async fn cashierless_enter(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(b): ApiJson<EnterIn>,
) -> ApiResult<Response> {
    let loc = s.engine.location(&b.location_id).await?.id;
    Ok(created("session", s.engine.cashierless_enter(&p, &loc, &b.payment_code, key).await?))
}

async fn cashierless_session(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let session = s.engine.cashierless_session(&id).await?;
    if p.location().is_some_and(|l| l != session.location_id) {
        return Err(ApiError::Request {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: "a visit at another store".into(),
        });
    }
    Ok(ok("session", session))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExitIn {
    lines: Vec<SaleLineInput>,
}

async fn cashierless_exit(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ExitIn>,
) -> ApiResult<Response> {
    let (session, order) = s.engine.cashierless_exit(&p, &id, b.lines).await?;
    Ok(Json(json!({ "session": session, "order": order })).into_response())
}

// ---------------- live cashierless stores ----------------

/// Staff act for their own store only.
fn own_store(p: &Principal, location_id: &str) -> ApiResult<()> {
    match p.location() {
        Some(l) if l != location_id => Err(ApiError::Request {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: "staff keys act for their own store only".into(),
        }),
        _ => Ok(()),
    }
}

async fn put_store_layout(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<engine::instore::live::LayoutInput>,
) -> ApiResult<Response> {
    s.engine.put_store_layout(&id, b).await?;
    Ok(Json(json!({ "layout": s.engine.store_layout(&id).await? })).into_response())
}

async fn get_store_layout(State(s): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> ApiResult<Response> {
    own_store(&p, &id)?;
    Ok(Json(json!({ "layout": s.engine.store_layout(&id).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceIn {
    kind: String,
    code: String,
    /// What a shelf label (`esl`) shows.
    #[serde(default)]
    sku: Option<String>,
}

async fn register_device(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DeviceIn>,
) -> ApiResult<Response> {
    Ok(created("device", s.engine.register_device(&id, &b.kind, &b.code, b.sku).await?))
}

/// A new token for a device (the old one stops working at once); shown once.
async fn rotate_device_token(
    State(s): State<AppState>,
    _: Admin,
    Path((id, device)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(Json(json!({ "device": s.engine.rotate_device_token(&id, &device).await? })).into_response())
}

/// Takes a lost or stolen device out of service for good (idempotent).
async fn revoke_device(
    State(s): State<AppState>,
    _: Admin,
    Path((id, device)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(Json(json!({ "device": s.engine.revoke_device(&id, &device).await? })).into_response())
}

async fn list_devices(State(s): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> ApiResult<Response> {
    own_store(&p, &id)?;
    Ok(Json(json!({ "devices": s.engine.devices(&id).await? })).into_response())
}

/// The store's shelf labels; `?stale=true` lists only those whose shown price differs from the catalog.
async fn store_labels(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LabelsQ>,
) -> ApiResult<Response> {
    own_store(&p, &id)?;
    let mut labels = s.engine.store_labels(&id).await?;
    if q.stale == Some(true) {
        labels.retain(|l| l.stale);
    }
    Ok(Json(json!({ "labels": labels })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelsQ {
    stale: Option<bool>,
}

async fn store_reviews(State(s): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> ApiResult<Response> {
    own_store(&p, &id)?;
    Ok(Json(json!({ "reviews": s.engine.store_reviews(&id).await? })).into_response())
}

async fn resolve_store_review(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path((id, review)): Path<(String, u64)>,
    ApiJson(b): ApiJson<engine::instore::live::ReviewAction>,
) -> ApiResult<Response> {
    own_store(&p, &id)?;
    let orders = s.engine.resolve_store_review(&id, review, b).await?;
    Ok(Json(json!({ "resolved": review, "orders": orders })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBatchIn {
    events: Vec<serde_json::Value>,
}

/// A device's batch: stored before the answer, so a 200 means every `accepted` event is durable.
async fn device_events(
    State(s): State<AppState>,
    Device(d): Device,
    ApiJson(b): ApiJson<DeviceBatchIn>,
) -> ApiResult<Response> {
    Ok(Json(json!({ "ingest": s.engine.ingest_device_events(&d, b.events).await? })).into_response())
}

async fn account_statement(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<StatementQ>,
) -> ApiResult<Response> {
    if q.currency.is_some() {
        return Err(ApiError::bad("invalid_query", "an account has one currency; `currency` is for wallet statements"));
    }
    let limit = page_limit(q.limit)?;
    let lines = s.engine.account_statement(&code, q.after.unwrap_or(0), limit).await?;
    let next = if lines.len() == limit { lines.last().map(|l| l.seq) } else { None };
    Ok(Json(json!({ "data": lines, "next_cursor": next })).into_response())
}
