//! Reading a user's CSV: a byte-level check first (empty, binary, compressed,
//! HTML, UTF-16, invalid UTF-8, ragged rows, quotes Polars would misread,
//! each with its line and column; line ending, delimiter, blank lines), then
//! Polars with a null vocabulary and type inference, then trimmed text cells
//! and text columns typed when every value is a number or a boolean. Column
//! names are trimmed and made unique. `tests/corpus.rs` holds the cases.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

/// Values read as missing, in every column.
pub const NULL_TOKENS: &[&str] = &[
    "", "NA", "N/A", "n/a", "na", "NULL", "null", "NaN", "nan", "?", "-", "None", "none",
];

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_columns: usize,
    pub max_rows: u64,
    pub max_cell_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_columns: 2_000,
            max_rows: 50_000_000,
            max_cell_bytes: 1 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has a header but no data rows")]
    NoRows,
    #[error("this is not a CSV file: it looks like {0}")]
    NotCsv(&'static str),
    #[error("the file is UTF-16 encoded; save it as UTF-8 CSV and upload it again")]
    Utf16,
    #[error(
        "line {line}, column {column}: the bytes are not valid UTF-8; the file may be Latin-1 (Windows-1252): read it as Latin-1, or save it as UTF-8"
    )]
    InvalidUtf8 { line: u64, column: u64 },
    #[error("line {line}, column {column}: a NUL byte; this looks like a binary file, not a CSV")]
    NulByte { line: u64, column: u64 },
    #[error("line {line}: {found} field{} where the header has {expected}", if *found == 1 { "" } else { "s" })]
    Ragged {
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("line {line}, column {column}: a quote opened here is never closed")]
    UnterminatedQuote { line: u64, column: u64 },
    #[error(
        "line {line}, column {column}: text follows a closing quote; write a quote inside a quoted cell as two (\"\")"
    )]
    TextAfterQuote { line: u64, column: u64 },
    #[error(
        "line {line}, column {column}: a quote in the middle of a cell runs past the cell's end; put the whole cell in quotes and double the quotes inside it"
    )]
    QuoteInCell { line: u64, column: u64 },
    #[error("line {line}, column {column}: a cell is longer than the {limit}-byte limit")]
    CellTooLong {
        line: u64,
        column: u64,
        limit: usize,
    },
    #[error("the file has more than {limit} rows, the most Kiln reads")]
    TooManyRows { limit: u64 },
    #[error("the file has {found} columns or more; at most {limit} are supported")]
    TooManyColumns { found: usize, limit: usize },
    #[error("could not parse the CSV: {0}")]
    Parse(String),
    #[error("reading the file failed: {0}")]
    Io(#[from] std::io::Error),
}

impl IngestError {
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Empty | IngestError::NoRows => "empty_file",
            IngestError::NotCsv(_) | IngestError::Utf16 | IngestError::NulByte { .. } => "not_csv",
            IngestError::InvalidUtf8 { .. } => "invalid_utf8",
            IngestError::TooManyColumns { .. }
            | IngestError::TooManyRows { .. }
            | IngestError::CellTooLong { .. } => "limit_exceeded",
            IngestError::Io(_) => "io",
            _ => "invalid_csv",
        }
    }

    /// Line and column (1-based) where the problem is, when known.
    pub fn location(&self) -> Option<(u64, u64)> {
        match self {
            IngestError::InvalidUtf8 { line, column }
            | IngestError::NulByte { line, column }
            | IngestError::UnterminatedQuote { line, column }
            | IngestError::TextAfterQuote { line, column }
            | IngestError::QuoteInCell { line, column }
            | IngestError::CellTooLong { line, column, .. } => Some((*line, *column)),
            IngestError::Ragged { line, .. } => Some((*line, 1)),
            _ => None,
        }
    }
}

/// What the byte-level scan learned.
#[derive(Debug, Clone, PartialEq)]
pub struct Sniffed {
    pub delimiter: u8,
    /// Numbers are written `1,5` (only with `;` as the delimiter).
    pub decimal_comma: bool,
    /// The byte that ends a line: `\n` (also for `\r\n`), or `\r` in
    /// files from classic Mac OS.
    pub eol: u8,
    /// Header names as written (trimmed), before deduplication.
    pub header: Vec<String>,
    pub has_bom: bool,
    /// The first line is Excel's `sep=;` hint, not the header.
    pub sep_hint: bool,
    /// Lines before the header: blank ones and the `sep=` hint.
    pub lines_before_header: u64,
    /// Data records (the header not counted).
    pub data_rows: u64,
    /// Blank lines between data records, as positions among the rows
    /// Polars reads after the header (it reads a blank line as a row of
    /// missing values; blank lines after the last record are not counted).
    pub blank_rows: Vec<u64>,
}

/// How to read a CSV: the limits, and tokens read as missing besides [`NULL_TOKENS`].
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub limits: Limits,
    /// Extra tokens read as missing (compared with trimmed cells).
    pub nulls: Vec<String>,
}

/// The dataset read from a CSV, with notes for the user.
#[derive(Debug)]
pub struct Ingested {
    pub frame: DataFrame,
    pub notes: Vec<String>,
    /// The byte that separates fields.
    pub delimiter: u8,
}

