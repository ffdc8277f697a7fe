//! Orders: the list over every channel with its filters (channel, status, location, dates, and one box for
//! an order id, email, phone or pickup code) and keyset paging; an order's page with its lines and routing,
//! payment and ledger entries, a timeline from the event feed and the audit log, its actions (ready, hand
//! over by code, ship, cancel, return with refund) and a printable receipt.

use super::{
    channel_name, engine_error, location_options, page, page_status, redirect_with, status_pill, urlencode, Ctx,
    Posted, PAGE,
};
use crate::fmt;
use crate::forms::{self, FormState};
use crate::Web;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::Permission;
use engine::sales::orders::{OrderQuery, OrderView};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/orders", get(list))
        .route("/console/orders/{id}", get(detail))
        .route("/console/orders/{id}/receipt", get(receipt))
        .route("/console/orders/{id}/ready", post(ready))
        .route("/console/orders/{id}/handover", post(handover))
        .route("/console/orders/{id}/ship", post(ship))
        .route("/console/orders/{id}/cancel", post(cancel))
        .route("/console/orders/{id}/return", post(take_return))
}

#[derive(Deserialize, Default)]
pub(super) struct ListQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    after: String,
}

const STATUSES: &[(&str, &str, &str)] = &[
    ("placed", "Placed", "주문 접수"),
    ("ready_for_pickup", "Ready for pickup", "픽업 준비 완료"),
    ("picked_up", "Collected", "픽업 완료"),
    ("shipped", "Shipped", "발송"),
    ("completed", "Completed", "완료"),
    ("cancelled", "Cancelled", "취소"),
    ("expired", "Expired", "기한 만료"),
];

async fn list(ctx: Ctx, Query(q): Query<ListQ>) -> Response {
    let tz = ctx.tz();
    let mut form = FormState::default();
    let from = match q.from.trim() {
        "" => None,
        d => fmt::parse_date(d, &tz).or_else(|| {
            form.error("from", ctx.t("Use a date like 2026-12-04.", "2026-12-04 형식으로 입력해 주세요."));
            None
        }),
    };
    let to = match q.to.trim() {
        "" => None,
        d => fmt::parse_date(d, &tz).map(|t| t + 86_400_000).or_else(|| {
            form.error("to", ctx.t("Use a date like 2026-12-04.", "2026-12-04 형식으로 입력해 주세요."));
            None
        }),
    };
    let pick = |v: &str, allowed: &[&str]| Some(v.to_owned()).filter(|v| allowed.contains(&v.as_str()));
    let query = OrderQuery {
        after: Some(q.after.clone()).filter(|a| a.starts_with("ord_")),
        limit: PAGE + 1,
        status: pick(&q.status, &STATUSES.iter().map(|s| s.0).collect::<Vec<_>>()),
        location_id: ctx.scope(Some(&q.location)),
        customer_id: None,
        channel: pick(&q.channel, &["web", "pos", "cashierless"]),
        placed_from: from,
        placed_before: to,
        search: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    // An order number typed in full opens that order, wherever it was placed (a return at another store
    // starts from the receipt's number; the page decides what this staff member may do with it).
    let typed = q.q.trim();
    if typed.starts_with("ord_")
        && !typed.contains(char::is_whitespace)
        && ctx.engine().order(typed, false).await.is_ok()
    {
        return axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!(
            "/console/orders/{}",
            urlencode(typed)
        )));
    }
    let mut orders = match ctx.engine().orders(query).await {
        Ok(o) => o,
        Err(e) => return engine_error(&ctx, &e),
    };
    let more = orders.len() > PAGE;
    orders.truncate(PAGE);
    let values = [
        ("q", &q.q),
        ("channel", &q.channel),
        ("status", &q.status),
        ("location", &q.location),
        ("from", &q.from),
        ("to", &q.to),
    ];
    let keep: String =
        values.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("&{k}={}", urlencode(v))).collect();
    let owner = ctx.staff.location_id.is_none();
    let body = html! {
        h1 { (ctx.t("Orders", "주문")) }
        form.card method="get" action="/console/orders" data-autosubmit role="search" {
            div.row {
                div.grow { (forms::Field::new("q", ctx.t("Order, email, phone or pickup code", "주문번호·이메일·전화번호·픽업 코드"), &form, &q.q)
                    .kind("search").attrs(&[("data-search", ""), ("autocomplete", "off")]).render(&form)) }
                div.field { label for="f-channel" { (ctx.t("Channel", "채널")) }
                    select #f-channel name="channel" {
                        option value="" { (ctx.t("All", "전체")) }
                        @for c in ["web", "pos", "cashierless"] { option value=(c) selected[q.channel == c] { (channel_name(&ctx, c)) } }
                    } }
                div.field { label for="f-status" { (ctx.t("Status", "상태")) }
                    select #f-status name="status" {
                        option value="" { (ctx.t("All", "전체")) }
                        @for (s, en, ko) in STATUSES { option value=(s) selected[q.status == *s] { (ctx.t(en, ko)) } }
                    } }
                @if owner {
                    div.field { label for="f-location" { (ctx.t("Location", "지점")) }
                        select #f-location name="location" { (location_options(&ctx, Some(&q.location), Some(ctx.t("All", "전체")), &[])) } }
                }
                div { (forms::Field::new("from", ctx.t("From", "시작일"), &form, &q.from).kind("date").render(&form)) }
                div { (forms::Field::new("to", ctx.t("To", "종료일"), &form, &q.to).kind("date").render(&form)) }
                div.shrink.field { button type="submit" { (ctx.t("Find", "찾기")) } }
            }
        }
        @if orders.is_empty() {
            p.alert.info { (ctx.t("No orders match. Clear a filter or check the number.", "조건에 맞는 주문이 없습니다. 필터를 지우거나 번호를 확인해 주세요.")) }
        } @else {
            div.table-wrap { table {
                caption.sr-only { (ctx.t("Orders, newest first", "주문 목록(최신순)")) }
                thead { tr {
                    th { (ctx.t("Order", "주문")) } th { (ctx.t("Placed", "주문 시각")) } th { (ctx.t("Channel", "채널")) }
                    th { (ctx.t("Status", "상태")) } th { (ctx.t("Customer", "고객")) } th { (ctx.t("Location", "지점")) } th.num { (ctx.t("Total", "합계")) }
                } }
                tbody { @for o in &orders { (row(&ctx, o)) } }
            } }
        }
        div.pager {
            @if !q.after.is_empty() { a.button.secondary href=(format!("/console/orders?{}", keep.trim_start_matches('&'))) { "« " (ctx.t("Newest", "처음으로")) } } @else { span {} }
            @if more { @if let Some(last) = orders.last() {
                a.button.secondary href=(format!("/console/orders?after={}{keep}", last.id)) rel="next" { (ctx.t("Older", "다음")) " »" }
            } }
        }
    };
    let status = if form.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(&ctx, status, ctx.t("Orders", "주문"), body)
}

