//! The cleaning recipe as a model carries it: every step that changes what a
//! row looks like, with the values fitted on the training data (the median
//! an imputation used, the clip bounds, the bin edges, the one-hot
//! categories). Scoring applies it to the caller's columns before the
//! model's own encoders, so a model takes rows as they were uploaded.
//!
//! Steps that only remove rows (duplicates, rows with missing values,
//! outlier rows) shape the training data and are not part of scoring.
//! The backend applies the same steps to whole datasets with Polars and
//! tests that both give the same columns.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::data::{Column, Dataset, category_label};
use crate::encode::FeatureStats;
use crate::error::{Error, Result};
use crate::segments::Segments;
use crate::values::{DateTime, bin_of, parse_datetime, parse_number, signed_log};

/// A fitted, row-wise step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FittedStep {
    /// Columns the model never sees.
    Drop {
        columns: Vec<String>,
    },
    /// These values are read as missing (placeholders such as `-1` or `unknown`).
    SetMissing {
        column: String,
        values: Vec<String>,
    },
    /// Missing values become `value`.
    Impute {
        column: String,
        value: Fill,
    },
    /// Numbers below `lower` become `lower`, above `upper` become `upper`.
    Clip {
        column: String,
        lower: f64,
        upper: f64,
    },
    /// Text read as numbers ([`parse_number`]); what cannot be read is missing.
    ToNumber {
        column: String,
    },
    /// Numbers read as category labels ([`category_label`]).
    ToCategory {
        column: String,
    },
    /// `sign(x) · ln(1 + |x|)`.
    Log {
        column: String,
    },
    /// Numbers become the label of their bin: `labels[i]` for
    /// `edges[i - 1] <= x < edges[i]` (`labels.len() == edges.len() + 1`).
    Bin {
        column: String,
        edges: Vec<f64>,
        labels: Vec<String>,
    },
    /// One 0/1 column per category, named [`one_hot_name`]; the source column goes.
    OneHot {
        column: String,
        categories: Vec<String>,
    },
    /// A date column becomes `_year`, `_month`, `_day`, `_weekday` (0 is
    /// Monday) and, with `time`, `_hour` columns; the source column goes.
    DateParts {
        column: String,
        day_first: bool,
        time: bool,
    },
    Rename {
        column: String,
        to: String,
    },
    /// Category labels outside `keep` (rare in training, or never seen
    /// there) become `other`; missing values stay missing.
    /// A category column `name` added: the segment (`1` to `k`) of each
    /// row's nearest centre ([`Segments::assign`]), read from the step's
    /// input columns, which stay.
    Segments {
        name: String,
        segments: Segments,
    },
    GroupRare {
        column: String,
        keep: Vec<String>,
        other: String,
    },
}

/// An imputation value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fill {
    Number(f64),
    Text(String),
}

/// The fitted recipe inside a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The dataset's recipe version the build used.
    pub version: u32,
    /// The columns a caller supplies, with their training statistics (the
    /// model's features are what the steps make of them).
    pub inputs: Vec<FeatureStats>,
    pub steps: Vec<FittedStep>,
}

impl FittedStep {
    /// The column the step reads (`Drop` reads none, `Segments` several:
    /// [`FittedStep::reads`]).
    pub fn column(&self) -> Option<&str> {
        match self {
            FittedStep::Drop { .. } | FittedStep::Segments { .. } => None,
            FittedStep::SetMissing { column, .. }
            | FittedStep::Impute { column, .. }
            | FittedStep::Clip { column, .. }
            | FittedStep::ToNumber { column }
            | FittedStep::ToCategory { column }
            | FittedStep::Log { column }
            | FittedStep::Bin { column, .. }
            | FittedStep::OneHot { column, .. }
            | FittedStep::DateParts { column, .. }
            | FittedStep::Rename { column, .. }
            | FittedStep::GroupRare { column, .. } => Some(column),
        }
    }

    /// The columns the step reads.
    pub fn reads(&self) -> Vec<String> {
        match self {
            FittedStep::Segments { segments, .. } => segments
                .encoding
                .inputs
                .iter()
                .map(|i| i.column().to_owned())
                .collect(),
            other => other.column().map(str::to_owned).into_iter().collect(),
        }
    }