/// Rows Polars infers column types from; a later value that does not fit
/// its column's type makes that column decimal numbers or text.
const INFER_ROWS: usize = 10_000;

/// Checks the file's bytes and reads it with Polars, then trims text cells
/// and reads text columns whose every value is a number or a boolean as one.
pub fn read_csv(path: &Path, options: &ReadOptions) -> Result<Ingested, IngestError> {
    let sniffed = scan(path, &options.limits)?;
    let (names, mut notes) = unique_names(&sniffed.header);
    if sniffed.delimiter != b',' {
        notes.push(format!(
            "columns are separated by {}",
            delimiter_name(sniffed.delimiter)
        ));
    }
    if sniffed.sep_hint {
        notes.push(format!(
            "the first line `sep={}` names the delimiter; it is not a row",
            char::from(sniffed.delimiter)
        ));
    }
    if sniffed.eol == b'\r' {
        notes.push("lines end with a carriage return only (classic Mac OS line endings)".into());
    }
    if !sniffed.blank_rows.is_empty() {
        notes.push(format!(
            "{} blank line{} between rows {} skipped",
            sniffed.blank_rows.len(),
            if sniffed.blank_rows.len() == 1 {
                ""
            } else {
                "s"
            },
            if sniffed.blank_rows.len() == 1 {
                "was"
            } else {
                "were"
            },
        ));
    }
    if !options.nulls.is_empty() {
        let list: Vec<String> = options.nulls.iter().map(|t| format!("`{t}`")).collect();
        notes.push(format!("also read as missing: {}", list.join(", ")));
    }
    let tokens: Vec<&str> = NULL_TOKENS
        .iter()
        .copied()
        .chain(options.nulls.iter().map(String::as_str))
        .collect();
    let (frame, text_columns) = read_typed(path, &sniffed, &tokens, &names, &mut notes)?;
    let mut frame = drop_blank_rows(frame, &sniffed.blank_rows)?;
    if frame.height() as u64 != sniffed.data_rows {
        return Err(IngestError::Parse(format!(
            "{} rows were read where the file has {}",
            frame.height(),
            sniffed.data_rows
        )));
    }
    if frame.width() != names.len() {
        return Err(IngestError::Parse(format!(
            "{} columns were read where the header has {}",
            frame.width(),
            names.len()
        )));
    }
    frame
        .set_column_names(&names)
        .map_err(|e| IngestError::Parse(polars_message(&e)))?;
    let frame = clean_text_columns(
        frame,
        &tokens,
        sniffed.decimal_comma,
        &text_columns,
        &mut notes,
    )?;
    Ok(Ingested {
        frame,
        notes,
        delimiter: sniffed.delimiter,
    })
}

