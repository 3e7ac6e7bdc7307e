//! Applying a cleaning recipe (`api::Recipe`) to a dataset with Polars lazy
//! expressions, one step at a time: each step is checked against the
//! columns the steps before it left (an unknown column is a 422 naming the
//! step and the column), fitted on the data as it is at that point (the
//! median, the outlier bounds, the bin edges, the one-hot categories), run
//! as a lazy plan and collected, and recorded as an `automl::FittedStep`
//! so that the model can apply it to new rows without Polars.
//!
//! Filters, structure and simple arithmetic are native Polars expressions;
//! reading numbers and dates, logs, bins and category labels call the
//! engine's per-value functions inside `Expr::map`, so that a dataset and a
//! scored row are transformed by the same code (tested below).
//!
//! One module per kind of step: `structure` (drop columns, cast, rename),
//! `rows` (duplicates, missing rows, outliers), `missing` (read values as
//! missing, impute), `transform` (log, bins, one-hot, date parts), `group`
//! (rare categories into "other"); `exprs`
//! holds the Polars expressions they share and `preview` the before/after
//! view. `run_step` is the one list of steps.

mod exprs;
mod group;
mod missing;
mod preview;
mod rows;
mod segments;
mod structure;
#[cfg(test)]
mod tests;
mod transform;

use automl::recipe::FittedStep;
use polars::prelude::*;

use crate::convert;
use crate::error::{Error, Result};
pub use preview::preview;

/// A recipe applied to a frame.
#[derive(Debug)]
pub struct Applied {
    pub frame: DataFrame,
    /// The steps that transform rows, fitted, in order (row filters are not among them).
    pub fitted: Vec<FittedStep>,
    pub outcomes: Vec<api::StepOutcome>,
}

/// Applies `recipe` to `frame`. With a `target`, steps other than row
/// filters must leave the target column alone: a model predicts the target
/// as it is in the data.
pub fn apply(frame: DataFrame, recipe: &api::Recipe, target: Option<&str>) -> Result<Applied> {
    let mut frame = frame;
    let mut fitted = Vec::new();
    let mut outcomes = Vec::new();
    for (i, step) in recipe.steps.iter().enumerate() {
        let at = Ctx {
            n: i + 1,
            step,
            frame: &frame,
        };
        if let Some(reason) = target.and_then(|t| changes_target(step, t)) {
            return Err(at.invalid(reason));
        }
        for c in step.columns() {
            at.column(c)?;
        }
        let (next, fit, message) = run_step(&at)?;
        outcomes.push(api::StepOutcome {
            step: at.n as u32,
            description: step.describe(),
            message,
        });
        fitted.extend(fit);
        frame = next;
    }
    Ok(Applied {
        frame,
        fitted,
        outcomes,
    })
}

/// Why `step` may not run when `target` is a build's target: a step other
/// than a row filter that names the target would change what the model
/// predicts.
fn changes_target(step: &api::Step, target: &str) -> Option<String> {
    if let api::Step::AddSegments { columns, .. } = step {
        return columns.iter().any(|c| c == target).then(|| {
            format!(
                "its segments read the target `{target}`, which a model does not have when it predicts; take `{target}` out of the step's columns or choose another target"
            )
        });
    }
    step.changes(target).then(|| {
        format!(
            "it changes the target `{target}`; a model predicts the target as it is in the data, so remove this step or choose another target"
        )
    })
}

/// The rule [`apply`] keeps with a target, checked on the steps alone (so
/// that a build request needs no data): no step but a row filter may
/// change `target`.
pub fn check_target_kept(recipe: &api::Recipe, target: &str) -> Result<()> {
    for (i, step) in recipe.steps.iter().enumerate() {
        if let Some(reason) = changes_target(step, target) {
            return Err(step_error(i + 1, step, reason));
        }
    }
    Ok(())
}

/// An error about step `n` (counted from 1).
fn step_error(n: usize, step: &api::Step, reason: impl std::fmt::Display) -> Error {
    Error::Unprocessable {
        code: "invalid_step",
        message: format!("step {n} ({}): {reason}", step.describe()),
        details: Some(serde_json::json!({ "step": n })),
    }
}

/// One step being applied, for messages.
pub(super) struct Ctx<'a> {
    pub(super) n: usize,
    pub(super) step: &'a api::Step,
    pub(super) frame: &'a DataFrame,
}

impl Ctx<'_> {
    pub(super) fn invalid(&self, reason: impl std::fmt::Display) -> Error {
        step_error(self.n, self.step, reason)
    }

    pub(super) fn column(&self, name: &str) -> Result<&Column> {
        self.frame.column(name).map_err(|_| Error::Unprocessable {
            code: "unknown_column",
            message: format!(
                "step {} ({}): there is no column `{name}` at this step",
                self.n,
                self.step.describe()
            ),
            details: Some(serde_json::json!({ "step": self.n, "column": name })),
        })
    }

    /// The column's numbers, or an error saying to cast it first.
    pub(super) fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?;
        if !c.dtype().is_primitive_numeric() {
            return Err(self.invalid(format!(
                "`{name}` holds text, not numbers; add a step that reads it as numbers first"
            )));
        }
        convert::numbers(c)
    }

    pub(super) fn labels(&self, name: &str) -> Result<Vec<Option<String>>> {
        convert::labels(self.column(name)?)
    }

    pub(super) fn collect(&self, plan: LazyFrame) -> Result<DataFrame> {
        plan.collect().map_err(|e| self.invalid(e))
    }
}

pub(super) type StepResult = Result<(DataFrame, Option<FittedStep>, String)>;

/// Runs one step: the one place that lists the steps.
fn run_step(at: &Ctx) -> StepResult {
    use api::Step;
    match at.step {
        Step::DropColumns { columns } => structure::drop_columns(at, columns),
        Step::DropDuplicates => rows::drop_duplicates(at),
        Step::DropMissing { columns } => rows::drop_missing(at, columns),
        Step::SetMissing { column, values } => missing::set_missing(at, column, values),
        Step::Impute {
            column,
            strategy,
            value,
        } => missing::impute(at, column, *strategy, value.as_deref()),
        Step::Outliers { column, action } => rows::outliers(at, column, *action),
        Step::Cast { column, to } => structure::cast(at, column, *to),
        Step::Log { column } => transform::log(at, column),
        Step::Bin {
            column,
            bins,
            strategy,
        } => transform::bin(at, column, *bins, *strategy),
        Step::OneHot {
            column,
            max_categories,
        } => transform::one_hot(at, column, *max_categories),
        Step::DateParts { column } => transform::date_parts(at, column),
        Step::Rename { column, to } => structure::rename(at, column, to),
        Step::GroupRare { column, min_rows } => group::group_rare(at, column, *min_rows),
        Step::DropUnusual { threshold } => rows::drop_unusual(at, *threshold),
        Step::AddSegments { columns, k, name } => segments::add_segments(at, columns, *k, name),
    }
}
