//! Targets rebuilt from two or three columns together: a total stored
//! beside its price and quantity, a delay beside the actual and the
//! scheduled times, an outcome beside measurements taken after it. No
//! single column predicts such a target well, so the one-column leakage
//! check (`leakage.rs`) cannot see it.
//!
//! On a seeded sample of the rows with a target (20% held out), small
//! boosted trees rank the columns (mean |SHAP| of one model on all of
//! them); then each of the [`STRONGEST`] strongest columns alone, each
//! pair of them, and each triple of the [`TRIPLES_OF`] strongest, is fitted
//! with the same small trees and scored on the held-out rows. Numeric
//! members also give the trees their differences, sums, products and
//! ratios, which axis-aligned splits cannot make themselves. A set whose
//! held-out skill (R², or the share of the majority guess's errors removed)
//! reaches [`DERIVED_SCORE`] ([`DERIVED_CLASS_SCORE`] for classes), while
//! every member alone stays at or below [`ALONE_CEILING`] and the set
//! closes [`GAP_CLOSED`] of the gap between its best member alone and a
//! perfect score, is reported, with the member whose removal costs the
//! most (a name that says it is known only afterwards breaks near-ties)
//! as the one to ask about. A class must need the arithmetic: one the
//! columns give as they are is separated honestly, as penguins' species by
//! bill length and depth. It is never left out silently: a column such
//! as a departure delay can be known in time.

use automl::{GbdtParams, Rng, Target};
use rayon::prelude::*;

use api::{FindingKind as K, Severity, display};

use super::{Check, Context, finding, stat};
use crate::stats::{self, MISSING, Values};

/// A set of columns rebuilds a numeric target when its held-out R² reaches
/// this (trees find clock and ratio arithmetic hard, so not 0.99)...
pub const DERIVED_SCORE: f64 = 0.9;
/// ...and a class when it avoids this share of the majority guess's
/// errors: a class computed from columns is a threshold the trees find
/// almost exactly, while honest measurements that separate classes well
/// (penguins' bill length and depth, 94%) still overlap.
pub const DERIVED_CLASS_SCORE: f64 = 0.98;
/// ...while each of its columns alone stays at or below this...
pub const ALONE_CEILING: f64 = 0.7;
/// ...and the set closes at least this share of the gap between its best
/// member alone and a perfect score.
pub const GAP_CLOSED: f64 = 0.75;
/// Rows the check reads at most (a seeded sample of those with a target).
pub const DERIVED_ROWS: usize = 20_000;
/// Pairs are tried among this many of the strongest columns.
const STRONGEST: usize = 10;
/// Triples among this many.
const TRIPLES_OF: usize = 6;
/// The ranking model reads at most this many columns (in table order).
const RANKED_COLUMNS: usize = 100;
/// Rows needed, held-out and training together.
const MIN_ROWS: usize = 200;
/// Classes at most: each boosting round grows a tree per class.
const MAX_CLASSES: usize = 30;
const HOLDOUT: f64 = 0.2;
/// Held-out rows the ranking's SHAP values are computed on.
const SHAP_ROWS: usize = 1000;
/// Text columns with more levels than this share of the rows are names or
/// identifiers, left out.
const MAX_LEVEL_SHARE: f64 = 0.5;
/// Removal costs closer than this are a tie, which a name that says
/// "afterwards" breaks.
const TIE: f64 = 0.05;
/// Reported sets at most, best first, no column in two of them.
const MAX_FINDINGS: usize = 3;
/// Words in a column's name that say its value is known only afterwards.
const AFTERWARDS: &[&str] = &[
    "actual", "arr", "arrival", "after", "end", "ended", "final", "finish", "finished", "close",
    "closed", "closing", "result", "outcome", "post", "paid", "settled", "completed", "delivered",
    "returned", "exit", "total", "discharge",
];

pub(super) const DERIVED_TARGET: Check = Check {
    kinds: &[K::DerivedTarget],
    run: derived,
};

