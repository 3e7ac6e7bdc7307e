//! A small multilayer perceptron on the linear encoder's output (scaled
//! numbers, missing indicators, one-hot categories): 1 to 3 ReLU hidden
//! layers, Adam on mini-batches with decoupled weight decay, early stopping
//! on validation rows. Regression targets are standardised for training.
//! Every random choice comes from the seed.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::task::Target;

/// Rows an epoch visits at most.
const MAX_ROWS_PER_EPOCH: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpParams {
    pub hidden: Vec<usize>,
    pub learning_rate: f64,
    /// Decoupled weight decay (AdamW), per step, times the learning rate.
    pub weight_decay: f64,
    pub batch_size: usize,
    pub max_epochs: usize,
    /// Stop when the validation loss has not improved for this many epochs.
    pub patience: usize,
    pub seed: u64,
}

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden: vec![64],
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            batch_size: 128,
            max_epochs: 200,
            patience: 12,
            seed: 0,
        }
    }
}

impl MlpParams {
    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, reason: &str| {
            Err(Error::Parameter {
                name,
                reason: reason.into(),
            })
        };
        if self.hidden.is_empty() || self.hidden.len() > 3 || self.hidden.contains(&0) {
            return bad("hidden", "1 to 3 hidden layers of at least one unit");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return bad("learning_rate", "must be in (0, 1)");
        }
        if self.batch_size == 0 || self.max_epochs == 0 {
            return bad("batch_size", "batch size and epochs must be at least 1");
        }
        Ok(())
    }
}

/// One dense layer: `out = W x + b`, `W` is `outputs × inputs`, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
}

/// A fitted network. Raw outputs are the value (rescaled), the log-odds or
/// the logits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpModel {
    pub layers: Vec<Dense>,
    /// Regression targets were trained as `(y - y_mean) / y_scale`.
    pub y_mean: f64,
    pub y_scale: f64,
    /// Encoded training rows, the background of the SHAP estimator.
    pub background: Vec<Vec<f64>>,
}

fn relu_in_place(a: &mut Array2<f64>) {
    a.mapv_inplace(|v| v.max(0.0));
}

fn matrix(layer: &Dense) -> ArrayView2<'_, f64> {
    ArrayView2::from_shape((layer.outputs, layer.inputs), &layer.weights)
        .expect("validated layer shape")
}

impl MlpModel {
    pub fn inputs(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    /// Raw outputs (`n * outputs`, row-major) for row-major encoded rows.
    pub(crate) fn raw(&self, x: &[f64]) -> Vec<f64> {
        let d = self.inputs().max(1);
        let n = x.len() / d;
        let Ok(input) = ArrayView2::from_shape((n, d), x) else {
            return Vec::new();
        };
        let mut h = input.to_owned();
        for (i, layer) in self.layers.iter().enumerate() {
            let mut z = h.dot(&matrix(layer).t());
            z += &Array1::from(layer.bias.clone());
            if i + 1 < self.layers.len() {
                relu_in_place(&mut z);
            }
            h = z;
        }
        // Classification has mean 0 and scale 1.
        h.iter().map(|v| self.y_mean + self.y_scale * v).collect()
    }

    pub(crate) fn validate(&self, width: usize, outputs: usize) -> Result<()> {
        let bad = |m: &str| Err(Error::Artifact(m.to_owned()));
        if self.layers.is_empty() || self.layers.len() > 4 {
            return bad("the network needs 2 to 4 layers");
        }
        let mut inputs = width;
        for l in &self.layers {
            if l.inputs != inputs
                || l.outputs == 0
                || l.outputs > 4096
                || l.weights.len() != l.inputs * l.outputs
                || l.bias.len() != l.outputs
            {
                return bad("the network's layer shapes do not chain");
            }
            inputs = l.outputs;
        }
        if inputs != outputs {
            return bad("the network's outputs do not match the task");
        }
        if !(self.y_mean.is_finite() && self.y_scale.is_finite() && self.y_scale > 0.0) {
            return bad("the network's target scale is not a positive number");
        }
        if self.background.is_empty() || self.background.iter().any(|b| b.len() != width) {
            return bad("the network's background rows do not match its inputs");
        }
        Ok(())
    }
}

/// Per-layer Adam state.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64, t: i32, decay: f64) {
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        let c1 = 1.0 - f64::powi(b1, t);
        let c2 = 1.0 - f64::powi(b2, t);
        for i in 0..params.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * grad[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * grad[i] * grad[i];
            let update = (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + eps);
            params[i] -= lr * (update + decay * params[i]);
        }
    }
}

