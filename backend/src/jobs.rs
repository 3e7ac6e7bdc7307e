//! Build jobs: a fixed pool of worker threads (never the async runtime)
//! takes queued builds, runs `automl::search` with a deadline and a cancel
//! flag, publishes every change through a `watch` channel (the SSE stream
//! reads it) and SQLite (each finished trial appended to its build's
//! trials), and stores the artifact. A panic fails its build,
//! not the server.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::error::AppError;
use crate::storage::{Store, first_non_finite, new_id};
use crate::{leaderboard, models};
use data::{convert, stats};

struct Live {
    cancel: Arc<AtomicBool>,
    tx: watch::Sender<api::Build>,
}

pub struct Jobs {
    store: Arc<Store>,
    queue: Mutex<mpsc::Sender<String>>,
    live: Mutex<HashMap<String, Live>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Jobs {
    /// Starts `workers` threads; builds beyond that wait in the queue.
    pub fn start(store: Arc<Store>, workers: usize) -> Arc<Jobs> {
        let (tx, rx) = mpsc::channel::<String>();
        let jobs = Arc::new(Jobs {
            store,
            queue: Mutex::new(tx),
            live: Mutex::new(HashMap::new()),
        });
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers.max(1) {
            let rx = Arc::clone(&rx);
            let weak: Weak<Jobs> = Arc::downgrade(&jobs);
            std::thread::Builder::new()
                .name(format!("kiln-build-{i}"))
                .spawn(move || {
                    loop {
                        let next = lock(&rx).recv();
                        let Ok(id) = next else { return };
                        let Some(jobs) = weak.upgrade() else { return };
                        jobs.run(&id);
                    }
                })
                .expect("spawning a worker thread");
        }
        jobs
    }

    /// Queues a build that is already saved in the store.
    pub fn submit(&self, build: api::Build) {
        let (tx, _) = watch::channel(build.clone());
        lock(&self.live).insert(
            build.id.clone(),
            Live {
                cancel: Arc::new(AtomicBool::new(false)),
                tx,
            },
        );
        // The receiver lives as long as the workers, which live as long as `self`.
        let _ = lock(&self.queue).send(build.id);
    }

    /// Builds queued or running.
    pub fn live(&self) -> usize {
        lock(&self.live).len()
    }

    /// Whether the build is queued or running.
    pub fn is_live(&self, id: &str) -> bool {
        lock(&self.live).contains_key(id)
    }

    pub fn subscribe(&self, id: &str) -> Option<watch::Receiver<api::Build>> {
        lock(&self.live).get(id).map(|l| l.tx.subscribe())
    }

    /// Asks a queued or running build to stop; false when it is not live.
    pub fn cancel(&self, id: &str) -> bool {
        match lock(&self.live).get(id) {
            Some(l) => {
                l.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Saves the build's progress (not its trials) and sends it to the live stream.
    fn publish(&self, build: &api::Build) {
        if let Err(e) = self.store.update_build(build) {
            tracing::error!(build = %build.id, error = %e, "saving build progress failed");
        }
        self.send(build);
    }

    /// Appends a finished trial to the build's stored trials, saves its
    /// progress and sends it to the live stream.
    fn publish_trial(&self, build: &api::Build, entry: &api::LeaderboardEntry) {
        if let Err(e) = self.store.add_trial(build, entry) {
            tracing::error!(build = %build.id, error = %e, "saving a trial failed");
        }
        self.send(build);
    }

    /// Sends `build` to the live stream's subscribers.
    fn send(&self, build: &api::Build) {
        if let Some(l) = lock(&self.live).get(&build.id) {
            l.tx.send_replace(build.clone());
        }
    }

    fn run(&self, id: &str) {
        let Some(cancel) = lock(&self.live).get(id).map(|l| Arc::clone(&l.cancel)) else {
            return;
        };
        let mut build = match self.store.build(id) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(build = %id, error = %e, "queued build vanished");
                lock(&self.live).remove(id);
                return;
            }
        };
        if cancel.load(Ordering::Relaxed) {
            build.state = api::BuildState::Cancelled;
            build.message = "cancelled before it started".into();
            self.finish(build);
            return;
        }
        build.state = api::BuildState::Running;
        build.message = "loading the dataset".into();
        self.publish(&build);
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.execute(&mut build, &cancel, started)
        }));
        build.elapsed_secs = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(BuildError::Cancelled)) => {
                build.state = api::BuildState::Cancelled;
                build.message = "cancelled before any model finished".into();
            }
            Ok(Err(BuildError::Failed(message))) => {
                build.state = api::BuildState::Failed;
                build.message = "the build failed".into();
                build.error = Some(message);
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(build = %id, panic = %what, "build panicked");
                build.state = api::BuildState::Failed;
                build.message = "the build failed".into();
                build.error = Some(
                    "an internal error stopped this build; the details are in the server log"
                        .into(),
                );
            }
        }
        self.finish(build);
    }

    fn finish(&self, mut build: api::Build) {
        if let Err(e) = self.store.update_build(&build) {
            // The final state must reach the store, or the build would stay
            // "running" there: record the failure itself, without what failed.
            tracing::error!(build = %build.id, error = %e, "saving the finished build failed");
            build.elapsed_secs = finite_or_zero(build.elapsed_secs);
            build.state = api::BuildState::Failed;
            build.message = "the build failed".into();
            build.error = Some(format!("its result could not be saved: {e}"));
            if let Err(e) = self.store.update_build(&build) {
                tracing::error!(build = %build.id, error = %e, "saving the failed build failed");
            }
        }
        self.send(&build);
        lock(&self.live).remove(&build.id);
    }

    fn execute(
        &self,
        build: &mut api::Build,
        cancel: &AtomicBool,
        started: Instant,
    ) -> Result<(), BuildError> {
        let store = &self.store;
        store
            .require_dataset(&build.dataset_id)
            .map_err(|_| BuildError::Failed("the dataset was deleted".into()))?;
        let recipe = store
            .recipe(&build.dataset_id, Some(build.recipe_version))
            .map_err(|e| BuildError::Failed(e.to_string()))?;
        let raw = store
            .dataset_frame(&build.dataset_id)
            .map_err(|e| BuildError::Failed(e.to_string()))?;
        // Checked when the build was made, and again here for reruns of
        // builds made before the check.
        let check = |frame: &data::DataFrame| {
            let names = frame.get_column_names();
            convert::check_magnitudes(frame, names.iter().map(|n| n.as_str()))
                .map_err(BuildError::from)
        };
        let (data, raw_data, fitted) =
            if recipe.recipe.steps.is_empty() && build.excluded.is_empty() {
                check(&raw)?;
                (
                    convert::frame_to_dataset(&raw).map_err(BuildError::from)?,
                    None,
                    Vec::new(),
                )
            } else {
                build.message = format!("applying recipe version {}", recipe.version);
                self.publish(build);
                let applied = data::recipe::apply(raw.clone(), &recipe.recipe, Some(&build.target))
                    .map_err(BuildError::from)?;
                let kept = applied
                    .frame
                    .drop_many(build.excluded.iter().map(String::as_str));
                check(&kept)?;
                (
                    convert::frame_to_dataset(&kept).map_err(BuildError::from)?,
                    Some(convert::frame_to_dataset(&raw).map_err(BuildError::from)?),
                    applied.fitted,
                )
            };
        drop(raw);
        let mut config = automl::SearchConfig::new(&build.target);
        config.task = build.task.map(models::to_automl_task);
        config.seed = build.seed;
        config.created = build.created.clone();
        let deadline = started + Duration::from_secs(u64::from(build.time_budget_secs));
        let control = automl::Control {
            deadline: Some(deadline),
            cancel,
        };
        let mut on_event = |ev: &automl::SearchEvent| {
            let mut added = None;
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
                }
                automl::SearchEvent::Trial(t) => {
                    build.trials_done += 1;
                    let entry = leaderboard::entry(t, started.elapsed().as_secs_f64());
                    // A candidate without a usable score (its predictions
                    // overflowed or diverged) cannot be ranked, and its
                    // NaN could not be stored: it is left off the board.
                    if let Some(found) = first_non_finite(&entry) {
                        tracing::warn!(
                            build = %build.id,
                            trial = t.trial,
                            family = %t.family,
                            field = %found.path,
                            value = found.value,
                            "a trial without a finite score is left off the leaderboard"
                        );
                    } else {
                        build.leaderboard.push(entry.clone());
                        leaderboard::rank(&mut build.leaderboard, build.higher_is_better);
                        added = Some(entry);
                    }
                    build.message = format!("{} trials done", build.trials_done);
                }
                automl::SearchEvent::Refitting { .. } => {
                    build.message = "refitting the best model on all rows".into();
                }
            }
            build.elapsed_secs = started.elapsed().as_secs_f64();
            match added {
                Some(entry) => self.publish_trial(build, &entry),
                None => self.publish(build),
            }
        };
        let mut outcome =
            automl::search(&data, &config, control, &mut on_event).map_err(|e| match e {
                automl::Error::CancelledEmpty => BuildError::Cancelled,
                other => BuildError::Failed(other.to_string()),
            })?;
        // The model takes the dataset's own columns and applies the recipe itself.
        if let Some(raw) = &raw_data {
            outcome.artifact.recipe = Some(model_recipe(
                recipe.version,
                fitted,
                &outcome.artifact.schema,
                raw,
            ));
        }
        let data = raw_data.unwrap_or(data);
        if let Some(found) = first_non_finite(&outcome.artifact) {
            return Err(BuildError::Failed(unsavable_model(
                &outcome.artifact,
                &found,
            )));
        }
        let model_id = new_id();
        let bytes = outcome.artifact.to_json();
        let mut summary = models::summary(&model_id, build, &outcome.artifact, bytes.len() as u64);
        summary.recipe = recipe
            .recipe
            .steps
            .iter()
            .map(api::Step::describe)
            .collect();
        summary.evaluation = Some(models::to_api_evaluation(&outcome.evaluation));
        build.message = "explaining the model".into();
        self.publish(build);
        // Explanations get what is left of 1.05 × budget + 2 s (at least one chunk of rows).
        let explain_by =
            started + Duration::from_secs_f64(f64::from(build.time_budget_secs) * 1.05 + 2.0);
        let insights = outcome
            .artifact
            .insights(&data, build.seed, Some(explain_by))
            .map_err(AppError::from)
            .and_then(|ins| models::to_api_insights(&ins));
        summary.insights = match insights {
            Ok(ins) => Some(ins),
            Err(e) => {
                tracing::warn!(build = %build.id, error = %e, "no insights for this model");
                None
            }
        };
        store
            .save_model(&summary, &bytes)
            .map_err(|e| BuildError::Failed(e.to_string()))?;
        build.model_id = Some(model_id);
        if outcome.cancelled {
            build.state = api::BuildState::Cancelled;
            build.message = "cancelled; the best model finished so far was kept".into();
        } else {
            build.state = api::BuildState::Succeeded;
            build.message = format!("done: {} trials", build.trials_done);
        }
        Ok(())
    }
}