/// The sampled rows' columns and target, split into training and held-out rows.
struct Sample {
    /// Candidate columns: name, numeric, values on the sampled rows
    /// (category codes as numbers, missing as NaN).
    columns: Vec<(String, bool, Vec<f64>)>,
    train: Vec<usize>,
    held: Vec<usize>,
    target: Target,
    /// Rows sampled, when fewer than those with a target.
    sampled: Option<u64>,
}

impl Sample {
    fn new(cx: &Context, target: &Target, target_rows: &[usize], skip: usize) -> Option<Sample> {
        let positions = stats::sample_rows(target_rows.len(), DERIVED_ROWS, stats::SEED ^ 5);
        if positions.len() < MIN_ROWS {
            return None;
        }
        let rows: Vec<usize> = positions.iter().map(|&p| target_rows[p]).collect();
        let mut rng = Rng::new(stats::SEED ^ 6);
        let (held, train): (Vec<usize>, Vec<usize>) =
            (0..rows.len()).partition(|_| rng.next_f64() < HOLDOUT);
        let columns = cx
            .cols
            .iter()
            .enumerate()
            .filter(|(j, c)| *j != skip && c.distinct >= 2)
            .filter_map(|(_, c)| match &c.values {
                Values::Numbers { values, .. } => Some((
                    c.name.clone(),
                    true,
                    rows.iter()
                        .map(|&r| Some(values[r]).filter(|x| x.is_finite()).unwrap_or(f64::NAN))
                        .collect(),
                )),
                Values::Categories { codes, .. } => {
                    (c.distinct as f64 <= MAX_LEVEL_SHARE * c.present().max(1) as f64).then(|| {
                        let v = rows
                            .iter()
                            .map(|&r| match codes[r] {
                                MISSING => f64::NAN,
                                code => f64::from(code),
                            })
                            .collect();
                        (c.name.clone(), false, v)
                    })
                }
            })
            .take(RANKED_COLUMNS)
            .collect();
        Some(Sample {
            columns,
            train,
            held,
            target: target.subset(&positions),
            sampled: (positions.len() < target_rows.len()).then_some(positions.len() as u64),
        })
    }

    /// The features of a set of columns: the columns, and for numeric
    /// members their differences, sums, products and ratios (pairs), and
    /// signed sums and the product of all three (triples).
    fn features(&self, set: &[usize]) -> Vec<Vec<f64>> {
        let col = |i: usize| &self.columns[i].2;
        let mut out: Vec<Vec<f64>> = set.iter().map(|&i| col(i).clone()).collect();
        let numeric: Vec<usize> = set.iter().copied().filter(|&i| self.columns[i].1).collect();
        let combine = |f: &dyn Fn(&[f64]) -> f64, members: &[usize]| -> Vec<f64> {
            (0..col(members[0]).len())
                .map(|r| {
                    let v: Vec<f64> = members.iter().map(|&m| col(m)[r]).collect();
                    let x = f(&v);
                    if x.is_finite() { x } else { f64::NAN }
                })
                .collect()
        };
        for (a, &i) in numeric.iter().enumerate() {
            for &j in &numeric[a + 1..] {
                let pair = [i, j];
                out.push(combine(&|v| v[0] - v[1], &pair));
                out.push(combine(&|v| v[0] + v[1], &pair));
                out.push(combine(&|v| v[0] * v[1], &pair));
                out.push(combine(&|v| v[0] / v[1], &pair));
                out.push(combine(&|v| v[1] / v[0], &pair));
            }
        }
        if numeric.len() == 3 {
            out.push(combine(&|v| v[0] + v[1] + v[2], &numeric));
            out.push(combine(&|v| v[0] + v[1] - v[2], &numeric));
            out.push(combine(&|v| v[0] - v[1] + v[2], &numeric));
            out.push(combine(&|v| -v[0] + v[1] + v[2], &numeric));
            out.push(combine(&|v| v[0] * v[1] * v[2], &numeric));
        }
        out
    }

