//! Catalog: the product list with search and paging; a product's form (Korean and English text, category,
//! vendor, status, variants with barcode, weight, options and prices in won and dollars) for creating and
//! editing; and catalog imports (borderless CSV or a Shopify export) with upload progress and every
//! problem listed by line before anything is written.

use super::{engine_error, page, page_status, redirect_with, urlencode, Ctx, Posted, PAGE};
use crate::fmt;
use crate::forms::{self, Field, FormState};
use crate::Web;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use catalog_io::{PriceInput, ProductInput, VariantInput};
use engine::catalog::products::ProductQuery;
use engine::platform::staff::Permission;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/catalog", get(list))
        .route("/console/catalog/new", get(new_product).post(create))
        .route(
            "/console/catalog/import",
            get(import_page).post(import).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        )
        .route("/console/catalog/{id}", get(edit_product).post(save))
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

async fn list(ctx: Ctx, Query(q): Query<ListQ>) -> Response {
    let query = ProductQuery {
        after: Some(q.after.clone()).filter(|a| !a.is_empty()),
        limit: PAGE + 1,
        category: None,
        q: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        only_active: false,
    };
    let mut products = match ctx.engine().list_products(query).await {
        Ok(p) => p,
        Err(e) => return engine_error(&ctx, &e),
    };
    let more = products.len() > PAGE;
    products.truncate(PAGE);
    let form = FormState::default();
    let editable = ctx.may(Permission::Catalog);
    let body = html! {
        h1 { (ctx.t("Catalog", "상품")) }
        div.row {
            form.grow.card method="get" action="/console/catalog" role="search" {
                div.row {
                    div.grow { (Field::new("q", ctx.t("Name, handle or SKU", "상품명·핸들·SKU"), &form, &q.q).kind("search").attrs(&[("data-search", "")]).render(&form)) }
                    div.shrink.field { button type="submit" { (ctx.t("Find", "찾기")) } }
                }
            }
            @if editable {
                div.shrink.actions {
                    a.button href="/console/catalog/new" { (ctx.t("New product", "상품 등록")) }
                    a.button.secondary href="/console/catalog/import" { (ctx.t("Import CSV", "CSV 가져오기")) }
                }
            }
        }
        @if products.is_empty() { p.alert.info { (ctx.t("No products match.", "조건에 맞는 상품이 없습니다.")) } }
        @else { div.table-wrap { table {
            thead { tr { th { (ctx.t("Product", "상품")) } th { (ctx.t("Category", "분류")) } th { (ctx.t("Variants", "옵션")) } th.num { (ctx.t("Price", "가격")) } th { (ctx.t("Status", "상태")) } } }
            tbody { @for p in &products { tr {
                td { a href=(format!("/console/catalog/{}", p.id)) { (ctx.lang.t(&p.title.en, &p.title.ko)) } div.small.muted.mono { (p.handle) } }
                td { (p.category) }
                td.small { @for v in p.variants.iter().take(4) { a.mono href=(format!("/console/inventory/{}", urlencode(&v.sku))) { (v.sku) } " " } @if p.variants.len() > 4 { "…" } }
                td.num { (p.variants.first().and_then(|v| v.prices.iter().find(|x| x.currency == "KRW").or(v.prices.first())).map(|x| fmt::money(x.amount_minor, &x.currency)).unwrap_or_default()) }
                td { (status_pill(&ctx, &p.status)) }
            } } }
        } } }
        @if more { @if let Some(last) = products.last() {
            div.pager { span {} a.button.secondary href=(format!("/console/catalog?q={}&after={}", urlencode(&q.q), last.id)) rel="next" { (ctx.t("Next", "다음")) " »" } }
        } }
    };
    page(&ctx, ctx.t("Catalog", "상품"), body)
}

fn status_pill(ctx: &Ctx, status: &str) -> Markup {
    let (class, en, ko) = match status {
        "active" => ("ok", "On sale", "판매 중"),
        "draft" => ("warn", "Draft", "임시 저장"),
        "archived" => ("bad", "Archived", "보관됨"),
        other => ("", other, other),
    };
    html! { span class=(format!("pill {class}")) { (ctx.t(en, ko)) } }
}

/// Variant rows the form shows: the product's, then blank ones to add.
const BLANK_ROWS: usize = 2;

