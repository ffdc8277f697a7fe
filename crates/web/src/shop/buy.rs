//! Buying: the cart (quantities, delivery or click & collect with each store's live availability for the
//! whole cart), checkout (guest or signed in; pay at pickup, wallet, store credit or gift card; one order
//! per submit through the form's idempotency key) and the order page (a status timeline, and the pickup
//! code with its QR once the order is ready).

use super::{page, price, redirect_with, safe_next, shopper_sentence, Meta, ShopForm, Visitor, CART_COOKIE};
use crate::forms::{Field, FormState};
use crate::i18n::Lang;
use crate::Web;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::catalog::locations::Address;
use engine::sales::carts::{CartView, Fulfillment};
use engine::EngineError;
use maud::{html, Markup};
use serde::Deserialize;

/// Most units of one line a shopper can put in the cart here (the engine caps unpaid orders further).
const MAX_QTY: i64 = 20;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/cart", get(cart_page))
        .route("/cart/add", post(add))
        .route("/cart/line", post(set_line))
        .route("/cart/fulfillment", post(fulfillment))
        .route("/checkout", get(checkout_page).post(checkout))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/cancel", post(cancel_order))
}

/// The visitor's open cart, if the cookie names one that is still open and theirs.
async fn current_cart(v: &Visitor) -> Option<CartView> {
    let id = v.cart_id.as_deref()?;
    match v.engine().cart(id, v.customer_id()).await {
        Ok(c) if c.status == "open" => Some(c),
        _ => None,
    }
}

#[derive(Deserialize)]
struct AddIn {
    sku: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    next: String,
}

fn parse_qty(v: &Visitor, text: &str, zero_ok: bool) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (if zero_ok { 0 } else { 1 }..=MAX_QTY).contains(&n) => Ok(n),
        _ => Err(match v.lang {
            Lang::Ko => format!("수량은 {}개부터 {MAX_QTY}개까지 고를 수 있습니다.", if zero_ok { 0 } else { 1 }),
            Lang::En => format!("Choose a quantity from {} to {MAX_QTY}.", if zero_ok { 0 } else { 1 }),
        }),
    }
}

async fn add(f: ShopForm<AddIn>) -> Response {
    let mut v = f.v;
    let next = safe_next(Some(&f.form.next));
    let qty = match parse_qty(&v, if f.form.quantity.is_empty() { "1" } else { &f.form.quantity }, false) {
        Ok(q) => q,
        Err(m) => return redirect_with(&v, &next, Some((false, &m))),
    };
    // An empty cart follows the currency the shopper now shops in; one with lines keeps its own (its prices
    // are in it), and a product without a price in it is explained below.
    let cart = match current_cart(&v).await.filter(|c| c.currency == v.currency || !c.lines.is_empty()) {
        Some(c) => c,
        None => match v.engine().create_cart(Some(v.currency.clone()), v.customer_id().map(str::to_owned)).await {
            Ok(c) => {
                v.set_cookie(CART_COOKIE, &c.id, Some(30 * 86400));
                c
            }
            Err(e) => return redirect_with(&v, &next, Some((false, &shopper_sentence(&e, v.lang, &[])))),
        },
    };
    let already = cart.lines.iter().find(|l| l.sku == f.form.sku).map(|l| l.quantity).unwrap_or(0);
    if already + qty > MAX_QTY {
        let m = match v.lang {
            Lang::Ko => format!("한 상품은 {MAX_QTY}개까지 담을 수 있습니다 (지금 {already}개)."),
            Lang::En => format!("You can put up to {MAX_QTY} of one product in the cart (now {already})."),
        };
        return redirect_with(&v, &next, Some((false, &m)));
    }
    match v.engine().add_cart_line(&cart.id, &f.form.sku, qty, v.customer_id()).await {
        // (The engine logs the cart add for recommendations itself, as for every channel.)
        Ok(_) => {
            v.record_analytics("cart_add", Some(&f.form.sku)).await;
            let m = v.t("Added to your cart.", "장바구니에 담았습니다.");
            redirect_with(&v, &next, Some((true, m)))
        }
        Err(e) if e.code() == "no_price" && cart.currency != v.currency => {
            let m = match v.lang {
                Lang::Ko => format!(
                    "장바구니가 {} 통화로 되어 있는데 이 상품은 {} 가격이 없습니다. 장바구니를 먼저 주문하거나 비운 뒤 담아 주세요.",
                    cart.currency, cart.currency
                ),
                Lang::En => format!(
                    "Your cart is in {} and this product has no {} price. Check out or empty your cart first, then add it.",
                    cart.currency, cart.currency
                ),
            };
            redirect_with(&v, &next, Some((false, &m)))
        }
        Err(e) => redirect_with(&v, &next, Some((false, &shopper_sentence(&e, v.lang, &[])))),
    }
}

