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
        .route("/families", get(list_families))
}

/// Plans a build (checked against the store, without reading the data)
/// and queues it.
/// The model families a build can be asked to try.
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

async fn list_builds(State(st): State<AppState>) -> AppResult<Response> {
    Ok(listed(
        with_store(&st, |store| Ok(store.list_builds()?)).await?,
    ))
}

/// Deletes a finished build's record (readable or not); its model stays.
async fn delete_build(State(st): State<AppState>, Path(id): Path<String>) -> AppResult<StatusCode> {
    if st.jobs.is_live(&id) {
        return Err(AppError::Conflict(format!(
            "build {id} is still queued or running; cancel it first"
        )));
    }
    let key = id.clone();
    with_store(&st, move |store| Ok(store.delete_build(&key)?)).await?;
    tracing::info!(%id, "build deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn get_build(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<api::Build>> {
    Ok(Json(
        with_store(&st, move |store| Ok(store.build(&id)?)).await?,
    ))
}

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
