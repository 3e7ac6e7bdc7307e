//! `/api/endpoints`: named endpoints that serve models (create, list,
//! read, point at other models, delete), their invocations (JSON rows or
//! a CSV body) and their captured traffic as CSV.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::datasets::receive_file;
use super::models::artifact;
use super::{ApiJson, blocking, download, with_store};
use crate::AppState;
use crate::endpoints::{self, Live, Rows};
use crate::error::{AppError, AppResult};

/// The most rows one invocation may carry.
const MAX_ROWS: usize = 10_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/endpoints", get(list_endpoints).post(create_endpoint))
        .route(
            "/endpoints/{name}",
            get(get_endpoint)
                .put(update_endpoint)
                .delete(delete_endpoint),
        )
        .route("/endpoints/{name}/invocations", post(invoke))
        .route("/endpoints/{name}/capture.csv", get(download_capture))
        .route(
            "/endpoints/{name}/monitor",
            get(list_runs).post(monitor_capture),
        )
        .route("/endpoints/{name}/monitor/batch", post(monitor_batch))
        .route(
            "/endpoints/{name}/monitor/charts/timeline.svg",
            get(timeline_chart),
        )
        .route(
            "/endpoints/{name}/monitor/{run}/charts/{feature}",
            get(drift_chart),
        )
        .route("/endpoints/{name}/ground-truth", post(upload_ground_truth))
        .route("/alerts", get(list_alerts))
}

/// An endpoint's record with its live traffic.
fn with_traffic(st: &AppState, mut e: api::Endpoint) -> api::Endpoint {
    e.traffic = st.endpoints.traffic(&e.name);
    e
}

/// The variant for a model: its target read from the store, the model loaded.
async fn variant(
    st: &AppState,
    name: String,
    model_id: &str,
    weight: f64,
) -> AppResult<(api::Variant, Arc<automl::ModelArtifact>)> {
    let id = model_id.to_owned();
    let summary = with_store(st, move |store| Ok(store.model(&id)?))
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::unprocessable(
                "invalid_endpoint",
                format!("model {model_id} does not exist"),
            ),
            other => other,
        })?;
    let model = artifact(st, model_id).await?;
    Ok((
        api::Variant {
            name,
            model_id: model_id.to_owned(),
            target: summary.target,
            weight,
        },
        model,
    ))
}

/// Checks a request and loads its models: the endpoint as it will serve.
async fn prepare(st: &AppState, req: api::EndpointRequest, created: String) -> AppResult<Live> {
    endpoints::check_request(&req)?;
    let names = endpoints::variant_names(&req);
    let total: f64 = req.variants.iter().map(|v| v.weight).sum();
    let mut variants = Vec::new();
    let mut models = Vec::new();
    for (v, name) in req.variants.iter().zip(names) {
        let (variant, model) = variant(st, name, &v.model_id, v.weight / total).await?;
        variants.push(variant);
        models.push(model);
    }
    let shadow = match &req.shadow {
        Some(id) if !id.is_empty() => Some(variant(st, "shadow".into(), id, 0.0).await?),
        _ => None,
    };
    // Every model answers the same question.
    let first = &variants[0];
    if let Some(other) = variants
        .iter()
        .chain(shadow.as_ref().map(|(v, _)| v))
        .find(|v| v.target != first.target)
    {
        return Err(AppError::unprocessable(
            "invalid_endpoint",
            format!(
                "the models predict different targets: {} predicts `{}`, {} predicts `{}`",
                first.name, first.target, other.name, other.target
            ),
        ));
    }
    // A watched facet must read on the training rows of the model it watches.
    if let Some(watch) = &req.bias {
        let (watch, id) = (watch.clone(), first.model_id.clone());
        with_store(st, move |store| {
            crate::fairness::model_rows(store, &id, &(&watch).into()).map_err(|e| match e {
                AppError::Unprocessable { code, message, .. } => {
                    AppError::unprocessable(code, format!("the bias to watch: {message}"))
                }
                other => other,
            })?;
            Ok(())
        })
        .await?;
    }
    let (shadow_variant, shadow_model) = shadow.unzip();
    Ok(Live {
        doc: api::Endpoint {
            name: req.name,
            created,
            updated: crate::time::now_rfc3339(),
            variants,
            shadow: shadow_variant,
            capture: req.capture.unwrap_or_default(),
            monitor_every_minutes: req.monitor_every_minutes,
            bias: req.bias,
            captured_rows: 0,
            traffic: api::Traffic::default(),
        },
        models,
        shadow: shadow_model,
    })
}

