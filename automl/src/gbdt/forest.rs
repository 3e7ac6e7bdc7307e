//! Random forests and extremely randomised trees on the boosting's bins,
//! as LightGBM's `rf` mode grows forests from its boosting machinery: the
//! features are binned once (`bins`), each tree grows best-first up to
//! `max_leaves` on a bootstrap sample (random forest) or on every row
//! (extra trees), and each node draws its own share of the features. A
//! random forest scans every bin boundary of a drawn feature; extra trees
//! draw one threshold per feature, uniformly between the node's smallest
//! and largest value (quantised to a bin boundary), as scikit-learn's
//! `ExtraTrees*` do. Splits minimise squared error (regression) or Gini
//! impurity over all classes at once (one tree for every class, as
//! scikit-learn grows them), with missing values sent to the side that
//! gains more.
//!
//! The fitted forest is a [`Booster`] whose trees are averaged: leaf values
//! are divided by the number of trees, so its output is the mean of the
//! trees' leaf means (regression) or of their leaves' class shares (the
//! second class's share for two classes, one share per class for more),
//! as scikit-learn averages probabilities. Its base score is the mean (or
//! the training class shares). The forest family turns the shares into
//! log-odds; the trees themselves are explained by the same exact
//! TreeSHAP and exported by the same ONNX trees as boosting.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bins::{BinMapper, Binned};
use super::booster::{Booster, Node, Tree};
use super::objective::objective_for;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::task::Target;

/// Pseudo-rows of the training class shares added to every leaf's class
/// counts: a pure leaf's share of the other classes is small but not 0, so
/// a forest whose every tree agrees still has finite log-odds.
const PRIOR_ROWS: f64 = 0.01;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    pub n_trees: usize,
    /// Extremely randomised trees: one random threshold per drawn feature.
    pub extra: bool,
    /// Each tree sees a bootstrap sample of the rows (else every row).
    pub bootstrap: bool,
    pub max_leaves: usize,
    /// Distinct training rows a leaf holds at least.
    pub min_samples_leaf: usize,
    /// Share of the features drawn at each node (at least one); 0 draws
    /// the square root of their number (scikit-learn's `sqrt`).
    pub max_features: f64,
    /// Weight of each class's rows (classification; empty: all 1).
    pub class_weights: Vec<f64>,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 200,
            extra: false,
            bootstrap: true,
            max_leaves: 512,
            min_samples_leaf: 1,
            max_features: 1.0,
            class_weights: Vec::new(),
            seed: 0,
        }
    }
}

