//! Running a build's plan on a worker thread, in three steps: [`prepare`]
//! the data (the stored frame, the recipe version applied with the target
//! protected, the plan's checks, the excluded columns left out, the one
//! conversion to an engine `Dataset`), [`search`] with a deadline and a
//! cancel flag, turning each search event into the build's progress, and
//! [`keep`] the winner (the fitted recipe with the raw input columns, the
//! artifact checked for numbers a file cannot hold, insights, the model
//! record). `crate::jobs` owns the threads, the queue and the panic
//! boundary; this module is what one build does.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::error::AppError;
use crate::plan::BuildPlan;
use crate::storage::{NonFinite, StorageError, Store, first_non_finite, new_id};
use crate::{leaderboard, models};
use data::{convert, stats};

/// Why a build did not end with a model.
#[derive(Debug)]
pub enum Failure {
    /// Cancelled before any candidate finished.
    Cancelled,
    /// The reason, for the person who started it.
    Failed(String),
    /// The data or the request cannot make a model (too few rows, an
    /// unusable target, no feature, a recipe that does not apply): the
    /// reason, which `kiln train` reports as bad input.
    Refused(String),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::BadRequest { .. } | AppError::Unprocessable { .. } => {
                Failure::Refused(e.to_string())
            }
            other => Failure::Failed(other.to_string()),
        }
    }
}

impl From<data::Error> for Failure {
    fn from(e: data::Error) -> Self {
        match e {
            data::Error::Internal(_) => Failure::Failed(e.to_string()),
            other => Failure::Refused(other.to_string()),
        }
    }
}

/// An engine error as a failure: the data's fault, or not.
fn engine_failure(e: automl::Error) -> Failure {
    match e {
        automl::Error::TooFewRows { .. }
        | automl::Error::Target { .. }
        | automl::Error::NoFeatures
        | automl::Error::MissingColumn(_)
        | automl::Error::Recipe { .. } => Failure::Refused(e.to_string()),
        other => Failure::Failed(other.to_string()),
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Failure::Failed(e.to_string())
    }
}

/// Where a running build reports its progress (the store and the live
/// stream, in `crate::jobs`).
pub trait Progress {
    /// The build changed (state, message, counts).
    fn update(&self, build: &api::Build);
    /// A trial finished: `entry` was added to `build.leaderboard`; `spec`
    /// is what trains it again ([`train_trial`]).
    fn trial(&self, build: &api::Build, entry: &api::LeaderboardEntry, spec: &str);
}

/// Runs `plan`, started at `started`, updating `build` as it goes; on
/// success the build has its model and its final state.
pub fn run(
    store: &Store,
    plan: &BuildPlan,
    build: &mut api::Build,
    cancel: &AtomicBool,
    started: Instant,
    progress: &dyn Progress,
) -> Result<(), Failure> {
    let mut prepared = prepare(store, plan, build, progress)?;
    let budget = Duration::from_secs(u64::from(plan.time_budget_secs));
    // With leaks left out, the budget's last share measures what they would have scored.
    let search_budget = if build.left_out.is_empty() {
        budget
    } else {
        budget.mul_f64(1.0 - LEAK_COST_SHARE)
    };
    let outcome = search(
        plan,
        &prepared.data,
        build,
        cancel,
        started,
        started + search_budget,
        progress,
    )?;
    if !build.left_out.is_empty() && !outcome.cancelled {
        build.leak_cost = leak_cost(
            plan,
            build,
            &mut prepared,
            &outcome,
            cancel,
            started + budget,
            progress,
        );
    }
    keep(store, plan, build, outcome, prepared, started, progress)
}

/// The share of a build's budget kept for measuring what the columns it
/// left out as leaks would have scored ([`leak_cost`]).
const LEAK_COST_SHARE: f64 = 0.1;