/// Reads the rows with Polars. A value that does not fit the type Polars
/// inferred from the first [`INFER_ROWS`] rows (`2.5` or `abc` in a column
/// of whole numbers) makes that column decimal numbers or text, with a note,
/// and the file is read again. Returns the frame and the columns forced to text.
fn read_typed(
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
        let number = if sniffed.decimal_comma {
            value.trim().replace(',', ".")
        } else {
            value.trim().to_owned()
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
        .with_decimal_comma(sniffed.decimal_comma);
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
fn drop_blank_rows(frame: DataFrame, blank: &[u64]) -> Result<DataFrame, IngestError> {
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

/// Extra missing-value tokens from a comma-separated list (`-999,unknown`):
/// trimmed, empty ones dropped, at most 100 of at most 100 bytes each.
pub fn parse_null_tokens(list: &str) -> Result<Vec<String>, String> {
    let tokens: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if tokens.len() > 100 {
        return Err(format!(
            "{} missing-value tokens; at most 100 are accepted",
            tokens.len()
        ));
    }
    if let Some(t) = tokens.iter().find(|t| t.len() > 100) {
        return Err(format!(
            "the missing-value token `{}…` is longer than 100 bytes",
            t.chars().take(20).collect::<String>()
        ));
    }
    Ok(tokens)
}

fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => "semicolons",
        b'\t' => "tabs",
        b'|' => "pipes",
        _ => "commas",
    }
}

fn polars_message(e: &PolarsError) -> String {
    let s = e.to_string();
    // Polars appends advice about its own options; keep the first sentence.
    s.lines().next().unwrap_or(&s).trim().to_owned()
}

/// Trims text cells and reads cells that are null tokens after trimming
/// (`" NA "`) as missing; then a text column whose every value is a number
/// (`" 12 "`, `$1,234.50`) or a boolean becomes one. Columns in
/// `keep_text` stay text. Only columns that change are copied.
fn clean_text_columns(
    frame: DataFrame,
    tokens: &[&str],
    decimal_comma: bool,
    keep_text: &[usize],
    notes: &mut Vec<String>,
) -> Result<DataFrame, IngestError> {
    let err = |e: PolarsError| IngestError::Parse(polars_message(&e));
    let mut cols: Vec<Column> = Vec::with_capacity(frame.width());
    for (i, c) in frame.columns().iter().enumerate() {
        if c.dtype() != &DataType::String {
            cols.push(c.clone());
            continue;
        }
        let ca = c.str().map_err(err)?;
        let padded = ca.iter().flatten().any(|v| v.trim().len() != v.len());
        let trimmed: StringChunked = if padded {
            ca.iter()
                .map(|v| v.map(str::trim).filter(|t| !tokens.contains(t)))
                .collect::<StringChunked>()
                .with_name(c.name().clone())
        } else {
            ca.clone()
        };
        let typed = if keep_text.contains(&i) {
            None
        } else {
            typed_column(&trimmed, decimal_comma)
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

/// The column as booleans, whole numbers or decimals when every value is
/// one, with an example value when currency signs or thousands separators
/// had to be removed.
fn typed_column(ca: &StringChunked, decimal_comma: bool) -> Option<(Column, Option<String>)> {
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
        let n = cell_number(v, decimal_comma)?;
        whole &= n.integer.is_some();
        if n.formatted && example.is_none() {
            example = Some(v.chars().take(40).collect::<String>());
        }
    }
    let column = if whole {
        let ints: Int64Chunked = ca
            .iter()
            .map(|v| v.and_then(|v| parse_number(v, decimal_comma)?.integer))
            .collect();
        ints.with_name(name).into_column()
    } else {
        let floats: Float64Chunked = ca
            .iter()
            .map(|v| v.and_then(|v| Some(cell_number(v, decimal_comma)?.value)))
            .collect();
        floats.with_name(name).into_column()
    };
    Some((column, example))
}

/// A number as written in a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Number {
    value: f64,
    /// The value, when it is written without a fraction or exponent and fits.
    integer: Option<i64>,
    /// Written with a currency sign or thousands separators.
    formatted: bool,
}

/// A number as written in a cell ([`parse_number`]), or an infinity
/// ([`parse_infinity`]).
fn cell_number(cell: &str, decimal_comma: bool) -> Option<Number> {
    parse_number(cell, decimal_comma).or_else(|| {
        parse_infinity(cell).map(|value| Number {
            value,
            integer: None,
            formatted: false,
        })
    })
}

/// `inf`, `-inf`, `+Infinity` in any case: an infinite number, as Polars,
/// pandas and Rust read it (and as a division by zero writes it). The
/// column is numbers; the profile counts the infinities and the quality
/// report suggests reading them as missing.
fn parse_infinity(cell: &str) -> Option<f64> {
    let (negative, s) = strip_sign(cell);
    (s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("infinity")).then_some(if negative {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    })
}

/// Parses `-12`, `3.5`, `1e-3`, and formatted amounts: a currency sign
/// (`$ € £ ¥`) before or after, thousands separators in groups of three
/// (`,` with a decimal point, `.` with a decimal comma). Not `12%`, `inf`
/// or `NaN`.
fn parse_number(cell: &str, decimal_comma: bool) -> Option<Number> {
    const CURRENCY: [char; 4] = ['$', '€', '£', '¥'];
    let (point, thousands) = if decimal_comma {
        (',', '.')
    } else {
        ('.', ',')
    };
    let (negative, s) = strip_sign(cell);
    let (currency, negative, s) = match s.strip_prefix(CURRENCY) {
        // `$-5` as well as `-$5`.
        Some(r) if !negative => {
            let (negative, r) = strip_sign(r.trim_start());
            (true, negative, r)
        }
        Some(r) => (true, negative, r.trim_start()),
        None => match s.strip_suffix(CURRENCY) {
            Some(r) => (true, negative, r.trim_end()),
            None => (false, negative, s),
        },
    };
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int_part, frac) = match mantissa.split_once(point) {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let grouped = int_part.contains(thousands);
    let int_ok = if grouped {
        let mut groups = int_part.split(thousands);
        let first = groups.next().unwrap_or_default();
        digits(first) && first.len() <= 3 && groups.all(|g| g.len() == 3 && digits(g))
    } else {
        digits(int_part) || (int_part.is_empty() && frac.is_some_and(digits))
    };
    let frac_ok = frac.is_none_or(|f| digits(f) || (f.is_empty() && !int_part.is_empty()));
    let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    let formatted = grouped || currency;
    if !(int_ok && frac_ok && exp_ok) || (formatted && exponent.is_some()) {
        return None;
    }
    let mut plain = String::with_capacity(s.len() + 1);
    if negative {
        plain.push('-');
    }
    plain.extend(int_part.chars().filter(|&c| c != thousands));
    if let Some(f) = frac {
        plain.push('.');
        plain.push_str(f);
    }
    if let Some(e) = exponent {
        plain.push('e');
        plain.push_str(e);
    }
    let value = plain.parse::<f64>().ok()?;
    let integer = if frac.is_none() && exponent.is_none() {
        plain.parse::<i64>().ok()
    } else {
        None
    };
    Some(Number {
        value,
        integer,
        formatted,
    })
}

/// Whether `s` starts with a minus sign, and `s` without its sign.
fn strip_sign(s: &str) -> (bool, &str) {
    match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    }
}

/// Trims header names and makes them unique and non-empty.
pub fn unique_names(header: &[String]) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    let mut notes = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let base = if raw.is_empty() {
            let n = format!("column_{}", i + 1);
            notes.push(format!("column {} has no name; it is called `{n}`", i + 1));
            n
        } else {
            raw.clone()
        };
        let mut name = base.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        if name != base {
            notes.push(format!(
                "column {} repeats the name `{base}`; it is called `{name}`",
                i + 1
            ));
        }
        names.push(name);
    }
    (names, notes)
}

