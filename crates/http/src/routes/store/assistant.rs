//! The shopping assistant for shoppers: one message answered (products from the catalog and live stock,
//! a clarifying question, or a hand-off to staff), and the conversation read back (staff replies included).

use crate::extract::{ApiJson, MaybeCustomer, Path};
use crate::openapi::{Api, Auth, Op};
use crate::respond::envelope;
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::discovery::assistant::conversations::ConversationView;
use engine::discovery::assistant::Answer;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::post("/store/assistant/messages")
                .tag("assistant")
                .auth(Auth::OptionalCustomer)
                .doc("Ask the shopping assistant in Korean or English. Answers with what it understood (intent, category, brand, price bounds in minor units, attributes, pickup), products read from the catalog and live stock (each with its price, availability and why it fits), and sometimes one clarifying question. Omit `conversation_id` to start a conversation; send it back to continue (refinements such as \"더 싼 거\" or \"in black\" apply to the last answer). A signed-in customer's conversations are theirs alone.")
                .json::<MessageIn>()
                .ok::<Answer>(),
            message,
        )
        .route(
            Op::get("/store/assistant/conversations/{id}")
                .tag("assistant")
                .auth(Auth::OptionalCustomer)
                .doc("A conversation's messages, including staff replies after a hand-off (its owner only; an anonymous conversation to whoever holds its id).")
                .ok::<ConversationOut>(),
            conversation,
        )
}

envelope!(ConversationOut { conversation: ConversationView });

/// One message to the assistant.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// The conversation to continue (from the previous answer); omit to start one.
    conversation_id: Option<String>,
    /// What the shopper typed, 1–500 characters, e.g. "강남역 근처에서 오늘 픽업 가능한 10만원 이하 무선 이어폰".
    text: String,
    /// `ko` or `en`: the reply's language when the text does not show it (Korean text is answered in Korean,
    /// English in English).
    locale: Option<String>,
    /// The store the shopper chose (id or code): "today" and "near me" mean this store when no position is sent.
    location_id: Option<String>,
    /// The shopper's position, for "near me" (both or neither).
    lat: Option<f64>,
    lon: Option<f64>,
    /// `KRW` (default) or `USD`: the currency prices are shown in, unless the shopper names one.
    currency: Option<String>,
    /// The shopper agreed that what they ask may shape their recommendations (then stored as searches).
    #[serde(default)]
    personalize: bool,
    /// An anonymous visitor's id for those events (ignored for a signed-in customer).
    session_id: Option<String>,
}

async fn message(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    ApiJson(b): ApiJson<MessageIn>,
) -> ApiResult<Json<Answer>> {
    let turn = engine::discovery::assistant::Turn {
        conversation_id: b.conversation_id,
        text: b.text,
        locale: b.locale,
        location_id: b.location_id,
        lat: b.lat,
        lon: b.lon,
        currency: b.currency,
        customer_id: c,
        personalize: b.personalize,
        session_id: b.session_id,
    };
    Ok(Json(s.engine.assistant_message(turn).await?))
}

async fn conversation(
    State(s): State<AppState>,
    MaybeCustomer(c): MaybeCustomer,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationOut>> {
    Ok(Json(ConversationOut { conversation: s.engine.assistant_conversation(&id, c.as_deref()).await? }))
}
