//! Forecasting: many series on a regular time grid go in; a leaderboard of
//! forecasters scored on rolling-origin backtests, a weighted ensemble, and
//! quantile forecasts come out.
//!
//! The local statistical methods (naive, seasonal naive, drift, automatic
//! ETS, automatic Theta) are refitted on whatever history they are given,
//! so a downloaded [`Forecaster`] extends a new history with the same
//! numbers the studio showed. Quantiles are conformal: each forecaster's
//! backtest errors, scaled per item and per horizon step, give the offsets
//! of the band around its point forecast.
//!
//! Like the rest of the crate: no I/O, no clock except the deadline passed
//! in, and every result a function of the inputs.

pub mod ar;
pub mod arima;
pub mod artifact;
mod band;
pub mod covariates;
pub mod ets;
pub mod global;
pub mod metrics;
mod optim;
pub mod profile;
mod season;
pub mod theta;
pub mod time;

use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};
pub use band::Band;
pub use metrics::{ForecastMetric, Scores};

/// The fewest observations a series needs to be forecast at all.
pub const MIN_HISTORY: usize = 3;

/// One series on a regular grid, oldest first, every value finite.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub item: String,
    pub values: Vec<f64>,
    /// The season position of `values[0]` (the month of year less one for
    /// monthly data, say), so that items starting at different times line up.
    pub phase: usize,
    /// Each known covariate on the same grid from `values[0]`, as long as
    /// given: past the history when the future is known (NaN: missing).
    pub covariates: Vec<Vec<f64>>,
    /// Each static item attribute (NaN: missing).
    pub attributes: Vec<f64>,
}

impl Series {
    /// The series cut to its first `len` values, its covariates kept whole
    /// (they are known in advance).
    pub fn cut(&self, len: usize) -> Series {
        Series {
            item: self.item.clone(),
            values: self.values[..len.min(self.values.len())].to_vec(),
            phase: self.phase,
            covariates: self.covariates.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

/// A forecasting method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The last value, repeated.
    Naive,
    /// The value one season back, repeated each season.
    SeasonalNaive,
    /// The line through the first and last values (random walk with drift).
    Drift,
    /// Exponential smoothing, model chosen by AICc.
    Ets,
    /// The Theta method, variant chosen by in-sample MSE.
    Theta,
    /// One boosted-tree model over every series ([`global`]).
    GlobalTrees,
    /// Autoregression on the values or their differences ([`ar`]), order by AICc.
    Autoregression,
    /// Seasonal ARIMA, orders by a stepwise AICc search ([`arima`]).
    Arima,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::SeasonalNaive,
        Method::Naive,
        Method::Drift,
        Method::Ets,
        Method::Theta,
        Method::Autoregression,
        Method::Arima,
        Method::GlobalTrees,
    ];

    /// Whether the method fits each series alone (and so refits on any history).
    pub fn is_local(self) -> bool {
        self != Method::GlobalTrees
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Naive => "naive",
            Method::SeasonalNaive => "seasonal naive",
            Method::Drift => "drift",
            Method::Ets => "ETS",
            Method::Theta => "Theta",
            Method::GlobalTrees => "boosted trees (global)",
            Method::Autoregression => "autoregression",
            Method::Arima => "ARIMA",
        }
    }
}

/// A method's point forecast for one series, with what it chose (e.g. `ETS(M,Ad,M)`).
pub struct Point {
    pub values: Vec<f64>,
    pub detail: String,
}

