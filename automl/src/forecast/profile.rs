//! What the profile of a time-indexed dataset shows for one series: a
//! classical additive decomposition into trend, season and remainder, the
//! strength of trend and of season (Wang, Smith and Hyndman's measures,
//! `1 − Var(remainder) / Var(component + remainder)`), and the
//! autocorrelations.

use serde::{Deserialize, Serialize};

use super::season;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesProfile {
    /// The season length the decomposition used (1: none).
    pub season: usize,
    /// The centred moving average; `None` where its window runs off an end.
    pub trend: Vec<Option<f64>>,
    /// The seasonal figure of each step (all zero without a season).
    pub seasonal: Vec<f64>,
    /// What is left: value − trend − season, where the trend exists.
    pub remainder: Vec<Option<f64>>,
    /// In [0, 1]; `None` when the series is too short to tell.
    pub trend_strength: Option<f64>,
    pub seasonal_strength: Option<f64>,
    /// Whether the detrended series passes the 90% seasonality test
    /// (its lag-season autocorrelation).
    pub seasonal_test: bool,
    /// Autocorrelations at lags 1, 2, …
    pub acf: Vec<f64>,
}

/// The profile of `y` for a season of `m` steps. Without two full seasons
/// the trend is a centred average over about a tenth of the series.
pub fn profile(y: &[f64], m: usize) -> SeriesProfile {
    let n = y.len();
    let seasonal_fit = (m >= 2 && n >= 2 * m)
        .then(|| season::figures(y, m, season::Form::Additive))
        .flatten();
    let (season_used, window) = match &seasonal_fit {
        Some(_) => (m, m),
        None => (1, ((n / 10) | 1).clamp(3, 13)),
    };
    let trend = if n > window {
        season::centred_average(y, window)
    } else {
        vec![None; n]
    };
    let seasonal: Vec<f64> = match &seasonal_fit {
        Some(fig) => (0..n).map(|t| fig[t % m]).collect(),
        None => vec![0.0; n],
    };
    let remainder: Vec<Option<f64>> = (0..n)
        .map(|t| trend[t].map(|tr| y[t] - tr - seasonal[t]))
        .collect();
    let rows: Vec<(f64, f64, f64)> = (0..n)
        .filter_map(|t| Some((trend[t]?, seasonal[t], remainder[t]?)))
        .collect();
    let strength = |pick: fn(&(f64, f64, f64)) -> f64| -> Option<f64> {
        if rows.len() < 3 {
            return None;
        }
        let rest = variance(rows.iter().map(|r| r.2));
        let with = variance(rows.iter().map(|r| pick(r) + r.2));
        (with > 0.0).then(|| (1.0 - rest / with).clamp(0.0, 1.0))
    };
    let trend_strength = strength(|r| r.0);
    let seasonal_strength = if seasonal_fit.is_some() {
        strength(|r| r.1)
    } else {
        None
    };
    // Tested on the detrended values, so a trend alone does not pass.
    let detrended: Vec<f64> = (0..n).filter_map(|t| Some(y[t] - trend[t]?)).collect();
    let seasonal_test = seasonal_fit.is_some() && season::is_seasonal(&detrended, m);
    let max_lag = (2 * m).max(24).min(n.saturating_sub(1));
    SeriesProfile {
        season: season_used,
        trend,
        seasonal,
        remainder,
        trend_strength,
        seasonal_strength,
        seasonal_test,
        acf: season::acf(y, max_lag),
    }
}

fn variance(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (sum, count) = values
        .clone()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count < 2 {
        return 0.0;
    }
    let mean = sum / count as f64;
    values.map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_with_a_season_is_strong_in_both_and_noise_in_neither() {
        let season = [5.0, -3.0, -4.0, 2.0];
        let mut rng = crate::rng::Rng::new(3);
        let y: Vec<f64> = (0..48)
            .map(|t| 100.0 + 2.0 * t as f64 + season[t % 4] + 0.3 * (rng.next_f64() - 0.5))
            .collect();
        let p = profile(&y, 4);
        assert_eq!(p.season, 4);
        assert!(p.trend_strength.unwrap() > 0.95, "{:?}", p.trend_strength);
        assert!(
            p.seasonal_strength.unwrap() > 0.95,
            "{:?}",
            p.seasonal_strength
        );
        assert!(p.seasonal_test);
        // The parts add up where the trend exists.
        for (t, v) in y.iter().enumerate().take(46).skip(2) {
            let sum = p.trend[t].unwrap() + p.seasonal[t] + p.remainder[t].unwrap();
            assert!((sum - v).abs() < 1e-9);
        }
        let line: Vec<f64> = (0..48)
            .map(|t| 3.0 * t as f64 + 0.5 * rng.next_f64())
            .collect();
        assert!(
            !profile(&line, 4).seasonal_test,
            "a trend alone is not a season"
        );
        let noise: Vec<f64> = (0..48).map(|_| rng.next_f64()).collect();
        let p = profile(&noise, 4);
        assert!(p.trend_strength.unwrap() < 0.6, "{:?}", p.trend_strength);
        assert!(
            p.seasonal_strength.unwrap_or(0.0) < 0.6,
            "{:?}",
            p.seasonal_strength
        );
        // Too short for a season: a trend only, and nothing panics on a stub.
        let p = profile(&y[..6], 4);
        assert_eq!(p.season, 1);
        assert!(p.seasonal_strength.is_none());
        let p = profile(&[1.0, 2.0], 12);
        assert!(p.trend_strength.is_none() && p.acf.len() == 1);
        assert!(profile(&[], 12).acf.is_empty());
    }
}
