//! The data-quality report: each check turns a pattern in the data into a
//! finding with a severity, evidence and a suggested fix. Counts (duplicate
//! rows, missing cells, outliers beyond their bounds, placeholder values) are
//! exact, on every row; what only needs a distribution (quantiles, skewness,
//! correlations, the one-column leakage models) uses a seeded sample above
//! [`stats::SAMPLE_ROWS`] rows, and its evidence says so.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use crate::convert;
use crate::error::{Error, Result};
use crate::stats::{self, MISSING, Rng, Values};

/// Missing shares above these are a warning and critical.
pub const MISSING_WARNING: f64 = 0.05;
pub const MISSING_CRITICAL: f64 = 0.40;
/// Outliers lie beyond the median ± this many standard deviations of the
/// values clipped to their 5th–95th percentiles.
pub const OUTLIER_SPREADS: f64 = 5.0;
pub const SKEW_LIMIT: f64 = 3.0;
/// Categorical columns with more levels than this, which are also more than
/// [`HIGH_CARDINALITY_SHARE`] of the rows, have high cardinality.
pub const HIGH_CARDINALITY_LEVELS: usize = 50;
pub const HIGH_CARDINALITY_SHARE: f64 = 0.05;
/// Integer or short text columns whose values are at least this share distinct are ID-like.
pub const ID_SHARE: f64 = 0.95;
/// Numeric pairs with |r| above this are near duplicates.
pub const NEAR_DUPLICATE_R: f64 = 0.98;
/// Numeric pairs with |r| above this (and not near duplicates) are collinear.
pub const COLLINEAR_R: f64 = 0.95;
/// A smallest class below these shares of the rows is a warning and critical.
pub const IMBALANCE_WARNING: f64 = 0.10;
pub const IMBALANCE_CRITICAL: f64 = 0.02;
/// A single column whose binned model reaches this holdout accuracy (or R²) leaks.
pub const LEAK_SCORE: f64 = 0.99;

/// Numbers that often stand for "unknown".
const NUMERIC_PLACEHOLDERS: [f64; 7] = [-1.0, -99.0, -999.0, -9999.0, 999.0, 9999.0, 99999.0];
/// Text that often stands for "unknown" (compared lowercased and trimmed).
/// Ingest already reads the exact tokens in `ingest::NULL_TOKENS` as missing.
const TEXT_PLACEHOLDERS: &[&str] = &[
    "unknown",
    "unk",
    "missing",
    "n/a",
    "na",
    "n.a.",
    "n.a",
    "none",
    "null",
    "nil",
    "nan",
    "not available",
    "not applicable",
    "not known",
    "not specified",
    "unspecified",
    "undefined",
    "no data",
    "blank",
    "(blank)",
    "empty",
    "(null)",
    "(none)",
    "#n/a",
    "#na",
    "?",
    "??",
    "???",
    "-",
    "--",
    "---",
    ".",
    "...",
];
/// Example rows per finding.
const EXAMPLES: usize = 3;
/// Numeric columns compared pairwise (the first ones in dataset order).
const MAX_PAIR_COLUMNS: usize = 200;
/// Near-duplicate pairs reported.
const MAX_PAIR_FINDINGS: usize = 20;
/// Held-out rows needed before a column is called leaky.
const MIN_LEAK_HOLDOUT: usize = 30;
const MAX_LEAK_BINS: usize = 256;
/// Training rows per bin of a numeric column in the leakage check.
const LEAK_ROWS_PER_BIN: usize = 20;
/// Cells (rows × columns) the leakage check reads at most, by sampling rows.
const LEAK_CELLS: usize = 40_000_000;

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

pub fn report_sampled(
    frame: &DataFrame,
    target: Option<&str>,
    sampling: Sampling,
) -> Result<api::QualityReport> {
    let t = Table::new(frame, sampling).map_err(polars)?;
    let mut findings = t.general_findings();
    if let Some(name) = target {
        findings.extend(target_findings(frame, &t, name)?);
    }
    for f in &mut findings {
        f.steps = suggested_steps(f, &t);
        // Every number in a report is finite (JSON has no infinity); the
        // checks make them so, and this keeps one that is not from breaking
        // the whole report.
        f.evidence.stats.retain(|s| s.value.is_finite());
        f.evidence.share = f.evidence.share.filter(|x| x.is_finite());
    }
    // Most severe first; within a severity, by check, then dataset order.
    findings.sort_by_key(|f| (f.severity, f.kind));
    Ok(api::QualityReport {
        rows: t.rows as u64,
        target: target.map(ToOwned::to_owned),
        findings,
    })
}

/// The fix of a finding as recipe steps, one per column concerned, where
/// steps do it.
fn suggested_steps(f: &api::Finding, t: &Table) -> Vec<api::Step> {
    use api::{FindingKind as K, Step};
    let numeric = |name: &str| {
        t.cols
            .iter()
            .find(|c| c.name == name)
            .is_some_and(|c| c.numbers().is_some())
    };
    let each = |make: &dyn Fn(String) -> Step| f.columns.iter().cloned().map(make).collect();
    match f.kind {
        K::DuplicateRows => vec![Step::DropDuplicates],
        K::MissingValues if f.evidence.share.unwrap_or(0.0) > 0.5 => vec![Step::DropColumns {
            columns: f.columns.clone(),
        }],
        K::MissingValues => each(&|column| Step::Impute {
            strategy: if numeric(&column) {
                api::Imputation::Median
            } else {
                api::Imputation::Mode
            },
            column,
            value: None,
        }),
        K::DisguisedMissing | K::InfiniteValues if !f.evidence.values.is_empty() => {
            each(&|column| Step::SetMissing {
                column,
                values: f.evidence.values.iter().map(|v| v.value.clone()).collect(),
            })
        }
        K::ConstantColumn | K::IdLike | K::TargetLeakage => f
            .columns
            .first()
            .map(|c| Step::DropColumns {
                columns: vec![c.clone()],
            })
            .into_iter()
            .collect(),
        K::NearDuplicateColumns => f
            .columns
            .get(1)
            .map(|c| Step::DropColumns {
                columns: vec![c.clone()],
            })
            .into_iter()
            .collect(),
        K::Outliers => each(&|column| Step::Outliers {
            column,
            action: api::OutlierAction::Clip,
        }),
        K::Skewed => each(&|column| Step::Log { column }),
        K::NumbersAsText => each(&|column| Step::Cast {
            column,
            to: api::CastTo::Number,
        }),
        K::DatesAsText => each(&|column| Step::DateParts { column }),
        _ => Vec::new(),
    }
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
}

impl Col {
    fn present(&self) -> usize {
        self.values.len() - self.missing
    }

    fn numbers(&self) -> Option<&[f64]> {
        match &self.values {
            Values::Numbers { values, .. } => Some(values),
            Values::Categories { .. } => None,
        }
    }
}

/// The frame's columns with what several checks share.
struct Table {
    cols: Vec<Col>,
    rows: usize,
    /// Rows of the distribution sample, increasing (every row when small).
    sample: Vec<usize>,
    /// Rows of the pairwise sample, a sample of `sample`.
    pairs: Vec<usize>,
}

