//! Wire types shared by the Kiln frontend (wasm) and backend: every JSON body
//! that crosses `/api` is one of these. Serde only, so it compiles everywhere.

use serde::{Deserialize, Serialize};

pub mod display;
mod endpoints;
mod explore;
mod fairness;
mod forecast;
mod imports;
mod recipe;

pub use endpoints::{
    Alert, BiasWatch, CaptureSettings, Endpoint, EndpointRequest, GroundTruthReceipt,
    InvocationResponse, Invoked, MonitorRun, Traffic, Variant, VariantRequest,
};
pub use explore::{
    Colouring, Explore, KScore, Loading, RowMap, Segment, Segments, Trait, Unusual, UnusualRow,
};
pub use fairness::{BiasReport, BiasStage, BiasValue, FacetRate, SuggestedFacet};
pub use forecast::{
    Forecast, ForecastExtension, ForecastImportance, ForecastItem, ForecastRequest, ForecastRow,
    SeriesOverview, SeriesSummary,
};
pub use imports::{ImportSources, PostgresImport, S3Import};

pub use recipe::{
    BinStrategy, CastTo, ColumnChange, ColumnStats, Imputation, OutlierAction, Recipe,
    RecipePreview, RecipeVersion, Step, StepOutcome,
};

/// The body of every error response: `{ "error": { "code", "message", "details" } }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable machine-readable code such as `not_found` or `invalid_csv`.
    pub code: String,
    /// A sentence for a person: what is wrong and, where known, where.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// One stored dataset as listed on the Datasets page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetSummary {
    pub id: String,
    pub name: String,
    pub rows: u64,
    pub columns: u32,
    /// Size of the uploaded file in bytes.
    pub bytes: u64,
    /// RFC 3339 timestamp of the upload.
    pub created: String,
    /// Where it came from when it was not uploaded: `PostgreSQL query on
    /// DB at HOST: SELECT …` or `s3://bucket/key` (never a password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What a column holds, as a person would say it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
    Boolean,
    Datetime,
    Text,
    Identifier,
}

impl ColumnKind {
    pub fn label(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Datetime => "datetime",
            ColumnKind::Text => "text",
            ColumnKind::Identifier => "identifier",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

/// Per-column statistics shown on the Profile page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnProfile {
    pub name: String,
    pub kind: ColumnKind,
    /// The storage type inferred from the file (e.g. `i64`, `f64`, `str`).
    pub dtype: String,
    pub missing: u64,
    pub distinct: u64,
    /// Numbers that are infinite (`inf`, `-inf`, or beyond the range of a
    /// double); they are left out of `min`, `max`, `mean` and the
    /// distribution fields below.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub infinite: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Most frequent values, most frequent first (at most 5).
    pub top_values: Vec<ValueCount>,
    /// Sample standard deviation (n − 1) of the numbers (numeric columns).
    /// This and the other distribution fields below are computed on the
    /// profile's sample when [`Profile::sampled_rows`] is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<Quantiles>,
    /// Fisher–Pearson skewness `m3 / m2^1.5` (scipy's `skew` with `bias=True`);
    /// absent when the numbers do not vary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skewness: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
    /// Counts for a bar chart (categorical and boolean columns, all rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bars: Option<Bars>,
}

/// Quantiles of a numeric column, interpolated linearly between the two
/// nearest values (numpy's default `linear` method).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quantiles {
    pub p05: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub p95: f64,
}

/// Counts of numbers in consecutive bins: bin `i` is `[edges[i], edges[i + 1])`,
/// the last bin also holds its right edge (numpy's `histogram`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Histogram {
    /// `counts.len() + 1` increasing edges.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

/// The most frequent values of a column and how many rows hold any other value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bars {
    /// Most frequent first, at most 10.
    pub top: Vec<ValueCount>,
    /// Rows with a value not in `top` (missing values are not counted).
    pub other: u64,
    /// How many distinct values `other` holds.
    pub other_values: u64,
}

