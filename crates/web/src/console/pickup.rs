//! The pickup desk: the store's queue of click & collect orders (to prepare, overdue first, then ready to
//! collect), refreshed every few seconds without a reload; "ready" in one click, and hand-over by the code
//! the shopper shows — typed, or scanned from the QR on their phone — looked up across the queue.

use super::{engine_error, location_options, page, redirect_with, Ctx, Posted};
use crate::fmt;
use crate::forms::{self, FormState};
use crate::Web;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::Permission;
use engine::sales::orders::{OrderQuery, OrderView};
use engine::sales::report::PREP_SLA_MS;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/pickup", get(desk))
        .route("/console/pickup/queue", get(queue_fragment))
        .route("/console/pickup/code", post(by_code))
}

#[derive(Deserialize, Default)]
struct DeskQ {
    #[serde(default)]
    location: String,
}

async fn queue(ctx: &Ctx, location: &str) -> Result<(Option<String>, Vec<OrderView>), Response> {
    let scope = ctx.scope(Some(location));
    let mut q = ctx.engine().pickup_queue(scope.clone()).await.map_err(|e| engine_error(ctx, &e))?;
    // Overdue first, then oldest first.
    q.sort_by_key(|o| {
        let placed = fmt::parse_instant(&o.placed_at).unwrap_or(0);
        let overdue = o.status == "placed" && ctx.now - placed > PREP_SLA_MS;
        (!overdue, o.status != "placed", placed)
    });
    Ok((scope, q))
}

async fn desk(ctx: Ctx, Query(q): Query<DeskQ>) -> Response {
    if let Err(r) = ctx.require(Permission::PickupDesk) {
        return r;
    }
    let (scope, orders) = match queue(&ctx, &q.location).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let form = FormState::default();
    let refresh = format!("/console/pickup/queue?location={}", scope.as_deref().unwrap_or(""));
    let body = html! {
        h1 { (ctx.t("Pickup desk", "픽업 데스크")) @if let Some(s) = &scope { span.muted.small { " · " (ctx.location_name(s)) } } }
        @if ctx.staff.location_id.is_none() {
            form.card method="get" action="/console/pickup" data-autosubmit {
                div.row {
                    div.field { label for="f-location" { (ctx.t("Store", "매장")) }
                        select #f-location name="location" { (location_options(&ctx, scope.as_deref(), Some(ctx.t("All stores", "전체 매장")), &["store", "cashierless"])) } }
                    div.shrink.field { button type="submit" { (ctx.t("Show", "보기")) } }
                }
            }
        }
        section.card aria-labelledby="code-h" {
            h2 #code-h { (ctx.t("Hand over by code", "코드로 인도")) }
            form method="post" action="/console/pickup/code" {
                (ctx.csrf_field())
                input type="hidden" name="location" value=(scope.as_deref().unwrap_or(""));
                div.row {
                    div.grow { (forms::Field::new("code", ctx.t("Pickup code (6 digits)", "픽업 코드(숫자 6자리)"), &form, "")
                        .attrs(&[("inputmode", "numeric"), ("autocomplete", "off"), ("maxlength", "64"), ("class", "code-input"), ("data-autofocus", "")])
                        .required().render(&form)) }
                    div.shrink.field {
                        button.secondary type="button" data-scan="f-code" data-denied=(ctx.t("The camera is not available: type the code.", "카메라를 쓸 수 없습니다. 코드를 입력해 주세요.")) hidden { (ctx.t("Scan QR", "QR 스캔")) }
                    }
                    div.shrink.field { button type="submit" { (ctx.t("Find and hand over", "찾아서 인도")) } }
                }
                div.scanner #f-code-camera hidden {}
                div.field { label.check for="f-collected" {
                    input #f-collected type="checkbox" name="collected" value="1";
                    " " (ctx.t("Payment taken, for an order paid here (cash or card terminal)", "매장 결제 주문이면 결제 받음(현금·카드 단말기)"))
                } }
            }
        }
        h2 { (ctx.t("Queue", "대기 목록")) }
        div #queue hx-get=(refresh) hx-trigger="every 5s" hx-swap="innerHTML" aria-live="polite" {
            (queue_cards(&ctx, &orders))
        }
    };
    page(&ctx, ctx.t("Pickup desk", "픽업 데스크"), body)
}

async fn queue_fragment(ctx: Ctx, Query(q): Query<DeskQ>) -> Response {
    if let Err(r) = ctx.require(Permission::PickupDesk) {
        return r;
    }
    match queue(&ctx, &q.location).await {
        Ok((_, orders)) => queue_cards(&ctx, &orders).into_response(),
        Err(r) => r,
    }
}

