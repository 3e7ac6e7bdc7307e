//! Histogram gradient-boosted trees (`crate::gbdt`) on the tree matrix,
//! tuned by TPE over a discrete space and explained by exact TreeSHAP.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, TpeProposer, Model, Proposer, Shap};
use crate::artifact::Schema;
use crate::data::Dataset;
use crate::encode::tree_matrix;
use crate::error::Result;
use crate::gbdt::{self, Booster, GbdtParams};
use crate::onnx::{Features, Graph, models};
use crate::search::space::{Space, Tpe};
use crate::task::Target;

pub(crate) static FAMILY: GbdtFamily = GbdtFamily;

pub(crate) struct GbdtFamily;

const NAME: &str = "boosted trees";

/// Dimensions of the boosted-tree search space.
const DIMS: usize = 7;

/// The boosted-tree search space: choices per hyperparameter (learning
/// rate, leaves, rows per leaf, row and column subsampling, L2, L1).
static SPACE: Space<DIMS> = [
    &[0.02, 0.05, 0.1, 0.2],
    &[4.0, 7.0, 15.0, 31.0, 63.0, 127.0],
    &[2.0, 5.0, 10.0, 20.0, 50.0],
    &[0.6, 0.8, 1.0],
    &[0.5, 0.7, 0.9, 1.0],
    &[0.0, 0.1, 1.0, 10.0],
    &[0.0, 0.1, 1.0],
];

/// Boosting rounds for a search candidate; early stopping keeps fewer.
const ROUNDS: usize = 2000;

/// The parameters at a point of the space.
fn at(values: [f64; DIMS], seed: u64) -> GbdtParams {
    GbdtParams {
        n_rounds: ROUNDS,
        learning_rate: values[0],
        max_leaves: values[1] as usize,
        min_samples_leaf: values[2] as usize,
        row_subsample: values[3],
        col_subsample: values[4],
        l2: values[5],
        l1: values[6],
        seed,
        ..GbdtParams::default()
    }
}

/// The values of the space's dimensions in `p`.
fn coordinates(p: &GbdtParams) -> [f64; DIMS] {
    [
        p.learning_rate,
        p.max_leaves as f64,
        p.min_samples_leaf as f64,
        p.row_subsample,
        p.col_subsample,
        p.l2,
        p.l1,
    ]
}

impl Family for GbdtFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<GbdtParams>(params)
    }

    fn portfolio(&self, target: &Target, seed: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        let g = |place: u32, values: [f64; DIMS]| -> (u32, Arc<dyn Candidate>) {
            (place, Arc::new(at(values, seed)))
        };
        let mut out = vec![
            g(20, [0.1, 31.0, 20.0, 1.0, 1.0, 0.0, 0.0]),
            g(21, [0.05, 15.0, 10.0, 0.8, 0.8, 1.0, 0.0]),
            g(22, [0.05, 63.0, 30.0, 0.8, 0.7, 1.0, 0.0]),
            g(23, [0.1, 7.0, 5.0, 1.0, 0.9, 0.0, 0.0]),
        ];
        // Imbalanced classes: also try trees that weight every class equally.
        let weights = gbdt::balanced_weights(target);
        if weights.iter().any(|&w| w > 2.5) {
            let mut p = at([0.05, 31.0, 20.0, 0.8, 0.8, 1.0, 0.0], seed);
            p.class_weights = weights;
            out.push((50, Arc::new(p)));
        }
        out
    }

    fn proposer(&self, _: &Target) -> Option<Box<dyn Proposer>> {
        // Seven proposals in eight.
        Some(Box::new(TpeProposer {
            tpe: Tpe::new(&SPACE),
            weight: 7,
            coordinates: Box::new(|p: &GbdtParams| Some(coordinates(p))),
            at: Box::new(at),
        }))
    }
}

impl Candidate for GbdtParams {
    fn family(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> String {
        format!(
            "lr={} leaves={} min_leaf={} l2={} l1={} rows={} cols={}{}",
            self.learning_rate,
            self.max_leaves,
            self.min_samples_leaf,
            self.l2,
            self.l1,
            self.row_subsample,
            self.col_subsample,
            if self.class_weights.is_empty() {
                ""
            } else {
                " balanced classes"
            }
        )
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let x = tree_matrix(job.features, job.data, job.rows)?;
        let vx = match job.valid {
            Some((rows, _)) => Some(tree_matrix(job.features, job.data, rows)?),
            None => None,
        };
        let valid = vx.as_deref().zip(job.valid.map(|v| v.1));
        let (booster, report) = gbdt::fit(&x, job.target, valid, self, job.stop)?;
        Ok(Fitted {
            model: GbdtFit { booster }.into(),
            params: format!("trees={} {}", report.rounds, self.describe()),
            rounds: Some(report.rounds),
            stopped: report.stopped,
        })
    }

    /// The rounds the folds kept, plus a tenth for the extra rows, and no
    /// early stopping.
    fn for_refit(&self, rounds: Option<usize>) -> Arc<dyn Candidate> {
        Arc::new(GbdtParams {
            n_rounds: super::refit_rounds(rounds),
            early_stopping_rounds: 0,
            ..self.clone()
        })
    }

    fn spec(&self) -> serde_json::Value {
        super::spec_of(self)
    }

    fn stops_early(&self) -> bool {
        self.early_stopping_rounds > 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A booster on the tree matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtFit {
    pub booster: Booster,
}

impl Model for GbdtFit {
    fn family(&self) -> &'static str {
        NAME
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        Ok(self
            .booster
            .raw(&tree_matrix(&schema.features, data, rows)?))
    }

    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let cols = tree_matrix(&schema.features, data, rows)?;
        let raw = self.booster.raw(&cols);
        let (base, values) = self.booster.shap(&cols);
        Ok(Shap { base, raw, values })
    }

    fn onnx(&self, _: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let matrix = x.tree_matrix(g);
        Ok(models::trees(g, &self.booster, &matrix))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        super::check_booster(&self.booster, schema, NAME)
    }
}
