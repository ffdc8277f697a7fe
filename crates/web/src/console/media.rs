//! A product's 3D model for the shop: what is stored (size, when, the file), uploading a .glb (checked by
//! the engine, the problem explained at the field) and removing it.

use super::{engine_error, page_status, redirect_with, Ctx, Posted};
use crate::forms::FormState;
use crate::Web;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::Permission;
use maud::html;
use serde::Deserialize;

/// Largest upload (the engine takes models up to 8 MB; the form adds a little).
const MAX_MODEL_UPLOAD: usize = (catalog_io::media::MAX_MODEL_BYTES) + (64 << 10);

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route(
            "/console/catalog/{id}/model",
            get(model_page).post(upload).layer(DefaultBodyLimit::max(MAX_MODEL_UPLOAD)),
        )
        .route("/console/catalog/{id}/model/delete", post(remove))
}

async fn render(ctx: &Ctx, id: &str, form: &FormState, status: StatusCode) -> Response {
    let product = match ctx.engine().product(id).await {
        Ok(p) => p,
        Err(e) => return engine_error(ctx, &e),
    };
    let model = match ctx.engine().product_model_info(&product.id).await {
        Ok(m) => m,
        Err(e) => return engine_error(ctx, &e),
    };
    let title = ctx.lang.t(&product.title.en, &product.title.ko).to_owned();
    let editable = ctx.may(Permission::Catalog);
    let body = html! {
        p.small { a href=(format!("/console/catalog/{}", product.id)) { "« " (title) } }
        h1 { (ctx.t("3D model for the shop", "쇼핑몰 3D 모델")) }
        p { (ctx.t("Shoppers turn the model around on the product page and, on phones that support it, place it in their room (AR).",
                   "쇼핑몰 상품 화면에서 고객이 모델을 돌려 보고, 지원하는 휴대폰에서는 내 공간에 놓아 볼 수 있습니다(AR).")) }
        @match &model {
            Some(m) => {
                div.card {
                    p { strong { (ctx.t("Current model", "현재 모델")) } }
                    p { (crate::fmt::int(m.bytes)) " " (ctx.t("bytes", "바이트")) " · " (ctx.when(&m.updated_at)) }
                    p.small.mono { "sha256 " (m.sha256) }
                    p { a href=(m.url) { (ctx.t("Download the file", "파일 내려받기")) } " · "
                        a href=(format!("/p/{}", product.handle)) { (ctx.t("See it in the shop", "쇼핑몰에서 보기")) } }
                    @if editable {
                        form method="post" action=(format!("/console/catalog/{}/model/delete", product.id)) {
                            (ctx.csrf_field())
                            button.danger type="submit" { (ctx.t("Remove the model", "모델 삭제")) }
                        }
                    }
                }
            }
            None => { p.muted { (ctx.t("This product has no 3D model yet.", "이 상품에는 아직 3D 모델이 없습니다.")) } }
        }
        @if editable {
            form.card method="post" action=(format!("/console/catalog/{}/model", product.id)) enctype="multipart/form-data" hx-encoding="multipart/form-data" {
                (ctx.csrf_field())
                (crate::forms::summary(form, ctx.lang))
                div.field.invalid[form.errors.contains_key("file")] {
                    label for="f-file" { (ctx.t("Model file (.glb, glTF 2.0 binary, at most 8 MB)", "모델 파일 (.glb, glTF 2.0 바이너리, 최대 8MB)")) }
                    input #f-file type="file" name="file" accept=".glb,model/gltf-binary" required
                        aria-describedby=[form.errors.get("file").map(|_| "f-file-error")];
                    @if let Some(e) = form.errors.get("file") { div.error #f-file-error role="alert" { (e) } }
                }
                button type="submit" { (ctx.t("Upload", "올리기")) }
            }
        }
    };
    page_status(ctx, status, &title, body)
}

async fn model_page(ctx: Ctx, Path(id): Path<String>) -> Response {
    render(&ctx, &id, &FormState::default(), StatusCode::OK).await
}

async fn upload(State(web): State<Web>, Path(id): Path<String>, req: Request) -> Response {
    let (ctx, _, file) = match super::upload(&web, req, Permission::Catalog, "8 MB").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut form = FormState::default();
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        form.error("file", ctx.t("Choose the .glb file.", ".glb 파일을 선택해 주세요."));
        return render(&ctx, &id, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match ctx.engine().set_product_model(&id, file.to_vec()).await {
        Ok(m) => {
            let to = format!("/console/catalog/{}/model", m.product_id);
            redirect_with(
                &ctx,
                &to,
                true,
                ctx.t(
                    "The 3D model is saved; the shop shows it now.",
                    "3D 모델을 저장했습니다. 쇼핑몰에 바로 보입니다.",
                ),
            )
        }
        Err(e @ engine::EngineError::Invalid { .. }) => {
            form.error("file", crate::forms::explain(&e, ctx.lang));
            render(&ctx, &id, &form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => engine_error(&ctx, &e),
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn remove(Path(id): Path<String>, f: Posted<Nothing>) -> Response {
    let ctx = f.ctx;
    if let Err(r) = ctx.require(Permission::Catalog) {
        return r;
    }
    match ctx.engine().delete_product_model(&id).await {
        Ok(_) => redirect_with(
            &ctx,
            &format!("/console/catalog/{id}/model"),
            true,
            ctx.t("The 3D model is removed.", "3D 모델을 삭제했습니다."),
        ),
        Err(e) => engine_error(&ctx, &e),
    }
}
