//! `/builds`: start (and re-run) a build, list, read, delete, cancel, and
//! follow one live as server-sent events.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};

use futures_util::Stream;

use super::{ApiJson, blocking, listed};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::storage::new_id;
use crate::{datasets, time};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/builds", get(list_builds).post(create_build))
        .route("/builds/{id}", get(get_build).delete(delete_build))
        .route("/builds/{id}/events", get(build_events))
        .route("/builds/{id}/cancel", post(cancel_build))
        .route("/builds/{id}/rerun", post(rerun_build))
}

async fn create_build(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<api::BuildRequest>,
) -> AppResult<(StatusCode, Json<api::Build>)> {
    st.store.require_dataset(&req.dataset_id)?;
    if !(5..=86_400).contains(&req.time_budget_secs) {
        return Err(AppError::unprocessable(
            "invalid_budget",
            "the time budget must be between 5 seconds and 24 hours",
        ));
    }
    let recipe = st.store.recipe(&req.dataset_id, req.recipe_version)?;
    let store = Arc::clone(&st.store);
    let checked = req.clone();
    blocking(move || {
        let applied = datasets::prepared(
            &store,
            &checked.dataset_id,
            &recipe.recipe,
            Some(&checked.target),
        )?;
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
        .require_dataset(&old.dataset_id)
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
