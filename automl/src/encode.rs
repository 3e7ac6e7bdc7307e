//! Preprocessing fitted on training rows only: per-feature statistics, the
//! tree encoder (numbers as they are, categories as frequency-ranked codes)
//! and the linear encoder (median imputation with missing indicators,
//! standard scaling, one-hot). Unseen categories and missing values at
//! prediction time are handled, never an error.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::{Column, Dataset};
use crate::error::Result;
use crate::task::Target;

/// Categories kept per feature; rarer ones are pooled as unseen.
const MAX_LEVELS: usize = 254;
/// One-hot columns per categorical feature in the linear encoder.
const MAX_ONE_HOT: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    Numeric,
    Categorical,
}

/// What training saw of one feature: used to encode, to validate inputs and
/// to prefill the predict form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    pub name: String,
    pub kind: FeatureKind,
    /// Categories, most frequent first (categorical only; at most 254).
    pub levels: Vec<String>,
    /// Counts of `levels`, same order.
    pub level_counts: Vec<u64>,
    pub missing: u64,
    pub rows: u64,
    /// Numeric only (0 when every value was missing, and for categorical features).
    pub median: f64,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

impl FeatureStats {
    pub fn fit(name: &str, column: &Column, rows: &[usize]) -> FeatureStats {
        let mut stats = FeatureStats {
            name: name.to_owned(),
            kind: FeatureKind::Numeric,
            levels: Vec::new(),
            level_counts: Vec::new(),
            missing: 0,
            rows: rows.len() as u64,
            median: 0.0,
            mean: 0.0,
            std: 0.0,
            min: 0.0,
            max: 0.0,
        };
        match column {
            Column::Numeric(v) => {
                let mut vals: Vec<f64> = rows
                    .iter()
                    .map(|&i| v[i])
                    .filter(|x| x.is_finite())
                    .collect();
                stats.missing = (rows.len() - vals.len()) as u64;
                if !vals.is_empty() {
                    vals.sort_by(f64::total_cmp);
                    let n = vals.len();
                    stats.median = median(&vals).unwrap_or(0.0);
                    stats.mean = vals.iter().sum::<f64>() / n as f64;
                    let var = vals.iter().map(|x| (x - stats.mean).powi(2)).sum::<f64>() / n as f64;
                    stats.std = var.sqrt();
                    stats.min = vals[0];
                    stats.max = vals[n - 1];
                }
            }
            Column::Categorical(v) => {
                stats.kind = FeatureKind::Categorical;
                let mut counts: HashMap<&str, u64> = HashMap::new();
                for &i in rows {
                    match &v[i] {
                        Some(s) => *counts.entry(s.as_str()).or_default() += 1,
                        None => stats.missing += 1,
                    }
                }
                let mut counts: Vec<(&str, u64)> = counts.into_iter().collect();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                counts.truncate(MAX_LEVELS);
                stats.levels = counts.iter().map(|c| c.0.to_owned()).collect();
                stats.level_counts = counts.iter().map(|c| c.1).collect();
            }
        }
        stats
    }

    /// Distinct values seen (for categorical, capped at 254).
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }

    fn level_index(&self) -> HashMap<&str, usize> {
        self.levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect()
    }
}

/// Chooses the features a model uses: every column but the target, less
/// ID-like text columns (nearly every value distinct) and columns with no
/// value at all.
pub fn select_features(data: &Dataset, target: &str, rows: &[usize]) -> Vec<FeatureStats> {
    data.columns()
        .filter(|(name, _)| *name != target)
        .map(|(name, col)| (col, FeatureStats::fit(name, col, rows)))
        .filter(|(col, s)| {
            let present = s.rows - s.missing;
            if present == 0 {
                return false;
            }
            match col {
                Column::Numeric(_) => true,
                Column::Categorical(v) => {
                    // ID-like: more than 90% distinct over 50+ present values.
                    if present < 50 {
                        return true;
                    }
                    let mut seen: Vec<&str> =
                        rows.iter().filter_map(|&i| v[i].as_deref()).collect();
                    seen.sort_unstable();
                    seen.dedup();
                    (seen.len() as f64) <= 0.9 * present as f64
                }
            }
        })
        .map(|(_, s)| s)
        .collect()
}

