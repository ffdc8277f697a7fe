//! Chats handed to staff: shoppers who asked the shopping assistant for a person. The list (a store's staff
//! see their store's and those that named no store), one conversation with everything the assistant showed,
//! a reply the shopper sees in their chat, and closing it. The list refreshes itself every few seconds. Below
//! it, whether the assistant has a language model and how it is doing.

use super::{engine_error, page, redirect_with, Ctx, Posted};
use crate::Web;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use engine::discovery::assistant::conversations::{ConversationView, HandoffView};
use engine::platform::staff::Permission;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/chats", get(list))
        .route("/console/chats/list", get(list_fragment))
        .route("/console/chats/{id}", get(show))
        .route("/console/chats/{id}/reply", post(reply))
        .route("/console/chats/{id}/close", post(close))
}

fn scope(ctx: &Ctx) -> Option<String> {
    ctx.staff.principal().location().map(str::to_owned)
}

async fn waiting(ctx: &Ctx) -> Result<Vec<HandoffView>, Response> {
    ctx.engine().assistant_handoffs(scope(ctx).as_deref()).await.map_err(|e| engine_error(ctx, &e))
}

async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    let chats = match waiting(&ctx).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body = html! {
        h1 { (ctx.t("Chats handed to staff", "직원 연결 채팅")) }
        p.muted { (ctx.t("Shoppers who asked the shopping assistant for a person. Answer here; they see it in their chat.",
                         "쇼핑 도우미에게 직원 연결을 요청한 고객입니다. 여기서 답하면 고객의 채팅 창에 보입니다.")) }
        div #chats hx-get="/console/chats/list" hx-trigger="every 5s" hx-swap="innerHTML" aria-live="polite" {
            (rows(&ctx, &chats))
        }
        (model(&ctx))
    };
    page(&ctx, ctx.t("Chats", "채팅"), body)
}

async fn list_fragment(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    match waiting(&ctx).await {
        Ok(c) => rows(&ctx, &c).into_response(),
        Err(r) => r,
    }
}

/// The assistant's language model: none (the rules answer alone), or what it is, what came of asking it
/// since start and, while it fails, why.
fn model(ctx: &Ctx) -> Markup {
    let status = ctx.engine().language_model_status();
    html! {
        section aria-labelledby="model-h" {
            h2 #model-h { (ctx.t("The assistant's language model", "쇼핑 도우미의 언어 모델")) }
            @match status {
                None => p.muted { (ctx.t(
                    "None: the assistant's rules answer alone. To have a model read the turns they cannot, start the server with --llm-url (see the README).",
                    "없음: 쇼핑 도우미의 규칙만으로 답합니다. 규칙이 이해하지 못한 말을 모델이 읽게 하려면 --llm-url 로 서버를 시작하세요 (README 참고).")) }
                Some(m) => {
                    p { (m.model) " · " (ctx.t("waits", "대기")) " " (m.timeout_ms) " ms" }
                    p #model-counts {
                        (ctx.t("Since start: asked", "시작 후: 질문")) " " (m.asked) " · "
                        (ctx.t("reading taken", "판단 채택")) " " (m.taken) " · "
                        (ctx.t("failed", "실패")) " " (m.failed)
                    }
                    @if let Some(f) = &m.failing {
                        p.alert.warn role="status" {
                            (ctx.t("Failing: the rules answer alone and the model is asked again 10 s after a failure. Last failure",
                                   "실패 중: 규칙만으로 답하며, 실패 10초 후에 모델에 다시 묻습니다. 마지막 실패"))
                            " " (ctx.when(&domain::time::rfc3339(f.at_ms))) ": " (f.error.chars().take(200).collect::<String>())
                        }
                    }
                }
            }
        }
    }
}

fn rows(ctx: &Ctx, chats: &[HandoffView]) -> Markup {
    html! {
        @if chats.is_empty() {
            p.muted { (ctx.t("No chats are waiting.", "기다리는 채팅이 없습니다.")) }
        } @else {
            table {
                thead { tr {
                    th { (ctx.t("Since", "요청 시각")) }
                    th { (ctx.t("Store", "매장")) }
                    th { (ctx.t("Shopper", "고객")) }
                    th { (ctx.t("Last message", "마지막 메시지")) }
                    th { (ctx.t("Status", "상태")) }
                } }
                tbody { @for c in chats {
                    tr {
                        td { a href=(format!("/console/chats/{}", c.id)) { (ctx.when(&c.handoff_at)) } }
                        td { (c.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_else(|| ctx.t("—", "—").to_owned())) }
                        td { (if c.signed_in { ctx.t("signed in", "회원") } else { ctx.t("guest", "비회원") }) " · " (c.locale) }
                        td { (c.last_text.chars().take(80).collect::<String>()) }
                        td { (status(ctx, &c.handoff)) }
                    }
                } }
            }
        }
    }
}