/// Output gradient of the mean loss for a batch: `dz = (p - y) / n`, and the loss.
fn output_gradient(
    target: &Target,
    rows: &[usize],
    z: &Array2<f64>,
    y_std: &[f64],
) -> (Array2<f64>, f64) {
    let n = rows.len().max(1) as f64;
    let mut dz = z.clone();
    let mut loss = 0.0;
    match target {
        Target::Regression(_) => {
            for (b, &r) in rows.iter().enumerate() {
                let e = z[[b, 0]] - y_std[r];
                dz[[b, 0]] = e / n;
                loss += 0.5 * e * e;
            }
        }
        Target::Classes { y, .. } if z.ncols() == 1 => {
            for (b, &r) in rows.iter().enumerate() {
                let t = f64::from(u8::from(y[r] == 1));
                let p = crate::linear::sigmoid(z[[b, 0]]);
                dz[[b, 0]] = (p - t) / n;
                let zz = z[[b, 0]];
                loss += zz.max(0.0) + (-zz.abs()).exp().ln_1p() - t * zz;
            }
        }
        Target::Classes { y, .. } => {
            for (b, &r) in rows.iter().enumerate() {
                let row = z.row(b);
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = row.iter().map(|v| (v - m).exp()).sum();
                for c in 0..z.ncols() {
                    let p = (z[[b, c]] - m).exp() / sum;
                    dz[[b, c]] = (p - f64::from(u8::from(y[r] == c))) / n;
                }
                loss += m + sum.ln() - z[[b, y[r]]];
            }
        }
    }
    (dz, loss / n)
}

/// Mean loss of `model` on row-major encoded rows `x` for `target`.
fn mean_loss(model: &MlpModel, x: &[f64], target: &Target, y_std: &[f64]) -> f64 {
    let k = model.outputs();
    let mut raw = model.raw(x);
    if let Target::Regression(_) = target {
        raw.iter_mut()
            .for_each(|v| *v = (*v - model.y_mean) / model.y_scale);
    }
    let n = raw.len() / k.max(1);
    let Ok(z) = Array2::from_shape_vec((n, k), raw) else {
        return f64::INFINITY;
    };
    let rows: Vec<usize> = (0..n).collect();
    output_gradient(target, &rows, &z, y_std).1
}

/// What training reports besides the model.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpReport {
    /// Epochs kept (the best validation epoch, or all without validation).
    pub epochs: usize,
    pub stopped: bool,
}

/// The target as the network learns it: regression values standardised
/// (`(mean, scale, standardised values)`), classes as they are.
fn standardised(target: &Target) -> (f64, f64, Vec<f64>) {
    match target {
        Target::Regression(y) => {
            let n = y.len().max(1) as f64;
            let mean = y.iter().sum::<f64>() / n;
            let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let scale = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
            (mean, scale, y.iter().map(|v| (v - mean) / scale).collect())
        }
        Target::Classes { .. } => (0.0, 1.0, Vec::new()),
    }
}

