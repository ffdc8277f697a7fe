//! Shopper analytics for the seller: dwell, funnels, journeys, traffic, channel mix, repeat purchases,
//! stock-outs and the floor heatmap, every answer under the k-anonymity rule; segment data staff keep
//! (membership tiers, the seller's own segments) and a shopper's erasure request.

use crate::extract::{ApiJson, ApiQuery, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::ApiResult;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use engine::insight::{Answer, Ask, Heatmap};
use engine::platform::auth::Principal;
use engine::EngineError;
use insight::dwell::DwellRow;
use insight::funnels::{InstoreFunnelRow, OnlineFunnelRow};
use insight::journeys::JourneyRow;
use insight::sales::{ChannelMixRow, RepeatRow, StockOutRow, TrafficRow};
use insight::SegmentDef;
use serde::Deserialize;

/// A question's documentation with what every question shares.
macro_rules! period {
    ($s:expr) => {
        concat!(
            $s,
            " `from` and `to` are local days (YYYY-MM-DD, default: the last seven days to today); `k` may raise the \
             configured k-anonymity threshold (cells of fewer distinct shoppers show no figures)."
        )
    };
}

pub fn api() -> Api {
    let get = |path: &'static str, doc: &'static str| Op::get(path).tag("analytics").auth(Auth::Staff).doc(doc);
    Api::default()
        .route(
            get("/admin/analytics/dwell", period!("Dwell by zone (`gondola:G`), shelf or facing of the cashierless stores, by `hour` and/or `weekday` and a `segment`: visits, visitors, mean, median and p90 dwell, share of the store's visitors. A dwell belongs to the hour it began."))
                .query::<DwellQ>()
                .ok::<Answer<DwellRow>>(),
            dwell,
        )
        .route(
            get("/admin/analytics/instore-funnel", period!("The in-store funnel per product, category or zone: visits that passed its aisle, dwelled at its facing for `min_dwell_s` (default 5), picked it and bought it, and the put-back rate."))
                .query::<InstoreFunnelQ>()
                .ok::<Answer<InstoreFunnelRow>>(),
            instore_funnel,
        )
        .route(
            get("/admin/analytics/online-funnel", period!("The web funnel (view → cart → checkout → purchase) in distinct shoppers, by `segment` and, with `device=true`, by device. Web events are recorded only with the shopper's consent."))
                .query::<OnlineFunnelQ>()
                .ok::<Answer<OnlineFunnelRow>>(),
            online_funnel,
        )
        .route(
            get("/admin/analytics/journeys", period!("Cross-channel journeys: showrooming (dwelled at or picked a product in a store, bought it online within `within_days`, default 7), webrooming (viewed online, bought in a store) and what click & collect shoppers add at the store within two hours, in total and for the `top` products. Only shoppers who agreed to be recognised across channels can make a journey."))
                .query::<JourneysQ>()
                .ok::<Answer<JourneyRow>>(),
            journeys,
        )
        .route(
            get("/admin/analytics/traffic", period!("Store traffic by local hour: gated visits, in-store orders, buyers, conversion and units per basket."))
                .query::<LocationQ>()
                .ok::<Answer<TrafficRow>>(),
            traffic,
        )
        .route(
            get("/admin/analytics/channel-mix", period!("Revenue by location, local day and channel (web, click_collect, pos, cashierless), with returns and each channel's share."))
                .query::<LocationQ>()
                .ok::<Answer<ChannelMixRow>>(),
            channel_mix,
        )
        .route(
            get("/admin/analytics/repeat", period!("Customers who bought more than once in the period, by `segment`."))
                .query::<SegmentQ>()
                .ok::<Answer<RepeatRow>>(),
            repeat,
        )
        .route(
            get("/admin/analytics/stockouts", period!("Time each SKU was out of stock per location, and the sales it probably cost (units sold per in-stock hour × hours out)."))
                .query::<LocationQ>()
                .ok::<Answer<StockOutRow>>(),
            stockouts,
        )
        .route(
            get("/admin/analytics/heatmap", period!("A cashierless store's floor (`location_id`, required): every facing's box in metres with the dwell at it, for drawing the heatmap."))
                .query::<LocationQ>()
                .ok::<Answer<Heatmap>>(),
            heatmap,
        )
        .route(
            Op::get("/admin/analytics/segments")
                .tag("analytics")
                .auth(Auth::Staff)
                .doc("The seller's own segments, in order: ask any question with `segment=custom` to break it down by them (a shopper's row goes to the first segment that matches, `other` when none does).")
                .ok::<SegmentsOut>(),
            get_segments,
        )
        .route(
            Op::put("/admin/analytics/segments")
                .tag("analytics")
                .auth(Auth::Admin)
                .doc("Replace the seller's segments (at most 20, names unique). Each combines tiers, age bands, new or returning, home stores and preferred channels from what customers agreed to share; a dimension left out matches anyone. Nothing is inferred from cameras or body tracks.")
                .json::<SegmentsIn>()
                .ok::<SegmentsOut>(),
            put_segments,
        )
        .route(
            Op::put("/admin/customers/{id}/tier")
                .tag("analytics")
                .auth(Auth::Admin)
                .doc("Set a customer's membership tier from now on (segments read the tier an event happened in).")
                .json::<TierIn>()
                .ok::<TierOut>(),
            put_tier,
        )
        .route(
            Op::post("/admin/customers/{id}/analytics-erasure")
                .tag("analytics")
                .auth(Auth::Admin)
                .doc("Carry out a shopper's erasure request: every analytics event recorded about them is deleted and they are no longer recognised across channels (orders stay, as the law requires).")
                .ok::<ErasedOut>(),
            erase,
        )
}

/// Location-bound staff see only their own location; questions about the whole shop need an admin or
/// staff bound to no location.
fn scoped(p: &Principal, location_id: Option<String>, whole_shop: bool) -> Result<Option<String>, EngineError> {
    match p.location() {
        None => Ok(location_id),
        Some(_) if whole_shop => Err(EngineError::Forbidden(
            "this question covers the whole shop; staff bound to a location cannot ask it".into(),
        )),
        Some(own) => match location_id {
            Some(l) if l != own => Err(EngineError::Forbidden(format!("staff of {own} see only their own location"))),
            _ => Ok(Some(own.to_owned())),
        },
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DwellQ {
    from: Option<String>,
    to: Option<String>,
    location_id: Option<String>,
    /// `tier`, `age_band`, `visitor`, `home_store`, `preferred_channel` or `custom` (the seller's own
    /// segments, `/admin/analytics/segments`).
    segment: Option<String>,
    k: Option<u32>,
    /// `zone` (default), `shelf` or `facing`.
    level: Option<String>,
    /// `hour`, `weekday` or `hour,weekday`.
    by: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstoreFunnelQ {
    from: Option<String>,
    to: Option<String>,
    location_id: Option<String>,
    segment: Option<String>,
    k: Option<u32>,
    /// `product` (default), `category` or `zone`.
    by: Option<String>,
    min_dwell_s: Option<i64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlineFunnelQ {
    from: Option<String>,
    to: Option<String>,
    segment: Option<String>,
    k: Option<u32>,
    /// Break the funnel down by device.
    device: Option<bool>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneysQ {
    from: Option<String>,
    to: Option<String>,
    k: Option<u32>,
    within_days: Option<i64>,
    min_dwell_s: Option<i64>,
    top: Option<usize>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationQ {
    from: Option<String>,
    to: Option<String>,
    location_id: Option<String>,
    k: Option<u32>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentQ {
    from: Option<String>,
    to: Option<String>,
    segment: Option<String>,
    k: Option<u32>,
}

async fn dwell(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<DwellQ>,
) -> ApiResult<Json<Answer<DwellRow>>> {
    let location_id = scoped(&p, q.location_id, false)?;
    let a = Ask { from: q.from, to: q.to, location_id, segment: q.segment, k: q.k };
    Ok(Json(s.engine.analytics_dwell(a, q.level, q.by).await?))
}

async fn instore_funnel(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<InstoreFunnelQ>,
) -> ApiResult<Json<Answer<InstoreFunnelRow>>> {
    let location_id = scoped(&p, q.location_id, false)?;
    let a = Ask { from: q.from, to: q.to, location_id, segment: q.segment, k: q.k };
    Ok(Json(s.engine.analytics_instore_funnel(a, q.by, q.min_dwell_s).await?))
}

async fn online_funnel(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<OnlineFunnelQ>,
) -> ApiResult<Json<Answer<OnlineFunnelRow>>> {
    scoped(&p, None, true)?;
    let a = Ask { from: q.from, to: q.to, location_id: None, segment: q.segment, k: q.k };
    Ok(Json(s.engine.analytics_online_funnel(a, q.device.unwrap_or(false)).await?))
}

async fn journeys(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<JourneysQ>,
) -> ApiResult<Json<Answer<JourneyRow>>> {
    scoped(&p, None, true)?;
    let a = Ask { from: q.from, to: q.to, location_id: None, segment: None, k: q.k };
    Ok(Json(s.engine.analytics_journeys(a, q.within_days, q.min_dwell_s, q.top).await?))
}

fn location_ask(p: &Principal, q: LocationQ) -> Result<Ask, EngineError> {
    let location_id = scoped(p, q.location_id, false)?;
    Ok(Ask { from: q.from, to: q.to, location_id, segment: None, k: q.k })
}

async fn traffic(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<LocationQ>,
) -> ApiResult<Json<Answer<TrafficRow>>> {
    Ok(Json(s.engine.analytics_traffic(location_ask(&p, q)?).await?))
}

async fn channel_mix(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<LocationQ>,
) -> ApiResult<Json<Answer<ChannelMixRow>>> {
    Ok(Json(s.engine.analytics_channel_mix(location_ask(&p, q)?).await?))
}

async fn repeat(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<SegmentQ>,
) -> ApiResult<Json<Answer<RepeatRow>>> {
    scoped(&p, None, true)?;
    let a = Ask { from: q.from, to: q.to, location_id: None, segment: q.segment, k: q.k };
    Ok(Json(s.engine.analytics_repeat(a).await?))
}

async fn stockouts(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<LocationQ>,
) -> ApiResult<Json<Answer<StockOutRow>>> {
    Ok(Json(s.engine.analytics_stockouts(location_ask(&p, q)?).await?))
}

async fn heatmap(
    State(s): State<AppState>,
    Staff(p): Staff,
    ApiQuery(q): ApiQuery<LocationQ>,
) -> ApiResult<Json<Answer<Heatmap>>> {
    Ok(Json(s.engine.analytics_heatmap(location_ask(&p, q)?).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierIn {
    /// 1–32 letters, digits, `-` or `_` (for example `gold`).
    tier: String,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct TierOut {
    customer_id: String,
    tier: String,
}

async fn put_tier(
    State(s): State<AppState>,
    crate::extract::Admin(_): crate::extract::Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TierIn>,
) -> ApiResult<Json<TierOut>> {
    s.engine.set_customer_tier(id.clone(), b.tier.clone()).await?;
    Ok(Json(TierOut { customer_id: id, tier: b.tier.trim().to_lowercase() }))
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ErasedOut {
    customer_id: String,
    /// Analytics events deleted.
    erased_events: u64,
}

async fn erase(
    State(s): State<AppState>,
    crate::extract::Admin(_): crate::extract::Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<ErasedOut>> {
    let n = s.engine.erase_analytics(id.clone()).await?;
    Ok(Json(ErasedOut { customer_id: id, erased_events: n }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentsIn {
    segments: Vec<SegmentDef>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct SegmentsOut {
    segments: Vec<SegmentDef>,
}

async fn get_segments(State(s): State<AppState>, Staff(_): Staff) -> ApiResult<Json<SegmentsOut>> {
    Ok(Json(SegmentsOut { segments: s.engine.analytics_segments().await? }))
}

async fn put_segments(
    State(s): State<AppState>,
    crate::extract::Admin(_): crate::extract::Admin,
    ApiJson(b): ApiJson<SegmentsIn>,
) -> ApiResult<Json<SegmentsOut>> {
    Ok(Json(SegmentsOut { segments: s.engine.set_analytics_segments(b.segments).await? }))
}
