//! Target leakage: columns that alone predict the target almost perfectly
//! on held-out rows. Each column becomes bins (its categories, or up to
//! [`MAX_LEAK_BINS`] quantile bins of its numbers, missing as a bin of its
//! own); the majority class (or mean) of each bin on 80% of the rows
//! predicts the other 20%. Accuracy of at least [`LEAK_SCORE`] with at most
//! a tenth of the majority-class guess's errors, or R² of at least
//! [`LEAK_SCORE`], is leakage. Fix: drop the column.

use std::collections::HashMap;

use api::{FindingKind as K, Severity, display};
use automl::Rng;

use super::{Check, Context, finding, stat};
use crate::stats::{self, Values};

/// A single column whose binned model reaches this holdout accuracy (or R²) leaks.
pub const LEAK_SCORE: f64 = 0.99;
/// A leaking column makes at most this share of the majority guess's errors.
const LEAK_ERRORS: f64 = 0.1;
/// The share of the rows held out.
const HOLDOUT: f64 = 0.2;
/// Held-out (and training) rows needed before a column is called leaky.
const MIN_LEAK_HOLDOUT: usize = 30;
const MAX_LEAK_BINS: usize = 256;
/// Training rows per bin of a numeric column in the leakage check.
const LEAK_ROWS_PER_BIN: usize = 20;
/// Cells (rows × columns) the leakage check reads at most, by sampling rows.
const LEAK_CELLS: usize = 40_000_000;
/// Rows the check reads at least, whatever the width.
const MIN_LEAK_ROWS: usize = 10_000;

pub(super) const LEAKAGE: Check = Check {
    kinds: &[K::TargetLeakage],
    run: leakage,
};

/// The rows the leakage check reads (a seeded sample of those with a
/// target) and which of them are held out.
struct Holdout {
    /// Places in the target's rows.
    positions: Vec<usize>,
    /// Rows of the frame.
    rows: Vec<usize>,
    held: Vec<bool>,
    n_held: usize,
    sampled: Option<u64>,
}

impl Holdout {
    fn new(cx: &Context, target_rows: &[usize]) -> Option<Holdout> {
        let width = cx.cols.len().max(1);
        let limit = cx.sample.len().min((LEAK_CELLS / width).max(MIN_LEAK_ROWS));
        let positions = stats::sample_rows(target_rows.len(), limit, stats::SEED ^ 2);
        let sampled = (positions.len() < target_rows.len()).then_some(positions.len() as u64);
        let mut rng = Rng::new(stats::SEED ^ 3);
        let held: Vec<bool> = positions.iter().map(|_| rng.next_f64() < HOLDOUT).collect();
        let n_held = held.iter().filter(|&&h| h).count();
        if n_held < MIN_LEAK_HOLDOUT || positions.len() - n_held < MIN_LEAK_HOLDOUT {
            return None;
        }
        let rows = positions.iter().map(|&p| target_rows[p]).collect();
        Some(Holdout {
            positions,
            rows,
            held,
            n_held,
            sampled,
        })
    }
}

fn leakage(cx: &Context) -> Vec<api::Finding> {
    let Some(t) = &cx.target else {
        return Vec::new();
    };
    let Ok((target, target_rows)) = &t.encoded else {
        return Vec::new();
    };
    let Some(h) = Holdout::new(cx, target_rows) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (j, c) in cx.cols.iter().enumerate() {
        if j == t.index || c.distinct < 2 {
            continue;
        }
        let bins = bin_column(&c.values, &h.rows, &h.held);
        let score = match target {
            automl::Target::Classes { classes, y } => {
                let y: Vec<usize> = h.positions.iter().map(|&p| y[p]).collect();
                classification_score(&bins, &y, &h.held, classes.len())
            }
            automl::Target::Regression(v) => {
                let y: Vec<f64> = h.positions.iter().map(|&p| v[p]).collect();
                regression_score(&bins, &y, &h.held)
            }
        };
        let Some((message, stats_)) = score.and_then(|s| leak_words(s, &c.name, &t.name)) else {
            continue;
        };
        out.push(finding(
            K::TargetLeakage,
            Severity::Critical,
            vec![c.name.clone(), t.name.clone()],
            message,
            api::Evidence {
                count: Some(h.n_held as u64),
                stats: stats_,
                sampled_rows: h.sampled,
                ..Default::default()
            },
            format!(
                "Drop `{}` unless its value is truly known at the moment you will predict.",
                c.name
            ),
            super::drop_column(&c.name),
        ));
    }
    out
}