/// Fits `method` on `y` (season `m`) and forecasts `h` steps. Methods that
/// cannot fit (a seasonal model on less than two seasons, say) fall back to
/// the closest simpler one and say so in `detail`.
pub fn point_forecast(method: Method, y: &[f64], m: usize, h: usize) -> Result<Point> {
    let n = y.len();
    if n == 0 || y.iter().any(|v| !v.is_finite()) {
        return Err(Error::Parameter {
            name: "series",
            reason: "a series must have at least one value, all of them finite".into(),
        });
    }
    let last = y[n - 1];
    let naive = || Point {
        values: vec![last; h],
        detail: "naive".into(),
    };
    Ok(match method {
        Method::Naive => naive(),
        Method::SeasonalNaive => {
            if m > 1 && n >= m {
                Point {
                    values: (0..h).map(|i| y[n - m + i % m]).collect(),
                    detail: format!("seasonal naive (season {m})"),
                }
            } else {
                Point {
                    detail: "naive (history shorter than one season)".into(),
                    ..naive()
                }
            }
        }
        Method::Drift => {
            if n >= 2 {
                let slope = (last - y[0]) / (n - 1) as f64;
                Point {
                    values: (1..=h).map(|i| last + slope * i as f64).collect(),
                    detail: "drift".into(),
                }
            } else {
                naive()
            }
        }
        Method::Ets => match ets::auto(y, m) {
            Some(fit) => Point {
                values: fit.forecast(h),
                detail: fit.spec.to_string(),
            },
            None => Point {
                detail: "naive (too short for ETS)".into(),
                ..naive()
            },
        },
        Method::Theta => match theta::auto(y, m) {
            Some(fit) => Point {
                values: fit.forecast(h),
                detail: format!(
                    "Theta ({}{})",
                    fit.kind.label(),
                    if fit.figures.is_empty() {
                        ""
                    } else {
                        ", deseasonalised"
                    }
                ),
            },
            None => Point {
                detail: "naive (too short for Theta)".into(),
                ..naive()
            },
        },
        Method::Autoregression => match ar::auto(y, m, h) {
            Some(fit) => Point {
                values: fit.forecast(h),
                detail: fit.label(),
            },
            None => Point {
                detail: "naive (too short for autoregression)".into(),
                ..naive()
            },
        },
        Method::Arima => match arima::auto(y, m) {
            Some(fit) => Point {
                values: fit.forecast(h),
                detail: fit.label(),
            },
            None => Point {
                detail: "naive (too short for ARIMA)".into(),
                ..naive()
            },
        },
        Method::GlobalTrees => {
            return Err(Error::Parameter {
                name: "method",
                reason: "the global tree model forecasts from a fitted model, not one series"
                    .into(),
            });
        }
    })
}

/// What a forecast build is asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastSettings {
    /// Steps to forecast.
    pub horizon: usize,
    /// Season length in steps (1: none).
    pub season: usize,
    /// Quantile levels in (0, 1), ascending (default 0.1, 0.5, 0.9).
    pub quantiles: Vec<f64>,
    /// Rolling-origin backtest windows, each one horizon long.
    pub windows: usize,
    /// What the leaderboard ranks by.
    pub metric: ForecastMetric,
    /// Seed of the global model's row sampling and subsampling.
    #[serde(default)]
    pub seed: u64,
    /// The known covariates' names, in the order of `Series::covariates`.
    #[serde(default)]
    pub covariates: Vec<String>,
    /// The item attributes' names, in the order of `Series::attributes`.
    #[serde(default)]
    pub attributes: Vec<String>,
}

impl Default for ForecastSettings {
    /// One step ahead, no season, P10/P50/P90, three windows, ranked by MASE.
    fn default() -> ForecastSettings {
        ForecastSettings {
            horizon: 1,
            season: 1,
            quantiles: vec![0.1, 0.5, 0.9],
            windows: 3,
            metric: ForecastMetric::Mase,
            seed: 0,
            covariates: Vec::new(),
            attributes: Vec::new(),
        }
    }
}

impl ForecastSettings {
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(Error::Parameter { name, reason });
        if self.horizon == 0 {
            return bad("horizon", "must be at least 1 step".into());
        }
        if self.season == 0 {
            return bad("season", "must be at least 1 (1 means no season)".into());
        }
        if self.windows == 0 || self.windows > 20 {
            return bad(
                "windows",
                format!("{} backtest windows: use 1 to 20", self.windows),
            );
        }
        if self.quantiles.is_empty()
            || self.quantiles.iter().any(|q| !(*q > 0.0 && *q < 1.0))
            || self.quantiles.windows(2).any(|w| w[0] >= w[1])
        {
            return bad(
                "quantiles",
                format!(
                    "{:?}: quantile levels must be strictly between 0 and 1, ascending, without repeats",
                    self.quantiles
                ),
            );
        }
        if self.covariates.len() + self.attributes.len() > covariates::MAX_COLUMNS {
            return bad(
                "covariates",
                format!(
                    "{} covariates and attributes: use at most {}",
                    self.covariates.len() + self.attributes.len(),
                    covariates::MAX_COLUMNS
                ),
            );
        }
        Ok(())
    }
}

/// One backtest fold: an item's history cut at `cutoff`, scored on the `horizon` steps after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub item: usize,
    /// 0 for the window that ends at the end of the history, 1 for the one before, …
    pub window: usize,
    pub cutoff: usize,
}

