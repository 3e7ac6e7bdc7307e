//! SHAP explanations in the model's raw output space (the value, the
//! log-odds of the positive class, or one logit per class), one contribution
//! per input column of the schema, so that for every row and output
//! `base + sum(contributions) = raw output`.
//!
//! - Boosted trees: exact path-dependent TreeSHAP (Lundberg et al. 2018,
//!   Algorithm 2), using the training rows that reached each node as cover.
//!   O(T · L · D²) per row.
//! - Linear models: exact SHAP for independent features, `w · (x - E[x])`,
//!   with `E[x]` from the training statistics in the schema; one-hot and
//!   missing-indicator columns are summed back into their source column.
//! - Baseline: every contribution is zero.

use crate::artifact::ModelArtifact;
use crate::data::Dataset;
use crate::encode::{FeatureStats, LinearColumn, LinearEncoder};
use crate::error::Result;
use crate::gbdt::{Booster, Tree};
use crate::linear::LinearModel;
use crate::task::Task;

/// SHAP values for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Input columns, in schema order.
    pub features: Vec<String>,
    /// What each output is: `value` (regression), the positive class
    /// (binary, as log-odds), or each class (multiclass, as logits).
    pub outputs: Vec<String>,
    /// Expected raw output per output.
    pub base: Vec<f64>,
    /// Raw model output, `rows * outputs`, row-major.
    pub raw: Vec<f64>,
    /// `rows * outputs * features`, row-major.
    pub values: Vec<f64>,
}

impl Explanation {
    pub fn n_rows(&self) -> usize {
        self.raw.len() / self.outputs.len().max(1)
    }

    /// Contributions of `row` to `output`, one per feature.
    pub fn row(&self, row: usize, output: usize) -> &[f64] {
        let f = self.features.len();
        let start = (row * self.outputs.len() + output) * f;
        &self.values[start..start + f]
    }
}

impl ModelArtifact {
    /// Explains every row of `data` (columns matched by name, as for
    /// `predict`), one contribution per input column: with a recipe, the
    /// features a column becomes (one-hot columns, date parts) are summed
    /// back into it.
    pub fn explain(&self, data: &Dataset) -> Result<Explanation> {
        let e = self.explain_features(&*self.prepare(data)?)?;
        let Some(recipe) = &self.recipe else {
            return Ok(e);
        };
        let inputs: Vec<String> = recipe.inputs.iter().map(|f| f.name.clone()).collect();
        let to_input: Vec<usize> = recipe
            .sources(&e.features)
            .iter()
            .map(|s| inputs.iter().position(|i| i == s).unwrap_or(0))
            .collect();
        let (nf, ni) = (e.features.len(), inputs.len());
        let mut values = vec![0.0; e.values.len() / nf.max(1) * ni];
        for (block, out) in e.values.chunks(nf).zip(values.chunks_mut(ni)) {
            for (j, v) in block.iter().enumerate() {
                out[to_input[j]] += v;
            }
        }
        Ok(Explanation {
            features: inputs,
            values,
            ..e
        })
    }

    /// Explains rows that are already in feature space (after the recipe).
    fn explain_features(&self, data: &Dataset) -> Result<Explanation> {
        let schema = &self.schema;
        let rows: Vec<usize> = (0..data.n_rows()).collect();
        let features: Vec<String> = schema.features.iter().map(|f| f.name.clone()).collect();
        let outputs: Vec<String> = match schema.task {
            Task::Regression => vec!["value".to_owned()],
            Task::Binary => vec![schema.classes[1].clone()],
            Task::Multiclass => schema.classes.clone(),
        };
        let k = outputs.len();
        let crate::families::Shap { base, raw, values } =
            self.model.explain(schema, data, &rows)?;
        debug_assert_eq!(base.len(), k);
        Ok(Explanation {
            features,
            outputs,
            base,
            raw,
            values,
        })
    }

    /// Raw model output (`rows * outputs`): what [`Explanation`] decomposes.
    pub fn raw(&self, data: &Dataset) -> Result<Vec<f64>> {
        Ok(self.explain(data)?.raw)
    }
}

