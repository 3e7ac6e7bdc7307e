//! Missing values (counted exactly, by share of the rows) and disguised
//! missing values: placeholder numbers (-1, 999, ...) that stand apart from
//! a column's other values, and placeholder text ("unknown", "n.a.", ...)
//! that ingest did not already read as missing. Fixes: drop a mostly
//! missing column or impute; read the placeholders as missing.

use api::{FindingKind as K, Severity};

use super::{Check, Col, Context, counted, finding, number, stat};
use crate::stats::{self, Values};

/// Missing shares above these are a warning and critical.
pub const MISSING_WARNING: f64 = 0.05;
pub const MISSING_CRITICAL: f64 = 0.40;
/// Above this missing share the suggested step drops the column rather
/// than imputing it.
const DROP_SHARE: f64 = 0.5;

/// Numbers that often stand for "unknown".
const NUMERIC_PLACEHOLDERS: [f64; 7] = [-1.0, -99.0, -999.0, -9999.0, 999.0, 9999.0, 99999.0];
/// A placeholder number needs this many cells...
const MIN_PLACEHOLDER_CELLS: usize = 3;
/// ...and the column's other values this many distinct ones, beyond whose
/// 1st–99th percentiles it lies.
const MIN_OTHER_DISTINCT: usize = 5;
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

pub(super) const MISSING_VALUES: Check = Check {
    kinds: &[K::MissingValues],
    run: missing_values,
};

pub(super) const DISGUISED_MISSING: Check = Check {
    kinds: &[K::DisguisedMissing],
    run: disguised_missing,
};

/// A finding per column missing in more than [`MISSING_WARNING`] of the
/// rows, and one note for the columns missing in fewer.
fn missing_values(cx: &Context) -> Vec<api::Finding> {
    let mut out = Vec::new();
    let mut few: Vec<&Col> = Vec::new();
    for c in cx.cols.iter().filter(|c| c.missing > 0) {
        match often_missing(cx, c) {
            Some(f) => out.push(f),
            None => few.push(c),
        }
    }
    if !few.is_empty() {
        out.push(sometimes_missing(cx, &few));
    }
    out
}

/// The finding of a column missing in more than [`MISSING_WARNING`] of the rows.
fn often_missing(cx: &Context, c: &Col) -> Option<api::Finding> {
    let share = c.missing as f64 / cx.rows as f64;
    let missing_in = || {
        format!(
            "`{}` is missing in {}",
            c.name,
            counted(c.missing, "row", "rows", cx.rows)
        )
    };
    let (severity, message, fix) = if c.missing == cx.rows {
        (
            Severity::Critical,
            format!("`{}` has no values at all", c.name),
            "Drop the column.",
        )
    } else if share > MISSING_CRITICAL {
        (
            Severity::Critical,
            missing_in(),
            "Drop the column: with this much missing, filled-in values would mostly be guesses.",
        )
    } else if share > MISSING_WARNING {
        let fix = if c.numbers().is_some() {
            "Impute with the median, or drop the rows without a value."
        } else {
            "Impute with the most frequent value, or drop the rows without a value."
        };
        (Severity::Warning, missing_in(), fix)
    } else {
        return None;
    };
    let steps = if share > DROP_SHARE {
        super::drop_column(&c.name)
    } else {
        vec![impute(c)]
    };
    Some(finding(
        K::MissingValues,
        severity,
        vec![c.name.clone()],
        message,
        api::Evidence {
            count: Some(c.missing as u64),
            share: Some(share),
            ..Default::default()
        },
        fix,
        steps,
    ))
}

/// One note for the columns missing in at most [`MISSING_WARNING`] of the rows.
fn sometimes_missing(cx: &Context, few: &[&Col]) -> api::Finding {
    let message = if let [c] = few {
        format!(
            "`{}` is missing in {}",
            c.name,
            counted(c.missing, "row", "rows", cx.rows)
        )
    } else {
        let listed: Vec<String> = few
            .iter()
            .map(|c| {
                let share = c.missing as f64 / cx.rows as f64;
                format!("{} ({})", c.name, api::display::percent(share))
            })
            .collect();
        format!(
            "{} columns have a few missing values (at most {}): {}",
            few.len(),
            api::display::percent(MISSING_WARNING),
            listed.join(", ")
        )
    };
    finding(
        K::MissingValues,
        Severity::Info,
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
        few.iter().map(|c| impute(c)).collect(),
    )
}

/// The median for numbers, the most frequent value for anything else.
fn impute(c: &Col) -> api::Step {
    api::Step::Impute {
        column: c.name.clone(),
        strategy: if c.numbers().is_some() {
            api::Imputation::Median
        } else {
            api::Imputation::Mode
        },
        value: None,
    }
}

