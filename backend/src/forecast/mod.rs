//! Forecasting in the studio: a request is checked against the dataset
//! (`plan`: the columns read, the series prepared, the settings and the
//! history checked, so a bad request is a 4xx and stores nothing), run on
//! a build worker (`run`: `automl::forecast::build` under the budget, the
//! forecast of every item, the global model's SHAP importance), and kept
//! as two files beside its record: the forecaster (`ForecastArtifact`, the
//! download) and what the forecast page draws (`Stored`: each item's
//! history, backtests and quantiles). `extend` forecasts a new history
//! with a forecaster, for the API and `kiln forecast` alike.

pub mod charts;

use std::io::Write;
use std::time::{Duration, Instant};

use automl::forecast::artifact::{ForecastArtifact, ForecastColumns};
use automl::forecast::covariates::{Encoding, ExtraColumn};
use automl::forecast::time::{self, Columns, Frequency, Prepared};
use automl::forecast::{self, ForecastMetric, ForecastSettings, Method};
use data::DataFrame;
use data::series::SeriesColumns;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::models::csv_line;
use crate::storage::Store;

/// The longest budget a forecast build may ask for, in seconds.
pub const MAX_BUDGET: u32 = 3600;
/// The longest season a request may name, in steps (a year of days fits).
pub const MAX_SEASON: u32 = 1000;

/// A season asked for, checked: 1 (none) to [`MAX_SEASON`] steps.
pub fn check_season(season: Option<u32>) -> AppResult<Option<usize>> {
    match season {
        Some(s) if !(1..=MAX_SEASON).contains(&s) => Err(invalid(format!(
            "a season of {s} steps: use 1 (none) to {MAX_SEASON}"
        ))),
        s => Ok(s.map(|s| s as usize)),
    }
}

/// A checked forecast request, ready for a worker.
pub struct ForecastPlan {
    /// The record as it is queued.
    pub forecast: api::Forecast,
    pub columns: ForecastColumns,
    pub prepared: Prepared,
    pub settings: ForecastSettings,
}

