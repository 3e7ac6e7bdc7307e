//! A build, planned once. [`BuildPlan::new`] checks a build request (a new
//! build or a re-run, the same code) and resolves it: the time budget, the
//! dataset, the recipe version, and the target and excluded columns with
//! their numbers against the dataset as that version prepares it. The
//! worker then runs exactly this plan (`crate::build`).
//!
//! The request is checked without reading the data: against the
//! [`PreparedColumns`] of the recipe version, found where the prepared
//! frame is at hand anyway (at upload for version 0, when a version is
//! saved) and kept in the store. Only a version saved before these were
//! kept is prepared once here, and its columns kept for the next build.
//! The worker, which prepares the data to train on, checks the same things
//! on the frame it trains on ([`BuildPlan::check`]).

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::storage::{StorageError, Store};
use crate::time;
use data::{DataFrame, convert};

/// The shortest and longest time budgets, in seconds.
pub const BUDGET_SECS: std::ops::RangeInclusive<u32> = 5..=86_400;

/// The smallest and largest trial budgets.
pub const TRIALS: std::ops::RangeInclusive<u32> = 1..=100_000;

/// A checked build request, with its recipe version resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildPlan {
    pub dataset_id: String,
    pub target: String,
    pub task: Option<api::Task>,
    pub time_budget_secs: u32,
    pub seed: u64,
    pub recipe: api::RecipeVersion,
    /// Columns left out of the features.
    pub exclude: Vec<String>,
    /// The model families to try (empty: the default set).
    pub families: Vec<String>,
    /// The ranking metric asked for (`None`: the task's default).
    pub metric: Option<api::RankingMetric>,
    /// Columns the leakage check flags that the build keeps anyway.
    pub allow: Vec<String>,
    /// Stop after this many trials (`None`: the time budget only).
    pub max_trials: Option<u32>,
}

impl BuildPlan {
    /// Checks `req` against the store (blocking: SQLite, and for a recipe
    /// version without prepared columns, the data).
    pub fn new(store: &Store, req: api::BuildRequest) -> AppResult<BuildPlan> {
        store.require_dataset(&req.dataset_id)?;
        if !BUDGET_SECS.contains(&req.time_budget_secs) {
            return Err(AppError::unprocessable(
                "invalid_budget",
                "the time budget must be between 5 seconds and 24 hours",
            ));
        }
        if let Some(n) = req.max_trials.filter(|n| !TRIALS.contains(n)) {
            return Err(AppError::unprocessable(
                "invalid_trials",
                format!("the trial budget must be between 1 and 100,000 trials, not {n}"),
            ));
        }
        let recipe = store.recipe(&req.dataset_id, req.recipe_version)?;
        check_target_kept(&recipe.recipe, &req.target)?;
        let columns = prepared_columns(store, &recipe)?;
        columns.check(&req.target, &req.exclude)?;
        columns.check_allowed(&req.allow)?;
        automl::check_families(&req.families)
            .map_err(|e| AppError::unprocessable("unknown_family", e.to_string()))?;
        check_metric(req.metric, req.task)?;
        Ok(BuildPlan {
            dataset_id: req.dataset_id,
            target: req.target,
            task: req.task,
            time_budget_secs: req.time_budget_secs,
            seed: req.seed,
            recipe,
            exclude: req.exclude,
            families: req.families,
            metric: req.metric,
            allow: req.allow,
            max_trials: req.max_trials,
        })
    }

    /// The request that plans a build again with the settings of `build`.
    pub fn rerun(build: &api::Build) -> api::BuildRequest {
        api::BuildRequest {
            dataset_id: build.dataset_id.clone(),
            target: build.target.clone(),
            task: build.task,
            time_budget_secs: build.time_budget_secs,
            seed: build.seed,
            exclude: build.excluded.clone(),
            recipe_version: Some(build.recipe_version),
            families: build.families.clone(),
            metric: build.ranking_metric,
            allow: build.allowed.clone(),
            max_trials: build.max_trials,
        }
    }

    /// The record of a new build of this plan, waiting for a worker.
    pub fn queued(&self) -> api::Build {
        api::Build {
            id: crate::storage::new_id(),
            dataset_id: self.dataset_id.clone(),
            target: self.target.clone(),
            task: self.task,
            state: api::BuildState::Queued,
            created: time::now_rfc3339(),
            time_budget_secs: self.time_budget_secs,
            seed: self.seed,
            recipe_version: self.recipe.version,
            excluded: self.exclude.clone(),
            families: self.families.clone(),
            ranking_metric: self.metric,
            max_trials: self.max_trials,
            allowed: self.allow.clone(),
            left_out: Vec::new(),
            leak_cost: None,
            metric: None,
            higher_is_better: false,
            validation: None,
            elapsed_secs: 0.0,
            trials_done: 0,
            message: "waiting for a free worker".into(),
            leaderboard: Vec::new(),
            model_id: None,
            error: None,
        }
    }

    /// The plan's checks on the prepared frame itself, before it is
    /// trained on (the columns, and every number of the columns used).
    pub fn check(&self, prepared: &DataFrame) -> Result<(), data::Error> {
        convert::check_build_columns(prepared, &self.target, &self.exclude)
    }
}

