//! SHAP explanations in the model's raw output space (the value, the
//! log-odds of the positive class, or one logit per class), one contribution
//! per input column of the schema, so that for every row and output
//! `base + sum(contributions) = raw output`.
//!
//! - Boosted trees: exact path-dependent TreeSHAP (Lundberg et al. 2018,
//!   Algorithm 2), using the training rows that reached each node as cover.
//!   O(T · L · D²) per row.
//! - Random forests and extra trees: the same TreeSHAP of their averaged
//!   trees, which output class shares; for classes, each row's values are
//!   scaled by the ratio of its log-odds' (or log share's) difference from
//!   the expected share's to its share's difference, so they add up exactly
//!   in the raw space with their signs and proportions.
//! - Linear models: exact SHAP for independent features, `w · (x - E[x])`,
//!   with `E[x]` from the training statistics in the schema; one-hot and
//!   missing-indicator columns are summed back into their source column.
//! - Networks, nearest neighbours and kernel ridge: seeded permutation
//!   SHAP over 16 background rows ([`permutation_shap`]), which adds up
//!   exactly.
//! - Baseline: every contribution is zero.

use crate::artifact::ModelArtifact;
use crate::data::Dataset;
use crate::encode::{FeatureStats, LinearColumn, LinearEncoder};
use crate::error::Result;
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
        // A feature made of several inputs (a segment column) shares its
        // value equally among them, so the row's values still add up.
        let to_inputs: Vec<Vec<usize>> = recipe
            .sources(&e.features)
            .iter()
            .map(|s| {
                s.iter()
                    .filter_map(|s| inputs.iter().position(|i| i == s))
                    .collect()
            })
            .collect();
        let (nf, ni) = (e.features.len(), inputs.len());
        let mut values = vec![0.0; e.values.len() / nf.max(1) * ni];
        for (block, out) in e.values.chunks(nf).zip(values.chunks_mut(ni)) {
            for (j, v) in block.iter().enumerate() {
                let to = &to_inputs[j];
                for &i in to {
                    out[i] += v / to.len() as f64;
                }
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

/// Permutation SHAP (a seeded sampling estimator) for a model `raw` of
/// encoded rows (a batch, row-major, `width` columns, `k` outputs per row)
/// on encoded rows `x`: for each permutation of the input columns and each
/// `background` row, the columns of `x` replace the background's one
/// source column at a time, and each change of the output is credited to
/// that column. Every path adds up to `f(x) - f(background)`, so the values
/// add up exactly to the output minus the base (the mean output over the
/// background). Permutations are seeded by the row's values: a row always
/// gets the same explanation.
/// The encoded columns are credited to the schema `features` they come
/// from (`encoder`'s sources).
pub(crate) fn permutation_shap(
    raw: &dyn Fn(&[f64]) -> Vec<f64>,
    (background, width, k): (&[Vec<f64>], usize, usize),
    (encoder, features): (&LinearEncoder, &[FeatureStats]),
    x: &[f64],
) -> crate::families::Shap {
    let (_, source) = encoded_means(encoder, features);
    let nf = features.len();
    let d = width.max(1);
    let bg_raw: Vec<Vec<f64>> = background.iter().map(|b| raw(b)).collect();
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
            let out = raw(&states);
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
    crate::families::Shap {
        base,
        raw: raw(x),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::task::Target;

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
            threshold: None,
            calibration: None,
            left_out: Vec::new(),
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
