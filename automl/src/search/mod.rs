//! The search: split the rows, try every family's portfolio of strong
//! defaults, then the families' proposals (TPE over the boosted-tree space,
//! random networks) until the deadline, the trial budget or a cancel; rank
//! the trials on held-out rows; blend the best into an ensemble when that
//! scores better; refit the winner on every row; return the leaderboard
//! and the artifact.
//!
//! - `space`: discrete hyperparameter spaces and TPE;
//! - `folds`: stratified k-fold and holdout splits;
//! - `trial`: one candidate fitted and scored on every split;
//! - `ensemble`: the pool of best trials and greedy ensemble selection.

mod ensemble;
mod folds;
mod retrain;
pub(crate) mod space;
mod trial;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::artifact::{FittedModel, ModelArtifact, Predictions, Schema};
use crate::calibrate::Calibration;
use crate::data::Dataset;
use crate::encode::{FeatureStats, select_features};
use crate::error::{Error, Result};
use crate::families::{self, Candidate, FitJob, Proposer};
use crate::metrics::{self, Metric};
use crate::rng::Rng;
use crate::task::{Target, Task, detect_task};
use ensemble::{PoolEntry, Selection, keep_in_pool, select_ensemble};
use folds::{Split, splits};
use trial::{Evaluation, evaluate};

use retrain::TrialSpec;
pub use retrain::{rescore, retrain};

/// Trials when neither a deadline nor `max_trials` bounds the search.
const DEFAULT_MAX_TRIALS: usize = 30;
/// Trials under a deadline without `max_trials` (a safety bound only).
const DEADLINE_MAX_TRIALS: usize = 1000;
const MIN_ROWS: usize = 10;

#[derive(Debug, Clone)]
pub struct SearchConfig {
    pub target: String,
    /// Overrides task detection.
    pub task: Option<Task>,
    pub seed: u64,
    /// Stop after this many trials (the deterministic budget).
    pub max_trials: Option<usize>,
    /// Share of rows held out for validation when there is no k-fold.
    pub holdout_fraction: f64,
    /// Folds of the stratified k-fold cross-validation.
    pub cv_folds: usize,
    /// At or above this many rows, a single holdout replaces k-fold.
    pub cv_max_rows: usize,
    /// Below [`SearchConfig::cv_repeat_max_rows`] rows, the k-fold is
    /// repeated this many times with other seeded partitions, so that one
    /// partition's luck does not pick the model (1: no repeats).
    pub cv_repeats: usize,
    pub cv_repeat_max_rows: usize,
    pub kiln_version: String,
    /// The families to try, by their leaderboard names ("boosted trees",
    /// "ensemble", ...); empty for the default set.
    pub families: Vec<String>,
    /// Ranks the candidates; the task's default ([`Metric::default_for`]) when absent.
    pub metric: Option<Metric>,
}

impl SearchConfig {
    pub fn new(target: &str) -> SearchConfig {
        SearchConfig {
            target: target.to_owned(),
            task: None,
            seed: 0,
            max_trials: None,
            holdout_fraction: 0.2,
            cv_folds: 5,
            cv_max_rows: 50_000,
            cv_repeats: 3,
            cv_repeat_max_rows: 3_000,
            kiln_version: env!("CARGO_PKG_VERSION").to_owned(),
            families: Vec::new(),
            metric: None,
        }
    }
}

/// How the caller steers a running search.
#[derive(Debug, Clone, Copy)]
pub struct Control<'a> {
    /// The search, refit included, ends by this instant.
    pub deadline: Option<Instant>,
    /// Set to stop; finished trials are kept.
    pub cancel: &'a AtomicBool,
}

impl Control<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn past(&self, reserve: Duration) -> bool {
        self.deadline.is_some_and(|d| Instant::now() + reserve >= d)
    }
}

/// One finished candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRecord {
    pub trial: u32,
    pub family: String,
    pub params: String,
    /// Held-out score on the search metric (mean over folds).
    pub score: f64,
    /// Standard deviation of the score over folds (0 with one holdout).
    pub score_std: f64,
    pub fit_secs: f64,
    pub predict_us_per_row: f64,
    pub size_bytes: u64,
    /// What the trial was, in full (JSON): [`retrain`] trains it again.
    pub spec: String,
}

impl TrialRecord {
    /// Whether the row is an ensemble of other rows.
    pub fn is_ensemble(&self) -> bool {
        self.family == families::ENSEMBLE
    }

