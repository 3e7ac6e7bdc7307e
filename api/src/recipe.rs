//! The cleaning recipe as people write it: an ordered list of typed steps,
//! versioned per dataset (`PUT /api/datasets/{id}/recipe`), previewed before
//! it is saved (`POST /api/datasets/{id}/recipe/preview`).

use serde::{Deserialize, Serialize};

use crate::{ColumnKind, RowsPage};

/// An ordered list of steps; each reads the columns the steps before it made.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipe {
    pub steps: Vec<Step>,
}

/// One cleaning step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    DropColumns {
        columns: Vec<String>,
    },
    /// Keeps the first of each group of identical rows.
    DropDuplicates,
    /// Reads placeholder values (`-1`, `999`, `unknown`) as missing.
    SetMissing {
        column: String,
        values: Vec<String>,
    },
    Impute {
        column: String,
        strategy: Imputation,
        /// The value for [`Imputation::Constant`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// Drops rows missing a value in any of `columns` (every column when empty).
    DropMissing {
        #[serde(default)]
        columns: Vec<String>,
    },
    /// Values beyond the median ± 5 spreads (the standard deviation of the
    /// values clipped to their 5th–95th percentiles), as in the quality report.
    Outliers {
        column: String,
        action: OutlierAction,
    },
    Cast {
        column: String,
        to: CastTo,
    },
    /// `sign(x) · ln(1 + |x|)`.
    Log {
        column: String,
    },
    Bin {
        column: String,
        bins: u32,
        #[serde(default)]
        strategy: BinStrategy,
    },
    /// One 0/1 column per category (the most frequent `max_categories`).
    OneHot {
        column: String,
        #[serde(default = "default_one_hot")]
        max_categories: u32,
    },
    /// Year, month, day, weekday (and hour when the values have times).
    DateParts {
        column: String,
    },
    Rename {
        column: String,
        to: String,
    },
    /// Categories in fewer than `min_rows` rows become one "other" category,
    /// as do categories a model meets that were not in its training data.
    GroupRare {
        column: String,
        #[serde(default = "default_group_rare")]
        min_rows: u32,
    },
    /// Drops the rows an isolation forest scores at `threshold` or more
    /// (Explore's unusual rows, on every column it compares). Training only.
    DropUnusual {
        #[serde(default = "default_unusual")]
        threshold: f64,
    },
    /// Adds a category column `name`: the nearest of `k` segments that
    /// k-means finds in `columns` (scaled as Explore scales them). The
    /// centres are fitted once and travel with a model, which assigns new
    /// rows the same way.
    AddSegments {
        columns: Vec<String>,
        k: u32,
        #[serde(default = "default_segment_name")]
        name: String,
    },
}

fn default_unusual() -> f64 {
    Step::UNUSUAL_SCORE
}

fn default_segment_name() -> String {
    "segment".into()
}

fn default_one_hot() -> u32 {
    20
}

