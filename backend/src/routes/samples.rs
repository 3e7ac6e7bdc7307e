//! `/samples`: the sample datasets compiled into the binary, and loading
//! one as a dataset.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::with_store;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::{datasets, samples};
use data::ingest;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/samples", get(list_samples))
        .route("/samples/{name}", post(load_sample))
}

#[utoipa::path(get, path = "/api/samples", tag = "samples", responses((status = 200, description = "The sample datasets built into the binary", body = [api::Sample])))]
async fn list_samples() -> Json<Vec<api::Sample>> {
    Json(
        samples::SAMPLES
            .iter()
            .map(|s| api::Sample {
                name: s.name.into(),
                description: s.description.into(),
                target: s.target.into(),
                bytes: s.bytes.len() as u64,
            })
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/samples/{name}", tag = "samples", params(("name" = String, Path, description = "The sample's name (`GET /api/samples`)", example = "penguins")), responses((status = 201, description = "The sample, stored as a dataset", body = api::DatasetSummary)))]
async fn load_sample(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<(StatusCode, Json<api::DatasetSummary>)> {
    let sample =
        samples::find(&name).ok_or_else(|| AppError::NotFound(format!("sample `{name}`")))?;
    let options = ingest::ReadOptions {
        limits: st.config.limits.clone(),
        nulls: Vec::new(),
    };
    let detail = with_store(&st, move |store| {
        let file = store.receive_bytes(sample.bytes)?;
        let label = format!("{}.csv", sample.name);
        datasets::create(store, sample.name, &label, file, &options, None, None)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(detail.summary)))
}
