//! The search: split the rows, try a portfolio of candidates (baseline,
//! linear, boosted trees) and then random boosted-tree configurations until
//! the deadline, the trial budget or a cancel; rank them on held-out rows;
//! refit the best on every row; return the leaderboard and the artifact.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::artifact::{FittedModel, ModelArtifact, Schema};
use crate::data::Dataset;
use crate::encode::{FeatureStats, LinearEncoder, select_features, tree_matrix};
use crate::error::{Error, Result};
use crate::gbdt::{self, GbdtParams};
use crate::linear::{LinearModel, LinearParams};
use crate::metrics::{self, Metric};
use crate::mlp::MlpParams;
use crate::rng::Rng;
use crate::task::{Target, Task, detect_task};

/// Trials when neither a deadline nor `max_trials` bounds the search.
const DEFAULT_MAX_TRIALS: usize = 30;
/// Trials under a deadline without `max_trials` (a safety bound only).
const DEADLINE_MAX_TRIALS: usize = 1000;
/// Best candidates kept (with their out-of-fold predictions) for the ensemble.
const ENSEMBLE_POOL: usize = 8;
/// Greedy ensemble selection steps (members are picked with replacement).
const ENSEMBLE_STEPS: usize = 24;
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
    pub kiln_version: String,
    /// Stamped into the artifact.
    pub created: String,
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
            kiln_version: env!("CARGO_PKG_VERSION").to_owned(),
            created: String::new(),
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
    /// The search was cancelled; the artifact is the best finished trial, not refit.
    pub cancelled: bool,
}

#[derive(Debug, Clone)]
enum Candidate {
    Baseline,
    Linear(LinearParams),
    Gbdt(GbdtParams),
    Mlp(MlpParams),
}

impl Candidate {
    fn family(&self) -> &'static str {
        match self {
            Candidate::Baseline => "baseline",
            Candidate::Linear(_) => "linear",
            Candidate::Gbdt(_) => "boosted trees",
            Candidate::Mlp(_) => "neural network",
        }
    }

    fn describe(&self) -> String {
        match self {
            Candidate::Baseline => "class prior / mean".into(),
            Candidate::Linear(p) if p.l1 > 0.0 => format!("elastic net l2={} l1={}", p.l2, p.l1),
            Candidate::Linear(p) => format!("l2={}", p.l2),
            Candidate::Gbdt(p) => format!(
                "lr={} leaves={} min_leaf={} l2={} l1={} rows={} cols={}{}",
                p.learning_rate,
                p.max_leaves,
                p.min_samples_leaf,
                p.l2,
                p.l1,
                p.row_subsample,
                p.col_subsample,
                if p.class_weights.is_empty() {
                    ""
                } else {
                    " balanced classes"
                }
            ),
            Candidate::Mlp(p) => format!(
                "hidden={} lr={} decay={} batch={}",
                p.hidden
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("x"),
                p.learning_rate,
                p.weight_decay,
                p.batch_size
            ),
        }
    }
}

fn portfolio(seed: u64, target: &Target) -> Vec<Candidate> {
    let g = |lr: f64, leaves: usize, min_leaf: usize, rows: f64, cols: f64, l2: f64| {
        Candidate::Gbdt(GbdtParams {
            n_rounds: 2000,
            learning_rate: lr,
            max_leaves: leaves,
            min_samples_leaf: min_leaf,
            row_subsample: rows,
            col_subsample: cols,
            l2,
            seed,
            ..GbdtParams::default()
        })
    };
    let mut out = vec![
        Candidate::Baseline,
        Candidate::Linear(LinearParams {
            l2: 1e-3,
            l1: 0.0,
            max_iter: 300,
        }),
        g(0.1, 31, 20, 1.0, 1.0, 0.0),
        g(0.05, 15, 10, 0.8, 0.8, 1.0),
        g(0.05, 63, 30, 0.8, 0.7, 1.0),
        g(0.1, 7, 5, 1.0, 0.9, 0.0),
        Candidate::Linear(LinearParams {
            l2: 1e-1,
            l1: 0.0,
            max_iter: 300,
        }),
        // Sparse weights for wide one-hot data.
        Candidate::Linear(LinearParams {
            l2: 1e-2,
            l1: 3e-3,
            max_iter: 300,
        }),
        // Networks cost more per trial than trees: after the strong defaults.
        Candidate::Mlp(MlpParams {
            seed,
            ..MlpParams::default()
        }),
        Candidate::Mlp(MlpParams {
            hidden: vec![128, 64],
            learning_rate: 3e-3,
            weight_decay: 1e-3,
            seed,
            ..MlpParams::default()
        }),
    ];
    // Imbalanced classes: also try trees that weight every class equally.
    let weights = gbdt::balanced_weights(target);
    if weights.iter().any(|&w| w > 2.5) {
        out.push(Candidate::Gbdt(GbdtParams {
            n_rounds: 2000,
            learning_rate: 0.05,
            max_leaves: 31,
            min_samples_leaf: 20,
            row_subsample: 0.8,
            col_subsample: 0.8,
            l2: 1.0,
            class_weights: weights,
            seed,
            ..GbdtParams::default()
        }));
    }
    out
}