#[derive(Deserialize)]
struct LineIn {
    sku: String,
    quantity: String,
}

async fn set_line(f: ShopForm<LineIn>) -> Response {
    let v = f.v;
    let Some(cart) = current_cart(&v).await else {
        return cart_expired(&v);
    };
    let qty = match parse_qty(&v, &f.form.quantity, true) {
        Ok(q) => q,
        Err(m) => return redirect_with(&v, "/cart", Some((false, &m))),
    };
    match v.engine().set_cart_line(&cart.id, &f.form.sku, qty, v.customer_id()).await {
        Ok(_) => {
            let m = if qty == 0 {
                v.t("Removed from your cart.", "장바구니에서 뺐습니다.")
            } else {
                v.t("Quantity updated.", "수량을 바꿨습니다.")
            };
            redirect_with(&v, "/cart", Some((true, m)))
        }
        Err(e) => redirect_with(&v, "/cart", Some((false, &shopper_sentence(&e, v.lang, &names(&cart, v.lang))))),
    }
}

/// Back to the cart page, saying the cart has gone (ordered elsewhere, or swept after 30 idle days).
fn cart_expired(v: &Visitor) -> Response {
    let m =
        v.t("Your cart has expired. Add the products again.", "장바구니가 만료되었습니다. 상품을 다시 담아 주세요.");
    redirect_with(v, "/cart", Some((false, m)))
}

/// (SKU, product name) of a cart's lines, for messages about them.
fn names(cart: &CartView, lang: Lang) -> Vec<(String, String)> {
    cart.lines.iter().map(|l| (l.sku.clone(), lang.t(&l.title.en, &l.title.ko).to_owned())).collect()
}

/// For each pickup store: how many of the cart's lines it can fill today.
async fn store_coverage(v: &Visitor, cart: &CartView) -> Vec<(String, usize)> {
    let mut per_store: std::collections::HashMap<String, usize> = Default::default();
    for line in &cart.lines {
        if let Ok(levels) = v.engine().stock(&line.sku).await {
            for l in levels.locations.iter().filter(|l| l.pickup_enabled && l.level.available >= line.quantity) {
                *per_store.entry(l.location_id.clone()).or_default() += 1;
            }
        }
    }
    v.pickup_stores().map(|s| (s.id.clone(), per_store.get(&s.id).copied().unwrap_or(0))).collect()
}

fn lines_table(v: &Visitor, cart: &CartView, editable: bool) -> Markup {
    html! {
        div.table-wrap {
            table.cart-lines {
                caption.sr-only { (v.t("Products in your cart", "장바구니 상품")) }
                thead { tr {
                    th scope="col" { (v.t("Product", "상품")) }
                    th scope="col" { (v.t("Quantity", "수량")) }
                    th.num scope="col" { (v.t("Total", "금액")) }
                } }
                tbody {
                    @for l in &cart.lines {
                        tr {
                            td {
                                (v.l(&l.title))
                                @if !l.options.is_empty() { br; span.small.muted { (super::browse::options_text(&l.options, v.lang)) } }
                                br; span.small.muted { (price(&l.unit_price)) }
                            }
                            td {
                                @if editable {
                                    form.qty method="post" action="/cart/line" {
                                        (v.csrf_field())
                                        input type="hidden" name="sku" value=(l.sku);
                                        label.sr-only for=(format!("q-{}", l.sku)) { (v.t("Quantity of", "수량:")) " " (v.l(&l.title)) }
                                        input id=(format!("q-{}", l.sku)) type="number" name="quantity" value=(l.quantity) min="0" max=(MAX_QTY) inputmode="numeric";
                                        button.secondary type="submit" { (v.t("Update", "변경")) }
                                    }
                                    form.inline method="post" action="/cart/line" {
                                        (v.csrf_field())
                                        input type="hidden" name="sku" value=(l.sku);
                                        input type="hidden" name="quantity" value="0";
                                        button.link type="submit" { (v.t("Remove", "삭제")) }
                                    }
                                } @else { (l.quantity) }
                            }
                            td.num { (price(&l.line_total)) }
                        }
                    }
                }
                tfoot { tr { th colspan="2" { (v.t("Subtotal", "상품 합계")) } td.num { strong { (price(&cart.subtotal)) } } } }
            }
        }
    }
}

