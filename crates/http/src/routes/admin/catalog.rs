//! The seller's catalog: products (create, list, import and export as CSV, their 3D models) and locations.

use crate::extract::Path;
use crate::extract::{Admin, ApiJson, ApiQuery, RawBody, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, List, Page};
use crate::routes::store::{list_products, ProductListQ};
use crate::{ApiError, ApiResult, AppState, MAX_IMPORT_BYTES};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use catalog_io::{ProductIn, ProductPatch, VariantPatch};
use engine::catalog::locations::{LocationInput, LocationView};
use engine::catalog::products::ProductView;
use engine::catalog::ImportProblem;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/admin/products")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Create a product with variants, ko/en text and prices (a product as read from the API can be sent back).")
                .json::<ProductIn>()
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
            Op::patch("/admin/products/{id}")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Change a product: only the fields given (text, category, vendor, status, variants by SKU: prices merged by currency, attributes, GTIN, weight; an unknown SKU adds a variant). Search, recommendations and shelf labels follow.")
                .json::<ProductPatch>()
                .ok::<AdminProductOut>()
                .errors(&[409]),
            patch_product,
        )
        .route(
            Op::delete("/admin/products/{id}")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Archive a product: off sale everywhere, its history kept (idempotent).")
                .ok::<AdminProductOut>(),
            archive_product,
        )
        .route(
            Op::put("/admin/products/{id}/model")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Set (or replace) the product's 3D model: one self-contained glTF 2.0 binary (.glb, at most 8 MB), base64-encoded. The storefront shows it in a 3D viewer with AR on phones that support it. 400 `invalid_model` says what is wrong with the file.")
                .json::<ModelIn>()
                .body_limit(12 << 20)
                .ok::<ModelOut>()
                .errors(&[413]),
            put_model,
        )
        .route(
            Op::get("/admin/products/{id}/model")
                .tag("catalog")
                .auth(Auth::Staff)
                .doc("The product's 3D model: size, hash and the URL the storefront serves it at (404 when it has none).")
                .ok::<ModelOut>(),
            get_model,
        )
        .route(
            Op::delete("/admin/products/{id}/model")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Remove the product's 3D model (idempotent).")
                .no_content(),
            delete_model,
        )
        .route(
            Op::patch("/admin/products/{id}/variants/{sku}")
                .tag("catalog")
                .auth(Auth::Admin)
                .doc("Change one variant: prices (merged by currency; `remove_currencies` drops some), attributes, GTIN, weight.")
                .json::<VariantPatch>()
                .ok::<AdminProductOut>()
                .errors(&[409]),
            patch_variant,
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
envelope!(ModelOut { model: engine::catalog::media::ModelView });

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelIn {
    /// The .glb file, base64-encoded (standard alphabet, with padding).
    glb_base64: String,
}

async fn put_model(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ModelIn>,
) -> ApiResult<Json<ModelOut>> {
    use base64::Engine as _;
    let glb = base64::engine::general_purpose::STANDARD
        .decode(b.glb_base64.trim())
        .map_err(|e| ApiError::bad("invalid_model", format!("`glb_base64` is not base64: {e}")))?;
    Ok(Json(ModelOut { model: s.engine.set_product_model(&id, glb).await? }))
}

async fn get_model(State(s): State<AppState>, _: Staff, Path(id): Path<String>) -> ApiResult<Json<ModelOut>> {
    match s.engine.product_model_info(&id).await? {
        Some(model) => Ok(Json(ModelOut { model })),
        None => Err(engine::EngineError::not_found("3D model of product", &id).into()),
    }
}

async fn delete_model(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    s.engine.delete_product_model(&id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
envelope!(LocationOut { location: LocationView });
envelope!(ImportOut {
    /// Products created or updated.
    imported: usize
});

async fn create_product(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(p): ApiJson<ProductIn>,
) -> ApiResult<Created<ProductOut>> {
    let input = p.into_input().map_err(|m| ApiError::bad("invalid_request", m))?;
    Ok(Created(ProductOut { product: s.engine.create_product(input).await? }))
}

async fn patch_product(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<ProductPatch>,
) -> ApiResult<Json<AdminProductOut>> {
    Ok(Json(AdminProductOut { product: s.engine.update_product(&id, p).await? }))
}

async fn archive_product(
    State(s): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminProductOut>> {
    Ok(Json(AdminProductOut { product: s.engine.archive_product(&id).await? }))
}

async fn patch_variant(
    State(s): State<AppState>,
    _: Admin,
    Path((id, sku)): Path<(String, String)>,
    ApiJson(p): ApiJson<VariantPatch>,
) -> ApiResult<Json<AdminProductOut>> {
    Ok(Json(AdminProductOut { product: s.engine.update_variant(&id, &sku, p).await? }))
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
    req: axum::extract::Request,
) -> ApiResult<Json<ImportOut>> {
    let body = csv_upload(req).await?;
    let read = match q.format.as_deref().unwrap_or("borderless") {
        "borderless" => catalog_io::csv::read_catalog_all(&body),
        "shopify" => {
            let cur = domain::Currency::parse(q.currency.as_deref().unwrap_or("KRW"))
                .map_err(|e| ApiError::bad("invalid_query", e.to_string()))?;
            catalog_io::csv::read_shopify_all(&body, cur)
        }
        other => {
            return Err(ApiError::bad(
                "invalid_query",
                format!("`format` must be borderless or shopify, got `{other}`"),
            ))
        }
    };
    let rows = read.map_err(|p| csv_problems(p.0.iter().map(ImportProblem::from_csv).collect()))?;
    let problems = s.engine.check_import(&rows).await?;
    if !problems.is_empty() {
        return Err(csv_problems(problems));
    }
    let n = s.engine.upsert_products(rows.into_iter().map(|r| r.product).collect()).await?;
    Ok(Json(ImportOut { imported: n }))
}

/// The CSV file: the raw body, or the first file of a `multipart/form-data` upload (a browser form).
async fn csv_upload(req: axum::extract::Request) -> ApiResult<axum::body::Bytes> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return RawBody::from_request(req, &()).await.map(|b| b.0);
    }
    let mut form = axum::extract::Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::bad("invalid_request", format!("the upload is not a readable form: {}", e.body_text()))
    })?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad("invalid_request", format!("the upload broke off: {}", e.body_text())))?
    {
        if field.file_name().is_some() || field.name() == Some("file") {
            return field.bytes().await.map_err(|e| {
                ApiError::bad("invalid_request", format!("the file could not be read: {}", e.body_text()))
            });
        }
    }
    Err(ApiError::bad("invalid_request", "the form has no file; attach the CSV as the `file` field"))
}

/// Every problem of an import in one answer: `problems` lists each with its line and column.
fn csv_problems(problems: Vec<ImportProblem>) -> ApiError {
    let message = match problems.as_slice() {
        [] => "the file has problems".to_owned(),
        [one] => format!("line {}: {}", one.line, one.message),
        [first, ..] => format!("{} problems; the first, line {}: {}", problems.len(), first.line, first.message),
    };
    let (line, column) = problems.first().map(|p| (p.line, p.column.clone())).unwrap_or((0, None));
    let mut details = serde_json::Map::new();
    details.insert("line".into(), serde_json::json!(line));
    details.insert("column".into(), serde_json::json!(column));
    details.insert("problems".into(), serde_json::to_value(&problems).unwrap_or_default());
    ApiError::Detailed { status: axum::http::StatusCode::BAD_REQUEST, code: "invalid_csv", message, details }
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
