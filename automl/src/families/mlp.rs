//! A small neural network (1 to 3 ReLU layers) on the linear encoding,
//! explained by seeded permutation SHAP.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, Model, Proposer, Shap, check_encoder, n_outputs};
use crate::artifact::Schema;
use crate::data::Dataset;
use crate::encode::LinearEncoder;
use crate::error::Result;
use crate::explain::permutation_shap;
use crate::metrics::Metric;
use crate::onnx::{Features, Graph, models};
use crate::mlp::{MlpModel, MlpParams};
use crate::rng::Rng;
use crate::task::Target;

pub(crate) static FAMILY: MlpFamily = MlpFamily;

pub(crate) struct MlpFamily;

const NAME: &str = "neural network";

impl Family for MlpFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<MlpParams>(params)
    }

    /// Networks cost more per trial than trees: after the strong defaults.
    fn portfolio(&self, _: &Target, seed: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        vec![
            (
                40,
                Arc::new(MlpParams {
                    seed,
                    ..MlpParams::default()
                }),
            ),
            (
                41,
                Arc::new(MlpParams {
                    hidden: vec![128, 64],
                    learning_rate: 3e-3,
                    weight_decay: 1e-3,
                    seed,
                    ..MlpParams::default()
                }),
            ),
        ]
    }

    fn proposer(&self, _: &Target) -> Option<Box<dyn Proposer>> {
        Some(Box::new(RandomNetworks))
    }
}

/// Random architectures and optimiser settings, one proposal in eight.
struct RandomNetworks;

impl Proposer for RandomNetworks {
    fn weight(&self) -> usize {
        1
    }

    fn queued(&mut self, _: &dyn Candidate) {}

    fn finished(&mut self, _: &dyn Candidate, _: f64) {}

    fn propose(&mut self, rng: &mut Rng, seed: u64, _: Metric) -> Arc<dyn Candidate> {
        let pick = |rng: &mut Rng, xs: &[f64]| xs[rng.below(xs.len())];
        let width = pick(rng, &[32.0, 64.0, 128.0, 256.0]) as usize;
        let hidden = match rng.below(3) {
            0 => vec![width],
            1 => vec![width, width / 2],
            _ => vec![width, width / 2, width / 4],
        };
        Arc::new(MlpParams {
            hidden,
            learning_rate: pick(rng, &[3e-4, 1e-3, 3e-3, 1e-2]),
            weight_decay: pick(rng, &[0.0, 1e-4, 1e-3, 1e-2]),
            batch_size: pick(rng, &[64.0, 128.0, 256.0]) as usize,
            seed: seed.wrapping_add(rng.next_u64() % 1000),
            ..MlpParams::default()
        })
    }
}

impl Candidate for MlpParams {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        format!(
            "hidden={} lr={} decay={} batch={}",
            self.hidden
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("x"),
            self.learning_rate,
            self.weight_decay,
            self.batch_size
        )
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let (encoder, x) =
            LinearEncoder::fit_transform(job.features, job.data, job.rows, job.target)?;
        let vx = match job.valid {
            Some((rows, _)) => Some(encoder.transform(job.features, job.data, rows)?),
            None => None,
        };
        let valid = vx.as_deref().zip(job.valid.map(|v| v.1));
        let (model, report) =
            crate::mlp::fit(&x, encoder.width(), job.target, valid, self, job.stop)?;
        Ok(Fitted {
            model: MlpFit { encoder, model }.into(),
            params: format!("epochs={} {}", report.epochs, self.describe()),
            rounds: Some(report.epochs),
            stopped: report.stopped,
        })
    }

    /// The epochs the folds kept, plus a tenth for the extra rows.
    fn for_refit(&self, rounds: Option<usize>) -> Arc<dyn Candidate> {
        Arc::new(MlpParams {
            max_epochs: super::refit_rounds(rounds),
            ..self.clone()
        })
    }

    fn spec(&self) -> serde_json::Value {
        super::spec_of(self)
    }

    fn stops_early(&self) -> bool {
        self.patience > 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A network with its encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpFit {
    pub encoder: LinearEncoder,
    pub model: MlpModel,
}

impl Model for MlpFit {
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
            (&m.background, m.inputs(), m.outputs()),
            (&self.encoder, &schema.features),
            &x,
        ))
    }

    fn onnx(&self, _: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let mut h = x.linear(g, &self.encoder);
        let layers = &self.model.layers;
        for (i, l) in layers.iter().enumerate() {
            h = models::dense(g, &h, &l.weights, l.inputs, l.outputs, &l.bias);
            if i + 1 < layers.len() {
                h = g.op("Relu", &[&h]);
            }
        }
        // Regression targets were trained standardised.
        let scale = g.scalar(self.model.y_scale);
        let scaled = g.op("Mul", &[&h, &scale]);
        let mean = g.scalar(self.model.y_mean);
        Ok(g.op("Add", &[&scaled, &mean]))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        check_encoder(&self.encoder, schema)?;
        self.model.validate(self.encoder.width(), n_outputs(schema))
    }
}
