//! `/datasets`: upload, list, read, delete; profile, rows, quality report,
//! recipe and its preview, target information and column charts; bias
//! reports and Explore.

use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{ApiJson, ApiQuery, bias_answer, listed, svg_response, with_store};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::storage::Received;
use crate::{charts, datasets};
use data::ingest;

pub(super) fn router() -> Router<AppState> {
    Router::new()
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
        .route("/datasets/{id}/fairness", get(dataset_fairness))
        .route("/datasets/{id}/facets", get(suggested_facets))
        .route("/datasets/{id}/explore", get(explore))
}

/// A display name from an uploaded file name: no directories, no extension.
/// How a received file is read: the server's limits, a compressed file
/// expanding to at most the upload limit, and `nulls` read as missing.
pub(super) fn read_options(st: &AppState, nulls: Vec<String>) -> ingest::ReadOptions {
    let mut limits = st.config.limits.clone();
    limits.max_expanded_bytes = st.config.max_upload_bytes;
    ingest::ReadOptions { limits, nulls }
}

pub(super) fn display_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let lower = base.to_ascii_lowercase();
    let known = [
        ".csv.gz", ".tsv.gz", ".csv", ".tsv", ".txt", ".gz", ".zip", ".xlsx", ".xlsm", ".xls",
        ".parquet", ".arrow", ".ipc", ".feather", ".jsonl", ".ndjson", ".json",
    ];
    let base = known
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map_or(base, |ext| &base[..base.len() - ext.len()]);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() {
        "dataset".into()
    } else {
        clean.trim().to_owned()
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// `latin1` reads the file as Latin-1 / Windows-1252; UTF-8 otherwise.
    #[serde(default)]
    encoding: Option<String>,
    /// Extra tokens read as missing, comma-separated (`?nulls=-999,unknown`),
    /// besides `ingest::NULL_TOKENS`.
    #[serde(default)]
    nulls: Option<String>,
    /// The sheet to read from an Excel workbook with several.
    #[serde(default)]
    sheet: Option<String>,
}

#[utoipa::path(post, path = "/api/datasets", tag = "datasets", params(UploadQuery), request_body(content = super::openapi::Upload, content_type = "multipart/form-data"), responses((status = 201, description = "The file, stored and profiled", body = api::DatasetSummary)))]
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
    let (file, file_label) = receive_file(&st, &mut multipart).await?;
    let name = display_name(&file_label);
    let options = read_options(&st, nulls);
    let sheet = q.sheet.filter(|s| !s.is_empty());
    let detail = with_store(&st, move |store| {
        // Latin-1 is a text encoding: a workbook or Parquet file keeps its bytes.
        let file = if latin1 && file.format(&file_label)? == ingest::Format::Csv {
            store.transcode_latin1(file)?
        } else {
            file
        };
        datasets::create(store, &name, &file_label, file, &options, sheet, None)
    })
    .await?;
    tracing::info!(id = %detail.summary.id, rows = detail.summary.rows, "dataset uploaded");
    Ok((StatusCode::CREATED, Json(detail.summary)))
}

/// Streams the multipart field `file` into a new upload of the store under
/// the upload size limit and the idle timeout; returns it with the
/// client's file name (without control characters). On failure the upload
/// is dropped, which removes it.
pub(super) async fn receive_file(
    st: &AppState,
    multipart: &mut Multipart,
) -> AppResult<(Received, String)> {
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
        let mut upload = st.store.upload().await?;
        let idle = st.config.upload_idle_timeout;
        loop {
            let chunk = match tokio::time::timeout(idle, field.chunk()).await {
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return Err(bad(e)),
                Err(_) => {
                    return Err(AppError::Timeout(format!(
                        "the upload sent nothing for {} s and was abandoned",
                        idle.as_secs()
                    )));
                }
            };
            if upload.size() + chunk.len() as u64 > limit {
                return Err(AppError::TooLarge {
                    limit_mb: limit >> 20,
                });
            }
            upload.write(&chunk).await?;
        }
        return Ok((upload.finish().await?, file_label));
    }
    Err(AppError::bad_request(
        "no_file",
        "the upload has no `file` field",
    ))
}

