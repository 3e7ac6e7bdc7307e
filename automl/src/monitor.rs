//! Model monitoring, as SageMaker Model Monitor does it: a baseline of the
//! training data (per-feature statistics, suggested constraints and a
//! distribution sketch; the out-of-fold predictions and metric; the SHAP
//! ranking), and checks of live rows against it.
//!
//! - **Data quality**: completeness below the baseline's by more than 5
//!   points, values that are not numbers in a numeric column, values
//!   outside the training range or categories never seen, on more than 1%
//!   of the rows.
//! - **Data drift** per feature: for numbers, the two-sample
//!   Kolmogorov–Smirnov test against the baseline's percentile sketch,
//!   the Wasserstein distance (in training standard deviations) and the
//!   PSI on training deciles; for categories, the chi-squared test, the
//!   Jensen–Shannon distance and the PSI. A feature drifts when its test
//!   rejects at 1% after a Bonferroni correction over the features *and*
//!   the shift is large enough to matter (PSI ≥ 0.1, or a distance ≥ 0.1):
//!   large samples make tiny shifts significant, and many features make
//!   chance rejections likely, so both are asked for.
//! - **Prediction drift**: the same tests on the predictions.
//! - **Model quality**: with ground truth, accuracy or RMSE against the
//!   out-of-fold baseline (worse by more than 0.05 accuracy, or 10% RMSE);
//!   accuracy also against what the model's calibrated confidence expected
//!   of the same rows (0.05 below it).
//! - **Attribution drift**: the NDCG of the live SHAP ranking against the
//!   training one, as Model Monitor computes it (below 0.9 is a violation).
//! - **Confidence-based performance estimation** (beyond Model Monitor):
//!   a classifier's expected accuracy from its own calibrated confidence,
//!   before labels arrive, against the out-of-fold accuracy.
//! - **Bias drift** ([`bias_drift`]): Clarify's post-training bias metrics
//!   of one facet on the live rows against the same on the training rows
//!   (out-of-fold): DPPL and DI from the predictions alone, and with ground
//!   truth DAR, DRR, RD, SD and AD. A metric drifts when it moved by 0.1 or
//!   more *and* by more than three standard errors of the difference (the
//!   bootstrap errors of the live and the training values combined: both
//!   are samples), so a small sample does not raise false alarms.
//!
//! No I/O: the caller brings the rows, the predictions and the truth.

use serde::{Deserialize, Serialize};

use crate::{Column, Dataset, FeatureKind, FeatureStats, Predictions};

/// The family-wise significance level of the drift tests.
const ALPHA: f64 = 0.01;
/// The least PSI or distance that counts as drift.
const MIN_SHIFT: f64 = 0.1;
/// Points of completeness lost before it is a violation.
const COMPLETENESS_TOLERANCE: f64 = 0.05;
/// Share of rows out of range or with new categories before it is a violation.
const OUTSIDE_TOLERANCE: f64 = 0.01;
/// Quantiles kept per numeric feature (per mille: the sketch's CDF is within 0.1%).
const PERCENTILES: usize = 1000;

/// A distribution, as kept in the baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sketch {
    Numeric {
        /// The quantiles at 0, 0.001, …, 1.
        percentiles: Vec<f64>,
        mean: f64,
        std: f64,
        count: u64,
    },
    Categorical {
        /// Each category's share of the present values, largest first.
        shares: Vec<(String, f64)>,
        count: u64,
    },
}

/// A feature's statistics and suggested constraints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureBaseline {
    pub name: String,
    /// The share of rows with a value.
    pub completeness: f64,
    pub sketch: Sketch,
    /// Suggested constraints: the range (numbers) or the category set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

/// What the baseline knows of the model's quality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricBaseline {
    /// `accuracy` or `rmse`.
    pub name: String,
    pub value: f64,
    /// For classifiers: the mean of the top calibrated probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub rows: u64,
    pub features: Vec<FeatureBaseline>,
    /// The out-of-fold predictions' distribution.
    pub prediction: Sketch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricBaseline>,
    /// Mean |SHAP| per feature, largest first.
    #[serde(default)]
    pub attribution: Vec<(String, f64)>,
}

/// A model's outputs, as monitoring reads them.
#[derive(Clone, Debug, PartialEq)]
pub enum Outputs {
    Numbers(Vec<f64>),
    Classes {
        labels: Vec<String>,
        /// The top probability of each row.
        confidence: Vec<f64>,
    },
}

impl Outputs {
    pub fn of(p: &Predictions) -> Outputs {
        match p {
            Predictions::Regression(v) => Outputs::Numbers(v.clone()),
            Predictions::Classes {
                classes,
                probabilities,
                labels,
            } => {
                let k = classes.len().max(1);
                Outputs::Classes {
                    labels: labels.iter().map(|l| classes[*l].clone()).collect(),
                    confidence: labels
                        .iter()
                        .enumerate()
                        .map(|(r, l)| probabilities[r * k + l])
                        .collect(),
                }
            }
        }
    }

