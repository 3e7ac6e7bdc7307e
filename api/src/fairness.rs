//! Bias reports (`GET /api/datasets/{id}/fairness`, `GET
//! /api/models/{id}/fairness`): Clarify's metrics for one facet, with the
//! words to read them by, computed on request and never stored.

use serde::{Deserialize, Serialize};

/// Before training (the labels) or after (a model's predicted labels).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BiasStage {
    PreTraining,
    PostTraining,
}

/// One facet's bias report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BiasReport {
    /// Which rows were read: the dataset as uploaded, or a model's
    /// training rows with its out-of-fold predictions.
    pub source: String,
    /// The facet of interest in words: "`sex` is “female”", "`age` > 40".
    pub facet: String,
    /// The favourable outcome in words.
    pub favourable: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Rows in the facet, in the rest, and left out for a missing value.
    pub facet_rows: u64,
    pub other_rows: u64,
    pub missing_rows: u64,
    /// The favourable shares in the facet and the rest: labels, and
    /// predictions after training.
    pub rates: Vec<FacetRate>,
    /// The favourable shares by value of the facet column (its 12 most
    /// common values; for a threshold, each side of it).
    pub by_value: Vec<FacetRate>,
    /// Pre-training metrics, then post-training ones for a model.
    pub metrics: Vec<BiasValue>,
    /// What limits what the numbers can say (few rows in a facet...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The share of favourable outcomes among some rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetRate {
    /// "facet" or "others"; in `by_value`, the value.
    pub side: String,
    pub rows: u64,
    pub labels: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions: Option<f64>,
}

/// One metric: Clarify's code and name, its value (or why it has none), the
/// range it takes, the value that means no difference, and a sentence that
/// reads this value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BiasValue {
    pub code: String,
    pub name: String,
    pub stage: BiasStage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undefined: Option<String>,
    pub range: String,
    pub fair: f64,
    pub reading: String,
}

/// A column that looks like a sensitive attribute (`GET
/// /api/datasets/{id}/facets`): a suggestion, never assumed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestedFacet {
    pub column: String,
    /// Why: its name or its values.
    pub reason: String,
    /// Numeric: a facet takes a threshold rather than values.
    pub numeric: bool,
    /// Its most common values (categories only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}
