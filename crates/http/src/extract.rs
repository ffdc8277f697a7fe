//! Request extractors that answer bad input in the API's error shape: JSON bodies, query strings, the
//! `Idempotency-Key` header, and the three kinds of caller (admin key, staff key, customer session).

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use engine::platform::auth::Principal;
use serde::de::DeserializeOwned;

/// A JSON body; rejections become `invalid_json` / `payload_too_large` errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json =
            req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::Request {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "send the body as JSON with `Content-Type: application/json`".to_owned(),
            });
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|rej| ApiError::Request {
            status: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE { rej.status() } else { StatusCode::BAD_REQUEST },
            code: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_request" },
            message: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the body is larger than {} KiB", crate::MAX_BODY_BYTES / 1024)
            } else {
                humanize(&rej.body_text())
            },
        })?;
        // Most bodies are plain ASCII without `\u` escapes: nothing in them can be a control or invisible
        // character, nor need normalising, so they are read straight into their type.
        if bytes.is_ascii() && !bytes.windows(2).any(|w| w == b"\\u") {
            return axum::Json::<T>::from_bytes(&bytes).map(|axum::Json(v)| ApiJson(v)).map_err(json_rejection);
        }
        let mut v: serde_json::Value = axum::Json::<serde_json::Value>::from_bytes(&bytes).map_err(json_rejection)?.0;
        clean_json(&mut v, &mut String::new())?;
        from_value(v).map(ApiJson)
    }
}

/// Every string in a JSON body (keys too) without control or invisible characters, and in NFC.
fn clean_json(v: &mut serde_json::Value, at: &mut String) -> Result<(), ApiError> {
    let bad = |at: &str, m: String| {
        let field = if at.is_empty() { "the body".to_owned() } else { format!("`{}`", at.trim_start_matches('.')) };
        ApiError::bad("invalid_request", format!("{field} {m}"))
    };
    match v {
        serde_json::Value::String(s) => match domain::text::clean(s, false) {
            Ok(std::borrow::Cow::Borrowed(_)) => Ok(()),
            Ok(std::borrow::Cow::Owned(n)) => {
                *s = n;
                Ok(())
            }
            Err(m) => Err(bad(at, m)),
        },
        serde_json::Value::Array(items) => {
            for (i, x) in items.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                clean_json(x, at)?;
                at.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(map) => {
            if let Some(k) = map.keys().find(|k| domain::text::clean(k, true).is_err()) {
                return Err(bad(
                    at,
                    format!("has a key with a control or invisible character (`{}`)", k.escape_debug()),
                ));
            }
            for (k, x) in map.iter_mut() {
                let len = at.len();
                at.push('.');
                at.push_str(k);
                clean_json(x, at)?;
                at.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The decoded text of a path or query string, refused when it carries control or invisible characters.
pub(crate) fn clean_url_part(raw: &str, what: &str) -> Result<(), ApiError> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    domain::text::clean(&decoded, true).map(|_| ()).map_err(|m| {
        ApiError::bad(if what == "the query" { "invalid_query" } else { "invalid_request" }, format!("{what} {m}"))
    })
}

/// Query parameters; rejections become `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // (Control and invisible characters in the URL were refused by the server loop for every route.)
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rej| ApiError::bad("invalid_query", humanize(&rej.body_text())))
    }
}

/// The optional `Idempotency-Key` header.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => v
                .to_str()
                .map(|s| IdempotencyKey(Some(s.trim().to_owned())))
                .map_err(|_| ApiError::bad("invalid_idempotency_key", "`Idempotency-Key` must be printable ASCII")),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::Request { status: StatusCode::UNAUTHORIZED, code: "unauthorized", message: msg.to_owned() }
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let key = bearer(parts).ok_or_else(|| unauthorized("send `Authorization: Bearer <API key>`"))?;
    state.engine.authenticate(key).await.map_err(|e| match e {
        engine::EngineError::Unauthorized => unauthorized("the API key is not valid"),
        other => other.into(),
    })
}