fn fulfillment_text(v: &Visitor, f: &Option<Fulfillment>) -> String {
    match f {
        Some(Fulfillment::Pickup { location_id }) => match v.lang {
            Lang::Ko => format!("{} 매장 픽업", v.location_name(location_id)),
            Lang::En => format!("Pick up at {}", v.location_name(location_id)),
        },
        Some(Fulfillment::Delivery { address }) => match v.lang {
            Lang::Ko => format!("배송: {} {} ({})", address.line1, address.city, address.recipient),
            Lang::En => format!("Delivery: {} {} ({})", address.line1, address.city, address.recipient),
        },
        None => v.t("Not chosen yet", "아직 선택하지 않음").to_owned(),
    }
}

async fn cart_page(v: Visitor) -> Response {
    let cart = current_cart(&v).await;
    render_cart(&v, cart, FormState::default(), StatusCode::OK).await
}

async fn render_cart(v: &Visitor, cart: Option<CartView>, form: FormState, status: StatusCode) -> Response {
    let meta = Meta::new(v.t("Your cart", "장바구니"), v.t("Your cart", "장바구니")).private();
    let Some(cart) = cart.filter(|c| !c.lines.is_empty()) else {
        let body = html! {
            h1 { (v.t("Your cart", "장바구니")) }
            p { (v.t("Your cart is empty.", "장바구니가 비어 있습니다.")) }
            p { a.button href="/" { (v.t("Start shopping", "쇼핑 시작하기")) } }
        };
        return page(v, status, meta, body);
    };
    let coverage = store_coverage(v, &cart).await;
    let n = cart.lines.len();
    let (chosen_store, chosen_delivery) = match &cart.fulfillment {
        Some(Fulfillment::Pickup { location_id }) => (Some(location_id.clone()), None),
        Some(Fulfillment::Delivery { address }) => (None, Some(address.clone())),
        None => (v.store.clone(), None),
    };
    let kind = form.value("kind", if chosen_delivery.is_some() { "delivery" } else { "pickup" }).to_owned();
    let a = chosen_delivery.unwrap_or_default();
    let body = html! {
        h1 { (v.t("Your cart", "장바구니")) }
        @if cart.currency != v.currency {
            p.alert role="status" { (match v.lang {
                Lang::Ko => format!("이 장바구니는 {} 가격으로 담겨 그 통화로 결제됩니다. 다른 통화로 사려면 장바구니를 비운 뒤 다시 담아 주세요.", cart.currency),
                Lang::En => format!("This cart is priced and paid in {}. To buy in another currency, empty it and add the products again.", cart.currency),
            }) }
        }
        (lines_table(v, &cart, true))
        section.card aria-labelledby="how" {
            h2 #how { (v.t("How do you want it?", "받는 방법")) }
            (crate::forms::summary(&form, v.lang))
            form method="post" action="/cart/fulfillment" {
                (v.csrf_field())
                fieldset {
                    legend { (v.t("Click & collect (free, today)", "매장 픽업 (무료, 오늘)")) }
                    @for (store_id, ok) in &coverage {
                        label.choice {
                            input type="radio" name="choice" value=(format!("pickup:{store_id}"))
                                checked[kind == "pickup" && chosen_store.as_deref() == Some(store_id.as_str())];
                            span {
                                strong { (v.location_name(store_id)) }
                                " — "
                                @if *ok == n { span.ok-text { (v.t("everything in stock, pickup today", "모두 재고 있음, 오늘 픽업")) } }
                                @else if *ok == 0 { span.bad-text { (v.t("not in stock here", "이 매장에 재고 없음")) } }
                                @else { span.warn-text { (match v.lang { Lang::Ko => format!("{n}개 중 {ok}개 재고 있음"), Lang::En => format!("{ok} of {n} in stock") }) } }
                            }
                        }
                    }
                }
                fieldset {
                    legend { (v.t("Delivery", "배송")) }
                    label.choice {
                        input type="radio" name="choice" value="delivery" checked[kind == "delivery"];
                        span { (v.t("Deliver to this address", "이 주소로 배송")) }
                    }
                    div.row {
                        (Field::new("recipient", v.t("Recipient", "받는 분"), &form, &a.recipient).attrs(&[("autocomplete", "name"), ("maxlength", "100")]).render(&form))
                        (Field::new("phone", v.t("Phone", "연락처"), &form, &a.phone).kind("tel").attrs(&[("autocomplete", "tel"), ("maxlength", "20")]).render(&form))
                    }
                    (Field::new("line1", v.t("Address", "주소"), &form, &a.line1).attrs(&[("autocomplete", "address-line1"), ("maxlength", "200")]).render(&form))
                    (Field::new("line2", v.t("Apartment, floor (optional)", "상세 주소 (선택)"), &form, &a.line2).attrs(&[("autocomplete", "address-line2"), ("maxlength", "200")]).render(&form))
                    div.row {
                        (Field::new("city", v.t("City", "시·군·구"), &form, &a.city).attrs(&[("autocomplete", "address-level2"), ("maxlength", "100")]).render(&form))
                        (Field::new("postal_code", v.t("Postcode", "우편번호"), &form, &a.postal_code).attrs(&[("autocomplete", "postal-code"), ("maxlength", "12"), ("inputmode", "numeric")]).render(&form))
                    }
                    (Field::new("memo", v.t("Note for the courier (optional)", "배송 메모 (선택)"), &form, &a.memo).attrs(&[("maxlength", "200")]).render(&form))
                }
                button type="submit" { (v.t("Save and continue", "저장하고 계속")) }
            }
        }
        @if cart.fulfillment.is_some() {
            p.actions {
                span { (fulfillment_text(v, &cart.fulfillment)) }
                a.button href="/checkout" { (v.t("Go to checkout", "주문하기")) }
            }
        }
    };
    page(v, status, meta, body)
}

