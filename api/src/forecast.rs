//! Forecasting's wire types: the request that starts a forecast build, the
//! forecast as the studio shows it (state, what was read, the backtest
//! leaderboard, the global model's importance), a series profile, and the
//! answer to extending a forecaster from a new history.

use serde::{Deserialize, Serialize};

use crate::BuildState;

fn default_quantiles() -> Vec<f64> {
    vec![0.1, 0.5, 0.9]
}

fn default_budget() -> u32 {
    60
}

/// `POST /api/datasets/{id}/forecasts`: what to forecast, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForecastRequest {
    /// The timestamp column (dates, date-times, `2024-03`, `2024Q1` or years).
    pub time_column: String,
    /// The numeric column to forecast.
    pub target: String,
    /// The column naming each series (absent: the table is one series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_column: Option<String>,
    /// Known covariates: columns whose values are known in advance (prices,
    /// holidays, promotions), given for the horizon too, as rows after each
    /// item's last target value with the target left empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covariates: Vec<String>,
    /// Static item attributes: columns with one value per item (a store's
    /// region, a product's category). Needs an item column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Steps to forecast after each series' end.
    pub horizon: u32,
    /// Quantile levels in (0, 1), ascending (default 0.1, 0.5, 0.9).
    #[serde(default = "default_quantiles")]
    pub quantiles: Vec<f64>,
    /// The leaderboard's metric: `wql`, `wape`, `mase` (default), `rmse` or `mape`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Rolling-origin backtest windows, at most 20 (default: 3 for ten
    /// series or more, else up to 6 as the history allows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<u32>,
    /// Season length in steps (absent: from the frequency; 1: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<u32>,
    /// Seconds the build may take (default 60).
    #[serde(default = "default_budget")]
    pub budget_seconds: u32,
    #[serde(default)]
    pub seed: u64,
}

/// One scored row of a forecast leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastRow {
    /// e.g. `AutoETS`, or `weighted ensemble`.
    pub name: String,
    /// The ranking metric's mean over the backtest windows.
    pub score: Option<f64>,
    /// Its standard deviation over the windows.
    pub spread: Option<f64>,
    /// Mean over windows of each metric (`None`: undefined, as MAPE at zeros).
    pub wql: Option<f64>,
    pub wape: Option<f64>,
    pub mase: Option<f64>,
    pub rmse: Option<f64>,
    pub mape: Option<f64>,
    /// Weight in the shipped forecaster (1 for the ensemble row).
    pub weight: f64,
    /// Share of backtest actuals below each quantile (leave-one-window-out), when there are several windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Vec<f64>>,
    /// Whether this row is what the forecaster ships.
    pub shipped: bool,
}

/// A feature of the global tree model and its mean |SHAP| value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastImportance {
    pub feature: String,
    pub value: f64,
}

/// A forecast build and, once it succeeded, its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    pub id: String,
    pub dataset_id: String,
    pub created: String,
    pub request: ForecastRequest,
    pub state: BuildState,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How the timestamps were read, e.g. `quarterly`.
    pub frequency: String,
    /// The season length used (1: none).
    pub season: u32,
    /// The backtest windows used.
    #[serde(default)]
    pub windows: u32,
    /// The metric the leaderboard ranks by, e.g. `MASE`.
    pub metric: String,
    /// Series forecast, and series left out as too short.
    pub items: u32,
    pub items_left_out: u32,
    /// Repairs and problems per series, as sentences.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Best first.
    #[serde(default)]
    pub board: Vec<ForecastRow>,
    /// The global tree model's SHAP importance, when it is in the forecaster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importance: Vec<ForecastImportance>,
    /// What the shipped forecaster is, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub elapsed_secs: f64,
}

/// One item's name and size (the forecast page's item picker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastItem {
    pub item: String,
    /// Values in its history.
    pub length: u32,
    /// Its last timestamp.
    pub last: String,
    /// What each member chose for it, e.g. `ETS(M,Ad,M)`.
    pub details: Vec<String>,
}

/// The profile of a time-indexed dataset (`GET /api/datasets/{id}/series`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesOverview {
    pub frequency: String,
    pub season: u32,
    /// Series in the table (those too short included in `notes`).
    pub items: u32,
    pub notes: Vec<String>,
    /// Per series, at most the first 200.
    pub series: Vec<SeriesSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesSummary {
    pub item: String,
    pub length: u32,
    pub first: String,
    pub last: String,
    /// In [0, 1]: how much of the variation the trend explains.
    pub trend_strength: Option<f64>,
    /// In [0, 1]; absent without two full seasons.
    pub seasonal_strength: Option<f64>,
    /// Whether the season passes the 90% autocorrelation test.
    pub seasonal: bool,
}

/// `POST /api/forecasts/{id}/extend`: the forecast of a new history, stored for download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastExtension {
    /// The CSV (item, timestamp, quantiles) to download.
    pub download: String,
    pub file_name: String,
    pub items: u32,
    pub notes: Vec<String>,
}
