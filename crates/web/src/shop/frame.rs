//! The storefront's page frame: the `<head>` search engines and link previews read (title, description,
//! canonical and `hreflang` URLs, Open Graph, schema.org JSON-LD), the header with search, cart, account,
//! language and currency, the consent banner, the footer, and the pages that explain a refusal in the
//! shopper's language with the next step.

use super::{urlencode, with_query, Visitor};
use crate::assets;
use crate::i18n::Lang;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// What search engines and link previews read about a page.
pub(crate) struct Meta {
    pub title: String,
    pub description: String,
    /// The page's own path with the query that makes it distinct (the language is added per alternate).
    pub canonical: Option<String>,
    pub og_type: &'static str,
    /// schema.org data as JSON-LD.
    pub json_ld: Option<serde_json::Value>,
    /// Personal pages (cart, account, orders) are kept out of search engines.
    pub noindex: bool,
}

impl Meta {
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> Meta {
        Meta {
            title: title.into(),
            description: description.into(),
            canonical: None,
            og_type: "website",
            json_ld: None,
            noindex: false,
        }
    }
    pub fn canonical(mut self, path: impl Into<String>) -> Meta {
        self.canonical = Some(path.into());
        self
    }
    pub fn private(mut self) -> Meta {
        self.noindex = true;
        self
    }
}

/// The URL of `path` in `lang`: Korean is the default (no parameter), English adds `lang=en`.
pub(super) fn lang_url(base: &str, path: &str, lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("{base}{path}"),
        Lang::En => format!("{base}{path}{}lang=en", if path.contains('?') { '&' } else { '?' }),
    }
}

/// JSON-LD as a `<script>` data block (not executed, so the CSP allows it); `<` is escaped so no text can
/// end the block.
fn json_ld(v: &serde_json::Value) -> Markup {
    let s = v.to_string().replace('<', "\\u003c");
    html! { script type="application/ld+json" { (PreEscaped(s)) } }
}

fn head(v: &Visitor, meta: &Meta) -> Markup {
    let title = if meta.title.is_empty() { "borderless".to_owned() } else { format!("{} · borderless", meta.title) };
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light";
            meta name="theme-color" content="#17202a";
            title { (title) }
            meta name="description" content=(meta.description);
            @if meta.noindex { meta name="robots" content="noindex"; }
            @if let Some(c) = &meta.canonical {
                link rel="canonical" href=(lang_url(&v.base, c, v.lang));
                link rel="alternate" hreflang="ko" href=(lang_url(&v.base, c, Lang::Ko));
                link rel="alternate" hreflang="en" href=(lang_url(&v.base, c, Lang::En));
                link rel="alternate" hreflang="x-default" href=(lang_url(&v.base, c, Lang::Ko));
                meta property="og:url" content=(lang_url(&v.base, c, v.lang));
            }
            meta property="og:site_name" content="borderless";
            meta property="og:type" content=(meta.og_type);
            meta property="og:title" content=(meta.title);
            meta property="og:description" content=(meta.description);
            meta property="og:locale" content=(v.t("en_US", "ko_KR"));
            meta property="og:locale:alternate" content=(v.t("ko_KR", "en_US"));
            link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
            link rel="stylesheet" href=(assets::url("app.css"));
            link rel="stylesheet" href=(assets::url("shop.css"));
            script src=(assets::url("app.js")) defer {}
            script src=(assets::url("shop.js")) defer {}
            @if let Some(ld) = &meta.json_ld { (json_ld(ld)) }
        }
    }
}

