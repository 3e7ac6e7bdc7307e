//! Type repair after Polars has read the file: text cells are trimmed,
//! cells that are null tokens once trimmed (`" NA "`) become missing, and a
//! text column whose every value is a boolean or a number as people write
//! it (`" 12 "`, `$1,234.50`, `1.234,5` with a decimal comma, `inf`) is
//! typed. Numbers are read by the one value grammar,
//! [`automl::values::read_number`], in the file's decimal mark
//! ([`NumberFormat::cells`]: `12%` stays text).

use automl::values::{DecimalMark, NumberFormat, read_number};
use polars::prelude::*;

use super::{IngestError, polars_message};

/// Trims text cells and reads cells that are null tokens after trimming
/// as missing; then a text column whose every value is a number or a
/// boolean becomes one, with a note when currency signs or thousands
/// separators were read. Columns in `keep_text` stay text. Only columns
/// that change are copied.
pub(super) fn repair_text_columns(
    frame: DataFrame,
    tokens: &[&str],
    decimal: DecimalMark,
    keep_text: &[usize],
    notes: &mut Vec<String>,
) -> Result<DataFrame, IngestError> {
    let err = |e: PolarsError| IngestError::Parse(polars_message(&e));
    let format = NumberFormat::cells(decimal);
    let mut cols: Vec<Column> = Vec::with_capacity(frame.width());
    for (i, c) in frame.columns().iter().enumerate() {
        if c.dtype() != &DataType::String {
            cols.push(c.clone());
            continue;
        }
        let trimmed = trim_cells(c.str().map_err(err)?, tokens);
        let typed = if keep_text.contains(&i) {
            None
        } else {
            typed_column(&trimmed, &format)
        };
        match typed {
            Some((column, example)) => {
                if let Some(example) = example {
                    notes.push(format!(
                        "column `{}` has currency signs or thousands separators (`{example}`); it is read as numbers",
                        c.name()
                    ));
                }
                cols.push(column);
            }
            None => cols.push(trimmed.into_column()),
        }
    }
    DataFrame::new_infer_height(cols).map_err(err)
}

/// The cells trimmed, with null tokens after trimming missing; the column
/// itself when no cell has surrounding spaces (Polars has read its null
/// tokens already).
fn trim_cells(ca: &StringChunked, tokens: &[&str]) -> StringChunked {
    if !ca.iter().flatten().any(|v| v.trim().len() != v.len()) {
        return ca.clone();
    }
    ca.iter()
        .map(|v| v.map(str::trim).filter(|t| !tokens.contains(t)))
        .collect::<StringChunked>()
        .with_name(ca.name().clone())
}

/// The column as booleans, whole numbers or decimals when every value is
/// one, with an example value when currency signs or thousands separators
/// had to be removed.
fn typed_column(ca: &StringChunked, format: &NumberFormat) -> Option<(Column, Option<String>)> {
    let name = ca.name().clone();
    if ca.null_count() == ca.len() {
        return None;
    }
    if ca
        .iter()
        .flatten()
        .all(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"))
    {
        let b: BooleanChunked = ca
            .iter()
            .map(|v| v.map(|v| v.eq_ignore_ascii_case("true")))
            .collect();
        return Some((b.with_name(name).into_column(), None));
    }
    let mut example = None;
    let mut whole = true;
    for v in ca.iter().flatten() {
        let n = read_number(v, format)?;
        whole &= n.integer.is_some();
        if n.formatted && example.is_none() {
            example = Some(v.chars().take(40).collect::<String>());
        }
    }
    let column = if whole {
        let ints: Int64Chunked = ca
            .iter()
            .map(|v| v.and_then(|v| read_number(v, format)?.integer))
            .collect();
        ints.with_name(name).into_column()
    } else {
        let floats: Float64Chunked = ca
            .iter()
            .map(|v| v.and_then(|v| Some(read_number(v, format)?.value)))
            .collect();
        floats.with_name(name).into_column()
    };
    Some((column, example))
}

#[cfg(test)]
mod tests {
    use super::super::tests::read;
    use super::*;

    #[test]
    fn infinities_make_a_column_numbers_not_text() {
        let got = read(b"x,y\n1.5,a\ninf,b\n-Infinity,c\n+INF,d\n2,e\n1e999,f\n")
            .unwrap()
            .frame;
        let x: Vec<Option<f64>> = got.column("x").unwrap().f64().unwrap().iter().collect();
        let inf = f64::INFINITY;
        assert_eq!(
            x,
            [
                Some(1.5),
                Some(inf),
                Some(-inf),
                Some(inf),
                Some(2.0),
                Some(inf)
            ]
        );
        // Words that merely start like one stay text.
        let got = read(b"x\n1\ninfo\n").unwrap().frame;
        assert_eq!(got.column("x").unwrap().dtype(), &DataType::String);
    }
}
