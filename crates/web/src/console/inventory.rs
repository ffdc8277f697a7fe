//! Inventory: the SKU × location grid (on hand, reserved, safety stock, unsellable, available; low cells
//! marked), a SKU's page with its balance everywhere and its movement ledger at a location, and the forms
//! that move stock — adjustment after a count, receipt from a supplier, transfer between locations, safety
//! stock — each carrying an idempotency key, each recorded with who did it.

use super::{engine_error, location_options, page, page_status, redirect_with, urlencode, Ctx, Posted, PAGE};
use crate::fmt;
use crate::forms::{Field, FormState};
use crate::Web;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::Permission;
use engine::stock::grid::{GridQuery, LOW_STOCK_UNITS};
use engine::stock::movements::Level;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/inventory", get(grid))
        .route("/console/inventory/{sku}", get(sku_page))
        .route("/console/inventory/{sku}/adjust", post(adjust))
        .route("/console/inventory/{sku}/receive", post(receive))
        .route("/console/inventory/{sku}/transfer", post(transfer))
        .route("/console/inventory/{sku}/safety", post(safety))
}

#[derive(Deserialize, Default)]
struct GridQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    low: String,
    #[serde(default)]
    after: String,
}

fn cell(ctx: &Ctx, l: Option<&Level>) -> Markup {
    match l {
        None => html! { td.num.muted { "—" } },
        Some(l) => {
            let class = if l.available == 0 && l.on_hand > 0 || l.on_hand == 0 {
                "num out"
            } else if l.available <= LOW_STOCK_UNITS {
                "num low"
            } else {
                "num"
            };
            html! {
                td class=(class) {
                    strong { (fmt::int(l.available)) }
                    div.small.muted title=(ctx.t("on hand / reserved / safety / unsellable", "보유 / 예약 / 안전 / 판매불가")) {
                        (l.on_hand) " / " (l.reserved) " / " (l.safety_stock) " / " (l.unsellable)
                    }
                }
            }
        }
    }
}

