//! Exponential smoothing in innovations state-space form (Hyndman, Koehler,
//! Ord and Snyder 2008), with the automatic selection of R's `forecast::ets`
//! and statsforecast's `AutoETS`: every admissible combination of error
//! (additive, multiplicative), trend (none, additive, damped) and season
//! (none, additive, multiplicative) is fitted by maximum likelihood, and the
//! lowest AICc wins.
//!
//! Following those implementations: multiplicative trends are left out, an
//! additive error never pairs with a multiplicative season, multiplicative
//! components need positive data, seasons longer than 24 are not modelled
//! (`AutoETS` ignores them too; the global tree model and seasonal naive
//! cover weekly and half-hourly seasons), and the initial states start from a
//! classical decomposition and are then optimised with the smoothing
//! parameters. Parameters respect the "usual" bounds (α, β ≤ α, γ ≤ 1 − α,
//! 0.8 ≤ φ ≤ 0.98); the eigenvalue admissibility check is not applied.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::optim;
use super::season::{self, Form};

const LOWER: f64 = 1e-4;
const UPPER: f64 = 0.9999;
const PHI_LOWER: f64 = 0.8;
const PHI_UPPER: f64 = 0.98;
/// Seasons above this are not modelled by ETS.
pub(crate) const MAX_SEASON: usize = 24;
const MAX_EVALS: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Component {
    None,
    Additive,
    Multiplicative,
}

/// One ETS model: error, trend (with damping) and season types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtsSpec {
    pub error: Component,
    pub trend: Component,
    pub damped: bool,
    pub season: Component,
}

impl fmt::Display for EtsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |c: Component| match c {
            Component::None => "N",
            Component::Additive => "A",
            Component::Multiplicative => "M",
        };
        let damp = if self.damped { "d" } else { "" };
        write!(
            f,
            "ETS({},{}{},{})",
            c(self.error),
            c(self.trend),
            damp,
            c(self.season)
        )
    }
}

/// A fitted ETS model: its parameters and final states, ready to forecast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EtsFit {
    pub spec: EtsSpec,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
    /// Final level, slope and seasonal states (most recent season first).
    pub level: f64,
    pub slope: f64,
    pub seasons: Vec<f64>,
    pub aicc: f64,
    /// Mean squared one-step error on the fitted history.
    pub mse: f64,
}

impl EtsFit {
    /// Point forecasts for the `h` steps after the history.
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let m = self.seasons.len();
        let mut out = Vec::with_capacity(h);
        let mut phistar = self.phi;
        for i in 0..h {
            let mut f = match self.spec.trend {
                Component::None => self.level,
                _ => self.level + phistar * self.slope,
            };
            if m > 0 {
                // The season `i` steps ahead is the one last seen `m − 1 − i (mod m)` states back.
                let s = self.seasons[(m - 1 - i % m) % m];
                f = match self.spec.season {
                    Component::Multiplicative => f * s,
                    _ => f + s,
                };
            }
            out.push(f);
            phistar += self.phi.powi(i as i32 + 2);
            if !self.spec.damped {
                phistar = (i + 2) as f64;
            }
        }
        out
    }
}

/// Every ETS model `y` allows with season `m`, as `AutoETS` enumerates them.
pub(crate) fn candidates(y: &[f64], m: usize) -> Vec<EtsSpec> {
    let positive = y.iter().all(|v| *v > 0.0);
    let seasonal = m > 1 && m <= MAX_SEASON && y.len() >= 2 * m;
    let errors: &[Component] = if positive {
        &[Component::Additive, Component::Multiplicative]
    } else {
        &[Component::Additive]
    };
    let seasons: &[Component] = match (seasonal, positive) {
        (false, _) => &[Component::None],
        (true, false) => &[Component::None, Component::Additive],
        (true, true) => &[
            Component::None,
            Component::Additive,
            Component::Multiplicative,
        ],
    };
    let mut out = Vec::new();
    for &error in errors {
        for (trend, damped) in [
            (Component::None, false),
            (Component::Additive, false),
            (Component::Additive, true),
        ] {
            for &season in seasons {
                if error == Component::Additive && season == Component::Multiplicative {
                    continue;
                }
                let spec = EtsSpec {
                    error,
                    trend,
                    damped,
                    season,
                };
                if y.len() > parameter_count(spec, m) + 4 {
                    out.push(spec);
                }
            }
        }
    }
    out
}

