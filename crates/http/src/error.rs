//! The one API error type: a stable machine-readable `code`, an HTTP status, a message for humans, and
//! never an internal detail (storage errors are logged with their cause and answered as `internal`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::EngineError;
use serde_json::json;

/// The one error shape of the API, for every status.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` to match on, an English `message` naming the field or limit, and a
/// Korean `message_ko` for the errors shoppers and staff meet. Some codes add fields (`out_of_stock`: the
/// `sku`, `location_id`, `available` and `requested`; `not_found`: the `resource` and its `id`).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// The same in Korean, with the next step.
    pub message_ko: String,
    #[serde(flatten)]
    pub details: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug)]
pub enum ApiError {
    Engine(EngineError),
    /// A problem with the request itself (bad JSON, missing header, limit exceeded).
    Request {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// A request problem with fields that say more (a CSV's problems with their lines and columns).
    Detailed {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: serde_json::Map<String, serde_json::Value>,
    },
}

impl ApiError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Request { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError::Engine(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, mut body) = match self {
            ApiError::Request { status, code, message } => {
                (status, json!({ "error": { "code": code, "message": message } }))
            }
            ApiError::Detailed { status, code, message, details } => {
                let mut e = details;
                e.insert("code".into(), json!(code));
                e.insert("message".into(), json!(message));
                (status, json!({ "error": e }))
            }
            ApiError::Engine(e) => {
                let status = match &e {
                    EngineError::Invalid { .. } => StatusCode::BAD_REQUEST,
                    EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
                    EngineError::Conflict { .. } | EngineError::OutOfStock { .. } => StatusCode::CONFLICT,
                    EngineError::Unauthorized => StatusCode::UNAUTHORIZED,
                    EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
                    EngineError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                    EngineError::PaymentDeclined(_) => StatusCode::PAYMENT_REQUIRED,
                    EngineError::Db(d) => match d.kind {
                        store::DbErrorKind::Overloaded
                        | store::DbErrorKind::Unavailable
                        | store::DbErrorKind::Retryable
                        | store::DbErrorKind::StorageFull => StatusCode::SERVICE_UNAVAILABLE,
                        _ => StatusCode::INTERNAL_SERVER_ERROR,
                    },
                };
                let message = match &e {
                    EngineError::Db(d) if d.kind == store::DbErrorKind::StorageFull => {
                        tracing::error!(error = %d, "the disk under the database is full: nothing was saved; free disk space (the node resumes by itself)");
                        "the shop's storage is full, so nothing was saved; try again in a minute (staff: free disk space on the server; it resumes by itself)".to_owned()
                    }
                    EngineError::Db(d) => {
                        tracing::error!(error = %d, "storage error");
                        match status {
                            StatusCode::SERVICE_UNAVAILABLE => "the service is busy; retry shortly".to_owned(),
                            _ => "internal error; the event is logged".to_owned(),
                        }
                    }
                    other => other.to_string(),
                };
                let mut err = json!({ "code": e.code(), "message": message });
                if let EngineError::OutOfStock { sku, location_id, available, requested } = &e {
                    err["sku"] = json!(sku);
                    err["location_id"] = json!(location_id);
                    err["available"] = json!(available);
                    err["requested"] = json!(requested);
                }
                if let EngineError::NotFound { what, id } = &e {
                    err["resource"] = json!(what);
                    err["id"] = json!(id);
                }
                (status, json!({ "error": err }))
            }
        };
        if let Some(code) = body["error"]["code"].as_str() {
            let ko = korean(code, body["error"]["message"].as_str().unwrap_or_default());
            body["error"]["message_ko"] = json!(ko);
        }
        let full = body["error"]["code"] == "storage_full";
        let mut res = (status, axum::Json(body)).into_response();
        // When to come back: a busy node soon, a full disk once someone freed space; a throttled login in a
        // minute (the message says how long the lock lasts). The rate limiter sets its own exact figure.
        let retry = match status {
            StatusCode::SERVICE_UNAVAILABLE if full => Some("30"),
            StatusCode::SERVICE_UNAVAILABLE => Some("1"),
            StatusCode::TOO_MANY_REQUESTS => Some("60"),
            _ => None,
        };
        if let Some(v) = retry {
            res.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static(v));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Korean text for an error, beside the English `message` as `message_ko`, so that a storefront, till or
/// console can show it as is: what happened and what to do next. Every code has one; the generic input
/// codes name the field the English message names.
pub fn korean(code: &str, message: &str) -> String {
    // A delivery address names what is missing.
    if let Some(missing) = message.split("missing: ").nth(1).filter(|_| code == "address_incomplete") {
        let names: Vec<&str> = missing
            .split(", ")
            .filter_map(|f| match f.trim() {
                "recipient" => Some("받는 분"),
                "phone" => Some("전화번호"),
                "line1" => Some("주소"),
                "city" => Some("시·군·구"),
                "postal_code" => Some("우편번호"),
                "country" => Some("국가"),
                _ => None,
            })
            .collect();
        if let Some(last) = names.last() {
            let eul = domain::text::particle(last, "을", "를", "을(를)");
            return format!("배송지의 {}{eul} 입력해 주세요.", names.join(", "));
        }
    }
    if let Some(fixed) = korean_fixed(code) {
        return fixed.to_owned();
    }
    // Input errors: name the field (the English message puts it in backticks first).
    let field = message.split('`').nth(1).filter(|f| !f.is_empty() && f.len() <= 60 && !f.contains(' '));
    match (code, field) {
        ("invalid_json" | "invalid_request" | "invalid_query", Some(f)) => match input_korean(f, message) {
            Some(ko) => ko,
            None => format!("입력한 `{f}` 값을 확인해 주세요. 자세한 내용은 영문 메시지를 참고하세요."),
        },
        ("invalid_json", None) => "요청 본문이 올바른 JSON이 아닙니다. 형식을 확인해 주세요.".to_owned(),
        ("invalid_query", None) => "주소의 검색 조건(쿼리)을 확인해 주세요.".to_owned(),
        _ => "요청 내용을 확인해 주세요. 자세한 내용은 영문 메시지를 참고하세요.".to_owned(),
    }
}

/// The common shapes of an input error's English message, said in Korean with what to do: a value out
/// of its range, too long, empty or missing, a field the request does not take, the wrong JSON type, a
/// date, a price. `field` is the first name in backticks.
fn input_korean(field: &str, message: &str) -> Option<String> {
    let f = format!("`{field}`");
    let eun = domain::text::particle(field, "은", "는", "은(는)");
    let eul = domain::text::particle(field, "을", "를", "을(를)");
    let m = message;
    let after = |needle: &str| m.find(needle).map(|i| m[i + needle.len()..].trim());
    // The number after "at most" ("… 250 characters; at most 200 are allowed").
    let number_after = |needle: &str| {
        after(needle).map(|r| r.chars().take_while(|c| c.is_ascii_digit() || *c == ',').collect::<String>())
    };
    if m.starts_with("price of `") {
        return Some(format!(
            "{f}의 가격이 범위를 벗어났습니다. 0 이상, 최소 단위(원, 센트)로 10^12 이하의 금액을 입력해 주세요."
        ));
    }
    if m.contains("missing field") {
        let missing = after("missing field `").and_then(|r| r.split('`').next()).unwrap_or(field);
        return Some(format!("`{missing}` 항목이 빠졌습니다. 넣어서 다시 보내 주세요."));
    }
    if m.starts_with("unknown field") {
        return Some(format!("{f}{eun} 이 요청에서 받지 않는 항목입니다. 빼고 다시 보내 주세요."));
    }
    if m.contains("invalid type") || m.contains("expected a whole number") || m.contains("expected a number") {
        let want = if m.contains("whole number") {
            "정수"
        } else if m.contains("expected a number") {
            "숫자"
        } else if m.contains("expected a string") {
            "문자열"
        } else if m.contains("expected true or false") || m.contains("expected a boolean") {
            "true 또는 false"
        } else if m.contains("expected an array") {
            "배열"
        } else if m.contains("expected an object") {
            "객체"
        } else {
            return Some(format!("{f}의 값 형식이 맞지 않습니다. 영문 메시지의 형식으로 다시 보내 주세요."));
        };
        return Some(format!("{f}에는 {want}{} 넣어 주세요.", domain::text::particle(want, "을", "를", "을(를)")));
    }
    if m.contains("number is too large") || m.contains("number is too small") {
        return Some(format!("{f}의 숫자가 너무 큽니다(또는 작습니다). 범위 안의 값으로 다시 입력해 주세요."));
    }
    if m.contains("must not be empty") || m.contains("is required") {
        return Some(format!("{f}{eul} 입력해 주세요."));
    }
    if m.contains("control or invisible characters") {
        return Some(format!("{f}에 보이지 않는 문자나 제어 문자가 있습니다. 지우고 다시 입력해 주세요."));
    }
    // Only the length check's own shape: "`x` is 250 characters; at most 200 are allowed".
    if let Some(max) = number_after("characters; at most").filter(|n| !n.is_empty()) {
        return Some(format!("{f}{eun} {max}자까지 입력할 수 있습니다. 줄여서 다시 입력해 주세요."));
    }
    if m.contains("must be a date") || m.contains("YYYY-MM-DD") {
        return Some(format!("{f}{eun} 2026-12-01처럼 날짜(YYYY-MM-DD)로 입력해 주세요."));
    }
    if let Some(other) = after("must not be after `").and_then(|r| r.split('`').next()) {
        return Some(format!("{f}{eun} `{other}`보다 늦을 수 없습니다. 기간을 다시 선택해 주세요."));
    }
    // A number range with nothing after it but what was typed: "`quantity` must be 1–10000", "`weight_g`
    // must be 0–10,000,000", "`delta` must be within ±1000000, got 5". ("1–32 characters of A–Z" and other
    // shapes fall through to the generic line, which pages follow with the English detail.)
    let range_of = |r: &str| -> Option<String> {
        let token: String = r.chars().take_while(|c| !c.is_whitespace() && *c != ';').collect();
        let token = token.trim_end_matches(',');
        let rest = r[token.len()..].trim_start_matches(',').trim();
        let numeric = !token.is_empty() && token.chars().all(|c| c.is_ascii_digit() || ",–±−-.".contains(c));
        let typed_only = rest.is_empty() || rest.starts_with("got ") || rest.starts_with("(got ");
        (numeric && typed_only).then(|| token.replace('–', "~"))
    };
    if let Some(range) = after("must be within").and_then(range_of) {
        return Some(format!("{f}{eun} {range} 범위여야 합니다. 범위 안의 값으로 다시 입력해 주세요."));
    }
    if let Some(range) = after("must be").and_then(range_of).filter(|r| r.contains('~')) {
        return Some(format!("{f}{eun} {range} 사이의 값이어야 합니다. 범위 안의 값으로 다시 입력해 주세요."));
    }
    None
}

fn korean_fixed(code: &str) -> Option<&'static str> {
    Some(match code {
        "out_of_stock" => "재고가 부족합니다. 수량을 줄이거나 다른 매장을 선택해 주세요.",
        "insufficient_stock" => "재고 수량이 맞지 않아 처리할 수 없습니다. 재고를 확인해 주세요.",
        "no_shipping_location" => "배송할 수 있는 곳이 없습니다. 매장 픽업을 선택해 주세요.",
        "cart_completed" => "이미 주문이 완료된 장바구니입니다. 새 장바구니로 다시 담아 주세요.",
        "cart_empty" => "장바구니가 비어 있습니다. 상품을 담아 주세요.",
        "cart_full" => "장바구니에 담을 수 있는 상품 수를 넘었습니다. 일부를 빼 주세요.",
        "fulfillment_required" => "배송지 또는 픽업 매장을 먼저 선택해 주세요.",
        "address_incomplete" => "배송지에 받는 분, 전화번호, 주소, 우편번호, 국가를 모두 입력해 주세요.",
        "invalid_model" => "3D 모델로 쓸 수 없는 파일입니다. glTF 2.0 바이너리(.glb) 한 파일로(텍스처 포함, 8MB 이하) 내보내 주세요.",
        "invalid_postal_code" => "우편번호가 올바르지 않습니다. 국가에 맞는 형식으로 입력해 주세요(한국은 06236처럼 숫자 5자리).",
        "invalid_country" => "국가 코드가 올바르지 않습니다. KR, US처럼 두 글자 코드로 입력해 주세요.",
        "invalid_phone" => "전화번호가 올바르지 않습니다. 010-1234-5678처럼 입력해 주세요.",
        "invalid_email" => "이메일 주소가 올바르지 않습니다. 다시 확인해 주세요.",
        "invalid_quantity" => "수량은 1개부터 10,000개까지 입력할 수 있습니다.",
        "invalid_sku" => "상품 코드(SKU)는 영문, 숫자, - _ . / 로만 입력해 주세요.",
        "invalid_currency" => "지원하지 않는 통화입니다. KRW, USD처럼 입력해 주세요.",
        "empty_message" => "메시지가 비어 있습니다. 찾으시는 상품을 입력해 주세요.",
        "message_too_long" => "메시지는 500자까지 보낼 수 있습니다. 줄여서 다시 보내 주세요.",
        "invalid_message" => "답변은 1자부터 500자까지 입력할 수 있습니다.",
        "invalid_locale" => "언어는 ko 또는 en으로 지정해 주세요.",
        "invalid_position" => "위치는 위도(lat, −90~90)와 경도(lon, −180~180)를 함께 보내 주세요.",
        "conversation_busy" => "같은 대화의 다른 메시지를 처리하는 중이었습니다. 메시지를 다시 보내 주세요.",
        "conversation_full" => "대화가 너무 길어졌습니다. 새 대화를 시작해 주세요.",
        "not_handed_off" => "고객이 직원 연결을 요청한 대화가 아닙니다. 직원 연결된 대화에만 답할 수 있습니다.",
        "invalid_amount" => "금액이 올바르지 않습니다. 금액 범위를 확인해 주세요.",
        "pickup_unavailable" => "이 매장은 픽업을 제공하지 않습니다. 다른 매장을 선택해 주세요.",
        "pickup_expired" => "픽업 기간이 지났습니다. 주문은 곧 자동 취소됩니다.",
        "wrong_pickup_code" => "픽업 코드가 일치하지 않습니다. 고객의 주문 화면에서 코드를 다시 확인해 주세요.",
        "unpaid_order_too_large" => "매장 결제(픽업 시 결제) 주문은 담을 수 있는 수량에 한도가 있습니다. 온라인 결제(지갑, 기프트카드, 카드)로 주문하거나 주문을 나눠 주세요.",
        "too_many_unpaid_orders" => "픽업 시 결제할 주문이 이미 여러 건 있습니다. 기존 주문을 찾아가거나 주문 화면에서 취소한 뒤 다시 주문하거나, 온라인으로 결제해 주세요.",
        "invalid_transition" => "현재 주문 상태에서는 할 수 없는 작업입니다. 주문 상태를 확인해 주세요.",
        "reservation_changed" => "주문의 재고 예약이 바뀌었습니다. 주문을 새로 고쳐 다시 시도해 주세요.",
        "not_returnable" => "아직 인도되지 않은 주문은 반품할 수 없습니다. 주문 취소를 이용해 주세요.",
        "return_exceeds_order" => "반품 수량이 구매 수량을 넘습니다. 수량을 확인해 주세요.",
        "not_in_order" => "이 주문에 포함되지 않은 상품입니다. 상품을 확인해 주세요.",
        "not_a_store" => "매장에서만 할 수 있는 작업입니다. 위치를 확인해 주세요.",
        "not_for_sale" => "판매 중이 아닌 상품입니다. 장바구니에서 빼 주세요.",
        "no_price" => "이 통화로는 구매할 수 없는 상품입니다. 다른 통화를 선택해 주세요.",
        "currency_mismatch" => "통화가 서로 다릅니다. 같은 통화로 다시 시도해 주세요.",
        "unsupported_payment_method" => "이 주문에는 사용할 수 없는 결제 수단입니다. 다른 결제 수단을 선택해 주세요.",
        "email_taken" => "이미 가입된 이메일입니다. 로그인해 주세요.",
        "signup_link_invalid" => "가입 링크가 올바르지 않거나 이미 사용되었거나 만료되었습니다(24시간 유효). 다시 가입해 주세요.",
        "timeout" => "요청 처리 시간이 너무 길어 중단했습니다. 잠시 후 다시 시도해 주세요.",
        "money_limit_reached" => "이 키로 한 번에 또는 하루에 충전·판매할 수 있는 금액을 넘었습니다. 금액을 나누거나 점주에게 요청해 주세요.",
        "rate_limited" => "요청이 너무 많습니다. 응답의 Retry-After(초)만큼 기다린 뒤 다시 시도해 주세요.",
        "last_admin_key" => "마지막으로 남은 관리자 키는 폐기할 수 없습니다. 새 관리자 키를 먼저 발급해 주세요.",
        "phone_taken" => "이미 등록된 전화번호입니다. 다른 번호를 입력하거나 로그인해 주세요.",
        "weak_password" => "비밀번호는 8자 이상이어야 합니다.",
        "invalid_credentials" => "이메일 또는 비밀번호가 올바르지 않습니다. 다시 입력해 주세요.",
        "unauthorized" => "로그인이 필요하거나 인증 정보가 올바르지 않습니다. 다시 로그인해 주세요.",
        "forbidden" => "이 작업을 할 권한이 없습니다. 관리자에게 문의해 주세요.",
        "not_found" => "찾을 수 없습니다. 주소나 번호를 다시 확인해 주세요.",
        "route_not_found" => "없는 주소입니다. API 문서(/openapi.json)를 확인해 주세요.",
        "method_not_allowed" => "이 주소에서 지원하지 않는 요청 방식입니다. API 문서를 확인해 주세요.",
        "unsupported_media_type" => "본문 형식이 올바르지 않습니다. Content-Type: application/json으로 보내 주세요.",
        "idempotency_key_reused" => "같은 요청 키가 다른 요청에 이미 사용되었습니다. 새 요청 키를 사용해 주세요.",
        "idempotency_key_required" => "요청 키(Idempotency-Key)가 필요합니다. 요청 키를 붙여 다시 보내 주세요.",
        "invalid_idempotency_key" => "요청 키(Idempotency-Key)는 255자 이내의 영문과 숫자로 입력해 주세요.",
        "overloaded" | "unavailable" | "busy" => "요청이 많아 잠시 후 다시 시도해 주세요.",
        "storage_full" => "서버 저장 공간이 가득 차 아무것도 저장되지 않았습니다. 1분 후 다시 시도해 주세요. (직원: 서버의 디스크 공간을 확보하면 자동으로 재개됩니다.)",
        "internal" => "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
        "invalid_limit" => "한 번에 가져올 개수(limit)가 허용 범위를 벗어났습니다.",
        "invalid_cursor" => "페이지 위치(after)가 올바르지 않습니다. 이전 응답의 next_cursor를 그대로 사용해 주세요.",
        "payload_too_large" => "요청이 너무 큽니다. 크기를 줄여 주세요.",
        "insufficient_funds" => "잔액이 부족합니다. 지갑을 충전하거나 다른 결제 수단을 선택해 주세요.",
        "customer_required" => "지갑 결제는 로그인한 고객만 할 수 있습니다. 로그인해 주세요.",
        "hold_expired" => "결제 승인 기간이 지났습니다. 주문을 취소하고 다시 주문해 주세요.",
        "invalid_payment_code" => "유효하지 않은 결제 코드입니다. 앱에서 코드를 새로 고쳐 주세요.",
        "payment_code_used" => "이미 사용된 결제 코드입니다. 앱에서 새 코드를 받아 주세요.",
        "payment_code_expired" => "결제 코드의 유효 시간이 지났습니다. 앱에서 새로 고쳐 주세요.",
        "payment_code_revoked" => "새 결제 코드가 발급되어 이 코드는 사용할 수 없습니다. 최신 코드를 보여 주세요.",
        "payment_code_customer_mismatch" => "다른 고객의 결제 코드입니다. 본인의 코드를 보여 주세요.",
        "payment_request_paid" => "이미 결제된 요청입니다. 영수증을 확인해 주세요.",
        "payment_request_expired" => "결제 요청이 만료되었습니다. 계산대에 새 코드를 요청해 주세요.",
        "payment_request_cancelled" => "매장에서 취소한 결제 요청입니다. 계산대에 문의해 주세요.",
        "price_changed" => "가격이 변경되었습니다. 계산대에 새 코드를 요청해 주세요.",
        "invalid_gift_card" => "유효하지 않은 상품권입니다. 상품권 번호를 다시 확인해 주세요.",
        "payment_not_authorized" => {
            "결제 승인이 유효하지 않아 상품을 인도할 수 없습니다. 다른 방법으로 결제받아 주세요."
        }
        "currency_not_used" => "이 통화로 가격이 매겨진 상품이 없어 잔액을 쓸 수 없습니다. 상품 가격을 이 통화로 먼저 등록하거나(지갑은 이 통화로의 환율 등록도 가능) 다른 통화를 선택해 주세요.",
        "no_fx_rate" => "이 통화로 결제할 수 있는 환율이 없습니다. 주문 통화로 결제해 주세요.",
        "invalid_split" => "분할 결제를 처리할 수 없습니다. 결제 수단은 2~4개(카드는 1개까지)이고, 각 금액은 0보다 커야 하며(나머지를 낼 한 수단은 금액을 비워 둘 수 있음) 합계는 주문 금액과 같아야 합니다.",
        "card_required" => "카드 정보가 필요합니다. 카드를 다시 입력해 주세요.",
        "gift_card_required" => "상품권 번호가 필요합니다. 상품권 번호를 입력해 주세요.",
        "card_declined" => "카드 결제가 거절되었습니다. 다른 결제 수단을 이용해 주세요.",
        "card_unavailable" => "카드 결제를 지금 처리할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "card_authorization_cancelled" => "카드 승인이 취소되었습니다. 다시 결제해 주세요.",
        "too_many_attempts" => "시도 횟수가 너무 많습니다. 잠시 후 다시 시도해 주세요.",
        "same_account" => "같은 계정끼리는 이체할 수 없습니다. 계정을 확인해 주세요.",
        "ledger_inconsistent" => "장부가 일치하지 않아 처리하지 않았습니다. 관리자에게 알려 주세요.",
        "limit_reached" => "등록할 수 있는 개수를 넘었습니다. 사용하지 않는 항목을 정리해 주세요.",
        "duplicate_handle" => {
            "같은 주소 이름(handle)의 상품이 이미 있습니다. 다른 이름을 쓰거나 기존 상품을 수정해 주세요."
        }
        "duplicate_sku" => "이 SKU는 다른 상품이 이미 사용 중입니다. 다른 SKU를 입력해 주세요.",
        "duplicate_gtin" => "이 바코드(GTIN)는 다른 상품이 이미 사용 중입니다. 바코드를 확인해 주세요.",
        "duplicate_code" => "같은 코드가 이미 있습니다. 다른 코드를 입력해 주세요.",
        "duplicate_device" => "같은 코드의 기기가 이미 있습니다. 다른 코드를 입력해 주세요.",
        "device_revoked" => "사용이 중지된 기기입니다. 새 기기로 등록해 주세요.",
        "no_layout" => "이 무인 매장에는 아직 진열 배치가 없습니다. 배치를 먼저 등록해 주세요.",
        "not_cashierless" => "무인 매장이 아닙니다. 무인 매장을 선택해 주세요.",
        "session_closed" => "이미 끝난 방문입니다. 영수증을 확인해 주세요.",
        "already_resolved" => "이미 처리된 검토 항목입니다. 목록을 새로 고쳐 주세요.",
        "concurrent_review" => "다른 직원이 같은 항목을 처리하고 있습니다. 목록을 새로 고쳐 주세요.",
        "corrupt_order" => "주문 정보가 손상되어 처리할 수 없습니다. 관리자에게 알려 주세요.",
        "invalid_csv" => "CSV 파일에 오류가 있습니다. 안내된 줄과 열을 고쳐 다시 올려 주세요.",
        "export_failed" => "내보내기에 실패했습니다. 잠시 후 다시 시도해 주세요.",
        "invalid_event" => "올바르지 않은 결제사 이벤트입니다.",
        "invalid_event_types" => "이벤트 종류가 올바르지 않습니다. order.placed, order.* 또는 *처럼 입력해 주세요.",
        "invalid_signature" => "서명이 올바르지 않습니다. 서명 비밀키를 확인해 주세요.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    /// Every error code the API can answer has its own Korean text (or, for the generic input codes, one
    /// that names the field).
    #[test]
    fn every_code_speaks_korean() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut codes = std::collections::BTreeSet::new();
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(p).unwrap());
                }
            }
        }
        let mut sources = Vec::new();
        for c in ["engine/src", "http/src", "catalog-io/src"] {
            walk(&root.join(c), &mut sources);
        }
        for s in &sources {
            for pat in ["invalid(", "conflict(", "bad(", "code: "] {
                for (i, _) in s.match_indices(pat) {
                    let rest = s[i + pat.len()..].trim_start();
                    if let Some(code) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
                        if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                            codes.insert(code.to_owned());
                        }
                    }
                }
            }
        }
        assert!(codes.len() > 50, "found the codes ({})", codes.len());
        let generic = ["invalid_request", "invalid_json", "invalid_query"];
        let missing: Vec<&String> =
            codes.iter().filter(|c| !generic.contains(&c.as_str()) && super::korean_fixed(c).is_none()).collect();
        assert!(missing.is_empty(), "codes without Korean text: {missing:?}");
        assert!(super::korean("invalid_request", "`quantity` must be 1–10000").contains("`quantity`"));
    }

    /// The common shapes of input errors read as Korean sentences with a next step, not "see the English".
    #[test]
    fn input_errors_speak_korean() {
        let ko = |m: &str| super::korean("invalid_request", m);
        for (message, want) in [
            ("`quantity` must be 1–10000", "`quantity`은(는) 1~10000 사이의 값이어야 합니다."),
            (
                "`title_ko` is 10000 characters; at most 200 are allowed",
                "`title_ko`은(는) 200자까지 입력할 수 있습니다.",
            ),
            ("`name` must not be empty", "`name`을(를) 입력해 주세요."),
            ("price of `QA-T1` must be 0–10^12 minor units", "`QA-T1`의 가격이 범위를 벗어났습니다."),
            ("`from` must not be after `to`", "`from`은(는) `to`보다 늦을 수 없습니다."),
            ("`quantity_delta` must be within ±1000000, got 99999999999", "±1000000 범위여야 합니다."),
            ("`weight_g` of `X` must be 0–10,000,000", "0~10,000,000 사이의 값이어야 합니다."),
            ("`from` must be a date such as 2026-12-01 (YYYY-MM-DD)", "날짜(YYYY-MM-DD)로 입력해 주세요."),
        ] {
            let text = ko(message);
            assert!(text.contains(want), "{message} → {text}");
            assert!(!text.contains("영문 메시지를 참고"), "{message} → {text}");
        }
        // Shapes it does not know keep the generic line, which the pages follow with the English detail.
        for message in [
            "`code` must be 1–32 characters of A–Z, 0–9, - and _ (got `강남점`)",
            "`url` must be https:// (at most 2000 characters)",
            "`values` holds at most 20 values of 1–64 characters",
        ] {
            assert!(ko(message).contains("영문 메시지를 참고"), "{message} → {}", ko(message));
        }
        let json = |m: &str| super::korean("invalid_json", m);
        assert!(json("`quantity`: invalid type: string \"a\", expected a whole number")
            .contains("`quantity`에는 정수를 넣어 주세요."));
        assert!(json("`payment`: missing field `method`").contains("`method` 항목이 빠졌습니다."));
        assert!(json("unknown field `colour`, expected one of `sku`, `quantity`")
            .contains("`colour`은(는) 이 요청에서 받지 않는 항목입니다."));
    }
}
