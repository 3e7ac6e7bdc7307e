//! The API error type: one enum, turned into a JSON response in one place.
//! Internal details are logged; the client gets a safe message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::storage::StorageError;
use data::ingest::IngestError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Option<serde_json::Value>,
    },
    #[error("the file is larger than the {limit_mb} MB upload limit")]
    TooLarge { limit_mb: u64 },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooMany(String),
    #[error("the request body is too large: {0}")]
    BodyTooLarge(String),
    #[error("{0}")]
    Timeout(String),
    /// A stored record that does not read back, or a document the store
    /// refused to write: a server fault, but one the message can name.
    #[error("{message}")]
    Storage { code: &'static str, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Unprocessable {
            code,
            message: message.into(),
            details: None,
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            AppError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
            AppError::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            AppError::Storage { code, .. } => (StatusCode::INTERNAL_SERVER_ERROR, code),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "something went wrong on the server; the details are in its log".to_owned()
            }
            AppError::Storage { message, .. } => {
                tracing::error!(%message, "storage error");
                message.clone()
            }
            other => other.to_string(),
        };
        let details = match self {
            AppError::Unprocessable { details, .. } => details,
            _ => None,
        };
        error_response(status, code, message, details)
    }
}

/// The one shape of every `/api` error answer, [`api::ApiError`]: for
/// [`AppError`], the guard's refusals, and axum's own rejections
/// (`routes::errors_as_json`).
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    details: Option<serde_json::Value>,
) -> Response {
    let body = api::ApiError {
        error: api::ErrorBody {
            code: code.to_owned(),
            message,
            details,
        },
    };
    (status, Json(body)).into_response()
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(what) => AppError::NotFound(what),
            StorageError::Corrupt { what, reason } => {
                tracing::error!(%what, %reason, "a stored record does not read back");
                AppError::Storage {
                    code: "unreadable_record",
                    message: format!(
                        "the stored {what} cannot be read (the details are in the server log); delete it and make it again"
                    ),
                }
            }
            StorageError::Ingest(e) => e.into(),
            e @ StorageError::NonFinite { .. } => AppError::Storage {
                code: "non_finite",
                message: e.to_string(),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<IngestError> for AppError {
    fn from(e: IngestError) -> Self {
        let code = e.code();
        let details = match &e {
            IngestError::ChooseSheet { sheets } | IngestError::NoSuchSheet { sheets, .. } => {
                Some(serde_json::json!({ "sheets": sheets }))
            }
            _ => e
                .location()
                .map(|(line, column)| serde_json::json!({ "line": line, "column": column })),
        };
        AppError::Unprocessable {
            code,
            message: e.to_string(),
            details,
        }
    }
}

impl From<data::Error> for AppError {
    fn from(e: data::Error) -> Self {
        match e {
            data::Error::Ingest(e) => e.into(),
            data::Error::Engine(e) => e.into(),
            data::Error::Unprocessable {
                code,
                message,
                details,
            } => AppError::Unprocessable {
                code,
                message,
                details,
            },
            data::Error::Internal(detail) => AppError::Internal(detail),
        }
    }
}

impl From<automl::Error> for AppError {
    fn from(e: automl::Error) -> Self {
        AppError::unprocessable("model", e.to_string())
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("background task failed: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
