//! The Theta method in the state-space forms of Fiorucci, Pellegrini,
//! Louzada, Petropoulos and Koehler (2016), chosen as statsforecast's
//! `AutoTheta` chooses: when the 90% seasonality test passes, the series is
//! divided by a multiplicative classical decomposition (additive when it has
//! values ≤ 0); then the standard (θ = 2) and optimised-θ models, each with
//! static or dynamic linear-trend coefficients, are fitted by one-step mean
//! squared error, and the lowest wins. Forecasts are re-seasonalised with the
//! decomposition's figures.

use serde::{Deserialize, Serialize};

use super::optim;
use super::season::{self, Form};

const ALPHA_RANGE: (f64, f64) = (0.1, 0.99);
const THETA_MIN: f64 = 1.0;

/// The four Theta variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThetaKind {
    /// Standard: θ = 2, trend coefficients from the whole history.
    Standard,
    /// Optimised θ, trend coefficients from the whole history.
    Optimised,
    /// Standard, trend coefficients updated at each step.
    DynamicStandard,
    /// Optimised θ, trend coefficients updated at each step.
    DynamicOptimised,
}

impl ThetaKind {
    pub const ALL: [ThetaKind; 4] = [
        ThetaKind::Standard,
        ThetaKind::Optimised,
        ThetaKind::DynamicStandard,
        ThetaKind::DynamicOptimised,
    ];

    fn dynamic(self) -> bool {
        matches!(
            self,
            ThetaKind::DynamicStandard | ThetaKind::DynamicOptimised
        )
    }

    fn optimised(self) -> bool {
        matches!(self, ThetaKind::Optimised | ThetaKind::DynamicOptimised)
    }

    pub fn label(self) -> &'static str {
        match self {
            ThetaKind::Standard => "STM",
            ThetaKind::Optimised => "OTM",
            ThetaKind::DynamicStandard => "DSTM",
            ThetaKind::DynamicOptimised => "DOTM",
        }
    }
}

/// A fitted Theta model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThetaFit {
    pub kind: ThetaKind,
    pub alpha: f64,
    pub theta: f64,
    /// Final smoothed level, trend intercept and slope, and history length.
    pub level: f64,
    pub intercept: f64,
    pub slope: f64,
    pub n: usize,
    /// Seasonal figures the history was divided by (season of history step `t` is `t % m`),
    /// empty when none; and whether they are added rather than multiplied.
    pub figures: Vec<f64>,
    pub additive_season: bool,
    pub mse: f64,
}

impl ThetaFit {
    /// Point forecasts for the `h` steps after the history.
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let n = self.n as f64;
        let a = self.alpha;
        let decay = (1.0 - a).powf(n);
        let reach = (1.0 - (1.0 - a).powf(n + 1.0)) / a;
        let m = self.figures.len();
        (0..h)
            .map(|i| {
                let core = self.level
                    + (1.0 - 1.0 / self.theta)
                        * (decay * self.intercept + (i as f64 + reach) * self.slope);
                if m == 0 {
                    core
                } else {
                    let s = self.figures[(self.n + i) % m];
                    if self.additive_season {
                        core + s
                    } else {
                        core * s
                    }
                }
            })
            .collect()
    }
}

/// Fits the four variants (after deseasonalising when the test says so) and keeps the lowest MSE.
pub fn auto(y: &[f64], m: usize) -> Option<ThetaFit> {
    if y.len() < 3 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (adjusted, figures, additive) = deseasonalise(y, m);
    ThetaKind::ALL
        .into_iter()
        .filter_map(|kind| fit_adjusted(&adjusted, kind))
        .min_by(|a, b| a.mse.total_cmp(&b.mse))
        .map(|mut f| {
            f.figures = figures.clone();
            f.additive_season = additive;
            f
        })
}

/// One variant, with the same deseasonalising rule.
pub fn fit(y: &[f64], m: usize, kind: ThetaKind) -> Option<ThetaFit> {
    if y.len() < 3 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (adjusted, figures, additive) = deseasonalise(y, m);
    let mut f = fit_adjusted(&adjusted, kind)?;
    f.figures = figures;
    f.additive_season = additive;
    Some(f)
}

fn deseasonalise(y: &[f64], m: usize) -> (Vec<f64>, Vec<f64>, bool) {
    if !season::is_seasonal(y, m) {
        return (y.to_vec(), Vec::new(), false);
    }
    let form = if y.iter().all(|v| *v > 0.0) {
        Form::Multiplicative
    } else {
        Form::Additive
    };
    let Some(fig) = season::figures(y, m, form) else {
        return (y.to_vec(), Vec::new(), false);
    };
    if form == Form::Multiplicative && fig.iter().any(|f| *f <= 1e-8) {
        return (y.to_vec(), Vec::new(), false);
    }
    let adjusted = season::adjust(y, &fig, form);
    (adjusted, fig, form == Form::Additive)
}