    /// The set's columns alone, without their arithmetic.
    fn columns_of(&self, set: &[usize]) -> Vec<Vec<f64>> {
        set.iter().map(|&i| self.columns[i].2.clone()).collect()
    }

    /// Small boosted trees on `features`' training rows.
    fn fit(&self, features: &[Vec<f64>]) -> Option<automl::Booster> {
        let pick = |rows: &[usize]| -> Vec<Vec<f64>> {
            features
                .iter()
                .map(|f| rows.iter().map(|&r| f[r]).collect())
                .collect()
        };
        let x = pick(&self.train);
        let params = GbdtParams {
            n_rounds: (200 / self.target.n_classes().max(2)).clamp(20, 100),
            learning_rate: 0.2,
            max_leaves: 15,
            min_samples_leaf: 10,
            early_stopping_rounds: 0,
            seed: stats::SEED,
            ..GbdtParams::default()
        };
        let target = self.target.subset(&self.train);
        automl::gbdt_fit(&x, &target, None, &params, &|| false)
            .ok()
            .map(|(b, _)| b)
    }

    /// Held-out skill of `features`: R², or for classes the share of the
    /// majority guess's errors that the model's most probable class
    /// avoids. `None` when it cannot be scored.
    fn skill(&self, features: &[Vec<f64>]) -> Option<f64> {
        let booster = self.fit(features)?;
        let held: Vec<Vec<f64>> = features
            .iter()
            .map(|f| self.held.iter().map(|&r| f[r]).collect())
            .collect();
        let raw = booster.raw(&held);
        let s = match &self.target {
            Target::Regression(y) => {
                let y: Vec<f64> = self.held.iter().map(|&r| y[r]).collect();
                automl::metrics::r2(&y, &raw)
            }
            Target::Classes { y, classes } => {
                let k = classes.len();
                let predicted: Vec<usize> = if k == 2 {
                    raw.iter().map(|&r| usize::from(r > 0.0)).collect()
                } else {
                    automl::metrics::argmax_rows(&raw, k)
                };
                let majority = self.majority()?;
                let held_y: Vec<usize> = self.held.iter().map(|&r| y[r]).collect();
                let errors = held_y.iter().zip(&predicted).filter(|(a, b)| a != b).count();
                let base = held_y.iter().filter(|&&c| c != majority).count();
                if base == 0 {
                    return None;
                }
                1.0 - errors as f64 / base as f64
            }
        };
        s.is_finite().then_some(s)
    }

    /// The most common class among the training rows.
    fn majority(&self) -> Option<usize> {
        let Target::Classes { y, classes } = &self.target else {
            return None;
        };
        let mut counts = vec![0usize; classes.len()];
        self.train.iter().for_each(|&r| counts[y[r]] += 1);
        (0..counts.len()).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))
    }

    /// The columns by mean |SHAP| of one model on all of them, strongest first.
    fn ranked(&self) -> Vec<usize> {
        let all: Vec<usize> = (0..self.columns.len()).collect();
        if all.len() <= STRONGEST {
            return all;
        }
        let features: Vec<Vec<f64>> = self.columns.iter().map(|c| c.2.clone()).collect();
        let Some(booster) = self.fit(&features) else {
            return all.into_iter().take(STRONGEST).collect();
        };
        let rows: Vec<usize> = self.held.iter().copied().take(SHAP_ROWS).collect();
        let cols: Vec<Vec<f64>> = features
            .iter()
            .map(|f| rows.iter().map(|&r| f[r]).collect())
            .collect();
        let (_, values) = booster.shap(&cols);
        let nf = features.len();
        let mut importance = vec![0.0; nf];
        for chunk in values.chunks(nf) {
            chunk
                .iter()
                .zip(&mut importance)
                .for_each(|(v, s)| *s += v.abs());
        }
        let mut order = all;
        order.sort_by(|&a, &b| importance[b].total_cmp(&importance[a]).then(a.cmp(&b)));
        order.truncate(STRONGEST);
        order
    }
}