impl Table {
    fn new(frame: &DataFrame, sampling: Sampling) -> PolarsResult<Table> {
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
            .map(|c| {
                let values = Values::from_column(c)?;
                let (missing, distinct, sample_sorted) = match &values {
                    Values::Numbers { values, .. } => {
                        let distinct: HashSet<u64> = values
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
                Ok(Col {
                    name: c.name().to_string(),
                    text: c.dtype() == &DataType::String,
                    values,
                    missing,
                    distinct,
                    sample_sorted,
                })
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        Ok(Table {
            cols,
            rows,
            sample,
            pairs,
        })
    }

    fn sampled(&self) -> Option<u64> {
        (self.sample.len() < self.rows).then_some(self.sample.len() as u64)
    }

    fn pair_sampled(&self) -> Option<u64> {
        (self.pairs.len() < self.rows).then_some(self.pairs.len() as u64)
    }

    /// Every check that needs no target.
    fn general_findings(&self) -> Vec<api::Finding> {
        let placeholders: Vec<Vec<(f64, usize)>> = (0..self.cols.len())
            .map(|j| numeric_placeholders(self, j))
            .collect();
        let mut out = Vec::new();
        out.extend(duplicate_rows(self));
        out.extend(missing_values(self));
        out.extend(disguised_missing(self, &placeholders));
        out.extend(infinite_values(self));
        out.extend(constant_columns(self));
        out.extend(id_like_columns(self));
        out.extend(typed_as_text(self));
        out.extend(high_cardinality(self));
        out.extend(outliers(self, &placeholders));
        out.extend(skewed(self));
        out.extend(related_columns(self));
        out
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

/// SplitMix64's finaliser: spreads the bits of a combined key.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn finding(
    kind: api::FindingKind,
    severity: api::Severity,
    columns: Vec<String>,
    message: String,
    evidence: api::Evidence,
    fix: impl Into<String>,
) -> api::Finding {
    api::Finding {
        kind,
        severity,
        columns,
        message,
        evidence,
        fix: Some(fix.into()),
        steps: Vec::new(),
    }
}

fn stat(name: &str, value: f64) -> api::Stat {
    api::Stat {
        name: name.to_owned(),
        value,
    }
}

/// `1234567` as `1,234,567`.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A share in [0, 1] as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

/// A number with about four significant digits.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e9).contains(&a) {
        return format!("{x:.3e}");
    }
    let digits = if a >= 1000.0 {
        1
    } else if a >= 1.0 {
        3
    } else {
        4
    };
    let s = format!("{x:.digits$}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `k` of `n` with its unit and share: `312 rows (4.1%)`.
fn counted(k: usize, unit: &str, n: usize) -> String {
    format!(
        "{} {unit}{} ({})",
        count(k),
        plural(k),
        percent(k as f64 / n.max(1) as f64)
    )
}

fn plural(k: usize) -> &'static str {
    if k == 1 { "" } else { "s" }
}

fn duplicate_rows(t: &Table) -> Vec<api::Finding> {
    if t.rows < 2 || t.cols.is_empty() {
        return Vec::new();
    }
    let mut hashes = vec![0u64; t.rows];
    for (j, c) in t.cols.iter().enumerate() {
        let salt = (j as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (r, h) in hashes.iter_mut().enumerate() {
            *h = mix(*h ^ cell_key(&c.values, r).wrapping_add(salt));
        }
    }
    let same = |a: usize, b: usize| {
        t.cols
            .iter()
            .all(|c| cell_key(&c.values, a) == cell_key(&c.values, b))
    };
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(t.rows);
    // Different rows with the same hash (rare): checked one by one.
    let mut collided: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut duplicates = 0usize;
    let mut examples = Vec::new();
    for (r, &h) in hashes.iter().enumerate() {
        let original = match first.get(&h) {
            None => {
                first.insert(h, r);
                None
            }
            Some(&f) if same(f, r) => Some(f),
            Some(_) => {
                let others = collided.entry(h).or_default();
                let found = others.iter().copied().find(|&g| same(g, r));
                if found.is_none() {
                    others.push(r);
                }
                found
            }
        };
        if let Some(f) = original {
            duplicates += 1;
            if examples.len() < EXAMPLES {
                examples.push(api::Example {
                    row: r as u64 + 1,
                    value: format!("same as row {}", f + 1),
                });
            }
        }
    }
    if duplicates == 0 {
        return Vec::new();
    }
    let share = duplicates as f64 / t.rows as f64;
    vec![finding(
        api::FindingKind::DuplicateRows,
        api::Severity::Warning,
        Vec::new(),
        format!(
            "{} {} exact duplicate{} of an earlier row",
            counted(duplicates, "row", t.rows),
            if duplicates == 1 { "is an" } else { "are" },
            plural(duplicates)
        ),
        api::Evidence {
            count: Some(duplicates as u64),
            share: Some(share),
            examples,
            ..Default::default()
        },
        "Drop duplicate rows, keeping the first of each.",
    )]
}

fn missing_values(t: &Table) -> Vec<api::Finding> {
    let mut out = Vec::new();
    let mut few: Vec<&Col> = Vec::new();
    for c in &t.cols {
        if c.missing == 0 {
            continue;
        }
        let share = c.missing as f64 / t.rows as f64;
        let evidence = api::Evidence {
            count: Some(c.missing as u64),
            share: Some(share),
            ..Default::default()
        };
        let (severity, message, fix) = if c.missing == t.rows {
            (
                api::Severity::Critical,
                format!("`{}` has no values at all", c.name),
                "Drop the column.".to_owned(),
            )
        } else if share > MISSING_CRITICAL {
            (
                api::Severity::Critical,
                format!(
                    "`{}` is missing in {}",
                    c.name,
                    counted(c.missing, "row", t.rows)
                ),
                "Drop the column: with this much missing, filled-in values would mostly be guesses."
                    .to_owned(),
            )
        } else if share > MISSING_WARNING {
            let fix = if c.numbers().is_some() {
                "Impute with the median, or drop the rows without a value."
            } else {
                "Impute with the most frequent value, or drop the rows without a value."
            };
            (
                api::Severity::Warning,
                format!(
                    "`{}` is missing in {}",
                    c.name,
                    counted(c.missing, "row", t.rows)
                ),
                fix.to_owned(),
            )
        } else {
            few.push(c);
            continue;
        };
        out.push(finding(
            api::FindingKind::MissingValues,
            severity,
            vec![c.name.clone()],
            message,
            evidence,
            fix,
        ));
    }
    if !few.is_empty() {
        let listed: Vec<String> = few
            .iter()
            .map(|c| format!("{} ({})", c.name, percent(c.missing as f64 / t.rows as f64)))
            .collect();
        let message = if few.len() == 1 {
            format!(
                "`{}` is missing in {}",
                few[0].name,
                counted(few[0].missing, "row", t.rows)
            )
        } else {
            format!(
                "{} columns have a few missing values (at most {}): {}",
                few.len(),
                percent(MISSING_WARNING),
                listed.join(", ")
            )
        };
        out.push(finding(
            api::FindingKind::MissingValues,
            api::Severity::Info,
            few.iter().map(|c| c.name.clone()).collect(),
            message,
            api::Evidence {
                values: few
                    .iter()
                    .map(|c| api::ValueCount {
                        value: c.name.clone(),
                        count: c.missing as u64,
                    })
                    .collect(),
                ..Default::default()
            },
            "Impute them (the median for numbers, the most frequent value for categories), or drop those rows.",
        ));
    }
    out
}

/// Placeholder numbers in column `j` that stand apart from the other
/// values: at least 3 cells, and beyond the 1st–99th percentile of the rest
/// (which must have at least 5 distinct values).
fn numeric_placeholders(t: &Table, j: usize) -> Vec<(f64, usize)> {
    let c = &t.cols[j];
    let Some(values) = c.numbers() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for p in NUMERIC_PLACEHOLDERS {
        let n = values.iter().filter(|&&x| x == p).count();
        if n < 3 {
            continue;
        }
        let others: Vec<f64> = c
            .sample_sorted
            .iter()
            .copied()
            .filter(|&x| !NUMERIC_PLACEHOLDERS.contains(&x))
            .collect();
        let mut distinct = others.clone();
        distinct.dedup();
        if distinct.len() < 5 {
            continue;
        }
        let (Some(lo), Some(hi)) = (
            stats::quantile(&others, 0.01),
            stats::quantile(&others, 0.99),
        ) else {
            continue;
        };
        if p < lo || p > hi {
            found.push((p, n));
        }
    }
    found
}

fn disguised_missing(t: &Table, placeholders: &[Vec<(f64, usize)>]) -> Vec<api::Finding> {
    let mut out = Vec::new();
    for (j, c) in t.cols.iter().enumerate() {
        let (values, cells): (Vec<api::ValueCount>, Vec<usize>) = match &c.values {
            Values::Numbers { values, .. } => {
                if placeholders[j].is_empty() {
                    continue;
                }
                let vc = placeholders[j]
                    .iter()
                    .map(|&(p, n)| api::ValueCount {
                        value: number(p),
                        count: n as u64,
                    })
                    .collect();
                let rows = (0..t.rows)
                    .filter(|&r| placeholders[j].iter().any(|&(p, _)| values[r] == p))
                    .collect();
                (vc, rows)
            }
            Values::Categories { codes, levels } if c.text => {
                let suspicious: Vec<u32> = levels
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| TEXT_PLACEHOLDERS.contains(&l.trim().to_lowercase().as_str()))
                    .map(|(i, _)| i as u32)
                    .collect();
                if suspicious.is_empty() {
                    continue;
                }
                let counts = stats::level_counts(codes, levels.len());
                let vc = suspicious
                    .iter()
                    .map(|&i| api::ValueCount {
                        value: levels[i as usize].clone(),
                        count: counts[i as usize],
                    })
                    .collect();
                let rows = (0..t.rows)
                    .filter(|&r| suspicious.contains(&codes[r]))
                    .collect();
                (vc, rows)
            }
            Values::Categories { .. } => continue,
        };
        let shown: Vec<String> = values.iter().map(|v| format!("“{}”", v.value)).collect();
        let share = cells.len() as f64 / t.rows as f64;
        let message = format!(
            "`{}` holds {} in {}: {} usually mean{} “unknown”",
            c.name,
            shown.join(", "),
            counted(cells.len(), "row", t.rows),
            if shown.len() == 1 {
                "this value"
            } else {
                "these values"
            },
            if shown.len() == 1 { "s" } else { "" },
        );
        let mut stats_ = Vec::new();
        if c.numbers().is_some() {
            let others: Vec<f64> = c
                .sample_sorted
                .iter()
                .copied()
                .filter(|x| !NUMERIC_PLACEHOLDERS.contains(x))
                .collect();
            if let (Some(lo), Some(hi)) = (
                stats::quantile(&others, 0.01),
                stats::quantile(&others, 0.99),
            ) {
                stats_.push(stat("1st percentile of the other values", lo));
                stats_.push(stat("99th percentile of the other values", hi));
            }
        }
        out.push(finding(
            api::FindingKind::DisguisedMissing,
            api::Severity::Warning,
            vec![c.name.clone()],
            message,
            api::Evidence {
                count: Some(cells.len() as u64),
                share: Some(share),
                examples: cells
                    .iter()
                    .take(EXAMPLES)
                    .map(|&r| api::Example {
                        row: r as u64 + 1,
                        value: c.values.label(r).unwrap_or_default(),
                    })
                    .collect(),
                sampled_rows: if stats_.is_empty() { None } else { t.sampled() },
                values,
                stats: stats_,
            },
            format!(
                "Treat {} as missing, then impute or drop those rows.",
                shown.join(" and ")
            ),
        ));
    }
    out
}

/// Infinite numbers (`inf`, `-inf`, or literals beyond the range of a
/// double), which every statistic leaves out and the models read as
/// missing. The evidence's values are the spellings the fix reads as
/// missing (`inf`, `-inf`: what the recipe's number parsing makes infinite).
fn infinite_values(t: &Table) -> Vec<api::Finding> {
    let mut out = Vec::new();
    for c in &t.cols {
        let Some(values) = c.numbers() else {
            continue;
        };
        let rows: Vec<usize> = (0..t.rows).filter(|&r| values[r].is_infinite()).collect();
        if rows.is_empty() {
            continue;
        }
        let positive = rows.iter().filter(|&&r| values[r] > 0.0).count();
        let negative = rows.len() - positive;
        let signs: Vec<api::ValueCount> = [("inf", positive), ("-inf", negative)]
            .into_iter()
            .filter(|&(_, n)| n > 0)
            .map(|(value, n)| api::ValueCount {
                value: value.into(),
                count: n as u64,
            })
            .collect();
        let which = match (positive, negative) {
            (_, 0) => "+infinity",
            (0, _) => "−infinity",
            _ => "+infinity or −infinity",
        };
        out.push(finding(
            api::FindingKind::InfiniteValues,
            api::Severity::Warning,
            vec![c.name.clone()],
            format!(
                "`{}` holds {} that {} {which}: infinite numbers are not measurements, and the statistics leave them out",
                c.name,
                counted(rows.len(), "infinite value", t.rows),
                if rows.len() == 1 { "is" } else { "are" },
            ),
            api::Evidence {
                count: Some(rows.len() as u64),
                share: Some(rows.len() as f64 / t.rows as f64),
                examples: rows
                    .iter()
                    .take(EXAMPLES)
                    .map(|&r| api::Example {
                        row: r as u64 + 1,
                        value: c.values.label(r).unwrap_or_default(),
                    })
                    .collect(),
                values: signs,
                ..Default::default()
            },
            "Read them as missing (the models already do), then impute them or drop those rows; an infinite value usually comes from a division by zero or an overflow where the data was made.",
        ));
    }
    out
}

fn constant_columns(t: &Table) -> Vec<api::Finding> {
    t.cols
        .iter()
        .filter(|c| c.distinct == 1)
        .map(|c| {
            let row = (0..t.rows).find(|&r| !c.values.is_missing(r)).unwrap_or(0);
            let value = c.values.label(row).unwrap_or_default();
            let message = if c.missing > 0 {
                format!(
                    "`{}` has the same value, “{value}”, in every row that has one ({} rows are missing)",
                    c.name,
                    count(c.missing)
                )
            } else {
                format!("`{}` has the same value, “{value}”, in every row", c.name)
            };
            finding(
                api::FindingKind::ConstantColumn,
                api::Severity::Warning,
                vec![c.name.clone()],
                message,
                api::Evidence {
                    values: vec![api::ValueCount {
                        value,
                        count: c.present() as u64,
                    }],
                    ..Default::default()
                },
                "Drop the column: a value that never changes cannot help a prediction.",
            )
        })
        .collect()
}

/// `id`, `user_id`, `CustomerID`, `order-id`, `key`, `uuid`, ...
fn id_name(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    if ["id", "key", "uuid", "guid", "index"].contains(&lower.as_str()) {
        return true;
    }
    let trimmed = name.trim();
    lower.ends_with("_id")
        || lower.ends_with(" id")
        || lower.ends_with("-id")
        || lower.ends_with("uuid")
        || (trimmed.ends_with("ID") || trimmed.ends_with("Id"))
            && trimmed
                .chars()
                .rev()
                .nth(2)
                .is_some_and(|c| c.is_lowercase())
}

/// Nearly all distinct integers (in a dense range, or named like an ID) or
/// short text that is not dates or sentences.
fn is_id_like(c: &Col) -> bool {
    let present = c.present();
    if present < 20 || (c.distinct as f64) < ID_SHARE * present as f64 {
        return false;
    }
    match &c.values {
        Values::Numbers { values, integer } => {
            if !*integer {
                return false;
            }
            let (lo, hi) = values
                .iter()
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            let dense = hi - lo + 1.0 <= 2.0 * c.distinct as f64;
            dense || id_name(&c.name)
        }
        Values::Categories { levels, .. } => {
            if !c.text {
                return false;
            }
            let head = &levels[..levels.len().min(200)];
            let long = head.iter().map(String::len).sum::<usize>() > 40 * head.len();
            let spaced = head.iter().filter(|l| l.contains(' ')).count() * 2 > head.len();
            !(long || spaced || looks_like_dates(levels) || numbers_as_text(levels))
        }
    }
}

/// Text whose first values are all dates (`2012-01-31`, `31/01/2012 10:00`).
fn looks_like_dates(levels: &[String]) -> bool {
    !levels.is_empty()
        && levels
            .iter()
            .take(20)
            .all(|l| crate::profile::looks_like_date(l))
}

/// Text that is numbers as people write them (`$1,200`, `3,5`, `12%`):
/// nine in ten of the first 200 distinct values read as numbers.
fn numbers_as_text(levels: &[String]) -> bool {
    let head = &levels[..levels.len().min(200)];
    !head.is_empty()
        && head
            .iter()
            .filter(|l| automl::recipe::parse_number(l).is_finite())
            .count()
            * 10
            >= head.len() * 9
}

/// Numbers and dates stored as text, which a model would take as categories.
fn typed_as_text(t: &Table) -> Vec<api::Finding> {
    let mut out = Vec::new();
    for c in &t.cols {
        let Values::Categories { levels, .. } = &c.values else {
            continue;
        };
        if !c.text || levels.is_empty() {
            continue;
        }
        let examples: Vec<api::Example> = (0..t.rows)
            .filter(|&r| !c.values.is_missing(r))
            .take(EXAMPLES)
            .map(|r| api::Example {
                row: r as u64 + 1,
                value: c.values.label(r).unwrap_or_default(),
            })
            .collect();
        let evidence = api::Evidence {
            examples,
            ..Default::default()
        };
        if numbers_as_text(levels) {
            out.push(finding(
                api::FindingKind::NumbersAsText,
                api::Severity::Warning,
                vec![c.name.clone()],
                format!(
                    "`{}` holds numbers written as text (currency signs, thousands separators or decimal commas), so models would treat them as unrelated categories",
                    c.name
                ),
                evidence,
                "Read the column as numbers.",
            ));
        } else if looks_like_dates(levels) {
            out.push(finding(
                api::FindingKind::DatesAsText,
                api::Severity::Info,
                vec![c.name.clone()],
                format!(
                    "`{}` holds dates; as they are, models see each date as its own category",
                    c.name
                ),
                evidence,
                "Split the dates into year, month, day and weekday.",
            ));
        }
    }
    out
}

fn id_like_columns(t: &Table) -> Vec<api::Finding> {
    t.cols
        .iter()
        .filter(|c| is_id_like(c))
        .map(|c| {
            let share = c.distinct as f64 / c.present().max(1) as f64;
            finding(
                api::FindingKind::IdLike,
                api::Severity::Warning,
                vec![c.name.clone()],
                format!(
                    "`{}` looks like an identifier: {} distinct values in {} rows with a value",
                    c.name,
                    count(c.distinct),
                    count(c.present())
                ),
                api::Evidence {
                    count: Some(c.distinct as u64),
                    share: Some(share),
                    examples: (0..t.rows)
                        .filter(|&r| !c.values.is_missing(r))
                        .take(EXAMPLES)
                        .map(|r| api::Example {
                            row: r as u64 + 1,
                            value: c.values.label(r).unwrap_or_default(),
                        })
                        .collect(),
                    ..Default::default()
                },
                "Drop the column: an identifier differs in every row and tells a model nothing about new rows.",
            )
        })
        .collect()
}

fn high_cardinality(t: &Table) -> Vec<api::Finding> {
    let mut out = Vec::new();
    for c in &t.cols {
        let Values::Categories { codes, levels } = &c.values else {
            continue;
        };
        let present = c.present();
        if !c.text
            || looks_like_dates(levels)
            || numbers_as_text(levels)
            || c.distinct <= HIGH_CARDINALITY_LEVELS
            || (c.distinct as f64) <= HIGH_CARDINALITY_SHARE * present as f64
            || is_id_like(c)
        {
            continue;
        }
        let counts = stats::level_counts(codes, levels.len());
        let mut order: Vec<usize> = (0..levels.len()).collect();
        order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
        out.push(finding(
            api::FindingKind::HighCardinality,
            api::Severity::Warning,
            vec![c.name.clone()],
            format!(
                "`{}` has {} distinct values ({} of the rows with a value), too many for most categories to be learned",
                c.name,
                count(c.distinct),
                percent(c.distinct as f64 / present.max(1) as f64)
            ),
            api::Evidence {
                count: Some(c.distinct as u64),
                share: Some(c.distinct as f64 / present.max(1) as f64),
                values: order
                    .iter()
                    .take(5)
                    .map(|&i| api::ValueCount {
                        value: levels[i].clone(),
                        count: counts[i],
                    })
                    .collect(),
                ..Default::default()
            },
            "Group rare values into “other”, or drop the column.",
        ));
    }
    out
}

/// The sample's numbers of a column without its placeholders, when they
/// have at least 10 distinct values (fewer is a code, not a measurement).
fn measured(c: &Col, placeholders: &[(f64, usize)]) -> Option<Vec<f64>> {
    c.numbers()?;
    let v: Vec<f64> = c
        .sample_sorted
        .iter()
        .copied()
        .filter(|x| !placeholders.iter().any(|(p, _)| p == x))
        .collect();
    let mut d = v.clone();
    d.dedup();
    (d.len() >= 10).then_some(v)
}

fn outliers(t: &Table, placeholders: &[Vec<(f64, usize)>]) -> Vec<api::Finding> {
    let mut out = Vec::new();
    for (j, c) in t.cols.iter().enumerate() {
        if is_id_like(c) {
            continue;
        }
        let Some(sorted) = measured(c, &placeholders[j]) else {
            continue;
        };
        let Some((lo, hi, median, spread)) = stats::outlier_bounds(&sorted, OUTLIER_SPREADS) else {
            continue;
        };
        let values = c.numbers().unwrap_or_default();
        let rows: Vec<usize> = (0..t.rows)
            .filter(|&r| {
                let x = values[r];
                x.is_finite() && (x < lo || x > hi) && !placeholders[j].iter().any(|&(p, _)| p == x)
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let share = rows.len() as f64 / t.rows as f64;
        out.push(finding(
            api::FindingKind::Outliers,
            if share < 0.01 {
                api::Severity::Info
            } else {
                api::Severity::Warning
            },
            vec![c.name.clone()],
            format!(
                "`{}` has {} far {}",
                c.name,
                counted(rows.len(), "value", t.rows),
                if rows.iter().all(|&r| values[r] > hi) {
                    format!("above its typical values (more than {})", number(hi))
                } else if rows.iter().all(|&r| values[r] < lo) {
                    format!("below its typical values (less than {})", number(lo))
                } else {
                    format!("outside its typical range of {} to {}", number(lo), number(hi))
                }
            ),
            api::Evidence {
                count: Some(rows.len() as u64),
                share: Some(share),
                examples: rows
                    .iter()
                    .take(EXAMPLES)
                    .map(|&r| api::Example {
                        row: r as u64 + 1,
                        value: number(values[r]),
                    })
                    .collect(),
                stats: vec![
                    stat("median", median),
                    stat("std of the values clipped to their 5th–95th percentiles", spread),
                    stat("lower bound", lo),
                    stat("upper bound", hi),
                ],
                sampled_rows: t.sampled(),
                ..Default::default()
            },
            "Check these values: if they are errors, drop those rows or clip the values to the range; if they are real, keep them (tree models cope with them).",
        ));
    }
    out
}

fn skewed(t: &Table) -> Vec<api::Finding> {
    let mut out = Vec::new();
    for c in &t.cols {
        if is_id_like(c) {
            continue;
        }
        let Some(sorted) = measured(c, &[]) else {
            continue;
        };
        let Some(skew) = stats::Moments::of(&sorted).and_then(|m| m.skewness) else {
            continue;
        };
        if skew.abs() <= SKEW_LIMIT {
            continue;
        }
        let (side, shape) = if skew > 0.0 {
            ("right", "most values are small and a few are very large")
        } else {
            ("left", "most values are large and a few are very small")
        };
        let non_negative = sorted.first().is_some_and(|&x| x >= 0.0);
        out.push(finding(
            api::FindingKind::Skewed,
            api::Severity::Info,
            vec![c.name.clone()],
            format!(
                "`{}` is strongly {side}-skewed (skewness {}): {shape}",
                c.name,
                number(skew)
            ),
            api::Evidence {
                stats: vec![stat("skewness", skew)],
                sampled_rows: t.sampled(),
                ..Default::default()
            },
            if non_negative && skew > 0.0 {
                "For linear models, log-transform it (log(1 + x)); tree models do not need it."
            } else {
                "For linear models, use a rank or signed-log transform; tree models do not need it."
            },
        ));
    }
    out
}

/// Identical columns (every row, any type; categories that map one to one
/// count as identical), numeric pairs with |r| > [`NEAR_DUPLICATE_R`], and
/// the pairs with |r| > [`COLLINEAR_R`] as one multicollinearity finding.
fn related_columns(t: &Table) -> Vec<api::Finding> {
    let mut out = Vec::new();
    let candidates: Vec<usize> = (0..t.cols.len())
        .filter(|&j| t.cols[j].distinct > 1)
        .collect();
    // Codes are numbered in order of first appearance, so two categorical
    // columns that map one to one have equal codes.
    let fingerprint = |j: usize| {
        let v = &t.cols[j].values;
        (0..t.rows).fold(matches!(v, Values::Numbers { .. }) as u64, |h, r| {
            mix(h ^ cell_key(v, r))
        })
    };
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for &j in &candidates {
        groups.entry(fingerprint(j)).or_default().push(j);
    }
    let mut identical: HashSet<(usize, usize)> = HashSet::new();
    let mut group_list: Vec<&Vec<usize>> = groups.values().filter(|g| g.len() > 1).collect();
    group_list.sort();
    for g in group_list {
        for (x, &a) in g.iter().enumerate() {
            for &b in &g[x + 1..] {
                if identical_values(&t.cols[a].values, &t.cols[b].values) {
                    identical.insert((a, b));
                }
            }
        }
    }
    let mut identical: Vec<(usize, usize)> = identical.into_iter().collect();
    identical.sort_unstable();
    for &(a, b) in identical.iter().take(MAX_PAIR_FINDINGS) {
        let (ca, cb) = (&t.cols[a], &t.cols[b]);
        let same_labels = match (&ca.values, &cb.values) {
            (Values::Categories { levels: a, .. }, Values::Categories { levels: b, .. }) => a == b,
            _ => true,
        };
        let message = if same_labels {
            format!(
                "`{}` and `{}` hold the same value in every row",
                ca.name, cb.name
            )
        } else {
            format!(
                "`{}` and `{}` carry the same information: each value of one always goes with the same value of the other",
                ca.name, cb.name
            )
        };
        let examples = (0..t.rows)
            .filter(|&r| !ca.values.is_missing(r))
            .take(EXAMPLES)
            .map(|r| api::Example {
                row: r as u64 + 1,
                value: format!(
                    "{} = {}, {} = {}",
                    ca.name,
                    ca.values.label(r).unwrap_or_default(),
                    cb.name,
                    cb.values.label(r).unwrap_or_default()
                ),
            })
            .collect();
        out.push(finding(
            api::FindingKind::NearDuplicateColumns,
            api::Severity::Warning,
            vec![ca.name.clone(), cb.name.clone()],
            message,
            api::Evidence {
                examples,
                ..Default::default()
            },
            format!("Drop one of `{}` and `{}`.", ca.name, cb.name),
        ));
    }
    let numeric: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&j| t.cols[j].numbers().is_some())
        .take(MAX_PAIR_COLUMNS)
        .collect();
    let sampled: Vec<Vec<f64>> = numeric
        .iter()
        .map(|&j| {
            let v = t.cols[j].numbers().unwrap_or_default();
            t.pairs.iter().map(|&r| v[r]).collect()
        })
        .collect();
    let mut near = Vec::new();
    let mut collinear = Vec::new();
    for x in 0..numeric.len() {
        for y in x + 1..numeric.len() {
            let (a, b) = (numeric[x], numeric[y]);
            if identical.contains(&(a, b)) {
                continue;
            }
            let Some(r) = stats::pearson(&sampled[x], &sampled[y]) else {
                continue;
            };
            if r.abs() > NEAR_DUPLICATE_R {
                near.push((a, b, r));
            } else if r.abs() > COLLINEAR_R {
                collinear.push((a, b, r));
            }
        }
    }
    for &(a, b, r) in near.iter().take(MAX_PAIR_FINDINGS) {
        let (na, nb) = (&t.cols[a].name, &t.cols[b].name);
        out.push(finding(
            api::FindingKind::NearDuplicateColumns,
            api::Severity::Warning,
            vec![na.clone(), nb.clone()],
            format!(
                "`{na}` and `{nb}` are almost the same column (Pearson r = {:.3})",
                r
            ),
            api::Evidence {
                stats: vec![stat("Pearson r", r)],
                sampled_rows: t.pair_sampled(),
                ..Default::default()
            },
            format!("Drop one of `{na}` and `{nb}`: they carry nearly the same information."),
        ));
    }
    if !collinear.is_empty() {
        let mut columns: Vec<usize> = collinear.iter().flat_map(|&(a, b, _)| [a, b]).collect();
        columns.sort_unstable();
        columns.dedup();
        let listed: Vec<String> = collinear
            .iter()
            .take(10)
            .map(|&(a, b, r)| format!("{} and {} ({r:.2})", t.cols[a].name, t.cols[b].name))
            .collect();
        let more = collinear.len().saturating_sub(10);
        out.push(finding(
            api::FindingKind::Multicollinearity,
            api::Severity::Info,
            columns.iter().map(|&j| t.cols[j].name.clone()).collect(),
            format!(
                "{} pair{} of numeric columns {} strongly correlated (|r| > {COLLINEAR_R}): {}{}",
                collinear.len(),
                plural(collinear.len()),
                if collinear.len() == 1 { "is" } else { "are" },
                listed.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ),
            api::Evidence {
                count: Some(collinear.len() as u64),
                stats: collinear
                    .iter()
                    .take(MAX_PAIR_FINDINGS)
                    .map(|&(a, b, r)| stat(&format!("r({}, {})", t.cols[a].name, t.cols[b].name), r))
                    .collect(),
                sampled_rows: t.pair_sampled(),
                ..Default::default()
            },
            "Linear models become unstable with such pairs: keep one column of each pair, or rely on tree models, which are not affected.",
        ));
    }
    out
}

/// Equal numbers in every row (missing in the same rows), or categories
/// that map one to one.
fn identical_values(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::Numbers { values: x, .. }, Values::Numbers { values: y, .. }) => {
            x.iter().zip(y).all(|(&p, &q)| key(p) == key(q))
        }
        (Values::Categories { codes: x, .. }, Values::Categories { codes: y, .. }) => x == y,
        _ => false,
    }
}

/// Imbalance, leakage and missing targets for the column `name`.
fn target_findings(frame: &DataFrame, t: &Table, name: &str) -> Result<Vec<api::Finding>> {
    let ti = t.cols.iter().position(|c| c.name == name).ok_or_else(|| {
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
        .and_then(|task| automl::Target::encode(name, values, task));
    let (target, rows) = match encoded {
        Ok(e) => e,
        Err(e) => {
            return Ok(vec![finding(
                api::FindingKind::UnusableTarget,
                api::Severity::Critical,
                vec![name.to_owned()],
                e.to_string(),
                api::Evidence::default(),
                "Choose another column to predict.",
            )]);
        }
    };
    let mut out = Vec::new();
    let missing = t.rows - rows.len();
    // Infinite target values are missing to training (see `convert`).
    let infinite = t.cols[ti]
        .numbers()
        .map_or(0, |v| v.iter().filter(|x| x.is_infinite()).count());
    if missing > 0 {
        let share = missing as f64 / t.rows as f64;
        let label = |r: usize| {
            if t.cols[ti].values.is_missing(r) {
                "missing".to_owned()
            } else {
                t.cols[ti].values.label(r).unwrap_or_default()
            }
        };
        out.push(finding(
            api::FindingKind::TargetMissing,
            if share > MISSING_WARNING {
                api::Severity::Warning
            } else {
                api::Severity::Info
            },
            vec![name.to_owned()],
            format!(
                "{} {} no value in `{name}`{}; training leaves {} out",
                counted(missing, "row", t.rows),
                if missing == 1 { "has" } else { "have" },
                match infinite {
                    0 => String::new(),
                    n if n == missing => " (an infinite one)".to_owned(),
                    n => format!(" ({} infinite)", count(n)),
                },
                if missing == 1 { "it" } else { "them" }
            ),
            api::Evidence {
                count: Some(missing as u64),
                share: Some(share),
                examples: (0..t.rows)
                    .filter(|&r| {
                        t.cols[ti].values.is_missing(r)
                            || t.cols[ti].numbers().is_some_and(|v| v[r].is_infinite())
                    })
                    .take(EXAMPLES)
                    .map(|r| api::Example {
                        row: r as u64 + 1,
                        value: label(r),
                    })
                    .collect(),
                ..Default::default()
            },
            "Fill them in at the source if you can; a guessed target only teaches the model guesses.",
        ));
    }
    if let automl::Target::Classes { classes, y } = &target {
        out.extend(class_imbalance(name, classes, y));
    }
    out.extend(leakage(t, ti, &target, &rows));
    Ok(out)
}

fn class_imbalance(name: &str, classes: &[String], y: &[usize]) -> Option<api::Finding> {
    let mut counts = vec![0usize; classes.len()];
    for &c in y {
        counts[c] += 1;
    }
    let (smallest, &n) = counts
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)))?;
    let share = n as f64 / y.len().max(1) as f64;
    let severity = if share < IMBALANCE_CRITICAL {
        api::Severity::Critical
    } else if share < IMBALANCE_WARNING {
        api::Severity::Warning
    } else {
        return None;
    };
    let label = &classes[smallest];
    Some(finding(
        api::FindingKind::ClassImbalance,
        severity,
        vec![name.to_owned()],
        format!(
            "The smallest class of `{name}`, “{label}”, has {} of {} rows ({})",
            count(n),
            count(y.len()),
            percent(share)
        ),
        api::Evidence {
            count: Some(n as u64),
            share: Some(share),
            values: classes
                .iter()
                .zip(&counts)
                .map(|(c, &n)| api::ValueCount {
                    value: c.clone(),
                    count: n as u64,
                })
                .collect(),
            ..Default::default()
        },
        format!(
            "Judge models by AUC or balanced accuracy rather than accuracy (Kiln's folds keep the class shares), and collect more “{label}” rows if you can."
        ),
    ))
}

/// Columns that alone predict the target almost perfectly on held-out rows:
/// each column becomes bins (its categories, or up to 256 quantile bins of
/// its numbers, missing as a bin of its own); the majority class (or mean)
/// of each bin on 80% of the rows predicts the other 20%. Accuracy of at
/// least [`LEAK_SCORE`] with at most a tenth of the majority-class guess's
/// errors, or R² of at least [`LEAK_SCORE`], is leakage.
fn leakage(
    t: &Table,
    target_col: usize,
    target: &automl::Target,
    target_rows: &[usize],
) -> Vec<api::Finding> {
    let width = t.cols.len().max(1);
    let limit = t.sample.len().min((LEAK_CELLS / width).max(10_000));
    let positions = stats::sample_rows(target_rows.len(), limit, stats::SEED ^ 2);
    let sampled = (positions.len() < target_rows.len()).then_some(positions.len() as u64);
    let mut rng = Rng::new(stats::SEED ^ 3);
    let holdout: Vec<bool> = positions.iter().map(|_| rng.next_f64() < 0.2).collect();
    let n_hold = holdout.iter().filter(|&&h| h).count();
    if n_hold < MIN_LEAK_HOLDOUT || positions.len() - n_hold < MIN_LEAK_HOLDOUT {
        return Vec::new();
    }
    let target_name = &t.cols[target_col].name;
    let rows: Vec<usize> = positions.iter().map(|&p| target_rows[p]).collect();
    let mut out = Vec::new();
    for (j, c) in t.cols.iter().enumerate() {
        if j == target_col || c.distinct < 2 {
            continue;
        }
        let bins = bin_column(&c.values, &rows, &holdout);
        let score = match target {
            automl::Target::Classes { classes, y } => {
                let y: Vec<usize> = positions.iter().map(|&p| y[p]).collect();
                classification_score(&bins, &y, &holdout, classes.len())
            }
            automl::Target::Regression(v) => {
                let y: Vec<f64> = positions.iter().map(|&p| v[p]).collect();
                regression_score(&bins, &y, &holdout)
            }
        };
        let Some(score) = score else { continue };
        let (message, stats_) = match score {
            Score::Accuracy { accuracy, baseline } => {
                if accuracy < LEAK_SCORE || (1.0 - accuracy) > 0.1 * (1.0 - baseline) {
                    continue;
                }
                (
                    format!(
                        "`{}` alone predicts `{target_name}` with {} accuracy on held-out rows (always guessing the most common class: {}): it probably contains the answer, or is only known after it",
                        c.name,
                        percent(accuracy),
                        percent(baseline)
                    ),
                    vec![
                        stat("held-out accuracy", accuracy),
                        stat("majority-class accuracy", baseline),
                    ],
                )
            }
            Score::R2(r2) => {
                if r2 < LEAK_SCORE {
                    continue;
                }
                (
                    format!(
                        "`{}` alone explains {} of the variance of `{target_name}` on held-out rows (R² = {r2:.3}): it probably contains the answer, or is only known after it",
                        c.name,
                        percent(r2)
                    ),
                    vec![stat("held-out R²", r2)],
                )
            }
        };
        out.push(finding(
            api::FindingKind::TargetLeakage,
            api::Severity::Critical,
            vec![c.name.clone(), target_name.clone()],
            message,
            api::Evidence {
                count: Some(n_hold as u64),
                stats: stats_,
                sampled_rows: sampled,
                ..Default::default()
            },
            format!(
                "Drop `{}` unless its value is truly known at the moment you will predict.",
                c.name
            ),
        ));
    }
    out
}

/// The bin of each of `rows`: category codes, or quantile bins of the
/// training rows' numbers; missing is bin `u32::MAX`.
fn bin_column(values: &Values, rows: &[usize], holdout: &[bool]) -> Vec<u32> {
    match values {
        Values::Categories { codes, .. } => rows.iter().map(|&r| codes[r]).collect(),
        Values::Numbers { values, .. } => {
            let train: Vec<f64> = rows
                .iter()
                .zip(holdout)
                .filter(|(_, h)| !**h)
                .map(|(&r, _)| values[r])
                .collect();
            let sorted = stats::finite_sorted(&train);
            let k = (sorted.len() / LEAK_ROWS_PER_BIN).clamp(1, MAX_LEAK_BINS);
            let mut edges: Vec<f64> = (1..k).map(|i| sorted[i * sorted.len() / k]).collect();
            edges.dedup();
            rows.iter()
                .map(|&r| {
                    let x = values[r];
                    if x.is_nan() {
                        u32::MAX
                    } else {
                        edges.partition_point(|&e| e < x) as u32
                    }
                })
                .collect()
        }
    }
}

enum Score {
    Accuracy { accuracy: f64, baseline: f64 },
    R2(f64),
}

/// Holdout accuracy of each bin's majority class (learned on the other
/// rows), and of always guessing the overall majority; `None` when the
/// held-out rows are all one class.
fn classification_score(bins: &[u32], y: &[usize], holdout: &[bool], k: usize) -> Option<Score> {
    let mut train: Vec<(u32, usize)> = bins
        .iter()
        .zip(y)
        .zip(holdout)
        .filter(|(_, h)| !**h)
        .map(|((&b, &c), _)| (b, c))
        .collect();
    train.sort_unstable();
    let mut overall = vec![0usize; k];
    let mut majority: HashMap<u32, usize> = HashMap::new();
    let mut i = 0;
    while i < train.len() {
        let bin = train[i].0;
        let (mut best, mut best_n) = (train[i].1, 0);
        while i < train.len() && train[i].0 == bin {
            let class = train[i].1;
            let mut n = 0;
            while i < train.len() && train[i] == (bin, class) {
                n += 1;
                i += 1;
            }
            overall[class] += n;
            if n > best_n {
                (best, best_n) = (class, n);
            }
        }
        majority.insert(bin, best);
    }
    let global = (0..k).max_by(|&a, &b| overall[a].cmp(&overall[b]).then(b.cmp(&a)))?;
    let (mut n, mut right, mut base) = (0usize, 0usize, 0usize);
    for ((b, &c), _) in bins.iter().zip(y).zip(holdout).filter(|(_, h)| **h) {
        n += 1;
        right += usize::from(*majority.get(b).unwrap_or(&global) == c);
        base += usize::from(global == c);
    }
    if n == 0 || base == n {
        return None;
    }
    Some(Score::Accuracy {
        accuracy: right as f64 / n as f64,
        baseline: base as f64 / n as f64,
    })
}

/// Holdout R² of each bin's mean (learned on the other rows); `None` when
/// the held-out target does not vary.
fn regression_score(bins: &[u32], y: &[f64], holdout: &[bool]) -> Option<Score> {
    let mut sums: HashMap<u32, (f64, usize)> = HashMap::new();
    let (mut total, mut n_train) = (0.0, 0usize);
    for ((&b, &v), _) in bins.iter().zip(y).zip(holdout).filter(|(_, h)| !**h) {
        let e = sums.entry(b).or_default();
        e.0 += v;
        e.1 += 1;
        total += v;
        n_train += 1;
    }
    let global = total / n_train.max(1) as f64;
    let held: Vec<(u32, f64)> = bins
        .iter()
        .zip(y)
        .zip(holdout)
        .filter(|(_, h)| **h)
        .map(|((&b, &v), _)| (b, v))
        .collect();
    let mean = held.iter().map(|h| h.1).sum::<f64>() / held.len().max(1) as f64;
    let (mut sse, mut sst) = (0.0, 0.0);
    for &(b, v) in &held {
        let pred = sums.get(&b).map_or(global, |&(s, n)| s / n as f64);
        sse += (v - pred) * (v - pred);
        sst += (v - mean) * (v - mean);
    }
    // Targets near the largest double overflow the sums: no score then.
    let r2 = 1.0 - sse / sst;
    (sst > 0.0 && r2.is_finite()).then_some(Score::R2(r2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::{FindingKind as K, Severity as S};

    fn findings(frame: &DataFrame, target: Option<&str>) -> Vec<api::Finding> {
        report(frame, target).unwrap().findings
    }

    fn of(fs: &[api::Finding], kind: K) -> Vec<api::Finding> {
        fs.iter().filter(|f| f.kind == kind).cloned().collect()
    }

    fn about(fs: &[api::Finding], kind: K, column: &str) -> Option<api::Finding> {
        fs.iter()
            .find(|f| f.kind == kind && f.columns.iter().any(|c| c == column))
            .cloned()
    }

    fn uniform(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.next_f64()).collect()
    }

    #[test]
    fn formats_counts_shares_and_numbers() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(percent(0.041), "4.1%");
        assert_eq!(percent(0.0004), "<0.1%");
        assert_eq!(number(2013.0), "2013");
        assert_eq!(number(-2.71234), "-2.712");
        assert_eq!(counted(1, "row", 4), "1 row (25.0%)");
        assert_eq!(counted(312, "row", 7610), "312 rows (4.1%)");
    }

    #[test]
    fn duplicate_rows_are_counted_with_their_first_occurrence() {
        let frame = df!(
            "a" => [Some(1), Some(2), Some(1), Some(3), Some(1), None, None],
            "b" => [Some("x"), Some("y"), Some("x"), Some("z"), Some("x"), Some("w"), Some("w")],
        )
        .unwrap();
        let d = of(&findings(&frame, None), K::DuplicateRows);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].evidence.count, Some(3));
        assert_eq!(
            d[0].message,
            "3 rows (42.9%) are exact duplicates of an earlier row"
        );
        let ex: Vec<(u64, &str)> = d[0]
            .evidence
            .examples
            .iter()
            .map(|e| (e.row, e.value.as_str()))
            .collect();
        assert_eq!(
            ex,
            [
                (3, "same as row 1"),
                (5, "same as row 1"),
                (7, "same as row 6")
            ]
        );
    }

