//! The mail outbox as the owner sees it: what the shop sent or will send (sign-up confirmations, "you
//! already have an account" notes) and how delivery went. Without a mail transport, a waiting message's
//! link can be opened or handed on from here (the demo works this way).

use super::{engine_error, page, Ctx};
use crate::Web;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use engine::platform::mail::MailView;
use engine::platform::staff::Permission;
use maud::{html, Markup};

pub(super) fn router() -> Router<Web> {
    Router::new().route("/console/mail", get(list))
}

/// The first `http(s)://` link in a message body.
fn link(body: &str) -> Option<&str> {
    let start = body.find("https://").or_else(|| body.find("http://"))?;
    let rest = &body[start..];
    Some(&rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())])
}

fn status(ctx: &Ctx, s: &str) -> Markup {
    match s {
        "waiting" => html! { span.pill.warn { (ctx.t("waiting", "대기 중")) } },
        "sent" => html! { span.pill.ok { (ctx.t("sent", "발송됨")) } },
        "failed" => html! { span.pill.bad { (ctx.t("failed", "실패")) } },
        "expired" => html! { span.pill { (ctx.t("expired", "만료")) } },
        _ => html! { span.pill { (s) } },
    }
}

fn kind<'a>(ctx: &'a Ctx, k: &'a str) -> &'a str {
    match k {
        "signup_confirm" => ctx.t("Sign-up link", "가입 확인 링크"),
        "signup_existing" => ctx.t("Already a customer", "이미 가입된 주소 안내"),
        other => other,
    }
}

async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let mails: Vec<MailView> = match ctx.engine().mail_outbox(None, None, None, 100).await {
        Ok(m) => m,
        Err(e) => return engine_error(&ctx, &e),
    };
    let delivery = ctx.engine().mail_delivery();
    let body = html! {
        h1 { (ctx.t("Mail", "메일")) }
        @if delivery {
            p.muted { (ctx.t("Mail goes out over SMTP within a few seconds; failures are retried for a day. Sent messages are listed for a week, without their text.",
                             "메일은 SMTP로 몇 초 안에 발송되며, 실패하면 하루 동안 다시 시도합니다. 발송된 메일은 본문 없이 일주일 동안 표시됩니다.")) }
        } @else {
            div.alert.warn role="note" {
                strong { (ctx.t("No mail transport is set up.", "메일 발송이 설정되지 않았습니다.")) }
                p { (ctx.t("Shoppers who sign up wait for a link that cannot be sent. Start the shop with --smtp-url (or BORDERLESS_SMTP_URL), or hand a waiting link on yourself: it creates the account of whoever opens it.",
                           "가입한 고객은 발송되지 않는 링크를 기다리고 있습니다. --smtp-url(또는 BORDERLESS_SMTP_URL)로 상점을 시작하거나, 대기 중인 링크를 직접 전달하세요. 링크를 여는 사람의 계정이 만들어집니다.")) }
            }
        }
        @if mails.is_empty() {
            p.muted { (ctx.t("No mail yet.", "아직 메일이 없습니다.")) }
        } @else {
            table {
                thead { tr {
                    th { (ctx.t("Created", "생성 시각")) }
                    th { (ctx.t("To", "받는 사람")) }
                    th { (ctx.t("Message", "내용")) }
                    th { (ctx.t("Status", "상태")) }
                } }
                tbody { @for m in &mails {
                    tr {
                        td { (ctx.when(&m.created_at)) }
                        td { (m.to) }
                        td {
                            (kind(&ctx, &m.kind)) " · " (m.subject)
                            @if let Some(l) = m.body.as_deref().and_then(link) {
                                br; a href=(l) rel="noreferrer" { (ctx.t("Open the link", "링크 열기")) }
                            }
                            @if let Some(e) = &m.last_error { br; span.small.bad-text { (e) } }
                        }
                        td { (status(&ctx, &m.status)) @if m.attempts > 0 { " " span.small { "×" (m.attempts) } } }
                    }
                } }
            }
        }
    };
    page(&ctx, ctx.t("Mail", "메일"), body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_link_is_read_out_of_a_body() {
        assert_eq!(
            super::link("Open it:\nhttp://127.0.0.1:8080/account/verify?token=bl_signup_ab\n\nBye"),
            Some("http://127.0.0.1:8080/account/verify?token=bl_signup_ab")
        );
        assert_eq!(super::link("no link"), None);
    }
}
