//! Steps that transform a column's values into new ones: log, bins,
//! one-hot columns, date parts.

use std::collections::HashMap;

use automl::category_label;
use automl::recipe::{FittedStep, date_part_names, one_hot_name};
use automl::values::{bin_of, date_format, parse_datetime, signed_log};
use polars::prelude::*;

use super::exprs::{add_in_place, counted, map_floats, map_floats_to_labels, map_labels_to_floats};
use super::{Ctx, StepResult};
use crate::stats;

pub(super) fn log(at: &Ctx, column: &str) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    let v = at.numbers(column)?;
    let negative = v.iter().filter(|&&x| x < 0.0).count();
    let out = at.collect(lazy().with_column(map_floats(column, |x| x.map(signed_log))))?;
    let msg = if negative > 0 {
        format!(
            "log(1 + x); {} kept their sign (−log(1 + |x|))",
            counted(negative, "negative value", "negative values")
        )
    } else {
        "log(1 + x) of every value".into()
    };
    Ok((
        out,
        Some(FittedStep::Log {
            column: column.to_owned(),
        }),
        msg,
    ))
}

pub(super) fn bin(at: &Ctx, column: &str, bins: u32, strategy: api::BinStrategy) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    if !(2..=50).contains(&bins) {
        return Err(at.invalid("the number of bins must be between 2 and 50"));
    }
    let sorted = stats::finite_sorted(&at.numbers(column)?);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return Err(at.invalid(format!("`{column}` has no numbers to bin")));
    };
    let mut edges: Vec<f64> = (1..bins)
        .filter_map(|i| {
            let q = f64::from(i) / f64::from(bins);
            match strategy {
                api::BinStrategy::Quantile => stats::quantile(&sorted, q),
                api::BinStrategy::Width => Some(min + q * (max - min)),
            }
        })
        .filter(|e| *e > min && *e <= max)
        .collect();
    edges.dedup();
    let labels = bin_labels(&edges);
    let (e2, l2) = (edges.clone(), labels.clone());
    let out = at.collect(lazy().with_column(map_floats_to_labels(column, move |x| {
        x.map(|x| l2[bin_of(&e2, x)].clone())
    })))?;
    let msg = format!("{} bins: {}", labels.len(), labels.join(", "));
    let fit = FittedStep::Bin {
        column: column.to_owned(),
        edges,
        labels,
    };
    Ok((out, Some(fit), msg))
}

pub(super) fn one_hot(at: &Ctx, column: &str, max_categories: u32) -> StepResult {
    if !(1..=100).contains(&max_categories) {
        return Err(at.invalid("keep between 1 and 100 categories"));
    }
    let labels = at.labels(column)?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for l in labels.iter().flatten() {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let total = ranked.len();
    ranked.truncate(max_categories as usize);
    let categories: Vec<String> = ranked.iter().map(|(c, _)| (*c).to_owned()).collect();
    let exprs: Vec<(String, Expr)> = categories
        .iter()
        .map(|cat| {
            let cat = cat.clone();
            let name = one_hot_name(column, &cat);
            let e = map_labels_to_floats(column, move |l| {
                Some(f64::from(u8::from(l == Some(cat.as_str()))))
            });
            (name, e)
        })
        .collect();
    let out = add_in_place(at, column, exprs)?;
    let mut msg = format!("{} 0/1 columns", categories.len());
    if total > categories.len() {
        msg.push_str(&format!(
            "; the {} rarer categories are all zeros",
            total - categories.len()
        ));
    }
    let fit = FittedStep::OneHot {
        column: column.to_owned(),
        categories,
    };
    Ok((out, Some(fit), msg))
}

pub(super) fn date_parts(at: &Ctx, column: &str) -> StepResult {
    let labels = at.labels(column)?;
    let present: Vec<&str> = labels.iter().flatten().map(String::as_str).collect();
    let (dates, day_first, time) = date_format(present.iter().copied());
    if !dates {
        let example = present
            .iter()
            .find(|v| parse_datetime(v, day_first).is_none())
            .copied()
            .unwrap_or_default();
        return Err(at.invalid(format!(
            "`{column}` does not hold dates (for example \"{example}\")"
        )));
    }
    let names = date_part_names(column, time);
    let exprs: Vec<(String, Expr)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let e = map_labels_to_floats(column, move |l| {
                let d = parse_datetime(l?, day_first)?;
                let parts = [
                    d.year,
                    d.month as i32,
                    d.day as i32,
                    d.weekday() as i32,
                    d.hour as i32,
                ];
                Some(f64::from(parts[i]))
            });
            (name.clone(), e)
        })
        .collect();
    let unread = present
        .iter()
        .filter(|v| parse_datetime(v, day_first).is_none())
        .count();
    let out = add_in_place(at, column, exprs)?;
    let mut msg = format!("{} columns ({})", names.len(), names.join(", "));
    if unread > 0 {
        msg.push_str(&format!(
            "; {} could not be read",
            counted(unread, "value", "values")
        ));
    }
    let fit = FittedStep::DateParts {
        column: column.to_owned(),
        day_first,
        time,
    };
    Ok((out, Some(fit), msg))
}

/// Labels for bins with inner `edges`: "below 3", "3 to 7", "7 and above".
fn bin_labels(edges: &[f64]) -> Vec<String> {
    if edges.is_empty() {
        return vec!["all".into()];
    }
    let mut labels = vec![format!("below {}", short(edges[0]))];
    for w in edges.windows(2) {
        labels.push(format!("{} to {}", short(w[0]), short(w[1])));
    }
    labels.push(format!("{} and above", short(edges[edges.len() - 1])));
    labels
}

/// A number in at most six significant digits.
pub(super) fn short(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return category_label(x);
    }
    let s = format!(
        "{:.*}",
        6usize.saturating_sub(x.abs().log10().max(0.0) as usize + 1),
        x
    );
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
