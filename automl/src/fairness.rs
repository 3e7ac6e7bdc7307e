//! Bias metrics as SageMaker Clarify defines them (the open-source
//! `smclarify` 0.5 library behind it), before training (on the labels) and
//! after (on a model's predicted labels). Values in, values out.
//!
//! A **facet** splits the rows in two: `d`, the facet value(s) of interest
//! (or the numbers above a threshold), and `a`, every other row. A label
//! is **favourable** when it is one of the chosen values (or above a
//! threshold); predictions are read the same way. Thresholds are strict:
//! `age > 40`, as Clarify's interval `(40, max]`. Rows whose facet or label
//! (or prediction) is missing take no part; the report counts them.
//!
//! Signs and ratios are Clarify's: `a − d` for DPL, DPPL, DCA, DAR, RD and
//! AD; `d − a` for DCR, DRR, SD and TE; DI is `d / a`; CI is
//! `(n_a − n_d) / n`. Logs are natural, LP is the L2 norm, GE uses α = 2,
//! KS is the largest difference between the two label distributions.
//!
//! Where Clarify's answer is an artefact, Kiln's differs, and says why
//! (`Value::Undefined`):
//! - **a rate over no rows** (a zero denominator: no favourable predictions
//!   in a facet for DCA, no negatives for SD...): Clarify returns 0 for 0/0
//!   and infinity for x/0, and 0 for infinity − infinity; here the metric is
//!   undefined and names the empty count;
//! - **a label value absent from one facet**: Clarify drops that value from
//!   both distributions without renormalising, so its KL can be negative;
//!   here the distributions stay whole (0 · ln 0 = 0), so KL is infinite
//!   (undefined, with why) when `d` lacks a value `a` has, and JS, LP, TVD
//!   and KS are their usual finite values. When both facets hold both label
//!   values, which is the common case, every value equals Clarify's.
//!
//! The flip test (FT) is Clarify's: a k-nearest-neighbour vote (k = 5, or 1
//! when `a` has at most 9 rows) among the `a` rows, by Euclidean distance on
//! the raw numeric columns, of the model's predicted labels, for each `d`
//! row; FT = (d rows the model favours but their `a` neighbours do not − the
//! reverse) / n_d. Equal distances are broken by the lower row index (scikit
//! -learn's kd-tree has no stated order, so where ties decide a vote the two
//! can differ). Missing numbers take their column's median. Above
//! [`FT_MAX_D`] facet rows (or [`FT_MAX_A`] others), a seeded sample of them
//! is used, and the result says so.

use std::collections::BTreeMap;

use crate::data::{Column, Dataset};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// The flip test scores at most this many facet rows...
pub const FT_MAX_D: usize = 2_000;
/// ...against at most this many others.
pub const FT_MAX_A: usize = 20_000;
/// Clarify's neighbours for the flip test, and when there are few rows.
const FT_NEIGHBOURS: usize = 5;
const FT_FEW_NEIGHBOURS: usize = 1;
const FT_FEW_ROWS: usize = 9;

/// Which values of a column are chosen: the facet of interest, or the
/// favourable outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// Any of these values (numbers as [`crate::category_label`] writes them).
    Values(Vec<String>),
    /// Numbers strictly above this.
    Above(f64),
}

