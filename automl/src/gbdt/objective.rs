//! Objectives: squared error, logistic and softmax (one tree per class and
//! round): base scores, gradients and hessians, class weights, the loss.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::PARALLEL_WORK;
use crate::linear::sigmoid;
use crate::task::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    SquaredError,
    Logistic,
    Softmax,
}

pub(super) fn objective_for(target: &Target) -> (Objective, usize) {
    match target {
        Target::Regression(_) => (Objective::SquaredError, 1),
        Target::Classes { classes, .. } if classes.len() == 2 => (Objective::Logistic, 1),
        Target::Classes { classes, .. } => (Objective::Softmax, classes.len()),
    }
}

pub(super) fn base_score(target: &Target, objective: Objective, k: usize) -> Vec<f64> {
    match target {
        Target::Regression(y) => vec![y.iter().sum::<f64>() / y.len().max(1) as f64],
        Target::Classes { y, .. } => {
            let mut counts = vec![0.0; k.max(2)];
            for &c in y {
                counts[c] += 1.0;
            }
            let n = y.len().max(1) as f64;
            let p: Vec<f64> = counts
                .iter()
                .map(|c| (c / n).clamp(1e-6, 1.0 - 1e-6))
                .collect();
            match objective {
                Objective::Logistic => vec![(p[1] / (1.0 - p[1])).ln()],
                _ => p.iter().map(|v| v.ln()).collect(),
            }
        }
    }
}

/// Class weights that give every class the same total weight:
/// `rows / (classes * rows of the class)`.
pub fn balanced_weights(target: &Target) -> Vec<f64> {
    match target {
        Target::Regression(_) => Vec::new(),
        Target::Classes { classes, y } => {
            let k = classes.len();
            let mut counts = vec![0usize; k];
            for &c in y {
                counts[c] += 1;
            }
            counts
                .iter()
                .map(|&c| y.len() as f64 / (k as f64 * c.max(1) as f64))
                .collect()
        }
    }
}

/// Writes gradients and hessians for output `k` from raw scores.
pub(super) fn gradients(
    target: &Target,
    objective: Objective,
    k: usize,
    outputs: usize,
    scores: &[f64],
    grad: &mut [f64],
    hess: &mut [f64],
) {
    let one = |r: usize| -> (f64, f64) {
        match (target, objective) {
            (Target::Regression(y), _) => (scores[r] - y[r], 1.0),
            (Target::Classes { y, .. }, Objective::Logistic) => {
                let p = sigmoid(scores[r]);
                (
                    p - f64::from(u8::from(y[r] == 1)),
                    (p * (1.0 - p)).max(1e-16),
                )
            }
            (Target::Classes { y, .. }, _) => {
                let row = &scores[r * outputs..(r + 1) * outputs];
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = row.iter().map(|v| (v - m).exp()).sum();
                let p = (row[k] - m).exp() / sum;
                // The k / (k - 1) factor of the softmax Newton step (as in LightGBM).
                let factor = outputs as f64 / (outputs as f64 - 1.0);
                (
                    p - f64::from(u8::from(y[r] == k)),
                    (factor * p * (1.0 - p)).max(1e-16),
                )
            }
        }
    };
    let n = target.len();
    let write = |(r, (g, h)): (usize, (&mut f64, &mut f64))| {
        (*g, *h) = one(r);
    };
    if n >= PARALLEL_WORK / 4 {
        grad[..n]
            .par_iter_mut()
            .zip(hess[..n].par_iter_mut())
            .enumerate()
            .for_each(write);
    } else {
        grad[..n]
            .iter_mut()
            .zip(hess[..n].iter_mut())
            .enumerate()
            .for_each(write);
    }
}

/// Mean loss of raw scores: squared error, or log loss.
pub(crate) fn loss(target: &Target, outputs: usize, scores: &[f64]) -> f64 {
    match target {
        Target::Regression(y) => {
            y.iter()
                .zip(scores)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / y.len().max(1) as f64
        }
        Target::Classes { y, .. } if outputs == 1 => {
            y.iter()
                .zip(scores)
                .map(|(&c, &z)| {
                    z.max(0.0) + (-z.abs()).exp().ln_1p() - if c == 1 { z } else { 0.0 }
                })
                .sum::<f64>()
                / y.len().max(1) as f64
        }
        Target::Classes { y, .. } => {
            y.iter()
                .enumerate()
                .map(|(r, &c)| {
                    let row = &scores[r * outputs..(r + 1) * outputs];
                    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - row[c]
                })
                .sum::<f64>()
                / y.len().max(1) as f64
        }
    }
}
