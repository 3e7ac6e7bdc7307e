//! The OpenAPI 3.1 document of `/api`, served at `/api/openapi.json`.
//!
//! Each handler carries its own `#[utoipa::path]`; the bodies are the `api`
//! crate's types (their `ToSchema` comes with its `openapi` feature). What
//! every operation shares is added here once: any of them can answer a 4xx
//! or 5xx with [`api::ApiError`] (the guard's 401, 403 and 421, a rejected
//! body, a missing record), and the optional access token.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, SecurityRequirement};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::error::{AppError, AppResult};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kiln",
        description = "The REST API of Kiln, the local no-code machine-learning studio: datasets, recipes, builds, models, predictions, explanations, bias reports, forecasts and endpoints. Requests that change data must come from the same origin as the page (or none); a server started with `--token` needs it as `Authorization: Bearer` or the `kiln_token` cookie.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        super::health,
        crate::guard::login,
        super::samples::list_samples,
        super::samples::load_sample,
        super::datasets::list_datasets,
        super::datasets::upload,
        super::datasets::get_dataset,
        super::datasets::delete_dataset,
        super::datasets::get_profile,
        super::datasets::get_rows,
        super::datasets::quality_report,
        super::datasets::get_recipe,
        super::datasets::put_recipe,
        super::datasets::preview_recipe,
        super::datasets::target_info,
        super::datasets::dataset_chart,
        super::datasets::dataset_fairness,
        super::datasets::suggested_facets,
        super::datasets::explore,
        super::imports::sources,
        super::imports::postgres,
        super::imports::s3,
        super::builds::list_families,
        super::builds::list_builds,
        super::builds::create_build,
        super::builds::get_build,
        super::builds::delete_build,
        super::builds::build_events,
        super::builds::cancel_build,
        super::builds::rerun_build,
        super::builds::build_models,
        super::builds::train_trial,
        super::builds::choose_model,
        super::models::get_model,
        super::models::delete_model,
        super::models::download_artifact,
        super::models::download_onnx,
        super::models::model_fairness,
        super::models::set_threshold,
        super::models::predict,
        super::models::explain,
        super::models::model_chart,
        super::models::compare_chart,
        super::models::batch_predict,
        super::models::download_predictions,
        super::models::batch_fairness,
        super::models::batch_chart,
        super::forecasts::start_forecast,
        super::forecasts::dataset_forecasts,
        super::forecasts::list_forecasts,
        super::forecasts::get_forecast,
        super::forecasts::delete_forecast,
        super::forecasts::forecast_items,
        super::forecasts::forecast_chart,
        super::forecasts::forecast_csv,
        super::forecasts::download_forecaster,
        super::forecasts::extend,
        super::forecasts::series_overview,
        super::forecasts::series_chart,
        super::endpoints::list_endpoints,
        super::endpoints::create_endpoint,
        super::endpoints::get_endpoint,
        super::endpoints::update_endpoint,
        super::endpoints::delete_endpoint,
        super::endpoints::invoke,
        super::endpoints::download_capture,
        super::endpoints::list_runs,
        super::endpoints::monitor_capture,
        super::endpoints::monitor_batch,
        super::endpoints::upload_ground_truth,
        super::endpoints::list_alerts,
        super::endpoints::timeline_chart,
        super::endpoints::drift_chart,
        super::models::download_baseline,
    ),
    components(schemas(api::ApiError)),
    tags(
        (name = "datasets", description = "Uploads, profiles, quality reports, recipes and Explore"),
        (name = "imports", description = "Datasets from a PostgreSQL query or an S3 object"),
        (name = "forecasts", description = "Time-series forecasts: set-up, backtest leaderboard, charts, CSV, the forecaster and its extension to a new history"),
        (name = "builds", description = "AutoML builds and their leaderboards"),
        (name = "endpoints", description = "Deployments: named endpoints serving models with traffic weights and a shadow, their invocations and captured traffic"),
        (name = "models", description = "Models: metrics, explanations, predictions, downloads"),
        (name = "fairness", description = "Bias reports before and after training"),
        (name = "samples", description = "The sample datasets built into the binary"),
        (name = "system", description = "Health and sign-in"),
    )
)]
struct ApiDoc;

