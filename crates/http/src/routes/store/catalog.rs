//! The shopper's catalog: active products, one product with its per-store availability, the stores.

use crate::extract::Path;
use crate::extract::{page_limit, ApiQuery};
use crate::openapi::{Api, Op};
use crate::respond::{envelope, List, Page};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::catalog::locations::LocationView;
use engine::catalog::products::{ProductQuery, ProductView};
use engine::stock::ProductWithAvailability;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/store/products")
                .tag("storefront")
                .doc("Active products, newest first by id.")
                .query::<ProductListQ>()
                .ok::<Page<ProductView>>(),
            store_list_products,
        )
        .route(
            Op::get("/store/products/{id}")
                .tag("storefront")
                .doc("A product by id or handle, with per-store availability (\"3 at Gangnam, pickup today\").")
                .ok::<StoreProductOut>(),
            store_get_product,
        )
        .route(
            Op::get("/store/locations")
                .tag("storefront")
                .doc("Stores and their pickup options.")
                .ok::<List<LocationView>>(),
            list_locations_public,
        )
}

envelope!(StoreProductOut { product: ProductWithAvailability });

/// Paging and filters of a product list.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductListQ {
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<usize>,
    /// A category such as `apparel/tops`.
    pub category: Option<String>,
    /// Words in the title or handle (at most 200 characters).
    pub q: Option<String>,
}

pub async fn list_products(s: &AppState, q: ProductListQ, only_active: bool) -> ApiResult<Page<ProductView>> {
    let limit = page_limit(q.limit)?;
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::bad("invalid_query", "`q` is at most 200 characters"));
    }
    let after = crate::cursor::after("products", q.after.as_deref())?;
    let items = s
        .engine
        .list_products(ProductQuery { after, limit: limit + 1, category: q.category, q: q.q, only_active })
        .await?;
    Ok(Page::of(items, limit, "products", |p| p.id.clone()))
}

async fn store_list_products(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ProductListQ>,
) -> ApiResult<Json<Page<ProductView>>> {
    Ok(Json(list_products(&s, q, true).await?))
}

async fn store_get_product(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<StoreProductOut>> {
    Ok(Json(StoreProductOut { product: s.engine.product_with_availability(&id).await? }))
}

async fn list_locations_public(State(s): State<AppState>) -> ApiResult<Json<List<LocationView>>> {
    Ok(Json(List { data: s.engine.locations().await? }))
}