/// Dense column-major features for trees: numbers as they are, categories as
/// their frequency rank (unseen and missing become NaN).
pub fn tree_matrix(
    features: &[FeatureStats],
    data: &Dataset,
    rows: &[usize],
) -> Result<Vec<Vec<f64>>> {
    features
        .iter()
        .map(|f| {
            let col = data.require(&f.name)?;
            Ok(match (f.kind, col) {
                (FeatureKind::Numeric, Column::Numeric(v)) => {
                    rows.iter().map(|&i| v[i]).map(finite_or_nan).collect()
                }
                (FeatureKind::Numeric, Column::Categorical(v)) => rows
                    .iter()
                    .map(|&i| {
                        v[i].as_deref()
                            .and_then(|s| s.trim().parse::<f64>().ok())
                            .map_or(f64::NAN, finite_or_nan)
                    })
                    .collect(),
                (FeatureKind::Categorical, _) => {
                    let index = f.level_index();
                    rows.iter()
                        .map(|&i| {
                            col.label(i)
                                .and_then(|l| index.get(l.as_str()).map(|&k| k as f64))
                                .unwrap_or(f64::NAN)
                        })
                        .collect()
                }
            })
        })
        .collect()
}

fn finite_or_nan(x: f64) -> f64 {
    if x.is_finite() { x } else { f64::NAN }
}

/// One output block of the linear encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LinearColumn {
    /// `(x - mean) / scale`, missing imputed with `fill` (the median); plus a
    /// 0/1 indicator column when `indicator` is set.
    Numeric {
        feature: usize,
        fill: f64,
        mean: f64,
        scale: f64,
        indicator: bool,
        /// `sign(x) · ln(1 + |x|)` first (strongly skewed numbers); `fill`,
        /// `mean` and `scale` are of the transformed values.
        #[serde(default)]
        log: bool,
    },
    /// One column per level, in order; other values give all zeros.
    OneHot { feature: usize, levels: Vec<String> },
    /// One column mapping each level to a number (a smoothed target mean or
    /// a log frequency), other and missing values to `default`, then
    /// standardised: `(value - shift) / scale`.
    Mapped {
        feature: usize,
        what: String,
        levels: Vec<String>,
        values: Vec<f64>,
        default: f64,
        shift: f64,
        scale: f64,
    },
}

impl LinearColumn {
    /// The feature the column encodes.
    pub fn feature(&self) -> usize {
        match self {
            LinearColumn::Numeric { feature, .. }
            | LinearColumn::OneHot { feature, .. }
            | LinearColumn::Mapped { feature, .. } => *feature,
        }
    }

    fn width(&self) -> usize {
        match self {
            LinearColumn::Numeric { indicator, .. } => 1 + usize::from(*indicator),
            LinearColumn::OneHot { levels, .. } => levels.len(),
            LinearColumn::Mapped { .. } => 1,
        }
    }
}

/// Fitted encoder for linear models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearEncoder {
    pub columns: Vec<LinearColumn>,
    /// Mean of each encoded column over the training rows (the expectation
    /// linear SHAP values are taken against); empty in older models.
    #[serde(default)]
    pub means: Vec<f64>,
}

/// Numbers with a larger absolute skewness are log-transformed for linear
/// models and networks.
const LOG_SKEW: f64 = 2.0;
/// Target-mean encoding's prior weight, in rows.
const SMOOTHING: f64 = 10.0;
/// Folds of the out-of-fold target-mean encoding of training rows.
const ENCODING_FOLDS: usize = 5;