    /// The record of candidate `cand`'s evaluation as trial `trial`.
    fn of(trial: u32, cand: &dyn Candidate, eval: &Evaluation) -> TrialRecord {
        TrialRecord {
            trial,
            family: cand.family().to_owned(),
            params: eval.last.0.params.clone(),
            score: eval.score,
            score_std: eval.score_std,
            fit_secs: eval.fit_time.as_secs_f64(),
            predict_us_per_row: eval.predict_us,
            size_bytes: serde_json::to_vec(&eval.last.0.model).map_or(0, |v| v.len() as u64),
            spec: TrialSpec::of(cand).to_json(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SearchEvent {
    Started {
        task: Task,
        metric: Metric,
        rows: usize,
        features: usize,
        /// How candidates are validated, in words.
        validation: String,
    },
    Trial(TrialRecord),
    Refitting {
        trial: u32,
    },
}

#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub task: Task,
    pub metric: Metric,
    /// Ranked best first.
    pub leaderboard: Vec<TrialRecord>,
    pub best_trial: u32,
    pub artifact: ModelArtifact,
    /// Curves, confusion matrix or residuals of the winner's held-out predictions.
    pub evaluation: metrics::Evaluation,
    /// The winner's held-out predictions, by row.
    pub oof: OutOfFold,
    /// The search was cancelled; the artifact is the best finished trial, not refit.
    pub cancelled: bool,
}

/// A model's out-of-fold predictions: each row of the data searched that
/// it covers, predicted by a model that did not train on it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfFold {
    /// Rows of the dataset, in order.
    pub rows: Vec<usize>,
    pub predictions: Predictions,
}

impl OutOfFold {
    /// The predictions `oof` (row-major, one per class for classes) at
    /// `covered`, places in `problem`'s target.
    fn new(problem: &Problem<'_>, covered: &[usize], oof: &[f64]) -> OutOfFold {
        let rows = covered.iter().map(|&i| problem.rows[i]).collect();
        let predictions = match &problem.target {
            Target::Regression(_) => Predictions::Regression(oof.to_vec()),
            Target::Classes { classes, .. } => Predictions::Classes {
                classes: classes.clone(),
                probabilities: oof.to_vec(),
                labels: metrics::argmax_rows(oof, classes.len()),
            },
        };
        OutOfFold { rows, predictions }
    }
}

/// What every trial of a search shares.
pub(crate) struct Problem<'a> {
    pub data: &'a Dataset,
    /// The rows of `data` with a target, in target order.
    pub rows: Vec<usize>,
    pub target: Target,
    pub metric: Metric,
    /// The features, with statistics over every row.
    pub features: Vec<FeatureStats>,
    /// Every split of every repeat, repeat by repeat (positions in the target).
    pub splits: Vec<Split>,
    /// Repeats of the k-fold (1: none). Out-of-fold predictions of repeat
    /// `r` sit at positions `r * n + p` (`n` the target's rows): each
    /// repeat predicts every row once, and [`Problem::validation`] gives
    /// each split's positions in that numbering.
    pub repeats: usize,
    /// The artifact's schema, without its features.
    pub schema: Schema,
}

impl<'a> Problem<'a> {
    /// Encodes the target, selects the features and splits the rows;
    /// returns the problem and how it is validated, in words.
    fn new(data: &'a Dataset, config: &SearchConfig) -> Result<(Problem<'a>, String)> {
        let target_col = data.require(&config.target)?;
        let task = match config.task {
            Some(t) => t,
            None => detect_task(&config.target, target_col)?,
        };
        let (target, rows) = Target::encode(&config.target, target_col, task)?;
        if rows.len() < MIN_ROWS {
            return Err(Error::TooFewRows {
                rows: rows.len(),
                needed: MIN_ROWS,
            });
        }
        let features = select_features(data, &config.target, &rows);
        if features.is_empty() {
            return Err(Error::NoFeatures);
        }
        let k = if rows.len() < config.cv_max_rows {
            config.cv_folds
        } else {
            1
        };
        let holdout_fraction = config.holdout_fraction.clamp(0.05, 0.5);
        let repeats = if k >= 2 && rows.len() < config.cv_repeat_max_rows {
            config.cv_repeats.max(1)
        } else {
            1
        };
        let validation = if repeats > 1 {
            format!("{k}-fold cross-validation repeated {repeats} times")
        } else if k >= 2 {
            format!("{k}-fold cross-validation")
        } else {
            format!("a {:.0}% holdout", holdout_fraction * 100.0)
        };
        let metric = config.metric.unwrap_or(Metric::default_for(task));
        if !metric.applies_to(task) {
            let names: Vec<&str> = Metric::for_task(task).iter().map(|m| m.name()).collect();
            let kind = match task {
                Task::Regression => "a regression",
                Task::Binary => "a two-class",
                Task::Multiclass => "a multiclass",
            };
            return Err(Error::Target {
                target: config.target.clone(),
                reason: format!(
                    "it is {kind} target, which {} cannot rank; rank by one of: {}",
                    metric.name(),
                    names.join(", ")
                ),
            });
        }
        let schema = Schema {
            target: config.target.clone(),
            task,
            classes: target.class_names(),
            features: Vec::new(),
        };
        let problem = Problem {
            data,
            // Repeat 0 is the partition a search without repeats uses.
            splits: (0..repeats as u64)
                .flat_map(|r| {
                    let seed = config
                        .seed
                        .wrapping_add(r.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    splits(&target, k, holdout_fraction, seed)
                })
                .collect(),
            repeats,
            metric,
            rows,
            target,
            features,
            schema,
        };
        Ok((problem, validation))
    }

    fn task(&self) -> Task {
        self.schema.task
    }

    /// The validation positions of each split, in the numbering of
    /// out-of-fold predictions (see [`Problem::repeats`]).
    pub(crate) fn validation(&self) -> Vec<Vec<usize>> {
        let (n, per_repeat) = (self.target.len(), self.splits.len() / self.repeats);
        self.splits
            .iter()
            .enumerate()
            .map(|(i, (_, va))| va.iter().map(|&p| (i / per_repeat) * n + p).collect())
            .collect()
    }

    /// The target at out-of-fold positions `covered`.
    pub(crate) fn covered_target(&self, covered: &[usize]) -> Target {
        let n = self.target.len();
        let real: Vec<usize> = covered.iter().map(|&p| p % n).collect();
        self.target.subset(&real)
    }

    /// The first repeat's part of out-of-fold predictions `oof` at sorted
    /// positions `covered`: one prediction per row, at its position.
    fn first_repeat<'o>(&self, covered: &[usize], oof: &'o [f64]) -> (Vec<usize>, &'o [f64]) {
        let n = self.target.len();
        let end = covered.partition_point(|&p| p < n);
        let width = oof.len() / covered.len().max(1);
        (covered[..end].to_vec(), &oof[..end * width])
    }

