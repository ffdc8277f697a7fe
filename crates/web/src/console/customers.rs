//! Customers: lookup by email, phone, member code or name; a customer's page with their orders from every
//! channel, their wallet and store credit with the statement, and a top-up at the counter; gift cards sold
//! at the counter (the code is shown once) and their balance by code.

use super::{channel_name, engine_error, page, page_status, redirect_with, status_pill, urlencode, Ctx, Posted, PAGE};
use crate::fmt;
use crate::forms::{self, Field, FormState};
use crate::Web;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::Permission;
use engine::sales::orders::OrderQuery;
use maud::html;
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/customers", get(list))
        .route("/console/customers/{id}", get(detail))
        .route("/console/customers/{id}/topup", post(top_up))
        .route("/console/gift-cards", get(gift_cards).post(sell_gift_card))
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

async fn list(ctx: Ctx, Query(q): Query<ListQ>) -> Response {
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    let text = Some(q.q.trim().to_owned()).filter(|s| !s.is_empty());
    let mut found =
        match ctx.engine().list_customers(text, Some(q.after.clone()).filter(|a| !a.is_empty()), PAGE + 1).await {
            Ok(c) => c,
            Err(e) => return engine_error(&ctx, &e),
        };
    let more = found.len() > PAGE;
    found.truncate(PAGE);
    let form = FormState::default();
    let body = html! {
        h1 { (ctx.t("Customers", "고객")) }
        div.grid {
            form.card method="get" action="/console/customers" role="search" {
                (Field::new("q", ctx.t("Email, phone, member code or name", "이메일·전화번호·회원 코드·이름"), &form, &q.q).kind("search").attrs(&[("data-search", ""), ("autocomplete", "off")]).render(&form))
                button type="submit" { (ctx.t("Find", "찾기")) }
            }
            @if ctx.may(Permission::Till) {
                div.card {
                    h2 { (ctx.t("Gift cards", "기프트카드")) }
                    p { a href="/console/gift-cards" { (ctx.t("Sell a gift card or check a balance", "기프트카드 판매·잔액 조회")) } }
                }
            }
        }
        @if found.is_empty() { p.alert.info { (ctx.t("No customer matches. Check the spelling or search by phone.", "일치하는 고객이 없습니다. 철자를 확인하거나 전화번호로 찾아 주세요.")) } }
        @else {
            div.table-wrap { table {
                thead { tr { th { (ctx.t("Name", "이름")) } th { (ctx.t("Email", "이메일")) } th { (ctx.t("Phone", "전화번호")) } th { (ctx.t("Member code", "회원 코드")) } th { (ctx.t("Since", "가입일")) } } }
                tbody { @for c in &found { tr {
                    td { a href=(format!("/console/customers/{}", c.id)) { (c.name) } }
                    td { (c.email.as_deref().unwrap_or("—")) }
                    td { (c.phone.as_deref().unwrap_or("—")) }
                    td.mono { (c.member_code) }
                    td { (ctx.when(&c.created_at)) }
                } } }
            } }
        }
        @if more { @if let Some(last) = found.last() {
            div.pager { span {} a.button.secondary href=(format!("/console/customers?q={}&after={}", urlencode(&q.q), last.id)) rel="next" { (ctx.t("Next", "다음")) " »" } }
        } }
    };
    page(&ctx, ctx.t("Customers", "고객"), body)
}

async fn detail(ctx: Ctx, Path(id): Path<String>) -> Response {
    render(&ctx, &id, &FormState::default(), StatusCode::OK).await
}