#[derive(Deserialize)]
struct FulfillmentIn {
    #[serde(default)]
    choice: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    line2: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    memo: String,
}

async fn fulfillment(f: ShopForm<FulfillmentIn>) -> Response {
    let mut form = f.state();
    let v = f.v;
    let Some(cart) = current_cart(&v).await else {
        return cart_expired(&v);
    };
    let i = f.form;
    let chosen = if let Some(store) = i.choice.strip_prefix("pickup:") {
        form.values.insert("kind".into(), "pickup".into());
        Fulfillment::Pickup { location_id: store.to_owned() }
    } else if i.choice == "delivery" {
        form.values.insert("kind".into(), "delivery".into());
        Fulfillment::Delivery {
            address: Address {
                recipient: i.recipient,
                phone: i.phone,
                line1: i.line1,
                line2: i.line2,
                city: i.city,
                region: String::new(),
                postal_code: i.postal_code,
                country: "KR".into(),
                memo: i.memo,
            },
        }
    } else {
        form.general = Some(
            v.t("Choose a store to pick up from, or delivery.", "픽업할 매장이나 배송을 선택해 주세요.").to_owned(),
        );
        return render_cart(&v, Some(cart), form, StatusCode::BAD_REQUEST).await;
    };
    match v.engine().set_fulfillment(&cart.id, chosen, v.customer_id()).await {
        Ok(_) => redirect_with(&v, "/checkout", None),
        Err(e) => {
            let fields = [
                ("address.recipient", "recipient"),
                ("address.phone", "phone"),
                ("address.line1", "line1"),
                ("address.line2", "line2"),
                ("address.city", "city"),
                ("address.postal_code", "postal_code"),
                ("address.memo", "memo"),
            ];
            form.engine_error(&e, v.lang, &fields);
            if form.general.is_some() {
                form.general = Some(shopper_sentence(&e, v.lang, &names(&cart, v.lang)));
            }
            render_cart(&v, Some(cart), form, StatusCode::BAD_REQUEST).await
        }
    }
}