/// A full storefront page: header with search, cart and account, the consent banner until answered, the
/// flash message, `body`, and the footer.
pub(crate) fn page(v: &Visitor, status: StatusCode, meta: Meta, body: Markup) -> Response {
    let other = v.lang.other();
    let markup = html! {
        (DOCTYPE)
        html lang=(v.lang.code()) {
            (head(v, &meta))
            body.shop {
                a.skip href="#main" { (v.t("Skip to content", "본문으로 건너뛰기")) }
                header.shop-top {
                    a.brand href="/" { img src=(assets::url("icon.svg")) alt="" width="24" height="24"; "borderless" }
                    form.search role="search" method="get" action="/search" {
                        label.sr-only for="q-top" { (v.t("Search products", "상품 검색")) }
                        input #q-top type="search" name="q" data-search
                            value=(if v.path == "/search" { v.query.iter().find(|(k, _)| k == "q").map(|(_, q)| q.as_str()).unwrap_or("") } else { "" })
                            placeholder=(v.t("Search: wireless earbuds, 라면…", "검색: 무선 이어폰, ramen…")) maxlength="200";
                        @if v.lang == Lang::En { input type="hidden" name="lang" value="en"; }
                        button type="submit" { (v.t("Search", "검색")) }
                    }
                    nav.shop-links aria-label=(v.t("Your shop", "내 쇼핑")) {
                        a href="/assistant" { (v.t("Ask us", "쇼핑 도우미")) }
                        a href="/cart" { (v.t("Cart", "장바구니")) }
                        @if v.customer.is_some() {
                            a href="/account" { (v.t("My account", "내 계정")) }
                        } @else {
                            a href=(format!("/account/login?next={}", urlencode(&current(v)))) { (v.t("Sign in", "로그인")) }
                        }
                        a href=(v.with_param("lang", other.code())) lang=(other.code()) hreflang=(other.code()) { (other.own_name()) }
                        @let next_cur = if v.currency == "KRW" { "USD" } else { "KRW" };
                        a href=(v.with_param("currency", next_cur))
                            aria-label=(format!("{} {next_cur}", v.t("Show prices in", "가격 통화:"))) { (if next_cur == "USD" { "$ USD" } else { "₩ KRW" }) }
                    }
                }
                @if v.consent.is_none() { (consent_banner(v)) }
                main #main tabindex="-1" {
                    @if let Some((ok, text)) = &v.flash {
                        div.flash.ok[*ok].bad[!*ok] role="status" { (text) }
                    }
                    (body)
                }
                footer.shop-foot {
                    p {
                        (v.t("One shop on the web and in our stores: order online, pick up today, pay with one wallet everywhere.",
                             "온라인과 매장이 하나인 쇼핑: 온라인으로 주문하고 오늘 매장에서 픽업, 어디서나 하나의 지갑으로 결제."))
                    }
                    p.small {
                        a href="/stores" { (v.t("Our stores", "매장 안내")) } " · "
                        a href="/account/privacy" { (v.t("Privacy and analytics", "개인정보와 분석 설정")) } " · "
                        a href="/giftcard" { (v.t("Gift card balance", "기프트카드 잔액")) } " · "
                        a href="/console" { (v.t("Staff console", "직원용 콘솔")) } " · "
                        a href=(assets::url("licenses.txt")) { (v.t("Licences", "라이선스")) }
                    }
                }
            }
        }
    };
    v.finish((status, markup).into_response())
}

/// This page's path and query (for `next` after signing in).
fn current(v: &Visitor) -> String {
    with_query(&v.path, &v.query)
}

fn consent_banner(v: &Visitor) -> Markup {
    html! {
        aside.consent aria-label=(v.t("Analytics consent", "분석 동의")) {
            p {
                (v.t("May we record what you view and search here to improve recommendations and our stores? Nothing is recorded unless you allow it; you can change this at any time.",
                     "추천과 매장 개선을 위해 이 사이트에서 보고 검색한 기록을 저장해도 될까요? 허용하지 않으면 아무것도 저장하지 않으며, 언제든 바꿀 수 있습니다."))
            }
            form method="post" action="/consent" {
                (v.csrf_field())
                input type="hidden" name="next" value=(current(v));
                button type="submit" name="choice" value="yes" { (v.t("Allow", "허용")) }
                " "
                button.secondary type="submit" name="choice" value="no" { (v.t("No thanks", "허용 안 함")) }
            }
        }
    }
}