fn row(ctx: &Ctx, o: &OrderView) -> Markup {
    html! {
        tr {
            td { a.mono href=(format!("/console/orders/{}", o.id)) { (o.id) } }
            td { (ctx.when(&o.placed_at)) }
            td { (channel_name(ctx, &o.channel)) @if o.fulfillment_type == "pickup" { " · " (ctx.t("pickup", "픽업")) } @else if o.fulfillment_type == "delivery" { " · " (ctx.t("delivery", "배송")) } }
            td { (status_pill(ctx, &o.status)) }
            td { (o.email.as_deref().unwrap_or("—")) }
            td { (o.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_default()) }
            td.num { (fmt::money(o.total.amount_minor, &o.currency)) }
        }
    }
}

pub(super) async fn load(ctx: &Ctx, id: &str) -> Result<OrderView, Response> {
    load_for(ctx, id, false).await
}

/// [`load`], or with `for_return` also an order of another location that can still be returned: returns are
/// taken at any store, so its page opens there (with the return form only; its other actions stay with its
/// own store).
async fn load_for(ctx: &Ctx, id: &str, for_return: bool) -> Result<OrderView, Response> {
    let o = ctx.engine().order(id, false).await.map_err(|e| engine_error(ctx, &e))?;
    // Staff bound to a location see its orders only (and delivery lines shipped from it).
    if let Some(own) = ctx.scope(None) {
        let here = o.location_id.as_deref() == Some(own.as_str()) || o.lines.iter().any(|l| l.location_id == own);
        let returnable = for_return
            && ctx.may(Permission::Returns)
            && returnable_status(&o.status)
            && o.lines.iter().any(|l| l.returned_quantity < l.quantity);
        if !here && !returnable {
            return Err(super::refused(
                ctx,
                StatusCode::FORBIDDEN,
                ctx.t(
                    "This order belongs to another location. Ask that store, or the owner, to handle it.",
                    "다른 지점의 주문입니다. 해당 매장이나 점주에게 처리를 요청해 주세요.",
                ),
            ));
        }
    }
    Ok(o)
}