async fn grid(ctx: Ctx, Query(q): Query<GridQ>) -> Response {
    let scope = ctx.scope(Some(&q.location));
    let g = match ctx
        .engine()
        .inventory_grid(GridQuery {
            after: Some(q.after.clone()).filter(|a| !a.is_empty()),
            limit: PAGE,
            search: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
            location_id: scope.clone(),
            low_only: q.low == "1",
        })
        .await
    {
        Ok(g) => g,
        Err(e) => return engine_error(&ctx, &e),
    };
    let keep = format!("&q={}&location={}&low={}", urlencode(&q.q), urlencode(&q.location), urlencode(&q.low));
    let form = FormState::default();
    let body = html! {
        h1 { (ctx.t("Inventory", "재고")) }
        form.card method="get" action="/console/inventory" data-autosubmit role="search" {
            div.row {
                div.grow { (Field::new("q", ctx.t("SKU or product name", "SKU 또는 상품명"), &form, &q.q).kind("search").attrs(&[("data-search", "")]).render(&form)) }
                div.field { label for="f-location" { (ctx.t("Low at", "부족 기준 지점")) }
                    select #f-location name="location" { (location_options(&ctx, scope.as_deref(), Some(ctx.t("Any location", "모든 지점")), &[])) } }
                div.field { label.choice { input type="checkbox" name="low" value="1" checked[q.low == "1"]; (ctx.t("Low stock only", "부족 재고만")) } }
                div.shrink.field { button type="submit" { (ctx.t("Show", "보기")) } }
            }
        }
        p.small.muted { (ctx.t("Each cell: available (bold), then on hand / reserved / safety / unsellable.", "각 칸: 가용 재고(굵게), 그 아래 보유 / 예약 / 안전 / 판매불가.")) }
        div.table-wrap { table {
            caption.sr-only { (ctx.t("Stock by SKU and location", "SKU·지점별 재고")) }
            thead { tr { th { "SKU" } th { (ctx.t("Product", "상품")) } @for l in &g.locations { th.num { (ctx.lang.t(&l.name.en, &l.name.ko)) } } } }
            tbody {
                @for r in &g.rows {
                    tr {
                        td { a.mono href=(format!("/console/inventory/{}", urlencode(&r.sku))) { (r.sku) } }
                        td { (ctx.lang.t(&r.title.en, &r.title.ko)) }
                        @for c in &r.cells { (cell(&ctx, c.as_ref())) }
                    }
                }
            }
        } }
        @if g.rows.is_empty() { p.alert.info { (ctx.t("No SKUs match.", "조건에 맞는 SKU가 없습니다.")) } }
        div.pager {
            @if !q.after.is_empty() { a.button.secondary href=(format!("/console/inventory?{}", keep.trim_start_matches('&'))) { "« " (ctx.t("First", "처음")) } } @else { span {} }
            @if g.has_more { @if let Some(last) = g.rows.last() {
                a.button.secondary href=(format!("/console/inventory?after={}{keep}", urlencode(&last.sku))) rel="next" { (ctx.t("Next", "다음")) " »" }
            } }
        }
    };
    page(&ctx, ctx.t("Inventory", "재고"), body)
}

#[derive(Deserialize, Default)]
struct SkuQ {
    #[serde(default)]
    location: String,
    #[serde(default)]
    after: String,
}

async fn sku_page(ctx: Ctx, Path(sku): Path<String>, Query(q): Query<SkuQ>) -> Response {
    render_sku(&ctx, &sku, &q.location, q.after.parse().ok(), &FormState::default(), None, StatusCode::OK).await
}

async fn render_sku(
    ctx: &Ctx,
    sku: &str,
    location: &str,
    after: Option<i64>,
    form: &FormState,
    open: Option<&str>,
    status: StatusCode,
) -> Response {
    let levels = match ctx.engine().stock(sku).await {
        Ok(l) => l,
        Err(e) => return engine_error(ctx, &e),
    };
    let at = ctx
        .scope(Some(location))
        .or_else(|| levels.locations.iter().max_by_key(|l| l.level.on_hand).map(|l| l.location_id.clone()))
        .unwrap_or_default();
    let moves = match ctx
        .engine()
        .stock_movements(&levels.sku, Some(&at).filter(|a| !a.is_empty()).map(|s| s.as_str()), after, PAGE + 1)
        .await
    {
        Ok(m) => m,
        Err(e) => return engine_error(ctx, &e),
    };
    let more = moves.len() > PAGE;
    let moves = &moves[..moves.len().min(PAGE)];
    let may_move = ctx.may(Permission::Stock);
    // What was typed and what is wrong belongs to the form that was sent; the others start empty.
    let empty = FormState::default();
    let pick = |what: &str| if open == Some(what) { form } else { &empty };
    let (fa, fr, ft, fs) = (pick("adjust"), pick("receive"), pick("transfer"), pick("safety"));
    let own = ctx.scope(None);
    let sku_url = urlencode(&levels.sku);
    let body = html! {
        p.small { a href="/console/inventory" { "« " (ctx.t("Inventory", "재고")) } }
        h1 { span.mono { (levels.sku) } }
        p { (ctx.t("Available everywhere", "전체 가용 재고")) ": " strong { (fmt::int(levels.total_available)) } " · " (ctx.t("on hand", "보유")) " " (fmt::int(levels.total_on_hand)) }
        // Field problems show in the open form below; only a general one goes up here.
        @if let Some(g) = &form.general { div.alert.bad role="alert" { (g) } }
        div.table-wrap { table {
            thead { tr { th { (ctx.t("Location", "지점")) } th.num { (ctx.t("On hand", "보유")) } th.num { (ctx.t("Reserved", "예약")) }
                th.num { (ctx.t("Safety", "안전 재고")) } th.num { (ctx.t("Unsellable", "판매불가")) } th.num { (ctx.t("Available", "가용")) } th {} } }
            tbody { @for l in &levels.locations {
                tr {
                    td { (ctx.lang.t(&l.location_name.en, &l.location_name.ko)) " " span.muted.small { (l.location_code) } }
                    td.num { (l.level.on_hand) } td.num { (l.level.reserved) } td.num { (l.level.safety_stock) } td.num { (l.level.unsellable) }
                    td.num.low[l.level.available <= LOW_STOCK_UNITS] { strong { (l.level.available) } }
                    td { a href=(format!("/console/inventory/{sku_url}?location={}", l.location_id)) { (ctx.t("Movements", "입출고 내역")) } }
                }
            } }
        } }
        @if may_move {
            div.grid {
                details.card open[open == Some("adjust")] {
                    summary { strong { (ctx.t("Adjust after a count", "실사 후 조정")) } }
                    form method="post" action=(format!("/console/inventory/{sku_url}/adjust")) {
                        (ctx.csrf_field()) (ctx.once_field(fa))
                        (location_select(ctx, "adjust", "location", ctx.t("At", "지점"), own.as_deref().unwrap_or(fa.value("location", &at)), fa))
                        (Field::new("delta", ctx.t("Change (+ found, − lost or damaged)", "증감 수량(+ 발견, − 분실·파손)"), fa, "").kind("number").attrs(&[("inputmode", "numeric")]).required().scope("adjust").render(fa))
                        (Field::new("reason", ctx.t("Reason", "사유"), fa, "").required().hint(ctx.t("e.g. cycle count, damaged in store", "예: 정기 실사, 매장 내 파손")).scope("adjust").render(fa))
                        button type="submit" { (ctx.t("Adjust", "조정")) }
                    }
                }
                details.card open[open == Some("receive")] {
                    summary { strong { (ctx.t("Receive goods", "입고")) } }
                    form method="post" action=(format!("/console/inventory/{sku_url}/receive")) {
                        (ctx.csrf_field()) (ctx.once_field(fr))
                        (location_select(ctx, "receive", "location", ctx.t("At", "지점"), own.as_deref().unwrap_or(fr.value("location", &at)), fr))
                        (Field::new("quantity", ctx.t("Quantity", "수량"), fr, "").kind("number").attrs(&[("min", "1"), ("inputmode", "numeric")]).required().scope("receive").render(fr))
                        (Field::new("reference", ctx.t("Delivery note or PO number", "납품서·발주 번호"), fr, "").scope("receive").render(fr))
                        button type="submit" { (ctx.t("Receive", "입고")) }
                    }
                }
                details.card open[open == Some("transfer")] {
                    summary { strong { (ctx.t("Transfer to another location", "다른 지점으로 이동")) } }
                    form method="post" action=(format!("/console/inventory/{sku_url}/transfer")) {
                        (ctx.csrf_field()) (ctx.once_field(ft))
                        (location_select(ctx, "transfer", "from", ctx.t("From", "보내는 지점"), own.as_deref().unwrap_or(ft.value("from", &at)), ft))
                        (location_select(ctx, "transfer", "to", ctx.t("To", "받는 지점"), ft.value("to", ""), ft))
                        (Field::new("quantity", ctx.t("Quantity", "수량"), ft, "").kind("number").attrs(&[("min", "1"), ("inputmode", "numeric")]).required().scope("transfer").render(ft))
                        button type="submit" { (ctx.t("Transfer", "이동")) }
                    }
                }
                details.card open[open == Some("safety")] {
                    summary { strong { (ctx.t("Safety stock", "안전 재고")) } }
                    form method="post" action=(format!("/console/inventory/{sku_url}/safety")) {
                        (ctx.csrf_field())
                        (location_select(ctx, "safety", "location", ctx.t("At", "지점"), own.as_deref().unwrap_or(fs.value("location", &at)), fs))
                        (Field::new("safety", ctx.t("Units kept back from online promises", "온라인 판매에서 제외할 수량"), fs, "").kind("number").attrs(&[("min", "0")]).required().scope("safety").render(fs))
                        button type="submit" { (ctx.t("Save", "저장")) }
                    }
                }
            }
        }
        h2 { (ctx.t("Movements at", "입출고 내역:")) " " (ctx.location_name(&at)) }
        div.table-wrap { table {
            thead { tr { th { (ctx.t("When", "시각")) } th { (ctx.t("Kind", "종류")) } th.num { (ctx.t("On hand", "보유")) } th.num { (ctx.t("Reserved", "예약")) }
                th.num { (ctx.t("Unsellable", "판매불가")) } th { (ctx.t("Reason", "사유")) } th { (ctx.t("Source", "근거")) } } }
            tbody { @for m in moves { tr {
                td { (ctx.when(&m.created_at)) }
                td { (movement_kind(ctx, &m.kind)) }
                td.num { (signed(m.on_hand_delta)) } td.num { (signed(m.reserved_delta)) } td.num { (signed(m.unsellable_delta)) }
                td { (reason_text(ctx, &m.reason)) }
                td.small { @if m.source_type == "order" { a.mono href=(format!("/console/orders/{}", m.source_id)) { (m.source_id) } } @else { span.mono { (m.source_id) } } }
            } } }
        } }
        @if moves.is_empty() { p.muted { (ctx.t("No movements here yet.", "아직 입출고 내역이 없습니다.")) } }
        @if more { @if let Some(last) = moves.last() {
            div.pager { span {} a.button.secondary href=(format!("/console/inventory/{sku_url}?location={at}&after={}", last.seq)) rel="next" { (ctx.t("Older", "이전 내역")) " »" } }
        } }
    };
    page_status(ctx, status, &levels.sku, body)
}

fn signed(n: i64) -> String {
    match n {
        0 => "·".to_owned(),
        n if n > 0 => format!("+{n}"),
        n => format!("−{}", n.unsigned_abs()),
    }
}

/// The engine's own reasons in the reader's language; what staff typed, as they typed it.
fn reason_text<'a>(ctx: &Ctx, reason: &'a str) -> &'a str {
    match reason {
        "order placed" => ctx.t("Order placed", "주문 접수"),
        "picked up" => ctx.t("Picked up", "픽업 인도"),
        "shipped" => ctx.t("Shipped", "출고"),
        "transfer" => ctx.t("Transfer between locations", "매장 간 이동"),
        "pos sale" => ctx.t("Till sale", "계산대 판매"),
        "customer return" => ctx.t("Customer return", "고객 반품"),
        "pickup window passed" => ctx.t("Pickup window passed", "픽업 기한 지남"),
        "unpaid and not shipped in time" => ctx.t("Unpaid and not shipped in time", "기한 내 결제·출고 안 됨"),
        "demo opening stock" => ctx.t("Demo opening stock", "데모 기초 재고"),
        "cashierless store restock" => ctx.t("Cashierless store restock", "무인 매장 보충"),
        other => other,
    }
}

