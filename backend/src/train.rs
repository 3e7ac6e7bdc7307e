//! `kiln train`: a build without a browser, through the same code as the
//! studio's. The data file becomes a dataset of a throwaway store (the
//! same ingest, profile and checks as an upload), an optional recipe is
//! saved as its version 1, the request is planned by `BuildPlan::new` and
//! run by `build::run`, and the stored artifact is copied out. The store
//! is removed afterwards.

use std::path::{Path, PathBuf};

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use data::ingest;

use crate::build::{self, Failure, Progress};
use crate::error::AppError;
use crate::plan::BuildPlan;
use crate::storage::Store;
use crate::{datasets, leaderboard};

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub data: PathBuf,
    /// The sheet of a workbook with several.
    pub sheet: Option<String>,
    pub target: String,
    pub budget_secs: u32,
    pub seed: u64,
    /// Stop after this many trials (the studio's trial budget).
    pub max_trials: Option<u32>,
    pub exclude: Vec<String>,
    /// A recipe (`{"steps": [...]}` in a file, what the Prepare page saves).
    pub recipe: Option<api::Recipe>,
}

/// Why training stopped: the input (exit code 2) or anything else (1).
#[derive(Debug)]
pub enum TrainError {
    BadInput(String),
    Failed(String),
}

impl TrainError {
    pub fn exit_code(&self) -> i32 {
        match self {
            TrainError::BadInput(_) => 2,
            TrainError::Failed(_) => 1,
        }
    }
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::BadInput(m) | TrainError::Failed(m) => f.write_str(m),
        }
    }
}

impl From<AppError> for TrainError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::BadRequest { .. }
            | AppError::Unprocessable { .. }
            | AppError::NotFound(_) => TrainError::BadInput(e.to_string()),
            other => TrainError::Failed(other.to_string()),
        }
    }
}

impl From<crate::storage::StorageError> for TrainError {
    fn from(e: crate::storage::StorageError) -> Self {
        AppError::from(e).into()
    }
}

/// What training gives: the artifact's bytes and the finished build.
#[derive(Debug)]
pub struct Trained {
    pub artifact: Vec<u8>,
    pub build: api::Build,
}

/// Trains as the studio would, reporting each finished trial to `on_trial`
/// and each change of the build to `on_update`.
pub fn train(
    req: &TrainRequest,
    on_update: &dyn Fn(&api::Build),
    on_trial: &dyn Fn(&api::Build, &api::LeaderboardEntry),
) -> Result<Trained, TrainError> {
    let store = Store::throwaway()?;
    let label = req
        .data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    let file = store
        .receive_path(&req.data)
        .map_err(|e| TrainError::BadInput(format!("{}: {e}", req.data.display())))?;
    let options = ingest::ReadOptions::default();
    let detail = datasets::create(
        &store,
        &label,
        &label,
        file,
        &options,
        req.sheet.clone(),
        None,
    )?;
    let id = detail.summary.id;
    let recipe_version = match &req.recipe {
        Some(recipe) => Some(datasets::save_recipe(&store, &id, recipe)?.version),
        None => None,
    };
    let request = api::BuildRequest {
        dataset_id: id,
        target: req.target.clone(),
        task: None,
        time_budget_secs: req.budget_secs,
        seed: req.seed,
        exclude: req.exclude.clone(),
        allow: Vec::new(),
        recipe_version,
        families: Vec::new(),
        metric: None,
        max_trials: req.max_trials,
    };
    let plan = BuildPlan::new(&store, request)?;
    let mut build = plan.queued();
    store.save_build(&build)?;
    build.state = api::BuildState::Running;
    build.message = "loading the dataset".into();
    let progress = Report {
        on_update,
        on_trial,
    };
    let started = Instant::now();
    let outcome = build::run(
        &store,
        &plan,
        &mut build,
        &AtomicBool::new(false),
        started,
        &progress,
    );
    build.elapsed_secs = started.elapsed().as_secs_f64();
    match outcome {
        Ok(()) => {}
        Err(Failure::Cancelled) => {
            return Err(TrainError::Failed("the build was cancelled".into()));
        }
        Err(Failure::Failed(m)) => return Err(TrainError::Failed(m)),
        Err(Failure::Refused(m)) => return Err(TrainError::BadInput(m)),
    }
    let model = build
        .model_id
        .clone()
        .ok_or_else(|| TrainError::Failed("the build kept no model".into()))?;
    let artifact = store.model_bytes(&model)?;
    leaderboard::rank(&mut build.leaderboard, build.higher_is_better);
    Ok(Trained { artifact, build })
}

struct Report<'a> {
    on_update: &'a dyn Fn(&api::Build),
    on_trial: &'a dyn Fn(&api::Build, &api::LeaderboardEntry),
}

impl Progress for Report<'_> {
    fn update(&self, build: &api::Build) {
        (self.on_update)(build);
    }

    fn trial(&self, build: &api::Build, entry: &api::LeaderboardEntry, _spec: &str) {
        (self.on_trial)(build, entry);
    }
}

/// The path a `--out` names, checked before hours of training: its folder exists.
pub fn check_out(out: &Path) -> Result<(), TrainError> {
    match out.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(TrainError::BadInput(format!(
            "{}: the folder {} does not exist",
            out.display(),
            dir.display()
        ))),
        _ => Ok(()),
    }
}