    fn sketch(&self) -> Sketch {
        match self {
            Outputs::Numbers(v) => numeric_sketch(v),
            Outputs::Classes { labels, .. } => {
                categorical_sketch(labels.iter().map(|l| Some(l.as_str())))
            }
        }
    }
}

/// The mean of the finite values, if any (a report holds no NaN).
fn finite_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The truth, aligned with the outputs it scores.
#[derive(Clone, Debug, PartialEq)]
pub enum Truth {
    Numbers(Vec<f64>),
    Labels(Vec<Option<String>>),
}

fn numeric_sketch(values: &[f64]) -> Sketch {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = if n == 0 {
        0.0
    } else {
        v.iter().sum::<f64>() / n as f64
    };
    let std = if n < 2 {
        0.0
    } else {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    let percentiles = if n == 0 {
        Vec::new()
    } else {
        (0..=PERCENTILES)
            .map(|p| quantile(&v, p as f64 / PERCENTILES as f64))
            .collect()
    };
    Sketch::Numeric {
        percentiles,
        mean,
        std,
        count: n as u64,
    }
}

fn categorical_sketch<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Sketch {
    let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    let mut n = 0u64;
    for v in values.flatten() {
        *counts.entry(v).or_default() += 1;
        n += 1;
    }
    let mut shares: Vec<(String, f64)> = counts
        .into_iter()
        .map(|(k, c)| (k.to_owned(), c as f64 / n.max(1) as f64))
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Sketch::Categorical { shares, count: n }
}

/// The `q` quantile of sorted values, interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn labels(col: &Column) -> Vec<Option<String>> {
    (0..col.len()).map(|r| col.label(r)).collect()
}

fn numbers(col: &Column) -> Vec<f64> {
    match col {
        Column::Numeric(v) => v.clone(),
        Column::Categorical(v) => v
            .iter()
            .map(|c| c.as_deref().map_or(f64::NAN, crate::values::parse_number))
            .collect(),
    }
}

impl Baseline {
    /// The baseline of the training rows `data` for the model's `features`,
    /// its out-of-fold `outputs` with the `truth` they predicted, and its
    /// SHAP ranking.
    pub fn fit(
        features: &[FeatureStats],
        data: &Dataset,
        outputs: &Outputs,
        truth: Option<&Truth>,
        attribution: Vec<(String, f64)>,
    ) -> Baseline {
        let rows = data.n_rows();
        let features = features
            .iter()
            .filter_map(|f| {
                let col = data.column(&f.name)?;
                let present = (0..col.len()).filter(|r| !col.is_missing(*r)).count();
                let completeness = present as f64 / col.len().max(1) as f64;
                Some(match f.kind {
                    FeatureKind::Numeric => {
                        let v = numbers(col);
                        let sketch = numeric_sketch(&v);
                        let range = match &sketch {
                            Sketch::Numeric { percentiles, .. } if !percentiles.is_empty() => {
                                Some((percentiles[0], percentiles[PERCENTILES]))
                            }
                            _ => None,
                        };
                        FeatureBaseline {
                            name: f.name.clone(),
                            completeness,
                            sketch,
                            range,
                            categories: Vec::new(),
                        }
                    }
                    FeatureKind::Categorical => {
                        let l = labels(col);
                        let sketch = categorical_sketch(l.iter().map(|x| x.as_deref()));
                        let categories = match &sketch {
                            Sketch::Categorical { shares, .. } => {
                                let mut c: Vec<String> =
                                    shares.iter().map(|s| s.0.clone()).collect();
                                c.sort();
                                c
                            }
                            Sketch::Numeric { .. } => Vec::new(),
                        };
                        FeatureBaseline {
                            name: f.name.clone(),
                            completeness,
                            sketch,
                            range: None,
                            categories,
                        }
                    }
                })
            })
            .collect();
        Baseline {
            rows: rows as u64,
            features,
            prediction: outputs.sketch(),
            metric: truth.and_then(|t| metric(outputs, t)),
            attribution,
        }
    }
}