/// Expected value of each encoded column over the training rows, and the
/// schema feature each encoded column comes from.
pub(crate) fn encoded_means(
    encoder: &LinearEncoder,
    features: &[FeatureStats],
) -> (Vec<f64>, Vec<usize>) {
    let mut means = Vec::with_capacity(encoder.width());
    let mut source = Vec::with_capacity(encoder.width());
    // Encoders fitted on data keep their columns' training means.
    let kept = encoder.means.len() == encoder.width();
    for c in &encoder.columns {
        match c {
            LinearColumn::Numeric {
                feature,
                fill,
                mean,
                scale,
                indicator,
                ..
            } => {
                let s = &features[*feature];
                let rows = s.rows.max(1) as f64;
                let missing = s.missing.min(s.rows) as f64;
                let observed = if s.mean.is_finite() { s.mean } else { *fill };
                let filled = ((rows - missing) * observed + missing * fill) / rows;
                means.push((filled - mean) / scale);
                source.push(*feature);
                if *indicator {
                    means.push(missing / rows);
                    source.push(*feature);
                }
            }
            LinearColumn::OneHot { feature, levels } => {
                let s = &features[*feature];
                let rows = s.rows.max(1) as f64;
                for l in 0..levels.len() {
                    let count = s.level_counts.get(l).copied().unwrap_or(0) as f64;
                    means.push(count / rows);
                    source.push(*feature);
                }
            }
            LinearColumn::Mapped { feature, .. } => {
                // Standardised over the training rows: mean 0.
                means.push(0.0);
                source.push(*feature);
            }
        }
    }
    if kept {
        means.clone_from(&encoder.means);
    }
    (means, source)
}

/// `(base, values)` for row-major encoded rows `x`.
pub(crate) fn linear_shap(
    encoder: &LinearEncoder,
    model: &LinearModel,
    features: &[FeatureStats],
    x: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let (means, source) = encoded_means(encoder, features);
    let (w, k, nf) = (model.width, model.outputs, features.len());
    let base: Vec<f64> = (0..k)
        .map(|o| {
            let weights = &model.weights[o * w..(o + 1) * w];
            model.intercepts[o] + weights.iter().zip(&means).map(|(a, b)| a * b).sum::<f64>()
        })
        .collect();
    let n = x.len() / w.max(1);
    let mut values = vec![0.0; n * k * nf];
    for r in 0..n {
        let row = &x[r * w..(r + 1) * w];
        for o in 0..k {
            let weights = &model.weights[o * w..(o + 1) * w];
            let out = &mut values[(r * k + o) * nf..(r * k + o + 1) * nf];
            for j in 0..w {
                out[source[j]] += weights[j] * (row[j] - means[j]);
            }
        }
    }
    (base, values)
}

/// Permutations per row of the sampling estimator (in antithetic pairs).
const PERMUTATIONS: usize = 6;

