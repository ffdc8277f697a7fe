//! What search engines fetch besides the pages: `robots.txt` (personal pages kept out) and `sitemap.xml`
//! (the browsing pages, each category and active product, each in Korean and English with its alternates).

use super::{base_url, urlencode};
use crate::i18n::Lang;
use crate::Web;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub(super) async fn robots(headers: HeaderMap, State(web): State<Web>) -> Response {
    let base = base_url(&headers, web.cfg.secure_cookies);
    let body = format!(
        "User-agent: *\nDisallow: /cart\nDisallow: /checkout\nDisallow: /account\nDisallow: /orders/\nDisallow: /console\n\
         Disallow: /admin/\nDisallow: /store/\nSitemap: {base}/sitemap.xml\n"
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Every active product and the browsing pages, each with its Korean and English URL.
pub(super) async fn sitemap(headers: HeaderMap, State(web): State<Web>) -> Response {
    let base = base_url(&headers, web.cfg.secure_cookies);
    let products = match web.engine.all_products().await {
        Ok(p) => p,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let mut add = |path: &str, lastmod: Option<&str>| {
        for lang in [Lang::Ko, Lang::En] {
            xml.push_str("<url><loc>");
            xml.push_str(&crate::forms::html_escape(&super::frame::lang_url(&base, path, lang)));
            xml.push_str("</loc>");
            if let Some(m) = lastmod {
                xml.push_str(&format!("<lastmod>{}</lastmod>", crate::forms::html_escape(m)));
            }
            for alt in [Lang::Ko, Lang::En] {
                xml.push_str(&format!(
                    "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                    alt.code(),
                    crate::forms::html_escape(&super::frame::lang_url(&base, path, alt))
                ));
            }
            xml.push_str("</url>\n");
        }
    };
    add("/", None);
    add("/stores", None);
    let mut categories: Vec<&str> =
        products.iter().filter(|p| p.status == "active").map(|p| p.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    for c in categories {
        add(&format!("/search?category={}", urlencode(c)), None);
    }
    // One sitemap file holds at most 50,000 URLs: two per product (ko, en) after the browsing pages.
    for p in products.iter().filter(|p| p.status == "active").take(24_000) {
        add(&format!("/p/{}", p.handle), Some(&p.updated_at));
    }
    xml.push_str("</urlset>\n");
    let mut res = ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}
