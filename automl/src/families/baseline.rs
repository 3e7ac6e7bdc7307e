//! The baseline: the training mean, or the class frequencies. Every
//! leaderboard starts with it, so a model that does not beat it shows.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, Model, Shap};
use crate::artifact::{Schema, link_inverse};
use crate::data::Dataset;
use crate::encode::tree_matrix;
use crate::error::{Error, Result};
use crate::onnx::{Features, Graph, models};
use crate::task::{Target, Task};

pub(crate) static FAMILY: BaselineFamily = BaselineFamily;

pub(crate) struct BaselineFamily;

impl Family for BaselineFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn portfolio(&self, _: &Target, _: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        vec![(0, Arc::new(Baseline))]
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<Baseline>(params)
    }
}

const NAME: &str = "baseline";

/// The baseline's only candidate.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Baseline;

impl Candidate for Baseline {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        "class prior / mean".into()
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let outputs = match job.target {
            Target::Regression(y) => vec![y.iter().sum::<f64>() / y.len().max(1) as f64],
            Target::Classes { classes, y } => {
                let mut p = vec![0.0; classes.len()];
                for &c in y {
                    p[c] += 1.0 / y.len() as f64;
                }
                p
            }
        };
        Ok(Fitted {
            model: BaselineFit { outputs }.into(),
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

    fn competes(&self) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Predicts the training mean, or the class frequencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineFit {
    pub outputs: Vec<f64>,
}

impl BaselineFit {
    /// The outputs in the raw space, after checking that `data` has the
    /// inputs, so a baseline rejects the same files as any model.
    fn base(&self, schema: &Schema, data: &Dataset) -> Result<Vec<f64>> {
        tree_matrix(&schema.features, data, &[])?;
        Ok(link_inverse(
            schema.task,
            &self.outputs,
            schema.classes.len(),
        ))
    }
}

impl Model for BaselineFit {
    fn family(&self) -> &'static str {
        NAME
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let one = self.base(schema, data)?;
        Ok(rows.iter().flat_map(|_| one.iter().copied()).collect())
    }

    /// Exactly the stored frequencies (the raw round trip would round them).
    fn predict(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        tree_matrix(&schema.features, data, &[])?;
        Ok(rows
            .iter()
            .flat_map(|_| self.outputs.iter().copied())
            .collect())
    }

    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let base = self.base(schema, data)?;
        let raw: Vec<f64> = rows.iter().flat_map(|_| base.iter().copied()).collect();
        let values = vec![0.0; raw.len() * schema.features.len()];
        Ok(Shap { base, raw, values })
    }

    fn onnx(&self, schema: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let raw = link_inverse(schema.task, &self.outputs, schema.classes.len());
        let zeros = x.zeros(g);
        Ok(models::constant_rows(g, &zeros, &raw))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        let want = if schema.task == Task::Regression {
            1
        } else {
            schema.classes.len()
        };
        if self.outputs.len() != want {
            return Err(Error::Artifact(
                "baseline outputs do not match the classes".into(),
            ));
        }
        Ok(())
    }
}