impl LinearEncoder {
    #[cfg(test)]
    pub(crate) fn fit(features: &[FeatureStats]) -> LinearEncoder {
        let columns = features
            .iter()
            .enumerate()
            .map(|(i, f)| match f.kind {
                FeatureKind::Numeric => {
                    let fill = if f.median.is_finite() { f.median } else { 0.0 };
                    // Imputing the median shifts the mean; good enough for scaling.
                    let mean = if f.mean.is_finite() { f.mean } else { 0.0 };
                    let scale = if f.std.is_finite() && f.std > 1e-12 {
                        f.std
                    } else {
                        1.0
                    };
                    LinearColumn::Numeric {
                        feature: i,
                        fill,
                        mean,
                        scale,
                        indicator: f.missing > 0,
                        log: false,
                    }
                }
                FeatureKind::Categorical => LinearColumn::OneHot {
                    feature: i,
                    levels: f.levels.iter().take(MAX_ONE_HOT).cloned().collect(),
                },
            })
            .collect();
        LinearEncoder {
            columns,
            means: Vec::new(),
        }
    }

    /// Fits on the training `rows` and encodes them: numbers imputed with
    /// their median (plus a missing indicator) and standardised, strongly
    /// skewed numbers log-transformed first; categories one-hot encoded, and
    /// those with more levels than get one-hot columns also a log-frequency column and
    /// (regression and binary targets) a smoothed target-mean column, whose
    /// training values are out-of-fold so a row never sees its own target.
    pub(crate) fn fit_transform(
        features: &[FeatureStats],
        data: &Dataset,
        rows: &[usize],
        target: &Target,
    ) -> Result<(LinearEncoder, Vec<f64>)> {
        let mut columns = Vec::new();
        // Target-mean columns: (position in `columns`, per-row OOF values).
        let mut oof: Vec<(usize, Vec<f64>)> = Vec::new();
        let y: Option<Vec<f64>> = match target {
            Target::Regression(y) => Some(y.clone()),
            Target::Classes { classes, y } if classes.len() == 2 => {
                Some(y.iter().map(|&c| c as f64).collect())
            }
            Target::Classes { .. } => None,
        };
        for (i, f) in features.iter().enumerate() {
            match f.kind {
                FeatureKind::Numeric => columns.push(numeric_column(i, f, data, rows)?),
                FeatureKind::Categorical => {
                    columns.push(LinearColumn::OneHot {
                        feature: i,
                        levels: f.levels.iter().take(MAX_ONE_HOT).cloned().collect(),
                    });
                    if f.levels.len() > MAX_ONE_HOT {
                        many_levels(i, f, data, rows, y.as_deref(), &mut columns, &mut oof)?;
                    }
                }
            }
        }
        let mut encoder = LinearEncoder {
            columns,
            means: Vec::new(),
        };
        let mut x = encoder.transform(features, data, rows)?;
        let width = encoder.width();
        // Training rows get their out-of-fold target means, on the column's scale.
        for (pos, per_row) in oof {
            let offset: usize = encoder.columns[..pos].iter().map(LinearColumn::width).sum();
            if let LinearColumn::Mapped { shift, scale, .. } = encoder.columns[pos] {
                for (r, v) in per_row.into_iter().enumerate() {
                    x[r * width + offset] = (v - shift) / scale;
                }
            }
        }
        let n = rows.len().max(1) as f64;
        encoder.means = (0..width)
            .map(|j| (0..rows.len()).map(|r| x[r * width + j]).sum::<f64>() / n)
            .collect();
        Ok((encoder, x))
    }

    pub fn width(&self) -> usize {
        self.columns.iter().map(LinearColumn::width).sum()
    }

