//! Random forests and extra trees (`crate::gbdt::fit_forest`) on the tree
//! matrix: two families of one kind, for tables up to [`MAX_ROWS`] rows,
//! where exact-split averaged trees are cheap and often the strongest
//! model. Tuned by TPE over leaves, rows per leaf, features per node and
//! trees; explained by the boosting's exact TreeSHAP (a forest is a
//! [`Booster`] of averaged trees). `extra_trees.rs` declares the second
//! family on the same code.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FitJob, Fitted, TpeProposer, Model, Proposer, Shap};
use crate::artifact::{Schema, SharesLink};
use crate::data::Dataset;
use crate::encode::tree_matrix;
use crate::error::Result;
use crate::gbdt::{self, Booster, ForestParams, Objective};
use crate::onnx::{Features, Graph, models};
use crate::search::space::{Space, Tpe};
use crate::task::{Target, Task};

pub(crate) static FAMILY: ForestFamily = ForestFamily { extra: false };

/// Training rows above which forests are left out: there, boosting is
/// stronger per second and a forest's artifact grows large.
pub(crate) const MAX_ROWS: usize = 20_000;

const RANDOM_FOREST: &str = "random forest";
const EXTRA_TREES: &str = "extra trees";

/// Dimensions of the forest search space.
const DIMS: usize = 4;

/// Trees, leaves per tree, rows per leaf, and the share of features drawn
/// at each node (0: the square root of their number).
static SPACE: Space<DIMS> = [
    &[100.0, 200.0, 300.0],
    &[16.0, 64.0, 256.0, 512.0],
    &[1.0, 2.0, 4.0, 8.0, 16.0],
    &[0.0, 0.2, 0.35, 0.5, 0.7, 1.0],
];

/// A forest family: random forests (bootstrap samples, every boundary
/// scanned) or extra trees (every row, one random boundary per feature).
pub(crate) struct ForestFamily {
    pub(super) extra: bool,
}

impl ForestFamily {
    fn at(&self, values: [f64; DIMS], seed: u64) -> ForestParams {
        ForestParams {
            n_trees: values[0] as usize,
            extra: self.extra,
            bootstrap: !self.extra,
            max_leaves: values[1] as usize,
            min_samples_leaf: values[2] as usize,
            max_features: values[3],
            class_weights: Vec::new(),
            seed,
        }
    }
}

fn coordinates(p: &ForestParams) -> [f64; DIMS] {
    [
        p.n_trees as f64,
        p.max_leaves as f64,
        p.min_samples_leaf as f64,
        p.max_features,
    ]
}

fn name(extra: bool) -> &'static str {
    if extra { EXTRA_TREES } else { RANDOM_FOREST }
}

impl Family for ForestFamily {
    fn name(&self) -> &'static str {
        name(self.extra)
    }

    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        super::revive_as::<ForestParams>(params)
    }

    /// scikit-learn's defaults (a third of the features per node for a
    /// random forest's regression, as R's `randomForest` draws), after the
    /// first boosted trees; imbalanced classes also get a balanced forest.
    fn portfolio(&self, target: &Target, seed: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        if target.len() > MAX_ROWS {
            return Vec::new();
        }
        let regression = matches!(target, Target::Regression(_));
        let features = match (regression, self.extra) {
            (false, _) => 0.0,
            (true, false) => 0.35,
            (true, true) => 1.0,
        };
        let place = if self.extra { 25 } else { 24 };
        let mut out: Vec<(u32, Arc<dyn Candidate>)> = vec![(
            place,
            Arc::new(self.at([200.0, 512.0, 1.0, features], seed)),
        )];
        let weights = gbdt::balanced_weights(target);
        if weights.iter().any(|&w| w > 2.5) {
            let mut p = self.at([200.0, 256.0, 2.0, features], seed);
            p.class_weights = weights;
            out.push((place + 27, Arc::new(p)));
        }
        out
    }

    fn proposer(&self, target: &Target) -> Option<Box<dyn Proposer>> {
        let extra = self.extra;
        (target.len() <= MAX_ROWS).then(|| {
            Box::new(TpeProposer {
                tpe: Tpe::new(&SPACE),
                weight: 1,
                coordinates: Box::new(move |p: &ForestParams| {
                    (p.extra == extra).then(|| coordinates(p))
                }),
                at: Box::new(move |values, seed| ForestFamily { extra }.at(values, seed)),
            }) as Box<dyn Proposer>
        })
    }
}

