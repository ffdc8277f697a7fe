//! The shopper's account (signing in, up and out is `signin`): orders from every channel (web, till, cashierless receipts), the wallet with its statement, the one-time
//! payment QR for a till or the cashierless gate (rotating before it expires), confirming a payment request
//! scanned at a till, gift card balances, and the analytics consent setting.

use super::{page, problem, redirect_with, shopper_sentence, urlencode, Meta, ShopForm, Visitor};
use crate::forms::{Field, FormState};
use crate::i18n::Lang;
use crate::Web;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::sales::orders::OrderQuery;
use engine::EngineError;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/account", get(overview))
        .route("/account/wallet", get(wallet))
        .route("/account/wallet/top-up", post(top_up))
        .route("/account/pay", get(pay_page).post(pay_code))
        .route("/account/pay/request", get(request_page).post(confirm_request))
        .route("/account/privacy", get(privacy))
        .route("/giftcard", get(gift_card))
}

/// A payment or refund method as a shopper reads it.
pub(super) fn method_name<'a>(v: &Visitor, method: &'a str) -> &'a str {
    match method {
        "pay_at_pickup" => v.t("Pay at pickup", "픽업 시 결제"),
        "pay_in_store" | "cash_or_card_at_store" => v.t("Paid at the store", "매장 결제"),
        "wallet" => v.t("Wallet", "지갑"),
        "gift_card" => v.t("Gift card", "기프트카드"),
        "store_credit" => v.t("Store credit", "적립금"),
        "card" => v.t("Card", "카드"),
        "split" => v.t("Several payments", "복합 결제"),
        "cashierless_hold" => v.t("Cashierless store", "무인 매장 결제"),
        "manual" => v.t("Arranged with the shop", "상점과 별도 정산"),
        other => other,
    }
}

/// An order's payment state as the shopper reads it; an order paid at the store has nothing held.
pub(super) fn payment_status<'a>(v: &Visitor, method: &str, status: &'a str) -> &'a str {
    let at_store = matches!(method, "pay_at_pickup" | "pay_in_store" | "cash_or_card_at_store");
    match status {
        "pending" | "unpaid" if at_store => v.t("to pay at the store", "매장에서 결제 예정"),
        "captured" | "paid" => v.t("paid", "결제 완료"),
        "authorized" | "pending" => v.t("authorised, charged at handover", "승인됨 (인도 시 결제)"),
        "unpaid" => v.t("to pay at the store", "매장에서 결제 예정"),
        "refunded" => v.t("refunded", "환불됨"),
        "voided" => v.t("released", "승인 취소"),
        other => other,
    }
}

fn order_status<'a>(v: &Visitor, status: &'a str) -> (&'static str, &'a str) {
    match status {
        "placed" => ("info", v.t("Placed", "주문 접수")),
        "ready_for_pickup" => ("warn", v.t("Ready for pickup", "픽업 준비 완료")),
        "picked_up" => ("ok", v.t("Collected", "픽업 완료")),
        "shipped" => ("ok", v.t("Shipped", "발송")),
        "completed" => ("ok", v.t("Completed", "완료")),
        "cancelled" => ("bad", v.t("Cancelled", "취소")),
        "expired" => ("bad", v.t("Expired", "기한 만료")),
        other => ("", other),
    }
}

fn channel_name<'a>(v: &Visitor, channel: &'a str) -> &'a str {
    match channel {
        "web" => v.t("Online", "온라인"),
        "pos" => v.t("In store", "매장 계산대"),
        "cashierless" => v.t("Cashierless store", "무인 매장"),
        other => other,
    }
}

/// The signed-in shopper's id, or a redirect to sign in and come back.
fn signed_in(v: &Visitor) -> Result<String, Response> {
    match v.customer_id() {
        Some(id) => Ok(id.to_owned()),
        None => {
            let next = super::with_query(&v.path, &v.query);
            Err(redirect_with(v, &format!("/account/login?next={}", urlencode(&next)), None))
        }
    }
}

