//! Orders for staff: lists and lookups, the pickup desk (ready, hand over with the code), shipment,
//! cancellation, returns anywhere, counter sales and merchant-presented payment requests.

use crate::extract::Path;
use crate::extract::{page_limit, Admin, ApiJson, ApiQuery, IdempotencyKey, MoneyJson, OptionalJson, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, Page};
use crate::routes::{OrderOut, PaymentIn, PaymentRequestOut};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::sales::orders::{OrderQuery, OrderView, ReturnInput, ReturnView, SaleLineInput};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/admin/orders")
                .tag("orders")
                .auth(Auth::Staff)
                .doc("Orders, newest first (staff see their own location's).")
                .query::<OrderListQ>()
                .ok::<Page<OrderView>>(),
            list_orders,
        )
        .route(
            Op::get("/admin/orders/{id}")
                .tag("orders")
                .auth(Auth::Staff)
                .doc("An order; the shopper's contact details only for staff of a location that fulfils it.")
                .ok::<OrderOut>(),
            admin_get_order,
        )
        .route(
            Op::post("/admin/orders/{id}/ready-for-pickup")
                .tag("pickup")
                .auth(Auth::Staff)
                .doc("Mark a pickup order ready; issues the shopper's pickup code (not shown to staff).")
                .ok::<OrderOut>()
                .errors(&[409]),
            ready_for_pickup,
        )
        .route(
            Op::post("/admin/orders/{id}/picked-up")
                .tag("pickup")
                .auth(Auth::Staff)
                .doc("Hand over a pickup order with the shopper's code; the reservation becomes a sale.")
                .json::<PickedUpIn>()
                .ok::<OrderOut>()
                .errors(&[409]),
            picked_up,
        )
        .route(
            Op::post("/admin/orders/{id}/ship")
                .tag("orders")
                .auth(Auth::Admin)
                .doc("Ship a delivery order; the reservation becomes a sale.")
                .ok::<OrderOut>()
                .errors(&[409]),
            ship,
        )
        .route(
            Op::post("/admin/orders/{id}/cancel")
                .tag("orders")
                .auth(Auth::Staff)
                .doc("Cancel a placed or ready order; its stock and payment hold are released.")
                .optional_json::<CancelIn>()
                .ok::<OrderOut>()
                .errors(&[409]),
            cancel,
        )
        .route(
            Op::post("/admin/returns")
                .tag("orders")
                .auth(Auth::Staff)
                .doc("Return items of any order at any store; the refund goes back to the tenders.")
                .json::<ReturnInput>()
                .idempotent()
                .created::<ReturnOut>()
                .errors(&[409]),
            create_return,
        )
        .route(
            Op::post("/admin/pos/sales")
                .tag("pos")
                .auth(Auth::Staff)
                .doc("A counter sale: stock leaves the store at once; paid in store, by the shopper's wallet QR or a gift card.")
                .json::<PosSaleIn>()
                .idempotent()
                .created::<OrderOut>()
                .errors(&[409]),
            pos_sale,
        )
        .route(
            Op::post("/admin/pos/payment-requests")
                .tag("pos")
                .auth(Auth::Staff)
                .doc("A merchant-presented QR for the items on the counter, valid 5 minutes; the shopper confirms it in the app.")
                .json::<PaymentRequestIn>()
                .created::<PaymentRequestOut>()
                .errors(&[409]),
            create_payment_request,
        )
        .route(
            Op::get("/admin/pos/payment-requests/{id}")
                .tag("pos")
                .auth(Auth::Staff)
                .doc("A payment request's status (open, completed, expired, cancelled) and its order.")
                .ok::<PaymentRequestOut>(),
            admin_payment_request,
        )
}

envelope!(ReturnOut { r#return: ReturnView });

/// Filters of the order list.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderListQ {
    after: Option<String>,
    limit: Option<usize>,
    status: Option<String>,
    location_id: Option<String>,
    customer_id: Option<String>,
    channel: Option<String>,
    /// Placed at or after this instant (RFC 3339, e.g. `2026-12-04T00:00:00+09:00`).
    placed_from: Option<String>,
    /// Placed before this instant (RFC 3339).
    placed_before: Option<String>,
    /// An order id, an email, a phone number or a six-digit pickup code.
    q: Option<String>,
}

fn instant(name: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    v.map(|t| {
        t.parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).map_err(|_| {
            ApiError::bad(
                "invalid_query",
                format!("`{name}` must be an RFC 3339 instant such as 2026-12-04T00:00:00+09:00"),
            )
        })
    })
    .transpose()
}