/// Reads the file once, in chunks: rejects non-CSV content, checks UTF-8,
/// detects the line ending and the delimiter, and checks that every record
/// has the header's number of fields and that quotes close.
pub fn scan(path: &Path, limits: &Limits) -> Result<Sniffed, IngestError> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    let mut state = Scanner::default();
    let mut sniffed: Option<Sniffed> = None;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        if first {
            first = false;
            check_magic(&chunk)?;
            let has_bom = chunk.starts_with(&[0xEF, 0xBB, 0xBF]);
            if has_bom {
                chunk.drain(..3);
            }
            let eol = if !chunk.contains(&b'\n') && chunk.contains(&b'\r') {
                b'\r'
            } else {
                b'\n'
            };
            let hint = sep_hint(&chunk, eol);
            if let Some((_, len)) = hint {
                chunk.drain(..len);
                state.line = 1;
                state.record_line = 1;
                state.lines_before_header = 1;
            }
            let delimiter = hint.map_or_else(|| detect_delimiter(&chunk, eol), |(d, _)| d);
            state.delimiter = delimiter;
            state.eol = eol;
            state.max_cell = limits.max_cell_bytes;
            state.at_field_start = true;
            state.special = vec![0; 256];
            for b in [0, b'"', eol] {
                state.special[usize::from(b)] = SPECIAL_UNQUOTED | SPECIAL_QUOTED;
            }
            for b in [delimiter, b'\r'] {
                state.special[usize::from(b)] |= SPECIAL_UNQUOTED;
            }
            sniffed = Some(Sniffed {
                delimiter,
                decimal_comma: delimiter == b';' && decimal_comma(&chunk),
                eol,
                header: Vec::new(),
                has_bom,
                sep_hint: hint.is_some(),
                lines_before_header: 0,
                data_rows: 0,
                blank_rows: Vec::new(),
            });
        }
        // Validate UTF-8, keeping an incomplete sequence at the end for the next chunk.
        let valid_len = match std::str::from_utf8(&chunk) {
            Ok(_) => chunk.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => {
                let (line, column) = state.position_after(&chunk[..e.valid_up_to()]);
                return Err(IngestError::InvalidUtf8 { line, column });
            }
        };
        carry = chunk[valid_len..].to_vec();
        state.feed(&chunk[..valid_len], limits)?;
    }
    if !carry.is_empty() {
        let (line, column) = state.position_after(&[]);
        return Err(IngestError::InvalidUtf8 { line, column });
    }
    let Some(mut sniffed) = sniffed else {
        return Err(IngestError::Empty);
    };
    state.finish()?;
    if state.header.iter().all(String::is_empty) && state.records <= 1 {
        return Err(IngestError::Empty);
    }
    if state.records <= 1 {
        return Err(IngestError::NoRows);
    }
    sniffed.header = state.header;
    sniffed.lines_before_header = state.lines_before_header;
    sniffed.data_rows = state.records - 1;
    sniffed.blank_rows = state.blank_rows;
    Ok(sniffed)
}

/// Excel's first line `sep=;`: the delimiter and the line's length.
fn sep_hint(head: &[u8], eol: u8) -> Option<(u8, usize)> {
    let d = *head.strip_prefix(b"sep=")?.first()?;
    if ![b',', b';', b'\t', b'|'].contains(&d) {
        return None;
    }
    let rest = &head[5..];
    let end = if rest.starts_with(b"\r\n") {
        2
    } else if rest.first() == Some(&eol) {
        1
    } else {
        return None;
    };
    Some((d, 5 + end))
}

fn check_magic(head: &[u8]) -> Result<(), IngestError> {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&[0x1F, 0x8B]) {
        return Err(IngestError::NotCsv(
            "a gzip-compressed file; decompress it first",
        ));
    }
    if starts(b"PK\x03\x04") {
        // An Office file is a ZIP whose first entries name its parts.
        let has = |part: &[u8]| head.windows(part.len()).any(|w| w == part);
        return Err(IngestError::NotCsv(if has(b"xl/") {
            "an Excel workbook (.xlsx), not a CSV; in Excel, save the sheet as “CSV UTF-8” and upload that"
        } else if has(b"word/") {
            "a Word document (.docx); export the table as CSV"
        } else {
            "a ZIP archive or an Excel workbook; unzip it, or export the sheet as CSV"
        }));
    }
    if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(IngestError::NotCsv(
            "an Excel 97–2003 workbook (.xls) or another old Office file; in Excel, save the sheet as “CSV UTF-8” and upload that",
        ));
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Err(IngestError::NotCsv("a PNG image"));
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Err(IngestError::NotCsv("a JPEG image"));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Err(IngestError::NotCsv("a GIF image"));
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Err(IngestError::NotCsv("a WebP image"));
    }
    if starts(b"II*\x00") || starts(b"MM\x00*") {
        return Err(IngestError::NotCsv("a TIFF image"));
    }
    if starts(b"SQLite format 3\x00") {
        return Err(IngestError::NotCsv(
            "an SQLite database; export the table as CSV",
        ));
    }
    if starts(b"\x7fELF") {
        return Err(IngestError::NotCsv("a program, not data"));
    }
    if starts(b"BZh")
        || starts(&[0xFD, b'7', b'z', b'X', b'Z'])
        || starts(&[0x28, 0xB5, 0x2F, 0xFD])
        || starts(b"7z\xBC\xAF\x27\x1C")
        || starts(b"Rar!\x1A\x07")
    {
        return Err(IngestError::NotCsv(
            "a compressed file; decompress it first",
        ));
    }
    if starts(b"PAR1") {
        return Err(IngestError::NotCsv(
            "a Parquet file; export it as CSV (for example with Polars or pandas)",
        ));
    }
    if starts(b"%PDF") {
        return Err(IngestError::NotCsv(
            "a PDF document; export the table from the program that made it as CSV",
        ));
    }
    if starts(&[0xFF, 0xFE]) || starts(&[0xFE, 0xFF]) || looks_like_utf16(head) {
        return Err(IngestError::Utf16);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(512)])
        .trim_start()
        .to_ascii_lowercase();
    if text.starts_with("<!doctype html") || text.starts_with("<html") || text.starts_with("<?xml")
    {
        return Err(IngestError::NotCsv("an HTML or XML page"));
    }
    Ok(())
}

