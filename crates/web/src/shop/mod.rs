//! The shopper's storefront at `/`: who is visiting (`Visitor`: language, currency, the signed-in shopper,
//! the cart, the chosen store, analytics consent, all from cookies), the page frame with what search engines
//! and link previews read (titles, descriptions, canonical and `hreflang` URLs, Open Graph, schema.org data),
//! forms that must carry the visitor's CSRF token (`ShopForm`), and the screens: browsing (`browse`), the
//! cart, checkout and order pages (`buy`), and the account with its wallet and payment QR (`account`).
//! Every page works without JavaScript; `shop.js` adds live touches.

mod account;
mod browse;
mod buy;
mod chat;
mod frame;
mod seo;
mod signin;

pub(crate) use frame::{engine_problem, page, problem, shopper_sentence, Meta};

use crate::i18n::{Lang, LANG_COOKIE};
use crate::{assets, security, Web};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use engine::catalog::locations::LocationView;
use engine::catalog::products::Localized;
use maud::{html, Markup, DOCTYPE};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The shopper's session (a customer session token, as the API's bearer token).
pub(crate) const SESSION_COOKIE: &str = "bl_shop";
const CART_COOKIE: &str = "bl_cart";
const CSRF_COOKIE: &str = "bl_csrf";
const CURRENCY_COOKIE: &str = "bl_cur";
const STORE_COOKIE: &str = "bl_store";
const CONSENT_COOKIE: &str = "bl_consent";
/// A random id tying a consenting visitor's views and searches together (set only after consent).
const SID_COOKIE: &str = "bl_sid";
const FLASH_COOKIE: &str = "bl_sflash";
/// Currencies a shopper may choose to see prices in (products priced only in won show won).
pub(crate) const CURRENCIES: &[&str] = &["KRW", "USD"];
/// How long the shopper stays signed in, as the engine's sessions.
const SESSION_DAYS: i64 = 14;

pub(crate) fn router() -> Router<Web> {
    Router::new()
        .route("/robots.txt", get(seo::robots))
        .route("/sitemap.xml", get(seo::sitemap))
        .route("/consent", post(consent))
        .route("/store-choice", post(choose_store))
        .merge(browse::router())
        .merge(buy::router())
        .merge(account::router())
        .merge(signin::router())
        .merge(chat::router())
        // A mistyped page address under the shop's own paths gets a page, not the API's JSON 404.
        .route("/account/{*rest}", get(missing_page))
        .route("/stores/{*rest}", get(missing_page))
        .route("/assistant/{*rest}", get(missing_page))
}

async fn missing_page(v: Visitor) -> Response {
    frame::problem(
        &v,
        StatusCode::NOT_FOUND,
        v.t(
            "There is no such page. Go to the home page, or search for what you were looking for.",
            "없는 페이지입니다. 홈으로 가거나 찾으시는 상품을 검색해 보세요.",
        ),
    )
}

/// Who is visiting and what every storefront page needs to draw itself.
pub(crate) struct Visitor {
    pub lang: Lang,
    pub currency: String,
    /// The signed-in shopper's customer id and session token.
    pub customer: Option<(String, String)>,
    pub cart_id: Option<String>,
    /// The store the shopper picks up from (chosen, else none).
    pub store: Option<String>,
    /// `Some(true)` allowed, `Some(false)` declined, `None` not asked yet.
    pub consent: Option<bool>,
    pub sid: Option<String>,
    /// `mobile` or `desktop`, from the browser's User-Agent (for the analytics of the web funnel).
    pub device: &'static str,
    pub csrf: String,
    /// Path and query of this request (for language links and `next`).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub base: String,
    pub locations: Vec<LocationView>,
    pub now: i64,
    pub flash: Option<(bool, String)>,
    pub secure: bool,
    pub web: Web,
    /// Cookies this response must set (a fresh CSRF token, a language or currency chosen by link).
    cookies: Vec<HeaderValue>,
}

