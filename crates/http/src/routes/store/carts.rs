//! Carts, checkout and the shopper's order page.

use crate::extract::Path;
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, MaybeCustomer, MoneyJson, OptionalJson, Viewer};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created};
use crate::routes::{OrderOut, PaymentIn};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::sales::carts::{CartView, Fulfillment};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/store/carts")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("Create a cart (a signed-in shopper's session makes it theirs).")
                .optional_json::<CartIn>()
                .created::<CartOut>(),
            create_cart,
        )
        .route(
            Op::get("/store/carts/{id}")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("A cart with its totals. A signed-in shopper's cart answers only to their session (404 otherwise).")
                .ok::<CartOut>(),
            get_cart,
        )
        .route(
            Op::post("/store/carts/{id}/lines")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("Add a SKU to a cart (quantities of the same SKU add up).")
                .json::<LineIn>()
                .ok::<CartOut>()
                .errors(&[409]),
            add_line,
        )
        .route(
            Op::put("/store/carts/{id}/lines/{sku}")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("Set a line's quantity; 0 removes it.")
                .json::<QtyIn>()
                .ok::<CartOut>()
                .errors(&[409]),
            set_line,
        )
        .route(
            Op::put("/store/carts/{id}/fulfillment")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("Delivery to an address or pickup at a store.")
                .json::<Fulfillment>()
                .ok::<CartOut>()
                .errors(&[409]),
            set_fulfillment,
        )
        .route(
            Op::post("/store/carts/{id}/checkout")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("Place the order: stock is reserved where it will be collected or shipped from, and the payment authorized, in one transaction. Orders paid at pickup are capped (units per order, open unpaid orders per shopper); `manual` needs a staff key.")
                .json::<CheckoutIn>()
                .idempotent()
                .created::<OrderOut>()
                .errors(&[402, 409]),
            checkout,
        )
        .route(
            Op::get("/store/orders/{id}")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("An order as its shopper sees it (with the pickup code once ready): for the signed-in shopper who placed it, or with the `access_token` the checkout returned, in the `X-Order-Token` header or `?token=`. Anyone else gets 404, as for an order that does not exist.")
                .query::<OrderTokenQ>()
                .ok::<OrderOut>(),
            store_get_order,
        )
        .route(
            Op::post("/store/orders/{id}/cancel")
                .tag("storefront")
                .auth(Auth::OptionalCustomer)
                .doc("The shopper cancels their order before it is handed over or shipped (placed, or ready for pickup): its stock goes back and any payment hold is released; nothing is charged. The same access as reading it (session, or the `access_token` as `X-Order-Token` or `?token=`; anyone else gets 404). `invalid_transition` once it was collected, shipped or cancelled.")
                .query::<OrderTokenQ>()
                .optional_json::<CancelIn>()
                .ok::<OrderOut>()
                .errors(&[409]),
            store_cancel_order,
        )
}

envelope!(CartOut { cart: CartView });

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CartIn {
    /// ISO-4217 code; default KRW.
    currency: Option<String>,
}

async fn create_cart(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    OptionalJson(b): OptionalJson<CartIn>,
) -> ApiResult<Created<CartOut>> {
    Ok(Created(CartOut { cart: s.engine.create_cart(b.currency, c).await? }))
}

async fn get_cart(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
) -> ApiResult<Json<CartOut>> {
    Ok(Json(CartOut { cart: s.engine.cart(&id, c.as_deref()).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    sku: String,
    /// 1–10,000.
    quantity: i64,
}

async fn add_line(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
    ApiJson(l): ApiJson<LineIn>,
) -> ApiResult<Json<CartOut>> {
    Ok(Json(CartOut { cart: s.engine.add_cart_line(&id, &l.sku, l.quantity, c.as_deref()).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QtyIn {
    /// 0–10,000; 0 removes the line.
    quantity: i64,
}

async fn set_line(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path((id, sku)): Path<(String, String)>,
    ApiJson(q): ApiJson<QtyIn>,
) -> ApiResult<Json<CartOut>> {
    Ok(Json(CartOut { cart: s.engine.set_cart_line(&id, &sku, q.quantity, c.as_deref()).await? }))
}

async fn set_fulfillment(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<Fulfillment>,
) -> ApiResult<Json<CartOut>> {
    Ok(Json(CartOut { cart: s.engine.set_fulfillment(&id, f, c.as_deref()).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutIn {
    /// Required for a guest.
    email: Option<String>,
    payment: PaymentIn,
}

async fn checkout(
    State(s): State<AppState>,
    viewer: Viewer,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
    b: MoneyJson<CheckoutIn>,
) -> ApiResult<Created<OrderOut>> {
    // A staff key may place an order for a shopper (a phone order, an invoice paid `manual`).
    let (c, staff) = match viewer {
        Viewer::Anonymous => (None, false),
        Viewer::Customer(c) => (Some(c), false),
        Viewer::Staff => (None, true),
    };
    let hash = b.hash(&[&id, c.as_deref().unwrap_or(""), if staff { "staff" } else { "" }]);
    let b = b.body;
    // `code`: the gift card's code, or the card's payment-method token from the processor's client SDK.
    // A blank code is no code.
    let code = b.payment.code.filter(|c| !c.trim().is_empty());
    let gift =
        match (b.payment.method.as_str(), code) {
            ("gift_card" | "card", Some(code)) => Some(code),
            ("card", None) => return Err(ApiError::bad(
                "card_required",
                "a card payment needs the payment method token from the card processor's client SDK as `payment.code`",
            )),
            ("gift_card", None) => {
                return Err(ApiError::bad(
                    "gift_card_required",
                    "a gift card payment needs the card's number as `payment.code`",
                ))
            }
            (_, Some(_)) => {
                return Err(ApiError::bad(
                    "invalid_request",
                    "`payment.code` goes only with `gift_card` or `card`: leave it out for this method",
                ))
            }
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
        request_hash: Some(hash),
        staff,
    };
    let mut order = s.engine.checkout(req).await?;
    for l in order.lines.iter_mut() {
        l.routing = None;
    }
    Ok(Created(OrderOut { order }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderTokenQ {
    /// The order's `access_token` from the checkout (or send it as `X-Order-Token`).
    token: Option<String>,
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    /// Why, in the shopper's words (at most 200 characters; kept with the order's event).
    reason: Option<String>,
}

/// The order's access token: the `X-Order-Token` header, else `?token=`.
fn order_token<'a>(headers: &'a axum::http::HeaderMap, q: &'a OrderTokenQ) -> Option<&'a str> {
    headers.get("x-order-token").and_then(|v| v.to_str().ok()).or(q.token.as_deref())
}

/// An order as its shopper sees it: routing notes name internal locations and stock counts, for staff only.
fn for_shopper(mut order: engine::sales::orders::OrderView) -> Json<OrderOut> {
    for l in order.lines.iter_mut() {
        l.routing = None;
    }
    Json(OrderOut { order })
}

async fn store_cancel_order(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OrderTokenQ>,
    headers: axum::http::HeaderMap,
    OptionalJson(b): OptionalJson<CancelIn>,
) -> ApiResult<Json<OrderOut>> {
    let token = order_token(&headers, &q);
    Ok(for_shopper(s.engine.cancel_by_shopper(&id, c.as_deref(), token, b.reason.as_deref()).await?))
}

async fn store_get_order(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OrderTokenQ>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<OrderOut>> {
    Ok(for_shopper(s.engine.order_for_shopper(&id, c.as_deref(), order_token(&headers, &q)).await?))
}
