//! Grouping a column's rare categories into one "other" category.

use std::collections::{HashMap, HashSet};

use api::display::plural;
use automl::recipe::FittedStep;
use polars::prelude::*;

use super::exprs::map_labels;
use super::{Ctx, StepResult};

/// Keeps the categories of `column` in at least `min_rows` rows; the rest
/// become "other" (an existing "other" category, in any case, takes them).
pub(super) fn group_rare(at: &Ctx, column: &str, min_rows: u32) -> StepResult {
    if !(2..=1_000_000).contains(&min_rows) {
        return Err(
            at.invalid("the smallest category to keep must be between 2 and 1,000,000 rows")
        );
    }
    if at.column(column)?.dtype().is_primitive_numeric() {
        return Err(at.invalid(format!(
            "`{column}` holds numbers; add a step that treats it as categories first"
        )));
    }
    let labels = at.labels(column)?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for l in labels.iter().flatten() {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let other = counts
        .keys()
        .filter(|l| l.eq_ignore_ascii_case("other"))
        .max_by_key(|l| (counts[*l], std::cmp::Reverse(**l)))
        .map_or_else(|| "other".to_owned(), |l| (*l).to_owned());
    let mut keep: Vec<(&str, usize)> = counts
        .iter()
        .filter(|(l, n)| **n >= min_rows as usize && **l != other)
        .map(|(l, n)| (*l, *n))
        .collect();
    keep.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let keep: Vec<String> = keep.into_iter().map(|(l, _)| l.to_owned()).collect();
    let grouped: Vec<(&str, usize)> = counts
        .iter()
        .filter(|(l, _)| **l != other && !keep.iter().any(|k| k == *l))
        .map(|(l, n)| (*l, *n))
        .collect();
    let rows: usize = grouped.iter().map(|(_, n)| n).sum();
    let set: HashSet<String> = keep.iter().cloned().collect();
    let label = other.clone();
    let out = at.collect(
        at.frame
            .clone()
            .lazy()
            .with_column(map_labels(column, move |l| {
                l.map(|l| {
                    if set.contains(l) {
                        l.to_owned()
                    } else {
                        label.clone()
                    }
                })
            })),
    )?;
    let msg = if grouped.is_empty() {
        format!("every category is in at least {min_rows} rows; nothing was grouped")
    } else {
        format!(
            "{} kept; {} ({}) now \"{other}\"",
            plural(keep.len() as u64, "category", "categories"),
            plural(grouped.len() as u64, "rarer category", "rarer categories"),
            plural(rows as u64, "row", "rows"),
        )
    };
    let fit = FittedStep::GroupRare {
        column: column.to_owned(),
        keep,
        other,
    };
    Ok((out, Some(fit), msg))
}