fn random_mlp(rng: &mut Rng, seed: u64) -> Candidate {
    let pick = |rng: &mut Rng, xs: &[f64]| xs[rng.below(xs.len())];
    let width = pick(rng, &[32.0, 64.0, 128.0, 256.0]) as usize;
    let hidden = match rng.below(3) {
        0 => vec![width],
        1 => vec![width, width / 2],
        _ => vec![width, width / 2, width / 4],
    };
    Candidate::Mlp(MlpParams {
        hidden,
        learning_rate: pick(rng, &[3e-4, 1e-3, 3e-3, 1e-2]),
        weight_decay: pick(rng, &[0.0, 1e-4, 1e-3, 1e-2]),
        batch_size: pick(rng, &[64.0, 128.0, 256.0]) as usize,
        seed: seed.wrapping_add(rng.next_u64() % 1000),
        ..MlpParams::default()
    })
}

/// Dimensions of the boosted-tree search space.
const DIMS: usize = 7;

/// The boosted-tree search space: choices per hyperparameter (learning
/// rate, leaves, rows per leaf, row and column subsampling, L2, L1).
const GBDT_SPACE: [&[f64]; DIMS] = [
    &[0.02, 0.05, 0.1, 0.2],
    &[4.0, 7.0, 15.0, 31.0, 63.0, 127.0],
    &[2.0, 5.0, 10.0, 20.0, 50.0],
    &[0.6, 0.8, 1.0],
    &[0.5, 0.7, 0.9, 1.0],
    &[0.0, 0.1, 1.0, 10.0],
    &[0.0, 0.1, 1.0],
];

fn gbdt_from(choice: &[usize; DIMS], seed: u64) -> GbdtParams {
    let v = |i: usize| GBDT_SPACE[i][choice[i]];
    GbdtParams {
        n_rounds: 2000,
        learning_rate: v(0),
        max_leaves: v(1) as usize,
        min_samples_leaf: v(2) as usize,
        row_subsample: v(3),
        col_subsample: v(4),
        l2: v(5),
        l1: v(6),
        seed,
        ..GbdtParams::default()
    }
}

/// Where `p` sits in the space (`None` if it is not a point of it).
fn gbdt_choice(p: &GbdtParams) -> Option<[usize; DIMS]> {
    let values = [
        p.learning_rate,
        p.max_leaves as f64,
        p.min_samples_leaf as f64,
        p.row_subsample,
        p.col_subsample,
        p.l2,
        p.l1,
    ];
    let mut out = [0; DIMS];
    for (i, v) in values.iter().enumerate() {
        out[i] = GBDT_SPACE[i].iter().position(|c| c == v)?;
    }
    Some(out)
}

/// Draws without looking at `tried` points of the space, unless every one of
/// many draws was tried already.
fn random_gbdt(rng: &mut Rng, seed: u64, tried: &HashSet<[usize; DIMS]>) -> Candidate {
    let mut choice = random_point(rng);
    for _ in 0..RANDOM_REDRAWS {
        if !tried.contains(&choice) {
            break;
        }
        choice = random_point(rng);
    }
    Candidate::Gbdt(gbdt_from(&choice, seed.wrapping_add(rng.next_u64() % 1000)))
}

/// Draws for an untried point before settling for a tried one.
const RANDOM_REDRAWS: usize = 64;

fn random_point(rng: &mut Rng) -> [usize; DIMS] {
    let mut choice = [0; DIMS];
    for (i, c) in choice.iter_mut().enumerate() {
        *c = rng.below(GBDT_SPACE[i].len());
    }
    choice
}

/// Boosted trees finished before, good enough to learn from.
const TPE_MIN_TRIALS: usize = 8;
/// Random proposals scored per TPE suggestion.
const TPE_PROPOSALS: usize = 24;

