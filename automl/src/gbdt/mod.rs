//! Histogram gradient-boosted trees that grow the same trees as LightGBM
//! at equal settings. Features are binned once to `u8` (`bins`: bin 0 holds
//! missing values), each node's histogram of gradient sums (`histogram`) is
//! built for the smaller child and subtracted from the parent for the
//! larger one, trees grow leaf-wise (`grow`, best gain first) up to
//! `max_leaves` and `max_depth`, and missing values go left or right as
//! learned per split (`split`). Objectives (`objective`): squared error,
//! logistic, softmax (one tree per class and round). `booster` is the
//! fitted model, `shap` its exact TreeSHAP.

mod bins;
mod booster;
mod forest;
mod grow;
mod histogram;
mod objective;
mod shap;
mod split;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::task::Target;
use bins::{BinMapper, Binned};
pub use booster::Booster;
use booster::{Tree, add_tree};
pub use forest::{ForestParams, fit_forest};
use grow::{Gradients, Grower};
use histogram::Sums;
pub(crate) use objective::loss;
pub use objective::{Objective, balanced_weights};
use objective::{base_score, gradients, objective_for};

/// Rows × features below which a histogram is built on one thread.
const PARALLEL_WORK: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GbdtParams {
    /// Upper bound on boosting rounds (early stopping may use fewer).
    pub n_rounds: usize,
    pub learning_rate: f64,
    pub max_leaves: usize,
    /// 0 means no limit.
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    pub min_child_weight: f64,
    pub l2: f64,
    /// L1 penalty on leaf values (soft-thresholds the gradient sums).
    pub l1: f64,
    /// Weight of each class's rows (classification; empty: all 1). See
    /// [`balanced_weights`].
    pub class_weights: Vec<f64>,
    pub row_subsample: f64,
    pub col_subsample: f64,
    /// Value bins per feature, at most 255.
    pub max_bins: usize,
    /// Stop when the validation loss has not improved for this many rounds (0: never).
    pub early_stopping_rounds: usize,
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            n_rounds: 500,
            learning_rate: 0.1,
            max_leaves: 31,
            max_depth: 0,
            min_samples_leaf: 20,
            min_child_weight: 1e-3,
            l2: 0.0,
            l1: 0.0,
            class_weights: Vec::new(),
            row_subsample: 1.0,
            col_subsample: 1.0,
            max_bins: 255,
            early_stopping_rounds: 50,
            seed: 0,
        }
    }
}

impl GbdtParams {
    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, reason: &str| {
            Err(Error::Parameter {
                name,
                reason: reason.into(),
            })
        };
        if self.n_rounds == 0 {
            return bad("n_rounds", "must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad("learning_rate", "must be in (0, 1]");
        }
        if self.max_leaves < 2 {
            return bad("max_leaves", "must be at least 2");
        }
        if !(2..=255).contains(&self.max_bins) {
            return bad("max_bins", "must be between 2 and 255");
        }
        if !(self.row_subsample > 0.0 && self.row_subsample <= 1.0) {
            return bad("row_subsample", "must be in (0, 1]");
        }
        if !(self.col_subsample > 0.0 && self.col_subsample <= 1.0) {
            return bad("col_subsample", "must be in (0, 1]");
        }
        if !(self.l2 >= 0.0 && self.l1 >= 0.0 && self.min_child_weight >= 0.0) {
            return bad("l2", "penalties must be >= 0");
        }
        if self
            .class_weights
            .iter()
            .any(|w| !(w.is_finite() && *w > 0.0))
        {
            return bad("class_weights", "weights must be positive numbers");
        }
        Ok(())
    }
}

/// What training reports besides the booster.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// Rounds kept (the best validation round, or all rounds without validation).
    pub rounds: usize,
    /// Whether `stop` ended training early.
    pub stopped: bool,
}

/// Fits a booster on column-major features `x`. With `valid`, the
/// validation loss drives early stopping and the best round is kept.
/// `stop` is polled between rounds; when it says so, training ends with the
/// trees made so far.
///
/// Called from outside the rayon pool, the fit moves onto a pool thread:
/// each parallel step is then a cheap fork on that thread rather than an
/// injection from outside, which blocks the caller on a futex every time
/// (thousands of times per fit).
pub fn fit(
    x: &[Vec<f64>],
    target: &Target,
    valid: Option<(&[Vec<f64>], &Target)>,
    params: &GbdtParams,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(Booster, FitReport)> {
    if rayon::current_thread_index().is_none() {
        return rayon::scope(|_| fit_in_pool(x, target, valid, params, stop));
    }
    fit_in_pool(x, target, valid, params, stop)
}

fn fit_in_pool(
    x: &[Vec<f64>],
    target: &Target,
    valid: Option<(&[Vec<f64>], &Target)>,
    params: &GbdtParams,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(Booster, FitReport)> {
    params.check()?;
    // Missing values are NaN; an infinity has no bin boundary above or
    // below it (the encoders turn infinities into missing values first).
    if let Some(f) = x.iter().position(|c| c.iter().any(|v| v.is_infinite())) {
        return Err(Error::Parameter {
            name: "x",
            reason: format!("feature {f} has an infinite value"),
        });
    }
    let mappers: Vec<BinMapper> = x
        .iter()
        .map(|c| BinMapper::fit(c, params.max_bins))
        .collect();
    let data = Binned::new(x, &mappers);
    let mut run = Boosting::new(&data, &mappers, target, params);
    let mut valid = valid.map(|(vx, vt)| Validation {
        vscores: (0..vt.len())
            .flat_map(|_| run.base.iter().copied())
            .collect(),
        bins: Binned::new(vx, &mappers),
        target: vt,
    });
    let mut best = (f64::INFINITY, 0usize);
    let mut stopped = false;
    for round in 0..params.n_rounds {
        if stop() {
            stopped = true;
            break;
        }
        run.round(valid.as_mut());
        if let Some(v) = &valid {
            let l = loss(v.target, run.k, &v.vscores);
            if l < best.0 - 1e-12 {
                best = (l, round + 1);
            } else if params.early_stopping_rounds > 0
                && round + 1 - best.1 >= params.early_stopping_rounds
            {
                break;
            }
        } else {
            best.1 = round + 1;
        }
    }
    Ok(run.finish(best.1, stopped))
}

/// The validation rows of a fit, binned as the training rows, and their
/// raw scores so far.
struct Validation<'a> {
    bins: Binned,
    target: &'a Target,
    vscores: Vec<f64>,
}

/// A fit between rounds: the training scores, gradients and trees so far.
struct Boosting<'a> {
    data: &'a Binned,
    mappers: &'a [BinMapper],
    target: &'a Target,
    params: &'a GbdtParams,
    grower: Grower<'a>,
    objective: Objective,
    /// Outputs: 1, or one per class.
    k: usize,
    base: Vec<f64>,
    scores: Vec<f64>,
    grad: Vec<f64>,
    hess: Vec<f64>,
    rng: Rng,
    trees: Vec<Tree>,
    /// Histogram buffers reused across nodes and trees.
    pool: Vec<Vec<Sums>>,
}