/// Accuracy (classes) or RMSE (numbers) of `outputs` against `truth`, over
/// rows whose truth is known; a classifier's mean confidence beside it.
fn metric(outputs: &Outputs, truth: &Truth) -> Option<MetricBaseline> {
    match (outputs, truth) {
        (Outputs::Numbers(p), Truth::Numbers(t)) => {
            let pairs: Vec<(f64, f64)> = p
                .iter()
                .zip(t)
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(a, b)| (*a, *b))
                .collect();
            (!pairs.is_empty()).then(|| MetricBaseline {
                name: "rmse".into(),
                value: (pairs.iter().map(|(a, b)| (a - b).powi(2)).sum::<f64>()
                    / pairs.len() as f64)
                    .sqrt(),
                confidence: None,
            })
        }
        (Outputs::Classes { labels, confidence }, Truth::Labels(t)) => {
            let known: Vec<(bool, f64)> = labels
                .iter()
                .zip(confidence)
                .zip(t)
                .filter_map(|((l, c), t)| t.as_ref().map(|t| (l == t, *c)))
                .collect();
            (!known.is_empty()).then(|| MetricBaseline {
                name: "accuracy".into(),
                value: known.iter().filter(|k| k.0).count() as f64 / known.len() as f64,
                // Over the labelled rows: what the model expected of them.
                confidence: finite_mean(known.iter().map(|k| k.1)),
            })
        }
        _ => None,
    }
}

/// One data-quality check of one feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityCheck {
    pub feature: String,
    /// `completeness`, `type`, `range` or `categories`.
    pub check: String,
    /// The rows that fail it, and the share of all rows.
    pub count: u64,
    pub share: f64,
    pub violation: bool,
    pub message: String,
}

/// One distribution compared with its baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub feature: String,
    /// `Kolmogorov–Smirnov` or `chi-squared`.
    pub test: String,
    pub statistic: f64,
    pub p_value: f64,
    /// Wasserstein in training standard deviations (numbers), or the
    /// Jensen–Shannon distance (categories).
    pub distance: f64,
    pub psi: f64,
    pub drifted: bool,
    /// Live and baseline shares per bin (deciles) or category, for charts.
    pub bins: Vec<(String, f64, f64)>,
}

/// A metric against its baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricCheck {
    pub name: String,
    pub baseline: f64,
    pub live: f64,
    pub rows: u64,
    pub violation: bool,
    /// For accuracy: what the model's calibrated confidence expected on the
    /// same rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
}

/// The NDCG of the live attribution ranking against the training one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributionCheck {
    pub ndcg: f64,
    pub violation: bool,
    pub training_top: Vec<String>,
    pub live_top: Vec<String>,
}

/// A monitoring run's findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub rows: u64,
    pub quality: Vec<QualityCheck>,
    pub drift: Vec<Drift>,
    /// The share of features that drifted.
    pub drifted_share: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Drift>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_quality: Option<MetricCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_quality: Option<MetricCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<AttributionCheck>,
    /// Bias metrics of the watched facet, live against training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<BiasDrift>,
    /// Each violation in words, with its evidence.
    pub violations: Vec<String>,
}

/// What a monitoring run is given beyond the rows.
pub struct Live<'a> {
    pub data: &'a Dataset,
    pub outputs: Option<&'a Outputs>,
    /// Ground truth aligned with `outputs`.
    pub truth: Option<&'a Truth>,
    /// Per feature, values that were not numbers in a numeric column.
    pub type_errors: &'a [(String, u64)],
    /// Live mean |SHAP| per feature.
    pub attribution: Option<&'a [(String, f64)]>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Checks live rows against the baseline.
/// The bias metrics of a facet on the live rows against the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasDrift {
    /// The facet and the favourable outcome, in words (set by the caller).
    #[serde(default)]
    pub facet: String,
    /// Why the live rows could not be compared, when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Live rows in the facet and outside it.
    pub facet_rows: u64,
    pub other_rows: u64,
    /// Whether the live rows had ground truth (else only the metrics of
    /// predictions are compared).
    pub with_truth: bool,
    pub metrics: Vec<BiasCheck>,
}

/// One bias metric, training against live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasCheck {
    /// Clarify's code (`DPPL`).
    pub code: String,
    pub training: Option<f64>,
    pub live: Option<f64>,
    /// The difference's standard error: the bootstrap errors of the live
    /// and the training values combined.
    pub standard_error: Option<f64>,
    pub drifted: bool,
    /// Why a value is missing (a side with no favourable prediction…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A bias metric drifts when it moved by at least this much…
pub const BIAS_SHIFT: f64 = 0.1;
/// …and by more than this many live standard errors.
const BIAS_ERRORS: f64 = 3.0;
const BIAS_RESAMPLES: usize = 200;

/// The metrics compared: from the predictions alone, and with the truth.
const BIAS_PREDICTED: [&str; 2] = ["DPPL", "DI"];
const BIAS_WITH_TRUTH: [&str; 5] = ["DAR", "DRR", "RD", "SD", "AD"];

fn bias_values(facets: &crate::fairness::Facets, codes: &[&str]) -> Vec<(f64, Option<String>)> {
    let all = crate::fairness::post_training(facets, None, 0);
    codes
        .iter()
        .map(
            |c| match all.iter().find(|m| m.code == *c).map(|m| &m.value) {
                Some(crate::fairness::Value::Number(x)) if x.is_finite() => (*x, None),
                Some(crate::fairness::Value::Undefined(why)) => (f64::NAN, Some(why.clone())),
                _ => (f64::NAN, Some("not computed".to_owned())),
            },
        )
        .collect()
}

