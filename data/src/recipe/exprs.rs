//! The Polars expressions the steps share: the engine's per-value
//! functions mapped over a column, a column replaced in place by new ones,
//! and the messages' counts.

use polars::prelude::*;

use super::Ctx;
use crate::convert;
use crate::error::{Error, Result};

/// Puts `exprs` where `column` was, and removes `column`.
pub(super) fn add_in_place(at: &Ctx, column: &str, made: Vec<(String, Expr)>) -> Result<DataFrame> {
    let names: Vec<String> = at
        .frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let new: Vec<String> = made.iter().map(|(n, _)| n.clone()).collect();
    let exprs: Vec<Expr> = made.into_iter().map(|(n, e)| e.alias(n.as_str())).collect();
    if let Some(clash) = new.iter().find(|n| *n != column && names.contains(n)) {
        return Err(at.invalid(format!(
            "it would make a column `{clash}`, which already exists"
        )));
    }
    let mut order: Vec<Expr> = Vec::new();
    for n in &names {
        if n == column {
            order.extend(new.iter().map(|m| column_ref(m)));
        } else {
            order.push(column_ref(n));
        }
    }
    at.collect(at.frame.clone().lazy().with_columns(exprs).select(order))
}

pub(super) fn counted(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A column by its literal name (`col` would read `*` or `^...$` as patterns).
pub(super) fn column_ref(name: &str) -> Expr {
    Expr::Column(name.into())
}

pub(super) fn polars(e: PolarsError) -> Error {
    Error::Internal(format!("recipe: {e}"))
}

pub(super) fn float_field(_: &Schema, f: &Field) -> PolarsResult<Field> {
    Ok(Field::new(f.name().clone(), DataType::Float64))
}

pub(super) fn text_field(_: &Schema, f: &Field) -> PolarsResult<Field> {
    Ok(Field::new(f.name().clone(), DataType::String))
}

pub(super) fn udf(e: Error) -> PolarsError {
    PolarsError::ComputeError(e.to_string().into())
}

/// `column` as numbers (missing as `None`), through `f`, as a Float64 column.
pub(super) fn map_floats(
    column: &str,
    f: impl Fn(Option<f64>) -> Option<f64> + Send + Sync + 'static,
) -> Expr {
    column_ref(column).map(
        move |c| {
            let v = convert::numbers(&c).map_err(udf)?;
            let out: Float64Chunked = v
                .into_iter()
                .map(|x| f((!x.is_nan()).then_some(x)))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        float_field,
    )
}

/// `column` as category labels (as the engine reads them), through `f`, as text.
pub(super) fn map_labels(
    column: &str,
    f: impl Fn(Option<&str>) -> Option<String> + Send + Sync + 'static,
) -> Expr {
    column_ref(column).map(
        move |c| {
            let v = convert::labels(&c).map_err(udf)?;
            let out: StringChunked = v.iter().map(|l| f(l.as_deref())).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        text_field,
    )
}

pub(super) fn map_labels_to_floats(
    column: &str,
    f: impl Fn(Option<&str>) -> Option<f64> + Send + Sync + 'static,
) -> Expr {
    column_ref(column).map(
        move |c| {
            let v = convert::labels(&c).map_err(udf)?;
            let out: Float64Chunked = v.iter().map(|l| f(l.as_deref())).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        float_field,
    )
}

pub(super) fn map_floats_to_labels(
    column: &str,
    f: impl Fn(Option<f64>) -> Option<String> + Send + Sync + 'static,
) -> Expr {
    column_ref(column).map(
        move |c| {
            let v = convert::numbers(&c).map_err(udf)?;
            let out: StringChunked = v
                .into_iter()
                .map(|x| f((!x.is_nan()).then_some(x)))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        text_field,
    )
}
