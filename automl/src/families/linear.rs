//! Elastic-net linear and logistic regression on the linear encoding
//! (imputed, scaled, one-hot), explained exactly by linear SHAP.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, Model, Shap, check_encoder, n_outputs};
use crate::artifact::Schema;
use crate::data::Dataset;
use crate::encode::LinearEncoder;
use crate::error::{Error, Result};
use crate::onnx::{Features, Graph, models};
use crate::explain::linear_shap;
use crate::linear::{LinearModel, LinearParams};
use crate::task::Target;

pub(crate) static FAMILY: LinearFamily = LinearFamily;

pub(crate) struct LinearFamily;

const NAME: &str = "linear";

impl Family for LinearFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<LinearParams>(params)
    }

    fn portfolio(&self, _: &Target, _: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        let p = |l2: f64, l1: f64| -> Arc<dyn Candidate> {
            Arc::new(LinearParams {
                l2,
                l1,
                max_iter: 300,
            })
        };
        // Sparse weights (l1) for wide one-hot data.
        vec![(10, p(1e-3, 0.0)), (30, p(1e-1, 0.0)), (31, p(1e-2, 3e-3))]
    }
}

impl Candidate for LinearParams {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        if self.l1 > 0.0 {
            format!("elastic net l2={} l1={}", self.l2, self.l1)
        } else {
            format!("l2={}", self.l2)
        }
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let (encoder, x) =
            LinearEncoder::fit_transform(job.features, job.data, job.rows, job.target)?;
        let model = LinearModel::fit(&x, encoder.width(), job.target, self)?;
        Ok(Fitted {
            model: LinearFit { encoder, model }.into(),
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

/// A linear model with its encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearFit {
    pub encoder: LinearEncoder,
    pub model: LinearModel,
}

impl Model for LinearFit {
    fn family(&self) -> &'static str {
        NAME
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let x = self.encoder.transform(&schema.features, data, rows)?;
        Ok(self.model.raw(&x))
    }

    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let x = self.encoder.transform(&schema.features, data, rows)?;
        let raw = self.model.raw(&x);
        let (base, values) = linear_shap(&self.encoder, &self.model, &schema.features, &x);
        Ok(Shap { base, raw, values })
    }

    fn onnx(&self, _: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let encoded = x.linear(g, &self.encoder);
        let m = &self.model;
        Ok(models::dense(
            g,
            &encoded,
            &m.weights,
            m.width,
            m.outputs,
            &m.intercepts,
        ))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        self.model.validate()?;
        if self.encoder.width() != self.model.width || self.model.outputs != n_outputs(schema) {
            return Err(Error::Artifact(
                "linear encoder and weights disagree".into(),
            ));
        }
        check_encoder(&self.encoder, schema)
    }
}
