//! Automatic seasonal ARIMA, after Hyndman and Khandakar (2008) as R's
//! `auto.arima` and statsforecast's `AutoARIMA` search it:
//!
//! - the seasonal difference `D` (0 or 1) when the season's strength in a
//!   classical decomposition is at least 0.64 (`nsdiffs`' default test);
//! - the ordinary differences `d` (0 to 2) from the KPSS test at 5% on the
//!   seasonally differenced series (`ndiffs`);
//! - a stepwise search over `(p, q)(P, Q)` from four starting models, one
//!   order up or down at a time (and the constant in or out when
//!   `d + D ≤ 1`), at most order 5 in all, keeping the lowest AICc.
//!
//! Each model is fitted by conditional sum of squares, minimised by
//! Nelder–Mead over the partial autocorrelations of each polynomial
//! (Jones 1980, as R's `arima` transforms them), so every AR part is
//! stationary and every MA part invertible. Seasons of 2 to 24 steps are
//! modelled; longer ones (weekly data's 52, a day of minutes) are not, as
//! ETS leaves them out.

use super::ar::kpss_differences;
use super::optim::minimise;
use super::profile;

/// The largest `p + q + P + Q`.
const MAX_ORDER: usize = 5;
/// At most this many models are fitted in one search.
const MAX_MODELS: usize = 60;

/// The orders of one candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Orders {
    p: usize,
    q: usize,
    sp: usize,
    sq: usize,
    constant: bool,
}

/// A fitted ARIMA.
#[derive(Clone, Debug)]
pub struct ArimaFit {
    pub d: usize,
    pub seasonal_d: usize,
    pub m: usize,
    orders: Orders,
    /// The expanded polynomials: `z_t = Σ ar[k-1] z_{t-k} + e_t + Σ ma[k-1] e_{t-k}`.
    ar: Vec<f64>,
    ma: Vec<f64>,
    mean: f64,
    /// The differenced series less its mean, and its residuals.
    z: Vec<f64>,
    e: Vec<f64>,
    /// The last values of the original series the integration starts from.
    tail: Vec<f64>,
    pub aicc: f64,
}

impl ArimaFit {
    pub fn label(&self) -> String {
        let o = self.orders;
        let mut s = format!("ARIMA({},{},{})", o.p, self.d, o.q);
        if o.sp + o.sq + self.seasonal_d > 0 {
            s.push_str(&format!(
                "({},{},{})[{}]",
                o.sp, self.seasonal_d, o.sq, self.m
            ));
        }
        if o.constant {
            s.push_str(if self.d + self.seasonal_d == 0 {
                " with mean"
            } else {
                " with drift"
            });
        }
        s
    }

    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let mut z = self.z.clone();
        let mut e = self.e.clone();
        for _ in 0..h {
            let n = z.len();
            let mut next = 0.0;
            for (k, a) in self.ar.iter().enumerate() {
                if n > k {
                    next += a * z[n - 1 - k];
                }
            }
            for (k, b) in self.ma.iter().enumerate() {
                if n > k {
                    next += b * e[n - 1 - k];
                }
            }
            z.push(next);
            e.push(0.0);
        }
        // Undo the differencing: y_t = w_t − Σ_{k≥1} δ_k y_{t−k}.
        let delta = difference_polynomial(self.d, self.seasonal_d, self.m);
        let mut y = self.tail.clone();
        let start = y.len();
        for w in &z[self.z.len()..] {
            let n = y.len();
            let mut v = w + self.mean;
            for (k, dk) in delta.iter().enumerate().skip(1) {
                v -= dk * y[n - k];
            }
            y.push(v);
        }
        y[start..].to_vec()
    }
}

/// The coefficients of `(1 − B)^d (1 − B^m)^D`, from `B^0`.
fn difference_polynomial(d: usize, seasonal_d: usize, m: usize) -> Vec<f64> {
    let mut poly = vec![1.0];
    let times = |poly: &[f64], lag: usize| -> Vec<f64> {
        let mut out = vec![0.0; poly.len() + lag];
        for (i, c) in poly.iter().enumerate() {
            out[i] += c;
            out[i + lag] -= c;
        }
        out
    };
    for _ in 0..d {
        poly = times(&poly, 1);
    }
    for _ in 0..seasonal_d {
        poly = times(&poly, m);
    }
    poly
}

