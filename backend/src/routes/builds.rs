//! `/builds`: start (and re-run) a build, list, read, delete, cancel, and
//! follow one live as server-sent events; open any leaderboard row as a
//! model (trained again on request) and choose which is the build's model.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use futures_util::Stream;

use super::{ApiJson, listed, with_store};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::plan::BuildPlan;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/builds", get(list_builds).post(create_build))
        .route("/builds/{id}", get(get_build).delete(delete_build))
        .route("/builds/{id}/events", get(build_events))
        .route("/builds/{id}/cancel", post(cancel_build))
        .route("/builds/{id}/rerun", post(rerun_build))
        .route("/builds/{id}/models", get(build_models))
        .route("/builds/{id}/trials/{trial}/model", post(train_trial))
        .route("/builds/{id}/model", put(choose_model))
        .route("/families", get(list_families))
}

/// The model families a build can be asked to try.
#[utoipa::path(get, path = "/api/families", tag = "builds", responses((status = 200, body = [api::FamilyInfo])))]
async fn list_families() -> Json<Vec<api::FamilyInfo>> {
    Json(
        automl::available_families()
            .into_iter()
            .map(|(name, by_default)| api::FamilyInfo {
                name: name.to_owned(),
                by_default,
            })
            .collect(),
    )
}

/// Plans a build (checked against the store, without reading the data)
/// and queues it.
#[utoipa::path(post, path = "/api/builds", tag = "builds", request_body = api::BuildRequest, responses((status = 202, description = "Queued", body = api::Build)))]
async fn create_build(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<api::BuildRequest>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    let (jobs, max_live) = (Arc::clone(&st.jobs), st.config.max_live_builds);
    let build = with_store(&st, move |store| {
        let plan = BuildPlan::new(store, req)?;
        jobs.submit(plan, max_live)
    })
    .await?;
    tracing::info!(id = %build.id, target = %build.target, "build queued");
    Ok((StatusCode::ACCEPTED, Json(build)))
}

/// Starts a new build with the settings of an earlier one (for example an
/// interrupted one), planned as a new build is.
#[utoipa::path(post, path = "/api/builds/{id}/rerun", tag = "builds", params(("id" = String, Path, description = "Build id")), responses((status = 202, description = "A new build with the same settings, queued", body = api::Build)))]
async fn rerun_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    let (jobs, max_live) = (Arc::clone(&st.jobs), st.config.max_live_builds);
    let build = with_store(&st, move |store| {
        let old = store.build(&id)?;
        if !old.state.is_final() {
            return Err(AppError::Conflict(format!(
                "build {id} is still {}",
                old.state.label()
            )));
        }
        store
            .require_dataset(&old.dataset_id)
            .map_err(|_| AppError::Conflict("the dataset of this build was deleted".into()))?;
        let plan = BuildPlan::new(store, BuildPlan::rerun(&old))?;
        jobs.submit(plan, max_live)
    })
    .await?;
    tracing::info!(id = %build.id, target = %build.target, "build queued again");
    Ok((StatusCode::ACCEPTED, Json(build)))
}

