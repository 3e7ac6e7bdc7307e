//! `/models` and `/predictions`: a model's summary, its artifact and its
//! ONNX form, JSON prediction and explanation, charts, scoring a whole file
//! and the scored file's download.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::datasets::receive_file;
use super::{ApiJson, ApiQuery, bias_answer, blocking, svg_response, with_store};
use crate::AppState;
use crate::charts::Series;
use crate::error::{AppError, AppResult};
use crate::storage::is_valid_id;
use crate::{charts, datasets, models};
use data::ingest;

/// The bias report of one facet before and after training: the model's
/// training rows with its out-of-fold predictions (`fairness::BiasQuery`).
#[utoipa::path(get, path = "/api/models/{id}/fairness", tag = "fairness", params(("id" = String, Path, description = "Model id"), super::openapi::BiasParams), responses((status = 200, description = "Bias of the model's out-of-fold predictions, as JSON, a printable page or its chart (`format`)", content((api::BiasReport = "application/json"), (String = "text/html"), (String = "image/svg+xml")))))]
async fn model_fairness(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    bias_answer(&st, raw, move |store, q| {
        let title = format!("Bias of the model for “{}”", store.model(&id)?.target);
        Ok((title, crate::fairness::model_report(store, &id, q)?))
    })
    .await
}

/// The bias report of a scored file that holds the outcomes.
#[utoipa::path(get, path = "/api/predictions/{id}/fairness", tag = "fairness", params(("id" = String, Path, description = "Scored file id"), super::openapi::BiasParams), responses((status = 200, description = "Bias of a scored file's predictions, as JSON, a printable page or its chart (`format`)", content((api::BiasReport = "application/json"), (String = "text/html"), (String = "image/svg+xml")))))]
async fn batch_fairness(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    bias_answer(&st, raw, move |store, q| {
        let title = format!(
            "Bias of the predictions in “{}”",
            store.batch(&id)?.file_name
        );
        Ok((title, crate::fairness::batch_report(store, &id, q)?))
    })
    .await
}

/// Rows accepted by one JSON predict call.
const MAX_PREDICT_ROWS: usize = 10_000;

/// Rows accepted by one explain call.
const MAX_EXPLAIN_ROWS: usize = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/models/{id}", get(get_model).delete(delete_model))
        .route("/models/{id}/artifact", get(download_artifact))
        .route("/models/{id}/onnx", get(download_onnx))
        .route("/models/{id}/baseline", get(download_baseline))
        .route("/models/{id}/fairness", get(model_fairness))
        .route(
            "/models/{id}/threshold",
            axum::routing::put(set_threshold).layer(DefaultBodyLimit::max(4 << 10)),
        )
        .route(
            "/models/{id}/predict",
            post(predict).layer(DefaultBodyLimit::max(32 << 20)),
        )
        .route(
            "/models/{id}/explain",
            post(explain).layer(DefaultBodyLimit::max(1 << 20)),
        )
        .route("/models/{id}/charts/{name}", get(model_chart))
        .route("/compare/charts/{name}", get(compare_chart))
        .route(
            "/models/{id}/batch",
            post(batch_predict).layer(DefaultBodyLimit::disable()),
        )
        .route("/predictions/{id}", get(download_predictions))
        .route("/predictions/{id}/fairness", get(batch_fairness))
        .route("/predictions/{id}/charts/{name}", get(batch_chart))
}