    /// Row-major encoded matrix of `rows` (`rows.len() * width()` values).
    pub(crate) fn transform(
        &self,
        features: &[FeatureStats],
        data: &Dataset,
        rows: &[usize],
    ) -> Result<Vec<f64>> {
        let width = self.width();
        let mut out = vec![0.0; rows.len() * width];
        let mut offset = 0;
        for c in &self.columns {
            match c {
                LinearColumn::Numeric {
                    feature,
                    fill,
                    mean,
                    scale,
                    indicator,
                    log,
                } => {
                    let raw = tree_matrix(std::slice::from_ref(&features[*feature]), data, rows)?;
                    for (r, &x) in raw[0].iter().enumerate() {
                        let missing = x.is_nan();
                        let v = match (missing, log) {
                            (true, _) => *fill,
                            (false, true) => crate::values::signed_log(x),
                            (false, false) => x,
                        };
                        out[r * width + offset] = (v - mean) / scale;
                        if *indicator {
                            out[r * width + offset + 1] = f64::from(u8::from(missing));
                        }
                    }
                    offset += 1 + usize::from(*indicator);
                }
                LinearColumn::OneHot { feature, levels } => {
                    let col = data.require(&features[*feature].name)?;
                    for (r, code) in level_codes(col, levels, rows).into_iter().enumerate() {
                        if let Some(k) = code {
                            out[r * width + offset + k] = 1.0;
                        }
                    }
                    offset += levels.len();
                }
                LinearColumn::Mapped {
                    feature,
                    levels,
                    values,
                    default,
                    shift,
                    scale,
                    ..
                } => {
                    let col = data.require(&features[*feature].name)?;
                    for (r, code) in level_codes(col, levels, rows).into_iter().enumerate() {
                        let v = code
                            .and_then(|k| values.get(k))
                            .copied()
                            .unwrap_or(*default);
                        out[r * width + offset] = (v - shift) / scale;
                    }
                    offset += 1;
                }
            }
        }
        Ok(out)
    }
}

/// The position in `levels` of each row's label (`None`: missing or another value).
/// A number column for the linear encoding: a log when the training
/// values are skewed, the median for missing values, standardised.
fn numeric_column(
    i: usize,
    f: &FeatureStats,
    data: &Dataset,
    rows: &[usize],
) -> Result<LinearColumn> {
    let raw = tree_matrix(std::slice::from_ref(f), data, rows)?;
    let finite: Vec<f64> = raw[0].iter().copied().filter(|x| x.is_finite()).collect();
    let log = skewness(&finite).is_some_and(|s| s.abs() > LOG_SKEW);
    let mut v: Vec<f64> = if log {
        finite
            .iter()
            .map(|&x| crate::values::signed_log(x))
            .collect()
    } else {
        finite
    };
    v.sort_by(f64::total_cmp);
    let fill = median(&v).unwrap_or(0.0);
    let (mean, std) = mean_std(&v);
    Ok(LinearColumn::Numeric {
        feature: i,
        fill,
        mean,
        scale: if std > 1e-12 { std } else { 1.0 },
        indicator: f.missing > 0,
        log,
    })
}

/// The extra columns of a category with more levels than get one-hot
/// columns: its log frequency, and with a numeric target `y` a smoothed
/// target mean, whose training values (pushed to `oof` with the column's
/// position) are out-of-fold so that a row never sees its own target.
fn many_levels(
    i: usize,
    f: &FeatureStats,
    data: &Dataset,
    rows: &[usize],
    y: Option<&[f64]>,
    columns: &mut Vec<LinearColumn>,
    oof: &mut Vec<(usize, Vec<f64>)>,
) -> Result<()> {
    let codes = level_codes(data.require(&f.name)?, &f.levels, rows);
    let total = rows.len().max(1) as f64;
    let freq: Vec<f64> = f
        .level_counts
        .iter()
        .map(|&c| (c as f64 / total).ln())
        .collect();
    let rare = (0.5 / total).ln();
    columns.push(standardised_map(
        i,
        "log frequency",
        &f.levels,
        freq,
        rare,
        &codes,
    ));
    let Some(y) = y else { return Ok(()) };
    let (full, prior) = target_means(&codes, y, None, f.levels.len());
    let mut per_row = vec![prior; rows.len()];
    for fold in 0..ENCODING_FOLDS {
        let (means, prior) = target_means(&codes, y, Some(fold), f.levels.len());
        for (r, code) in codes.iter().enumerate() {
            if fold_of(r) == fold {
                per_row[r] = code.map_or(prior, |c| means[c]);
            }
        }
    }
    oof.push((columns.len(), per_row));
    columns.push(standardised_map(
        i,
        "target mean",
        &f.levels,
        full,
        prior,
        &codes,
    ));
    Ok(())
}

