//! Steps about missing values: read placeholders as missing, impute.

use std::collections::HashMap;

use automl::category_label;
use automl::recipe::{Fill, FittedStep};
use automl::values::parse_number;
use polars::prelude::*;

use super::exprs::{column_ref, counted, map_floats, map_labels, polars};
use super::transform::short;
use super::{Ctx, StepResult};
use crate::stats;

pub(super) fn set_missing(at: &Ctx, column: &str, values: &[String]) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    if values.is_empty() {
        return Err(at.invalid("name at least one value"));
    }
    let c = at.column(column)?;
    let before = c.null_count();
    let out = if c.dtype().is_primitive_numeric() {
        let targets: Vec<f64> = values
            .iter()
            .map(|v| parse_number(v))
            .filter(|x| !x.is_nan())
            .collect();
        at.collect(lazy().with_column(map_floats(column, move |x| {
            x.filter(|x| !targets.contains(x))
        })))?
    } else {
        let values = values.to_vec();
        at.collect(lazy().with_column(map_labels(column, move |l| {
            l.filter(|s| !values.iter().any(|v| v == s))
                .map(str::to_owned)
        })))?
    };
    let now = out.column(column).map_err(polars)?.null_count() - before;
    let fit = FittedStep::SetMissing {
        column: column.to_owned(),
        values: values.to_vec(),
    };
    Ok((
        out,
        Some(fit),
        counted(now, "value is now missing", "values are now missing"),
    ))
}

pub(super) fn impute(
    at: &Ctx,
    column: &str,
    strategy: api::Imputation,
    value: Option<&str>,
) -> StepResult {
    use api::Imputation as I;
    let c = at.column(column)?;
    let missing = c.null_count();
    let numeric = c.dtype().is_primitive_numeric();
    let fill = if numeric {
        let v: Vec<f64> = at.numbers(column)?;
        let sorted = stats::finite_sorted(&v);
        let x = match strategy {
            I::Mean => stats::Moments::of(&sorted).map(|m| tidy(m.mean)),
            I::Median => stats::quantile(&sorted, 0.5).map(tidy),
            I::Mode => mode(
                v.iter()
                    .filter(|x| x.is_finite())
                    .map(|&x| category_label(x)),
            )
            .map(|l| parse_number(&l)),
            I::Constant => {
                let text = value.unwrap_or_default();
                let x = parse_number(text);
                if !x.is_finite() {
                    return Err(at.invalid(format!(
                        "\"{text}\" is not a number, and `{column}` holds numbers"
                    )));
                }
                Some(x)
            }
        };
        let Some(x) = x else {
            return Err(at.invalid(format!("`{column}` has no values to compute it from")));
        };
        Fill::Number(x)
    } else {
        let labels = at.labels(column)?;
        let text = match strategy {
            I::Mean | I::Median => {
                return Err(at.invalid(format!(
                    "`{column}` holds text; fill it with the most frequent value or a constant"
                )));
            }
            I::Mode => mode(labels.iter().flatten().cloned()),
            I::Constant => value.map(str::to_owned).filter(|v| !v.trim().is_empty()),
        };
        let Some(text) = text else {
            return Err(at.invalid(if strategy == I::Constant {
                "give the value to fill with".to_owned()
            } else {
                format!("`{column}` has no values to compute it from")
            }));
        };
        Fill::Text(text)
    };
    let integer = c.dtype().is_integer();
    let expr = match &fill {
        // Integer columns stay integers when the fill value is one.
        Fill::Number(x) if integer && x.fract() == 0.0 && x.abs() < 1e15 => {
            column_ref(column).fill_null(lit(*x as i64))
        }
        Fill::Number(x) => column_ref(column)
            .cast(DataType::Float64)
            .fill_null(lit(*x)),
        Fill::Text(t) if c.dtype() == &DataType::String => {
            column_ref(column).fill_null(lit(t.clone()))
        }
        Fill::Text(t) => {
            let t = t.clone();
            map_labels(column, move |l| Some(l.unwrap_or(&t).to_owned()))
        }
    };
    let out = at.collect(at.frame.clone().lazy().with_column(expr.alias(column)))?;
    let shown = match &fill {
        Fill::Number(x) => short(*x),
        Fill::Text(t) => format!("\"{t}\""),
    };
    let msg = format!(
        "{} with {shown}",
        counted(missing, "value filled", "values filled")
    );
    let fit = FittedStep::Impute {
        column: column.to_owned(),
        value: fill,
    };
    Ok((out, Some(fit), msg))
}

/// `x` to 15 significant digits: a computed fill value without the noise
/// of binary arithmetic (the median of 0.0123 and 0.0125 is
/// 0.012400000000000001 in doubles, and would be written into every
/// filled cell so).
fn tidy(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// The most frequent value (ties: the smallest).
fn mode(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, _)| v)
}