/// The rolling-origin folds: window `w` cuts each series `(w + 1) × horizon`
/// steps before its end, while at least `MIN_HISTORY` observations stay before the cut.
pub fn folds(series: &[Series], horizon: usize, windows: usize) -> Vec<Fold> {
    let mut out = Vec::new();
    for w in 0..windows {
        for (item, s) in series.iter().enumerate() {
            let back = (w + 1) * horizon;
            if s.values.len() >= back + MIN_HISTORY {
                out.push(Fold {
                    item,
                    window: w,
                    cutoff: s.values.len() - back,
                });
            }
        }
    }
    out
}

/// Backtest windows when none are asked for: 3 for ten series or more; for
/// fewer, as many as the longest series allows while two seasons (or 20
/// values) stay before the earliest window, from 3 to 6. Few series give
/// few errors per window, and the choice of forecaster and the band's
/// offsets need more of them.
pub fn default_windows(series: &[Series], horizon: usize, season: usize) -> usize {
    if series.len() >= 10 || horizon == 0 {
        return 3;
    }
    let longest = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let keep = (2 * season).max(20);
    (longest.saturating_sub(keep) / horizon).clamp(3, 6)
}

/// Checks the settings, that the history leaves at least one backtest
/// window, and that the known covariates cover the horizon.
pub fn check_history(series: &[Series], settings: &ForecastSettings) -> Result<()> {
    settings.check()?;
    covariates::check_future(series, settings.horizon, &settings.covariates)?;
    let longest = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    if longest < settings.horizon + MIN_HISTORY {
        return Err(Error::Parameter {
            name: "horizon",
            reason: format!(
                "a horizon of {} steps is longer than the history allows: the longest series has {longest} values, and one backtest window needs {} (the horizon plus {MIN_HISTORY} to fit on); use a horizon of at most {}",
                settings.horizon,
                settings.horizon + MIN_HISTORY,
                longest.saturating_sub(MIN_HISTORY)
            ),
        });
    }
    Ok(())
}

/// Each method's backtest point forecasts, aligned with the folds.
pub struct Backtest {
    pub folds: Vec<Fold>,
    /// `(method, forecasts)`, one forecast (horizon long) per fold.
    pub forecasts: Vec<(Method, Vec<Vec<f64>>)>,
    /// Per fold, the MASE scale of its training history.
    pub scales: Vec<f64>,
    /// The boosting rounds early stopping chose for the global model on the latest window.
    pub global_rounds: Option<usize>,
}

/// Runs every method on every fold, stopping early (with the methods finished so far) at `deadline`.
pub fn backtest(
    series: &[Series],
    settings: &ForecastSettings,
    methods: &[Method],
    deadline: Option<Instant>,
) -> Result<Backtest> {
    check_history(series, settings)?;
    let folds = folds(series, settings.horizon, settings.windows);
    let scales: Vec<f64> = folds
        .iter()
        .map(|f| metrics::item_scale(&series[f.item].values[..f.cutoff], settings.season))
        .collect();
    let mut forecasts = Vec::new();
    let mut global_rounds = None;
    for &method in methods {
        if deadline.is_some_and(|d| Instant::now() >= d) && !forecasts.is_empty() {
            break;
        }
        // The baselines always finish; a slower method that meets the deadline is left off the board.
        let cheap = matches!(
            method,
            Method::Naive | Method::SeasonalNaive | Method::Drift
        );
        let late = || !cheap && deadline.is_some_and(|d| Instant::now() >= d);
        let preds = if method.is_local() {
            let done = folds
                .par_iter()
                .map(|f| {
                    if late() {
                        return Err(Error::DeadlineEmpty);
                    }
                    let hist = &series[f.item].values[..f.cutoff];
                    point_forecast(method, hist, settings.season, settings.horizon)
                        .map(|p| p.values)
                })
                .collect::<Result<Vec<_>>>();
            match done {
                Ok(p) => p,
                Err(Error::DeadlineEmpty) => continue,
                Err(e) => return Err(e),
            }
        } else {
            match global_backtest(series, settings, &folds, deadline) {
                Ok((p, rounds)) if !late() => {
                    global_rounds = Some(rounds);
                    p
                }
                // Out of time, or too little data for the global model: it is left off the board.
                Ok(_) | Err(Error::TooFewRows { .. }) => continue,
                Err(e) => return Err(e),
            }
        };
        forecasts.push((method, preds));
    }
    Ok(Backtest {
        folds,
        forecasts,
        scales,
        global_rounds,
    })
}

