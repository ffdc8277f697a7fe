//! Money for staff and finance: customer lookup, wallets and counter top-ups, gift card sales, the ledger's
//! accounts, statements and postings, and exchange rates.

use crate::extract::Path;
use crate::extract::{Admin, ApiJson, ApiQuery, IdempotencyKey, MoneyJson, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, List, Page};
use crate::routes::{statement, GiftCardOut, StatementQ, TopUpOut};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::customers::accounts::CustomerView;
use engine::money::fx::RateView;
use engine::money::ledger::StatementLine;
use engine::money::ledger::{AccountView, TransferSpec};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/admin/customers")
                .tag("customers")
                .auth(Auth::Staff)
                .doc("Customers: find one by exact email, phone or member code, or page through them (optionally those whose name, email, phone or member code starts with `q`).")
                .query::<CustomerQ>()
                .ok::<Page<CustomerView>>(),
            find_customers,
        )
        .route(
            Op::get("/admin/customers/{id}/wallet")
                .tag("wallet")
                .auth(Auth::Staff)
                .doc("A customer's wallet accounts: balance, held (authorizations), available, per currency.")
                .ok::<List<AccountView>>(),
            admin_wallet,
        )
        .route(
            Op::get("/admin/customers/{id}/wallet/statement")
                .tag("wallet")
                .auth(Auth::Staff)
                .doc("A customer's wallet statement in one currency.")
                .query::<StatementQ>()
                .ok::<Page<StatementLine>>(),
            admin_wallet_statement,
        )
        .route(
            Op::post("/admin/customers/{id}/wallet/top-ups")
                .tag("wallet")
                .auth(Auth::Staff)
                .doc("Top up a wallet at the counter (from the location's cash account).")
                .json::<TopUpIn>()
                .idempotent()
                .created::<TopUpOut>()
                .errors(&[409]),
            wallet_top_up,
        )
        .route(
            Op::post("/admin/gift-cards")
                .tag("wallet")
                .auth(Auth::Staff)
                .doc("Sell a gift card; its code is shown once (a retry with the same Idempotency-Key returns the same card).")
                .json::<GiftCardIn>()
                .idempotent()
                .created::<GiftCardOut>()
                .errors(&[409]),
            issue_gift_card,
        )
        .route(
            Op::post("/admin/ledger/transfers")
                .tag("ledger")
                .auth(Auth::Admin)
                .doc("Post single-phase transfers in one transaction (all or nothing; at most 10,000).")
                .json::<TransfersIn>()
                .idempotent()
                .created::<TransfersOut>()
                .errors(&[409]),
            post_transfers,
        )
        .route(
            Op::get("/admin/ledger/accounts/{code}")
                .tag("ledger")
                .auth(Auth::Admin)
                .doc("A ledger account by code (e.g. wallet:cus_…:KRW, revenue:loc_…:KRW) or id.")
                .ok::<AccountOut>(),
            ledger_account,
        )
        .route(
            Op::get("/admin/ledger/accounts/{code}/statement")
                .tag("ledger")
                .auth(Auth::Admin)
                .doc("Any ledger account's statement: every transfer that touched it.")
                .query::<StatementQ>()
                .ok::<Page<StatementLine>>(),
            account_statement,
        )
        .route(
            Op::post("/admin/fx-rates")
                .tag("ledger")
                .auth(Auth::Admin)
                .doc("Record an exchange rate; web wallet payments in another currency convert at the rate in effect.")
                .json::<FxRateIn>()
                .created::<FxRateOut>(),
            record_fx_rate,
        )
        .route(
            Op::get("/admin/fx-rates").tag("ledger").auth(Auth::Staff).doc("Recorded exchange rates.").ok::<List<RateView>>(),
            list_fx_rates,
        )
}

envelope!(TransfersOut { transfer_ids: Vec<String> });
envelope!(AccountOut { account: AccountView });
envelope!(FxRateOut { fx_rate: RateView });

/// Whom to find: an exact `email`, `phone` or `member_code`, or a page of all (matching `q`).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerQ {
    email: Option<String>,
    phone: Option<String>,
    member_code: Option<String>,
    /// The start of a name, email, phone number or member code (at most 100 characters).
    q: Option<String>,
    /// The previous page's `next_cursor`.
    after: Option<String>,
    /// 1–100, default 20.
    limit: Option<usize>,
}

