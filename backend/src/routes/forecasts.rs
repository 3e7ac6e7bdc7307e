//! `/api/datasets/{id}/forecasts`, `/api/datasets/{id}/series` and
//! `/api/forecasts/…`: start a forecast build (checked first, so a bad
//! request stores nothing), read it, its items, charts and CSV, download
//! its forecaster, and extend the forecaster from a new history.

use std::sync::Arc;

use automl::forecast::artifact::{ForecastArtifact, ForecastColumns};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use data::ingest;

use super::datasets::receive_file;
use super::{ApiJson, ApiQuery, download, listed, svg_response, with_store};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::forecast::{self, Stored, charts};
use crate::storage::Store;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/datasets/{id}/forecasts",
            get(dataset_forecasts).post(start_forecast),
        )
        .route("/datasets/{id}/series", get(series_overview))
        .route("/datasets/{id}/series/charts/{name}", get(series_chart))
        .route("/forecasts", get(list_forecasts))
        .route("/forecasts/{id}", get(get_forecast).delete(delete_forecast))
        .route("/forecasts/{id}/items", get(forecast_items))
        .route("/forecasts/{id}/charts/{name}", get(forecast_chart))
        .route("/forecasts/{id}/forecast.csv", get(forecast_csv))
        .route("/forecasts/{id}/artifact", get(download_forecaster))
        .route(
            "/forecasts/{id}/extend",
            post(extend).layer(DefaultBodyLimit::disable()),
        )
}

#[utoipa::path(post, path = "/api/datasets/{id}/forecasts", tag = "forecasts", params(("id" = String, Path, description = "Dataset id")), request_body = api::ForecastRequest, responses((status = 202, description = "Checked and queued", body = api::Forecast), (status = 422, description = "The data cannot be forecast as asked: unreadable or mixed-up timestamps, a target that is not numeric, a horizon longer than the history allows, too many items", body = api::ApiError)))]
async fn start_forecast(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::ForecastRequest>,
) -> AppResult<(StatusCode, Json<api::Forecast>)> {
    let (jobs, max_live) = (Arc::clone(&st.jobs), st.config.max_live_builds);
    let forecast = with_store(&st, move |store| {
        let plan = forecast::plan(store, &id, req)?;
        jobs.submit_forecast(plan, max_live)
    })
    .await?;
    tracing::info!(id = %forecast.id, items = forecast.items, "forecast queued");
    Ok((StatusCode::ACCEPTED, Json(forecast)))
}

#[utoipa::path(get, path = "/api/datasets/{id}/forecasts", tag = "forecasts", params(("id" = String, Path, description = "Dataset id")), responses((status = 200, description = "The dataset's forecasts, newest first", body = [api::Forecast])))]
async fn dataset_forecasts(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let found = with_store(&st, move |store| Ok(store.list_forecasts(Some(&id))?)).await?;
    Ok(listed(found))
}

#[utoipa::path(get, path = "/api/forecasts", tag = "forecasts", responses((status = 200, description = "Every forecast, newest first", body = [api::Forecast])))]
async fn list_forecasts(State(st): State<AppState>) -> AppResult<Response> {
    let found = with_store(&st, move |store| Ok(store.list_forecasts(None)?)).await?;
    Ok(listed(found))
}

#[utoipa::path(get, path = "/api/forecasts/{id}", tag = "forecasts", params(("id" = String, Path, description = "Forecast id")), responses((status = 200, body = api::Forecast)))]
async fn get_forecast(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::Forecast>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.forecast(&id)?)).await?,
    ))
}