impl Visitor {
    pub fn t<'a>(&self, en: &'a str, ko: &'a str) -> &'a str {
        self.lang.t(en, ko)
    }
    pub fn l<'a>(&self, text: &'a Localized) -> &'a str {
        let s = self.lang.t(&text.en, &text.ko);
        if s.is_empty() {
            self.lang.other().t(&text.en, &text.ko)
        } else {
            s
        }
    }
    pub fn engine(&self) -> &engine::Engine {
        &self.web.engine
    }
    /// The card processor's publishable key when cards can be taken here (a gateway configured and the key
    /// given): pages then show the processor's card form.
    pub fn card_key(&self) -> Option<&str> {
        self.web.cfg.card_publishable_key.as_deref().filter(|_| self.engine().card_gateway().is_some())
    }
    /// The processor's card form: its fields load from the processor (the card never reaches this server)
    /// and turn into a token in `card_token` when the form is sent. Needs JavaScript; says so without it.
    pub fn card_form(&self, key: &str, form: &crate::forms::FormState) -> Markup {
        let error = form.errors.get("card");
        html! {
            div.field.invalid[error.is_some()] {
                label for="card-element" { (self.t("Card", "카드")) }
                div #card-element .card-field data-card-key=(key)
                    data-unavailable=(self.t("The card form could not be loaded. Choose another way to pay or try again later.",
                                             "카드 입력 화면을 불러오지 못했습니다. 다른 결제 수단을 고르거나 잠시 후 다시 시도해 주세요.")) {}
                input type="hidden" name="card_token" value="";
                div #card-errors .error role="alert" { @if let Some(e) = error { (e) } }
                noscript { p.small { (self.t("Paying by card needs JavaScript (the card form is the card processor's own).",
                                             "카드 결제에는 JavaScript가 필요합니다(카드 입력은 카드사 결제 화면에서 합니다).")) } }
            }
        }
    }
    /// A query parameter of this request (trimmed; none when empty).
    pub fn param(&self, k: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == k).map(|(_, x)| x.trim()).filter(|x| !x.is_empty())
    }
    pub fn customer_id(&self) -> Option<&str> {
        self.customer.as_ref().map(|(id, _)| id.as_str())
    }
    pub fn location(&self, id: &str) -> Option<&LocationView> {
        self.locations.iter().find(|l| l.id == id || l.code.eq_ignore_ascii_case(id))
    }
    pub fn location_name(&self, id: &str) -> String {
        self.location(id).map(|l| self.l(&l.name).to_owned()).unwrap_or_else(|| id.to_owned())
    }
    /// Stores a shopper can collect from.
    pub fn pickup_stores(&self) -> impl Iterator<Item = &LocationView> {
        self.locations.iter().filter(|l| l.pickup_enabled)
    }
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="_csrf" value=(self.csrf); }
    }
    /// A fresh idempotency key for a form that moves stock or money (a double submit does it once).
    pub fn once_field(&self) -> Markup {
        html! { input type="hidden" name="_once" value=(security::token()); }
    }
    pub fn set_cookie(&mut self, name: &str, value: &str, max_age: Option<i64>) {
        self.cookies.push(lax_cookie(name, value, max_age, self.secure));
    }
    pub fn when(&self, rfc3339: &str) -> String {
        let tz = crate::fmt::zone(engine::catalog::locations::DEFAULT_TIME_ZONE);
        crate::fmt::instant(rfc3339, &tz, self.lang, self.now)
    }
    /// This page's URL with one query parameter set (or removed when `value` is empty), the rest kept.
    pub fn with_param(&self, key: &str, value: &str) -> String {
        let mut q: Vec<(String, String)> =
            self.query.iter().filter(|(k, _)| k != key && k != "page").cloned().collect();
        if !value.is_empty() {
            q.push((key.to_owned(), value.to_owned()));
        }
        with_query(&self.path, &q)
    }
    /// Appends this response's cookies (and clears a shown flash message).
    pub fn finish(&self, mut res: Response) -> Response {
        let h = res.headers_mut();
        for c in &self.cookies {
            h.append(header::SET_COOKIE, c.clone());
        }
        if self.flash.is_some() {
            h.append(header::SET_COOKIE, lax_cookie(FLASH_COOKIE, "", Some(0), self.secure));
        }
        res
    }
    /// Records what a consenting shopper did (views, searches, cart adds) in the interaction log; nothing
    /// is stored without consent. Failures are logged, never shown: browsing must not break on them.
    pub async fn record(&self, kind: &str, product_id: Option<&str>, query: Option<&str>) {
        if self.consent != Some(true) {
            return;
        }
        let event = engine::discovery::recommendations::ShopperEvent {
            kind: kind.to_owned(),
            product_id: product_id.map(str::to_owned),
            query: query.map(str::to_owned),
            location_id: self.store.clone(),
            device: Some(self.device.to_owned()),
        };
        let customer = self.customer_id().map(str::to_owned);
        if customer.is_none() && self.sid.is_none() {
            return;
        }
        if let Err(e) = self.engine().record_shopper_events(vec![event], customer, self.sid.clone()).await {
            tracing::debug!(error = %e, "storefront event not recorded");
        }
    }
}

