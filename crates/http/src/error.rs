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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_ko: Option<String>,
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
                        | store::DbErrorKind::Retryable => StatusCode::SERVICE_UNAVAILABLE,
                        _ => StatusCode::INTERNAL_SERVER_ERROR,
                    },
                };
                let message = match &e {
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
        if let Some(ko) = body["error"]["code"].as_str().and_then(korean) {
            body["error"]["message_ko"] = json!(ko);
        }
        (status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Korean text for the errors shoppers and store staff meet, returned beside the English `message` as
/// `message_ko` so a storefront or POS can show it as is.
fn korean(code: &str) -> Option<&'static str> {
    Some(match code {
        "out_of_stock" => "재고가 부족합니다.",
        "insufficient_stock" => "재고 수량이 맞지 않아 처리할 수 없습니다.",
        "cart_completed" => "이미 주문이 완료된 장바구니입니다.",
        "cart_empty" => "장바구니가 비어 있습니다.",
        "cart_full" => "장바구니에 담을 수 있는 상품 수를 넘었습니다.",
        "fulfillment_required" => "배송지 또는 픽업 매장을 먼저 선택해 주세요.",
        "pickup_unavailable" => "이 매장은 픽업을 제공하지 않습니다.",
        "wrong_pickup_code" => "픽업 코드가 일치하지 않습니다.",
        "invalid_transition" => "현재 주문 상태에서는 할 수 없는 작업입니다.",
        "not_returnable" => "아직 인도되지 않은 주문은 반품할 수 없습니다. 주문 취소를 이용해 주세요.",
        "return_exceeds_order" => "반품 수량이 구매 수량을 넘습니다.",
        "not_in_order" => "이 주문에 포함되지 않은 상품입니다.",
        "not_for_sale" => "판매 중이 아닌 상품입니다.",
        "no_price" => "이 통화로는 구매할 수 없는 상품입니다.",
        "unsupported_payment_method" => "지원하지 않는 결제 수단입니다.",
        "email_taken" => "이미 가입된 이메일입니다. 로그인해 주세요.",
        "phone_taken" => "이미 등록된 전화번호입니다.",
        "weak_password" => "비밀번호는 8자 이상이어야 합니다.",
        "invalid_credentials" => "이메일 또는 비밀번호가 올바르지 않습니다.",
        "unauthorized" => "로그인이 필요하거나 인증 정보가 올바르지 않습니다.",
        "forbidden" => "이 작업을 할 권한이 없습니다.",
        "not_found" => "찾을 수 없습니다.",
        "idempotency_key_reused" => "같은 요청 키가 다른 요청에 이미 사용되었습니다.",
        "overloaded" | "unavailable" | "busy" => "요청이 많아 잠시 후 다시 시도해 주세요.",
        "internal" => "일시적인 오류가 발생했습니다.",
        "invalid_request" | "invalid_json" | "invalid_query" | "invalid_limit" => "요청 내용이 올바르지 않습니다.",
        "payload_too_large" => "요청이 너무 큽니다.",
        "insufficient_funds" => "잔액이 부족합니다.",
        "customer_required" => "지갑 결제는 로그인한 고객만 할 수 있습니다.",
        "hold_expired" => "결제 승인 기간이 지났습니다.",
        "invalid_payment_code" => "유효하지 않은 결제 코드입니다. 앱에서 코드를 새로 고쳐 주세요.",
        "payment_code_used" => "이미 사용된 결제 코드입니다.",
        "payment_code_expired" => "결제 코드의 유효 시간이 지났습니다. 앱에서 새로 고쳐 주세요.",
        "payment_code_revoked" => "새 결제 코드가 발급되어 이 코드는 사용할 수 없습니다.",
        "payment_code_customer_mismatch" => "다른 고객의 결제 코드입니다.",
        "payment_request_paid" => "이미 결제된 요청입니다.",
        "payment_request_expired" => "결제 요청이 만료되었습니다. 계산대에 새 코드를 요청해 주세요.",
        "payment_request_cancelled" => "매장에서 취소한 결제 요청입니다.",
        "price_changed" => "가격이 변경되었습니다. 계산대에 새 코드를 요청해 주세요.",
        "invalid_gift_card" => "유효하지 않은 상품권입니다.",
        "payment_not_authorized" => "결제 승인이 유효하지 않아 상품을 인도할 수 없습니다.",
        "no_fx_rate" => "이 통화로 결제할 수 있는 환율이 없습니다.",
        "invalid_split" => "분할 결제 금액이 주문 금액과 맞지 않습니다.",
        "card_declined" => "카드 결제가 거절되었습니다. 다른 결제 수단을 이용해 주세요.",
        "card_unavailable" => "카드 결제를 지금 처리할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "idempotency_key_required" => "요청 키(Idempotency-Key)가 필요합니다.",
        "card_authorization_cancelled" => "카드 승인이 취소되었습니다. 다시 결제해 주세요.",
        "too_many_attempts" => "시도 횟수가 너무 많습니다. 잠시 후 다시 시도해 주세요.",
        _ => return None,
    })
}