async fn render(ctx: &Ctx, id: &str, form: &FormState, status: StatusCode) -> Response {
    if let Err(r) = ctx.require(Permission::Customers) {
        return r;
    }
    let e = ctx.engine();
    let c = match e.customer(id).await {
        Ok(c) => c,
        Err(err) => return engine_error(ctx, &err),
    };
    let accounts = match e.wallet(&c.id).await {
        Ok(a) => a,
        Err(err) => return engine_error(ctx, &err),
    };
    let orders = match e.orders(OrderQuery { limit: 20, customer_id: Some(c.id.clone()), ..Default::default() }).await {
        Ok(o) => o,
        Err(err) => return engine_error(ctx, &err),
    };
    let statement = match e.wallet_statement_latest(&c.id, "KRW", 20).await {
        Ok(s) => s,
        Err(err) => return engine_error(ctx, &err),
    };
    let body = html! {
        p.small { a href="/console/customers" { "« " (ctx.t("Customers", "고객")) } }
        h1 { (c.name) }
        (forms::summary(form, ctx.lang))
        div.grid {
            div.card {
                dl {
                    dt { (ctx.t("Email", "이메일")) } dd { (c.email.as_deref().unwrap_or("—")) }
                    dt { (ctx.t("Phone", "전화번호")) } dd { (c.phone.as_deref().unwrap_or("—")) }
                    dt { (ctx.t("Member code", "회원 코드")) } dd.mono { (c.member_code) }
                    dt { (ctx.t("Language", "언어")) } dd { (c.locale) }
                    dt { (ctx.t("Customer since", "가입일")) } dd { (ctx.when(&c.created_at)) }
                }
            }
            div.card {
                h2 { (ctx.t("Wallet and store credit", "지갑·적립금")) }
                @if accounts.is_empty() { p.muted { (ctx.t("No wallet yet.", "아직 지갑이 없습니다.")) } }
                @for a in &accounts {
                    p { (account_kind(ctx, &a.kind)) " " strong { (fmt::money(a.available_minor, &a.currency)) }
                        @if a.held_minor > 0 { span.small.muted { " (" (fmt::money(a.held_minor, &a.currency)) " " (ctx.t("held", "승인 보류")) ")" } } }
                }
                @if ctx.may(Permission::Till) {
                    form method="post" action=(format!("/console/customers/{}/topup", c.id)) {
                        (ctx.csrf_field()) (ctx.once_field(form))
                        div.row {
                            div { (Field::new("amount", ctx.t("Top up", "충전 금액"), form, "").attrs(&[("inputmode", "decimal"), ("autocomplete", "off")]).required().render(form)) }
                            div.shrink.field { label for="f-currency" { (ctx.t("Currency", "통화")) }
                                select #f-currency name="currency" { option value="KRW" { "KRW" } option value="USD" selected[form.value("currency", "") == "USD"] { "USD" } } }
                        }
                        button type="submit" { (ctx.t("Top up at the counter", "매장에서 충전")) }
                    }
                }
            }
        }
        h2 { (ctx.t("Orders from every channel", "모든 채널의 주문")) }
        @if orders.is_empty() { p.muted { (ctx.t("No orders yet.", "아직 주문이 없습니다.")) } }
        @else { div.table-wrap { table {
            thead { tr { th { (ctx.t("Order", "주문")) } th { (ctx.t("Placed", "주문 시각")) } th { (ctx.t("Channel", "채널")) } th { (ctx.t("Status", "상태")) } th.num { (ctx.t("Total", "합계")) } } }
            tbody { @for o in &orders { tr {
                td { a.mono href=(format!("/console/orders/{}", o.id)) { (o.id) } }
                td { (ctx.when(&o.placed_at)) }
                td { (channel_name(ctx, &o.channel)) }
                td { (status_pill(ctx, &o.status)) }
                td.num { (fmt::money(o.total.amount_minor, &o.currency)) }
            } } }
        } } }
        h2 { (ctx.t("Wallet statement (KRW, latest 20)", "지갑 거래 내역(KRW, 최근 20건)")) }
        @if statement.is_empty() { p.muted { (ctx.t("No wallet movements.", "지갑 거래가 없습니다.")) } }
        @else { div.table-wrap { table {
            thead { tr { th { (ctx.t("When", "시각")) } th { (ctx.t("What", "내용")) } th.num { (ctx.t("Amount", "금액")) } } }
            tbody { @for l in &statement { tr {
                td { (ctx.when(&l.created_at)) }
                td { (statement_text(ctx, &l.direction, &l.kind)) div.small.muted { (l.reason) } }
                td.num { @if l.direction == "credit" { "+" } @else if l.direction == "debit" { "−" } (fmt::money(l.amount_minor, &l.currency)) }
            } } }
        } } }
    };
    page_status(ctx, status, &c.name, body)
}

fn account_kind<'a>(ctx: &Ctx, kind: &'a str) -> &'a str {
    match kind {
        "wallet" => ctx.t("Wallet", "지갑"),
        "store_credit" => ctx.t("Store credit", "적립금"),
        "gift_card" => ctx.t("Gift card", "기프트카드"),
        other => other,
    }
}

fn statement_text<'a>(ctx: &Ctx, direction: &'a str, kind: &'a str) -> &'a str {
    match (direction, kind) {
        ("credit", _) => ctx.t("Money in", "입금"),
        ("debit", "pending") => ctx.t("Held for an order", "주문 승인(보류)"),
        ("debit", _) => ctx.t("Paid", "결제"),
        ("release", _) => ctx.t("Hold released", "승인 해제"),
        (other, _) => other,
    }
}

#[derive(Deserialize)]
struct TopUpIn {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
}

