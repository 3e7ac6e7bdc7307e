//! The data-quality report: each check turns a pattern in the data into
//! findings with a severity, evidence, a fix in words and, where steps do
//! it, the fix as recipe steps. Counts (duplicate rows, missing cells,
//! outliers beyond their bounds, placeholder values) are exact, on every
//! row; what only needs a distribution (quantiles, skewness, correlations,
//! the one-column leakage models) uses a seeded sample above
//! [`stats::SAMPLE_ROWS`] rows, and its evidence says so.
//!
//! Each check is a file here holding its thresholds, its words and its
//! steps; `CHECKS` is the one list of them, declared by one line per file
//! in `checks!`. They all read one `Context`: the frame's columns as
//! [`Values`], the samples and the target as training encodes it.

#[cfg(test)]
mod tests;
mod timing;

use api::display;
use automl::Rng;
use polars::prelude::*;

use crate::convert;
use crate::error::{Error, Result};
use crate::stats::{self, MISSING, Values};

pub use columns::{HIGH_CARDINALITY_LEVELS, HIGH_CARDINALITY_SHARE, ID_SHARE};
pub use derived::{ALONE_CEILING, DERIVED_CLASS_SCORE, DERIVED_ROWS, DERIVED_SCORE, GAP_CLOSED};
pub use distribution::{OUTLIER_SPREADS, SKEW_LIMIT};
pub use leakage::{HINTED_MARGIN, HINTED_SKILL, LEAK_SCORE, LIKELY_MARGIN, LIKELY_SKILL};
pub use missing::{MISSING_CRITICAL, MISSING_WARNING};
pub use related::{COLLINEAR_R, NEAR_DUPLICATE_R};
pub use target::{IMBALANCE_CRITICAL, IMBALANCE_WARNING};
pub use timing::{AFTER_SHARE, LATER_WORDS};

/// Declares each check's module and lists its checks in [`CHECKS`]: one
/// line per file, `module: CHECK, ...;`.
macro_rules! checks {
    ($($module:ident: $($check:ident),+;)+) => {
        $(mod $module;)+

        /// Every check, in the order they run. The order does not show: the
        /// report sorts the findings by severity and kind, stably, and each
        /// kind has one check.
        static CHECKS: &[Check] = &[$($($module::$check,)+)+];
    };
}

checks! {
    duplicates: DUPLICATE_ROWS;
    missing: MISSING_VALUES, DISGUISED_MISSING;
    infinite: INFINITE_VALUES;
    columns: CONSTANT_COLUMNS, ID_LIKE, HIGH_CARDINALITY;
    text: TYPED_AS_TEXT;
    text_among_numbers: TEXT_AMONG_NUMBERS;
    distribution: OUTLIERS, SKEWED;
    related: RELATED_COLUMNS;
    target: TARGET;
    leakage: LEAKAGE;
    derived: DERIVED_TARGET;
    unusual: UNUSUAL_ROWS;
}

/// One check: the kinds of finding it makes (each kind is made by exactly
/// one check) and how it finds them, each finding with its recipe steps.
struct Check {
    kinds: &'static [api::FindingKind],
    run: fn(&Context) -> Vec<api::Finding>,
}

/// Example rows per finding.
const EXAMPLES: usize = 3;

/// How many rows the sampled checks use.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    /// Rows for distributions (quantiles, skewness, leakage).
    pub rows: usize,
    /// Rows for pairwise correlations (a sample of the sample).
    pub pair_rows: usize,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            rows: stats::SAMPLE_ROWS,
            pair_rows: stats::PAIR_ROWS,
        }
    }
}

/// The report on `frame`, with the target checks when `target` is set.
pub fn report(frame: &DataFrame, target: Option<&str>) -> Result<api::QualityReport> {
    report_sampled(frame, target, Sampling::default())
}

/// The columns of `frame` that leak `target` (the leakage check's
/// findings, certain and likely, by value or by missingness), each with
/// the finding's message: what a build leaves out unless asked to keep
/// them. Columns that rebuild the target together are not among them: a
/// person decides those.
pub fn leaks(frame: &DataFrame, target: &str) -> Result<Vec<api::LeftOut>> {
    let cx = Context::new(frame, Some(target), Sampling::default())?;
    Ok((leakage::LEAKAGE.run)(&cx)
        .into_iter()
        .filter_map(|f| {
            Some(api::LeftOut {
                column: f.columns.first()?.clone(),
                reason: f.message,
            })
        })
        .collect())
}