fn level_codes(col: &Column, levels: &[String], rows: &[usize]) -> Vec<Option<usize>> {
    let index: HashMap<&str, usize> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    rows.iter()
        .map(|&r| col.label(r).and_then(|l| index.get(l.as_str()).copied()))
        .collect()
}

/// A mapped column standardised over the training rows' values.
fn standardised_map(
    feature: usize,
    what: &str,
    levels: &[String],
    values: Vec<f64>,
    default: f64,
    codes: &[Option<usize>],
) -> LinearColumn {
    let per_row: Vec<f64> = codes
        .iter()
        .map(|c| c.and_then(|k| values.get(k)).copied().unwrap_or(default))
        .collect();
    let (shift, std) = mean_std(&per_row);
    LinearColumn::Mapped {
        feature,
        what: what.to_owned(),
        levels: levels.to_vec(),
        values,
        default,
        shift,
        scale: if std > 1e-12 { std } else { 1.0 },
    }
}

/// Smoothed mean of `y` per level over the rows outside `fold` (every row
/// when `None`), and the prior (the mean of those rows).
fn target_means(
    codes: &[Option<usize>],
    y: &[f64],
    fold: Option<usize>,
    levels: usize,
) -> (Vec<f64>, f64) {
    let mut sum = vec![0.0; levels];
    let mut count = vec![0.0; levels];
    let (mut total, mut n) = (0.0, 0.0);
    for (r, (code, &v)) in codes.iter().zip(y).enumerate() {
        if fold == Some(fold_of(r)) {
            continue;
        }
        total += v;
        n += 1.0;
        if let Some(c) = code {
            sum[*c] += v;
            count[*c] += 1.0;
        }
    }
    let prior = if n > 0.0 { total / n } else { 0.0 };
    let means = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| (s + SMOOTHING * prior) / (c + SMOOTHING))
        .collect();
    (means, prior)
}

