//! Signing in, up and out on the storefront: sign-in (throttled by the engine per account and client),
//! sign-up by a mailed link (the same "check your email" page for a taken address; the link's page only
//! shows a button, so mail scanners that open links create nothing), and sign-out.

use super::{
    page, redirect_with, safe_next, shopper_sentence, urlencode, Meta, ShopForm, Visitor, SESSION_COOKIE, SESSION_DAYS,
};
use crate::forms::{Field, FormState};
use crate::i18n::Lang;
use crate::Web;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::customers::accounts::SignupInput;
use engine::EngineError;
use maud::html;
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/account/login", get(login_page).post(login))
        .route("/account/signup", get(signup_page).post(signup))
        .route("/account/verify", get(verify_page).post(verify))
        .route("/account/logout", post(logout))
}

// ---- sign-in and sign-up --------------------------------------------------------------------------------

fn login_form(v: &Visitor, next: &str, form: &FormState, status: StatusCode) -> Response {
    let body = html! {
        div.login {
            h1 { (v.t("Sign in", "로그인")) }
            div.card {
                (crate::forms::summary(form, v.lang))
                form method="post" action="/account/login" {
                    (v.csrf_field())
                    input type="hidden" name="next" value=(next);
                    (Field::new("email", v.t("Email", "이메일"), form, "").kind("email").required()
                        .attrs(&[("autocomplete", "username"), ("maxlength", "254")]).render(form))
                    (Field::new("password", v.t("Password", "비밀번호"), form, "").kind("password").required()
                        .attrs(&[("autocomplete", "current-password"), ("maxlength", "200")]).render(form))
                    button.big type="submit" { (v.t("Sign in", "로그인")) }
                }
            }
            p { (v.t("New here?", "처음이신가요?")) " " a href=(format!("/account/signup?next={}", urlencode(next))) { (v.t("Create an account", "회원가입")) } }
        }
    };
    page(
        v,
        status,
        Meta::new(v.t("Sign in", "로그인"), v.t("Sign in to your account", "계정에 로그인")).private(),
        body,
    )
}