#[utoipa::path(get, path = "/api/models/{id}", tag = "models", params(("id" = String, Path, description = "Model id")), responses((status = 200, body = api::ModelSummary)))]
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
#[utoipa::path(delete, path = "/api/models/{id}", tag = "models", params(("id" = String, Path, description = "Model id")), responses((status = 204, description = "Deleted")))]
async fn delete_model(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<StatusCode> {
    let key = id.clone();
    with_store(&st, move |store| {
        let serving = store.endpoints_serving(&key)?;
        if !serving.is_empty() {
            return Err(AppError::Conflict(format!(
                "model {key} is deployed on endpoint {}; point the endpoint at another model, or delete it, first",
                serving
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(store.delete_model(&key)?)
    })
    .await?;
    st.artifacts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&id);
    tracing::info!(%id, "model deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The model's monitoring baseline: per-feature statistics, suggested
/// constraints and distribution sketches, the out-of-fold predictions'
/// distribution and metric, and the SHAP ranking.
#[utoipa::path(get, path = "/api/models/{id}/baseline", tag = "models", params(("id" = String, Path, description = "Model id")), responses((status = 200, description = "The baseline (JSON)", body = Object)))]
async fn download_baseline(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| {
        crate::monitoring::baseline(store, &key)?;
        Ok(store.model_baseline(&key)?.unwrap_or_default())
    })
    .await?;
    Ok(super::download(
        "application/json",
        &format!("kiln-baseline-{id}.json"),
        bytes,
    ))
}

/// Sets (or, with `null`, clears) a binary classifier's decision threshold.
/// The artifact is rewritten with it, so the downloaded file and `kiln
/// predict` decide as the studio does.
#[utoipa::path(put, path = "/api/models/{id}/threshold", tag = "models", params(("id" = String, Path, description = "Model id")), request_body = api::ThresholdRequest, responses((status = 200, body = api::ModelSummary)))]
async fn set_threshold(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::ThresholdRequest>,
) -> AppResult<Json<api::ModelSummary>> {
    let key = id.clone();
    let summary = with_store(&st, move |store| {
        let mut summary = store.model(&key)?;
        let mut model = automl::ModelArtifact::from_json(&store.model_bytes(&key)?)
            .map_err(|e| AppError::Internal(format!("stored model {key}: {e}")))?;
        if let Some(t) = req.threshold {
            automl::check_threshold(model.schema.task, t)
                .map_err(|e| AppError::unprocessable("invalid_threshold", e.to_string()))?;
        }
        model.threshold = req.threshold;
        let bytes = model.to_json();
        summary.threshold = req.threshold;
        summary.artifact_bytes = bytes.len() as u64;
        store.update_model(&summary, &bytes)?;
        Ok(summary)
    })
    .await?;
    st.artifacts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&id);
    tracing::info!(%id, threshold = ?summary.threshold, "decision threshold set");
    Ok(Json(summary))
}

#[utoipa::path(get, path = "/api/models/{id}/artifact", tag = "models", params(("id" = String, Path, description = "Model id")), responses((status = 200, description = "The self-contained model file (Kiln's artifact format)", body = Object, content_type = "application/json")))]
async fn download_artifact(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| Ok(store.model_bytes(&key)?)).await?;
    Ok(super::download(
        "application/json",
        &format!("kiln-model-{id}.json"),
        bytes,
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OnnxQuery {
    /// Only whether the model exports: 204, or the 422 a download gets.
    #[serde(default)]
    check: bool,
}

/// The model as ONNX (`automl::onnx`), made on request; a 422 naming the
/// recipe step or the feature ONNX cannot express as Kiln computes it.
#[utoipa::path(get, path = "/api/models/{id}/onnx", tag = "models", params(("id" = String, Path, description = "Model id"), OnnxQuery), responses((status = 200, description = "The model as ONNX", body = String, content_type = "application/octet-stream"), (status = 204, description = "With `check=true`: the model exports")))]
async fn download_onnx(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OnnxQuery>,
) -> AppResult<Response> {
    let model = artifact(&st, &id).await?;
    let bytes = blocking(move || {
        automl::onnx::export(&model)
            .map_err(|e| AppError::unprocessable("onnx_unsupported", e.to_string()))
    })
    .await?;
    if q.check {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(super::download(
        "application/octet-stream",
        &format!("kiln-model-{id}.onnx"),
        bytes,
    ))
}

/// Loads a model's artifact, once per process.
pub(super) async fn artifact(st: &AppState, id: &str) -> AppResult<Arc<automl::ModelArtifact>> {
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

#[utoipa::path(post, path = "/api/models/{id}/predict", tag = "models", params(("id" = String, Path, description = "Model id")), request_body = api::PredictRequest, responses((status = 200, body = api::PredictResponse)))]
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

#[utoipa::path(post, path = "/api/models/{id}/explain", tag = "models", params(("id" = String, Path, description = "Model id")), request_body = api::PredictRequest, responses((status = 200, body = api::ExplainResponse)))]
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
#[utoipa::path(get, path = "/api/models/{id}/charts/{name}", tag = "models", params(("id" = String, Path, description = "Model id"), ("name" = String, Path, description = "`importance.svg`, `beeswarm.svg`, `dependence-{i}.svg`, `roc.svg`, `pr.svg`, `confusion.svg` or `residuals.svg`", example = "importance.svg")), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
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
    if let Some(e) = &summary.evaluation
        && let Some(svg) = evaluation_chart(e, &summary.classes, stem, "held-out rows")?
    {
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

/// `roc`, `pr`, `confusion` or `residuals` of predictions against their
/// targets (`rows` says which: "held-out rows", "the scored file").
fn evaluation_chart(
    e: &api::Evaluation,
    classes: &[String],
    stem: &str,
    rows: &str,
) -> AppResult<Option<String>> {
    let missing = || AppError::NotFound(format!("chart `{stem}.svg` here"));
    Ok(Some(match stem {
        "roc" if !e.roc.is_empty() => charts::curve(
            &format!("ROC curve ({rows})"),
            "false positive rate",
            "true positive rate",
            &Series::only(&e.roc),
            true,
        )?,
        "pr" if !e.pr.is_empty() => charts::curve(
            &format!("Precision-recall curve ({rows})"),
            "recall",
            "precision",
            &Series::only(&e.pr),
            false,
        )?,
        "confusion" if !e.confusion.is_empty() => charts::confusion(classes, &e.confusion, rows)?,
        "residuals" if !e.residuals.is_empty() => {
            charts::residuals(&Series::only(&e.residuals), rows)?
        }
        "roc" | "pr" | "confusion" | "residuals" => return Err(missing()),
        _ => return Ok(None),
    }))
}

/// `roc.svg`, `pr.svg`, `confusion.svg` or `residuals.svg` of a scored
/// file that held the target column.
#[utoipa::path(get, path = "/api/predictions/{id}/charts/{name}", tag = "models", params(("id" = String, Path, description = "Scored file id"), ("name" = String, Path, description = "`roc.svg`, `pr.svg`, `confusion.svg` or `residuals.svg`", example = "confusion.svg")), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
async fn batch_chart(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let svg = with_store(&st, move |store| {
        let report = store.batch(&id)?;
        let e = report.evaluation.ok_or_else(|| {
            AppError::NotFound(format!(
                "charts of scored file {id}: it had no target column"
            ))
        })?;
        let stem = name.strip_suffix(".svg").unwrap_or_default();
        evaluation_chart(&e.evaluation, &e.classes, stem, "the scored file")?
            .ok_or_else(|| AppError::NotFound(format!("chart `{name}`")))
    })
    .await?;
    Ok(svg_response(svg))
}

/// The most models one comparison chart draws (one colour each).
const MAX_COMPARED: usize = 8;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CompareQuery {
    /// Model ids, comma-separated.
    models: String,
    /// The number the legend gives each model (1, 2, … by default), as the
    /// page that shows the chart numbers them.
    #[serde(default)]
    numbers: Option<String>,
}

/// `roc.svg`, `pr.svg` or `residuals.svg` of several models drawn over
/// each other, numbered in the order given (the Compare page).
#[utoipa::path(get, path = "/api/compare/charts/{name}", tag = "models", params(("name" = String, Path, description = "`roc.svg`, `pr.svg` or `residuals.svg`", example = "roc.svg"), CompareQuery), responses((status = 200, description = "The models' curves on one chart", body = String, content_type = "image/svg+xml")))]
async fn compare_chart(
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> AppResult<Response> {
    let svg = with_store(&st, move |store| compare_svg(store, &q, &name)).await?;
    Ok(svg_response(svg))
}

fn compare_svg(store: &crate::storage::Store, q: &CompareQuery, name: &str) -> AppResult<String> {
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let ids = list(&q.models);
    if ids.is_empty() || ids.len() > MAX_COMPARED {
        return Err(AppError::bad_request(
            "invalid_query",
            format!("name 1 to {MAX_COMPARED} models, separated by commas"),
        ));
    }
    let numbers = match q.numbers.as_deref().map(list) {
        Some(n) if n.len() == ids.len() && n.iter().all(|n| n.parse::<u32>().is_ok()) => n,
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_query",
                "`numbers` must give one whole number per model",
            ));
        }
        None => (1..=ids.len()).map(|i| i.to_string()).collect(),
    };
    let models = ids
        .iter()
        .map(|id| store.model(id))
        .collect::<Result<Vec<_>, _>>()?;
    let stem = name.strip_suffix(".svg").unwrap_or(name);
    let points = |m: &api::ModelSummary| -> Option<Vec<(f64, f64)>> {
        let e = m.evaluation.as_ref()?;
        let p = match stem {
            "roc" => &e.roc,
            "pr" => &e.pr,
            _ => &e.residuals,
        };
        (!p.is_empty()).then(|| p.clone())
    };
    if !matches!(stem, "roc" | "pr" | "residuals") {
        return Err(AppError::NotFound(format!("comparison chart `{name}`")));
    }
    let drawn: Vec<(String, Vec<(f64, f64)>)> = models
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((format!("{}. {}", numbers[i], m.family), points(m)?)))
        .collect();
    if drawn.is_empty() {
        return Err(AppError::NotFound(format!(
            "chart `{name}`: none of these models has one"
        )));
    }
    let series: Vec<Series<'_>> = drawn
        .iter()
        .map(|(label, points)| Series {
            label: label.clone(),
            points,
        })
        .collect();
    Ok(match stem {
        "roc" => charts::curve(
            "ROC curves (held-out rows)",
            "false positive rate",
            "true positive rate",
            &series,
            true,
        )?,
        "pr" => charts::curve(
            "Precision-recall curves (held-out rows)",
            "recall",
            "precision",
            &series,
            false,
        )?,
        _ => charts::residuals(&series, "held-out rows")?,
    })
}

/// Scores an uploaded file (CSV, or any format a dataset may be); the
/// result is stored for download.
#[utoipa::path(post, path = "/api/models/{id}/batch", tag = "models", params(("id" = String, Path, description = "Model id")), request_body(content = super::openapi::Upload, content_type = "multipart/form-data"), responses((status = 201, description = "Scored; the predictions are at `download`", body = api::BatchReport)))]
async fn batch_predict(
    State(st): State<AppState>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<api::BatchReport>)> {
    let model = artifact(&st, &id).await?;
    let (file, file_label) = receive_file(&st, &mut multipart).await?;
    let report = with_store(&st, move |store| {
        let scored = (|| -> AppResult<_> {
            let frame = file
                .read(&file_label, &ingest::ReadOptions::default(), None)?
                .frame;
            drop(file);
            let mut out = store.new_file()?;
            let outcome = models::predict_frame(&model, &frame, &mut out)?;
            Ok((store.save_predictions(out)?, outcome))
        })();
        let (pid, outcome) = scored.map_err(|e| datasets::name_file(&file_label, e))?;
        let report = api::BatchReport {
            download: format!(
                "/api/predictions/{pid}?name={}",
                predictions_name(&file_label)
            ),
            id: pid,
            file_name: file_label,
            rows: outcome.rows as u64,
            extra_columns: outcome.extra_columns,
            warnings: outcome.warnings,
            evaluation: outcome.evaluation,
            preview: Some(outcome.preview),
        };
        // The scored file is kept either way; without its report, it has no charts.
        if let Err(e) = store.save_batch(&report) {
            tracing::warn!(batch = %report.id, error = %e, "the batch report was not kept");
        }
        Ok(report)
    })
    .await?;
    tracing::info!(model = %id, rows = report.rows, "batch scored");
    Ok((StatusCode::CREATED, Json(report)))
}

/// The name a scored file downloads as: `<scored file's stem>-predictions.csv`.
fn predictions_name(file_label: &str) -> String {
    let stem = file_label
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim_end_matches(".csv")
        .trim_end_matches(".CSV");
    let safe: String = stem
        .chars()
        .map(|c| if is_name_char(c) { c } else { '_' })
        .take(80)
        .collect();
    let safe = safe.trim_matches(['.', '_']);
    if safe.is_empty() {
        "predictions.csv".to_owned()
    } else {
        format!("{safe}-predictions.csv")
    }
}

/// Characters a download's name keeps as they are (no quoting, no
/// percent-encoding, no path).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DownloadQuery {
    /// The file name to save as (see [`predictions_name`]).
    name: Option<String>,
}

#[utoipa::path(get, path = "/api/predictions/{id}", tag = "models", params(("id" = String, Path, description = "Scored file id"), DownloadQuery), responses((status = 200, description = "The scored rows", body = String, content_type = "text/csv")))]
async fn download_predictions(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DownloadQuery>,
) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| Ok(store.predictions(&key)?)).await?;
    // A name that is not a plain `.csv` file name falls back to the id.
    let name = q
        .name
        .filter(|n| {
            n.len() <= 120
                && n.ends_with(".csv")
                && !n.starts_with('.')
                && n.chars().all(is_name_char)
        })
        .unwrap_or_else(|| format!("kiln-predictions-{id}.csv"));
    Ok(super::download("text/csv; charset=utf-8", &name, bytes))
}