/// What the search's best single model (not an ensemble) scores with the
/// columns the build left out as leaks: its row validated again on the
/// same splits with them (`automl::rescore`), by `by`. `None` without such
/// a row; unmeasured, with why, when it cannot finish.
fn leak_cost(
    plan: &BuildPlan,
    build: &mut api::Build,
    prepared: &mut Prepared,
    outcome: &automl::SearchOutcome,
    cancel: &AtomicBool,
    by: Instant,
    progress: &dyn Progress,
) -> Option<api::LeakCost> {
    let row = outcome.leaderboard.iter().find(|r| !r.is_ensemble())?;
    build.message = format!(
        "measuring what {} would score with the columns left out",
        row.family
    );
    progress.update(build);
    let config = search_config(plan);
    let control = automl::Control {
        deadline: Some(by),
        cancel,
    };
    // The leak columns join the data for one validation and leave again.
    let width = prepared.data.names().len();
    let leaks = std::mem::take(&mut prepared.leaks);
    let with = match prepared.data.extend(leaks) {
        Ok(()) => {
            let with = automl::rescore(&prepared.data, &config, &row.spec, control);
            prepared.leaks = prepared.data.split_off(width);
            with
        }
        Err(e) => Err(e),
    };
    let (with, unmeasured) = match with {
        Ok(score) if score.is_finite() => (Some(score), None),
        Ok(_) => (None, Some("its score was not a finite number".to_owned())),
        Err(automl::Error::DeadlineEmpty) => (
            None,
            Some("the time budget ran out before it finished".to_owned()),
        ),
        Err(automl::Error::CancelledEmpty) => (None, Some("the build was cancelled".to_owned())),
        Err(e) => (None, Some(e.to_string())),
    };
    Some(api::LeakCost {
        trial: row.trial,
        family: row.family.clone(),
        metric: outcome.metric.name().to_owned(),
        without: row.score,
        with,
        unmeasured,
    })
}

/// The data a build trains on.
pub struct Prepared {
    /// The prepared columns the search sees.
    pub data: automl::Dataset,
    /// With a recipe or excluded columns: the dataset's own columns, which
    /// the model takes as inputs (and its insights are computed on).
    pub raw: Option<automl::Dataset>,
    /// The recipe's fitted row-wise steps.
    pub fitted: Vec<automl::FittedStep>,
    /// The columns left out as leaks, prepared as `data` is.
    pub leaks: Vec<(String, automl::Column)>,
}

/// The stored dataset prepared by the plan's recipe version, checked, and
/// converted for the engine.
pub fn prepare(
    store: &Store,
    plan: &BuildPlan,
    build: &mut api::Build,
    progress: &dyn Progress,
) -> Result<Prepared, Failure> {
    let raw = store.dataset_frame(&plan.dataset_id).map_err(|e| match e {
        StorageError::NotFound(_) => Failure::Failed("the dataset was deleted".into()),
        other => other.into(),
    })?;
    let no_recipe = plan.recipe.recipe.steps.is_empty();
    let (frame, fitted) = if no_recipe {
        (raw.clone(), Vec::new())
    } else {
        build.message = format!("applying recipe version {}", plan.recipe.version);
        progress.update(build);
        // A frame's clone shares its columns.
        let applied = data::recipe::apply(raw.clone(), &plan.recipe.recipe, Some(&plan.target))?;
        (applied.frame, applied.fitted)
    };
    plan.check(&frame)?;
    let left_out = leaks(plan, build, &frame, progress)?;
    if no_recipe && plan.exclude.is_empty() && left_out.is_empty() {
        return Ok(Prepared {
            data: convert::frame_to_dataset(&raw)?,
            raw: None,
            fitted: Vec::new(),
            leaks: Vec::new(),
        });
    }
    let leaks = if left_out.is_empty() {
        Vec::new()
    } else {
        let columns = frame
            .select(&left_out)
            .map_err(|e| Failure::Failed(format!("the columns that leak the target: {e}")))?;
        convert::frame_to_dataset(&columns)?.into_columns()
    };
    let kept = frame.drop_many(plan.exclude.iter().chain(&left_out).map(String::as_str));
    let data = convert::frame_to_dataset(&kept)?;
    drop(kept);
    Ok(Prepared {
        data,
        raw: Some(convert::frame_to_dataset(&raw)?),
        fitted,
        leaks,
    })
}

/// The columns of the dataset that leak the target (`data::quality::leaks`:
/// certain and likely leaks, by value or by missingness), unless the plan
/// allows or already excludes them: left out of the features, and listed
/// with why in `build.left_out`. Checked on the frame the search trains
/// on (the recipe applied).
fn leaks(
    plan: &BuildPlan,
    build: &mut api::Build,
    raw: &data::DataFrame,
    progress: &dyn Progress,
) -> Result<Vec<String>, Failure> {
    build.message = "checking the columns for target leakage".into();
    progress.update(build);
    let found = data::quality::leaks(raw, &plan.target)?;
    build.left_out = found
        .into_iter()
        .filter(|l| !plan.allow.contains(&l.column) && !plan.exclude.contains(&l.column))
        .collect();
    Ok(build.left_out.iter().map(|l| l.column.clone()).collect())
}