/// Each metric's bootstrap standard error on `facets` (its rows resampled
/// with replacement), where most resamples define it.
fn bootstrap_se(facets: &crate::fairness::Facets, codes: &[&str], seed: u64) -> Vec<Option<f64>> {
    let n = facets.facet.len();
    let mut rng = crate::rng::Rng::new(seed);
    let mut draws: Vec<Vec<f64>> = vec![Vec::new(); codes.len()];
    if n > 1 {
        for _ in 0..BIAS_RESAMPLES {
            let pick: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let take = |v: &[bool]| pick.iter().map(|&i| v[i]).collect::<Vec<bool>>();
            let resampled = crate::fairness::Facets {
                rows: pick.clone(),
                facet: take(&facets.facet),
                label: take(&facets.label),
                predicted: facets.predicted.as_deref().map(take),
                group: None,
                missing: 0,
            };
            for (k, (x, _)) in bias_values(&resampled, codes).into_iter().enumerate() {
                if x.is_finite() {
                    draws[k].push(x);
                }
            }
        }
    }
    draws
        .iter()
        .map(|d| {
            (d.len() >= BIAS_RESAMPLES / 2).then(|| {
                let m = d.iter().sum::<f64>() / d.len() as f64;
                (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (d.len() - 1) as f64).sqrt()
            })
        })
        .collect()
}

/// Compares the bias of `live` (its `label`s the truth when `with_truth`,
/// else ignored) with that of `training`, both with predictions.
pub fn bias_drift(
    training: &crate::fairness::Facets,
    live: &crate::fairness::Facets,
    with_truth: bool,
    seed: u64,
) -> BiasDrift {
    let mut codes: Vec<&str> = BIAS_PREDICTED.to_vec();
    if with_truth {
        codes.extend(BIAS_WITH_TRUTH);
    }
    let train = bias_values(training, &codes);
    let now = bias_values(live, &codes);
    // Both sides are samples: the difference's standard error is theirs combined.
    let se_live = bootstrap_se(live, &codes, seed);
    let se_train = bootstrap_se(training, &codes, seed ^ 0x5eed);
    let metrics = codes
        .iter()
        .enumerate()
        .map(|(k, code)| {
            let (t, t_why) = &train[k];
            let (l, l_why) = &now[k];
            let se = se_live[k]
                .zip(se_train[k])
                .map(|(l, t)| (l * l + t * t).sqrt());
            let shift = (l - t).abs();
            let drifted = shift.is_finite()
                && shift >= BIAS_SHIFT
                && se.is_some_and(|se| shift > BIAS_ERRORS * se);
            BiasCheck {
                code: (*code).to_owned(),
                training: t.is_finite().then_some(*t),
                live: l.is_finite().then_some(*l),
                standard_error: se,
                drifted,
                note: l_why
                    .as_ref()
                    .map(|w| format!("live: {w}"))
                    .or_else(|| t_why.as_ref().map(|w| format!("training: {w}"))),
            }
        })
        .collect();
    let (d, a) = live.sizes();
    BiasDrift {
        facet: String::new(),
        note: None,
        facet_rows: d as u64,
        other_rows: a as u64,
        with_truth,
        metrics,
    }
}

impl BiasDrift {
    /// No comparison, and why.
    pub fn unavailable(facet: String, note: String) -> BiasDrift {
        BiasDrift {
            facet,
            note: Some(note),
            facet_rows: 0,
            other_rows: 0,
            with_truth: false,
            metrics: Vec::new(),
        }
    }

    /// Each drifted metric in words, with its evidence.
    pub fn violations(&self) -> Vec<String> {
        self.metrics
            .iter()
            .filter(|m| m.drifted)
            .map(|m| {
                format!(
                    "bias drift for {}: {} moved from {} in training to {} live ({} standard errors of {}; {} live rows in the facet, {} outside)",
                    self.facet,
                    m.code,
                    m.training.map_or("—".into(), |x| format!("{x:.3}")),
                    m.live.map_or("—".into(), |x| format!("{x:.3}")),
                    match (m.training, m.live, m.standard_error) {
                        (Some(t), Some(l), Some(se)) if se > 0.0 => format!("{:.1}", (l - t).abs() / se),
                        _ => "many".into(),
                    },
                    m.standard_error.map_or("—".into(), |x| format!("{x:.3}")),
                    self.facet_rows,
                    self.other_rows
                )
            })
            .collect()
    }
}