/// What the signed-in shopper holds in the wallet and as store credit, in the cart's currency.
async fn balances(v: &Visitor, currency: &str) -> (Option<i64>, Option<i64>) {
    let Some(id) = v.customer_id() else { return (None, None) };
    let accounts = v.engine().wallet(id).await.unwrap_or_default();
    let of = |kind: &str| accounts.iter().find(|a| a.kind == kind && a.currency == currency).map(|a| a.available_minor);
    (of("wallet"), of("store_credit"))
}

async fn checkout_page(v: Visitor) -> Response {
    let Some(cart) = current_cart(&v).await.filter(|c| !c.lines.is_empty()) else {
        return redirect_with(&v, "/cart", None);
    };
    if cart.fulfillment.is_none() {
        return redirect_with(
            &v,
            "/cart",
            Some((false, v.t("Choose pickup or delivery first.", "먼저 픽업이나 배송을 선택해 주세요."))),
        );
    }
    v.record_analytics("checkout", None).await;
    render_checkout(&v, &cart, FormState::default(), StatusCode::OK).await
}

async fn render_checkout(v: &Visitor, cart: &CartView, form: FormState, status: StatusCode) -> Response {
    let pickup = matches!(cart.fulfillment, Some(Fulfillment::Pickup { .. }));
    let (wallet, credit) = balances(v, &cart.currency).await;
    let default_method = if v.customer.is_some() && wallet.unwrap_or(0) >= cart.subtotal.amount_minor {
        "wallet"
    } else if pickup {
        "pay_at_pickup"
    } else {
        "gift_card"
    };
    let method = form.value("method", default_method).to_owned();
    let body = html! {
        h1 { (v.t("Checkout", "주문하기")) }
        (crate::forms::summary(&form, v.lang))
        (lines_table(v, cart, false))
        p { strong { (fulfillment_text(v, &cart.fulfillment)) } " " a href="/cart" { (v.t("Change", "변경")) } }
        form.card method="post" action="/checkout" {
            (v.csrf_field())
            (v.once_field())
            @if v.customer.is_none() {
                p.small { (v.t("Checking out as a guest.", "비회원으로 주문합니다.")) " "
                    a href="/account/login?next=%2Fcheckout" { (v.t("Sign in to pay from your wallet", "로그인하면 지갑으로 결제할 수 있습니다")) } }
                (Field::new("email", v.t("Email for your receipt", "영수증 받을 이메일"), &form, "").kind("email").required()
                    .attrs(&[("autocomplete", "email"), ("maxlength", "254")]).render(&form))
            }
            fieldset {
                legend { (v.t("Payment", "결제 수단")) }
                @if v.customer.is_some() {
                    label.choice {
                        input type="radio" name="method" value="wallet" checked[method == "wallet"];
                        span { (v.t("My wallet", "내 지갑")) " · " (match wallet { Some(b) => crate::fmt::money(b, &cart.currency), None => v.t("empty", "잔액 없음").to_owned() }) }
                    }
                    @if credit.is_some_and(|c| c > 0) {
                        label.choice {
                            input type="radio" name="method" value="store_credit" checked[method == "store_credit"];
                            span { (v.t("Store credit", "적립금")) " · " (crate::fmt::money(credit.unwrap_or(0), &cart.currency)) }
                        }
                    }
                }
                @if pickup {
                    label.choice {
                        input type="radio" name="method" value="pay_at_pickup" checked[method == "pay_at_pickup"];
                        span { (v.t("Pay at the store when you pick it up", "픽업할 때 매장에서 결제")) }
                    }
                }
                label.choice {
                    input type="radio" name="method" value="gift_card" checked[method == "gift_card"];
                    span { (v.t("Gift card", "기프트카드")) }
                }
                (Field::new("gift_code", v.t("Gift card code (for a gift card)", "기프트카드 번호 (기프트카드 결제 시)"), &form, "")
                    .attrs(&[("autocomplete", "off"), ("maxlength", "64")]).render(&form))
                @if let Some(key) = v.card_key() {
                    label.choice {
                        input type="radio" name="method" value="card" checked[method == "card"];
                        span { (v.t("Card", "카드")) }
                    }
                    (v.card_form(key, &form))
                } @else {
                    p.small.muted { (v.t("Card payment is not set up for this shop.", "이 상점은 카드 결제를 설정하지 않았습니다.")) }
                }
            }
            p.total { (v.t("Total", "결제 금액")) " " (price(&cart.subtotal)) }
            button.big type="submit" { (v.t("Place order", "주문 확정")) }
        }
    };
    let meta = Meta::new(v.t("Checkout", "주문하기"), v.t("Checkout", "주문하기")).private();
    super::card_policy(v, page(v, status, meta, body))
}