fn queue_cards(ctx: &Ctx, orders: &[OrderView]) -> Markup {
    let tz = ctx.tz();
    html! {
        @if orders.is_empty() {
            p.muted { (ctx.t("No pickups waiting.", "기다리는 픽업 주문이 없습니다.")) }
        }
        div.queue {
            @for o in orders {
                @let placed = fmt::parse_instant(&o.placed_at).unwrap_or(ctx.now);
                @let overdue = o.status == "placed" && ctx.now - placed > PREP_SLA_MS;
                article.card.overdue[overdue] aria-label=(o.id) {
                    div.row {
                        div { a.mono href=(format!("/console/orders/{}", o.id)) { (o.id) } }
                        div.shrink { (super::status_pill(ctx, &o.status)) @if overdue { " " span.pill.bad { (ctx.t("overdue", "지연")) } } }
                    }
                    p.small.muted { (ctx.t("Placed", "주문")) " " (fmt::clock(placed, &tz)) " (" (fmt::relative(placed, ctx.now, ctx.lang)) ")"
                        @if let Some(exp) = o.pickup.as_ref().and_then(|p| p.expires_at.as_deref()) { br; (ctx.t("Collect by", "픽업 기한")) " " (ctx.when(exp)) } }
                    ul.small { @for l in &o.lines { li { (l.quantity) " × " (ctx.lang.t(&l.title.en, &l.title.ko)) " " span.mono.muted { (l.sku) } } } }
                    p { strong { (fmt::money(o.total.amount_minor, &o.currency)) }  " · " (super::method_name(ctx, &o.payment.method)) " " (super::payment_pill(ctx, &o.payment.method, &o.payment.status)) }
                    @if o.status == "placed" {
                        form method="post" action=(format!("/console/orders/{}/ready", o.id)) {
                            (ctx.csrf_field())
                            input type="hidden" name="back" value="pickup";
                            button type="submit" { (ctx.t("Ready for pickup", "픽업 준비 완료")) }
                        }
                    } @else {
                        form method="post" action=(format!("/console/orders/{}/handover", o.id)) {
                            (ctx.csrf_field())
                            input type="hidden" name="back" value="pickup";
                            label for=(format!("code-{}", o.id)) { (ctx.t("Shopper's code", "고객 코드")) }
                            div.row {
                                div { input id=(format!("code-{}", o.id)) name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="off" required; }
                                div.shrink { button type="submit" { (ctx.t("Hand over", "인도")) } }
                            }
                            (super::orders::collect_field(ctx, o, &FormState::default()))
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct CodeIn {
    #[serde(default)]
    code: String,
    #[serde(default)]
    location: String,
    /// Ticked when the order is paid at the desk and its total was taken.
    #[serde(default)]
    collected: Option<String>,
}

/// A code typed or scanned at the desk: the six digits, or the text of the QR on the shopper's order page
/// (`borderless:pickup:{order}:{code}`); finds the ready order at this store and hands it over.
async fn by_code(p: Posted<CodeIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::PickupDesk) {
        return r;
    }
    let text = p.form.code.trim();
    let (order_hint, code) = match text.strip_prefix("borderless:pickup:").and_then(|r| r.split_once(':')) {
        Some((order, code)) => (Some(order.to_owned()), code.to_owned()),
        None => (None, text.chars().filter(char::is_ascii_digit).collect::<String>()),
    };
    let back = match ctx.scope(Some(&p.form.location)) {
        Some(l) if ctx.staff.location_id.is_none() => format!("/console/pickup?location={l}"),
        _ => "/console/pickup".to_owned(),
    };
    if code.len() != 6 {
        return redirect_with(
            ctx,
            &back,
            false,
            ctx.t(
                "Type the six digits the shopper shows, or scan their QR.",
                "고객이 보여 주는 숫자 6자리를 입력하거나 QR을 스캔해 주세요.",
            ),
        );
    }
    let order_id = match order_hint {
        Some(o) => Some(o),
        None => {
            let q = OrderQuery {
                limit: 5,
                status: Some("ready_for_pickup".into()),
                location_id: ctx.scope(Some(&p.form.location)),
                search: Some(code.clone()),
                ..Default::default()
            };
            match ctx.engine().orders(q).await {
                Ok(found) => found.first().map(|o| o.id.clone()),
                Err(e) => return engine_error(ctx, &e),
            }
        }
    };
    let Some(order_id) = order_id else {
        return redirect_with(ctx, &back, false, ctx.t(
            "No order ready for pickup here has this code. Check the digits with the shopper, or find the order by email or phone.",
            "이 매장에서 픽업 준비된 주문 중 이 코드가 없습니다. 고객과 숫자를 다시 확인하거나 이메일·전화번호로 주문을 찾아 주세요.",
        ));
    };
    if p.form.collected.is_none() {
        let o = match ctx.engine().order(&order_id, false).await {
            Ok(o) => o,
            Err(e) => return redirect_with(ctx, &back, false, &forms::explain(&e, ctx.lang)),
        };
        if super::orders::to_collect(&o) {
            let total = fmt::money(o.total.amount_minor, &o.currency);
            return redirect_with(ctx, &back, false, ctx.lang.t(
                &format!("{} is paid here: take {total} (cash or card terminal), tick \"Payment taken\" and hand it over again.", o.id),
                &format!("{}은(는) 매장에서 결제하는 주문입니다. {total}을(를) 받은 뒤(현금·카드 단말기) '결제 받음'에 표시하고 다시 인도해 주세요.", o.id),
            ));
        }
    }
    match ctx.engine().picked_up(&ctx.staff.principal(), &order_id, &code).await {
        Ok(o) => redirect_with(
            ctx,
            &back,
            true,
            &format!(
                "{} {} — {}",
                ctx.t("Handed over", "인도 완료"),
                o.id,
                fmt::money(o.total.amount_minor, &o.currency)
            ),
        ),
        Err(e) => redirect_with(ctx, &back, false, &forms::explain(&e, ctx.lang)),
    }
}