/// The global model's backtest: one fit per window, on every series cut at that window.
fn global_backtest(
    series: &[Series],
    settings: &ForecastSettings,
    folds: &[Fold],
    deadline: Option<Instant>,
) -> Result<(Vec<Vec<f64>>, usize)> {
    let mut preds = vec![Vec::new(); folds.len()];
    let mut latest_rounds = 0;
    let n_windows = folds.iter().map(|f| f.window + 1).max().unwrap_or(0);
    for w in 0..n_windows {
        let back = (w + 1) * settings.horizon;
        let cut: Vec<Series> = series
            .iter()
            .filter(|s| s.values.len() >= back + MIN_HISTORY)
            .map(|s| s.cut(s.values.len() - back))
            .collect();
        let model = global::fit(&cut, settings, None, deadline)?;
        if w == 0 {
            latest_rounds = model.booster.rounds();
        }
        for (k, f) in folds.iter().enumerate().filter(|(_, f)| f.window == w) {
            let s = &series[f.item];
            preds[k] = model.forecast(&s.cut(f.cutoff))?.0;
        }
    }
    Ok((preds, latest_rounds))
}

/// A candidate's backtest, scored: per-window scores, the ranking metric's
/// mean and spread over windows, and the band's honest coverage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub windows: Vec<Scores>,
    /// Mean of the ranking metric over windows, and its standard deviation.
    pub mean: f64,
    pub spread: f64,
    /// Per quantile level, the share of backtest actuals at or below it, each
    /// window's band fitted on the other windows' errors (`None` with one window).
    pub coverage: Option<Vec<f64>>,
}

/// Scores one candidate's backtest forecasts (aligned with `bt.folds`).
pub fn evaluate(
    series: &[Series],
    settings: &ForecastSettings,
    bt: &Backtest,
    preds: &[Vec<f64>],
) -> Evaluation {
    let errors = scaled_errors(series, bt, preds);
    let n_windows = bt.folds.iter().map(|f| f.window + 1).max().unwrap_or(0);
    let mut windows = Vec::with_capacity(n_windows);
    let (mut below, mut total) = (vec![0usize; settings.quantiles.len()], 0usize);
    for w in 0..n_windows {
        let others: Vec<band::ScaledError> = errors
            .iter()
            .filter(|(f, _)| bt.folds[*f].window != w || n_windows == 1)
            .map(|(_, e)| *e)
            .collect();
        let band = band::Band::fit(&others, settings.horizon, &settings.quantiles);
        let mut quantiles = Vec::new();
        let mut members = Vec::new();
        for (k, f) in bt.folds.iter().enumerate().filter(|(_, f)| f.window == w) {
            quantiles.push(band.apply(&preds[k], bt.scales[k]));
            members.push((k, f));
        }
        let pieces: Vec<metrics::Piece<'_>> = members
            .iter()
            .zip(&quantiles)
            .map(|((k, f), q)| metrics::Piece {
                actual: &series[f.item].values[f.cutoff..f.cutoff + settings.horizon],
                median: &preds[*k],
                quantiles: q,
                scale: bt.scales[*k],
            })
            .collect();
        for p in &pieces {
            for (t, a) in p.actual.iter().enumerate() {
                total += 1;
                for (l, row) in p.quantiles.iter().enumerate() {
                    below[l] += usize::from(*a <= row[t]);
                }
            }
        }
        windows.push(metrics::score(&pieces, &settings.quantiles));
    }
    let values: Vec<f64> = windows.iter().map(|s| s.get(settings.metric)).collect();
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let spread = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    Evaluation {
        windows,
        mean,
        spread,
        coverage: (n_windows > 1 && total > 0)
            .then(|| below.iter().map(|b| *b as f64 / total as f64).collect()),
    }
}

/// Every backtest error of `preds`, scaled by its fold's MASE scale, with its fold index.
fn scaled_errors(
    series: &[Series],
    bt: &Backtest,
    preds: &[Vec<f64>],
) -> Vec<(usize, band::ScaledError)> {
    let mut out = Vec::new();
    for (k, f) in bt.folds.iter().enumerate() {
        let actual = &series[f.item].values[f.cutoff..];
        for (step, (a, p)) in actual.iter().zip(&preds[k]).enumerate() {
            out.push((
                k,
                band::ScaledError {
                    step,
                    z: (a - p) / bt.scales[k],
                },
            ));
        }
    }
    out
}