/// The recipe a model carries: the fitted row-wise steps, and as inputs the
/// dataset columns its features come from, with their statistics.
fn model_recipe(
    version: u32,
    steps: Vec<automl::FittedStep>,
    schema: &automl::Schema,
    raw: &automl::Dataset,
) -> automl::Recipe {
    let mut recipe = automl::Recipe {
        version,
        inputs: Vec::new(),
        steps,
    };
    let features: Vec<String> = schema.features.iter().map(|f| f.name.clone()).collect();
    let rows: Vec<usize> = (0..raw.n_rows()).collect();
    for source in recipe.sources(&features) {
        if recipe.inputs.iter().any(|i| i.name == source) {
            continue;
        }
        if let Some(col) = raw.column(&source) {
            let mut stats = automl::FeatureStats::fit(&source, col, &rows);
            finite_moments(&mut stats, col);
            recipe.inputs.push(stats);
        }
    }
    // Inputs in the dataset's column order.
    let order = |name: &str| raw.names().iter().position(|n| n == name);
    recipe.inputs.sort_by_key(|i| order(&i.name));
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
fn unsavable_model(artifact: &automl::ModelArtifact, found: &crate::storage::NonFinite) -> String {
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

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

enum BuildError {
    Cancelled,
    Failed(String),
}

impl From<AppError> for BuildError {
    fn from(e: AppError) -> Self {
        BuildError::Failed(e.to_string())
    }
}

impl From<data::Error> for BuildError {
    fn from(e: data::Error) -> Self {
        BuildError::Failed(e.to_string())
    }
}