/// R's count of free parameters, used to keep short series to small models.
fn parameter_count(spec: EtsSpec, m: usize) -> usize {
    2 + if spec.trend == Component::None { 0 } else { 2 }
        + if spec.season == Component::None { 0 } else { m }
        + usize::from(spec.damped)
}

/// Fits every candidate and keeps the lowest AICc; `None` when no candidate fits.
pub fn auto(y: &[f64], m: usize) -> Option<EtsFit> {
    candidates(y, m)
        .into_iter()
        .filter_map(|spec| fit(y, m, spec))
        .filter(|f| f.aicc.is_finite())
        .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
}

/// Fits one ETS model by maximum likelihood.
pub fn fit(y: &[f64], m: usize, spec: EtsSpec) -> Option<EtsFit> {
    let n = y.len();
    let m = if spec.season == Component::None { 1 } else { m };
    if n < 3 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (l0, b0, s0) = initial_states(y, m, spec)?;
    let has_trend = spec.trend != Component::None;
    let has_season = spec.season != Component::None;
    let alpha = LOWER + 0.2 * (UPPER - LOWER) / m as f64;
    let mut beta = LOWER + 0.1 * (UPPER - LOWER);
    if beta > alpha {
        beta = alpha - 1e-3;
    }
    let mut gamma = LOWER + 0.05 * (UPPER - LOWER);
    if gamma > 1.0 - alpha {
        gamma = 1.0 - alpha - 1e-3;
    }
    let phi = PHI_LOWER + 0.99 * (PHI_UPPER - PHI_LOWER);
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    let state_step = |v: f64, fallback: f64| (0.1 * v.abs()).max(fallback);
    let mut start = vec![alpha];
    let mut steps = vec![0.1 * alpha.max(0.05)];
    if has_trend {
        start.push(beta.max(LOWER));
        steps.push(0.1 * beta.max(0.01));
    }
    if has_season {
        start.push(gamma.max(LOWER));
        steps.push(0.02);
    }
    if spec.damped {
        start.push(phi);
        steps.push(0.005);
    }
    start.push(l0);
    steps.push(state_step(l0, 0.01 * scale + 1e-8));
    if has_trend {
        start.push(b0);
        steps.push(state_step(b0, 0.001 * scale + 1e-8));
    }
    for s in &s0[..s0.len().saturating_sub(1)] {
        start.push(*s);
        steps.push(match spec.season {
            Component::Multiplicative => 0.01,
            _ => state_step(*s, 0.01 * scale + 1e-8),
        });
    }
    let mut objective = |x: &[f64]| {
        let Some(p) = unpack(x, spec, m) else {
            return f64::INFINITY;
        };
        match run(y, m, spec, &p) {
            Some(r) => r.lik,
            None => f64::INFINITY,
        }
    };
    let (best, lik) = optim::minimise(&mut objective, &start, &steps, MAX_EVALS);
    if !lik.is_finite() {
        return None;
    }
    let p = unpack(&best, spec, m)?;
    let r = run(y, m, spec, &p)?;
    let np = best.len() + 1;
    let aic = r.lik + 2.0 * np as f64;
    let aicc = if n > np + 1 {
        aic + 2.0 * (np * (np + 1)) as f64 / (n - np - 1) as f64
    } else {
        f64::INFINITY
    };
    Some(EtsFit {
        spec,
        alpha: p.alpha,
        beta: p.beta,
        gamma: p.gamma,
        phi: p.phi,
        level: r.level,
        slope: r.slope,
        seasons: if has_season { r.seasons } else { Vec::new() },
        aicc,
        mse: r.mse,
    })
}

struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    level: f64,
    slope: f64,
    /// All `m` initial seasons, most recent first.
    seasons: Vec<f64>,
}

