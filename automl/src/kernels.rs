//! Two small-data methods on the scaled encoding (`LinearEncoder`'s rows):
//! k-nearest neighbours and kernel ridge regression with a Gaussian (RBF)
//! kernel. Both predict values or class shares (as least squares and
//! neighbour votes estimate them); [`link`] turns shares into the
//! raw output space (log-odds of the second class, or log shares), kept
//! off 0 and 1.
//!
//! Neighbours: the `k` nearest training rows by squared Euclidean
//! distance, with every row tied with the `k`-th (within 1e-9) included,
//! so that the same neighbours are found however the distances round;
//! weighted equally or by inverse squared distance. Class shares are
//! smoothed toward the training shares by `1 / k` of a neighbour.
//!
//! Kernel ridge: `f(x) = c + Σ α_j exp(-γ |x - l_j|²)` over landmarks
//! `l_j` (every training row up to [`LANDMARKS`], else a seeded sample:
//! the Nyström form of the same problem), fitted by penalised least
//! squares on standardised values or class indicators. Both keep 16
//! training rows as the background of their permutation SHAP.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::artifact::SharesLink;
use crate::error::{Error, Result};
use crate::linear::{cholesky_back, cholesky_factor};
use crate::rng::Rng;
use crate::task::{Target, Task};

/// Kernel ridge uses at most this many training rows as landmarks.
pub const LANDMARKS: usize = 500;
/// Rows predicted per parallel task.
const PARALLEL_ROWS: usize = 16;
/// Rows kept as the SHAP background.
const BACKGROUND_ROWS: usize = 16;
/// Shares are kept in `[SHARE_FLOOR, 1 - SHARE_FLOOR]` before their log.
const SHARE_FLOOR: f64 = 1e-4;
/// Added to squared distances before inverting them (an exact duplicate
/// of a training row gets a large but finite weight).
pub(crate) const DISTANCE_FLOOR: f64 = 1e-3;
/// Rows within this relative distance of the `k`-th neighbour tie with it.
pub(crate) const TIE: f64 = 1e-9;

/// How both models' values or shares become raw outputs.
pub(crate) fn link(classes: usize) -> SharesLink {
    let task = match classes {
        0 => Task::Regression,
        2 => Task::Binary,
        _ => Task::Multiclass,
    };
    SharesLink {
        task,
        floor: SHARE_FLOOR,
    }
}

/// What a model predicts per row: a value (1), the second class's share
/// (1), or every class's share.
fn width_of(classes: usize) -> usize {
    if classes <= 2 { 1 } else { classes }
}

/// The targets as the models fit them: values (`classes` 0), or per row
/// the indicator of the second class (two classes) or of each class.
fn indicators(target: &Target) -> (usize, Vec<f64>) {
    match target {
        Target::Regression(y) => (0, y.clone()),
        Target::Classes { classes, y } => {
            let c = classes.len();
            let w = width_of(c);
            let mut out = vec![0.0; y.len() * w];
            for (r, &k) in y.iter().enumerate() {
                if c == 2 {
                    out[r] = f64::from(u8::from(k == 1));
                } else {
                    out[r * w + k] = 1.0;
                }
            }
            (c, out)
        }
    }
}

/// The mean of each output column over the rows.
fn column_means(y: &[f64], w: usize) -> Vec<f64> {
    let n = (y.len() / w.max(1)).max(1) as f64;
    (0..w)
        .map(|c| y.iter().skip(c).step_by(w).sum::<f64>() / n)
        .collect()
}

fn background(x: &[f64], width: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = x.len() / width.max(1);
    let mut rows: Vec<usize> = (0..n).collect();
    Rng::derive(seed, 0xb6).shuffle(&mut rows);
    rows.truncate(BACKGROUND_ROWS);
    rows.iter()
        .map(|&r| x[r * width..(r + 1) * width].to_vec())
        .collect()
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Checks shapes shared by both models.
fn check(
    what: &str,
    width: usize,
    rows: &[f64],
    outputs: usize,
    background: &[Vec<f64>],
) -> Result<()> {
    let bad = |m: &str| Err(Error::Artifact(format!("the {what}: {m}")));
    if width == 0 || rows.is_empty() || !rows.len().is_multiple_of(width) {
        return bad("its rows do not match its width");
    }
    if outputs == 0 || rows.iter().any(|v| !v.is_finite()) {
        return bad("its rows are malformed");
    }
    if background.is_empty() || background.iter().any(|b| b.len() != width) {
        return bad("its background rows do not match its inputs");
    }
    Ok(())
}

/// A fitted k-nearest-neighbours model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbours {
    pub width: usize,
    /// Neighbours per prediction (at most the training rows).
    pub k: usize,
    /// Weights by inverse squared distance (else equal weights).
    pub distance_weighted: bool,
    /// Training rows, row-major.
    pub rows: Vec<f64>,
    /// Per training row: its value, or its class indicators (see [`indicators`]).
    pub targets: Vec<f64>,
    /// Classes (0: regression).
    pub classes: usize,
    /// The training shares toward which class shares are smoothed.
    pub prior: Vec<f64>,
    pub background: Vec<Vec<f64>>,
}

