//! In-store devices with their own token: batches of gate, shelf, tracker and label events.

use crate::extract::{ApiJson, Device};
use crate::openapi::{Api, Auth, Op};
use crate::respond::envelope;
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::Json;
use engine::instore::live::{DeviceEvent, IngestOutcome};
use serde::Deserialize;

pub fn api() -> Api {
    Api::default().route(
        Op::post("/devices/events")
            .tag("devices")
            .auth(Auth::Device)
            .doc("A device's batch of events (at most 500; payloads in docs/devices.md), stored before the answer: duplicates dropped, gaps and rejections reported, entries answered admitted or not.")
            .json::<DeviceBatchIn>()
            .ok::<IngestOut>(),
        device_events,
    )
}

envelope!(IngestOut { ingest: IngestOutcome });

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBatchIn {
    /// Each event is checked on its own; a bad one is rejected with its reason and the rest are taken.
    #[schemars(with = "Vec<DeviceEvent>")]
    events: Vec<serde_json::Value>,
}

/// A device's batch: stored before the answer, so a 200 means every `accepted` event is durable.
async fn device_events(
    State(s): State<AppState>,
    Device(d): Device,
    ApiJson(b): ApiJson<DeviceBatchIn>,
) -> ApiResult<Json<IngestOut>> {
    Ok(Json(IngestOut { ingest: s.engine.ingest_device_events(&d, b.events).await? }))
}