pub fn report_sampled(
    frame: &DataFrame,
    target: Option<&str>,
    sampling: Sampling,
) -> Result<api::QualityReport> {
    let cx = Context::new(frame, target, sampling)?;
    let mut findings = Vec::new();
    for check in CHECKS {
        for mut f in (check.run)(&cx) {
            debug_assert!(check.kinds.contains(&f.kind), "{:?} undeclared", f.kind);
            // Every number in a report is finite (JSON has no infinity); the
            // checks make them so, and this keeps one that is not from
            // breaking the whole report.
            f.evidence.stats.retain(|s| s.value.is_finite());
            f.evidence.share = f.evidence.share.filter(|x| x.is_finite());
            findings.push(f);
        }
    }
    // Most severe first; within a severity, by kind, then as found.
    findings.sort_by_key(|f| (f.severity, f.kind));
    Ok(api::QualityReport {
        rows: cx.rows as u64,
        target: target.map(ToOwned::to_owned),
        findings,
    })
}

fn polars(e: PolarsError) -> Error {
    Error::Internal(format!("quality: {e}"))
}

/// One column as the checks see it.
struct Col {
    name: String,
    values: Values,
    /// Stored as text (not booleans or dates).
    text: bool,
    missing: usize,
    distinct: usize,
    /// The sample's finite numbers, sorted (numeric columns only).
    sample_sorted: Vec<f64>,
    /// Placeholder numbers that stand apart from the column's other values,
    /// with their counts ([`missing::numeric_placeholders`]).
    placeholders: Vec<(f64, usize)>,
}

impl Col {
    fn new(c: &Column, sample: &[usize]) -> PolarsResult<Col> {
        let values = Values::from_column(c)?;
        let (missing, distinct, sample_sorted) = match &values {
            Values::Numbers { values, .. } => {
                let distinct: std::collections::HashSet<u64> = values
                    .iter()
                    .filter(|x| !x.is_nan())
                    .map(|&x| key(x))
                    .collect();
                let s: Vec<f64> = sample.iter().map(|&r| values[r]).collect();
                (
                    values.iter().filter(|x| x.is_nan()).count(),
                    distinct.len(),
                    stats::finite_sorted(&s),
                )
            }
            Values::Categories { codes, levels } => (
                codes.iter().filter(|&&c| c == MISSING).count(),
                levels.len(),
                Vec::new(),
            ),
        };
        let mut col = Col {
            name: c.name().to_string(),
            text: c.dtype() == &DataType::String,
            values,
            missing,
            distinct,
            sample_sorted,
            placeholders: Vec::new(),
        };
        col.placeholders = missing::numeric_placeholders(&col);
        Ok(col)
    }

    fn present(&self) -> usize {
        self.values.len() - self.missing
    }

    fn numbers(&self) -> Option<&[f64]> {
        match &self.values {
            Values::Numbers { values, .. } => Some(values),
            Values::Categories { .. } => None,
        }
    }

    /// The first [`EXAMPLES`] of `rows`, with this column's value.
    fn examples(&self, rows: impl IntoIterator<Item = usize>) -> Vec<api::Example> {
        rows.into_iter()
            .take(EXAMPLES)
            .map(|r| api::Example {
                row: r as u64 + 1,
                value: self.values.label(r).unwrap_or_default(),
            })
            .collect()
    }

    /// The first [`EXAMPLES`] rows that have a value.
    fn first_examples(&self) -> Vec<api::Example> {
        self.examples((0..self.values.len()).filter(|&r| !self.values.is_missing(r)))
    }
}

/// What every check reads: the frame's columns, its row samples and the
/// target.
struct Context {
    /// The frame itself (its columns are shared, not copied).
    frame: DataFrame,
    cols: Vec<Col>,
    rows: usize,
    /// Rows of the distribution sample, increasing (every row when small).
    sample: Vec<usize>,
    /// Rows of the pairwise sample, a sample of `sample`.
    pairs: Vec<usize>,
    target: Option<TargetColumn>,
}

