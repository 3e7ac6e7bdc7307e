//! The preview of a recipe: rows and column statistics before and after.

use polars::prelude::*;

use super::apply;
use super::exprs::polars;
use crate::convert;
use crate::error::Result;
use crate::profile::rows_page;
use crate::stats;

/// Rows shown before and after in a preview.
const PREVIEW_ROWS: usize = 10;

/// What `recipe` does to `frame`: the first rows and the column statistics
/// before and after, and what each step did.
pub fn preview(frame: DataFrame, recipe: &api::Recipe) -> Result<api::RecipePreview> {
    let before = rows_page(&frame, 0, PREVIEW_ROWS).map_err(polars)?;
    let stats_before = column_stats(&frame)?;
    let rows_before = frame.height() as u64;
    let applied = apply(frame, recipe, None)?;
    let after = rows_page(&applied.frame, 0, PREVIEW_ROWS).map_err(polars)?;
    let stats_after = column_stats(&applied.frame)?;
    let mut changes: Vec<api::ColumnChange> = Vec::new();
    for (name, b) in &stats_before {
        let a = stats_after.iter().find(|(n, _)| n == name).map(|(_, s)| s);
        if a != Some(b) {
            changes.push(api::ColumnChange {
                column: name.clone(),
                before: Some(b.clone()),
                after: a.cloned(),
            });
        }
    }
    for (name, a) in &stats_after {
        if !stats_before.iter().any(|(n, _)| n == name) {
            changes.push(api::ColumnChange {
                column: name.clone(),
                before: None,
                after: Some(a.clone()),
            });
        }
    }
    Ok(api::RecipePreview {
        rows_before,
        rows_after: applied.frame.height() as u64,
        before,
        after,
        outcomes: applied.outcomes,
        changes,
    })
}

/// The statistics a preview compares, per column in frame order.
fn column_stats(frame: &DataFrame) -> Result<Vec<(String, api::ColumnStats)>> {
    frame
        .columns()
        .iter()
        .map(|c| {
            let numeric = c.dtype().is_primitive_numeric();
            let distinct = c.n_unique().map_err(polars)? as u64 - u64::from(c.null_count() > 0);
            let mut s = api::ColumnStats {
                kind: if numeric {
                    api::ColumnKind::Numeric
                } else if c.dtype() == &DataType::Boolean {
                    api::ColumnKind::Boolean
                } else {
                    api::ColumnKind::Categorical
                },
                missing: c.null_count() as u64,
                distinct,
                mean: None,
                min: None,
                max: None,
            };
            if numeric {
                let v = stats::finite_sorted(&convert::numbers(c)?);
                s.mean = stats::Moments::of(&v).map(|m| m.mean);
                s.min = v.first().copied();
                s.max = v.last().copied();
            }
            Ok((c.name().to_string(), s))
        })
        .collect()
}