/// Statuses in which goods have reached the shopper, so a return can be taken.
fn returnable_status(status: &str) -> bool {
    matches!(status, "picked_up" | "shipped" | "completed")
}

async fn detail(ctx: Ctx, Path(id): Path<String>) -> Response {
    let o = match load_for(&ctx, &id, true).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    render_detail(&ctx, &o, &FormState::default(), StatusCode::OK).await
}

/// An order event in the reader's words; a sale at a till or a cashierless exit reserves nothing.
fn event_text<'a>(ctx: &Ctx, kind: &'a str, in_store: bool) -> &'a str {
    match kind {
        "order.placed" if in_store => ctx.t("Sale recorded", "판매 기록"),
        "order.placed" => ctx.t("Order placed; stock reserved", "주문 접수, 재고 예약"),
        "order.ready_for_pickup" => {
            ctx.t("Ready for pickup; code sent to the shopper", "픽업 준비 완료, 고객에게 코드 발송")
        }
        "order.picked_up" => ctx.t("Handed over at the desk", "데스크에서 인도 완료"),
        "order.shipped" => ctx.t("Shipped", "발송"),
        "order.completed" => ctx.t("Sold and paid", "판매·결제 완료"),
        "order.cancelled" => ctx.t("Cancelled; stock released", "취소, 재고 예약 해제"),
        "order.expired" => ctx.t("Not collected in time; stock released", "픽업 기한 만료, 재고 예약 해제"),
        "return.created" => ctx.t("Returned and refunded", "반품·환불"),
        "payment.captured" => ctx.t("Payment captured", "결제 확정"),
        "payment.refunded" => ctx.t("Refunded", "환불"),
        other => other,
    }
}

/// What a staff member or key did to an order (the audit log's action), in the reader's words.
fn audit_text<'a>(ctx: &Ctx, action: &'a str) -> &'a str {
    match action {
        "order.sold" => ctx.t("Rung up at the till", "계산대에서 판매"),
        "order.readied" => ctx.t("Marked ready for pickup", "픽업 준비 처리"),
        "order.handed_over" => ctx.t("Handed over", "인도 처리"),
        "order.shipped" => ctx.t("Marked shipped", "발송 처리"),
        "order.cancelled" => ctx.t("Cancelled", "취소 처리"),
        "return.taken" => ctx.t("Return taken", "반품 접수"),
        "ledger.posted" => ctx.t("Money posted", "금액 처리"),
        other => other,
    }
}

fn actor_name(ctx: &Ctx, actor: &str) -> String {
    match actor.strip_prefix("staff:") {
        Some(id) if id == ctx.staff.id => ctx.t("you", "나").to_owned(),
        Some(id) => format!("{} {id}", ctx.t("staff", "직원")),
        None => format!("{} {actor}", ctx.t("API key", "API 키")),
    }
}

