//! Explore (`GET /api/datasets/{id}/explore`): segments, a map of the rows
//! and unusual rows of a table before any target is chosen, computed on
//! request and never stored.

use serde::{Deserialize, Serialize};

use crate::LeftOut;

/// What Explore found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explore {
    /// Rows in the table.
    pub rows: u64,
    /// The columns read, in table order.
    pub columns: Vec<String>,
    /// Columns not read, each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// How the columns became numbers, and where samples were used.
    pub method: Vec<String>,
    pub segments: Segments,
    /// Absent when one number describes every row (a single usable column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<RowMap>,
    pub unusual: Unusual,
    /// Seconds the server spent.
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Segments {
    pub k: u32,
    /// How k was chosen ("set by you", or by silhouette on a sample).
    pub chosen: String,
    /// The silhouette of each k tried, when k was chosen automatically.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silhouette: Vec<KScore>,
    /// The seed of every random choice: the same request gives the same segments.
    pub seed: u64,
    /// Largest first; numbered from 1 in this order.
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KScore {
    pub k: u32,
    pub silhouette: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Segment {
    pub number: u32,
    pub rows: u64,
    pub share: f64,
    /// What sets it apart, strongest first.
    pub traits: Vec<Trait>,
    /// "Segment 3 (120 rows, 35%): higher `bill_length_mm`, mostly `island = Biscoe`."
    pub sentence: String,
}

/// A column that sets a segment apart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trait {
    pub column: String,
    /// Numbers: the segment's mean minus the table's, in standard
    /// deviations (Cohen's d). Categories: Cohen's h between the label's
    /// share in the segment and in the table.
    pub effect: f64,
    /// "higher `age` (mean 52.1 against 38.6)", "mostly `Student = No` (92% against 60%)".
    pub text: String,
}

/// The rows projected on their first two principal components.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowMap {
    /// Points drawn, of `rows` rows.
    pub shown: u64,
    /// Each principal component's share of the variance, largest first (at most 10).
    pub explained: Vec<f64>,
    /// The encoded columns that weigh most on the two components.
    pub loadings: Vec<Loading>,
    /// `[pc1, pc2]` of each drawn row.
    pub points: Vec<[f32; 2]>,
    /// The segment (from 0, in `segments` order) of each drawn row.
    pub segment: Vec<u8>,
    /// The column the points are coloured by, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<Colouring>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Loading {
    /// A column, or `column = label` for a category's 0/1 column.
    pub name: String,
    pub pc1: f64,
    pub pc2: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Colouring {
    pub column: String,
    /// The groups' labels (categories, or ranges of numbers).
    pub groups: Vec<String>,
    /// The group of each drawn row.
    pub of_point: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unusual {
    /// Rows scored (every row).
    pub scored: u64,
    /// How the scores were made.
    pub method: String,
    /// Rows scoring at or above this are called unusual.
    pub threshold: f64,
    pub above: u64,
    /// The most unusual rows, most unusual first.
    pub rows: Vec<UnusualRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnusualRow {
    /// The data row, counted from 1.
    pub row: u64,
    /// Isolation forest's score: near 0.5 ordinary, towards 1 isolated quickly.
    pub score: f64,
    /// The values that make it unusual, most unusual first.
    pub reasons: Vec<String>,
}
