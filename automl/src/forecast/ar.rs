//! Automatic autoregression, an ARIMA without moving-average terms: the
//! order of differencing from the KPSS test (as `ndiffs` chooses it for
//! `auto.arima` and statsforecast's `AutoARIMA`), then an AR(p) with an
//! intercept on the (differenced) series, fitted by least squares, the
//! order chosen by AICc on a common sample. On a stationary series the
//! forecast returns to the mean; on a differenced one the intercept is a
//! drift. Seasonal series get lags up to one season and one step beyond.
//! Candidates whose forecasts run away (an explosive fit) are passed over.

use crate::linear::{cholesky_back, cholesky_factor};

/// The 5% critical value of the KPSS level-stationarity statistic.
const KPSS_CRITICAL: f64 = 0.463;

/// A fitted autoregression.
#[derive(Clone, Debug)]
pub struct ArFit {
    /// 0: on the values; 1: on their differences.
    pub d: usize,
    pub p: usize,
    intercept: f64,
    coefficients: Vec<f64>,
    /// The (differenced) series the forecast continues.
    history: Vec<f64>,
    last: f64,
}

impl ArFit {
    pub fn label(&self) -> String {
        if self.d == 0 {
            format!("AR({})", self.p)
        } else {
            format!("ARI({},1) with drift", self.p)
        }
    }

    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let mut w = self.history.clone();
        let mut out = Vec::with_capacity(h);
        let mut level = self.last;
        for _ in 0..h {
            let n = w.len();
            let next = self.intercept
                + self
                    .coefficients
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c * w[n - 1 - i])
                    .sum::<f64>();
            w.push(next);
            if self.d == 0 {
                out.push(next);
            } else {
                level += next;
                out.push(level);
            }
        }
        out
    }
}

/// The KPSS statistic for level stationarity, with `trunc(3√n / 13)` lags.
fn kpss(y: &[f64]) -> f64 {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let e: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let mut s = 0.0;
    let mut eta = 0.0;
    for v in &e {
        s += v;
        eta += s * s;
    }
    let lags = (3.0 * (n as f64).sqrt() / 13.0) as usize;
    let mut var: f64 = e.iter().map(|v| v * v).sum::<f64>() / n as f64;
    for l in 1..=lags.min(n - 1) {
        let cov: f64 = (l..n).map(|t| e[t] * e[t - l]).sum::<f64>() / n as f64;
        var += 2.0 * (1.0 - l as f64 / (lags + 1) as f64) * cov;
    }
    if var <= 0.0 {
        return 0.0;
    }
    eta / (n as f64 * n as f64) / var
}

/// How many differences make `y` level-stationary by the KPSS test at 5%
/// (at most `max`), as `ndiffs` counts them.
pub(super) fn kpss_differences(y: &[f64], max: usize) -> usize {
    let mut w = y.to_vec();
    let mut d = 0;
    while d < max && w.len() > 3 && kpss(&w) > KPSS_CRITICAL {
        w = w.windows(2).map(|p| p[1] - p[0]).collect();
        d += 1;
    }
    d
}

/// Least squares of `z[t]` on an intercept and `z[t-1..=t-p]` over `t` in
/// `from..z.len()`; the coefficients and the residual sum of squares.
fn least_squares(z: &[f64], p: usize, from: usize) -> Option<(f64, Vec<f64>, f64)> {
    let k = p + 1;
    let mut xtx = vec![0.0; k * k];
    let mut xty = vec![0.0; k];
    let mut row = vec![0.0; k];
    for t in from..z.len() {
        row[0] = 1.0;
        for i in 0..p {
            row[i + 1] = z[t - 1 - i];
        }
        for a in 0..k {
            xty[a] += row[a] * z[t];
            for b in 0..=a {
                xtx[a * k + b] += row[a] * row[b];
            }
        }
    }
    for a in 0..k {
        for b in 0..a {
            xtx[b * k + a] = xtx[a * k + b];
        }
        // A touch of ridge keeps collinear lags solvable.
        xtx[a * k + a] += 1e-9 * (1.0 + xtx[a * k + a]);
    }
    cholesky_factor(&mut xtx, k);
    let beta = cholesky_back(&xtx, &xty, k);
    if beta.iter().any(|b| !b.is_finite()) {
        return None;
    }
    let rss: f64 = (from..z.len())
        .map(|t| {
            let fit = beta[0] + (0..p).map(|i| beta[i + 1] * z[t - 1 - i]).sum::<f64>();
            (z[t] - fit).powi(2)
        })
        .sum();
    Some((beta[0], beta[1..].to_vec(), rss))
}

