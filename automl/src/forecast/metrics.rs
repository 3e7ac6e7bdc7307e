//! Forecast accuracy as Canvas and Autopilot report it: weighted quantile
//! loss at the chosen quantiles, WAPE, MASE, RMSE and MAPE (flagged where
//! values near zero make it meaningless).

use serde::{Deserialize, Serialize};

/// The metric a forecast build ranks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForecastMetric {
    /// Mean weighted quantile loss over the chosen quantiles.
    Wql,
    Wape,
    Mase,
    Rmse,
    Mape,
}

impl ForecastMetric {
    pub const ALL: [ForecastMetric; 5] = [
        ForecastMetric::Wql,
        ForecastMetric::Wape,
        ForecastMetric::Mase,
        ForecastMetric::Rmse,
        ForecastMetric::Mape,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ForecastMetric::Wql => "wQL",
            ForecastMetric::Wape => "WAPE",
            ForecastMetric::Mase => "MASE",
            ForecastMetric::Rmse => "RMSE",
            ForecastMetric::Mape => "MAPE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// One scored forecast (one window, all items), every metric at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub wql: f64,
    pub wape: f64,
    pub mase: f64,
    pub rmse: f64,
    /// `None` when some actual value is within 1e-6 of the series' scale of zero.
    pub mape: Option<f64>,
}

impl Scores {
    pub fn get(&self, metric: ForecastMetric) -> f64 {
        match metric {
            ForecastMetric::Wql => self.wql,
            ForecastMetric::Wape => self.wape,
            ForecastMetric::Mase => self.mase,
            ForecastMetric::Rmse => self.rmse,
            ForecastMetric::Mape => self.mape.unwrap_or(f64::NAN),
        }
    }
}

/// One item's slice of a scored forecast.
pub struct Piece<'a> {
    pub actual: &'a [f64],
    pub median: &'a [f64],
    /// One row per quantile level, aligned with `actual`.
    pub quantiles: &'a [Vec<f64>],
    /// The item's MASE denominator (mean absolute seasonal difference of its training history).
    pub scale: f64,
}

/// Scores several items' forecasts together: totals for wQL, WAPE, RMSE
/// and MAPE, and the mean of the items' MASE (as Autopilot averages it).
pub fn score(pieces: &[Piece<'_>], levels: &[f64]) -> Scores {
    let (mut abs_actual, mut abs_err, mut sq_err, mut count) = (0.0, 0.0, 0.0, 0usize);
    let mut pct = 0.0;
    let mut pct_ok = true;
    let mut mase_sum = 0.0;
    let mut mase_items = 0usize;
    let mut qloss = vec![0.0; levels.len()];
    for p in pieces {
        let mut item_abs = 0.0;
        for (t, (&a, &f)) in p.actual.iter().zip(p.median).enumerate() {
            let e = a - f;
            abs_actual += a.abs();
            abs_err += e.abs();
            item_abs += e.abs();
            sq_err += e * e;
            count += 1;
            if a.abs() <= 1e-6 * p.scale.max(1e-12) || a == 0.0 {
                pct_ok = false;
            } else {
                pct += (e / a).abs();
            }
            for (k, &tau) in levels.iter().enumerate() {
                let q = p
                    .quantiles
                    .get(k)
                    .and_then(|row| row.get(t))
                    .copied()
                    .unwrap_or(f);
                qloss[k] += pinball(a, q, tau);
            }
        }
        if !p.actual.is_empty() && p.scale > 0.0 {
            mase_sum += item_abs / p.actual.len() as f64 / p.scale;
            mase_items += 1;
        }
    }
    let denom = abs_actual.max(1e-12);
    let wql = if levels.is_empty() {
        abs_err / denom
    } else {
        qloss.iter().map(|l| 2.0 * l / denom).sum::<f64>() / levels.len() as f64
    };
    Scores {
        wql,
        wape: abs_err / denom,
        mase: if mase_items == 0 {
            f64::NAN
        } else {
            mase_sum / mase_items as f64
        },
        rmse: (sq_err / count.max(1) as f64).sqrt(),
        mape: (pct_ok && count > 0).then(|| pct / count as f64),
    }
}

/// The pinball (quantile) loss of forecast `q` at level `tau` for actual `a`.
pub fn pinball(a: f64, q: f64, tau: f64) -> f64 {
    if a >= q {
        tau * (a - q)
    } else {
        (1.0 - tau) * (q - a)
    }
}

/// MASE's denominator: the mean absolute difference at lag `m` (lag 1 when
/// the history is not longer than `m`); `None` when it is zero or undefined.
pub fn mase_scale(history: &[f64], m: usize) -> Option<f64> {
    let lag = if m >= 1 && history.len() > m { m } else { 1 };
    if history.len() <= lag {
        return None;
    }
    let diffs = history.len() - lag;
    let s = (lag..history.len())
        .map(|t| (history[t] - history[t - lag]).abs())
        .sum::<f64>()
        / diffs as f64;
    (s > 0.0 && s.is_finite()).then_some(s)
}

/// The scale an item's errors are measured in: its MASE scale, at lag 1
/// when the seasonal one is zero or undefined, else its largest absolute
/// value (at least 1), so that a constant series still has one.
pub fn item_scale(history: &[f64], m: usize) -> f64 {
    mase_scale(history, m)
        .or_else(|| mase_scale(history, 1))
        .unwrap_or_else(|| history.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_hand_computation() {
        let actual = [10.0, 20.0];
        let median = [12.0, 18.0];
        let quantiles = vec![vec![8.0, 15.0], vec![12.0, 18.0], vec![14.0, 25.0]];
        let s = score(
            &[Piece {
                actual: &actual,
                median: &median,
                quantiles: &quantiles,
                scale: 4.0,
            }],
            &[0.1, 0.5, 0.9],
        );
        assert!((s.wape - 4.0 / 30.0).abs() < 1e-12);
        assert!((s.rmse - 2.0).abs() < 1e-12);
        assert!((s.mase - 0.5).abs() < 1e-12);
        assert!((s.mape.unwrap() - 0.15).abs() < 1e-12);
        // P10: 0.1·2 + 0.1·5 = 0.7; P50: 0.5·2 + 0.5·2 = 2; P90: 0.1·4 + 0.1·5 = 0.9.
        let want = (2.0 * 0.7 / 30.0 + 2.0 * 2.0 / 30.0 + 2.0 * 0.9 / 30.0) / 3.0;
        assert!((s.wql - want).abs() < 1e-12, "{} {want}", s.wql);
        assert_eq!(mase_scale(&[1.0, 3.0, 2.0, 6.0], 2), Some(2.0));
        assert_eq!(mase_scale(&[5.0, 5.0], 1), None);
    }
}