#[utoipa::path(get, path = "/api/datasets", tag = "datasets", responses((status = 200, description = "Every dataset that reads back; the `x-kiln-skipped` header names the rest", body = [api::DatasetSummary])))]
async fn list_datasets(State(st): State<AppState>) -> AppResult<Response> {
    Ok(listed(
        with_store(&st, |store| Ok(store.list_datasets()?)).await?,
    ))
}

#[utoipa::path(get, path = "/api/datasets/{id}", tag = "datasets", params(("id" = String, Path, description = "Dataset id")), responses((status = 200, body = api::DatasetDetail)))]
async fn get_dataset(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::DatasetDetail>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.dataset(&id)?)).await?,
    ))
}

#[utoipa::path(get, path = "/api/datasets/{id}/profile", tag = "datasets", params(("id" = String, Path, description = "Dataset id")), responses((status = 200, body = api::Profile)))]
async fn get_profile(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::Profile>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.profile(&id)?)).await?,
    ))
}

#[utoipa::path(delete, path = "/api/datasets/{id}", tag = "datasets", params(("id" = String, Path, description = "Dataset id")), responses((status = 204, description = "Deleted")))]
async fn delete_dataset(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    with_store(&st, move |store| Ok(store.delete_dataset(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RowsQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    50
}

#[utoipa::path(get, path = "/api/datasets/{id}/rows", tag = "datasets", params(("id" = String, Path, description = "Dataset id"), RowsQuery), responses((status = 200, body = api::RowsPage)))]
async fn get_rows(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RowsQuery>,
) -> AppResult<Json<api::RowsPage>> {
    let (offset, limit) = (q.offset as usize, q.limit.min(1000) as usize);
    let page = with_store(&st, move |store| datasets::rows(store, &id, offset, limit)).await?;
    Ok(Json(page))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct QualityQuery {
    /// Adds the target checks (imbalance, leakage) for this column.
    #[serde(default)]
    target: Option<String>,
    /// Checks the dataset after its latest recipe.
    #[serde(default)]
    prepared: bool,
}

#[utoipa::path(get, path = "/api/datasets/{id}/quality", tag = "datasets", params(("id" = String, Path, description = "Dataset id"), QualityQuery), responses((status = 200, body = api::QualityReport)))]
async fn quality_report(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<QualityQuery>,
) -> AppResult<Json<api::QualityReport>> {
    let target = q.target.filter(|t| !t.is_empty());
    let report = with_store(&st, move |store| {
        datasets::quality(store, &id, q.prepared, target.as_deref())
    })
    .await?;
    Ok(Json(report))
}

/// The pre-training bias report of one facet (`fairness::BiasQuery`).
#[utoipa::path(get, path = "/api/datasets/{id}/fairness", tag = "fairness", params(("id" = String, Path, description = "Dataset id"), super::openapi::BiasParams), responses((status = 200, description = "Bias before training, as JSON, a printable page or its chart (`format`)", content((api::BiasReport = "application/json"), (String = "text/html"), (String = "image/svg+xml")))))]
async fn dataset_fairness(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    bias_answer(&st, raw, move |store, q| {
        let title = format!("Bias before training: {}", store.dataset(&id)?.summary.name);
        Ok((title, crate::fairness::dataset_report(store, &id, q)?))
    })
    .await
}

/// Columns that look like sensitive attributes.
#[utoipa::path(get, path = "/api/datasets/{id}/facets", tag = "fairness", params(("id" = String, Path, description = "Dataset id")), responses((status = 200, body = [api::SuggestedFacet])))]
async fn suggested_facets(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<api::SuggestedFacet>>> {
    let facets = with_store(&st, move |store| crate::fairness::suggest(store, &id)).await?;
    Ok(Json(facets))
}

/// Segments, a map of the rows and unusual rows (`explore::parse`).
#[utoipa::path(get, path = "/api/datasets/{id}/explore", tag = "datasets", params(("id" = String, Path, description = "Dataset id"), super::openapi::ExploreParams), responses((status = 200, description = "Segments and a map of the rows, or the rows with their segment as CSV (`format=csv`)", content((api::Explore = "application/json"), (String = "text/csv")))))]
async fn explore(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    use axum::response::IntoResponse;
    let (q, csv) = crate::explore::parse(raw.as_deref())?;
    if csv {
        let name = format!("kiln-segments-{id}.csv");
        let bytes = with_store(&st, move |store| crate::explore::rows_csv(store, &id, &q)).await?;
        return Ok(super::download("text/csv; charset=utf-8", &name, bytes));
    }
    let found = with_store(&st, move |store| crate::explore::explore(store, &id, &q)).await?;
    Ok(Json(found).into_response())
}

/// Recipes longer than this are refused.
const MAX_RECIPE_STEPS: usize = 200;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RecipeQuery {
    #[serde(default)]
    version: Option<u32>,
}

#[utoipa::path(get, path = "/api/datasets/{id}/recipe", tag = "datasets", params(("id" = String, Path, description = "Dataset id"), RecipeQuery), responses((status = 200, body = api::RecipeVersion)))]
async fn get_recipe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RecipeQuery>,
) -> AppResult<Json<api::RecipeVersion>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.recipe(&id, q.version)?)).await?,
    ))
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
#[utoipa::path(put, path = "/api/datasets/{id}/recipe", tag = "datasets", params(("id" = String, Path, description = "Dataset id")), request_body = api::Recipe, responses((status = 200, description = "Saved as the next version", body = api::RecipeVersion)))]
async fn put_recipe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(recipe): ApiJson<api::Recipe>,
) -> AppResult<Json<api::RecipeVersion>> {
    let key = id.clone();
    let saved = with_store(&st, move |store| {
        store.require_dataset(&key)?;
        check_recipe_length(&recipe)?;
        datasets::save_recipe(store, &key, &recipe)
    })
    .await?;
    tracing::info!(dataset = %id, version = saved.version, "recipe saved");
    Ok(Json(saved))
}

