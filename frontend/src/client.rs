//! All HTTP to the backend, one typed function per endpoint: JSON fetches,
//! the uploads with progress (an `XMLHttpRequest`, since `fetch` reports no
//! upload progress), the server-sent build events, and the addresses of the
//! charts and downloads that pages link to. Pages never spell an `/api` path.
//!
//! Every failure is an [`ApiError`]: the server's own error body, or one
//! made here when there is none (`unreachable`, `http_status`,
//! `bad_response`, `browser`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    EventSource, FormData, MessageEvent, ProgressEvent, Request, RequestInit, Response,
    XmlHttpRequest,
};

pub use api::ApiError;

/// A request's answer, or why there is none.
pub type ClientResult<T> = Result<T, ApiError>;

/// A list of stored records: those that read back, and the ids of those
/// that do not (named by the server in [`SKIPPED_HEADER`]), which can only
/// be deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub skipped: Vec<String>,
}

/// The response header of a list naming the records it left out.
pub const SKIPPED_HEADER: &str = "x-kiln-skipped";

/// The ids in an [`SKIPPED_HEADER`] value (comma-separated).
pub fn skipped_ids(header: Option<&str>) -> Vec<String> {
    header
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

// Datasets.

/// Every stored dataset, and the ids of those that do not read back.
pub async fn datasets() -> ClientResult<Listed<api::DatasetSummary>> {
    get_listed("/api/datasets").await
}

/// Where this server may import datasets from.
pub async fn import_sources() -> ClientResult<api::ImportSources> {
    get("/api/imports").await
}

/// The rows of a query on the server's database, as a new dataset.
pub async fn import_postgres(req: &api::PostgresImport) -> ClientResult<api::DatasetSummary> {
    post("/api/imports/postgres", req).await
}

/// An S3 object, as a new dataset.
pub async fn import_s3(req: &api::S3Import) -> ClientResult<api::DatasetSummary> {
    post("/api/imports/s3", req).await
}

/// One dataset with its profile.
pub async fn dataset(id: &str) -> ClientResult<api::DatasetDetail> {
    get(&dataset_path(id)).await
}

/// Deletes dataset `id` (readable or not); models built from it stay.
pub async fn delete_dataset(id: &str) -> ClientResult<()> {
    delete(&dataset_path(id)).await
}

/// The sample datasets that can be loaded with one click.
pub async fn samples() -> ClientResult<Vec<api::Sample>> {
    get("/api/samples").await
}

/// Stores the sample `name` as a new dataset.
pub async fn load_sample(name: &str) -> ClientResult<api::DatasetSummary> {
    post_empty(&format!("/api/samples/{}", percent_encode(name))).await
}

/// Uploads `file` as a new dataset, reporting progress in [0, 1].
pub fn upload(
    file: web_sys::File,
    latin1: bool,
    nulls: &str,
    sheet: Option<&str>,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(ClientResult<api::DatasetSummary>) + 'static,
) -> ClientResult<()> {
    upload_file(
        &upload_url(latin1, nulls, sheet),
        file,
        on_progress,
        on_done,
    )
}

/// The upload address: Latin-1 when asked, the extra missing-value tokens
/// (comma-separated, as typed) when there are any, and a workbook's sheet.
pub fn upload_url(latin1: bool, nulls: &str, sheet: Option<&str>) -> String {
    let mut params = Vec::new();
    if latin1 {
        params.push("encoding=latin1".to_owned());
    }
    if let Some(sheet) = sheet {
        params.push(format!("sheet={}", percent_encode(sheet)));
    }
    if !nulls.trim().is_empty() {
        params.push(format!("nulls={}", percent_encode(nulls.trim())));
    }
    with_query("/api/datasets".to_owned(), &params)
}

/// The data-quality report; with a `target`, its checks (imbalance,
/// leakage) too; `prepared` checks the data after its latest recipe.
pub async fn quality(
    id: &str,
    target: Option<&str>,
    prepared: bool,
) -> ClientResult<api::QualityReport> {
    get(&quality_url(id, target, prepared)).await
}

pub fn quality_url(id: &str, target: Option<&str>, prepared: bool) -> String {
    let mut params = Vec::new();
    if let Some(t) = target {
        params.push(format!("target={}", percent_encode(t)));
    }
    if prepared {
        params.push("prepared=true".to_owned());
    }
    with_query(format!("{}/quality", dataset_path(id)), &params)
}

/// What predicting `column` would be: the kind of problem, its classes.
pub async fn target_info(id: &str, column: &str) -> ClientResult<api::TargetInfo> {
    get(&format!(
        "{}/target?column={}",
        dataset_path(id),
        percent_encode(column)
    ))
    .await
}

/// The latest saved cleaning recipe (version 0 when none is saved).
pub async fn recipe(id: &str) -> ClientResult<api::RecipeVersion> {
    get(&format!("{}/recipe", dataset_path(id))).await
}

/// Saves `recipe` as the dataset's next recipe version.
pub async fn save_recipe(id: &str, recipe: &api::Recipe) -> ClientResult<api::RecipeVersion> {
    put(&format!("{}/recipe", dataset_path(id)), recipe).await
}

/// The first rows and changed column statistics before and after `recipe`.
pub async fn preview_recipe(id: &str, recipe: &api::Recipe) -> ClientResult<api::RecipePreview> {
    post(&format!("{}/recipe/preview", dataset_path(id)), recipe).await
}

/// The SVG chart of the dataset's column number `column` (histogram or bars).
pub fn column_chart_url(id: &str, column: usize) -> String {
    format!("{}/charts/column-{column}.svg", dataset_path(id))
}

/// Columns that look like sensitive attributes (`[api::SuggestedFacet]`).
/// The bias endpoints' answers are read as JSON values, not as their `api`
/// types: typed, their decoders cost the bundle about 10 KB over the wire,
/// and `serde_json::Value`'s is there already.
pub async fn facets(id: &str) -> ClientResult<serde_json::Value> {
    get(&format!("{}/facets", dataset_path(id))).await
}

/// Whose bias report: a dataset's, a model's or a scored file's.
#[derive(Debug, Clone, PartialEq)]
pub enum BiasOf {
    Dataset(String),
    Model(String),
    Scored(String),
}

/// A bias report (`api::BiasReport`) with the query's `(key, value)` pairs.
pub async fn bias(of: &BiasOf, query: &[(&str, String)]) -> ClientResult<serde_json::Value> {
    get(&bias_url(of, query, "json")).await
}

/// The address of a bias report in `format` (json, html or svg).
pub fn bias_url(of: &BiasOf, query: &[(&str, String)], format: &str) -> String {
    let base = match of {
        BiasOf::Dataset(d) => format!("{}/fairness", dataset_path(d)),
        BiasOf::Model(m) => format!("/api/models/{}/fairness", percent_encode(m)),
        BiasOf::Scored(p) => format!("/api/predictions/{}/fairness", percent_encode(p)),
    };
    format!("{base}?{}format={format}", query_pairs(query))
}

/// Explore (`api::Explore`) with the query's `(key, value)` pairs.
pub async fn explore(dataset: &str, query: &[(&str, String)]) -> ClientResult<serde_json::Value> {
    get(&explore_url(dataset, query, "json")).await
}

/// The address of Explore's answer in `format`: json, or csv (the rows
/// with their segment and unusual score).
pub fn explore_url(dataset: &str, query: &[(&str, String)], format: &str) -> String {
    format!(
        "{}/explore?{}format={format}",
        dataset_path(dataset),
        query_pairs(query)
    )
}

/// `key=value&` for each pair, values percent-encoded (repeated keys kept).
fn query_pairs(query: &[(&str, String)]) -> String {
    query
        .iter()
        .map(|(k, v)| format!("{k}={}&", percent_encode(v)))
        .collect()
}

fn dataset_path(id: &str) -> String {
    format!("/api/datasets/{}", percent_encode(id))
}

// Forecasts.

/// The query of a series profile: timestamp, target, item column, and the series drawn.
pub fn series_query(time: &str, target: &str, item_column: &str, item: Option<&str>) -> String {
    let mut q = format!(
        "time={}&target={}",
        percent_encode(time),
        percent_encode(target)
    );
    if !item_column.is_empty() {
        q.push_str(&format!("&item_column={}", percent_encode(item_column)));
    }
    if let Some(item) = item {
        q.push_str(&format!("&item={}", percent_encode(item)));
    }
    q
}

/// The dataset read as time series (`series_query`).
pub async fn series_overview(dataset: &str, query: &str) -> ClientResult<api::SeriesOverview> {
    get(&format!("{}/series?{query}", dataset_path(dataset))).await
}

/// A chart of one series: `series.svg`, `decomposition.svg` or `acf.svg`.
pub fn series_chart_url(dataset: &str, name: &str, query: &str) -> String {
    format!("{}/series/charts/{name}?{query}", dataset_path(dataset))
}

/// Checks and queues a forecast of dataset `dataset`.
pub async fn start_forecast(
    dataset: &str,
    request: &api::ForecastRequest,
) -> ClientResult<api::Forecast> {
    post(&format!("{}/forecasts", dataset_path(dataset)), request).await
}

/// The forecasts of one dataset, newest first.
pub async fn dataset_forecasts(dataset: &str) -> ClientResult<Listed<api::Forecast>> {
    get_listed(&format!("{}/forecasts", dataset_path(dataset))).await
}

/// Every forecast, newest first.
pub async fn forecasts() -> ClientResult<Listed<api::Forecast>> {
    get_listed("/api/forecasts").await
}

fn forecast_path(id: &str) -> String {
    format!("/api/forecasts/{}", percent_encode(id))
}

pub async fn forecast(id: &str) -> ClientResult<api::Forecast> {
    get(&forecast_path(id)).await
}

pub async fn delete_forecast(id: &str) -> ClientResult<()> {
    delete(&forecast_path(id)).await
}

/// Every endpoint, by name, with its live traffic.
pub async fn endpoints() -> ClientResult<Listed<api::Endpoint>> {
    get_listed("/api/endpoints").await
}

fn endpoint_path(name: &str) -> String {
    format!("/api/endpoints/{}", percent_encode(name))
}

/// One endpoint, with its live traffic.
pub async fn endpoint(name: &str) -> ClientResult<api::Endpoint> {
    get(&endpoint_path(name)).await
}

pub async fn create_endpoint(request: &api::EndpointRequest) -> ClientResult<api::Endpoint> {
    post("/api/endpoints", request).await
}

/// Points an endpoint at other models, weights, shadow or capture settings.
pub async fn update_endpoint(
    name: &str,
    request: &api::EndpointRequest,
) -> ClientResult<api::Endpoint> {
    put(&endpoint_path(name), request).await
}

pub async fn delete_endpoint(name: &str) -> ClientResult<()> {
    delete(&endpoint_path(name)).await
}

/// The address rows are posted to.
pub fn invocations_url(name: &str) -> String {
    format!("{}/invocations", endpoint_path(name))
}

/// The endpoint's monitoring runs, newest first.
pub async fn monitor_runs(name: &str) -> ClientResult<Vec<api::MonitorRun>> {
    get(&format!("{}/monitor", endpoint_path(name))).await
}

/// Checks the endpoint's captured traffic now.
pub async fn run_monitor(name: &str) -> ClientResult<api::MonitorRun> {
    post(&format!("{}/monitor", endpoint_path(name)), &()).await
}

/// Checks an uploaded batch against the endpoint's baseline.
pub fn monitor_batch(
    name: &str,
    file: web_sys::File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(ClientResult<api::MonitorRun>) + 'static,
) -> ClientResult<()> {
    upload_file(
        &format!("{}/monitor/batch", endpoint_path(name)),
        file,
        on_progress,
        on_done,
    )
}

/// Uploads ground truth (`inference_id` and the target) for captured rows.
pub fn ground_truth(
    name: &str,
    file: web_sys::File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(ClientResult<api::GroundTruthReceipt>) + 'static,
) -> ClientResult<()> {
    upload_file(
        &format!("{}/ground-truth", endpoint_path(name)),
        file,
        on_progress,
        on_done,
    )
}

/// The checks of an endpoint's runs over time.
pub fn monitor_timeline_url(name: &str) -> String {
    format!("{}/monitor/charts/timeline.svg", endpoint_path(name))
}

/// One feature's distribution in a run against training.
pub fn drift_chart_url(name: &str, run: &str, feature: &str) -> String {
    format!(
        "{}/monitor/{}/charts/{}.svg",
        endpoint_path(name),
        percent_encode(run),
        percent_encode(feature)
    )
}

/// Endpoints whose latest monitoring run found violations.
pub async fn alerts() -> ClientResult<Vec<api::Alert>> {
    get("/api/alerts").await
}

/// The captured traffic as CSV.
pub fn capture_url(name: &str) -> String {
    format!("{}/capture.csv", endpoint_path(name))
}

/// The forecast's items whose name contains `search`.
pub async fn forecast_items(id: &str, search: &str) -> ClientResult<Vec<api::ForecastItem>> {
    get(&format!(
        "{}/items?search={}&limit=100",
        forecast_path(id),
        percent_encode(search)
    ))
    .await
}

/// One item's forecast chart (history, backtests, P50 and band).
pub fn forecast_chart_url(id: &str, item: &str) -> String {
    format!(
        "{}/charts/forecast.svg?item={}",
        forecast_path(id),
        percent_encode(item)
    )
}

/// The global tree model's SHAP importance chart.
pub fn forecast_importance_url(id: &str) -> String {
    format!("{}/charts/importance.svg", forecast_path(id))
}

/// Every item's forecast as CSV.
pub fn forecast_csv_url(id: &str) -> String {
    format!("{}/forecast.csv", forecast_path(id))
}

/// The forecaster file.
pub fn forecaster_url(id: &str) -> String {
    format!("{}/artifact", forecast_path(id))
}

/// Forecasts the history in `file` with forecast `id`'s forecaster.
pub fn extend_forecast(
    id: &str,
    file: web_sys::File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(ClientResult<api::ForecastExtension>) + 'static,
) -> ClientResult<()> {
    upload_file(
        &format!("{}/extend", forecast_path(id)),
        file,
        on_progress,
        on_done,
    )
}

// Builds.

/// Every build, newest first, and the ids of those that do not read back.
/// The model families a build can try.
pub async fn families() -> ClientResult<Vec<api::FamilyInfo>> {
    get("/api/families").await
}

pub async fn builds() -> ClientResult<Listed<api::Build>> {
    get_listed("/api/builds").await
}

pub async fn build(id: &str) -> ClientResult<api::Build> {
    get(&build_path(id)).await
}

pub async fn start_build(request: &api::BuildRequest) -> ClientResult<api::Build> {
    post("/api/builds", request).await
}

/// Starts a new build with the same settings as build `id`.
pub async fn rerun_build(id: &str) -> ClientResult<api::Build> {
    post_empty(&format!("{}/rerun", build_path(id))).await
}

/// Deletes build `id` (readable or not; refused while it is queued or
/// running); its model stays.
pub async fn delete_build(id: &str) -> ClientResult<()> {
    delete(&build_path(id)).await
}

/// Stops build `id`, keeping the candidates that finished.
pub async fn cancel_build(id: &str) -> ClientResult<api::Build> {
    post_empty(&format!("{}/cancel", build_path(id))).await
}

/// The leaderboard rows of build `id` that are models, or are being trained.
pub async fn build_models(id: &str) -> ClientResult<Vec<api::TrialModel>> {
    get(&format!("{}/models", build_path(id))).await
}

/// Trains row `trial` of finished build `id` as a model (ready at once if
/// it already is one).
pub async fn train_trial(id: &str, trial: u32) -> ClientResult<api::TrialModel> {
    post_empty(&format!("{}/trials/{trial}/model", build_path(id))).await
}

/// Makes `model_id`, one of build `id`'s models, the build's model.
pub async fn choose_model(id: &str, model_id: &str) -> ClientResult<api::Build> {
    put(
        &format!("{}/model", build_path(id)),
        &api::ChooseModel {
            model_id: model_id.to_owned(),
        },
    )
    .await
}

/// Follows a build's server-sent events until it reaches a final state.
/// Returns the `EventSource` so the caller can close it early.
pub fn follow_build(
    id: &str,
    on_update: impl Fn(api::Build) + 'static,
) -> ClientResult<EventSource> {
    let es = EventSource::new(&format!("{}/events", build_path(id))).map_err(js_failure)?;
    let es2 = es.clone();
    let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let Some(text) = e.data().as_string() else {
            return;
        };
        if let Ok(build) = serde_json::from_str::<api::Build>(&text) {
            let done = build.state.is_final();
            on_update(build);
            if done {
                // Otherwise the browser reconnects when the server ends the stream.
                es2.close();
            }
        }
    });
    es.add_event_listener_with_callback("build", cb.as_ref().unchecked_ref())
        .map_err(js_failure)?;
    cb.forget();
    Ok(es)
}

