//! The `/api` router. Handlers are thin: parse, call a domain function
//! (CPU and file work on `spawn_blocking`), map the result.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, AppResult};
use crate::storage::{is_valid_id, new_id};
use crate::{AppState, charts, datasets, models, samples, time};
use data::{ingest, profile};

/// Rows accepted by one JSON predict call.
const MAX_PREDICT_ROWS: usize = 10_000;
/// Rows accepted by one explain call.
const MAX_EXPLAIN_ROWS: usize = 100;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/login", post(crate::guard::login))
        .route("/samples", get(list_samples))
        .route("/samples/{name}", post(load_sample))
        .route(
            "/datasets",
            get(list_datasets)
                .post(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/datasets/{id}", get(get_dataset).delete(delete_dataset))
        .route("/datasets/{id}/profile", get(get_profile))
        .route("/datasets/{id}/rows", get(get_rows))
        .route("/datasets/{id}/quality", get(quality_report))
        .route("/datasets/{id}/recipe", get(get_recipe).put(put_recipe))
        .route("/datasets/{id}/charts/{name}", get(dataset_chart))
        .route("/datasets/{id}/recipe/preview", post(preview_recipe))
        .route("/datasets/{id}/target", get(target_info))
        .route("/builds", get(list_builds).post(create_build))
        .route("/builds/{id}", get(get_build).delete(delete_build))
        .route("/builds/{id}/events", get(build_events))
        .route("/builds/{id}/cancel", post(cancel_build))
        .route("/builds/{id}/rerun", post(rerun_build))
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
        .fallback(|| async { AppError::NotFound("this API route".into()) })
        .with_state(state)
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

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await?
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

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

async fn load_sample(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<(StatusCode, Json<api::DatasetSummary>)> {
    let sample =
        samples::find(&name).ok_or_else(|| AppError::NotFound(format!("sample `{name}`")))?;
    let store = Arc::clone(&st.store);
    let options = ingest::ReadOptions {
        limits: st.config.limits.clone(),
        nulls: Vec::new(),
    };
    let detail = blocking(move || {
        let tmp = store.temp_path();
        std::fs::write(&tmp, sample.bytes).map_err(|e| AppError::Internal(e.to_string()))?;
        datasets::create(
            &store,
            sample.name,
            &format!("{}.csv", sample.name),
            tmp,
            sample.bytes.len() as u64,
            &options,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(detail.summary)))
}

/// A display name from an uploaded file name: no directories, no extension.
fn display_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let base = base
        .strip_suffix(".csv")
        .or_else(|| base.strip_suffix(".CSV"))
        .unwrap_or(base);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() {
        "dataset".into()
    } else {
        clean.trim().to_owned()
    }
}

#[derive(Debug, serde::Deserialize)]
struct UploadQuery {
    /// `latin1` reads the file as Latin-1 / Windows-1252; UTF-8 otherwise.
    #[serde(default)]
    encoding: Option<String>,
    /// Extra tokens read as missing, comma-separated (`?nulls=-999,unknown`),
    /// besides `ingest::NULL_TOKENS`.
    #[serde(default)]
    nulls: Option<String>,
}

async fn upload(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<api::DatasetSummary>)> {
    let latin1 = match q.encoding.as_deref() {
        None | Some("utf-8" | "utf8") => false,
        Some("latin1" | "latin-1" | "windows-1252") => true,
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid_encoding",
                format!("unknown encoding `{other}`: use utf-8 or latin1"),
            ));
        }
    };
    let nulls = match q.nulls.as_deref() {
        None => Vec::new(),
        Some(list) => ingest::parse_null_tokens(list)
            .map_err(|e| AppError::bad_request("invalid_nulls", e))?,
    };
    let Received {
        tmp,
        file_label,
        size,
    } = receive_file(&st, &mut multipart).await?;
    let name = display_name(&file_label);
    let store = Arc::clone(&st.store);
    let options = ingest::ReadOptions {
        limits: st.config.limits.clone(),
        nulls,
    };
    let detail = blocking(move || {
        let tmp = if latin1 {
            datasets::transcode_latin1(&store, tmp)?
        } else {
            tmp
        };
        datasets::create(&store, &name, &file_label, tmp, size, &options)
    })
    .await?;
    tracing::info!(id = %detail.summary.id, rows = detail.summary.rows, "dataset uploaded");
    Ok((StatusCode::CREATED, Json(detail.summary)))
}

/// An uploaded file, written to `tmp/`.
struct Received {
    tmp: std::path::PathBuf,
    /// The client's file name without control characters.
    file_label: String,
    size: u64,
}

