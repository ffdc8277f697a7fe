//! Stock for staff: adjustments, transfers between locations, safety stock, and a SKU's levels everywhere.

use crate::extract::{Admin, ApiJson, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created};
use crate::{ApiResult, AppState};
use axum::extract::{Path, State};
use axum::Json;
use engine::stock::movements::{Level, SkuLevels};
use engine::stock::TransferView;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/admin/inventory/adjustments")
                .tag("inventory")
                .auth(Auth::Admin)
                .doc("Post a stock adjustment (a positive delta is a receipt).")
                .json::<AdjustmentIn>()
                .created::<AdjustmentOut>()
                .errors(&[409]),
            adjust,
        )
        .route(
            Op::post("/admin/inventory/transfers")
                .tag("inventory")
                .auth(Auth::Admin)
                .doc("Move available stock from one location to another.")
                .json::<TransferIn>()
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

/// The level after an adjustment.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct AdjustedLevel {
    pub sku: String,
    pub location_id: String,
    pub level: Level,
}

envelope!(AdjustmentOut { level: AdjustedLevel });
envelope!(TransferOut { transfer: TransferView });
envelope!(LevelOut { level: Level });

async fn adjust(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(a): ApiJson<AdjustmentIn>,
) -> ApiResult<Created<AdjustmentOut>> {
    let level = s.engine.adjust_stock(&a.sku, &a.location_id, a.quantity_delta, &a.reason).await?;
    Ok(Created(AdjustmentOut { level: AdjustedLevel { sku: a.sku, location_id: a.location_id, level } }))
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
    _: Admin,
    ApiJson(t): ApiJson<TransferIn>,
) -> ApiResult<Created<TransferOut>> {
    let transfer = s.engine.transfer(&t.sku, &t.from_location_id, &t.to_location_id, t.quantity).await?;
    Ok(Created(TransferOut { transfer }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyIn {
    sku: String,
    location_id: String,
    safety_stock: i64,
}

async fn safety_stock(State(s): State<AppState>, _: Admin, ApiJson(t): ApiJson<SafetyIn>) -> ApiResult<Json<LevelOut>> {
    Ok(Json(LevelOut { level: s.engine.set_safety_stock(&t.sku, &t.location_id, t.safety_stock).await? }))
}

async fn stock(State(s): State<AppState>, _: Staff, Path(sku): Path<String>) -> ApiResult<Json<SkuLevels>> {
    Ok(Json(s.engine.stock(&sku).await?))
}
