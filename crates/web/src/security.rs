//! What keeps the web pages safe to open on the internet: security headers on every page (a strict
//! Content-Security-Policy with no inline script, no framing, no sniffing), cookies (HttpOnly,
//! SameSite=Strict, Secure behind TLS), the CSRF check every form passes (a per-session token, compared in
//! constant time, plus a same-origin check of `Origin` / `Sec-Fetch-Site`), and per-form idempotency keys.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Scripts and styles come only from this server (`/assets`), images also from `data:` (QR codes) and
/// `blob:` (the camera preview, a 3D model's textures, which the viewer also fetches from `blob:` and
/// `data:` URLs it makes itself); nothing may frame the pages, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob:; connect-src 'self' blob: data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'; manifest-src 'self'";

/// The policy of a product page with a 3D model: the same, except that the vendored viewer may compile
/// WebAssembly (not JavaScript: `'wasm-unsafe-eval'` allows no `eval`) and set inline styles on the elements
/// it draws. Only those pages get it.
pub const CSP_3D: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' blob: data:; font-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'";

/// The policy of a page with the card processor's form (checkout and wallet top-up when cards are set up):
/// the same, plus Stripe's script, its card-field frames and its API — the card is typed into the
/// processor's frame and never reaches this server.
pub const CSP_CARD: &str = "default-src 'none'; script-src 'self' https://js.stripe.com; style-src 'self'; \
     img-src 'self' data: blob: https://*.stripe.com; media-src 'self' blob:; \
     connect-src 'self' https://api.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; \
     font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'";

/// Adds the security headers to every response of the web pages.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    // The till scans codes with the camera; nothing else needs a device.
    set(h, "permissions-policy", "camera=(self), microphone=(), geolocation=(self), payment=()");
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether the request reached us over TLS: the node was told its pages are served over https
/// (`--secure-cookies`), or a proxy it trusts says so in `X-Forwarded-Proto`.
pub fn is_https(headers: &HeaderMap, secure_cookies: bool, peer_trusted: bool) -> bool {
    secure_cookies
        || (peer_trusted
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure when served over TLS; `max_age` in
/// seconds (`Some(0)` deletes it, `None` lasts for the browser session).
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(s) = max_age {
        c.push_str(&format!("; Max-Age={s}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("bl_invalid=; Max-Age=0"))
}

/// Equal without telling by timing how much matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Refuses a form posted from another site: `Sec-Fetch-Site` (every current browser sends it) must be
/// `same-origin` or `none`, and an `Origin` header, when present, must name this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST)) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => {
            let host = host.to_str().unwrap_or("");
            origin.split_once("://").map(|(_, h)| h) == Some(host)
        }
        _ => true,
    }
}

/// A fresh random token (idempotency keys for forms, pre-login CSRF).
pub fn token() -> String {
    domain::ids::random_token(24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("shop.example:8080"));
        assert!(same_origin(&h), "no origin headers: older clients, curl");
        h.insert(header::ORIGIN, HeaderValue::from_static("http://shop.example:8080"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://shop.example:8080"));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }

    #[test]
    fn cookies_are_read_and_written_strictly() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; bl_console=tok; c=3"));
        assert_eq!(cookie(&h, "bl_console").as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
        let c = set_cookie("bl_console", "tok", Some(60), true);
        assert_eq!(c.to_str().unwrap(), "bl_console=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
    }
}