impl Selector {
    /// Each row chosen (`Some(true)`), not (`Some(false)`) or missing
    /// (`None`), for `column` named `name`; an error naming the problem
    /// when the selector cannot apply.
    pub fn rows(&self, name: &str, column: &Column) -> Result<Vec<Option<bool>>> {
        match (self, column) {
            (Selector::Above(t), Column::Numeric(v)) => {
                if !t.is_finite() {
                    return Err(fairness(format!(
                        "the threshold for `{name}` is not a number"
                    )));
                }
                Ok(v.iter().map(|x| (!x.is_nan()).then_some(*x > *t)).collect())
            }
            (Selector::Above(_), Column::Categorical(_)) => Err(fairness(format!(
                "`{name}` is not numeric, so it takes values, not a threshold"
            ))),
            (Selector::Values(values), _) => {
                if values.is_empty() {
                    return Err(fairness(format!("no values of `{name}` were chosen")));
                }
                let rows = self.predicted(column);
                if let Some(absent) = values
                    .iter()
                    .find(|v| !(0..column.len()).any(|r| column.label(r).as_ref() == Some(*v)))
                {
                    return Err(fairness(format!("`{name}` has no value “{absent}”")));
                }
                Ok(rows)
            }
        }
    }
}

impl Selector {
    /// Each prediction in `column` chosen or not (`None` where missing): as
    /// [`Selector::rows`], but a chosen value no prediction took is no
    /// error (a model may never predict the favourable class), and a
    /// threshold on text chooses nothing.
    pub fn predicted(&self, column: &Column) -> Vec<Option<bool>> {
        match (self, column) {
            (Selector::Above(t), Column::Numeric(v)) => {
                v.iter().map(|x| (!x.is_nan()).then_some(*x > *t)).collect()
            }
            (Selector::Values(values), _) => (0..column.len())
                .map(|r| column.label(r).map(|l| values.contains(&l)))
                .collect(),
            (Selector::Above(_), Column::Categorical(_)) => (0..column.len())
                .map(|r| column.label(r).map(|_| false))
                .collect(),
        }
    }
}

fn fairness(reason: String) -> Error {
    Error::Parameter {
        name: "fairness",
        reason,
    }
}

/// A metric's value, or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Undefined(String),
}

impl Value {
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(*x),
            Value::Undefined(_) => None,
        }
    }
}

/// One metric of a report: Clarify's code (`"DPL"`) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct BiasMetric {
    pub code: &'static str,
    pub value: Value,
}

/// The rows a report reads: facet, label and (after training) predicted
/// label, each `true` for `d` / favourable, on the rows where all are known.
#[derive(Debug, Clone)]
pub struct Facets {
    /// Places in the dataset of the rows used.
    pub rows: Vec<usize>,
    pub facet: Vec<bool>,
    pub label: Vec<bool>,
    pub predicted: Option<Vec<bool>>,
    /// The group column's value per row (missing as its own group).
    pub group: Option<Vec<String>>,
    /// Rows left out for a missing facet, label or prediction.
    pub missing: usize,
}

impl Facets {
    /// The rows of `facet` × `label` (× `predicted`), where each is known.
    pub fn new(
        facet: &[Option<bool>],
        label: &[Option<bool>],
        predicted: Option<&[Option<bool>]>,
        group: Option<&Column>,
    ) -> Facets {
        let rows: Vec<usize> = (0..facet.len())
            .filter(|&r| {
                facet[r].is_some() && label[r].is_some() && predicted.is_none_or(|p| p[r].is_some())
            })
            .collect();
        let pick = |v: &[Option<bool>]| rows.iter().map(|&r| v[r] == Some(true)).collect();
        Facets {
            facet: pick(facet),
            label: pick(label),
            predicted: predicted.map(pick),
            group: group.map(|g| {
                rows.iter()
                    .map(|&r| g.label(r).unwrap_or_else(|| "(missing)".to_owned()))
                    .collect()
            }),
            missing: facet.len() - rows.len(),
            rows,
        }
    }

    /// Rows in `d` and in `a`.
    pub fn sizes(&self) -> (usize, usize) {
        let d = self.facet.iter().filter(|&&f| f).count();
        (d, self.facet.len() - d)
    }
}

/// Counts within one side of the facet.
#[derive(Debug, Clone, Copy, Default)]
struct Side {
    n: f64,
    /// Favourable labels.
    pos: f64,
    /// Favourable predictions.
    ppos: f64,
    tp: f64,
    fp: f64,
    fn_: f64,
    tn: f64,
}

