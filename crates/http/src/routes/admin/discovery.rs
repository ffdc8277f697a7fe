//! Discovery for the seller: search synonyms, semantic search's state on the node, and the recommendation
//! model being served or trained.

use crate::extract::{Admin, ApiJson, Staff};
use crate::openapi::{Api, Auth, Op};
use crate::respond::{envelope, Created};
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::discovery::recommendations::{TrainConfig, TrainSummary};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/admin/search/synonyms").tag("discovery").auth(Auth::Staff).doc("The seller's synonym groups for search.").ok::<SynonymsOut>(),
            get_synonyms,
        )
        .route(
            Op::put("/admin/search/synonyms")
                .tag("discovery")
                .auth(Auth::Admin)
                .doc("Replace the synonym groups (at most 5,000 groups of 2–20 phrases); searchable within about a second on every node.")
                .json::<SynonymsIn>()
                .ok::<SynonymsSaved>(),
            put_synonyms,
        )
        .route(
            Op::get("/admin/search/semantic")
                .tag("discovery")
                .auth(Auth::Staff)
                .doc("Semantic search on this node: the embedding model (null: search is lexical only), how many searchable products have a vector, and the model's failure while it lasts (searches then answer lexically).")
                .ok::<SemanticOut>(),
            semantic_status,
        )
        .route(
            Op::get("/admin/recommendations/model")
                .tag("discovery")
                .auth(Auth::Staff)
                .doc("The recommendation model version being served (a newer stored version is loaded first).")
                .ok::<ModelOut>(),
            recs_model,
        )
        .route(
            Op::post("/admin/recommendations/model")
                .tag("discovery")
                .auth(Auth::Admin)
                .doc("Train a new recommendation model version now (also runs on a schedule); answers the validation report.")
                .created::<TrainedOut>(),
            recs_train,
        )
}

envelope!(SynonymsOut { groups: Vec<Vec<String>> });
envelope!(SynonymsSaved {
    groups: Vec<Vec<String>>,
    /// Groups stored.
    count: usize
});
envelope!(ModelOut { model: ModelVersion });
envelope!(SemanticOut { semantic: engine::discovery::semantic::SemanticStatus });
envelope!(TrainedOut { model: TrainSummary });

/// The model version a node serves (`null` before the first training).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ModelVersion {
    pub version: Option<i64>,
    pub trained_at: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SynonymsIn {
    /// Each group: phrases that mean the same, e.g. `["운동화", "sneakers", "스니커즈"]`.
    groups: Vec<Vec<String>>,
}

async fn get_synonyms(State(s): State<AppState>, _: Staff) -> ApiResult<Json<SynonymsOut>> {
    Ok(Json(SynonymsOut { groups: s.engine.search_synonyms().await? }))
}

async fn put_synonyms(
    State(s): State<AppState>,
    _: Admin,
    ApiJson(b): ApiJson<SynonymsIn>,
) -> ApiResult<Json<SynonymsSaved>> {
    let n = s.engine.set_search_synonyms(b.groups.clone()).await?;
    Ok(Json(SynonymsSaved { groups: b.groups, count: n }))
}

async fn semantic_status(State(s): State<AppState>, _: Staff) -> ApiResult<Json<SemanticOut>> {
    Ok(Json(SemanticOut { semantic: s.engine.semantic_status() }))
}

async fn recs_model(State(s): State<AppState>, _: Staff) -> ApiResult<Json<ModelOut>> {
    let version = s.engine.recs_refresh().await?;
    let trained_at = s.engine.recs_model_version().map(|(_, t)| domain::time::rfc3339(t));
    Ok(Json(ModelOut { model: ModelVersion { version, trained_at } }))
}

async fn recs_train(State(s): State<AppState>, _: Admin) -> ApiResult<Created<TrainedOut>> {
    let summary =
        s.engine.recs_train(TrainConfig::default(), std::sync::Arc::new(|m: &str| tracing::info!("recs: {m}"))).await?;
    Ok(Created(TrainedOut { model: summary }))
}