/// Whether `ensemble` beats `single` on the backtests by more than one
/// standard error of their paired differences (each fold's mean absolute
/// error over its MASE scale): the one-standard-error rule, so that an
/// ensemble fitted to few windows ships only when its gain is more than
/// the noise of choosing it.
fn clearly_better(
    series: &[Series],
    bt: &Backtest,
    ensemble: &[Vec<f64>],
    single: &[Vec<f64>],
) -> bool {
    let fold_error = |k: usize, preds: &[f64]| -> f64 {
        let f = bt.folds[k];
        let actual = &series[f.item].values[f.cutoff..];
        let n = actual.len().min(preds.len()).max(1);
        actual
            .iter()
            .zip(preds)
            .map(|(a, p)| (a - p).abs())
            .sum::<f64>()
            / n as f64
            / bt.scales[k]
    };
    let d: Vec<f64> = (0..bt.folds.len())
        .map(|k| fold_error(k, &single[k]) - fold_error(k, &ensemble[k]))
        .filter(|v| v.is_finite())
        .collect();
    if d.len() < 2 {
        return false;
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    mean > sd / n.sqrt()
}

/// The weighted average of several methods' backtest forecasts.
fn blend(bt: &Backtest, weights: &[(usize, f64)]) -> Vec<Vec<f64>> {
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    (0..bt.folds.len())
        .map(|k| {
            let h = bt.forecasts[weights[0].0].1[k].len();
            (0..h)
                .map(|t| {
                    weights
                        .iter()
                        .map(|(m, w)| w * bt.forecasts[*m].1[k][t])
                        .sum::<f64>()
                        / total
                })
                .collect()
        })
        .collect()
}

/// Caruana's greedy ensemble selection with replacement over the methods'
/// backtests: returns `(method index, weight)` pairs whose weights sum to 1.
fn select_ensemble(
    series: &[Series],
    settings: &ForecastSettings,
    bt: &Backtest,
    singles: &[Evaluation],
) -> Vec<(usize, f64)> {
    const ROUNDS: usize = 20;
    let best = (0..singles.len())
        .min_by(|&a, &b| rank_key(singles[a].mean).total_cmp(&rank_key(singles[b].mean)))
        .unwrap_or(0);
    let mut counts = vec![0usize; bt.forecasts.len()];
    counts[best] = 1;
    let mut current = rank_key(singles[best].mean);
    for _ in 1..ROUNDS {
        let mut choice: Option<(usize, f64)> = None;
        for m in 0..bt.forecasts.len() {
            let mut trial = counts.clone();
            trial[m] += 1;
            let weights: Vec<(usize, f64)> = trial
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| (i, *c as f64))
                .collect();
            let score = rank_key(evaluate(series, settings, bt, &blend(bt, &weights)).mean);
            if choice.is_none_or(|(_, s)| score < s) {
                choice = Some((m, score));
            }
        }
        match choice {
            Some((m, score)) if score < current - 1e-12 * current.abs() => {
                counts[m] += 1;
                current = score;
            }
            // Adding the same member again changes nothing once it leads: stop.
            _ => break,
        }
    }
    let total: usize = counts.iter().sum();
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| (i, *c as f64 / total as f64))
        .collect()
}

/// NaN (MAPE undefined) sorts last.
fn rank_key(v: f64) -> f64 {
    if v.is_nan() { f64::INFINITY } else { v }
}

/// A leaderboard row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardRow {
    /// `None` for the weighted ensemble.
    pub method: Option<Method>,
    pub name: String,
    pub evaluation: Evaluation,
    /// Its weight in the ensemble (1 for the ensemble itself).
    pub weight: f64,
}

/// What a forecast build ships: the methods and weights, and the band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forecaster {
    pub settings: ForecastSettings,
    pub members: Vec<(Method, f64)>,
    pub band: band::Band,
    /// The global tree model fitted on the whole history, when it is a member.
    pub global: Option<global::GlobalTrees>,
}

/// One item's forecast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemForecast {
    pub item: String,
    pub point: Vec<f64>,
    /// One row per quantile level.
    pub quantiles: Vec<Vec<f64>>,
    /// What each member chose for this item, e.g. `ETS(M,Ad,M)`.
    pub details: Vec<String>,
}