fn fit_adjusted(y: &[f64], kind: ThetaKind) -> Option<ThetaFit> {
    let mut objective = |x: &[f64]| {
        let (l0, alpha, theta) = (x[0], x[1], if kind.optimised() { x[2] } else { 2.0 });
        if alpha < ALPHA_RANGE.0 || alpha > ALPHA_RANGE.1 || theta < THETA_MIN {
            return f64::INFINITY;
        }
        run(y, kind, l0, alpha, theta).map_or(f64::INFINITY, |r| r.mse)
    };
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / y.len() as f64;
    let mut start = vec![y[0] / 2.0, 0.5];
    let mut steps = vec![0.1 * (y[0] / 2.0).abs().max(0.01 * scale + 1e-8), 0.1];
    if kind.optimised() {
        start.push(2.0);
        steps.push(0.2);
    }
    let (best, mse) = optim::minimise(&mut objective, &start, &steps, 1000);
    if !mse.is_finite() {
        return None;
    }
    let theta = if kind.optimised() { best[2] } else { 2.0 };
    let r = run(y, kind, best[0], best[1], theta)?;
    Some(ThetaFit {
        kind,
        alpha: best[1],
        theta,
        level: r.level,
        intercept: r.intercept,
        slope: r.slope,
        n: y.len(),
        figures: Vec::new(),
        additive_season: false,
        mse: r.mse,
    })
}

struct Run {
    mse: f64,
    level: f64,
    intercept: f64,
    slope: f64,
}

/// The filter: each step's one-step forecast `ℓ + (1 − 1/θ)[(1 − α)^t A + ((1 − (1 − α)^{t+1})/α) B]`,
/// then the level, the mean and (when dynamic) the trend coefficients move.
fn run(y: &[f64], kind: ThetaKind, l0: f64, alpha: f64, theta: f64) -> Option<Run> {
    let (mut intercept, mut slope) = if kind.dynamic() { (y[0], 0.0) } else { line(y) };
    let mut level = alpha * y[0] + (1.0 - alpha) * l0;
    let mut mean = y[0];
    let mut sse = 0.0;
    let mut count = 0usize;
    let weight = 1.0 - 1.0 / theta;
    for (i, &v) in y.iter().enumerate().skip(1) {
        let t = i as f64;
        let mu = level
            + weight
                * ((1.0 - alpha).powf(t) * intercept
                    + ((1.0 - (1.0 - alpha).powf(t + 1.0)) / alpha) * slope);
        let e = v - mu;
        sse += e * e;
        count += 1;
        level = alpha * v + (1.0 - alpha) * level;
        let new_mean = (t * mean + v) / (t + 1.0);
        if kind.dynamic() {
            slope = ((t - 1.0) * slope + 6.0 * (v - mean) / (t + 1.0)) / (t + 2.0);
            intercept = new_mean - slope * (t + 2.0) / 2.0;
        }
        mean = new_mean;
        if !level.is_finite() || !slope.is_finite() {
            return None;
        }
    }
    Some(Run {
        mse: sse / count.max(1) as f64,
        level,
        intercept,
        slope,
    })
}

/// Least-squares intercept and slope of `y` against `1..=n`.
fn line(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let weighted = y
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0) * v)
        .sum::<f64>()
        / n;
    let slope = if n > 1.0 {
        6.0 * (2.0 * weighted - (1.0 + n) * mean) / (n * n - 1.0)
    } else {
        0.0
    };
    (mean - (n + 1.0) * slope / 2.0, slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theta_extends_a_trend_by_half_its_slope_and_keeps_the_season() {
        // Standard Theta on a clean line: SES of the data plus half the slope (θ = 2).
        let y: Vec<f64> = (0..30).map(|t| 5.0 + t as f64).collect();
        let (a, b) = line(&y);
        assert!((a - 4.0).abs() < 1e-9 && (b - 1.0).abs() < 1e-9, "{a} {b}");
        let f = fit(&y, 1, ThetaKind::Optimised).expect("fits");
        let ahead = f.forecast(3);
        assert!(ahead.windows(2).all(|w| w[1] > w[0]), "{ahead:?}");
        let fig = [1.3, 0.7, 1.0, 1.0];
        let y: Vec<f64> = (0..40).map(|t| 20.0 * fig[t % 4]).collect();
        let best = auto(&y, 4).expect("fits");
        assert_eq!(best.figures.len(), 4, "{best:?}");
        for (i, v) in best.forecast(4).iter().enumerate() {
            let want = 20.0 * fig[(40 + i) % 4];
            assert!(
                (v - want).abs() < 0.02 * want,
                "step {i}: {v} against {want}"
            );
        }
    }
}