fn difference(y: &[f64], lag: usize) -> Vec<f64> {
    (lag..y.len()).map(|t| y[t] - y[t - lag]).collect()
}

/// Partial autocorrelations (as `tanh` of free numbers) to the
/// coefficients of a stationary `1 − Σ φ_i B^i` (Durbin–Levinson).
fn stationary(free: &[f64]) -> Vec<f64> {
    let mut phi: Vec<f64> = Vec::with_capacity(free.len());
    for (k, x) in free.iter().enumerate() {
        let r = x.tanh();
        let prev = phi.clone();
        for j in 0..k {
            phi[j] = prev[j] - r * prev[k - 1 - j];
        }
        phi.push(r);
    }
    phi
}

/// `(1 + Σ a_i B^i)(1 + Σ s_j B^{jm})` less its leading 1, with `sign`
/// −1 for the AR side (whose polynomials are `1 − …`).
fn expand(a: &[f64], s: &[f64], m: usize, sign: f64) -> Vec<f64> {
    let len = a.len() + s.len() * m;
    let mut out = vec![0.0; len];
    let mut lhs = vec![1.0];
    lhs.extend(a.iter().map(|v| sign * v));
    let mut rhs = vec![0.0; s.len() * m + 1];
    rhs[0] = 1.0;
    for (j, v) in s.iter().enumerate() {
        rhs[(j + 1) * m] = sign * v;
    }
    for (i, x) in lhs.iter().enumerate() {
        for (j, y) in rhs.iter().enumerate() {
            if i + j > 0 {
                out[i + j - 1] += x * y;
            }
        }
    }
    // Back to `z_t = Σ coef z_{t-k}` form on the AR side.
    out.iter().map(|v| sign * v).collect()
}

/// The conditional sum of squares and the residuals of `z` under the
/// expanded polynomials, conditioning on the first `ar.len()` values.
fn css(z: &[f64], ar: &[f64], ma: &[f64], e: &mut Vec<f64>) -> (f64, usize) {
    let start = ar.len();
    e.clear();
    e.resize(z.len(), 0.0);
    let mut sse = 0.0;
    for t in start..z.len() {
        let mut v = z[t];
        for (k, a) in ar.iter().enumerate() {
            v -= a * z[t - 1 - k];
        }
        for (k, b) in ma.iter().enumerate() {
            if t > k {
                v -= b * e[t - 1 - k];
            }
        }
        e[t] = v;
        sse += v * v;
    }
    (sse, z.len().saturating_sub(start))
}

/// One candidate, fitted.
struct Candidate {
    aicc: f64,
    ar: Vec<f64>,
    ma: Vec<f64>,
    mean: f64,
    e: Vec<f64>,
}

/// Fits one candidate to the differenced series `w`.
fn fit_one(w: &[f64], m: usize, o: Orders) -> Option<Candidate> {
    let n = w.len();
    let ncond = o.p + o.sp * m;
    let k = o.p + o.q + o.sp + o.sq + usize::from(o.constant) + 1;
    if n < ncond + k + 3 {
        return None;
    }
    let mean0 = if o.constant {
        w.iter().sum::<f64>() / n as f64
    } else {
        0.0
    };
    let sd = (w.iter().map(|v| (v - mean0).powi(2)).sum::<f64>() / n as f64)
        .sqrt()
        .max(1e-12);
    let dims = k - 1;
    let unpack = |x: &[f64]| {
        let (p, rest) = x.split_at(o.p);
        let (q, rest) = rest.split_at(o.q);
        let (sp, rest) = rest.split_at(o.sp);
        let (sq, rest) = rest.split_at(o.sq);
        let ar = expand(&stationary(p), &stationary(sp), m, -1.0);
        // An invertible MA side is a stationary polynomial with its sign turned.
        let neg = |v: Vec<f64>| -> Vec<f64> { v.into_iter().map(|c| -c).collect() };
        let ma = expand(&neg(stationary(q)), &neg(stationary(sq)), m, 1.0);
        let mean = if o.constant {
            mean0 + sd * rest[0]
        } else {
            0.0
        };
        (ar, ma, mean)
    };
    let mut z = vec![0.0; n];
    let mut e = Vec::with_capacity(n);
    let mut objective = |x: &[f64]| -> f64 {
        if x.iter().any(|v| v.abs() > 20.0) {
            return f64::INFINITY;
        }
        let (ar, ma, mean) = unpack(x);
        for (zt, wt) in z.iter_mut().zip(w) {
            *zt = wt - mean;
        }
        css(&z, &ar, &ma, &mut e).0
    };
    let (best, _) = if dims == 0 {
        (Vec::new(), objective(&[]))
    } else {
        minimise(
            &mut objective,
            &vec![0.0; dims],
            &vec![0.2; dims],
            (150 * dims).clamp(300, 2000),
        )
    };
    let (ar, ma, mean) = unpack(&best);
    let z: Vec<f64> = w.iter().map(|v| v - mean).collect();
    let mut e = Vec::with_capacity(n);
    let (sse, used) = css(&z, &ar, &ma, &mut e);
    let nu = used as f64;
    let kf = k as f64;
    if !(sse.is_finite() && nu > kf + 1.0) {
        return None;
    }
    // As `auto.arima` scores CSS fits: the variance from the residuals a
    // model has, the length every candidate shares (the differenced
    // series), so that models conditioning on more values gain nothing.
    let sigma2 = (sse / nu).max(1e-300);
    let shared = n as f64;
    let aicc = shared * sigma2.ln() + 2.0 * kf + 2.0 * kf * (kf + 1.0) / (shared - kf - 1.0);
    Some(Candidate {
        aicc,
        ar,
        ma,
        mean,
        e,
    })
}

