//! The `/api` router, one module per resource (`datasets`, `imports`,
//! `builds`, `models`, `forecasts`, `samples`), each with its own router. Handlers are thin: parse,
//! call a domain function or the store on a blocking thread
//! ([`with_store`], [`blocking`]), map the result; errors become responses
//! in one place (`crate::error`). `openapi` describes them all as the
//! OpenAPI 3.1 document served at `/api/openapi.json`.

mod builds;
mod datasets;
mod endpoints;
mod forecasts;
mod imports;
mod models;
mod openapi;
mod samples;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use std::sync::Arc;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::storage::Store;

/// The header naming the stored records a list left out because they do
/// not read back (comma-separated ids); absent when there are none. The
/// list itself stays a bare JSON array.
pub const SKIPPED_HEADER: &str = "x-kiln-skipped";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document))
        .route("/login", post(crate::guard::login))
        .merge(samples::router())
        .merge(datasets::router())
        .merge(imports::router())
        .merge(builds::router())
        .merge(models::router())
        .merge(forecasts::router())
        .merge(endpoints::router())
        .fallback(|| async { AppError::NotFound("this API route".into()) })
        .layer(axum::middleware::map_response(errors_as_json))
        .with_state(state)
}

/// Makes every error answer of `/api` an [`api::ApiError`], as the OpenAPI
/// document promises: axum's own rejections (a path segment that is not a
/// number, a malformed form or multipart body) come as plain text, and keep
/// their status and message here.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        s if s.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_owned()
    } else {
        text
    };
    let mut out = crate::error::error_response(status, code, message, None);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name, value.clone());
        }
    }
    out
}

/// `Json` whose rejections are API errors.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::BodyTooLarge(rej.body_text()))
            }
            Err(rej) => Err(AppError::bad_request("invalid_json", rej.body_text())),
        }
    }
}

/// `Query` whose rejections are API errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(AppError::bad_request("invalid_query", rej.body_text())),
        }
    }
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await?
}

/// Runs `f` with the store on a blocking thread: every handler reaches
/// SQLite and the data directory through here, never on an async worker.
pub(super) async fn with_store<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce(&Store) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let store = Arc::clone(&st.store);
    blocking(move || f(&store)).await
}

/// `GET /api/health`.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    /// The server's version.
    version: &'static str,
}

#[utoipa::path(get, path = "/api/health", tag = "system", responses((status = 200, description = "The server is up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// A list response: the readable records, and [`SKIPPED_HEADER`] for the rest.
pub(super) fn listed<T: serde::Serialize>(listed: crate::storage::Listed<T>) -> Response {
    let mut response = Json(listed.items).into_response();
    if !listed.unreadable.is_empty() {
        // Ids are 32 hex digits, always a valid header value.
        if let Ok(v) = header::HeaderValue::from_str(&listed.unreadable.join(",")) {
            response.headers_mut().insert(SKIPPED_HEADER, v);
        }
    }
    response
}

/// Answers a bias report request (`fairness::BiasQuery` in `raw`):
/// `report` gives the page's title and the report, answered as JSON, the
/// printable page `fairness::html`, or its chart, all made on the blocking
/// thread.
pub(super) async fn bias_answer(
    st: &AppState,
    raw: Option<String>,
    report: impl FnOnce(&Store, &crate::fairness::BiasQuery) -> AppResult<(String, api::BiasReport)>
    + Send
    + 'static,
) -> AppResult<Response> {
    use crate::fairness::{BiasQuery, Format};
    let q = BiasQuery::parse(raw.as_deref())?;
    let format = q.format;
    with_store(st, move |store| {
        let (title, report) = report(store, &q)?;
        Ok(match format {
            Format::Json => Json(report).into_response(),
            Format::Html => {
                // The chart is the same address with `format=svg`.
                let chart = format!(
                    "?{}",
                    raw.unwrap_or_default().replace("format=html", "format=svg")
                );
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    crate::fairness::html(&title, &report, &chart),
                )
                    .into_response()
            }
            Format::Svg => svg_response(crate::fairness::chart(&report)?),
        })
    })
    .await
}

/// A file the browser saves as `name` (a plain name the server made).
pub(super) fn download(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(super) fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response()
}
