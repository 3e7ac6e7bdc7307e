//! Exact path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2) in
//! the raw output space, using the training rows that reached each node as
//! cover: O(T · L · D²) per row. Checked against brute-force Shapley values
//! and LightGBM's `pred_contrib` (`crate::explain`'s tests).

use super::booster::{Booster, Tree};

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
    let mut walk = Walk {
        tree,
        x,
        phi,
        buf: path,
    };
    walk.recurse(0, 0, 0, 1.0, 1.0, NO_FEATURE);
}

/// One row's walk down one tree: the row, its contributions so far, and
/// the buffer that holds every open path.
struct Walk<'a> {
    tree: &'a Tree,
    x: &'a [f64],
    phi: &'a mut [f64],
    buf: &'a mut Vec<PathElement>,
}

impl Walk<'_> {
    /// The recursion of Algorithm 2. Each call owns the slice of `buf` that
    /// starts right after its parent's; the parent's path has `depth`
    /// elements (`depth + 1` counting the one this call adds).
    fn recurse(
        &mut self,
        parent_start: usize,
        node: usize,
        depth: usize,
        zero_fraction: f64,
        one_fraction: f64,
        feature: usize,
    ) {
        let start = parent_start + depth + 1;
        if self.buf.len() < start + depth + 2 {
            self.buf.resize(start + depth + 2, PathElement::default());
        }
        self.buf
            .copy_within(parent_start..parent_start + depth, start);
        let path = &mut self.buf[start..start + depth + 1];
        extend(path, depth, zero_fraction, one_fraction, feature);
        let tree = self.tree;
        let n = &tree.nodes[node];
        if n.is_leaf() {
            leaf_contributions(path, depth, n.value, self.phi);
            return;
        }
        let v = self.x[n.feature as usize];
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
        let (hot_zero, cold_zero) = (hot_zero * incoming_zero, cold_zero * incoming_zero);
        self.recurse(start, hot, depth + 1, hot_zero, incoming_one, split);
        self.recurse(start, cold, depth + 1, cold_zero, 0.0, split);
    }
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
    use crate::gbdt::booster::Node;
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
    fn convert_node(v: &serde_json::Value, nodes: &mut Vec<Node>) -> u32 {
        let at = nodes.len();
        if v.get("leaf_value").is_some() {
            nodes.push(Node {
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
        nodes.push(Node {
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
}
