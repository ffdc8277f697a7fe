//! The till: a basket built by typing or scanning codes (SKU or barcode; a name finds candidates through
//! search), kept in the page itself so nothing is half-saved; payment by the shopper's one-time wallet QR
//! (scanned with the camera where the browser can, or typed), by a QR the till shows for the shopper's app
//! to confirm (the screen waits for it), by gift card, or in cash or on the card terminal; then the
//! printable receipt. Returns at the counter start from the receipt's order number.

use super::{engine_error, location_options, page_status, redirect, Ctx, Posted};
use crate::fmt;
use crate::forms::{self, Field, FormState};
use crate::Web;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use engine::platform::staff::Permission;
use engine::sales::counter::{CounterItem, MAX_BASKET_LINES};
use engine::sales::orders::SaleLineInput;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/till", get(till).post(act))
        .route("/console/till/request/{id}", get(request_page))
        .route("/console/till/request/{id}/status", get(request_status))
}

#[derive(Deserialize, Default)]
struct TillQ {
    #[serde(default)]
    location: String,
    #[serde(default)]
    currency: String,
}

/// One basket line as the page carries it: `SKU*quantity`.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    sku: String,
    qty: i64,
}

fn parse_lines(raw: &[&str]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for r in raw.iter().take(MAX_BASKET_LINES) {
        let Some((sku, q)) = r.rsplit_once('*') else { continue };
        let Ok(qty) = q.parse::<i64>() else { continue };
        if sku.is_empty() || !(1..=domain::stock::MAX_ADJUSTMENT_QTY).contains(&qty) {
            continue;
        }
        match out.iter_mut().find(|l| l.sku == sku) {
            Some(l) => l.qty = (l.qty + qty).min(10_000),
            None => out.push(Line { sku: sku.to_owned(), qty: qty.min(10_000) }),
        }
    }
    out
}

struct Till {
    location: String,
    currency: String,
    lines: Vec<(Line, CounterItem)>,
    /// Items a typed name matched, to pick from.
    candidates: Vec<(String, String, String)>,
}

impl Till {
    fn total(&self) -> i64 {
        self.lines.iter().map(|(l, i)| i.unit_minor.unwrap_or(0).saturating_mul(l.qty)).sum()
    }
}

/// The till's location: a non-owner's own; an owner's chosen store (the first store by default).
fn till_location(ctx: &Ctx, chosen: &str) -> Option<String> {
    ctx.scope(Some(chosen)).or_else(|| ctx.locations.iter().find(|l| l.kind == "store").map(|l| l.id.clone()))
}

async fn till(ctx: Ctx, Query(q): Query<TillQ>) -> Response {
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    let Some(location) = till_location(&ctx, &q.location) else {
        return super::refused(
            &ctx,
            StatusCode::CONFLICT,
            ctx.t("Create a store location first (Settings).", "먼저 설정에서 매장을 만들어 주세요."),
        );
    };
    let currency = if q.currency == "USD" { "USD" } else { "KRW" }.to_owned();
    let t = Till { location, currency, lines: Vec::new(), candidates: Vec::new() };
    render(&ctx, &t, &FormState::default(), StatusCode::OK)
}

fn basket_fields(t: &Till) -> Markup {
    html! {
        input type="hidden" name="location" value=(t.location);
        input type="hidden" name="currency" value=(t.currency);
        @for (l, _) in &t.lines { input type="hidden" name="line" value=(format!("{}*{}", l.sku, l.qty)); }
    }
}

