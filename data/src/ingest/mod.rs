//! Reading a user's CSV, in stages: the byte-level scan ([`sniff`]: not
//! CSV, UTF-16, invalid UTF-8, ragged rows, quotes Polars would misread,
//! limits, each with its line and column; line ending, delimiter, decimal
//! mark, blank lines), the typed read by Polars with a null vocabulary and
//! type inference ([`read`], again when a late value does not fit), then
//! type repair ([`repair`]: trimmed text cells, and text columns typed when
//! every value is a number or a boolean, read by the one value grammar in
//! `automl::values`). Column names are trimmed and made unique. Latin-1
//! files are transcoded first on request ([`encoding`]); the typed frame is
//! stored as Parquet ([`parquet`]). `tests/corpus.rs` holds the cases.

mod encoding;
mod formats;
mod parquet;
mod read;
mod repair;
mod sniff;

use std::path::Path;

use polars::prelude::*;

pub use encoding::latin1_to_utf8;
pub use formats::{FileOptions, Format, detect, format_note, read_file};
pub use parquet::{read_parquet, write_parquet};
pub use sniff::{Sniffed, detect_delimiter, scan};

/// Values read as missing, in every column.
pub const NULL_TOKENS: &[&str] = &[
    "", "NA", "N/A", "n/a", "na", "NULL", "null", "NaN", "nan", "?", "-", "None", "none",
];

/// The most a file may hold; the scan refuses a file beyond any of them.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_columns: usize,
    pub max_rows: u64,
    pub max_cell_bytes: usize,
    /// The most a compressed file may decompress to (the server sets its
    /// upload limit), so that a decompression bomb is refused.
    pub max_expanded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_columns: 2_000,
            max_rows: 50_000_000,
            max_cell_bytes: 1 << 20,
            max_expanded_bytes: 1 << 30,
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
    /// A file in a format Kiln reads, which cannot be read as one.
    #[error("{0}")]
    Damaged(String),
    #[error("the {what} decompresses to more than {} MB, the upload limit; upload a smaller file", limit >> 20)]
    TooLarge { what: &'static str, limit: u64 },
    #[error("the workbook has {} sheets: choose one ({})", sheets.len(), sheets.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))]
    ChooseSheet { sheets: Vec<String> },
    #[error("the workbook has no sheet `{sheet}`; its sheets are {}", sheets.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))]
    NoSuchSheet { sheet: String, sheets: Vec<String> },
    #[error("sheet `{sheet}`: {reason}")]
    Sheet { sheet: String, reason: String },
    #[error("line {line}, column {column}: not valid JSON: {reason}")]
    JsonLine {
        line: u64,
        column: u64,
        reason: String,
    },
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
            IngestError::TooLarge { .. } => "limit_exceeded",
            IngestError::Damaged(_) => "unreadable_file",
            IngestError::ChooseSheet { .. } => "choose_sheet",
            IngestError::NoSuchSheet { .. } => "unknown_sheet",
            IngestError::JsonLine { .. } => "invalid_json",
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
            | IngestError::CellTooLong { line, column, .. }
            | IngestError::JsonLine { line, column, .. } => Some((*line, *column)),
            IngestError::Ragged { line, .. } => Some((*line, 1)),
            _ => None,
        }
    }
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

/// Checks the file's bytes and reads it with Polars, then trims text cells
/// and reads text columns whose every value is a number or a boolean as one.
pub fn read_csv(path: &Path, options: &ReadOptions) -> Result<Ingested, IngestError> {
    let sniffed = scan(path, &options.limits)?;
    let (names, mut notes) = unique_names(&sniffed.header);
    notes.extend(scan_notes(&sniffed, &options.nulls));
    let tokens: Vec<&str> = NULL_TOKENS
        .iter()
        .copied()
        .chain(options.nulls.iter().map(String::as_str))
        .collect();
    let (frame, text_columns) = read::read_typed(path, &sniffed, &tokens, &names, &mut notes)?;
    let mut frame = read::drop_blank_rows(frame, &sniffed.blank_rows)?;
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
    let frame =
        repair::repair_text_columns(frame, &tokens, sniffed.decimal, &text_columns, &mut notes)?;
    Ok(Ingested {
        frame,
        notes,
        delimiter: sniffed.delimiter,
    })
}

/// Notes on what the scan found (delimiter, `sep=` line, line endings,
/// blank lines) and on the extra null tokens.
fn scan_notes(sniffed: &Sniffed, nulls: &[String]) -> Vec<String> {
    let mut notes = Vec::new();
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
    let blank = sniffed.blank_rows.len();
    if blank > 0 {
        let (s, was) = if blank == 1 {
            ("", "was")
        } else {
            ("s", "were")
        };
        notes.push(format!("{blank} blank line{s} between rows {was} skipped"));
    }
    if !nulls.is_empty() {
        let list: Vec<String> = nulls.iter().map(|t| format!("`{t}`")).collect();
        notes.push(format!("also read as missing: {}", list.join(", ")));
    }
    notes
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(f: &DataFrame) -> Vec<&str> {
        f.get_column_names()
            .into_iter()
            .map(|s| s.as_str())
            .collect()
    }

    /// A temporary file holding `bytes`; the test removes it.
    pub(super) fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "kiln-ingest-{}-{name}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// `bytes` read as a CSV with the default options.
    pub(super) fn read(bytes: &[u8]) -> Result<Ingested, IngestError> {
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
}