async fn render_detail(ctx: &Ctx, o: &OrderView, form: &FormState, status: StatusCode) -> Response {
    let trail = match ctx.engine().order_trail(&o.id).await {
        Ok(t) => t,
        Err(e) => return engine_error(ctx, &e),
    };
    let at_own = |loc: Option<&str>| ctx.scope(None).is_none_or(|own| loc == Some(own.as_str()));
    let here = at_own(o.location_id.as_deref());
    // Another store's order, opened here only to take its return: its lines and the return form, not the
    // customer's details, its trail or its money.
    let visiting = !here && !o.lines.iter().any(|l| at_own(Some(&l.location_id)));
    let can_ready = o.status == "placed" && o.fulfillment_type == "pickup" && ctx.may(Permission::PickupDesk) && here;
    let can_handover = o.status == "ready_for_pickup" && ctx.may(Permission::PickupDesk) && here;
    let can_ship = o.status == "placed" && o.fulfillment_type == "delivery" && ctx.may(Permission::Orders) && !visiting;
    let can_cancel = matches!(o.status.as_str(), "placed" | "ready_for_pickup") && ctx.may(Permission::Orders) && here;
    let returnable = returnable_status(&o.status)
        && ctx.may(Permission::Returns)
        && o.lines.iter().any(|l| l.returned_quantity < l.quantity);
    let in_store = o.fulfillment_type == "in_store";
    let mut timeline: Vec<(String, String)> =
        trail.events.iter().map(|e| (e.created_at.clone(), event_text(ctx, &e.kind, in_store).to_owned())).collect();
    timeline.extend(
        trail
            .audit
            .iter()
            .map(|a| (a.at.clone(), format!("{} — {}", audit_text(ctx, &a.action), actor_name(ctx, &a.actor)))),
    );
    timeline.sort_by(|a, b| a.0.cmp(&b.0));
    let title = format!("{} {}", ctx.t("Order", "주문"), o.id);
    let body = html! {
        p.small { a href="/console/orders" { "« " (ctx.t("Orders", "주문 목록")) } }
        h1 { span.mono { (o.id) } " " (status_pill(ctx, &o.status)) }
        (forms::summary(form, ctx.lang))
        div.grid {
            div.card {
                dl {
                    dt { (ctx.t("Placed", "주문 시각")) } dd { (ctx.when(&o.placed_at)) }
                    dt { (ctx.t("Channel", "채널")) } dd { (channel_name(ctx, &o.channel)) }
                    dt { (ctx.t("Fulfilment", "수령 방법")) } dd {
                        @match o.fulfillment_type.as_str() {
                            "pickup" => { (ctx.t("Pickup at", "매장 픽업:")) " " (o.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_default()) }
                            "delivery" => { (ctx.t("Delivery", "배송")) }
                            _ => { (ctx.t("In store", "매장 구매")) " · " (o.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_default()) }
                        }
                    }
                    @if let Some(p) = &o.pickup { @if let Some(exp) = &p.expires_at {
                        dt { (ctx.t("Collect by", "픽업 기한")) } dd { (ctx.when(exp)) }
                    } }
                    @if visiting {
                        dt { (ctx.t("Customer", "고객")) } dd { (ctx.t("Another store's order: only its return is taken here.", "다른 지점의 주문입니다. 여기서는 반품만 받을 수 있습니다.")) }
                    } @else {
                        dt { (ctx.t("Customer", "고객")) } dd {
                            @if let Some(c) = &o.customer_id { a href=(format!("/console/customers/{c}")) { (o.email.as_deref().unwrap_or(c)) } }
                            @else { (o.email.as_deref().unwrap_or(ctx.t("Guest", "비회원"))) }
                        }
                    }
                    @if let Some(a) = o.shipping_address.as_ref().filter(|_| !visiting) {
                        dt { (ctx.t("Ship to", "배송지")) } dd { (a.recipient) " · " (a.line1) " " (a.line2) ", " (a.city) " " (a.postal_code) " " (a.country) }
                    }
                    dt { (ctx.t("Payment", "결제")) } dd { (super::method_name(ctx, &o.payment.method)) " " (super::payment_pill(ctx, &o.payment.method, &o.payment.status)) }
                }
            }
            div.card {
                h2 { (ctx.t("Actions", "작업")) }
                @if can_ready {
                    form method="post" action=(format!("/console/orders/{}/ready", o.id)) {
                        (ctx.csrf_field())
                        button type="submit" { (ctx.t("Ready for pickup", "픽업 준비 완료")) }
                    }
                }
                @if can_handover { (handover_form(ctx, o, form)) }
                @if can_ship {
                    form method="post" action=(format!("/console/orders/{}/ship", o.id)) {
                        (ctx.csrf_field())
                        button type="submit" { (ctx.t("Mark shipped", "발송 처리")) }
                    }
                }
                @if can_cancel {
                    form method="post" action=(format!("/console/orders/{}/cancel", o.id)) hx-confirm=(ctx.t("Cancel this order and release its stock?", "이 주문을 취소하고 재고 예약을 풀까요?")) {
                        (ctx.csrf_field())
                        (forms::Field::new("reason", ctx.t("Reason for cancelling", "취소 사유"), form, "").render(form))
                        button.danger type="submit" { (ctx.t("Cancel order", "주문 취소")) }
                    }
                }
                @if matches!(o.status.as_str(), "picked_up" | "completed") && !visiting {
                    p { a href=(format!("/console/orders/{}/receipt", o.id)) { (ctx.t("Receipt", "영수증")) } }
                }
                @if !(can_ready || can_handover || can_ship || can_cancel || returnable) {
                    p.muted { (ctx.t("Nothing to do for this order now.", "지금 이 주문에 할 작업이 없습니다.")) }
                }
            }
        }
        h2 { (ctx.t("Lines", "상품")) }
        div.table-wrap { table {
            thead { tr { th { "SKU" } th { (ctx.t("Item", "상품명")) } th.num { (ctx.t("Qty", "수량")) } th.num { (ctx.t("Returned", "반품")) }
                th.num { (ctx.t("Price", "단가")) } th.num { (ctx.t("Total", "합계")) } th { (ctx.t("From", "출고 지점")) } } }
            tbody {
                @for l in &o.lines {
                    tr {
                        td.mono { (l.sku) }
                        td { (ctx.lang.t(&l.title.en, &l.title.ko))
                            @if !l.options.is_empty() { " · " span.muted { (fmt::options_text(&l.options, ctx.lang)) } }
                            @if let Some(r) = &l.routing { div.small.muted { (ctx.t("Routing: ", "배정 이유: ")) (r) } } }
                        td.num { (l.quantity) }
                        td.num { (l.returned_quantity) }
                        td.num { (fmt::money(l.unit_price.amount_minor, &l.unit_price.currency)) }
                        td.num { (fmt::money(l.line_total.amount_minor, &l.line_total.currency)) }
                        td { (ctx.location_name(&l.location_id)) }
                    }
                }
                tr { td colspan="5" { strong { (ctx.t("Order total", "주문 합계")) } } td.num { strong { (fmt::money(o.total.amount_minor, &o.currency)) } } td {} }
            }
        } }
        @if returnable { (return_form(ctx, o, form)) }
        @if !visiting { div.grid {
            section.card {
                h2 { (ctx.t("Timeline", "진행 기록")) }
                ol.timeline { @for (at, text) in &timeline { li { span.muted.small { (ctx.when(at)) } br; (text) } } }
            }
            section.card {
                h2 { (ctx.t("Money", "결제 원장")) }
                @if trail.ledger.is_empty() { p.muted { (ctx.t("No money has moved for this order.", "이 주문으로 움직인 금액이 없습니다.")) } }
                @else { div.table-wrap { table {
                    thead { tr { th { (ctx.t("When", "시각")) } th { (ctx.t("Kind", "종류")) } th { (ctx.t("From → to", "출금 → 입금")) } th.num { (ctx.t("Amount", "금액")) } } }
                    tbody { @for t in &trail.ledger { tr {
                        td { (fmt::datetime(t.at, &ctx.tz(), ctx.lang, ctx.now)) }
                        td { (ledger_kind(ctx, &t.kind)) div.small.muted { (t.reason) } }
                        td.small.mono { (t.debit) " → " (t.credit) }
                        td.num { (fmt::money(t.amount_minor, &t.currency)) }
                    } } }
                } } }
            }
        } }
    };
    page_status(ctx, status, &title, body)
}