fn product_form(ctx: &Ctx, id: Option<&str>, form: &FormState, rows: usize) -> Markup {
    let action = match id {
        Some(id) => format!("/console/catalog/{id}"),
        None => "/console/catalog/new".to_owned(),
    };
    let v = |i: usize, f: &str| format!("v{i}_{f}");
    html! {
        (forms::summary(form, ctx.lang))
        form method="post" action=(action) {
            (ctx.csrf_field())
            div.grid {
                div.card {
                    @if id.is_some() {
                        div.field { label for="f-handle" { (ctx.t("Handle", "핸들")) } input #f-handle name="handle" value=(form.value("handle", "")) readonly; }
                    } @else {
                        (Field::new("handle", ctx.t("Handle (the product's address: letters, digits, -)", "핸들(상품 주소: 영문·숫자·-)"), form, "").required().render(form))
                    }
                    (Field::new("title_ko", ctx.t("Name in Korean", "상품명(한국어)"), form, "").required().render(form))
                    (Field::new("title_en", ctx.t("Name in English", "상품명(영어)"), form, "").required().render(form))
                    (Field::new("category", ctx.t("Category", "분류"), form, "").required().render(form))
                    (Field::new("vendor", ctx.t("Brand or vendor", "브랜드·공급사"), form, "").render(form))
                    div.field { label for="f-status" { (ctx.t("Status", "상태")) }
                        select #f-status name="status" {
                            @for (s, en, ko) in [("active", "On sale", "판매 중"), ("draft", "Draft", "임시 저장"), ("archived", "Archived", "보관됨")] {
                                option value=(s) selected[form.value("status", "active") == s] { (ctx.t(en, ko)) }
                            }
                        } }
                }
                div.card {
                    (Field::new("description_ko", ctx.t("Description in Korean", "설명(한국어)"), form, "").kind("textarea").render(form))
                    (Field::new("description_en", ctx.t("Description in English", "설명(영어)"), form, "").kind("textarea").render(form))
                }
            }
            h2 { (ctx.t("Variants", "옵션")) }
            p.small.muted { (ctx.t("Options as name=value pairs separated by ;  e.g. color=black; size=M. Leave a row's SKU empty to skip it.", "옵션은 이름=값을 ;로 구분해 입력합니다. 예: color=black; size=M. SKU가 빈 줄은 저장하지 않습니다.")) }
            div.table-wrap { table {
                thead { tr { th { "SKU" } th { (ctx.t("Barcode (GTIN)", "바코드(GTIN)")) } th { (ctx.t("Weight g", "무게 g")) } th { (ctx.t("Options", "옵션")) } th { (ctx.t("Price ₩", "가격 ₩")) } th { (ctx.t("Price $", "가격 $")) } } }
                tbody { @for i in 0..rows {
                    tr {
                        @for (f, en, ko, mode) in [("sku", "SKU", "SKU", "text"), ("gtin", "Barcode", "바코드", "numeric"), ("weight", "Weight", "무게", "numeric"), ("attrs", "Options", "옵션", "text"), ("krw", "Price KRW", "가격 KRW", "decimal"), ("usd", "Price USD", "가격 USD", "decimal")] {
                            @let name = v(i, f);
                            @let error = form.errors.get(&name);
                            td {
                                label.sr-only for=(format!("f-{name}")) { (ctx.t(en, ko)) " " (i + 1) }
                                input id=(format!("f-{name}")) name=(name) value=(form.value(&name, "")) inputmode=(mode)
                                    aria-invalid=[error.map(|_| "true")] readonly[f == "sku" && id.is_some() && !form.value(&name, "").is_empty() && form.values.contains_key(&format!("{name}_existing"))];
                                @if f == "sku" && form.values.contains_key(&format!("{name}_existing")) { input type="hidden" name=(format!("{name}_existing")) value="1"; }
                                @if let Some(e) = error { div.error role="alert" { (e) } }
                            }
                        }
                    }
                } }
            } }
            input type="hidden" name="rows" value=(rows);
            p { button type="submit" { (ctx.t("Save product", "상품 저장")) } }
        }
    }
}

async fn new_product(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(Permission::Catalog) {
        return r;
    }
    let body = html! {
        p.small { a href="/console/catalog" { "« " (ctx.t("Catalog", "상품")) } }
        h1 { (ctx.t("New product", "상품 등록")) }
        (product_form(&ctx, None, &FormState::default(), 3))
    };
    page(&ctx, ctx.t("New product", "상품 등록"), body)
}

