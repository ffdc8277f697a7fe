//! Cashierless stores for staff: entry and exit gates by API, a store's layout, its devices (register,
//! rotate, revoke), its shelf labels and its review queue.

use crate::extract::Path;
use crate::extract::{Admin, ApiJson, ApiQuery, IdempotencyKey, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use engine::instore::cashierless::SessionView;
use engine::instore::live::{DeviceView, IssuedDevice, LabelView, LayoutInput, ReviewAction, ReviewView};
use engine::platform::auth::Principal;
use engine::sales::orders::{OrderView, SaleLineInput};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/admin/cashierless/sessions")
                .tag("cashierless")
                .auth(Auth::Staff)
                .doc("Entry gate: the shopper's payment code opens a visit and pre-authorizes their wallet up to the cap.")
                .json::<EnterIn>()
                .idempotent()
                .created::<VisitOut>()
                .errors(&[409]),
            cashierless_enter,
        )
        .route(
            Op::get("/admin/cashierless/sessions/{id}").tag("cashierless").auth(Auth::Staff).doc("A cashierless visit.").ok::<VisitOut>(),
            cashierless_session,
        )
        .route(
            Op::post("/admin/cashierless/sessions/{id}/exit")
                .tag("cashierless")
                .auth(Auth::Staff)
                .doc("Exit gate: the basket is sold at the store and captured from the entry hold (an empty basket releases it).")
                .json::<ExitIn>()
                .ok::<ExitOut>()
                .errors(&[409]),
            cashierless_exit,
        )
        .route(
            Op::put("/admin/stores/{id}/layout")
                .tag("cashierless")
                .auth(Auth::Admin)
                .doc("A cashierless store's layout (plates and facings); the store's fusion state restarts from it.")
                .json::<LayoutInput>()
                .ok::<LayoutOut>(),
            put_store_layout,
        )
        .route(
            Op::get("/admin/stores/{id}/layout").tag("cashierless").auth(Auth::Staff).doc("A cashierless store's layout.").ok::<LayoutOut>(),
            get_store_layout,
        )
        .route(
            Op::post("/admin/stores/{id}/devices")
                .tag("devices")
                .auth(Auth::Admin)
                .doc("Register a device (gate, gondola, tracker, esl); its token is shown once.")
                .json::<DeviceIn>()
                .created::<IssuedDeviceOut>()
                .errors(&[409]),
            register_device,
        )
        .route(
            Op::get("/admin/stores/{id}/devices")
                .tag("devices")
                .auth(Auth::Staff)
                .doc("The store's devices with their sequence bookkeeping (accepted, duplicates, gaps, rejected, last seen).")
                .ok::<DevicesOut>(),
            list_devices,
        )
        .route(
            Op::delete("/admin/stores/{id}/devices/{device}")
                .tag("devices")
                .auth(Auth::Admin)
                .doc("Revoke a device for good: its token and MQTT signing key stop working at once (idempotent).")
                .ok::<DeviceOut>(),
            revoke_device,
        )
        .route(
            Op::post("/admin/stores/{id}/devices/{device}/token")
                .tag("devices")
                .auth(Auth::Admin)
                .doc("Rotate a device's token (shown once); the old token and signing key stop working at once.")
                .ok::<IssuedDeviceOut>()
                .errors(&[409]),
            rotate_device_token,
        )
        .route(
            Op::get("/admin/stores/{id}/labels")
                .tag("devices")
                .auth(Auth::Staff)
                .doc("The store's shelf labels: catalog price and the price each label last confirmed showing.")
                .query::<LabelsQ>()
                .ok::<LabelsOut>(),
            store_labels,
        )
        .route(
            Op::get("/admin/stores/{id}/reviews")
                .tag("cashierless")
                .auth(Auth::Staff)
                .doc("Open review items: shelf events the sensors could not settle, with candidate shoppers and products.")
                .ok::<ReviewsOut>(),
            store_reviews,
        )
        .route(
            Op::post("/admin/stores/{id}/reviews/{review}")
                .tag("cashierless")
                .auth(Auth::Staff)
                .doc("Settle a review item: assign one line, assign several lines at once (all or none: two products, or units that went to different shoppers), or dismiss; visits waiting on it get their orders.")
                .int_params(&["review"])
                .json::<ReviewAction>()
                .ok::<ResolvedOut>()
                .errors(&[409]),
            resolve_store_review,
        )
}

