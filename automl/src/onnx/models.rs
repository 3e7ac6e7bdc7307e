//! The families' fitted forms as ONNX operators, shared by their
//! `Model::onnx`: a dense layer, a tree ensemble, a constant per row.

use super::graph::Graph;
use super::proto::{Attr, Data, Elem};
use crate::artifact::SharesLink;
use crate::gbdt::Booster;
use crate::kernels::{KernelRidge, Neighbours};
use crate::task::Task;

/// `x · Wᵀ + b` for `W` of `outputs × inputs`, row-major (`[N, outputs]`).
pub(crate) fn dense(
    g: &mut Graph,
    x: &str,
    weights: &[f64],
    inputs: usize,
    outputs: usize,
    bias: &[f64],
) -> String {
    let mut transposed = vec![0.0; inputs * outputs];
    for k in 0..outputs {
        for j in 0..inputs {
            transposed[j * outputs + k] = weights[k * inputs + j];
        }
    }
    let w = g.doubles(vec![inputs as i64, outputs as i64], transposed);
    let product = g.op("MatMul", &[x, &w]);
    let b = g.doubles(vec![outputs as i64], bias.to_vec());
    g.op("Add", &[&product, &b])
}

/// The same `values` (`[K]`) in every row of `zeros` (`[N, 1]`): `[N, K]`.
pub(crate) fn constant_rows(g: &mut Graph, zeros: &str, values: &[f64]) -> String {
    let v = g.doubles(vec![1, values.len() as i64], values.to_vec());
    g.op("Add", &[zeros, &v])
}

/// The booster's raw scores `[N, outputs]` on the tree matrix `x`: one
/// `ai.onnx.ml` `TreeEnsemble` (version 5, doubles throughout) plus the
/// base scores. Kiln's nodes send `x <= threshold` left and missing values
/// to their learned side; here that is `BRANCH_LEQ` with the left child as
/// the true branch and `nodes_missing_value_tracks_true` as the side. A
/// tree that is one leaf gets a node whose branches both reach it.
pub(crate) fn trees(g: &mut Graph, booster: &Booster, x: &str) -> String {
    let k = booster.outputs.max(1);
    let mut e = Ensemble::default();
    for (t, tree) in booster.trees.iter().enumerate() {
        let target = (t % k) as i64;
        // Kiln node index → (is leaf, index in its list).
        let mut place = vec![(false, 0i64); tree.nodes.len()];
        for (i, n) in tree.nodes.iter().enumerate() {
            place[i] = if n.is_leaf() {
                e.leaf_targets.push(target);
                e.leaf_weights.push(n.value);
                (true, e.leaf_weights.len() as i64 - 1)
            } else {
                e.features.push(i64::from(n.feature));
                e.splits.push(n.threshold);
                e.missing_left.push(i64::from(n.default_left));
                e.true_ids.push(0);
                e.true_leaf.push(0);
                e.false_ids.push(0);
                e.false_leaf.push(0);
                (false, e.features.len() as i64 - 1)
            };
        }
        if tree.nodes[0].is_leaf() {
            let leaf = place[0].1;
            e.features.push(0);
            e.splits.push(0.0);
            e.missing_left.push(1);
            e.true_ids.push(leaf);
            e.true_leaf.push(1);
            e.false_ids.push(leaf);
            e.false_leaf.push(1);
            e.roots.push(e.features.len() as i64 - 1);
            continue;
        }
        e.roots.push(place[0].1);
        for (i, n) in tree.nodes.iter().enumerate() {
            if n.is_leaf() {
                continue;
            }
            let at = place[i].1 as usize;
            let (l, r) = (place[n.left as usize], place[n.right as usize]);
            e.true_ids[at] = l.1;
            e.true_leaf[at] = i64::from(l.0);
            e.false_ids[at] = r.1;
            e.false_leaf[at] = i64::from(r.0);
        }
    }
    let nodes = e.features.len();
    let raw = g.ml(
        "TreeEnsemble",
        &[x],
        vec![
            ("aggregate_function", Attr::Int(1)),
            ("post_transform", Attr::Int(0)),
            ("n_targets", Attr::Int(k as i64)),
            ("tree_roots", Attr::Ints(e.roots)),
            ("nodes_featureids", Attr::Ints(e.features)),
            ("nodes_splits", Attr::tensor(Data::Doubles(e.splits))),
            // BRANCH_LEQ everywhere.
            ("nodes_modes", Attr::tensor(Data::Uint8s(vec![0; nodes]))),
            ("nodes_truenodeids", Attr::Ints(e.true_ids)),
            ("nodes_trueleafs", Attr::Ints(e.true_leaf)),
            ("nodes_falsenodeids", Attr::Ints(e.false_ids)),
            ("nodes_falseleafs", Attr::Ints(e.false_leaf)),
            (
                "nodes_missing_value_tracks_true",
                Attr::Ints(e.missing_left),
            ),
            ("leaf_targetids", Attr::Ints(e.leaf_targets)),
            ("leaf_weights", Attr::tensor(Data::Doubles(e.leaf_weights))),
        ],
    );
    let base = g.doubles(vec![k as i64], booster.base_score.clone());
    g.op("Add", &[&raw, &base])
}

/// `TreeEnsemble`'s attributes, node by node and leaf by leaf.
#[derive(Default)]
struct Ensemble {
    roots: Vec<i64>,
    features: Vec<i64>,
    splits: Vec<f64>,
    missing_left: Vec<i64>,
    true_ids: Vec<i64>,
    true_leaf: Vec<i64>,
    false_ids: Vec<i64>,
    false_leaf: Vec<i64>,
    leaf_targets: Vec<i64>,
    leaf_weights: Vec<f64>,
}