    /// The schema of a model fitted on every row.
    fn full_schema(&self) -> Schema {
        Schema {
            features: self.features.clone(),
            ..self.schema.clone()
        }
    }

    /// `cand` fitted on every row, with the rounds (or epochs) its folds
    /// kept; `None` when the deadline or a cancel cut it short.
    fn refit(
        &self,
        cand: &dyn Candidate,
        rounds: Option<usize>,
        control: Control<'_>,
    ) -> Result<Option<FittedModel>> {
        let hard_stop = || control.cancelled() || control.past(Duration::ZERO);
        let f = cand.for_refit(rounds).fit(&FitJob {
            features: &self.features,
            data: self.data,
            rows: &self.rows,
            target: &self.target,
            valid: None,
            stop: &hard_stop,
        })?;
        Ok((!f.stopped && !hard_stop()).then_some(f.model))
    }
}

/// Runs a search over `data` for `config.target`, calling `on_event` as it goes.
pub fn search(
    data: &Dataset,
    config: &SearchConfig,
    control: Control<'_>,
    on_event: &mut dyn FnMut(&SearchEvent),
) -> Result<SearchOutcome> {
    let (problem, validation) = Problem::new(data, config)?;
    let chosen = families::chosen(&config.families)?;
    on_event(&SearchEvent::Started {
        task: problem.task(),
        metric: problem.metric,
        rows: problem.rows.len(),
        features: problem.features.len(),
        validation,
    });
    let mut trials = Trials::new(&problem, config, control, &chosen);
    trials.run(on_event)?;
    trials.finish(on_event)
}

/// The state of a search between trials.
struct Trials<'a> {
    problem: &'a Problem<'a>,
    config: &'a SearchConfig,
    control: Control<'a>,
    max_trials: usize,
    /// Every candidate queued so far, by trial number.
    candidates: Vec<Arc<dyn Candidate>>,
    proposers: Vec<Box<dyn Proposer>>,
    rng: Rng,
    leaderboard: Vec<TrialRecord>,
    best: Option<(u32, Evaluation)>,
    /// The best trials, for the ensemble (when ensembles are chosen).
    pool: Vec<PoolEntry>,
    ensembles: bool,
    slowest_fit: Duration,
    /// The next trial number.
    trial: u32,
}

