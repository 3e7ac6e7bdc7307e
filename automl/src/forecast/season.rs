//! Seasonal helpers shared by the forecasters: classical decomposition (R's
//! `decompose`), the autocorrelation function, and the 90% seasonality test
//! the Theta method applies before deseasonalising (as `forecast::thetaf`
//! and statsforecast's `AutoTheta` do).

/// Additive (`y = trend + season + rest`) or multiplicative (`y = trend × season × rest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    Additive,
    Multiplicative,
}

/// Classical decomposition of `y` with period `m`: the centred moving
/// average is the trend, and each season's figure is the mean of its
/// detrended values, normalised to mean 0 (additive) or 1 (multiplicative).
/// Returns the `m` figures, figure `k` being the season of `y[k]`; `None`
/// when `y` holds fewer than two periods.
pub(crate) fn figures(y: &[f64], m: usize, form: Form) -> Option<Vec<f64>> {
    let n = y.len();
    if m < 2 || n < 2 * m {
        return None;
    }
    let trend = centred_average(y, m);
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for (t, (v, tr)) in y.iter().zip(&trend).enumerate() {
        let Some(tr) = tr else { continue };
        let d = match form {
            Form::Additive => v - tr,
            Form::Multiplicative => {
                if *tr == 0.0 {
                    continue;
                }
                v / tr
            }
        };
        if d.is_finite() {
            sums[t % m] += d;
            counts[t % m] += 1;
        }
    }
    if counts.contains(&0) {
        return None;
    }
    let mut fig: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| s / *c as f64)
        .collect();
    let mean = fig.iter().sum::<f64>() / m as f64;
    match form {
        Form::Additive => fig.iter_mut().for_each(|f| *f -= mean),
        Form::Multiplicative => {
            if mean <= 0.0 {
                return None;
            }
            fig.iter_mut().for_each(|f| *f /= mean);
        }
    }
    Some(fig)
}

/// `y` with each value's season taken out: minus its figure, or divided by it.
pub(crate) fn adjust(y: &[f64], fig: &[f64], form: Form) -> Vec<f64> {
    let m = fig.len();
    y.iter()
        .enumerate()
        .map(|(t, v)| match form {
            Form::Additive => v - fig[t % m],
            Form::Multiplicative => v / fig[t % m],
        })
        .collect()
}

/// The centred moving average of order `m` (a 2×m average when `m` is even),
/// `None` where the window runs off either end.
pub(super) fn centred_average(y: &[f64], m: usize) -> Vec<Option<f64>> {
    let n = y.len();
    let half = m / 2;
    let mut out = vec![None; n];
    for (t, slot) in out.iter_mut().enumerate() {
        if t < half || t + half >= n {
            continue;
        }
        let v = if m % 2 == 1 {
            y[t - half..=t + half].iter().sum::<f64>() / m as f64
        } else {
            let inner: f64 = y[t + 1 - half..t + half].iter().sum();
            (inner + 0.5 * (y[t - half] + y[t + half])) / m as f64
        };
        *slot = Some(v);
    }
    out
}

/// Sample autocorrelations of `y` at lags `1..=max_lag`.
pub(crate) fn acf(y: &[f64], max_lag: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n.max(1) as f64;
    let denom: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    (1..=max_lag)
        .map(|k| {
            if k >= n || denom <= 0.0 {
                return 0.0;
            }
            let num: f64 = (k..n).map(|t| (y[t] - mean) * (y[t - k] - mean)).sum();
            num / denom
        })
        .collect()
}

/// Whether `y` is seasonal with period `m` at the 90% level: the lag-`m`
/// autocorrelation against its Bartlett standard error (`forecast::thetaf`).
pub(crate) fn is_seasonal(y: &[f64], m: usize) -> bool {
    let n = y.len();
    if m < 2 || n < 2 * m {
        return false;
    }
    let r = acf(y, m);
    let below: f64 = r[..m - 1].iter().map(|v| v * v).sum();
    let se = ((1.0 + 2.0 * below) / n as f64).sqrt();
    r[m - 1].abs() / se > 1.644_853_626_951_472_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposition_recovers_a_clean_season() {
        let season = [3.0, -1.0, -2.0, 0.0];
        let y: Vec<f64> = (0..24)
            .map(|t| 10.0 + 0.5 * t as f64 + season[t % 4])
            .collect();
        let fig = figures(&y, 4, Form::Additive).expect("two periods");
        for (f, s) in fig.iter().zip(season) {
            assert!((f - s).abs() < 1e-9, "{fig:?}");
        }
        assert!(is_seasonal(
            &y.iter()
                .enumerate()
                .map(|(t, v)| v - 0.5 * t as f64)
                .collect::<Vec<_>>(),
            4
        ));
        let odd = [1.2, 0.8, 1.0];
        let y: Vec<f64> = (0..30).map(|t| 50.0 * odd[t % 3]).collect();
        let fig = figures(&y, 3, Form::Multiplicative).expect("ten periods");
        for (f, s) in fig.iter().zip(odd) {
            assert!((f - s).abs() < 1e-9, "{fig:?}");
        }
        assert!(figures(&y[..5], 3, Form::Additive).is_none());
    }
}