impl Neighbours {
    pub fn fit(
        x: &[f64],
        width: usize,
        target: &Target,
        k: usize,
        distance_weighted: bool,
        seed: u64,
    ) -> Result<Neighbours> {
        let n = target.len();
        if n == 0 || x.len() != n * width || k == 0 {
            return Err(Error::Parameter {
                name: "x",
                reason: "neighbours need rows and at least one neighbour".into(),
            });
        }
        let (classes, targets) = indicators(target);
        let prior = if classes == 0 {
            Vec::new()
        } else {
            column_means(&targets, width_of(classes))
        };
        Ok(Neighbours {
            width,
            k: k.min(n),
            distance_weighted,
            rows: x.to_vec(),
            targets,
            classes,
            prior,
            background: background(x, width, seed),
        })
    }

    pub fn outputs(&self) -> usize {
        width_of(self.classes)
    }

    /// The weight of each training row for encoded row `x`.
    pub(crate) fn weights(&self, x: &[f64]) -> Vec<f64> {
        let d: Vec<f64> = self
            .rows
            .chunks(self.width)
            .map(|t| squared_distance(x, t))
            .collect();
        let mut sorted = d.clone();
        let kth = self.k.clamp(1, sorted.len()) - 1;
        let (_, &mut dk, _) = sorted.select_nth_unstable_by(kth, f64::total_cmp);
        let threshold = dk * (1.0 + TIE) + TIE;
        d.iter()
            .map(|&di| match (di <= threshold, self.distance_weighted) {
                (false, _) => 0.0,
                (true, false) => 1.0,
                (true, true) => 1.0 / (di + DISTANCE_FLOOR),
            })
            .collect()
    }

    /// Values or shares of encoded rows `x` (row-major), rows in parallel.
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        x.par_chunks(self.width)
            .with_min_len(PARALLEL_ROWS)
            .flat_map_iter(|row| self.predict_row(row))
            .collect()
    }

    fn predict_row(&self, row: &[f64]) -> Vec<f64> {
        let w = self.outputs();
        {
            let weights = self.weights(row);
            let total: f64 = weights.iter().sum();
            let mut acc = vec![0.0; w];
            for (wt, t) in weights.iter().zip(self.targets.chunks(w)) {
                if *wt > 0.0 {
                    acc.iter_mut().zip(t).for_each(|(a, v)| *a += wt * v);
                }
            }
            acc.iter_mut().for_each(|a| *a /= total);
            if self.classes > 0 {
                let beta = self.smoothing();
                for (a, p) in acc.iter_mut().zip(&self.prior) {
                    *a = (*a + beta * p) / (1.0 + beta);
                }
            }
            acc
        }
    }

    /// The weight of the training shares in a row's shares.
    pub(crate) fn smoothing(&self) -> f64 {
        1.0 / self.k.max(1) as f64
    }

    pub(crate) fn raw(&self, x: &[f64]) -> Vec<f64> {
        link(self.classes).raws(self.predict(x))
    }

    pub(crate) fn validate(&self, width: usize, outputs: usize) -> Result<()> {
        check(
            "neighbours",
            self.width,
            &self.rows,
            self.outputs(),
            &self.background,
        )?;
        let n = self.rows.len() / self.width;
        if self.width != width
            || self.outputs() != outputs
            || self.targets.len() != n * self.outputs()
            || self.k == 0
            || self.k > n
            || (self.classes > 0 && self.prior.len() != self.outputs())
        {
            return Err(Error::Artifact(
                "the neighbours do not match the schema".into(),
            ));
        }
        Ok(())
    }
}

/// A fitted kernel ridge regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelRidge {
    pub width: usize,
    /// The kernel's `γ` in `exp(-γ |x - l|²)`.
    pub gamma: f64,
    /// Landmark rows, row-major.
    pub landmarks: Vec<f64>,
    /// `landmarks × outputs`, row-major.
    pub alpha: Vec<f64>,
    pub intercept: Vec<f64>,
    /// Classes (0: regression).
    pub classes: usize,
    pub background: Vec<Vec<f64>>,
}