/// The optimiser's vector as parameters, or `None` outside the usual bounds.
fn unpack(x: &[f64], spec: EtsSpec, m: usize) -> Option<Params> {
    let mut it = x.iter().copied();
    let alpha = it.next()?;
    if !(LOWER..=UPPER).contains(&alpha) {
        return None;
    }
    let beta = if spec.trend != Component::None {
        let b = it.next()?;
        if b < LOWER || b > alpha || b > UPPER {
            return None;
        }
        b
    } else {
        0.0
    };
    let gamma = if spec.season != Component::None {
        let g = it.next()?;
        if g < LOWER || g > 1.0 - alpha || g > UPPER {
            return None;
        }
        g
    } else {
        0.0
    };
    let phi = if spec.damped {
        let p = it.next()?;
        if !(PHI_LOWER..=PHI_UPPER).contains(&p) {
            return None;
        }
        p
    } else {
        1.0
    };
    let level = it.next()?;
    let slope = if spec.trend != Component::None {
        it.next()?
    } else {
        0.0
    };
    let mut seasons: Vec<f64> = it.collect();
    if spec.season != Component::None {
        let sum: f64 = seasons.iter().sum();
        seasons.push(match spec.season {
            Component::Multiplicative => m as f64 - sum,
            _ => -sum,
        });
        if spec.season == Component::Multiplicative && seasons.iter().any(|s| *s <= 0.0) {
            return None;
        }
    }
    if spec.error == Component::Multiplicative && level <= 0.0 {
        return None;
    }
    Some(Params {
        alpha,
        beta,
        gamma,
        phi,
        level,
        slope,
        seasons,
    })
}

struct Run {
    lik: f64,
    mse: f64,
    level: f64,
    slope: f64,
    seasons: Vec<f64>,
}

/// Runs the filter over `y`: the likelihood criterion of `forecast::ets`
/// (`n·log Σe²`, plus `2·Σ log|ŷ|` for multiplicative errors) and the final states.
fn run(y: &[f64], m: usize, spec: EtsSpec, p: &Params) -> Option<Run> {
    let n = y.len();
    let mut l = p.level;
    let mut b = p.slope;
    // Ring buffer of seasons: `ring[head]` is the most recent, `ring[(head + m − 1) % m]` the oldest.
    let mut ring = p.seasons.clone();
    let seasonal = spec.season != Component::None;
    let mut head = 0usize;
    let (mut sse, mut sse_level, mut logs) = (0.0, 0.0, 0.0);
    for &v in y {
        let phib = if spec.trend == Component::None {
            0.0
        } else {
            p.phi * b
        };
        let q = l + phib;
        let oldest = (head + m - 1) % m;
        let s = if seasonal { ring[oldest] } else { 0.0 };
        let f = match spec.season {
            Component::None => q,
            Component::Additive => q + s,
            Component::Multiplicative => q * s,
        };
        if !f.is_finite() {
            return None;
        }
        let e = match spec.error {
            Component::Multiplicative => {
                if f.abs() < 1e-10 {
                    return None;
                }
                logs += f.abs().ln();
                (v - f) / f
            }
            _ => v - f,
        };
        sse += e * e;
        sse_level += (v - f) * (v - f);
        let deseason = match spec.season {
            Component::None => v,
            Component::Additive => v - s,
            Component::Multiplicative => v / s,
        };
        let l_new = q + p.alpha * (deseason - q);
        if spec.trend != Component::None {
            b = phib + (p.beta / p.alpha) * ((l_new - l) - phib);
        }
        if seasonal {
            let detrend = match spec.season {
                Component::Multiplicative => {
                    if q.abs() < 1e-10 {
                        return None;
                    }
                    v / q
                }
                _ => v - q,
            };
            ring[oldest] = s + p.gamma * (detrend - s);
            head = oldest;
        }
        l = l_new;
        if !l.is_finite() || !b.is_finite() {
            return None;
        }
    }
    let mut lik = n as f64 * sse.max(1e-300).ln();
    if spec.error == Component::Multiplicative {
        lik += 2.0 * logs;
    }
    let lik = lik.max(-1e10);
    let seasons = if seasonal {
        (0..m).map(|j| ring[(head + j) % m]).collect()
    } else {
        Vec::new()
    };
    Some(Run {
        lik,
        mse: sse_level / n as f64,
        level: l,
        slope: b,
        seasons,
    })
}