fn default_group_rare() -> u32 {
    Step::GROUP_RARE_MIN_ROWS
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Imputation {
    Mean,
    Median,
    Mode,
    Constant,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutlierAction {
    /// Values beyond the bounds become the bounds.
    Clip,
    /// Rows with values beyond the bounds are dropped.
    Remove,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CastTo {
    /// Text read as numbers (`1,234.5`, `3,5`, `$12`, `7%`); the rest is missing.
    Number,
    Category,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BinStrategy {
    /// Bins with about as many rows each.
    #[default]
    Quantile,
    /// Bins of equal width between the minimum and the maximum.
    Width,
}

impl Step {
    /// The smallest category [`Step::GroupRare`] keeps by default: 10 rows,
    /// about the fewest from which a category's own effect can be learned.
    pub const GROUP_RARE_MIN_ROWS: u32 = 10;
    /// The isolation-forest score from which a row is unusual.
    pub const UNUSUAL_SCORE: f64 = 0.65;

    /// The operation's name on the wire.
    pub fn op(&self) -> &'static str {
        match self {
            Step::DropColumns { .. } => "drop_columns",
            Step::DropDuplicates => "drop_duplicates",
            Step::SetMissing { .. } => "set_missing",
            Step::Impute { .. } => "impute",
            Step::DropMissing { .. } => "drop_missing",
            Step::Outliers { .. } => "outliers",
            Step::Cast { .. } => "cast",
            Step::Log { .. } => "log",
            Step::Bin { .. } => "bin",
            Step::OneHot { .. } => "one_hot",
            Step::DateParts { .. } => "date_parts",
            Step::Rename { .. } => "rename",
            Step::GroupRare { .. } => "group_rare",
            Step::DropUnusual { .. } => "drop_unusual",
            Step::AddSegments { .. } => "add_segments",
        }
    }

    /// The columns the step names.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Step::DropColumns { columns }
            | Step::DropMissing { columns }
            | Step::AddSegments { columns, .. } => columns.iter().map(String::as_str).collect(),
            Step::DropDuplicates | Step::DropUnusual { .. } => Vec::new(),
            Step::SetMissing { column, .. }
            | Step::Impute { column, .. }
            | Step::Outliers { column, .. }
            | Step::Cast { column, .. }
            | Step::Log { column }
            | Step::Bin { column, .. }
            | Step::OneHot { column, .. }
            | Step::DateParts { column }
            | Step::Rename { column, .. }
            | Step::GroupRare { column, .. } => vec![column.as_str()],
        }
    }

    /// Whether the step only removes rows (it shapes the training data and
    /// is not applied when a model scores new rows).
    pub fn filters_rows(&self) -> bool {
        matches!(
            self,
            Step::DropDuplicates
                | Step::DropUnusual { .. }
                | Step::DropMissing { .. }
                | Step::Outliers {
                    action: OutlierAction::Remove,
                    ..
                }
        )
    }

    /// Whether the step changes `column`: every step that names it but a
    /// row filter. A build's target must be a column no step changes.
    pub fn changes(&self, column: &str) -> bool {
        !self.filters_rows() && self.columns().contains(&column)
    }

    /// The step in words, e.g. "Impute `age` with the median".
    pub fn describe(&self) -> String {
        let list = |c: &[String]| {
            c.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Step::DropColumns { columns } => format!("Drop {}", list(columns)),
            Step::DropDuplicates => "Drop duplicate rows".into(),
            Step::SetMissing { column, values } => format!(
                "Read {} in `{column}` as missing",
                values
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Step::Impute {
                column,
                strategy,
                value,
            } => match strategy {
                Imputation::Mean => format!("Fill missing `{column}` with the mean"),
                Imputation::Median => format!("Fill missing `{column}` with the median"),
                Imputation::Mode => format!("Fill missing `{column}` with the most frequent value"),
                Imputation::Constant => format!(
                    "Fill missing `{column}` with \"{}\"",
                    value.as_deref().unwrap_or_default()
                ),
            },
            Step::DropMissing { columns } if columns.is_empty() => {
                "Drop rows with any missing value".into()
            }
            Step::DropMissing { columns } => format!("Drop rows missing {}", list(columns)),
            Step::Outliers {
                column,
                action: OutlierAction::Clip,
            } => format!("Clip outliers of `{column}` to its typical range"),
            Step::Outliers {
                column,
                action: OutlierAction::Remove,
            } => format!("Drop rows with outliers in `{column}`"),
            Step::Cast {
                column,
                to: CastTo::Number,
            } => format!("Read `{column}` as numbers"),
            Step::Cast {
                column,
                to: CastTo::Category,
            } => format!("Treat `{column}` as categories"),
            Step::Log { column } => format!("Log-transform `{column}`"),
            Step::Bin {
                column,
                bins,
                strategy,
            } => format!(
                "Bin `{column}` into {bins} {} bins",
                match strategy {
                    BinStrategy::Quantile => "equal-count",
                    BinStrategy::Width => "equal-width",
                }
            ),
            Step::OneHot {
                column,
                max_categories,
            } => format!("One-hot encode `{column}` (at most {max_categories} categories)"),
            Step::DateParts { column } => {
                format!("Split the date `{column}` into year, month, day and weekday")
            }
            Step::Rename { column, to } => format!("Rename `{column}` to `{to}`"),
            Step::GroupRare { column, min_rows } => format!(
                "Group the categories of `{column}` in fewer than {min_rows} rows into \"other\""
            ),
            Step::DropUnusual { threshold } => {
                format!("Drop unusual rows (isolation forest score {threshold} or more)")
            }
            Step::AddSegments { columns, k, name } => {
                format!(
                    "Add `{name}`: the nearest of {k} segments of {}",
                    list(columns)
                )
            }
        }
    }
}

/// A saved recipe (`GET`/`PUT /api/datasets/{id}/recipe`). Version 0 is
/// the empty recipe every dataset starts with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipeVersion {
    pub dataset_id: String,
    pub version: u32,
    pub created: String,
    pub recipe: Recipe,
}

/// What a recipe does to a dataset (`POST /api/datasets/{id}/recipe/preview`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipePreview {
    pub rows_before: u64,
    pub rows_after: u64,
    /// The first rows before and after.
    pub before: RowsPage,
    pub after: RowsPage,
    /// What each step did, in order.
    pub outcomes: Vec<StepOutcome>,
    /// Columns whose statistics changed, were added or were removed.
    pub changes: Vec<ColumnChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepOutcome {
    /// 1-based position in the recipe.
    pub step: u32,
    pub description: String,
    /// What happened, e.g. "filled 177 values with 28".
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnChange {
    pub column: String,
    /// `None` when the recipe added the column.
    pub before: Option<ColumnStats>,
    /// `None` when the recipe removed the column.
    pub after: Option<ColumnStats>,
}

/// The statistics a preview compares.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnStats {
    pub kind: ColumnKind,
    pub missing: u64,
    pub distinct: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_tagged_by_op() {
        let r: Recipe = serde_json::from_str(
            r#"{"steps":[{"op":"drop_duplicates"},{"op":"impute","column":"a","strategy":"median"},{"op":"one_hot","column":"c"}]}"#,
        )
        .expect("parses");
        assert_eq!(r.steps[0], Step::DropDuplicates);
        assert_eq!(
            r.steps[2],
            Step::OneHot {
                column: "c".into(),
                max_categories: 20
            }
        );
        for s in &r.steps {
            let json = serde_json::to_value(s).expect("serializes");
            assert_eq!(json["op"], s.op());
        }
        assert_eq!(r.steps[1].describe(), "Fill missing `a` with the median");
    }
}
