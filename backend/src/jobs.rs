//! Build jobs: a fixed pool of worker threads (never the async runtime)
//! takes queued builds and runs their plans (`crate::build`), with a
//! cancel flag per build; every change goes to the store and to a `watch`
//! channel the SSE stream reads. The same workers train leaderboard rows of
//! finished builds again on request (`build::train_trial`), whose state is
//! kept here until their model is stored. A panic fails its build (or its
//! row), not the server.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::Instant;

use tokio::sync::watch;

use crate::build::{self, Failure};
use crate::error::{AppError, AppResult};
use crate::forecast::ForecastPlan;
use crate::plan::BuildPlan;
use crate::storage::Store;

struct Live {
    cancel: Arc<AtomicBool>,
    tx: watch::Sender<api::Build>,
}

/// Work waiting for a worker.
enum Job {
    /// A build: its plan and its record.
    Build(Queued),
    /// Row `trial` of a finished build, to train again from its spec.
    Trial {
        plan: BuildPlan,
        build: api::Build,
        trial: u32,
        spec: String,
    },
    /// A forecast build, checked and prepared.
    Forecast(Box<ForecastPlan>),
}

struct Queued {
    plan: BuildPlan,
    build: api::Build,
}

/// A row being trained again, until its model is stored; a failure stays
/// (in memory) so the person who asked learns why.
#[derive(Debug, Clone)]
enum Training {
    Queued,
    Running,
    Failed(String),
}