/// Pairwise association between the most relevant columns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Correlations {
    /// The columns of the matrix, in dataset order (at most 12).
    pub columns: Vec<String>,
    /// Symmetric, `values[i][j]` for `columns[i]` and `columns[j]`: Pearson's r
    /// (−1 to 1) when both are numeric, Cramér's V (0 to 1) when both are
    /// categorical, `None` for a numeric–categorical pair.
    pub values: Vec<Vec<Option<f64>>>,
    /// Rows the coefficients were computed on (pairwise complete rows of a
    /// seeded sample of at most this many).
    pub rows: u64,
    /// Columns that qualified: non-constant numeric columns and categorical
    /// columns with 2 to 50 values. When more than 12 did, the matrix keeps
    /// the 12 most strongly associated with another column (of the 40 with
    /// the fewest missing values).
    pub eligible: u32,
}

/// A window of rows rendered as text cells (`None` is a missing value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowsPage {
    pub columns: Vec<String>,
    pub offset: u64,
    pub total: u64,
    pub rows: Vec<Vec<Option<String>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub rows: u64,
    pub columns: Vec<ColumnProfile>,
    /// The first rows of the dataset.
    pub head: RowsPage,
    /// Set when the distribution statistics (std, quantiles, skewness,
    /// histograms, correlations) were computed on a seeded random sample of
    /// this many rows; counts (missing, distinct, top values) use every row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled_rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlations: Option<Correlations>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetDetail {
    pub summary: DatasetSummary,
    pub profile: Profile,
    /// Notes from ingest a person should know (renamed columns, ...).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The data-quality findings of a dataset (`GET /api/datasets/{id}/quality`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityReport {
    pub rows: u64,
    /// The target the target checks (imbalance, leakage) were run for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Most severe first.
    pub findings: Vec<Finding>,
}

/// One problem found in the data, with what shows it and what to do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// The columns concerned (empty for whole rows).
    pub columns: Vec<String>,
    /// What is wrong, in plain English.
    pub message: String,
    pub evidence: Evidence,
    /// A suggested fix, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The fix as recipe steps (one per column concerned), when steps do it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Declares [`FindingKind`] from one list, so that a new kind is one line:
/// `Variant = "wire_name", "Label", about_target;`. The enum's order is the
/// list's (findings of one severity are sorted by it), serde names the
/// variants in snake case, and `ALL`, `as_str`, `label` and `about_target`
/// are generated from the same lines (a test checks `as_str` against serde).
macro_rules! finding_kinds {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal, $label:literal, $about_target:literal;)+) => {
        #[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum FindingKind {
            $($(#[$doc])* $variant,)+
        }

        impl FindingKind {
            /// Every kind, in order.
            pub const ALL: [FindingKind; [$(FindingKind::$variant),+].len()] =
                [$(FindingKind::$variant),+];

            /// The snake_case name used on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingKind::$variant => $wire,)+
                }
            }

            /// A short title for people.
            pub fn label(self) -> &'static str {
                match self {
                    $(FindingKind::$variant => $label,)+
                }
            }

            /// Whether the finding exists only for a chosen target.
            pub fn about_target(self) -> bool {
                match self {
                    $(FindingKind::$variant => $about_target,)+
                }
            }
        }
    };
}

finding_kinds! {
    DuplicateRows = "duplicate_rows", "Duplicate rows", false;
    MissingValues = "missing_values", "Missing values", false;
    DisguisedMissing = "disguised_missing", "Disguised missing values", false;
    /// Numbers that are infinite (`inf`, `-inf`, overflowing literals).
    InfiniteValues = "infinite_values", "Infinite values", false;
    ConstantColumn = "constant_column", "Constant column", false;
    IdLike = "id_like", "Identifier column", false;
    HighCardinality = "high_cardinality", "Many categories", false;
    Outliers = "outliers", "Outliers", false;
    Skewed = "skewed", "Skewed distribution", false;
    NearDuplicateColumns = "near_duplicate_columns", "Near-duplicate columns", false;
    /// Rows an isolation forest sets apart quickly (Explore's unusual rows).
    UnusualRows = "unusual_rows", "Unusual rows", false;
    Multicollinearity = "multicollinearity", "Multicollinearity", false;
    /// Numbers written as text (`$1,200`, `3,5`).
    NumbersAsText = "numbers_as_text", "Numbers stored as text", false;
    /// Dates stored as text.
    DatesAsText = "dates_as_text", "Dates stored as text", false;
    /// Numbers in nearly every row, with a few words among them (`n/r`).
    TextAmongNumbers = "text_among_numbers", "Text among numbers", false;
    /// The target column cannot be predicted as it is (a single value, ...).
    UnusableTarget = "unusable_target", "Unusable target", true;
    /// Rows without a target value, which training leaves out.
    TargetMissing = "target_missing", "Rows without a target", true;
    ClassImbalance = "class_imbalance", "Class imbalance", true;
    TargetLeakage = "target_leakage", "Target leakage", true;
    /// Two or three columns that together rebuild the target, each weak alone.
    DerivedTarget = "derived_target", "Target rebuilt from other columns", true;
}