#[utoipa::path(post, path = "/api/datasets/{id}/recipe/preview", tag = "datasets", params(("id" = String, Path, description = "Dataset id")), request_body = api::Recipe, responses((status = 200, body = api::RecipePreview)))]
async fn preview_recipe(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(recipe): ApiJson<api::Recipe>,
) -> AppResult<Json<api::RecipePreview>> {
    let preview = with_store(&st, move |store| {
        store.require_dataset(&id)?;
        check_recipe_length(&recipe)?;
        datasets::preview(store, &id, &recipe)
    })
    .await?;
    Ok(Json(preview))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TargetQuery {
    column: String,
}

#[utoipa::path(get, path = "/api/datasets/{id}/target", tag = "datasets", params(("id" = String, Path, description = "Dataset id"), TargetQuery), responses((status = 200, body = api::TargetInfo)))]
async fn target_info(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TargetQuery>,
) -> AppResult<Json<api::TargetInfo>> {
    let info = with_store(&st, move |store| {
        datasets::target_info(store, &id, &q.column)
    })
    .await?;
    Ok(Json(info))
}

/// `column-{i}.svg`: the distribution of the dataset's `i`-th column, from its profile.
#[utoipa::path(get, path = "/api/datasets/{id}/charts/{name}", tag = "datasets", params(("id" = String, Path, description = "Dataset id"), ("name" = String, Path, description = "`column-{i}.svg`: the distribution of the `i`-th column", example = "column-0.svg")), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
async fn dataset_chart(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let svg = with_store(&st, move |store| {
        let profile = store.profile(&id)?;
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
