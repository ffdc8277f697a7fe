//! Platform for integrators and operators: API keys, the event feed, webhook subscriptions and their
//! delivery log, maintenance, and the doctor.

use crate::extract::Path;
use crate::extract::{page_limit, Admin, ApiJson, ApiQuery};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, List, Page};
use crate::routes::{seq_after, PageQ};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use engine::platform::auth::{IssuedKey, KeyView};
use engine::platform::events::{Cursor, EventView, MAX_FEED_PAGE};
use engine::platform::mail::MailView;
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
            Op::get("/admin/api-keys")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("Every API key, newest first, with when it expires or was revoked (never the secrets).")
                .ok::<List<KeyView>>(),
            list_keys,
        )
        .route(
            Op::delete("/admin/api-keys/{id}")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("Revoke a key: requests with it fail at once. The last working admin key cannot be revoked (409 `last_admin_key`).")
                .no_content()
                .errors(&[409]),
            revoke_key,
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
            Op::get("/admin/mail")
                .tag("platform")
                .auth(Auth::Admin)
                .doc("The mail outbox, newest first: what the shop sent or will send (sign-up links). A message's \
                      body is shown only while it waits; without a mail transport (`--smtp-url`) this is where \
                      staff find a sign-up link to hand on.")
                .query::<MailQ>()
                .ok::<Page<MailView>>(),
            list_mail,
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
                .doc("The delivery log of a subscription, newest first.")
                .query::<PageQ>()
                .ok::<Page<DeliveryView>>(),
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

/// A page of the event feed. Unlike other lists, `next_cursor` is always set: the feed is a stream, and a
/// consumer at its end keeps polling with the last cursor to see what commits next.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct EventPage {
    pub data: Vec<EventView>,
    /// Whether more events are available now.
    pub has_more: bool,
    /// Opaque; pass as `after` to read what follows.
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
    /// Days until the key stops working by itself: 1–3650, default 365.
    expires_in_days: Option<i64>,
}

async fn issue_key(State(s): State<AppState>, _: Admin, ApiJson(k): ApiJson<KeyIn>) -> ApiResult<Created<KeyOut>> {
    let loc = match k.location_id {
        Some(l) => Some(s.engine.location(&l).await?.id),
        None => None,
    };
    Ok(Created(KeyOut { api_key: s.engine.issue_key(&k.role, loc, k.label, k.expires_in_days).await? }))
}

async fn list_keys(State(s): State<AppState>, _: Admin) -> ApiResult<Json<List<KeyView>>> {
    Ok(Json(List { data: s.engine.api_keys().await? }))
}

async fn revoke_key(State(s): State<AppState>, Admin(by): Admin, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.engine.revoke_key(&by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsQ {
    /// The previous page's `next_cursor` (opaque).
    after: Option<String>,
    /// 1–500, default 100.
    limit: Option<usize>,
    /// An event type such as `order.placed`, a family such as `order.*`, or `*`.
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
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("*") => None,
        Some(k) => {
            engine::platform::events::check_pattern(k)
                .map_err(|m| ApiError::bad("invalid_query", format!("`type`: {m}")))?;
            Some(k.to_owned())
        }
    };
    let after = match crate::cursor::after("events", q.after.as_deref())? {
        None => Cursor::default(),
        Some(c) => Cursor::parse(&c).map_err(|m| ApiError::bad("invalid_cursor", m))?,
    };
    // A page of a kind prefix may end before the feed does (it looks through a window of it).
    let (mut items, mut next, more) = s.engine.events_page(after, limit + 1, kind).await?;
    let has_more = items.len() > limit || more;
    if has_more {
        items.truncate(limit);
        if let Some(last) = items.last() {
            next = Cursor::parse(&last.cursor).map_err(|m| ApiError::bad("invalid_cursor", m))?;
        }
    }
    for e in items.iter_mut() {
        e.cursor = crate::cursor::encode("events", &e.cursor);
    }
    Ok(Json(EventPage { data: items, has_more, next_cursor: crate::cursor::encode("events", &next.to_string()) }))
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
    ApiQuery(q): ApiQuery<PageQ>,
) -> ApiResult<Json<Page<DeliveryView>>> {
    let limit = page_limit(q.limit)?;
    let before = match seq_after("deliveries", q.after.as_deref())? {
        0 => None,
        n => Some(n),
    };
    let items = s.engine.deliveries(&id, before, limit + 1).await?;
    Ok(Json(Page::of(items, limit, "deliveries", |d| d.event_seq.to_string())))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailQ {
    /// Only messages to this address.
    to: Option<String>,
    /// `waiting`, `sent`, `failed` or `expired`.
    status: Option<String>,
    /// The previous page's `next_cursor`.
    after: Option<String>,
    /// 1–100, default 20.
    limit: Option<usize>,
}

async fn list_mail(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<MailQ>,
) -> ApiResult<Json<Page<MailView>>> {
    let limit = page_limit(q.limit)?;
    let before = crate::cursor::after("mail", q.after.as_deref())?;
    let items = s.engine.mail_outbox(q.to, q.status, before, limit + 1).await?;
    Ok(Json(Page::of(items, limit, "mail", |m| m.id.clone())))
}

async fn expire_pickups(State(s): State<AppState>, _: Admin) -> ApiResult<Json<ExpiredOut>> {
    Ok(Json(ExpiredOut { expired: s.engine.expire_pickups().await? }))
}

async fn doctor(State(s): State<AppState>, _: Admin) -> ApiResult<Json<DoctorReport>> {
    Ok(Json(s.engine.doctor().await?))
}