// ---- the account ----------------------------------------------------------------------------------------

async fn overview(v: Visitor) -> Response {
    let id = match signed_in(&v) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let me = match v.engine().customer(&id).await {
        Ok(c) => c,
        Err(e) => return super::engine_problem(&v, &e),
    };
    let orders = v.engine().orders(OrderQuery { customer_id: Some(id.clone()), limit: 30, ..Default::default() }).await;
    let orders = match orders {
        Ok(o) => o,
        Err(e) => return super::engine_problem(&v, &e),
    };
    let accounts = v.engine().wallet(&id).await.unwrap_or_default();
    let body = html! {
        h1 { (match v.lang { Lang::Ko => format!("{}님의 계정", me.name), Lang::En => format!("{}'s account", me.name) }) }
        p.muted { (v.t("Member code", "회원 번호")) " " span.mono { (me.member_code) } }
        div.grid {
            a.card href="/account/pay" {
                h2 { (v.t("My payment QR", "내 결제 QR")) }
                p { (v.t("Pay at any till or enter the cashierless store with one code.", "매장 계산대와 무인 매장 입장에 쓰는 결제 코드.")) }
            }
            a.card href="/account/pay/request" {
                h2 { (v.t("Pay a till's request", "계산대 결제 요청")) }
                p { (v.t("Scan or type the code the till shows, check and confirm.", "계산대 화면의 코드를 찍거나 입력하고 확인하세요.")) }
            }
            a.card href="/account/wallet" {
                h2 { (v.t("Wallet", "지갑")) }
                @if accounts.is_empty() { p { (v.t("No balance yet.", "아직 잔액이 없습니다.")) } }
                @for a in &accounts {
                    p { (wallet_kind(&v, &a.kind)) ": " strong { (crate::fmt::money(a.available_minor, &a.currency)) } }
                }
            }
        }
        h2 { (v.t("My orders, online and in store", "주문 내역 (온라인·매장)")) }
        @if orders.is_empty() {
            p { (v.t("No orders yet.", "아직 주문이 없습니다.")) }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (v.t("When", "일시")) }
                        th scope="col" { (v.t("Where", "채널")) }
                        th scope="col" { (v.t("Status", "상태")) }
                        th.num scope="col" { (v.t("Total", "금액")) }
                    } }
                    tbody {
                        @for o in &orders {
                            @let (class, label) = order_status(&v, &o.status);
                            tr {
                                td { a href=(format!("/orders/{}", o.id)) { (v.when(&o.placed_at)) } }
                                td {
                                    (channel_name(&v, &o.channel))
                                    @if let Some(l) = &o.location_id { br; span.small.muted { (v.location_name(l)) } }
                                }
                                td { span class=(format!("pill {class}")) { (label) } }
                                td.num { (crate::fmt::money(o.total.amount_minor, &o.currency)) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (v.t("Privacy", "개인정보")) }
        (consent_form(&v))
        form.actions method="post" action="/account/logout" {
            (v.csrf_field())
            button.secondary type="submit" { (v.t("Sign out", "로그아웃")) }
            button.secondary type="submit" name="everywhere" value="1" { (v.t("Sign out on every device", "모든 기기에서 로그아웃")) }
        }
    };
    page(&v, StatusCode::OK, Meta::new(v.t("My account", "내 계정"), v.t("My account", "내 계정")).private(), body)
}

fn wallet_kind<'a>(v: &Visitor, kind: &'a str) -> &'a str {
    match kind {
        "wallet" => v.t("Wallet", "지갑"),
        "store_credit" => v.t("Store credit", "적립금"),
        other => other,
    }
}

async fn wallet(v: Visitor) -> Response {
    render_wallet(&v, &FormState::default(), StatusCode::OK).await
}

