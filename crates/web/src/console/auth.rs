//! Signing in and out of the console, and the language switch. Login forms carry a pre-session CSRF token
//! (a cookie and a hidden field that must match); failures say only "email or password is wrong", and the
//! engine's throttle answers a guessing client with when it may try again.

use super::{bare, redirect, safe_next, Posted, SESSION_COOKIE};
use crate::forms::{self, Field, FormState};
use crate::i18n::{Lang, LANG_COOKIE};
use crate::{security, Web};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

const PRE_COOKIE: &str = "bl_pre";

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/lang", post(switch_lang))
}

#[derive(Deserialize)]
struct LoginQ {
    next: Option<String>,
    lang: Option<String>,
}

fn lang_of(headers: &HeaderMap, chosen: Option<&str>) -> Lang {
    chosen.and_then(Lang::parse).unwrap_or_else(|| Lang::from_headers(headers))
}

fn login_form(lang: Lang, next: &str, pre: &str, form: &FormState, status: StatusCode, secure: bool) -> Response {
    let body = html! {
        div.login {
            h1 { "borderless " (lang.t("console", "콘솔")) }
            div.card {
                (forms::summary(form, lang))
                form method="post" action="/console/login" {
                    input type="hidden" name="_pre" value=(pre);
                    input type="hidden" name="next" value=(next);
                    input type="hidden" name="lang" value=(lang.code());
                    (Field::new("email", lang.t("Email", "이메일"), form, "").kind("email").required()
                        .attrs(&[("autocomplete", "username"), ("autofocus", "")]).render(form))
                    (Field::new("password", lang.t("Password", "비밀번호"), form, "").kind("password").required()
                        .attrs(&[("autocomplete", "current-password")]).render(form))
                    button.big type="submit" { (lang.t("Sign in", "로그인")) }
                }
            }
            p.small {
                a href=(format!("/console/login?lang={}&next={}", lang.other().code(), super::urlencode(next)))
                    lang=(lang.other().code()) { (lang.other().own_name()) }
            }
        }
    };
    let mut res = bare(lang, status, lang.t("Sign in", "로그인"), body);
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, security::set_cookie(PRE_COOKIE, pre, Some(3600), secure));
    h.append(header::SET_COOKIE, security::set_cookie(LANG_COOKIE, lang.code(), Some(365 * 86400), secure));
    res
}

async fn login_page(State(web): State<Web>, headers: HeaderMap, Query(q): Query<LoginQ>) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref());
    let next = safe_next(q.next.as_deref());
    // Already signed in: go on.
    if let Some(t) = security::cookie(&headers, SESSION_COOKIE) {
        if let Ok(Some(_)) = web.engine.staff_session(&t).await {
            return redirect(&next);
        }
    }
    let pre = security::cookie(&headers, PRE_COOKIE).filter(|p| p.len() == 48).unwrap_or_else(security::token);
    login_form(lang, &next, &pre, &FormState::default(), StatusCode::OK, web.cfg.secure_cookies)
}

#[derive(Deserialize)]
struct LoginIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    _pre: String,
}

