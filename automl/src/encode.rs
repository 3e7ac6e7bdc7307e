//! Preprocessing fitted on training rows only: per-feature statistics, the
//! tree encoder (numbers as they are, categories as frequency-ranked codes)
//! and the linear encoder (median imputation with missing indicators,
//! standard scaling, one-hot). Unseen categories and missing values at
//! prediction time are handled, never an error.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::{Column, Dataset};
use crate::error::Result;

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
                    stats.median = if n % 2 == 1 {
                        vals[n / 2]
                    } else {
                        0.5 * (vals[n / 2 - 1] + vals[n / 2])
                    };
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
    },
    /// One column per level, in order; other values give all zeros.
    OneHot { feature: usize, levels: Vec<String> },
}

/// Fitted encoder for linear models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearEncoder {
    pub columns: Vec<LinearColumn>,
}

impl LinearEncoder {
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
                    }
                }
                FeatureKind::Categorical => LinearColumn::OneHot {
                    feature: i,
                    levels: f.levels.iter().take(MAX_ONE_HOT).cloned().collect(),
                },
            })
            .collect();
        LinearEncoder { columns }
    }

    pub fn width(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match c {
                LinearColumn::Numeric { indicator, .. } => 1 + usize::from(*indicator),
                LinearColumn::OneHot { levels, .. } => levels.len(),
            })
            .sum()
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
                } => {
                    let raw = tree_matrix(std::slice::from_ref(&features[*feature]), data, rows)?;
                    for (r, &x) in raw[0].iter().enumerate() {
                        let missing = x.is_nan();
                        let v = if missing { *fill } else { x };
                        out[r * width + offset] = (v - mean) / scale;
                        if *indicator {
                            out[r * width + offset + 1] = f64::from(u8::from(missing));
                        }
                    }
                    offset += 1 + usize::from(*indicator);
                }
                LinearColumn::OneHot { feature, levels } => {
                    let col = data.require(&features[*feature].name)?;
                    let index: HashMap<&str, usize> = levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.as_str(), i))
                        .collect();
                    for (r, &i) in rows.iter().enumerate() {
                        if let Some(k) = col.label(i).and_then(|l| index.get(l.as_str()).copied()) {
                            out[r * width + offset + k] = 1.0;
                        }
                    }
                    offset += levels.len();
                }
            }
        }
        Ok(out)
    }
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
    fn missing_column_is_an_error() {
        let d = data();
        let feats = vec![FeatureStats::fit("x", d.column("x").unwrap(), &[0])];
        let other = Dataset::new(vec![("y".into(), Column::Numeric(vec![1.0]))]).unwrap();
        assert!(tree_matrix(&feats, &other, &[0]).is_err());
    }
}
