//! The scaled encoding that Explore clusters, maps and scores, and the
//! assignment of rows to fitted segments.
//!
//! The encoding is fitted on a table's rows and stated to the user: each
//! number is centred on its mean and divided by its standard deviation
//! (population, as scikit-learn's `StandardScaler`), a missing number
//! becomes the mean (0 once scaled); each category becomes 0/1 columns for
//! its most frequent [`MAX_LEVELS`] labels (a missing label or another
//! label is 0 in all of them). The segments themselves are found by
//! `linfa-clustering`'s k-means in the data crate; this module only
//! encodes rows and puts each in the segment of its nearest centroid
//! (squared Euclidean distance, the first centroid on a tie), the rule
//! linfa's `predict` applies, so a model's recipe assigns new rows exactly
//! as Explore did at build time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use linfa::DatasetBase;
use linfa::metrics::SilhouetteScore;
use linfa::traits::{Fit, Predict};
use linfa_clustering::{KMeans, KMeansInit};
use linfa_reduction::Pca;
use ndarray::{Array1, Array2};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;

use crate::data::{Column, Dataset};
use crate::error::{Error, Result};

/// At most this many 0/1 columns per category column (its most frequent labels).
pub const MAX_LEVELS: usize = 10;

/// How one input column is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// `(x - mean) / scale`; missing is 0.
    Number {
        column: String,
        mean: f64,
        scale: f64,
    },
    /// One 0/1 column per label in `levels`.
    Category { column: String, levels: Vec<String> },
}

impl Input {
    pub fn column(&self) -> &str {
        match self {
            Input::Number { column, .. } | Input::Category { column, .. } => column,
        }
    }

    fn width(&self) -> usize {
        match self {
            Input::Number { .. } => 1,
            Input::Category { levels, .. } => levels.len(),
        }
    }
}

/// The fitted encoding of some columns into numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub inputs: Vec<Input>,
}

/// Why a column cannot be encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Unusable {
    /// Every value is missing.
    Empty,
    /// One value (or one label) in every row that has one.
    Constant,
}

impl Encoding {
    /// Fits the encoding of `columns` on `rows` of `data` (every row when
    /// `rows` is `None`). Columns that are empty or constant there are
    /// returned apart, with why, and not encoded.
    pub fn fit(
        data: &Dataset,
        columns: &[String],
        rows: Option<&[usize]>,
    ) -> Result<(Encoding, Vec<(String, Unusable)>)> {
        let all: Vec<usize>;
        let rows = match rows {
            Some(r) => r,
            None => {
                all = (0..data.n_rows()).collect();
                &all
            }
        };
        let mut inputs = Vec::new();
        let mut unusable = Vec::new();
        for name in columns {
            match data.require(name)? {
                Column::Numeric(v) => {
                    let (mut n, mut sum) = (0usize, 0.0);
                    for &r in rows {
                        if v[r].is_finite() {
                            n += 1;
                            sum += v[r];
                        }
                    }
                    if n == 0 {
                        unusable.push((name.clone(), Unusable::Empty));
                        continue;
                    }
                    let mean = sum / n as f64;
                    let mut ss = 0.0;
                    for &r in rows {
                        if v[r].is_finite() {
                            ss += (v[r] - mean) * (v[r] - mean);
                        }
                    }
                    let scale = (ss / n as f64).sqrt();
                    if !(scale > 0.0 && scale.is_finite()) {
                        unusable.push((name.clone(), Unusable::Constant));
                        continue;
                    }
                    inputs.push(Input::Number {
                        column: name.clone(),
                        mean,
                        scale,
                    });
                }
                Column::Categorical(v) => {
                    let mut counts: HashMap<&str, usize> = HashMap::new();
                    for &r in rows {
                        if let Some(l) = &v[r] {
                            *counts.entry(l.as_str()).or_default() += 1;
                        }
                    }
                    if counts.is_empty() {
                        unusable.push((name.clone(), Unusable::Empty));
                        continue;
                    }
                    if counts.len() == 1 {
                        unusable.push((name.clone(), Unusable::Constant));
                        continue;
                    }
                    let mut levels: Vec<(&str, usize)> = counts.into_iter().collect();
                    levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                    levels.truncate(MAX_LEVELS);
                    inputs.push(Input::Category {
                        column: name.clone(),
                        levels: levels.into_iter().map(|(l, _)| l.to_owned()).collect(),
                    });
                }
            }
        }
        Ok((Encoding { inputs }, unusable))
    }

    /// How many numbers a row becomes.
    pub fn width(&self) -> usize {
        self.inputs.iter().map(Input::width).sum()
    }

