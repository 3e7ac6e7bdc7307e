//! One boosted-tree model over every series, as mlforecast and AutoGluon's
//! tabular forecasters build them, in the direct form: a training row is an
//! item's history cut at an origin, with the horizon step as a feature, and
//! its target is the value that many steps later.
//!
//! Everything is relative to the origin, so that items of any size and
//! level share one model and a trend does not leave the range the trees
//! have seen: the target and the lags are `(value − last value) / scale`,
//! with `scale` the mean absolute one-step change over the last
//! `max(2m, 12)` steps before the origin. Features: the step; lags 2…L;
//! the value one and two seasons before the target step; rolling means over
//! several windows and the latest window's spread; the recent change of
//! level; the target step's season position; the item's relative
//! volatility; each known covariate at the target step and at the origin;
//! and each item attribute. Missing lags (short histories) are missing
//! values, which the trees route.
//!
//! Direct rather than recursive: no forecast feeds the next, so errors do not
//! compound, and one fit covers the whole horizon. (Measured against the
//! recursive form: see the forecast bench's notes in ARCHITECTURE.md.)

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{ForecastSettings, Series};
use crate::gbdt::{self, Booster, GbdtParams};
use crate::task::Target;
use crate::{Error, Result, Rng};

/// At most this many training rows; beyond, a seeded sample (recent origins kept first).
const MAX_ROWS: usize = 200_000;
/// Lags of the history before the origin.
const LAGS: usize = 12;

/// The fitted global model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalTrees {
    pub booster: Booster,
    pub season: usize,
    pub horizon: usize,
    /// The known covariates' and item attributes' names, as in the settings.
    #[serde(default)]
    pub covariates: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<String>,
}

/// The names of the model's features, in column order.
pub fn feature_names(season: usize, covariates: &[String], attributes: &[String]) -> Vec<String> {
    let mut names = vec!["horizon step".to_string()];
    for j in 2..=LAGS {
        names.push(format!("lag {j}"));
    }
    names.push("one season before".into());
    names.push("two seasons before".into());
    for w in windows(season) {
        names.push(format!("mean of last {w}"));
    }
    names.push("recent spread".into());
    names.push("change of level".into());
    names.push("season position".into());
    names.push("volatility".into());
    for c in covariates {
        names.push(format!("{c} at the forecast step"));
        names.push(format!("{c} at the origin"));
    }
    names.extend(attributes.iter().cloned());
    names
}

fn windows(m: usize) -> Vec<usize> {
    let mut w = vec![3, m.max(6), 2 * m.max(6)];
    w.dedup();
    w
}

/// The origin's anchor (last value) and scale.
fn anchor(y: &[f64], c: usize, m: usize) -> (f64, f64) {
    let a = y[c - 1];
    let span = (2 * m).max(12).min(c - 1);
    let scale = if span == 0 {
        0.0
    } else {
        (c - span..c).map(|t| (y[t] - y[t - 1]).abs()).sum::<f64>() / span as f64
    };
    let fallback = y[..c].iter().map(|v| v.abs()).sum::<f64>() / c as f64;
    let s = if scale > 1e-12 {
        scale
    } else if fallback > 1e-12 {
        0.1 * fallback
    } else {
        1.0
    };
    (a, s)
}

/// Features for the value `k` steps (1-based) after an origin with `c`
/// observed values, written into `row`; returns the anchor and scale.
fn features(s: &Series, c: usize, k: usize, m: usize, row: &mut Vec<f64>) -> (f64, f64) {
    let y = &s.values;
    let (a, sc) = anchor(y, c, m);
    let rel = |v: f64| (v - a) / sc;
    row.clear();
    row.push(k as f64);
    for j in 2..=LAGS {
        row.push(if c >= j { rel(y[c - j]) } else { f64::NAN });
    }
    // The target's position is c − 1 + k; one and two seasons before it, if observed.
    let target = c - 1 + k;
    for back in 1..=2usize {
        let period = m.max(1);
        let mut idx = target as i64 - (period * back) as i64;
        while idx >= c as i64 {
            idx -= period as i64;
        }
        row.push(if m > 1 && idx >= 0 {
            rel(y[idx as usize])
        } else {
            f64::NAN
        });
    }
    for w in windows(m) {
        row.push(if c >= w {
            rel(y[c - w..c].iter().sum::<f64>() / w as f64)
        } else {
            f64::NAN
        });
    }
    let w = m.max(6).min(c);
    let mean = y[c - w..c].iter().sum::<f64>() / w as f64;
    let spread = (y[c - w..c].iter().map(|v| (v - mean).powi(2)).sum::<f64>() / w as f64).sqrt();
    row.push(spread / sc);
    row.push(if c >= 2 * w {
        (mean - y[c - 2 * w..c - w].iter().sum::<f64>() / w as f64) / sc
    } else {
        f64::NAN
    });
    row.push(if m > 1 {
        ((s.phase + target) % m) as f64
    } else {
        0.0
    });
    row.push(sc / (a.abs() + sc));
    for cov in &s.covariates {
        let at = |t: usize| cov.get(t).copied().unwrap_or(f64::NAN);
        row.push(at(target));
        row.push(at(c - 1));
    }
    row.extend(&s.attributes);
    (a, sc)
}