async fn edit_product(ctx: Ctx, Path(id): Path<String>) -> Response {
    let p = match ctx.engine().product(&id).await {
        Ok(p) => p,
        Err(e) => return engine_error(&ctx, &e),
    };
    let mut form = FormState::default();
    let mut set = |k: String, v: String| {
        form.values.insert(k, v);
    };
    set("handle".into(), p.handle.clone());
    set("title_ko".into(), p.title.ko.clone());
    set("title_en".into(), p.title.en.clone());
    set("description_ko".into(), p.description.ko.clone());
    set("description_en".into(), p.description.en.clone());
    set("category".into(), p.category.clone());
    set("vendor".into(), p.vendor.clone());
    set("status".into(), p.status.clone());
    for (i, v) in p.variants.iter().enumerate() {
        set(format!("v{i}_sku"), v.sku.clone());
        set(format!("v{i}_sku_existing"), "1".into());
        set(format!("v{i}_gtin"), v.gtin.clone().unwrap_or_default());
        set(format!("v{i}_weight"), v.weight_g.to_string());
        set(format!("v{i}_attrs"), v.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "));
        for (cur, f) in [("KRW", "krw"), ("USD", "usd")] {
            if let Some(pr) = v.prices.iter().find(|x| x.currency == cur) {
                set(format!("v{i}_{f}"), pr.amount.clone());
            }
        }
    }
    let rows = p.variants.len() + BLANK_ROWS;
    render_edit(&ctx, &p.id, ctx.lang.t(&p.title.en, &p.title.ko), &form, rows, StatusCode::OK)
}

fn render_edit(ctx: &Ctx, id: &str, title: &str, form: &FormState, rows: usize, status: StatusCode) -> Response {
    let editable = ctx.may(Permission::Catalog);
    let body = html! {
        p.small { a href="/console/catalog" { "« " (ctx.t("Catalog", "상품")) } }
        h1 { (title) }
        @if editable {
            p.actions { a.button.secondary href=(format!("/console/catalog/{id}/model")) { (ctx.t("3D model for the shop", "쇼핑몰 3D 모델")) } }
            (product_form(ctx, Some(id), form, rows))
        }
        @else {
            p.alert.info { (ctx.t("Only the owner edits the catalog.", "상품 정보는 점주만 수정할 수 있습니다.")) }
            dl { dt { (ctx.t("Category", "분류")) } dd { (form.value("category", "")) } }
        }
    };
    page_status(ctx, status, title, body)
}

/// Reads the product form into an input, putting each problem at its field.
fn read_product(ctx: &Ctx, form: &mut FormState) -> Option<ProductInput> {
    let rows: usize = form.value("rows", "0").parse().unwrap_or(0).min(200);
    let mut variants = Vec::new();
    for i in 0..rows {
        let values = form.values.clone();
        let get = |f: &str| values.get(&format!("v{i}_{f}")).map(|v| v.trim().to_owned()).unwrap_or_default();
        let sku = get("sku");
        if sku.is_empty() {
            continue;
        }
        let mut attributes = BTreeMap::new();
        for pair in get("attrs").split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    attributes.insert(k.trim().to_owned(), v.trim().to_owned());
                }
                _ => form.error(
                    &format!("v{i}_attrs"),
                    ctx.t(
                        "Write options as name=value; name=value.",
                        "옵션은 이름=값; 이름=값 형식으로 입력해 주세요.",
                    ),
                ),
            }
        }
        let weight = match get("weight").as_str() {
            "" => 0,
            w => w.parse::<i64>().unwrap_or_else(|_| {
                form.error(
                    &format!("v{i}_weight"),
                    ctx.t("Grams as a whole number.", "그램 단위 정수로 입력해 주세요."),
                );
                0
            }),
        };
        let (mut prices, mut typed) = (Vec::new(), false);
        for (cur, f) in [("KRW", "krw"), ("USD", "usd")] {
            let raw = get(f);
            if raw.is_empty() {
                continue;
            }
            typed = true;
            match fmt::parse_money(&raw, cur, ctx.lang) {
                Ok(m) => prices.push(PriceInput { currency: cur.into(), amount_minor: m }),
                Err(e) => form.error(&format!("v{i}_{f}"), e),
            }
        }
        // A price typed but not read keeps its own explanation.
        if !typed {
            form.error(&format!("v{i}_krw"), ctx.t("Give at least one price.", "가격을 하나 이상 입력해 주세요."));
        }
        let gtin = Some(get("gtin")).filter(|g| !g.is_empty());
        variants.push(VariantInput { sku, gtin, weight_g: weight, attributes, prices });
    }
    if variants.is_empty() {
        form.error(
            "v0_sku",
            ctx.t("Add at least one variant with its SKU.", "SKU가 있는 옵션을 하나 이상 입력해 주세요."),
        );
    }
    for (f, en, ko) in [
        ("handle", "Give the product a handle.", "핸들을 입력해 주세요."),
        ("title_ko", "Give the Korean name.", "한국어 상품명을 입력해 주세요."),
        ("title_en", "Give the English name.", "영어 상품명을 입력해 주세요."),
        ("category", "Give a category.", "분류를 입력해 주세요."),
    ] {
        if form.value(f, "").trim().is_empty() {
            form.error(f, ctx.t(en, ko));
        }
    }
    if !form.is_ok() {
        return None;
    }
    Some(ProductInput {
        handle: form.value("handle", "").trim().to_owned(),
        title_ko: form.value("title_ko", "").trim().to_owned(),
        title_en: form.value("title_en", "").trim().to_owned(),
        description_ko: form.value("description_ko", "").trim().to_owned(),
        description_en: form.value("description_en", "").trim().to_owned(),
        category: form.value("category", "").trim().to_owned(),
        vendor: form.value("vendor", "").trim().to_owned(),
        status: Some(form.value("status", "active").to_owned()),
        variants,
    })
}

