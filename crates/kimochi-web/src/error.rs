//! The one error type of the HTTP edge. Handlers return [`AppError`]; the `render_errors`
//! middleware turns it into JSON with a stable code, a request id and a message in the caller's
//! language. Internal details are logged once, with the request id, and never shown.

use std::borrow::Cow;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kimochi_domain::{ConsentRefusal, ValidationError};
use kimochi_store::StoreError;

/// An error as the caller sees it.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    /// Stable, dotted, English code (`customer.not_found`); clients branch on this.
    pub code: &'static str,
    pub message_ja: Cow<'static, str>,
    pub message_en: Cow<'static, str>,
    /// The request field at fault, when there is one.
    pub field: Option<Box<str>>,
    /// Extra structured detail (e.g. every bad row of an import). Boxed, like `field`, to keep
    /// `Result<_, AppError>` small on the happy path.
    pub details: Option<Box<serde_json::Value>>,
}

impl AppError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message_ja: impl Into<Cow<'static, str>>,
        message_en: impl Into<Cow<'static, str>>,
    ) -> AppError {
        AppError {
            status,
            code,
            message_ja: message_ja.into(),
            message_en: message_en.into(),
            field: None,
            details: None,
        }
    }

    pub fn not_found(what: &str) -> AppError {
        let code = match what {
            "customer" => "customer.not_found",
            "order" => "order.not_found",
            "contact" => "contact.not_found",
            "product" => "product.not_found",
            "faq" => "faq.not_found",
            "user" => "user.not_found",
            _ => "not_found",
        };
        AppError::new(StatusCode::NOT_FOUND, code, "見つかりません。", format!("{what} not found"))
    }

    pub fn unauthorized() -> AppError {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "auth.required",
            "ログインまたはAPIトークンが必要です。",
            "authentication required",
        )
    }

    pub fn forbidden() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            "この操作を行う権限がありません。",
            "your role may not do this",
        )
    }

    pub fn csrf() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "auth.csrf",
            "フォームの有効期限が切れました。画面を再読み込みしてください。",
            "missing or wrong CSRF token",
        )
    }

    pub fn bad_request(code: &'static str, message_en: impl Into<Cow<'static, str>>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, "リクエストの形式が正しくありません。", message_en)
    }

    pub fn invalid(error: ValidationError) -> AppError {
        let field = error.field.to_owned();
        let message_en = error.to_string();
        AppError {
            field: Some(field.clone().into()),
            ..AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation.invalid",
                format!("入力内容に誤りがあります（{field}）。"),
                message_en,
            )
        }
    }

    pub fn internal() -> AppError {
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "システムエラーが発生しました。", "internal error")
    }
}

impl From<ValidationError> for AppError {
    fn from(error: ValidationError) -> Self {
        AppError::invalid(error)
    }
}

impl From<ConsentRefusal> for AppError {
    fn from(refusal: ConsentRefusal) -> Self {
        let (code, ja) = match refusal {
            ConsentRefusal::DoNotCall => ("consent.do_not_call", "このお客様は架電禁止です。"),
            ConsentRefusal::NoConsent(_) => ("consent.missing", "このチャネルでの連絡に同意をいただいていません。"),
        };
        AppError::new(StatusCode::CONFLICT, code, ja, refusal.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => AppError::not_found(what),
            StoreError::Conflict(what) => {
                AppError::new(StatusCode::CONFLICT, "conflict", "同じIDのデータが既にあります。", format!("{what} already exists"))
            }
            StoreError::UnknownReference { field } => AppError {
                field: Some(field.into()),
                ..AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "reference.unknown", format!("{field} が指すデータがありません。"), format!("{field} refers to a record that does not exist"))
            },
            StoreError::Invalid(error) => AppError::invalid(error),
            StoreError::InvalidRule(error) => crate::segments::rule_error(&error),
            StoreError::ImportRejected(problems) => AppError {
                details: Some(Box::new(serde_json::json!(problems.iter().map(|p| serde_json::json!({"line": p.line, "column": p.column, "value": p.value, "reason": p.reason})).collect::<Vec<_>>()))),
                ..AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "import.rejected", "取り込めない行があります。", "some rows were refused; nothing was imported")
            },
            other => {
                tracing::error!(error = %other, "store error");
                AppError::internal()
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The id of one request, in the `x-request-id` response header and in every error body and log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Assigns a request id, and renders any [`AppError`] (or a bare 4xx/5xx from the router, such as
/// an unknown route) as the JSON error body in the language the caller prefers.
pub async fn render_errors(mut request: Request, next: Next) -> Response {
    let request_id = RequestId(crate::auth::random_token(8));
    let english =
        request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).is_some_and(prefers_english);
    request.extensions_mut().insert(request_id.clone());
    let mut response = next.run(request).await;
    let status = response.status();
    let error = response.extensions_mut().remove::<AppError>().or_else(|| {
        // Errors produced by axum itself (unknown route, wrong method) carry no AppError.
        let is_bare =
            response.headers().get(header::CONTENT_TYPE).is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
        match status {
            StatusCode::NOT_FOUND if is_bare => {
                Some(AppError::new(status, "route.not_found", "ページが見つかりません。", "no such route"))
            }
            StatusCode::METHOD_NOT_ALLOWED => Some(AppError::new(
                status,
                "route.method_not_allowed",
                "このメソッドは使えません。",
                "method not allowed",
            )),
            StatusCode::PAYLOAD_TOO_LARGE => {
                Some(AppError::new(status, "request.too_large", "リクエストが大きすぎます。", "request body too large"))
            }
            _ => None,
        }
    });
    if let Some(error) = error {
        if status.is_server_error() {
            tracing::error!(request_id = %request_id.0, code = error.code, "request failed");
        }
        let message = if english { &error.message_en } else { &error.message_ja };
        let body = serde_json::json!({
            "error": {
                "code": error.code,
                "message": message,
                "field": error.field,
                "details": error.details,
                "request_id": request_id.0,
            }
        });
        let mut rendered = (status, axum::Json(body)).into_response();
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = rendered;
    }
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Whether an `Accept-Language` header ranks English above Japanese (Japanese is the default).
fn prefers_english(header: &str) -> bool {
    for part in header.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.starts_with("ja") {
            return false;
        }
        if tag.starts_with("en") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn language_preference() {
        assert!(super::prefers_english("en-US,en;q=0.9"));
        assert!(!super::prefers_english("ja,en;q=0.8"));
        assert!(!super::prefers_english(""));
        assert!(!super::prefers_english("fr"));
    }
}
