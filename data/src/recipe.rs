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

use std::collections::HashMap;

use automl::category_label;
use automl::recipe::{Fill, FittedStep, date_part_names, one_hot_name};
use automl::values::{bin_of, date_format, parse_datetime, parse_number, signed_log};
use polars::prelude::*;

use crate::convert;
use crate::error::{Error, Result};
use crate::profile::rows_page;
use crate::stats;

/// A recipe applied to a frame.
#[derive(Debug)]
pub struct Applied {
    pub frame: DataFrame,
    /// The steps that transform rows, fitted, in order (row filters are not among them).
    pub fitted: Vec<FittedStep>,
    pub outcomes: Vec<api::StepOutcome>,
}

/// Rows shown before and after in a preview.
const PREVIEW_ROWS: usize = 10;

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
        if let Some(t) = target
            && !step.filters_rows()
            && step.columns().contains(&t)
        {
            return Err(at.invalid(format!(
                "it changes the target `{t}`; a model predicts the target as it is in the data, so remove this step or choose another target"
            )));
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

/// One step being applied, for messages.
struct Ctx<'a> {
    n: usize,
    step: &'a api::Step,
    frame: &'a DataFrame,
}

impl Ctx<'_> {
    fn invalid(&self, reason: impl std::fmt::Display) -> Error {
        Error::Unprocessable {
            code: "invalid_step",
            message: format!("step {} ({}): {reason}", self.n, self.step.describe()),
            details: Some(serde_json::json!({ "step": self.n })),
        }
    }

    fn column(&self, name: &str) -> Result<&Column> {
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
    fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?;
        if !c.dtype().is_primitive_numeric() {
            return Err(self.invalid(format!(
                "`{name}` holds text, not numbers; add a step that reads it as numbers first"
            )));
        }
        convert::numbers(c)
    }

    fn labels(&self, name: &str) -> Result<Vec<Option<String>>> {
        convert::labels(self.column(name)?)
    }

    fn collect(&self, plan: LazyFrame) -> Result<DataFrame> {
        plan.collect().map_err(|e| self.invalid(e))
    }
}

type StepResult = Result<(DataFrame, Option<FittedStep>, String)>;

