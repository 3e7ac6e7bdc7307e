//! Columns that cannot help a model as they are: constant columns,
//! identifiers (nearly all distinct integers in a dense range or named like
//! an ID, or short codes), and text categories with too many levels to
//! learn. Fix: drop the constant and ID-like ones; group rare categories.

use api::{FindingKind as K, Severity, display};

use super::text::{looks_like_dates, numbers_as_text};
use super::{Check, Col, Context, drop_column, finding};
use crate::stats::{self, Values};

/// Categorical columns with more levels than this, which are also more than
/// [`HIGH_CARDINALITY_SHARE`] of the rows, have high cardinality.
pub const HIGH_CARDINALITY_LEVELS: usize = 50;
pub const HIGH_CARDINALITY_SHARE: f64 = 0.05;
/// Integer or short text columns whose values are at least this share distinct are ID-like.
pub const ID_SHARE: f64 = 0.95;
/// Rows with a value an ID-like column needs at least.
const ID_MIN_ROWS: usize = 20;
/// Integers are dense when their range is at most this many times their
/// distinct count.
const ID_DENSITY: f64 = 2.0;
/// Text is an ID when its first [`ID_HEAD`] levels average at most
/// [`ID_MAX_LENGTH`] bytes and at most half of them hold a space.
const ID_HEAD: usize = 200;
const ID_MAX_LENGTH: usize = 40;
/// The most frequent categories a high-cardinality finding shows.
const TOP_LEVELS: usize = 5;

pub(super) const CONSTANT_COLUMNS: Check = Check {
    kinds: &[K::ConstantColumn],
    run: constant_columns,
};

pub(super) const ID_LIKE: Check = Check {
    kinds: &[K::IdLike],
    run: id_like_columns,
};

pub(super) const HIGH_CARDINALITY: Check = Check {
    kinds: &[K::HighCardinality],
    run: high_cardinality,
};

fn constant_columns(cx: &Context) -> Vec<api::Finding> {
    cx.cols
        .iter()
        .filter(|c| c.distinct == 1)
        .map(|c| {
            let row = (0..cx.rows).find(|&r| !c.values.is_missing(r)).unwrap_or(0);
            let value = c.values.label(row).unwrap_or_default();
            let message = if c.missing > 0 {
                format!(
                    "`{}` has the same value, “{value}”, in every row that has one ({} rows are missing)",
                    c.name,
                    display::count(c.missing as u64)
                )
            } else {
                format!("`{}` has the same value, “{value}”, in every row", c.name)
            };
            finding(
                K::ConstantColumn,
                Severity::Warning,
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
                drop_column(&c.name),
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
/// short text that is not dates, numbers or sentences.
pub(super) fn is_id_like(c: &Col) -> bool {
    let present = c.present();
    if present < ID_MIN_ROWS || (c.distinct as f64) < ID_SHARE * present as f64 {
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
            let dense = hi - lo + 1.0 <= ID_DENSITY * c.distinct as f64;
            dense || id_name(&c.name)
        }
        Values::Categories { levels, .. } => {
            if !c.text {
                return false;
            }
            let head = &levels[..levels.len().min(ID_HEAD)];
            let long = head.iter().map(String::len).sum::<usize>() > ID_MAX_LENGTH * head.len();
            let spaced = head.iter().filter(|l| l.contains(' ')).count() * 2 > head.len();
            !(long || spaced || looks_like_dates(levels) || numbers_as_text(levels))
        }
    }
}

fn id_like_columns(cx: &Context) -> Vec<api::Finding> {
    cx.cols
        .iter()
        .filter(|c| is_id_like(c))
        .map(|c| {
            finding(
                K::IdLike,
                Severity::Warning,
                vec![c.name.clone()],
                format!(
                    "`{}` looks like an identifier: {} distinct values in {} rows with a value",
                    c.name,
                    display::count(c.distinct as u64),
                    display::count(c.present() as u64)
                ),
                api::Evidence {
                    count: Some(c.distinct as u64),
                    share: Some(c.distinct as f64 / c.present().max(1) as f64),
                    examples: c.first_examples(),
                    ..Default::default()
                },
                "Drop the column: an identifier differs in every row and tells a model nothing about new rows.",
                drop_column(&c.name),
            )
        })
        .collect()
}

fn high_cardinality(cx: &Context) -> Vec<api::Finding> {
    cx.cols.iter().filter_map(many_levels).collect()
}

/// Text categories (not dates, numbers or IDs) with more than
/// [`HIGH_CARDINALITY_LEVELS`] levels that are also more than
/// [`HIGH_CARDINALITY_SHARE`] of the rows with a value.
fn many_levels(c: &Col) -> Option<api::Finding> {
    let Values::Categories { codes, levels } = &c.values else {
        return None;
    };
    let present = c.present();
    if !c.text
        || looks_like_dates(levels)
        || numbers_as_text(levels)
        || c.distinct <= HIGH_CARDINALITY_LEVELS
        || (c.distinct as f64) <= HIGH_CARDINALITY_SHARE * present as f64
        || is_id_like(c)
    {
        return None;
    }
    let counts = stats::level_counts(codes, levels.len());
    let mut order: Vec<usize> = (0..levels.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    let share = c.distinct as f64 / present.max(1) as f64;
    Some(finding(
        K::HighCardinality,
        Severity::Warning,
        vec![c.name.clone()],
        format!(
            "`{}` has {} distinct values ({} of the rows with a value), too many for most categories to be learned",
            c.name,
            display::count(c.distinct as u64),
            display::percent(share)
        ),
        api::Evidence {
            count: Some(c.distinct as u64),
            share: Some(share),
            values: order
                .iter()
                .take(TOP_LEVELS)
                .map(|&i| api::ValueCount {
                    value: levels[i].clone(),
                    count: counts[i],
                })
                .collect(),
            ..Default::default()
        },
        "Group rare values into “other”, or drop the column.",
        vec![api::Step::GroupRare {
            column: c.name.clone(),
            min_rows: api::Step::GROUP_RARE_MIN_ROWS,
        }],
    ))
}