/// The next boosted-tree configuration by a Tree-structured Parzen
/// Estimator over the discrete space: finished trials are split into the
/// best quarter and the rest, each choice of each hyperparameter gets a
/// smoothed frequency in both groups, and of `TPE_PROPOSALS` random
/// proposals the one with the highest ratio good/rest wins. Falls back to
/// random search until `TPE_MIN_TRIALS` boosted trees have finished.
/// Points already `tried` are not proposed again: TPE converges on its
/// favourite region, and without this it re-proposes the same point, which
/// spends trials on copies and fills the ensemble pool with them.
fn tpe_gbdt(
    rng: &mut Rng,
    seed: u64,
    history: &[([usize; DIMS], f64)],
    metric: Metric,
    tried: &HashSet<[usize; DIMS]>,
) -> Candidate {
    if history.len() < TPE_MIN_TRIALS {
        return random_gbdt(rng, seed, tried);
    }
    let mut ranked: Vec<&([usize; DIMS], f64)> = history.iter().collect();
    ranked.sort_by(|a, b| {
        if metric.better(a.1, b.1) {
            std::cmp::Ordering::Less
        } else if metric.better(b.1, a.1) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let n_good = (ranked.len() / 4).max(2);
    let density = |group: &[&([usize; DIMS], f64)], i: usize, c: usize| {
        let hits = group.iter().filter(|(x, _)| x[i] == c).count() as f64;
        (hits + 1.0) / (group.len() as f64 + GBDT_SPACE[i].len() as f64)
    };
    let (good, rest) = ranked.split_at(n_good);
    let mut best: Option<(f64, [usize; DIMS])> = None;
    for _ in 0..TPE_PROPOSALS {
        let choice = random_point(rng);
        if tried.contains(&choice) {
            continue;
        }
        let ratio: f64 = (0..DIMS)
            .map(|i| (density(good, i, choice[i]) / density(rest, i, choice[i])).ln())
            .sum();
        if best.is_none_or(|(b, _)| ratio > b) {
            best = Some((ratio, choice));
        }
    }
    match best {
        Some((_, choice)) => {
            Candidate::Gbdt(gbdt_from(&choice, seed.wrapping_add(rng.next_u64() % 1000)))
        }
        None => random_gbdt(rng, seed, tried),
    }
}

/// Splits positions `0..n` into train and validation, stratified by class.
fn holdout(target: &Target, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::derive(seed, 0x5e11);
    let groups: Vec<Vec<usize>> = match target {
        Target::Regression(y) => vec![(0..y.len()).collect()],
        Target::Classes { classes, y } => (0..classes.len())
            .map(|c| (0..y.len()).filter(|&i| y[i] == c).collect())
            .collect(),
    };
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for mut g in groups {
        rng.shuffle(&mut g);
        let mut take = (g.len() as f64 * fraction).round() as usize;
        if g.len() >= 2 {
            take = take.clamp(1, g.len() - 1);
        } else {
            take = 0;
        }
        valid.extend_from_slice(&g[..take]);
        train.extend_from_slice(&g[take..]);
    }
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

/// Validation splits as positions into the target: stratified k-fold, or
/// one stratified holdout when `k < 2`.
fn splits(
    target: &Target,
    k: usize,
    holdout_fraction: f64,
    seed: u64,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    if k < 2 {
        return vec![holdout(target, holdout_fraction, seed)];
    }
    let mut rng = Rng::derive(seed, 0xf01d);
    let groups: Vec<Vec<usize>> = match target {
        Target::Regression(y) => vec![(0..y.len()).collect()],
        Target::Classes { classes, y } => (0..classes.len())
            .map(|c| (0..y.len()).filter(|&i| y[i] == c).collect())
            .collect(),
    };
    let mut fold_of = vec![0usize; target.len()];
    let mut next = 0;
    for mut g in groups {
        rng.shuffle(&mut g);
        for i in g {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    (0..k)
        .map(|f| {
            let (valid, train): (Vec<usize>, Vec<usize>) =
                (0..target.len()).partition(|&i| fold_of[i] == f);
            (train, valid)
        })
        .collect()
}

/// A candidate scored on every split.
struct Evaluation {
    /// Stopped after its first fold, too far behind the best so far.
    pruned: bool,
    score: f64,
    score_std: f64,
    /// Out-of-fold predictions at `covered` positions (row-major).
    oof: Vec<f64>,
    covered: Vec<usize>,
    /// Mean boosting rounds over folds.
    rounds: Option<usize>,
    /// The last fold's model and schema (shipped if the search is cancelled).
    last: (Fitted, Schema),
    fit_time: Duration,
    slowest_fold: Duration,
    predict_us: f64,
}

/// Whether a first-fold score is too far behind the best mean score to catch up.
fn hopeless(metric: Metric, fold: f64, best: f64, best_std: f64) -> bool {
    !fold.is_finite()
        || (metric.better(best, fold)
            && (fold - best).abs() > (3.0 * best_std).max(0.02 * best.abs()).max(1e-12))
}

/// Fits `cand` on every split; `None` when the stop signal cut it short.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    cand: &Candidate,
    splits: &[(Vec<usize>, Vec<usize>)],
    data: &Dataset,
    rows: &[usize],
    target: &Target,
    features: &[FeatureStats],
    base: &Schema,
    metric: Metric,
    prune: Option<(f64, f64)>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Evaluation>> {
    let width = target.n_classes().max(1);
    let mut oof = vec![f64::NAN; target.len() * width];
    let mut scores = Vec::new();
    let mut rounds = Vec::new();
    let mut last = None;
    let (mut fit_time, mut slowest_fold, mut predict_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut predicted = 0usize;
    for (tr, va) in splits {
        if stop() {
            return Ok(None);
        }
        let train_rows: Vec<usize> = tr.iter().map(|&i| rows[i]).collect();
        let valid_rows: Vec<usize> = va.iter().map(|&i| rows[i]).collect();
        let valid_target = target.subset(va);
        // Encoders see the fold's training rows only.
        let feats: Vec<FeatureStats> = features
            .iter()
            .map(|f| {
                FeatureStats::fit(
                    &f.name,
                    data.column(&f.name).expect("selected from data"),
                    &train_rows,
                )
            })
            .collect();
        let start = Instant::now();
        let fitted = fit_candidate(
            cand,
            &feats,
            data,
            &train_rows,
            &target.subset(tr),
            Some((&valid_rows, &valid_target)),
            stop,
        )?;
        let took = start.elapsed();
        if fitted.stopped {
            return Ok(None);
        }
        fit_time += took;
        slowest_fold = slowest_fold.max(took);
        let schema = Schema {
            features: feats,
            ..base.clone()
        };
        let pstart = Instant::now();
        let pred = fitted.model.predict(&schema, data, &valid_rows)?;
        predict_time += pstart.elapsed();
        predicted += valid_rows.len();
        for (j, &pos) in va.iter().enumerate() {
            oof[pos * width..(pos + 1) * width].copy_from_slice(&pred[j * width..(j + 1) * width]);
        }
        scores.push(metric.score(&valid_target, &pred));
        rounds.extend(fitted.rounds);
        last = Some((fitted, schema));
        // One rung of successive halving: a candidate whose first fold is
        // far behind the best so far does not get the other folds.
        if scores.len() == 1
            && splits.len() >= 3
            && let Some((best, best_std)) = prune
            && hopeless(metric, scores[0], best, best_std)
        {
            let (mut fitted, schema) = last.take().expect("just set");
            fitted.params = format!(
                "{} · stopped after fold 1 of {}",
                fitted.params,
                splits.len()
            );
            return Ok(Some(Evaluation {
                pruned: true,
                score: scores[0],
                score_std: 0.0,
                oof: Vec::new(),
                covered: Vec::new(),
                rounds: None,
                last: (fitted, schema),
                fit_time,
                slowest_fold,
                predict_us: predict_time.as_secs_f64() * 1e6 / predicted.max(1) as f64,
            }));
        }
    }
    let Some(last) = last else { return Ok(None) };
    let mut covered: Vec<usize> = splits
        .iter()
        .flat_map(|(_, va)| va.iter().copied())
        .collect();
    covered.sort_unstable();
    let oof = covered
        .iter()
        .flat_map(|&p| oof[p * width..(p + 1) * width].to_vec())
        .collect();
    let n = scores.len() as f64;
    let score = scores.iter().sum::<f64>() / n;
    let score_std = (scores.iter().map(|s| (s - score).powi(2)).sum::<f64>() / n).sqrt();
    Ok(Some(Evaluation {
        pruned: false,
        score,
        score_std,
        oof,
        covered,
        rounds: (!rounds.is_empty())
            .then(|| (rounds.iter().sum::<usize>() as f64 / rounds.len() as f64).round() as usize),
        last,
        fit_time,
        slowest_fold,
        predict_us: predict_time.as_secs_f64() * 1e6 / predicted.max(1) as f64,
    }))
}

struct Fitted {
    model: FittedModel,
    params: String,
    /// Boosting rounds kept, for the refit.
    rounds: Option<usize>,
    /// Training was cut short by the stop signal.
    stopped: bool,
}

fn fit_candidate(
    cand: &Candidate,
    features: &[FeatureStats],
    data: &Dataset,
    rows: &[usize],
    target: &Target,
    valid: Option<(&[usize], &Target)>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Fitted> {
    let params = cand.describe();
    Ok(match cand {
        Candidate::Baseline => {
            let outputs = match target {
                Target::Regression(y) => vec![y.iter().sum::<f64>() / y.len().max(1) as f64],
                Target::Classes { classes, y } => {
                    let mut p = vec![0.0; classes.len()];
                    for &c in y {
                        p[c] += 1.0 / y.len() as f64;
                    }
                    p
                }
            };
            Fitted {
                model: FittedModel::Baseline { outputs },
                params,
                rounds: None,
                stopped: false,
            }
        }
        Candidate::Linear(p) => {
            let (encoder, x) = LinearEncoder::fit_transform(features, data, rows, target)?;
            let model = LinearModel::fit(&x, encoder.width(), target, p)?;
            Fitted {
                model: FittedModel::Linear { encoder, model },
                params,
                rounds: None,
                stopped: false,
            }
        }
        Candidate::Gbdt(p) => {
            let x = tree_matrix(features, data, rows)?;
            let vx = match valid {
                Some((vrows, _)) => Some(tree_matrix(features, data, vrows)?),
                None => None,
            };
            let v = vx.as_deref().zip(valid.map(|v| v.1));
            let (booster, report) = gbdt::fit(&x, target, v, p, stop)?;
            let params = format!("trees={} {params}", report.rounds);
            Fitted {
                model: FittedModel::Gbdt { booster },
                params,
                rounds: Some(report.rounds),
                stopped: report.stopped,
            }
        }
        Candidate::Mlp(p) => {
            let (encoder, x) = LinearEncoder::fit_transform(features, data, rows, target)?;
            let vx = match valid {
                Some((vrows, _)) => Some(encoder.transform(features, data, vrows)?),
                None => None,
            };
            let v = vx.as_deref().zip(valid.map(|v| v.1));
            let (model, report) = crate::mlp::fit(&x, encoder.width(), target, v, p, stop)?;
            Fitted {
                model: FittedModel::Mlp { encoder, model },
                params: format!("epochs={} {params}", report.epochs),
                rounds: Some(report.epochs),
                stopped: report.stopped,
            }
        }
    })
}

/// Runs a search over `data` for `config.target`, calling `on_event` as it goes.
pub fn search(
    data: &Dataset,
    config: &SearchConfig,
    control: Control<'_>,
    on_event: &mut dyn FnMut(&SearchEvent),
) -> Result<SearchOutcome> {
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
    let metric = Metric::default_for(task);
    let all_features = select_features(data, &config.target, &rows);
    if all_features.is_empty() {
        return Err(Error::NoFeatures);
    }
    let k = if rows.len() < config.cv_max_rows {
        config.cv_folds
    } else {
        1
    };
    let holdout_fraction = config.holdout_fraction.clamp(0.05, 0.5);
    let validation = if k >= 2 {
        format!("{k}-fold cross-validation")
    } else {
        format!("a {:.0}% holdout", holdout_fraction * 100.0)
    };
    on_event(&SearchEvent::Started {
        task,
        metric,
        rows: rows.len(),
        features: all_features.len(),
        validation,
    });
    let splits = splits(&target, k, holdout_fraction, config.seed);
    let base_schema = Schema {
        target: config.target.clone(),
        task,
        classes: class_names(&target),
        features: Vec::new(),
    };

    let max_trials = config.max_trials.unwrap_or(if control.deadline.is_some() {
        DEADLINE_MAX_TRIALS
    } else {
        DEFAULT_MAX_TRIALS
    });
    let mut candidates = portfolio(config.seed, &target);
    let mut rng = Rng::derive(config.seed, 0x7a11);
    let mut leaderboard: Vec<TrialRecord> = Vec::new();
    let mut best: Option<(u32, Evaluation)> = None;
    let mut pool: Vec<PoolEntry> = Vec::new();
    // Finished boosted trees as (point of the space, score), for TPE.
    let mut gbdt_history: Vec<([usize; DIMS], f64)> = Vec::new();
    // Every point of the boosted-tree space proposed so far.
    let mut tried: HashSet<[usize; DIMS]> = candidates
        .iter()
        .filter_map(|c| match c {
            Candidate::Gbdt(p) => gbdt_choice(p),
            _ => None,
        })
        .collect();
    let mut slowest_fit = Duration::ZERO;
    let mut trial = 0u32;
    // Candidates are evaluated in batches, one per core; results are
    // processed in trial order, so a trial budget gives the same outcome
    // on any machine.
    let parallel = rayon::current_num_threads().clamp(1, 4);
    'trials: while (trial as usize) < max_trials {
        // Keep time to refit the best model (or a small ensemble) on every row.
        let reserve = slowest_fit.mul_f64(3.0);
        if control.cancelled() || control.past(reserve) {
            break;
        }
        let batch: Vec<(u32, Candidate)> = (0..parallel.min(max_trials - trial as usize))
            .map(|i| {
                let t = trial as usize + i;
                if t >= candidates.len() {
                    // Mostly boosted trees; one in eight a network.
                    let c = if rng.below(8) == 0 {
                        random_mlp(&mut rng, config.seed)
                    } else {
                        tpe_gbdt(&mut rng, config.seed, &gbdt_history, metric, &tried)
                    };
                    if let Candidate::Gbdt(p) = &c
                        && let Some(x) = gbdt_choice(p)
                    {
                        tried.insert(x);
                    }
                    candidates.push(c);
                }
                (t as u32, candidates[t].clone())
            })
            .collect();
        let stop = || control.cancelled() || control.past(reserve);
        let prune = best.as_ref().map(|(_, b)| (b.score, b.score_std));
        let results: Vec<Result<Option<Evaluation>>> = batch
            .par_iter()
            .map(|(_, cand)| {
                evaluate(
                    cand,
                    &splits,
                    data,
                    &rows,
                    &target,
                    &all_features,
                    &base_schema,
                    metric,
                    prune,
                    &stop,
                )
            })
            .collect();
        for ((t, cand), result) in batch.into_iter().zip(results) {
            let Some(eval) = result? else {
                // Cut short by the deadline or a cancel: an unfinished candidate is not ranked.
                break 'trials;
            };
            let record = TrialRecord {
                trial: t,
                family: cand.family().to_owned(),
                params: eval.last.0.params.clone(),
                score: eval.score,
                score_std: eval.score_std,
                fit_secs: eval.fit_time.as_secs_f64(),
                predict_us_per_row: eval.predict_us,
                size_bytes: serde_json::to_vec(&eval.last.0.model).map_or(0, |v| v.len() as u64),
            };
            on_event(&SearchEvent::Trial(record.clone()));
            if let Candidate::Gbdt(p) = &cand
                && let Some(x) = gbdt_choice(p)
                && eval.score.is_finite()
            {
                gbdt_history.push((x, eval.score));
            }
            if eval.pruned {
                // Stopped after its first fold: listed, but never chosen.
                leaderboard.push(record);
                trial = t + 1;
                continue;
            }
            if !matches!(cand, Candidate::Baseline) {
                slowest_fit = slowest_fit.max(eval.slowest_fold);
                if eval.score.is_finite() {
                    keep_in_pool(&mut pool, t, &eval, &record, metric);
                }
            }
            leaderboard.push(record);
            if eval.score.is_finite()
                && best
                    .as_ref()
                    .is_none_or(|b| metric.better(eval.score, b.1.score))
            {
                best = Some((t, eval));
            }
            trial = t + 1;
        }
    }
    let cancelled = control.cancelled();
    let Some((best_trial, best_eval)) = best else {
        return Err(if cancelled {
            Error::CancelledEmpty
        } else {
            Error::DeadlineEmpty
        });
    };
    let covered_target = target.subset(&best_eval.covered);
    // Metrics of the winner on its out-of-fold predictions.
    let mut metrics = metrics::report(&covered_target, &best_eval.oof);
    let mut evaluation = metrics::evaluation(&covered_target, &best_eval.oof);
    let best_rounds = best_eval.rounds;
    let best_score = best_eval.score;
    let covered = best_eval.covered;
    let (last_fit, last_schema) = best_eval.last;
    let last_rows = splits.last().map_or(0, |s| s.0.len());

    // Refit the winner on every row, unless cancelled or out of time (then ship the trial model).
    let mut shipped = (last_fit.model, last_fit.params, last_schema, last_rows);
    let mut winner = best_trial;
    if !cancelled {
        let hard_stop = || control.cancelled() || control.past(Duration::ZERO);
        let full_schema = Schema {
            features: all_features.clone(),
            ..shipped.2.clone()
        };
        let refit = |t: u32, rounds: Option<usize>| -> Result<Option<FittedModel>> {
            let cand = for_refit(&candidates[t as usize], rounds);
            let f = fit_candidate(&cand, &all_features, data, &rows, &target, None, &hard_stop)?;
            Ok((!f.stopped && !hard_stop()).then_some(f.model))
        };
        let ensemble = select_ensemble(&pool, &covered_target, task, metric, &splits, &covered)
            .filter(|e| e.weights.len() >= 2 && metric.better(e.score, best_score));
        if let Some(e) = ensemble {
            let t = trial;
            let members: Vec<&PoolEntry> = e.weights.iter().map(|(i, _)| &pool[*i]).collect();
            let record = TrialRecord {
                trial: t,
                family: "ensemble".into(),
                params: e
                    .weights
                    .iter()
                    .map(|(i, w)| format!("{:.2} × trial {}", w, pool[*i].trial))
                    .collect::<Vec<_>>()
                    .join(" + "),
                score: e.score,
                score_std: e.score_std,
                fit_secs: members.iter().map(|m| m.fit_secs).sum(),
                predict_us_per_row: members.iter().map(|m| m.predict_us).sum(),
                size_bytes: members.iter().map(|m| m.size_bytes).sum(),
            };
            on_event(&SearchEvent::Trial(record.clone()));
            leaderboard.push(record.clone());
            on_event(&SearchEvent::Refitting { trial: t });
            let mut fitted = Vec::new();
            for (i, w) in &e.weights {
                match refit(pool[*i].trial, pool[*i].rounds)? {
                    Some(model) => fitted.push(crate::artifact::Member { weight: *w, model }),
                    None => break,
                }
            }
            if fitted.len() == e.weights.len() {
                shipped = (
                    FittedModel::Ensemble { members: fitted },
                    record.params,
                    full_schema.clone(),
                    rows.len(),
                );
                metrics = metrics::report(&covered_target, &e.oof);
                evaluation = metrics::evaluation(&covered_target, &e.oof);
                winner = t;
            }
        }
        if winner == best_trial {
            on_event(&SearchEvent::Refitting { trial: best_trial });
            if let Some(model) = refit(best_trial, best_rounds)? {
                shipped = (model, shipped.1, full_schema, rows.len());
            }
        }
    }
    leaderboard.sort_by(|a, b| {
        let (x, y) = (sanitize(a.score, metric), sanitize(b.score, metric));
        let ord = if metric.higher_is_better() {
            y.total_cmp(&x)
        } else {
            x.total_cmp(&y)
        };
        ord.then(a.trial.cmp(&b.trial))
    });
    let artifact = ModelArtifact {
        format_version: crate::artifact::FORMAT_VERSION,
        kiln_version: config.kiln_version.clone(),
        created: config.created.clone(),
        schema: shipped.2,
        recipe: None,
        model: shipped.0,
        params: shipped.1,
        metrics,
        training_rows: shipped.3 as u64,
    };
    Ok(SearchOutcome {
        task,
        metric,
        leaderboard,
        best_trial: winner,
        artifact,
        evaluation,
        cancelled,
    })
}

/// The candidate as refit on every row: boosted trees get the rounds the
/// folds found, plus a tenth for the extra data, and no early stopping.
fn for_refit(cand: &Candidate, rounds: Option<usize>) -> Candidate {
    match cand {
        Candidate::Gbdt(p) => Candidate::Gbdt(GbdtParams {
            n_rounds: ((rounds.unwrap_or(1) as f64) * 1.1).ceil() as usize,
            early_stopping_rounds: 0,
            ..p.clone()
        }),
        Candidate::Mlp(p) => Candidate::Mlp(MlpParams {
            max_epochs: ((rounds.unwrap_or(1) as f64) * 1.1).ceil() as usize,
            ..p.clone()
        }),
        c => c.clone(),
    }
}

/// A finished candidate kept for ensemble selection.
struct PoolEntry {
    trial: u32,
    score: f64,
    /// Out-of-fold predictions (values or probabilities) at the covered positions.
    oof: Vec<f64>,
    rounds: Option<usize>,
    fit_secs: f64,
    predict_us: f64,
    size_bytes: u64,
}

/// Keeps the `ENSEMBLE_POOL` best candidates, best first.
fn keep_in_pool(
    pool: &mut Vec<PoolEntry>,
    trial: u32,
    eval: &Evaluation,
    record: &TrialRecord,
    metric: Metric,
) {
    pool.push(PoolEntry {
        trial,
        score: eval.score,
        oof: eval.oof.clone(),
        rounds: eval.rounds,
        fit_secs: record.fit_secs,
        predict_us: record.predict_us_per_row,
        size_bytes: record.size_bytes,
    });
    pool.sort_by(|a, b| {
        let ord = if metric.better(a.score, b.score) {
            std::cmp::Ordering::Less
        } else if metric.better(b.score, a.score) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        };
        ord.then(a.trial.cmp(&b.trial))
    });
    pool.truncate(ENSEMBLE_POOL);
}

/// A weighted average of pool members' raw outputs.
struct Ensemble {
    /// `(pool index, weight)`, heaviest first; weights sum to 1.
    weights: Vec<(usize, f64)>,
    score: f64,
    score_std: f64,
    /// Its out-of-fold predictions (values or probabilities).
    oof: Vec<f64>,
}

/// Greedy ensemble selection with replacement (Caruana et al. 2004) on
/// out-of-fold predictions, averaging in the raw output space so that the
/// ensemble's SHAP values are the same average of its members'.
fn select_ensemble(
    pool: &[PoolEntry],
    target: &Target,
    task: Task,
    metric: Metric,
    splits: &[(Vec<usize>, Vec<usize>)],
    covered: &[usize],
) -> Option<Ensemble> {
    use crate::artifact::{link, link_inverse};
    if pool.len() < 2 {
        return None;
    }
    let k = target.n_classes();
    let raws: Vec<Vec<f64>> = pool.iter().map(|e| link_inverse(task, &e.oof, k)).collect();
    let n = raws[0].len();
    let mut sum = vec![0.0; n];
    let mut counts = vec![0usize; pool.len()];
    let mut best: Option<(f64, Vec<usize>)> = None;
    for step in 0..ENSEMBLE_STEPS {
        let mut pick: Option<(f64, usize)> = None;
        for (i, raw) in raws.iter().enumerate() {
            let avg: Vec<f64> = sum
                .iter()
                .zip(raw)
                .map(|(s, r)| (s + r) / (step + 1) as f64)
                .collect();
            let score = metric.score(target, &link(task, avg, k));
            if score.is_finite() && pick.is_none_or(|(b, _)| metric.better(score, b)) {
                pick = Some((score, i));
            }
        }
        let (score, i) = pick?;
        sum.iter_mut().zip(&raws[i]).for_each(|(s, r)| *s += r);
        counts[i] += 1;
        if best.as_ref().is_none_or(|(b, _)| metric.better(score, *b)) {
            best = Some((score, counts.clone()));
        }
    }
    let (_, counts) = best?;
    let total: usize = counts.iter().sum();
    let mut weights: Vec<(usize, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| (i, *c as f64 / total as f64))
        .collect();
    weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut raw = vec![0.0; n];
    for (i, w) in &weights {
        raw.iter_mut().zip(&raws[*i]).for_each(|(s, r)| *s += w * r);
    }
    let oof = link(task, raw, k);
    // Spread over folds, as for single candidates.
    let width = oof.len() / covered.len().max(1);
    let fold_scores: Vec<f64> = splits
        .iter()
        .map(|(_, va)| {
            let idx: Vec<usize> = va
                .iter()
                .filter_map(|p| covered.binary_search(p).ok())
                .collect();
            let pred: Vec<f64> = idx
                .iter()
                .flat_map(|&i| oof[i * width..(i + 1) * width].iter().copied())
                .collect();
            metric.score(&target.subset(&idx), &pred)
        })
        .collect();
    let mean = fold_scores.iter().sum::<f64>() / fold_scores.len().max(1) as f64;
    let score_std = (fold_scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>()
        / fold_scores.len().max(1) as f64)
        .sqrt();
    // Ranked like single candidates: the mean of the fold scores.
    Some(Ensemble {
        weights,
        score: mean,
        score_std,
        oof,
    })
}

fn sanitize(score: f64, metric: Metric) -> f64 {
    if score.is_finite() {
        score
    } else if metric.higher_is_better() {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    }
}

fn class_names(target: &Target) -> Vec<String> {
    match target {
        Target::Regression(_) => Vec::new(),
        Target::Classes { classes, .. } => classes.clone(),
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
    fn tpe_proposes_what_worked() {
        // Trials with 63 leaves (index 4) scored best; TPE should mostly propose them.
        let history: Vec<([usize; DIMS], f64)> = (0..40)
            .map(|i| {
                let leaves = i % 6;
                let choice = [i % 4, leaves, i % 5, i % 3, i % 4, (i / 3) % 4, i % 3];
                (
                    choice,
                    if leaves == 4 {
                        0.9
                    } else {
                        0.6 + (i % 7) as f64 * 0.01
                    },
                )
            })
            .collect();
        let mut rng = Rng::new(1);
        let mut hits = 0;
        for _ in 0..100 {
            if let Candidate::Gbdt(p) =
                tpe_gbdt(&mut rng, 0, &history, Metric::Auc, &HashSet::new())
            {
                hits += usize::from(p.max_leaves == 63);
            }
        }
        // Random search would pick 63 leaves about 17 times in 100.
        assert!(hits > 60, "{hits} of 100");
        // Too little history: random search.
        let mut rng = Rng::new(1);
        let few = &history[..TPE_MIN_TRIALS - 1];
        let mut rng2 = Rng::new(1);
        assert_eq!(
            format!(
                "{:?}",
                tpe_gbdt(&mut rng, 0, few, Metric::Auc, &HashSet::new())
            ),
            format!("{:?}", random_gbdt(&mut rng2, 0, &HashSet::new()))
        );
    }

    #[test]
    fn tpe_does_not_propose_a_point_twice() {
        // TPE's favourite region is small (63 leaves, the other choices
        // fixed), so without the tried set it proposes the same points again.
        let history: Vec<([usize; DIMS], f64)> = (0..40)
            .map(|i| {
                let good = i % 4 == 0;
                let choice = if good {
                    [2, 4, 1, 2, 3, 0, 0]
                } else {
                    [i % 4, i % 6, i % 5, i % 3, i % 4, (i / 3) % 4, i % 3]
                };
                (choice, if good { 0.9 } else { 0.6 })
            })
            .collect();
        let mut tried: HashSet<[usize; DIMS]> = history.iter().map(|h| h.0).collect();
        let mut rng = Rng::new(3);
        for n in 0..300 {
            let Candidate::Gbdt(p) = tpe_gbdt(&mut rng, 0, &history, Metric::Auc, &tried) else {
                panic!("TPE proposes boosted trees");
            };
            let x = gbdt_choice(&p).expect("a point of the space");
            assert!(tried.insert(x), "proposal {n} repeats {x:?}");
        }
    }

    #[test]
    fn weak_first_folds_are_hopeless_and_close_ones_are_not() {
        assert!(hopeless(Metric::Auc, 0.70, 0.80, 0.01));
        assert!(!hopeless(Metric::Auc, 0.79, 0.80, 0.01));
        assert!(!hopeless(Metric::Auc, 0.85, 0.80, 0.01));
        assert!(hopeless(Metric::Rmse, 130.0, 100.0, 5.0));
        assert!(!hopeless(Metric::Rmse, 110.0, 100.0, 5.0));
        assert!(hopeless(Metric::LogLoss, f64::NAN, 0.3, 0.01));
    }

    #[test]
    fn kfold_is_stratified_and_validates_every_row_once() {
        let y: Vec<usize> = (0..103).map(|i| usize::from(i % 4 == 0)).collect();
        let target = Target::Classes {
            classes: vec!["a".into(), "b".into()],
            y: y.clone(),
        };
        let s = splits(&target, 5, 0.2, 1);
        assert_eq!(s.len(), 5);
        let mut seen = vec![0; 103];
        for (tr, va) in &s {
            assert_eq!(tr.len() + va.len(), 103);
            va.iter().for_each(|&i| seen[i] += 1);
            let positives = va.iter().filter(|&&i| y[i] == 1).count();
            assert!(
                (5..=6).contains(&positives),
                "{positives} of 26 positives in a fold"
            );
        }
        assert!(seen.iter().all(|&c| c == 1));
    }

    #[test]
    fn small_data_is_cross_validated_and_large_data_held_out() {
        let cancel = AtomicBool::new(false);
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        for (cv_max_rows, want) in [(50_000, "5-fold cross-validation"), (100, "a 20% holdout")] {
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