/// Fits the automatic ARIMA to `y` (season `m`); `None` when the series is
/// too short for any candidate.
pub fn auto(y: &[f64], m: usize) -> Option<ArimaFit> {
    let n = y.len();
    if n < 10 {
        return None;
    }
    let seasonal = (2..=24).contains(&m) && n >= 2 * m + 4;
    let seasonal_d = usize::from(
        seasonal
            && profile::profile(y, m)
                .seasonal_strength
                .is_some_and(|s| s >= 0.64),
    );
    let mut w = y.to_vec();
    if seasonal_d == 1 {
        w = difference(&w, m);
    }
    let d = kpss_differences(&w, 2);
    for _ in 0..d {
        w = difference(&w, 1);
    }
    if w.len() < 8 {
        return None;
    }
    let sm = if seasonal { m } else { 1 };
    let allow_constant = d + seasonal_d <= 1;
    let starts = if seasonal {
        vec![(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
    } else {
        vec![(2, 2, 0, 0), (0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0)]
    };
    let mut tried: Vec<Orders> = Vec::new();
    let mut best: Option<(Orders, Candidate)> = None;
    let consider =
        |o: Orders, tried: &mut Vec<Orders>, best: &mut Option<(Orders, Candidate)>| -> bool {
            if tried.contains(&o) || tried.len() >= MAX_MODELS {
                return false;
            }
            tried.push(o);
            if o.p + o.q + o.sp + o.sq > MAX_ORDER || o.p > 5 || o.q > 5 || o.sp > 2 || o.sq > 2 {
                return false;
            }
            let Some(fit) = fit_one(&w, sm, o) else {
                return false;
            };
            if best.as_ref().is_none_or(|(_, b)| fit.aicc < b.aicc - 1e-9) {
                *best = Some((o, fit));
                return true;
            }
            false
        };
    for (p, q, sp, sq) in starts {
        let o = Orders {
            p,
            q,
            sp,
            sq,
            constant: allow_constant,
        };
        consider(o, &mut tried, &mut best);
    }
    loop {
        let current = best.as_ref().map(|(o, _)| *o)?;
        let mut moves: Vec<Orders> = Vec::new();
        let step = |v: usize, by: i64| -> Option<usize> { usize::try_from(v as i64 + by).ok() };
        for (dp, dq, dsp, dsq) in [
            (1, 0, 0, 0),
            (-1, 0, 0, 0),
            (0, 1, 0, 0),
            (0, -1, 0, 0),
            (1, 1, 0, 0),
            (-1, -1, 0, 0),
            (1, -1, 0, 0),
            (-1, 1, 0, 0),
            (0, 0, 1, 0),
            (0, 0, -1, 0),
            (0, 0, 0, 1),
            (0, 0, 0, -1),
            (0, 0, 1, 1),
            (0, 0, -1, -1),
        ] {
            if !seasonal && (dsp != 0 || dsq != 0) {
                continue;
            }
            if let (Some(p), Some(q), Some(sp), Some(sq)) = (
                step(current.p, dp),
                step(current.q, dq),
                step(current.sp, dsp),
                step(current.sq, dsq),
            ) {
                moves.push(Orders {
                    p,
                    q,
                    sp,
                    sq,
                    ..current
                });
            }
        }
        if allow_constant {
            moves.push(Orders {
                constant: !current.constant,
                ..current
            });
        }
        let mut improved = false;
        for o in moves {
            if consider(o, &mut tried, &mut best) {
                improved = true;
                break;
            }
        }
        if !improved || tried.len() >= MAX_MODELS {
            break;
        }
    }
    let (
        orders,
        Candidate {
            aicc,
            ar,
            ma,
            mean,
            e,
        },
    ) = best?;
    let z: Vec<f64> = w.iter().map(|v| v - mean).collect();
    let back = d + seasonal_d * m;
    let fit = ArimaFit {
        d,
        seasonal_d,
        m,
        orders,
        ar,
        ma,
        mean,
        z,
        e,
        tail: y[n - back.min(n)..].to_vec(),
        aicc,
    };
    fit.forecast(1).iter().all(|v| v.is_finite()).then_some(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomials_expand_and_stay_stationary() {
        // (1 − 0.5B)(1 − 0.3B²) = 1 − 0.5B − 0.3B² + 0.15B³.
        let ar = expand(&[0.5], &[0.3], 2, -1.0);
        let want = [0.5, 0.3, -0.15];
        assert!(
            ar.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{ar:?}"
        );
        // (1 + 0.4B)(1 + 0.2B²) = 1 + 0.4B + 0.2B² + 0.08B³.
        let ma = expand(&[0.4], &[0.2], 2, 1.0);
        let want = [0.4, 0.2, 0.08];
        assert!(
            ma.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{ma:?}"
        );
        // Any free numbers give an AR(2) inside the stationarity triangle.
        for x in [[-3.0, 2.0], [5.0, 5.0], [0.1, -7.0]] {
            let phi = stationary(&x);
            assert!(
                phi[1].abs() < 1.0 && phi[0] + phi[1] < 1.0 && phi[1] - phi[0] < 1.0,
                "{phi:?}"
            );
        }
        assert_eq!(
            difference_polynomial(1, 1, 4),
            vec![1.0, -1.0, 0.0, 0.0, -1.0, 1.0]
        );
    }

    #[test]
    fn an_ma1_and_a_seasonal_random_walk_are_found_and_forecast() {
        let mut rng = crate::rng::Rng::new(11);
        let mut noise = || rng.next_f64() - 0.5;
        // y_t = 10 + e_t + 0.8 e_{t−1}: an MA(1) about 10.
        let mut prev = 0.0;
        let y: Vec<f64> = (0..400)
            .map(|_| {
                let e = noise();
                let v = 10.0 + e + 0.8 * prev;
                prev = e;
                v
            })
            .collect();
        let fit = auto(&y, 1).expect("fits");
        assert_eq!((fit.d, fit.seasonal_d), (0, 0), "{}", fit.label());
        assert!(fit.orders.q >= 1, "{}", fit.label());
        let f = fit.forecast(5);
        // One step ahead knows the last shock; further ahead is the mean.
        assert!((f[4] - 10.0).abs() < 0.1, "{f:?}");
        assert!(
            (f[0] - (10.0 + 0.8 * fit.e[fit.e.len() - 1])).abs() < 0.15,
            "{f:?}"
        );
        // A seasonal pattern with a trend and a little noise: differenced, and forecast on.
        let pattern = [0.0, 8.0, 3.0, -5.0];
        let y: Vec<f64> = (0..120)
            .map(|t| 50.0 + 0.5 * t as f64 + pattern[t % 4] + 0.3 * noise())
            .collect();
        let fit = auto(&y, 4).expect("fits");
        assert_eq!(fit.seasonal_d, 1, "{}", fit.label());
        let f = fit.forecast(8);
        for (k, v) in f.iter().enumerate() {
            let t = 120 + k;
            let want = 50.0 + 0.5 * t as f64 + pattern[t % 4];
            assert!(
                (v - want).abs() < 1.5,
                "step {k}: {v} against {want} ({})",
                fit.label()
            );
        }
        assert!(auto(&y[..6], 4).is_none());
    }
}