/// A set of columns that rebuilds the target.
struct Found {
    set: Vec<usize>,
    score: f64,
    /// Each member's score alone.
    alone: Vec<f64>,
    /// The member to ask about.
    ask: usize,
}

fn derived(cx: &Context) -> Vec<api::Finding> {
    let Some(t) = &cx.target else {
        return Vec::new();
    };
    let Ok((target, target_rows)) = &t.encoded else {
        return Vec::new();
    };
    if target.n_classes() > MAX_CLASSES {
        return Vec::new();
    }
    let Some(s) = Sample::new(cx, target, target_rows, t.index) else {
        return Vec::new();
    };
    if s.columns.len() < 2 {
        return Vec::new();
    }
    let needed = match s.target {
        Target::Regression(_) => DERIVED_SCORE,
        Target::Classes { .. } => DERIVED_CLASS_SCORE,
    };
    let strongest = s.ranked();
    let alone: Vec<Option<f64>> = strongest
        .par_iter()
        .map(|&i| s.skill(&s.features(&[i])))
        .collect();
    let score_alone = |i: usize| {
        strongest
            .iter()
            .position(|&x| x == i)
            .and_then(|p| alone[p])
    };
    // Only columns weak alone can be members.
    let weak: Vec<usize> = strongest
        .iter()
        .copied()
        .filter(|&i| score_alone(i).is_some_and(|a| a <= ALONE_CEILING))
        .collect();
    let mut pairs = Vec::new();
    for (a, &i) in weak.iter().enumerate() {
        for &j in &weak[a + 1..] {
            pairs.push(vec![i, j]);
        }
    }
    let pair_scores: Vec<Option<f64>> = pairs
        .par_iter()
        .map(|set| s.skill(&s.features(set)))
        .collect();
    let pair_score = |i: usize, j: usize| {
        pairs
            .iter()
            .position(|p| (p[0] == i && p[1] == j) || (p[0] == j && p[1] == i))
            .and_then(|p| pair_scores[p])
    };
    let top: Vec<usize> = strongest
        .iter()
        .copied()
        .take(TRIPLES_OF)
        .filter(|i| weak.contains(i))
        .collect();
    let mut triples = Vec::new();
    for a in 0..top.len() {
        for b in a + 1..top.len() {
            for c in b + 1..top.len() {
                let (i, j, k) = (top[a], top[b], top[c]);
                // A triple with a pair that already rebuilds it is that pair.
                let inner = [pair_score(i, j), pair_score(i, k), pair_score(j, k)];
                if inner.iter().all(|p| p.is_some_and(|p| p < needed)) {
                    triples.push(vec![i, j, k]);
                }
            }
        }
    }
    let triple_scores: Vec<Option<f64>> = triples
        .par_iter()
        .map(|set| s.skill(&s.features(set)))
        .collect();
    let mut found: Vec<Found> = pairs
        .iter()
        .zip(&pair_scores)
        .chain(triples.iter().zip(&triple_scores))
        .filter_map(|(set, score)| {
            let score = (*score).filter(|&x| x >= needed)?;
            let alone: Vec<f64> = set.iter().map(|&i| score_alone(i)).collect::<Option<_>>()?;
            let best_alone = alone.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if (score - best_alone) < GAP_CLOSED * (1.0 - best_alone) {
                return None;
            }
            // A class the columns give as they are is one they separate
            // honestly (species by two measurements); a class computed
            // from them needs their arithmetic.
            if matches!(s.target, Target::Classes { .. })
                && s.skill(&s.columns_of(set)).is_none_or(|raw| raw >= needed)
            {
                return None;
            }
            // What is left without each member: the other alone, or the other pair.
            let left: Vec<f64> = (0..set.len())
                .map(|m| {
                    let rest: Vec<usize> =
                        set.iter().copied().filter(|&x| x != set[m]).collect();
                    match rest[..] {
                        [a] => score_alone(a),
                        [a, b] => pair_score(a, b),
                        _ => None,
                    }
                    .unwrap_or(0.0)
                })
                .collect();
            let ask = ask_about(set, &left, &s);
            // Members in table order, with their scores alone.
            let mut members: Vec<(usize, f64)> = set.iter().copied().zip(alone).collect();
            members.sort_by_key(|m| m.0);
            Some(Found {
                set: members.iter().map(|m| m.0).collect(),
                score,
                alone: members.iter().map(|m| m.1).collect(),
                ask,
            })
        })
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.set.len().cmp(&b.set.len())));
    let mut reported: Vec<Found> = Vec::new();
    for f in found {
        if reported.len() < MAX_FINDINGS
            && !reported
                .iter()
                .any(|r| r.set.iter().any(|m| f.set.contains(m)))
        {
            reported.push(f);
        }
    }
    let checked = format!(
        "Checked {} and {} of the {} strongest columns on {} rows",
        display::plural(pairs.len() as u64, "pair", "pairs"),
        display::plural(triples.len() as u64, "triple", "triples"),
        strongest.len(),
        display::count((s.train.len() + s.held.len()) as u64)
    );
    reported
        .into_iter()
        .map(|f| report(&f, &s, &t.name, &checked))
        .collect()
}