/// What shows a finding. Row numbers count data rows from 1 (the header is not a row).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// How many rows (or cells) are affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `count` as a fraction (0 to 1) of the rows it was counted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// A few affected rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
    /// Value counts: class sizes, placeholder values, top categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueCount>,
    /// Named numbers: bounds, coefficients, scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stats: Vec<Stat>,
    /// Set when the check ran on a seeded random sample of this many rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled_rows: Option<u64>,
}

/// One affected row and what is notable in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Example {
    /// 1-based data row number.
    pub row: u64,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stat {
    pub name: String,
    pub value: f64,
}

/// A bundled sample dataset, loadable with one click.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sample {
    pub name: String,
    pub description: String,
    pub target: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadSampleRequest {
    pub name: String,
}

/// The kind of prediction problem.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Regression,
    Binary,
    Multiclass,
}

impl Task {
    pub fn label(self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Binary => "binary classification",
            Task::Multiclass => "multiclass classification",
        }
    }
}

/// A metric a build can rank its candidates by (`BuildRequest::metric`);
/// the engine's `automl::Metric`, variant for variant.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RankingMetric {
    Auc,
    LogLoss,
    BalancedAccuracy,
    MacroF1,
    Rmse,
    Mae,
    R2,
}

impl RankingMetric {
    pub const ALL: [RankingMetric; 7] = [
        RankingMetric::Auc,
        RankingMetric::LogLoss,
        RankingMetric::BalancedAccuracy,
        RankingMetric::MacroF1,
        RankingMetric::Rmse,
        RankingMetric::Mae,
        RankingMetric::R2,
    ];

    /// Its name, as in a model's metrics and `Build::metric`.
    pub fn label(self) -> &'static str {
        match self {
            RankingMetric::Auc => "AUC",
            RankingMetric::LogLoss => "log loss",
            RankingMetric::BalancedAccuracy => "balanced accuracy",
            RankingMetric::MacroF1 => "macro F1",
            RankingMetric::Rmse => "RMSE",
            RankingMetric::Mae => "MAE",
            RankingMetric::R2 => "R²",
        }
    }

    /// Whether it can rank models of `task` (AUC: two classes only).
    pub fn applies_to(self, task: Task) -> bool {
        use RankingMetric::*;
        match self {
            Auc => task == Task::Binary,
            LogLoss | BalancedAccuracy | MacroF1 => task != Task::Regression,
            Rmse | Mae | R2 => task == Task::Regression,
        }
    }

    /// What a build ranks by when it is not told.
    pub fn default_for(task: Task) -> RankingMetric {
        match task {
            Task::Binary => RankingMetric::Auc,
            Task::Multiclass => RankingMetric::LogLoss,
            Task::Regression => RankingMetric::Rmse,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildRequest {
    pub dataset_id: String,
    pub target: String,
    /// Overrides the detected task when set.
    #[serde(default)]
    pub task: Option<Task>,
    /// Wall-clock budget for the search, in seconds.
    #[serde(default = "default_budget")]
    pub time_budget_secs: u32,
    #[serde(default)]
    pub seed: u64,
    /// Columns left out of the features (after the recipe).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Columns the leakage check flags that the build keeps anyway; every
    /// other flagged column is left out ([`Build::left_out`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// The dataset's recipe version to apply; the latest when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe_version: Option<u32>,
    /// The model families to try, by name (`GET /api/families`); empty for
    /// the default set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<String>,
    /// The metric that ranks the candidates; the task's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<RankingMetric>,
    /// Stop after this many trials: a budget that does not depend on the
    /// machine's speed, so that the same data, settings, seed and trial
    /// budget give the same model file byte for byte. The time budget
    /// still applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trials: Option<u32>,
}

/// A column a build left out by itself, and why (a leakage finding).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeftOut {
    pub column: String,
    pub reason: String,
}

/// What a build's best single model scored with the columns it left out
/// as leaks: that leaderboard row validated once more, with them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeakCost {
    pub trial: u32,
    pub family: String,
    /// The build's ranking metric.
    pub metric: String,
    /// Its validation score without them (its leaderboard score).
    pub without: f64,
    /// With them; absent when it could not be measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<f64>,
    /// Why `with` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<String>,
}

