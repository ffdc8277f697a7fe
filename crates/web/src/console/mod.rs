//! The staff console at `/console`: who is signed in (`Ctx`, from the session cookie), the page frame
//! (navigation by role, language switch, flash messages), forms that must carry the session's CSRF token
//! (`Posted`), and the screens, one module each.

mod analytics;
mod auth;
mod catalog;
mod chats;
mod customers;
mod inventory;
mod live;
mod mail;
mod media;
mod orders;
mod pickup;
mod segments;
mod settings;
mod till;
mod today;

use crate::forms::FormState;
use crate::i18n::Lang;
use crate::security;
use crate::{assets, Web};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use engine::catalog::locations::LocationView;
use engine::platform::staff::{Permission, StaffView};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::de::DeserializeOwned;

pub(crate) const SESSION_COOKIE: &str = "bl_console";
const FLASH_COOKIE: &str = "bl_flash";
/// Rows per page on list screens.
pub(crate) const PAGE: usize = 50;

pub(crate) fn router() -> Router<Web> {
    Router::new()
        // A mistyped console address gets a console page, not the API's JSON 404.
        .route("/console/{*rest}", axum::routing::get(missing_page))
        .merge(auth::router())
        .merge(today::router())
        .merge(analytics::router())
        .merge(segments::router())
        .merge(orders::router())
        .merge(pickup::router())
        .merge(till::router())
        .merge(inventory::router())
        .merge(catalog::router())
        .merge(media::router())
        .merge(customers::router())
        .merge(chats::router())
        .merge(mail::router())
        .merge(live::router())
        .merge(settings::router())
}

/// The signed-in staff member and what every console page needs to draw itself.
pub(crate) struct Ctx {
    pub lang: Lang,
    pub staff: StaffView,
    pub csrf: String,
    pub path: String,
    pub locations: Vec<LocationView>,
    pub now: i64,
    pub flash: Option<(bool, String)>,
    pub secure: bool,
    pub web: Web,
}

impl Ctx {
    pub fn t<'a>(&self, en: &'a str, ko: &'a str) -> &'a str {
        self.lang.t(en, ko)
    }
    pub fn may(&self, p: Permission) -> bool {
        self.staff.may(p)
    }
    /// The page refusing the action, when the role may not do it.
    pub fn require(&self, p: Permission) -> Result<(), Response> {
        if self.may(p) {
            Ok(())
        } else {
            Err(forbidden(self))
        }
    }
    pub fn engine(&self) -> &engine::Engine {
        &self.web.engine
    }
    /// The staff member's own location (none for owners).
    pub fn home(&self) -> Option<&LocationView> {
        self.staff.location_id.as_deref().and_then(|id| self.location(id))
    }
    pub fn location(&self, id: &str) -> Option<&LocationView> {
        self.locations.iter().find(|l| l.id == id || l.code.eq_ignore_ascii_case(id))
    }
    /// A location's name in the reader's language (its id when unknown).
    pub fn location_name(&self, id: &str) -> String {
        match self.location(id) {
            Some(l) => self.lang.t(&l.name.en, &l.name.ko).to_owned(),
            None => id.to_owned(),
        }
    }
    /// The time zone screens show times in: the staff member's location's, else the first store's.
    pub fn tz(&self) -> jiff::tz::TimeZone {
        let name = self
            .home()
            .or_else(|| self.locations.iter().find(|l| l.kind != "warehouse"))
            .map(|l| l.time_zone.as_str())
            .unwrap_or(engine::catalog::locations::DEFAULT_TIME_ZONE);
        crate::fmt::zone(name)
    }
    pub fn when(&self, rfc3339: &str) -> String {
        crate::fmt::instant(rfc3339, &self.tz(), self.lang, self.now)
    }
    /// The location a list is narrowed to: a non-owner always sees their own; an owner what they chose.
    pub fn scope(&self, chosen: Option<&str>) -> Option<String> {
        match &self.staff.location_id {
            Some(own) if self.staff.role != engine::platform::staff::StaffRole::Owner => Some(own.clone()),
            _ => chosen.filter(|c| !c.is_empty()).and_then(|c| self.location(c)).map(|l| l.id.clone()),
        }
    }
    /// The hidden field every form carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="_csrf" value=(self.csrf); }
    }
    /// A fresh idempotency key for a form that moves stock or money (a double submit does it once).
    pub fn once_field(&self, form: &FormState) -> Markup {
        let key = form.values.get("_once").cloned().unwrap_or_else(security::token);
        html! { input type="hidden" name="_once" value=(key); }
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    security::cookie(headers, SESSION_COOKIE).filter(|t| t.len() <= 200)
}