/// Fits the automatic autoregression to `y` (season `m`); `None` when the
/// series is too short for AR(1) or no candidate forecasts sanely.
pub fn auto(y: &[f64], m: usize, h: usize) -> Option<ArFit> {
    let n = y.len();
    if n < 8 {
        return None;
    }
    let (lo, hi) = y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), v| {
            (l.min(*v), u.max(*v))
        });
    let d = usize::from(kpss(y) > KPSS_CRITICAL);
    let z: Vec<f64> = if d == 0 {
        y.to_vec()
    } else {
        y.windows(2).map(|w| w[1] - w[0]).collect()
    };
    let max_p = if (2..=24).contains(&m) { m + 1 } else { 3 }
        .min(z.len() / 4)
        .max(1);
    if z.len() < max_p + 5 {
        return None;
    }
    let equations = (z.len() - max_p) as f64;
    let mut candidates: Vec<(f64, ArFit)> = (1..=max_p)
        .filter_map(|p| {
            let (intercept, coefficients, rss) = least_squares(&z, p, max_p)?;
            let k = (p + 2) as f64;
            if equations <= k + 1.0 {
                return None;
            }
            let sigma2 = (rss / equations).max(1e-300);
            let aicc =
                equations * sigma2.ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (equations - k - 1.0);
            Some((
                aicc,
                ArFit {
                    d,
                    p,
                    intercept,
                    coefficients,
                    history: z.clone(),
                    last: y[n - 1],
                },
            ))
        })
        .collect();
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    // An explosive fit is passed over: its forecasts leave ten spans of the history.
    let span = (hi - lo).max(1e-9);
    candidates.into_iter().map(|(_, f)| f).find(|f| {
        f.forecast(h.max(1))
            .iter()
            .all(|v| v.is_finite() && *v > lo - 10.0 * span && *v < hi + 10.0 * span)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ar1_is_recovered_and_a_random_walk_is_differenced() {
        let mut rng = crate::rng::Rng::new(7);
        let mut noise = || rng.next_f64() - 0.5;
        // y_t = 5 + 0.7 (y_{t-1} − 5) + e: stationary, mean 5.
        let mut y = vec![5.0];
        for _ in 0..400 {
            let last = *y.last().unwrap();
            y.push(5.0 + 0.7 * (last - 5.0) + noise());
        }
        let fit = auto(&y, 1, 10).expect("fits");
        assert_eq!(fit.d, 0, "{}", fit.label());
        assert!(
            (fit.coefficients[0] - 0.7).abs() < 0.08,
            "{:?}",
            fit.coefficients
        );
        // Far ahead, the forecast is the mean.
        let far = fit.forecast(60);
        assert!((far[59] - 5.0).abs() < 0.2, "{}", far[59]);
        // A random walk with drift: differenced, the drift carried on.
        let mut w = vec![0.0];
        for _ in 0..300 {
            let last = *w.last().unwrap();
            w.push(last + 1.0 + noise());
        }
        let fit = auto(&w, 1, 10).expect("fits");
        assert_eq!(fit.d, 1, "{}", fit.label());
        let f = fit.forecast(10);
        assert!((f[9] - (w[300] + 10.0)).abs() < 2.0, "{f:?}");
        assert!(auto(&w[..5], 1, 3).is_none());
        // A constant series forecasts itself.
        let flat = auto(&[3.0; 30], 1, 4).expect("fits");
        assert!(flat.forecast(4).iter().all(|v| (v - 3.0).abs() < 1e-6));
    }
}
