//! Calibrated probabilities: a map from the shipped model's raw outputs to
//! probabilities that mean what they say, fitted on its out-of-fold
//! predictions and kept only when it lowers their log loss.
//!
//! - Binary: Platt scaling, `p = sigmoid(scale * z + shift)` on the raw
//!   log-odds `z`, fitted by Newton's method on Platt's smoothed targets.
//! - Multiclass: temperature scaling, `p = softmax(z / temperature)` on the
//!   raw logits, the temperature found by golden-section search (the log
//!   loss is convex in `1 / temperature`).
//!
//! Both act on the raw outputs, before the link, so SHAP values (which
//! explain the raw outputs) are unchanged, and the ONNX export applies the
//! same map with `Mul`/`Add` or `Div` before its `Sigmoid` or `Softmax`.
//!
//! Whether to keep it is decided on the out-of-fold predictions by
//! cross-fitting: the map is fitted on four fifths of them and scores the
//! fifth it did not see, for each fifth; it is kept when those scores'
//! log loss is lower than the uncalibrated one. The model's reported
//! metrics are then those cross-fitted probabilities, never ones the map
//! was fitted on.

use serde::{Deserialize, Serialize};

use crate::artifact::{link, link_inverse};
use crate::error::{Error, Result};
use crate::metrics::log_loss;
use crate::task::Task;

/// How the raw outputs are mapped before the link.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// Binary: `scale * z + shift` on the log-odds.
    Platt { scale: f64, shift: f64 },
    /// Multiclass: `z / temperature` on the logits.
    Temperature { temperature: f64 },
}

/// The calibration an artifact applies, with what it did out of fold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    #[serde(flatten)]
    pub method: Method,
    /// Out-of-fold log loss of the uncalibrated probabilities.
    pub log_loss_before: f64,
    /// Out-of-fold log loss of the calibrated ones (cross-fitted).
    pub log_loss_after: f64,
}

/// Folds of the cross-fitting.
const FOLDS: usize = 5;
/// Fewer out-of-fold rows than this are not calibrated.
const MIN_ROWS: usize = 30;
/// The relative log-loss gain a calibration must bring to be kept.
const MIN_GAIN: f64 = 0.002;

impl Method {
    /// Maps raw outputs (row-major, `k` per row) in place.
    pub fn apply(&self, raw: &mut [f64]) {
        match *self {
            Method::Platt { scale, shift } => raw.iter_mut().for_each(|z| *z = scale * *z + shift),
            Method::Temperature { temperature } => {
                raw.iter_mut().for_each(|z| *z /= temperature);
            }
        }
    }

    /// In words, for the Model page and the CLI.
    pub fn describe(&self) -> String {
        match *self {
            Method::Platt { scale, shift } => {
                format!("Platt scaling (log-odds × {scale:.3} {shift:+.3})")
            }
            Method::Temperature { temperature } => {
                format!("temperature scaling (logits ÷ {temperature:.3})")
            }
        }
    }

    fn fit(task: Task, raw: &[f64], y: &[usize], k: usize) -> Option<Method> {
        match task {
            Task::Binary => platt(raw, y),
            Task::Multiclass => temperature(raw, y, k),
            Task::Regression => None,
        }
    }
}

impl Calibration {
    /// Checks a loaded calibration against the task.
    pub(crate) fn validate(&self, task: Task) -> Result<()> {
        let ok = match self.method {
            Method::Platt { scale, shift } => {
                task == Task::Binary && scale.is_finite() && shift.is_finite()
            }
            Method::Temperature { temperature } => {
                task == Task::Multiclass && temperature.is_finite() && temperature > 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Artifact(format!(
                "the calibration ({:?}) does not fit a {task:?} model",
                self.method
            )))
        }
    }
}

/// The calibration to ship with a classifier whose out-of-fold
/// probabilities are `oof` (row-major, `k` per row) for labels `y`, and
/// the cross-fitted calibrated probabilities; `None` when it would not
/// lower the out-of-fold log loss.
pub(crate) fn choose(
    task: Task,
    oof: &[f64],
    y: &[usize],
    k: usize,
) -> Option<(Calibration, Vec<f64>)> {
    if task == Task::Regression || y.len() < MIN_ROWS || oof.len() != y.len() * k {
        return None;
    }
    let outputs = if task == Task::Binary { 1 } else { k };
    let raw = link_inverse(task, oof, k);
    let before = log_loss(y, oof, k);
    // Cross-fitted: row i scored by the map fitted without its fold.
    let mut crossed = vec![0.0; raw.len()];
    for fold in 0..FOLDS {
        let (mut fit_raw, mut fit_y) = (Vec::new(), Vec::new());
        for (i, &label) in y.iter().enumerate() {
            if i % FOLDS != fold {
                fit_raw.extend_from_slice(&raw[i * outputs..(i + 1) * outputs]);
                fit_y.push(label);
            }
        }
        let method = Method::fit(task, &fit_raw, &fit_y, k)?;
        for i in (fold..y.len()).step_by(FOLDS) {
            let out = &mut crossed[i * outputs..(i + 1) * outputs];
            out.copy_from_slice(&raw[i * outputs..(i + 1) * outputs]);
            method.apply(out);
        }
    }
    let crossed = link(task, crossed, k);
    let after = log_loss(y, &crossed, k);
    if !(after.is_finite() && after < before * (1.0 - MIN_GAIN)) {
        return None;
    }
    let method = Method::fit(task, &raw, y, k)?;
    Some((
        Calibration {
            method,
            log_loss_before: before,
            log_loss_after: after,
        },
        crossed,
    ))
}