/// A ranking metric for another kind of problem than the one asked for is
/// refused before the build is queued; with the task detected, the search
/// refuses it, naming the metrics that apply.
fn check_metric(metric: Option<api::RankingMetric>, task: Option<api::Task>) -> AppResult<()> {
    match (metric, task) {
        (Some(m), Some(t)) if !m.applies_to(t) => {
            let fits: Vec<&str> = api::RankingMetric::ALL
                .iter()
                .filter(|m| m.applies_to(t))
                .map(|m| m.label())
                .collect();
            Err(AppError::unprocessable(
                "invalid_metric",
                format!(
                    "{} cannot rank {} models; choose one of: {}",
                    m.label(),
                    t.label(),
                    fits.join(", ")
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// A step other than a row filter that names the target would change
/// what the model predicts: `data::recipe::check_target_kept`, the rule
/// `data::recipe::apply` keeps with a target, checked on the steps alone so
/// that the request needs no data; the worker's `apply` checks it again.
fn check_target_kept(recipe: &api::Recipe, target: &str) -> AppResult<()> {
    Ok(data::recipe::check_target_kept(recipe, target)?)
}

/// The stored prepared columns of the recipe version, or (for a version
/// saved before they were kept, or kept unreadable) the version applied to
/// the data once, and its columns kept.
fn prepared_columns(store: &Store, recipe: &api::RecipeVersion) -> AppResult<PreparedColumns> {
    let dataset = &recipe.dataset_id;
    match store.prepared_columns(dataset, recipe.version) {
        Ok(Some(columns)) => return Ok(columns),
        Ok(None) | Err(StorageError::Corrupt { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let frame = store.dataset_frame(dataset)?;
    let applied = data::recipe::apply(frame, &recipe.recipe, None)?;
    let columns = PreparedColumns::of(&applied.frame)?;
    store.save_prepared_columns(dataset, recipe.version, &columns)?;
    Ok(columns)
}

/// The columns of a dataset after one version of its recipe, as far as a
/// build request is checked against them: the names in order, and the
/// numeric columns too large to train on with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedColumns {
    pub names: Vec<String>,
    #[serde(default)]
    pub too_large: Vec<TooLarge>,
}

/// A column whose numbers are too large to train on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TooLarge {
    pub column: String,
    /// The refusal `data::convert::check_magnitudes` gives for it.
    pub message: String,
}

/// The error code of a column too large to train on.
const TOO_LARGE: &str = "numbers_too_large";

impl PreparedColumns {
    /// The columns of the prepared `frame`, each numeric one checked by
    /// `data::convert::check_magnitudes`.
    pub fn of(frame: &DataFrame) -> Result<PreparedColumns, data::Error> {
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let mut too_large = Vec::new();
        for name in &names {
            match convert::check_magnitudes(frame, std::iter::once(name.as_str())) {
                Ok(()) => {}
                Err(data::Error::Unprocessable { code, message, .. }) if code == TOO_LARGE => {
                    too_large.push(TooLarge {
                        column: name.clone(),
                        message,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(PreparedColumns { names, too_large })
    }

    /// What `data::convert::check_build_columns` finds on the prepared
    /// frame, from these columns: the target and excluded columns exist,
    /// something is left to learn from, and no column used holds numbers
    /// too large (the first, in column order).
    /// Columns a request keeps despite the leakage check must exist.
    pub fn check_allowed(&self, allow: &[String]) -> AppResult<()> {
        let unknown: Vec<&str> = allow
            .iter()
            .map(String::as_str)
            .filter(|c| !self.names.iter().any(|n| n == c))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(AppError::unprocessable(
                "unknown_column",
                format!(
                    "cannot allow columns the prepared dataset lacks: {}",
                    unknown.join(", ")
                ),
            ))
        }
    }

    pub fn check(&self, target: &str, exclude: &[String]) -> AppResult<()> {
        convert::check_build_names(&self.names, target, exclude)?;
        match self.too_large.iter().find(|c| !exclude.contains(&c.column)) {
            Some(c) => Err(AppError::unprocessable(TOO_LARGE, c.message.clone())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str], too_large: &[&str]) -> PreparedColumns {
        PreparedColumns {
            names: names.iter().map(|n| n.to_string()).collect(),
            too_large: too_large
                .iter()
                .map(|c| TooLarge {
                    column: c.to_string(),
                    message: format!("column `{c}` holds numbers too large"),
                })
                .collect(),
        }
    }

    fn code(r: AppResult<()>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(AppError::Unprocessable { code, .. }) => code,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_request_is_checked_against_the_prepared_columns() {
        let c = columns(&["a", "huge", "y"], &["huge"]);
        let ex = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(code(c.check("y", &ex(&["huge"]))), "ok");
        assert_eq!(code(c.check("y", &[])), TOO_LARGE);
        assert_eq!(
            code(c.check("huge", &[])),
            TOO_LARGE,
            "the target's numbers count"
        );
        assert_eq!(code(c.check("nope", &[])), "unknown_column");
        assert_eq!(code(c.check("y", &ex(&["nope"]))), "unknown_column");
        assert_eq!(code(c.check("y", &ex(&["y"]))), "invalid_exclude");
        assert_eq!(code(c.check("y", &ex(&["a", "huge"]))), "no_features");
    }

    #[test]
    fn a_step_that_changes_the_target_is_refused_before_the_data_is_read() {
        let recipe: api::Recipe = serde_json::from_value(serde_json::json!({ "steps": [
            { "op": "drop_duplicates" },
            { "op": "log", "column": "y" },
        ] }))
        .unwrap();
        let Err(AppError::Unprocessable { message, .. }) = check_target_kept(&recipe, "y") else {
            panic!("the log step changes the target");
        };
        assert!(
            message.starts_with("step 2 (") && message.contains("changes the target `y`"),
            "{message}"
        );
        assert!(check_target_kept(&recipe, "x").is_ok());
    }
}