/// The chosen target column.
struct TargetColumn {
    /// Its place in [`Context::cols`].
    index: usize,
    name: String,
    /// The target as training encodes it, with the rows that have a value;
    /// or why it cannot be predicted.
    encoded: std::result::Result<(automl::Target, Vec<usize>), String>,
}

impl Context {
    fn new(frame: &DataFrame, target: Option<&str>, sampling: Sampling) -> Result<Context> {
        let rows = frame.height();
        let sample = stats::sample_rows(rows, sampling.rows, stats::SEED);
        // The same rows as the profile's correlation matrix.
        let pairs: Vec<usize> =
            stats::sample_rows(sample.len(), sampling.pair_rows, stats::SEED ^ 1)
                .into_iter()
                .map(|i| sample[i])
                .collect();
        let cols = frame
            .columns()
            .iter()
            .map(|c| Col::new(c, &sample))
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(polars)?;
        let target = match target {
            Some(name) => Some(TargetColumn::new(frame, &cols, name)?),
            None => None,
        };
        Ok(Context {
            frame: frame.clone(),
            cols,
            rows,
            sample,
            pairs,
            target,
        })
    }

    fn sampled(&self) -> Option<u64> {
        (self.sample.len() < self.rows).then_some(self.sample.len() as u64)
    }

    fn pair_sampled(&self) -> Option<u64> {
        (self.pairs.len() < self.rows).then_some(self.pairs.len() as u64)
    }
}

impl TargetColumn {
    fn new(frame: &DataFrame, cols: &[Col], name: &str) -> Result<TargetColumn> {
        let index = cols.iter().position(|c| c.name == name).ok_or_else(|| {
            Error::unprocessable(
                "unknown_column",
                format!("the dataset has no column `{name}`"),
            )
        })?;
        let col = frame.column(name).map_err(polars)?;
        let one = DataFrame::new_infer_height(vec![col.clone()]).map_err(polars)?;
        let data = convert::frame_to_dataset(&one)?;
        let values = data.require(name)?;
        let encoded = automl::detect_task(name, values)
            .and_then(|task| automl::Target::encode(name, values, task))
            .map_err(|e| e.to_string());
        Ok(TargetColumn {
            index,
            name: name.to_owned(),
            encoded,
        })
    }
}

/// A number as a hashable key: all NaNs alike, -0 as 0.
fn key(x: f64) -> u64 {
    if x.is_nan() {
        u64::MAX
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

fn cell_key(v: &Values, row: usize) -> u64 {
    match v {
        Values::Numbers { values, .. } => key(values[row]),
        Values::Categories { codes, .. } => u64::from(codes[row]),
    }
}

/// Spreads the bits of a combined key: the engine's generator's output from
/// that state (SplitMix64's finaliser). Only for grouping: equal keys are
/// compared value by value.
fn mix(key: u64) -> u64 {
    Rng::from_state(key).next_u64()
}

fn finding(
    kind: api::FindingKind,
    severity: api::Severity,
    columns: Vec<String>,
    message: String,
    evidence: api::Evidence,
    fix: impl Into<String>,
    steps: Vec<api::Step>,
) -> api::Finding {
    api::Finding {
        kind,
        severity,
        columns,
        message,
        evidence,
        fix: Some(fix.into()),
        steps,
    }
}

fn stat(name: &str, value: f64) -> api::Stat {
    api::Stat {
        name: name.to_owned(),
        value,
    }
}

/// The one-step fix that drops `column`.
fn drop_column(column: &str) -> Vec<api::Step> {
    vec![api::Step::DropColumns {
        columns: vec![column.to_owned()],
    }]
}

/// A measured value as the report writes it: [`display::number`], except
/// that whole numbers stay integers up to 1e15 (a placeholder or an ID
/// such as 1000000000 reads as written) and NaN is `NaN`.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        display::number(x)
    }
}

/// `k` of `n` with its unit and share: `312 rows (4.1%)`.
fn counted(k: usize, one: &str, many: &str, n: usize) -> String {
    format!(
        "{} ({})",
        display::plural(k as u64, one, many),
        display::percent(k as f64 / n.max(1) as f64)
    )
}