/// Streams the multipart field `file` to a temporary file under the upload
/// size limit and the idle timeout; nothing is left behind on failure.
async fn receive_file(st: &AppState, multipart: &mut Multipart) -> AppResult<Received> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request(
            "invalid_upload",
            format!("the upload could not be read: {}", e.body_text()),
        )
    };
    let limit = st.config.max_upload_bytes;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let file_label: String = field
            .file_name()
            .unwrap_or("upload.csv")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let tmp = st.store.temp_path();
        let mut file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut size = 0u64;
        let idle = st.config.upload_idle_timeout;
        loop {
            let chunk = match tokio::time::timeout(idle, field.chunk()).await {
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(bad(e));
                }
                Err(_) => {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(AppError::Timeout(format!(
                        "the upload sent nothing for {} s and was abandoned",
                        idle.as_secs()
                    )));
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                drop(file);
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(AppError::TooLarge {
                    limit_mb: limit >> 20,
                });
            }
            if let Err(e) = file.write_all(&chunk).await {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(AppError::Internal(e.to_string()));
            }
        }
        if let Err(e) = file.flush().await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(AppError::Internal(e.to_string()));
        }
        drop(file);
        return Ok(Received {
            tmp,
            file_label,
            size,
        });
    }
    Err(AppError::bad_request(
        "no_file",
        "the upload has no `file` field",
    ))
}

/// The header naming the stored records a list left out because they do
/// not read back (comma-separated ids); absent when there are none. The
/// list itself stays a bare JSON array.
pub const SKIPPED_HEADER: &str = "x-kiln-skipped";

/// A list response: the readable records, and [`SKIPPED_HEADER`] for the rest.
fn listed<T: serde::Serialize>(listed: crate::storage::Listed<T>) -> Response {
    let mut response = Json(listed.items).into_response();
    if !listed.unreadable.is_empty() {
        // Ids are 32 hex digits, always a valid header value.
        if let Ok(v) = header::HeaderValue::from_str(&listed.unreadable.join(",")) {
            response.headers_mut().insert(SKIPPED_HEADER, v);
        }
    }
    response
}

async fn list_datasets(State(st): State<AppState>) -> AppResult<Response> {
    Ok(listed(st.store.list_datasets()?))
}

async fn get_dataset(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::DatasetDetail>> {
    Ok(Json(st.store.dataset(&id)?))
}

async fn get_profile(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::Profile>> {
    Ok(Json(st.store.dataset(&id)?.profile))
}

async fn delete_dataset(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    st.store.delete_dataset(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize)]
struct RowsQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    50
}

async fn get_rows(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RowsQuery>,
) -> AppResult<Json<api::RowsPage>> {
    st.store.dataset(&id)?;
    let path = st.store.dataset_path(&id);
    let page = blocking(move || {
        let frame = ingest::read_parquet(&path)?;
        profile::rows_page(&frame, q.offset as usize, q.limit.min(1000) as usize)
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await?;
    Ok(Json(page))
}

#[derive(Debug, serde::Deserialize)]
struct QualityQuery {
    /// Adds the target checks (imbalance, leakage) for this column.
    #[serde(default)]
    target: Option<String>,
    /// Checks the dataset after its latest recipe.
    #[serde(default)]
    prepared: bool,
}

async fn quality_report(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<QualityQuery>,
) -> AppResult<Json<api::QualityReport>> {
    let detail = st.store.dataset(&id)?;
    let target = q.target.filter(|t| !t.is_empty());
    let recipe = if q.prepared {
        Some(st.store.recipe(&id, None)?.recipe)
    } else {
        if let Some(t) = &target {
            datasets::require_column(&detail, t)?;
        }
        None
    };
    let path = st.store.dataset_path(&id);
    let report =
        blocking(move || datasets::quality(&path, recipe.as_ref(), target.as_deref())).await?;
    Ok(Json(report))
}

/// Recipes longer than this are refused.
const MAX_RECIPE_STEPS: usize = 200;

#[derive(Debug, serde::Deserialize)]
struct RecipeQuery {
    #[serde(default)]
    version: Option<u32>,
}

async fn get_recipe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RecipeQuery>,
) -> AppResult<Json<api::RecipeVersion>> {
    Ok(Json(st.store.recipe(&id, q.version)?))
}

fn check_recipe_length(recipe: &api::Recipe) -> AppResult<()> {
    if recipe.steps.len() > MAX_RECIPE_STEPS {
        return Err(AppError::unprocessable(
            "recipe_too_long",
            format!("a recipe has at most {MAX_RECIPE_STEPS} steps"),
        ));
    }
    Ok(())
}

/// Validates the recipe on the dataset and saves it as a new version.
async fn put_recipe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(recipe): ApiJson<api::Recipe>,
) -> AppResult<Json<api::RecipeVersion>> {
    st.store.dataset(&id)?;
    check_recipe_length(&recipe)?;
    let path = st.store.dataset_path(&id);
    let checked = recipe.clone();
    blocking(move || datasets::prepared(&path, &checked, None).map(drop)).await?;
    let saved = st.store.save_recipe(&id, &recipe, &time::now_rfc3339())?;
    tracing::info!(dataset = %id, version = saved.version, "recipe saved");
    Ok(Json(saved))
}

async fn preview_recipe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(recipe): ApiJson<api::Recipe>,
) -> AppResult<Json<api::RecipePreview>> {
    st.store.dataset(&id)?;
    check_recipe_length(&recipe)?;
    let path = st.store.dataset_path(&id);
    let preview = blocking(move || {
        let frame = ingest::read_parquet(&path)?;
        Ok(data::recipe::preview(frame, &recipe)?)
    })
    .await?;
    Ok(Json(preview))
}

