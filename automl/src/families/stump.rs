//! A test-only family that shows what adding a family takes: this file and
//! one registry line. A stump splits the rows once, on the feature and
//! threshold that most reduce the squared error of the target (of its
//! class indicators for classification), and predicts each side's mean
//! (in the raw space: value, log-odds or log-probabilities). Its SHAP
//! values are exact: the split feature gets `raw - base`, the others 0.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, Model, Shap, n_outputs};
use crate::artifact::{Schema, link_inverse};
use crate::data::Dataset;
use crate::encode::tree_matrix;
use crate::error::{Error, Result};
use crate::task::{Target, Task};

pub(crate) static FAMILY: StumpFamily = StumpFamily;

pub(crate) struct StumpFamily;

const NAME: &str = "stump";

impl Family for StumpFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn portfolio(&self, _: &Target, _: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        vec![(60, Arc::new(StumpParams { thresholds: 16 }))]
    }

    /// Only when asked for by name.
    fn by_default(&self) -> bool {
        false
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<StumpParams>(params)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct StumpParams {
    /// Candidate thresholds per feature (quantiles of its training values).
    thresholds: usize,
}

/// Per-row target vectors: the value, or the class indicators.
fn outputs_of(target: &Target) -> (usize, Vec<f64>) {
    match target {
        Target::Regression(y) => (1, y.clone()),
        Target::Classes { classes, y } => {
            let k = classes.len();
            let mut v = vec![0.0; y.len() * k];
            y.iter().enumerate().for_each(|(i, &c)| v[i * k + c] = 1.0);
            (k, v)
        }
    }
}

/// Sum of squared deviations from the mean of the rows in `side`.
fn spread(v: &[f64], k: usize, side: &[usize]) -> f64 {
    let n = side.len().max(1) as f64;
    (0..k)
        .map(|o| {
            let mean = side.iter().map(|&i| v[i * k + o]).sum::<f64>() / n;
            side.iter()
                .map(|&i| (v[i * k + o] - mean).powi(2))
                .sum::<f64>()
        })
        .sum()
}

impl Candidate for StumpParams {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        format!("thresholds={}", self.thresholds)
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let x = tree_matrix(job.features, job.data, job.rows)?;
        let (k, v) = outputs_of(job.target);
        let mut best: Option<(f64, usize, f64)> = None;
        for (f, col) in x.iter().enumerate() {
            let mut sorted: Vec<f64> = col.iter().copied().filter(|x| !x.is_nan()).collect();
            sorted.sort_by(f64::total_cmp);
            for q in 1..self.thresholds {
                let Some(&t) = sorted.get(q * sorted.len() / self.thresholds) else {
                    continue;
                };
                let (left, right): (Vec<usize>, Vec<usize>) =
                    (0..col.len()).partition(|&i| col[i] <= t);
                let loss = spread(&v, k, &left) + spread(&v, k, &right);
                if best.is_none_or(|(b, _, _)| loss < b) {
                    best = Some((loss, f, t));
                }
            }
        }
        let (_, feature, threshold) = best.unwrap_or((0.0, 0, f64::INFINITY));
        let side = |left: bool| -> Vec<f64> {
            let rows: Vec<usize> = (0..x[feature].len())
                .filter(|&i| (x[feature][i] <= threshold) == left)
                .collect();
            let n = rows.len().max(1) as f64;
            let mean: Vec<f64> = (0..k)
                .map(|o| rows.iter().map(|&i| v[i * k + o]).sum::<f64>() / n)
                .collect();
            match job.target {
                Target::Regression(_) => mean,
                Target::Classes { .. } => {
                    let task = if k == 2 {
                        Task::Binary
                    } else {
                        Task::Multiclass
                    };
                    link_inverse(task, &mean, k)
                }
            }
        };
        let n = x[feature].len().max(1) as f64;
        let share_left = x[feature].iter().filter(|&&v| v <= threshold).count() as f64 / n;
        let model = StumpFit {
            feature,
            threshold,
            left: side(true),
            right: side(false),
            share_left,
        };
        Ok(Fitted {
            model: model.into(),
            params: self.describe(),
            rounds: None,
            stopped: false,
        })
    }

    fn for_refit(&self, _: Option<usize>) -> Arc<dyn Candidate> {
        Arc::new(*self)
    }

    fn spec(&self) -> serde_json::Value {
        super::spec_of(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One split: raw outputs left (`<= threshold`) and right (above, or missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StumpFit {
    feature: usize,
    threshold: f64,
    left: Vec<f64>,
    right: Vec<f64>,
    /// Share of the training rows that went left.
    share_left: f64,
}

impl Model for StumpFit {
    fn family(&self) -> &'static str {
        NAME
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let x = tree_matrix(&schema.features, data, rows)?;
        Ok(x[self.feature]
            .iter()
            .flat_map(|&v| {
                if v <= self.threshold {
                    self.left.clone()
                } else {
                    self.right.clone()
                }
            })
            .collect())
    }

    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let raw = self.raw(schema, data, rows)?;
        let base: Vec<f64> = (self.left.iter().zip(&self.right))
            .map(|(l, r)| self.share_left * l + (1.0 - self.share_left) * r)
            .collect();
        let (k, nf) = (base.len(), schema.features.len());
        let mut values = vec![0.0; raw.len() * nf];
        for (i, r) in raw.iter().enumerate() {
            values[i * nf + self.feature] = r - base[i % k];
        }
        Ok(Shap { base, raw, values })
    }

    fn onnx(
        &self,
        _: &Schema,
        _: &mut crate::onnx::Graph,
        _: &mut crate::onnx::Features<'_>,
    ) -> Result<String> {
        Err(crate::error::Error::Onnx(
            "the test-only stump family has no ONNX form".into(),
        ))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        let k = n_outputs(schema);
        if self.feature >= schema.features.len()
            || self.left.len() != k
            || self.right.len() != k
            || !(0.0..=1.0).contains(&self.share_left)
        {
            return Err(Error::Artifact(
                "the stump does not match the schema".into(),
            ));
        }
        Ok(())
    }
}
