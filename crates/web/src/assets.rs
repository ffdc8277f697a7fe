//! The static files of the web pages, embedded in the binary: the vendored htmx, uPlot (the analytics
//! charts) and model-viewer, our own scripts and stylesheets, and the licence texts. Each is served under `/assets/{name}` with a content hash in its URL
//! (`?v=…`), so browsers cache it for a year and a new build is fetched at once; gzip when the browser takes
//! it (compressed once, at first use).

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

pub struct Asset {
    pub name: &'static str,
    pub mime: &'static str,
    pub body: &'static [u8],
}

pub const FILES: &[Asset] = &[
    Asset {
        name: "htmx.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/vendor/htmx-2.0.11.min.js"),
    },
    Asset { name: "app.js", mime: "text/javascript; charset=utf-8", body: include_bytes!("../assets/app.js") },
    Asset { name: "app.css", mime: "text/css; charset=utf-8", body: include_bytes!("../assets/app.css") },
    Asset { name: "shop.js", mime: "text/javascript; charset=utf-8", body: include_bytes!("../assets/shop.js") },
    Asset { name: "shop.css", mime: "text/css; charset=utf-8", body: include_bytes!("../assets/shop.css") },
    Asset {
        name: "model-viewer.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/vendor/model-viewer-4.4.0-umd.min.js"),
    },
    Asset {
        name: "uplot.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/vendor/uplot-1.6.32.min.js"),
    },
    Asset {
        name: "uplot.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../assets/vendor/uplot-1.6.32.min.css"),
    },
    Asset {
        name: "analytics.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/analytics.js"),
    },
    Asset { name: "icon.svg", mime: "image/svg+xml", body: include_bytes!("../assets/icon.svg") },
    Asset {
        name: "licenses.txt",
        mime: "text/plain; charset=utf-8",
        body: concat!(
            "borderless embeds these third-party files.\n\n== htmx 2.0.11 (htmx.org) ==\n\n",
            include_str!("../assets/vendor/htmx-LICENSE.txt"),
            "\n\n== uPlot 1.6.32 ==\n\n",
            include_str!("../assets/vendor/uplot-LICENSE.txt"),
            "\n\n== model-viewer 4.4.0 (modelviewer.dev; bundles three.js) ==\n\n",
            include_str!("../assets/vendor/model-viewer-LICENSE.txt")
        )
        .as_bytes(),
    },
];

struct Prepared {
    mime: &'static str,
    body: &'static [u8],
    gzip: Vec<u8>,
    etag: String,
}

fn prepared() -> &'static HashMap<&'static str, Prepared> {
    static P: OnceLock<HashMap<&'static str, Prepared>> = OnceLock::new();
    P.get_or_init(|| {
        FILES
            .iter()
            .map(|a| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                let gzip = gz.write_all(a.body).and_then(|_| gz.finish()).unwrap_or_default();
                let etag = hex::encode(&Sha256::digest(a.body)[..8]);
                (a.name, Prepared { mime: a.mime, body: a.body, gzip, etag })
            })
            .collect()
    })
}

/// The URL of an asset, with its content hash: `/assets/app.css?v=1a2b3c…`.
pub fn url(name: &str) -> String {
    match prepared().get(name) {
        Some(p) => format!("/assets/{name}?v={}", p.etag),
        None => format!("/assets/{name}"),
    }
}

/// Bytes an asset costs over the wire when gzipped (for the script budget test).
pub fn gzipped_len(name: &str) -> Option<usize> {
    prepared().get(name).map(|p| p.gzip.len())
}

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(p) = prepared().get(name.as_str()) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", p.etag);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut res = if gzip && !p.gzip.is_empty() {
        let mut r = p.gzip.clone().into_response();
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        p.body.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(p.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_page_stays_within_the_script_budget() {
        let total: usize = ["htmx.js", "app.js"].iter().map(|n| super::gzipped_len(n).unwrap()).sum();
        assert!(total <= 30 * 1024, "scripts on every page weigh {total} bytes gzipped; the budget is 30 KB");
    }
}