/// Checks live rows against the baseline.
pub fn check(baseline: &Baseline, live: &Live<'_>) -> Report {
    let n = live.data.n_rows();
    let mut quality = Vec::new();
    let mut drift = Vec::new();
    let k = baseline.features.len().max(1) as f64;
    for f in &baseline.features {
        let Some(col) = live.data.column(&f.name) else {
            quality.push(QualityCheck {
                feature: f.name.clone(),
                check: "completeness".into(),
                count: n as u64,
                share: 1.0,
                violation: true,
                message: format!("`{}` is missing from the rows", f.name),
            });
            continue;
        };
        let present = (0..col.len()).filter(|r| !col.is_missing(*r)).count();
        let completeness = present as f64 / n.max(1) as f64;
        let lost = f.completeness - completeness;
        quality.push(QualityCheck {
            feature: f.name.clone(),
            check: "completeness".into(),
            count: (n - present) as u64,
            share: 1.0 - completeness,
            violation: lost > COMPLETENESS_TOLERANCE,
            message: format!(
                "`{}` has a value in {} of rows, against {} in training",
                f.name,
                pct(completeness),
                pct(f.completeness)
            ),
        });
        if let Some((_, errors)) = live.type_errors.iter().find(|(name, _)| *name == f.name) {
            quality.push(QualityCheck {
                feature: f.name.clone(),
                check: "type".into(),
                count: *errors,
                share: *errors as f64 / n.max(1) as f64,
                violation: *errors > 0,
                message: format!("`{}` has {errors} values that are not numbers", f.name),
            });
        }
        match &f.sketch {
            Sketch::Numeric {
                percentiles,
                std,
                count,
                ..
            } => {
                let v: Vec<f64> = numbers(col).into_iter().filter(|x| x.is_finite()).collect();
                if let Some((lo, hi)) = f.range {
                    let outside = v.iter().filter(|x| **x < lo || **x > hi).count();
                    let share = outside as f64 / n.max(1) as f64;
                    quality.push(QualityCheck {
                        feature: f.name.clone(),
                        check: "range".into(),
                        count: outside as u64,
                        share,
                        violation: share > OUTSIDE_TOLERANCE,
                        message: format!(
                            "`{}` is outside its training range [{lo}, {hi}] in {} of rows",
                            f.name,
                            pct(share)
                        ),
                    });
                }
                if v.len() >= 5 && !percentiles.is_empty() {
                    drift.push(numeric_drift(&f.name, percentiles, *std, *count, &v, k));
                }
            }
            Sketch::Categorical { shares, count } => {
                let l: Vec<String> = labels(col).into_iter().flatten().collect();
                let new = l
                    .iter()
                    .filter(|x| f.categories.binary_search(x).is_err())
                    .count();
                let share = new as f64 / n.max(1) as f64;
                quality.push(QualityCheck {
                    feature: f.name.clone(),
                    check: "categories".into(),
                    count: new as u64,
                    share,
                    violation: share > OUTSIDE_TOLERANCE,
                    message: format!(
                        "`{}` has categories never seen in training in {} of rows",
                        f.name,
                        pct(share)
                    ),
                });
                if l.len() >= 5 {
                    drift.push(categorical_drift(&f.name, shares, *count, &l, k));
                }
            }
        }
    }
    let drifted = drift.iter().filter(|d| d.drifted).count();
    let drifted_share = drifted as f64 / baseline.features.len().max(1) as f64;
    let prediction = live.outputs.and_then(|o| match (o, &baseline.prediction) {
        (
            Outputs::Numbers(v),
            Sketch::Numeric {
                percentiles,
                std,
                count,
                ..
            },
        ) if v.len() >= 5 && !percentiles.is_empty() => {
            let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            Some(numeric_drift(
                "prediction",
                percentiles,
                *std,
                *count,
                &v,
                1.0,
            ))
        }
        (Outputs::Classes { labels, .. }, Sketch::Categorical { shares, count })
            if labels.len() >= 5 =>
        {
            Some(categorical_drift("prediction", shares, *count, labels, 1.0))
        }
        _ => None,
    });
    let model_quality = match (live.outputs, live.truth, &baseline.metric) {
        (Some(o), Some(t), Some(b)) => metric(o, t).map(|m| {
            // Accuracy is compared with the out-of-fold baseline and with what
            // the model's own confidence expected of these very rows: the
            // second does not carry the baseline's sampling noise, so labels
            // that disagree with the model more than it expected show even
            // when these rows happen to be easier than the training ones.
            let violation = if b.name == "accuracy" {
                m.value < b.value - 0.05 || m.confidence.is_some_and(|c| m.value < c - 0.05)
            } else {
                m.value > b.value * 1.1
            };
            let rows = match t {
                Truth::Numbers(v) => v.iter().filter(|x| x.is_finite()).count(),
                Truth::Labels(v) => v.iter().flatten().count(),
            };
            MetricCheck {
                name: m.name,
                baseline: b.value,
                live: m.value,
                rows: rows as u64,
                violation,
                expected: m.confidence,
            }
        }),
        _ => None,
    };
    let estimated_quality = match (live.outputs, &baseline.metric) {
        (Some(Outputs::Classes { confidence, .. }), Some(b)) if b.name == "accuracy" => {
            finite_mean(confidence.iter().copied()).map(|live| MetricCheck {
                name: "estimated accuracy".into(),
                baseline: b.value,
                live,
                rows: confidence.len() as u64,
                expected: None,
                violation: live < b.value - 0.05,
            })
        }
        _ => None,
    };
    let attribution = live
        .attribution
        .filter(|a| !a.is_empty() && !baseline.attribution.is_empty())
        .map(|a| {
            let ndcg = ndcg(&baseline.attribution, a);
            AttributionCheck {
                ndcg,
                violation: ndcg < 0.9,
                training_top: baseline
                    .attribution
                    .iter()
                    .take(5)
                    .map(|x| x.0.clone())
                    .collect(),
                live_top: a.iter().take(5).map(|x| x.0.clone()).collect(),
            }
        });
    let mut violations: Vec<String> = quality
        .iter()
        .filter(|q| q.violation)
        .map(|q| q.message.clone())
        .collect();
    for d in drift
        .iter()
        .chain(prediction.as_ref())
        .filter(|d| d.drifted)
    {
        violations.push(format!(
            "`{}` drifted: {} statistic {:.3} (p = {:.2e}), PSI {:.3}, distance {:.3}",
            d.feature, d.test, d.statistic, d.p_value, d.psi, d.distance
        ));
    }
    if let Some(m) = model_quality.as_ref().filter(|m| m.violation) {
        violations.push(format!(
            "{} on {} labelled rows is {:.4}, against {:.4} out of fold{}",
            m.name,
            m.rows,
            m.live,
            m.baseline,
            m.expected
                .map(|e| format!(" and {e:.4} expected from the model's confidence on these rows"))
                .unwrap_or_default()
        ));
    }
    if let Some(m) = estimated_quality.as_ref().filter(|m| m.violation) {
        violations.push(format!(
            "the estimated accuracy from the model's confidence is {:.4}, against {:.4} out of fold",
            m.live, m.baseline
        ));
    }
    if let Some(a) = attribution.as_ref().filter(|a| a.violation) {
        violations.push(format!(
            "the feature attribution ranking changed: NDCG {:.3} (live top: {})",
            a.ndcg,
            a.live_top.join(", ")
        ));
    }
    Report {
        rows: n as u64,
        quality,
        drift,
        drifted_share,
        prediction,
        model_quality,
        estimated_quality,
        attribution,
        bias: None,
        violations,
    }
}

