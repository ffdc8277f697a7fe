//! The shopper's money: wallet balances and statement, one-time payment codes for the counter, card top-ups,
//! gift card balances, and payment requests scanned at a till.

use crate::extract::Path;
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, MaybeCustomer, SignedIn};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created, List, Page};
use crate::routes::{signed_in, statement, GiftCardOut, OrderOut, PaymentRequestOut, StatementQ, TopUpOut};
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::money::ledger::AccountView;
use engine::money::ledger::StatementLine;
use engine::money::paycodes::PaymentCodeView;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/store/wallet")
                .tag("wallet")
                .auth(Auth::Customer)
                .doc("The signed-in customer's wallet: balance, held and available per currency.")
                .ok::<List<AccountView>>(),
            my_wallet,
        )
        .route(
            Op::get("/store/wallet/statement")
                .tag("wallet")
                .auth(Auth::Customer)
                .doc("The signed-in customer's wallet statement in one currency.")
                .query::<StatementQ>()
                .ok::<Page<StatementLine>>(),
            my_wallet_statement,
        )
        .route(
            Op::post("/store/wallet/payment-codes")
                .tag("wallet")
                .auth(Auth::Customer)
                .doc("A one-time payment code for the counter or the cashierless gate (QR): valid 60 s, single use, revokes older codes.")
                .created::<PaymentCodeOut>(),
            new_payment_code,
        )
        .route(
            Op::post("/store/wallet/top-ups")
                .tag("wallet")
                .auth(Auth::Customer)
                .doc("Top up the wallet by card (the Idempotency-Key is required).")
                .json::<SelfTopUpIn>()
                .idempotent()
                .created::<TopUpOut>()
                .errors(&[402, 409, 429]),
            self_top_up,
        )
        .route(
            Op::get("/store/gift-cards/{code}").tag("wallet").doc("A gift card's balance by its code.").ok::<GiftCardOut>(),
            gift_card_balance,
        )
        .route(
            Op::get("/store/payment-requests/{id}")
                .tag("wallet")
                .auth(Auth::Customer)
                .doc("A payment request scanned at a till (its id or QR text): store, lines, amount.")
                .ok::<PaymentRequestOut>(),
            store_payment_request,
        )
        .route(
            Op::post("/store/payment-requests/{id}/confirm")
                .tag("wallet")
                .auth(Auth::Customer)
                .doc("Pay a scanned payment request from the wallet: the sale and the payment post together, once.")
                .created::<OrderOut>()
                .errors(&[409]),
            confirm_payment_request,
        )
}

envelope!(PaymentCodeOut { payment_code: PaymentCodeView });

async fn my_wallet(State(s): State<AppState>, MaybeCustomer(c): MaybeCustomer) -> ApiResult<Json<List<AccountView>>> {
    let id = signed_in(c)?;
    Ok(Json(List { data: s.engine.wallet(&id).await? }))
}

async fn my_wallet_statement(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiQuery(q): ApiQuery<StatementQ>,
) -> ApiResult<Json<Page<StatementLine>>> {
    let id = signed_in(c)?;
    statement(&s, &id, q).await
}

async fn new_payment_code(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
) -> ApiResult<Created<PaymentCodeOut>> {
    let id = signed_in(c)?;
    Ok(Created(PaymentCodeOut { payment_code: s.engine.payment_code(&id).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfTopUpIn {
    amount_minor: i64,
    currency: String,
    /// The card's payment-method token from the processor's client SDK.
    payment_method: String,
}

async fn self_top_up(
    State(s): State<AppState>,
    SignedIn(id): SignedIn,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(b): ApiJson<SelfTopUpIn>,
) -> ApiResult<Created<TopUpOut>> {
    let top_up = s.engine.self_top_up(&id, b.amount_minor, &b.currency, &b.payment_method, key).await?;
    Ok(Created(TopUpOut { top_up }))
}

async fn gift_card_balance(State(s): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<GiftCardOut>> {
    Ok(Json(GiftCardOut { gift_card: s.engine.gift_card(&code).await? }))
}

async fn store_payment_request(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
) -> ApiResult<Json<PaymentRequestOut>> {
    signed_in(c)?;
    Ok(Json(PaymentRequestOut { payment_request: s.engine.payment_request(&id).await? }))
}

async fn confirm_payment_request(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
) -> ApiResult<Created<OrderOut>> {
    let cid = signed_in(c)?;
    Ok(Created(OrderOut { order: s.engine.confirm_payment_request(&id, &cid).await? }))
}