impl Side {
    fn count(f: &Facets, d: bool) -> Side {
        let mut s = Side::default();
        for i in 0..f.facet.len() {
            if f.facet[i] != d {
                continue;
            }
            let y = f.label[i];
            s.n += 1.0;
            s.pos += f64::from(u8::from(y));
            if let Some(p) = &f.predicted {
                let p = p[i];
                s.ppos += f64::from(u8::from(p));
                match (y, p) {
                    (true, true) => s.tp += 1.0,
                    (false, true) => s.fp += 1.0,
                    (true, false) => s.fn_ += 1.0,
                    (false, false) => s.tn += 1.0,
                }
            }
        }
        s
    }
}

/// `num / den`, or undefined with `why` when `den` is 0.
fn ratio(num: f64, den: f64, why: impl FnOnce() -> String) -> Value {
    if den == 0.0 {
        Value::Undefined(why())
    } else {
        Value::Number(num / den)
    }
}

/// `x − y`, undefined when either is.
fn minus(x: Value, y: Value) -> Value {
    match (x, y) {
        (Value::Number(x), Value::Number(y)) => Value::Number(x - y),
        (Value::Undefined(w), _) | (_, Value::Undefined(w)) => Value::Undefined(w),
    }
}

/// Pre-training metrics: CI, DPL, KL, JS, LP, TVD, KS, and CDDL when the
/// facets have a group column. `facets` must have rows on both sides.
pub fn pre_training(facets: &Facets) -> Vec<BiasMetric> {
    let (a, d) = (Side::count(facets, false), Side::count(facets, true));
    let n = a.n + d.n;
    let (qa, qd) = (a.pos / a.n, d.pos / d.n);
    let pa = [1.0 - qa, qa];
    let pd = [1.0 - qd, qd];
    let diff: Vec<f64> = pa.iter().zip(&pd).map(|(x, y)| x - y).collect();
    let kl = |p: &[f64; 2], q: &[f64; 2]| -> Option<f64> {
        p.iter().zip(q).try_fold(0.0, |acc, (&x, &y)| {
            if x == 0.0 {
                Some(acc)
            } else if y == 0.0 {
                None
            } else {
                Some(acc + x * (x / y).ln())
            }
        })
    };
    let kl_value = match kl(&pa, &pd) {
        Some(v) => Value::Number(v),
        None => Value::Undefined(format!(
            "the facet has no {} labels while the other rows have some, so the divergence is infinite",
            if qd == 0.0 {
                "favourable"
            } else {
                "unfavourable"
            }
        )),
    };
    let mid = [(pa[0] + pd[0]) / 2.0, (pa[1] + pd[1]) / 2.0];
    let js = 0.5 * (kl(&pa, &mid).unwrap_or(0.0) + kl(&pd, &mid).unwrap_or(0.0));
    let mut out = vec![
        metric("CI", Value::Number((a.n - d.n) / n)),
        metric("DPL", Value::Number(qa - qd)),
        metric("KL", kl_value),
        metric("JS", Value::Number(js)),
        metric(
            "LP",
            Value::Number(diff.iter().map(|x| x * x).sum::<f64>().sqrt()),
        ),
        metric(
            "TVD",
            Value::Number(0.5 * diff.iter().map(|x| x.abs()).sum::<f64>()),
        ),
        metric(
            "KS",
            Value::Number(diff.iter().fold(0.0, |m, x| f64::max(m, x.abs()))),
        ),
    ];
    if let Some(groups) = &facets.group {
        out.push(metric(
            "CDDL",
            cdd(&facets.facet, &facets.label, groups, "labels"),
        ));
    }
    out
}