fn ledger_kind<'a>(ctx: &Ctx, kind: &'a str) -> &'a str {
    match kind {
        "pending" => ctx.t("Hold", "승인(보류)"),
        "post_pending" => ctx.t("Captured", "결제 확정"),
        "void_pending" => ctx.t("Hold released", "승인 취소"),
        "expire_pending" => ctx.t("Hold expired", "승인 만료"),
        "single" => ctx.t("Transfer", "이체"),
        other => other,
    }
}

fn handover_form(ctx: &Ctx, o: &OrderView, form: &FormState) -> Markup {
    html! {
        form method="post" action=(format!("/console/orders/{}/handover", o.id)) {
            (ctx.csrf_field())
            (forms::Field::new("code", ctx.t("Shopper's pickup code", "고객 픽업 코드"), form, "")
                .hint(ctx.t("Six digits on the shopper's order page or QR.", "고객 주문 화면 또는 QR의 숫자 6자리"))
                .attrs(&[("inputmode", "numeric"), ("autocomplete", "off"), ("pattern", "[0-9]{6}"), ("maxlength", "6"), ("class", "code-input")])
                .required().render(form))
            (collect_field(ctx, o, form))
            button type="submit" { (ctx.t("Hand over", "인도 완료")) }
        }
    }
}

/// Whether an order is paid at the desk and not paid yet: staff take the money before handing it over.
pub(super) fn to_collect(o: &OrderView) -> bool {
    o.payment.method == "pay_at_pickup" && o.payment.status != "paid"
}

