//! Stock for staff: adjustments, transfers between locations, safety stock, and a SKU's levels everywhere.

use crate::extract::Path;
use crate::extract::{page_limit, Admin, ApiJson, ApiQuery, IdempotencyKey, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, Page};
use crate::routes::seq_after;
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::stock::movements::{MovementView, SkuLevels};
use engine::stock::{StockLevel, TransferView};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/admin/inventory/adjustments")
                .tag("inventory")
                .auth(Auth::Admin)
                .doc("Correct on-hand stock after a count, damage, loss or a found item (an `adjustment` movement either way; goods from a supplier are a receipt).")
                .json::<AdjustmentIn>()
                .idempotent()
                .created::<LevelOut>()
                .errors(&[409]),
            adjust,
        )
        .route(
            Op::post("/admin/inventory/receipts")
                .tag("inventory")
                .auth(Auth::Staff)
                .doc("Receive goods at a location (a supplier delivery): a `receipt` movement with its reason and reference. Staff keys receive at their own location.")
                .json::<ReceiptIn>()
                .idempotent()
                .created::<LevelOut>(),
            receive,
        )
        .route(
            Op::get("/admin/inventory/{sku}/movements")
                .tag("inventory")
                .auth(Auth::Staff)
                .doc("A SKU's stock ledger, newest first: every movement with its kind, deltas, reason and source.")
                .query::<MovementsQ>()
                .ok::<Page<MovementView>>(),
            movements,
        )
        .route(
            Op::post("/admin/inventory/transfers")
                .tag("inventory")
                .auth(Auth::Admin)
                .doc("Move available stock from one location to another.")
                .json::<TransferIn>()
                .idempotent()
                .created::<TransferOut>()
                .errors(&[409]),
            transfer,
        )
        .route(
            Op::post("/admin/inventory/safety-stock")
                .tag("inventory")
                .auth(Auth::Admin)
                .doc("Set the safety stock kept back from online promises at a location.")
                .json::<SafetyIn>()
                .ok::<LevelOut>(),
            safety_stock,
        )
        .route(
            Op::get("/admin/inventory/{sku}")
                .tag("inventory")
                .auth(Auth::Staff)
                .doc("A SKU's on hand, reserved, safety stock, unsellable and available at every location.")
                .ok::<SkuLevels>(),
            stock,
        )
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    sku: String,
    location_id: String,
    /// Non-zero, within ±1,000,000.
    quantity_delta: i64,
    reason: String,
}

envelope!(LevelOut { level: StockLevel });
envelope!(TransferOut { transfer: TransferView });

async fn adjust(
    State(s): State<AppState>,
    Admin(p): Admin,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(a): ApiJson<AdjustmentIn>,
) -> ApiResult<Created<LevelOut>> {
    Ok(Created(LevelOut {
        level: s.engine.adjust_stock(&p, key.as_deref(), &a.sku, &a.location_id, a.quantity_delta, &a.reason).await?,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIn {
    sku: String,
    location_id: String,
    /// 1–1,000,000 units received.
    quantity: i64,
    /// Why, e.g. `supplier delivery`.
    reason: String,
    /// A delivery note or purchase order number (at most 100 characters), kept as the movement's source.
    reference: Option<String>,
}

async fn receive(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(r): ApiJson<ReceiptIn>,
) -> ApiResult<Created<LevelOut>> {
    let loc = s.engine.location(&r.location_id).await?.id;
    if p.location().is_some_and(|l| l != loc) {
        return Err(ApiError::Request {
            status: axum::http::StatusCode::FORBIDDEN,
            code: "forbidden",
            message: "staff receive goods at their own location only".into(),
        });
    }
    Ok(Created(LevelOut {
        level: s.engine.receive_stock(&p, key.as_deref(), &r.sku, &loc, r.quantity, &r.reason, r.reference).await?,
    }))
}

/// Which movements.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementsQ {
    /// Only this location (id or code).
    location_id: Option<String>,
    /// The previous page's `next_cursor`.
    after: Option<String>,
    /// 1–100, default 20.
    limit: Option<usize>,
}

async fn movements(
    State(s): State<AppState>,
    _: Staff,
    Path(sku): Path<String>,
    ApiQuery(q): ApiQuery<MovementsQ>,
) -> ApiResult<Json<Page<MovementView>>> {
    let limit = page_limit(q.limit)?;
    let after = match seq_after("movements", q.after.as_deref())? {
        0 => None,
        n => Some(n),
    };
    let items = s.engine.stock_movements(&sku, q.location_id.as_deref(), after, limit + 1).await?;
    Ok(Json(Page::of(items, limit, "movements", |m| m.seq.to_string())))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    sku: String,
    from_location_id: String,
    to_location_id: String,
    quantity: i64,
}

async fn transfer(
    State(s): State<AppState>,
    Admin(p): Admin,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(t): ApiJson<TransferIn>,
) -> ApiResult<Created<TransferOut>> {
    let transfer =
        s.engine.transfer(&p, key.as_deref(), &t.sku, &t.from_location_id, &t.to_location_id, t.quantity).await?;
    Ok(Created(TransferOut { transfer }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyIn {
    sku: String,
    location_id: String,
    safety_stock: i64,
}

async fn safety_stock(
    State(s): State<AppState>,
    Admin(p): Admin,
    ApiJson(t): ApiJson<SafetyIn>,
) -> ApiResult<Json<LevelOut>> {
    Ok(Json(LevelOut { level: s.engine.set_safety_stock(&p, &t.sku, &t.location_id, t.safety_stock).await? }))
}

async fn stock(State(s): State<AppState>, _: Staff, Path(sku): Path<String>) -> ApiResult<Json<SkuLevels>> {
    Ok(Json(s.engine.stock(&sku).await?))
}