/// Post-training metrics: DPPL, DI, DCA, DCR, DAR, DRR, RD, SD, AD, TE,
/// GE, CDDPL with a group column, and FT with `features` (the numeric
/// columns the flip test measures distances on, by row of the dataset).
/// `facets` must have predictions and rows on both sides.
pub fn post_training(facets: &Facets, features: Option<&Dataset>, seed: u64) -> Vec<BiasMetric> {
    let Some(predicted) = &facets.predicted else {
        return Vec::new();
    };
    let (a, d) = (Side::count(facets, false), Side::count(facets, true));
    let none = |what: &str, side: &str| {
        let what = what.to_owned();
        let side = side.to_owned();
        move || format!("{side} no {what}")
    };
    let (fa, fd) = ("the other rows have", "the facet has");
    let rate = |num: f64, den: f64, what: &str, side: &str| ratio(num, den, none(what, side));
    let qa = rate(a.ppos, a.n, "rows", fa);
    let qd = rate(d.ppos, d.n, "rows", fd);
    let di = match (&qd, &qa) {
        (Value::Number(qd), Value::Number(qa)) => ratio(*qd, *qa, || {
            "no other row is predicted favourable".to_owned()
        }),
        _ => Value::Undefined("a facet has no rows".to_owned()),
    };
    let mut out = vec![
        metric("DPPL", minus(qa, qd)),
        metric("DI", di),
        metric(
            "DCA",
            minus(
                rate(a.pos, a.ppos, "favourable predictions", fa),
                rate(d.pos, d.ppos, "favourable predictions", fd),
            ),
        ),
        metric(
            "DCR",
            minus(
                rate(d.n - d.pos, d.n - d.ppos, "unfavourable predictions", fd),
                rate(a.n - a.pos, a.n - a.ppos, "unfavourable predictions", fa),
            ),
        ),
        metric(
            "DAR",
            minus(
                rate(a.tp, a.ppos, "favourable predictions", fa),
                rate(d.tp, d.ppos, "favourable predictions", fd),
            ),
        ),
        metric(
            "DRR",
            minus(
                rate(d.tn, d.n - d.ppos, "unfavourable predictions", fd),
                rate(a.tn, a.n - a.ppos, "unfavourable predictions", fa),
            ),
        ),
        metric(
            "RD",
            minus(
                rate(a.tp, a.tp + a.fn_, "favourable labels", fa),
                rate(d.tp, d.tp + d.fn_, "favourable labels", fd),
            ),
        ),
        metric(
            "SD",
            minus(
                rate(d.tn, d.tn + d.fp, "unfavourable labels", fd),
                rate(a.tn, a.tn + a.fp, "unfavourable labels", fa),
            ),
        ),
        metric(
            "AD",
            minus(
                rate(a.tp + a.tn, a.n, "rows", fa),
                rate(d.tp + d.tn, d.n, "rows", fd),
            ),
        ),
        metric(
            "TE",
            minus(
                rate(d.fn_, d.fp, "false positives", fd),
                rate(a.fn_, a.fp, "false positives", fa),
            ),
        ),
        metric("GE", generalized_entropy(&facets.label, predicted)),
    ];
    if let Some(groups) = &facets.group {
        out.push(metric(
            "CDDPL",
            cdd(&facets.facet, predicted, groups, "predictions"),
        ));
    }
    if let Some(features) = features {
        out.push(metric("FT", flip_test(facets, features, seed)));
    }
    out
}

fn metric(code: &'static str, value: Value) -> BiasMetric {
    BiasMetric { code, value }
}

/// Generalized entropy (α = 2) of the benefits `ŷ − y + 1` over every row.
fn generalized_entropy(label: &[bool], predicted: &[bool]) -> Value {
    let benefit: Vec<f64> = label
        .iter()
        .zip(predicted)
        .map(|(&y, &p)| f64::from(u8::from(p)) - f64::from(u8::from(y)) + 1.0)
        .collect();
    let n = benefit.len() as f64;
    let mean = benefit.iter().sum::<f64>() / n;
    if mean == 0.0 || n == 0.0 {
        return Value::Undefined("every prediction is a false negative".to_owned());
    }
    let sum: f64 = benefit.iter().map(|b| (b / mean).powi(2) - 1.0).sum();
    Value::Number(sum / (n * 2.0))
}