/// The form fields an engine message about a product names.
fn fields_of(rows: usize) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> =
        ["handle", "title_ko", "title_en", "category", "vendor", "description_ko", "description_en"]
            .iter()
            .map(|n| (n.to_string(), n.to_string()))
            .collect();
    f.push(("sku".into(), "v0_sku".into()));
    f.push(("gtin".into(), "v0_gtin".into()));
    f.truncate(f.len().min(9 + rows));
    f
}

#[derive(Deserialize)]
struct Any {}

async fn create(p: Posted<Any>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Catalog) {
        return r;
    }
    let mut form = p.state();
    let rows: usize = form.value("rows", "3").parse().unwrap_or(3).clamp(1, 200);
    let result = match read_product(ctx, &mut form) {
        Some(input) => Some(ctx.engine().create_product(input).await),
        None => None,
    };
    match result {
        Some(Ok(prod)) => redirect_with(
            ctx,
            &format!("/console/catalog/{}", prod.id),
            true,
            ctx.t("Product created.", "상품을 등록했습니다."),
        ),
        other => {
            if let Some(Err(e)) = other {
                let fields = fields_of(rows);
                let f: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                form.engine_error(&e, ctx.lang, &f);
            }
            let body = html! {
                p.small { a href="/console/catalog" { "« " (ctx.t("Catalog", "상품")) } }
                h1 { (ctx.t("New product", "상품 등록")) }
                (product_form(ctx, None, &form, rows))
            };
            page_status(ctx, StatusCode::UNPROCESSABLE_ENTITY, ctx.t("New product", "상품 등록"), body)
        }
    }
}