#[derive(Debug, serde::Deserialize)]
struct TargetQuery {
    column: String,
}

async fn target_info(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TargetQuery>,
) -> AppResult<Json<api::TargetInfo>> {
    datasets::require_column(&st.store.dataset(&id)?, &q.column)?;
    let path = st.store.dataset_path(&id);
    let info = blocking(move || datasets::target_info(&path, &q.column)).await?;
    Ok(Json(info))
}

async fn create_build(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<api::BuildRequest>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    st.store.dataset(&req.dataset_id)?;
    if !(5..=86_400).contains(&req.time_budget_secs) {
        return Err(AppError::unprocessable(
            "invalid_budget",
            "the time budget must be between 5 seconds and 24 hours",
        ));
    }
    let recipe = st.store.recipe(&req.dataset_id, req.recipe_version)?;
    let path = st.store.dataset_path(&req.dataset_id);
    let checked = req.clone();
    blocking(move || {
        let applied = datasets::prepared(&path, &recipe.recipe, Some(&checked.target))?;
        data::convert::check_build_columns(&applied.frame, &checked.target, &checked.exclude)?;
        Ok(())
    })
    .await?;
    let mut req = req;
    req.recipe_version = Some(recipe.version);
    queue_build(&st, req).map(|b| (StatusCode::ACCEPTED, Json(b)))
}

/// Saves a new build and hands it to the workers.
fn queue_build(st: &AppState, req: api::BuildRequest) -> AppResult<api::Build> {
    let build = api::Build {
        id: new_id(),
        dataset_id: req.dataset_id,
        target: req.target,
        task: req.task,
        state: api::BuildState::Queued,
        created: time::now_rfc3339(),
        time_budget_secs: req.time_budget_secs,
        seed: req.seed,
        recipe_version: req.recipe_version.unwrap_or(0),
        excluded: req.exclude,
        metric: None,
        higher_is_better: false,
        validation: None,
        elapsed_secs: 0.0,
        trials_done: 0,
        message: "waiting for a free worker".into(),
        leaderboard: Vec::new(),
        model_id: None,
        error: None,
    };
    if st.jobs.live() >= st.config.max_live_builds {
        return Err(AppError::TooMany(format!(
            "{} builds are already queued or running; wait for one to finish or cancel one",
            st.jobs.live()
        )));
    }
    st.store.save_build(&build)?;
    st.jobs.submit(build.clone());
    tracing::info!(id = %build.id, target = %build.target, "build queued");
    Ok(build)
}

/// Starts a new build with the settings of an earlier one (for example an interrupted one).
async fn rerun_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    let old = st.store.build(&id)?;
    if !old.state.is_final() {
        return Err(AppError::Conflict(format!(
            "build {id} is still {}",
            old.state.label()
        )));
    }
    st.store
        .dataset(&old.dataset_id)
        .map_err(|_| AppError::Conflict("the dataset of this build was deleted".into()))?;
    let req = api::BuildRequest {
        dataset_id: old.dataset_id,
        target: old.target,
        task: old.task,
        time_budget_secs: old.time_budget_secs,
        seed: old.seed,
        exclude: old.excluded,
        recipe_version: Some(old.recipe_version),
    };
    queue_build(&st, req).map(|b| (StatusCode::ACCEPTED, Json(b)))
}

async fn list_builds(State(st): State<AppState>) -> AppResult<Response> {
    Ok(listed(st.store.list_builds()?))
}