impl FromRequestParts<Web> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console");
            let url = format!("/console/login?next={}", urlencode(next));
            redirect(&url)
        };
        let Some(token) = session_token(&parts.headers) else { return Err(to_login()) };
        let session = match web.engine.staff_session(&token).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_login()),
            Err(e) => return Err(plain_error(Lang::from_headers(&parts.headers), &e)),
        };
        let locations =
            web.engine.locations().await.map_err(|e| plain_error(Lang::from_headers(&parts.headers), &e))?;
        let lang = Lang::parse(&session.staff.locale).unwrap_or(Lang::Ko);
        let flash = security::cookie(&parts.headers, FLASH_COOKIE).and_then(|v| decode_flash(&v));
        let peer_trusted = parts
            .extensions
            .get::<axum::extract::ConnectInfo<http_api::PeerAddr>>()
            .is_some_and(|c| http_api::clients::trusted(c.0 .0.ip()));
        Ok(Ctx {
            lang,
            staff: session.staff,
            csrf: session.csrf,
            path,
            locations,
            now: web.engine.now(),
            flash,
            secure: security::is_https(&parts.headers, web.cfg.secure_cookies, peer_trusted),
            web: web.clone(),
        })
    }
}

/// A form posted by a signed-in staff member: same origin, the session's CSRF token, at most
/// [`crate::MAX_FORM_BYTES`]. `form` is the typed fields, `raw` every pair (repeated fields, re-rendering).
pub(crate) struct Posted<T> {
    pub ctx: Ctx,
    pub form: T,
    pub raw: Vec<(String, String)>,
}

impl<T> Posted<T> {
    pub fn state(&self) -> FormState {
        FormState::from_values(&self.raw)
    }
    pub fn once(&self) -> Option<&str> {
        self.raw.iter().find(|(k, _)| k == "_once").map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.raw.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

impl<T: DeserializeOwned + Send> FromRequest<Web> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, web: &Web) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, web).await?;
        if !security::same_origin(&parts.headers) {
            return Err(refused(
                &ctx,
                StatusCode::FORBIDDEN,
                ctx.t(
                    "This form was sent from another site, so it was ignored. Open the console directly and try again.",
                    "다른 사이트에서 보낸 요청이라 처리하지 않았습니다. 콘솔을 직접 열어 다시 시도해 주세요.",
                ),
            ));
        }
        let bytes = match axum::body::to_bytes(body, crate::MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return Err(refused(
                    &ctx,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ctx.t(
                        "The form is too large. Shorten the text and try again.",
                        "입력한 내용이 너무 깁니다. 줄여서 다시 보내 주세요.",
                    ),
                ))
            }
        };
        let raw: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let csrf = raw.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if !security::same_secret(csrf, &ctx.csrf) {
            return Err(refused(&ctx, StatusCode::FORBIDDEN, ctx.t(
                "This form has expired (you signed in again since it was opened). Reload the page and send it again.",
                "이 화면이 만료되었습니다(그사이 다시 로그인했습니다). 페이지를 새로 고친 뒤 다시 보내 주세요.",
            )));
        }
        let form: T = match serde_urlencoded::from_bytes(&bytes) {
            Ok(f) => f,
            Err(e) => {
                let msg = format!(
                    "{} ({e})",
                    ctx.t("Some fields are missing or malformed", "빠졌거나 형식이 맞지 않는 항목이 있습니다")
                );
                return Err(refused(&ctx, StatusCode::BAD_REQUEST, &msg));
            }
        };
        Ok(Posted { ctx, form, raw })
    }
}