/// The message and statistics of a score that is leakage; `None` otherwise.
fn leak_words(score: Score, column: &str, target: &str) -> Option<(String, Vec<api::Stat>)> {
    match score {
        Score::Accuracy { accuracy, baseline } => {
            if accuracy < LEAK_SCORE || (1.0 - accuracy) > LEAK_ERRORS * (1.0 - baseline) {
                return None;
            }
            Some((
                format!(
                    "`{column}` alone predicts `{target}` with {} accuracy on held-out rows (always guessing the most common class: {}): it probably contains the answer, or is only known after it",
                    display::percent(accuracy),
                    display::percent(baseline)
                ),
                vec![
                    stat("held-out accuracy", accuracy),
                    stat("majority-class accuracy", baseline),
                ],
            ))
        }
        Score::R2(r2) => {
            if r2 < LEAK_SCORE {
                return None;
            }
            Some((
                format!(
                    "`{column}` alone explains {} of the variance of `{target}` on held-out rows (R² = {r2:.3}): it probably contains the answer, or is only known after it",
                    display::percent(r2)
                ),
                vec![stat("held-out R²", r2)],
            ))
        }
    }
}

/// The bin of each of `rows`: category codes, or quantile bins of the
/// training rows' numbers; missing is bin `u32::MAX`.
fn bin_column(values: &Values, rows: &[usize], holdout: &[bool]) -> Vec<u32> {
    match values {
        Values::Categories { codes, .. } => rows.iter().map(|&r| codes[r]).collect(),
        Values::Numbers { values, .. } => {
            let train: Vec<f64> = rows
                .iter()
                .zip(holdout)
                .filter(|(_, h)| !**h)
                .map(|(&r, _)| values[r])
                .collect();
            let sorted = stats::finite_sorted(&train);
            let k = (sorted.len() / LEAK_ROWS_PER_BIN).clamp(1, MAX_LEAK_BINS);
            let mut edges: Vec<f64> = (1..k).map(|i| sorted[i * sorted.len() / k]).collect();
            edges.dedup();
            rows.iter()
                .map(|&r| {
                    let x = values[r];
                    if x.is_nan() {
                        u32::MAX
                    } else {
                        edges.partition_point(|&e| e < x) as u32
                    }
                })
                .collect()
        }
    }
}

enum Score {
    Accuracy { accuracy: f64, baseline: f64 },
    R2(f64),
}

/// Holdout accuracy of each bin's majority class (learned on the other
/// rows), and of always guessing the overall majority; `None` when the
/// held-out rows are all one class.
fn classification_score(bins: &[u32], y: &[usize], holdout: &[bool], k: usize) -> Option<Score> {
    let mut train: Vec<(u32, usize)> = bins
        .iter()
        .zip(y)
        .zip(holdout)
        .filter(|(_, h)| !**h)
        .map(|((&b, &c), _)| (b, c))
        .collect();
    train.sort_unstable();
    let mut overall = vec![0usize; k];
    let mut majority: HashMap<u32, usize> = HashMap::new();
    let mut i = 0;
    while i < train.len() {
        let bin = train[i].0;
        let (mut best, mut best_n) = (train[i].1, 0);
        while i < train.len() && train[i].0 == bin {
            let class = train[i].1;
            let mut n = 0;
            while i < train.len() && train[i] == (bin, class) {
                n += 1;
                i += 1;
            }
            overall[class] += n;
            if n > best_n {
                (best, best_n) = (class, n);
            }
        }
        majority.insert(bin, best);
    }
    let global = (0..k).max_by(|&a, &b| overall[a].cmp(&overall[b]).then(b.cmp(&a)))?;
    let (mut n, mut right, mut base) = (0usize, 0usize, 0usize);
    for ((b, &c), _) in bins.iter().zip(y).zip(holdout).filter(|(_, h)| **h) {
        n += 1;
        right += usize::from(*majority.get(b).unwrap_or(&global) == c);
        base += usize::from(global == c);
    }
    if n == 0 || base == n {
        return None;
    }
    Some(Score::Accuracy {
        accuracy: right as f64 / n as f64,
        baseline: base as f64 / n as f64,
    })
}

/// Holdout R² of each bin's mean (learned on the other rows); `None` when
/// the held-out target does not vary.
fn regression_score(bins: &[u32], y: &[f64], holdout: &[bool]) -> Option<Score> {
    let mut sums: HashMap<u32, (f64, usize)> = HashMap::new();
    let (mut total, mut n_train) = (0.0, 0usize);
    for ((&b, &v), _) in bins.iter().zip(y).zip(holdout).filter(|(_, h)| !**h) {
        let e = sums.entry(b).or_default();
        e.0 += v;
        e.1 += 1;
        total += v;
        n_train += 1;
    }
    let global = total / n_train.max(1) as f64;
    let held: Vec<(u32, f64)> = bins
        .iter()
        .zip(y)
        .zip(holdout)
        .filter(|(_, h)| **h)
        .map(|((&b, &v), _)| (b, v))
        .collect();
    let mean = held.iter().map(|h| h.1).sum::<f64>() / held.len().max(1) as f64;
    let (mut sse, mut sst) = (0.0, 0.0);
    for &(b, v) in &held {
        let pred = sums.get(&b).map_or(global, |&(s, n)| s / n as f64);
        sse += (v - pred) * (v - pred);
        sst += (v - mean) * (v - mean);
    }
    // Targets near the largest double overflow the sums: no score then.
    let r2 = 1.0 - sse / sst;
    (sst > 0.0 && r2.is_finite()).then_some(Score::R2(r2))
}
