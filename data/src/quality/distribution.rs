//! A numeric column's distribution, from its seeded sample: outliers (far
//! from the median in units of a robust spread; counted on every row) and
//! strong skew. Columns with fewer than [`MIN_DISTINCT`] distinct values
//! are codes rather than measurements, and ID-like columns are left out.
//! Fixes: clip the outliers; log-transform the skewed column.

use api::{FindingKind as K, Severity};

use super::columns::is_id_like;
use super::{Check, Col, Context, counted, finding, number, stat};
use crate::stats;

/// Outliers lie beyond the median ± this many standard deviations of the
/// values clipped to their 5th–95th percentiles.
pub const OUTLIER_SPREADS: f64 = 5.0;
/// Outliers in fewer than this share of the rows are a note, else a warning.
const OUTLIER_WARNING: f64 = 0.01;
pub const SKEW_LIMIT: f64 = 3.0;
/// Distinct values (in the sample) a column needs to be a measurement.
const MIN_DISTINCT: usize = 10;

pub(super) const OUTLIERS: Check = Check {
    kinds: &[K::Outliers],
    run: outliers,
};

pub(super) const SKEWED: Check = Check {
    kinds: &[K::Skewed],
    run: skewed,
};

/// The sample's numbers of a column without `placeholders`, when they have
/// at least [`MIN_DISTINCT`] distinct values.
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
    (d.len() >= MIN_DISTINCT).then_some(v)
}

fn outliers(cx: &Context) -> Vec<api::Finding> {
    cx.cols.iter().filter_map(|c| far_values(cx, c)).collect()
}

/// The outliers of one column, placeholders left out (they are disguised
/// missing values).
fn far_values(cx: &Context, c: &Col) -> Option<api::Finding> {
    if is_id_like(c) {
        return None;
    }
    let sorted = measured(c, &c.placeholders)?;
    let (lo, hi, median, spread) = stats::outlier_bounds(&sorted, OUTLIER_SPREADS)?;
    let values = c.numbers().unwrap_or_default();
    let rows: Vec<usize> = (0..cx.rows)
        .filter(|&r| {
            let x = values[r];
            x.is_finite() && (x < lo || x > hi) && !c.placeholders.iter().any(|&(p, _)| p == x)
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let share = rows.len() as f64 / cx.rows as f64;
    let place = if rows.iter().all(|&r| values[r] > hi) {
        format!("above its typical values (more than {})", number(hi))
    } else if rows.iter().all(|&r| values[r] < lo) {
        format!("below its typical values (less than {})", number(lo))
    } else {
        format!(
            "outside its typical range of {} to {}",
            number(lo),
            number(hi)
        )
    };
    Some(finding(
        K::Outliers,
        if share < OUTLIER_WARNING {
            Severity::Info
        } else {
            Severity::Warning
        },
        vec![c.name.clone()],
        format!(
            "`{}` has {} far {place}",
            c.name,
            counted(rows.len(), "value", "values", cx.rows),
        ),
        api::Evidence {
            count: Some(rows.len() as u64),
            share: Some(share),
            examples: rows
                .iter()
                .take(super::EXAMPLES)
                .map(|&r| api::Example {
                    row: r as u64 + 1,
                    value: number(values[r]),
                })
                .collect(),
            stats: vec![
                stat("median", median),
                stat(
                    "std of the values clipped to their 5th–95th percentiles",
                    spread,
                ),
            ]
            .into_iter()
            // A bound beyond every value (a negative lower bound for a
            // column that is never negative) says nothing: left out.
            .chain(
                (lo >= sorted[0] || rows.iter().any(|&r| values[r] < lo))
                    .then(|| stat("lower bound", lo)),
            )
            .chain(
                (hi <= sorted[sorted.len() - 1] || rows.iter().any(|&r| values[r] > hi))
                    .then(|| stat("upper bound", hi)),
            )
            .collect(),
            sampled_rows: cx.sampled(),
            ..Default::default()
        },
        "Check these values: if they are errors, drop those rows or clip the values to the range; if they are real, keep them (tree models cope with them).",
        vec![api::Step::Outliers {
            column: c.name.clone(),
            action: api::OutlierAction::Clip,
        }],
    ))
}

fn skewed(cx: &Context) -> Vec<api::Finding> {
    cx.cols.iter().filter_map(|c| skew(cx, c)).collect()
}

fn skew(cx: &Context, c: &Col) -> Option<api::Finding> {
    if is_id_like(c) {
        return None;
    }
    let sorted = measured(c, &[])?;
    let skew = stats::Moments::of(&sorted).and_then(|m| m.skewness)?;
    if skew.abs() <= SKEW_LIMIT {
        return None;
    }
    let (side, shape) = if skew > 0.0 {
        ("right", "most values are small and a few are very large")
    } else {
        ("left", "most values are large and a few are very small")
    };
    let non_negative = sorted.first().is_some_and(|&x| x >= 0.0);
    Some(finding(
        K::Skewed,
        Severity::Info,
        vec![c.name.clone()],
        format!(
            "`{}` is strongly {side}-skewed (skewness {}): {shape}",
            c.name,
            number(skew)
        ),
        api::Evidence {
            stats: vec![stat("skewness", skew)],
            sampled_rows: cx.sampled(),
            ..Default::default()
        },
        if non_negative && skew > 0.0 {
            "For linear models, log-transform it (log(1 + x)); tree models do not need it."
        } else {
            "For linear models, use a rank or signed-log transform; tree models do not need it."
        },
        vec![api::Step::Log {
            column: c.name.clone(),
        }],
    ))
}