impl Candidate for ForestParams {
    fn family(&self) -> &'static str {
        name(self.extra)
    }

    fn describe(&self) -> String {
        let features = if self.max_features == 0.0 {
            "sqrt".to_string()
        } else {
            self.max_features.to_string()
        };
        format!(
            "trees={} leaves={} min_leaf={} features={}{}",
            self.n_trees,
            self.max_leaves,
            self.min_samples_leaf,
            features,
            if self.class_weights.is_empty() {
                ""
            } else {
                " balanced classes"
            }
        )
    }

    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted> {
        let x = tree_matrix(job.features, job.data, job.rows)?;
        let (booster, trees) = gbdt::fit_forest(&x, job.target, self, job.stop)?;
        Ok(Fitted {
            model: if self.extra {
                Trees::<true> { booster }.into()
            } else {
                Trees::<false> { booster }.into()
            },
            params: self.describe(),
            rounds: None,
            stopped: trees < self.n_trees,
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

/// Class shares are kept in `[SHARE_FLOOR, 1 - SHARE_FLOOR]` before their
/// logarithm is taken (a forest's shares are smoothed and never reach 0,
/// but sums of averaged leaves may round just past it).
const SHARE_FLOOR: f64 = 1e-9;

/// A fitted forest: a booster of averaged trees on the tree matrix whose
/// output is the prediction itself (the mean, or the class shares). Its
/// raw output is that in the link's space: the value, the log-odds of the
/// second class's share, or each class's log share. `EXTRA` tells the
/// two families apart in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trees<const EXTRA: bool> {
    pub booster: Booster,
}

pub type RandomForestFit = Trees<false>;

impl<const EXTRA: bool> Trees<EXTRA> {
    fn link(&self) -> SharesLink {
        let task = match self.booster.objective {
            Objective::SquaredError => Task::Regression,
            Objective::Logistic => Task::Binary,
            Objective::Softmax => Task::Multiclass,
        };
        SharesLink {
            task,
            floor: SHARE_FLOOR,
        }
    }

    fn regression(&self) -> bool {
        self.booster.objective == Objective::SquaredError
    }
}

impl<const EXTRA: bool> Model for Trees<EXTRA> {
    fn family(&self) -> &'static str {
        name(EXTRA)
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let cols = tree_matrix(&schema.features, data, rows)?;
        Ok(self.link().raws(self.booster.raw(&cols)))
    }

    /// Exact TreeSHAP of the averaged trees. For classes, TreeSHAP divides
    /// each share's difference from the expected share among the
    /// features; each is scaled by the ratio of the raw output's
    /// difference from the expected share's raw output to that share
    /// difference (the link's slope where the two meet), so the values
    /// keep their signs and proportions and add up exactly in the raw
    /// space.
    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let cols = tree_matrix(&schema.features, data, rows)?;
        let shares = self.booster.raw(&cols);
        let (base, mut values) = self.booster.shap(&cols);
        if self.regression() {
            return Ok(Shap {
                base,
                raw: shares,
                values,
            });
        }
        let k = self.booster.outputs;
        let f = schema.features.len();
        let link = self.link();
        let base_raw: Vec<f64> = base.iter().map(|&p| link.raw(p).0).collect();
        let mut raw = Vec::with_capacity(shares.len());
        for (i, &p) in shares.iter().enumerate() {
            let c = i % k;
            let (z, slope) = link.raw(p);
            let dp = p - base[c];
            let scale = if dp.abs() > 1e-9 {
                (z - base_raw[c]) / dp
            } else {
                slope
            };
            values[i * f..(i + 1) * f]
                .iter_mut()
                .for_each(|v| *v *= scale);
            raw.push(z);
        }
        Ok(Shap {
            base: base_raw,
            raw,
            values,
        })
    }

    /// The trees, then for classes the shares kept off 0 and 1 and their
    /// log-odds (`Log(p) - Log(1 - p)`) or logs.
    fn onnx(&self, _: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let matrix = x.tree_matrix(g);
        let shares = models::trees(g, &self.booster, &matrix);
        Ok(models::shares_raw(g, self.link(), &shares))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        super::check_booster(&self.booster, schema, name(EXTRA))
    }
}