/// UTF-16 without a byte order mark: ASCII text with a NUL byte before or
/// after every character.
fn looks_like_utf16(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(64) & !1];
    if sample.len() < 4 {
        return false;
    }
    let zeros = |offset: usize| {
        sample
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let half = sample.len() / 2;
    (zeros(0) == 0 && zeros(1) == half) || (zeros(0) == half && zeros(1) == 0)
}

/// The delimiter among `,` `;` tab `|`: the one that occurs (outside
/// quotes) the same number of times on each of the first 20 lines, the
/// most often if several do; otherwise the most common one in the first
/// line; a comma when none occurs.
pub fn detect_delimiter(head: &[u8], eol: u8) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut lines: Vec<[usize; 4]> = Vec::new();
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    let mut content = false;
    for &b in head {
        if b == b'"' {
            in_quotes = !in_quotes;
            content = true;
        } else if in_quotes {
        } else if b == eol {
            if content {
                lines.push(counts);
                if lines.len() == 20 {
                    break;
                }
            }
            counts = [0; 4];
            content = false;
        } else if b != b'\r' {
            content = true;
            if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                counts[i] += 1;
            }
        }
    }
    if lines.is_empty() && content {
        lines.push(counts);
    }
    let Some(first) = lines.first().copied() else {
        return b',';
    };
    let best = |eligible: &dyn Fn(usize) -> bool| {
        (0..4)
            .filter(|&i| first[i] > 0 && eligible(i))
            .max_by_key(|&i| (first[i], usize::MAX - i))
    };
    let consistent = |i: usize| lines.len() > 1 && lines.iter().all(|l| l[i] == first[i]);
    best(&consistent)
        .or_else(|| best(&|_| true))
        .map_or(b',', |i| CANDIDATES[i])
}

/// Whether numbers in `head` are written with a decimal comma: a digit,
/// comma, digit outside quotes is more common than a digit, dot, digit, or
/// dots group thousands before a decimal comma (`1.234,50`).
fn decimal_comma(head: &[u8]) -> bool {
    let (mut commas, mut dots) = (0usize, 0usize);
    let mut grouped = false;
    let mut in_quotes = false;
    for (i, w) in head.windows(3).enumerate() {
        if w[0] == b'"' {
            in_quotes = !in_quotes;
        }
        if !in_quotes && w[0].is_ascii_digit() && w[2].is_ascii_digit() {
            match w[1] {
                b',' => commas += 1,
                b'.' => {
                    dots += 1;
                    let after = &head[i + 2..];
                    grouped |= after.len() > 4
                        && after[..3].iter().all(u8::is_ascii_digit)
                        && after[3] == b','
                        && after[4].is_ascii_digit();
                }
                _ => {}
            }
        }
    }
    commas > dots || (commas > 0 && grouped)
}

/// In [`Scanner::special`]: bytes that end a run of plain text outside
/// quotes (NUL, quote, delimiter, line end, `\r`) and inside a quoted field
/// (NUL, quote, line end).
const SPECIAL_UNQUOTED: u8 = 1;
const SPECIAL_QUOTED: u8 = 2;

/// A quote-aware record counter that keeps line and column.
#[derive(Debug, Default)]
struct Scanner {
    /// Byte classes (`SPECIAL_*` bits), set with the delimiter and line end.
    special: Vec<u8>,
    delimiter: u8,
    eol: u8,
    max_cell: usize,
    line: u64,
    column: u64,
    in_quotes: bool,
    /// The field began with a quote.
    quoted_field: bool,
    /// The last byte closed a quoted field.
    after_quote: bool,
    /// A `\r` followed the closing quote (where): only a line end may follow.
    cr_after_quote: Option<(u64, u64)>,
    /// No byte of the current field has been seen.
    at_field_start: bool,
    quote_line: u64,
    quote_column: u64,
    fields: usize,
    cell_len: usize,
    /// 1-based column where the current cell starts.
    cell_start: u64,
    record_has_content: bool,
    record_line: u64,
    records: u64,
    header: Vec<String>,
    current: Vec<u8>,
    expected: usize,
    lines_before_header: u64,
    /// Rows Polars reads after the header so far: records and blank lines.
    polars_rows: u64,
    /// Blank lines after the last record so far.
    pending_blank: Vec<u64>,
    blank_rows: Vec<u64>,
}

