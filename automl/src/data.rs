//! The engine's input: a [`Dataset`] of named columns, numeric (`NaN` is
//! missing) or categorical (`None` is missing).

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numeric(Vec<f64>),
    Categorical(Vec<Option<String>>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Column::Numeric(v) => v[row].is_nan(),
            Column::Categorical(v) => v[row].is_none(),
        }
    }

    /// The value at `row` as a category label (numbers formatted by [`category_label`]).
    pub fn label(&self, row: usize) -> Option<String> {
        match self {
            Column::Numeric(v) => (!v[row].is_nan()).then(|| category_label(v[row])),
            Column::Categorical(v) => v[row].clone(),
        }
    }
}

/// How a number reads as a category: integers without a fractional part
/// (`3`, not `3.0`), other values in Rust's shortest round-trip form.
pub fn category_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Named columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    names: Vec<String>,
    columns: Vec<Column>,
    n_rows: usize,
}

impl Dataset {
    pub fn new(columns: Vec<(String, Column)>) -> Result<Self> {
        let mut ds = Dataset::default();
        ds.extend(columns)?;
        Ok(ds)
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn columns(&self) -> impl Iterator<Item = (&str, &Column)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.columns.iter())
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    pub fn require(&self, name: &str) -> Result<&Column> {
        self.column(name)
            .ok_or_else(|| Error::MissingColumn(name.to_owned()))
    }

    /// Adds `columns` after the others: each as long as the first (or the
    /// columns already there), and no name twice; on error nothing is added.
    pub fn extend(&mut self, columns: Vec<(String, Column)>) -> Result<()> {
        let n_rows = if self.names.is_empty() {
            columns.first().map_or(0, |(_, c)| c.len())
        } else {
            self.n_rows
        };
        for (i, (name, col)) in columns.iter().enumerate() {
            if col.len() != n_rows {
                return Err(Error::ColumnLength {
                    name: name.clone(),
                    got: col.len(),
                    expected: n_rows,
                });
            }
            if self.names.contains(name) || columns[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::DuplicateColumn(name.clone()));
            }
        }
        self.n_rows = n_rows;
        for (name, col) in columns {
            self.names.push(name);
            self.columns.push(col);
        }
        Ok(())
    }

    /// Takes the columns from place `at` on, leaving the first `at`.
    pub fn split_off(&mut self, at: usize) -> Vec<(String, Column)> {
        let at = at.min(self.names.len());
        self.names
            .split_off(at)
            .into_iter()
            .zip(self.columns.split_off(at))
            .collect()
    }

    /// The named columns, in order.
    pub fn into_columns(self) -> Vec<(String, Column)> {
        self.names.into_iter().zip(self.columns).collect()
    }

    /// The rows `rows` (in that order) of the named columns.
    pub fn select(&self, names: &[&str], rows: &[usize]) -> Result<Dataset> {
        let columns = names
            .iter()
            .map(|&name| {
                let col = match self.require(name)? {
                    Column::Numeric(v) => Column::Numeric(rows.iter().map(|&r| v[r]).collect()),
                    Column::Categorical(v) => {
                        Column::Categorical(rows.iter().map(|&r| v[r].clone()).collect())
                    }
                };
                Ok((name.to_owned(), col))
            })
            .collect::<Result<Vec<_>>>()?;
        Dataset::new(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_ragged_and_duplicate_columns() {
        let err = Dataset::new(vec![
            ("a".into(), Column::Numeric(vec![1.0, 2.0])),
            ("b".into(), Column::Numeric(vec![1.0])),
        ])
        .unwrap_err();
        assert!(matches!(err, Error::ColumnLength { .. }));
        let err = Dataset::new(vec![
            ("a".into(), Column::Numeric(vec![1.0])),
            ("a".into(), Column::Numeric(vec![1.0])),
        ])
        .unwrap_err();
        assert!(matches!(err, Error::DuplicateColumn(_)));
    }

    #[test]
    fn labels_integers_without_fraction() {
        assert_eq!(category_label(3.0), "3");
        assert_eq!(category_label(-2.0), "-2");
        assert_eq!(category_label(2.5), "2.5");
    }
}