/// A page explaining why something could not be done, with the next step.
pub(crate) fn problem(v: &Visitor, status: StatusCode, message: &str) -> Response {
    page(
        v,
        status,
        Meta::new(v.t("Not possible", "진행할 수 없습니다"), message.to_owned()).private(),
        html! {
            h1 { (v.t("Not possible", "진행할 수 없습니다")) }
            div.alert.bad role="alert" { (message) }
            p.actions {
                a.button href="/" { (v.t("Back to the shop", "쇼핑 계속하기")) }
                a.button.secondary href="/cart" { (v.t("Your cart", "장바구니")) }
            }
        },
    )
}

/// An engine error as a page in the shopper's language.
pub(crate) fn engine_problem(v: &Visitor, e: &engine::EngineError) -> Response {
    let status = match e {
        engine::EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
        engine::EngineError::Forbidden(_) | engine::EngineError::Unauthorized => StatusCode::FORBIDDEN,
        engine::EngineError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    problem(v, status, &shopper_sentence(e, v.lang, &[]))
}

/// An engine error as a sentence for a shopper (not staff): what happened and what to do next.
/// `names` maps SKUs to the product names the shopper knows them by.
pub(crate) fn shopper_sentence(e: &engine::EngineError, lang: Lang, names: &[(String, String)]) -> String {
    use engine::EngineError as E;
    match e {
        E::NotFound { what, .. } if *what == "product" => lang
            .t(
                "This product is not (or no longer) in our catalog. Search for a similar one.",
                "찾는 상품이 없거나 더 이상 판매하지 않습니다. 비슷한 상품을 검색해 보세요.",
            )
            .to_owned(),
        E::NotFound { what, .. } if *what == "order" => lang
            .t(
                "We could not find this order. Open it from the link you got at checkout, or sign in to see your orders.",
                "주문을 찾을 수 없습니다. 주문 완료 화면의 링크로 열거나, 로그인해서 주문 내역을 확인해 주세요.",
            )
            .to_owned(),
        E::NotFound { what, .. } if *what == "cart" => lang
            .t("Your cart has expired. Add the products again.", "장바구니가 만료되었습니다. 상품을 다시 담아 주세요.")
            .to_owned(),
        E::OutOfStock { sku, available, .. } => {
            let name = names.iter().find(|(s, _)| s == sku).map(|(_, n)| n.clone());
            let (ko, en) = match &name {
                Some(n) => (format!("‘{n}’"), format!("“{n}”")),
                None => ("담은 상품 중 하나".to_owned(), "One product in your cart".to_owned()),
            };
            match (lang, *available) {
                (Lang::Ko, 0) => format!("{ko}의 재고가 방금 소진되었습니다. 장바구니에서 빼거나 다른 매장을 선택해 주세요. 결제되거나 예약된 것은 없습니다."),
                (Lang::Ko, n) => format!("{ko}은(는) 지금 {n}개만 남았습니다. 수량을 줄이거나 다른 매장을 선택해 주세요. 결제되거나 예약된 것은 없습니다."),
                (Lang::En, 0) => format!("{en} just sold out. Remove it from your cart or choose another store. Nothing was charged or reserved."),
                (Lang::En, n) => format!("Only {n} left of {en}. Lower the quantity or choose another store. Nothing was charged or reserved."),
            }
        }
        E::PaymentDeclined(code) => match lang {
            Lang::Ko => format!("카드 결제가 거절되었습니다({code}). 결제된 금액은 없습니다. 다른 카드나 다른 결제 수단을 이용해 주세요."),
            Lang::En => format!("Your card was declined ({code}). Nothing was charged; try another card or another way to pay."),
        },
        other => crate::forms::explain(other, lang),
    }
}