/// A file upload: one multipart part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)] // Described, never built: axum's `Multipart` reads the part.
pub(super) struct Upload {
    /// The file: CSV or TSV (also gzip- or zip-compressed), Parquet, Arrow
    /// IPC, JSON Lines, or an Excel workbook.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// One server-sent event of `GET /api/builds/{id}/events`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct BuildEvent {
    /// `build`, or `error` if the build could not be written as JSON.
    #[schema(pattern = "^(build|error)$")]
    event: String,
    /// The build as JSON (a `Build`).
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// The query of a bias report (`crate::fairness::BiasQuery` reads it).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct BiasParams {
    /// The facet column: the attribute whose groups are compared.
    facet: String,
    /// The facet's value(s) making the group of interest (repeat the key for several).
    value: Option<Vec<String>>,
    /// For a numeric facet: the group of interest is the rows above this.
    above: Option<f64>,
    /// The label column (before training; a model's report uses its target).
    target: Option<String>,
    /// The favourable label(s) (repeat the key for several).
    favourable: Option<Vec<String>>,
    /// For a numeric label: the favourable outcome is a value above this.
    favourable_above: Option<f64>,
    /// A column to condition on (conditional demographic disparity).
    group: Option<String>,
    /// `json` (default), `html` (a printable page) or `svg` (its chart).
    #[param(inline)]
    format: Option<BiasFormat>,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum BiasFormat {
    Json,
    Html,
    Svg,
}

/// The query of Explore (`crate::explore::parse` reads it).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ExploreParams {
    /// The columns to segment on (repeat the key; all usable columns when absent).
    column: Option<Vec<String>>,
    /// The number of segments, or `auto` (chosen by silhouette).
    k: Option<String>,
    /// The column colouring the map.
    colour: Option<String>,
    /// The seed of k-means and of the row sample.
    seed: Option<u64>,
    /// `json` (default) or `csv`: the rows with their segment.
    #[param(inline)]
    format: Option<ExploreFormat>,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum ExploreFormat {
    Json,
    Csv,
}

/// The document, with the responses and security every operation shares.
fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ApiError")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut op.responses.responses;
            responses.entry("4XX".into()).or_insert_with(|| {
                error("The request cannot be served: the error names the problem (a missing record, a bad body or query, a cross-origin write, a missing token)").into()
            });
            responses
                .entry("5XX".into())
                .or_insert_with(|| error("A server fault; the details are in its log").into());
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    components.add_security_scheme(
        "cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("kiln_token"))),
    );
    // Without `--token` no credential is needed: the empty requirement.
    doc.security = Some(vec![
        SecurityRequirement::default(),
        SecurityRequirement::new("token", Vec::<String>::new()),
        SecurityRequirement::new("cookie", Vec::<String>::new()),
    ]);
    doc
}

/// `GET /api/openapi.json`, made once.
pub(super) async fn document() -> AppResult<Response> {
    static JSON: OnceLock<Result<String, String>> = OnceLock::new();
    let json = JSON
        .get_or_init(|| openapi().to_pretty_json().map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| AppError::Internal(format!("the OpenAPI document: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.route(…)` in the routers, as (method, path) pairs.
    fn routed() -> Vec<(String, String)> {
        let sources = [
            include_str!("mod.rs"),
            include_str!("samples.rs"),
            include_str!("datasets.rs"),
            include_str!("imports.rs"),
            include_str!("builds.rs"),
            include_str!("models.rs"),
            include_str!("forecasts.rs"),
            include_str!("endpoints.rs"),
        ];
        let mut out = Vec::new();
        for src in sources {
            for call in src.split(".route(").skip(1) {
                let call = call.split("\n        .").next().unwrap_or(call);
                let call = call.split("\n}").next().unwrap_or(call);
                let path = call.split('"').nth(1).expect("a route's path");
                for method in ["get", "post", "put", "delete"] {
                    let used = call
                        .match_indices(&format!("{method}("))
                        .any(|(i, _)| i == 0 || !call.as_bytes()[i - 1].is_ascii_alphanumeric());
                    if used {
                        out.push((method.to_owned(), format!("/api{path}")));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_route_is_described_and_nothing_else() {
        let doc = openapi();
        let mut described = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("delete", &item.delete),
            ] {
                if op.is_some() {
                    described.push((method.to_owned(), path.clone()));
                }
            }
        }
        let mut routed = routed();
        // The spec itself is served, not described.
        routed.retain(|(_, p)| p != "/api/openapi.json");
        routed.sort();
        described.sort();
        assert_eq!(routed, described);
        assert!(routed.len() > 40, "{routed:?}");
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_shared_errors() {
        let json = serde_json::to_value(openapi()).expect("the document serialises");
        assert_eq!(json["openapi"], "3.1.0");
        let predict = &json["paths"]["/api/models/{id}/predict"]["post"];
        assert_eq!(
            predict["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/PredictRequest"
        );
        assert_eq!(
            predict["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApiError"
        );
        for name in ["Build", "Recipe", "Step", "ModelSummary", "BiasReport"] {
            assert!(
                json["components"]["schemas"][name].is_object(),
                "schema {name}"
            );
        }
    }
}