/// Conditional demographic disparity of `outcome` by `groups`: each
/// group's (share of the facet among its unfavourable rows − among its
/// favourable rows), a share over no rows counting 0, weighted by the
/// group's rows.
fn cdd(facet: &[bool], outcome: &[bool], groups: &[String], what: &str) -> Value {
    if !outcome.iter().any(|&o| o) {
        return Value::Undefined(format!("there are no favourable {what}"));
    }
    if outcome.iter().all(|&o| o) {
        return Value::Undefined(format!("there are no unfavourable {what}"));
    }
    // Per group: [favourable, favourable in the facet, unfavourable, unfavourable in the facet].
    let mut counts: BTreeMap<&str, [f64; 4]> = BTreeMap::new();
    for ((g, &f), &o) in groups.iter().zip(facet).zip(outcome) {
        let c = counts.entry(g.as_str()).or_default();
        let at = if o { 0 } else { 2 };
        c[at] += 1.0;
        c[at + 1] += f64::from(u8::from(f));
    }
    let share = |part: f64, whole: f64| if whole == 0.0 { 0.0 } else { part / whole };
    let (mut sum, mut n) = (0.0, 0.0);
    for c in counts.values() {
        let size = c[0] + c[2];
        sum += size * (share(c[3], c[2]) - share(c[1], c[0]));
        n += size;
    }
    Value::Number(sum / n)
}

