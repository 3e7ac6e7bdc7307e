//! Conformal quantile bands from backtest errors.
//!
//! An error `actual − point` is divided by its item's MASE scale (so items of
//! different sizes pool) and by a per-step growth factor: the root mean
//! square of the scaled errors at that step, made non-decreasing across the
//! horizon by pool-adjacent-violators (so that one lucky step does not pinch
//! the band) when every step has at least `PER_STEP_MIN` errors, and
//! otherwise a power law of the step fitted to them (a few errors per step,
//! as one series gives, say little about each step alone). The quantiles of
//! what is left, pooled over items, windows and steps, at split conformal's
//! finite-sample levels (the ⌈(n + 1)τ⌉-th of n), are the offsets of each
//! level; a forecast's band is its point forecast plus offset × growth ×
//! scale. P50 stays the point forecast.

use serde::{Deserialize, Serialize};

/// Below this many errors at some step, the step sizes follow a power law.
const PER_STEP_MIN: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub levels: Vec<f64>,
    /// Per horizon step, the typical size of a scaled error.
    pub growth: Vec<f64>,
    /// Per level, the offset in units of `growth × scale`.
    pub offsets: Vec<f64>,
}

/// One backtest error: the step it was made at (0-based) and `(actual − point) / scale`.
#[derive(Clone, Copy, Debug)]
pub struct ScaledError {
    pub step: usize,
    pub z: f64,
}

impl Band {
    /// Fits the band on scaled errors; with none, a band of zero width.
    pub fn fit(errors: &[ScaledError], horizon: usize, levels: &[f64]) -> Band {
        let mut sums = vec![0.0; horizon];
        let mut counts = vec![0usize; horizon];
        for e in errors
            .iter()
            .filter(|e| e.z.is_finite() && e.step < horizon)
        {
            sums[e.step] += e.z * e.z;
            counts[e.step] += 1;
        }
        let rms: Vec<Option<f64>> = sums
            .iter()
            .zip(&counts)
            .map(|(s, c)| (*c > 0).then(|| (s / *c as f64).sqrt()))
            .collect();
        let growth = if counts
            .iter()
            .filter(|c| **c > 0)
            .all(|c| *c >= PER_STEP_MIN)
        {
            monotone(&rms, &counts)
        } else {
            power_law(&rms, &counts)
        };
        let mut normalised: Vec<f64> = errors
            .iter()
            .filter(|e| e.z.is_finite() && e.step < horizon && growth[e.step] > 0.0)
            .map(|e| e.z / growth[e.step])
            .collect();
        normalised.sort_by(f64::total_cmp);
        let offsets = levels
            .iter()
            .map(|&tau| {
                if normalised.is_empty() || (tau - 0.5).abs() < 1e-12 {
                    return 0.0;
                }
                let q = quantile(&normalised, conformal_level(tau, normalised.len()));
                if tau < 0.5 { q.min(0.0) } else { q.max(0.0) }
            })
            .collect();
        Band {
            levels: levels.to_vec(),
            growth,
            offsets,
        }
    }

    /// The band around `point` for an item of MASE scale `scale`: one row per level.
    pub fn apply(&self, point: &[f64], scale: f64) -> Vec<Vec<f64>> {
        let last = self.growth.last().copied().unwrap_or(0.0);
        self.offsets
            .iter()
            .map(|o| {
                point
                    .iter()
                    .enumerate()
                    .map(|(i, p)| p + o * self.growth.get(i).copied().unwrap_or(last) * scale)
                    .collect()
            })
            .collect()
    }
}

/// Non-decreasing fit of the per-step sizes (weighted pool-adjacent-violators);
/// steps without errors take their neighbour's value.
fn monotone(rms: &[Option<f64>], counts: &[usize]) -> Vec<f64> {
    // Blocks of (value, weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    let mut pending = 0usize;
    for (r, c) in rms.iter().zip(counts) {
        let Some(r) = r else {
            pending += 1;
            continue;
        };
        blocks.push((*r, *c as f64, 1 + pending));
        pending = 0;
        while blocks.len() >= 2 {
            let (b, a) = (blocks[blocks.len() - 1], blocks[blocks.len() - 2]);
            if a.0 <= b.0 {
                break;
            }
            let w = a.1 + b.1;
            blocks.pop();
            blocks.pop();
            blocks.push(((a.0 * a.1 + b.0 * b.1) / w, w, a.2 + b.2));
        }
    }
    let mut out = Vec::with_capacity(rms.len());
    for (v, _, len) in &blocks {
        out.extend(std::iter::repeat_n(*v, *len));
    }
    let tail = out.last().copied().unwrap_or(0.0);
    out.resize(rms.len(), tail);
    out
}