async fn find_customers(
    State(s): State<AppState>,
    _: Staff,
    ApiQuery(q): ApiQuery<CustomerQ>,
) -> ApiResult<Json<Page<CustomerView>>> {
    let limit = crate::extract::page_limit(q.limit)?;
    if q.email.is_some() || q.phone.is_some() || q.member_code.is_some() {
        let found = s.engine.find_customers(q.email, q.phone, q.member_code).await?;
        return Ok(Json(Page::of(found, usize::MAX, "customers", |c| c.id.clone())));
    }
    let after = crate::cursor::after("customers", q.after.as_deref())?;
    let items = s.engine.list_customers(q.q, after, limit + 1).await?;
    Ok(Json(Page::of(items, limit, "customers", |c| c.id.clone())))
}

async fn admin_wallet(
    State(s): State<AppState>,
    _: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<List<AccountView>>> {
    Ok(Json(List { data: s.engine.wallet(&id).await? }))
}

async fn admin_wallet_statement(
    State(s): State<AppState>,
    _: Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StatementQ>,
) -> ApiResult<Json<Page<StatementLine>>> {
    statement(&s, &id, q).await
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpIn {
    amount_minor: i64,
    currency: String,
    /// The counter (admins); staff top up at their own location.
    location_id: Option<String>,
}

async fn wallet_top_up(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
    b: MoneyJson<TopUpIn>,
) -> ApiResult<Created<TopUpOut>> {
    let hash = b.hash(&[&id]);
    let b = b.body;
    let top_up = s.engine.wallet_top_up(&p, &id, b.amount_minor, &b.currency, b.location_id, key, hash).await?;
    Ok(Created(TopUpOut { top_up }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GiftCardIn {
    amount_minor: i64,
    currency: String,
    location_id: Option<String>,
}

async fn issue_gift_card(
    State(s): State<AppState>,
    Staff(p): Staff,
    IdempotencyKey(key): IdempotencyKey,
    b: MoneyJson<GiftCardIn>,
) -> ApiResult<Created<GiftCardOut>> {
    let hash = b.hash(&[]);
    let b = b.body;
    let gift_card = s.engine.issue_gift_card(&p, b.amount_minor, &b.currency, b.location_id, key, hash).await?;
    Ok(Created(GiftCardOut { gift_card }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransfersIn {
    transfers: Vec<TransferSpec>,
}

/// Finance postings and corrections (corrections are new transfers, never edits). All or nothing.
async fn post_transfers(
    State(s): State<AppState>,
    Admin(p): Admin,
    IdempotencyKey(key): IdempotencyKey,
    b: MoneyJson<TransfersIn>,
) -> ApiResult<Created<TransfersOut>> {
    let hash = b.hash(&[]);
    let idem = key.map(|k| (format!("ledger.batch:{}", p.key_id()), k, hash));
    let ids = s.engine.post_transfers_once(&p, b.body.transfers, idem).await?;
    Ok(Created(TransfersOut { transfer_ids: ids }))
}

async fn ledger_account(State(s): State<AppState>, _: Admin, Path(code): Path<String>) -> ApiResult<Json<AccountOut>> {
    Ok(Json(AccountOut { account: s.engine.ledger_account(&code).await? }))
}

async fn account_statement(
    State(s): State<AppState>,
    _: Admin,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<StatementQ>,
) -> ApiResult<Json<Page<StatementLine>>> {
    if q.currency.is_some() {
        return Err(ApiError::bad("invalid_query", "an account has one currency; `currency` is for wallet statements"));
    }
    let limit = crate::extract::page_limit(q.limit)?;
    let after = crate::routes::seq_after("statement", q.after.as_deref())?;
    let lines = s.engine.account_statement(&code, after, limit + 1).await?;
    Ok(Json(Page::of(lines, limit, "statement", |l| l.seq.to_string())))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateIn {
    base: String,
    quote: String,
    /// Decimal string: 1 `base` = `rate` `quote` (e.g. "1385.20").
    rate: String,
    /// Unix milliseconds; default now.
    effective_at_ms: Option<i64>,
}

async fn record_fx_rate(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(b): ApiJson<FxRateIn>,
) -> ApiResult<Created<FxRateOut>> {
    Ok(Created(FxRateOut { fx_rate: s.engine.record_fx_rate(&b.base, &b.quote, &b.rate, b.effective_at_ms).await? }))
}

async fn list_fx_rates(State(s): State<AppState>, _: Staff) -> ApiResult<Json<List<RateView>>> {
    Ok(Json(List { data: s.engine.fx_rates().await? }))
}