async fn list_orders(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<OrderListQ>,
) -> ApiResult<Json<Page<OrderView>>> {
    let limit = page_limit(q.limit)?;
    if let Some(st) = &q.status {
        domain::OrderStatus::parse(st).map_err(|m| ApiError::bad("invalid_query", m))?;
    }
    // Staff see their own location's orders.
    let location_id = p.location().map(str::to_owned).or(q.location_id);
    if let Some(c) = &q.channel {
        domain::Channel::parse(c).map_err(|m| ApiError::bad("invalid_query", m))?;
    }
    let after = crate::cursor::after("orders", q.after.as_deref())?;
    let items = s
        .engine
        .orders(OrderQuery {
            after,
            limit: limit + 1,
            status: q.status,
            location_id,
            customer_id: q.customer_id,
            channel: q.channel,
            placed_from: instant("placed_from", q.placed_from.as_deref())?,
            placed_before: instant("placed_before", q.placed_before.as_deref())?,
            search: q.q.filter(|s| !s.trim().is_empty()),
        })
        .await?;
    Ok(Json(Page::of(items, limit, "orders", |o| o.id.clone())))
}

async fn admin_get_order(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderOut>> {
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
    Ok(Json(OrderOut { order }))
}

async fn ready_for_pickup(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderOut>> {
    let mut order = s.engine.ready_for_pickup(&p, &id).await?;
    // Staff get the order without the code: the shopper proves the pickup by showing it.
    if let Some(pk) = order.pickup.as_mut() {
        pk.code = None;
    }
    Ok(Json(OrderOut { order }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PickedUpIn {
    /// The 6-digit code the shopper shows.
    code: String,
}

async fn picked_up(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PickedUpIn>,
) -> ApiResult<Json<OrderOut>> {
    Ok(Json(OrderOut { order: s.engine.picked_up(&p, &id, &b.code).await? }))
}

async fn ship(State(s): State<AppState>, Admin(p): Admin, Path(id): Path<String>) -> ApiResult<Json<OrderOut>> {
    Ok(Json(OrderOut { order: s.engine.ship(&p, &id).await? }))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    OptionalJson(b): OptionalJson<CancelIn>,
) -> ApiResult<Json<OrderOut>> {
    Ok(Json(OrderOut { order: s.engine.cancel(&p, &id, &b.reason).await? }))
}

async fn create_return(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    b: MoneyJson<ReturnInput>,
) -> ApiResult<Created<ReturnOut>> {
    let hash = b.hash(&[]);
    Ok(Created(ReturnOut { r#return: s.engine.create_return(&p, b.body, key, hash).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PosSaleIn {
    /// The store (admins); staff keys sell at their own.
    location_id: Option<String>,
    lines: Vec<SaleLineInput>,
    currency: Option<String>,
    customer_id: Option<String>,
    /// Default `pay_in_store`; `wallet_qr` with the scanned `code`; `gift_card` with its `code`.
    payment: Option<PaymentIn>,
}

async fn pos_sale(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    b: MoneyJson<PosSaleIn>,
) -> ApiResult<Created<OrderOut>> {
    let hash = b.hash(&[]);
    let b = b.body;
    let (method, qr, gift) = match b.payment {
        Some(PaymentIn { currency: Some(_), .. }) => {
            return Err(ApiError::bad("invalid_request", "`payment.currency` (conversion) is for web wallet payments"))
        }
        Some(PaymentIn { tenders: Some(_), .. }) => {
            return Err(ApiError::bad("invalid_request", "split payments are for web checkout"))
        }
        // A blank code is no code.
        Some(PaymentIn { method, code: Some(c), .. }) if method == "wallet_qr" && !c.trim().is_empty() => {
            (Some("wallet".to_owned()), Some(c), None)
        }
        Some(PaymentIn { method, code: Some(c), .. }) if method == "gift_card" && !c.trim().is_empty() => {
            (Some(method), None, Some(c))
        }
        Some(PaymentIn { method, .. }) if method == "gift_card" => {
            return Err(ApiError::bad(
                "gift_card_required",
                "a gift card payment needs the card's number as `payment.code`",
            ))
        }
        Some(PaymentIn { method, .. }) if method == "wallet_qr" => {
            return Err(ApiError::bad("invalid_payment_code", "`wallet_qr` needs the scanned code as `payment.code`"))
        }
        Some(PaymentIn { code: Some(_), .. }) => {
            return Err(ApiError::bad("invalid_request", "`payment.code` goes only with `wallet_qr` or `gift_card`"))
        }
        Some(p) => (Some(p.method), None, None),
        None => (None, None, None),
    };
    let order =
        s.engine.pos_sale(&p, b.location_id, b.lines, b.currency, b.customer_id, method, qr, gift, key, hash).await?;
    Ok(Created(OrderOut { order }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequestIn {
    location_id: Option<String>,
    lines: Vec<SaleLineInput>,
    currency: Option<String>,
}

async fn create_payment_request(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiJson(b): ApiJson<PaymentRequestIn>,
) -> ApiResult<Created<PaymentRequestOut>> {
    let payment_request = s.engine.create_payment_request(&p, b.location_id, b.lines, b.currency).await?;
    Ok(Created(PaymentRequestOut { payment_request }))
}

async fn admin_payment_request(
    State(s): State<AppState>,
    _: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<PaymentRequestOut>> {
    Ok(Json(PaymentRequestOut { payment_request: s.engine.payment_request(&id).await? }))
}