    /// The name of each encoded number: the column, or `column = label`.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.width());
        for input in &self.inputs {
            match input {
                Input::Number { column, .. } => out.push(column.clone()),
                Input::Category { column, levels } => {
                    out.extend(levels.iter().map(|l| format!("{column} = {l}")));
                }
            }
        }
        out
    }

    /// The input column of each encoded number.
    pub fn sources(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.width());
        for (i, input) in self.inputs.iter().enumerate() {
            out.extend(std::iter::repeat_n(i, input.width()));
        }
        out
    }

    /// `rows` of `data` encoded, row-major (`rows.len() × width`). A numeric
    /// column read where a category was fitted reads its values as labels;
    /// text where a number was fitted is an error naming the column.
    pub fn encode(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let width = self.width();
        let mut out = vec![0.0; rows.len() * width];
        let mut at = 0;
        for input in &self.inputs {
            let col = data.require(input.column())?;
            match (input, col) {
                (Input::Number { mean, scale, .. }, Column::Numeric(v)) => {
                    for (i, &r) in rows.iter().enumerate() {
                        let x = v[r];
                        out[i * width + at] = if x.is_finite() {
                            (x - mean) / scale
                        } else {
                            0.0
                        };
                    }
                }
                (Input::Number { column, .. }, Column::Categorical(_)) => {
                    return Err(Error::Parameter {
                        name: "segments",
                        reason: format!("column `{column}` holds text where segments read numbers"),
                    });
                }
                (Input::Category { levels, .. }, col) => {
                    let index: HashMap<&str, usize> = levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.as_str(), i))
                        .collect();
                    for (i, &r) in rows.iter().enumerate() {
                        let label = col.label(r);
                        if let Some(&j) = label.as_deref().and_then(|l| index.get(l)) {
                            out[i * width + at + j] = 1.0;
                        }
                    }
                }
            }
            at += input.width();
        }
        Ok(out)
    }
}

/// Segments as a model carries them: the encoding and one centroid per
/// segment, in the encoding's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    pub encoding: Encoding,
    pub centroids: Vec<Vec<f64>>,
}

impl Segments {
    /// The segment (from 0) of each row of `data`.
    pub fn assign(&self, data: &Dataset) -> Result<Vec<usize>> {
        let rows: Vec<usize> = (0..data.n_rows()).collect();
        let x = self.encoding.encode(data, &rows)?;
        let width = self.encoding.width();
        Ok(x.chunks_exact(width.max(1))
            .map(|row| nearest(&self.centroids, row))
            .collect())
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let width = self.encoding.width();
        let finite = self.encoding.inputs.iter().all(|i| match i {
            Input::Number { mean, scale, .. } => {
                mean.is_finite() && scale.is_finite() && *scale > 0.0
            }
            Input::Category { levels, .. } => !levels.is_empty(),
        });
        if width == 0
            || self.centroids.is_empty()
            || !finite
            || self
                .centroids
                .iter()
                .any(|c| c.len() != width || c.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::Artifact("the segment step is malformed".into()));
        }
        Ok(())
    }
}

/// The index of the centroid nearest `row` (squared Euclidean distance,
/// summed in column order; the first on a tie).
pub fn nearest(centroids: &[Vec<f64>], row: &[f64]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (k, c) in centroids.iter().enumerate() {
        let d: f64 = c.iter().zip(row).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.1 {
            best = (k, d);
        }
    }
    best.0
}

/// linfa's k-means on the rows of `x`: its centres and each row's segment.
pub fn kmeans(
    x: &Array2<f64>,
    k: usize,
    seed: u64,
    runs: usize,
) -> Result<(Array2<f64>, Array1<usize>)> {
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(runs)
        .max_n_iterations(300)
        .tolerance(1e-4)
        .init_method(KMeansInit::KMeansPlusPlus)
        .fit(&DatasetBase::from(x.clone()))
        .map_err(|e| Error::Parameter {
            name: "k-means",
            reason: e.to_string(),
        })?;
    let labels = model.predict(x);
    Ok((model.centroids().clone(), labels))
}

/// The mean silhouette of `labels` on the rows of `x` (linfa's).
pub fn silhouette(x: &Array2<f64>, labels: Array1<usize>) -> Result<f64> {
    DatasetBase::new(x.clone(), labels)
        .silhouette_score()
        .map_err(|e| Error::Parameter {
            name: "silhouette",
            reason: e.to_string(),
        })
}

/// The principal components of `x` (the encoded sample): linfa-reduction's
/// PCA with every component, so its eigendecomposition is exact; each
/// component's sign set so that its largest entry is positive (as
/// scikit-learn ≥ 1.5). Returns the components (rows), their variances
/// (`σ² / (n - 1)`) and the mean.
pub fn principal_components(x: &Array2<f64>) -> Result<(Array2<f64>, Vec<f64>, Array1<f64>)> {
    let (n, width) = x.dim();
    let all = width.min(n);
    let pca = Pca::params(all)
        .fit(&DatasetBase::from(x.clone()))
        .map_err(|e| Error::Parameter {
            name: "PCA",
            reason: e.to_string(),
        })?;
    let mut components = pca.components().clone();
    for mut c in components.rows_mut() {
        let top = c
            .iter()
            .copied()
            .fold(0.0f64, |a, v| if v.abs() > a.abs() { v } else { a });
        if top < 0.0 {
            c.mapv_inplace(|v| -v);
        }
    }
    let variance = pca
        .singular_values()
        .iter()
        .map(|s| s * s / (n as f64 - 1.0).max(1.0))
        .collect();
    Ok((components, variance, pca.mean().clone()))
}