/// A multipart form (a file upload) from a signed-in staff member who may do `needs`: same origin, the
/// session's CSRF token; answers the text fields and the `file` field's bytes. `limit` names the size limit
/// in the refusal.
pub(crate) async fn upload(
    web: &Web,
    req: Request,
    needs: Permission,
    limit: &str,
) -> Result<(Ctx, Vec<(String, String)>, Option<axum::body::Bytes>), Response> {
    let (mut parts, body) = req.into_parts();
    let ctx = Ctx::from_request_parts(&mut parts, web).await?;
    ctx.require(needs)?;
    if !security::same_origin(&parts.headers) {
        return Err(forbidden(&ctx));
    }
    let req = Request::from_parts(parts, body);
    let mut multipart = match axum::extract::Multipart::from_request(req, web).await {
        Ok(m) => m,
        Err(e) => return Err(refused(&ctx, StatusCode::BAD_REQUEST, &e.body_text())),
    };
    let (mut fields, mut file) = (Vec::new(), None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                if name == "file" {
                    match field.bytes().await {
                        Ok(b) => file = Some(b),
                        Err(e) => return Err(refused(&ctx, StatusCode::BAD_REQUEST, &e.body_text())),
                    }
                } else {
                    fields.push((name, field.text().await.unwrap_or_default()));
                }
            }
            Ok(None) => break,
            Err(e) => {
                let msg = match ctx.lang {
                    Lang::Ko => format!("업로드가 끊겼거나 너무 큽니다(최대 {limit}). ({})", e.body_text()),
                    Lang::En => format!("The upload broke off or is too large (at most {limit}). ({})", e.body_text()),
                };
                return Err(refused(&ctx, StatusCode::PAYLOAD_TOO_LARGE, &msg));
            }
        }
    }
    let csrf = fields.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    if !security::same_secret(csrf, &ctx.csrf) {
        return Err(refused(
            &ctx,
            StatusCode::FORBIDDEN,
            ctx.t(
                "This form has expired. Reload the page and send it again.",
                "이 화면이 만료되었습니다. 새로 고친 뒤 다시 보내 주세요.",
            ),
        ));
    }
    Ok((ctx, fields, file))
}

/// `%`-encodes a URL query value.
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

/// A redirect after a form (303), or to the login page.
pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Only paths inside the console may be a `next` after login (no open redirects).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains('\\') && !n.contains("://") => {
            n.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

/// A redirect carrying a message shown once on the next page.
pub(crate) fn redirect_with(ctx: &Ctx, to: &str, ok: bool, message: &str) -> Response {
    let mut r = redirect(to);
    let value = format!("{}{}", if ok { "1" } else { "0" }, hex::encode(message.chars().take(300).collect::<String>()));
    r.headers_mut().append(header::SET_COOKIE, security::set_cookie(FLASH_COOKIE, &value, Some(60), ctx.secure));
    r
}

fn decode_flash(v: &str) -> Option<(bool, String)> {
    let (ok, text) = v.split_at_checked(1)?;
    let bytes = hex::decode(text).ok()?;
    Some((ok == "1", String::from_utf8(bytes).ok()?))
}

struct NavItem {
    path: &'static str,
    en: &'static str,
    ko: &'static str,
    needs: Option<Permission>,
}

const NAV: &[NavItem] = &[
    NavItem { path: "/console", en: "Today", ko: "오늘", needs: None },
    NavItem { path: "/console/orders", en: "Orders", ko: "주문", needs: None },
    NavItem { path: "/console/pickup", en: "Pickup desk", ko: "픽업 데스크", needs: Some(Permission::PickupDesk) },
    NavItem { path: "/console/till", en: "Till", ko: "계산대", needs: Some(Permission::Till) },
    NavItem { path: "/console/inventory", en: "Inventory", ko: "재고", needs: None },
    NavItem { path: "/console/catalog", en: "Catalog", ko: "상품", needs: None },
    NavItem { path: "/console/customers", en: "Customers", ko: "고객", needs: Some(Permission::Customers) },
    NavItem { path: "/console/chats", en: "Chats", ko: "채팅", needs: Some(Permission::Customers) },
    NavItem { path: "/console/live", en: "Cashierless", ko: "무인 매장", needs: None },
    NavItem { path: "/console/analytics", en: "Analytics", ko: "분석", needs: Some(Permission::Analytics) },
    NavItem { path: "/console/mail", en: "Mail", ko: "메일", needs: Some(Permission::Settings) },
    NavItem { path: "/console/settings", en: "Settings", ko: "설정", needs: Some(Permission::Staff) },
];

fn head(lang: Lang, title: &str) -> Markup {
    // htmx: swap error pages too (they explain themselves), never run inline code, keep no copies of pages
    // in localStorage (they hold customer data).
    let htmx_config = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}"#;
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="htmx-config" content=(htmx_config);
            meta name="color-scheme" content="light";
            title { (title) " · borderless" }
            link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
            link rel="stylesheet" href=(assets::url("app.css"));
            script src=(assets::url("htmx.js")) defer {}
            script src=(assets::url("app.js")) defer {}
            script src=(assets::url("analytics.js")) defer {}
            @if lang == Lang::Ko { meta name="description" content="borderless 운영 콘솔"; }
            @else { meta name="description" content="borderless console"; }
        }
    }
}

