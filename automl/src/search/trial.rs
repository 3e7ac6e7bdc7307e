//! One trial: a candidate fitted and scored on every validation split, with
//! its out-of-fold predictions, or stopped after the first fold when it is
//! too far behind the best (one rung of successive halving).

use std::time::{Duration, Instant};

use super::Problem;
use crate::artifact::Schema;
use crate::encode::FeatureStats;
use crate::error::Result;
use crate::families::{Candidate, FitJob, Fitted};
use crate::metrics::Metric;

/// A candidate scored on every split.
pub(crate) struct Evaluation {
    /// Stopped after its first fold, too far behind the best so far.
    pub pruned: bool,
    pub score: f64,
    pub score_std: f64,
    /// Out-of-fold predictions at `covered` positions (row-major).
    pub oof: Vec<f64>,
    pub covered: Vec<usize>,
    /// Mean boosting rounds over folds.
    pub rounds: Option<usize>,
    /// The last fold's model and schema (shipped if the search is cancelled).
    pub last: (Fitted, Schema),
    pub fit_time: Duration,
    pub slowest_fold: Duration,
    pub predict_us: f64,
}

/// Whether a first-fold score is too far behind the best mean score to catch up.
pub(crate) fn hopeless(metric: Metric, fold: f64, best: f64, best_std: f64) -> bool {
    !fold.is_finite()
        || (metric.better(best, fold)
            && (fold - best).abs() > (3.0 * best_std).max(0.02 * best.abs()).max(1e-12))
}

/// One split's fit: the model, its validation predictions and times.
struct Fold {
    fitted: Fitted,
    schema: Schema,
    pred: Vec<f64>,
    fit_time: Duration,
    predict_time: Duration,
}

/// Below this many rows, a candidate that stops early
/// ([`Candidate::stops_early`]) chooses its rounds on a fifth of its
/// training fold and is then fitted on the whole fold with them
/// ([`Candidate::for_refit`], as the final model is on every row): on
/// small data, rounds chosen on the rows a fold is scored on make its
/// score optimistic (a target with no signal scored above chance). Above
/// it, the folds are large enough for that to cost less than a second fit.
const INNER_STOP_MAX_ROWS: usize = 20_000;
/// The share of the training fold held out to stop on.
const INNER_STOP_FRACTION: f64 = 0.2;
/// A fit cut by the deadline on a holdout split is kept from this many rounds on.
const MIN_CUT_ROUNDS: usize = 20;

