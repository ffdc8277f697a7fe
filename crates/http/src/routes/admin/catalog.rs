//! The seller's catalog: products (create, list, import and export as CSV) and locations.

use crate::extract::{Admin, ApiJson, ApiQuery, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, List, Page};
use crate::routes::store::{list_products, ProductListQ};
use crate::{ApiError, ApiResult, AppState, MAX_IMPORT_BYTES};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use engine::catalog::locations::{LocationInput, LocationView};
use engine::catalog::products::{ProductInput, ProductView};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/admin/products")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Create a product with variants, ko/en text and prices in minor units.")
                .json::<ProductInput>()
                .created::<ProductOut>()
                .errors(&[409]),
            create_product,
        )
        .route(
            Op::get("/admin/products")
                .tag("catalog")
                .auth(Auth::Staff)
                .doc("List products of every status.")
                .query::<ProductListQ>()
                .ok::<Page<ProductView>>(),
            admin_list_products,
        )
        .route(
            Op::get("/admin/products/export")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Export the catalog as borderless CSV.")
                .csv(),
            export_products,
        )
        .route(
            Op::post("/admin/products/import")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Import a catalog CSV (borderless or Shopify format); products are upserted by handle.")
                .query::<ImportQ>()
                .csv_body()
                .body_limit(MAX_IMPORT_BYTES)
                .ok::<ImportOut>()
                .errors(&[409]),
            import_products,
        )
        .route(
            Op::get("/admin/products/{id}")
                .tag("catalog")
                .auth(Auth::Staff)
                .doc("A product by id or handle.")
                .ok::<AdminProductOut>(),
            admin_get_product,
        )
        .route(
            Op::post("/admin/locations")
                .tag("locations")
                .auth(Auth::Admin)
                .doc("Create a warehouse, store or cashierless store.")
                .json::<LocationInput>()
                .created::<LocationOut>()
                .errors(&[409]),
            create_location,
        )
        .route(
            Op::get("/admin/locations")
                .tag("locations")
                .auth(Auth::Staff)
                .doc("List locations.")
                .ok::<List<LocationView>>(),
            list_locations,
        )
}

envelope!(ProductOut { product: ProductView });
envelope!(AdminProductOut { product: ProductView });
envelope!(LocationOut { location: LocationView });
envelope!(ImportOut {
    /// Products created or updated.
    imported: usize
});

async fn create_product(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(p): ApiJson<ProductInput>,
) -> ApiResult<Created<ProductOut>> {
    Ok(Created(ProductOut { product: s.engine.create_product(p).await? }))
}

async fn admin_list_products(
    State(s): State<AppState>,
    _: Staff,
    ApiQuery(q): ApiQuery<ProductListQ>,
) -> ApiResult<Json<Page<ProductView>>> {
    Ok(Json(list_products(&s, q, false).await?))
}

async fn admin_get_product(
    State(s): State<AppState>,
    _: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminProductOut>> {
    Ok(Json(AdminProductOut { product: s.engine.product(&id).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportQ {
    /// `borderless` (default) or `shopify`.
    format: Option<String>,
    /// Currency of Shopify prices (default KRW).
    currency: Option<String>,
}

async fn import_products(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<ImportQ>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ImportOut>> {
    let products = match q.format.as_deref().unwrap_or("borderless") {
        "borderless" => catalog_io::csv::read_catalog(&body[..]),
        "shopify" => {
            let cur = domain::Currency::parse(q.currency.as_deref().unwrap_or("KRW"))
                .map_err(|e| ApiError::bad("invalid_query", e.to_string()))?;
            catalog_io::csv::read_shopify(&body[..], cur)
        }
        other => {
            return Err(ApiError::bad(
                "invalid_query",
                format!("`format` must be borderless or shopify, got `{other}`"),
            ))
        }
    }
    .map_err(|e| ApiError::bad("invalid_csv", e.to_string()))?;
    let n = s.engine.upsert_products(products).await?;
    Ok(Json(ImportOut { imported: n }))
}

async fn export_products(State(s): State<AppState>, _: Admin) -> ApiResult<impl IntoResponse> {
    let all = s.engine.all_products().await?;
    let mut buf = Vec::new();
    catalog_io::csv::write_catalog(&mut buf, &all).map_err(|e| ApiError::bad("export_failed", e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"catalog.csv\""),
        ],
        buf,
    ))
}

async fn create_location(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(l): ApiJson<LocationInput>,
) -> ApiResult<Created<LocationOut>> {
    Ok(Created(LocationOut { location: s.engine.create_location(l).await? }))
}

async fn list_locations(State(s): State<AppState>, _: Staff) -> ApiResult<Json<List<LocationView>>> {
    Ok(Json(List { data: s.engine.locations().await? }))
}