/// Clarify's flip test; see the module's notes.
fn flip_test(facets: &Facets, features: &Dataset, seed: u64) -> Value {
    let Some(predicted) = &facets.predicted else {
        return Value::Undefined("there are no predictions".to_owned());
    };
    let numeric: Vec<Vec<f64>> = features
        .columns()
        .filter_map(|(_, c)| match c {
            Column::Numeric(v) => Some(with_medians(v)),
            Column::Categorical(_) => None,
        })
        .collect();
    if numeric.is_empty() {
        return Value::Undefined(
            "the data has no numeric columns to find neighbours by".to_owned(),
        );
    }
    let side = |d: bool| -> Vec<usize> {
        (0..facets.facet.len())
            .filter(|&i| facets.facet[i] == d)
            .collect()
    };
    let (mut d_rows, mut a_rows) = (side(true), side(false));
    if d_rows.is_empty() || a_rows.is_empty() {
        return Value::Undefined("a facet has no rows".to_owned());
    }
    let mut rng = Rng::new(seed);
    sample(&mut d_rows, FT_MAX_D, &mut rng);
    sample(&mut a_rows, FT_MAX_A, &mut rng);
    let k = if a_rows.len() > FT_FEW_ROWS {
        FT_NEIGHBOURS
    } else {
        FT_FEW_NEIGHBOURS
    }
    .min(a_rows.len());
    let point = |i: usize| -> Vec<f64> {
        let r = facets.rows[i];
        numeric.iter().map(|c| c[r]).collect()
    };
    let a_points: Vec<Vec<f64>> = a_rows.iter().map(|&i| point(i)).collect();
    let (mut pos, mut neg) = (0i64, 0i64);
    for &i in &d_rows {
        let x = point(i);
        let mut dist: Vec<(f64, usize)> = a_points
            .iter()
            .enumerate()
            .map(|(j, y)| {
                (
                    x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum::<f64>(),
                    j,
                )
            })
            .collect();
        dist.select_nth_unstable_by(k - 1, |p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
        let votes = dist[..k]
            .iter()
            .filter(|(_, j)| predicted[a_rows[*j]])
            .count();
        let neighbours = votes * 2 > k;
        match (predicted[i], neighbours) {
            (true, false) => pos += 1,
            (false, true) => neg += 1,
            _ => {}
        }
    }
    Value::Number((pos - neg) as f64 / d_rows.len() as f64)
}

/// `v` with each missing number replaced by the median of the others.
fn with_medians(v: &[f64]) -> Vec<f64> {
    let mut known: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if known.len() == v.len() {
        return v.to_vec();
    }
    known.sort_by(f64::total_cmp);
    let median = match known.len() {
        0 => 0.0,
        n if n % 2 == 1 => known[n / 2],
        n => (known[n / 2 - 1] + known[n / 2]) / 2.0,
    };
    v.iter()
        .map(|&x| if x.is_nan() { median } else { x })
        .collect()
}

/// Keeps a seeded sample of `max` of `rows`, in their order.
fn sample(rows: &mut Vec<usize>, max: usize, rng: &mut Rng) {
    if rows.len() <= max {
        return;
    }
    let mut keep: Vec<usize> = (0..rows.len()).collect();
    for i in 0..max {
        let j = i + (rng.next_u64() % (keep.len() - i) as u64) as usize;
        keep.swap(i, j);
    }
    keep.truncate(max);
    keep.sort_unstable();
    *rows = keep.into_iter().map(|i| rows[i]).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facets(facet: &[bool], label: &[bool], predicted: &[bool]) -> Facets {
        let o = |v: &[bool]| v.iter().map(|&b| Some(b)).collect::<Vec<_>>();
        Facets::new(&o(facet), &o(label), Some(&o(predicted)), None)
    }

    fn value(ms: &[BiasMetric], code: &str) -> Value {
        ms.iter().find(|m| m.code == code).unwrap().value.clone()
    }

    #[test]
    fn rates_over_no_rows_are_undefined_and_say_which() {
        // No favourable prediction in the facet: DCA's facet rate has no rows.
        let f = facets(
            &[true, true, false, false],
            &[true, false, true, false],
            &[false, false, true, false],
        );
        let post = post_training(&f, None, 0);
        assert_eq!(
            value(&post, "DCA"),
            Value::Undefined("the facet has no favourable predictions".into())
        );
        assert_eq!(value(&post, "DI"), Value::Number(0.0));
        assert_eq!(value(&post, "DPPL"), Value::Number(0.5));
        // The facet has only favourable labels: KL is infinite, the rest finite and whole.
        let f = facets(
            &[true, true, false, false],
            &[true, true, true, false],
            &[true; 4],
        );
        let pre = pre_training(&f);
        assert!(matches!(value(&pre, "KL"), Value::Undefined(w) if w.contains("no unfavourable")));
        assert_eq!(value(&pre, "TVD"), Value::Number(0.5));
        assert_eq!(value(&pre, "KS"), Value::Number(0.5));
        assert_eq!(value(&pre, "LP"), Value::Number(0.5f64.sqrt()));
    }

    #[test]
    fn selectors_name_what_does_not_apply() {
        let c = Column::Categorical(vec![Some("f".into()), Some("m".into()), None]);
        assert_eq!(
            Selector::Values(vec!["f".into()]).rows("sex", &c).unwrap(),
            [Some(true), Some(false), None]
        );
        let err = Selector::Values(vec!["x".into()])
            .rows("sex", &c)
            .unwrap_err();
        assert!(err.to_string().contains("`sex` has no value “x”"), "{err}");
        let err = Selector::Above(3.0).rows("sex", &c).unwrap_err();
        assert!(err.to_string().contains("not numeric"), "{err}");
        let n = Column::Numeric(vec![40.0, 41.0, f64::NAN]);
        assert_eq!(
            Selector::Above(40.0).rows("age", &n).unwrap(),
            [Some(false), Some(true), None]
        );
        assert_eq!(
            Selector::Values(vec!["41".into()]).rows("age", &n).unwrap(),
            [Some(false), Some(true), None]
        );
    }
}