impl<'a> Boosting<'a> {
    fn new(
        data: &'a Binned,
        mappers: &'a [BinMapper],
        target: &'a Target,
        params: &'a GbdtParams,
    ) -> Self {
        let n = target.len();
        let (objective, k) = objective_for(target);
        let base = base_score(target, objective, k);
        Boosting {
            data,
            mappers,
            target,
            params,
            grower: Grower {
                data,
                params,
                unit_hess: objective == Objective::SquaredError,
            },
            objective,
            k,
            scores: (0..n).flat_map(|_| base.iter().copied()).collect(),
            base,
            grad: vec![0.0; n],
            hess: vec![0.0; n],
            rng: Rng::derive(params.seed, 0x6bd7),
            trees: Vec::new(),
            pool: Vec::new(),
        }
    }

    /// This round's rows and features (row and column subsampling).
    fn sample(&mut self) -> (Vec<u32>, Vec<usize>) {
        let (n, n_features, p) = (self.target.len(), self.mappers.len(), self.params);
        let rows: Vec<u32> = if p.row_subsample < 1.0 {
            (0..n as u32)
                .filter(|_| self.rng.next_f64() < p.row_subsample)
                .collect()
        } else {
            (0..n as u32).collect()
        };
        let mut features: Vec<usize> = (0..n_features).collect();
        if p.col_subsample < 1.0 && n_features > 1 {
            self.rng.shuffle(&mut features);
            features.truncate(((p.col_subsample * n_features as f64).ceil() as usize).max(1));
            features.sort_unstable();
        }
        (rows, features)
    }

    /// One boosting round: a tree per output, each on the gradients of the
    /// scores before the round.
    fn round(&mut self, mut valid: Option<&mut Validation<'_>>) {
        let (rows, features) = self.sample();
        let k = self.k;
        let snapshot = if k > 1 {
            self.scores.clone()
        } else {
            Vec::new()
        };
        for c in 0..k {
            let source = if k > 1 { &snapshot } else { &self.scores };
            let (target, objective) = (self.target, self.objective);
            gradients(
                target,
                objective,
                c,
                k,
                source,
                &mut self.grad,
                &mut self.hess,
            );
            self.weigh_classes();
            let g = Gradients {
                grad: &self.grad,
                hess: &self.hess,
            };
            let grown = self
                .grower
                .grow(rows.clone(), g, &features, self.mappers, &mut self.pool);
            let (tree, node_bins, leaves) = grown;
            if rows.len() == self.target.len() {
                // Every row is in exactly one leaf's list.
                for (node, members) in &leaves {
                    let v = tree.nodes[*node].value;
                    for &r in members {
                        self.scores[r as usize * k + c] += v;
                    }
                }
            } else {
                add_tree(&tree, &node_bins, &self.data.bins, &mut self.scores, k, c);
            }
            if let Some(v) = valid.as_deref_mut() {
                let n = v.target.len();
                add_tree(
                    &tree,
                    &node_bins,
                    &v.bins.bins,
                    &mut v.vscores[..n * k],
                    k,
                    c,
                );
            }
            self.trees.push(tree);
        }
    }

    /// Scales each row's gradient and hessian by its class's weight.
    fn weigh_classes(&mut self) {
        let weights = &self.params.class_weights;
        if let (Target::Classes { y, .. }, false) = (self.target, weights.is_empty()) {
            for (r, &class) in y.iter().enumerate() {
                let w = weights.get(class).copied().unwrap_or(1.0);
                self.grad[r] *= w;
                self.hess[r] *= w;
            }
        }
    }

    /// The booster of the first `best_round` rounds (at least one).
    fn finish(mut self, best_round: usize, stopped: bool) -> (Booster, FitReport) {
        let k = self.k;
        let rounds = best_round.max(1).min(self.trees.len() / k);
        self.trees.truncate(rounds * k);
        let booster = Booster {
            objective: self.objective,
            outputs: k,
            n_features: self.mappers.len(),
            base_score: self.base,
            trees: self.trees,
        };
        (booster, FitReport { rounds, stopped })
    }
}