fn build_path(id: &str) -> String {
    format!("/api/builds/{}", percent_encode(id))
}

// Models.

pub async fn model(id: &str) -> ClientResult<api::ModelSummary> {
    get(&model_path(id)).await
}

/// Deletes model `id` (readable or not) and its file.
pub async fn delete_model(id: &str) -> ClientResult<()> {
    delete(&model_path(id)).await
}

/// Predictions for `request`'s rows with their SHAP explanations.
pub async fn explain(
    id: &str,
    request: &api::PredictRequest,
) -> ClientResult<api::ExplainResponse> {
    post(&format!("{}/explain", model_path(id)), request).await
}

/// Scores the CSV `file` with model `id`, reporting upload progress in [0, 1].
pub fn score_file(
    id: &str,
    file: web_sys::File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(ClientResult<api::BatchReport>) + 'static,
) -> ClientResult<()> {
    upload_file(
        &format!("{}/batch", model_path(id)),
        file,
        on_progress,
        on_done,
    )
}

/// Sets model `id`'s decision threshold (`None`: the more probable class).
pub async fn set_threshold(id: &str, threshold: Option<f64>) -> ClientResult<api::ModelSummary> {
    put(
        &format!("{}/threshold", model_path(id)),
        &api::ThresholdRequest { threshold },
    )
    .await
}