/// The level whose quantile of `n` scores covers `tau` of a new one (split
/// conformal: the ⌈(n + 1)τ⌉-th smallest for an upper level, and the same
/// on the other side for a lower one).
fn conformal_level(tau: f64, n: usize) -> f64 {
    let n = n as f64;
    let upper = |t: f64| (((n + 1.0) * t).ceil() / n).min(1.0);
    if tau >= 0.5 {
        upper(tau)
    } else {
        (1.0 - upper(1.0 - tau)).max(0.0)
    }
}

/// Step sizes `a × (step + 1)^b`, `b` in [0, 1], fitted by least squares on
/// the logs weighted by the errors at each step; one size for all when only
/// one step has errors.
fn power_law(rms: &[Option<f64>], counts: &[usize]) -> Vec<f64> {
    let points: Vec<(f64, f64, f64)> = rms
        .iter()
        .zip(counts)
        .enumerate()
        .filter_map(|(k, (r, c))| {
            let r = (*r)?;
            (r > 0.0).then(|| (((k + 1) as f64).ln(), r.ln(), *c as f64))
        })
        .collect();
    let w: f64 = points.iter().map(|p| p.2).sum();
    if points.is_empty() || w <= 0.0 {
        return vec![0.0; rms.len()];
    }
    let mx = points.iter().map(|p| p.0 * p.2).sum::<f64>() / w;
    let my = points.iter().map(|p| p.1 * p.2).sum::<f64>() / w;
    let sxx: f64 = points.iter().map(|p| p.2 * (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| p.2 * (p.0 - mx) * (p.1 - my)).sum();
    let b = if sxx > 0.0 {
        (sxy / sxx).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let a = my - b * mx;
    (0..rms.len())
        .map(|k| (a + b * ((k + 1) as f64).ln()).exp())
        .collect()
}

/// Linear-interpolation quantile of sorted values.
fn quantile(sorted: &[f64], tau: f64) -> f64 {
    let pos = tau * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_grows_with_the_step_and_covers_its_level() {
        // Errors that double from step 0 to step 1, uniform on [−1, 1] × size.
        let mut errors = Vec::new();
        for k in 0..201 {
            let u = -1.0 + 2.0 * k as f64 / 200.0;
            errors.push(ScaledError { step: 0, z: u });
            errors.push(ScaledError {
                step: 1,
                z: 2.0 * u,
            });
        }
        let band = Band::fit(&errors, 3, &[0.1, 0.5, 0.9]);
        assert!((band.growth[1] / band.growth[0] - 2.0).abs() < 1e-9);
        assert_eq!(
            band.growth[2], band.growth[1],
            "an empty step takes its neighbour's size"
        );
        let rows = band.apply(&[10.0, 10.0], 1.0);
        assert_eq!(rows[1], vec![10.0, 10.0]);
        // Uniform errors: 80% inside ±0.8 × size, a little wider at 402 errors.
        assert!(
            (rows[0][0] - 9.2).abs() < 0.015 && (rows[2][1] - 11.6).abs() < 0.03,
            "{rows:?}"
        );
        assert!(rows[0][0] < 9.2 && rows[2][1] > 11.6, "{rows:?}");
        // Two errors per step: sizes from a power law of the step, not each step alone.
        let few: Vec<ScaledError> = (0..12)
            .flat_map(|k| {
                let size = ((k + 1) as f64).sqrt();
                [
                    ScaledError { step: k, z: size },
                    ScaledError {
                        step: k,
                        z: -size * if k == 5 { 3.0 } else { 1.0 },
                    },
                ]
            })
            .collect();
        let band = Band::fit(&few, 12, &[0.1, 0.9]);
        assert!(
            band.growth.windows(2).all(|w| w[0] < w[1]),
            "{:?}",
            band.growth
        );
        let ratio = band.growth[11] / band.growth[0];
        assert!(
            (2.5..4.5).contains(&ratio),
            "√12 ≈ 3.5 from step 1 to 12: {ratio}"
        );
        // The finite-sample levels: the 23rd of 24 for P90.
        assert!((conformal_level(0.9, 24) - 23.0 / 24.0).abs() < 1e-12);
        assert!((conformal_level(0.1, 24) - 1.0 / 24.0).abs() < 1e-12);
        assert_eq!(conformal_level(0.99, 5), 1.0);
        // A dip at one step is pooled with its neighbour: the band never narrows.
        let g = monotone(&[Some(1.0), Some(3.0), Some(2.0), None], &[1, 1, 1, 0]);
        assert_eq!(g, vec![1.0, 2.5, 2.5, 2.5]);
    }
}
