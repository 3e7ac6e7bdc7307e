//! Tree growth: leaf-wise (best gain first) up to `max_leaves` and
//! `max_depth`, the smaller child's histogram built and the larger one's
//! subtracted from the parent, histograms reused from a pool.

use super::bins::{BinMapper, Binned};
use super::booster::{Node, Tree};
use super::histogram::Sums;
use super::split::Split;
use super::{GbdtParams, PARALLEL_WORK};

/// A leaf's node index and the training rows that ended in it.
pub(super) type LeafRows = (usize, Vec<u32>);

pub(super) struct Grower<'a> {
    pub(super) data: &'a Binned,
    pub(super) params: &'a GbdtParams,
    /// Every hessian is 1 (squared error).
    pub(super) unit_hess: bool,
}

/// The gradients and hessians of the rows of one tree.
#[derive(Clone, Copy)]
pub(super) struct Gradients<'g> {
    pub(super) grad: &'g [f64],
    pub(super) hess: &'g [f64],
}

/// A leaf of the growing tree, with what splitting it needs.
struct Open {
    node: usize,
    rows: Vec<u32>,
    hist: Vec<Sums>,
    total: Sums,
    depth: usize,
    split: Option<Split>,
    /// Features with a valid split here: the only ones the children search.
    features: Vec<usize>,
}

/// One tree as it grows: its nodes, the bin threshold of each, its leaves.
struct Growing {
    nodes: Vec<Node>,
    node_bins: Vec<u8>,
    open: Vec<Open>,
}

impl Growing {
    /// The leaf with the best split (the last of equals), if any can split.
    fn best_open(&self) -> Option<usize> {
        self.open
            .iter()
            .enumerate()
            .filter(|(_, o)| o.split.is_some())
            .max_by(|a, b| {
                a.1.split
                    .map(|s| s.gain)
                    .partial_cmp(&b.1.split.map(|s| s.gain))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|(i, _)| i)
    }

    /// Turns leaf `node` into a split with children `left` and `left + 1`.
    fn make_split(&mut self, node: usize, split: &Split, mapper: &BinMapper, left: usize) {
        let parent = &mut self.nodes[node];
        parent.feature = split.feature as u32;
        // The last value bin as threshold sends every value left (only missing go right).
        parent.threshold = mapper
            .bounds
            .get(split.bin as usize - 1)
            .copied()
            .unwrap_or(f64::MAX);
        parent.default_left = split.default_left;
        parent.left = left as u32;
        parent.right = left as u32 + 1;
        parent.value = 0.0;
        self.node_bins[node] = split.bin;
    }

    /// The tree, its bin thresholds and each leaf's rows; the histograms
    /// still held go back to `pool`.
    fn finish(self, pool: &mut Vec<Vec<Sums>>) -> (Tree, Vec<u8>, Vec<LeafRows>) {
        let leaves = self
            .open
            .into_iter()
            .map(|o| {
                if !o.hist.is_empty() {
                    pool.push(o.hist);
                }
                (o.node, o.rows)
            })
            .collect();
        let tree = Tree { nodes: self.nodes };
        (tree, self.node_bins, leaves)
    }
}

impl Grower<'_> {
    /// A histogram of `rows` in a buffer from `pool` (histograms are large
    /// and built for every split, so they are reused across nodes and trees).
    fn histogram(
        &self,
        pool: &mut Vec<Vec<Sums>>,
        rows: &[u32],
        g: Gradients<'_>,
        features: &[usize],
    ) -> Vec<Sums> {
        let mut hist = pool
            .pop()
            .unwrap_or_else(|| vec![Sums::default(); self.data.hist_len]);
        self.data
            .histogram_into(&mut hist, rows, g, features, self.unit_hess);
        hist
    }

    /// Grows one tree on `rows`; returns the tree, the bin threshold of each
    /// node, and the rows that ended in each leaf. Histograms no longer
    /// needed go back to `pool`.
    pub(super) fn grow(
        &self,
        rows: Vec<u32>,
        g: Gradients<'_>,
        features: &[usize],
        mappers: &[BinMapper],
        pool: &mut Vec<Vec<Sums>>,
    ) -> (Tree, Vec<u8>, Vec<LeafRows>) {
        let hist = self.histogram(pool, &rows, g, features);
        let mut total = Sums::default();
        for &r in &rows {
            total.add(Sums {
                g: g.grad[r as usize],
                h: g.hess[r as usize],
            });
        }
        let (split, usable) = self.best_split(&hist, total, rows.len(), features);
        let mut tree = Growing {
            nodes: vec![Node::leaf(self.leaf_value(total), rows.len() as u32)],
            node_bins: vec![0u8],
            open: Vec::new(),
        };
        tree.open.push(Open {
            node: 0,
            rows,
            hist,
            total,
            depth: 0,
            split,
            features: usable,
        });
        let mut leaves = 1;
        while leaves < self.params.max_leaves {
            let Some(pos) = tree.best_open() else { break };
            let leaf = tree.open.swap_remove(pos);
            let Some(split) = leaf.split else { break };
            if self.split_leaf(&mut tree, leaf, split, g, &mappers[split.feature], pool) {
                leaves += 1;
            }
        }
        tree.finish(pool)
    }