/// The model file to download.
pub fn artifact_url(id: &str) -> String {
    format!("{}/artifact", model_path(id))
}

/// The model as ONNX, to download.
pub fn onnx_url(id: &str) -> String {
    format!("{}/onnx", model_path(id))
}

/// Whether model `id` exports to ONNX: the error names the recipe step or
/// feature ONNX cannot express when it does not.
pub async fn onnx_check(id: &str) -> ClientResult<()> {
    send("GET", &format!("{}?check=true", onnx_url(id)), None)
        .await
        .map(|_| ())
}

/// A chart drawn for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChart {
    Roc,
    PrecisionRecall,
    Confusion,
    Residuals,
    Importance,
    Beeswarm,
    /// Partial dependence on the model's `n`th most important feature.
    Dependence(usize),
}

impl ModelChart {
    /// The chart's name, as in its address.
    pub fn name(self) -> String {
        match self {
            ModelChart::Roc => "roc".into(),
            ModelChart::PrecisionRecall => "pr".into(),
            ModelChart::Confusion => "confusion".into(),
            ModelChart::Residuals => "residuals".into(),
            ModelChart::Importance => "importance".into(),
            ModelChart::Beeswarm => "beeswarm".into(),
            ModelChart::Dependence(n) => format!("dependence-{n}"),
        }
    }
}

