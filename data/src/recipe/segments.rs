//! Adds a segment column: k-means' segments of some columns, fitted as
//! Explore fits them (`explore::fit_segments`), kept as the engine's
//! `FittedStep::Segments`, whose nearest-centre rule both fills the column
//! here and assigns a model's new rows.

use automl::recipe::FittedStep;
use automl::segments::{Encoding, Unusable};
use polars::prelude::*;

use super::exprs::counted;
use super::{Ctx, StepResult};
use crate::convert;
use crate::explore::{self, MAX_K};

pub(super) fn add_segments(at: &Ctx, columns: &[String], k: u32, name: &str) -> StepResult {
    if columns.is_empty() {
        return Err(at.invalid("choose the columns the segments compare"));
    }
    let k = k as usize;
    if !(2..=MAX_K).contains(&k) {
        return Err(at.invalid(format!(
            "the number of segments must be between 2 and {MAX_K}; it was {k}"
        )));
    }
    if name.trim().is_empty() {
        return Err(at.invalid("name the new column"));
    }
    if at.frame.column(name).is_ok() {
        return Err(at.invalid(format!(
            "a column `{name}` already exists; choose another name"
        )));
    }
    let rows = at.frame.height();
    if rows < k {
        return Err(at.invalid(format!("{k} segments cannot be made from {rows} rows")));
    }
    let selected = at
        .frame
        .select(columns.iter().map(String::as_str))
        .map_err(|e| at.invalid(e))?;
    let data = convert::frame_to_dataset(&selected)?;
    let (encoding, unusable) = Encoding::fit(&data, columns, None)?;
    if let Some((column, why)) = unusable.first() {
        return Err(at.invalid(format!(
            "`{column}` cannot set segments apart: {}",
            match why {
                Unusable::Empty => "every value is missing",
                Unusable::Constant => "it holds the same value in every row",
            }
        )));
    }
    let x = encoding.encode(&data, &(0..rows).collect::<Vec<_>>())?;
    let (segments, _, _) = explore::fit_segments(&encoding, &x, k, explore::SEED)?;
    let fit = FittedStep::Segments {
        name: name.to_owned(),
        segments,
    };
    // The engine's rule fills the column, so it is the model's to the row.
    let made = fit.apply(data, at.n)?;
    let automl::Column::Categorical(labels) = made.require(name)? else {
        return Err(at.invalid("the segments are not labels"));
    };
    let series = Series::new(name.into(), labels.clone());
    let mut out = at.frame.clone();
    out.with_column(series.into_column())
        .map_err(|e| at.invalid(e))?;
    let message = format!("`{name}` added: {}", counted(k, "segment", "segments"));
    Ok((out, Some(fit), message))
}
