//! The web faces of borderless, server-rendered from Rust templates (maud) in the same binary and
//! progressively enhanced: the shopper's storefront at `/` and the staff console at `/console` (with a
//! vendored htmx). Pages read and change the shop only through `engine`, like the REST API beside them;
//! this crate owns the HTML, the language of every screen, sessions in cookies, CSRF, and the static assets.

// Handlers answer a refused request with the page that explains it: `Result<_, Response>` is the idiom.
#![allow(clippy::result_large_err)]

pub mod assets;
mod console;
pub mod fmt;
pub mod forms;
pub mod i18n;
pub mod qr;
pub mod security;
mod shop;

use axum::routing::get;
use axum::Router;
use engine::Engine;

/// How the pages are served.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// The pages are reached over https (directly or through a proxy): cookies get `Secure`.
    pub secure_cookies: bool,
    /// The card processor's publishable key: with it (and a configured gateway) checkout and wallet top-ups
    /// offer cards through the processor's own card form.
    pub card_publishable_key: Option<String>,
}

#[derive(Clone)]
pub(crate) struct Web {
    pub engine: Engine,
    pub cfg: std::sync::Arc<WebConfig>,
}

/// Largest form body (CSV imports have their own limit).
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// Largest catalog file uploaded through the console.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;

/// The routes of the web pages, to merge beside the API's.
pub fn router(engine: Engine, cfg: WebConfig) -> Router {
    let web = Web { engine, cfg: std::sync::Arc::new(cfg) };
    Router::new()
        .route("/assets/{name}", get(assets::serve))
        .merge(shop::router())
        .merge(console::router())
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(web)
}