/// A phone or tablet browser says so in its User-Agent (`Mobile`, `Android`, `iPhone`, `iPad`).
fn device_of(headers: &axum::http::HeaderMap) -> &'static str {
    let ua = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ["Mobile", "Android", "iPhone", "iPad"].iter().any(|m| ua.contains(m)) {
        "mobile"
    } else {
        "desktop"
    }
}

impl Visitor {
    /// Records a cart add or an opened checkout for analytics only, with consent (the cart logs its adds
    /// for recommendations itself). Failures are logged, never shown.
    pub async fn record_analytics(&self, kind: &str, sku: Option<&str>) {
        if self.consent != Some(true) || (self.customer_id().is_none() && self.sid.is_none()) {
            return;
        }
        let r = self
            .engine()
            .record_web_analytics(
                kind,
                sku.map(str::to_owned),
                self.store.clone(),
                Some(self.device.to_owned()),
                self.customer_id().map(str::to_owned),
                self.sid.clone(),
            )
            .await;
        if let Err(e) = r {
            tracing::debug!(error = %e, "storefront analytics event not recorded");
        }
    }
}

/// A page with the card processor's form gets the policy that lets it load.
pub(crate) fn card_policy(v: &Visitor, mut res: Response) -> Response {
    if v.card_key().is_some() {
        res.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(crate::security::CSP_CARD),
        );
    }
    res
}