    /// The columns the step puts in place of its input column.
    pub fn outputs(&self) -> Vec<String> {
        match self {
            FittedStep::Drop { .. } => Vec::new(),
            FittedStep::OneHot { column, categories } => {
                categories.iter().map(|c| one_hot_name(column, c)).collect()
            }
            FittedStep::DateParts { column, time, .. } => date_part_names(column, *time),
            FittedStep::Rename { to, .. } => vec![to.clone()],
            FittedStep::Segments { name, .. } => vec![name.clone()],
            other => other.column().map(str::to_owned).into_iter().collect(),
        }
    }

    /// Applies the step to a whole dataset (`steps` counts from 1 in errors).
    pub fn apply(&self, data: Dataset, step: usize) -> Result<Dataset> {
        let fail = |reason: String| Error::Recipe { step, reason };
        let mut cols = data.into_columns();
        if let FittedStep::Drop { columns } = self {
            cols.retain(|(n, _)| !columns.contains(n));
            return Dataset::new(cols);
        }
        if let FittedStep::Segments { name, segments } = self {
            let data = Dataset::new(cols)?;
            if data.column(name).is_some() {
                return Err(fail(format!("a column named `{name}` already exists")));
            }
            let labels = segments
                .assign(&data)?
                .into_iter()
                .map(|s| Some((s + 1).to_string()))
                .collect();
            let mut cols = data.into_columns();
            cols.push((name.clone(), Column::Categorical(labels)));
            return Dataset::new(cols);
        }
        let name = self.column().unwrap_or_default();
        let Some(at) = cols.iter().position(|(n, _)| n == name) else {
            return Err(Error::MissingColumn(name.to_owned()));
        };
        let (_, col) = cols.remove(at);
        let made = self.transform(name, col, &cols, &fail)?;
        for (i, c) in made.into_iter().enumerate() {
            if cols.iter().any(|(n, _)| *n == c.0) {
                return Err(fail(format!(
                    "it makes a column `{}` that already exists",
                    c.0
                )));
            }
            cols.insert(at + i, c);
        }
        Dataset::new(cols)
    }

    /// The columns the step makes of its input column `col`, named `name`
    /// (`others` are the dataset's other columns).
    fn transform(
        &self,
        name: &str,
        col: Column,
        others: &[(String, Column)],
        fail: &dyn Fn(String) -> Error,
    ) -> Result<Vec<(String, Column)>> {
        Ok(match self {
            // Applied whole in `apply`.
            FittedStep::Drop { .. } | FittedStep::Segments { .. } => Vec::new(),
            FittedStep::SetMissing { values, .. } => {
                vec![(name.to_owned(), set_missing(col, values))]
            }
            FittedStep::Impute { value, .. } => vec![(name.to_owned(), impute(col, value))],
            FittedStep::Clip { lower, upper, .. } => {
                let v = numbers(&col).map_err(fail)?;
                let out = v
                    .iter()
                    .map(|&x| {
                        if x.is_nan() {
                            x
                        } else {
                            x.clamp(*lower, *upper)
                        }
                    })
                    .collect();
                vec![(name.to_owned(), Column::Numeric(out))]
            }
            FittedStep::ToNumber { .. } => {
                vec![(name.to_owned(), Column::Numeric(to_numbers(&col)))]
            }
            FittedStep::ToCategory { .. } => {
                vec![(name.to_owned(), Column::Categorical(labels_of(col)))]
            }
            FittedStep::Log { .. } => {
                let v = numbers(&col).map_err(fail)?;
                vec![(
                    name.to_owned(),
                    Column::Numeric(v.iter().map(|&x| signed_log(x)).collect()),
                )]
            }
            FittedStep::Bin { edges, labels, .. } => {
                let v = numbers(&col).map_err(fail)?;
                let out = v
                    .iter()
                    .map(|&x| (!x.is_nan()).then(|| labels[bin_of(edges, x)].clone()))
                    .collect();
                vec![(name.to_owned(), Column::Categorical(out))]
            }
            FittedStep::OneHot { categories, .. } => one_hot(name, col, categories),
            FittedStep::DateParts {
                day_first, time, ..
            } => date_parts(name, col, *day_first, *time),
            FittedStep::Rename { to, .. } => {
                if others.iter().any(|(n, _)| n == to) {
                    return Err(fail(format!("a column named `{to}` already exists")));
                }
                vec![(to.clone(), col)]
            }
            FittedStep::GroupRare { keep, other, .. } => {
                vec![(name.to_owned(), group_rare(col, keep, other))]
            }
        })
    }