/// Starting states as `forecast::ets` computes them: seasons from a classical
/// decomposition of the first three periods (or all of them, when shorter),
/// level and slope from a line through the first `max(10, 2m)` seasonally
/// adjusted values. Seasons are returned most recent first (`m` of them; the
/// optimiser moves all but the last, which keeps their sum fixed).
fn initial_states(y: &[f64], m: usize, spec: EtsSpec) -> Option<(f64, f64, Vec<f64>)> {
    let n = y.len();
    let (adjusted, seasons) = if spec.season != Component::None {
        let form = match spec.season {
            Component::Multiplicative => Form::Multiplicative,
            _ => Form::Additive,
        };
        let head = &y[..n.min(3 * m)];
        let mut fig = season::figures(head, m, form)?;
        if form == Form::Multiplicative {
            fig.iter_mut().for_each(|f| *f = f.max(1e-2));
        }
        let adjusted = season::adjust(y, &fig, form);
        // Most recent first: the state before y[0] holds season m − 1 first.
        let seasons: Vec<f64> = (0..m).map(|j| fig[(m - 1 - j) % m]).collect();
        (adjusted, seasons)
    } else {
        (y.to_vec(), Vec::new())
    };
    let maxn = (10usize.max(2 * m)).min(n);
    let head = &adjusted[..maxn];
    if spec.trend == Component::None {
        let l0 = head.iter().sum::<f64>() / maxn as f64;
        return Some((l0, 0.0, seasons));
    }
    let tm = (maxn as f64 + 1.0) / 2.0;
    let ym = head.iter().sum::<f64>() / maxn as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in head.iter().enumerate() {
        let t = i as f64 + 1.0 - tm;
        sxy += t * (v - ym);
        sxx += t * t;
    }
    let mut b0 = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let mut l0 = ym - b0 * tm;
    if (l0 + b0).abs() < 1e-8 {
        l0 *= 1.0 + 1e-3;
        b0 *= 1.0 - 1e-3;
    }
    Some((l0, b0, seasons))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_smoothing_tracks_a_level_and_trend_model_a_line() {
        let mut rng = crate::Rng::new(7);
        let noisy: Vec<f64> = (0..80).map(|_| 50.0 + rng.next_f64() - 0.5).collect();
        let spec = EtsSpec {
            error: Component::Additive,
            trend: Component::None,
            damped: false,
            season: Component::None,
        };
        let f = fit(&noisy, 1, spec).expect("fits");
        assert!((f.forecast(3)[2] - 50.0).abs() < 0.3, "{f:?}");
        let line: Vec<f64> = (0..40).map(|t| 10.0 + 2.0 * t as f64).collect();
        let best = auto(&line, 1).expect("fits");
        assert_eq!(best.spec.trend, Component::Additive, "{best:?}");
        let ahead = best.forecast(5);
        for (i, v) in ahead.iter().enumerate() {
            let want = 10.0 + 2.0 * (40 + i) as f64;
            assert!(
                (v - want).abs() < 0.05 * want,
                "step {i}: {v} against {want}"
            );
        }
    }

    #[test]
    fn multiplicative_season_is_found_and_forecast() {
        let fig = [0.8, 0.9, 1.1, 1.2];
        let y: Vec<f64> = (0..48)
            .map(|t| (100.0 + 3.0 * t as f64) * fig[t % 4])
            .collect();
        let best = auto(&y, 4).expect("fits");
        assert_ne!(best.spec.season, Component::None, "{best:?}");
        for (i, v) in best.forecast(8).iter().enumerate() {
            let t = 48 + i;
            let want = (100.0 + 3.0 * t as f64) * fig[t % 4];
            assert!(
                (v - want).abs() < 0.03 * want,
                "step {i}: {v} against {want} ({})",
                best.spec
            );
        }
    }
}