/// Deletes a finished build's record (readable or not); its model stays.
async fn delete_build(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<StatusCode> {
    if st.jobs.is_live(&id) {
        return Err(AppError::Conflict(format!(
            "build {id} is still queued or running; cancel it first"
        )));
    }
    st.store.delete_build(&id)?;
    tracing::info!(%id, "build deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn get_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::Build>> {
    Ok(Json(st.store.build(&id)?))
}

async fn build_events(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let stored = st.store.build(&id)?;
    let mut rx = st.jobs.subscribe(&id);
    let first = match &mut rx {
        Some(r) => r.borrow_and_update().clone(),
        None => st.store.build(&id).unwrap_or(stored),
    };
    let stream = futures_util::stream::unfold(
        (rx, Some(first), false),
        |(mut rx, pending, done)| async move {
            if done {
                return None;
            }
            let build = match (pending, rx.as_mut()) {
                (Some(b), _) => b,
                (None, Some(r)) => {
                    r.changed().await.ok()?;
                    r.borrow_and_update().clone()
                }
                (None, None) => return None,
            };
            let finished = build.state.is_final();
            let event = Event::default()
                .event("build")
                .json_data(&build)
                .unwrap_or_else(|_| Event::default().event("error"));
            Some((Ok(event), (rx, None, finished)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn cancel_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    let build = st.store.build(&id)?;
    if st.jobs.cancel(&id) {
        return Ok((StatusCode::ACCEPTED, Json(build)));
    }
    Err(AppError::Conflict(format!(
        "build {id} is not running (it is {})",
        build.state.label()
    )))
}

async fn get_model(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::ModelSummary>> {
    Ok(Json(st.store.model(&id)?))
}

/// Deletes a model's record (readable or not) and its artifact. Scored
/// files it made stay downloadable.
async fn delete_model(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<StatusCode> {
    st.store.delete_model(&id)?;
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
    let store = Arc::clone(&st.store);
    let key = id.clone();
    let bytes = blocking(move || Ok(store.model_bytes(&key)?)).await?;
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
    let store = Arc::clone(&st.store);
    let key = id.to_owned();
    let loaded = blocking(move || {
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
    let store = Arc::clone(&st.store);
    // Reading the store and drawing are blocking work.
    let svg = blocking(move || chart_svg(&store, &id, &name)).await?;
    Ok(svg_response(svg))
}

/// `column-{i}.svg`: the distribution of the dataset's `i`-th column, from its profile.
async fn dataset_chart(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let store = Arc::clone(&st.store);
    let svg = blocking(move || {
        let profile = store.dataset(&id)?.profile;
        let unknown = || AppError::NotFound(format!("chart `{name}`"));
        let i: usize = name
            .strip_prefix("column-")
            .and_then(|s| s.strip_suffix(".svg"))
            .and_then(|s| s.parse().ok())
            .ok_or_else(unknown)?;
        let c = profile.columns.get(i).ok_or_else(unknown)?;
        let sample = profile
            .sampled_rows
            .map(|n| format!(" (sample of {n} rows)"))
            .unwrap_or_default();
        if let Some(h) = &c.histogram {
            return charts::histogram(&format!("{}{sample}", c.name), &c.name, h);
        }
        if let Some(b) = &c.bars {
            let mut items: Vec<(String, f64)> = b
                .top
                .iter()
                .map(|v| (v.value.clone(), v.count as f64))
                .collect();
            if b.other > 0 {
                items.push((format!("{} other values", b.other_values), b.other as f64));
            }
            return charts::bars(&c.name, "rows", &items);
        }
        Err(AppError::NotFound(format!(
            "a chart of `{}`: it has no histogram or category counts",
            c.name
        )))
    })
    .await?;
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

fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response()
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
    let Received {
        tmp, file_label, ..
    } = receive_file(&st, &mut multipart).await?;
    let store = Arc::clone(&st.store);
    let report = blocking(move || {
        let pid = new_id();
        let out_tmp = store.temp_path();
        let result = (|| {
            let file =
                std::fs::File::create(&out_tmp).map_err(|e| AppError::Internal(e.to_string()))?;
            let mut writer = std::io::BufWriter::new(file);
            let outcome = models::predict_csv(&model, &tmp, &mut writer)
                .map_err(|e| datasets::name_file(&file_label, e))?;
            std::io::Write::flush(&mut writer).map_err(|e| AppError::Internal(e.to_string()))?;
            drop(writer);
            store.persist(&out_tmp, &store.predictions_path(&pid))?;
            Ok(api::BatchReport {
                download: format!("/api/predictions/{pid}"),
                id: pid,
                file_name: file_label.clone(),
                rows: outcome.rows as u64,
                extra_columns: outcome.extra_columns,
                warnings: outcome.warnings,
            })
        })();
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&out_tmp);
        result
    })
    .await?;
    tracing::info!(model = %id, rows = report.rows, "batch scored");
    Ok((StatusCode::CREATED, Json(report)))
}

async fn download_predictions(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    if !is_valid_id(&id) {
        return Err(AppError::NotFound(format!("predictions {id}")));
    }
    let path = st.store.predictions_path(&id);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::NotFound(format!("predictions {id}")))?;
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