    #[test]
    fn rows_that_differ_in_one_column_are_not_duplicates() {
        let frame = df!(
            "a" => [1.0, 2.0, 1.0, -0.0, 0.0],
            "b" => ["x", "y", "z", "w", "v"],
        )
        .unwrap();
        assert!(of(&findings(&frame, None), K::DuplicateRows).is_empty());
    }

    #[test]
    fn missing_values_by_share() {
        let n = 100;
        let col = |missing: usize| -> Vec<Option<f64>> {
            (0..n).map(|i| (i >= missing).then_some(i as f64)).collect()
        };
        let frame = df!(
            "half" => col(50),
            "tenth" => col(10),
            "few" => col(2),
            "fewer" => col(1),
            "none" => col(0),
            "empty" => vec![None::<f64>; n],
        )
        .unwrap();
        let fs = of(&findings(&frame, None), K::MissingValues);
        let sev = |c: &str| about(&fs, K::MissingValues, c).map(|f| f.severity);
        assert_eq!(sev("half"), Some(S::Critical));
        assert_eq!(sev("empty"), Some(S::Critical));
        assert_eq!(sev("tenth"), Some(S::Warning));
        assert_eq!(sev("few"), Some(S::Info));
        assert_eq!(sev("none"), None);
        let info = about(&fs, K::MissingValues, "few").unwrap();
        assert_eq!(info.columns, ["few", "fewer"]);
        assert_eq!(fs.len(), 4);
        assert_eq!(
            about(&fs, K::MissingValues, "tenth").unwrap().message,
            "`tenth` is missing in 10 rows (10.0%)"
        );
    }