/// A storefront cookie: HttpOnly and Secure behind TLS like the console's, but `SameSite=Lax` so a shopper
/// arriving from a search engine or a shared link is still signed in and keeps the cart (forms are
/// protected by the CSRF token and the same-origin check, not by the cookie's site rule).
fn lax_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(s) = max_age {
        c.push_str(&format!("; Max-Age={s}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("bl_invalid=; Max-Age=0"))
}

/// `path?k=v&…` with values %-encoded.
pub(crate) fn with_query(path: &str, q: &[(String, String)]) -> String {
    if q.is_empty() {
        return path.to_owned();
    }
    let qs: Vec<String> = q.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect();
    format!("{path}?{}", qs.join("&"))
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn cookie_id(headers: &HeaderMap, name: &str) -> Option<String> {
    security::cookie(headers, name).filter(|v| {
        !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// The site's own origin for absolute URLs (canonical links, the sitemap): the `Host` the browser used,
/// when it is a plain host name, else localhost.
pub(super) fn base_url(headers: &HeaderMap, secure: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)))
        .unwrap_or("localhost");
    format!("{}://{host}", if secure { "https" } else { "http" })
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let query: Vec<(String, String)> =
            parts.uri.query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let peer_trusted = parts
            .extensions
            .get::<axum::extract::ConnectInfo<http_api::PeerAddr>>()
            .is_some_and(|c| http_api::clients::trusted(c.0 .0.ip()));
        let secure = security::is_https(headers, web.cfg.secure_cookies, peer_trusted);
        let mut cookies = Vec::new();

        let chosen_lang = param("lang").and_then(Lang::parse);
        let lang = chosen_lang.unwrap_or_else(|| Lang::from_headers(headers));
        if let Some(l) = chosen_lang {
            if security::cookie(headers, LANG_COOKIE).as_deref() != Some(l.code()) {
                cookies.push(lax_cookie(LANG_COOKIE, l.code(), Some(365 * 86400), secure));
            }
        }
        let chosen_cur = param("currency").map(str::to_ascii_uppercase).filter(|c| CURRENCIES.contains(&c.as_str()));
        let currency = chosen_cur
            .clone()
            .or_else(|| security::cookie(headers, CURRENCY_COOKIE).filter(|c| CURRENCIES.contains(&c.as_str())))
            .unwrap_or_else(|| "KRW".to_owned());
        if let Some(c) = chosen_cur {
            cookies.push(lax_cookie(CURRENCY_COOKIE, &c, Some(365 * 86400), secure));
        }
        let customer = match cookie_id(headers, SESSION_COOKIE) {
            Some(token) => match web.engine.session_customer(&token).await {
                Ok(Some(id)) => Some((id, token)),
                Ok(None) => {
                    cookies.push(lax_cookie(SESSION_COOKIE, "", Some(0), secure));
                    None
                }
                Err(e) => return Err(error_page(lang, &e)),
            },
            None => None,
        };
        let csrf = match security::cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 48) {
            Some(c) => c,
            None => {
                let c = security::token();
                cookies.push(lax_cookie(CSRF_COOKIE, &c, None, secure));
                c
            }
        };
        let consent = match security::cookie(headers, CONSENT_COOKIE).as_deref() {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        };
        let locations = web.engine.locations().await.map_err(|e| error_page(lang, &e))?;
        let store =
            cookie_id(headers, STORE_COOKIE).filter(|s| locations.iter().any(|l| &l.id == s && l.pickup_enabled));
        let flash = security::cookie(headers, FLASH_COOKIE).and_then(|v| {
            let (ok, text) = v.split_at_checked(1)?;
            Some((ok == "1", String::from_utf8(hex::decode(text).ok()?).ok()?))
        });
        Ok(Visitor {
            lang,
            currency,
            customer,
            cart_id: cookie_id(headers, CART_COOKIE),
            store,
            consent,
            sid: cookie_id(headers, SID_COOKIE),
            device: device_of(headers),
            csrf,
            path: parts.uri.path().to_owned(),
            query,
            base: base_url(headers, secure),
            locations,
            now: web.engine.now(),
            flash,
            secure,
            web: web.clone(),
            cookies,
        })
    }
}

/// A form posted to the storefront: same origin, the visitor's CSRF token, at most
/// [`crate::MAX_FORM_BYTES`]. `raw` keeps every pair (to show the form again as typed).
pub(crate) struct ShopForm<T> {
    pub v: Visitor,
    pub form: T,
    pub raw: Vec<(String, String)>,
}

impl<T> ShopForm<T> {
    pub fn state(&self) -> crate::forms::FormState {
        crate::forms::FormState::from_values(&self.raw)
    }
    pub fn once(&self) -> Option<String> {
        self.raw.iter().find(|(k, _)| k == "_once").map(|(_, v)| v.clone()).filter(|v| !v.is_empty() && v.len() <= 64)
    }
}

impl<T: DeserializeOwned + Send> FromRequest<Web> for ShopForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, web: &Web) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let v = Visitor::from_request_parts(&mut parts, web).await?;
        let expired = |v: &Visitor| {
            problem(
                v,
                StatusCode::FORBIDDEN,
                v.t(
                    "This page had expired, so nothing was done. Go back, reload the page and try again.",
                    "화면이 만료되어 처리하지 않았습니다. 뒤로 가서 페이지를 새로 고친 뒤 다시 시도해 주세요.",
                ),
            )
        };
        if !security::same_origin(&parts.headers) {
            return Err(expired(&v));
        }
        let bytes = match axum::body::to_bytes(body, crate::MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return Err(problem(
                    &v,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    v.t(
                        "The form is too large. Shorten the text and try again.",
                        "입력한 내용이 너무 깁니다. 줄여서 다시 보내 주세요.",
                    ),
                ))
            }
        };
        let raw: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        // Control and invisible characters are refused; everything else is read in NFC.
        let raw: Option<Vec<(String, String)>> =
            raw.into_iter().map(|(k, val)| Some((k, domain::text::clean(&val, false).ok()?.into_owned()))).collect();
        let Some(raw) = raw else {
            return Err(problem(
                &v,
                StatusCode::BAD_REQUEST,
                v.t(
                    "Some text contains characters we cannot accept (control or invisible characters). Retype it and try again.",
                    "입력에 받을 수 없는 문자(제어 문자나 보이지 않는 문자)가 있습니다. 다시 입력해 주세요.",
                ),
            ));
        };
        let sent = raw.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        // A visitor whose token cookie was just minted (first request) cannot have a matching form.
        let had_cookie = security::cookie(&parts.headers, CSRF_COOKIE).is_some_and(|c| c.len() == 48);
        if !had_cookie || !security::same_secret(sent, &v.csrf) {
            return Err(expired(&v));
        }
        let encoded = serde_urlencoded::to_string(&raw).unwrap_or_default();
        let form: T = match serde_urlencoded::from_str(&encoded) {
            Ok(f) => f,
            Err(_) => {
                return Err(problem(
                    &v,
                    StatusCode::BAD_REQUEST,
                    v.t(
                        "Some fields are missing or malformed. Go back and check the form.",
                        "빠졌거나 형식이 맞지 않는 항목이 있습니다. 뒤로 가서 확인해 주세요.",
                    ),
                ))
            }
        };
        Ok(ShopForm { v, form, raw })
    }
}