fn movement_kind<'a>(ctx: &Ctx, kind: &'a str) -> &'a str {
    match kind {
        "receipt" => ctx.t("Receipt", "입고"),
        "adjustment" => ctx.t("Adjustment", "조정"),
        "reservation" => ctx.t("Reserved", "예약"),
        "release" => ctx.t("Released", "예약 해제"),
        "sale" => ctx.t("Sold", "판매"),
        "return" => ctx.t("Returned", "반품"),
        "transfer_out" => ctx.t("Transfer out", "이동 출고"),
        "transfer_in" => ctx.t("Transfer in", "이동 입고"),
        other => other,
    }
}

fn location_select(ctx: &Ctx, scope: &str, name: &str, label: &str, selected: &str, form: &FormState) -> Markup {
    let id = format!("f-{scope}-{name}");
    let error = form.errors.get(name);
    let locked =
        name != "to" && ctx.staff.location_id.is_some() && ctx.staff.role != engine::platform::staff::StaffRole::Owner;
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            select id=(id) name=(name) disabled[locked] {
                @if name == "to" { option value="" { (ctx.t("Choose…", "선택…")) } }
                (location_options(ctx, Some(selected), None, &[]))
            }
            @if locked { input type="hidden" name=(name) value=(selected); }
            @if let Some(e) = error { div.error role="alert" { (e) } }
        }
    }
}

