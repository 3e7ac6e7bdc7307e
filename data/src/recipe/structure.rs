//! Steps that change the columns themselves: drop, cast, rename.

use automl::recipe::FittedStep;
use automl::values::parse_number;
use polars::prelude::*;

use super::exprs::{counted, map_labels, map_labels_to_floats, polars};
use super::{Ctx, StepResult};

pub(super) fn drop_columns(at: &Ctx, columns: &[String]) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    if columns.is_empty() {
        return Err(at.invalid("name at least one column"));
    }
    let out = at.collect(lazy().drop(by_name(columns.iter().map(String::as_str), true, false)))?;
    let fit = FittedStep::Drop {
        columns: columns.to_vec(),
    };
    Ok((
        out,
        Some(fit),
        counted(columns.len(), "column removed", "columns removed"),
    ))
}

pub(super) fn cast(at: &Ctx, column: &str, to: api::CastTo) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    let c = at.column(column)?;
    let before = c.null_count();
    let (out, fit) = match to {
        api::CastTo::Number => {
            let out = at.collect(lazy().with_column(map_labels_to_floats(column, |l| {
                l.map(parse_number).filter(|x| !x.is_nan())
            })))?;
            (
                out,
                FittedStep::ToNumber {
                    column: column.to_owned(),
                },
            )
        }
        api::CastTo::Category => {
            let out =
                at.collect(lazy().with_column(map_labels(column, |l| l.map(str::to_owned))))?;
            (
                out,
                FittedStep::ToCategory {
                    column: column.to_owned(),
                },
            )
        }
    };
    let lost = out.column(column).map_err(polars)?.null_count() - before;
    let msg = if lost > 0 {
        counted(
            lost,
            "value could not be read and is now missing",
            "values could not be read and are now missing",
        )
    } else {
        "every value was read".into()
    };
    Ok((out, Some(fit), msg))
}

pub(super) fn rename(at: &Ctx, column: &str, to: &str) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    let to = to.trim();
    if to.is_empty() {
        return Err(at.invalid("the new name is empty"));
    }
    if to != column && at.frame.column(to).is_ok() {
        return Err(at.invalid(format!("a column named `{to}` already exists")));
    }
    let out = at.collect(lazy().rename([column], [to], true))?;
    let fit = FittedStep::Rename {
        column: column.to_owned(),
        to: to.to_owned(),
    };
    Ok((out, Some(fit), format!("now called `{to}`")))
}