/// The SVG of one of model `id`'s charts.
pub fn model_chart_url(id: &str, chart: ModelChart) -> String {
    format!("{}/charts/{}.svg", model_path(id), chart.name())
}

/// The SVG of models `ids`' `chart` drawn over each other, each named in
/// the legend by its entry of `numbers` (ROC, precision-recall, residuals).
pub fn compare_chart_url(ids: &[String], numbers: &[String], chart: ModelChart) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| percent_encode(s))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "/api/compare/charts/{}.svg?models={}&numbers={}",
        chart.name(),
        list(ids),
        list(numbers)
    )
}

/// The SVG of one of a scored file's charts (when it held the target).
pub fn batch_chart_url(id: &str, chart: ModelChart) -> String {
    format!(
        "/api/predictions/{}/charts/{}.svg",
        percent_encode(id),
        chart.name()
    )
}

fn model_path(id: &str) -> String {
    format!("/api/models/{}", percent_encode(id))
}

// Requests.

fn failure(code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        error: api::ErrorBody {
            code: code.to_owned(),
            message: message.into(),
            details: None,
        },
    }
}

fn js_failure(e: JsValue) -> ApiError {
    failure("browser", e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// The error a failed response stands for: the API's error body, or a
/// message naming the status.
pub fn response_error(status: u16, body: &str) -> ApiError {
    serde_json::from_str::<ApiError>(body).unwrap_or_else(|_| {
        let message = if body.trim().is_empty() {
            format!("the server answered {status}")
        } else {
            format!(
                "the server answered {status}: {}",
                body.chars().take(200).collect::<String>()
            )
        };
        failure("http_status", message)
    })
}

fn window() -> web_sys::Window {
    // The app only runs in a browser window.
    web_sys::window().expect("a browser window")
}

/// A successful response's body and the ids named in its [`SKIPPED_HEADER`].
struct Answer {
    text: String,
    skipped: Vec<String>,
}

async fn send(method: &str, path: &str, body: Option<String>) -> ClientResult<String> {
    Ok(send_answer(method, path, body).await?.text)
}

async fn send_answer(method: &str, path: &str, body: Option<String>) -> ClientResult<Answer> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = &body {
        init.set_body(&JsValue::from_str(b));
    }
    let req = Request::new_with_str_and_init(path, &init).map_err(js_failure)?;
    if body.is_some() {
        req.headers()
            .set("content-type", "application/json")
            .map_err(js_failure)?;
    }
    let resp = JsFuture::from(window().fetch_with_request(&req))
        .await
        .map_err(|_| failure("unreachable", "the server cannot be reached"))?;
    let resp: Response = resp.dyn_into().map_err(js_failure)?;
    let text = JsFuture::from(resp.text().map_err(js_failure)?)
        .await
        .map_err(js_failure)?
        .as_string()
        .unwrap_or_default();
    if resp.ok() {
        let skipped = resp.headers().get(SKIPPED_HEADER).ok().flatten();
        Ok(Answer {
            text,
            skipped: skipped_ids(skipped.as_deref()),
        })
    } else {
        Err(response_error(resp.status(), &text))
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> ClientResult<T> {
    serde_json::from_str(text).map_err(|e| {
        failure(
            "bad_response",
            format!("unexpected answer from the server: {e}"),
        )
    })
}

fn to_json<B: Serialize>(body: &B) -> ClientResult<String> {
    serde_json::to_string(body).map_err(|e| failure("browser", e.to_string()))
}

async fn get<T: DeserializeOwned>(path: &str) -> ClientResult<T> {
    parse(&send("GET", path, None).await?)
}

async fn get_listed<T: DeserializeOwned>(path: &str) -> ClientResult<Listed<T>> {
    let answer = send_answer("GET", path, None).await?;
    Ok(Listed {
        items: parse(&answer.text)?,
        skipped: answer.skipped,
    })
}

async fn delete(path: &str) -> ClientResult<()> {
    send("DELETE", path, None).await.map(|_| ())
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ClientResult<T> {
    parse(&send("POST", path, Some(to_json(body)?)).await?)
}

async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ClientResult<T> {
    parse(&send("PUT", path, Some(to_json(body)?)).await?)
}

async fn post_empty<T: DeserializeOwned>(path: &str) -> ClientResult<T> {
    parse(&send("POST", path, None).await?)
}

/// Posts `file` as the multipart field `file` to `url`, reporting progress in [0, 1].
fn upload_file<T: DeserializeOwned + 'static>(
    url: &str,
    file: web_sys::File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(ClientResult<T>) + 'static,
) -> ClientResult<()> {
    let xhr = XmlHttpRequest::new().map_err(js_failure)?;
    xhr.open("POST", url).map_err(js_failure)?;
    let form = FormData::new().map_err(js_failure)?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(js_failure)?;
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            on_progress(e.loaded() / e.total());
        }
    });
    xhr.upload()
        .map_err(js_failure)?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));
    progress.forget();
    let on_done = std::rc::Rc::new(on_done);
    let done = on_done.clone();
    let xhr2 = xhr.clone();
    let load = Closure::<dyn FnMut()>::new(move || {
        let status = xhr2.status().unwrap_or(0);
        let text = xhr2.response_text().ok().flatten().unwrap_or_default();
        if (200..300).contains(&status) {
            done(parse(&text));
        } else {
            done(Err(response_error(status, &text)));
        }
    });
    xhr.set_onload(Some(load.as_ref().unchecked_ref()));
    load.forget();
    let error = Closure::<dyn FnMut()>::new(move || {
        on_done(Err(failure(
            "unreachable",
            "the upload failed: the server cannot be reached",
        )))
    });
    xhr.set_onerror(Some(error.as_ref().unchecked_ref()));
    error.forget();
    xhr.send_with_opt_form_data(Some(&form)).map_err(js_failure)
}