/// A model family a build can try (`GET /api/families`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyInfo {
    pub name: String,
    /// Whether a build tries it when no families are named.
    pub by_default: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn default_budget() -> u32 {
    60
}

/// What the backend can tell about a target before a build starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetInfo {
    pub task: Task,
    pub classes: Vec<String>,
    pub missing: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BuildState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

impl BuildState {
    pub fn is_final(self) -> bool {
        !matches!(self, BuildState::Queued | BuildState::Running)
    }

    pub fn label(self) -> &'static str {
        match self {
            BuildState::Queued => "queued",
            BuildState::Running => "running",
            BuildState::Succeeded => "succeeded",
            BuildState::Failed => "failed",
            BuildState::Cancelled => "cancelled",
            BuildState::Interrupted => "interrupted",
        }
    }
}

/// One trained candidate on the leaderboard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaderboardEntry {
    pub trial: u32,
    pub family: String,
    /// Hyperparameters in a short human-readable form.
    pub params: String,
    /// Validation score on the build's metric (mean over folds).
    pub score: f64,
    /// Standard deviation of the score over folds (0 with one holdout).
    #[serde(default)]
    pub score_std: f64,
    pub fit_secs: f64,
    /// Prediction latency per row, in microseconds.
    pub predict_us_per_row: f64,
    /// Serialized model size in bytes.
    pub size_bytes: u64,
    /// Seconds since the build started when this candidate finished.
    #[serde(default)]
    pub finished_secs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Build {
    pub id: String,
    pub dataset_id: String,
    pub target: String,
    pub task: Option<Task>,
    pub state: BuildState,
    pub created: String,
    pub time_budget_secs: u32,
    pub seed: u64,
    /// The dataset's recipe version the build applied (0: none).
    #[serde(default)]
    pub recipe_version: u32,
    /// Columns the build left out of the features.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Flagged columns it was asked to keep ([`BuildRequest::allow`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Columns it left out because they leak the target, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// With columns left out: what its best single model scored with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_cost: Option<LeakCost>,
    /// The model families it was asked to try (empty: the default set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<String>,
    /// The ranking metric it was asked for (absent: the task's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_metric: Option<RankingMetric>,
    /// Its trial budget ([`BuildRequest::max_trials`]; absent: time only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trials: Option<u32>,
    /// Name of the metric the leaderboard is ranked by, e.g. `AUC`.
    pub metric: Option<String>,
    /// Whether a larger score is better for `metric`.
    pub higher_is_better: bool,
    /// How candidates are validated, e.g. `5-fold cross-validation`.
    #[serde(default)]
    pub validation: Option<String>,
    pub elapsed_secs: f64,
    pub trials_done: u32,
    pub message: String,
    /// Ranked best first.
    pub leaderboard: Vec<LeaderboardEntry>,
    pub model_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    Numeric,
    Categorical,
}