/// Layers of the given sizes, with He initialisation for ReLU layers.
fn initial_layers(sizes: &[usize], rng: &mut Rng) -> Vec<Dense> {
    sizes
        .windows(2)
        .map(|w| {
            let bound = (6.0 / w[0].max(1) as f64).sqrt();
            Dense {
                inputs: w[0],
                outputs: w[1],
                weights: (0..w[0] * w[1])
                    .map(|_| (rng.next_f64() * 2.0 - 1.0) * bound)
                    .collect(),
                bias: vec![0.0; w[1]],
            }
        })
        .collect()
}

/// The layers during training, with their optimiser state.
struct Training<'a> {
    layers: Vec<Dense>,
    adam_w: Vec<Adam>,
    adam_b: Vec<Adam>,
    /// Optimiser steps taken.
    t: i32,
    params: &'a MlpParams,
}

impl<'a> Training<'a> {
    fn new(layers: Vec<Dense>, params: &'a MlpParams) -> Self {
        Training {
            adam_w: layers.iter().map(|l| Adam::new(l.weights.len())).collect(),
            adam_b: layers.iter().map(|l| Adam::new(l.bias.len())).collect(),
            layers,
            t: 0,
            params,
        }
    }

    /// One mini-batch step on `rows` of `input`: forward (keeping each
    /// layer's input), backward, and an Adam step per layer.
    fn step(&mut self, input: &Array2<f64>, rows: &[usize], target: &Target, y_std: &[f64]) {
        self.t += 1;
        let layers = &mut self.layers;
        let mut acts = vec![input.select(Axis(0), rows)];
        for (i, layer) in layers.iter().enumerate() {
            let mut z = acts[i].dot(&matrix(layer).t());
            z += &Array1::from(layer.bias.clone());
            if i + 1 < layers.len() {
                relu_in_place(&mut z);
            }
            acts.push(z);
        }
        let z = acts.pop().expect("output layer");
        let (mut delta, _) = output_gradient(target, rows, &z, y_std);
        let (lr, decay) = (self.params.learning_rate, self.params.weight_decay);
        for i in (0..layers.len()).rev() {
            let a = &acts[i];
            let gw = delta.t().dot(a);
            let gb = delta.sum_axis(Axis(0));
            if i > 0 {
                let mut back = delta.dot(&matrix(&layers[i]));
                // ReLU: no gradient where the unit was off.
                back.zip_mut_with(a, |g, &act| {
                    if act <= 0.0 {
                        *g = 0.0;
                    }
                });
                delta = back;
            }
            let gw = gw.as_standard_layout().to_owned();
            let gw = gw.as_slice().expect("standard layout");
            self.adam_w[i].step(&mut layers[i].weights, gw, lr, self.t, decay);
            let gb = gb.as_slice().expect("contiguous");
            self.adam_b[i].step(&mut layers[i].bias, gb, lr, self.t, 0.0);
        }
    }
}