/// `automl::search` on `data` until `deadline`, reporting each event.
pub fn search(
    plan: &BuildPlan,
    data: &automl::Dataset,
    build: &mut api::Build,
    cancel: &AtomicBool,
    started: Instant,
    deadline: Instant,
    progress: &dyn Progress,
) -> Result<automl::SearchOutcome, Failure> {
    let config = search_config(plan);
    let control = automl::Control {
        deadline: Some(deadline),
        cancel,
    };
    let mut on_event = |ev: &automl::SearchEvent| {
        let entry = record(build, ev, started);
        build.elapsed_secs = started.elapsed().as_secs_f64();
        match (entry, ev) {
            (Some(entry), automl::SearchEvent::Trial(t)) => progress.trial(build, &entry, &t.spec),
            _ => progress.update(build),
        }
    };
    automl::search(data, &config, control, &mut on_event).map_err(|e| match e {
        automl::Error::CancelledEmpty => Failure::Cancelled,
        other => engine_failure(other),
    })
}

/// The engine's settings for the plan.
fn search_config(plan: &BuildPlan) -> automl::SearchConfig {
    let mut config = automl::SearchConfig::new(&plan.target);
    config.task = plan.task.map(models::to_automl_task);
    config.seed = plan.seed;
    config.families = plan.families.clone();
    config.metric = plan.metric.map(models::to_automl_metric);
    config.max_trials = plan.max_trials.map(|n| n as usize);
    config
}

/// Applies a search event to the build; returns the leaderboard entry a
/// finished trial added.
fn record(
    build: &mut api::Build,
    ev: &automl::SearchEvent,
    started: Instant,
) -> Option<api::LeaderboardEntry> {
    match ev {
        automl::SearchEvent::Started {
            task,
            metric,
            rows,
            features,
            validation,
        } => {
            build.task = Some(models::to_api_task(*task));
            build.metric = Some(metric.name().to_owned());
            build.higher_is_better = metric.higher_is_better();
            build.validation = Some(validation.clone());
            build.message = format!(
                "training on {rows} rows and {features} features, validated by {validation}"
            );
            None
        }
        automl::SearchEvent::Trial(t) => {
            build.trials_done += 1;
            build.message = format!("{} trials done", build.trials_done);
            let entry = leaderboard::entry(t, started.elapsed().as_secs_f64());
            // A candidate without a usable score (its predictions
            // overflowed or diverged) cannot be ranked, and its NaN could
            // not be stored: it is left off the board.
            if let Some(found) = first_non_finite(&entry) {
                tracing::warn!(
                    build = %build.id,
                    trial = t.trial,
                    family = %t.family,
                    field = %found.path,
                    value = found.value,
                    "a trial without a finite score is left off the leaderboard"
                );
                return None;
            }
            build.leaderboard.push(entry.clone());
            leaderboard::rank(&mut build.leaderboard, build.higher_is_better);
            Some(entry)
        }
        automl::SearchEvent::Refitting { .. } => {
            build.message = "refitting the best model on all rows".into();
            None
        }
    }
}

/// The rows of `data` with a target value: those the model trained on,
/// and so the ones its explanations sample.
fn training_rows(data: automl::Dataset, target: &str) -> automl::Dataset {
    let Ok(col) = data.require(target) else {
        return data;
    };
    let rows: Vec<usize> = (0..data.n_rows()).filter(|&r| !col.is_missing(r)).collect();
    if rows.len() == data.n_rows() {
        return data;
    }
    let names: Vec<&str> = data.names().iter().map(String::as_str).collect();
    match data.select(&names, &rows) {
        Ok(d) => d,
        Err(_) => data,
    }
}

/// Keeps the search's winner ([`save_model`]); the build gets its model
/// and final state.
pub fn keep(
    store: &Store,
    plan: &BuildPlan,
    build: &mut api::Build,
    outcome: automl::SearchOutcome,
    prepared: Prepared,
    started: Instant,
    progress: &dyn Progress,
) -> Result<(), Failure> {
    let cancelled = outcome.cancelled;
    build.message = "explaining the model".into();
    progress.update(build);
    // Explanations get what is left of 1.05 × budget + 2 s (at least one chunk of rows).
    let explain_by =
        started + Duration::from_secs_f64(f64::from(plan.time_budget_secs) * 1.05 + 2.0);
    let model_id = save_model(store, plan, build, outcome, prepared, explain_by)?;
    build.model_id = Some(model_id);
    if cancelled {
        build.state = api::BuildState::Cancelled;
        build.message = "cancelled; the best model finished so far was kept".into();
    } else {
        build.state = api::BuildState::Succeeded;
        build.message = format!("done: {} trials", build.trials_done);
    }
    Ok(())
}