async fn login_page(v: Visitor) -> Response {
    let next = safe_next(v.param("next"));
    if v.customer.is_some() {
        return redirect_with(&v, &next, None);
    }
    login_form(&v, &next, &FormState::default(), StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

fn start_session(v: &mut Visitor, token: &str) {
    v.set_cookie(SESSION_COOKIE, token, Some(SESSION_DAYS * 86400));
}

async fn login(http_api::ClientAddr(client): http_api::ClientAddr, f: ShopForm<LoginIn>) -> Response {
    let mut form = FormState::default();
    form.values.insert("email".into(), f.form.email.clone());
    let next = safe_next(Some(&f.form.next));
    let mut v = f.v;
    match v.engine().login(&f.form.email, &f.form.password, &client).await {
        Ok((c, token)) => {
            start_session(&mut v, &token);
            let m = match v.lang {
                Lang::Ko => format!("{}님, 어서 오세요.", c.name),
                Lang::En => format!("Welcome back, {}.", c.name),
            };
            redirect_with(&v, &next, Some((true, &m)))
        }
        Err(EngineError::RateLimited(wait)) => {
            form.general = Some(match v.lang {
                Lang::Ko => format!("로그인 시도가 너무 많습니다. {wait}초 후에 다시 시도해 주세요."),
                Lang::En => format!("Too many attempts. Try again in {wait} seconds."),
            });
            login_form(&v, &next, &form, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(EngineError::Unauthorized) => {
            form.general = Some(
                v.t(
                    "The email or password is wrong. Check both and try again.",
                    "이메일 또는 비밀번호가 올바르지 않습니다. 확인 후 다시 시도해 주세요.",
                )
                .to_owned(),
            );
            login_form(&v, &next, &form, StatusCode::UNAUTHORIZED)
        }
        Err(e) => {
            form.general = Some(shopper_sentence(&e, v.lang, &[]));
            login_form(&v, &next, &form, StatusCode::BAD_REQUEST)
        }
    }
}

fn signup_form(v: &Visitor, next: &str, form: &FormState, status: StatusCode) -> Response {
    let body = html! {
        div.login {
            h1 { (v.t("Create an account", "회원가입")) }
            p.muted { (v.t("One account for the web, the till and the cashierless store: one wallet and one payment QR.",
                           "온라인, 매장 계산대, 무인 매장에서 함께 쓰는 하나의 계정: 하나의 지갑과 결제 QR.")) }
            div.card {
                (crate::forms::summary(form, v.lang))
                form method="post" action="/account/signup" {
                    (v.csrf_field())
                    input type="hidden" name="next" value=(next);
                    (Field::new("name", v.t("Name", "이름"), form, "").required().attrs(&[("autocomplete", "name"), ("maxlength", "100")]).render(form))
                    (Field::new("email", v.t("Email", "이메일"), form, "").kind("email").required()
                        .attrs(&[("autocomplete", "email"), ("maxlength", "254")]).render(form))
                    (Field::new("phone", v.t("Mobile (optional)", "휴대폰 (선택)"), form, "").kind("tel")
                        .attrs(&[("autocomplete", "tel"), ("maxlength", "20")]).render(form))
                    (Field::new("password", v.t("Password", "비밀번호"), form, "").kind("password").required()
                        .hint(v.t("At least 10 characters.", "10자 이상."))
                        .attrs(&[("autocomplete", "new-password"), ("minlength", "10"), ("maxlength", "200")]).render(form))
                    button.big type="submit" { (v.t("Create my account", "가입하기")) }
                }
            }
            p { (v.t("Already have an account?", "이미 계정이 있으신가요?")) " " a href=(format!("/account/login?next={}", urlencode(next))) { (v.t("Sign in", "로그인")) } }
        }
    };
    page(
        v,
        status,
        Meta::new(v.t("Create an account", "회원가입"), v.t("Create an account", "회원가입")).private(),
        body,
    )
}

async fn signup_page(v: Visitor) -> Response {
    let next = safe_next(v.param("next"));
    signup_form(&v, &next, &FormState::default(), StatusCode::OK)
}

#[derive(Deserialize)]
struct SignupIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn signup(f: ShopForm<SignupIn>) -> Response {
    let mut form = f.state();
    form.values.remove("password");
    let next = safe_next(Some(&f.form.next));
    let v = f.v;
    let i = f.form;
    let input = SignupInput {
        email: i.email,
        password: i.password,
        name: i.name,
        phone: Some(i.phone).filter(|p| !p.trim().is_empty()),
        locale: Some(v.lang.code().to_owned()),
    };
    match v.engine().request_signup(input).await {
        Ok(r) => check_email(&v, &r.email),
        Err(e) => {
            form.engine_error(
                &e,
                v.lang,
                &[("email", "email"), ("password", "password"), ("name", "name"), ("phone", "phone")],
            );
            signup_form(&v, &next, &form, StatusCode::BAD_REQUEST)
        }
    }
}

/// After a sign-up: the same page whether or not the address had an account (the mail says which).
fn check_email(v: &Visitor, email: &str) -> Response {
    let delivery = v.engine().mail_delivery();
    let body = html! {
        div.login {
            h1 { (v.t("Check your email", "이메일을 확인해 주세요")) }
            div.card {
                p { (v.t("We sent a message to", "다음 주소로 메일을 보냈습니다:")) " " strong { (email) } }
                p { (v.t("Open the link in it to finish creating your account. The link works for 24 hours.",
                         "메일의 링크를 열면 가입이 완료됩니다. 링크는 24시간 동안 유효합니다.")) }
                p.muted { (v.t("Nothing arrived after a few minutes? Look in the spam folder, or sign up again to get a new link. If the address already has an account, the message says so: sign in instead.",
                               "몇 분이 지나도 메일이 없다면 스팸함을 확인하거나 다시 가입해 새 링크를 받으세요. 이미 가입된 주소라면 메일에 그 사실이 적혀 있습니다. 로그인해 주세요.")) }
                @if !delivery {
                    p.alert.info role="note" { (v.t("This shop has not set up mail delivery yet (as in the demo): staff can open your link from the console, under Mail.",
                                                "이 상점은 아직 메일 발송을 설정하지 않았습니다(데모 등). 직원이 콘솔의 메일 화면에서 링크를 열어 줄 수 있습니다.")) }
                }
            }
            p { a href="/account/login" { (v.t("Sign in", "로그인")) } }
        }
    };
    page(
        v,
        StatusCode::OK,
        Meta::new(v.t("Check your email", "이메일 확인"), v.t("Check your email", "이메일 확인")).private(),
        body,
    )
}

fn verify_form(v: &Visitor, token: &str, error: Option<String>, status: StatusCode) -> Response {
    let body = html! {
        div.login {
            h1 { (v.t("Finish signing up", "가입 완료하기")) }
            div.card {
                @if let Some(e) = &error {
                    p.alert.bad role="alert" { (e) }
                    p { a href="/account/signup" { (v.t("Sign up again", "다시 가입하기")) } }
                } @else {
                    p { (v.t("Your email is confirmed once you press the button. Then you are signed in.",
                             "아래 버튼을 누르면 이메일이 확인되고 로그인됩니다.")) }
                    form method="post" action="/account/verify" {
                        (v.csrf_field())
                        input type="hidden" name="token" value=(token);
                        button.big type="submit" { (v.t("Create my account", "가입 완료")) }
                    }
                }
            }
        }
    };
    page(
        v,
        status,
        Meta::new(v.t("Finish signing up", "가입 완료"), v.t("Finish signing up", "가입 완료")).private(),
        body,
    )
}

/// The link in the confirmation mail. Opening it only shows a button: mail scanners that follow links
/// must not create the account.
async fn verify_page(v: Visitor) -> Response {
    let token = v.param("token").unwrap_or_default().to_owned();
    if token.is_empty() || token.len() > 200 {
        let e = v
            .t(
                "This link is incomplete. Open the whole link from the mail, or sign up again.",
                "링크가 온전하지 않습니다. 메일의 링크 전체를 열거나 다시 가입해 주세요.",
            )
            .to_owned();
        return verify_form(&v, "", Some(e), StatusCode::BAD_REQUEST);
    }
    verify_form(&v, &token, None, StatusCode::OK)
}

#[derive(Deserialize)]
struct VerifyIn {
    #[serde(default)]
    token: String,
}

async fn verify(f: ShopForm<VerifyIn>) -> Response {
    let mut v = f.v;
    match v.engine().confirm_signup(&f.form.token).await {
        Ok((c, token)) => {
            start_session(&mut v, &token);
            let m = match v.lang {
                Lang::Ko => format!("{}님, 가입을 환영합니다! 계정이 준비되었습니다.", c.name),
                Lang::En => format!("Welcome, {}! Your account is ready.", c.name),
            };
            redirect_with(&v, "/account", Some((true, &m)))
        }
        Err(EngineError::Invalid { code: "signup_link_invalid", .. }) => {
            let e = v.t("This link is unknown, already used or expired (links work for 24 hours). Sign up again to get a new one.",
                        "링크가 올바르지 않거나 이미 사용되었거나 만료되었습니다(24시간 유효). 다시 가입해 새 링크를 받으세요.").to_owned();
            verify_form(&v, "", Some(e), StatusCode::BAD_REQUEST)
        }
        Err(e) => {
            let e = shopper_sentence(&e, v.lang, &[]);
            verify_form(&v, "", Some(e), StatusCode::CONFLICT)
        }
    }
}

#[derive(Deserialize)]
struct LogoutIn {
    #[serde(default)]
    everywhere: String,
}

async fn logout(f: ShopForm<LogoutIn>) -> Response {
    let mut v = f.v;
    if let Some((_, token)) = v.customer.clone() {
        if let Err(e) = v.engine().logout(&token, f.form.everywhere == "1").await {
            return super::engine_problem(&v, &e);
        }
    }
    v.set_cookie(SESSION_COOKIE, "", Some(0));
    v.set_cookie(super::CART_COOKIE, "", Some(0));
    redirect_with(&v, "/", Some((true, v.t("You are signed out.", "로그아웃했습니다."))))
}