async fn top_up(Path(id): Path<String>, p: Posted<TopUpIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    let mut form = p.state();
    let currency = if p.form.currency == "USD" { "USD" } else { "KRW" };
    let amount = match fmt::parse_money(&p.form.amount, currency, ctx.lang) {
        Ok(a) if a > 0 => a,
        Ok(_) => {
            form.error("amount", ctx.t("Enter an amount above zero.", "0보다 큰 금액을 입력해 주세요."));
            return render(ctx, &id, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(m) => {
            form.error("amount", m);
            return render(ctx, &id, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let location = ctx.scope(None).or_else(|| ctx.locations.iter().find(|l| l.kind == "store").map(|l| l.id.clone()));
    let hash = engine::platform::idempotency::fingerprint(&[&id, &amount.to_string(), currency]);
    match ctx
        .engine()
        .wallet_top_up(&ctx.staff.principal(), &id, amount, currency, location, p.once().map(str::to_owned), hash)
        .await
    {
        Ok(t) => redirect_with(
            ctx,
            &format!("/console/customers/{id}"),
            true,
            &format!(
                "{} {} → {}",
                ctx.t("Topped up", "충전 완료:"),
                fmt::money(amount, currency),
                fmt::money(t.wallet.available_minor, currency)
            ),
        ),
        Err(e) => {
            form.engine_error(&e, ctx.lang, &[("amount", "amount"), ("amount_minor", "amount")]);
            render(ctx, &id, &form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize, Default)]
struct GiftQ {
    #[serde(default)]
    code: String,
}

async fn gift_cards(ctx: Ctx, Query(q): Query<GiftQ>) -> Response {
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    let mut form = FormState::default();
    let found = if q.code.trim().is_empty() {
        None
    } else {
        match ctx.engine().gift_card(q.code.trim()).await {
            Ok(g) => Some(g),
            Err(e) => {
                form.values.insert("code".into(), q.code.clone());
                form.error("code", forms::explain(&e, ctx.lang));
                None
            }
        }
    };
    gift_page(&ctx, &form, found, None, if form.is_ok() { StatusCode::OK } else { StatusCode::NOT_FOUND })
}

fn gift_page(
    ctx: &Ctx,
    form: &FormState,
    found: Option<engine::money::GiftCardView>,
    sold: Option<engine::money::GiftCardView>,
    status: StatusCode,
) -> Response {
    let body = html! {
        p.small { a href="/console/customers" { "« " (ctx.t("Customers", "고객")) } }
        h1 { (ctx.t("Gift cards", "기프트카드")) }
        @if let Some(g) = &sold {
            div.alert.ok role="status" {
                strong { (ctx.t("Sold. Give the shopper this code — it is shown only once:", "판매했습니다. 이 코드를 고객에게 주세요(한 번만 보입니다):")) }
                p.total.mono { (g.code.as_deref().unwrap_or("")) }
                p { (fmt::money(g.balance_minor, &g.currency)) }
                button type="button" data-print hidden { (ctx.t("Print", "인쇄")) }
            }
        }
        div.grid {
            form.card method="post" action="/console/gift-cards" {
                h2 { (ctx.t("Sell a gift card", "기프트카드 판매")) }
                (ctx.csrf_field()) (ctx.once_field(form))
                (Field::new("amount", ctx.t("Amount", "금액"), form, "").attrs(&[("inputmode", "decimal"), ("autocomplete", "off")]).required().render(form))
                div.field { label for="f-gc-currency" { (ctx.t("Currency", "통화")) }
                    select #f-gc-currency name="currency" { option value="KRW" { "KRW" } option value="USD" selected[form.value("currency", "") == "USD"] { "USD" } } }
                p.small.muted { (ctx.t("Take the payment (cash or card terminal) before selling.", "판매 전에 결제(현금·카드 단말기)를 받으세요.")) }
                button type="submit" { (ctx.t("Sell", "판매")) }
            }
            form.card method="get" action="/console/gift-cards" {
                h2 { (ctx.t("Check a balance", "잔액 조회")) }
                (Field::new("code", ctx.t("Gift card code", "기프트카드 코드"), form, "").attrs(&[("autocomplete", "off")]).required().render(form))
                button.secondary type="submit" { (ctx.t("Check", "조회")) }
                @if let Some(g) = &found {
                    p { "•••• " (g.last4) ": " strong { (fmt::money(g.available_minor, &g.currency)) } " " (ctx.t("available", "사용 가능")) }
                }
            }
        }
    };
    page_status(ctx, status, ctx.t("Gift cards", "기프트카드"), body)
}

#[derive(Deserialize)]
struct SellIn {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
}

async fn sell_gift_card(p: Posted<SellIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Till) {
        return r;
    }
    let mut form = p.state();
    let currency = if p.form.currency == "USD" { "USD" } else { "KRW" };
    let amount = match fmt::parse_money(&p.form.amount, currency, ctx.lang) {
        Ok(a) if a > 0 => a,
        Ok(_) => {
            form.error("amount", ctx.t("Enter an amount above zero.", "0보다 큰 금액을 입력해 주세요."));
            return gift_page(ctx, &form, None, None, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(m) => {
            form.error("amount", m);
            return gift_page(ctx, &form, None, None, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let location = ctx.scope(None).or_else(|| ctx.locations.iter().find(|l| l.kind == "store").map(|l| l.id.clone()));
    let hash = engine::platform::idempotency::fingerprint(&[&amount.to_string(), currency]);
    match ctx
        .engine()
        .issue_gift_card(&ctx.staff.principal(), amount, currency, location, p.once().map(str::to_owned), hash)
        .await
    {
        Ok(g) => gift_page(ctx, &FormState::default(), None, Some(g), StatusCode::CREATED),
        Err(e) => {
            form.engine_error(&e, ctx.lang, &[("amount", "amount"), ("amount_minor", "amount")]);
            gift_page(ctx, &form, None, None, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
