//! The fitted model: trees of nodes, raw scores for new rows, validation
//! of a loaded booster, and the traversal of binned training rows.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Objective, PARALLEL_WORK};
use crate::error::{Error, Result};

/// One tree node. A node whose `left` is 0 is a leaf (the root is node 0, so
/// no node has it as a child).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: u32,
    /// Values `<= threshold` go left.
    pub threshold: f64,
    /// Where missing values go.
    pub default_left: bool,
    pub left: u32,
    pub right: u32,
    /// Leaf output (already multiplied by the learning rate).
    pub value: f64,
    /// Training rows that reached this node.
    pub count: u32,
}

impl Node {
    pub(super) fn leaf(value: f64, count: u32) -> Node {
        Node {
            feature: 0,
            threshold: 0.0,
            default_left: false,
            left: 0,
            right: 0,
            value,
            count,
        }
    }

    pub fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    fn leaf_for(&self, value_of: impl Fn(usize) -> f64) -> &Node {
        let mut i = 0;
        loop {
            let n = &self.nodes[i];
            if n.is_leaf() {
                return n;
            }
            let x = value_of(n.feature as usize);
            let left = if x.is_nan() {
                n.default_left
            } else {
                x <= n.threshold
            };
            i = if left { n.left } else { n.right } as usize;
        }
    }
}

/// A fitted ensemble. Trees are stored round by round; with `outputs`
/// classes, tree `r * outputs + k` belongs to class `k`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booster {
    pub objective: Objective,
    pub outputs: usize,
    pub n_features: usize,
    pub base_score: Vec<f64>,
    pub trees: Vec<Tree>,
}

impl Booster {
    pub fn rounds(&self) -> usize {
        self.trees.len() / self.outputs.max(1)
    }

    /// Raw scores (`n * outputs`, row-major) for column-major features.
    pub fn raw(&self, cols: &[Vec<f64>]) -> Vec<f64> {
        let n = cols.first().map_or(0, Vec::len);
        let k = self.outputs;
        let mut out = Vec::with_capacity(n * k);
        for r in 0..n {
            out.extend_from_slice(&self.base_score);
            let row = &mut out[r * k..];
            for (t, tree) in self.trees.iter().enumerate() {
                row[t % k] += tree.leaf_for(|f| cols[f][r]).value;
            }
        }
        out
    }

    /// Checks a loaded booster so that prediction cannot panic.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Artifact(m));
        if self.outputs == 0
            || self.base_score.len() != self.outputs
            || !self.trees.len().is_multiple_of(self.outputs)
        {
            return bad("booster outputs do not match its trees".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.nodes.is_empty() {
                return bad(format!("tree {t} has no nodes"));
            }
            for (i, n) in tree.nodes.iter().enumerate() {
                if n.is_leaf() {
                    continue;
                }
                let (l, r) = (n.left as usize, n.right as usize);
                // Children come after their parent: no cycles, no out-of-range jumps.
                if l <= i || r <= i || l >= tree.nodes.len() || r >= tree.nodes.len() {
                    return bad(format!("tree {t} node {i} has invalid children"));
                }
                if n.feature as usize >= self.n_features {
                    return bad(format!(
                        "tree {t} node {i} uses feature {} of {}",
                        n.feature, self.n_features
                    ));
                }
            }
        }
        Ok(())
    }
}

pub(super) fn leaf_binned<'t>(
    tree: &'t Tree,
    node_bins: &[u8],
    bins: &[Vec<u8>],
    r: usize,
) -> &'t Node {
    let mut i = 0;
    loop {
        let n = &tree.nodes[i];
        if n.is_leaf() {
            return n;
        }
        let b = bins[n.feature as usize][r];
        let left = if b == 0 {
            n.default_left
        } else {
            b <= node_bins[i]
        };
        i = if left { n.left } else { n.right } as usize;
    }
}

/// Adds the tree's output to output `c` of every row's scores.
pub(super) fn add_tree(
    tree: &Tree,
    node_bins: &[u8],
    bins: &[Vec<u8>],
    scores: &mut [f64],
    k: usize,
    c: usize,
) {
    let update = |(r, row): (usize, &mut [f64])| {
        row[c] += leaf_binned(tree, node_bins, bins, r).value;
    };
    if scores.len() / k >= PARALLEL_WORK / 4 {
        scores.par_chunks_mut(k).enumerate().for_each(update);
    } else {
        scores.chunks_mut(k).enumerate().for_each(update);
    }
}