/// The baseline's CDF at `x` from its percentiles.
fn baseline_cdf(percentiles: &[f64], x: f64) -> f64 {
    let last = percentiles.len() - 1;
    if x < percentiles[0] {
        return 0.0;
    }
    if x >= percentiles[last] {
        return 1.0;
    }
    // The last percentile at or below x.
    let i = percentiles.partition_point(|p| *p <= x) - 1;
    let (a, b) = (percentiles[i], percentiles[i + 1]);
    let frac = if b > a { (x - a) / (b - a) } else { 0.0 };
    (i as f64 + frac) / last as f64
}

/// The baseline's CDF just below `x`.
fn baseline_cdf_below(percentiles: &[f64], x: f64) -> f64 {
    let last = percentiles.len() - 1;
    let i = percentiles.partition_point(|p| *p < x);
    if i == 0 {
        return 0.0;
    }
    if i > last {
        return 1.0;
    }
    let (a, b) = (percentiles[i - 1], percentiles[i]);
    let frac = if b > a { (x - a) / (b - a) } else { 1.0 };
    (i as f64 - 1.0 + frac) / last as f64
}

/// The Kolmogorov distribution's tail: P(K > λ).
fn kolmogorov_tail(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

fn psi(pairs: &[(f64, f64)]) -> f64 {
    const EPS: f64 = 1e-4;
    pairs
        .iter()
        .map(|(live, base)| {
            let (a, e) = (live.max(EPS), base.max(EPS));
            (a - e) * (a / e).ln()
        })
        .sum()
}

fn numeric_drift(
    name: &str,
    percentiles: &[f64],
    std: f64,
    count: u64,
    live: &[f64],
    k: f64,
) -> Drift {
    let mut v = live.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() as f64;
    // KS: the largest gap between the live ECDF and the baseline CDF, both
    // taken just below and at each distinct live value (ties are one step),
    // and at the percentiles.
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < v.len() {
        let x = v[i];
        let j = v.partition_point(|y| *y <= x);
        d = d
            .max((baseline_cdf_below(percentiles, x) - i as f64 / m).abs())
            .max((baseline_cdf(percentiles, x) - j as f64 / m).abs());
        i = j;
    }
    for p in percentiles {
        let live_f = v.partition_point(|x| *x <= *p) as f64 / m;
        d = d.max((baseline_cdf(percentiles, *p) - live_f).abs());
    }
    let n_base = count.max(1) as f64;
    let ne = m * n_base / (m + n_base);
    let p_value = kolmogorov_tail((ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d);
    // Wasserstein-1 from quantiles, in training standard deviations.
    let steps = 200;
    let w = (0..steps)
        .map(|i| {
            let q = (i as f64 + 0.5) / steps as f64;
            let pos = q * PERCENTILES as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(PERCENTILES);
            let base = percentiles[lo] + (percentiles[hi] - percentiles[lo]) * (pos - lo as f64);
            (quantile(&v, q) - base).abs()
        })
        .sum::<f64>()
        / steps as f64;
    // A constant training feature has no spread to measure in: the raw distance.
    let distance = if std > 0.0 { w / std } else { w };
    // PSI on the baseline's deciles (edges made unique).
    let mut edges: Vec<f64> = (1..10).map(|i| percentiles[i * PERCENTILES / 10]).collect();
    edges.dedup();
    let mut bins = Vec::with_capacity(edges.len() + 1);
    let mut prev_f = 0.0;
    let mut prev_edge = f64::NEG_INFINITY;
    for e in edges.iter().copied().chain(std::iter::once(f64::INFINITY)) {
        let base_f = if e.is_infinite() {
            1.0
        } else {
            baseline_cdf(percentiles, e)
        };
        let live_n = v.iter().filter(|x| **x > prev_edge && **x <= e).count();
        let label = if e.is_infinite() {
            format!("> {}", api_number(prev_edge))
        } else {
            format!("≤ {}", api_number(e))
        };
        bins.push((label, live_n as f64 / m, base_f - prev_f));
        prev_f = base_f;
        prev_edge = e;
    }
    let pairs: Vec<(f64, f64)> = bins.iter().map(|b| (b.1, b.2)).collect();
    let psi = psi(&pairs);
    Drift {
        feature: name.to_owned(),
        test: "Kolmogorov–Smirnov".into(),
        statistic: d,
        p_value,
        distance,
        psi,
        drifted: p_value < ALPHA / k && (psi >= MIN_SHIFT || distance >= MIN_SHIFT),
        bins,
    }
}

fn api_number(x: f64) -> String {
    if x.abs() >= 1e4 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

fn categorical_drift(
    name: &str,
    shares: &[(String, f64)],
    count: u64,
    live: &[String],
    k: f64,
) -> Drift {
    let m = live.len() as f64;
    let mut counts: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    for l in live {
        *counts.entry(l.as_str()).or_default() += 1.0;
    }
    let mut bins: Vec<(String, f64, f64)> = shares
        .iter()
        .map(|(c, s)| {
            (
                c.clone(),
                counts.get(c.as_str()).copied().unwrap_or(0.0) / m,
                *s,
            )
        })
        .collect();
    let unseen: f64 = counts
        .iter()
        .filter(|(c, _)| !shares.iter().any(|s| s.0 == **c))
        .map(|(_, n)| n)
        .sum();
    // Categories too rare to expect 5 live rows are pooled, as the
    // chi-squared approximation (and a stable PSI) needs.
    let (mut rare_live, mut rare_base) = (0.0, 0.0);
    bins.retain(|(_, live_share, base_share)| {
        if base_share * m < 5.0 {
            rare_live += live_share;
            rare_base += base_share;
            false
        } else {
            true
        }
    });
    if rare_live + rare_base > 0.0 {
        bins.push(("(rare categories)".into(), rare_live, rare_base));
    }
    if unseen > 0.0 {
        bins.push(("(not in training)".into(), unseen / m, 0.0));
    }
    // Chi-squared of the live counts against the baseline shares, pooled
    // with the baseline's own sampling noise (a two-sample test).
    let n_base = count.max(1) as f64;
    let mut chi2 = 0.0;
    let mut cells = 0usize;
    for (_, live_share, base_share) in &bins {
        let (o1, o2) = (live_share * m, base_share * n_base);
        let total = o1 + o2;
        if total <= 0.0 {
            continue;
        }
        let e1 = total * m / (m + n_base);
        let e2 = total * n_base / (m + n_base);
        chi2 += (o1 - e1).powi(2) / e1 + (o2 - e2).powi(2) / e2;
        cells += 1;
    }
    let dof = cells.saturating_sub(1).max(1) as f64;
    let p_value = chi_squared_tail(chi2, dof);
    let js = {
        let mut s = 0.0;
        for (_, p, q) in &bins {
            let mid = 0.5 * (p + q);
            if *p > 0.0 {
                s += 0.5 * p * (p / mid).log2();
            }
            if *q > 0.0 {
                s += 0.5 * q * (q / mid).log2();
            }
        }
        s.max(0.0).sqrt()
    };
    let pairs: Vec<(f64, f64)> = bins.iter().map(|b| (b.1, b.2)).collect();
    let psi = psi(&pairs);
    Drift {
        feature: name.to_owned(),
        test: "chi-squared".into(),
        statistic: chi2,
        p_value,
        distance: js,
        psi,
        drifted: p_value < ALPHA / k && (psi >= MIN_SHIFT || js >= MIN_SHIFT),
        bins,
    }
}

/// P(X > x) for a chi-squared variable with `dof` degrees of freedom:
/// the regularised upper incomplete gamma Q(dof/2, x/2).
fn chi_squared_tail(x: f64, dof: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let (a, x) = (dof / 2.0, x / 2.0);
    let ln_gamma_a = ln_gamma(a);
    if x < a + 1.0 {
        // Series for P, then Q = 1 − P.
        let mut sum = 1.0 / a;
        let mut term = sum;
        let mut ap = a;
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (1.0 - sum * (-x + a * x.ln() - ln_gamma_a).exp()).clamp(0.0, 1.0)
    } else {
        // Continued fraction (Lentz) for Q.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ((-x + a * x.ln() - ln_gamma_a).exp() * h).clamp(0.0, 1.0)
    }
}

/// ln Γ(x) by Lanczos (g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Model Monitor's NDCG of the live ranking against the training one: each
/// feature's training attribution, discounted by its live rank, over the
/// same for the training ranking.
pub fn ndcg(training: &[(String, f64)], live: &[(String, f64)]) -> f64 {
    let weight = |name: &str| {
        training
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, v)| v.abs())
    };
    let dcg: f64 = live
        .iter()
        .enumerate()
        .map(|(i, (n, _))| weight(n) / (i as f64 + 2.0).log2())
        .sum();
    let ideal: f64 = training
        .iter()
        .enumerate()
        .map(|(i, (_, v))| v.abs() / (i as f64 + 2.0).log2())
        .sum();
    if ideal > 0.0 { dcg / ideal } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statistics_match_their_textbook_values() {
        // Chi-squared tails: P(X > 3.841 | 1) = 0.05, P(X > 18.307 | 10) = 0.05.
        assert!((chi_squared_tail(3.841_458_8, 1.0) - 0.05).abs() < 1e-6);
        assert!((chi_squared_tail(18.307_038, 10.0) - 0.05).abs() < 1e-6);
        assert!((chi_squared_tail(0.5, 3.0) - 0.918_891_4).abs() < 1e-6);
        // The Kolmogorov tail at its 5% point.
        assert!((kolmogorov_tail(1.358_1) - 0.05).abs() < 1e-3);
        // NDCG: the same ranking is 1, a swapped one less.
        let t = vec![("a".to_string(), 3.0), ("b".into(), 2.0), ("c".into(), 1.0)];
        assert!((ndcg(&t, &t) - 1.0).abs() < 1e-12);
        let swapped = vec![("c".to_string(), 3.0), ("b".into(), 2.0), ("a".into(), 1.0)];
        assert!(ndcg(&t, &swapped) < 0.9);
    }

    /// Rows with the facet on a share `in_facet`, predicted favourable at
    /// `rate_facet` in it and `rate_other` outside, labels agreeing 80%.
    fn sample(
        n: usize,
        in_facet: f64,
        rate_facet: f64,
        rate_other: f64,
        seed: u64,
    ) -> crate::fairness::Facets {
        let mut rng = crate::rng::Rng::new(seed);
        let (mut facet, mut label, mut predicted) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let f = rng.next_f64() < in_facet;
            let p = rng.next_f64() < if f { rate_facet } else { rate_other };
            let y = if rng.next_f64() < 0.8 { p } else { !p };
            facet.push(Some(f));
            label.push(Some(y));
            predicted.push(Some(p));
        }
        crate::fairness::Facets::new(&facet, &label, Some(&predicted), None)
    }

    #[test]
    fn bias_drifts_on_a_shift_and_not_by_chance() {
        let training = sample(3000, 0.3, 0.4, 0.5, 1);
        // Same distribution, 20 live samples of 300 rows: at most one alarm.
        let alarms = (0..20)
            .filter(|&s| {
                let live = sample(300, 0.3, 0.4, 0.5, 100 + s);
                bias_drift(&training, &live, true, s)
                    .metrics
                    .iter()
                    .any(|m| m.drifted)
            })
            .count();
        assert!(alarms <= 1, "{alarms} false alarms");
        // The facet now predicted favourable half as often.
        let live = sample(600, 0.3, 0.15, 0.5, 7);
        let d = bias_drift(&training, &live, false, 0);
        assert_eq!(d.metrics.len(), 2, "predictions only, without the truth");
        let dppl = &d.metrics[0];
        assert_eq!(dppl.code, "DPPL");
        assert!(dppl.drifted, "{dppl:?}");
        assert!(d.violations()[0].contains("DPPL"), "{:?}", d.violations());
    }
}
