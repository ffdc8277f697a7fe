//! Platform for integrators and operators: API keys, the event feed, webhook subscriptions and their
//! delivery log, maintenance, and the doctor.

use crate::extract::{page_limit, Admin, ApiJson, ApiQuery};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, List};
use crate::routes::LimitQ;
use crate::{ApiError, ApiResult, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use engine::platform::auth::IssuedKey;
use engine::platform::events::{Cursor, EventView, MAX_FEED_PAGE};
use engine::platform::webhooks::{DeliveryView, SubscriptionInput, SubscriptionView};
use engine::DoctorReport;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/admin/api-keys")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("Issue an API key (admin, or staff bound to a location); the key is shown once.")
                .json::<KeyIn>()
                .created::<KeyOut>(),
            issue_key,
        )
        .route(
            Op::get("/admin/events")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("The domain event feed in commit-safe order; never skips an event, on either backend.")
                .query::<EventsQ>()
                .ok::<EventPage>(),
            list_events,
        )
        .route(
            Op::post("/admin/webhooks")
                .tag("webhooks")
                .auth(Auth::Admin)
                .doc("Subscribe a URL to event types; deliveries are signed with the returned secret.")
                .json::<SubscriptionInput>()
                .created::<WebhookOut>(),
            subscribe,
        )
        .route(
            Op::get("/admin/webhooks")
                .tag("webhooks")
                .auth(Auth::Admin)
                .doc("Webhook subscriptions.")
                .ok::<List<SubscriptionView>>(),
            list_webhooks,
        )
        .route(
            Op::delete("/admin/webhooks/{id}")
                .tag("webhooks")
                .auth(Auth::Admin)
                .doc("Deactivate a subscription.")
                .no_content(),
            unsubscribe,
        )
        .route(
            Op::get("/admin/webhooks/{id}/deliveries")
                .tag("webhooks")
                .auth(Auth::Admin)
                .doc("The delivery log of a subscription.")
                .query::<LimitQ>()
                .ok::<List<DeliveryView>>(),
            list_deliveries,
        )
        .route(
            Op::post("/admin/maintenance/expire-pickups")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("Expire uncollected pickup orders now (also runs in the background).")
                .ok::<ExpiredOut>(),
            expire_pickups,
        )
        .route(
            Op::get("/admin/doctor")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("Recompute stock balances and ledger accounts from their ledgers and report drift.")
                .ok::<DoctorReport>(),
            doctor,
        )
}

envelope!(KeyOut { api_key: IssuedKey });
envelope!(WebhookOut { webhook: SubscriptionView });
envelope!(ExpiredOut {
    /// Orders expired now.
    expired: Vec<String>
});

/// A page of the event feed; `next_cursor` is always set (pass it back to continue from here).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct EventPage {
    pub data: Vec<EventView>,
    pub next_cursor: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIn {
    /// `admin` or `staff`.
    role: String,
    /// The location a staff key acts for.
    location_id: Option<String>,
    label: String,
}

async fn issue_key(State(s): State<AppState>, _: Admin, ApiJson(k): ApiJson<KeyIn>) -> ApiResult<Created<KeyOut>> {
    let loc = match k.location_id {
        Some(l) => Some(s.engine.location(&l).await?.id),
        None => None,
    };
    Ok(Created(KeyOut { api_key: s.engine.issue_key(&k.role, loc, k.label).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsQ {
    /// The previous page's `next_cursor` (opaque).
    after: Option<String>,
    /// 1–500, default 100.
    limit: Option<usize>,
    /// An event type such as `order.placed`, or a prefix such as `order.`.
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn list_events(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<EventsQ>,
) -> ApiResult<Json<EventPage>> {
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=MAX_FEED_PAGE).contains(&n) => n,
        Some(n) => return Err(ApiError::bad("invalid_limit", format!("`limit` must be 1–{MAX_FEED_PAGE}, got {n}"))),
    };
    let after = match q.after.as_deref() {
        None | Some("") => Cursor::default(),
        Some(c) => Cursor::parse(c).map_err(|m| ApiError::bad("invalid_cursor", m))?,
    };
    let (items, next) = s.engine.events(after, limit, q.kind).await?;
    Ok(Json(EventPage { data: items, next_cursor: next.to_string() }))
}

async fn subscribe(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(b): ApiJson<SubscriptionInput>,
) -> ApiResult<Created<WebhookOut>> {
    Ok(Created(WebhookOut { webhook: s.engine.subscribe(b).await? }))
}

async fn list_webhooks(State(s): State<AppState>, _: Admin) -> ApiResult<Json<List<SubscriptionView>>> {
    Ok(Json(List { data: s.engine.subscriptions().await? }))
}

async fn unsubscribe(State(s): State<AppState>, _: Admin, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.engine.unsubscribe(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_deliveries(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LimitQ>,
) -> ApiResult<Json<List<DeliveryView>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(List { data: s.engine.deliveries(&id, limit).await? }))
}

async fn expire_pickups(State(s): State<AppState>, _: Admin) -> ApiResult<Json<ExpiredOut>> {
    Ok(Json(ExpiredOut { expired: s.engine.expire_pickups().await? }))
}

async fn doctor(State(s): State<AppState>, _: Admin) -> ApiResult<Json<DoctorReport>> {
    Ok(Json(s.engine.doctor().await?))
}