/// Permutation SHAP (a seeded sampling estimator) for a network on encoded
/// rows `x`: for each permutation of the input columns and each background
/// row, the columns of `x` replace the background's one source column at a
/// time, and each change of the output is credited to that column. Every
/// path adds up to `f(x) - f(background)`, so the values add up exactly to
/// the output minus the base (the mean output over the background).
/// Permutations are seeded by the row's values: a row always gets the same
/// explanation.
pub(crate) fn permutation_shap(
    model: &crate::mlp::MlpModel,
    source: &[usize],
    nf: usize,
    x: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let d = model.inputs().max(1);
    let k = model.outputs();
    let background = &model.background;
    let bg_raw: Vec<Vec<f64>> = background.iter().map(|b| model.raw(b)).collect();
    let base: Vec<f64> = (0..k)
        .map(|o| bg_raw.iter().map(|r| r[o]).sum::<f64>() / bg_raw.len().max(1) as f64)
        .collect();
    let n = x.len() / d;
    let mut values = vec![0.0; n * k * nf];
    let mut columns_of: Vec<Vec<usize>> = vec![Vec::new(); nf];
    for (j, &f) in source.iter().enumerate() {
        columns_of[f].push(j);
    }
    let paths = (PERMUTATIONS * background.len()).max(1) as f64;
    for r in 0..n {
        let row = &x[r * d..(r + 1) * d];
        let seed = row
            .iter()
            .fold(0x9e37_79b9_u64, |h, v| h.rotate_left(7) ^ v.to_bits());
        let mut rng = crate::rng::Rng::new(seed);
        let phi = &mut values[r * k * nf..(r + 1) * k * nf];
        let mut order: Vec<usize> = (0..nf).collect();
        for p in 0..PERMUTATIONS {
            if p % 2 == 0 {
                rng.shuffle(&mut order);
            } else {
                // Antithetic: the reverse of the previous permutation.
                order.reverse();
            }
            // Every intermediate input of the permutation's paths (one per
            // background row), in one batch.
            let mut states = Vec::with_capacity(background.len() * nf * d);
            for bg in background {
                let mut z = bg.clone();
                for &f in &order {
                    for &j in &columns_of[f] {
                        z[j] = row[j];
                    }
                    states.extend_from_slice(&z);
                }
            }
            let out = model.raw(&states);
            for (b, path) in out.chunks(nf * k).enumerate() {
                let mut prev = bg_raw[b].clone();
                for (step, &f) in order.iter().enumerate() {
                    for o in 0..k {
                        let cur = path[step * k + o];
                        phi[o * nf + f] += cur - prev[o];
                        prev[o] = cur;
                    }
                }
            }
        }
        phi.iter_mut().for_each(|v| *v /= paths);
    }
    (base, values)
}

/// `(base, values)` for column-major tree features.
fn tree_shap(booster: &Booster, cols: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let (k, nf) = (booster.outputs, booster.n_features);
    let mut base = booster.base_score.clone();
    for (t, tree) in booster.trees.iter().enumerate() {
        base[t % k] += expected_value(tree);
    }
    let n = cols.first().map_or(0, Vec::len);
    let mut values = vec![0.0; n * k * nf];
    let mut path = Vec::new();
    let mut x = vec![0.0; nf];
    for r in 0..n {
        for (f, c) in cols.iter().enumerate() {
            x[f] = c[r];
        }
        for (t, tree) in booster.trees.iter().enumerate() {
            let o = t % k;
            let phi = &mut values[(r * k + o) * nf..(r * k + o + 1) * nf];
            tree_shap_row(tree, &x, phi, &mut path);
        }
    }
    (base, values)
}

impl Booster {
    /// TreeSHAP for column-major features: the expected raw output per
    /// output, and `rows * outputs * features` contributions.
    pub fn shap(&self, cols: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
        tree_shap(self, cols)
    }
}

/// Mean leaf value weighted by the training rows reaching each leaf.
pub(crate) fn expected_value(tree: &Tree) -> f64 {
    let root = f64::from(tree.nodes[0].count.max(1));
    tree.nodes
        .iter()
        .filter(|n| n.is_leaf())
        .map(|n| n.value * f64::from(n.count) / root)
        .sum()
}