#[utoipa::path(get, path = "/api/endpoints", tag = "endpoints", responses((status = 200, body = Vec<api::Endpoint>)))]
async fn list_endpoints(State(st): State<AppState>) -> AppResult<Response> {
    let mut found = with_store(&st, |store| Ok(store.list_endpoints()?)).await?;
    found.items = found
        .items
        .into_iter()
        .map(|e| with_traffic(&st, e))
        .collect();
    Ok(super::listed(found))
}

#[utoipa::path(post, path = "/api/endpoints", tag = "endpoints", request_body = api::EndpointRequest, responses((status = 201, body = api::Endpoint)))]
async fn create_endpoint(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<api::EndpointRequest>,
) -> AppResult<(StatusCode, Json<api::Endpoint>)> {
    let live = prepare(&st, req, crate::time::now_rfc3339()).await?;
    let doc = live.doc.clone();
    let added = with_store(&st, move |store| Ok(store.create_endpoint(&doc)?)).await?;
    if !added {
        return Err(AppError::Conflict(format!(
            "an endpoint named `{}` exists; point it at other models with PUT, or choose another name",
            live.doc.name
        )));
    }
    tracing::info!(endpoint = %live.doc.name, "endpoint created");
    let live = st.endpoints.install(live);
    Ok((
        StatusCode::CREATED,
        Json(with_traffic(&st, live.doc.clone())),
    ))
}

#[utoipa::path(get, path = "/api/endpoints/{name}", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), responses((status = 200, body = api::Endpoint)))]
async fn get_endpoint(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<Json<api::Endpoint>> {
    let e = with_store(&st, move |store| Ok(store.endpoint(&name)?)).await?;
    Ok(Json(with_traffic(&st, e)))
}

/// Points the endpoint at other models (or weights, shadow, capture). The
/// new models are loaded first, then swapped in at once: requests in
/// flight finish on the models they started with.
#[utoipa::path(put, path = "/api/endpoints/{name}", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), request_body = api::EndpointRequest, responses((status = 200, body = api::Endpoint)))]
async fn update_endpoint(
    State(st): State<AppState>,
    Path(name): Path<String>,
    ApiJson(mut req): ApiJson<api::EndpointRequest>,
) -> AppResult<Json<api::Endpoint>> {
    let key = name.clone();
    let current = with_store(&st, move |store| Ok(store.endpoint(&key)?)).await?;
    req.name = name;
    let live = prepare(&st, req, current.created).await?;
    let doc = live.doc.clone();
    with_store(&st, move |store| Ok(store.update_endpoint(&doc)?)).await?;
    tracing::info!(endpoint = %live.doc.name, "endpoint updated");
    let live = st.endpoints.install(live);
    Ok(Json(with_traffic(&st, live.doc.clone())))
}

#[utoipa::path(delete, path = "/api/endpoints/{name}", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), responses((status = 204, description = "Deleted, with its captures")))]
async fn delete_endpoint(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<StatusCode> {
    let key = name.clone();
    with_store(&st, move |store| Ok(store.delete_endpoint(&key)?)).await?;
    st.endpoints.remove(&name);
    tracing::info!(endpoint = %name, "endpoint deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint as it serves: in memory, or loaded from its record.
async fn live(st: &AppState, name: &str) -> AppResult<Arc<Live>> {
    if let Some(l) = st.endpoints.get(name) {
        return Ok(l);
    }
    let key = name.to_owned();
    let doc = with_store(st, move |store| Ok(store.endpoint(&key)?)).await?;
    let mut models = Vec::new();
    for v in &doc.variants {
        models.push(artifact(st, &v.model_id).await?);
    }
    let shadow = match &doc.shadow {
        Some(s) => Some(artifact(st, &s.model_id).await?),
        None => None,
    };
    Ok(st.endpoints.install(Live {
        doc,
        models,
        shadow,
    }))
}

/// The rows of an invocation: `{"rows": [...]}` as JSON, or a CSV body.
async fn read_rows(st: &AppState, headers: &HeaderMap, body: Bytes) -> AppResult<Rows> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let rows = if kind.starts_with("text/csv") || kind.starts_with("application/csv") {
        let mut upload = st.store.upload().await?;
        upload.write(&body).await?;
        let received = upload.finish().await?;
        let frame = blocking(move || {
            Ok(received
                .read(
                    "invocation.csv",
                    &data::ingest::ReadOptions::default(),
                    None,
                )?
                .frame)
        })
        .await?;
        Rows::Table(frame)
    } else if kind.starts_with("application/json") {
        let req: api::PredictRequest = serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                "invalid_request",
                format!("the body is not {{\"rows\": [...]}}: {e}"),
            )
        })?;
        Rows::Json(req.rows)
    } else {
        return Err(AppError::bad_request(
            "unsupported_media_type",
            format!("send rows as application/json ({{\"rows\": [...]}}) or text/csv, not {kind}"),
        ));
    };
    if rows.is_empty() || rows.len() > MAX_ROWS {
        return Err(AppError::unprocessable(
            "invalid_rows",
            format!("{} rows: send 1 to {MAX_ROWS} per request", rows.len()),
        ));
    }
    Ok(rows)
}