    fn validate(&self) -> Result<()> {
        let ok = match self {
            FittedStep::Clip { lower, upper, .. } => lower <= upper,
            FittedStep::Bin { edges, labels, .. } => {
                labels.len() == edges.len() + 1
                    && edges.iter().all(|e| e.is_finite())
                    && edges.windows(2).all(|w| w[0] < w[1])
            }
            FittedStep::Impute {
                value: Fill::Number(x),
                ..
            } => x.is_finite(),
            FittedStep::GroupRare { keep, other, .. } => !other.is_empty() && !keep.contains(other),
            FittedStep::Segments { name, segments } => {
                return if name.is_empty() {
                    Err(Error::Artifact(
                        "the segment step has no column name".into(),
                    ))
                } else {
                    segments.validate()
                };
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Artifact(format!(
                "recipe step {self:?} is malformed"
            )))
        }
    }
}

impl Recipe {
    /// The recipe a model carries: `steps`, and as inputs the columns of
    /// `raw` (the data as uploaded) that `features` come from, with their
    /// statistics over every row, in `raw`'s column order.
    pub fn for_features(
        version: u32,
        steps: Vec<FittedStep>,
        features: &[String],
        raw: &Dataset,
    ) -> Recipe {
        let mut recipe = Recipe {
            version,
            inputs: Vec::new(),
            steps,
        };
        let rows: Vec<usize> = (0..raw.n_rows()).collect();
        for source in recipe.sources(features).into_iter().flatten() {
            if recipe.inputs.iter().any(|i| i.name == source) {
                continue;
            }
            if let Some(col) = raw.column(&source) {
                recipe.inputs.push(FeatureStats::fit(&source, col, &rows));
            }
        }
        let order = |name: &str| raw.names().iter().position(|n| n == name);
        recipe.inputs.sort_by_key(|i| order(&i.name));
        recipe
    }

    /// Applies every step to `data` (the caller's columns; extra columns pass through).
    pub fn apply<'a>(&self, data: &'a Dataset) -> Result<Cow<'a, Dataset>> {
        if self.steps.is_empty() {
            return Ok(Cow::Borrowed(data));
        }
        let mut out = data.clone();
        for (i, step) in self.steps.iter().enumerate() {
            out = step.apply(out, i + 1)?;
        }
        Ok(Cow::Owned(out))
    }

    /// The input columns each of `outputs` (columns after the recipe)
    /// comes from: one for most steps, several for a segment column.
    pub fn sources(&self, outputs: &[String]) -> Vec<Vec<String>> {
        outputs.iter().map(|o| self.sources_of(o)).collect()
    }

    fn sources_of(&self, output: &str) -> Vec<String> {
        let mut names = vec![output.to_owned()];
        for step in self.steps.iter().rev() {
            let made = step.outputs();
            if !names.iter().any(|n| made.contains(n)) {
                continue;
            }
            let mut next = Vec::new();
            for n in names {
                let from = if made.contains(&n) {
                    step.reads()
                } else {
                    vec![n]
                };
                for f in from {
                    if !next.contains(&f) {
                        next.push(f);
                    }
                }
            }
            names = next;
        }
        names
    }

    pub(crate) fn validate(&self) -> Result<()> {
        for s in &self.steps {
            s.validate()?;
        }
        let mut seen = std::collections::HashSet::new();
        if self.inputs.iter().any(|f| !seen.insert(f.name.as_str())) {
            return Err(Error::Artifact("the recipe names an input twice".into()));
        }
        Ok(())
    }
}

/// The name of the 0/1 column for `category` of `column`.
pub fn one_hot_name(column: &str, category: &str) -> String {
    format!("{column}={category}")
}

/// The names of the date-part columns of `column`.
pub fn date_part_names(column: &str, time: bool) -> Vec<String> {
    let parts: &[&str] = if time {
        &["year", "month", "day", "weekday", "hour"]
    } else {
        &["year", "month", "day", "weekday"]
    };
    parts.iter().map(|p| format!("{column}_{p}")).collect()
}

