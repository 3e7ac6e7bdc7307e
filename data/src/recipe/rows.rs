//! Steps that remove rows (or clip their values): duplicates, rows with
//! missing values, outliers.

use automl::recipe::FittedStep;
use polars::prelude::*;

use super::exprs::{column_ref, counted};
use super::transform::short;
use super::{Ctx, StepResult};
use crate::stats;

pub(super) fn drop_duplicates(at: &Ctx) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    let rows = at.frame.height();
    let out = at.collect(lazy().unique_stable(None, UniqueKeepStrategy::First))?;
    let gone = rows - out.height();
    Ok((
        out,
        None,
        counted(gone, "duplicate row removed", "duplicate rows removed"),
    ))
}

pub(super) fn drop_missing(at: &Ctx, columns: &[String]) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    let rows = at.frame.height();
    let subset =
        (!columns.is_empty()).then(|| by_name(columns.iter().map(String::as_str), true, false));
    let out = at.collect(lazy().drop_nulls(subset))?;
    let gone = rows - out.height();
    Ok((out, None, counted(gone, "row removed", "rows removed")))
}

pub(super) fn outliers(at: &Ctx, column: &str, action: api::OutlierAction) -> StepResult {
    let lazy = || at.frame.clone().lazy();
    let rows = at.frame.height();
    let v = at.numbers(column)?;
    let sorted = stats::finite_sorted(&v);
    let Some((lo, hi, _, _)) = stats::outlier_bounds(&sorted, crate::quality::OUTLIER_SPREADS)
    else {
        return Ok((
            at.frame.clone(),
            None,
            "nothing to do: the values do not vary".into(),
        ));
    };
    let beyond = v
        .iter()
        .filter(|&&x| x.is_finite() && (x < lo || x > hi))
        .count();
    let range = format!("{} to {}", short(lo), short(hi));
    let x = || column_ref(column).cast(DataType::Float64);
    match action {
        api::OutlierAction::Clip => {
            let clipped = when(x().lt(lit(lo)))
                .then(lit(lo))
                .when(x().gt(lit(hi)))
                .then(lit(hi))
                .otherwise(x())
                .alias(column);
            let out = at.collect(lazy().with_column(clipped))?;
            let fit = FittedStep::Clip {
                column: column.to_owned(),
                lower: lo,
                upper: hi,
            };
            let msg = format!(
                "{} to {range}",
                counted(beyond, "value clipped", "values clipped")
            );
            Ok((out, Some(fit), msg))
        }
        api::OutlierAction::Remove => {
            let keep = x().is_null().or(x().gt_eq(lit(lo)).and(x().lt_eq(lit(hi))));
            let out = at.collect(lazy().filter(keep))?;
            let gone = rows - out.height();
            let msg = format!(
                "{} (outside {range})",
                counted(gone, "row removed", "rows removed")
            );
            Ok((out, None, msg))
        }
    }
}

/// Drops the rows Explore's isolation forest scores at `threshold` or more
/// (`explore::unusual_scores`: every column it compares, its default seed),
/// the rows the quality report's "unusual rows" finding counts.
pub(super) fn drop_unusual(at: &Ctx, threshold: f64) -> StepResult {
    if !(threshold > 0.5 && threshold <= 1.0) {
        return Err(at.invalid(format!(
            "the score threshold must be above 0.5 (an ordinary row) and at most 1; it was {threshold}"
        )));
    }
    let data = crate::convert::frame_to_dataset(at.frame)?;
    let Some(scores) = crate::explore::unusual_scores(&data)? else {
        return Ok((
            at.frame.clone(),
            None,
            "nothing to do: no column can be compared across rows".into(),
        ));
    };
    let keep: BooleanChunked = scores.iter().map(|&s| s < threshold).collect();
    let out = at.frame.filter(&keep).map_err(|e| at.invalid(e))?;
    let gone = at.frame.height() - out.height();
    Ok((
        out,
        None,
        format!(
            "{} (isolation forest score {threshold} or more)",
            counted(gone, "unusual row removed", "unusual rows removed")
        ),
    ))
}