/// Platt scaling on log-odds `z` with labels `y` (0 or 1): Newton's method
/// on the log loss against Platt's targets, `(n₊ + 1) / (n₊ + 2)` and
/// `1 / (n₋ + 2)`, which keep a separable fold from an infinite scale.
fn platt(z: &[f64], y: &[usize]) -> Option<Method> {
    let positives = y.iter().filter(|&&c| c == 1).count() as f64;
    let negatives = y.len() as f64 - positives;
    let hi = (positives + 1.0) / (positives + 2.0);
    let lo = 1.0 / (negatives + 2.0);
    let t: Vec<f64> = y.iter().map(|&c| if c == 1 { hi } else { lo }).collect();
    let loss = |a: f64, b: f64| -> f64 {
        z.iter()
            .zip(&t)
            .map(|(&z, &t)| {
                let s = a * z + b;
                // -t log σ(s) - (1 - t) log(1 - σ(s)), stably.
                softplus(s) - t * s
            })
            .sum()
    };
    let (mut a, mut b) = (1.0, 0.0);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&z, &t) in z.iter().zip(&t) {
            let p = crate::linear::sigmoid(a * z + b);
            let d = p - t;
            let w = (p * (1.0 - p)).max(1e-12);
            ga += d * z;
            gb += d;
            haa += w * z * z;
            hab += w * z;
            hbb += w;
        }
        let (haa, hbb) = (haa + 1e-9, hbb + 1e-9);
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        // Backtracking: the Newton step, halved until the loss drops.
        let mut step = 1.0;
        let mut moved = false;
        while step > 1e-6 {
            let (na, nb) = (a - step * da, b - step * db);
            let l = loss(na, nb);
            if l < current {
                (a, b, current, moved) = (na, nb, l, true);
                break;
            }
            step /= 2.0;
        }
        if !moved || (da.abs() + db.abs()) * step < 1e-10 {
            break;
        }
    }
    (a.is_finite() && b.is_finite()).then_some(Method::Platt { scale: a, shift: b })
}

fn softplus(s: f64) -> f64 {
    if s > 0.0 {
        s + (-s).exp().ln_1p()
    } else {
        s.exp().ln_1p()
    }
}