fn status(ctx: &Ctx, s: &str) -> Markup {
    match s {
        "waiting" => html! { span.pill.bad { (ctx.t("waiting", "대기 중")) } },
        "answered" => html! { span.pill.ok { (ctx.t("answered", "답변함")) } },
        "closed" => html! { span.pill { (ctx.t("closed", "종료")) } },
        _ => html! { span.pill { (s) } },
    }
}

async fn show(ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    let c = match ctx.engine().assistant_handoff(&id, scope(&ctx).as_deref()).await {
        Ok(c) => c,
        Err(e) => return engine_error(&ctx, &e),
    };
    let body = html! {
        p { a href="/console/chats" { "← " (ctx.t("Chats", "채팅")) } }
        h1 { (ctx.t("Chat", "채팅")) " " span.mono.small { (c.id.chars().take(14).collect::<String>()) "…" } " " (status(&ctx, &c.handoff)) }
        p.muted.small {
            (if c.signed_in { ctx.t("Signed-in shopper", "회원 고객") } else { ctx.t("Guest", "비회원") })
            " · " (ctx.t("language", "언어")) " " (c.locale)
            @if let Some(l) = &c.location_id { " · " (ctx.location_name(l)) }
        }
        (transcript(&ctx, &c))
        @if c.handoff != "closed" {
            form.card method="post" action=(format!("/console/chats/{}/reply", c.id)) {
                (ctx.csrf_field())
                div.field {
                    label for="f-reply" { (ctx.t("Your answer (the shopper sees it in their chat)", "답변 (고객의 채팅 창에 보입니다)")) }
                    textarea #f-reply name="text" maxlength="500" rows="3" required {}
                }
                button type="submit" { (ctx.t("Send", "보내기")) }
            }
            form method="post" action=(format!("/console/chats/{}/close", c.id)) {
                (ctx.csrf_field())
                button.secondary type="submit" { (ctx.t("Close the chat", "채팅 종료")) }
            }
        }
    };
    page(&ctx, ctx.t("Chat", "채팅"), body)
}

fn transcript(ctx: &Ctx, c: &ConversationView) -> Markup {
    html! {
        ol.chat-log {
            @for m in &c.messages {
                li.msg.(m.role.as_str()) {
                    p.small.muted {
                        (match m.role.as_str() {
                            "shopper" => ctx.t("Shopper", "고객"),
                            "assistant" => ctx.t("Assistant", "쇼핑 도우미"),
                            _ => ctx.t("Staff", "직원"),
                        })
                        " · " (ctx.when(&m.at))
                    }
                    p { (m.text) }
                    @if let Some(ps) = m.body.as_ref().and_then(|b| b["products"].as_array()).filter(|p| !p.is_empty()) {
                        ul.small { @for p in ps {
                            li {
                                (p["title"].as_str().unwrap_or_default())
                                @if let (Some(a), Some(cur)) = (p["price"]["amount_minor"].as_i64(), p["price"]["currency"].as_str()) {
                                    " · " (crate::fmt::money(a, cur))
                                }
                                " · " span.muted { (p["availability"].as_str().unwrap_or_default()) }
                            }
                        } }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ReplyIn {
    #[serde(default)]
    text: String,
}

async fn reply(Path(id): Path<String>, p: Posted<ReplyIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    let back = format!("/console/chats/{id}");
    if p.form.text.trim().is_empty() {
        return redirect_with(ctx, &back, false, ctx.t("Type an answer first.", "답변을 먼저 입력해 주세요."));
    }
    match ctx.engine().assistant_staff_reply(&ctx.staff.principal(), &id, &p.form.text).await {
        Ok(()) => redirect_with(
            ctx,
            &back,
            true,
            ctx.t("Sent: the shopper sees it in their chat.", "보냈습니다. 고객의 채팅 창에 보입니다."),
        ),
        Err(e) => engine_error(ctx, &e),
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn close(Path(id): Path<String>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    match ctx.engine().assistant_close(&ctx.staff.principal(), &id).await {
        Ok(()) => redirect_with(ctx, "/console/chats", true, ctx.t("The chat is closed.", "채팅을 종료했습니다.")),
        Err(e) => engine_error(ctx, &e),
    }
}