impl Scanner {
    fn position_after(&self, bytes: &[u8]) -> (u64, u64) {
        let mut line = self.line + 1;
        let mut column = self.column + 1;
        for &b in bytes {
            if b == self.eol {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        (line, column)
    }

    /// Bytes in a data record that need no state change but the counters:
    /// the length of the run at the start of `bytes`.
    fn plain_run(&self, bytes: &[u8]) -> usize {
        if self.records == 0 || self.after_quote || self.cr_after_quote.is_some() {
            return 0;
        }
        let mask = if !self.in_quotes {
            SPECIAL_UNQUOTED
        } else if self.quoted_field {
            SPECIAL_QUOTED
        } else {
            return 0;
        };
        bytes
            .iter()
            .position(|&b| self.special[usize::from(b)] & mask != 0)
            .unwrap_or(bytes.len())
    }

    fn feed(&mut self, bytes: &[u8], limits: &Limits) -> Result<(), IngestError> {
        let mut i = 0;
        while i < bytes.len() {
            // Most bytes are ordinary text inside a cell: count them in one go.
            let run = self.plain_run(&bytes[i..]);
            if run > 0 {
                i += run;
                self.column += run as u64;
                self.cell_len += run;
                self.at_field_start = false;
                if !self.in_quotes {
                    self.record_has_content = true;
                }
                if self.cell_len > self.max_cell {
                    return Err(IngestError::CellTooLong {
                        line: self.line + 1,
                        column: self.cell_start.max(1),
                        limit: self.max_cell,
                    });
                }
                continue;
            }
            let b = bytes[i];
            i += 1;
            if b == 0 {
                return Err(IngestError::NulByte {
                    line: self.line + 1,
                    column: self.column + 1,
                });
            }
            if self.records == 0 {
                self.current.push(b);
            }
            let field_start = std::mem::replace(&mut self.at_field_start, false);
            if self.in_quotes {
                if b == b'"' {
                    self.in_quotes = false;
                    self.after_quote = self.quoted_field;
                } else if !self.quoted_field && (b == self.eol || b == self.delimiter) {
                    // Polars splits fields at quotes that open a field only,
                    // but lines at every quote: no reader agrees on these.
                    return Err(IngestError::QuoteInCell {
                        line: self.quote_line,
                        column: self.quote_column,
                    });
                }
            } else if let (Some((line, column)), true) = (self.cr_after_quote, b != self.eol) {
                return Err(IngestError::TextAfterQuote { line, column });
            } else if b == b'"' {
                self.in_quotes = true;
                self.record_has_content = true;
                if self.after_quote {
                    // `""` inside a quoted field is one quote.
                    self.after_quote = false;
                } else {
                    self.quoted_field = field_start;
                    self.quote_line = self.line + 1;
                    self.quote_column = self.column + 1;
                }
            } else if b == self.delimiter {
                self.fields += 1;
                self.cell_len = 0;
                self.cell_start = self.column + 2;
                self.record_has_content = true;
                self.at_field_start = true;
                self.quoted_field = false;
                self.after_quote = false;
                // Stop a very wide header at once: it is the one line kept in memory.
                if self.records == 0 && self.fields >= limits.max_columns {
                    return Err(IngestError::TooManyColumns {
                        found: self.fields + 1,
                        limit: limits.max_columns,
                    });
                }
            } else if b == self.eol {
                self.end_record(limits)?;
            } else if b == b'\r' {
                if self.after_quote {
                    self.cr_after_quote = Some((self.line + 1, self.column + 1));
                }
            } else {
                if self.after_quote {
                    return Err(IngestError::TextAfterQuote {
                        line: self.line + 1,
                        column: self.column + 1,
                    });
                }
                self.record_has_content = true;
            }
            if b == self.eol {
                self.line += 1;
                self.column = 0;
                if !self.in_quotes {
                    self.cell_start = 1;
                }
            } else {
                self.column += 1;
                self.cell_len += 1;
                if self.cell_len > self.max_cell {
                    return Err(IngestError::CellTooLong {
                        line: self.line + 1,
                        column: self.cell_start.max(1),
                        limit: self.max_cell,
                    });
                }
            }
        }
        Ok(())
    }

    fn end_record(&mut self, limits: &Limits) -> Result<(), IngestError> {
        let found = self.fields + 1;
        let has_content = self.record_has_content;
        self.fields = 0;
        self.cell_len = 0;
        self.record_has_content = false;
        self.at_field_start = true;
        self.quoted_field = false;
        self.after_quote = false;
        self.cr_after_quote = None;
        let line = self.record_line + 1;
        self.record_line = self.line + 1;
        if !has_content {
            // Blank lines are skipped, like every CSV reader does.
            if self.records == 0 {
                self.current.clear();
                self.lines_before_header += 1;
            } else {
                self.pending_blank.push(self.polars_rows);
                self.polars_rows += 1;
            }
            return Ok(());
        }
        if self.records == 0 {
            self.header = parse_header(&self.current, self.delimiter, self.eol);
            self.current = Vec::new();
            self.expected = self.header.len();
            if self.expected > limits.max_columns {
                return Err(IngestError::TooManyColumns {
                    found: self.expected,
                    limit: limits.max_columns,
                });
            }
        } else if found != self.expected {
            return Err(IngestError::Ragged {
                line,
                expected: self.expected,
                found,
            });
        } else {
            self.blank_rows.append(&mut self.pending_blank);
            self.polars_rows += 1;
        }
        self.records += 1;
        // The header is a record too.
        if self.records > limits.max_rows.saturating_add(1) {
            return Err(IngestError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), IngestError> {
        if self.in_quotes {
            return Err(IngestError::UnterminatedQuote {
                line: self.quote_line,
                column: self.quote_column,
            });
        }
        if self.record_has_content || self.fields > 0 {
            self.end_record(&Limits {
                max_columns: usize::MAX,
                max_rows: u64::MAX,
                max_cell_bytes: usize::MAX,
            })?;
        }
        Ok(())
    }
}

/// Splits one CSV record (quote-aware) into trimmed names.
fn parse_header(bytes: &[u8], delimiter: u8, eol: u8) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches([char::from(eol), '\n', '\r']);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            c if c == delimiter as char && !in_quotes => {
                out.push(std::mem::take(&mut cur).trim().to_owned())
            }
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

/// Windows-1252 for bytes 0x80..=0x9F; Latin-1 (the byte's own code point) elsewhere.
const CP1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Rewrites a Latin-1 / Windows-1252 file at `from` as UTF-8 at `to`, in chunks.
/// A file that is not text (an image, a workbook, an archive) is refused
/// as such first: every byte is valid Latin-1, so after transcoding it would
/// no longer be recognised.
pub fn latin1_to_utf8(from: &Path, to: &Path) -> Result<(), IngestError> {
    use std::io::{BufWriter, Write};
    let mut input = File::open(from)?;
    let mut out = BufWriter::new(File::create(to)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(2 << 20);
    let mut first = true;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if std::mem::take(&mut first) {
            check_magic(&buf[..n])?;
        }
        text.clear();
        text.extend(buf[..n].iter().map(|&b| match b {
            0x80..=0x9F => CP1252[usize::from(b - 0x80)],
            _ => char::from(b),
        }));
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Writes the frame as Parquet to `path`.
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> Result<(), IngestError> {
    let file = File::create(path)?;
    ParquetWriter::new(file)
        .finish(frame)
        .map_err(|e| IngestError::Parse(polars_message(&e)))?;
    Ok(())
}

pub fn read_parquet(path: &Path) -> Result<DataFrame, IngestError> {
    let file = File::open(path)?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| IngestError::Parse(polars_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(f: &DataFrame) -> Vec<&str> {
        f.get_column_names()
            .into_iter()
            .map(|s| s.as_str())
            .collect()
    }

    fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "kiln-ingest-{}-{name}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn read(bytes: &[u8]) -> Result<Ingested, IngestError> {
        let p = write("t.csv", bytes);
        let r = read_csv(&p, &ReadOptions::default());
        std::fs::remove_file(p).unwrap();
        r
    }

    #[test]
    fn reads_nulls_trims_and_infers_types() {
        let got = read(b"a,b,c\n1, x ,2.5\nNA,y,?\n3,  NA ,4\n").unwrap();
        let f = got.frame;
        assert_eq!(f.shape(), (3, 3));
        assert_eq!(f.column("a").unwrap().dtype(), &DataType::Int64);
        assert_eq!(f.column("a").unwrap().null_count(), 1);
        let b: Vec<Option<&str>> = f.column("b").unwrap().str().unwrap().iter().collect();
        assert_eq!(b, vec![Some("x"), Some("y"), None]);
        assert_eq!(f.column("c").unwrap().dtype(), &DataType::Float64);
    }

    #[test]
    fn detects_semicolons_tabs_and_handles_bom_crlf() {
        let got = read(b"\xEF\xBB\xBFx;y\r\n1;2\r\n3;4\r\n").unwrap();
        assert_eq!(names_of(&got.frame), vec!["x", "y"]);
        assert_eq!(got.frame.column("y").unwrap().dtype(), &DataType::Int64);
        let got = read(b"x\ty\n1\t2\n").unwrap();
        assert_eq!(got.frame.width(), 2);
    }

    #[test]
    fn quoted_fields_may_hold_newlines_and_delimiters() {
        let got = read(b"id,text\n1,\"hello, world\nagain\"\n2,plain\n").unwrap();
        assert_eq!(got.frame.height(), 2);
    }

    #[test]
    fn duplicate_and_empty_names_are_made_unique_with_a_note() {
        let got = read(b"a,a,,b\n1,2,3,4\n").unwrap();
        assert_eq!(names_of(&got.frame), vec!["a", "a_2", "column_3", "b"]);
        assert_eq!(got.notes.len(), 2);
    }

    #[test]
    fn precise_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"a,b\n", "no data rows"),
            (
                b"a,b\n1,2\n3,4,5\n",
                "line 3: 3 fields where the header has 2",
            ),
            (b"a,b\n1,\"open\n2,3\n", "line 2, column 3: a quote"),
            (
                b"a,b\n1,\xff\n",
                "line 2, column 3: the bytes are not valid UTF-8",
            ),
            (b"a,b\n1,\x00\n", "line 2, column 3: a NUL byte"),
            (b"\x1f\x8b\x08\x00rest", "gzip"),
            (b"PK\x03\x04rest", "ZIP"),
            (b"<!DOCTYPE html><html></html>", "HTML"),
            (b"\xff\xfea\x00,\x00", "UTF-16"),
        ];
        for (bytes, want) in cases {
            let err = read(bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{bytes:?}: got `{err}`, want `{want}`");
        }
    }

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

    #[test]
    fn latin1_files_read_after_transcoding() {
        let src = write("latin1.csv", b"name,city\nJos\xe9,Z\xfcrich\nA\x80,x\n");
        assert!(
            read_csv(&src, &ReadOptions::default())
                .unwrap_err()
                .to_string()
                .contains("Latin-1")
        );
        let dst = src.with_extension("utf8");
        latin1_to_utf8(&src, &dst).unwrap();
        let f = read_csv(&dst, &ReadOptions::default()).unwrap().frame;
        let names: Vec<Option<&str>> = f.column("name").unwrap().str().unwrap().iter().collect();
        assert_eq!(names, vec![Some("José"), Some("A€")]);
        std::fs::remove_file(src).unwrap();
        std::fs::remove_file(dst).unwrap();
    }

    #[test]
    fn a_binary_file_read_as_latin1_is_still_named() {
        // Every byte is Latin-1, so the check must come before transcoding.
        let src = write("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
        let dst = src.with_extension("utf8");
        let err = latin1_to_utf8(&src, &dst).unwrap_err().to_string();
        assert!(err.contains("a PNG image"), "{err}");
        std::fs::remove_file(src).unwrap();
        let _ = std::fs::remove_file(dst);
    }

    #[test]
    fn too_many_columns_is_a_limit_error() {
        let header: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        let csv = format!("{}\n{}\n", header.join(","), vec!["1"; 20].join(","));
        let p = write("wide.csv", csv.as_bytes());
        let err = read_csv(
            &p,
            &ReadOptions {
                limits: Limits {
                    max_columns: 10,
                    ..Limits::default()
                },
                ..ReadOptions::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("at most 10"), "{err}");
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn a_long_cell_stops_at_the_limit_with_its_place() {
        let mut csv = b"a,b\n1,".to_vec();
        csv.extend(std::iter::repeat_n(b'x', 5000));
        let p = write("long-cell.csv", &csv);
        let err = read_csv(
            &p,
            &ReadOptions {
                limits: Limits {
                    max_cell_bytes: 1000,
                    ..Limits::default()
                },
                ..ReadOptions::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("line 2, column 3:"), "{err}");
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn too_many_rows_is_a_limit_error() {
        let p = write("long.csv", b"a\n1\n2\n3\n");
        let err = read_csv(
            &p,
            &ReadOptions {
                limits: Limits {
                    max_rows: 2,
                    ..Limits::default()
                },
                ..ReadOptions::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("more than 2 rows"), "{err}");
        assert!(
            read_csv(
                &p,
                &ReadOptions {
                    limits: Limits {
                        max_rows: 3,
                        ..Limits::default()
                    },
                    ..ReadOptions::default()
                }
            )
            .is_ok()
        );
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn numbers_as_written() {
        let n = |s: &str, comma: bool| {
            parse_number(s, comma).map(|n| (n.value, n.integer, n.formatted))
        };
        assert_eq!(n("-12", false), Some((-12.0, Some(-12), false)));
        assert_eq!(n("+3.5", false), Some((3.5, None, false)));
        assert_eq!(n("1e3", false), Some((1000.0, None, false)));
        assert_eq!(n(".5", false), Some((0.5, None, false)));
        assert_eq!(n("$1,234.50", false), Some((1234.5, None, true)));
        assert_eq!(n("-$5", false), Some((-5.0, Some(-5), true)));
        assert_eq!(n("$-5", false), Some((-5.0, Some(-5), true)));
        assert_eq!(
            n("12,345,678", false),
            Some((12_345_678.0, Some(12_345_678), true))
        );
        assert_eq!(n("1.234,5", true), Some((1234.5, None, true)));
        assert_eq!(n("5 €", true), Some((5.0, Some(5), true)));
        for bad in [
            "",
            "-",
            "$",
            "1,23",
            "12%",
            "inf",
            "NaN",
            "1.2.3",
            "1,234.5e3",
            "e5",
            "0x10",
            "1 234",
        ] {
            assert_eq!(n(bad, false), None, "{bad}");
        }
        assert_eq!(
            n("1.5", true),
            None,
            "a dot is a thousands separator with a decimal comma"
        );
    }

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

    #[test]
    fn parquet_round_trip() {
        let mut got = read(b"a,b\n1,x\n2,y\n").unwrap().frame;
        let p =
            std::env::temp_dir().join(format!("kiln-{}.parquet", uuid::Uuid::new_v4().simple()));
        write_parquet(&mut got, &p).unwrap();
        let back = read_parquet(&p).unwrap();
        assert!(back.equals_missing(&got));
        std::fs::remove_file(p).unwrap();
    }
}