/// A 0/1 column per category.
fn one_hot(name: &str, col: Column, categories: &[String]) -> Vec<(String, Column)> {
    let labels = labels_of(col);
    categories
        .iter()
        .map(|c| {
            let v = labels
                .iter()
                .map(|l| f64::from(u8::from(l.as_deref() == Some(c.as_str()))))
                .collect();
            (one_hot_name(name, c), Column::Numeric(v))
        })
        .collect()
}

/// The labels of `col`, with those outside `keep` replaced by `other`.
fn group_rare(col: Column, keep: &[String], other: &str) -> Column {
    let keep: std::collections::HashSet<&str> = keep.iter().map(String::as_str).collect();
    Column::Categorical(
        labels_of(col)
            .into_iter()
            .map(|l| {
                l.map(|l| {
                    if keep.contains(l.as_str()) {
                        l
                    } else {
                        other.to_owned()
                    }
                })
            })
            .collect(),
    )
}

/// Year, month, day, weekday (and hour with `time`) columns of a date column.
fn date_parts(name: &str, col: Column, day_first: bool, time: bool) -> Vec<(String, Column)> {
    let parsed: Vec<Option<DateTime>> = labels_of(col)
        .iter()
        .map(|l| l.as_deref().and_then(|s| parse_datetime(s, day_first)))
        .collect();
    date_part_names(name, time)
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let v = parsed
                .iter()
                .map(|d| d.map_or(f64::NAN, |d| d.parts()[i]))
                .collect();
            (n, Column::Numeric(v))
        })
        .collect()
}

fn set_missing(col: Column, values: &[String]) -> Column {
    match col {
        Column::Numeric(v) => {
            let targets: Vec<f64> = values
                .iter()
                .map(|s| parse_number(s))
                .filter(|x| !x.is_nan())
                .collect();
            Column::Numeric(
                v.into_iter()
                    .map(|x| if targets.contains(&x) { f64::NAN } else { x })
                    .collect(),
            )
        }
        Column::Categorical(v) => Column::Categorical(
            v.into_iter()
                .map(|l| l.filter(|s| !values.contains(s)))
                .collect(),
        ),
    }
}

fn impute(col: Column, value: &Fill) -> Column {
    match (col, value) {
        (Column::Numeric(v), Fill::Number(x)) => Column::Numeric(
            v.into_iter()
                .map(|y| if y.is_nan() { *x } else { y })
                .collect(),
        ),
        (Column::Numeric(v), Fill::Text(t)) => {
            let x = parse_number(t);
            Column::Numeric(
                v.into_iter()
                    .map(|y| if y.is_nan() { x } else { y })
                    .collect(),
            )
        }
        (Column::Categorical(v), fill) => {
            let label = match fill {
                Fill::Number(x) => category_label(*x),
                Fill::Text(t) => t.clone(),
            };
            Column::Categorical(
                v.into_iter()
                    .map(|l| Some(l.unwrap_or_else(|| label.clone())))
                    .collect(),
            )
        }
    }
}

fn numbers(col: &Column) -> std::result::Result<Vec<f64>, String> {
    match col {
        Column::Numeric(v) => Ok(v.clone()),
        Column::Categorical(_) => {
            Err("the column holds text, not numbers; cast it to a number first".into())
        }
    }
}

fn to_numbers(col: &Column) -> Vec<f64> {
    match col {
        Column::Numeric(v) => v.clone(),
        Column::Categorical(v) => v
            .iter()
            .map(|l| l.as_deref().map_or(f64::NAN, parse_number))
            .collect(),
    }
}

