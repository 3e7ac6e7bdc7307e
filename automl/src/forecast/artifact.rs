//! The forecaster as a file: what it reads (the column names), the grid it
//! was built on, and the methods with their weights and band. Loading
//! validates it, so a malformed file is an error and never a panic; the
//! studio, the API and `kiln forecast` extend a history through
//! [`ForecastArtifact::extend`], so they give the same numbers.

use serde::{Deserialize, Serialize};

use super::covariates::{Encoding, ExtraColumn};
use super::time::{self, Columns, Frequency, Prepared};
use super::{BoardRow, Forecaster, ItemForecast};
use crate::{Error, Result};

/// What the `kind` field of a forecaster file says.
pub const KIND: &str = "kiln-forecaster";
/// The forecaster file format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The most units one step of a loaded forecaster may span, so that
/// stamps far ahead stay within the calendar's arithmetic.
const MAX_STEP: u32 = 100_000;

/// The columns a forecaster reads from a history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastColumns {
    pub time: String,
    pub target: String,
    /// `None`: the table is one series.
    pub item: Option<String>,
    /// The known covariates and item attributes, with how they were coded.
    #[serde(default)]
    pub covariates: Vec<Encoding>,
    #[serde(default)]
    pub attributes: Vec<Encoding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastArtifact {
    pub kind: String,
    pub format_version: u32,
    /// When it was built (RFC 3339), as the server wrote it.
    pub created: String,
    pub columns: ForecastColumns,
    pub frequency: Frequency,
    pub forecaster: Forecaster,
    /// The backtest leaderboard it was chosen on, for the record.
    pub board: Vec<BoardRow>,
}

impl ForecastArtifact {
    pub fn new(
        created: String,
        columns: ForecastColumns,
        frequency: Frequency,
        forecaster: Forecaster,
        board: Vec<BoardRow>,
    ) -> ForecastArtifact {
        ForecastArtifact {
            kind: KIND.into(),
            format_version: FORMAT_VERSION,
            created,
            columns,
            frequency,
            forecaster,
            board,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Plain structs of numbers and strings: serialising cannot fail.
        serde_json::to_vec(self).expect("forecaster serialises")
    }

    /// Parses and validates a forecaster file.
    pub fn from_json(bytes: &[u8]) -> Result<ForecastArtifact> {
        let peek: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Forecaster(format!("not valid JSON: {e}")))?;
        let format_version = peek.get("format_version");
        if peek.get("kind").and_then(serde_json::Value::as_str) != Some(KIND) {
            return Err(Error::Forecaster(if format_version.is_some() {
                "this is a Kiln model, not a forecaster: score rows with `kiln predict`".into()
            } else {
                "this is not a Kiln forecaster file".into()
            }));
        }
        if format_version.and_then(serde_json::Value::as_u64) != Some(u64::from(FORMAT_VERSION)) {
            return Err(Error::Forecaster(format!(
                "format version {} is not supported; this Kiln reads version {FORMAT_VERSION}",
                format_version.map_or("(none)".into(), ToString::to_string)
            )));
        }
        let artifact: ForecastArtifact = serde_json::from_slice(bytes)
            .map_err(|e| Error::Forecaster(format!("malformed: {e}")))?;
        artifact.forecaster.validate()?;
        if !(1..=MAX_STEP).contains(&artifact.frequency.step) {
            return Err(Error::Forecaster(format!(
                "a frequency of {} units per step is outside 1 to {MAX_STEP}",
                artifact.frequency.step
            )));
        }
        Ok(artifact)
    }

    /// Reads a new history on this forecaster's grid and forecasts the
    /// horizon after each item's end. The history must have the frequency
    /// the forecaster was built on.
    pub fn extend(&self, cols: &Columns<'_>) -> Result<(Prepared, Vec<ItemForecast>)> {
        // The covariates and attributes are read as they were at build time.
        let cols = Columns {
            covariates: recode(
                &self.columns.covariates,
                &cols.covariates,
                "known covariate",
            )?,
            attributes: recode(&self.columns.attributes, &cols.attributes, "item attribute")?,
            ..*cols
        };
        let prepared = time::prepare(&cols, Some(self.forecaster.settings.season))?;
        if prepared.frequency != self.frequency {
            return Err(Error::Parameter {
                name: "timestamp",
                reason: format!(
                    "column `{}` is {}, but this forecaster was built on {} data",
                    cols.time_name,
                    prepared.frequency.label(),
                    self.frequency.label()
                ),
            });
        }
        let forecasts = self.forecaster.forecast(&prepared.series)?;
        Ok((prepared, forecasts))
    }
}

/// The `given` columns named by `wanted`, each to be read with its encoding.
fn recode<'a>(
    wanted: &'a [Encoding],
    given: &[ExtraColumn<'a>],
    role: &str,
) -> Result<Vec<ExtraColumn<'a>>> {
    wanted
        .iter()
        .map(|e| {
            let c = given
                .iter()
                .find(|c| c.name == e.name)
                .ok_or_else(|| Error::Parameter {
                    name: "covariates",
                    reason: format!(
                        "this forecaster reads the {role} `{}`, and the history does not have it",
                        e.name
                    ),
                })?;
            Ok(ExtraColumn {
                encoding: Some(e),
                ..*c
            })
        })
        .collect()
}