#[derive(Deserialize)]
struct CheckoutIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    gift_code: String,
    #[serde(default)]
    card_token: String,
}

/// The code that goes with the payment method: a gift card's number or the card processor's token.
fn tender(i: &CheckoutIn) -> Option<String> {
    match i.method.as_str() {
        "gift_card" => Some(i.gift_code.trim().to_owned()),
        "card" => Some(i.card_token.trim().to_owned()),
        _ => None,
    }
}

async fn checkout(f: ShopForm<CheckoutIn>) -> Response {
    let mut form = f.state();
    let key = f.once();
    let mut v = f.v;
    let Some(cart) = current_cart(&v).await.filter(|c| !c.lines.is_empty()) else {
        // A second tap of "Place order" arrives after the first placed the order: the same key answers
        // with the same order (the engine's idempotency), so the shopper lands on it, and nothing more
        // is placed or charged.
        if let (Some(cart_id), Some(k)) = (v.cart_id.clone(), key.as_deref()) {
            let replay = engine::sales::CheckoutRequest {
                cart_id: cart_id.clone(),
                email: (!f.form.email.trim().is_empty()).then(|| f.form.email.trim().to_owned()),
                payment_method: f.form.method.clone(),
                idempotency_key: Some(format!("shop:{cart_id}:{k}")),
                customer_id: v.customer_id().map(str::to_owned),
                tender_code: tender(&f.form),
                wallet_currency: None,
                split: None,
                request_hash: None,
                staff: false,
            };
            if let Ok(order) = v.engine().checkout(replay).await {
                return placed(&mut v, &order);
            }
        }
        return redirect_with(
            &v,
            "/cart",
            Some((
                false,
                v.t("This cart was already ordered or has expired.", "이미 주문했거나 만료된 장바구니입니다."),
            )),
        );
    };
    let i = f.form;
    let allowed = ["wallet", "store_credit", "pay_at_pickup", "gift_card"];
    let card = i.method == "card" && v.card_key().is_some();
    if !allowed.contains(&i.method.as_str()) && !card {
        form.error("method", v.t("Choose how to pay.", "결제 수단을 선택해 주세요."));
    }
    if i.method == "gift_card" && i.gift_code.trim().is_empty() {
        form.error("gift_code", v.t("Enter the gift card's code.", "기프트카드 번호를 입력해 주세요."));
    }
    if card && (i.card_token.trim().is_empty() || i.card_token.len() > 200) {
        form.error("card", v.t("Enter your card in the card form.", "카드 정보를 입력해 주세요."));
    }
    if v.customer.is_none() && i.email.trim().is_empty() {
        form.error(
            "email",
            v.t(
                "Enter your email: the receipt and the pickup code go there.",
                "이메일을 입력해 주세요. 영수증과 픽업 코드를 보내 드립니다.",
            ),
        );
    }
    if !form.is_ok() {
        return render_checkout(&v, &cart, form, StatusCode::BAD_REQUEST).await;
    }
    let req = engine::sales::CheckoutRequest {
        cart_id: cart.id.clone(),
        email: if v.customer.is_none() { Some(i.email.trim().to_owned()) } else { None },
        payment_method: i.method.clone(),
        idempotency_key: key.map(|k| format!("shop:{}:{k}", cart.id)),
        customer_id: v.customer_id().map(str::to_owned),
        tender_code: tender(&i),
        wallet_currency: None,
        split: None,
        request_hash: None,
        staff: false,
    };
    match v.engine().checkout(req).await {
        Ok(order) => placed(&mut v, &order),
        Err(e) => {
            let status = match &e {
                EngineError::OutOfStock { .. } => StatusCode::CONFLICT,
                EngineError::PaymentDeclined(_) => StatusCode::PAYMENT_REQUIRED,
                _ => StatusCode::BAD_REQUEST,
            };
            form.engine_error(&e, v.lang, &[("email", "email"), ("code", "gift_code"), ("tender_code", "gift_code")]);
            // A declined or failed card needs a new token: the card form starts empty again.
            form.values.remove("card_token");
            if form.general.is_some() {
                form.general = Some(shopper_sentence(&e, v.lang, &names(&cart, v.lang)));
            }
            render_checkout(&v, &cart, form, status).await
        }
    }
}

