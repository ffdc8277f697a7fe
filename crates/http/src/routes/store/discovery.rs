//! Discovery for shoppers: search in Korean and English, shopper events for recommendations, and the
//! recommendations themselves.

use crate::extract::{ApiJson, ApiQuery, MaybeCustomer, Viewer};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Accepted};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use engine::discovery::product_search::SearchView;
use engine::discovery::recommendations::{RecsView, ShopperEvent};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/store/search")
                .tag("discovery")
                .doc("Search products in Korean and English (typos, prefixes, particles, units) with filters, live stock at a store or pickup near a point, sorting and facet counts.")
                .query::<SearchQ>()
                .ok::<SearchOut>(),
            search_products,
        )
        .route(
            Op::post("/store/events")
                .tag("discovery")
                .auth(Auth::OptionalCustomer)
                .doc("Report shopper events (views, searches, cart adds; at most 100) for recommendations.")
                .json::<EventsIn>()
                .accepted::<AcceptedOut>(),
            shopper_events,
        )
        .route(
            Op::get("/store/recommendations")
                .tag("discovery")
                .auth(Auth::OptionalViewer)
                .doc("Recommendations for a context (home, a product, a cart), each with its reason in English and Korean; only products in stock where asked.")
                .query::<RecsQ>()
                .ok::<RecsOut>(),
            recommendations,
        )
}

envelope!(SearchOut {
    search: SearchView,
    /// Whether more hits follow this page.
    has_more: bool,
    /// Pass as `after` for the next page of hits (`null` on the last page).
    next_cursor: Option<String>
});
envelope!(AcceptedOut {
    /// Events stored.
    accepted: usize
});
envelope!(RecsOut { recommendations: RecsView });

/// Search parameters.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQ {
    /// The words to search for (Korean or English).
    q: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    /// `size:270,color:black`
    attributes: Option<String>,
    /// Prices in this currency (default KRW).
    currency: Option<String>,
    /// Minor units.
    price_min: Option<i64>,
    /// Minor units.
    price_max: Option<i64>,
    /// Only products in stock now at this location.
    in_stock_at: Option<String>,
    /// `lat,lon`: only products in stock now at a pickup store within `radius_km` (default 5).
    near: Option<String>,
    radius_km: Option<f64>,
    /// `relevance` (default), `price_asc`, `price_desc`, `newest` or `popular`.
    sort: Option<String>,
    /// 1–100, default 20.
    limit: Option<usize>,
    /// The previous page's `next_cursor`.
    after: Option<String>,
}

async fn search_products(State(s): State<AppState>, ApiQuery(q): ApiQuery<SearchQ>) -> ApiResult<Json<SearchOut>> {
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
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=crate::MAX_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad("invalid_limit", format!("`limit` must be 1–{}, got {n}", crate::MAX_PAGE)))
        }
    };
    let offset = match crate::cursor::after("search", q.after.as_deref())? {
        None => 0,
        Some(o) => {
            o.parse().map_err(|_| ApiError::bad("invalid_cursor", "`after` takes the previous page's `next_cursor`"))?
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
        limit,
        offset,
    };
    let search = s.engine.search_products(query).await?;
    let shown = offset + search.hits.len();
    let has_more = shown < search.total && !search.hits.is_empty();
    let next_cursor = has_more.then(|| crate::cursor::encode("search", &shown.to_string()));
    Ok(Json(SearchOut { search, has_more, next_cursor }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsIn {
    /// An anonymous visitor's id (the app's or page's own), when nobody is signed in.
    session_id: Option<String>,
    events: Vec<ShopperEvent>,
}

async fn shopper_events(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiJson(b): ApiJson<EventsIn>,
) -> ApiResult<Accepted<AcceptedOut>> {
    let n = s.engine.record_shopper_events(b.events, c, b.session_id).await?;
    Ok(Accepted(AcceptedOut { accepted: n }))
}

/// What to recommend for.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecsQ {
    /// `home` (default), `product:{id}` or `cart:{id}`.
    context: Option<String>,
    /// Whose recommendations: the signed-in customer by default; another customer only with a staff key.
    customer: Option<String>,
    /// An anonymous visitor's id.
    session_id: Option<String>,
    /// Only products in stock at this location (default: in stock anywhere that ships).
    location: Option<String>,
    /// 1–50, default 10.
    limit: Option<usize>,
    currency: Option<String>,
}

async fn recommendations(
    State(s): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<RecsQ>,
) -> ApiResult<Json<RecsOut>> {
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
    Ok(Json(RecsOut { recommendations: s.engine.recommendations(query).await? }))
}