/// Fits on row-major encoded rows `x` (`n * width`). With `valid`, the
/// validation loss picks the epoch to keep and stops training early.
pub fn fit(
    x: &[f64],
    width: usize,
    target: &Target,
    valid: Option<(&[f64], &Target)>,
    params: &MlpParams,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(MlpModel, MlpReport)> {
    params.check()?;
    let n = target.len();
    let input = ArrayView2::from_shape((n, width), x)
        .map_err(|e| Error::Parameter {
            name: "x",
            reason: e.to_string(),
        })?
        .to_owned();
    let outputs = match target {
        Target::Classes { classes, .. } if classes.len() > 2 => classes.len(),
        _ => 1,
    };
    let (y_mean, y_scale, y_std) = standardised(target);
    let valid_std: Vec<f64> = match valid {
        Some((_, Target::Regression(y))) => y.iter().map(|v| (v - y_mean) / y_scale).collect(),
        _ => Vec::new(),
    };
    let mut rng = Rng::derive(params.seed, 0x31f);
    let sizes: Vec<usize> = std::iter::once(width)
        .chain(params.hidden.iter().copied())
        .chain([outputs])
        .collect();
    let mut training = Training::new(initial_layers(&sizes, &mut rng), params);
    let mut background_rows: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut background_rows);
    background_rows.truncate(16);
    let background: Vec<Vec<f64>> = background_rows
        .iter()
        .map(|&r| x[r * width..(r + 1) * width].to_vec())
        .collect();
    let model_of = |layers: &[Dense]| MlpModel {
        layers: layers.to_vec(),
        y_mean,
        y_scale,
        background: background.clone(),
    };
    let mut order: Vec<usize> = (0..n).collect();
    let batch = params.batch_size.min(n.max(1));
    let mut best: Option<(f64, usize, Vec<Dense>)> = None;
    let mut stopped = false;
    let mut epochs_done = 0;
    for epoch in 0..params.max_epochs {
        if stop() {
            stopped = true;
            break;
        }
        rng.shuffle(&mut order);
        // Large data: an epoch is a fresh sample of rows, not all of them.
        for rows in order[..n.min(MAX_ROWS_PER_EPOCH)].chunks(batch) {
            training.step(&input, rows, target, &y_std);
        }
        epochs_done = epoch + 1;
        if let Some((vx, vt)) = valid {
            let loss = mean_loss(&model_of(&training.layers), vx, vt, &valid_std);
            if !loss.is_finite() {
                break;
            }
            if best.as_ref().is_none_or(|b| loss < b.0 - 1e-9) {
                best = Some((loss, epochs_done, training.layers.clone()));
            } else if best
                .as_ref()
                .is_some_and(|b| epochs_done - b.1 >= params.patience)
            {
                break;
            }
        }
    }
    let (layers, epochs) = match best {
        Some((_, e, l)) => (l, e),
        None => (training.layers, epochs_done.max(1)),
    };
    Ok((model_of(&layers), MlpReport { epochs, stopped }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_xor_like_classes_a_line_cannot() {
        let mut rng = Rng::new(9);
        let n = 600;
        let mut x = Vec::with_capacity(n * 2);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let (a, b) = (rng.next_f64() * 2.0 - 1.0, rng.next_f64() * 2.0 - 1.0);
            x.extend([a, b]);
            y.push(usize::from(a * b > 0.0));
        }
        let target = Target::Classes {
            classes: vec!["no".into(), "yes".into()],
            y: y.clone(),
        };
        let params = MlpParams {
            hidden: vec![32],
            learning_rate: 0.01,
            max_epochs: 150,
            ..Default::default()
        };
        let (m, report) = fit(&x, 2, &target, None, &params, &|| false).unwrap();
        assert_eq!(report.epochs, 150);
        let raw = m.raw(&x);
        let correct = raw
            .iter()
            .zip(&y)
            .filter(|(z, c)| usize::from(**z > 0.0) == **c)
            .count();
        assert!(correct as f64 / n as f64 > 0.9, "{correct} of {n}");
        m.validate(2, 1).unwrap();
    }

    #[test]
    fn regression_is_rescaled_and_early_stopping_keeps_the_best_epoch() {
        let n = 400;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 / n as f64) * 4.0 - 2.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 1000.0 + 300.0 * v * v).collect();
        let (vx, vy): (Vec<f64>, Vec<f64>) = (x[..100].to_vec(), y[..100].to_vec());
        let target = Target::Regression(y.clone());
        let vt = Target::Regression(vy);
        let params = MlpParams {
            hidden: vec![32, 16],
            learning_rate: 0.01,
            max_epochs: 400,
            patience: 20,
            ..Default::default()
        };
        let (m, report) = fit(&x, 1, &target, Some((&vx, &vt)), &params, &|| false).unwrap();
        assert!(report.epochs < 400 || !report.stopped);
        let raw = m.raw(&x);
        let rmse = (raw
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt();
        assert!(rmse < 60.0, "rmse {rmse} on a target with std ~ 360");
    }
}