/// After a checkout: the cart is forgotten and the shopper sees the order (a guest through its secret link).
fn placed(v: &mut Visitor, order: &engine::sales::orders::OrderView) -> Response {
    v.set_cookie(CART_COOKIE, "", Some(0));
    let to = match (&order.access_token, v.customer.is_some()) {
        (Some(t), false) => format!("/orders/{}?token={}", order.id, super::urlencode(t)),
        _ => format!("/orders/{}", order.id),
    };
    redirect_with(v, &to, Some((true, v.t("Thank you! Your order is placed.", "주문이 완료되었습니다. 감사합니다!"))))
}

/// The steps an order goes through, as a shopper reads them, and how far it got.
fn timeline(v: &Visitor, o: &engine::sales::orders::OrderView) -> Markup {
    // Delivery ends when the parcel leaves (`shipped`); a sale at a till or a cashierless exit is done at once.
    let steps: Vec<(&str, &str, &str)> = match (o.fulfillment_type.as_str(), o.channel.as_str()) {
        ("pickup", _) => vec![
            ("placed", "Order placed", "주문 접수"),
            ("ready_for_pickup", "Ready at the store", "매장에서 픽업 준비 완료"),
            ("picked_up", "Collected", "픽업 완료"),
        ],
        ("in_store", "cashierless") => vec![("completed", "Paid as you walked out", "퇴장할 때 결제 완료")],
        ("in_store", _) => vec![("completed", "Bought at the store", "매장에서 구매 완료")],
        _ => vec![("placed", "Order placed", "주문 접수"), ("shipped", "Shipped", "발송 완료")],
    };
    let reached = steps.iter().position(|(s, _, _)| *s == o.status);
    html! {
        ol.timeline.steps {
            @for (i, (_, en, ko)) in steps.iter().enumerate() {
                @let done = reached.is_some_and(|r| i <= r);
                li.done[done] aria-current=[(reached == Some(i)).then_some("step")] { (v.t(en, ko)) }
            }
            @if reached.is_none() {
                li.stopped aria-current="step" {
                    (match o.status.as_str() {
                        "cancelled" => v.t("Cancelled: nothing is charged; any payment is returned.", "취소됨: 결제된 금액은 환불됩니다."),
                        "expired" => v.t("Not collected in time: the order was released and any payment returned.", "기한 내 픽업하지 않아 주문이 해제되었고 결제는 환불됩니다."),
                        other => other,
                    })
                }
            }
        }
    }
}

/// Whether the shopper may still cancel: not handed over, shipped or sold at a till yet.
fn cancellable(o: &engine::sales::orders::OrderView) -> bool {
    o.channel == "web"
        && o.payment.method != "manual"
        && (o.status == "placed" || o.status == "ready_for_pickup" && o.fulfillment_type == "pickup")
}

#[derive(Deserialize)]
struct CancelIn {
    #[serde(default)]
    token: Option<String>,
}

/// The shopper's cancel button: the order is cancelled through the engine (stock back, hold released) and
/// the order page says so, or why not.
async fn cancel_order(Path(id): Path<String>, f: ShopForm<CancelIn>) -> Response {
    let v = f.v;
    let token = f.form.token.filter(|t| !t.is_empty() && t.len() <= 200);
    let back = match &token {
        Some(t) => format!("/orders/{}?token={}", super::urlencode(&id), super::urlencode(t)),
        None => format!("/orders/{}", super::urlencode(&id)),
    };
    match v.engine().cancel_by_shopper(&id, v.customer_id(), token.as_deref(), None).await {
        Ok(_) => redirect_with(&v, &back, Some((true, v.t("Your order is cancelled. Nothing is charged.", "주문을 취소했습니다. 결제되지 않습니다.")))),
        Err(engine::EngineError::Conflict { code: "invalid_transition", .. }) => redirect_with(
            &v,
            &back,
            Some((false, v.t(
                "This order can no longer be cancelled: it was collected, shipped or cancelled already. To return items, bring them to any of our stores.",
                "이미 픽업·발송되었거나 취소된 주문이라 취소할 수 없습니다. 반품은 가까운 매장 어디에서나 할 수 있습니다.",
            ))),
        ),
        Err(e) => super::engine_problem(&v, &e),
    }
}

