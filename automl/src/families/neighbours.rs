//! k-nearest neighbours (`crate::kernels::Neighbours`) on the scaled
//! encoding, for tables up to [`MAX_ROWS`] rows; TPE over the neighbours
//! and their weighting; explained by seeded permutation SHAP.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, TpeProposer, Model, Proposer, Shap, check_encoder, n_outputs};
use crate::artifact::Schema;
use crate::data::Dataset;
use crate::encode::LinearEncoder;
use crate::error::Result;
use crate::explain::permutation_shap;
use crate::kernels::Neighbours;
use crate::onnx::{Features, Graph, models};
use crate::search::space::{Space, Tpe};
use crate::task::Target;

pub(crate) static FAMILY: NeighboursFamily = NeighboursFamily;

pub(crate) struct NeighboursFamily;

const NAME: &str = "nearest neighbours";

/// Training rows above which neighbours are left out: each prediction
/// reads every training row.
pub(crate) const MAX_ROWS: usize = 3_000;

/// Neighbours, and equal (0) or inverse-squared-distance (1) weights.
static SPACE: Space<2> = [&[3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 50.0], &[0.0, 1.0]];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighboursParams {
    pub k: usize,
    pub distance_weighted: bool,
    pub seed: u64,
}

fn at(values: [f64; 2], seed: u64) -> NeighboursParams {
    NeighboursParams {
        k: values[0] as usize,
        distance_weighted: values[1] == 1.0,
        seed,
    }
}

impl Family for NeighboursFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<NeighboursParams>(params)
    }

    fn portfolio(&self, target: &Target, seed: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        if target.len() > MAX_ROWS {
            return Vec::new();
        }
        vec![(26, Arc::new(at([12.0, 1.0], seed)))]
    }

    fn proposer(&self, target: &Target) -> Option<Box<dyn Proposer>> {
        (target.len() <= MAX_ROWS).then(|| {
            Box::new(TpeProposer {
                tpe: Tpe::new(&SPACE),
                weight: 1,
                coordinates: Box::new(|p: &NeighboursParams| Some([p.k as f64, f64::from(u8::from(p.distance_weighted))])),
                at: Box::new(at),
            }) as Box<dyn Proposer>
        })
    }
}

impl Candidate for NeighboursParams {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        format!(
            "k={} weights={}",
            self.k,
            if self.distance_weighted {
                "1/distance²"
            } else {
                "equal"
            }
        )
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let (encoder, x) =
            LinearEncoder::fit_transform(job.features, job.data, job.rows, job.target)?;
        let model = Neighbours::fit(
            &x,
            encoder.width(),
            job.target,
            self.k,
            self.distance_weighted,
            self.seed,
        )?;
        Ok(Fitted {
            model: NeighboursFit { encoder, model }.into(),
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

/// Neighbours with their encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighboursFit {
    pub encoder: LinearEncoder,
    pub model: Neighbours,
}

impl Model for NeighboursFit {
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
        Ok(models::neighbours(g, &self.model, &encoded))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        check_encoder(&self.encoder, schema)?;
        self.model.validate(self.encoder.width(), n_outputs(schema))
    }
}