/// The sample's numbers of a column other than the placeholder numbers.
fn other_values(c: &Col) -> Vec<f64> {
    c.sample_sorted
        .iter()
        .copied()
        .filter(|x| !NUMERIC_PLACEHOLDERS.contains(x))
        .collect()
}

/// Placeholder numbers in a column that stand apart from its other values:
/// at least [`MIN_PLACEHOLDER_CELLS`] cells, and beyond the 1st–99th
/// percentile of the rest (which must have at least [`MIN_OTHER_DISTINCT`]
/// distinct values). Outliers leaves them out too.
pub(super) fn numeric_placeholders(c: &Col) -> Vec<(f64, usize)> {
    let Some(values) = c.numbers() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for p in NUMERIC_PLACEHOLDERS {
        let n = values.iter().filter(|&&x| x == p).count();
        if n < MIN_PLACEHOLDER_CELLS {
            continue;
        }
        let others = other_values(c);
        let mut distinct = others.clone();
        distinct.dedup();
        if distinct.len() < MIN_OTHER_DISTINCT {
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

fn disguised_missing(cx: &Context) -> Vec<api::Finding> {
    cx.cols
        .iter()
        .filter_map(|c| {
            let (values, rows) = placeholders_of(cx, c)?;
            Some(disguised(cx, c, values, &rows))
        })
        .collect()
}

/// A column's placeholder values with their counts, and the rows holding one.
fn placeholders_of(cx: &Context, c: &Col) -> Option<(Vec<api::ValueCount>, Vec<usize>)> {
    match &c.values {
        Values::Numbers { values, .. } => {
            if c.placeholders.is_empty() {
                return None;
            }
            let counts = c
                .placeholders
                .iter()
                .map(|&(p, n)| api::ValueCount {
                    value: number(p),
                    count: n as u64,
                })
                .collect();
            let rows = (0..cx.rows)
                .filter(|&r| c.placeholders.iter().any(|&(p, _)| values[r] == p))
                .collect();
            Some((counts, rows))
        }
        Values::Categories { codes, levels } if c.text => {
            let suspicious: Vec<u32> = levels
                .iter()
                .enumerate()
                .filter(|(_, l)| TEXT_PLACEHOLDERS.contains(&l.trim().to_lowercase().as_str()))
                .map(|(i, _)| i as u32)
                .collect();
            if suspicious.is_empty() {
                return None;
            }
            let counts = stats::level_counts(codes, levels.len());
            let counts = suspicious
                .iter()
                .map(|&i| api::ValueCount {
                    value: levels[i as usize].clone(),
                    count: counts[i as usize],
                })
                .collect();
            let rows = (0..cx.rows)
                .filter(|&r| suspicious.contains(&codes[r]))
                .collect();
            Some((counts, rows))
        }
        Values::Categories { .. } => None,
    }
}

fn disguised(cx: &Context, c: &Col, values: Vec<api::ValueCount>, rows: &[usize]) -> api::Finding {
    let shown: Vec<String> = values.iter().map(|v| format!("“{}”", v.value)).collect();
    let message = format!(
        "`{}` holds {} in {}: {} usually mean{} “unknown”",
        c.name,
        shown.join(", "),
        counted(rows.len(), "row", "rows", cx.rows),
        if shown.len() == 1 {
            "this value"
        } else {
            "these values"
        },
        if shown.len() == 1 { "s" } else { "" },
    );
    let mut stats_ = Vec::new();
    if c.numbers().is_some() {
        let others = other_values(c);
        if let (Some(lo), Some(hi)) = (
            stats::quantile(&others, 0.01),
            stats::quantile(&others, 0.99),
        ) {
            stats_.push(stat("1st percentile of the other values", lo));
            stats_.push(stat("99th percentile of the other values", hi));
        }
    }
    let steps = vec![api::Step::SetMissing {
        column: c.name.clone(),
        values: values.iter().map(|v| v.value.clone()).collect(),
    }];
    finding(
        K::DisguisedMissing,
        Severity::Warning,
        vec![c.name.clone()],
        message,
        api::Evidence {
            count: Some(rows.len() as u64),
            share: Some(rows.len() as f64 / cx.rows as f64),
            examples: c.examples(rows.iter().copied()),
            sampled_rows: if stats_.is_empty() {
                None
            } else {
                cx.sampled()
            },
            values,
            stats: stats_,
        },
        format!(
            "Treat {} as missing, then impute or drop those rows.",
            shown.join(" and ")
        ),
        steps,
    )
}
