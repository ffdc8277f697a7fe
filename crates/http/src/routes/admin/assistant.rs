//! Conversations shoppers handed to staff: the waiting list (a store's staff see their store's), one
//! conversation, a staff reply and closing it; and the state of the assistant's optional language model.

use crate::extract::{ApiJson, Path, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::envelope;
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use engine::discovery::assistant::conversations::{ConversationView, HandoffView};
use engine::discovery::assistant::language_model::ModelStatus;
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/admin/assistant/handoffs")
                .tag("assistant")
                .auth(Auth::Staff)
                .doc("Conversations handed to staff and not closed, oldest first (a store's staff: their store's and those that named no store).")
                .ok::<HandoffsOut>(),
            handoffs,
        )
        .route(
            Op::get("/admin/assistant/model")
                .tag("assistant")
                .auth(Auth::Staff)
                .doc("The assistant's optional language model: `model` is null when none is configured (the rules answer alone); otherwise what it is, how long a turn waits for it, how often it was asked since start, how often its reading was taken or it failed, and its last failure while it is failing.")
                .ok::<ModelOut>(),
            model,
        )
        .route(
            Op::get("/admin/assistant/conversations/{id}")
                .tag("assistant")
                .auth(Auth::Staff)
                .doc("A handed-off conversation with every message.")
                .ok::<ConversationOut>(),
            conversation,
        )
        .route(
            Op::post("/admin/assistant/conversations/{id}/messages")
                .tag("assistant")
                .auth(Auth::Staff)
                .doc("Answer a handed-off conversation (1–500 characters); the shopper sees it in their chat.")
                .json::<ReplyIn>()
                .ok::<ConversationOut>(),
            reply,
        )
        .route(
            Op::post("/admin/assistant/conversations/{id}/close")
                .tag("assistant")
                .auth(Auth::Staff)
                .doc("Close a handed-off conversation (it leaves the waiting list).")
                .no_content(),
            close,
        )
}

envelope!(HandoffsOut { data: Vec<HandoffView> });
envelope!(ConversationOut { conversation: ConversationView });
envelope!(ModelOut { model: Option<ModelStatus> });

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyIn {
    text: String,
}

async fn handoffs(State(s): State<AppState>, Staff(p): Staff) -> ApiResult<Json<HandoffsOut>> {
    Ok(Json(HandoffsOut { data: s.engine.assistant_handoffs(p.location()).await? }))
}

async fn model(State(s): State<AppState>, Staff(_): Staff) -> ApiResult<Json<ModelOut>> {
    Ok(Json(ModelOut { model: s.engine.language_model_status() }))
}

async fn conversation(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationOut>> {
    Ok(Json(ConversationOut { conversation: s.engine.assistant_handoff(&id, p.location()).await? }))
}

async fn reply(
    State(s): State<AppState>,
    Staff(p): Staff,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReplyIn>,
) -> ApiResult<Json<ConversationOut>> {
    s.engine.assistant_staff_reply(&p, &id, &b.text).await?;
    Ok(Json(ConversationOut { conversation: s.engine.assistant_handoff(&id, p.location()).await? }))
}

async fn close(State(s): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.engine.assistant_close(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
