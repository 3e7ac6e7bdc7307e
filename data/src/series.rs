//! The columns a forecast reads, from a frame to what the engine's
//! `automl::forecast::time::prepare` takes: timestamps and item names as
//! text, the target as numbers (a numeric column, or text that reads as
//! numbers throughout), and the known covariates and item attributes as
//! text (the engine decides how to code them). A column that is missing,
//! named twice, or a target that is not numbers, is refused with the
//! column and rows named.

use polars::prelude::*;

use crate::error::{Error, Result};

/// The code of every refusal here.
const CODE: &str = "invalid_forecast";

/// The three columns, read.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesColumns {
    pub times: Vec<Option<String>>,
    pub values: Vec<Option<f64>>,
    /// `None` without an item column.
    pub items: Option<Vec<Option<String>>>,
    /// The extra columns asked for (covariates, attributes), in order.
    pub extra: Vec<Vec<Option<String>>>,
}

fn text(c: &Column) -> Result<Vec<Option<String>>> {
    crate::profile::text_cells(c).map_err(|e| Error::Internal(format!("reading text: {e}")))
}

/// Reads `time`, `target`, `item` and the `extra` columns from `frame`.
pub fn read(
    frame: &DataFrame,
    time: &str,
    target: &str,
    item: Option<&str>,
    extra: &[&str],
) -> Result<SeriesColumns> {
    let column = |name: &str, role: &str| -> Result<&Column> {
        frame.column(name).map_err(|_| {
            let some: Vec<String> = frame
                .get_column_names()
                .iter()
                .take(8)
                .map(|n| format!("`{n}`"))
                .collect();
            Error::unprocessable(
                CODE,
                format!(
                    "the {role} column `{name}` is not in the table (its columns include {})",
                    some.join(", ")
                ),
            )
        })
    };
    if time == target {
        return Err(Error::unprocessable(
            CODE,
            format!("`{time}` cannot be both the timestamp and the target"),
        ));
    }
    if let Some(item) = item.filter(|i| *i == time || *i == target) {
        return Err(Error::unprocessable(
            CODE,
            format!("`{item}` cannot be both the item column and the timestamp or target"),
        ));
    }
    let mut seen = vec![time, target];
    seen.extend(item);
    for name in extra {
        if seen.contains(name) {
            return Err(Error::unprocessable(
                CODE,
                format!(
                    "`{name}` is named twice: a covariate or attribute must be a column other than the timestamp, target, item and the other covariates"
                ),
            ));
        }
        seen.push(name);
    }
    let times = text(column(time, "timestamp")?)?;
    let values = numbers(column(target, "target")?, target)?;
    let items = match item {
        Some(item) => Some(text(column(item, "item")?)?),
        None => None,
    };
    let extra = extra
        .iter()
        .map(|name| text(column(name, "covariate or attribute")?))
        .collect::<Result<Vec<_>>>()?;
    Ok(SeriesColumns {
        times,
        values,
        items,
        extra,
    })
}

/// The target as numbers: a numeric column, or text whose every value
/// reads as a number; otherwise a refusal naming rows that do not.
fn numbers(c: &Column, name: &str) -> Result<Vec<Option<f64>>> {
    if c.dtype().is_primitive_numeric() {
        let cast = c
            .cast(&DataType::Float64)
            .map_err(|e| Error::Internal(format!("reading numbers: {e}")))?;
        let f = cast
            .f64()
            .map_err(|e| Error::Internal(format!("reading numbers: {e}")))?;
        return Ok(f.iter().collect());
    }
    let cells = text(c)?;
    let mut bad = Vec::new();
    let mut bad_count = 0usize;
    let values: Vec<Option<f64>> = cells
        .iter()
        .enumerate()
        .map(|(row, cell)| {
            let cell = cell.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
            let v = automl::values::parse_number(cell);
            if v.is_nan() {
                bad_count += 1;
                if bad.len() < 3 {
                    bad.push(format!("row {} (\"{cell}\")", row + 1));
                }
                None
            } else {
                Some(v)
            }
        })
        .collect();
    if bad_count > 0 {
        return Err(Error::unprocessable(
            CODE,
            format!(
                "the target column `{name}` is not numeric: {bad_count} value{} cannot be read as numbers, for example {}",
                if bad_count == 1 { "" } else { "s" },
                bad.join(", ")
            ),
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_as_text_and_numbers_or_are_refused_by_name() {
        let frame = df!(
            "month" => ["2024-01", "2024-02", "2024-03"],
            "sales" => [Some(1.5), None, Some(3.0)],
            "shop" => ["a", "a", "b"],
            "price" => ["1,200", "", "3.5"],
            "label" => ["x", "12", "y"],
        )
        .expect("frame");
        let read = read(&frame, "month", "sales", Some("shop"), &["price"]).expect("reads");
        assert_eq!(read.values, vec![Some(1.5), None, Some(3.0)]);
        assert_eq!(read.times[1].as_deref(), Some("2024-02"));
        assert_eq!(read.items.expect("items")[2].as_deref(), Some("b"));
        assert_eq!(read.extra[0][0].as_deref(), Some("1,200"));
        let err =
            super::read(&frame, "month", "sales", None, &["label", "label"]).expect_err("twice");
        assert!(err.to_string().contains("`label` is named twice"), "{err}");
        let err = super::read(&frame, "month", "sales", None, &["promo"]).expect_err("missing");
        assert!(
            err.to_string()
                .contains("the covariate or attribute column `promo` is not in the table"),
            "{err}"
        );
        let price = super::read(&frame, "month", "price", None, &[]).expect("text numbers");
        assert_eq!(price.values, vec![Some(1200.0), None, Some(3.5)]);
        let err = super::read(&frame, "month", "label", None, &[]).expect_err("text");
        assert!(
            err.to_string().contains("`label` is not numeric: 2 values")
                && err.to_string().contains("row 1 (\"x\")"),
            "{err}"
        );
        let err = super::read(&frame, "when", "sales", None, &[]).expect_err("missing");
        assert!(err.to_string().contains("timestamp column `when`"), "{err}");
        let err = super::read(&frame, "month", "sales", Some("sales"), &[]).expect_err("twice");
        assert!(err.to_string().contains("both"), "{err}");
    }
}