fn render(ctx: &Ctx, t: &Till, form: &FormState, status: StatusCode) -> Response {
    let total = t.total();
    let unpriced = t.lines.iter().any(|(_, i)| i.unit_minor.is_none() || i.status != "active");
    let body = html! {
        h1 { (ctx.t("Till", "계산대")) span.muted.small { " · " (ctx.location_name(&t.location)) " · " (t.currency) } }
        @if ctx.staff.location_id.is_none() {
            form.card method="get" action="/console/till" data-autosubmit {
                div.row {
                    div.field { label for="f-till-location" { (ctx.t("Store", "매장")) }
                        select #f-till-location name="location" { (location_options(ctx, Some(&t.location), None, &["store"])) } }
                    div.field { label for="f-till-currency" { (ctx.t("Currency", "통화")) }
                        select #f-till-currency name="currency" { option value="KRW" selected[t.currency == "KRW"] { "KRW ₩" } option value="USD" selected[t.currency == "USD"] { "USD $" } } }
                    div.shrink.field { button.secondary type="submit" { (ctx.t("New sale here", "이 매장에서 새 판매")) } }
                }
            }
        }
        (forms::summary(form, ctx.lang))
        div.till {
            section.card aria-labelledby="basket-h" {
                h2 #basket-h { (ctx.t("Basket", "장바구니")) }
                form method="post" action="/console/till" {
                    (ctx.csrf_field()) (basket_fields(t))
                    input type="hidden" name="op" value="add";
                    div.row {
                        div.grow { (Field::new("code", ctx.t("Barcode, SKU or name", "바코드·SKU·상품명"), form, "")
                            .attrs(&[("autocomplete", "off"), ("data-autofocus", ""), ("data-search", "")]).render(form)) }
                        div.shrink.field {
                            button.secondary type="button" data-scan="f-code" data-denied=(ctx.t("The camera is not available: type the code.", "카메라를 쓸 수 없습니다. 코드를 입력해 주세요.")) hidden { (ctx.t("Scan", "스캔")) }
                        }
                        div.shrink.field { button type="submit" { (ctx.t("Add", "담기")) } }
                    }
                    div.scanner #f-code-camera hidden {}
                }
                @if !t.candidates.is_empty() {
                    div.alert.info {
                        (ctx.t("Several items match. Pick one:", "여러 상품이 찾아졌습니다. 하나를 고르세요:"))
                        ul { @for (sku, name, price) in &t.candidates { li {
                            form.inline method="post" action="/console/till" {
                                (ctx.csrf_field()) (basket_fields(t))
                                input type="hidden" name="op" value="add";
                                input type="hidden" name="code" value=(sku);
                                button.link type="submit" { (name) " " span.mono { (sku) } " " (price) }
                            }
                        } } }
                    }
                }
                @if t.lines.is_empty() { p.muted { (ctx.t("Scan or type the first item.", "첫 상품을 스캔하거나 입력하세요.")) } }
                @else {
                    div.table-wrap { table {
                        thead { tr { th { (ctx.t("Item", "상품")) } th.num { (ctx.t("Qty", "수량")) } th.num { (ctx.t("Price", "금액")) } th { span.sr-only { (ctx.t("Change", "변경")) } } } }
                        tbody { @for (l, i) in &t.lines { tr {
                            td { (ctx.lang.t(&i.title.en, &i.title.ko)) @if !i.options.is_empty() { " · " span.muted { (crate::fmt::options_text(&i.options, ctx.lang)) } }
                                div.small.muted.mono { (i.sku) " · " (ctx.t("on shelf", "매장 재고")) " " (i.on_shelf) }
                                @if i.status != "active" { div.error { (ctx.t("Not for sale", "판매 중이 아닌 상품")) } }
                                @else if i.unit_minor.is_none() { div.error { (ctx.t("No price in this currency", "이 통화의 가격이 없습니다")) } } }
                            td.num { (l.qty) }
                            td.num { (i.unit_minor.map(|u| fmt::money(u.saturating_mul(l.qty), &t.currency)).unwrap_or("—".into())) }
                            td { div.actions {
                                @for (op, label, aria_en, aria_ko) in [("inc", "+", "One more", "하나 더"), ("dec", "−", "One fewer", "하나 빼기"), ("remove", "×", "Remove", "삭제")] {
                                    form.inline method="post" action="/console/till" {
                                        (ctx.csrf_field()) (basket_fields(t))
                                        input type="hidden" name="op" value=(op);
                                        input type="hidden" name="sku" value=(l.sku);
                                        button.secondary type="submit" aria-label=(format!("{} {}", ctx.t(aria_en, aria_ko), l.sku)) { (label) }
                                    }
                                }
                            } }
                        } } }
                    } }
                }
            }
            section.card aria-labelledby="pay-h" {
                h2 #pay-h { (ctx.t("Payment", "결제")) }
                p.total { (fmt::money(total, &t.currency)) }
                @if !t.lines.is_empty() && !unpriced {
                    form method="post" action="/console/till" {
                        (ctx.csrf_field()) (basket_fields(t)) (ctx.once_field(form))
                        input type="hidden" name="op" value="charge";
                        fieldset {
                            legend { (ctx.t("How the shopper pays", "결제 방법")) }
                            @for (m, en, ko) in [("wallet_qr", "Wallet QR (shopper shows it)", "지갑 QR (고객이 제시)"), ("gift_card", "Gift card", "기프트카드"), ("pay_in_store", "Cash or card terminal", "현금·카드 단말기")] {
                                label.choice { input type="radio" name="method" value=(m) checked[form.value("method", "wallet_qr") == m]; (ctx.t(en, ko)) }
                            }
                        }
                        div.row {
                            div.grow { (Field::new("pay_code", ctx.t("Wallet QR or gift card code", "지갑 QR 또는 기프트카드 코드"), form, "")
                                .hint(ctx.t("Scan the shopper's QR, or type its code. Not needed for cash or card.", "고객 QR을 스캔하거나 코드를 입력하세요. 현금·카드는 필요 없습니다."))
                                .attrs(&[("autocomplete", "off")]).render(form)) }
                            div.shrink.field {
                                button.secondary type="button" data-scan="f-pay_code" data-denied=(ctx.t("The camera is not available: type the code.", "카메라를 쓸 수 없습니다. 코드를 입력해 주세요.")) hidden { (ctx.t("Scan", "스캔")) }
                            }
                        }
                        div.scanner #f-pay_code-camera hidden {}
                        button.big type="submit" { (ctx.t("Charge", "결제하기")) " " (fmt::money(total, &t.currency)) }
                    }
                    form method="post" action="/console/till" {
                        (ctx.csrf_field()) (basket_fields(t))
                        input type="hidden" name="op" value="request";
                        p { button.secondary type="submit" { (ctx.t("Show a QR for the shopper's app", "고객 앱 결제용 QR 보여주기")) } }
                    }
                }
                form method="get" action="/console/orders" {
                    label for="f-return-order" { (ctx.t("Return: the receipt's order number", "반품: 영수증의 주문번호")) }
                    div.row {
                        div { input #f-return-order name="q" autocomplete="off" placeholder="ord_…"; }
                        div.shrink { button.secondary type="submit" { (ctx.t("Find order", "주문 찾기")) } }
                    }
                }
            }
        }
    };
    page_status(ctx, status, ctx.t("Till", "계산대"), body)
}

#[derive(Deserialize)]
struct TillIn {
    #[serde(default)]
    op: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    pay_code: String,
}

async fn act(p: Posted<TillIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    let Some(location) = till_location(ctx, &p.form.location) else { return super::forbidden(ctx) };
    let currency = if p.form.currency == "USD" { "USD" } else { "KRW" }.to_owned();
    let mut lines = parse_lines(&p.all("line"));
    let mut form = FormState::default();
    form.values.insert("method".into(), p.form.method.clone());
    let mut candidates = Vec::new();
    match p.form.op.as_str() {
        "add" => {
            let code = p.form.code.trim();
            // A code pasted from a QR or a scanner may carry a quantity: "SKU*3".
            let (code, qty) = match code.rsplit_once('*') {
                Some((c, q)) if q.parse::<i64>().is_ok_and(|q| (1..=999).contains(&q)) => (c, q.parse().unwrap_or(1)),
                _ => (code, 1),
            };
            if code.is_empty() {
                form.error("code", ctx.t("Scan or type a code first.", "먼저 코드를 스캔하거나 입력하세요."));
            } else if lines.len() >= MAX_BASKET_LINES {
                form.error(
                    "code",
                    ctx.t(
                        "The basket is full (100 lines). Charge this sale first.",
                        "장바구니가 가득 찼습니다(100줄). 먼저 결제해 주세요.",
                    ),
                );
            } else {
                match ctx.engine().counter_item(code, &currency, &location).await {
                    Ok(item) => match lines.iter_mut().find(|l| l.sku == item.sku) {
                        Some(l) => l.qty += qty,
                        None => lines.push(Line { sku: item.sku, qty }),
                    },
                    Err(engine::EngineError::NotFound { .. }) | Err(engine::EngineError::Invalid { .. }) => {
                        candidates = search(ctx, code, &currency).await;
                        if candidates.len() == 1 {
                            lines.push(Line { sku: candidates[0].0.clone(), qty });
                            candidates.clear();
                        } else if candidates.is_empty() {
                            form.values.insert("code".into(), code.to_owned());
                            form.error(
                                "code",
                                ctx.t(
                                    "No item has this code or name. Check it, or search the catalog.",
                                    "이 코드나 이름의 상품이 없습니다. 다시 확인하거나 상품 목록에서 찾아 주세요.",
                                ),
                            );
                        }
                    }
                    Err(e) => form.general = Some(forms::explain(&e, ctx.lang)),
                }
            }
        }
        "inc" | "dec" | "remove" => {
            if let Some(i) = lines.iter().position(|l| l.sku == p.form.sku) {
                match p.form.op.as_str() {
                    "inc" => lines[i].qty = (lines[i].qty + 1).min(10_000),
                    "dec" if lines[i].qty > 1 => lines[i].qty -= 1,
                    _ => {
                        lines.remove(i);
                    }
                }
            }
        }
        "charge" | "request" => {
            let sale: Vec<SaleLineInput> =
                lines.iter().map(|l| SaleLineInput { sku: l.sku.clone(), quantity: l.qty }).collect();
            if sale.is_empty() {
                form.general = Some(ctx.t("The basket is empty.", "장바구니가 비어 있습니다.").to_owned());
            } else if p.form.op == "request" {
                match ctx
                    .engine()
                    .create_payment_request(
                        &ctx.staff.principal(),
                        Some(location.clone()),
                        sale,
                        Some(currency.clone()),
                    )
                    .await
                {
                    Ok(r) => return redirect(&format!("/console/till/request/{}", r.id)),
                    Err(e) => form.general = Some(forms::explain(&e, ctx.lang)),
                }
            } else {
                let code = p.form.pay_code.trim().to_owned();
                let (method, wallet, gift) = match p.form.method.as_str() {
                    "wallet_qr" => (Some("wallet".to_owned()), Some(code.clone()), None),
                    "gift_card" => (Some("gift_card".to_owned()), None, Some(code.clone())),
                    _ => (Some("pay_in_store".to_owned()), None, None),
                };
                if (wallet.is_some() || gift.is_some()) && code.is_empty() {
                    form.values.insert("method".into(), p.form.method.clone());
                    form.error(
                        "pay_code",
                        ctx.t("Scan or type the shopper's code.", "고객의 코드를 스캔하거나 입력해 주세요."),
                    );
                } else {
                    let hash = engine::platform::idempotency::fingerprint(&[
                        &location,
                        &currency,
                        &format!("{lines:?}"),
                        method.as_deref().unwrap_or(""),
                        &code,
                    ]);
                    let once = p.once().map(str::to_owned);
                    match ctx
                        .engine()
                        .pos_sale(
                            &ctx.staff.principal(),
                            Some(location.clone()),
                            sale,
                            Some(currency.clone()),
                            None,
                            method,
                            wallet,
                            gift,
                            once,
                            hash,
                        )
                        .await
                    {
                        Ok(o) => return redirect(&format!("/console/orders/{}/receipt", o.id)),
                        Err(e) => {
                            form.values.insert("_once".into(), p.once().unwrap_or_default().to_owned());
                            form.values.insert("pay_code".into(), code);
                            let fields =
                                [("code", "pay_code"), ("payment_code", "pay_code"), ("gift_card_code", "pay_code")];
                            form.engine_error(&e, ctx.lang, &fields);
                            if matches!(
                                e,
                                engine::EngineError::NotFound { .. }
                                    | engine::EngineError::Conflict { .. }
                                    | engine::EngineError::Invalid { .. }
                            ) && form.general.is_some()
                                && p.form.method != "pay_in_store"
                            {
                                // Codes that are unknown, expired or used: say it at the code.
                                let msg = form.general.take().unwrap_or_default();
                                form.error("pay_code", msg);
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
    let mut priced = Vec::with_capacity(lines.len());
    for l in lines {
        match ctx.engine().counter_item(&l.sku, &currency, &location).await {
            Ok(item) => priced.push((l, item)),
            Err(e) => return engine_error(ctx, &e),
        }
    }
    let t = Till { location, currency, lines: priced, candidates };
    let status = if form.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(ctx, &t, &form, status)
}

/// Up to eight sellable items a typed name finds: (sku, name, price).
async fn search(ctx: &Ctx, text: &str, currency: &str) -> Vec<(String, String, String)> {
    let q = engine::discovery::product_search::SearchQuery {
        q: text.to_owned(),
        currency: currency.to_owned(),
        limit: 8,
        ..Default::default()
    };
    let found = match ctx.engine().search_products(q).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "till: searching items by name failed");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for hit in found.hits.iter().take(5) {
        let Ok(p) = ctx.engine().product(&hit.product_id).await else { continue };
        for v in p.variants.iter().take(3) {
            let options = v.attributes.values().cloned().collect::<Vec<_>>().join(" ");
            let name = format!("{} {options}", ctx.lang.t(&p.title.en, &p.title.ko));
            let price =
                v.prices.iter().find(|pr| pr.currency == currency).map(|pr| fmt::money(pr.amount_minor, currency));
            out.push((v.sku.clone(), name.trim().to_owned(), price.unwrap_or_default()));
        }
        if out.len() >= 8 {
            break;
        }
    }
    out
}

async fn request_page(ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    let r = match ctx.engine().payment_request(&id).await {
        Ok(r) => r,
        Err(e) => return engine_error(&ctx, &e),
    };
    if let Some(o) = r.order_id.as_deref().filter(|_| r.status == "completed") {
        return redirect(&format!("/console/orders/{o}/receipt"));
    }
    let body = html! {
        h1 { (ctx.t("Waiting for the shopper", "고객 결제 대기")) }
        div.card {
            p.total { (fmt::money(r.amount.amount_minor, &r.amount.currency)) }
            p { (ctx.t("The shopper scans this with the borderless app (or their phone's camera) and confirms. This page moves on by itself.", "고객이 borderless 앱(또는 휴대폰 카메라)으로 스캔하고 승인하면 이 화면이 저절로 넘어갑니다.")) }
            (crate::qr::image(&r.qr, ctx.t("Payment request QR code", "결제 요청 QR 코드")))
            p.small.muted { (ctx.t("Expires", "만료")) " " (ctx.when(&r.expires_at)) " · " span.mono { (r.id) } }
            div #request-status hx-get=(format!("/console/till/request/{}/status", r.id)) hx-trigger="every 2s" aria-live="polite" {
                (status_text(&ctx, &r.status))
            }
            div.actions {
                a.button.secondary href=(format!("/console/till/request/{}", r.id)) { (ctx.t("Check now", "지금 확인")) }
                a.button.secondary href="/console/till" { (ctx.t("Start over", "처음부터")) }
            }
        }
    };
    super::page(&ctx, ctx.t("Waiting for the shopper", "고객 결제 대기"), body)
}

fn status_text(ctx: &Ctx, status: &str) -> Markup {
    match status {
        "open" => html! { p { span.spinner aria-hidden="true" {} " " (ctx.t("Waiting…", "대기 중…")) } },
        "completed" => html! { p.alert.ok { (ctx.t("Paid.", "결제되었습니다.")) } },
        "expired" => {
            html! { p.alert.bad { (ctx.t("The request expired. Start the sale again.", "요청이 만료되었습니다. 판매를 다시 시작해 주세요.")) } }
        }
        other => html! { p.alert.bad { (ctx.t("The request ended:", "요청이 끝났습니다:")) " " (other) } },
    }
}

/// Polled by the waiting page; when the shopper has paid, tells htmx to open the receipt.
async fn request_status(ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    match ctx.engine().payment_request(&id).await {
        Ok(r) => {
            let mut res = status_text(&ctx, &r.status).into_response();
            if let (Some(o), "completed") = (&r.order_id, r.status.as_str()) {
                if let Ok(v) = HeaderValue::from_str(&format!("/console/orders/{o}/receipt")) {
                    res.headers_mut().insert("hx-redirect", v);
                }
            }
            if r.status != "open" {
                // Stop polling: 286 is htmx's "stop polling" status.
                *res.status_mut() = StatusCode::from_u16(286).unwrap_or(StatusCode::OK);
            }
            res
        }
        Err(e) => engine_error(&ctx, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basket_lines_merge_and_ignore_junk() {
        let l = parse_lines(&["A-1*2", "B*1", "A-1*3", "bad", "C*0", "D*x", "*4"]);
        assert_eq!(l, vec![Line { sku: "A-1".into(), qty: 5 }, Line { sku: "B".into(), qty: 1 }]);
    }
}
