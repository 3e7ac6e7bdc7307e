//! Build jobs: a fixed pool of worker threads (never the async runtime)
//! takes queued builds and runs their plans (`crate::build`), with a
//! cancel flag per build; every change goes to the store and to a `watch`
//! channel the SSE stream reads. A panic fails its build, not the server.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::Instant;

use tokio::sync::watch;

use crate::build::{self, Failure};
use crate::error::{AppError, AppResult};
use crate::plan::BuildPlan;
use crate::storage::Store;

struct Live {
    cancel: Arc<AtomicBool>,
    tx: watch::Sender<api::Build>,
}

/// A build waiting for a worker: its plan and its record.
struct Queued {
    plan: BuildPlan,
    build: api::Build,
}

pub struct Jobs {
    store: Arc<Store>,
    queue: Mutex<mpsc::Sender<Queued>>,
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
        let (tx, rx) = mpsc::channel::<Queued>();
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
                        let Ok(queued) = next else { return };
                        let Some(jobs) = weak.upgrade() else { return };
                        jobs.run(queued);
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
            if live.len() >= max_live {
                return Err(AppError::TooMany(format!(
                    "{} builds are already queued or running; wait for one to finish or cancel one",
                    live.len()
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
        let _ = lock(&self.queue).send(Queued {
            plan,
            build: build.clone(),
        });
        Ok(build)
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
            Ok(Err(Failure::Failed(message))) => {
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

    fn trial(&self, build: &api::Build, entry: &api::LeaderboardEntry) {
        if let Err(e) = self.store.add_trial(build, entry) {
            tracing::error!(build = %build.id, error = %e, "saving a trial failed");
        }
        self.send(build);
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}