#[utoipa::path(delete, path = "/api/forecasts/{id}", tag = "forecasts", params(("id" = String, Path, description = "Forecast id")), responses((status = 204, description = "Deleted"), (status = 409, description = "It is still queued or running", body = api::ApiError)))]
async fn delete_forecast(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    if st.jobs.is_forecasting(&id) {
        return Err(AppError::Conflict(format!(
            "forecast {id} is still queued or running; delete it when it has finished"
        )));
    }
    with_store(&st, move |store| Ok(store.delete_forecast(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The results of a finished forecast.
fn stored(store: &Store, id: &str) -> AppResult<Stored> {
    Stored::from_json(&store.forecast_result(id)?, id)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ItemsQuery {
    /// Only items whose name contains this (any case).
    #[serde(default)]
    search: String,
    /// At most this many (default 50, at most 1000).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/forecasts/{id}/items", tag = "forecasts", params(("id" = String, Path, description = "Forecast id"), ItemsQuery), responses((status = 200, description = "The items forecast, in table order", body = [api::ForecastItem])))]
async fn forecast_items(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ItemsQuery>,
) -> AppResult<Json<Vec<api::ForecastItem>>> {
    let limit = q.limit.unwrap_or(50).min(1000);
    let items = with_store(&st, move |store| {
        Ok(stored(store, &id)?.items(&q.search, limit))
    })
    .await?;
    Ok(Json(items))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ChartQuery {
    /// The item to draw (default: the first).
    item: Option<String>,
}

/// `forecast.svg` (one item: history, backtests, P50 and band) or `importance.svg`.
#[utoipa::path(get, path = "/api/forecasts/{id}/charts/{name}", tag = "forecasts", params(("id" = String, Path, description = "Forecast id"), ("name" = String, Path, description = "`forecast.svg` or `importance.svg`"), ChartQuery), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
async fn forecast_chart(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<ChartQuery>,
) -> AppResult<Response> {
    let svg = with_store(&st, move |store| match name.as_str() {
        "forecast.svg" => {
            let s = stored(store, &id)?;
            let item = match &q.item {
                None => s.items.first(),
                Some(name) => s.items.iter().find(|i| &i.item == name),
            }
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "item “{}” in forecast {id}",
                    q.item.clone().unwrap_or_default()
                ))
            })?;
            charts::forecast(item, s.frequency, &s.quantiles)
        }
        "importance.svg" => {
            let f = store.forecast(&id)?;
            if f.importance.is_empty() {
                return Err(AppError::NotFound(format!(
                    "the importance of forecast {id} (its forecaster has no global tree model)"
                )));
            }
            let bars: Vec<(String, f64)> = f
                .importance
                .iter()
                .take(15)
                .map(|i| (i.feature.clone(), i.value))
                .collect();
            crate::charts::bars(
                "Global tree model: feature importance",
                "mean |SHAP| (scaled target)",
                &bars,
            )
        }
        other => Err(AppError::NotFound(format!("chart {other}"))),
    })
    .await?;
    Ok(svg_response(svg))
}

#[utoipa::path(get, path = "/api/forecasts/{id}/forecast.csv", tag = "forecasts", params(("id" = String, Path, description = "Forecast id")), responses((status = 200, description = "item, timestamp and one column per quantile", body = String, content_type = "text/csv")))]
async fn forecast_csv(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| stored(store, &key)?.csv()).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("kiln-forecast-{id}.csv"),
        bytes,
    ))
}

#[utoipa::path(get, path = "/api/forecasts/{id}/artifact", tag = "forecasts", params(("id" = String, Path, description = "Forecast id")), responses((status = 200, description = "The forecaster file, which `kiln forecast` and `POST /api/forecasts/{id}/extend` read", body = Object, content_type = "application/json")))]
async fn download_forecaster(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let key = id.clone();
    let bytes = with_store(&st, move |store| Ok(store.forecaster_bytes(&key)?)).await?;
    Ok(download(
        "application/json",
        &format!("kiln-forecaster-{id}.json"),
        bytes,
    ))
}