pub struct Jobs {
    store: Arc<Store>,
    queue: Mutex<mpsc::Sender<Job>>,
    live: Mutex<HashMap<String, Live>>,
    training: Mutex<HashMap<(String, u32), Training>>,
    /// Forecasts queued or running.
    forecasts: Mutex<std::collections::HashSet<String>>,
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
        let (tx, rx) = mpsc::channel::<Job>();
        let jobs = Arc::new(Jobs {
            store,
            queue: Mutex::new(tx),
            live: Mutex::new(HashMap::new()),
            training: Mutex::new(HashMap::new()),
            forecasts: Mutex::new(std::collections::HashSet::new()),
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
                        let Ok(job) = next else { return };
                        let Some(jobs) = weak.upgrade() else { return };
                        match job {
                            Job::Build(queued) => jobs.run(queued),
                            Job::Trial {
                                plan,
                                build,
                                trial,
                                spec,
                            } => jobs.run_trial(&plan, &build, trial, &spec),
                            Job::Forecast(plan) => jobs.run_forecast(*plan),
                        }
                    }
                })
                .expect("spawning a worker thread");
        }
        jobs
    }

    /// Saves a new build of `plan` and queues it, unless `max_live` builds
    /// are already queued or running (blocking: it writes the store).
    pub fn submit(&self, plan: BuildPlan, max_live: usize) -> AppResult<api::Build> {
        let build = plan.queued();
        {
            let mut live = lock(&self.live);
            let busy = live.len() + self.active_training();
            if busy >= max_live {
                return Err(AppError::TooMany(format!(
                    "{busy} builds or leaderboard rows are already queued or running; wait for one to finish or cancel one"
                )));
            }
            let (tx, _) = watch::channel(build.clone());
            let cancel = Arc::new(AtomicBool::new(false));
            live.insert(build.id.clone(), Live { cancel, tx });
        }
        if let Err(e) = self.store.save_build(&build) {
            lock(&self.live).remove(&build.id);
            return Err(e.into());
        }
        // The receiver lives as long as the workers, which live as long as `self`.
        let _ = lock(&self.queue).send(Job::Build(Queued {
            plan,
            build: build.clone(),
        }));
        Ok(build)
    }

    /// Queues row `trial` of the finished `build` to be trained again from
    /// its `spec` with `plan` (the build's, planned again); a row already
    /// queued or training is left as it is. Counts against `max_live` with
    /// the builds.
    pub fn submit_trial(
        &self,
        plan: BuildPlan,
        build: api::Build,
        trial: u32,
        spec: String,
        max_live: usize,
    ) -> AppResult<api::TrialModel> {
        let key = (build.id.clone(), trial);
        {
            let live = lock(&self.live).len();
            let mut training = lock(&self.training);
            match training.get(&key) {
                Some(Training::Queued | Training::Running) => {}
                _ => {
                    let busy = live + active(&training);
                    if busy >= max_live {
                        return Err(AppError::TooMany(format!(
                            "{busy} builds or leaderboard rows are already queued or running; wait for one to finish"
                        )));
                    }
                    training.insert(key.clone(), Training::Queued);
                    let _ = lock(&self.queue).send(Job::Trial {
                        plan,
                        build,
                        trial,
                        spec,
                    });
                }
            }
        }
        Ok(self
            .trials(&key.0)
            .into_iter()
            .find(|t| t.trial == trial)
            .unwrap_or(api::TrialModel {
                trial,
                state: api::TrialModelState::Queued,
                model_id: None,
                error: None,
            }))
    }

    /// The rows of build `id` queued, training, or whose training failed.
    pub fn trials(&self, id: &str) -> Vec<api::TrialModel> {
        let mut rows: Vec<api::TrialModel> = lock(&self.training)
            .iter()
            .filter(|((b, _), _)| b == id)
            .map(|((_, trial), t)| {
                let (state, error) = match t {
                    Training::Queued => (api::TrialModelState::Queued, None),
                    Training::Running => (api::TrialModelState::Training, None),
                    Training::Failed(e) => (api::TrialModelState::Failed, Some(e.clone())),
                };
                api::TrialModel {
                    trial: *trial,
                    state,
                    model_id: None,
                    error,
                }
            })
            .collect();
        rows.sort_by_key(|t| t.trial);
        rows
    }

    /// Saves a planned forecast as queued and queues it, unless `max_live`
    /// builds, rows and forecasts are already queued or running.
    pub fn submit_forecast(&self, plan: ForecastPlan, max_live: usize) -> AppResult<api::Forecast> {
        let forecast = plan.forecast.clone();
        {
            let busy =
                lock(&self.live).len() + self.active_training() + lock(&self.forecasts).len();
            if busy >= max_live {
                return Err(AppError::TooMany(format!(
                    "{busy} builds, leaderboard rows or forecasts are already queued or running; wait for one to finish"
                )));
            }
            lock(&self.forecasts).insert(forecast.id.clone());
        }
        if let Err(e) = self.store.save_forecast(&forecast) {
            lock(&self.forecasts).remove(&forecast.id);
            return Err(e.into());
        }
        let _ = lock(&self.queue).send(Job::Forecast(Box::new(plan)));
        Ok(forecast)
    }

    /// Whether forecast `id` is queued or running.
    pub fn is_forecasting(&self, id: &str) -> bool {
        lock(&self.forecasts).contains(id)
    }

    fn run_forecast(&self, plan: ForecastPlan) {
        let mut record = plan.forecast.clone();
        record.state = api::BuildState::Running;
        if let Err(e) = self.store.save_forecast(&record) {
            tracing::error!(forecast = %record.id, error = %e, "saving a running forecast failed");
        }
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| crate::forecast::run(plan)));
        let failed = match outcome {
            Ok(Ok(done)) => {
                match self
                    .store
                    .finish_forecast(&done.forecast, &done.artifact, &done.stored)
                {
                    Ok(()) => {
                        tracing::info!(forecast = %record.id, secs = done.forecast.elapsed_secs, "forecast built");
                        None
                    }
                    Err(e) => Some(format!("its result could not be saved: {e}")),
                }
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => {
                tracing::error!(forecast = %record.id, "a forecast build panicked");
                Some(
                    "an internal error stopped this forecast; the details are in the server log"
                        .to_owned(),
                )
            }
        };
        if let Some(why) = failed {
            tracing::warn!(forecast = %record.id, error = %why, "forecast failed");
            record.state = api::BuildState::Failed;
            record.error = Some(why);
            record.elapsed_secs = started.elapsed().as_secs_f64();
            if let Err(e) = self.store.save_forecast(&record) {
                tracing::error!(forecast = %record.id, error = %e, "saving a failed forecast failed");
            }
        }
        lock(&self.forecasts).remove(&record.id);
    }

    /// Whether a row of build `id` is queued or training.
    pub fn is_training(&self, id: &str) -> bool {
        lock(&self.training)
            .iter()
            .any(|((b, _), t)| b == id && !matches!(t, Training::Failed(_)))
    }

    fn active_training(&self) -> usize {
        active(&lock(&self.training))
    }

    fn run_trial(&self, plan: &BuildPlan, build: &api::Build, trial: u32, spec: &str) {
        let key = (build.id.clone(), trial);
        lock(&self.training).insert(key.clone(), Training::Running);
        let never = AtomicBool::new(false);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            build::train_trial(&self.store, plan, build, trial, spec, &never)
        }));
        let failed = match outcome {
            Ok(Ok(model)) => {
                tracing::info!(build = %build.id, trial, %model, "leaderboard row trained");
                None
            }
            Ok(Err(Failure::Failed(why) | Failure::Refused(why))) => Some(why),
            Ok(Err(Failure::Cancelled)) => Some("it was cancelled".to_owned()),
            Err(_) => {
                tracing::error!(build = %build.id, trial, "training a leaderboard row panicked");
                Some("an internal error stopped it; the details are in the server log".to_owned())
            }
        };
        let mut training = lock(&self.training);
        match failed {
            Some(why) => {
                tracing::warn!(build = %build.id, trial, error = %why, "training a leaderboard row failed");
                training.insert(key, Training::Failed(why));
            }
            None => {
                training.remove(&key);
            }
        }
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

    /// Sends `build` to the live stream's subscribers.
    fn send(&self, build: &api::Build) {
        if let Some(l) = lock(&self.live).get(&build.id) {
            l.tx.send_replace(build.clone());
        }
    }

    fn run(&self, Queued { plan, mut build }: Queued) {
        let Some(cancel) = lock(&self.live)
            .get(&build.id)
            .map(|l| Arc::clone(&l.cancel))
        else {
            return;
        };
        if cancel.load(Ordering::Relaxed) {
            build.state = api::BuildState::Cancelled;
            build.message = "cancelled before it started".into();
            self.finish(build);
            return;
        }
        build.state = api::BuildState::Running;
        build.message = "loading the dataset".into();
        build::Progress::update(self, &build);
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            build::run(&self.store, &plan, &mut build, &cancel, started, self)
        }));
        build.elapsed_secs = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(Failure::Cancelled)) => {
                build.state = api::BuildState::Cancelled;
                build.message = "cancelled before any model finished".into();
            }
            Ok(Err(Failure::Failed(message) | Failure::Refused(message))) => {
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
                tracing::error!(build = %build.id, panic = %what, "build panicked");
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
}

/// A running build's progress goes to the store and to its subscribers.
impl build::Progress for Jobs {
    fn update(&self, build: &api::Build) {
        if let Err(e) = self.store.update_build(build) {
            tracing::error!(build = %build.id, error = %e, "saving build progress failed");
        }
        self.send(build);
    }

    fn trial(&self, build: &api::Build, entry: &api::LeaderboardEntry, spec: &str) {
        if let Err(e) = self.store.add_trial(build, entry, spec) {
            tracing::error!(build = %build.id, error = %e, "saving a trial failed");
        }
        self.send(build);
    }
}

/// Rows queued or training (not those that failed).
fn active(training: &HashMap<(String, u32), Training>) -> usize {
    training
        .values()
        .filter(|t| !matches!(t, Training::Failed(_)))
        .count()
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}
