//! Isolation forest (Liu, Ting and Zhou, 2008), as scikit-learn's
//! `IsolationForest` builds it: each tree grows on `ψ = min(256, n)` rows
//! drawn without replacement, to a depth of at most `⌈log2 ψ⌉`, splitting
//! on a random feature that still varies in the node at a threshold drawn
//! uniformly between its smallest and largest value there. A row's path
//! length is its depth plus `c(size)` of the leaf it ends in, and its score
//! is `2^(-E[h] / c(ψ))`: about 0.5 for ordinary rows, towards 1 for rows
//! that a few random cuts set apart. linfa has no isolation forest.

use crate::Rng;
use rayon::prelude::*;

/// Trees in a forest.
pub const TREES: usize = 100;
/// Rows each tree grows on (fewer when the table has fewer).
pub const TREE_ROWS: usize = 256;

enum Node {
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    Leaf {
        size: usize,
    },
}

pub struct Forest {
    trees: Vec<Vec<Node>>,
    psi: usize,
}

/// The average path length of an unsuccessful search in a binary search
/// tree of `n` rows: `2 H(n-1) - 2 (n-1) / n`, with `c(2) = 1`, `c(≤1) = 0`.
pub fn c(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
        }
    }
}

impl Forest {
    /// Grows [`TREES`] trees on rows drawn from `rows` of the row-major
    /// matrix `x` (`width` numbers a row).
    pub fn fit(x: &[f64], width: usize, rows: &[usize], seed: u64) -> Forest {
        let psi = rows.len().min(TREE_ROWS);
        let limit = (psi.max(2) as f64).log2().ceil() as usize;
        let mut rng = Rng::new(seed);
        let trees = (0..TREES)
            .map(|_| {
                // A partial Fisher-Yates shuffle: ψ rows without replacement.
                let mut pool = rows.to_vec();
                for i in 0..psi {
                    let j = i + rng.below(pool.len() - i);
                    pool.swap(i, j);
                }
                pool.truncate(psi);
                let mut nodes = Vec::new();
                grow(x, width, &mut pool, 0, limit, &mut rng, &mut nodes);
                nodes
            })
            .collect();
        Forest { trees, psi }
    }

    /// The score of each row of the row-major matrix `x`.
    pub fn score(&self, x: &[f64], width: usize) -> Vec<f64> {
        let norm = c(self.psi).max(f64::MIN_POSITIVE);
        x.par_chunks(width.max(1))
            .map(|row| {
                let total: f64 = self.trees.iter().map(|t| path(t, row)).sum();
                let mean = total / self.trees.len() as f64;
                2f64.powf(-mean / norm)
            })
            .collect()
    }
}

/// Grows the node for `rows` and returns its index in `nodes`.
fn grow(
    x: &[f64],
    width: usize,
    rows: &mut [usize],
    depth: usize,
    limit: usize,
    rng: &mut Rng,
    nodes: &mut Vec<Node>,
) -> usize {
    let at = nodes.len();
    nodes.push(Node::Leaf { size: rows.len() });
    if depth >= limit || rows.len() <= 1 {
        return at;
    }
    // The features that still vary here, with their range.
    let mut varying = Vec::new();
    for f in 0..width {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &r in rows.iter() {
            let v = x[r * width + f];
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi > lo {
            varying.push((f, lo, hi));
        }
    }
    if varying.is_empty() {
        return at;
    }
    let (feature, lo, hi) = *rng.pick(&varying);
    let threshold = lo + rng.next_f64() * (hi - lo);
    let mut split = 0;
    for i in 0..rows.len() {
        if x[rows[i] * width + feature] < threshold {
            rows.swap(i, split);
            split += 1;
        }
    }
    let (l, r) = rows.split_at_mut(split);
    let left = grow(x, width, l, depth + 1, limit, rng, nodes);
    let right = grow(x, width, r, depth + 1, limit, rng, nodes);
    nodes[at] = Node::Split {
        feature,
        threshold,
        left,
        right,
    };
    at
}

fn path(tree: &[Node], row: &[f64]) -> f64 {
    let mut at = 0;
    let mut depth = 0.0;
    loop {
        match tree[at] {
            Node::Leaf { size } => return depth + c(size),
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => {
                at = if row[feature] < threshold {
                    left
                } else {
                    right
                };
                depth += 1.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_matches_the_paper() {
        assert_eq!(c(1), 0.0);
        assert_eq!(c(2), 1.0);
        // 2 (ln 255 + γ) - 2 · 255 / 256
        assert!((c(256) - 10.244_770_920_119_917).abs() < 1e-12);
    }

    #[test]
    fn a_far_point_scores_highest() {
        let mut x = Vec::new();
        let mut rng = Rng::new(3);
        for _ in 0..500 {
            x.push(rng.next_f64());
            x.push(rng.next_f64());
        }
        x.extend([8.0, 8.0]);
        let rows: Vec<usize> = (0..501).collect();
        let forest = Forest::fit(&x, 2, &rows, 1);
        let s = forest.score(&x, 2);
        let top = (0..501).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
        assert_eq!(top, 500);
        assert!(s[500] > 0.7, "{}", s[500]);
        let mean = s[..500].iter().sum::<f64>() / 500.0;
        assert!(mean < 0.5, "{mean}");
    }
}
