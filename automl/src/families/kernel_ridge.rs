//! Kernel ridge regression with a Gaussian kernel
//! (`crate::kernels::KernelRidge`) on the scaled encoding, for tables up to
//! [`MAX_ROWS`] rows (landmarks beyond `kernels::LANDMARKS` rows); TPE over
//! the kernel's width and the penalty; explained by seeded permutation SHAP.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, TpeProposer, Model, Proposer, Shap, check_encoder, n_outputs};
use crate::artifact::Schema;
use crate::data::Dataset;
use crate::encode::LinearEncoder;
use crate::error::Result;
use crate::explain::permutation_shap;
use crate::kernels::KernelRidge;
use crate::onnx::{Features, Graph, models};
use crate::search::space::{Space, Tpe};
use crate::task::Target;

pub(crate) static FAMILY: KernelFamily = KernelFamily;

pub(crate) struct KernelFamily;

const NAME: &str = "kernel ridge";

/// Training rows above which kernel ridge is left out.
pub(crate) const MAX_ROWS: usize = 3_000;

/// The kernel's `γ` times the encoded width (so `1` is `1 / width`), and
/// the penalty per row.
static SPACE: Space<2> = [
    &[0.03, 0.1, 0.3, 1.0, 3.0],
    &[1e-4, 1e-3, 1e-2, 1e-1, 1.0],
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelParams {
    /// `γ` times the encoded width.
    pub gamma: f64,
    pub lambda: f64,
    pub seed: u64,
}

fn at(values: [f64; 2], seed: u64) -> KernelParams {
    KernelParams {
        gamma: values[0],
        lambda: values[1],
        seed,
    }
}

impl Family for KernelFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<KernelParams>(params)
    }

    fn portfolio(&self, target: &Target, seed: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        if target.len() > MAX_ROWS {
            return Vec::new();
        }
        vec![(27, Arc::new(at([0.3, 1e-2], seed)))]
    }

    fn proposer(&self, target: &Target) -> Option<Box<dyn Proposer>> {
        (target.len() <= MAX_ROWS).then(|| {
            Box::new(TpeProposer {
                tpe: Tpe::new(&SPACE),
                weight: 1,
                coordinates: Box::new(|p: &KernelParams| Some([p.gamma, p.lambda])),
                at: Box::new(at),
            }) as Box<dyn Proposer>
        })
    }
}

impl Candidate for KernelParams {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        format!("gamma={}/width lambda={}", self.gamma, self.lambda)
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let (encoder, x) =
            LinearEncoder::fit_transform(job.features, job.data, job.rows, job.target)?;
        let width = encoder.width();
        let gamma = self.gamma / width.max(1) as f64;
        let model = KernelRidge::fit(&x, width, job.target, (gamma, self.lambda), self.seed)?;
        Ok(Fitted {
            model: KernelFit { encoder, model }.into(),
            params: self.describe(),
            rounds: None,
            stopped: false,
        })
    }

    fn for_refit(&self, _: Option<usize>) -> Arc<dyn Candidate> {
        Arc::new(self.clone())
    }

    fn spec(&self) -> serde_json::Value {
        super::spec_of(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A kernel ridge with its encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelFit {
    pub encoder: LinearEncoder,
    pub model: KernelRidge,
}

impl Model for KernelFit {
    fn family(&self) -> &'static str {
        NAME
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let x = self.encoder.transform(&schema.features, data, rows)?;
        Ok(self.model.raw(&x))
    }

    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let x = self.encoder.transform(&schema.features, data, rows)?;
        let m = &self.model;
        Ok(permutation_shap(
            &|z| m.raw(z),
            (&m.background, m.width, m.outputs()),
            (&self.encoder, &schema.features),
            &x,
        ))
    }

    fn onnx(&self, _: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let encoded = x.linear(g, &self.encoder);
        Ok(models::kernel_ridge(g, &self.model, &encoded))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        check_encoder(&self.encoder, schema)?;
        self.model.validate(self.encoder.width(), n_outputs(schema))
    }
}