#[derive(Deserialize)]
struct AdjustIn {
    #[serde(default)]
    location: String,
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
}

fn number(form: &mut FormState, field: &str, raw: &str, ctx: &Ctx, positive: bool) -> Option<i64> {
    match raw.trim().replace(',', "").parse::<i64>() {
        Ok(n) if positive && n <= 0 => {
            form.error(field, ctx.t("Enter a number of 1 or more.", "1 이상의 숫자를 입력해 주세요."));
            None
        }
        Ok(0) => {
            form.error(field, ctx.t("Enter a change other than 0.", "0이 아닌 수량을 입력해 주세요."));
            None
        }
        Ok(n) => Some(n),
        Err(_) => {
            form.error(field, ctx.t("Enter a whole number, e.g. 5 or -2.", "5나 -2처럼 정수로 입력해 주세요."));
            None
        }
    }
}

async fn finish(
    p: &Posted<impl Sized>,
    sku: &str,
    what: &str,
    result: engine::Result<String>,
    mut form: FormState,
    fields: &[(&str, &str)],
) -> Response {
    let ctx = &p.ctx;
    match result {
        Ok(message) => redirect_with(ctx, &format!("/console/inventory/{}", urlencode(sku)), true, &message),
        Err(e) => {
            form.engine_error(&e, ctx.lang, fields);
            let loc = form.value("location", form.value("from", "")).to_owned();
            render_sku(ctx, sku, &loc, None, &form, Some(what), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn adjust(Path(sku): Path<String>, p: Posted<AdjustIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Stock) {
        return r;
    }
    let mut form = p.state();
    let delta = number(&mut form, "delta", &p.form.delta, ctx, false);
    if p.form.reason.trim().is_empty() {
        form.error("reason", ctx.t("Say why the count changed.", "수량이 바뀐 사유를 입력해 주세요."));
    }
    let Some(delta) = delta.filter(|_| form.is_ok()) else {
        return render_sku(ctx, &sku, &p.form.location, None, &form, Some("adjust"), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    let r = ctx
        .engine()
        .adjust_stock(&ctx.staff.principal(), p.once(), &sku, &p.form.location, delta, &p.form.reason)
        .await
        .map(|l| {
            format!(
                "{} {} → {} {}",
                ctx.t("Adjusted", "조정 완료:"),
                l.sku,
                l.level.on_hand,
                ctx.t("on hand", "개 보유")
            )
        });
    finish(&p, &sku, "adjust", r, form, &[("quantity_delta", "delta"), ("reason", "reason")]).await
}

#[derive(Deserialize)]
struct ReceiveIn {
    #[serde(default)]
    location: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    reference: String,
}

async fn receive(Path(sku): Path<String>, p: Posted<ReceiveIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Stock) {
        return r;
    }
    let mut form = p.state();
    let Some(q) = number(&mut form, "quantity", &p.form.quantity, ctx, true) else {
        return render_sku(ctx, &sku, &p.form.location, None, &form, Some("receive"), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    let reference = Some(p.form.reference.trim().to_owned()).filter(|r| !r.is_empty());
    let r = ctx
        .engine()
        .receive_stock(
            &ctx.staff.principal(),
            p.once(),
            &sku,
            &p.form.location,
            q,
            "received at the console",
            reference,
        )
        .await
        .map(|l| {
            format!(
                "{} {} → {} {}",
                ctx.t("Received", "입고 완료:"),
                l.sku,
                l.level.on_hand,
                ctx.t("on hand", "개 보유")
            )
        });
    finish(&p, &sku, "receive", r, form, &[("quantity", "quantity"), ("reference", "reference")]).await
}

#[derive(Deserialize)]
struct TransferIn {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    quantity: String,
}

async fn transfer(Path(sku): Path<String>, p: Posted<TransferIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Stock) {
        return r;
    }
    let mut form = p.state();
    let q = number(&mut form, "quantity", &p.form.quantity, ctx, true);
    if p.form.to.is_empty() {
        form.error("to", ctx.t("Choose where the stock goes.", "받는 지점을 선택해 주세요."));
    } else if p.form.to == p.form.from {
        form.error(
            "to",
            ctx.t("Choose a different location from the sender.", "보내는 지점과 다른 지점을 선택해 주세요."),
        );
    }
    let Some(q) = q.filter(|_| form.is_ok()) else {
        return render_sku(ctx, &sku, &p.form.from, None, &form, Some("transfer"), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    let r = ctx.engine().transfer(&ctx.staff.principal(), p.once(), &sku, &p.form.from, &p.form.to, q).await.map(|t| {
        format!(
            "{} {} × {} → {} ({})",
            ctx.t("Transferred", "이동 완료:"),
            t.sku,
            q,
            ctx.location_name(&p.form.to),
            t.id
        )
    });
    finish(&p, &sku, "transfer", r, form, &[("quantity", "quantity")]).await
}

#[derive(Deserialize)]
struct SafetyIn {
    #[serde(default)]
    location: String,
    #[serde(default)]
    safety: String,
}

async fn safety(Path(sku): Path<String>, p: Posted<SafetyIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Stock) {
        return r;
    }
    let mut form = p.state();
    let n = match p.form.safety.trim().parse::<i64>() {
        Ok(n) if n >= 0 => n,
        _ => {
            form.error("safety", ctx.t("Enter 0 or more.", "0 이상의 숫자를 입력해 주세요."));
            return render_sku(
                ctx,
                &sku,
                &p.form.location,
                None,
                &form,
                Some("safety"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let r = ctx
        .engine()
        .set_safety_stock(&ctx.staff.principal(), &sku, &p.form.location, n)
        .await
        .map(|l| format!("{} {}: {}", ctx.t("Safety stock set", "안전 재고 설정:"), l.sku, l.level.safety_stock));
    finish(&p, &sku, "safety", r, form, &[("safety_stock", "safety")]).await
}