impl<'a> Trials<'a> {
    fn new(
        problem: &'a Problem<'a>,
        config: &'a SearchConfig,
        control: Control<'a>,
        chosen: &[&'static dyn families::Family],
    ) -> Self {
        let mut portfolio: Vec<(u32, Arc<dyn Candidate>)> = chosen
            .iter()
            .flat_map(|f| f.portfolio(&problem.target, config.seed))
            .collect();
        portfolio.sort_by_key(|(place, _)| *place);
        let candidates: Vec<Arc<dyn Candidate>> = portfolio.into_iter().map(|(_, c)| c).collect();
        let mut proposers: Vec<Box<dyn Proposer>> = chosen
            .iter()
            .filter_map(|f| f.proposer(&problem.target))
            .collect();
        for p in &mut proposers {
            candidates.iter().for_each(|c| p.queued(c.as_ref()));
        }
        let max_trials = config.max_trials.unwrap_or(if control.deadline.is_some() {
            DEADLINE_MAX_TRIALS
        } else {
            DEFAULT_MAX_TRIALS
        });
        Trials {
            problem,
            config,
            control,
            max_trials,
            candidates,
            proposers,
            rng: Rng::derive(config.seed, 0x7a11),
            leaderboard: Vec::new(),
            best: None,
            pool: Vec::new(),
            ensembles: chosen.iter().any(|f| f.name() == families::ENSEMBLE),
            slowest_fit: Duration::ZERO,
            trial: 0,
        }
    }

    /// A proposal from one family, drawn by the proposers' weights.
    fn propose(&mut self) -> Option<Arc<dyn Candidate>> {
        let total: usize = self.proposers.iter().map(|p| p.weight()).sum();
        if total == 0 {
            return None;
        }
        let mut draw = self.rng.below(total);
        let i = self.proposers.iter().position(|p| {
            let hit = draw < p.weight();
            draw = draw.saturating_sub(p.weight());
            hit
        })?;
        let cand = self.proposers[i].propose(&mut self.rng, self.config.seed, self.problem.metric);
        for p in &mut self.proposers {
            p.queued(cand.as_ref());
        }
        Some(cand)
    }

    /// The next `n` trials (fewer when no family proposes more).
    fn batch(&mut self, n: usize) -> Vec<(u32, Arc<dyn Candidate>)> {
        let mut out = Vec::with_capacity(n);
        for t in self.trial as usize..self.trial as usize + n {
            if t >= self.candidates.len() {
                let Some(c) = self.propose() else { break };
                self.candidates.push(c);
            }
            out.push((t as u32, self.candidates[t].clone()));
        }
        out
    }

    /// Runs trials in batches, one per core, until the budget, the deadline
    /// (keeping time to refit) or a cancel. Results are processed in trial
    /// order, so a trial budget gives the same outcome on any machine.
    fn run(&mut self, on_event: &mut dyn FnMut(&SearchEvent)) -> Result<()> {
        let parallel = rayon::current_num_threads().clamp(1, 4);
        while (self.trial as usize) < self.max_trials {
            // Keep time to refit the best model, or the ensemble, on every row.
            let reserve = self.refit_reserve();
            let control = self.control;
            if control.cancelled() || control.past(reserve) {
                break;
            }
            let batch = self.batch(parallel.min(self.max_trials - self.trial as usize));
            if batch.is_empty() {
                break;
            }
            let stop = || control.cancelled() || control.past(reserve);
            let prune = self.best.as_ref().map(|(_, b)| (b.score, b.score_std));
            let problem = self.problem;
            let results: Vec<Result<Option<Evaluation>>> = batch
                .par_iter()
                .map(|(_, cand)| evaluate(cand.as_ref(), problem, prune, &stop))
                .collect();
            for ((t, cand), result) in batch.into_iter().zip(results) {
                // Cut short by the deadline or a cancel: an unfinished candidate is not ranked.
                let Some(eval) = result? else { return Ok(()) };
                self.record(t, cand.as_ref(), eval, on_event);
            }
        }
        Ok(())
    }

    /// The time kept back for the refit on every row: three of the slowest
    /// fold fits; on small data validated by repeats, where many families
    /// fit quickly and the ensemble has more members, one fold fit of every
    /// candidate the ensemble may be made of (refit in parallel, but each
    /// on more rows), if longer. Larger data keeps the three fold fits.
    fn refit_reserve(&self) -> Duration {
        let three = self.slowest_fit.mul_f64(3.0);
        if self.problem.repeats < 2 {
            return three;
        }
        let folds = self.problem.splits.len() as f64;
        let pool: f64 = self.pool.iter().map(|p| p.fit_secs / folds).sum();
        three.max(Duration::from_secs_f64(pool))
    }

    /// Lists a finished trial, tells the proposers, and keeps it for the
    /// ensemble and as the best when it is.
    fn record(
        &mut self,
        t: u32,
        cand: &dyn Candidate,
        eval: Evaluation,
        on_event: &mut dyn FnMut(&SearchEvent),
    ) {
        let record = TrialRecord::of(t, cand, &eval);
        on_event(&SearchEvent::Trial(record.clone()));
        self.trial = t + 1;
        if eval.score.is_finite() {
            self.proposers
                .iter_mut()
                .for_each(|p| p.finished(cand, eval.score));
        }
        if eval.pruned {
            // Stopped after its first fold: listed, but never chosen.
            self.leaderboard.push(record);
            return;
        }
        if cand.competes() {
            self.slowest_fit = self.slowest_fit.max(eval.slowest_fold);
            if eval.score.is_finite() && self.ensembles {
                keep_in_pool(&mut self.pool, t, &eval, &record, self.problem.metric);
            }
        }
        self.leaderboard.push(record);
        let metric = self.problem.metric;
        if eval.score.is_finite()
            && self
                .best
                .as_ref()
                .is_none_or(|b| metric.better(eval.score, b.1.score))
        {
            self.best = Some((t, eval));
        }
    }

    /// Refits the winner (or an ensemble that beats it) on every row, unless
    /// cancelled or out of time (then the winner's last fold model ships),
    /// and ranks the leaderboard.
    fn finish(mut self, on_event: &mut dyn FnMut(&SearchEvent)) -> Result<SearchOutcome> {
        let cancelled = self.control.cancelled();
        let Some((best_trial, best)) = self.best.take() else {
            return Err(if cancelled {
                Error::CancelledEmpty
            } else {
                Error::DeadlineEmpty
            });
        };
        let problem = self.problem;
        let covered_target = problem.covered_target(&best.covered);
        let (last_fit, last_schema) = best.last;
        let last_rows = problem.splits.last().map_or(0, |s| s.0.len());
        let mut shipped = Shipped::new(
            problem,
            (last_fit.model, last_fit.params),
            (last_schema, last_rows),
            best_trial,
            &best.covered,
            &best.oof,
        );
        if !cancelled {
            let ensemble = self
                .select(&covered_target, &best.covered)
                .filter(|e| e.weights.len() >= 2 && problem.metric.better(e.score, best.score));
            if let Some(e) = ensemble {
                self.ship_ensemble(e, &best.covered, &mut shipped, on_event)?;
            }
            if shipped.trial == best_trial {
                on_event(&SearchEvent::Refitting { trial: best_trial });
                if let Some(model) = self.refit(best_trial, best.rounds)? {
                    shipped.model = model;
                    shipped.schema = problem.full_schema();
                    shipped.rows = problem.rows.len();
                }
            }
        }
        let metric = problem.metric;
        self.leaderboard
            .sort_by(|a, b| metric.compare(a.score, b.score).then(a.trial.cmp(&b.trial)));
        Ok(shipped.outcome(self.config, problem, self.leaderboard, cancelled))
    }

    fn select(&self, covered_target: &Target, covered: &[usize]) -> Option<Selection> {
        let p = self.problem;
        select_ensemble(
            &self.pool,
            covered_target,
            p.task(),
            p.metric,
            &p.validation(),
            covered,
        )
    }

    /// Trial `t`'s candidate refit on every row; `None` when the stop
    /// signal cut it short.
    fn refit(&self, t: u32, rounds: Option<usize>) -> Result<Option<FittedModel>> {
        self.problem
            .refit(self.candidates[t as usize].as_ref(), rounds, self.control)
    }

    /// Lists the ensemble as a trial and refits its members; it ships when
    /// every member was refit in time.
    fn ship_ensemble(
        &mut self,
        e: Selection,
        covered: &[usize],
        shipped: &mut Shipped,
        on_event: &mut dyn FnMut(&SearchEvent),
    ) -> Result<()> {
        let t = self.trial;
        let members: Vec<&PoolEntry> = e.weights.iter().map(|(i, _)| &self.pool[*i]).collect();
        let record = TrialRecord {
            trial: t,
            family: families::ENSEMBLE.into(),
            params: e
                .weights
                .iter()
                .map(|(i, w)| format!("{:.2} × trial {}", w, self.pool[*i].trial))
                .collect::<Vec<_>>()
                .join(" + "),
            score: e.score,
            score_std: e.score_std,
            fit_secs: members.iter().map(|m| m.fit_secs).sum(),
            predict_us_per_row: members.iter().map(|m| m.predict_us).sum(),
            size_bytes: members.iter().map(|m| m.size_bytes).sum(),
            spec: TrialSpec::ensemble(
                e.weights
                    .iter()
                    .map(|(i, w)| {
                        let trial = self.pool[*i].trial;
                        (trial, *w, self.candidates[trial as usize].as_ref())
                    })
                    .collect(),
            )
            .to_json(),
        };
        on_event(&SearchEvent::Trial(record.clone()));
        self.leaderboard.push(record.clone());
        on_event(&SearchEvent::Refitting { trial: t });
        // The members refit in parallel.
        let (problem, control) = (self.problem, self.control);
        let jobs: Vec<(Arc<dyn Candidate>, Option<usize>, f64)> = e
            .weights
            .iter()
            .map(|(i, w)| {
                let entry = &self.pool[*i];
                (
                    self.candidates[entry.trial as usize].clone(),
                    entry.rounds,
                    *w,
                )
            })
            .collect();
        let refits: Vec<Result<Option<FittedModel>>> = jobs
            .par_iter()
            .map(|(cand, rounds, _)| problem.refit(cand.as_ref(), *rounds, control))
            .collect();
        let mut fitted = Vec::new();
        for (refit, (_, _, weight)) in refits.into_iter().zip(&jobs) {
            match refit? {
                Some(model) => fitted.push(families::Member {
                    weight: *weight,
                    model,
                }),
                None => return Ok(()),
            }
        }
        *shipped = Shipped::new(
            self.problem,
            (families::Ensemble { members: fitted }.into(), record.params),
            (self.problem.full_schema(), self.problem.rows.len()),
            t,
            covered,
            &e.oof,
        );
        Ok(())
    }
}

/// The model a search ships, with its out-of-fold metrics.
struct Shipped {
    model: FittedModel,
    params: String,
    schema: Schema,
    /// Rows it was fitted on.
    rows: usize,
    trial: u32,
    /// Its probabilities' calibration, when one lowers their log loss.
    calibration: Option<Calibration>,
    metrics: Vec<metrics::MetricValue>,
    evaluation: metrics::Evaluation,
    oof: OutOfFold,
}

impl Shipped {
    /// `model` (with its parameters in words) on `schema` (fitted on
    /// `rows` rows), shipped as trial `trial`, with its out-of-fold
    /// predictions `oof` at positions `covered` (every repeat's): a
    /// classifier's are calibrated first, on every repeat's predictions,
    /// when that lowers their log loss. The metrics, curves and
    /// out-of-fold predictions are those of the first repeat (one
    /// prediction per row, as without repeats), cross-fitted calibrated.
    fn new(
        problem: &Problem<'_>,
        (model, params): (FittedModel, String),
        (schema, rows): (Schema, usize),
        trial: u32,
        covered: &[usize],
        oof: &[f64],
    ) -> Shipped {
        let target = problem.covered_target(covered);
        let calibrated = match &target {
            Target::Classes { classes, y } => {
                crate::calibrate::choose(problem.task(), oof, y, classes.len())
            }
            Target::Regression(_) => None,
        };
        let (calibration, oof) = match calibrated {
            Some((c, crossed)) => (Some(c), std::borrow::Cow::Owned(crossed)),
            None => (None, std::borrow::Cow::Borrowed(oof)),
        };
        let (covered, oof) = problem.first_repeat(covered, &oof);
        let target = problem.target.subset(&covered);
        Shipped {
            model,
            params,
            schema,
            rows,
            trial,
            calibration,
            metrics: metrics::report(&target, oof),
            evaluation: metrics::evaluation(&target, oof),
            oof: OutOfFold::new(problem, &covered, oof),
        }
    }