    #[test]
    fn placeholder_numbers_apart_from_the_rest_are_disguised_missing() {
        let n = 200;
        let mut age: Vec<i64> = (0..n).map(|i| 18 + (i % 60)).collect();
        for r in [5, 50, 120, 121] {
            age[r] = -1;
        }
        // -1 in the middle of the range is a value like any other.
        let change: Vec<i64> = (0..n).map(|i| (i % 21) - 10).collect();
        // A column coded -1/1 has no missing values.
        let sign: Vec<i64> = (0..n).map(|i| if i % 3 == 0 { -1 } else { 1 }).collect();
        let mut income: Vec<f64> = (0..n as usize)
            .map(|i| 20_000.0 + 150.0 * i as f64)
            .collect();
        for r in 0..10 {
            income[r * 7] = 99999.0;
        }
        let frame =
            df!("age" => age, "change" => change, "sign" => sign, "income" => income).unwrap();
        let fs = findings(&frame, None);
        let d = of(&fs, K::DisguisedMissing);
        assert_eq!(d.len(), 2, "{d:#?}");
        let age = about(&d, K::DisguisedMissing, "age").unwrap();
        assert_eq!(age.evidence.count, Some(4));
        assert_eq!(age.evidence.values[0].value, "-1");
        assert_eq!(age.evidence.examples[0].row, 6);
        assert_eq!(
            age.message,
            "`age` holds “-1” in 4 rows (2.0%): this value usually means “unknown”"
        );
        assert!(about(&d, K::DisguisedMissing, "income").is_some());
        // A placeholder is not also an outlier.
        assert!(about(&fs, K::Outliers, "income").is_none());
    }