/// Every value as a category label (numbers by [`category_label`]).
fn labels_of(col: Column) -> Vec<Option<String>> {
    match col {
        Column::Numeric(v) => v
            .into_iter()
            .map(|x| (!x.is_nan()).then(|| category_label(x)))
            .collect(),
        Column::Categorical(v) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(v: &[Option<&str>]) -> Column {
        Column::Categorical(v.iter().map(|s| s.map(str::to_owned)).collect())
    }

    #[test]
    fn steps_transform_columns_and_name_their_outputs() {
        let data = Dataset::new(vec![
            (
                "x".into(),
                Column::Numeric(vec![1.0, f64::NAN, -1.0, 100.0]),
            ),
            (
                "c".into(),
                cat(&[Some("a"), Some("b"), None, Some("unknown")]),
            ),
            (
                "d".into(),
                cat(&[Some("2024-03-31"), Some("2024-01-01"), None, Some("bad")]),
            ),
        ])
        .unwrap();
        let recipe = Recipe {
            version: 1,
            inputs: Vec::new(),
            steps: vec![
                FittedStep::SetMissing {
                    column: "x".into(),
                    values: vec!["-1".into()],
                },
                FittedStep::Impute {
                    column: "x".into(),
                    value: Fill::Number(2.0),
                },
                FittedStep::Clip {
                    column: "x".into(),
                    lower: 0.0,
                    upper: 50.0,
                },
                FittedStep::SetMissing {
                    column: "c".into(),
                    values: vec!["unknown".into()],
                },
                FittedStep::OneHot {
                    column: "c".into(),
                    categories: vec!["a".into(), "b".into()],
                },
                FittedStep::DateParts {
                    column: "d".into(),
                    day_first: false,
                    time: false,
                },
                FittedStep::Rename {
                    column: "x".into(),
                    to: "size".into(),
                },
            ],
        };
        let out = recipe.apply(&data).unwrap();
        assert_eq!(
            out.names(),
            &[
                "size",
                "c=a",
                "c=b",
                "d_year",
                "d_month",
                "d_day",
                "d_weekday"
            ]
        );
        assert_eq!(
            out.column("size"),
            Some(&Column::Numeric(vec![1.0, 2.0, 2.0, 50.0]))
        );
        assert_eq!(
            out.column("c=b"),
            Some(&Column::Numeric(vec![0.0, 1.0, 0.0, 0.0]))
        );
        let Some(Column::Numeric(wd)) = out.column("d_weekday") else {
            panic!("weekday is numeric")
        };
        assert_eq!(wd[..2], [6.0, 0.0]);
        assert!(wd[2].is_nan() && wd[3].is_nan());
        assert_eq!(
            recipe.sources(&["size".into(), "c=b".into(), "d_day".into()]),
            [["x"], ["c"], ["d"]]
        );
    }

    #[test]
    fn bins_log_and_casts() {
        let data = Dataset::new(vec![
            (
                "x".into(),
                Column::Numeric(vec![0.0, 5.0, 10.0, f64::NAN, -3.0]),
            ),
            (
                "t".into(),
                cat(&[Some("1,5"), Some("x"), None, Some("$2"), Some("7")]),
            ),
        ])
        .unwrap();
        let steps = [
            FittedStep::Log { column: "x".into() },
            FittedStep::ToNumber { column: "t".into() },
        ];
        let mut out = data.clone();
        for (i, s) in steps.iter().enumerate() {
            out = s.apply(out, i + 1).unwrap();
        }
        let Some(Column::Numeric(x)) = out.column("x") else {
            panic!()
        };
        assert_eq!(x[0], 0.0);
        assert!((x[1] - 6f64.ln()).abs() < 1e-15 && (x[4] + 4f64.ln()).abs() < 1e-15);
        let Some(Column::Numeric(t)) = out.column("t") else {
            panic!()
        };
        assert_eq!(t[0], 1.5);
        assert!(t[1].is_nan() && t[2].is_nan());
        assert_eq!(t[3..], [2.0, 7.0]);
        let bin = FittedStep::Bin {
            column: "x".into(),
            edges: vec![0.0, 5.0],
            labels: vec!["low".into(), "mid".into(), "high".into()],
        };
        let out = bin.apply(data.clone(), 1).unwrap();
        assert_eq!(
            out.column("x"),
            Some(&cat(&[
                Some("mid"),
                Some("high"),
                Some("high"),
                None,
                Some("low")
            ]))
        );
        // Text cannot be clipped: an error naming the step, not a panic.
        let err = FittedStep::Clip {
            column: "t".into(),
            lower: 0.0,
            upper: 1.0,
        }
        .apply(data, 3)
        .unwrap_err();
        assert!(err.to_string().contains("step 3"), "{err}");
    }
}