fn run_step(at: &Ctx) -> StepResult {
    use api::Step;
    let lazy = || at.frame.clone().lazy();
    let rows = at.frame.height();
    match at.step {
        Step::DropColumns { columns } => {
            if columns.is_empty() {
                return Err(at.invalid("name at least one column"));
            }
            let out =
                at.collect(lazy().drop(by_name(columns.iter().map(String::as_str), true, false)))?;
            let fit = FittedStep::Drop {
                columns: columns.clone(),
            };
            Ok((
                out,
                Some(fit),
                counted(columns.len(), "column removed", "columns removed"),
            ))
        }
        Step::DropDuplicates => {
            let out = at.collect(lazy().unique_stable(None, UniqueKeepStrategy::First))?;
            let gone = rows - out.height();
            Ok((
                out,
                None,
                counted(gone, "duplicate row removed", "duplicate rows removed"),
            ))
        }
        Step::DropMissing { columns } => {
            let subset = (!columns.is_empty())
                .then(|| by_name(columns.iter().map(String::as_str), true, false));
            let out = at.collect(lazy().drop_nulls(subset))?;
            let gone = rows - out.height();
            Ok((out, None, counted(gone, "row removed", "rows removed")))
        }
        Step::SetMissing { column, values } => {
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
                let values = values.clone();
                at.collect(lazy().with_column(map_labels(column, move |l| {
                    l.filter(|s| !values.iter().any(|v| v == s))
                        .map(str::to_owned)
                })))?
            };
            let now = out.column(column).map_err(polars)?.null_count() - before;
            let fit = FittedStep::SetMissing {
                column: column.clone(),
                values: values.clone(),
            };
            Ok((
                out,
                Some(fit),
                counted(now, "value is now missing", "values are now missing"),
            ))
        }
        Step::Impute {
            column,
            strategy,
            value,
        } => impute(at, column, *strategy, value.as_deref()),
        Step::Outliers { column, action } => {
            let v = at.numbers(column)?;
            let sorted = stats::finite_sorted(&v);
            let Some((lo, hi, _, _)) =
                stats::outlier_bounds(&sorted, crate::quality::OUTLIER_SPREADS)
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
                        .alias(column.as_str());
                    let out = at.collect(lazy().with_column(clipped))?;
                    let fit = FittedStep::Clip {
                        column: column.clone(),
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
        Step::Cast { column, to } => {
            let c = at.column(column)?;
            let before = c.null_count();
            let (out, fit) = match to {
                api::CastTo::Number => {
                    let out =
                        at.collect(lazy().with_column(map_labels_to_floats(column, |l| {
                            l.map(parse_number).filter(|x| !x.is_nan())
                        })))?;
                    (
                        out,
                        FittedStep::ToNumber {
                            column: column.clone(),
                        },
                    )
                }
                api::CastTo::Category => {
                    let out = at.collect(
                        lazy().with_column(map_labels(column, |l| l.map(str::to_owned))),
                    )?;
                    (
                        out,
                        FittedStep::ToCategory {
                            column: column.clone(),
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
        Step::Log { column } => {
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
                    column: column.clone(),
                }),
                msg,
            ))
        }
        Step::Bin {
            column,
            bins,
            strategy,
        } => {
            if !(2..=50).contains(bins) {
                return Err(at.invalid("the number of bins must be between 2 and 50"));
            }
            let sorted = stats::finite_sorted(&at.numbers(column)?);
            let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
                return Err(at.invalid(format!("`{column}` has no numbers to bin")));
            };
            let mut edges: Vec<f64> = (1..*bins)
                .filter_map(|i| {
                    let q = f64::from(i) / f64::from(*bins);
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
                column: column.clone(),
                edges,
                labels,
            };
            Ok((out, Some(fit), msg))
        }
        Step::OneHot {
            column,
            max_categories,
        } => {
            if !(1..=100).contains(max_categories) {
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
            ranked.truncate(*max_categories as usize);
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
                column: column.clone(),
                categories,
            };
            Ok((out, Some(fit), msg))
        }
        Step::DateParts { column } => {
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
                column: column.clone(),
                day_first,
                time,
            };
            Ok((out, Some(fit), msg))
        }
        Step::Rename { column, to } => {
            let to = to.trim();
            if to.is_empty() {
                return Err(at.invalid("the new name is empty"));
            }
            if to != column && at.frame.column(to).is_ok() {
                return Err(at.invalid(format!("a column named `{to}` already exists")));
            }
            let out = at.collect(lazy().rename([column.as_str()], [to], true))?;
            let fit = FittedStep::Rename {
                column: column.clone(),
                to: to.to_owned(),
            };
            Ok((out, Some(fit), format!("now called `{to}`")))
        }
    }
}

fn impute(at: &Ctx, column: &str, strategy: api::Imputation, value: Option<&str>) -> StepResult {
    use api::Imputation as I;
    let c = at.column(column)?;
    let missing = c.null_count();
    let numeric = c.dtype().is_primitive_numeric();
    let fill = if numeric {
        let v: Vec<f64> = at.numbers(column)?;
        let sorted = stats::finite_sorted(&v);
        let x = match strategy {
            I::Mean => stats::Moments::of(&sorted).map(|m| m.mean),
            I::Median => stats::quantile(&sorted, 0.5),
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

/// Puts `exprs` where `column` was, and removes `column`.
fn add_in_place(at: &Ctx, column: &str, made: Vec<(String, Expr)>) -> Result<DataFrame> {
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
fn short(x: f64) -> String {
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

fn counted(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A column by its literal name (`col` would read `*` or `^...$` as patterns).
fn column_ref(name: &str) -> Expr {
    Expr::Column(name.into())
}

fn polars(e: PolarsError) -> Error {
    Error::Internal(format!("recipe: {e}"))
}

fn float_field(_: &Schema, f: &Field) -> PolarsResult<Field> {
    Ok(Field::new(f.name().clone(), DataType::Float64))
}

fn text_field(_: &Schema, f: &Field) -> PolarsResult<Field> {
    Ok(Field::new(f.name().clone(), DataType::String))
}

fn udf(e: Error) -> PolarsError {
    PolarsError::ComputeError(e.to_string().into())
}

/// `column` as numbers (missing as `None`), through `f`, as a Float64 column.
fn map_floats(
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
fn map_labels(
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

fn map_labels_to_floats(
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

fn map_floats_to_labels(
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

#[cfg(test)]
mod tests {
    use super::*;
    use api::Step;

    fn messy() -> DataFrame {
        df!(
            "age" => [Some(30i64), None, Some(-1), Some(45), Some(1000), Some(30), Some(52), Some(38)],
            "income" => [Some("$1,200"), Some("900"), None, Some("n/a"), Some("2,500.5"), Some("$1,200"), Some("700"), Some("1 100")],
            "city" => [Some("Oslo"), Some("Rome"), None, Some("Oslo"), Some("Lima"), Some("Oslo"), Some("unknown"), Some("Rome")],
            "joined" => [Some("2024-03-31"), Some("2023-12-01"), Some("2024-01-15"), None, Some("2022-07-04"), Some("2024-03-31"), Some("2021-02-28"), Some("2020-10-10")],
            "score" => [1.5, 2.0, 3.5, 100.0, 2.5, 1.5, 3.0, 2.0],
            "y" => ["a", "b", "a", "b", "a", "a", "b", "a"]
        )
        .expect("frame")
    }

    fn every_step() -> Vec<Step> {
        vec![
            Step::DropDuplicates,
            Step::SetMissing {
                column: "age".into(),
                values: vec!["-1".into()],
            },
            Step::SetMissing {
                column: "city".into(),
                values: vec!["unknown".into()],
            },
            Step::Impute {
                column: "age".into(),
                strategy: api::Imputation::Median,
                value: None,
            },
            Step::Outliers {
                column: "age".into(),
                action: api::OutlierAction::Clip,
            },
            Step::Cast {
                column: "income".into(),
                to: api::CastTo::Number,
            },
            Step::Impute {
                column: "income".into(),
                strategy: api::Imputation::Mean,
                value: None,
            },
            Step::Log {
                column: "income".into(),
            },
            Step::Impute {
                column: "city".into(),
                strategy: api::Imputation::Constant,
                value: Some("Elsewhere".into()),
            },
            Step::OneHot {
                column: "city".into(),
                max_categories: 2,
            },
            Step::DateParts {
                column: "joined".into(),
            },
            Step::Bin {
                column: "score".into(),
                bins: 3,
                strategy: api::BinStrategy::Quantile,
            },
            Step::Rename {
                column: "age".into(),
                to: "age_years".into(),
            },
            Step::Cast {
                column: "joined_year".into(),
                to: api::CastTo::Category,
            },
            Step::DropColumns {
                columns: vec!["joined_weekday".into()],
            },
        ]
    }

    #[test]
    fn polars_and_the_engine_apply_the_same_steps_alike() {
        let frame = messy();
        let recipe = api::Recipe {
            steps: every_step(),
        };
        let applied = apply(frame.clone(), &recipe, Some("y")).expect("applies");
        assert_eq!(applied.frame.height(), 7, "one duplicate row removed");
        let names: Vec<String> = applied
            .frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "age_years",
                "income",
                "city=Elsewhere",
                "city=Oslo",
                "joined_year",
                "joined_month",
                "joined_day",
                "score",
                "y"
            ]
        );
        // The engine applies the fitted steps to the same rows (after the
        // duplicate is gone) and gets the same columns.
        let deduped = frame
            .clone()
            .lazy()
            .unique_stable(None, UniqueKeepStrategy::First)
            .collect()
            .expect("dedup");
        assert_same(&deduped, &applied);
        // Fitted values: the two most frequent cities (ties by name), the log, the bins.
        let c = |n: &str| applied.frame.column(n).expect(n).clone();
        assert_eq!(
            convert::numbers(&c("city=Oslo")).expect("n"),
            [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
        );
        let income = convert::numbers(&c("income")).expect("n");
        assert!((income[0] - 1201f64.ln()).abs() < 1e-12, "{income:?}");
        assert_eq!(
            convert::labels(&c("score")).expect("l")[4].as_deref(),
            Some("2 to 3"),
        );
        assert_eq!(applied.outcomes.len(), recipe.steps.len());
        assert!(
            applied.outcomes[5]
                .message
                .contains("1 value could not be read"),
            "{:?}",
            applied.outcomes[5]
        );
    }

    /// Polars' result and the engine's on the same raw frame, column by column.
    fn assert_same(raw: &DataFrame, applied: &Applied) {
        let engine = automl::Recipe {
            version: 1,
            inputs: Vec::new(),
            steps: applied.fitted.clone(),
        };
        let raw = convert::frame_to_dataset(raw).expect("raw");
        let by_engine = engine.apply(&raw).expect("engine applies");
        let by_polars = convert::frame_to_dataset(&applied.frame).expect("prepared");
        assert_eq!(by_engine.names(), by_polars.names());
        for (name, a) in by_polars.columns() {
            let b = by_engine.require(name).expect("same columns");
            match (a, b) {
                (automl::Column::Numeric(x), automl::Column::Numeric(y)) => {
                    for (p, q) in x.iter().zip(y) {
                        assert!(
                            (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-12 * p.abs().max(1.0),
                            "{name}: {p} vs {q}"
                        );
                    }
                }
                _ => assert_eq!(a, b, "{name}"),
            }
        }
    }

    #[test]
    fn outliers_are_clipped_and_binned_alike() {
        let x: Vec<Option<f64>> = (0..60)
            .map(|i| match i {
                7 => None,
                13 => Some(1000.0),
                21 => Some(-400.0),
                _ => Some(f64::from(i % 17)),
            })
            .collect();
        let frame = df!("x" => x.clone(), "w" => x).expect("frame");
        let recipe = api::Recipe {
            steps: vec![
                Step::Outliers {
                    column: "x".into(),
                    action: api::OutlierAction::Clip,
                },
                Step::Bin {
                    column: "w".into(),
                    bins: 4,
                    strategy: api::BinStrategy::Width,
                },
            ],
        };
        let applied = apply(frame.clone(), &recipe, None).expect("applies");
        assert_same(&frame, &applied);
        let x = convert::numbers(applied.frame.column("x").expect("x")).expect("n");
        let (lo, hi) = match &applied.fitted[0] {
            FittedStep::Clip { lower, upper, .. } => (*lower, *upper),
            other => panic!("{other:?}"),
        };
        assert!(lo > -400.0 && hi < 1000.0, "{lo} {hi}");
        assert_eq!((x[13], x[21]), (hi, lo));
        assert!(
            applied.outcomes[0].message.starts_with("2 values clipped"),
            "{:?}",
            applied.outcomes[0]
        );
        let removed = apply(
            frame,
            &api::Recipe {
                steps: vec![Step::Outliers {
                    column: "x".into(),
                    action: api::OutlierAction::Remove,
                }],
            },
            None,
        )
        .expect("applies");
        // The missing value stays; the two outliers go.
        assert_eq!(removed.frame.height(), 58);
    }

    #[test]
    fn steps_that_name_unknown_columns_or_the_target_are_refused() {
        let recipe = api::Recipe {
            steps: vec![
                Step::Rename {
                    column: "age".into(),
                    to: "years".into(),
                },
                Step::Log {
                    column: "age".into(),
                },
            ],
        };
        let err = apply(messy(), &recipe, None).unwrap_err().to_string();
        assert!(
            err.contains("step 2") && err.contains("no column `age`"),
            "{err}"
        );
        let err = apply(
            messy(),
            &api::Recipe {
                steps: vec![Step::Log { column: "y".into() }],
            },
            Some("y"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("changes the target `y`"), "{err}");
        for (step, want) in [
            (
                Step::Log {
                    column: "city".into(),
                },
                "holds text",
            ),
            (
                Step::Impute {
                    column: "city".into(),
                    strategy: api::Imputation::Median,
                    value: None,
                },
                "holds text",
            ),
            (
                Step::DateParts {
                    column: "city".into(),
                },
                "does not hold dates",
            ),
            (
                Step::Rename {
                    column: "age".into(),
                    to: "city".into(),
                },
                "already exists",
            ),
        ] {
            let err = apply(messy(), &api::Recipe { steps: vec![step] }, None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn a_preview_shows_rows_and_changed_statistics() {
        let recipe = api::Recipe {
            steps: vec![
                Step::DropDuplicates,
                Step::Impute {
                    column: "age".into(),
                    strategy: api::Imputation::Constant,
                    value: Some("40".into()),
                },
            ],
        };
        let p = preview(messy(), &recipe).expect("preview");
        assert_eq!((p.rows_before, p.rows_after), (8, 7));
        assert_eq!(p.after.rows[1][0].as_deref(), Some("40"));
        let age = p
            .changes
            .iter()
            .find(|c| c.column == "age")
            .expect("age changed");
        assert_eq!(age.before.as_ref().map(|s| s.missing), Some(1));
        assert_eq!(age.after.as_ref().map(|s| s.missing), Some(0));
    }
}