/// Scores the rows with the variant the traffic weights pick, captures them
/// (and the shadow's scores of the same rows), and answers with the variant's name.
#[utoipa::path(post, path = "/api/endpoints/{name}/invocations", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), request_body(content = api::PredictRequest, description = "`{\"rows\": [...]}` as JSON, or a CSV body (`text/csv`)"), responses((status = 200, body = api::InvocationResponse, headers(("x-kiln-variant" = String, description = "The variant that answered")))))]
async fn invoke(
    State(st): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let started = Instant::now();
    let live = live(&st, &name).await?;
    let rows = match read_rows(&st, &headers, body).await {
        Ok(r) => r,
        Err(e) => {
            st.endpoints
                .record(&name, None, 0, started.elapsed().as_secs_f64() * 1e3);
            return Err(e);
        }
    };
    let n = st.endpoints.next_request();
    let i = live.pick(n);
    let (variant, model) = match (live.doc.variants.get(i), live.models.get(i)) {
        (Some(v), Some(m)) => (v.clone(), Arc::clone(m)),
        _ => return Err(endpoints::no_variant(&name)),
    };
    let capture = live.doc.capture;
    let captured = endpoints::sampled(n, capture.share);
    let store = Arc::clone(&st.store);
    let endpoint = name.clone();
    let v = variant.clone();
    let (outcome, rows, ids) = blocking(move || {
        let ids: Vec<String> = (0..rows.len()).map(|_| crate::storage::new_id()).collect();
        let outcome = endpoints::score(&model, &rows);
        if captured {
            endpoints::capture(
                &store,
                &endpoint,
                &rows,
                &ids,
                &v,
                &outcome,
                capture.max_rows,
            );
        }
        Ok((outcome, rows, ids))
    })
    .await?;
    let millis = started.elapsed().as_secs_f64() * 1e3;
    let (predictions, warnings) = match outcome {
        Ok(o) => o,
        Err(e) => {
            st.endpoints.record(&name, None, rows.len(), millis);
            return Err(e);
        }
    };
    st.endpoints
        .record(&name, Some(&variant.name), rows.len(), millis);
    // The shadow scores the same rows after the answer, and is only captured.
    if let (Some(shadow), Some(sv)) = (&live.shadow, &live.doc.shadow)
        && captured
    {
        let (shadow, sv, store, ids) = (
            Arc::clone(shadow),
            sv.clone(),
            Arc::clone(&st.store),
            ids.clone(),
        );
        let endpoint = name.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = endpoints::score(&shadow, &rows);
            endpoints::capture(
                &store,
                &endpoint,
                &rows,
                &ids,
                &sv,
                &outcome,
                capture.max_rows,
            );
        });
    }
    let answer = api::InvocationResponse {
        variant: variant.name.clone(),
        model_id: variant.model_id.clone(),
        classes: predictions.classes,
        predictions: predictions
            .predictions
            .into_iter()
            .zip(ids)
            .map(|(p, inference_id)| api::Invoked {
                inference_id,
                value: p.value,
                probabilities: p.probabilities,
            })
            .collect(),
        warnings,
    };
    let mut response = Json(answer).into_response();
    if let Ok(v) = HeaderValue::from_str(&variant.name) {
        response.headers_mut().insert("x-kiln-variant", v);
    }
    Ok(response)
}

/// The captured requests and answers as CSV.
#[utoipa::path(get, path = "/api/endpoints/{name}/capture.csv", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), responses((status = 200, description = "The captured rows: inference id, time, variant, model, inputs, prediction, probabilities, error", body = String, content_type = "text/csv")))]
async fn download_capture(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let key = name.clone();
    let bytes = with_store(&st, move |store| {
        store.endpoint(&key)?;
        Ok(endpoints::capture_csv(&store.captured(&key)?))
    })
    .await?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("kiln-capture-{name}.csv"),
        bytes,
    ))
}