#[derive(Debug, Clone, Copy, Default)]
struct PathElement {
    feature: usize,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

/// No feature: the element that starts every path.
const NO_FEATURE: usize = usize::MAX;

/// Adds this tree's contributions for one row `x` to `phi`.
fn tree_shap_row(tree: &Tree, x: &[f64], phi: &mut [f64], path: &mut Vec<PathElement>) {
    if tree.nodes.len() < 2 {
        return;
    }
    recurse(tree, x, phi, path, 0, 0, 0, 1.0, 1.0, NO_FEATURE);
}

/// The recursion of Algorithm 2. Each call owns the slice of `buf` that
/// starts right after its parent's; the parent's path has `depth` elements
/// (`depth + 1` counting the one this call adds).
#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    x: &[f64],
    phi: &mut [f64],
    buf: &mut Vec<PathElement>,
    parent_start: usize,
    node: usize,
    depth: usize,
    zero_fraction: f64,
    one_fraction: f64,
    feature: usize,
) {
    let start = parent_start + depth + 1;
    if buf.len() < start + depth + 2 {
        buf.resize(start + depth + 2, PathElement::default());
    }
    buf.copy_within(parent_start..parent_start + depth, start);
    let path = &mut buf[start..start + depth + 1];
    extend(path, depth, zero_fraction, one_fraction, feature);
    let n = &tree.nodes[node];
    if n.is_leaf() {
        leaf_contributions(path, depth, n.value, phi);
        return;
    }
    let v = x[n.feature as usize];
    let goes_left = if v.is_nan() {
        n.default_left
    } else {
        v <= n.threshold
    };
    let (hot, cold) = if goes_left {
        (n.left, n.right)
    } else {
        (n.right, n.left)
    };
    let (hot, cold) = (hot as usize, cold as usize);
    let cover = f64::from(n.count.max(1));
    let hot_zero = f64::from(tree.nodes[hot].count) / cover;
    let cold_zero = f64::from(tree.nodes[cold].count) / cover;
    let split = n.feature as usize;
    let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
    let mut depth = depth;
    if let Some(i) = (1..=depth).find(|&i| path[i].feature == split) {
        incoming_zero = path[i].zero_fraction;
        incoming_one = path[i].one_fraction;
        unwind(path, depth, i);
        depth -= 1;
    }
    recurse(
        tree,
        x,
        phi,
        buf,
        start,
        hot,
        depth + 1,
        hot_zero * incoming_zero,
        incoming_one,
        split,
    );
    recurse(
        tree,
        x,
        phi,
        buf,
        start,
        cold,
        depth + 1,
        cold_zero * incoming_zero,
        0.0,
        split,
    );
}

fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: usize) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d = (depth + 1) as f64;
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / d;
        path[i].weight = zero * path[i].weight * (depth - i) as f64 / d;
    }
}

fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d = (depth + 1) as f64;
    let mut next = path[depth].weight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next * d / ((i + 1) as f64 * one);
            next = tmp - path[i].weight * zero * (depth - i) as f64 / d;
        } else {
            path[i].weight = path[i].weight * d / (zero * (depth - i) as f64);
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

/// Adds the leaf's `value` times each path element's weight to `phi`: the
/// unwound sum of Algorithm 2 for every element. For elements the row does
/// not follow (`one_fraction == 0`) the sum is `(depth + 1) · S / zero`
/// with `S = Σ w_i / (depth − i)` shared by all of them. The elements the
/// row follows need an O(depth) recurrence each; up to [`LANES`] of them run
/// side by side, so the recurrences overlap instead of waiting on each other.
fn leaf_contributions(path: &[PathElement], depth: usize, value: f64, phi: &mut [f64]) {
    let d = (depth + 1) as f64;
    let inv_d = 1.0 / d;
    let mut shared: Option<f64> = None;
    let mut scale = [0.0f64; LANES];
    let mut zero = [0.0f64; LANES];
    let mut factor = [0.0f64; LANES];
    let mut feature = [0usize; LANES];
    let mut m = 0;
    for e in &path[1..=depth] {
        let (one, z) = (e.one_fraction, e.zero_fraction);
        if one == 0.0 {
            if z == 0.0 {
                continue;
            }
            let s = *shared.get_or_insert_with(|| {
                (0..depth)
                    .map(|i| path[i].weight / (depth - i) as f64)
                    .sum::<f64>()
            });
            // w · (one − zero) = (d · s / zero) · (−zero).
            phi[e.feature] -= d * s * value;
        } else if m < LANES {
            scale[m] = d / one;
            zero[m] = z;
            factor[m] = (one - z) * value;
            feature[m] = e.feature;
            m += 1;
        } else {
            let total = followed_sum(path, depth, d / one, z, inv_d);
            phi[e.feature] += total * (one - z) * value;
        }
    }
    if m == 0 {
        return;
    }
    let mut next = [path[depth].weight; LANES];
    let mut total = [0.0f64; LANES];
    for i in (0..depth).rev() {
        let inv = reciprocal(i + 1);
        let c = (depth - i) as f64 * inv_d;
        let w = path[i].weight;
        for k in 0..m {
            let tmp = next[k] * scale[k] * inv;
            total[k] += tmp;
            next[k] = w - tmp * zero[k] * c;
        }
    }
    for k in 0..m {
        phi[feature[k]] += total[k] * factor[k];
    }
}

/// Path elements whose recurrences run side by side.
const LANES: usize = 32;

/// The unwound sum of one followed element (`scale = (depth + 1) / one`).
fn followed_sum(path: &[PathElement], depth: usize, scale: f64, zero: f64, inv_d: f64) -> f64 {
    let mut next = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        let tmp = next * scale * reciprocal(i + 1);
        total += tmp;
        next = path[i].weight - tmp * zero * (depth - i) as f64 * inv_d;
    }
    total
}