async fn login(
    State(web): State<Web>,
    http_api::ClientAddr(client): http_api::ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f: LoginIn = serde_urlencoded::from_bytes(&body).unwrap_or(LoginIn {
        email: String::new(),
        password: String::new(),
        next: String::new(),
        lang: String::new(),
        _pre: String::new(),
    });
    let lang = lang_of(&headers, Some(&f.lang));
    let next = safe_next(Some(&f.next));
    let mut form = FormState::default();
    form.values.insert("email".into(), f.email.clone());
    let pre_cookie = security::cookie(&headers, PRE_COOKIE).unwrap_or_default();
    let fresh = security::token();
    if !security::same_origin(&headers) || pre_cookie.is_empty() || !security::same_secret(&pre_cookie, &f._pre) {
        form.general = Some(
            lang.t(
                "The sign-in page had expired. It has been reloaded: sign in again.",
                "로그인 화면이 만료되어 새로 열었습니다. 다시 로그인해 주세요.",
            )
            .to_owned(),
        );
        return login_form(lang, &next, &fresh, &form, StatusCode::FORBIDDEN, web.cfg.secure_cookies);
    }
    if f.email.trim().is_empty() {
        form.error("email", lang.t("Enter your email.", "이메일을 입력해 주세요."));
    }
    if f.password.is_empty() {
        form.error("password", lang.t("Enter your password.", "비밀번호를 입력해 주세요."));
    }
    if !form.is_ok() {
        return login_form(lang, &next, &pre_cookie, &form, StatusCode::UNPROCESSABLE_ENTITY, web.cfg.secure_cookies);
    }
    match web.engine.staff_login(&f.email, &f.password, &client).await {
        Ok((staff, token, _csrf)) => {
            tracing::info!(staff = %staff.id, role = staff.role.as_str(), "console sign-in");
            let mut res = redirect(&next);
            let h = res.headers_mut();
            let max = engine::platform::staff::SESSION_MAX_MS / 1000;
            h.append(
                header::SET_COOKIE,
                security::set_cookie(SESSION_COOKIE, &token, Some(max), web.cfg.secure_cookies),
            );
            h.append(header::SET_COOKIE, security::set_cookie(PRE_COOKIE, "", Some(0), web.cfg.secure_cookies));
            res
        }
        Err(engine::EngineError::Unauthorized) => {
            form.general = Some(
                lang.t(
                    "The email or password is wrong. Check both and try again; after 10 failures this device waits 15 minutes.",
                    "이메일 또는 비밀번호가 올바르지 않습니다. 확인 후 다시 입력해 주세요. 10번 틀리면 이 기기에서 15분 동안 로그인할 수 없습니다.",
                )
                .to_owned(),
            );
            login_form(lang, &next, &pre_cookie, &form, StatusCode::UNAUTHORIZED, web.cfg.secure_cookies)
        }
        Err(e @ engine::EngineError::RateLimited(_)) => {
            form.general = Some(match lang {
                Lang::En => e.to_string(),
                Lang::Ko => {
                    "로그인 시도가 너무 많습니다. 15분 뒤에 다시 시도하거나 점주에게 비밀번호 재설정을 요청해 주세요."
                        .to_owned()
                }
            });
            login_form(lang, &next, &pre_cookie, &form, StatusCode::TOO_MANY_REQUESTS, web.cfg.secure_cookies)
        }
        Err(e) => {
            form.general = Some(forms::explain(&e, lang));
            login_form(lang, &next, &pre_cookie, &form, StatusCode::SERVICE_UNAVAILABLE, web.cfg.secure_cookies)
        }
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(headers: HeaderMap, p: Posted<Empty>) -> Response {
    if let Some(t) = security::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = p.ctx.engine().staff_logout(&t).await {
            return super::engine_error(&p.ctx, &e);
        }
    }
    let mut res = redirect(&format!("/console/login?lang={}", p.ctx.lang.code()));
    res.headers_mut().append(header::SET_COOKIE, security::set_cookie(SESSION_COOKIE, "", Some(0), p.ctx.secure));
    res
}

#[derive(Deserialize)]
struct LangIn {
    lang: String,
    #[serde(default)]
    next: String,
}

async fn switch_lang(p: Posted<LangIn>) -> Response {
    let Some(lang) = Lang::parse(&p.form.lang) else {
        return super::refused(&p.ctx, StatusCode::BAD_REQUEST, "ko / en");
    };
    if let Err(e) = p.ctx.engine().set_staff_locale(&p.ctx.staff.id, lang.code()).await {
        return super::engine_error(&p.ctx, &e);
    }
    let mut res = redirect(&safe_next(Some(&p.form.next)));
    res.headers_mut()
        .append(header::SET_COOKIE, security::set_cookie(LANG_COOKIE, lang.code(), Some(365 * 86400), p.ctx.secure));
    res
}
