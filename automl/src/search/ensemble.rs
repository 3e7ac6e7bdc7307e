//! Ensembles of finished trials: the best candidates are kept with their
//! out-of-fold predictions, and greedy ensemble selection (Caruana et al.
//! 2004) weighs them in the raw output space.

use super::TrialRecord;
use super::trial::{Evaluation, mean_and_std};
use crate::artifact::{link, link_inverse};
use crate::metrics::Metric;
use crate::task::{Target, Task};

/// Best candidates kept (with their out-of-fold predictions) for the ensemble.
const ENSEMBLE_POOL: usize = 8;
/// Greedy ensemble selection steps (members are picked with replacement).
const ENSEMBLE_STEPS: usize = 24;

/// A finished candidate kept for ensemble selection.
pub(crate) struct PoolEntry {
    pub trial: u32,
    pub score: f64,
    /// Out-of-fold predictions (values or probabilities) at the covered positions.
    pub oof: Vec<f64>,
    pub rounds: Option<usize>,
    pub fit_secs: f64,
    pub predict_us: f64,
    pub size_bytes: u64,
}

/// Keeps the `ENSEMBLE_POOL` best candidates, best first.
pub(crate) fn keep_in_pool(
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
    pool.sort_by(|a, b| metric.compare(a.score, b.score).then(a.trial.cmp(&b.trial)));
    pool.truncate(ENSEMBLE_POOL);
}

/// A weighted average of pool members' raw outputs.
pub(crate) struct Selection {
    /// `(pool index, weight)`, heaviest first; weights sum to 1.
    pub weights: Vec<(usize, f64)>,
    pub score: f64,
    pub score_std: f64,
    /// Its out-of-fold predictions (values or probabilities).
    pub oof: Vec<f64>,
}

/// Greedy ensemble selection with replacement (Caruana et al. 2004) on
/// out-of-fold predictions, averaging in the raw output space so that the
/// ensemble's SHAP values are the same average of its members'.
pub(crate) fn select_ensemble(
    pool: &[PoolEntry],
    target: &Target,
    task: Task,
    metric: Metric,
    validation: &[Vec<usize>],
    covered: &[usize],
) -> Option<Selection> {
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
    Some(blend(
        &raws, weights, target, task, metric, validation, covered,
    ))
}

/// The weighted average of `raws` (members' out-of-fold raw outputs at the
/// covered positions) with `weights` (`(index into raws, weight)`), scored
/// fold by fold as single candidates are (`validation`: each split's
/// out-of-fold positions, [`super::Problem::validation`]).
pub(crate) fn blend(
    raws: &[Vec<f64>],
    weights: Vec<(usize, f64)>,
    target: &Target,
    task: Task,
    metric: Metric,
    validation: &[Vec<usize>],
    covered: &[usize],
) -> Selection {
    let k = target.n_classes();
    let n = raws.first().map_or(0, Vec::len);
    let mut raw = vec![0.0; n];
    for (i, w) in &weights {
        raw.iter_mut().zip(&raws[*i]).for_each(|(s, r)| *s += w * r);
    }
    let oof = link(task, raw, k);
    // Spread over folds, as for single candidates.
    let width = oof.len() / covered.len().max(1);
    let fold_scores: Vec<f64> = validation
        .iter()
        .map(|va| {
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
    let (mean, score_std) = mean_and_std(&fold_scores);
    // Ranked like single candidates: the mean of the fold scores.
    Selection {
        weights,
        score: mean,
        score_std,
        oof,
    }
}
