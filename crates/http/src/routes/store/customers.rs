//! Shopper accounts: sign-up, login, the signed-in customer and their orders from every channel.

use crate::extract::{page_limit, ApiJson, ApiQuery, ClientAddr, MaybeCustomer, OptionalJson, SignedIn};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Accepted, Created, Page};
use crate::routes::{signed_in, PageQ};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use engine::customers::accounts::{CustomerView, SignupInput, SignupRequested};
use engine::insight::AnalyticsProfile;
use engine::sales::orders::{OrderQuery, OrderView};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/store/customers")
                .tag("accounts")
                .doc("Sign up: mails the address a link that creates the account (`POST /store/customers/verify`), \
                      or, when the address has an account already, a note saying so. The answer is the same \
                      either way, so sign-up never tells whether an address is a customer's.")
                .json::<SignupInput>()
                .accepted::<SignupRequested>()
                .errors(&[429]),
            signup,
        )
        .route(
            Op::post("/store/customers/verify")
                .tag("accounts")
                .doc("Finish signing up with the token from the confirmation link: creates the account and answers \
                      it with a session token. `signup_link_invalid` when the link is unknown, used or expired.")
                .json::<VerifyIn>()
                .created::<SessionOut>()
                .errors(&[409]),
            verify,
        )
        .route(
            Op::post("/store/auth/login")
                .tag("accounts")
                .doc("Log in with email and password; answers the customer and a session token.")
                .json::<LoginIn>()
                .ok::<SessionOut>()
                .errors(&[401, 429]),
            login,
        )
        .route(
            Op::post("/store/auth/logout")
                .tag("accounts")
                .auth(Auth::Customer)
                .doc("Log out: the session token stops working at once. With `{\"everywhere\": true}`, every session of this shopper ends (a lost phone).")
                .optional_json::<LogoutIn>()
                .no_content(),
            logout,
        )
        .route(
            Op::get("/store/customers/me")
                .tag("accounts")
                .auth(Auth::Customer)
                .doc("The signed-in customer.")
                .ok::<CustomerOut>(),
            me,
        )
        .route(
            Op::get("/store/customers/me/orders")
                .tag("accounts")
                .auth(Auth::Customer)
                .doc("The signed-in customer's orders from every channel, newest first.")
                .query::<PageQ>()
                .ok::<Page<OrderView>>(),
            my_orders,
        )
        .route(
            Op::get("/store/customers/me/analytics")
                .tag("accounts")
                .auth(Auth::Customer)
                .doc("What the signed-in customer shares for analytics: consent to be recognised across web, stores and cashierless visits, birth year (for age bands) and home store.")
                .ok::<AnalyticsProfile>(),
            my_analytics,
        )
        .route(
            Op::put("/store/customers/me/analytics")
                .tag("accounts")
                .auth(Auth::Customer)
                .doc("Change what the signed-in customer shares for analytics. Turning `consent` off erases what was recorded about them.")
                .json::<AnalyticsProfile>()
                .ok::<AnalyticsProfile>(),
            put_my_analytics,
        )
        .route(
            Op::delete("/store/customers/me/analytics")
                .tag("accounts")
                .auth(Auth::Customer)
                .doc("Erase every analytics event recorded about the signed-in customer and stop recognising them across channels (orders stay, as the law requires).")
                .ok::<ErasedOut>(),
            erase_my_analytics,
        )
}

envelope!(ErasedOut {
    /// Analytics events deleted.
    erased_events: u64
});

async fn my_analytics(State(s): State<AppState>, SignedIn(c): SignedIn) -> ApiResult<Json<AnalyticsProfile>> {
    Ok(Json(s.engine.analytics_profile(c).await?))
}

async fn put_my_analytics(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    ApiJson(b): ApiJson<AnalyticsProfile>,
) -> ApiResult<Json<AnalyticsProfile>> {
    Ok(Json(s.engine.set_analytics_profile(c, b).await?))
}

async fn erase_my_analytics(State(s): State<AppState>, SignedIn(c): SignedIn) -> ApiResult<Json<ErasedOut>> {
    Ok(Json(ErasedOut { erased_events: s.engine.erase_analytics(c).await? }))
}

envelope!(SessionOut {
    customer: CustomerView,
    /// The session token: send it as `Authorization: Bearer …`.
    token: String
});
envelope!(CustomerOut { customer: CustomerView });

async fn signup(State(s): State<AppState>, ApiJson(b): ApiJson<SignupInput>) -> ApiResult<Accepted<SignupRequested>> {
    Ok(Accepted(s.engine.request_signup(b).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// The `token` of the link in the confirmation mail.
    token: String,
}

async fn verify(State(s): State<AppState>, ApiJson(b): ApiJson<VerifyIn>) -> ApiResult<Created<SessionOut>> {
    let (customer, token) = s.engine.confirm_signup(&b.token).await?;
    Ok(Created(SessionOut { customer, token }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    email: String,
    password: String,
}

async fn login(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(b): ApiJson<LoginIn>,
) -> ApiResult<Json<SessionOut>> {
    match s.engine.login(&b.email, &b.password, &client).await {
        Ok((customer, token)) => Ok(Json(SessionOut { customer, token })),
        Err(engine::EngineError::Unauthorized) => Err(ApiError::Request {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_credentials",
            message: "email or password is wrong".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutIn {
    /// End every session of this shopper, not only this one.
    #[serde(default)]
    everywhere: bool,
}

async fn logout(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    headers: axum::http::HeaderMap,
    OptionalJson(b): OptionalJson<LogoutIn>,
) -> ApiResult<StatusCode> {
    signed_in(c)?;
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    s.engine.logout(token, b.everywhere).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(s): State<AppState>, MaybeCustomer(c): MaybeCustomer) -> ApiResult<Json<CustomerOut>> {
    let id = signed_in(c)?;
    Ok(Json(CustomerOut { customer: s.engine.customer(&id).await? }))
}

async fn my_orders(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiQuery(q): ApiQuery<PageQ>,
) -> ApiResult<Json<Page<OrderView>>> {
    let id = signed_in(c)?;
    let limit = page_limit(q.limit)?;
    let after = crate::cursor::after("orders", q.after.as_deref())?;
    let items =
        s.engine.orders(OrderQuery { after, limit: limit + 1, customer_id: Some(id), ..Default::default() }).await?;
    Ok(Json(Page::of(items, limit, "orders", |o| o.id.clone())))
}