/// Trains row `trial` of a finished build again from its `spec`
/// (`automl::retrain`: validated on the build's splits, refit on every
/// row) on the data its plan prepares, and keeps it as a model of the build
/// ([`save_model`]); returns the model's id. `plan` is the build's, planned
/// again (`BuildPlan::rerun`), so the rows, seed and metric are the same.
pub fn train_trial(
    store: &Store,
    plan: &BuildPlan,
    build: &api::Build,
    trial: u32,
    spec: &str,
    cancel: &AtomicBool,
) -> Result<String, Failure> {
    let started = Instant::now();
    let mut scratch = build.clone();
    let prepared = prepare(store, plan, &mut scratch, &Quiet)?;
    let config = search_config(plan);
    // As long as the whole build was given, and explanations the same again.
    let budget = Duration::from_secs(u64::from(plan.time_budget_secs).max(60));
    let control = automl::Control {
        deadline: Some(started + budget),
        cancel,
    };
    let outcome = automl::retrain(&prepared.data, &config, trial, spec, control).map_err(|e| {
        match e {
            automl::Error::CancelledEmpty => Failure::Cancelled,
            automl::Error::DeadlineEmpty => Failure::Failed(format!(
                "training it again took longer than {}; its build may have been cut short by its time budget",
                api::display::plural(budget.as_secs(), "second", "seconds")
            )),
            other => Failure::Failed(other.to_string()),
        }
    })?;
    save_model(
        store,
        plan,
        build,
        outcome,
        prepared,
        started + budget.mul_f64(2.0),
    )
}

/// Progress that goes nowhere: a row trained again reports only its end.
struct Quiet;

impl Progress for Quiet {
    fn update(&self, _: &api::Build) {}
    fn trial(&self, _: &api::Build, _: &api::LeaderboardEntry, _: &str) {}
}

/// Saves a model of `build` from a search (or retrain) outcome: the
/// artifact with its fitted recipe, checked for numbers a file cannot
/// hold, its insights (computed until `explain_by`) and its record, which
/// names the leaderboard row it is. Returns the model's id.
fn save_model(
    store: &Store,
    plan: &BuildPlan,
    build: &api::Build,
    mut outcome: automl::SearchOutcome,
    prepared: Prepared,
    explain_by: Instant,
) -> Result<String, Failure> {
    // The model takes the dataset's own columns and applies the recipe itself.
    if let Some(raw) = &prepared.raw {
        outcome.artifact.recipe = Some(model_recipe(
            plan.recipe.version,
            prepared.fitted,
            &outcome.artifact.schema,
            raw,
        ));
    }
    // The truth of the out-of-fold rows, for the monitoring baseline's metric.
    let truth = prepared
        .data
        .column(&plan.target)
        .map(|c| crate::monitoring::truth_at(c, &outcome.oof.rows, outcome.task));
    let data = training_rows(prepared.raw.unwrap_or(prepared.data), &plan.target);
    outcome.artifact.left_out = build
        .left_out
        .iter()
        .map(|l| automl::LeftOutColumn {
            column: l.column.clone(),
            reason: l.reason.clone(),
        })
        .collect();
    if let Some(found) = first_non_finite(&outcome.artifact) {
        return Err(Failure::Failed(unsavable_model(&outcome.artifact, &found)));
    }
    let model_id = new_id();
    let oof = serde_json::to_vec(&crate::fairness::OutOfFold::of(&outcome.oof))
        .map_err(|e| Failure::Failed(format!("keeping the out-of-fold predictions: {e}")))?;
    let bytes = outcome.artifact.to_json();
    let mut summary = models::summary(&model_id, build, &outcome.artifact, bytes.len() as u64);
    summary.recipe = plan
        .recipe
        .recipe
        .steps
        .iter()
        .map(api::Step::describe)
        .collect();
    summary.evaluation = Some(models::to_api_evaluation(&outcome.evaluation));
    summary.trial = Some(outcome.best_trial);
    let insights = outcome
        .artifact
        .insights(&data, plan.seed, Some(explain_by))
        .map_err(AppError::from)
        .and_then(|ins| models::to_api_insights(&ins));
    summary.insights = match insights {
        Ok(ins) => Some(ins),
        Err(e) => {
            tracing::warn!(build = %build.id, error = %e, "no insights for this model");
            None
        }
    };
    store.save_model(&summary, &bytes, &oof)?;
    // The monitoring baseline: kept beside the model; a model without one
    // is still a model (monitoring says so), so a failure is logged.
    let importance = summary
        .insights
        .as_ref()
        .map(|i| {
            i.importance
                .iter()
                .map(|f| (f.feature.clone(), f.mean_abs_shap))
                .collect()
        })
        .unwrap_or_default();
    let baseline = automl::monitor::Baseline::fit(
        outcome.artifact.inputs(),
        &data,
        &automl::monitor::Outputs::of(&outcome.oof.predictions),
        truth.as_ref(),
        importance,
    );
    if let Err(e) = serde_json::to_vec(&baseline)
        .map_err(|e| AppError::Internal(e.to_string()))
        .and_then(|b| Ok(store.save_baseline(&model_id, &b)?))
    {
        tracing::warn!(model = %model_id, error = %e, "no monitoring baseline for this model");
    }
    Ok(model_id)
}

