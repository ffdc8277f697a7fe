//! Typed answers: every handler returns a Rust type whose JSON Schema is what `/openapi.json` publishes for
//! it. `Created`/`Accepted` carry their status; lists are `List` or `Page` (with the cursor for the next
//! page); single resources travel in small envelopes named by what they hold (`{"order": {…}}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// 201 with a JSON body.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// 202 with a JSON body.
pub struct Accepted<T>(pub T);

impl<T: Serialize> IntoResponse for Accepted<T> {
    fn into_response(self) -> Response {
        (StatusCode::ACCEPTED, Json(self.0)).into_response()
    }
}

/// A whole list.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}List")]
pub struct List<T> {
    pub data: Vec<T>,
}

/// One page of a list; `next_cursor` goes into the next request's `after` (`null` on the last page).
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page of at most `limit` items; a full page has a cursor after its last item.
    pub fn of(items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Page<T> {
        let next_cursor = if items.len() == limit { items.last().map(&cursor) } else { None };
        Page { data: items, next_cursor }
    }
}

/// One page of a ledger statement; `next_cursor` is the last line's `seq` (`null` on the last page).
#[derive(Serialize, schemars::JsonSchema)]
pub struct StatementPage {
    pub data: Vec<engine::money::ledger::StatementLine>,
    pub next_cursor: Option<i64>,
}

/// A struct with one field that names what it holds, e.g. `envelope!(OrderOut { order: OrderView })`.
macro_rules! envelope {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(serde::Serialize, schemars::JsonSchema)]
        pub struct $name { $($(#[$fm])* pub $field: $ty),* }
    };
}
pub(crate) use envelope;
