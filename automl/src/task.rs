//! Problem types, their detection from the target column, and the encoded target.

use serde::{Deserialize, Serialize};

use crate::data::Column;
use crate::error::{Error, Result};

/// At most this many classes for a classification target.
pub const MAX_CLASSES: usize = 100;

/// Integer-valued numeric targets with at most this many distinct values are
/// treated as classes.
const MAX_INTEGER_CLASSES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Regression,
    Binary,
    Multiclass,
}

/// Detects the task from the target: two values is binary; text with 3 to
/// [`MAX_CLASSES`] values, or integers with 3 to 10 values, is multiclass;
/// other numbers are regression.
pub fn detect_task(name: &str, target: &Column) -> Result<Task> {
    let fail = |reason: String| Error::Target {
        target: name.to_owned(),
        reason,
    };
    match target {
        Column::Numeric(v) => {
            let mut distinct: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            if distinct.is_empty() {
                return Err(fail("every value is missing".into()));
            }
            let all_integer = distinct.iter().all(|x| x.fract() == 0.0);
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            match distinct.len() {
                1 => Err(fail(
                    "it has a single value, there is nothing to predict".into(),
                )),
                2 => Ok(Task::Binary),
                n if all_integer && n <= MAX_INTEGER_CLASSES => Ok(Task::Multiclass),
                _ => Ok(Task::Regression),
            }
        }
        Column::Categorical(v) => {
            let mut distinct: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
            if distinct.is_empty() {
                return Err(fail("every value is missing".into()));
            }
            distinct.sort_unstable();
            distinct.dedup();
            match distinct.len() {
                1 => Err(fail(
                    "it has a single value, there is nothing to predict".into(),
                )),
                2 => Ok(Task::Binary),
                n if n <= MAX_CLASSES => Ok(Task::Multiclass),
                n => Err(fail(format!(
                    "it has {n} distinct text values; at most {MAX_CLASSES} classes are supported, and text cannot be a regression target"
                ))),
            }
        }
    }
}

/// The target encoded for training, restricted to rows where it is present.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Regression(Vec<f64>),
    /// `y[i]` indexes `classes`.
    Classes {
        classes: Vec<String>,
        y: Vec<usize>,
    },
}

impl Target {
    /// Encodes `column` for `task`; returns the target and the rows it covers
    /// (rows whose target is missing are left out).
    pub fn encode(name: &str, column: &Column, task: Task) -> Result<(Target, Vec<usize>)> {
        let rows: Vec<usize> = (0..column.len())
            .filter(|&i| !column.is_missing(i))
            .collect();
        let fail = |reason: String| Error::Target {
            target: name.to_owned(),
            reason,
        };
        match task {
            Task::Regression => match column {
                Column::Numeric(v) => Ok((
                    Target::Regression(rows.iter().map(|&i| v[i]).collect()),
                    rows,
                )),
                Column::Categorical(_) => Err(fail(
                    "regression needs a numeric target, this column holds text".into(),
                )),
            },
            Task::Binary | Task::Multiclass => {
                let mut classes: Vec<(Option<f64>, String)> = rows
                    .iter()
                    .map(|&i| match column {
                        Column::Numeric(v) => (Some(v[i]), column.label(i).unwrap_or_default()),
                        Column::Categorical(_) => (None, column.label(i).unwrap_or_default()),
                    })
                    .collect();
                classes.sort_by(|a, b| match (a.0, b.0) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => a.1.cmp(&b.1),
                });
                classes.dedup_by(|a, b| a.1 == b.1);
                let classes: Vec<String> = classes.into_iter().map(|c| c.1).collect();
                if classes.len() < 2 {
                    return Err(fail(
                        "it has a single value, there is nothing to predict".into(),
                    ));
                }
                if task == Task::Binary && classes.len() != 2 {
                    return Err(fail(format!(
                        "binary classification needs exactly 2 classes, it has {}",
                        classes.len()
                    )));
                }
                if classes.len() > MAX_CLASSES {
                    return Err(fail(format!(
                        "it has {} classes; at most {MAX_CLASSES} are supported",
                        classes.len()
                    )));
                }
                let y = rows
                    .iter()
                    .map(|&i| {
                        let label = column.label(i).unwrap_or_default();
                        classes.iter().position(|c| *c == label).unwrap_or(0)
                    })
                    .collect();
                Ok((Target::Classes { classes, y }, rows))
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Target::Regression(v) => v.len(),
            Target::Classes { y, .. } => y.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn n_classes(&self) -> usize {
        match self {
            Target::Regression(_) => 0,
            Target::Classes { classes, .. } => classes.len(),
        }
    }

    /// The class labels (none for regression).
    pub fn class_names(&self) -> Vec<String> {
        match self {
            Target::Regression(_) => Vec::new(),
            Target::Classes { classes, .. } => classes.clone(),
        }
    }

    /// The target of the given positions (positions into this target, not dataset rows).
    pub fn subset(&self, idx: &[usize]) -> Target {
        match self {
            Target::Regression(v) => Target::Regression(idx.iter().map(|&i| v[i]).collect()),
            Target::Classes { classes, y } => Target::Classes {
                classes: classes.clone(),
                y: idx.iter().map(|&i| y[i]).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[&str]) -> Column {
        Column::Categorical(v.iter().map(|s| Some((*s).to_owned())).collect())
    }

    #[test]
    fn detects_tasks() {
        assert_eq!(
            detect_task("y", &text(&["a", "b", "a"])).unwrap(),
            Task::Binary
        );
        assert_eq!(
            detect_task("y", &text(&["a", "b", "c"])).unwrap(),
            Task::Multiclass
        );
        assert_eq!(
            detect_task("y", &Column::Numeric(vec![0.0, 1.0, f64::NAN])).unwrap(),
            Task::Binary
        );
        assert_eq!(
            detect_task("y", &Column::Numeric(vec![1.0, 2.0, 3.0])).unwrap(),
            Task::Multiclass
        );
        let many: Vec<f64> = (0..50).map(|i| i as f64 * 1.5).collect();
        assert_eq!(
            detect_task("y", &Column::Numeric(many)).unwrap(),
            Task::Regression
        );
        assert!(detect_task("y", &text(&["a", "a"])).is_err());
        assert!(detect_task("y", &Column::Numeric(vec![f64::NAN])).is_err());
        let many: Vec<String> = (0..=MAX_CLASSES).map(|i| format!("c{i}")).collect();
        let err = detect_task(
            "y",
            &text(&many.iter().map(String::as_str).collect::<Vec<_>>()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("at most 100 classes"), "{err}");
    }

    #[test]
    fn encodes_classes_sorted_and_skips_missing() {
        let col = Column::Categorical(vec![Some("b".into()), None, Some("a".into())]);
        let (t, rows) = Target::encode("y", &col, Task::Binary).unwrap();
        assert_eq!(rows, vec![0, 2]);
        assert_eq!(
            t,
            Target::Classes {
                classes: vec!["a".into(), "b".into()],
                y: vec![1, 0]
            }
        );
    }

    #[test]
    fn numeric_classes_sort_numerically() {
        let col = Column::Numeric(vec![10.0, 9.0, 2.0]);
        let (t, _) = Target::encode("y", &col, Task::Multiclass).unwrap();
        assert_eq!(
            t,
            Target::Classes {
                classes: vec!["2".into(), "9".into(), "10".into()],
                y: vec![2, 1, 0]
            }
        );
    }
}