/// The fewest values before an origin the model trains on.
fn min_origin(m: usize) -> usize {
    4.max(m.min(12))
}

/// Fits the model on every series' history (each cut at its own length)
/// for the settings' season, horizon, seed and covariates. With `rounds`,
/// that many boosting rounds without validation; otherwise early stopping
/// on each item's last `horizon` values picks them, and the model is
/// refitted on everything. Training stops at `deadline` with the trees
/// grown so far.
pub fn fit(
    series: &[Series],
    settings: &ForecastSettings,
    rounds: Option<usize>,
    deadline: Option<Instant>,
) -> Result<GlobalTrees> {
    let (m, horizon, seed) = (settings.season, settings.horizon, settings.seed);
    let names = feature_names(m, &settings.covariates, &settings.attributes);
    if let Some(s) = series.iter().find(|s| {
        s.covariates.len() != settings.covariates.len()
            || s.attributes.len() != settings.attributes.len()
    }) {
        return Err(Error::Parameter {
            name: "covariates",
            reason: format!(
                "item `{}` does not have the settings' covariates and attributes",
                s.item
            ),
        });
    }
    let start = min_origin(m);
    // Every (item, origin, step) with the target observed.
    let mut cases: Vec<(u32, u32, u16)> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let n = s.values.len();
        for c in start..n {
            for k in 1..=horizon.min(n - c) {
                cases.push((i as u32, c as u32, k as u16));
            }
        }
    }
    if cases.len() < 50 {
        return Err(Error::TooFewRows {
            rows: cases.len(),
            needed: 50,
        });
    }
    if cases.len() > MAX_ROWS {
        // Keep the most recent origins of each item first: sort by distance from the end, then sample the rest.
        let mut rng = Rng::new(seed ^ 0x5eed_f0c5);
        let mut keyed: Vec<(f64, (u32, u32, u16))> = cases
            .into_iter()
            .map(|case| {
                let n = series[case.0 as usize].values.len() as f64;
                let age = (n - f64::from(case.1)) / n;
                (age * rng.next_f64(), case)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        keyed.truncate(MAX_ROWS);
        cases = keyed.into_iter().map(|(_, c)| c).collect();
    }
    // The last `horizon` targets of each item validate (early stopping picks the rounds),
    // then the model is refitted on everything with that many rounds.
    let (x, y) = matrix(series, m, names.len(), &cases);
    let is_valid: Vec<bool> = cases
        .iter()
        .map(|(i, c, k)| {
            let n = series[*i as usize].values.len();
            (*c as usize + *k as usize) > n.saturating_sub(horizon)
        })
        .collect();
    let pick = |keep: bool| -> (Vec<Vec<f64>>, Vec<f64>) {
        let rows: Vec<usize> = (0..y.len()).filter(|r| is_valid[*r] == keep).collect();
        (
            x.iter()
                .map(|col| rows.iter().map(|r| col[*r]).collect())
                .collect(),
            rows.iter().map(|r| y[*r]).collect(),
        )
    };
    let mut params = GbdtParams {
        n_rounds: 500,
        learning_rate: 0.08,
        max_leaves: 31,
        min_samples_leaf: 20.min(cases.len() / 20).max(3),
        l2: 1.0,
        row_subsample: 0.8,
        col_subsample: 0.9,
        early_stopping_rounds: 50,
        seed,
        ..GbdtParams::default()
    };
    let stop = || deadline.is_some_and(|d| Instant::now() >= d);
    let (train_x, train_y) = pick(false);
    let (valid_x, valid_y) = pick(true);
    let rounds = if let Some(r) = rounds {
        r
    } else if train_y.len() >= 50 && valid_y.len() >= 10 {
        let (_, report) = gbdt::fit(
            &train_x,
            &Target::Regression(train_y),
            Some((&valid_x, &Target::Regression(valid_y))),
            &params,
            &stop,
        )?;
        report.rounds.max(10)
    } else {
        200
    };
    params.n_rounds = rounds;
    params.early_stopping_rounds = 0;
    let (booster, _) = gbdt::fit(&x, &Target::Regression(y), None, &params, &stop)?;
    Ok(GlobalTrees {
        booster,
        season: m,
        horizon,
        covariates: settings.covariates.clone(),
        attributes: settings.attributes.clone(),
    })
}

/// Column-major features (`width` of them) and targets of the cases.
fn matrix(
    series: &[Series],
    m: usize,
    width: usize,
    cases: &[(u32, u32, u16)],
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut x = vec![Vec::with_capacity(cases.len()); width];
    let mut y = Vec::with_capacity(cases.len());
    let mut row = Vec::with_capacity(width);
    for &(i, c, k) in cases {
        let s = &series[i as usize];
        let (a, sc) = features(s, c as usize, k as usize, m, &mut row);
        for (col, v) in x.iter_mut().zip(&row) {
            col.push(*v);
        }
        y.push((s.values[c as usize + k as usize - 1] - a) / sc);
    }
    (x, y)
}

impl GlobalTrees {
    /// The names of the model's features, in column order.
    pub fn feature_names(&self) -> Vec<String> {
        feature_names(self.season, &self.covariates, &self.attributes)
    }

    /// The next `horizon` values after `s`, with the features they were computed from (column-major).
    pub fn forecast(&self, s: &Series) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
        let c = s.values.len();
        if c == 0 || s.values.iter().any(|v| !v.is_finite()) {
            return Err(Error::Parameter {
                name: "series",
                reason: format!("series `{}` needs finite values", s.item),
            });
        }
        if s.covariates.len() != self.covariates.len()
            || s.attributes.len() != self.attributes.len()
        {
            return Err(Error::Parameter {
                name: "covariates",
                reason: format!(
                    "series `{}` does not have the model's covariates and attributes",
                    s.item
                ),
            });
        }
        let width = self.feature_names().len();
        let mut cols = vec![Vec::with_capacity(self.horizon); width];
        let mut anchors = Vec::with_capacity(self.horizon);
        let mut row = Vec::with_capacity(width);
        for k in 1..=self.horizon {
            anchors.push(features(s, c, k, self.season, &mut row));
            for (col, v) in cols.iter_mut().zip(&row) {
                col.push(*v);
            }
        }
        let raw = self.booster.raw(&cols);
        let out = raw
            .iter()
            .zip(&anchors)
            .map(|(r, (a, sc))| a + sc * r)
            .collect();
        Ok((out, cols))
    }

    /// Checks a loaded model so that forecasting cannot panic.
    pub(crate) fn validate(&self) -> Result<()> {
        self.booster.validate()?;
        if self.booster.n_features != self.feature_names().len() || self.booster.outputs != 1 {
            return Err(Error::Forecaster(
                "the global tree model's features do not match its season and covariates".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_trees_learn_a_shared_season_across_items_of_different_sizes() {
        let pattern = [1.0, 3.0, 2.0, 0.0];
        let series: Vec<Series> = (0..6)
            .map(|i| {
                let size = 10f64.powi(i % 3);
                Series {
                    item: format!("item {i}"),
                    values: (0..60)
                        .map(|t| size * (50.0 + 0.2 * t as f64 + 5.0 * pattern[t % 4]))
                        .collect(),
                    ..Series::default()
                }
            })
            .collect();
        let settings = ForecastSettings {
            horizon: 4,
            season: 4,
            seed: 1,
            ..ForecastSettings::default()
        };
        let model = fit(&series, &settings, None, None).expect("fits");
        for s in &series {
            let size = s.values[0] / (50.0 + 5.0 * pattern[0]);
            let (f, _) = model.forecast(s).expect("forecast");
            for (k, v) in f.iter().enumerate() {
                let t = 60 + k;
                let want = size * (50.0 + 0.2 * t as f64 + 5.0 * pattern[t % 4]);
                assert!(
                    (v - want).abs() < 0.05 * want,
                    "{}: step {k}: {v} against {want}",
                    s.item
                );
            }
        }
    }
}