/// A redirect after a form (303), with a message shown once on the next page.
pub(crate) fn redirect_with(v: &Visitor, to: &str, message: Option<(bool, &str)>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(val) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, val);
    }
    if let Some((ok, text)) = message {
        let value =
            format!("{}{}", if ok { "1" } else { "0" }, hex::encode(text.chars().take(300).collect::<String>()));
        r.headers_mut().append(header::SET_COOKIE, lax_cookie(FLASH_COOKIE, &value, Some(60), v.secure));
    }
    for c in &v.cookies {
        r.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    r
}

/// Only paths of this site may be a `next` (no open redirects).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://")
                && n.len() <= 500 =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A price in the reader's format.
pub(crate) fn price(p: &engine::catalog::products::PriceView) -> String {
    crate::fmt::money(p.amount_minor, &p.currency)
}

/// The variant's price in the visitor's currency, else in won (the catalog's base currency).
pub(crate) fn variant_price<'a>(
    v: &Visitor,
    variant: &'a catalog_io::VariantView,
) -> Option<&'a engine::catalog::products::PriceView> {
    variant
        .prices
        .iter()
        .find(|p| p.currency == v.currency)
        .or_else(|| variant.prices.iter().find(|p| p.currency == "KRW"))
}

/// A category path (`electronics/audio`) as a shopper reads it.
pub(crate) fn category_name(path: &str, lang: Lang) -> String {
    let leaf = path.rsplit('/').next().unwrap_or(path);
    let known: &[(&str, &str, &str)] = &[
        ("apparel", "Clothing", "의류"),
        ("bottoms", "Trousers and jeans", "바지·청바지"),
        ("outerwear", "Outerwear", "아우터"),
        ("shoes", "Shoes", "신발"),
        ("tops", "Tops", "상의"),
        ("electronics", "Electronics", "전자제품"),
        ("accessories", "Accessories", "액세서리"),
        ("audio", "Audio", "음향기기"),
        ("home", "Home appliances", "생활가전"),
        ("phones", "Phones", "휴대폰"),
        ("grocery", "Groceries", "식품·생활"),
        ("beverages", "Drinks", "음료"),
        ("fresh", "Fresh food", "신선식품"),
        ("household", "Household", "생활용품"),
        ("ramen", "Ramen", "라면"),
        ("snacks", "Snacks", "과자·간식"),
    ];
    match known.iter().find(|(k, _, _)| *k == leaf) {
        Some((_, en, ko)) => lang.t(en, ko).to_owned(),
        None => {
            let mut s = leaf.replace(['-', '_'], " ");
            if let Some(f) = s.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            s
        }
    }
}

#[derive(Deserialize)]
struct ConsentIn {
    choice: String,
    #[serde(default)]
    next: String,
}