impl ForestParams {
    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, reason: &str| {
            Err(Error::Parameter {
                name,
                reason: reason.into(),
            })
        };
        if self.n_trees == 0 {
            return bad("n_trees", "must be at least 1");
        }
        if self.max_leaves < 2 {
            return bad("max_leaves", "must be at least 2");
        }
        if self.min_samples_leaf == 0 {
            return bad("min_samples_leaf", "must be at least 1");
        }
        if !(self.max_features >= 0.0 && self.max_features <= 1.0) {
            return bad("max_features", "must be in [0, 1]");
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

/// Fits a forest on column-major features `x`. Trees grow in parallel;
/// `stop` is polled before each tree, and when it says so the forest is
/// the trees grown so far (at least one).
pub fn fit_forest(
    x: &[Vec<f64>],
    target: &Target,
    params: &ForestParams,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(Booster, usize)> {
    params.check()?;
    if let Some(f) = x.iter().position(|c| c.iter().any(|v| v.is_infinite())) {
        return Err(Error::Parameter {
            name: "x",
            reason: format!("feature {f} has an infinite value"),
        });
    }
    let n = target.len();
    if n < 2 {
        return Err(Error::Parameter {
            name: "x",
            reason: "a forest needs at least two rows".into(),
        });
    }
    let mappers: Vec<BinMapper> = x.iter().map(|c| BinMapper::fit(c, 255)).collect();
    let data = Binned::new(x, &mappers);
    let (objective, k) = objective_for(target);
    let forest = Forest::new(&data, &mappers, target, params);
    let base = forest.base.clone();
    let grown: Vec<Option<Grown>> = (0..params.n_trees)
        .into_par_iter()
        .map(|t| (t == 0 || !stop()).then(|| forest.grow(t as u64)))
        .collect();
    let grown: Vec<Grown> = grown.into_iter().map_while(|g| g).collect();
    let m = grown.len() as f64;
    let mut trees = Vec::with_capacity(grown.len() * k);
    for g in grown {
        for c in 0..k {
            let nodes = g
                .nodes
                .iter()
                .zip(&g.leaf_values)
                .map(|(node, values)| Node {
                    value: values.get(c).map_or(0.0, |v| v / m),
                    ..node.clone()
                })
                .collect();
            trees.push(Tree { nodes });
        }
    }
    let n_trees = trees.len() / k;
    Ok((
        Booster {
            objective,
            outputs: k,
            n_features: mappers.len(),
            base_score: base,
            trees,
        },
        n_trees,
    ))
}

/// What every tree of one fit shares.
struct Forest<'a> {
    data: &'a Binned,
    mappers: &'a [BinMapper],
    params: &'a ForestParams,
    /// Squared-error statistics (1) or one per class.
    dims: usize,
    /// Per row: its class (classification) or its centred value.
    class: Vec<usize>,
    value: Vec<f64>,
    /// Per row: its class's weight.
    weight: Vec<f64>,
    /// The training class shares (weighted) toward which leaves are smoothed.
    prior: Vec<f64>,
    base: Vec<f64>,
    regression: bool,
}

/// One grown tree: its nodes and, per node, the leaf value of each output
/// (empty for split nodes), before the average over trees.
struct Grown {
    nodes: Vec<Node>,
    leaf_values: Vec<Vec<f64>>,
}

/// A node's statistics: total weight and the sums (weighted centred
/// values, or weighted class counts).
#[derive(Clone)]
struct Stats {
    w: f64,
    s: Vec<f64>,
    /// Distinct rows and bootstrap-weighted rows.
    rows: u32,
    cover: u32,
}

impl Stats {
    fn zero(dims: usize) -> Stats {
        Stats {
            w: 0.0,
            s: vec![0.0; dims],
            rows: 0,
            cover: 0,
        }
    }

    /// Squared error or Gini impurity, up to a constant: the larger, the purer.
    fn score(&self) -> f64 {
        if self.w <= 0.0 {
            return 0.0;
        }
        self.s.iter().map(|v| v * v).sum::<f64>() / self.w
    }

    fn add(&mut self, o: &Stats) {
        self.w += o.w;
        self.rows += o.rows;
        self.cover += o.cover;
        for (a, b) in self.s.iter_mut().zip(&o.s) {
            *a += b;
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    /// Bins `1..=bin` go left.
    bin: u8,
    default_left: bool,
}

/// An open leaf in the best-first queue.
struct Open {
    gain: f64,
    node: usize,
    rows: Vec<u32>,
    split: Split,
}

impl PartialEq for Open {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Open {}
impl PartialOrd for Open {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Open {
    /// Larger gain first; equal gains in node order.
    fn cmp(&self, o: &Self) -> Ordering {
        self.gain
            .total_cmp(&o.gain)
            .then_with(|| o.node.cmp(&self.node))
    }
}

/// Per-bin sums of one feature in one node, reset after each use.
struct Scratch {
    bins: Vec<Stats>,
    touched: Vec<u8>,
}

impl<'a> Forest<'a> {
    fn new(
        data: &'a Binned,
        mappers: &'a [BinMapper],
        target: &'a Target,
        params: &'a ForestParams,
    ) -> Self {
        let n = target.len();
        let mean = match target {
            Target::Regression(y) => y.iter().sum::<f64>() / n as f64,
            Target::Classes { .. } => 0.0,
        };
        let (dims, class, value, weight, regression) = match target {
            Target::Regression(y) => (
                1,
                Vec::new(),
                y.iter().map(|v| v - mean).collect(),
                vec![1.0; n],
                true,
            ),
            Target::Classes { classes, y } => (
                classes.len(),
                y.clone(),
                Vec::new(),
                y.iter()
                    .map(|&c| params.class_weights.get(c).copied().unwrap_or(1.0))
                    .collect(),
                false,
            ),
        };
        let mut prior = vec![0.0; if regression { 0 } else { dims }];
        for (&c, &w) in class.iter().zip(&weight) {
            prior[c] += w;
        }
        let total: f64 = prior.iter().sum();
        prior
            .iter_mut()
            .for_each(|p| *p /= total.max(f64::MIN_POSITIVE));
        let base = match prior.len() {
            0 => vec![mean],
            2 => vec![prior[1]],
            _ => prior.clone(),
        };
        Forest {
            data,
            mappers,
            params,
            dims,
            class,
            value,
            weight,
            prior,
            base,
            regression,
        }
    }

    /// The statistics of row `r` drawn `times` times.
    fn add_row(&self, s: &mut Stats, r: usize, times: u32) {
        let w = self.weight[r] * f64::from(times);
        s.w += w;
        s.rows += 1;
        s.cover += times;
        if self.regression {
            s.s[0] += w * self.value[r];
        } else {
            s.s[self.class[r]] += w;
        }
    }

    fn stats_of(&self, rows: &[u32], times: &[u32]) -> Stats {
        let mut s = Stats::zero(self.dims);
        for &r in rows {
            self.add_row(&mut s, r as usize, times[r as usize]);
        }
        s
    }

    /// Tree `t`: its rows (a bootstrap sample, or all), grown best-first.
    fn grow(&self, t: u64) -> Grown {
        let n = self.weight.len();
        let mut rng = Rng::derive(self.params.seed, 0xf0_4e57 ^ (t << 20));
        let mut times = vec![0u32; n];
        if self.params.bootstrap {
            for _ in 0..n {
                times[rng.below(n)] += 1;
            }
        } else {
            times.fill(1);
        }
        let rows: Vec<u32> = (0..n as u32).filter(|&r| times[r as usize] > 0).collect();
        let max_bins = self
            .mappers
            .iter()
            .map(BinMapper::n_bins)
            .max()
            .unwrap_or(2);
        let mut scratch = Scratch {
            bins: vec![Stats::zero(self.dims); max_bins],
            touched: Vec::with_capacity(max_bins),
        };
        let root = self.stats_of(&rows, &times);
        let mut nodes = vec![leaf(&root)];
        let mut stats = vec![root];
        let mut open = BinaryHeap::new();
        if let Some(split) = self.best_split(&rows, &stats[0], &times, &mut rng, &mut scratch) {
            open.push(Open {
                gain: split.gain,
                node: 0,
                rows,
                split,
            });
        }
        let mut leaves = 1;
        while leaves < self.params.max_leaves {
            let Some(o) = open.pop() else { break };
            let col = &self.data.bins[o.split.feature];
            let (left, right): (Vec<u32>, Vec<u32>) = o.rows.iter().partition(|&&r| {
                let b = col[r as usize];
                if b == 0 {
                    o.split.default_left
                } else {
                    b <= o.split.bin
                }
            });
            let li = nodes.len();
            for side in [left, right] {
                let s = self.stats_of(&side, &times);
                let node = nodes.len();
                nodes.push(leaf(&s));
                if let Some(split) = self.best_split(&side, &s, &times, &mut rng, &mut scratch) {
                    open.push(Open {
                        gain: split.gain,
                        node,
                        rows: side,
                        split,
                    });
                }
                stats.push(s);
            }
            let mapper = &self.mappers[o.split.feature];
            let parent = &mut nodes[o.node];
            parent.feature = o.split.feature as u32;
            parent.threshold = mapper
                .bounds
                .get(usize::from(o.split.bin) - 1)
                .copied()
                .unwrap_or(f64::MAX);
            parent.default_left = o.split.default_left;
            parent.left = li as u32;
            parent.right = li as u32 + 1;
            leaves += 1;
        }
        let leaf_values = nodes
            .iter()
            .zip(&stats)
            .map(|(node, s)| {
                if node.is_leaf() {
                    self.leaf_value(s)
                } else {
                    Vec::new()
                }
            })
            .collect();
        Grown { nodes, leaf_values }
    }

    /// A leaf's outputs less the base score: its mean centred value, or its
    /// class shares (the second class's for two), smoothed toward the
    /// training shares.
    fn leaf_value(&self, s: &Stats) -> Vec<f64> {
        if self.regression {
            return vec![s.s[0] / s.w];
        }
        let share = |c: usize| (s.s[c] + PRIOR_ROWS * self.prior[c]) / (s.w + PRIOR_ROWS);
        if self.dims == 2 {
            vec![share(1) - self.base[0]]
        } else {
            (0..self.dims).map(|c| share(c) - self.base[c]).collect()
        }
    }

    /// The best split of a node over its drawn features. Features are
    /// visited in a random order until `max_features` of them could split
    /// the node (constant ones do not count, as in scikit-learn).
    fn best_split(
        &self,
        rows: &[u32],
        total: &Stats,
        times: &[u32],
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> Option<Split> {
        let min_rows = self.params.min_samples_leaf as u32;
        if total.rows < 2 * min_rows || total.w <= 0.0 {
            return None;
        }
        let n_features = self.mappers.len();
        let share = self.params.max_features;
        let draw = if share == 0.0 {
            (n_features as f64).sqrt().round() as usize
        } else {
            (share * n_features as f64).round() as usize
        }
        .max(1);
        let mut order: Vec<usize> = (0..n_features).collect();
        rng.shuffle(&mut order);
        let parent = total.score();
        let mut best: Option<Split> = None;
        let mut drawn = 0;
        for &f in &order {
            if drawn >= draw && best.is_some() {
                break;
            }
            let (varies, split) = self.split_of(f, rows, total, parent, times, rng, scratch);
            drawn += usize::from(varies);
            if let Some(s) = split
                && best.is_none_or(|b| s.gain > b.gain)
            {
                best = Some(s);
            }
        }
        best
    }

    /// The best split of feature `f` in a node (every bin boundary, or one
    /// random boundary for extra trees), and whether the feature varies
    /// there at all.
    #[allow(clippy::too_many_arguments)]
    fn split_of(
        &self,
        f: usize,
        rows: &[u32],
        total: &Stats,
        parent: f64,
        times: &[u32],
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> (bool, Option<Split>) {
        let col = &self.data.bins[f];
        for &r in rows {
            let b = col[r as usize];
            let bin = &mut scratch.bins[usize::from(b)];
            if bin.rows == 0 {
                scratch.touched.push(b);
            }
            self.add_row(bin, r as usize, times[r as usize]);
        }
        scratch.touched.sort_unstable();
        let missing = scratch.touched.first() == Some(&0);
        let values: Vec<u8> = scratch
            .touched
            .iter()
            .copied()
            .filter(|&b| b != 0)
            .collect();
        let varies = values.len() >= 2 || (missing && !values.is_empty());
        let mut best: Option<Split> = None;
        if varies {
            let miss = if missing {
                scratch.bins[0].clone()
            } else {
                Stats::zero(self.dims)
            };
            let mut consider = |left: &Stats, bin: u8| {
                if let Some(s) = self.evaluate(f, bin, left, &miss, total, parent, missing)
                    && best.is_none_or(|b| s.gain > b.gain)
                {
                    best = Some(s);
                }
            };
            if self.params.extra {
                // A boundary uniformly between the node's smallest and
                // largest value; a feature varying only by missing values
                // splits them from the rest.
                let t = if values.len() >= 2 {
                    let bounds = &self.mappers[f].bounds;
                    let at = |b: u8| bounds[usize::from(b) - 1];
                    let last = values.len() - 2;
                    let (lo, hi) = (at(values[0]), at(values[last]));
                    let u = lo + rng.next_f64() * (hi - lo);
                    values[..=last]
                        .iter()
                        .copied()
                        .find(|&b| at(b) >= u)
                        .unwrap_or(values[last])
                } else {
                    values[0]
                };
                let mut left = Stats::zero(self.dims);
                for &b in values.iter().take_while(|&&b| b <= t) {
                    left.add(&scratch.bins[usize::from(b)]);
                }
                consider(&left, t);
            } else {
                let mut left = Stats::zero(self.dims);
                for (i, &b) in values.iter().enumerate() {
                    left.add(&scratch.bins[usize::from(b)]);
                    // The last value bin splits only the missing values off.
                    if i + 1 < values.len() || missing {
                        consider(&left, b);
                    }
                }
            }
        }
        for &b in &scratch.touched {
            let bin = &mut scratch.bins[usize::from(b)];
            bin.w = 0.0;
            bin.rows = 0;
            bin.cover = 0;
            bin.s.fill(0.0);
        }
        scratch.touched.clear();
        (varies, best)
    }

    /// The split of feature `f` at `bin` with `left` the values up to it:
    /// missing values on the side that gains more (or, without missing
    /// values here, on the larger side).
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        f: usize,
        bin: u8,
        left: &Stats,
        miss: &Stats,
        total: &Stats,
        parent: f64,
        missing: bool,
    ) -> Option<Split> {
        let min_rows = self.params.min_samples_leaf as u32;
        let mut best: Option<Split> = None;
        let sides: &[bool] = if missing { &[true, false] } else { &[true] };
        for &missing_left in sides {
            let m = if missing_left { 1.0 } else { 0.0 };
            let mu = u32::from(missing_left);
            let (lw, lrows) = (left.w + m * miss.w, left.rows + mu * miss.rows);
            let (rw, rrows) = (total.w - lw, total.rows - lrows);
            if lrows < min_rows || rrows < min_rows || lw <= 0.0 || rw <= 0.0 {
                continue;
            }
            let (mut ls, mut rs) = (0.0, 0.0);
            for j in 0..self.dims {
                let l = left.s[j] + m * miss.s[j];
                let r = total.s[j] - l;
                ls += l * l;
                rs += r * r;
            }
            let children = ls / lw + rs / rw;
            let gain = children - parent;
            if gain <= 1e-10 * children.abs() {
                continue;
            }
            let default_left = if missing { missing_left } else { lw >= rw };
            if best.is_none_or(|b| gain > b.gain) {
                best = Some(Split {
                    gain,
                    feature: f,
                    bin,
                    default_left,
                });
            }
        }
        best
    }
}

fn leaf(s: &Stats) -> Node {
    Node::leaf(0.0, s.cover)
}