/// An admin API key.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = principal(parts, state).await?;
        match p {
            Principal::Admin { .. } => Ok(Admin(p)),
            Principal::Staff { .. } => Err(ApiError::Request {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: "this needs an admin key; staff keys work at their store's desk and POS".into(),
            }),
        }
    }
}

/// An admin key or a staff key (bound to one location).
pub struct Staff(pub Principal);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        principal(parts, state).await.map(Staff)
    }
}

/// An in-store device, by its own token (`Authorization: Bearer bl_dev_…`).
pub struct Device(pub engine::instore::live::DeviceRef);

impl FromRequestParts<AppState> for Device {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| unauthorized("send `Authorization: Bearer <device token>`"))?;
        state.engine.authenticate_device(token).await.map(Device).map_err(|e| match e {
            engine::EngineError::Unauthorized => unauthorized("the device token is not valid"),
            other => other.into(),
        })
    }
}

/// A signed-in customer, if the request carries a valid session token.
pub struct MaybeCustomer(pub Option<String>);

impl FromRequestParts<AppState> for MaybeCustomer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts) {
            None => Ok(MaybeCustomer(None)),
            Some(t) => match state.engine.session_customer(t).await? {
                Some(id) => Ok(MaybeCustomer(Some(id))),
                None => Err(unauthorized("the session token is not valid or has expired; log in again")),
            },
        }
    }
}

/// A signed-in customer, required: the guard answers 401 before anything in the request is read.
pub struct SignedIn(pub String);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let MaybeCustomer(c) = MaybeCustomer::from_request_parts(parts, state).await?;
        c.map(SignedIn).ok_or_else(|| unauthorized("log in first"))
    }
}

/// Pagination: `limit` (1–100, default 20).
pub fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(20),
        Some(n) if (1..=crate::MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad("invalid_limit", format!("`limit` must be 1–{}, got {n}", crate::MAX_PAGE))),
    }
}

/// Who is asking: nobody, a signed-in customer, or staff (an API key). For endpoints that shoppers call
/// for themselves and staff call on a shopper's behalf.
pub enum Viewer {
    Anonymous,
    Customer(String),
    Staff,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(t) = bearer(parts) else { return Ok(Viewer::Anonymous) };
        if let Some(id) = state.engine.session_customer(t).await? {
            return Ok(Viewer::Customer(id));
        }
        match state.engine.authenticate(t).await {
            Ok(_) => Ok(Viewer::Staff),
            Err(engine::EngineError::Unauthorized) => {
                Err(unauthorized("the token is neither a valid customer session nor an API key; log in again"))
            }
            Err(other) => Err(other.into()),
        }
    }
}

fn json_rejection(rej: axum::extract::rejection::JsonRejection) -> ApiError {
    let status = rej.status();
    let (status, code) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (status, "unsupported_media_type"),
        _ => (StatusCode::BAD_REQUEST, "invalid_json"),
    };
    let message = match code {
        "payload_too_large" => format!("the body is larger than {} KiB", crate::MAX_BODY_BYTES / 1024),
        "unsupported_media_type" => "send the body as JSON with `Content-Type: application/json`".to_owned(),
        _ => humanize(&rej.body_text()),
    };
    ApiError::Request { status, code, message }
}