envelope!(VisitOut { session: SessionView });
envelope!(ExitOut { session: SessionView, order: Option<OrderView> });
envelope!(LayoutOut { layout: LayoutInput });
envelope!(IssuedDeviceOut { device: IssuedDevice });
envelope!(DeviceOut { device: DeviceView });
envelope!(DevicesOut { devices: Vec<DeviceView> });
envelope!(LabelsOut { labels: Vec<LabelView> });
envelope!(ReviewsOut { reviews: Vec<ReviewView> });
envelope!(ResolvedOut {
    resolved: u64,
    /// Orders placed for visits that were waiting on this review.
    orders: Vec<String>
});

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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterIn {
    location_id: String,
    /// The code scanned from the shopper's app at the gate.
    payment_code: String,
}

async fn cashierless_enter(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(b): ApiJson<EnterIn>,
) -> ApiResult<Created<VisitOut>> {
    let loc = s.engine.location(&b.location_id).await?.id;
    Ok(Created(VisitOut { session: s.engine.cashierless_enter(&p, &loc, &b.payment_code, key).await? }))
}

async fn cashierless_session(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<VisitOut>> {
    let session = s.engine.cashierless_session(&id).await?;
    if p.location().is_some_and(|l| l != session.location_id) {
        return Err(ApiError::Request {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: "a visit at another store".into(),
        });
    }
    Ok(Json(VisitOut { session }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitIn {
    lines: Vec<SaleLineInput>,
}

async fn cashierless_exit(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ExitIn>,
) -> ApiResult<Json<ExitOut>> {
    let (session, order) = s.engine.cashierless_exit(&p, &id, b.lines).await?;
    Ok(Json(ExitOut { session, order }))
}

/// The store a path names, by id or by code (docs/api.md); 404 when there is none.
async fn store_id(s: &AppState, id_or_code: &str) -> ApiResult<String> {
    Ok(s.engine.location(id_or_code).await?.id)
}

async fn put_store_layout(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LayoutInput>,
) -> ApiResult<Json<LayoutOut>> {
    let id = store_id(&s, &id).await?;
    s.engine.put_store_layout(&id, b).await?;
    Ok(Json(LayoutOut { layout: s.engine.store_layout(&id).await? }))
}

async fn get_store_layout(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<LayoutOut>> {
    let id = store_id(&s, &id).await?;
    own_store(&p, &id)?;
    Ok(Json(LayoutOut { layout: s.engine.store_layout(&id).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceIn {
    /// `gate`, `gondola`, `tracker` or `esl`.
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
) -> ApiResult<Created<IssuedDeviceOut>> {
    let id = store_id(&s, &id).await?;
    Ok(Created(IssuedDeviceOut { device: s.engine.register_device(&id, &b.kind, &b.code, b.sku).await? }))
}

/// A new token for a device (the old one stops working at once); shown once.
async fn rotate_device_token(
    State(s): State<AppState>,
    _: Admin,
    Path((id, device)): Path<(String, String)>,
) -> ApiResult<Json<IssuedDeviceOut>> {
    let id = store_id(&s, &id).await?;
    Ok(Json(IssuedDeviceOut { device: s.engine.rotate_device_token(&id, &device).await? }))
}

/// Takes a lost or stolen device out of service for good (idempotent).
async fn revoke_device(
    State(s): State<AppState>,
    _: Admin,
    Path((id, device)): Path<(String, String)>,
) -> ApiResult<Json<DeviceOut>> {
    let id = store_id(&s, &id).await?;
    Ok(Json(DeviceOut { device: s.engine.revoke_device(&id, &device).await? }))
}

async fn list_devices(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<DevicesOut>> {
    let id = store_id(&s, &id).await?;
    own_store(&p, &id)?;
    Ok(Json(DevicesOut { devices: s.engine.devices(&id).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsQ {
    /// Only labels whose shown price differs from the catalog.
    stale: Option<bool>,
}

async fn store_labels(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LabelsQ>,
) -> ApiResult<Json<LabelsOut>> {
    let id = store_id(&s, &id).await?;
    own_store(&p, &id)?;
    let mut labels = s.engine.store_labels(&id).await?;
    if q.stale == Some(true) {
        labels.retain(|l| l.stale);
    }
    Ok(Json(LabelsOut { labels }))
}

async fn store_reviews(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewsOut>> {
    let id = store_id(&s, &id).await?;
    own_store(&p, &id)?;
    Ok(Json(ReviewsOut { reviews: s.engine.store_reviews(&id).await? }))
}

async fn resolve_store_review(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path((id, review)): Path<(String, u64)>,
    ApiJson(b): ApiJson<ReviewAction>,
) -> ApiResult<Json<ResolvedOut>> {
    let id = store_id(&s, &id).await?;
    own_store(&p, &id)?;
    let orders = s.engine.resolve_store_review(&p, &id, review, b).await?;
    Ok(Json(ResolvedOut { resolved: review, orders }))
}
