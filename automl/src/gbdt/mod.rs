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
use booster::add_tree;
use grow::Grower;
pub(crate) use objective::loss;
pub use objective::{Objective, balanced_weights};
use objective::{base_score, gradients, objective_for};

/// Rows × features below which a histogram is built on one thread.
const PARALLEL_WORK: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq)]
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
    let n = target.len();
    let n_features = x.len();
    let (objective, k) = objective_for(target);
    let mappers: Vec<BinMapper> = x
        .iter()
        .map(|c| BinMapper::fit(c, params.max_bins))
        .collect();
    let data = Binned::new(x, &mappers);
    let valid_bins = valid.map(|(vx, vt)| (Binned::new(vx, &mappers), vt));
    let base = base_score(target, objective, k);
    let mut scores: Vec<f64> = (0..n).flat_map(|_| base.iter().copied()).collect();
    let mut vscores: Vec<f64> = valid_bins.as_ref().map_or(Vec::new(), |(_, vt)| {
        (0..vt.len()).flat_map(|_| base.iter().copied()).collect()
    });
    let mut grad = vec![0.0; n];
    let mut hess = vec![0.0; n];
    let mut rng = Rng::derive(params.seed, 0x6bd7);
    let grower = Grower {
        data: &data,
        params,
        unit_hess: objective == Objective::SquaredError,
    };
    let mut trees = Vec::new();
    let mut best = (f64::INFINITY, 0usize);
    let mut stopped = false;
    let all_features: Vec<usize> = (0..n_features).collect();
    let mut pool = Vec::new();
    for round in 0..params.n_rounds {
        if stop() {
            stopped = true;
            break;
        }
        let rows: Vec<u32> = if params.row_subsample < 1.0 {
            (0..n as u32)
                .filter(|_| rng.next_f64() < params.row_subsample)
                .collect()
        } else {
            (0..n as u32).collect()
        };
        let features: Vec<usize> = if params.col_subsample < 1.0 && n_features > 1 {
            let mut f = all_features.clone();
            rng.shuffle(&mut f);
            f.truncate(((params.col_subsample * n_features as f64).ceil() as usize).max(1));
            f.sort_unstable();
            f
        } else {
            all_features.clone()
        };
        let snapshot = if k > 1 { scores.clone() } else { Vec::new() };
        for c in 0..k {
            let source = if k > 1 { &snapshot } else { &scores };
            gradients(target, objective, c, k, source, &mut grad, &mut hess);
            if let (Target::Classes { y, .. }, false) = (target, params.class_weights.is_empty()) {
                for (r, &class) in y.iter().enumerate() {
                    let w = params.class_weights.get(class).copied().unwrap_or(1.0);
                    grad[r] *= w;
                    hess[r] *= w;
                }
            }
            let (tree, node_bins, leaves) =
                grower.grow(rows.clone(), &grad, &hess, &features, &mappers, &mut pool);
            if rows.len() == n {
                // Every row is in exactly one leaf's list.
                for (node, members) in &leaves {
                    let v = tree.nodes[*node].value;
                    for &r in members {
                        scores[r as usize * k + c] += v;
                    }
                }
            } else {
                add_tree(&tree, &node_bins, &data.bins, &mut scores, k, c);
            }
            if let Some((vb, vt)) = &valid_bins {
                add_tree(
                    &tree,
                    &node_bins,
                    &vb.bins,
                    &mut vscores[..vt.len() * k],
                    k,
                    c,
                );
            }
            trees.push(tree);
        }
        if let Some((_, vt)) = &valid_bins {
            let l = loss(vt, k, &vscores);
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
    let rounds = best.1.max(1).min(trees.len() / k);
    trees.truncate(rounds * k);
    Ok((
        Booster {
            objective,
            outputs: k,
            n_features,
            base_score: base,
            trees,
        },
        FitReport { rounds, stopped },
    ))
}
