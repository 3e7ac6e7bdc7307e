//! `/imports`: datasets from a PostgreSQL query or an S3 object
//! (`crate::imports`), ingested as uploads are.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::datasets::{display_name, read_options};
use super::{ApiJson, with_store};
use crate::error::AppResult;
use crate::storage::Received;
use crate::{AppState, datasets, imports};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", get(sources))
        .route(
            "/imports/postgres",
            post(postgres).layer(DefaultBodyLimit::max(256 << 10)),
        )
        .route(
            "/imports/s3",
            post(s3).layer(DefaultBodyLimit::max(16 << 10)),
        )
}

#[utoipa::path(get, path = "/api/imports", tag = "imports", responses((status = 200, description = "Which imports this server was started with", body = api::ImportSources)))]
async fn sources(State(st): State<AppState>) -> Json<api::ImportSources> {
    Json(st.config.imports.sources())
}

#[utoipa::path(post, path = "/api/imports/postgres", tag = "imports", request_body = api::PostgresImport, responses((status = 201, description = "The query's rows, stored as a dataset", body = api::DatasetSummary)))]
async fn postgres(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<api::PostgresImport>,
) -> AppResult<(StatusCode, Json<api::DatasetSummary>)> {
    let (file, source) = imports::postgres(
        &st.store,
        &st.config.imports,
        st.config.max_upload_bytes,
        &req.query,
    )
    .await?;
    let name = req
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "query".into());
    create(&st, name, "query.jsonl".into(), file, None, source).await
}

#[utoipa::path(post, path = "/api/imports/s3", tag = "imports", request_body = api::S3Import, responses((status = 201, description = "The object, stored as a dataset", body = api::DatasetSummary)))]
async fn s3(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<api::S3Import>,
) -> AppResult<(StatusCode, Json<api::DatasetSummary>)> {
    let (file, label) = imports::s3(
        &st.store,
        &st.config.imports,
        st.config.max_upload_bytes,
        &req.url,
    )
    .await?;
    let sheet = req.sheet.filter(|s| !s.is_empty());
    let source = req.url.trim().to_owned();
    create(&st, display_name(&label), label, file, sheet, source).await
}

/// The received file as a dataset, as an upload becomes one.
async fn create(
    st: &AppState,
    name: String,
    label: String,
    file: Received,
    sheet: Option<String>,
    source: String,
) -> AppResult<(StatusCode, Json<api::DatasetSummary>)> {
    let options = read_options(st, Vec::new());
    let detail = with_store(st, move |store| {
        datasets::create(store, &name, &label, file, &options, sheet, Some(source))
    })
    .await?;
    tracing::info!(id = %detail.summary.id, rows = detail.summary.rows, source = ?detail.summary.source, "dataset imported");
    Ok((StatusCode::CREATED, Json(detail.summary)))
}
