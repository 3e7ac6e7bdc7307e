//! The typed read: Polars reads the rows the byte scan has checked, with
//! the null tokens and types inferred from the first [`INFER_ROWS`] rows; a
//! later value that does not fit makes its column decimals or text and the
//! file is read again. Polars' messages name columns as the file does.

use std::path::Path;
use std::sync::Arc;

use automl::values::DecimalMark;
use polars::prelude::*;

use super::sniff::Sniffed;
use super::{IngestError, polars_message};

/// Rows Polars infers column types from; a later value that does not fit
/// its column's type makes that column decimal numbers or text.
const INFER_ROWS: usize = 10_000;

/// Reads the rows with Polars. A value that does not fit the type Polars
/// inferred from the first [`INFER_ROWS`] rows (`2.5` or `abc` in a column
/// of whole numbers) makes that column decimal numbers or text, with a note,
/// and the file is read again. Returns the frame and the columns forced to text.
pub(super) fn read_typed(
    path: &Path,
    sniffed: &Sniffed,
    tokens: &[&str],
    names: &[String],
    notes: &mut Vec<String>,
) -> Result<(DataFrame, Vec<usize>), IngestError> {
    // Each forced column, its type and why.
    let mut overrides: Vec<(usize, DataType, String)> = Vec::new();
    // Each retry adds a column or moves one from decimals to text.
    for _ in 0..=2 * names.len().min(10) {
        let types: Vec<(usize, DataType)> = overrides
            .iter()
            .map(|(i, dt, _)| (*i, dt.clone()))
            .collect();
        let err = match read_once(path, sniffed, tokens, &types) {
            Ok(frame) => {
                notes.extend(overrides.iter().map(|(_, _, why)| why.clone()));
                let text = types
                    .into_iter()
                    .filter(|(_, dt)| dt == &DataType::String)
                    .map(|(i, _)| i)
                    .collect();
                return Ok((frame, text));
            }
            Err(e) => polars_message(&e),
        };
        let Some((value, column)) = unparsed_cell(&err).filter(|(_, c)| *c < names.len()) else {
            return Err(IngestError::Parse(real_column_names(&err, names)));
        };
        let shown: String = value.chars().take(40).collect();
        // Polars reads the column again as decimals: its own float syntax
        // decides, not the grammar of numbers as people write them (type
        // repair reads those afterwards, from text).
        let number = match sniffed.decimal {
            DecimalMark::Comma => value.trim().replace(',', "."),
            DecimalMark::Point => value.trim().to_owned(),
        };
        let dtype = if number.parse::<f64>().is_ok() {
            DataType::Float64
        } else {
            DataType::String
        };
        let why = format!(
            "column `{}` is read as {} because of the value `{shown}`",
            names[column],
            if dtype == DataType::Float64 {
                "decimal numbers"
            } else {
                "text"
            }
        );
        match overrides.iter_mut().find(|(i, _, _)| *i == column) {
            None => overrides.push((column, dtype, why)),
            Some(o) if o.1 == DataType::Float64 && dtype == DataType::String => {
                *o = (column, dtype, why);
            }
            Some(_) => return Err(IngestError::Parse(real_column_names(&err, names))),
        }
    }
    Err(IngestError::Parse(
        "too many columns change type after the first rows".into(),
    ))
}

fn read_once(
    path: &Path,
    sniffed: &Sniffed,
    tokens: &[&str],
    overrides: &[(usize, DataType)],
) -> PolarsResult<DataFrame> {
    let nulls = NullValues::AllColumns(tokens.iter().map(|s| PlSmallStr::from(*s)).collect());
    let parse = CsvParseOptions::default()
        .with_separator(sniffed.delimiter)
        .with_eol_char(sniffed.eol)
        .with_null_values(Some(nulls))
        .with_missing_is_null(true)
        // `1,5` is a number in `;`-separated European exports.
        .with_decimal_comma(sniffed.decimal == DecimalMark::Comma);
    let schema = (!overrides.is_empty()).then(|| {
        Arc::new(
            overrides
                .iter()
                .map(|(i, dt)| Field::new(format!("column_{}", i + 1).into(), dt.clone()))
                .collect::<Schema>(),
        )
    });
    let rows = sniffed.data_rows + sniffed.blank_rows.len() as u64;
    CsvReadOptions::default()
        .with_has_header(false)
        // Polars reads blank lines as rows: skip those before the header
        // too, and stop before blank lines at the end.
        .with_skip_rows(usize::try_from(sniffed.lines_before_header + 1).unwrap_or(usize::MAX))
        .with_n_rows(Some(usize::try_from(rows).unwrap_or(usize::MAX)))
        .with_infer_schema_length(Some(INFER_ROWS))
        .with_schema_overwrite(schema)
        .with_parse_options(parse)
        .try_into_reader_with_file_path(Some(path.to_owned()))?
        .finish()
}

/// The value and 0-based column of Polars' "could not parse `abc` as dtype
/// `i64` at column 'column_1' (column number 1)".
fn unparsed_cell(message: &str) -> Option<(String, usize)> {
    let rest = message.strip_prefix("could not parse `")?;
    let (value, rest) = rest.rsplit_once("` as dtype `")?;
    let number = rest.rsplit_once("(column number ")?.1.strip_suffix(')')?;
    let column = number.parse::<usize>().ok()?.checked_sub(1)?;
    Some((value.to_owned(), column))
}

/// Polars' message with the file's column names for its `'column_3'`.
fn real_column_names(message: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("'column_") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "'column_".len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let name = after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| names.get(i));
        match (name, after[digits..].strip_prefix('\'')) {
            (Some(name), Some(tail)) => {
                out.push_str(&format!("`{name}`"));
                rest = tail;
            }
            _ => {
                out.push_str("'column_");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes the rows Polars made of blank lines between records.
pub(super) fn drop_blank_rows(frame: DataFrame, blank: &[u64]) -> Result<DataFrame, IngestError> {
    if blank.is_empty() {
        return Ok(frame);
    }
    let mut keep = vec![true; frame.height()];
    for &b in blank {
        if let Some(k) = usize::try_from(b).ok().and_then(|b| keep.get_mut(b)) {
            *k = false;
        }
    }
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    frame
        .filter(&mask)
        .map_err(|e| IngestError::Parse(polars_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::read;

    #[test]
    fn semicolon_files_read_decimal_commas() {
        let got = read(b"price;name\n1,5;a\n2,25;b\n").unwrap();
        let price: Vec<Option<f64>> = got
            .frame
            .column("price")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(price, vec![Some(1.5), Some(2.25)]);
        let got = read(b"price;name\n1.5;a\n2.25;\"x, y\"\n").unwrap();
        let price: Vec<Option<f64>> = got
            .frame
            .column("price")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            price,
            vec![Some(1.5), Some(2.25)],
            "dot decimals with semicolons stay numbers"
        );
    }
}