impl Forecaster {
    /// Checks a loaded forecaster so that forecasting cannot panic.
    pub fn validate(&self) -> Result<()> {
        self.settings.check()?;
        let bad = |m: &str| Err(Error::Forecaster(m.to_string()));
        if self.members.is_empty()
            || self
                .members
                .iter()
                .any(|(_, w)| !(w.is_finite() && *w >= 0.0))
        {
            return bad("its members or their weights are invalid");
        }
        if self.band.levels != self.settings.quantiles
            || self.band.offsets.len() != self.band.levels.len()
            || self.band.growth.len() != self.settings.horizon
        {
            return bad("its band does not match its quantiles and horizon");
        }
        let needs_global = self.members.iter().any(|(m, _)| !m.is_local());
        match &self.global {
            Some(g) if needs_global => {
                if g.horizon != self.settings.horizon
                    || g.season != self.settings.season
                    || g.covariates != self.settings.covariates
                    || g.attributes != self.settings.attributes
                {
                    return bad(
                        "its global tree model was fitted for another horizon, season or covariates",
                    );
                }
                g.validate()
            }
            None if needs_global => bad("the global tree model is missing"),
            _ => Ok(()),
        }
    }

    /// Forecasts the `horizon` steps after each series' end, refitting every member on it.
    pub fn forecast(&self, series: &[Series]) -> Result<Vec<ItemForecast>> {
        let s = &self.settings;
        covariates::check_future(series, s.horizon, &s.covariates)?;
        if let Some(one) = series
            .iter()
            .find(|x| x.attributes.len() != s.attributes.len())
        {
            return Err(Error::Parameter {
                name: "attributes",
                reason: format!(
                    "item `{}` has {} attributes, the forecaster {}",
                    one.item,
                    one.attributes.len(),
                    s.attributes.len()
                ),
            });
        }
        series
            .par_iter()
            .map(|one| {
                let y = &one.values;
                let mut point = vec![0.0; s.horizon];
                let mut details = Vec::with_capacity(self.members.len());
                for (method, w) in &self.members {
                    let (values, detail) = if method.is_local() {
                        let p = point_forecast(*method, y, s.season, s.horizon)?;
                        (p.values, p.detail)
                    } else {
                        let model = self.global.as_ref().ok_or_else(|| {
                            Error::Forecaster("the global tree model is missing".into())
                        })?;
                        (model.forecast(one)?.0, method.name().to_string())
                    };
                    for (acc, v) in point.iter_mut().zip(&values) {
                        *acc += w * v;
                    }
                    details.push(detail);
                }
                let scale = metrics::item_scale(y, s.season);
                Ok(ItemForecast {
                    item: one.item.clone(),
                    quantiles: self.band.apply(&point, scale),
                    point,
                    details,
                })
            })
            .collect()
    }
}

impl Forecaster {
    /// The global tree model's mean absolute SHAP value per feature over
    /// the forecasts of (at most the first 500 of) `series`, largest
    /// first; in units of the model's scaled target. `None` when the
    /// forecaster has no global model.
    pub fn importance(&self, series: &[Series]) -> Result<Option<Vec<(String, f64)>>> {
        let Some(model) = &self.global else {
            return Ok(None);
        };
        let names = model.feature_names();
        let mut sums = vec![0.0; names.len()];
        let mut rows = 0usize;
        for s in series.iter().take(500) {
            let (_, cols) = model.forecast(s)?;
            let (_, phi) = model.booster.shap(&cols);
            for row in phi.chunks(names.len()) {
                for (acc, v) in sums.iter_mut().zip(row) {
                    *acc += v.abs();
                }
                rows += 1;
            }
        }
        let mut out: Vec<(String, f64)> = names
            .into_iter()
            .zip(sums)
            .map(|(n, s)| (n, s / rows.max(1) as f64))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(Some(out))
    }
}

/// The result of a forecast build.
pub struct ForecastOutcome {
    /// Best first (by the ranking metric's mean over windows).
    pub board: Vec<BoardRow>,
    pub forecaster: Forecaster,
    /// The shipped forecaster's backtest forecasts, aligned with `folds`.
    pub folds: Vec<Fold>,
    pub backtest: Vec<Vec<f64>>,
}