/// The shopper's answer to the analytics question (banner or privacy page).
async fn consent(f: ShopForm<ConsentIn>) -> Response {
    let mut v = f.v;
    let yes = f.form.choice == "yes";
    v.set_cookie(CONSENT_COOKIE, if yes { "1" } else { "0" }, Some(365 * 86400));
    // A signed-in shopper's answer is also their account's: whether they are recognised across web, stores
    // and cashierless visits in analytics (declining erases what was recorded).
    if let Some(c) = v.customer_id().map(str::to_owned) {
        match v.engine().analytics_profile(c.clone()).await {
            Ok(mut p) if p.consent != yes => {
                p.consent = yes;
                if let Err(e) = v.engine().set_analytics_profile(c, p).await {
                    tracing::warn!(error = %e, "storefront: saving the analytics consent failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "storefront: reading the analytics consent failed"),
        }
    }
    if yes {
        if v.sid.is_none() {
            v.set_cookie(SID_COOKIE, &domain::ids::new_id("sess"), Some(365 * 86400));
        }
    } else {
        v.set_cookie(SID_COOKIE, "", Some(0));
    }
    let text = if yes {
        v.t(
            "Thank you. What you view and search here now improves your recommendations.",
            "감사합니다. 이제부터 보고 검색한 기록이 추천에 반영됩니다.",
        )
    } else {
        v.t(
            "Understood: nothing you view or search here is recorded.",
            "알겠습니다. 보고 검색한 기록을 저장하지 않습니다.",
        )
    };
    redirect_with(&v, &safe_next(Some(&f.form.next)), Some((true, text)))
}

#[derive(Deserialize)]
struct StoreIn {
    #[serde(default)]
    store: String,
    #[serde(default)]
    next: String,
}

/// The store a shopper picks up from (remembered for search filters, the home page and the cart).
async fn choose_store(f: ShopForm<StoreIn>) -> Response {
    let mut v = f.v;
    let next = safe_next(Some(&f.form.next));
    if f.form.store.is_empty() {
        v.set_cookie(STORE_COOKIE, "", Some(0));
        return redirect_with(&v, &next, None);
    }
    let Some(store) = v.pickup_stores().find(|l| l.id == f.form.store).map(|l| (l.id.clone(), v.l(&l.name).to_owned()))
    else {
        return problem(&v, StatusCode::BAD_REQUEST, v.t("Choose one of our stores.", "매장 목록에서 골라 주세요."));
    };
    v.set_cookie(STORE_COOKIE, &store.0, Some(365 * 86400));
    let text = match v.lang {
        Lang::Ko => format!("{}을(를) 내 매장으로 정했습니다.", store.1),
        Lang::En => format!("{} is now your store.", store.1),
    };
    redirect_with(&v, &next, Some((true, &text)))
}

/// A form to choose the visitor's store (`next` is where to come back).
pub(crate) fn store_picker(v: &Visitor, next: &str) -> Markup {
    html! {
        form.store-picker method="post" action="/store-choice" {
            (v.csrf_field())
            input type="hidden" name="next" value=(next);
            label for="store-pick" { (v.t("My store for pickup", "픽업할 내 매장")) }
            div.row {
                select #store-pick name="store" {
                    option value="" { (v.t("Not chosen", "선택 안 함")) }
                    @for l in v.pickup_stores() {
                        option value=(l.id) selected[v.store.as_deref() == Some(l.id.as_str())] { (v.l(&l.name)) }
                    }
                }
                button.secondary.shrink type="submit" { (v.t("Save", "저장")) }
            }
        }
    }
}

/// A page answering before the visitor could be read (the database is away).
fn error_page(lang: Lang, e: &engine::EngineError) -> Response {
    let text = crate::forms::explain(e, lang);
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "borderless" }
                   link rel="stylesheet" href=(assets::url("app.css")); }
            body { main #main { div.alert.bad role="alert" { (text) } p { a href="/" { (lang.t("Try again", "다시 시도")) } } } }
        }
    };
    (StatusCode::SERVICE_UNAVAILABLE, markup).into_response()
}