/// Fits `cand` on one split's training rows (encoders see only those) and
/// predicts its validation rows; `None` when the stop signal cut it short.
fn fit_fold(
    cand: &dyn Candidate,
    problem: &Problem<'_>,
    (tr, va): (&[usize], &[usize]),
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Fold>> {
    let rows_of = |p: &[usize]| p.iter().map(|&i| problem.rows[i]).collect::<Vec<usize>>();
    let train_rows = rows_of(tr);
    let valid_rows = rows_of(va);
    let features: Vec<FeatureStats> = problem
        .features
        .iter()
        .map(|f| {
            let column = problem.data.column(&f.name).expect("selected from data");
            FeatureStats::fit(&f.name, column, &train_rows)
        })
        .collect();
    let fit = |cand: &dyn Candidate, fit_on: &[usize], stop_on: Option<&[usize]>| {
        let stop_rows = stop_on.map(rows_of);
        let stop_target = stop_on.map(|s| problem.target.subset(s));
        cand.fit(&FitJob {
            features: &features,
            data: problem.data,
            rows: &rows_of(fit_on),
            target: &problem.target.subset(fit_on),
            valid: stop_rows.as_deref().zip(stop_target.as_ref()),
            stop,
        })
    };
    let inner = (cand.stops_early() && problem.rows.len() < INNER_STOP_MAX_ROWS)
        .then(|| {
            // Seeded by the split, so each fold's inner holdout is its own and the same every run.
            let seed = (tr.len() as u64) ^ (va.first().map_or(0, |&v| v as u64) << 20);
            let (fit_on, stop_on) =
                super::folds::holdout(&problem.target.subset(tr), INNER_STOP_FRACTION, seed);
            let at = |p: Vec<usize>| p.into_iter().map(|i| tr[i]).collect::<Vec<usize>>();
            (at(fit_on), at(stop_on))
        })
        .filter(|(fit_on, stop_on)| !fit_on.is_empty() && !stop_on.is_empty());
    let start = Instant::now();
    let fitted = match &inner {
        Some((fit_on, stop_on)) => {
            let chose = fit(cand, fit_on, Some(stop_on))?;
            if chose.stopped {
                return Ok(None);
            }
            let mut whole = fit(cand.for_refit(chose.rounds).as_ref(), tr, None)?;
            // The rounds the stopping chose, for the final refit's mean.
            whole.rounds = chose.rounds;
            whole
        }
        None => fit(cand, tr, Some(va))?,
    };
    let fit_time = start.elapsed();
    let mut fitted = fitted;
    if fitted.stopped {
        // On one holdout split (large data), a boosting or network fit that the
        // deadline cut is still a model validated on the holdout, at the best
        // round it reached. Dropping it could leave only the quick families:
        // flights once shipped a linear model at eight times the error because
        // its two boosted trials ran out of time a second before they ended.
        let kept = problem.splits.len() == 1
            && inner.is_none()
            && fitted.rounds.is_some_and(|r| r >= MIN_CUT_ROUNDS);
        if !kept {
            return Ok(None);
        }
        fitted.params = format!(
            "{} · cut by the time budget at round {}",
            fitted.params,
            fitted.rounds.unwrap_or(0)
        );
    }
    let schema = Schema {
        features,
        ..problem.schema.clone()
    };
    let start = Instant::now();
    let pred = fitted.model.predict(&schema, problem.data, &valid_rows)?;
    Ok(Some(Fold {
        fitted,
        schema,
        pred,
        fit_time,
        predict_time: start.elapsed(),
    }))
}

/// What the folds of one candidate add up to.
struct Tally {
    width: usize,
    oof: Vec<f64>,
    scores: Vec<f64>,
    rounds: Vec<usize>,
    last: Option<(Fitted, Schema)>,
    fit_time: Duration,
    slowest_fold: Duration,
    predict_time: Duration,
    predicted: usize,
}

impl Tally {
    /// Adds the fold of split `split` (validation positions `va`).
    fn add(&mut self, fold: Fold, split: usize, problem: &Problem<'_>) {
        let w = self.width;
        let va = &problem.splits[split].1;
        let per_repeat = problem.splits.len() / problem.repeats;
        let offset = (split / per_repeat) * problem.target.len();
        self.fit_time += fold.fit_time;
        self.slowest_fold = self.slowest_fold.max(fold.fit_time);
        self.predict_time += fold.predict_time;
        self.predicted += va.len();
        for (j, &pos) in va.iter().enumerate() {
            let pos = offset + pos;
            self.oof[pos * w..(pos + 1) * w].copy_from_slice(&fold.pred[j * w..(j + 1) * w]);
        }
        self.scores
            .push(problem.metric.score(&problem.target.subset(va), &fold.pred));
        self.rounds.extend(fold.fitted.rounds);
        self.last = Some((fold.fitted, fold.schema));
    }

    fn predict_us(&self) -> f64 {
        self.predict_time.as_secs_f64() * 1e6 / self.predicted.max(1) as f64
    }

    /// The evaluation of a candidate stopped after its first fold.
    fn pruned(mut self, folds: usize) -> Evaluation {
        let (mut fitted, schema) = self.last.take().expect("one fold was added");
        fitted.params = format!("{} · stopped after fold 1 of {folds}", fitted.params);
        Evaluation {
            pruned: true,
            score: self.scores[0],
            score_std: 0.0,
            oof: Vec::new(),
            covered: Vec::new(),
            rounds: None,
            predict_us: self.predict_us(),
            last: (fitted, schema),
            fit_time: self.fit_time,
            slowest_fold: self.slowest_fold,
        }
    }

    /// The evaluation over every fold: mean and spread of the fold scores.
    fn finish(self, problem: &Problem<'_>) -> Option<Evaluation> {
        let predict_us = self.predict_us();
        let w = self.width;
        let last = self.last?;
        let mut covered: Vec<usize> = problem.validation().into_iter().flatten().collect();
        covered.sort_unstable();
        let oof = covered
            .iter()
            .flat_map(|&p| self.oof[p * w..(p + 1) * w].to_vec())
            .collect();
        let (score, score_std) = mean_and_std(&self.scores);
        let rounds = (!self.rounds.is_empty()).then(|| {
            (self.rounds.iter().sum::<usize>() as f64 / self.rounds.len() as f64).round() as usize
        });
        Some(Evaluation {
            pruned: false,
            score,
            score_std,
            oof,
            covered,
            rounds,
            last,
            fit_time: self.fit_time,
            slowest_fold: self.slowest_fold,
            predict_us,
        })
    }
}

/// The mean of fold scores and their (population) standard deviation.
pub(crate) fn mean_and_std(scores: &[f64]) -> (f64, f64) {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
    (mean, std)
}

/// Fits `cand` on every split; `None` when the stop signal cut it short.
/// With `prune` (the best mean score and its spread so far), a candidate
/// whose first fold is hopeless does not get the other folds.
pub(crate) fn evaluate(
    cand: &dyn Candidate,
    problem: &Problem<'_>,
    prune: Option<(f64, f64)>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Evaluation>> {
    let width = problem.target.n_classes().max(1);
    let metric = problem.metric;
    let mut tally = Tally {
        width,
        oof: vec![f64::NAN; problem.repeats * problem.target.len() * width],
        scores: Vec::new(),
        rounds: Vec::new(),
        last: None,
        fit_time: Duration::ZERO,
        slowest_fold: Duration::ZERO,
        predict_time: Duration::ZERO,
        predicted: 0,
    };
    let folds = problem.splits.len();
    for (split, (tr, va)) in problem.splits.iter().enumerate() {
        if stop() {
            return Ok(None);
        }
        let Some(fold) = fit_fold(cand, problem, (tr, va), stop)? else {
            return Ok(None);
        };
        tally.add(fold, split, problem);
        if tally.scores.len() == 1
            && folds >= 3
            && let Some((best, best_std)) = prune
            && hopeless(metric, tally.scores[0], best, best_std)
        {
            return Ok(Some(tally.pruned(folds)));
        }
    }
    Ok(tally.finish(problem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Column, Dataset};
    use crate::search::SearchConfig;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A boosted trial that the deadline cuts after 60 rounds (counted, not
    /// timed): kept and labelled on a holdout split, dropped under k-fold.
    #[test]
    fn a_boosted_fit_cut_by_the_deadline_counts_only_on_a_holdout() {
        // Above the inner-stop threshold, so each fold stops on the rows it is scored on.
        let n = 25_000;
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 10.0).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| (v / 7.0).sin() * 10.0 + v / 10.0)
            .collect();
        let data = Dataset::new(vec![
            ("x".into(), Column::Numeric(x)),
            ("y".into(), Column::Numeric(y)),
        ])
        .unwrap();
        let family = crate::families::chosen(&["boosted trees".to_string()]).unwrap()[0];
        for (cv_max_rows, kept) in [(20_000, true), (50_000, false)] {
            let config = SearchConfig {
                cv_max_rows,
                ..SearchConfig::new("y")
            };
            let (problem, _) = Problem::new(&data, &config).unwrap();
            let (_, cand) = family.portfolio(&problem.target, 0).remove(0);
            let polls = AtomicUsize::new(0);
            let stop = || polls.fetch_add(1, Ordering::Relaxed) >= 60;
            let eval = evaluate(cand.as_ref(), &problem, None, &stop).unwrap();
            assert_eq!(eval.is_some(), kept, "cv_max_rows {cv_max_rows}");
            if let Some(eval) = eval {
                assert!(
                    eval.last.0.params.contains("cut by the time budget"),
                    "{}",
                    eval.last.0.params
                );
                assert!(
                    eval.score.is_finite() && eval.score < 5.0,
                    "RMSE {}",
                    eval.score
                );
            }
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
}
