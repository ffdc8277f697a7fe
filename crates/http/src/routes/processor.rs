//! The card processor's webhooks (Stripe format), verified by their signature and applied once.

use crate::extract::RawBody;
use crate::openapi::{Api, Auth, Op};
use crate::respond::envelope;
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::Json;

pub fn api() -> Api {
    Api::default().route(
        Op::post("/webhooks/card")
            .tag("payments")
            .auth(Auth::Signature)
            .doc("Card processor webhooks (Stripe format, `Stripe-Signature` header): verified, applied once.")
            .json::<ProcessorEvent>()
            .ok::<ReceivedOut>(),
        card_webhook,
    )
}

/// A processor event (Stripe's shape); the signature, not the schema, is what is checked.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub struct ProcessorEvent {
    /// The event's id (events are applied once by id).
    id: String,
    /// e.g. `payment_intent.canceled`, `charge.refunded`.
    #[serde(rename = "type")]
    kind: String,
    /// The object the event is about.
    data: serde_json::Value,
}

envelope!(ReceivedOut {
    received: bool,
    /// This event was applied before.
    duplicate: bool
});

async fn card_webhook(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<ReceivedOut>> {
    let sig = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let new = s.engine.card_webhook(sig, &body).await?;
    Ok(Json(ReceivedOut { received: true, duplicate: !new }))
}