/// The build's leaderboard rows that are models (its winner, rows trained
/// on request) or are being trained, or failed to.
#[utoipa::path(get, path = "/api/builds/{id}/models", tag = "builds", params(("id" = String, Path, description = "Build id")), responses((status = 200, description = "The leaderboard rows opened as models, and those in training", body = [api::TrialModel])))]
async fn build_models(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<api::TrialModel>>> {
    // The rows in training first: a row's model is stored before its
    // state goes, so a row that finishes between the two reads is found in
    // the store (the other order could miss it in both).
    let training = st.jobs.trials(&id);
    let key = id.clone();
    let stored = with_store(&st, move |store| {
        store.build(&key)?;
        Ok(store.build_models(&key)?)
    })
    .await?;
    let mut rows: Vec<api::TrialModel> = stored
        .iter()
        .filter_map(|m| {
            Some(api::TrialModel {
                trial: m.trial?,
                state: api::TrialModelState::Ready,
                model_id: Some(m.id.clone()),
                error: None,
            })
        })
        .collect();
    for t in training {
        if !rows.iter().any(|r| r.trial == t.trial) {
            rows.push(t);
        }
    }
    rows.sort_by_key(|r| r.trial);
    Ok(Json(rows))
}

/// Trains leaderboard row `trial` of a finished build as a model: 202 with
/// its state while it is queued or training, 200 when it already is one.
#[utoipa::path(post, path = "/api/builds/{id}/trials/{trial}/model", tag = "builds", params(("id" = String, Path, description = "Build id"), ("trial" = u32, Path, description = "The leaderboard row's trial number", example = 1)), responses((status = 200, description = "Already a model", body = api::TrialModel), (status = 202, description = "Training started", body = api::TrialModel)))]
async fn train_trial(
    State(st): State<AppState>,
    Path((id, trial)): Path<(String, u32)>,
) -> AppResult<(StatusCode, Json<api::TrialModel>)> {
    let (jobs, max_live) = (Arc::clone(&st.jobs), st.config.max_live_builds);
    with_store(&st, move |store| {
        let build = store.build(&id)?;
        if !build.state.is_final() {
            return Err(AppError::Conflict(format!(
                "build {id} is still {}; its rows can be opened as models once it has finished",
                build.state.label()
            )));
        }
        if !build.leaderboard.iter().any(|e| e.trial == trial) {
            return Err(AppError::NotFound(format!("trial {trial} of build {id}")));
        }
        if let Some(m) = store
            .build_models(&id)?
            .into_iter()
            .find(|m| m.trial == Some(trial))
        {
            let ready = api::TrialModel {
                trial,
                state: api::TrialModelState::Ready,
                model_id: Some(m.id),
                error: None,
            };
            return Ok((StatusCode::OK, Json(ready)));
        }
        let Some(spec) = store.trial_spec(&id, trial)? else {
            return Err(AppError::unprocessable(
                "not_retrainable",
                format!(
                    "trial {trial} of build {id} was run before Kiln kept each candidate's settings; run the build again to open its rows as models"
                ),
            ));
        };
        store
            .require_dataset(&build.dataset_id)
            .map_err(|_| AppError::Conflict("the dataset of this build was deleted".into()))?;
        let plan = BuildPlan::new(store, BuildPlan::rerun(&build))?;
        let state = jobs.submit_trial(plan, build, trial, spec, max_live)?;
        tracing::info!(build = %id, trial, "leaderboard row queued for training");
        Ok((StatusCode::ACCEPTED, Json(state)))
    })
    .await
}

/// Makes one of the build's models its model ("use this one"): the one
/// the Experiments list, Compare and "Predict" use.
#[utoipa::path(put, path = "/api/builds/{id}/model", tag = "builds", params(("id" = String, Path, description = "Build id")), request_body = api::ChooseModel, responses((status = 200, body = api::Build)))]
async fn choose_model(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::ChooseModel>,
) -> AppResult<Json<api::Build>> {
    with_store(&st, move |store| {
        let mut build = store.build(&id)?;
        if !build.state.is_final() {
            return Err(AppError::Conflict(format!(
                "build {id} is still {}",
                build.state.label()
            )));
        }
        let model = store.model(&req.model_id).map_err(|_| {
            AppError::unprocessable(
                "unknown_model",
                format!("there is no model {}", req.model_id),
            )
        })?;
        if model.build_id != id {
            return Err(AppError::unprocessable(
                "unknown_model",
                format!("model {} is not one of build {id}'s models", req.model_id),
            ));
        }
        build.model_id = Some(model.id);
        store.update_build(&build)?;
        Ok(Json(build))
    })
    .await
}

#[utoipa::path(get, path = "/api/builds", tag = "builds", responses((status = 200, description = "Every build that reads back; the `x-kiln-skipped` header names the rest", body = [api::Build])))]
async fn list_builds(State(st): State<AppState>) -> AppResult<Response> {
    Ok(listed(
        with_store(&st, |store| Ok(store.list_builds()?)).await?,
    ))
}

/// Deletes a finished build's record (readable or not); its model stays.
#[utoipa::path(delete, path = "/api/builds/{id}", tag = "builds", params(("id" = String, Path, description = "Build id")), responses((status = 204, description = "Deleted, with its models")))]
async fn delete_build(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<StatusCode> {
    if st.jobs.is_live(&id) {
        return Err(AppError::Conflict(format!(
            "build {id} is still queued or running; cancel it first"
        )));
    }
    if st.jobs.is_training(&id) {
        return Err(AppError::Conflict(format!(
            "a leaderboard row of build {id} is being trained; wait for it to finish"
        )));
    }
    let key = id.clone();
    with_store(&st, move |store| Ok(store.delete_build(&key)?)).await?;
    tracing::info!(%id, "build deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/builds/{id}", tag = "builds", params(("id" = String, Path, description = "Build id")), responses((status = 200, body = api::Build)))]
async fn get_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::Build>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.build(&id)?)).await?,
    ))
}

#[utoipa::path(get, path = "/api/builds/{id}/events", tag = "builds", params(("id" = String, Path, description = "Build id")), responses((status = 200, description = "Server-sent events until the build finishes: each `build` event's data is the whole build as JSON (`Build`)", body = super::openapi::BuildEvent, content_type = "text/event-stream")))]
async fn build_events(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let key = id.clone();
    let stored = with_store(&st, move |store| Ok(store.build(&key)?)).await?;
    let mut rx = st.jobs.subscribe(&id);
    let first = match &mut rx {
        Some(r) => r.borrow_and_update().clone(),
        // Finished between the read and the subscription: read it again.
        None if !stored.state.is_final() => {
            with_store(&st, move |store| Ok(store.build(&id).unwrap_or(stored))).await?
        }
        None => stored,
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

#[utoipa::path(post, path = "/api/builds/{id}/cancel", tag = "builds", params(("id" = String, Path, description = "Build id")), responses((status = 202, description = "Cancelling", body = api::Build)))]
async fn cancel_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    let key = id.clone();
    let build = with_store(&st, move |store| Ok(store.build(&key)?)).await?;
    if st.jobs.cancel(&id) {
        return Ok((StatusCode::ACCEPTED, Json(build)));
    }
    Err(AppError::Conflict(format!(
        "build {id} is not running (it is {})",
        build.state.label()
    )))
}