async fn render_wallet(v: &Visitor, form: &FormState, status: StatusCode) -> Response {
    let id = match signed_in(v) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let accounts = v.engine().wallet(&id).await.unwrap_or_default();
    let mut statements = Vec::new();
    for a in accounts.iter().filter(|a| a.kind == "wallet") {
        let lines = v.engine().wallet_statement_latest(&id, &a.currency, 50).await.unwrap_or_default();
        statements.push((a.currency.clone(), lines));
    }
    let body = html! {
        h1 { (v.t("Wallet", "지갑")) }
        div.grid {
            @for a in &accounts {
                div.card {
                    h2 { (wallet_kind(v, &a.kind)) " · " (a.currency) }
                    p.stat { (crate::fmt::money(a.available_minor, &a.currency)) }
                    @if a.held_minor > 0 { p.small.muted { (v.t("On hold for open orders:", "진행 중인 주문에 묶인 금액:")) " " (crate::fmt::money(a.held_minor, &a.currency)) } }
                }
            }
        }
        @if let Some(key) = v.card_key() {
            form.card method="post" action="/account/wallet/top-up" {
                h2 { (v.t("Top up by card", "카드로 충전")) }
                (v.csrf_field())
                (v.once_field())
                (crate::forms::summary(form, v.lang))
                (Field::new("amount", v.t("Amount (won)", "충전 금액 (원)"), form, "50000").required()
                    .attrs(&[("inputmode", "numeric"), ("maxlength", "12")]).render(form))
                (v.card_form(key, form))
                button type="submit" { (v.t("Top up", "충전하기")) }
            }
        } @else {
            p.small.muted { (v.t("Top-ups by card are not set up for this shop; top up at a till.", "이 상점은 카드 충전을 설정하지 않았습니다. 매장 계산대에서 충전해 주세요.")) }
        }
        @for (currency, lines) in &statements {
            h2 { (v.t("Statement", "거래 내역")) " · " (currency) }
            @if lines.is_empty() { p { (v.t("No movements yet.", "거래가 없습니다.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { (v.t("When", "일시")) } th scope="col" { (v.t("What", "내용")) } th.num scope="col" { (v.t("Amount", "금액")) } } }
                    tbody {
                        @for (l, (what, shown)) in lines.iter().zip(statement_rows(v.lang, lines)) {
                            tr {
                                td { (v.when(&l.created_at)) }
                                td { (what) }
                                td.num { (shown) }
                            }
                        }
                    }
                } }
            }
        }
    };
    let res = page(v, status, Meta::new(v.t("Wallet", "지갑"), v.t("Wallet", "지갑")).private(), body);
    super::card_policy(v, res)
}

#[derive(Deserialize)]
struct TopUpIn {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    card_token: String,
}

/// A top-up of the wallet by card, once per submit (the form's key goes to the processor and the ledger).
async fn top_up(f: ShopForm<TopUpIn>) -> Response {
    let mut form = f.state();
    form.values.remove("card_token");
    let key = f.once();
    let v = f.v;
    let id = match signed_in(&v) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if v.card_key().is_none() {
        return problem(
            &v,
            StatusCode::BAD_REQUEST,
            v.t("Top-ups by card are not set up for this shop.", "이 상점은 카드 충전을 설정하지 않았습니다."),
        );
    }
    let amount = match crate::fmt::parse_money(&f.form.amount, "KRW", v.lang) {
        Ok(a) if a >= 1_000 => Some(a),
        Ok(_) => {
            form.error("amount", v.t("Top up at least ₩1,000.", "1,000원 이상 충전해 주세요."));
            None
        }
        Err(e) => {
            form.error("amount", e);
            None
        }
    };
    if f.form.card_token.trim().is_empty() || f.form.card_token.len() > 200 {
        form.error("card", v.t("Enter your card in the card form.", "카드 정보를 입력해 주세요."));
    }
    let (Some(amount), true) = (amount, form.is_ok()) else {
        return render_wallet(&v, &form, StatusCode::BAD_REQUEST).await;
    };
    let key = key.map(|k| format!("shop-top-up:{id}:{k}"));
    match v.engine().self_top_up(&id, amount, "KRW", f.form.card_token.trim(), key).await {
        Ok(_) => {
            let m = match v.lang {
                Lang::Ko => format!("{} 충전했습니다.", crate::fmt::money(amount, "KRW")),
                Lang::En => format!("Topped up {}.", crate::fmt::money(amount, "KRW")),
            };
            redirect_with(&v, "/account/wallet", Some((true, &m)))
        }
        Err(e) => {
            form.engine_error(&e, v.lang, &[("amount_minor", "amount")]);
            if form.general.is_some() {
                form.general = Some(shopper_sentence(&e, v.lang, &[]));
            }
            let status = if matches!(e, EngineError::PaymentDeclined(_)) {
                StatusCode::PAYMENT_REQUIRED
            } else {
                StatusCode::BAD_REQUEST
            };
            render_wallet(&v, &form, status).await
        }
    }
}

/// A wallet statement as the shopper reads it: for each movement (newest first, as listed), what it was and
/// its amount signed by its effect on what the shopper can spend (the balance the page shows). The ledger's
/// kinds are not for shoppers: a `pending` debit sets money aside (a click & collect or delivery order, or
/// the cashierless store's entry); its `post_pending` takes what was bought from it and gives back the rest
/// of the hold at once, so only that rest moves the balance again; `void_pending` / `expire_pending` give
/// the hold back.
fn statement_rows(lang: Lang, lines: &[engine::money::ledger::StatementLine]) -> Vec<(String, String)> {
    let t = |en: &str, ko: &str| if lang == Lang::Ko { ko.to_owned() } else { en.to_owned() };
    let money = |m: i64, cur: &str| crate::fmt::money(m, cur);
    let held = |pending: &Option<String>| {
        pending.as_ref().and_then(|id| lines.iter().find(|l| &l.transfer_id == id && l.kind == "pending"))
    };
    lines
        .iter()
        .map(|l| {
            let (ref_type, ref_id) = l.reference.split_once(':').unwrap_or(("", ""));
            let store = ref_type == "cashierless";
            let amount = money(l.amount_minor, &l.currency);
            let (what, shown) = match (l.kind.as_str(), l.direction.as_str(), ref_type) {
                ("pending", ..) if store => {
                    (t("Set aside on entering the cashierless store", "무인 매장 입장 시 보류"), format!("−{amount}"))
                }
                ("pending", ..) => (t("Set aside for an order", "주문 금액 보류"), format!("−{amount}")),
                ("post_pending", ..) => match held(&l.pending_id).map(|h| h.amount_minor - l.amount_minor) {
                    Some(rest) if rest > 0 => (
                        match lang {
                            Lang::Ko => format!(
                                "보류 금액 {} 중 {amount} 결제, 나머지 반환",
                                money(l.amount_minor + rest, &l.currency)
                            ),
                            Lang::En => format!(
                                "Paid {amount} of the {} set aside; the rest returned",
                                money(l.amount_minor + rest, &l.currency)
                            ),
                        },
                        format!("+{}", money(rest, &l.currency)),
                    ),
                    Some(_) => (t("Paid from the amount set aside", "보류 금액으로 결제"), amount),
                    None => (
                        t(
                            "Paid from an amount set aside earlier (any rest returned)",
                            "앞서 보류한 금액으로 결제 (남은 금액은 반환)",
                        ),
                        amount,
                    ),
                },
                ("void_pending", ..) => (t("Set-aside amount returned", "보류 금액 반환"), format!("+{amount}")),
                ("expire_pending", ..) => {
                    (t("Set-aside amount returned (expired)", "보류 금액 반환 (기한 만료)"), format!("+{amount}"))
                }
                (_, "credit", "refund") => (t("Refund", "환불"), format!("+{amount}")),
                (_, "credit", "topup" | "card_payment") => (t("Top-up", "충전"), format!("+{amount}")),
                (_, "credit", _) => (t("Money in", "입금"), format!("+{amount}")),
                _ => (t("Payment", "결제"), format!("−{amount}")),
            };
            match ref_type {
                "order" if !ref_id.is_empty() => (format!("{what} · {ref_id}"), shown),
                _ => (what, shown),
            }
        })
        .collect()
}

// ---- the payment QR and payment requests ---------------------------------------------------------------

fn pay_body(v: &Visitor, code: Option<&engine::money::paycodes::PaymentCodeView>, error: Option<String>) -> Markup {
    html! {
        h1 { (v.t("My payment QR", "내 결제 QR")) }
        p { (v.t("Show it at a till or scan it at the cashierless store's gate. It works once and changes every minute, so a screenshot is useless to anyone else.",
                 "계산대에서 보여 주거나 무인 매장 입구에서 찍으세요. 한 번만 쓸 수 있고 1분마다 바뀌어 캡처해도 다른 사람이 쓸 수 없습니다.")) }
        @if let Some(e) = error { div.alert.bad role="alert" { (e) } }
        div #paycode data-rotate=[code.map(|c| (c.expires_in_ms / 1000).max(5).to_string())] {
            @if let Some(c) = code {
                (crate::qr::image(&c.code, v.t("Your one-time payment code", "일회용 결제 코드")))
                p.code.mono { (c.code) }
                p.small { (v.t("Valid until", "유효 시간:")) " " (v.when(&c.expires_at)) }
            }
        }
        form method="post" action="/account/pay" data-rotate-form {
            (v.csrf_field())
            button.big type="submit" { @if code.is_some() { (v.t("New code", "새 코드 받기")) } @else { (v.t("Show my payment QR", "결제 QR 보기")) } }
        }
        p { a href="/account/pay/request" { (v.t("Pay a request shown at a till", "계산대 결제 요청 결제하기")) } }
    }
}

