//! The shopping assistant in the storefront: a chat page at `/assistant` that works without JavaScript (a
//! form, the answer drawn on the next page), with the visitor's language, currency, chosen store, signed-in
//! session and consent passed to the engine; each answer's products link to their pages with the price and
//! stock as they were when answered, and a clarifying question's options are buttons. With JavaScript
//! (`shop.js`), messages are sent in place and staff replies after a hand-off appear by themselves.

use super::{engine_problem, page, redirect_with, Meta, ShopForm, Visitor};
use crate::Web;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use engine::discovery::assistant::conversations::{ConversationView, MessageView};
use engine::discovery::assistant::Turn;
use maud::{html, Markup};
use serde::Deserialize;

/// The visitor's conversation (its id is the secret that lets them continue it).
const CHAT_COOKIE: &str = "bl_chat";
/// As long as a conversation lives when idle (the engine removes it after that).
const CHAT_COOKIE_SECONDS: i64 = 7 * 24 * 3600;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/assistant", get(show).post(send))
        .route("/assistant/log", get(log_fragment))
        .route("/assistant/new", post(start_over))
}

fn conversation_id(headers: &HeaderMap) -> Option<String> {
    crate::security::cookie(headers, CHAT_COOKIE).filter(|c| {
        c.starts_with("conv_") && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

async fn load(v: &Visitor, headers: &HeaderMap) -> Option<ConversationView> {
    let id = conversation_id(headers)?;
    v.engine().assistant_conversation(&id, v.customer_id()).await.ok()
}

async fn show(v: Visitor, headers: HeaderMap) -> Response {
    let conv = load(&v, &headers).await;
    let body = html! {
        h1 { (v.t("Shopping assistant", "쇼핑 도우미")) }
        p.muted {
            (v.t("Ask in Korean or English: what you are looking for, your budget, where you'd like to pick it up. Products, prices and stock come from our catalog and stores right now.",
                 "찾는 상품, 예산, 픽업할 매장을 한국어나 영어로 물어보세요. 상품과 가격, 재고는 지금 카탈로그와 매장에서 바로 읽어 옵니다."))
        }
        div #chat data-chat-log="/assistant/log" data-waiting=(conv.as_ref().is_some_and(|c| matches!(c.handoff.as_str(), "waiting" | "answered"))) {
            (log(&v, conv.as_ref()))
        }
        form #chat-form .chat-form method="post" action="/assistant" data-chat {
            (v.csrf_field())
            label for="chat-text" { (v.t("Your message", "메시지")) }
            div.row {
                input #chat-text name="text" maxlength="500" autocomplete="off" required
                    placeholder=(v.t("e.g. wireless earbuds under $80 to pick up today", "예: 강남역점에서 오늘 픽업 가능한 10만원 이하 무선 이어폰"));
                button type="submit" { (v.t("Send", "보내기")) }
            }
            p.small.muted data-chat-status role="status" {}
        }
        @if conv.is_some() {
            form method="post" action="/assistant/new" {
                (v.csrf_field())
                button.secondary type="submit" { (v.t("Start a new conversation", "새 대화 시작")) }
            }
        }
    };
    page(&v, StatusCode::OK, Meta::new(v.t("Shopping assistant", "쇼핑 도우미"), "").private(), body)
}

/// The conversation so far (the part `shop.js` replaces after each message).
fn log(v: &Visitor, conv: Option<&ConversationView>) -> Markup {
    html! {
        ol.chat-log aria-live="polite" {
            @match conv {
                None => {
                    li.msg.assistant {
                        p { (v.t("Hello! What are you looking for today?", "안녕하세요! 오늘 어떤 상품을 찾으세요?")) }
                        (options(v, &[
                            v.t("wireless earbuds under $80", "10만원 이하 무선 이어폰").to_owned(),
                            v.t("sneakers size 270", "270 사이즈 운동화").to_owned(),
                            v.t("a gift under ₩50,000", "5만원 이하 선물").to_owned(),
                        ]))
                    }
                }
                Some(c) => {
                    @for (i, m) in c.messages.iter().enumerate() {
                        (message(v, m, i + 1 == c.messages.len()))
                    }
                    @if c.handoff == "waiting" {
                        li.msg.note { p.small.muted { (v.t("A member of staff will answer here.", "직원이 이곳에 답해 드릴 거예요.")) } }
                    }
                }
            }
        }
    }
}

fn message(v: &Visitor, m: &MessageView, last: bool) -> Markup {
    let who = match m.role.as_str() {
        "shopper" => v.t("You", "나"),
        "assistant" => v.t("Assistant", "쇼핑 도우미"),
        _ => v.t("Staff", "직원"),
    };
    let products = m.body.as_ref().and_then(|b| b["products"].as_array()).cloned().unwrap_or_default();
    let question = m.body.as_ref().map(|b| &b["question"]).filter(|q| q.is_object());
    html! {
        li.msg.(m.role.as_str()) id=[last.then_some("chat-end")] {
            p.small.muted { (who) }
            p.chat-text { (m.text) }
            @if !products.is_empty() {
                ul.chat-products {
                    @for p in &products {
                        li {
                            a href=(format!("/p/{}", p["handle"].as_str().unwrap_or_default())) { (p["title"].as_str().unwrap_or_default()) }
                            @if let (Some(a), Some(cur)) = (p["price"]["amount_minor"].as_i64(), p["price"]["currency"].as_str()) {
                                " " strong { (crate::fmt::money(a, cur)) }
                            }
                            br;
                            span.small { (p["availability"].as_str().unwrap_or_default()) }
                            @if let Some(r) = p["reason"].as_str().filter(|r| !r.is_empty()) {
                                br; span.small.muted { (r) }
                            }
                        }
                    }
                }
            }
            @if let (Some(q), true) = (question, last) {
                @let opts: Vec<String> = q["options"].as_array().map(|o| o.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default();
                (options(v, &opts))
            }
        }
    }
}

/// Answers the shopper can tap: each is sent as their next message.
fn options(v: &Visitor, opts: &[String]) -> Markup {
    html! {
        @if !opts.is_empty() {
            div.chat-options {
                @for o in opts {
                    form method="post" action="/assistant" data-chat {
                        (v.csrf_field())
                        input type="hidden" name="text" value=(o);
                        button.secondary type="submit" { (o) }
                    }
                }
            }
        }
    }
}

async fn log_fragment(v: Visitor, headers: HeaderMap) -> Response {
    let conv = load(&v, &headers).await;
    v.finish(log(&v, conv.as_ref()).into_response())
}

#[derive(Deserialize)]
struct ChatIn {
    #[serde(default)]
    text: String,
}

async fn send(headers: HeaderMap, f: ShopForm<ChatIn>) -> Response {
    let mut v = f.v;
    let text = f.form.text.trim().to_owned();
    let in_place = headers.get("x-chat").is_some();
    if text.is_empty() {
        return redirect_with(
            &v,
            "/assistant",
            Some((false, v.t("Type a message first.", "메시지를 먼저 입력해 주세요."))),
        );
    }
    let turn = |conversation_id: Option<String>| Turn {
        conversation_id,
        text: text.clone(),
        locale: Some(v.lang.code().to_owned()),
        location_id: v.store.clone(),
        lat: None,
        lon: None,
        currency: Some(v.currency.clone()),
        customer_id: v.customer_id().map(str::to_owned),
        personalize: v.consent == Some(true),
        session_id: v.sid.clone(),
    };
    let existing = conversation_id(&headers);
    let mut answer = v.engine().assistant_message(turn(existing.clone())).await;
    // An expired conversation (or one left behind when signing in or out) starts again with this message.
    if existing.is_some() && matches!(answer, Err(engine::EngineError::NotFound { what: "conversation", .. })) {
        answer = v.engine().assistant_message(turn(None)).await;
    }
    let answer = match answer {
        Ok(a) => a,
        Err(engine::EngineError::Conflict { code: "conversation_full", .. }) => {
            v.set_cookie(CHAT_COOKIE, "", Some(0));
            return redirect_with(
                &v,
                "/assistant",
                Some((
                    false,
                    v.t(
                        "This conversation has grown long, so a new one starts with your next message.",
                        "대화가 길어져 다음 메시지부터 새 대화로 시작합니다.",
                    ),
                )),
            );
        }
        Err(e) => return engine_problem(&v, &e),
    };
    v.set_cookie(CHAT_COOKIE, &answer.conversation_id, Some(CHAT_COOKIE_SECONDS));
    if in_place {
        let conv = v.engine().assistant_conversation(&answer.conversation_id, v.customer_id()).await.ok();
        let mut res = log(&v, conv.as_ref()).into_response();
        if conv.as_ref().is_some_and(|c| matches!(c.handoff.as_str(), "waiting" | "answered")) {
            res.headers_mut().insert("x-chat-waiting", axum::http::HeaderValue::from_static("1"));
        }
        return v.finish(res);
    }
    redirect_with(&v, "/assistant#chat-end", None)
}

#[derive(Deserialize)]
struct Nothing {}

async fn start_over(f: ShopForm<Nothing>) -> Response {
    let mut v = f.v;
    v.set_cookie(CHAT_COOKIE, "", Some(0));
    redirect_with(&v, "/assistant", None)
}