/// The encoding fold of the `r`-th training row: a hash, so periodic data
/// does not put all of a level's rows in one fold.
fn fold_of(r: usize) -> usize {
    let mut z = (r as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) % ENCODING_FOLDS as u64) as usize
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| {
        if n % 2 == 1 {
            sorted[n / 2]
        } else {
            0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        }
    })
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// `m3 / m2^1.5`; `None` for fewer than three numbers or no spread.
fn skewness(v: &[f64]) -> Option<f64> {
    if v.len() < 3 {
        return None;
    }
    let (mean, std) = mean_std(v);
    if std <= 1e-12 * mean.abs().max(1.0) {
        return None;
    }
    let n = v.len() as f64;
    Some(v.iter().map(|x| ((x - mean) / std).powi(3)).sum::<f64>() / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Dataset {
        Dataset::new(vec![
            ("x".into(), Column::Numeric(vec![1.0, f64::NAN, 3.0, 5.0])),
            (
                "c".into(),
                Column::Categorical(vec![
                    Some("a".into()),
                    Some("b".into()),
                    Some("a".into()),
                    None,
                ]),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn stats_count_missing_and_rank_levels() {
        let d = data();
        let rows = [0, 1, 2, 3];
        let x = FeatureStats::fit("x", d.column("x").unwrap(), &rows);
        assert_eq!(x.missing, 1);
        assert_eq!(x.median, 3.0);
        let c = FeatureStats::fit("c", d.column("c").unwrap(), &rows);
        assert_eq!(c.levels, vec!["a", "b"]);
        assert_eq!(c.level_counts, vec![2, 1]);
    }

    #[test]
    fn unseen_category_is_nan_for_trees_and_zeros_for_linear() {
        let d = data();
        let rows = [0, 1, 2, 3];
        let feats = vec![
            FeatureStats::fit("x", d.column("x").unwrap(), &rows),
            FeatureStats::fit("c", d.column("c").unwrap(), &rows),
        ];
        let new = Dataset::new(vec![
            ("c".into(), Column::Categorical(vec![Some("zzz".into())])),
            ("x".into(), Column::Numeric(vec![f64::NAN])),
        ])
        .unwrap();
        let m = tree_matrix(&feats, &new, &[0]).unwrap();
        assert!(m[0][0].is_nan() && m[1][0].is_nan());
        let enc = LinearEncoder::fit(&feats);
        assert_eq!(enc.width(), 2 + 2);
        let row = enc.transform(&feats, &new, &[0]).unwrap();
        // x imputed with the median (3), indicator set, one-hot all zero.
        assert!((row[0] - (3.0 - 3.0) / feats[0].std).abs() < 1e-12);
        assert_eq!(&row[1..], &[1.0, 0.0, 0.0]);
    }

    #[test]
    fn skewed_numbers_are_logged_and_many_levels_get_mapped_columns() {
        let n = 400;
        let skewed: Vec<f64> = (0..n)
            .map(|i| if i % 50 == 0 { 1e6 } else { (i % 7) as f64 })
            .collect();
        let city: Vec<Option<String>> = (0..n).map(|i| Some(format!("c{}", i % 40))).collect();
        // The target is the city's number: only a target encoding sees that.
        let y: Vec<f64> = (0..n).map(|i| (i % 40) as f64).collect();
        let d = Dataset::new(vec![
            ("s".into(), Column::Numeric(skewed)),
            ("city".into(), Column::Categorical(city)),
        ])
        .unwrap();
        let rows: Vec<usize> = (0..n).collect();
        let feats = vec![
            FeatureStats::fit("s", d.column("s").unwrap(), &rows),
            FeatureStats::fit("city", d.column("city").unwrap(), &rows),
        ];
        let target = Target::Regression(y.clone());
        let (enc, x) = LinearEncoder::fit_transform(&feats, &d, &rows, &target).unwrap();
        assert!(matches!(
            enc.columns[0],
            LinearColumn::Numeric { log: true, .. }
        ));
        let whats: Vec<&str> = enc
            .columns
            .iter()
            .filter_map(|c| match c {
                LinearColumn::Mapped { what, .. } => Some(what.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(whats, ["log frequency", "target mean"]);
        let w = enc.width();
        assert_eq!(w, 1 + MAX_ONE_HOT + 2);
        assert_eq!(enc.means.len(), w);
        // Training rows get out-of-fold target means, new rows the full mapping:
        // close (every city has 10 rows) but not equal.
        let fresh = enc.transform(&feats, &d, &rows).unwrap();
        let col = w - 1;
        let (mut differ, mut corr) = (0, 0.0);
        for r in 0..n {
            differ += usize::from((x[r * w + col] - fresh[r * w + col]).abs() > 1e-9);
            corr += x[r * w + col] * (y[r] - 19.5);
        }
        assert!(differ > n / 2, "{differ}");
        assert!(corr > 0.0);
        // Column means are the training matrix's.
        let m0 = (0..n).map(|r| x[r * w]).sum::<f64>() / n as f64;
        assert!((enc.means[0] - m0).abs() < 1e-12);
    }

    #[test]
    fn missing_column_is_an_error() {
        let d = data();
        let feats = vec![FeatureStats::fit("x", d.column("x").unwrap(), &[0])];
        let other = Dataset::new(vec![("y".into(), Column::Numeric(vec![1.0]))]).unwrap();
        assert!(tree_matrix(&feats, &other, &[0]).is_err());
    }
}