/// For an order paid at the desk, the box staff tick once they have taken its total (cash or the card
/// terminal); the hand-over is refused without it. Nothing for other orders.
pub(super) fn collect_field(ctx: &Ctx, o: &OrderView, form: &FormState) -> Markup {
    let total = fmt::money(o.total.amount_minor, &o.currency);
    let id = format!("collected-{}", o.id);
    html! {
        @if to_collect(o) {
            div.field {
                label.check for=(id) {
                    input #(id) type="checkbox" name="collected" value="1" required;
                    " " strong { (ctx.lang.t(&format!("{total} taken"), &format!("{total} 받음"))) }
                    " " span.muted { (ctx.t("(cash or card terminal)", "(현금·카드 단말기)")) }
                }
                @if let Some(e) = form.errors.get("collected") { p.error role="alert" { (e) } }
            }
        }
    }
}

fn return_form(ctx: &Ctx, o: &OrderView, form: &FormState) -> Markup {
    let default_loc = ctx.home().map(|l| l.id.clone()).or_else(|| o.location_id.clone()).unwrap_or_default();
    html! {
        section.card {
            h2 { (ctx.t("Return", "반품")) }
            form method="post" action=(format!("/console/orders/{}/return", o.id)) {
                (ctx.csrf_field())
                (ctx.once_field(form))
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("Item", "상품")) } th.num { (ctx.t("Can return", "반품 가능")) } th { (ctx.t("Return qty", "반품 수량")) } th { (ctx.t("Condition", "상태")) } } }
                    tbody { @for l in o.lines.iter().filter(|l| l.returned_quantity < l.quantity) {
                        @let left = l.quantity - l.returned_quantity;
                        @let name = format!("qty_{}", l.sku);
                        tr {
                            td { span.mono { (l.sku) } " " (ctx.lang.t(&l.title.en, &l.title.ko)) }
                            td.num { (left) }
                            td { label.sr-only for=(format!("f-{name}")) { (l.sku) " " (ctx.t("return quantity", "반품 수량")) }
                                input id=(format!("f-{name}")) name=(name) type="number" min="0" max=(left) value=(form.value(&name, "0")) inputmode="numeric"; }
                            td { label.sr-only for=(format!("f-cond_{}", l.sku)) { (ctx.t("Condition", "상태")) }
                                select id=(format!("f-cond_{}", l.sku)) name=(format!("cond_{}", l.sku)) {
                                    option value="restock" { (ctx.t("Back on the shelf", "재판매 가능")) }
                                    option value="unsellable" selected[form.value(&format!("cond_{}", l.sku), "") == "unsellable"] { (ctx.t("Damaged", "손상(판매 불가)")) }
                                } }
                        }
                    } }
                } }
                div.row {
                    div.field { label for="f-return_location" { (ctx.t("Returned at", "반품 받은 지점")) }
                        select #f-return_location name="location" {
                            @if ctx.staff.location_id.is_some() { (location_options(ctx, Some(&default_loc), None, &[])) }
                            @else { (location_options(ctx, Some(form.value("location", &default_loc)), None, &[])) }
                        } }
                    div.field { label for="f-refund_to" { (ctx.t("Refund to", "환불 방법")) }
                        select #f-refund_to name="refund_to" {
                            option value="original" { (ctx.t("The tenders that paid", "원래 결제 수단")) }
                            @if o.customer_id.is_some() { option value="store_credit" selected[form.value("refund_to", "") == "store_credit"] { (ctx.t("Store credit", "적립금")) } }
                        } }
                    div.grow { (forms::Field::new("reason", ctx.t("Reason", "반품 사유"), form, "").render(form)) }
                }
                button type="submit" { (ctx.t("Take return and refund", "반품 접수·환불")) }
            }
        }
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn ready(Path(id): Path<String>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::PickupDesk) {
        return r;
    }
    match ctx.engine().ready_for_pickup(&ctx.staff.principal(), &id).await {
        Ok(_) => redirect_with(
            ctx,
            &back(&p.raw, &id),
            true,
            ctx.t("Marked ready. The shopper has been told.", "픽업 준비 완료로 바꾸었습니다. 고객에게 알렸습니다."),
        ),
        Err(e) => action_failed(ctx, &id, &e, &p).await,
    }
}