/// The recipe a model carries: the fitted row-wise steps, and as inputs the
/// dataset columns its features come from, with their statistics.
fn model_recipe(
    version: u32,
    steps: Vec<automl::FittedStep>,
    schema: &automl::Schema,
    raw: &automl::Dataset,
) -> automl::Recipe {
    let features: Vec<String> = schema.features.iter().map(|f| f.name.clone()).collect();
    let mut recipe = automl::Recipe::for_features(version, steps, &features, raw);
    for input in &mut recipe.inputs {
        if let Some(col) = raw.column(&input.name) {
            finite_moments(input, col);
        }
    }
    recipe
}

/// `FeatureStats::fit` adds the numbers and their squared deviations as
/// they are, which overflows for numbers beyond about ±1e154. A raw input
/// that only the recipe reads (a log step rescales it) is still saved with
/// the model, so an infinite mean or spread is recomputed on scaled values
/// ([`stats::Moments`]: the same population figures, finite); a spread
/// beyond the largest double is the largest double.
fn finite_moments(stats: &mut automl::FeatureStats, col: &automl::Column) {
    if stats.mean.is_finite() && stats.std.is_finite() {
        return;
    }
    let automl::Column::Numeric(values) = col else {
        return;
    };
    let Some(m) = stats::Moments::of(values) else {
        return;
    };
    let n = m.n as f64;
    stats.mean = m.mean;
    stats.std = match m.std {
        // The sample spread (n − 1) as the population one (n).
        Some(s) => s * ((n - 1.0) / n).sqrt(),
        None if m.n < 2 => 0.0,
        None => f64::MAX,
    };
}

/// Why a trained model cannot be saved: the number a model file cannot hold,
/// and which column it comes from when the path names a feature.
fn unsavable_model(artifact: &automl::ModelArtifact, found: &NonFinite) -> String {
    let feature = |prefix: &str, names: &[String]| {
        let rest = found.path.strip_prefix(prefix)?;
        let i: usize = rest.split(']').next()?.parse().ok()?;
        names.get(i).cloned()
    };
    let features: Vec<String> = artifact
        .schema
        .features
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let inputs: Vec<String> = artifact
        .recipe
        .as_ref()
        .map(|r| r.inputs.iter().map(|f| f.name.clone()).collect())
        .unwrap_or_default();
    let column =
        feature("schema.features[", &features).or_else(|| feature("recipe.inputs[", &inputs));
    let hint = match column {
        Some(c) => format!(
            ": the statistics of column `{c}` overflow, its numbers are too large to add up; rescale it (a log step in the recipe does) or leave it out, and build again"
        ),
        None => ": some numbers of the data are too large to compute with; rescale them (a log step in the recipe does) and build again".to_owned(),
    };
    format!(
        "the trained model could not be saved, because `{}` in it is {}, which a model file cannot hold{hint}",
        found.path, found.value
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use automl::Column;

    #[test]
    fn explanations_sample_only_rows_with_a_target() {
        let data = automl::Dataset::new(vec![
            ("x".into(), Column::Numeric(vec![1.0, 2.0, 3.0, 4.0])),
            (
                "y".into(),
                Column::Categorical(vec![Some("a".into()), None, Some("b".into()), None]),
            ),
        ])
        .unwrap();
        let kept = training_rows(data.clone(), "y");
        assert_eq!(kept.n_rows(), 2);
        assert_eq!(kept.require("x").unwrap(), &Column::Numeric(vec![1.0, 3.0]));
        // Without the target among the columns, every row stays.
        assert_eq!(training_rows(data, "z").n_rows(), 4);
    }
}