fn reciprocal(i: usize) -> f64 {
    match RECIPROCALS.get(i) {
        Some(r) => *r,
        None => 1.0 / i as f64,
    }
}

/// `1 / i` for the path lengths trees reach (depth at most 64 here; deeper
/// paths fall back to division).
const RECIPROCALS: [f64; 66] = {
    let mut r = [0.0; 66];
    let mut i = 1;
    while i < 66 {
        r[i] = 1.0 / i as f64;
        i += 1;
    }
    r
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbdt::{GbdtParams, fit};
    use crate::rng::Rng;
    use crate::task::Target;

    fn synthetic(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|f| {
                (0..n)
                    .map(|_| {
                        if f == 1 && rng.next_f64() < 0.15 {
                            f64::NAN
                        } else {
                            rng.next_f64() * 4.0 - 2.0
                        }
                    })
                    .collect()
            })
            .collect();
        let y = (0..n)
            .map(|r| {
                let x1 = if cols[1][r].is_nan() { 3.0 } else { cols[1][r] };
                (cols[0][r] * 2.0).sin() + x1 * cols[2][r] + f64::from(u8::from(cols[3][r] > 0.5))
            })
            .collect();
        (cols, y)
    }

    fn booster(target: &Target, cols: &[Vec<f64>]) -> Booster {
        let params = GbdtParams {
            n_rounds: 20,
            max_leaves: 8,
            min_samples_leaf: 5,
            early_stopping_rounds: 0,
            ..Default::default()
        };
        fit(cols, target, None, &params, &|| false).unwrap().0
    }

    /// `E[f(x) | x_S]` under the path-dependent (cover-weighted) model.
    fn conditional(tree: &Tree, node: usize, x: &[f64], known: u32) -> f64 {
        let n = &tree.nodes[node];
        if n.is_leaf() {
            return n.value;
        }
        let (l, r) = (n.left as usize, n.right as usize);
        if known & (1 << n.feature) != 0 {
            let v = x[n.feature as usize];
            let left = if v.is_nan() {
                n.default_left
            } else {
                v <= n.threshold
            };
            conditional(tree, if left { l } else { r }, x, known)
        } else {
            let c = f64::from(n.count);
            (f64::from(tree.nodes[l].count) * conditional(tree, l, x, known)
                + f64::from(tree.nodes[r].count) * conditional(tree, r, x, known))
                / c
        }
    }

    /// Shapley values by enumerating every subset of features.
    fn brute_force(tree: &Tree, x: &[f64]) -> Vec<f64> {
        let m = x.len();
        let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
        (0..m)
            .map(|i| {
                (0u32..1 << m)
                    .filter(|s| s & (1 << i) == 0)
                    .map(|s| {
                        let size = s.count_ones() as usize;
                        let w = fact(size) * fact(m - size - 1) / fact(m);
                        w * (conditional(tree, 0, x, s | (1 << i)) - conditional(tree, 0, x, s))
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn tree_shap_equals_exact_shapley_values() {
        let (cols, y) = synthetic(300, 7);
        let b = booster(&Target::Regression(y), &cols);
        let mut path = Vec::new();
        let mut checked = 0;
        for r in 0..40 {
            let x: Vec<f64> = cols.iter().map(|c| c[r]).collect();
            for tree in b.trees.iter().take(6) {
                let mut phi = vec![0.0; 4];
                tree_shap_row(tree, &x, &mut phi, &mut path);
                let exact = brute_force(tree, &x);
                for (a, e) in phi.iter().zip(&exact) {
                    assert!((a - e).abs() < 1e-12, "row {r}: {phi:?} vs {exact:?}");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 240);
    }

    #[test]
    fn tree_contributions_add_up_for_every_objective() {
        let (cols, y) = synthetic(300, 11);
        let binary: Vec<usize> = y.iter().map(|&v| usize::from(v > 0.5)).collect();
        let three: Vec<usize> = y
            .iter()
            .map(|&v| {
                if v < 0.0 {
                    0
                } else if v < 1.2 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let targets = [
            Target::Regression(y),
            Target::Classes {
                classes: vec!["a".into(), "b".into()],
                y: binary,
            },
            Target::Classes {
                classes: vec!["a".into(), "b".into(), "c".into()],
                y: three,
            },
        ];
        for target in &targets {
            let b = booster(target, &cols);
            let raw = b.raw(&cols);
            let (base, values) = tree_shap(&b, &cols);
            let (k, nf) = (b.outputs, b.n_features);
            for r in 0..300 {
                for o in 0..k {
                    let phi = &values[(r * k + o) * nf..(r * k + o + 1) * nf];
                    let total = base[o] + phi.iter().sum::<f64>();
                    assert!(
                        (total - raw[r * k + o]).abs() < 1e-9,
                        "row {r} output {o}: {total} vs {}",
                        raw[r * k + o]
                    );
                }
            }
            assert!(values.iter().any(|v| v.abs() > 1e-6));
        }
    }

    fn reference(name: &str) -> serde_json::Value {
        let path = format!("{}/test_data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// Appends a dumped LightGBM node and its subtree, parents before children.
    fn convert_node(v: &serde_json::Value, nodes: &mut Vec<crate::gbdt::Node>) -> u32 {
        let at = nodes.len();
        if v.get("leaf_value").is_some() {
            nodes.push(crate::gbdt::Node {
                feature: 0,
                threshold: 0.0,
                default_left: false,
                left: 0,
                right: 0,
                value: v["leaf_value"].as_f64().unwrap(),
                count: v["leaf_count"].as_u64().unwrap() as u32,
            });
            return at as u32;
        }
        assert_eq!(v["decision_type"], "<=");
        nodes.push(crate::gbdt::Node {
            feature: v["split_feature"].as_u64().unwrap() as u32,
            threshold: v["threshold"].as_f64().unwrap(),
            // Features without missing values in training never see NaN here.
            default_left: v["default_left"].as_bool().unwrap(),
            left: 0,
            right: 0,
            value: 0.0,
            count: v["internal_count"].as_u64().unwrap() as u32,
        });
        let left = convert_node(&v["left_child"], nodes);
        let right = convert_node(&v["right_child"], nodes);
        nodes[at].left = left;
        nodes[at].right = right;
        at as u32
    }

    /// LightGBM 4.7.0 models and `pred_contrib` values from
    /// `test_data/reference/make_reference.py`.
    #[test]
    fn tree_shap_matches_lightgbm_pred_contrib() {
        use crate::gbdt::Objective;
        for (file, objective) in [
            ("lightgbm_regression.json", Objective::SquaredError),
            ("lightgbm_binary.json", Objective::Logistic),
            ("lightgbm_multiclass.json", Objective::Softmax),
        ] {
            let r = reference(file);
            let k = r["num_class"].as_u64().unwrap() as usize;
            let nf = r["n_features"].as_u64().unwrap() as usize;
            let trees = r["model"]["tree_info"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    let mut nodes = Vec::new();
                    convert_node(&t["tree_structure"], &mut nodes);
                    Tree { nodes }
                })
                .collect();
            let booster = Booster {
                objective,
                outputs: k,
                n_features: nf,
                // LightGBM folds its starting score into the first trees.
                base_score: vec![0.0; k],
                trees,
            };
            booster.validate().unwrap();
            let rows = r["X"].as_array().unwrap();
            let cols: Vec<Vec<f64>> = (0..nf)
                .map(|f| {
                    rows.iter()
                        .map(|row| row[f].as_f64().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect();
            assert!(
                cols[0].iter().any(|x| x.is_nan()),
                "{file} has missing values"
            );
            let raw = booster.raw(&cols);
            let (base, values) = tree_shap(&booster, &cols);
            let mut worst: f64 = 0.0;
            let expected = r["raw"]
                .as_array()
                .unwrap()
                .iter()
                .zip(r["contrib"].as_array().unwrap());
            for (i, (want_raw, want)) in expected.enumerate() {
                for o in 0..k {
                    let got_raw = raw[i * k + o];
                    let diff = (got_raw - want_raw[o].as_f64().unwrap()).abs();
                    assert!(diff < 1e-9, "{file} row {i}: raw differs by {diff}");
                    let block = &want.as_array().unwrap()[o * (nf + 1)..(o + 1) * (nf + 1)];
                    worst = worst.max((base[o] - block[nf].as_f64().unwrap()).abs());
                    for f in 0..nf {
                        let got = values[(i * k + o) * nf + f];
                        worst = worst.max((got - block[f].as_f64().unwrap()).abs());
                    }
                }
            }
            assert!(worst < 1e-9, "{file}: largest difference {worst}");
        }
    }

    #[test]
    fn network_contributions_add_up_and_do_not_depend_on_the_batch() {
        use crate::data::Column;
        let n = 300;
        let mut rng = Rng::new(4);
        let a: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let b: Vec<f64> = (0..n)
            .map(|i| if i % 10 == 0 { f64::NAN } else { rng.normal() })
            .collect();
        let c: Vec<Option<String>> = (0..n)
            .map(|i| Some(["x", "y", "z"][i % 3].to_owned()))
            .collect();
        let y: Vec<usize> = (0..n)
            .map(|i| usize::from(a[i] * 2.0 + if i % 3 == 0 { 1.0 } else { -0.5 } > 0.0))
            .collect();
        let data = Dataset::new(vec![
            ("a".into(), Column::Numeric(a)),
            ("b".into(), Column::Numeric(b)),
            ("c".into(), Column::Categorical(c)),
        ])
        .unwrap();
        let rows: Vec<usize> = (0..n).collect();
        let features: Vec<FeatureStats> = ["a", "b", "c"]
            .iter()
            .map(|f| FeatureStats::fit(f, data.column(f).unwrap(), &rows))
            .collect();
        let encoder = LinearEncoder::fit(&features);
        let x = encoder.transform(&features, &data, &rows).unwrap();
        let classes = vec!["no".to_owned(), "yes".to_owned()];
        let target = Target::Classes {
            classes: classes.clone(),
            y,
        };
        let params = crate::mlp::MlpParams {
            max_epochs: 30,
            ..Default::default()
        };
        let (model, _) =
            crate::mlp::fit(&x, encoder.width(), &target, None, &params, &|| false).unwrap();
        let art = artifact(
            Task::Binary,
            classes,
            crate::families::MlpFit { encoder, model }.into(),
            features,
        );
        let e = art.explain(&data).unwrap();
        for r in 0..n {
            let total = e.base[0] + e.row(r, 0).iter().sum::<f64>();
            assert!(
                (total - e.raw[r]).abs() < 1e-9,
                "row {r}: {total} vs {}",
                e.raw[r]
            );
        }
        // `a` drives the target; `b` is noise.
        let mean_abs = |f: usize| (0..n).map(|r| e.row(r, 0)[f].abs()).sum::<f64>() / n as f64;
        assert!(
            mean_abs(0) > 3.0 * mean_abs(1),
            "{} vs {}",
            mean_abs(0),
            mean_abs(1)
        );
        // The same row explained alone gets the same values.
        let one = Dataset::new(
            data.columns()
                .map(|(name, col)| {
                    let col = match col {
                        Column::Numeric(v) => Column::Numeric(vec![v[7]]),
                        Column::Categorical(v) => Column::Categorical(vec![v[7].clone()]),
                    };
                    (name.to_owned(), col)
                })
                .collect(),
        )
        .unwrap();
        assert_eq!(art.explain(&one).unwrap().row(0, 0), e.row(7, 0));
    }

    fn artifact(
        task: Task,
        classes: Vec<String>,
        model: crate::artifact::FittedModel,
        features: Vec<FeatureStats>,
    ) -> ModelArtifact {
        ModelArtifact {
            format_version: crate::artifact::FORMAT_VERSION,
            kiln_version: "test".into(),
            created: String::new(),
            schema: crate::artifact::Schema {
                target: "y".into(),
                task,
                classes,
                features,
            },
            recipe: None,
            model,
            params: String::new(),
            metrics: Vec::new(),
            training_rows: 0,
        }
    }

    #[test]
    fn linear_contributions_add_up_and_sum_one_hot_columns_back() {
        use crate::data::Column;
        use crate::linear::LinearParams;
        let n = 200;
        let mut rng = Rng::new(3);
        let num: Vec<f64> = (0..n)
            .map(|i| if i % 9 == 0 { f64::NAN } else { rng.normal() })
            .collect();
        let cat: Vec<Option<String>> = (0..n)
            .map(|i| (i % 7 != 0).then(|| ["red", "green", "blue"][i % 3].to_owned()))
            .collect();
        let data = Dataset::new(vec![
            ("num".into(), Column::Numeric(num.clone())),
            ("cat".into(), Column::Categorical(cat)),
        ])
        .unwrap();
        let rows: Vec<usize> = (0..n).collect();
        let features = vec![
            FeatureStats::fit("num", data.column("num").unwrap(), &rows),
            FeatureStats::fit("cat", data.column("cat").unwrap(), &rows),
        ];
        let encoder = LinearEncoder::fit(&features);
        let x = encoder.transform(&features, &data, &rows).unwrap();
        let y: Vec<usize> = (0..n)
            .map(|i| (i % 3 + usize::from(num[i] > 0.0)) % 3)
            .collect();
        for (task, classes, target) in [
            (
                Task::Regression,
                vec![],
                Target::Regression(num.iter().map(|v| v.max(0.0) + 1.0).collect()),
            ),
            (
                Task::Multiclass,
                vec!["a".into(), "b".into(), "c".into()],
                Target::Classes {
                    classes: vec!["a".into(), "b".into(), "c".into()],
                    y: y.clone(),
                },
            ),
        ] {
            let model =
                LinearModel::fit(&x, encoder.width(), &target, &LinearParams::default()).unwrap();
            let a = artifact(
                task,
                classes,
                crate::families::LinearFit {
                    encoder: encoder.clone(),
                    model,
                }
                .into(),
                features.clone(),
            );
            let e = a.explain(&data).unwrap();
            let k = e.outputs.len();
            assert_eq!(e.features, ["num", "cat"]);
            for r in 0..n {
                for o in 0..k {
                    let total = e.base[o] + e.row(r, o).iter().sum::<f64>();
                    assert!((total - e.raw[r * k + o]).abs() < 1e-9);
                }
            }
            // The mean contribution over the training rows is zero.
            for f in 0..2 {
                let mean: f64 = (0..n).map(|r| e.row(r, 0)[f]).sum::<f64>() / n as f64;
                assert!(mean.abs() < 1e-9, "feature {f}: {mean}");
            }
        }
    }
}