fn with_query(path: String, params: &[String]) -> String {
    if params.is_empty() {
        path
    } else {
        format!("{path}?{}", params.join("&"))
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a
/// path segment or a query value.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_url_carries_encoding_and_missing_tokens() {
        assert_eq!(upload_url(false, "  ", None), "/api/datasets");
        assert_eq!(upload_url(true, "", None), "/api/datasets?encoding=latin1");
        assert_eq!(
            upload_url(true, " -999, n/a & ? ", None),
            "/api/datasets?encoding=latin1&nulls=-999%2C%20n%2Fa%20%26%20%3F"
        );
    }

    #[test]
    fn quality_url_names_the_target_and_the_prepared_data() {
        assert_eq!(
            quality_url("ab12", None, false),
            "/api/datasets/ab12/quality"
        );
        assert_eq!(
            quality_url("ab12", Some("body mass (g)"), true),
            "/api/datasets/ab12/quality?target=body%20mass%20%28g%29&prepared=true"
        );
    }

    #[test]
    fn addresses_encode_their_ids() {
        assert_eq!(
            column_chart_url("ab12", 3),
            "/api/datasets/ab12/charts/column-3.svg"
        );
        assert_eq!(artifact_url("a/b?c"), "/api/models/a%2Fb%3Fc/artifact");
        assert_eq!(
            model_chart_url("m1", ModelChart::PrecisionRecall),
            "/api/models/m1/charts/pr.svg"
        );
        assert_eq!(
            model_chart_url("m1", ModelChart::Dependence(2)),
            "/api/models/m1/charts/dependence-2.svg"
        );
    }

    #[test]
    fn skipped_ids_are_the_header_split_at_commas() {
        assert!(skipped_ids(None).is_empty());
        assert!(skipped_ids(Some("")).is_empty());
        assert_eq!(skipped_ids(Some("ab12")), ["ab12"]);
        assert_eq!(skipped_ids(Some("ab12, cd34,,")), ["ab12", "cd34"]);
    }

    #[test]
    fn failed_responses_keep_the_api_error_or_name_the_status() {
        let body = r#"{"error":{"code":"not_found","message":"no such dataset"}}"#;
        let e = response_error(404, body);
        assert_eq!(
            (e.error.code.as_str(), e.error.message.as_str()),
            ("not_found", "no such dataset")
        );
        assert_eq!(
            response_error(502, " ").error.message,
            "the server answered 502"
        );
        let e = response_error(500, "oops");
        assert_eq!(e.error.code, "http_status");
        assert_eq!(e.error.message, "the server answered 500: oops");
    }
}