    /// Splits `leaf` into two children, each with its histogram (the
    /// smaller built, the larger subtracted from the parent's) and its best
    /// split. Returns false when every row goes one way: counts estimated
    /// from hessians can allow that (a side of float residue passes when
    /// `min_child_weight` is 0), and the node stays a leaf.
    fn split_leaf(
        &self,
        tree: &mut Growing,
        mut leaf: Open,
        split: Split,
        g: Gradients<'_>,
        mapper: &BinMapper,
        pool: &mut Vec<Vec<Sums>>,
    ) -> bool {
        let col = &self.data.bins[split.feature];
        let (left_rows, right_rows) = partition(&leaf.rows, col, &split);
        if left_rows.is_empty() || right_rows.is_empty() {
            leaf.split = None;
            pool.push(std::mem::take(&mut leaf.hist));
            tree.open.push(leaf);
            return false;
        }
        let small_is_left = left_rows.len() <= right_rows.len();
        let small_rows = if small_is_left {
            &left_rows
        } else {
            &right_rows
        };
        let features = &leaf.features;
        let small_hist = self.histogram(pool, small_rows, g, features);
        // The parent's histogram becomes the larger child's, in place.
        let mut large_hist = leaf.hist;
        for (p, s) in large_hist.iter_mut().zip(&small_hist) {
            *p = p.sub(*s);
        }
        let (left_hist, right_hist) = if small_is_left {
            (small_hist, large_hist)
        } else {
            (large_hist, small_hist)
        };
        let li = tree.nodes.len();
        let depth = leaf.depth + 1;
        let can_split = self.params.max_depth == 0 || depth < self.params.max_depth;
        let children = [
            (left_rows, left_hist, split.left),
            (right_rows, right_hist, leaf.total.sub(split.left)),
        ];
        let searched = children.map(|(rows, hist, total)| {
            let (split, usable) = if can_split {
                self.best_split(&hist, total, rows.len(), features)
            } else {
                (None, Vec::new())
            };
            (rows, hist, total, split, usable)
        });
        for (rows, hist, total, split, features) in searched {
            // A leaf that cannot split never needs its histogram again.
            let hist = if split.is_some() {
                hist
            } else {
                pool.push(hist);
                Vec::new()
            };
            let count = rows.len() as u32;
            tree.open.push(Open {
                node: tree.nodes.len(),
                rows,
                hist,
                total,
                depth,
                split,
                features,
            });
            tree.nodes.push(Node::leaf(self.leaf_value(total), count));
            tree.node_bins.push(0);
        }
        tree.make_split(leaf.node, &split, mapper, li);
        true
    }
}

/// The rows of a node split into those going left and right, in order.
/// Large nodes are split in two halves on two threads.
pub(super) fn partition(rows: &[u32], col: &[u8], split: &Split) -> (Vec<u32>, Vec<u32>) {
    // Branch-free: each row is written to both sides and only the side it
    // belongs to advances.
    let one = |rows: &[u32]| {
        let mut left = vec![0u32; rows.len()];
        let mut right = vec![0u32; rows.len()];
        let (mut nl, mut nr) = (0, 0);
        for &r in rows {
            let b = col[r as usize];
            let go_left = (b == 0 && split.default_left) | (b != 0 && b <= split.bin);
            left[nl] = r;
            right[nr] = r;
            nl += usize::from(go_left);
            nr += usize::from(!go_left);
        }
        left.truncate(nl);
        right.truncate(nr);
        (left, right)
    };
    if rows.len() < PARALLEL_WORK {
        return one(rows);
    }
    let (a, b) = rows.split_at(rows.len() / 2);
    let ((mut l1, mut r1), (l2, r2)) = rayon::join(|| one(a), || one(b));
    l1.extend_from_slice(&l2);
    r1.extend_from_slice(&r2);
    (l1, r1)
}