/// The member whose removal leaves the least (`left[m]`: the score without
/// member `m`); among near-ties, one whose name says "afterwards".
fn ask_about(set: &[usize], left: &[f64], s: &Sample) -> usize {
    let least = left.iter().copied().fold(f64::INFINITY, f64::min);
    let tied: Vec<usize> = (0..set.len()).filter(|&m| left[m] <= least + TIE).collect();
    let hinted = tied
        .iter()
        .copied()
        .find(|&m| says_afterwards(&s.columns[set[m]].0));
    set[hinted.unwrap_or_else(|| {
        *tied
            .iter()
            .min_by(|&&a, &&b| left[a].total_cmp(&left[b]))
            .unwrap_or(&0)
    })]
}

/// Whether a column's name has a word that says it is known only afterwards.
fn says_afterwards(name: &str) -> bool {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| AFTERWARDS.contains(&w))
}

fn report(f: &Found, s: &Sample, target: &str, checked: &str) -> api::Finding {
    let names: Vec<&str> = f.set.iter().map(|&i| s.columns[i].0.as_str()).collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let together = match &quoted[..] {
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        _ => quoted.join(", "),
    };
    let ask = &s.columns[f.ask].0;
    let regression = matches!(s.target, Target::Regression(_));
    let what = if regression { "R²" } else { "errors removed" };
    let measure: fn(f64) -> String = if regression {
        |x| format!("{x:.2}")
    } else {
        display::percent
    };
    let alone = match &f.alone[..] {
        [a, b] => format!("{} and {} for each alone", measure(*a), measure(*b)),
        many => format!(
            "{} for each alone",
            many.iter().map(|x| measure(*x)).collect::<Vec<_>>().join(", ")
        ),
    };
    let how = if regression {
        format!("{what} {} on held-out rows", measure(f.score))
    } else {
        format!(
            "{} of the errors of always guessing the most common class avoided on held-out rows",
            measure(f.score)
        )
    };
    let message = format!(
        "{together} together give `{target}` almost exactly ({how}, against {alone}). If `{ask}` is not known when you predict, leave it out. {checked}."
    );
    let mut stats_ = vec![stat(&format!("held-out {what} together"), f.score)];
    for (name, a) in names.iter().zip(&f.alone) {
        stats_.push(stat(&format!("held-out {what} of `{name}` alone"), *a));
    }
    let mut columns: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    columns.push(target.to_owned());
    finding(
        K::DerivedTarget,
        Severity::Critical,
        columns,
        message,
        api::Evidence {
            count: Some(s.held.len() as u64),
            stats: stats_,
            sampled_rows: s.sampled,
            ..Default::default()
        },
        format!(
            "Leave `{ask}` out of the build if it is known only after `{target}` (the build page offers it in one click); keep it if you will know it when you predict."
        ),
        super::drop_column(ask),
    )
}
