//! The routes by surface: `store` (shoppers' apps and the storefront), `admin` (sellers, staff and
//! integrators with an API key), `devices` (in-store hardware with its own token) and `processor` (the card
//! processor's webhooks). Request and response types live beside their handlers; what several surfaces
//! share lives here.

pub mod admin;
mod devices;
mod processor;
pub mod store;

use crate::extract::page_limit;
use crate::openapi::Api;
use crate::respond::{envelope, Page};
use crate::{ApiError, ApiResult, AppState};
use axum::http::StatusCode;
use axum::Json;
use engine::money::ledger::StatementLine;
use engine::money::{GiftCardView, TopUpView};
use engine::sales::orders::OrderView;
use engine::sales::payrequests::PaymentRequestView;
use serde::Deserialize;

/// Every route of the API.
pub fn api() -> Api {
    Api::default().merge(store::api()).merge(admin::api()).merge(devices::api()).merge(processor::api())
}

envelope!(OrderOut { order: OrderView });
envelope!(TopUpOut { top_up: TopUpView });
envelope!(GiftCardOut { gift_card: GiftCardView });
envelope!(PaymentRequestOut { payment_request: PaymentRequestView });

/// How an order is paid, at checkout or a counter.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// `pay_at_pickup`, `manual`, `wallet`, `gift_card`, `store_credit`, `card` or `split` on the web;
    /// `pay_in_store`, `wallet_qr` or `gift_card` at a counter.
    pub method: String,
    /// With `wallet_qr` at a POS: the code scanned from the shopper's app; with `gift_card`: the card's code;
    /// with `card`: the card's payment-method token.
    #[serde(default)]
    pub code: Option<String>,
    /// Web wallet payments: pay from the wallet in this currency (converted at the recorded rate).
    #[serde(default)]
    pub currency: Option<String>,
    /// `method: "split"`: the tenders, e.g. `[{"method":"gift_card","code":"GC-…","amount_minor":10000},{"method":"wallet"}]`.
    #[serde(default)]
    pub tenders: Option<Vec<TenderIn>>,
}

/// One tender of a split payment; one may leave `amount_minor` out to take the rest.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderIn {
    pub method: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub amount_minor: Option<i64>,
}

/// Which page of a list.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageQ {
    /// The previous page's `next_cursor`.
    pub after: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<usize>,
}

/// Which part of a statement.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementQ {
    /// Wallet statements: the currency (default KRW).
    pub currency: Option<String>,
    /// The previous page's `next_cursor`.
    pub after: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<usize>,
}

pub async fn statement(s: &AppState, customer: &str, q: StatementQ) -> ApiResult<Json<Page<StatementLine>>> {
    let limit = page_limit(q.limit)?;
    let after = seq_after("statement", q.after.as_deref())?;
    let lines = s.engine.wallet_statement(customer, q.currency.as_deref().unwrap_or("KRW"), after, limit + 1).await?;
    Ok(Json(Page::of(lines, limit, "statement", |l| l.seq.to_string())))
}

/// A `seq` cursor (statements, movements, deliveries): `after` decoded, 0 for the first page.
pub fn seq_after(kind: &str, after: Option<&str>) -> ApiResult<i64> {
    match crate::cursor::after(kind, after)? {
        None => Ok(0),
        Some(k) => {
            k.parse().map_err(|_| ApiError::bad("invalid_cursor", "`after` takes the previous page's `next_cursor`"))
        }
    }
}

pub fn signed_in(c: Option<String>) -> ApiResult<String> {
    c.ok_or(ApiError::Request {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: "log in first".into(),
    })
}