async fn order_page(v: Visitor, Path(id): Path<String>) -> Response {
    let token = v.param("token").filter(|t| t.len() <= 200).map(str::to_owned);
    let order = match v.engine().order_for_shopper(&id, v.customer_id(), token.as_deref()).await {
        Ok(o) => o,
        Err(e) => return super::engine_problem(&v, &e),
    };
    let store = order.location_id.as_deref().map(|l| v.location_name(l));
    let code = order.pickup.as_ref().and_then(|p| p.code.clone());
    let body = html! {
        h1 { (v.t("Your order", "주문 내역")) }
        p.muted.mono { (order.id) }
        p { (crate::fmt::money(order.total.amount_minor, &order.currency)) " · " (super::account::method_name(&v, &order.payment.method)) " · "
            (super::account::payment_status(&v, &order.payment.method, &order.payment.status)) }
        div data-refresh=[(order.status == "placed").then_some("20")] {
            (timeline(&v, &order))
            @if let Some(c) = &code {
                section.card.pickup-code aria-labelledby="code" {
                    h2 #code { (v.t("Show this at the pickup desk", "픽업 데스크에서 보여 주세요")) }
                    @if let Some(s) = &store { p { (s) } }
                    p.code { (c) }
                    (crate::qr::image(c, &match v.lang { Lang::Ko => format!("픽업 코드 {c}"), Lang::En => format!("Pickup code {c}") }))
                    @if let Some(exp) = order.pickup.as_ref().and_then(|p| p.expires_at.as_deref()) {
                        p.small { (v.t("Collect by", "픽업 기한")) " " (v.when(exp)) }
                    }
                }
            } @else if order.status == "placed" && order.fulfillment_type == "pickup" {
                p.alert.info role="status" {
                    (match (v.lang, &store) {
                        (Lang::Ko, Some(s)) => format!("{s}에서 상품을 준비하고 있습니다. 준비되면 이 화면에 픽업 코드가 나타납니다."),
                        (Lang::En, Some(s)) => format!("{s} is getting your order ready. The pickup code appears here when it is."),
                        _ => v.t("Your order is being prepared.", "주문을 준비하고 있습니다.").to_owned(),
                    })
                }
            }
        }
        h2 { (v.t("Items", "상품")) }
        ul {
            @for l in &order.lines {
                li { (v.l(&l.title)) " × " (l.quantity) " — " (price(&l.line_total)) }
            }
        }
        @if cancellable(&order) {
            details.card {
                summary { (v.t("Cancel this order", "주문 취소")) }
                p { (v.t("The items go back on the shelf and nothing is charged: a wallet or card hold is released at once.",
                         "상품은 매장 재고로 돌아가고 결제되지 않습니다. 지갑·카드 승인 금액은 바로 풀립니다.")) }
                form method="post" action=(format!("/orders/{}/cancel", order.id)) {
                    (v.csrf_field())
                    @if let Some(t) = &token { input type="hidden" name="token" value=(t); }
                    button.danger type="submit" { (v.t("Cancel the order", "주문 취소하기")) }
                }
            }
        }
        @if v.customer.is_none() {
            p.small.muted { (v.t("Keep this page's address: it is how you open this order again without an account.",
                                 "이 화면의 주소를 보관해 주세요. 회원이 아니면 이 주소로만 주문을 다시 볼 수 있습니다.")) }
        } @else {
            p { a href="/account" { (v.t("All my orders", "전체 주문 내역")) } }
        }
    };
    let meta = Meta::new(v.t("Your order", "주문 내역"), v.t("Your order", "주문 내역")).private();
    page(&v, StatusCode::OK, meta, body)
}