/// One input of a model, with what the predict form needs to prefill it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureInfo {
    pub name: String,
    pub kind: FeatureKind,
    /// Known categories, most frequent first (categorical features only).
    pub categories: Vec<String>,
    /// The median (numeric) or mode (categorical) seen in training.
    pub typical: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricValue {
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSummary {
    pub id: String,
    pub build_id: String,
    pub dataset_id: String,
    pub created: String,
    pub target: String,
    pub task: Task,
    pub family: String,
    pub params: String,
    /// Metrics of the shipped model on held-out rows.
    pub metrics: Vec<MetricValue>,
    pub features: Vec<FeatureInfo>,
    pub classes: Vec<String>,
    pub artifact_bytes: u64,
    /// Global explanations computed after the build (absent for older models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insights: Option<Insights>,
    /// Held-out predictions summarised for charts (absent for older models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// The recipe steps the model applies to its inputs, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipe: Vec<String>,
    /// Binary: the probability of the second class from which a row is
    /// predicted as it (`None`: the more probable class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Columns its build left out because they leak the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// What its build's best single model scored with those columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_cost: Option<LeakCost>,
    /// The leaderboard row of its build that it is (absent for models made
    /// before rows were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<u32>,
    /// How its probabilities are calibrated (absent when they are the
    /// model's own: calibration did not lower the out-of-fold log loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationInfo>,
}

/// A classifier's calibration: a map from its raw outputs to probabilities,
/// fitted on its out-of-fold predictions. SHAP values explain the raw
/// outputs, before it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalibrationInfo {
    /// `platt` (binary) or `temperature` (multiclass).
    pub method: String,
    /// The map in words, e.g. "temperature scaling (logits ÷ 1.412)".
    pub description: String,
    /// Out-of-fold log loss of the model's own probabilities.
    pub log_loss_before: f64,
    /// Out-of-fold log loss of the calibrated probabilities (each row
    /// calibrated by a map fitted without it).
    pub log_loss_after: f64,
}

/// A leaderboard row as a model (`GET /api/builds/{id}/models`): trained
/// by the build (its winner), or on request afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrialModel {
    pub trial: u32,
    pub state: TrialModelState,
    /// When `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// When `failed`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrialModelState {
    Queued,
    Training,
    Ready,
    Failed,
}

/// `PUT /api/builds/{id}/model`: which of the build's models is its model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChooseModel {
    pub model_id: String,
}

/// `PUT /api/models/{id}/threshold`: a binary classifier's decision
/// threshold, or `null` for the more probable class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThresholdRequest {
    pub threshold: Option<f64>,
}

/// What the Model page draws of the out-of-fold predictions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// Binary: `(false positive rate, true positive rate)`.
    pub roc: Vec<(f64, f64)>,
    /// Binary: `(recall, precision)`.
    pub pr: Vec<(f64, f64)>,
    /// Classification: rows = true class, columns = predicted class.
    pub confusion: Vec<Vec<u64>>,
    /// Regression: `(predicted, actual)` for up to 2,000 rows.
    pub residuals: Vec<(f64, f64)>,
    /// Binary: the probability of the second class at each ROC point after
    /// the first, descending (rows at or above `thresholds[i]` are called
    /// positive at `roc[i + 1]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<f64>,
}

