//! `/models` and `/predictions`: a model's summary, its artifact, JSON
//! prediction and explanation, charts, scoring a whole file and the scored
//! file's download.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::datasets::receive_file;
use super::{ApiJson, blocking, svg_response, with_store};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::storage::is_valid_id;
use crate::{charts, datasets, models};
use data::ingest;

/// Rows accepted by one JSON predict call.
const MAX_PREDICT_ROWS: usize = 10_000;

/// Rows accepted by one explain call.
const MAX_EXPLAIN_ROWS: usize = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/models/{id}", get(get_model).delete(delete_model))
        .route("/models/{id}/artifact", get(download_artifact))
        .route(
            "/models/{id}/predict",
            post(predict).layer(DefaultBodyLimit::max(32 << 20)),
        )
        .route(
            "/models/{id}/explain",
            post(explain).layer(DefaultBodyLimit::max(1 << 20)),
        )
        .route("/models/{id}/charts/{name}", get(model_chart))
        .route(
            "/models/{id}/batch",
            post(batch_predict).layer(DefaultBodyLimit::disable()),
        )
        .route("/predictions/{id}", get(download_predictions))
}

async fn get_model(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::ModelSummary>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.model(&id)?)).await?,
    ))
}

/// Deletes a model's record (readable or not) and its artifact. Scored
/// files it made stay downloadable.
async fn delete_model(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<StatusCode> {
    let key = id.clone();
    with_store(&st, move |store| Ok(store.delete_model(&key)?)).await?;
    st.artifacts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&id);
    tracing::info!(%id, "model deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn download_artifact(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| Ok(store.model_bytes(&key)?)).await?;
    let disposition = format!("attachment; filename=\"kiln-model-{id}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// Loads a model's artifact, once per process.
async fn artifact(st: &AppState, id: &str) -> AppResult<Arc<automl::ModelArtifact>> {
    if !is_valid_id(id) {
        return Err(AppError::NotFound(format!("model {id}")));
    }
    if let Some(a) = st
        .artifacts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(id)
    {
        return Ok(Arc::clone(a));
    }
    let key = id.to_owned();
    let loaded = with_store(st, move |store| {
        let bytes = store.model_bytes(&key)?;
        automl::ModelArtifact::from_json(&bytes)
            .map_err(|e| AppError::Internal(format!("stored model {key}: {e}")))
    })
    .await?;
    let loaded = Arc::new(loaded);
    let mut cache = st
        .artifacts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() > 64 {
        cache.clear();
    }
    cache.insert(id.to_owned(), Arc::clone(&loaded));
    Ok(loaded)
}

async fn predict(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::PredictRequest>,
) -> AppResult<Json<api::PredictResponse>> {
    check_rows(&req, MAX_PREDICT_ROWS, "upload a CSV for more")?;
    let model = artifact(&st, &id).await?;
    let out = blocking(move || models::predict_json(&model, &req)).await?;
    Ok(Json(out))
}

/// Checks the row count of a JSON predict or explain request.
fn check_rows(req: &api::PredictRequest, max: usize, more: &str) -> AppResult<()> {
    if req.rows.is_empty() {
        return Err(AppError::unprocessable(
            "no_rows",
            "send at least one row to predict",
        ));
    }
    if req.rows.len() > max {
        return Err(AppError::unprocessable(
            "too_many_rows",
            format!("at most {max} rows per request; {more}"),
        ));
    }
    Ok(())
}

async fn explain(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::PredictRequest>,
) -> AppResult<Json<api::ExplainResponse>> {
    check_rows(
        &req,
        MAX_EXPLAIN_ROWS,
        "the model page shows global explanations",
    )?;
    let model = artifact(&st, &id).await?;
    let out = blocking(move || models::explain_json(&model, &req)).await?;
    Ok(Json(out))
}

/// `importance.svg`, `beeswarm.svg` or `dependence-<i>.svg` from the model's insights.
async fn model_chart(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    // Reading the store and drawing are blocking work.
    let svg = with_store(&st, move |store| chart_svg(store, &id, &name)).await?;
    Ok(svg_response(svg))
}

fn chart_svg(store: &crate::storage::Store, id: &str, name: &str) -> AppResult<String> {
    let summary = store.model(id)?;
    let unknown = || AppError::NotFound(format!("chart `{name}`"));
    let stem = name.strip_suffix(".svg").ok_or_else(unknown)?;
    if let Some(svg) = evaluation_chart(&summary, stem)? {
        return Ok(svg);
    }
    let ins = summary
        .insights
        .ok_or_else(|| AppError::NotFound(format!("explanations of model {id}")))?;
    let svg = match stem {
        "importance" => {
            let items: Vec<(String, f64)> = ins
                .importance
                .iter()
                .take(15)
                .map(|i| (i.feature.clone(), i.mean_abs_shap))
                .collect();
            charts::bars(
                "Feature importance",
                &format!("mean |SHAP value| ({})", ins.space),
                &items,
            )?
        }
        "beeswarm" => charts::beeswarm(
            &format!("SHAP values of {} sampled rows", ins.sample_rows),
            &ins.beeswarm,
        )?,
        other => {
            let i: usize = other
                .strip_prefix("dependence-")
                .and_then(|i| i.parse().ok())
                .ok_or_else(unknown)?;
            charts::dependence(ins.dependence.get(i).ok_or_else(unknown)?)?
        }
    };
    Ok(svg)
}

/// `roc`, `pr`, `confusion` or `residuals` from the model's held-out predictions.
fn evaluation_chart(m: &api::ModelSummary, stem: &str) -> AppResult<Option<String>> {
    let Some(e) = &m.evaluation else {
        return Ok(None);
    };
    let missing = || AppError::NotFound(format!("chart `{stem}.svg` for this model"));
    Ok(Some(match stem {
        "roc" if !e.roc.is_empty() => charts::curve(
            "ROC curve (held-out rows)",
            "false positive rate",
            "true positive rate",
            &e.roc,
            true,
        )?,
        "pr" if !e.pr.is_empty() => charts::curve(
            "Precision-recall curve (held-out rows)",
            "recall",
            "precision",
            &e.pr,
            false,
        )?,
        "confusion" if !e.confusion.is_empty() => charts::confusion(&m.classes, &e.confusion)?,
        "residuals" if !e.residuals.is_empty() => charts::residuals(&e.residuals)?,
        "roc" | "pr" | "confusion" | "residuals" => return Err(missing()),
        _ => return Ok(None),
    }))
}

/// Scores an uploaded CSV; the result is stored for download.
async fn batch_predict(
    State(st): State<AppState>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<api::BatchReport>)> {
    let model = artifact(&st, &id).await?;
    let (file, file_label) = receive_file(&st, &mut multipart).await?;
    let report = with_store(&st, move |store| {
        let scored = (|| -> AppResult<_> {
            let frame = file.read_csv(&ingest::ReadOptions::default())?.frame;
            drop(file);
            let mut out = store.new_file()?;
            let outcome = models::predict_frame(&model, &frame, &mut out)?;
            Ok((store.save_predictions(out)?, outcome))
        })();
        let (pid, outcome) = scored.map_err(|e| datasets::name_file(&file_label, e))?;
        Ok(api::BatchReport {
            download: format!("/api/predictions/{pid}"),
            id: pid,
            file_name: file_label,
            rows: outcome.rows as u64,
            extra_columns: outcome.extra_columns,
            warnings: outcome.warnings,
        })
    })
    .await?;
    tracing::info!(model = %id, rows = report.rows, "batch scored");
    Ok((StatusCode::CREATED, Json(report)))
}

async fn download_predictions(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| Ok(store.predictions(&key)?)).await?;
    let disposition = format!("attachment; filename=\"kiln-predictions-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