/// What the forecast page draws, kept beside the forecaster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub frequency: Frequency,
    pub quantiles: Vec<f64>,
    pub horizon: usize,
    pub items: Vec<StoredItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredItem {
    pub item: String,
    /// The first timestamp, as `time::format_stamp` writes it.
    pub start: String,
    pub history: Vec<f64>,
    /// The shipped forecaster's backtest forecasts of this item.
    pub backtests: Vec<StoredBacktest>,
    /// One row per quantile level, `horizon` long.
    pub quantiles: Vec<Vec<f64>>,
    pub point: Vec<f64>,
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBacktest {
    pub window: usize,
    /// The step of `history` the forecast starts at.
    pub cutoff: usize,
    pub values: Vec<f64>,
}

impl StoredItem {
    /// The timestamp of step `t` (history first, then the horizon).
    pub fn stamp(&self, frequency: &Frequency, t: usize) -> String {
        match time::parse_stamp(&self.start, false) {
            Some(start) => time::format_stamp(&frequency.advance(&start, t as i64)),
            None => format!("step {t}"),
        }
    }
}

/// A 400 for the request, naming the problem.
fn invalid(message: impl Into<String>) -> AppError {
    AppError::bad_request("invalid_forecast", message)
}

/// The engine's refusal of the data, as a 422 with its reason alone.
fn refused(e: automl::Error) -> AppError {
    let message = match e {
        automl::Error::Parameter { reason, .. } => reason,
        other => other.to_string(),
    };
    AppError::unprocessable("invalid_forecast", message)
}

/// The columns a forecast reads, from the table: time, target, item, then
/// the known covariates and the item attributes.
pub fn read_columns(frame: &DataFrame, names: &ForecastColumns) -> AppResult<SeriesColumns> {
    let extra: Vec<&str> = names
        .covariates
        .iter()
        .chain(&names.attributes)
        .map(|e| e.name.as_str())
        .collect();
    Ok(data::series::read(
        frame,
        &names.time,
        &names.target,
        names.item.as_deref(),
        &extra,
    )?)
}

/// The columns as the engine takes them. Covariates and attributes carry no
/// encoding here: a build infers them, and a forecaster reads with its own.
pub fn engine_columns<'a>(read: &'a SeriesColumns, names: &'a ForecastColumns) -> Columns<'a> {
    let extra = |names: &'a [Encoding], from: usize| -> Vec<ExtraColumn<'a>> {
        names
            .iter()
            .zip(&read.extra[from..])
            .map(|(e, cells)| ExtraColumn {
                name: &e.name,
                cells,
                encoding: None,
            })
            .collect()
    };
    Columns {
        time_name: &names.time,
        times: &read.times,
        target_name: &names.target,
        values: &read.values,
        items: names.item.as_deref().zip(read.items.as_deref()),
        covariates: extra(&names.covariates, 0),
        attributes: extra(&names.attributes, names.covariates.len()),
    }
}

/// Checks `req` against dataset `dataset_id` and prepares its series.
pub fn plan(store: &Store, dataset_id: &str, req: api::ForecastRequest) -> AppResult<ForecastPlan> {
    if req.horizon == 0 {
        return Err(invalid("the horizon must be at least 1 step"));
    }
    if req.quantiles.len() > 20 {
        return Err(invalid(format!(
            "{} quantile levels: ask for at most 20",
            req.quantiles.len()
        )));
    }
    if !(5..=MAX_BUDGET).contains(&req.budget_seconds) {
        return Err(invalid(format!(
            "a budget of {} s: use 5 to {MAX_BUDGET} seconds",
            req.budget_seconds
        )));
    }
    let metric = match req.metric.as_deref() {
        None | Some("") => ForecastMetric::Mase,
        Some(m) => ForecastMetric::parse(m).ok_or_else(|| {
            invalid(format!(
                "unknown metric “{m}”: use wql, wape, mase, rmse or mape"
            ))
        })?,
    };
    if req.covariates.len() + req.attributes.len() > forecast::covariates::MAX_COLUMNS {
        return Err(invalid(format!(
            "{} covariates and attributes: use at most {}",
            req.covariates.len() + req.attributes.len(),
            forecast::covariates::MAX_COLUMNS
        )));
    }
    // Named here; coded below, once the prepared series say how.
    let named = |names: &[String]| -> Vec<Encoding> {
        names
            .iter()
            .map(|n| Encoding {
                name: n.clone(),
                categories: None,
            })
            .collect()
    };
    let mut columns = ForecastColumns {
        time: req.time_column.clone(),
        target: req.target.clone(),
        item: req.item_column.clone().filter(|c| !c.is_empty()),
        covariates: named(&req.covariates),
        attributes: named(&req.attributes),
    };
    let frame = store.dataset_frame(dataset_id)?;
    let read = read_columns(&frame, &columns)?;
    drop(frame);
    let season = check_season(req.season)?;
    let prepared = time::prepare(&engine_columns(&read, &columns), season).map_err(refused)?;
    drop(read);
    columns.covariates = prepared.covariates.clone();
    columns.attributes = prepared.attributes.clone();
    let m = season.unwrap_or_else(|| prepared.frequency.season());
    let settings = ForecastSettings {
        horizon: req.horizon as usize,
        season: m,
        quantiles: req.quantiles.clone(),
        windows: req.windows.map_or_else(
            || forecast::default_windows(&prepared.series, req.horizon as usize, m),
            |w| w as usize,
        ),
        metric,
        seed: req.seed,
        covariates: req.covariates.clone(),
        attributes: req.attributes.clone(),
    };
    settings
        .check()
        .map_err(|e| invalid(refused(e).to_string()))?;
    forecast::check_history(&prepared.series, &settings).map_err(refused)?;
    let left_out = prepared
        .notes
        .iter()
        .filter(|n| matches!(n, time::SeriesNote::TooShort { .. }))
        .count();
    let forecast = api::Forecast {
        id: crate::storage::new_id(),
        dataset_id: dataset_id.to_owned(),
        created: crate::time::now_rfc3339(),
        request: req,
        state: api::BuildState::Queued,
        error: None,
        frequency: prepared.frequency.label(),
        season: settings.season as u32,
        windows: settings.windows as u32,
        metric: metric.name().to_owned(),
        items: prepared.series.len() as u32,
        items_left_out: left_out as u32,
        notes: prepared
            .notes
            .iter()
            .map(time::SeriesNote::sentence)
            .collect(),
        board: Vec::new(),
        importance: Vec::new(),
        summary: None,
        elapsed_secs: 0.0,
    };
    Ok(ForecastPlan {
        forecast,
        columns,
        prepared,
        settings,
    })
}

/// A finished forecast build: the record, the forecaster file and what the page draws.
pub struct Finished {
    pub forecast: api::Forecast,
    pub artifact: Vec<u8>,
    pub stored: Vec<u8>,
}

/// Runs a planned forecast build within its budget.
pub fn run(plan: ForecastPlan) -> AppResult<Finished> {
    let started = Instant::now();
    let budget = Duration::from_secs(u64::from(plan.forecast.request.budget_seconds));
    let ForecastPlan {
        mut forecast,
        columns,
        prepared,
        settings,
    } = plan;
    let series = &prepared.series;
    let outcome = forecast::build(series, &settings, &Method::ALL, Some(started + budget))
        .map_err(refused)?;
    let forecasts = outcome.forecaster.forecast(series).map_err(refused)?;
    let importance = outcome
        .forecaster
        .importance(series)
        .map_err(refused)?
        .unwrap_or_default();
    let mut backtests: Vec<Vec<StoredBacktest>> = vec![Vec::new(); series.len()];
    for (fold, values) in outcome.folds.iter().zip(&outcome.backtest) {
        backtests[fold.item].push(StoredBacktest {
            window: fold.window,
            cutoff: fold.cutoff,
            values: values.clone(),
        });
    }
    let items = series
        .iter()
        .zip(forecasts)
        .zip(backtests)
        .enumerate()
        .map(|(i, ((s, f), backtests))| StoredItem {
            item: s.item.clone(),
            start: time::format_stamp(&prepared.starts[i]),
            history: s.values.clone(),
            backtests,
            quantiles: f.quantiles,
            point: f.point,
            details: f.details,
        })
        .collect();
    let stored = Stored {
        frequency: prepared.frequency,
        quantiles: settings.quantiles.clone(),
        horizon: settings.horizon,
        items,
    };
    forecast.board = outcome
        .board
        .iter()
        .map(|r| board_row(r, &outcome.forecaster))
        .collect();
    forecast.importance = importance
        .into_iter()
        .map(|(feature, value)| api::ForecastImportance { feature, value })
        .collect();
    forecast.summary = Some(summary(&outcome.forecaster));
    let artifact = ForecastArtifact::new(
        forecast.created.clone(),
        columns,
        prepared.frequency,
        outcome.forecaster,
        outcome.board,
    );
    forecast.state = api::BuildState::Succeeded;
    forecast.elapsed_secs = started.elapsed().as_secs_f64();
    let stored =
        serde_json::to_vec(&stored).map_err(|e| AppError::Internal(format!("forecast: {e}")))?;
    Ok(Finished {
        forecast,
        artifact: artifact.to_json(),
        stored,
    })
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn board_row(r: &forecast::BoardRow, shipped: &forecast::Forecaster) -> api::ForecastRow {
    let e = &r.evaluation;
    let mean = |f: fn(&forecast::Scores) -> Option<f64>| -> Option<f64> {
        let v: Option<Vec<f64>> = e.windows.iter().map(f).collect();
        let v = v?;
        finite(v.iter().sum::<f64>() / v.len().max(1) as f64)
    };
    api::ForecastRow {
        name: r.name.clone(),
        score: finite(e.mean),
        spread: finite(e.spread),
        wql: mean(|s| Some(s.wql)),
        wape: mean(|s| Some(s.wape)),
        mase: mean(|s| Some(s.mase)),
        rmse: mean(|s| Some(s.rmse)),
        mape: mean(|s| s.mape),
        weight: r.weight,
        coverage: e
            .coverage
            .clone()
            .filter(|c| c.iter().all(|v| v.is_finite())),
        shipped: match r.method {
            None => shipped.members.len() > 1,
            Some(m) => shipped.members == vec![(m, 1.0)],
        },
    }
}

/// The shipped forecaster in words: "weighted ensemble of Theta (0.60) and AutoETS (0.40)".
fn summary(f: &forecast::Forecaster) -> String {
    if let [(m, _)] = f.members.as_slice() {
        return m.name().to_owned();
    }
    let parts: Vec<String> = f
        .members
        .iter()
        .map(|(m, w)| format!("{} ({w:.2})", m.name()))
        .collect();
    format!("weighted ensemble of {}", parts.join(", "))
}

/// The column name of quantile level `q`: `p10`, `p50`, `p97.5`.
pub fn level_name(q: f64) -> String {
    let p = (q * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("p{}", p as i64)
    } else {
        format!("p{p}")
    }
}

/// Writes forecasts as CSV: `item, timestamp` and one column per quantile.
pub fn write_csv<'a>(
    out: &mut dyn Write,
    frequency: &Frequency,
    levels: &[f64],
    items: impl Iterator<Item = (&'a str, String, &'a [Vec<f64>])>,
) -> AppResult<()> {
    let io = |e: std::io::Error| AppError::Internal(format!("writing forecasts: {e}"));
    let mut header = vec!["item".to_owned(), "timestamp".to_owned()];
    header.extend(levels.iter().map(|q| level_name(*q)));
    writeln!(out, "{}", csv_line(&header)).map_err(io)?;
    for (item, last, quantiles) in items {
        let Some(last) = time::parse_stamp(&last, false) else {
            continue;
        };
        let horizon = quantiles.first().map_or(0, Vec::len);
        for k in 0..horizon {
            let mut cells = vec![
                item.to_owned(),
                time::format_stamp(&frequency.advance(&last, k as i64 + 1)),
            ];
            cells.extend(quantiles.iter().map(|row| row[k].to_string()));
            writeln!(out, "{}", csv_line(&cells)).map_err(io)?;
        }
    }
    Ok(())
}

impl Stored {
    pub fn from_json(bytes: &[u8], id: &str) -> AppResult<Stored> {
        serde_json::from_slice(bytes).map_err(|e| AppError::Storage {
            code: "corrupt",
            message: format!("the stored results of forecast {id} do not read back: {e}"),
        })
    }

    /// The forecasts of every item as CSV.
    pub fn csv(&self) -> AppResult<Vec<u8>> {
        let mut out = Vec::new();
        let f = &self.frequency;
        write_csv(
            &mut out,
            f,
            &self.quantiles,
            self.items.iter().map(|i| {
                (
                    i.item.as_str(),
                    i.stamp(f, i.history.len().saturating_sub(1)),
                    i.quantiles.as_slice(),
                )
            }),
        )?;
        Ok(out)
    }

    /// The items whose name contains `search` (any case), at most `limit`.
    pub fn items(&self, search: &str, limit: usize) -> Vec<api::ForecastItem> {
        let needle = search.trim().to_lowercase();
        self.items
            .iter()
            .filter(|i| needle.is_empty() || i.item.to_lowercase().contains(&needle))
            .take(limit)
            .map(|i| api::ForecastItem {
                item: i.item.clone(),
                length: i.history.len() as u32,
                last: i.stamp(&self.frequency, i.history.len().saturating_sub(1)),
                details: i.details.clone(),
            })
            .collect()
    }
}

/// Forecasts the history in `frame` with `artifact`, writing the CSV to
/// `out`; returns how many items and the notes on their series.
pub fn extend(
    artifact: &ForecastArtifact,
    frame: &DataFrame,
    out: &mut dyn Write,
) -> AppResult<(usize, Vec<String>)> {
    let read = read_columns(frame, &artifact.columns)?;
    let (prepared, forecasts) = artifact
        .extend(&engine_columns(&read, &artifact.columns))
        .map_err(refused)?;
    let f = &prepared.frequency;
    write_csv(
        out,
        f,
        &artifact.forecaster.settings.quantiles,
        prepared
            .series
            .iter()
            .zip(&forecasts)
            .enumerate()
            .map(|(i, (s, fc))| {
                (
                    s.item.as_str(),
                    time::format_stamp(&prepared.stamp(i, s.values.len() - 1)),
                    fc.quantiles.as_slice(),
                )
            }),
    )?;
    Ok((
        forecasts.len(),
        prepared
            .notes
            .iter()
            .map(time::SeriesNote::sentence)
            .collect(),
    ))
}

/// The profile of a time-indexed dataset: the frequency, and per series
/// its span and the strength of its trend and season.
pub fn overview(
    store: &Store,
    dataset_id: &str,
    names: &ForecastColumns,
    season: Option<usize>,
) -> AppResult<(api::SeriesOverview, Prepared)> {
    let frame = store.dataset_frame(dataset_id)?;
    let read = read_columns(&frame, names)?;
    drop(frame);
    let prepared = time::prepare(&engine_columns(&read, names), season).map_err(refused)?;
    let m = season.unwrap_or_else(|| prepared.frequency.season());
    let series = prepared
        .series
        .iter()
        .enumerate()
        .take(200)
        .map(|(i, s)| {
            let p = forecast::profile::profile(&s.values, m);
            api::SeriesSummary {
                item: s.item.clone(),
                length: s.values.len() as u32,
                first: time::format_stamp(&prepared.starts[i]),
                last: time::format_stamp(&prepared.stamp(i, s.values.len() - 1)),
                trend_strength: p.trend_strength,
                seasonal_strength: p.seasonal_strength,
                seasonal: p.seasonal_test,
            }
        })
        .collect();
    let overview = api::SeriesOverview {
        frequency: prepared.frequency.label(),
        season: m as u32,
        items: (prepared.series.len()
            + prepared
                .notes
                .iter()
                .filter(|n| matches!(n, time::SeriesNote::TooShort { .. }))
                .count()) as u32,
        notes: prepared
            .notes
            .iter()
            .map(time::SeriesNote::sentence)
            .collect(),
        series,
    };
    Ok((overview, prepared))
}