/// Global explanations of a model on a sample of its training rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insights {
    pub sample_rows: u64,
    /// What the SHAP values are in, e.g. "log-odds of yes".
    pub space: String,
    /// Every feature, most important first.
    pub importance: Vec<Importance>,
    /// The SHAP value of each sampled row, for the most important features.
    pub beeswarm: Vec<Beeswarm>,
    /// Partial dependence of the prediction on the most important features.
    pub dependence: Vec<Dependence>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Importance {
    pub feature: String,
    pub mean_abs_shap: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Beeswarm {
    pub feature: String,
    /// `(shap, position of the feature value in [0, 1] or null when missing)`.
    pub points: Vec<(f64, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dependence {
    pub feature: String,
    pub categorical: bool,
    pub grid: Vec<serde_json::Value>,
    /// What each curve is: "prediction" or "P(class)".
    pub outputs: Vec<String>,
    pub curves: Vec<Vec<f64>>,
}

/// One row's prediction, explained.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplainResponse {
    pub prediction: PredictResponse,
    pub explanations: Vec<RowExplanation>,
    /// What in the rows the model did not see in training (values outside
    /// the training range, unseen categories, missing values), as a batch
    /// reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<InputWarning>,
}

/// SHAP contributions of one row to one model output, in the model's raw
/// output space: `base + sum(contributions) = raw`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowExplanation {
    /// The output explained: "value" or a class label.
    pub output: String,
    /// "value", "log-odds" or "logit".
    pub space: String,
    pub base: f64,
    pub raw: f64,
    /// One per model input, in schema order.
    pub contributions: Vec<Contribution>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contribution {
    pub feature: String,
    pub shap: f64,
}

/// The outcome of scoring an uploaded CSV.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchReport {
    pub id: String,
    pub file_name: String,
    pub rows: u64,
    /// Input columns the model does not use (ignored, copied to the output).
    pub extra_columns: Vec<String>,
    /// Per column, findings about values the model did not see in training.
    pub warnings: Vec<InputWarning>,
    /// Where the scored CSV can be downloaded.
    pub download: String,
    /// How the model did, when the file holds the target column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<BatchEvaluation>,
    /// The first scored rows: the file's columns, the prediction and, for
    /// classes, their probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<RowsPage>,
}

/// A scored file's metrics and charts on the rows whose target it holds,
/// as the Model page shows them for the out-of-fold predictions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchEvaluation {
    pub target: String,
    /// Rows with a target value the model can be scored on.
    pub rows: u64,
    /// Rows without a target value.
    pub missing: u64,
    /// Rows whose target is a class the model does not know (or, for a
    /// regression, not a number), with up to three of those values.
    pub unknown: u64,
    #[serde(default)]
    pub unknown_examples: Vec<String>,
    pub classes: Vec<String>,
    pub metrics: Vec<MetricValue>,
    pub evaluation: Evaluation,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputWarning {
    pub column: String,
    /// "unseen_category", "out_of_range" or "missing".
    pub kind: String,
    pub count: u64,
    pub message: String,
}

/// Rows to score: each row maps a feature name to a JSON number, string or null.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PredictRequest {
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prediction {
    /// A number (regression) or a class label.
    pub value: serde_json::Value,
    /// Class probabilities in the order of `PredictResponse::classes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PredictResponse {
    pub classes: Vec<String>,
    pub predictions: Vec<Prediction>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_request_defaults_budget_and_seed() {
        let req: BuildRequest =
            serde_json::from_str(r#"{"dataset_id":"d","target":"y"}"#).expect("valid json");
        assert_eq!(req.time_budget_secs, 60);
        assert_eq!(req.seed, 0);
        assert_eq!(req.task, None);
    }

    #[test]
    fn profiles_stored_before_the_statistics_still_load() {
        let old = r#"{"rows":1,"columns":[{"name":"x","kind":"numeric","dtype":"f64","missing":0,"distinct":1,"min":1.0,"max":1.0,"mean":1.0,"top_values":[]}],"head":{"columns":["x"],"offset":0,"total":1,"rows":[["1"]]}}"#;
        let p: Profile = serde_json::from_str(old).expect("old profile loads");
        assert_eq!(p.sampled_rows, None);
        assert_eq!(p.correlations, None);
        assert_eq!(
            (p.columns[0].std, p.columns[0].histogram.as_ref()),
            (None, None)
        );
    }

    #[test]
    fn finding_kinds_serialize_as_their_names() {
        for kind in FindingKind::ALL {
            let s = serde_json::to_string(&kind).expect("serializes");
            assert_eq!(s, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            serde_json::to_string(&Severity::Critical).expect("serializes"),
            "\"critical\""
        );
        assert!(Severity::Critical < Severity::Warning && Severity::Warning < Severity::Info);
    }

    #[test]
    fn states_serialize_in_snake_case() {
        let s = serde_json::to_string(&BuildState::Interrupted).expect("serializes");
        assert_eq!(s, "\"interrupted\"");
        assert!(BuildState::Cancelled.is_final());
        assert!(!BuildState::Running.is_final());
    }
}