/// Forecasts a new history (a file in any upload format, holding the
/// forecaster's timestamp, target and item columns) with the forecaster;
/// the CSV is kept for download.
#[utoipa::path(post, path = "/api/forecasts/{id}/extend", tag = "forecasts", params(("id" = String, Path, description = "Forecast id")), request_body(content = super::openapi::Upload, content_type = "multipart/form-data"), responses((status = 201, description = "Forecast; the CSV is at `download`", body = api::ForecastExtension)))]
async fn extend(
    State(st): State<AppState>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<api::ForecastExtension>)> {
    let key = id.clone();
    let artifact = with_store(&st, move |store| {
        let bytes = store.forecaster_bytes(&key)?;
        ForecastArtifact::from_json(&bytes)
            .map_err(|e| AppError::Internal(format!("stored forecaster {key}: {e}")))
    })
    .await?;
    let (file, file_label) = receive_file(&st, &mut multipart).await?;
    let report = with_store(&st, move |store| {
        let done = (|| -> AppResult<_> {
            let frame = file
                .read(&file_label, &ingest::ReadOptions::default(), None)?
                .frame;
            drop(file);
            let mut out = store.new_file()?;
            let (items, notes) = forecast::extend(&artifact, &frame, &mut out)?;
            Ok((store.save_predictions(out)?, items, notes))
        })();
        let (pid, items, notes) = done.map_err(|e| crate::datasets::name_file(&file_label, e))?;
        Ok(api::ForecastExtension {
            download: format!("/api/predictions/{pid}?name=forecast.csv"),
            file_name: file_label,
            items: items as u32,
            notes,
        })
    })
    .await?;
    tracing::info!(forecast = %id, items = report.items, "history forecast");
    Ok((StatusCode::CREATED, Json(report)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SeriesQuery {
    /// The timestamp column.
    time: String,
    /// The numeric column.
    target: String,
    /// The column naming each series.
    item_column: Option<String>,
    /// The series to draw (charts; default: the first).
    item: Option<String>,
    /// Season length in steps (default: from the frequency).
    season: Option<u32>,
}

impl SeriesQuery {
    fn columns(&self) -> ForecastColumns {
        ForecastColumns {
            time: self.time.clone(),
            target: self.target.clone(),
            item: self.item_column.clone().filter(|c| !c.is_empty()),
            ..ForecastColumns::default()
        }
    }

    fn season(&self) -> AppResult<Option<usize>> {
        forecast::check_season(self.season)
    }
}

/// The profile of the dataset read as time series.
#[utoipa::path(get, path = "/api/datasets/{id}/series", tag = "forecasts", params(("id" = String, Path, description = "Dataset id"), SeriesQuery), responses((status = 200, body = api::SeriesOverview)))]
async fn series_overview(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> AppResult<Json<api::SeriesOverview>> {
    let season = q.season()?;
    let overview = with_store(&st, move |store| {
        Ok(forecast::overview(store, &id, &q.columns(), season)?.0)
    })
    .await?;
    Ok(Json(overview))
}

/// `series.svg`, `decomposition.svg` or `acf.svg` of one series.
#[utoipa::path(get, path = "/api/datasets/{id}/series/charts/{name}", tag = "forecasts", params(("id" = String, Path, description = "Dataset id"), ("name" = String, Path, description = "`series.svg`, `decomposition.svg` or `acf.svg`"), SeriesQuery), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
async fn series_chart(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> AppResult<Response> {
    let season = q.season()?;
    let svg = with_store(&st, move |store| {
        let (_, prepared) = forecast::overview(store, &id, &q.columns(), season)?;
        let i = match &q.item {
            None => 0,
            Some(item) => prepared
                .series
                .iter()
                .position(|s| &s.item == item)
                .ok_or_else(|| AppError::NotFound(format!("series “{item}”")))?,
        };
        let s = &prepared.series[i];
        let start = automl::forecast::time::format_stamp(&prepared.starts[i]);
        let m = season.unwrap_or_else(|| prepared.frequency.season());
        match name.as_str() {
            "series.svg" => charts::series(&s.item, &s.values, &start, prepared.frequency),
            "decomposition.svg" => {
                let p = automl::forecast::profile::profile(&s.values, m);
                charts::decomposition(&s.values, &p, &start, prepared.frequency)
            }
            "acf.svg" => {
                let p = automl::forecast::profile::profile(&s.values, m);
                charts::acf(&p.acf, s.values.len(), m)
            }
            other => Err(AppError::NotFound(format!("chart {other}"))),
        }
    })
    .await?;
    Ok(svg_response(svg))
}