/// Where to go after an action: the page it was taken from (the pickup desk or the order).
fn back(raw: &[(String, String)], id: &str) -> String {
    match raw.iter().find(|(k, _)| k == "back").map(|(_, v)| v.as_str()) {
        Some("pickup") => "/console/pickup".to_owned(),
        _ => format!("/console/orders/{id}"),
    }
}

async fn action_failed<T>(ctx: &Ctx, id: &str, e: &engine::EngineError, p: &Posted<T>) -> Response {
    if back(&p.raw, id) == "/console/pickup" {
        return redirect_with(ctx, "/console/pickup", false, &forms::explain(e, ctx.lang));
    }
    let mut form = p.state();
    form.engine_error(e, ctx.lang, &[("code", "code"), ("reason", "reason"), ("quantity", "reason")]);
    if let engine::EngineError::Conflict { code: "wrong_pickup_code", .. } = e {
        form.general = None;
        form.error("code", forms::explain(e, ctx.lang));
    }
    match load(ctx, id).await {
        Ok(o) => render_detail(ctx, &o, &form, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct CodeIn {
    #[serde(default)]
    code: String,
    /// Ticked when the order is paid at the desk and its total was taken.
    #[serde(default)]
    collected: Option<String>,
}

async fn handover(Path(id): Path<String>, p: Posted<CodeIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::PickupDesk) {
        return r;
    }
    let code: String = p.form.code.chars().filter(char::is_ascii_digit).collect();
    if code.len() != 6 {
        let e = engine::EngineError::invalid("wrong_pickup_code", "`code` must be the six digits the shopper shows");
        let mut form = p.state();
        form.error(
            "code",
            ctx.t("Type the six digits the shopper shows.", "고객이 보여 주는 숫자 6자리를 입력해 주세요."),
        );
        if back(&p.raw, &id) == "/console/pickup" {
            return redirect_with(ctx, "/console/pickup", false, &forms::explain(&e, ctx.lang));
        }
        return match load(ctx, &id).await {
            Ok(o) => render_detail(ctx, &o, &form, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(r) => r,
        };
    }
    if p.form.collected.is_none() {
        let o = match load(ctx, &id).await {
            Ok(o) => o,
            Err(r) => return r,
        };
        if to_collect(&o) {
            let total = fmt::money(o.total.amount_minor, &o.currency);
            let (en, ko) = (
                format!("This order is paid here: take {total} (cash or card terminal), tick the box, then hand it over."),
                format!("매장에서 결제하는 주문입니다. {total}을(를) 받은 뒤(현금·카드 단말기) 확인란에 표시하고 인도해 주세요."),
            );
            let text = ctx.lang.t(&en, &ko);
            if back(&p.raw, &id) == "/console/pickup" {
                return redirect_with(ctx, "/console/pickup", false, text);
            }
            let mut form = p.state();
            form.error("collected", text);
            return render_detail(ctx, &o, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    }
    match ctx.engine().picked_up(&ctx.staff.principal(), &id, &code).await {
        Ok(o) => redirect_with(
            ctx,
            &back(&p.raw, &id),
            true,
            &format!(
                "{} {} — {}",
                ctx.t("Handed over", "인도 완료"),
                o.id,
                fmt::money(o.total.amount_minor, &o.currency)
            ),
        ),
        Err(e) => action_failed(ctx, &id, &e, &p).await,
    }
}

async fn ship(Path(id): Path<String>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Orders) {
        return r;
    }
    // Only an order of this staff member's location (or shipped from it) is theirs to ship.
    if let Err(r) = load(ctx, &id).await {
        return r;
    }
    match ctx.engine().ship(&ctx.staff.principal(), &id).await {
        Ok(_) => {
            redirect_with(ctx, &format!("/console/orders/{id}"), true, ctx.t("Marked shipped.", "발송 처리했습니다."))
        }
        Err(e) => action_failed(ctx, &id, &e, &p).await,
    }
}

#[derive(Deserialize)]
struct ReasonIn {
    #[serde(default)]
    reason: String,
}

async fn cancel(Path(id): Path<String>, p: Posted<ReasonIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Orders) {
        return r;
    }
    if let Err(r) = load(ctx, &id).await {
        return r;
    }
    let reason = if p.form.reason.trim().is_empty() { "cancelled at the console" } else { p.form.reason.trim() };
    match ctx.engine().cancel(&ctx.staff.principal(), &id, reason).await {
        Ok(_) => redirect_with(
            ctx,
            &format!("/console/orders/{id}"),
            true,
            ctx.t(
                "Cancelled; the stock is free again and any hold released.",
                "취소했습니다. 재고 예약과 결제 승인이 풀렸습니다.",
            ),
        ),
        Err(e) => action_failed(ctx, &id, &e, &p).await,
    }
}

async fn take_return(Path(id): Path<String>, p: Posted<ReasonIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Returns) {
        return r;
    }
    // Returns are taken anywhere, but only of an order with something left to return (the page's rule).
    let o = match load_for(ctx, &id, true).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut form = p.state();
    let mut lines = Vec::new();
    for l in &o.lines {
        let raw = form.value(&format!("qty_{}", l.sku), "0").trim().to_owned();
        match raw.parse::<i64>() {
            Ok(0) => {}
            // Up to what was bought: the engine checks what is left (and a retried form gets its first
            // result back instead of a refusal).
            Ok(n) if n > 0 && n <= l.quantity => lines.push(engine::sales::orders::ReturnLineInput {
                sku: l.sku.clone(),
                quantity: n,
                disposition: Some(form.value(&format!("cond_{}", l.sku), "restock").to_owned()),
            }),
            _ => form.error(
                &format!("qty_{}", l.sku),
                format!("{} 0–{}", ctx.t("Enter a quantity between", "반품 수량은"), l.quantity),
            ),
        }
    }
    if lines.is_empty() && form.is_ok() {
        form.general = Some(
            ctx.t("Enter how many of which item come back.", "어떤 상품을 몇 개 반품하는지 입력해 주세요.").to_owned(),
        );
    }
    if !form.is_ok() {
        return render_detail(ctx, &o, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let location = ctx.scope(None).unwrap_or_else(|| form.value("location", "").to_owned());
    let input = engine::sales::orders::ReturnInput {
        order_id: id.clone(),
        location_id: location,
        lines,
        reason: p.form.reason.trim().to_owned(),
        refund_to: Some(form.value("refund_to", "original").to_owned()),
    };
    let hash = engine::platform::idempotency::fingerprint(&[&format!("{input:?}")]);
    match ctx.engine().create_return(&ctx.staff.principal(), input, p.once().map(str::to_owned), hash).await {
        Ok(r) => redirect_with(
            ctx,
            &format!("/console/orders/{id}"),
            true,
            &format!(
                "{} {} ({})",
                ctx.t("Return taken; refunded", "반품 접수, 환불 완료:"),
                fmt::money(r.refund.amount.amount_minor, &r.refund.amount.currency),
                super::method_name(ctx, &r.refund.method)
            ),
        ),
        Err(e) => {
            form.engine_error(&e, ctx.lang, &[]);
            render_detail(ctx, &o, &form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn receipt(ctx: Ctx, Path(id): Path<String>) -> Response {
    let o = match load(&ctx, &id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let tz = ctx.tz();
    let placed = fmt::parse_instant(&o.placed_at).unwrap_or(ctx.now);
    let body = html! {
        div.actions.no-print {
            a.button.secondary href=(format!("/console/orders/{}", o.id)) { "« " (ctx.t("Order", "주문")) }
            button type="button" data-print hidden { (ctx.t("Print", "인쇄")) }
            @if ctx.may(Permission::Till) { a.button href="/console/till" { (ctx.t("Next sale", "다음 판매")) } }
        }
        div.receipt {
            h1 { "borderless" }
            p { (o.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_default()) br; (fmt::datetime(placed, &tz, ctx.lang, ctx.now)) br; span.mono { (o.id) } }
            table {
                tbody {
                    @for l in &o.lines { tr { td { (ctx.lang.t(&l.title.en, &l.title.ko)) " × " (l.quantity) } td.num { (fmt::money(l.line_total.amount_minor, &l.line_total.currency)) } } }
                    tr { th { (ctx.t("Total", "합계")) } th.num { (fmt::money(o.total.amount_minor, &o.currency)) } }
                    tr { td { (ctx.t("Paid by", "결제 수단")) } td.num { (super::method_name(&ctx, &o.payment.method)) } }
                }
            }
            p.small { (ctx.t("Returns are accepted at any of our stores with this receipt.", "이 영수증으로 모든 매장에서 반품할 수 있습니다.")) }
        }
    };
    page(&ctx, ctx.t("Receipt", "영수증"), body)
}