    fn outcome(
        self,
        config: &SearchConfig,
        problem: &Problem<'_>,
        leaderboard: Vec<TrialRecord>,
        cancelled: bool,
    ) -> SearchOutcome {
        let artifact = ModelArtifact {
            format_version: crate::artifact::FORMAT_VERSION,
            kiln_version: config.kiln_version.clone(),
            created: String::new(),
            schema: self.schema,
            recipe: None,
            model: self.model,
            params: self.params,
            metrics: self.metrics,
            training_rows: self.rows as u64,
            threshold: None,
            calibration: self.calibration,
            left_out: Vec::new(),
        };
        SearchOutcome {
            task: problem.task(),
            metric: problem.metric,
            leaderboard,
            best_trial: self.trial,
            artifact,
            evaluation: self.evaluation,
            oof: self.oof,
            cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;

    fn toy(n: usize) -> Dataset {
        toy_with_noise(n, usize::MAX)
    }

    /// [`toy`] with every `flip`-th label flipped, so no model is perfect.
    fn toy_with_noise(n: usize, flip: usize) -> Dataset {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 100.0).collect();
        let c: Vec<Option<String>> = (0..n)
            .map(|i| Some(["red", "green", "blue"][i % 3].to_owned()))
            .collect();
        let y: Vec<Option<String>> = x
            .iter()
            .zip(&c)
            .enumerate()
            .map(|(i, (v, c))| {
                let yes = *v > 5.0 || c.as_deref() == Some("red");
                Some(
                    if yes != (i % flip == flip - 1) {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_owned(),
                )
            })
            .collect();
        Dataset::new(vec![
            ("x".into(), Column::Numeric(x)),
            ("colour".into(), Column::Categorical(c)),
            ("y".into(), Column::Categorical(y)),
        ])
        .unwrap()
    }

    fn run(data: &Dataset, trials: usize) -> SearchOutcome {
        let cancel = AtomicBool::new(false);
        let config = SearchConfig {
            max_trials: Some(trials),
            ..SearchConfig::new("y")
        };
        search(
            data,
            &config,
            Control {
                deadline: None,
                cancel: &cancel,
            },
            &mut |_| {},
        )
        .unwrap()
    }

    #[test]
    fn finds_a_good_binary_model_and_ranks_it_first() {
        let out = run(&toy(600), 4);
        assert_eq!(out.task, Task::Binary);
        assert_eq!(out.leaderboard.len(), 4);
        assert!(out.leaderboard[0].score > 0.95, "{:?}", out.leaderboard);
        assert_ne!(out.leaderboard[0].family, "baseline");
        let preds = out.artifact.predict(&toy(600)).unwrap();
        assert_eq!(preds.len(), 600);
    }

    #[test]
    fn small_data_is_cross_validated_and_large_data_held_out() {
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        for (cv_max_rows, want) in [
            (50_000, "5-fold cross-validation repeated 3 times"),
            (100, "a 20% holdout"),
        ] {
            let config = SearchConfig {
                max_trials: Some(3),
                cv_max_rows,
                ..SearchConfig::new("y")
            };
            let mut validation = String::new();
            let mut stds = Vec::new();
            // Label noise: no fold is scored perfectly, so folds differ.
            let out = search(
                &toy_with_noise(300, 7),
                &config,
                control,
                &mut |e| match e {
                    SearchEvent::Started { validation: v, .. } => validation = v.clone(),
                    SearchEvent::Trial(t) => stds.push(t.score_std),
                    SearchEvent::Refitting { .. } => {}
                },
            )
            .unwrap();
            assert_eq!(validation, want);
            assert_eq!(stds.iter().any(|s| *s > 0.0), cv_max_rows > 300, "{stds:?}");
            // Out-of-fold metrics cover every row with k-fold, the holdout otherwise.
            assert!(out.artifact.metrics.iter().any(|m| m.name == "AUC"));
        }
    }

    #[test]
    fn same_seed_and_trial_budget_give_identical_artifact_bytes() {
        let a = run(&toy(300), 5).artifact.to_json();
        let b = run(&toy(300), 5).artifact.to_json();
        assert_eq!(a, b);
    }

    #[test]
    fn artifact_round_trips_and_rejects_garbage() {
        let art = run(&toy(300), 3).artifact;
        let back = ModelArtifact::from_json(&art.to_json()).unwrap();
        assert_eq!(
            back.predict(&toy(50)).unwrap(),
            art.predict(&toy(50)).unwrap()
        );
        assert!(ModelArtifact::from_json(b"{}").is_err());
        assert!(ModelArtifact::from_json(b"not json").is_err());
        let mut v: serde_json::Value = serde_json::from_slice(&art.to_json()).unwrap();
        v["format_version"] = 99.into();
        assert!(
            ModelArtifact::from_json(v.to_string().as_bytes())
                .unwrap_err()
                .to_string()
                .contains("99")
        );
    }

    #[test]
    fn cancel_before_start_is_an_error_and_missing_target_is_named() {
        let cancel = AtomicBool::new(true);
        let err = search(
            &toy(100),
            &SearchConfig::new("y"),
            Control {
                deadline: None,
                cancel: &cancel,
            },
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(err, Error::CancelledEmpty));
        let cancel = AtomicBool::new(false);
        let err = search(
            &toy(100),
            &SearchConfig::new("nope"),
            Control {
                deadline: None,
                cancel: &cancel,
            },
            &mut |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn regression_beats_the_mean() {
        let n = 400;
        let x: Vec<f64> = (0..n).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + (v * 3.0).sin()).collect();
        let data = Dataset::new(vec![
            ("x".into(), Column::Numeric(x)),
            ("y".into(), Column::Numeric(y)),
        ])
        .unwrap();
        let out = run(&data, 4);
        assert_eq!(out.task, Task::Regression);
        let baseline = out
            .leaderboard
            .iter()
            .find(|t| t.family == "baseline")
            .unwrap()
            .score;
        assert!(
            out.leaderboard[0].score < baseline / 5.0,
            "{:?}",
            out.leaderboard
        );
    }

    #[test]
    fn the_chosen_metric_ranks_the_board_and_one_of_another_task_is_refused() {
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        let config = SearchConfig {
            max_trials: Some(4),
            metric: Some(Metric::MacroF1),
            ..SearchConfig::new("y")
        };
        let mut started = None;
        let out = search(&toy_with_noise(300, 7), &config, control, &mut |e| {
            if let SearchEvent::Started { metric, .. } = e {
                started = Some(*metric);
            }
        })
        .unwrap();
        assert_eq!(
            (started, out.metric),
            (Some(Metric::MacroF1), Metric::MacroF1)
        );
        let scores: Vec<f64> = out.leaderboard.iter().map(|t| t.score).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        // The shipped model's macro F1 is among its metrics.
        assert!(out.artifact.metrics.iter().any(|m| m.name == "macro F1"));
        let wrong = SearchConfig {
            metric: Some(Metric::Rmse),
            ..config
        };
        let err = search(&toy(100), &wrong, control, &mut |_| {}).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("RMSE cannot rank") && msg.contains("macro F1"),
            "{msg}"
        );
    }

    /// Below `cv_repeat_max_rows`, every repeat partitions the rows anew and
    /// predicts each row once; a trial's score and spread are over every
    /// repeat's folds; the shipped out-of-fold rows are one per row.
    #[test]
    fn small_data_is_validated_by_repeated_k_fold() {
        let data = toy_with_noise(300, 7);
        let config = SearchConfig {
            max_trials: Some(3),
            families: vec!["linear".into()],
            ..SearchConfig::new("y")
        };
        let (problem, words) = Problem::new(&data, &config).unwrap();
        assert_eq!(words, "5-fold cross-validation repeated 3 times");
        assert_eq!((problem.repeats, problem.splits.len()), (3, 15));
        let validation = problem.validation();
        for r in 0..3 {
            let mut seen: Vec<usize> = validation[r * 5..(r + 1) * 5].concat();
            seen.sort_unstable();
            assert_eq!(
                seen,
                (r * 300..(r + 1) * 300).collect::<Vec<_>>(),
                "repeat {r}"
            );
        }
        assert_ne!(problem.splits[0].1, problem.splits[5].1, "repeats differ");
        let stop = || false;
        let cand = crate::families::revive(
            "linear",
            serde_json::json!({"l2": 0.01, "l1": 0.0, "max_iter": 200}),
        )
        .unwrap();
        let eval = trial::evaluate(cand.as_ref(), &problem, None, &stop)
            .unwrap()
            .unwrap();
        assert_eq!(eval.covered, (0..900).collect::<Vec<_>>());
        assert!(eval.oof.iter().all(|p| p.is_finite()));
        // The score is the mean of the 15 fold scores.
        let folds: Vec<f64> = validation
            .iter()
            .map(|va| {
                let pred: Vec<f64> = va
                    .iter()
                    .flat_map(|&p| eval.oof[p * 2..p * 2 + 2].to_vec())
                    .collect();
                problem.metric.score(&problem.covered_target(va), &pred)
            })
            .collect();
        let (mean, std) = trial::mean_and_std(&folds);
        assert!((mean - eval.score).abs() < 1e-12 && (std - eval.score_std).abs() < 1e-12);
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        let out = search(&data, &config, control, &mut |_| {}).unwrap();
        assert_eq!(out.oof.rows, (0..300).collect::<Vec<_>>());
        // Without repeats, the first partition alone.
        let once = SearchConfig {
            cv_repeats: 1,
            ..config
        };
        let (single, words) = Problem::new(&data, &once).unwrap();
        assert_eq!(words, "5-fold cross-validation");
        assert_eq!(single.splits, problem.splits[..5]);
    }

    #[test]
    fn the_winners_out_of_fold_predictions_are_those_its_metrics_come_from() {
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        let data = toy_with_noise(300, 7);
        let config = SearchConfig {
            max_trials: Some(6),
            ..SearchConfig::new("y")
        };
        let out = search(&data, &config, control, &mut |_| {}).unwrap();
        assert_eq!(out.oof.rows, (0..300).collect::<Vec<_>>());
        let Predictions::Classes {
            classes, labels, ..
        } = &out.oof.predictions
        else {
            panic!("{:?}", out.oof.predictions)
        };
        let Column::Categorical(y) = data.require("y").unwrap() else {
            panic!()
        };
        let right = out
            .oof
            .rows
            .iter()
            .zip(labels)
            .filter(|&(&r, &l)| y[r].as_deref() == Some(classes[l].as_str()))
            .count();
        let accuracy = out
            .artifact
            .metrics
            .iter()
            .find(|m| m.name == "accuracy")
            .unwrap()
            .value;
        assert!(
            (accuracy - right as f64 / 300.0).abs() < 1e-12,
            "{accuracy} {right}"
        );
    }

    #[test]
    fn every_row_of_the_board_trains_again_to_its_score_and_the_winner_to_its_bytes() {
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        for (data, trials) in [(toy_with_noise(300, 7), 12), (regression_toy(300), 8)] {
            let config = SearchConfig {
                max_trials: Some(trials),
                ..SearchConfig::new("y")
            };
            let out = search(&data, &config, control, &mut |_| {}).unwrap();
            let mut retrained = 0;
            for row in &out.leaderboard {
                let again = retrain(&data, &config, row.trial, &row.spec, control).unwrap();
                let score = again.leaderboard[0].score;
                assert_eq!(again.best_trial, row.trial);
                assert_eq!(again.leaderboard[0].family, row.family);
                if !row.params.contains("stopped after fold") {
                    assert!(
                        (score - row.score).abs() <= 1e-12 * row.score.abs().max(1.0),
                        "trial {} ({}): {score} against {}",
                        row.trial,
                        row.family,
                        row.score
                    );
                    retrained += 1;
                }
                if row.trial == out.best_trial {
                    assert_eq!(again.artifact.to_json(), out.artifact.to_json());
                    assert_eq!(again.evaluation, out.evaluation);
                }
                let preds = again.artifact.predict(&data).unwrap();
                assert_eq!(preds.len(), data.n_rows());
            }
            assert!(retrained >= 3, "{:?}", out.leaderboard);
        }
        // With a column that copies the target, the winner's family scores better.
        let data = toy_with_noise(300, 7);
        let config = SearchConfig {
            max_trials: Some(8),
            ..SearchConfig::new("y")
        };
        let out = search(&data, &config, control, &mut |_| {}).unwrap();
        let row = out
            .leaderboard
            .iter()
            .find(|r| r.family != families::ENSEMBLE && !r.params.contains("stopped after fold"))
            .unwrap();
        let same = rescore(&data, &config, &row.spec, control).unwrap();
        assert!(
            (same - row.score).abs() <= 1e-12,
            "{same} against {}",
            row.score
        );
        let mut columns = data.clone().into_columns();
        let copy = columns.iter().find(|(n, _)| n == "y").unwrap().1.clone();
        columns.push(("copy".into(), copy));
        let leaky = Dataset::new(columns).unwrap();
        let with = rescore(&leaky, &config, &row.spec, control).unwrap();
        assert!(
            with > row.score && with > 0.99,
            "{with} against {}",
            row.score
        );
        let err = retrain(
            &toy(50),
            &SearchConfig::new("y"),
            0,
            "{\"family\": \"forest\"}",
            control,
        )
        .unwrap_err();
        assert!(err.to_string().contains("`forest`"), "{err}");
    }

    fn regression_toy(n: usize) -> Dataset {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 100.0).collect();
        let z: Vec<f64> = (0..n)
            .map(|i| ((i * 104_729) % 997) as f64 / 99.7)
            .collect();
        let y: Vec<f64> = x
            .iter()
            .zip(&z)
            .map(|(a, b)| 2.0 * a + (b * 2.0).sin() + ((a * 13.0).sin() * 0.3))
            .collect();
        Dataset::new(vec![
            ("x".into(), Column::Numeric(x)),
            ("z".into(), Column::Numeric(z)),
            ("y".into(), Column::Numeric(y)),
        ])
        .unwrap()
    }

    #[test]
    fn missing_feature_column_at_predict_time_is_named() {
        let art = run(&toy(200), 2).artifact;
        let only_x = Dataset::new(vec![("x".into(), Column::Numeric(vec![1.0]))]).unwrap();
        assert!(
            art.predict(&only_x)
                .unwrap_err()
                .to_string()
                .contains("colour")
        );
    }

    #[test]
    fn deadline_in_the_past_yields_no_model() {
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: Some(Instant::now()),
            cancel: &cancel,
        };
        let err = search(&toy(100), &SearchConfig::new("y"), control, &mut |_| {}).unwrap_err();
        assert!(matches!(err, Error::DeadlineEmpty));
    }
}