/// A full console page: top bar, navigation for the role, flash message, then `body`.
pub(crate) fn page(ctx: &Ctx, title: &str, body: Markup) -> Response {
    page_status(ctx, StatusCode::OK, title, body)
}

pub(crate) fn page_status(ctx: &Ctx, status: StatusCode, title: &str, body: Markup) -> Response {
    let role = match ctx.staff.role {
        engine::platform::staff::StaffRole::Owner => ctx.t("Owner", "점주"),
        engine::platform::staff::StaffRole::Manager => ctx.t("Manager", "매니저"),
        engine::platform::staff::StaffRole::Associate => ctx.t("Associate", "직원"),
    };
    let current = |p: &str| {
        if p == "/console" {
            ctx.path == "/console" || ctx.path == "/console/"
        } else {
            ctx.path.starts_with(p)
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            (head(ctx.lang, title))
            body hx-boost="true" {
                a.skip href="#main" { (ctx.t("Skip to content", "본문으로 건너뛰기")) }
                header.top {
                    a.brand href="/console" { img src=(assets::url("icon.svg")) alt=""; "borderless" }
                    span.who {
                        (ctx.staff.name) " · " (role)
                        @if let Some(h) = ctx.home() { " · " (ctx.lang.t(&h.name.en, &h.name.ko)) }
                    }
                    // A full page load, not a boosted swap: <html lang> must change with the language.
                    form.inline method="post" action="/console/lang" hx-boost="false" {
                        (ctx.csrf_field())
                        input type="hidden" name="lang" value=(ctx.lang.other().code());
                        input type="hidden" name="next" value=(ctx.path);
                        button.link type="submit" lang=(ctx.lang.other().code()) { (ctx.lang.other().own_name()) }
                    }
                    form.inline method="post" action="/console/logout" {
                        (ctx.csrf_field())
                        button.link type="submit" { (ctx.t("Sign out", "로그아웃")) }
                    }
                }
                div.shell {
                    nav.nav aria-label=(ctx.t("Console", "콘솔 메뉴")) {
                        @for item in NAV.iter().filter(|i| i.needs.is_none_or(|p| ctx.may(p))) {
                            a href=(item.path) aria-current=[current(item.path).then_some("page")] { (ctx.t(item.en, item.ko)) }
                        }
                    }
                    main #main tabindex="-1" {
                        @if let Some((ok, text)) = &ctx.flash {
                            div.flash.ok[*ok].bad[!*ok] role="status" { (text) }
                        }
                        (body)
                    }
                }
            }
        }
    };
    let mut res = (status, markup).into_response();
    if ctx.flash.is_some() {
        res.headers_mut().append(header::SET_COOKIE, security::set_cookie(FLASH_COOKIE, "", Some(0), ctx.secure));
    }
    res
}

/// A bare page (login, errors before a session exists).
pub(crate) fn bare(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body { main #main { (body) } }
        }
    };
    (status, markup).into_response()
}

pub(crate) fn forbidden(ctx: &Ctx) -> Response {
    refused(
        ctx,
        StatusCode::FORBIDDEN,
        ctx.t(
            "Your role cannot open this. Ask a manager or the owner if you need it.",
            "현재 권한으로는 열 수 없는 화면입니다. 필요하면 매니저나 점주에게 요청해 주세요.",
        ),
    )
}

/// A mistyped console address: a console page in the reader's language (not the API's JSON 404).
async fn missing_page(ctx: Ctx) -> Response {
    refused(
        &ctx,
        StatusCode::NOT_FOUND,
        ctx.t(
            "There is no such console screen. Use the menu, or go back to Today.",
            "없는 화면입니다. 메뉴에서 고르거나 ‘오늘’ 화면으로 돌아가세요.",
        ),
    )
}

/// A page explaining why something was refused, with a way back.
pub(crate) fn refused(ctx: &Ctx, status: StatusCode, message: &str) -> Response {
    page_status(
        ctx,
        status,
        ctx.t("Not possible", "할 수 없는 작업"),
        html! {
            h1 { (ctx.t("Not possible", "할 수 없는 작업")) }
            div.alert.bad role="alert" { (message) }
            p { a href="/console" { (ctx.t("Back to Today", "오늘 화면으로")) } }
        },
    )
}