async fn save(Path(id): Path<String>, p: Posted<Any>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Catalog) {
        return r;
    }
    let current = match ctx.engine().product(&id).await {
        Ok(c) => c,
        Err(e) => return engine_error(ctx, &e),
    };
    let mut form = p.state();
    // The handle is the product's identity here: never taken from the form.
    form.values.insert("handle".into(), current.handle.clone());
    let rows: usize = form.value("rows", "1").parse().unwrap_or(1).clamp(1, 200);
    let title = ctx.lang.t(&current.title.en, &current.title.ko).to_owned();
    let Some(input) = read_product(ctx, &mut form) else {
        return render_edit(ctx, &id, &title, &form, rows, StatusCode::UNPROCESSABLE_ENTITY);
    };
    match ctx.engine().upsert_products(vec![input]).await {
        Ok(_) => redirect_with(
            ctx,
            &format!("/console/catalog/{id}"),
            true,
            ctx.t(
                "Saved. Shelf labels and search follow within seconds.",
                "저장했습니다. 전자 가격표와 검색에 곧 반영됩니다.",
            ),
        ),
        Err(e) => {
            let fields = fields_of(rows);
            let f: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            form.engine_error(&e, ctx.lang, &f);
            render_edit(ctx, &id, &title, &form, rows, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn import_form(ctx: &Ctx, form: &FormState) -> Markup {
    html! {
        form.card method="post" action="/console/catalog/import" enctype="multipart/form-data" hx-encoding="multipart/form-data" data-progress="import-progress" {
            (ctx.csrf_field())
            div.field { label for="f-format" { (ctx.t("Format", "형식")) }
                select #f-format name="format" {
                    option value="borderless" selected[form.value("format", "") != "shopify"] { (ctx.t("borderless CSV (docs/api.md)", "borderless CSV (docs/api.md)")) }
                    option value="shopify" selected[form.value("format", "") == "shopify"] { (ctx.t("Shopify product export", "Shopify 상품 내보내기")) }
                } }
            div.field { label for="f-import-currency" { (ctx.t("Currency of Shopify prices", "Shopify 가격 통화")) }
                select #f-import-currency name="currency" { option value="KRW" { "KRW" } option value="USD" selected[form.value("currency", "") == "USD"] { "USD" } } }
            div.field { label for="f-file" { (ctx.t("CSV file", "CSV 파일")) } input #f-file type="file" name="file" accept=".csv,text/csv" required; }
            progress #import-progress max="100" value="0" hidden {}
            button type="submit" { span.spinner aria-hidden="true" {} (ctx.t("Check and import", "확인 후 가져오기")) }
        }
    }
}

async fn import_page(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(Permission::Catalog) {
        return r;
    }
    let body = html! {
        p.small { a href="/console/catalog" { "« " (ctx.t("Catalog", "상품")) } }
        h1 { (ctx.t("Import products", "상품 가져오기")) }
        p { (ctx.t("Every line is checked first; if any line has a problem, nothing is imported and each problem is listed with its line.", "모든 줄을 먼저 확인합니다. 문제가 있는 줄이 하나라도 있으면 아무것도 가져오지 않고, 문제를 줄 번호와 함께 보여 줍니다.")) }
        (import_form(&ctx, &FormState::default()))
    };
    page(&ctx, ctx.t("Import products", "상품 가져오기"), body)
}

/// The upload: checked for the session's CSRF token and origin like every form, then read whole, checked
/// line by line, and imported only when no line has a problem.
async fn import(State(web): State<Web>, req: Request) -> Response {
    let (ctx, fields, file) = match super::upload(&web, req, Permission::Catalog, "64 MB").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (format, currency) = (field("format"), field("currency"));
    let mut form = FormState::default();
    form.values.insert("format".into(), format.clone());
    form.values.insert("currency".into(), currency.clone());
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        form.error("file", ctx.t("Choose the CSV file.", "CSV 파일을 선택해 주세요."));
        return import_result(&ctx, &form, &[], None, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let read = if format == "shopify" {
        let cur =
            domain::Currency::parse(if currency == "USD" { "USD" } else { "KRW" }).unwrap_or(domain::Currency::Krw);
        catalog_io::csv::read_shopify_all(&file, cur)
    } else {
        catalog_io::csv::read_catalog_all(&file)
    };
    let rows = match read {
        Ok(r) => r,
        Err(p) => {
            let problems: Vec<engine::catalog::ImportProblem> =
                p.0.iter().map(engine::catalog::ImportProblem::from_csv).collect();
            return import_result(&ctx, &form, &problems, None, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let problems = match ctx.engine().check_import(&rows).await {
        Ok(p) => p,
        Err(e) => return engine_error(&ctx, &e),
    };
    if !problems.is_empty() {
        return import_result(&ctx, &form, &problems, None, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match ctx.engine().upsert_products(rows.into_iter().map(|r| r.product).collect()).await {
        Ok(n) => import_result(&ctx, &FormState::default(), &[], Some(n), StatusCode::OK),
        Err(e) => {
            form.general = Some(forms::explain(&e, ctx.lang));
            import_result(&ctx, &form, &[], None, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn import_result(
    ctx: &Ctx,
    form: &FormState,
    problems: &[engine::catalog::ImportProblem],
    imported: Option<usize>,
    status: StatusCode,
) -> Response {
    let body = html! {
        p.small { a href="/console/catalog" { "« " (ctx.t("Catalog", "상품")) } }
        h1 { (ctx.t("Import products", "상품 가져오기")) }
        @if let Some(n) = imported {
            div.alert.ok role="status" { (ctx.t("Imported", "가져오기 완료:")) " " (n) " " (ctx.t("products.", "개 상품")) " " a href="/console/catalog" { (ctx.t("See the catalog", "상품 목록 보기")) } }
        }
        (forms::summary(form, ctx.lang))
        @if !problems.is_empty() {
            div.alert.bad role="alert" {
                strong { (problems.len()) " " (ctx.t("problems; nothing was imported. Fix them in the file and upload it again:", "개의 문제가 있어 아무것도 가져오지 않았습니다. 파일을 고친 뒤 다시 올려 주세요:")) }
            }
            div.table-wrap { table {
                thead { tr { th.num { (ctx.t("Line", "줄")) } th { (ctx.t("Column", "열")) } th { (ctx.t("Problem", "문제")) } } }
                tbody { @for p in problems.iter().take(500) { tr { td.num { (p.line) } td.mono { (p.column.as_deref().unwrap_or("")) } td { (p.message) } } } }
            } }
        }
        (import_form(ctx, form))
    };
    page_status(ctx, status, ctx.t("Import products", "상품 가져오기"), body)
}