    #[test]
    fn placeholder_text_that_survived_ingest_is_disguised_missing() {
        let frame = df!(
            "colour" => ["red", "Unknown", "blue", "N/a", "red", "unknown "],
            "album" => ["Unknown Pleasures", "Blue", "Red", "Low", "Heroes", "Abbey Road"],
        )
        .unwrap();
        let d = of(&findings(&frame, None), K::DisguisedMissing);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].columns, ["colour"]);
        assert_eq!(d[0].evidence.count, Some(3));
        let values: Vec<&str> = d[0]
            .evidence
            .values
            .iter()
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(values, ["Unknown", "N/a", "unknown "]);
    }

    #[test]
    fn constant_columns() {
        let frame = df!(
            "year" => [2013, 2013, 2013],
            "two" => [1, 2, 1],
            "flag" => [Some("y"), None, Some("y")],
        )
        .unwrap();
        let fs = of(&findings(&frame, None), K::ConstantColumn);
        let cols: Vec<&str> = fs.iter().map(|f| f.columns[0].as_str()).collect();
        assert_eq!(cols, ["year", "flag"]);
        assert_eq!(
            fs[0].message,
            "`year` has the same value, “2013”, in every row"
        );
    }

    #[test]
    fn identifiers_are_distinct_integers_in_a_dense_range_or_short_codes() {
        let n = 100i64;
        let frame = df!(
            "row" => (1..=n).collect::<Vec<_>>(),
            "customer_id" => (0..n).map(|i| i * i * 37).collect::<Vec<_>>(),
            "income" => (0..n).map(|i| i * i * 37).collect::<Vec<_>>(),
            "code" => (0..n).map(|i| format!("u{i:04}")).collect::<Vec<_>>(),
            "score" => (0..n).map(|i| i as f64 / 7.0).collect::<Vec<_>>(),
            "when" => (0..n).map(|i| format!("2024-01-01T00:{:02}:{:02}", i / 60, i % 60)).collect::<Vec<_>>(),
            "note" => (0..n).map(|i| format!("a remark about item {i}")).collect::<Vec<_>>(),
            "group" => (0..n).map(|i| i % 5).collect::<Vec<_>>(),
        )
        .unwrap();
        let fs = findings(&frame, None);
        let ids: Vec<String> = of(&fs, K::IdLike)
            .into_iter()
            .map(|f| f.columns[0].clone())
            .collect();
        assert_eq!(ids, ["row", "customer_id", "code"]);
        // ID-like columns are not also high-cardinality categoricals.
        assert!(
            of(&fs, K::HighCardinality)
                .iter()
                .all(|f| f.columns[0] != "code")
        );
    }

    #[test]
    fn high_cardinality_needs_many_levels_and_a_share_of_the_rows() {
        let many: Vec<String> = (0..200).map(|i| format!("city {}", i % 60)).collect();
        let fs = findings(&df!("city" => many).unwrap(), None);
        let h = of(&fs, K::HighCardinality);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].evidence.count, Some(60));
        assert_eq!(h[0].evidence.values.len(), 5);
        // 60 levels in 2,000 rows is 3% of them: fine.
        let common: Vec<String> = (0..2000).map(|i| format!("city {}", i % 60)).collect();
        assert!(
            of(
                &findings(&df!("city" => common).unwrap(), None),
                K::HighCardinality
            )
            .is_empty()
        );
        let few: Vec<String> = (0..200).map(|i| format!("city {}", i % 50)).collect();
        assert!(
            of(
                &findings(&df!("city" => few).unwrap(), None),
                K::HighCardinality
            )
            .is_empty()
        );
        // Dates are many distinct values by nature.
        let days: Vec<String> = (0..200)
            .map(|i| format!("2024-{:02}-{:02}", 1 + i / 28, 1 + i % 28))
            .collect();
        let fs = findings(&df!("day" => days).unwrap(), None);
        assert!(of(&fs, K::HighCardinality).is_empty() && of(&fs, K::IdLike).is_empty());
    }

    #[test]
    fn outliers_beyond_five_clipped_spreads_of_the_median() {
        let mut x = uniform(500, 1);
        x[42] = 50.0;
        x[7] = -20.0;
        let clean = uniform(500, 2);
        let mostly_zero: Vec<f64> = (0..500)
            .map(|i| if i % 40 == 0 { i as f64 } else { 0.0 })
            .collect();
        let frame = df!("x" => x, "clean" => clean, "mostly_zero" => mostly_zero).unwrap();
        let fs = of(&findings(&frame, None), K::Outliers);
        assert_eq!(fs.len(), 1, "{fs:#?}");
        let o = &fs[0];
        assert_eq!((o.columns[0].as_str(), o.severity), ("x", S::Info));
        assert_eq!(o.evidence.count, Some(2));
        let ex: Vec<(u64, &str)> = o
            .evidence
            .examples
            .iter()
            .map(|e| (e.row, e.value.as_str()))
            .collect();
        assert_eq!(ex, [(8, "-20"), (43, "50")]);
        assert!(
            o.message
                .starts_with("`x` has 2 values (0.4%) far outside its typical range of -"),
            "{}",
            o.message
        );
        let hi = o
            .evidence
            .stats
            .iter()
            .find(|s| s.name == "upper bound")
            .unwrap()
            .value;
        assert!((1.5..3.0).contains(&hi), "{hi}");
    }

    #[test]
    fn strong_skew_is_reported_with_its_direction() {
        let heavy: Vec<f64> = (1..=300)
            .map(|i| 1.0 / f64::from(i))
            .map(|v| v.powi(2) * 1e4)
            .collect();
        let left: Vec<f64> = heavy.iter().map(|v| -v).collect();
        let even = uniform(300, 3);
        let frame = df!("heavy" => heavy, "left" => left, "even" => even).unwrap();
        let fs = of(&findings(&frame, None), K::Skewed);
        let cols: Vec<&str> = fs.iter().map(|f| f.columns[0].as_str()).collect();
        assert_eq!(cols, ["heavy", "left"]);
        assert!(fs[0].message.contains("right-skewed") && fs[1].message.contains("left-skewed"));
        assert!(fs[0].fix.as_deref().unwrap().contains("log"));
    }

    #[test]
    fn identical_near_duplicate_and_collinear_columns() {
        let n = 2000;
        let x = uniform(n, 4);
        let noise = uniform(n, 5);
        let far = uniform(n, 6);
        let copy = x.clone();
        let scaled: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        // r ≈ 0.965 (uniform noise of width ±0.136 on a uniform variable).
        let close: Vec<f64> = x
            .iter()
            .zip(&noise)
            .map(|(a, b)| a + 0.272 * (b - 0.5))
            .collect();
        let country: Vec<&str> = (0..n).map(|i| ["FR", "DE", "IT"][i % 3]).collect();
        let name: Vec<&str> = (0..n)
            .map(|i| ["France", "Germany", "Italy"][i % 3])
            .collect();
        let frame = df!(
            "x" => x, "copy" => copy, "scaled" => scaled, "close" => close, "far" => far,
            "country" => country, "name" => name,
        )
        .unwrap();
        let fs = findings(&frame, None);
        let near: Vec<Vec<String>> = of(&fs, K::NearDuplicateColumns)
            .into_iter()
            .map(|f| f.columns)
            .collect();
        let pair = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
        assert_eq!(
            near,
            [
                pair("x", "copy"),
                pair("country", "name"),
                pair("x", "scaled"),
                pair("copy", "scaled")
            ]
        );
        let identical = about(&fs, K::NearDuplicateColumns, "copy").unwrap();
        assert_eq!(
            identical.message,
            "`x` and `copy` hold the same value in every row"
        );
        let m = of(&fs, K::Multicollinearity);
        assert_eq!(m.len(), 1);
        let mut cols = m[0].columns.clone();
        cols.sort();
        assert_eq!(cols, ["close", "copy", "scaled", "x"]);
        assert_eq!(m[0].evidence.count, Some(3));
        assert!(
            fs.iter().all(|f| !f.columns.iter().any(|c| c == "far")),
            "{fs:#?}"
        );
    }

    #[test]
    fn class_imbalance_by_the_smallest_class() {
        let labels = |n: usize, rare: usize| -> Vec<&'static str> {
            (0..n)
                .map(|i| if i < rare { "yes" } else { "no" })
                .collect()
        };
        let imbalance = |rare: usize| {
            let frame = df!("y" => labels(1000, rare), "x" => uniform(1000, 7)).unwrap();
            of(&findings(&frame, Some("y")), K::ClassImbalance)
                .first()
                .map(|f| f.severity)
        };
        assert_eq!(imbalance(50), Some(S::Warning));
        assert_eq!(imbalance(10), Some(S::Critical));
        assert_eq!(imbalance(300), None);
        let frame = df!("y" => labels(1000, 10)).unwrap();
        let f = &of(&findings(&frame, Some("y")), K::ClassImbalance)[0];
        assert_eq!(
            f.message,
            "The smallest class of `y`, “yes”, has 10 of 1,000 rows (1.0%)"
        );
        assert_eq!(f.evidence.values.len(), 2);
    }

    #[test]
    fn a_column_that_alone_predicts_the_target_leaks() {
        let n = 5000;
        let x = uniform(n, 8);
        let weak = uniform(n, 9);
        let y: Vec<&str> = x
            .iter()
            .map(|a| if *a > 0.7 { "churned" } else { "stayed" })
            .collect();
        let status: Vec<&str> = y
            .iter()
            .map(|v| if *v == "churned" { "closed" } else { "open" })
            .collect();
        // Related to the target, but far from perfectly.
        let hint: Vec<f64> = x.iter().zip(&weak).map(|(a, w)| a + w).collect();
        let id: Vec<String> = (0..n).map(|i| format!("c{i:05}")).collect();
        let frame =
            df!("x" => x, "status" => status, "hint" => hint, "id" => id, "y" => y).unwrap();
        let fs = findings(&frame, Some("y"));
        let leaks: Vec<String> = of(&fs, K::TargetLeakage)
            .into_iter()
            .map(|f| f.columns[0].clone())
            .collect();
        assert_eq!(leaks, ["x", "status"]);
        let f = about(&fs, K::TargetLeakage, "status").unwrap();
        assert_eq!(f.severity, S::Critical);
        assert!(
            f.message
                .starts_with("`status` alone predicts `y` with 100.0% accuracy"),
            "{}",
            f.message
        );
        // Without a target, there is no leakage to look for.
        assert!(of(&findings(&frame, None), K::TargetLeakage).is_empty());
        // Guessing the majority of a rare target is 99.5% right, with any column.
        let rare: Vec<&str> = (0..n)
            .map(|i| if i % 200 == 0 { "fraud" } else { "ok" })
            .collect();
        let frame = df!("noise" => uniform(n, 13), "y" => rare).unwrap();
        assert!(of(&findings(&frame, Some("y")), K::TargetLeakage).is_empty());
    }

    #[test]
    fn a_column_that_explains_a_numeric_target_leaks() {
        let n = 3000;
        let x = uniform(n, 10);
        let noise = uniform(n, 11);
        let price: Vec<f64> = x.iter().map(|v| 3.0 * v + 100.0).collect();
        let rough: Vec<f64> = x.iter().zip(&noise).map(|(a, b)| a + 0.5 * b).collect();
        let frame = df!("price_eur" => x, "rough" => rough, "price" => price).unwrap();
        let leaks = of(&findings(&frame, Some("price")), K::TargetLeakage);
        assert_eq!(leaks.len(), 1);
        assert_eq!(leaks[0].columns, ["price_eur", "price"]);
        assert!(leaks[0].evidence.stats[0].value > 0.99);
    }

    #[test]
    fn unusable_and_partly_missing_targets() {
        let frame = df!("y" => ["a", "a", "a"], "x" => [1, 2, 3]).unwrap();
        let fs = findings(&frame, Some("y"));
        let u = of(&fs, K::UnusableTarget);
        assert_eq!(u.len(), 1);
        assert!(u[0].message.contains("single value"), "{}", u[0].message);
        let y: Vec<Option<&str>> = (0..100)
            .map(|i| (i % 10 != 0).then_some(if i % 2 == 0 { "a" } else { "b" }))
            .collect();
        let frame = df!("y" => y).unwrap();
        let m = of(&findings(&frame, Some("y")), K::TargetMissing);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].severity, m[0].evidence.count), (S::Warning, Some(10)));
        assert_eq!(
            m[0].message,
            "10 rows (10.0%) have no value in `y`; training leaves them out"
        );
    }

    #[test]
    fn large_frames_say_which_checks_ran_on_a_sample() {
        let x = uniform(1000, 12);
        let mut heavy: Vec<f64> = (1..=1000).map(|i| 1e6 / f64::from(i * i)).collect();
        heavy[0] = 1e9;
        let frame = df!("x" => x.clone(), "twin" => x, "heavy" => heavy).unwrap();
        let sampling = Sampling {
            rows: 300,
            pair_rows: 100,
        };
        let fs = report_sampled(&frame, None, sampling).unwrap().findings;
        let skew = about(&fs, K::Skewed, "heavy").unwrap();
        assert_eq!(skew.evidence.sampled_rows, Some(300));
        // Exact checks use every row.
        let twins = about(&fs, K::NearDuplicateColumns, "twin").unwrap();
        assert_eq!(twins.evidence.sampled_rows, None);
        let o = about(&fs, K::Outliers, "heavy").unwrap();
        assert_eq!(o.evidence.sampled_rows, Some(300));
        assert!(o.evidence.examples.iter().any(|e| e.row == 1));
        assert!(
            o.message
                .contains("far above its typical values (more than "),
            "{}",
            o.message
        );
        assert_eq!(
            report_sampled(&frame, None, sampling).unwrap().findings,
            fs,
            "seeded"
        );
    }

    #[test]
    fn findings_are_ordered_most_severe_first() {
        let n = 100;
        let frame = df!(
            "empty" => vec![None::<f64>; n],
            "year" => vec![2013; n],
            "few" => (0..n).map(|i| (i > 0).then_some(i as f64 * 1.5)).collect::<Vec<_>>(),
        )
        .unwrap();
        let sev: Vec<S> = findings(&frame, None).iter().map(|f| f.severity).collect();
        assert!(sev.windows(2).all(|w| w[0] <= w[1]), "{sev:?}");
        assert_eq!(sev.first(), Some(&S::Critical));
        assert_eq!(sev.last(), Some(&S::Info));
    }
}