impl KernelRidge {
    /// Fits on encoded rows `x` with penalty `lambda` (per row, on
    /// standardised values or on class indicators) and `gamma`.
    pub fn fit(
        x: &[f64],
        width: usize,
        target: &Target,
        (gamma, lambda): (f64, f64),
        seed: u64,
    ) -> Result<KernelRidge> {
        let n = target.len();
        if n == 0 || x.len() != n * width {
            return Err(Error::Parameter {
                name: "x",
                reason: "kernel ridge needs rows".into(),
            });
        }
        if !(gamma > 0.0 && lambda > 0.0 && gamma.is_finite() && lambda.is_finite()) {
            return Err(Error::Parameter {
                name: "gamma",
                reason: "gamma and lambda must be positive".into(),
            });
        }
        let (classes, y) = indicators(target);
        let w = width_of(classes);
        let means = column_means(&y, w);
        // Values are fitted standardised, so the penalty means the same
        // whatever their unit; indicators as they are.
        let scale = if classes == 0 {
            let var = y.iter().map(|v| (v - means[0]).powi(2)).sum::<f64>() / n as f64;
            var.sqrt().max(1e-12)
        } else {
            1.0
        };
        let mut chosen: Vec<usize> = (0..n).collect();
        if n > LANDMARKS {
            Rng::derive(seed, 0x1a4d).shuffle(&mut chosen);
            chosen.truncate(LANDMARKS);
            chosen.sort_unstable();
        }
        let m = chosen.len();
        let landmarks: Vec<f64> = chosen
            .iter()
            .flat_map(|&r| x[r * width..(r + 1) * width].iter().copied())
            .collect();
        let model = KernelRidge {
            width,
            gamma,
            landmarks,
            alpha: Vec::new(),
            intercept: means.clone(),
            classes,
            background: background(x, width, seed),
        };
        // K_nm, then A = K_nmᵀ K_nm + λ n K_mm and b = K_nmᵀ (y - mean) / scale.
        let knm: Vec<f64> = x
            .chunks(width)
            .flat_map(|row| model.kernel_row(row))
            .collect();
        let mut a = vec![0.0; m * m];
        for row in knm.chunks(m) {
            for i in 0..m {
                let ri = row[i];
                if ri == 0.0 {
                    continue;
                }
                let ai = &mut a[i * m..(i + 1) * m];
                for (j, aij) in ai.iter_mut().enumerate().take(i + 1) {
                    *aij += ri * row[j];
                }
            }
        }
        let penalty = lambda * n as f64;
        for i in 0..m {
            let li = &model.landmarks[chosen_row(i, width)];
            for j in 0..=i {
                let k =
                    (-gamma * squared_distance(li, &model.landmarks[chosen_row(j, width)])).exp();
                a[i * m + j] += penalty * k;
            }
        }
        for i in 0..m {
            for j in 0..i {
                a[j * m + i] = a[i * m + j];
            }
        }
        let trace: f64 = (0..m).map(|i| a[i * m + i]).sum();
        for i in 0..m {
            a[i * m + i] += 1e-10 * trace / m as f64 + 1e-12;
        }
        cholesky_factor(&mut a, m);
        let mut alpha = vec![0.0; m * w];
        for c in 0..w {
            let mut b = vec![0.0; m];
            for (r, row) in knm.chunks(m).enumerate() {
                let t = (y[r * w + c] - means[c]) / scale;
                if t != 0.0 {
                    b.iter_mut().zip(row).for_each(|(bi, k)| *bi += k * t);
                }
            }
            let sol = cholesky_back(&a, &b, m);
            for (j, v) in sol.into_iter().enumerate() {
                alpha[j * w + c] = v * scale;
            }
        }
        if alpha.iter().any(|v| !v.is_finite()) {
            return Err(Error::Parameter {
                name: "lambda",
                reason: "the kernel system is too ill-conditioned; raise lambda".into(),
            });
        }
        Ok(KernelRidge { alpha, ..model })
    }

    pub fn outputs(&self) -> usize {
        width_of(self.classes)
    }

    fn kernel_row(&self, x: &[f64]) -> Vec<f64> {
        self.landmarks
            .chunks(self.width)
            .map(|l| (-self.gamma * squared_distance(x, l)).exp())
            .collect()
    }

    /// Values or (unclipped) share estimates of encoded rows `x`, rows in
    /// parallel.
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        let w = self.outputs();
        x.par_chunks(self.width)
            .with_min_len(PARALLEL_ROWS)
            .flat_map_iter(|row| {
                let k = self.kernel_row(row);
                (0..w).map(move |c| {
                    let s: f64 = k
                        .iter()
                        .enumerate()
                        .map(|(j, kj)| kj * self.alpha[j * w + c])
                        .sum();
                    self.intercept[c] + s
                })
            })
            .collect()
    }

    pub(crate) fn raw(&self, x: &[f64]) -> Vec<f64> {
        link(self.classes).raws(self.predict(x))
    }

    pub(crate) fn validate(&self, width: usize, outputs: usize) -> Result<()> {
        check(
            "kernel ridge",
            self.width,
            &self.landmarks,
            self.outputs(),
            &self.background,
        )?;
        let m = self.landmarks.len() / self.width;
        if self.width != width
            || self.outputs() != outputs
            || self.alpha.len() != m * self.outputs()
            || self.intercept.len() != self.outputs()
            || !(self.gamma > 0.0 && self.gamma.is_finite())
        {
            return Err(Error::Artifact(
                "the kernel ridge does not match the schema".into(),
            ));
        }
        Ok(())
    }
}

fn chosen_row(i: usize, width: usize) -> std::ops::Range<usize> {
    i * width..(i + 1) * width
}
