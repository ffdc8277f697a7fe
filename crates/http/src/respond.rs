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

/// One page of a list. Pass `next_cursor` as `after` for the next page; it is `null` (and `has_more` false)
/// on the last page.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Whether more items follow this page.
    pub has_more: bool,
    /// Opaque; for `after`.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from `items` fetched with `limit + 1` (the extra item only tells that more follow); the
    /// cursor points after the last item kept, in list `kind`.
    pub fn of(mut items: Vec<T>, limit: usize, kind: &str, key: impl Fn(&T) -> String) -> Page<T> {
        let has_more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if has_more { items.last().map(|i| crate::cursor::encode(kind, &key(i))) } else { None };
        Page { data: items, has_more, next_cursor }
    }
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