/// The endpoint's monitoring runs, newest first (at most 50).
#[utoipa::path(get, path = "/api/endpoints/{name}/monitor", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), responses((status = 200, body = Vec<api::MonitorRun>)))]
async fn list_runs(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<Json<Vec<api::MonitorRun>>> {
    let runs = with_store(&st, move |store| {
        store.endpoint(&name)?;
        Ok(store.monitor_runs(&name, 50)?)
    })
    .await?;
    Ok(Json(runs))
}

/// Checks the captured traffic against the baseline of the model the
/// endpoint's first variant serves, with the ground truth uploaded so far.
#[utoipa::path(post, path = "/api/endpoints/{name}/monitor", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), responses((status = 201, body = api::MonitorRun)))]
async fn monitor_capture(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<(StatusCode, Json<api::MonitorRun>)> {
    let run = with_store(&st, move |store| {
        crate::monitoring::run_on_capture(store, &name, "capture", None)
    })
    .await?;
    tracing::info!(endpoint = %run.endpoint, violations = run.violations.len(), "monitoring run");
    Ok((StatusCode::CREATED, Json(run)))
}

/// Checks an uploaded batch (scored by the first variant; its target
/// column, when present, is the truth).
#[utoipa::path(post, path = "/api/endpoints/{name}/monitor/batch", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), request_body(content = super::openapi::Upload, content_type = "multipart/form-data"), responses((status = 201, body = api::MonitorRun)))]
async fn monitor_batch(
    State(st): State<AppState>,
    Path(name): Path<String>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<api::MonitorRun>)> {
    let (file, label) = receive_file(&st, &mut multipart).await?;
    let run = with_store(&st, move |store| {
        let frame = file
            .read(&label, &data::ingest::ReadOptions::default(), None)
            .map_err(|e| crate::datasets::name_file(&label, e.into()))?
            .frame;
        drop(file);
        crate::monitoring::run_on_batch(store, &name, &frame)
            .map_err(|e| crate::datasets::name_file(&label, e))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// Ground truth for captured rows: a table of `inference_id` and the target.
#[utoipa::path(post, path = "/api/endpoints/{name}/ground-truth", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), request_body(content = super::openapi::Upload, content_type = "multipart/form-data"), responses((status = 201, body = api::GroundTruthReceipt)))]
async fn upload_ground_truth(
    State(st): State<AppState>,
    Path(name): Path<String>,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<api::GroundTruthReceipt>)> {
    let (file, label) = receive_file(&st, &mut multipart).await?;
    let receipt = with_store(&st, move |store| {
        let frame = file
            .read(&label, &data::ingest::ReadOptions::default(), None)
            .map_err(|e| crate::datasets::name_file(&label, e.into()))?
            .frame;
        drop(file);
        crate::monitoring::ground_truth(store, &name, &frame)
            .map_err(|e| crate::datasets::name_file(&label, e))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Endpoints whose latest monitoring run found violations.
#[utoipa::path(get, path = "/api/alerts", tag = "endpoints", responses((status = 200, body = Vec<api::Alert>)))]
async fn list_alerts(State(st): State<AppState>) -> AppResult<Json<Vec<api::Alert>>> {
    Ok(Json(with_store(&st, crate::monitoring::alerts).await?))
}

/// The checks of the endpoint's runs over time.
#[utoipa::path(get, path = "/api/endpoints/{name}/monitor/charts/timeline.svg", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name")), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
async fn timeline_chart(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let svg = with_store(&st, move |store| {
        store.endpoint(&name)?;
        crate::monitoring::timeline_chart(&store.monitor_runs(&name, 30)?)
    })
    .await?;
    Ok(super::svg_response(svg))
}

/// One feature's live distribution in a run against training (`{feature}.svg`).
#[utoipa::path(get, path = "/api/endpoints/{name}/monitor/{run}/charts/{feature}", tag = "endpoints", params(("name" = String, Path, description = "Endpoint name"), ("run" = String, Path, description = "Run id"), ("feature" = String, Path, description = "`{feature}.svg`, or `prediction.svg`")), responses((status = 200, description = "The chart", body = String, content_type = "image/svg+xml")))]
async fn drift_chart(
    State(st): State<AppState>,
    Path((name, run, feature)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let svg = with_store(&st, move |store| {
        let runs = store.monitor_runs(&name, 200)?;
        let run = runs
            .iter()
            .find(|r| r.id == run)
            .ok_or_else(|| AppError::NotFound(format!("monitoring run {run}")))?;
        let feature = feature
            .strip_suffix(".svg")
            .ok_or_else(|| AppError::NotFound(format!("chart `{feature}`")))?;
        crate::monitoring::drift_chart(run, feature)
    })
    .await?;
    Ok(super::svg_response(svg))
}