/// Temperature scaling of logits `raw` (`k` per row) for labels `y`: the
/// inverse temperature in [1/20, 20] minimising the log loss, by
/// golden-section search.
fn temperature(raw: &[f64], y: &[usize], k: usize) -> Option<Method> {
    let loss = |beta: f64| -> f64 {
        raw.chunks(k)
            .zip(y)
            .map(|(row, &c)| {
                let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(beta * v));
                let lse = m + row.iter().map(|&v| (beta * v - m).exp()).sum::<f64>().ln();
                lse - beta * row[c]
            })
            .sum()
    };
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (0.05f64, 20.0f64);
    let mut x1 = hi - phi * (hi - lo);
    let mut x2 = lo + phi * (hi - lo);
    let (mut f1, mut f2) = (loss(x1), loss(x2));
    for _ in 0..80 {
        if f1 <= f2 {
            hi = x2;
            (x2, f2) = (x1, f1);
            x1 = hi - phi * (hi - lo);
            f1 = loss(x1);
        } else {
            lo = x1;
            (x1, f1) = (x2, f2);
            x2 = lo + phi * (hi - lo);
            f2 = loss(x2);
        }
    }
    let beta = (lo + hi) / 2.0;
    (beta.is_finite() && beta > 0.0).then_some(Method::Temperature {
        temperature: 1.0 / beta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// `n` rows whose true log-odds are `a * z + b` for a model output `z`.
    fn binary(n: usize, a: f64, b: f64, seed: u64) -> (Vec<f64>, Vec<usize>) {
        let mut rng = Rng::derive(seed, 1);
        let mut probs = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let z = rng.normal() * 2.0;
            let p_model = crate::linear::sigmoid(z);
            let p_true = crate::linear::sigmoid(a * z + b);
            probs.extend([1.0 - p_model, p_model]);
            y.push(usize::from(rng.next_f64() < p_true));
        }
        (probs, y)
    }

    #[test]
    fn platt_scaling_recovers_the_true_log_odds() {
        let (probs, y) = binary(20_000, 0.5, -0.3, 7);
        let z = link_inverse(Task::Binary, &probs, 2);
        let Some(Method::Platt { scale, shift }) = platt(&z, &y) else {
            panic!("no fit")
        };
        assert!((scale - 0.5).abs() < 0.04, "{scale}");
        assert!((shift + 0.3).abs() < 0.05, "{shift}");
        // Kept: the model is twice as confident as it should be.
        let (cal, crossed) = choose(Task::Binary, &probs, &y, 2).expect("kept");
        assert!(cal.log_loss_after < cal.log_loss_before * 0.97, "{cal:?}");
        assert!((log_loss(&y, &crossed, 2) - cal.log_loss_after).abs() < 1e-12);
    }

    #[test]
    fn a_calibrated_model_is_left_alone() {
        let (probs, y) = binary(20_000, 1.0, 0.0, 8);
        assert_eq!(choose(Task::Binary, &probs, &y, 2), None);
        // Too few rows to tell.
        let (probs, y) = binary(20, 0.3, 0.0, 9);
        assert_eq!(choose(Task::Binary, &probs, &y, 2), None);
    }

    #[test]
    fn temperature_scaling_recovers_the_temperature() {
        let (n, k) = (20_000, 3);
        let mut rng = Rng::derive(3, 2);
        let (mut probs, mut y) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let logits: Vec<f64> = (0..k).map(|_| rng.normal() * 3.0).collect();
            // The truth is the logits at temperature 2: the model is overconfident.
            let truth = link(
                Task::Multiclass,
                logits.iter().map(|v| v / 2.0).collect(),
                k,
            );
            let u = rng.next_f64();
            let mut acc = 0.0;
            let c = truth
                .iter()
                .position(|p| {
                    acc += p;
                    u < acc
                })
                .unwrap_or(k - 1);
            probs.extend(link(Task::Multiclass, logits, k));
            y.push(c);
        }
        let raw = link_inverse(Task::Multiclass, &probs, k);
        let Some(Method::Temperature { temperature }) = temperature(&raw, &y, k) else {
            panic!("no fit")
        };
        assert!((temperature - 2.0).abs() < 0.1, "{temperature}");
        let (cal, _) = choose(Task::Multiclass, &probs, &y, k).expect("kept");
        assert!(cal.log_loss_after < cal.log_loss_before, "{cal:?}");
    }

    /// scikit-learn's Platt and temperature scaling on the same data
    /// (`test_data/calibration/make_reference.py`, scikit-learn 1.9.1).
    #[test]
    fn fits_match_scikit_learn() {
        let r: serde_json::Value =
            serde_json::from_str(include_str!("../test_data/calibration/reference.json")).unwrap();
        let floats = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let labels = |v: &serde_json::Value| -> Vec<usize> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect()
        };
        let b = &r["binary"];
        let Some(Method::Platt { scale, shift }) = platt(&floats(&b["z"]), &labels(&b["y"])) else {
            panic!("no fit")
        };
        let (want_scale, want_shift) = (b["scale"].as_f64().unwrap(), b["shift"].as_f64().unwrap());
        assert!((scale - want_scale).abs() < 1e-4, "{scale} vs {want_scale}");
        assert!((shift - want_shift).abs() < 1e-4, "{shift} vs {want_shift}");
        let m = &r["multiclass"];
        let Some(Method::Temperature { temperature: t }) =
            temperature(&floats(&m["logits"]), &labels(&m["y"]), 3)
        else {
            panic!("no fit")
        };
        let want = m["temperature"].as_f64().unwrap();
        assert!((t - want).abs() < 1e-4 * want, "{t} vs {want}");
    }

    #[test]
    fn the_map_acts_on_raw_outputs() {
        let mut raw = vec![1.0, -2.0];
        Method::Platt {
            scale: 0.5,
            shift: 1.0,
        }
        .apply(&mut raw);
        assert_eq!(raw, vec![1.5, 0.0]);
        let mut raw = vec![2.0, 4.0, -6.0];
        Method::Temperature { temperature: 2.0 }.apply(&mut raw);
        assert_eq!(raw, vec![1.0, 2.0, -3.0]);
        let bad = Calibration {
            method: Method::Temperature { temperature: -1.0 },
            log_loss_before: 1.0,
            log_loss_after: 0.5,
        };
        assert!(bad.validate(Task::Multiclass).is_err());
        assert!(bad.validate(Task::Binary).is_err());
    }
}