/// Backtests `methods`, ranks them, picks the ensemble and fits its band.
/// Backtests stop at four fifths of the time to `deadline`; the rest is
/// kept for the ensemble and the final fit of the global model.
pub fn build(
    series: &[Series],
    settings: &ForecastSettings,
    methods: &[Method],
    deadline: Option<Instant>,
) -> Result<ForecastOutcome> {
    let now = Instant::now();
    let backtest_deadline = deadline.map(|d| now + d.saturating_duration_since(now).mul_f64(0.8));
    let bt = backtest(series, settings, methods, backtest_deadline)?;
    let singles: Vec<Evaluation> = bt
        .forecasts
        .iter()
        .map(|(_, p)| evaluate(series, settings, &bt, p))
        .collect();
    if settings.metric == ForecastMetric::Mape && singles.iter().all(|e| e.mean.is_nan()) {
        return Err(Error::Parameter {
            name: "metric",
            reason: "MAPE is undefined here: some actual values in the backtests are zero; rank by WAPE or MASE".into(),
        });
    }
    let mut weights = select_ensemble(series, settings, &bt, &singles);
    if weights.len() > 1 {
        let best = (0..singles.len())
            .min_by(|&a, &b| rank_key(singles[a].mean).total_cmp(&rank_key(singles[b].mean)))
            .unwrap_or(0);
        if !clearly_better(series, &bt, &blend(&bt, &weights), &bt.forecasts[best].1) {
            weights = vec![(best, 1.0)];
        }
    }
    let ensemble_preds = blend(&bt, &weights);
    let ensemble_eval = evaluate(series, settings, &bt, &ensemble_preds);
    let mut board: Vec<BoardRow> = bt
        .forecasts
        .iter()
        .zip(singles)
        .enumerate()
        .map(|(i, ((method, _), evaluation))| BoardRow {
            method: Some(*method),
            name: method.name().to_string(),
            evaluation,
            weight: weights
                .iter()
                .find(|(m, _)| *m == i)
                .map_or(0.0, |(_, w)| *w),
        })
        .collect();
    let single_member = weights.len() == 1;
    let (shipped_preds, shipped_members) = if single_member {
        let m = weights[0].0;
        (bt.forecasts[m].1.clone(), vec![(bt.forecasts[m].0, 1.0)])
    } else {
        board.push(BoardRow {
            method: None,
            name: "weighted ensemble".into(),
            evaluation: ensemble_eval,
            weight: 1.0,
        });
        (
            ensemble_preds,
            weights
                .iter()
                .map(|(m, w)| (bt.forecasts[*m].0, *w))
                .collect(),
        )
    };
    board.sort_by(|a, b| rank_key(a.evaluation.mean).total_cmp(&rank_key(b.evaluation.mean)));
    let errors: Vec<band::ScaledError> = scaled_errors(series, &bt, &shipped_preds)
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let band = band::Band::fit(&errors, settings.horizon, &settings.quantiles);
    let global = if shipped_members.iter().any(|(m, _)| !m.is_local()) {
        // As many rounds as the latest window chose; the fit is not cut short, the reserve is for it.
        Some(global::fit(series, settings, bt.global_rounds, None)?)
    } else {
        None
    };
    Ok(ForecastOutcome {
        board,
        forecaster: Forecaster {
            settings: settings.clone(),
            members: shipped_members,
            band,
            global,
        },
        folds: bt.folds,
        backtest: shipped_preds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ensemble_ships_only_when_its_gain_beats_the_noise() {
        // Four folds of one item, each scored on 2 steps of actual 10.
        let series = vec![Series {
            item: "a".into(),
            values: vec![10.0; 20],
            ..Series::default()
        }];
        let bt = Backtest {
            folds: (0..4)
                .map(|w| Fold {
                    item: 0,
                    window: w,
                    cutoff: 10 + 2 * w,
                })
                .collect(),
            forecasts: Vec::new(),
            scales: vec![1.0; 4],
            global_rounds: None,
        };
        let single = vec![vec![12.0, 12.0]; 4];
        // Better on every fold, by about the same amount.
        let steady = vec![
            vec![11.0, 11.0],
            vec![11.1, 11.1],
            vec![10.9, 10.9],
            vec![11.0, 11.0],
        ];
        assert!(clearly_better(&series, &bt, &steady, &single));
        // Better on average, by one lucky fold.
        let lucky = vec![
            vec![10.0, 10.0],
            vec![12.2, 12.2],
            vec![12.1, 12.1],
            vec![12.2, 12.2],
        ];
        assert!(!clearly_better(&series, &bt, &lucky, &single));
    }
}