async fn pay_page(v: Visitor) -> Response {
    if let Err(r) = signed_in(&v) {
        return r;
    }
    page(&v, StatusCode::OK, Meta::new(v.t("My payment QR", "내 결제 QR"), "").private(), pay_body(&v, None, None))
}

#[derive(Deserialize)]
struct Nothing {}

async fn pay_code(f: ShopForm<Nothing>) -> Response {
    let v = f.v;
    let id = match signed_in(&v) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let meta = || Meta::new(v.t("My payment QR", "내 결제 QR"), "").private();
    match v.engine().payment_code(&id).await {
        Ok(c) => page(&v, StatusCode::OK, meta(), pay_body(&v, Some(&c), None)),
        Err(e) => {
            page(&v, StatusCode::BAD_REQUEST, meta(), pay_body(&v, None, Some(shopper_sentence(&e, v.lang, &[]))))
        }
    }
}

async fn request_page(v: Visitor) -> Response {
    if let Err(r) = signed_in(&v) {
        return r;
    }
    let code = v.param("code").map(str::to_owned).filter(|c| c.len() <= 200);
    let meta = || Meta::new(v.t("Pay a till's request", "계산대 결제 요청"), "").private();
    let found = match &code {
        Some(c) => Some(v.engine().payment_request(c).await),
        None => None,
    };
    let body = html! {
        h1 { (v.t("Pay a till's request", "계산대 결제 요청")) }
        form method="get" action="/account/pay/request" {
            div.field {
                label for="f-code" { (v.t("Code shown at the till", "계산대에 표시된 코드")) }
                div.row {
                    input #f-code name="code" value=(code.as_deref().unwrap_or("")) autocomplete="off" maxlength="200" required;
                    button.secondary.shrink type="button" data-scan="f-code" hidden data-denied=(v.t("Camera not available: type the code.", "카메라를 쓸 수 없습니다. 코드를 입력해 주세요.")) { (v.t("Scan", "스캔")) }
                }
                div #f-code-camera .scanner hidden {}
            }
            button.secondary type="submit" { (v.t("Look it up", "조회")) }
        }
        @match &found {
            Some(Ok(r)) => {
                section.card {
                    h2 { (v.l(&r.location_name)) }
                    ul {
                        @for l in &r.lines {
                            li {
                                (l["title"][v.lang.code()].as_str().unwrap_or("")) " × " (l["quantity"].as_i64().unwrap_or(0))
                            }
                        }
                    }
                    p.total { (super::price(&r.amount)) }
                    @if r.status == "open" {
                        form method="post" action="/account/pay/request" {
                            (v.csrf_field())
                            input type="hidden" name="code" value=(r.id);
                            button.big type="submit" { (v.t("Pay from my wallet", "내 지갑으로 결제")) }
                        }
                    } @else {
                        p.alert.info { (v.t("This request is no longer open.", "이미 처리되었거나 만료된 요청입니다.")) }
                    }
                }
            }
            Some(Err(e)) => { div.alert.bad role="alert" { (shopper_sentence(e, v.lang, &[])) } }
            None => {}
        }
    };
    let status = match &found {
        Some(Err(EngineError::NotFound { .. })) => StatusCode::NOT_FOUND,
        Some(Err(_)) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    page(&v, status, meta(), body)
}

#[derive(Deserialize)]
struct ConfirmIn {
    code: String,
}

async fn confirm_request(f: ShopForm<ConfirmIn>) -> Response {
    let v = f.v;
    let id = match signed_in(&v) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match v.engine().confirm_payment_request(&f.form.code, &id).await {
        Ok(order) => redirect_with(
            &v,
            &format!("/orders/{}", order.id),
            Some((true, v.t("Paid. Thank you!", "결제했습니다. 감사합니다!"))),
        ),
        Err(e) => problem(&v, StatusCode::BAD_REQUEST, &shopper_sentence(&e, v.lang, &[])),
    }
}

// ---- gift cards and privacy ----------------------------------------------------------------------------

async fn gift_card(v: Visitor) -> Response {
    let code = v.param("code").map(str::to_owned).filter(|c| c.len() <= 64);
    let found = match &code {
        Some(c) => Some(v.engine().gift_card(c).await),
        None => None,
    };
    let body = html! {
        h1 { (v.t("Gift card balance", "기프트카드 잔액")) }
        form method="get" action="/giftcard" {
            div.field {
                label for="f-gc" { (v.t("Gift card code", "기프트카드 번호")) }
                input #f-gc name="code" autocomplete="off" maxlength="64" required;
            }
            button.secondary type="submit" { (v.t("Check", "조회")) }
        }
        @match &found {
            Some(Ok(g)) => { p.stat role="status" { "•••• " (g.last4) ": " (crate::fmt::money(g.available_minor, &g.currency)) } }
            Some(Err(_)) => { div.alert.bad role="alert" { (v.t("No gift card has this code. Check it and try again.", "이 번호의 기프트카드가 없습니다. 번호를 확인해 주세요.")) } }
            None => {}
        }
    };
    let status = if matches!(found, Some(Err(_))) { StatusCode::NOT_FOUND } else { StatusCode::OK };
    page(&v, status, Meta::new(v.t("Gift card balance", "기프트카드 잔액"), "").private(), body)
}

fn consent_form(v: &Visitor) -> Markup {
    html! {
        p {
            (match v.consent {
                Some(true) => v.t("You allow us to record what you view and search here; it improves your recommendations.", "이 사이트에서 보고 검색한 기록 저장을 허용했습니다. 추천에 반영됩니다."),
                Some(false) => v.t("You do not allow recording what you view and search here: nothing is stored.", "보고 검색한 기록 저장을 허용하지 않았습니다. 아무것도 저장하지 않습니다."),
                None => v.t("You have not chosen yet: nothing is recorded until you allow it.", "아직 선택하지 않았습니다. 허용하기 전에는 아무것도 저장하지 않습니다."),
            })
        }
        form.actions method="post" action="/consent" {
            (v.csrf_field())
            input type="hidden" name="next" value=(v.path);
            button type="submit" name="choice" value="yes" disabled[v.consent == Some(true)] { (v.t("Allow", "허용")) }
            button.secondary type="submit" name="choice" value="no" disabled[v.consent == Some(false)] { (v.t("Do not allow", "허용 안 함")) }
        }
    }
}

async fn privacy(v: Visitor) -> Response {
    let body = html! {
        h1 { (v.t("Privacy and analytics", "개인정보와 분석 설정")) }
        p { (v.t("With your consent we record the products you view, what you search and what you add to the cart, to recommend better and to plan our stores. Orders are kept in any case, as the law requires.",
                 "동의하면 본 상품, 검색어, 장바구니에 담은 상품을 기록해 더 나은 추천과 매장 운영에 씁니다. 주문 기록은 법에 따라 동의와 관계없이 보관합니다.")) }
        (consent_form(&v))
    };
    page(
        &v,
        StatusCode::OK,
        Meta::new(v.t("Privacy and analytics", "개인정보와 분석 설정"), "").canonical("/account/privacy"),
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::money::ledger::StatementLine;

    fn line(
        transfer: &str,
        kind: &str,
        direction: &str,
        amount: i64,
        reference: &str,
        pending: Option<&str>,
    ) -> StatementLine {
        StatementLine {
            seq: 0,
            transfer_id: transfer.into(),
            kind: kind.into(),
            direction: direction.into(),
            amount_minor: amount,
            currency: "KRW".into(),
            counterparty: String::new(),
            reason: String::new(),
            reference: reference.into(),
            pending_id: pending.map(str::to_owned),
            created_at: String::new(),
        }
    }

    /// The signed amounts add up to what the shopper can spend, whatever part of a hold is taken.
    #[test]
    fn a_statement_adds_up_to_what_can_be_spent() {
        // Newest first: a cashierless visit held ₩50,000 and took ₩29,000; an order held ₩38,000 and took it
        // all; a third hold was released; one top-up of ₩150,000 started it. Spendable: ₩83,000.
        let lines = [
            line("t7", "post_pending", "debit", 29_000, "cashierless:visit_1", Some("t6")),
            line("t6", "pending", "debit", 50_000, "cashierless:visit_1", None),
            line("t5", "void_pending", "release", 12_000, "order:ord_2", Some("t4")),
            line("t4", "pending", "debit", 12_000, "order:ord_2", None),
            line("t3", "post_pending", "debit", 38_000, "order:ord_1", Some("t2")),
            line("t2", "pending", "debit", 38_000, "order:ord_1", None),
            line("t1", "single", "credit", 150_000, "topup:cus_1", None),
        ];
        let rows = statement_rows(Lang::Ko, &lines);
        let signed: i64 = rows
            .iter()
            .map(|(_, shown)| {
                let n: i64 = shown.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap();
                match shown.chars().next() {
                    Some('+') => n,
                    Some('−') => -n,
                    _ => 0,
                }
            })
            .sum();
        assert_eq!(signed, 150_000 - 38_000 - 29_000, "{rows:?}");
        assert_eq!(rows[0], ("보류 금액 ₩50,000 중 ₩29,000 결제, 나머지 반환".into(), "+₩21,000".into()));
        assert_eq!(rows[1].0, "무인 매장 입장 시 보류");
        assert_eq!(rows[4], ("보류 금액으로 결제 · ord_1".into(), "₩38,000".into()));
        assert_eq!(rows[6], ("충전".into(), "+₩150,000".into()));
        let en = statement_rows(Lang::En, &lines[..1]);
        assert!(en[0].0.starts_with("Paid from an amount set aside earlier"), "its hold is on another page: {en:?}");
    }
}