/// An engine error on a page that has no form to show it in.
pub(crate) fn engine_error(ctx: &Ctx, e: &engine::EngineError) -> Response {
    let status = match e {
        engine::EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
        engine::EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
        engine::EngineError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    refused(ctx, status, &crate::forms::explain(e, ctx.lang))
}

fn plain_error(lang: Lang, e: &engine::EngineError) -> Response {
    bare(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "borderless",
        html! { div.alert.bad role="alert" { (crate::forms::explain(e, lang)) } },
    )
}

/// A status as a coloured pill, in the reader's language.
pub(crate) fn status_pill(ctx: &Ctx, status: &str) -> Markup {
    let (class, en, ko) = match status {
        "placed" => ("info", "Placed", "주문 접수"),
        "ready_for_pickup" => ("warn", "Ready for pickup", "픽업 준비 완료"),
        "picked_up" => ("ok", "Collected", "픽업 완료"),
        "shipped" => ("ok", "Shipped", "발송"),
        "completed" => ("ok", "Completed", "완료"),
        "cancelled" => ("bad", "Cancelled", "취소"),
        "expired" => ("bad", "Expired", "기한 만료"),
        "captured" | "paid" => ("ok", "Paid", "결제 완료"),
        "pending" | "authorized" => ("warn", "Held", "결제 보류"),
        "refunded" => ("info", "Refunded", "환불"),
        "voided" => ("info", "Voided", "승인 취소"),
        "unpaid" => ("warn", "Unpaid", "미결제"),
        other => ("", other, other),
    };
    html! { span class=(format!("pill {class}")) { (ctx.t(en, ko)) } }
}

/// An order's payment state as a pill: an order paid at the store has nothing held until then.
pub(crate) fn payment_pill(ctx: &Ctx, method: &str, status: &str) -> Markup {
    let at_store = matches!(method, "pay_at_pickup" | "pay_in_store" | "cash_or_card_at_store");
    if at_store && matches!(status, "pending" | "unpaid") {
        return html! { span class="pill warn" { (ctx.t("To pay at the store", "매장에서 결제 예정")) } };
    }
    status_pill(ctx, status)
}

/// A payment or refund method in the reader's language.
pub(crate) fn method_name<'a>(ctx: &Ctx, method: &'a str) -> &'a str {
    match method {
        "pay_at_pickup" => ctx.t("Pay at pickup", "픽업 시 결제"),
        "pay_in_store" => ctx.t("Cash or card at the till", "매장 결제(현금·카드)"),
        "cash_or_card_at_store" => ctx.t("Cash or card at the store", "매장에서 현금·카드로"),
        "manual" => ctx.t("Settled outside borderless", "별도 정산"),
        "wallet" => ctx.t("Wallet", "지갑"),
        "gift_card" => ctx.t("Gift card", "기프트카드"),
        "store_credit" => ctx.t("Store credit", "적립금"),
        "card" => ctx.t("Card", "카드"),
        "split" => ctx.t("Several tenders", "복합 결제"),
        "cashierless_hold" => ctx.t("Cashierless entry hold", "무인 매장 입장 승인"),
        other => other,
    }
}

pub(crate) fn channel_name<'a>(ctx: &Ctx, channel: &'a str) -> &'a str {
    match channel {
        "web" => ctx.t("Web", "온라인"),
        "pos" => ctx.t("Till", "매장 계산대"),
        "cashierless" => ctx.t("Cashierless", "무인 매장"),
        other => other,
    }
}

/// `<select>` options of the locations (an empty "all" first when `all` names it).
pub(crate) fn location_options(ctx: &Ctx, selected: Option<&str>, all: Option<&str>, kinds: &[&str]) -> Markup {
    html! {
        @if let Some(label) = all { option value="" selected[selected.is_none_or(str::is_empty)] { (label) } }
        @for l in ctx.locations.iter().filter(|l| kinds.is_empty() || kinds.contains(&l.kind.as_str())) {
            option value=(l.id) selected[selected == Some(l.id.as_str()) || selected.is_some_and(|s| s.eq_ignore_ascii_case(&l.code))] {
                (ctx.lang.t(&l.name.en, &l.name.ko)) " (" (l.code) ")"
            }
        }
    }
}

/// Inline SVG is markup we build ourselves from numbers; this marks it as such.
pub(crate) fn svg(s: String) -> Markup {
    PreEscaped(s)
}