/// serde's wording for the people who read the error: field paths in backticks and JSON's own words for
/// types, never a Rust type (`i64`, `struct CartIn`, `Option`).
pub fn humanize(raw: &str) -> String {
    let mut m = raw
        .replace("Failed to deserialize the JSON body into the target type: ", "")
        .replace("Failed to parse the request body as JSON: ", "the body is not valid JSON: ")
        .replace("Failed to deserialize query string: ", "");
    // "payment.method: missing field ..." → "`payment.method`: missing field ..."
    if let Some((path, rest)) = m.split_once(": ") {
        if !path.is_empty() && !path.contains(' ') && path != "the body is not valid JSON" {
            m = format!("`{path}`: {rest}");
        }
    }
    let words = [
        ("i64", "a whole number"),
        ("i32", "a whole number"),
        ("u64", "a whole number of 0 or more"),
        ("u32", "a whole number of 0 or more"),
        ("u16", "a whole number of 0 or more"),
        ("usize", "a whole number of 0 or more"),
        ("f64", "a number"),
        ("f32", "a number"),
    ];
    for (rust, json) in words {
        m = m.replace(&format!("expected {rust}"), &format!("expected {json}"));
    }
    let mut out = String::with_capacity(m.len());
    let mut rest = m.as_str();
    // "expected struct CartIn" / "expected internally tagged enum Fulfillment" / "expected enum X"
    while let Some(i) = rest.find("expected ") {
        out.push_str(&rest[..i + 9]);
        rest = &rest[i + 9..];
        for (rust, json) in [
            ("struct ", "an object"),
            ("internally tagged enum ", "an object with a `type`"),
            ("adjacently tagged enum ", "an object"),
            ("enum ", "one of the listed values"),
            ("a sequence", "an array"),
            ("a map", "an object"),
            ("unit", "null"),
        ] {
            if let Some(r) = rest.strip_prefix(rust) {
                out.push_str(json);
                rest = if rust.ends_with(' ') {
                    r.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_')
                } else {
                    r
                };
                break;
            }
        }
    }
    out.push_str(rest);
    out.replace("invalid digit found in string", "expected a whole number")
        .replace("invalid float literal", "expected a number")
        .replace("cannot parse integer from empty string", "expected a whole number, got nothing")
        .replace("number too large to fit in target type", "the number is too large")
        .replace("number too small to fit in target type", "the number is too small")
        .replace("provided string was not `true` or `false`", "expected true or false")
}

/// A JSON body that may be left out entirely (an empty body is `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|rej| ApiError::Request {
            status: rej.status(),
            code: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_request" },
            message: rej.body_text(),
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("invalid_json", format!("the body is not valid JSON: {e}")))?;
    clean_json(&mut value, &mut String::new())?;
    from_value(value)
}

/// A typed value from JSON, with the failing field's path in the error.
fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let raw = if path == "." { inner } else { format!("{path}: {inner}") };
        ApiError::bad("invalid_json", humanize(&raw))
    })
}

/// The JSON body of an endpoint that moves money or stock, with the fingerprint that ties an
/// `Idempotency-Key` to this exact request: the body's JSON with keys in a fixed order, so a retry that
/// sends the same values in another key order is the same request.
pub struct MoneyJson<T> {
    pub body: T,
    canonical: String,
}

impl<T> MoneyJson<T> {
    /// The request's fingerprint, with the path's ids (and anything else that names the target) in `also`.
    pub fn hash(&self, also: &[&str]) -> String {
        let mut parts: Vec<&str> = also.to_vec();
        parts.push(&self.canonical);
        engine::platform::idempotency::fingerprint(&parts)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for MoneyJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|rej| ApiError::Request {
            status: rej.status(),
            code: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_request" },
            message: rej.body_text(),
        })?;
        let value: serde_json::Value = parse_json(&bytes)?;
        let canonical = canonical_json(&value);
        let body = from_value(value)?;
        Ok(MoneyJson { body, canonical })
    }
}

/// JSON text with object keys in sorted order at every level (whatever the map type underneath).
fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical_json(&m[*k]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Path parameters; a malformed one (a review number that is not a number) is answered in the API's error
/// shape.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|rej| ApiError::bad("invalid_request", format!("the path: {}", humanize(&rej.body_text()))))
    }
}

/// The raw body (CSV files, signed processor events), with its size limit answered in the error shape.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state).await.map(RawBody).map_err(|rej| ApiError::Request {
            status: rej.status(),
            code: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_request" },
            message: if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "the body is larger than this endpoint's limit".to_owned()
            } else {
                humanize(&rej.body_text())
            },
        })
    }
}

/// The caller's network address, which the login throttle counts failures against: the connection's peer,
/// or, behind a proxy the node trusts (`--trusted-proxy`), the address that proxy reports.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<crate::listener::PeerAddr>>().map(|c| c.0 .0.ip());
        Ok(ClientAddr(crate::clients::client_ip(peer, &parts.headers)))
    }
}