/// Squared Euclidean distances `[N, M]` from the rows of `x` (`[N, width]`)
/// to `rows` (`M × width`, row-major): `|x|² + |r|² - 2 x·r`, at least 0.
fn squared_distances(g: &mut Graph, x: &str, rows: &[f64], width: usize) -> String {
    let m = rows.len() / width.max(1);
    let mut transposed = vec![0.0; rows.len()];
    for (i, row) in rows.chunks(width).enumerate() {
        for (j, v) in row.iter().enumerate() {
            transposed[j * m + i] = *v;
        }
    }
    let norms: Vec<f64> = rows
        .chunks(width)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let xx = g.op("Mul", &[x, x]);
    let axes = g.int64s(vec![1], vec![1]);
    let xx = g.op_with("ReduceSum", &[&xx, &axes], vec![("keepdims", Attr::Int(1))]);
    let rt = g.doubles(vec![width as i64, m as i64], transposed);
    let xr = g.op("MatMul", &[x, &rt]);
    let two = g.scalar(2.0);
    let xr2 = g.op("Mul", &[&xr, &two]);
    let rr = g.doubles(vec![1, m as i64], norms);
    let sum = g.op("Add", &[&xx, &rr]);
    let d = g.op("Sub", &[&sum, &xr2]);
    let zero = g.scalar(0.0);
    g.op("Max", &[&d, &zero])
}

/// Values as they are, or shares kept off 0 and 1 as log-odds (one
/// output, two classes) or log shares, as `link` maps them
/// ([`SharesLink::raw`]).
pub(crate) fn shares_raw(g: &mut Graph, link: SharesLink, shares: &str) -> String {
    if link.task == Task::Regression {
        return shares.to_owned();
    }
    let (lo, hi) = (g.scalar(link.floor), g.scalar(1.0 - link.floor));
    let p = g.op("Max", &[shares, &lo]);
    let p = g.op("Min", &[&p, &hi]);
    let log_p = g.op("Log", &[&p]);
    if link.task == Task::Multiclass {
        return log_p;
    }
    let one = g.scalar(1.0);
    let q = g.op("Sub", &[&one, &p]);
    let log_q = g.op("Log", &[&q]);
    g.op("Sub", &[&log_p, &log_q])
}

/// A neighbours model's raw outputs on the encoded rows `x`: the `k`-th
/// smallest distance by `TopK`, every training row within the tie
/// tolerance of it weighted, the weighted mean of the targets.
pub(crate) fn neighbours(g: &mut Graph, model: &Neighbours, x: &str) -> String {
    let d = squared_distances(g, x, &model.rows, model.width);
    let k = g.int64s(vec![1], vec![model.k as i64]);
    let smallest = g.op_first(
        "TopK",
        &[&d, &k],
        vec![
            ("axis", Attr::Int(1)),
            ("largest", Attr::Int(0)),
            ("sorted", Attr::Int(1)),
        ],
        2,
    );
    let starts = g.int64s(vec![1], vec![model.k as i64 - 1]);
    let ends = g.int64s(vec![1], vec![model.k as i64]);
    let axes = g.int64s(vec![1], vec![1]);
    let dk = g.op("Slice", &[&smallest, &starts, &ends, &axes]);
    let (tie, one) = (
        g.scalar(1.0 + crate::kernels::TIE),
        g.scalar(crate::kernels::TIE),
    );
    let threshold = g.op("Mul", &[&dk, &tie]);
    let threshold = g.op("Add", &[&threshold, &one]);
    let within = g.op("LessOrEqual", &[&d, &threshold]);
    let mut weights = g.cast(&within, Elem::Double);
    if model.distance_weighted {
        let floor = g.scalar(crate::kernels::DISTANCE_FLOOR);
        let shifted = g.op("Add", &[&d, &floor]);
        weights = g.op("Div", &[&weights, &shifted]);
    }
    let axes = g.int64s(vec![1], vec![1]);
    let total = g.op_with(
        "ReduceSum",
        &[&weights, &axes],
        vec![("keepdims", Attr::Int(1))],
    );
    let w = model.outputs();
    let n = model.targets.len() / w;
    let targets = g.doubles(vec![n as i64, w as i64], model.targets.clone());
    let sums = g.op("MatMul", &[&weights, &targets]);
    let mut out = g.op("Div", &[&sums, &total]);
    if model.classes > 0 {
        let beta = model.smoothing();
        let prior: Vec<f64> = model.prior.iter().map(|p| beta * p).collect();
        let prior = g.doubles(vec![1, w as i64], prior);
        let shifted = g.op("Add", &[&out, &prior]);
        let norm = g.scalar(1.0 + beta);
        out = g.op("Div", &[&shifted, &norm]);
    }
    shares_raw(g, crate::kernels::link(model.classes), &out)
}

/// A kernel ridge's raw outputs on the encoded rows `x`:
/// `exp(-γ d²)` to the landmarks, times the coefficients, plus the intercept.
pub(crate) fn kernel_ridge(g: &mut Graph, model: &KernelRidge, x: &str) -> String {
    let d = squared_distances(g, x, &model.landmarks, model.width);
    let gamma = g.scalar(-model.gamma);
    let scaled = g.op("Mul", &[&d, &gamma]);
    let k = g.op("Exp", &[&scaled]);
    let w = model.outputs();
    let m = model.alpha.len() / w;
    let alpha = g.doubles(vec![m as i64, w as i64], model.alpha.clone());
    let product = g.op("MatMul", &[&k, &alpha]);
    let intercept = g.doubles(vec![1, w as i64], model.intercept.clone());
    let out = g.op("Add", &[&product, &intercept]);
    shares_raw(g, crate::kernels::link(model.classes), &out)
}
