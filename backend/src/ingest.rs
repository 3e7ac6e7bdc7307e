//! Reading a user's CSV: a byte-level check first (empty, binary, compressed,
//! HTML, UTF-16, invalid UTF-8, ragged rows, unterminated quotes, each with
//! its line and column), then Polars with a null vocabulary and type
//! inference. Column names are trimmed and made unique.

use std::fs::File;
use std::io::Read;
use std::path::Path;

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
    #[error("line {line}: {found} fields where the header has {expected}")]
    Ragged {
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("line {line}, column {column}: a quote opened here is never closed")]
    UnterminatedQuote { line: u64, column: u64 },
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
    /// Header names as written (trimmed), before deduplication.
    pub header: Vec<String>,
    pub has_bom: bool,
}

/// The dataset read from a CSV, with notes for the user.
#[derive(Debug)]
pub struct Ingested {
    pub frame: DataFrame,
    pub notes: Vec<String>,
}

/// Checks the file's bytes and reads it with Polars.
pub fn read_csv(path: &Path, limits: &Limits) -> Result<Ingested, IngestError> {
    let sniffed = scan(path, limits)?;
    let (names, mut notes) = unique_names(&sniffed.header);
    if sniffed.delimiter != b',' {
        notes.push(format!(
            "columns are separated by {}",
            delimiter_name(sniffed.delimiter)
        ));
    }
    let nulls = NullValues::AllColumns(NULL_TOKENS.iter().map(|s| PlSmallStr::from(*s)).collect());
    let parse = CsvParseOptions::default()
        .with_separator(sniffed.delimiter)
        .with_null_values(Some(nulls))
        .with_missing_is_null(true)
        // `1,5` is a number in `;`-separated European exports.
        .with_decimal_comma(sniffed.decimal_comma);
    let frame = CsvReadOptions::default()
        .with_has_header(false)
        .with_skip_rows(1)
        .with_infer_schema_length(Some(10_000))
        .with_parse_options(parse)
        .try_into_reader_with_file_path(Some(path.to_owned()))
        .and_then(|r| r.finish())
        .map_err(|e| IngestError::Parse(polars_message(&e)))?;
    if frame.height() == 0 {
        return Err(IngestError::NoRows);
    }
    let mut frame = frame;
    frame
        .set_column_names(&names)
        .map_err(|e| IngestError::Parse(polars_message(&e)))?;
    let frame = trim_strings(frame)?;
    Ok(Ingested { frame, notes })
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

/// Trims surrounding whitespace in text cells, and turns cells that are
/// null tokens after trimming (`" NA "`) into missing values.
fn trim_strings(frame: DataFrame) -> Result<DataFrame, IngestError> {
    let cols: Vec<Column> = frame
        .columns()
        .iter()
        .map(|c| {
            if c.dtype() != &DataType::String {
                return Ok(c.clone());
            }
            let ca = c
                .str()
                .map_err(|e| IngestError::Parse(polars_message(&e)))?;
            let trimmed: StringChunked = ca
                .iter()
                .map(|v| v.map(str::trim).filter(|t| !NULL_TOKENS.contains(t)))
                .collect();
            Ok(trimmed.with_name(c.name().clone()).into_column())
        })
        .collect::<Result<_, IngestError>>()?;
    DataFrame::new_infer_height(cols).map_err(|e| IngestError::Parse(polars_message(&e)))
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
/// detects the delimiter from the header line, and checks that every
/// record has the header's number of fields and that quotes close.
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
            let delimiter = detect_delimiter(&chunk);
            state.delimiter = delimiter;
            state.max_cell = limits.max_cell_bytes;
            sniffed = Some(Sniffed {
                delimiter,
                decimal_comma: delimiter == b';' && decimal_comma(&chunk),
                header: Vec::new(),
                has_bom,
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
    Ok(sniffed)
}

fn check_magic(head: &[u8]) -> Result<(), IngestError> {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&[0x1F, 0x8B]) {
        return Err(IngestError::NotCsv(
            "a gzip-compressed file; decompress it first",
        ));
    }
    if starts(b"PK\x03\x04") {
        return Err(IngestError::NotCsv(
            "a ZIP archive or an Excel workbook; export the sheet as CSV",
        ));
    }
    if starts(b"BZh")
        || starts(&[0xFD, b'7', b'z', b'X', b'Z'])
        || starts(&[0x28, 0xB5, 0x2F, 0xFD])
    {
        return Err(IngestError::NotCsv(
            "a compressed file; decompress it first",
        ));
    }
    if starts(b"PAR1") {
        return Err(IngestError::NotCsv("a Parquet file"));
    }
    if starts(b"%PDF") {
        return Err(IngestError::NotCsv("a PDF document"));
    }
    if starts(&[0xFF, 0xFE]) || starts(&[0xFE, 0xFF]) {
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

/// The candidate (`,` `;` tab `|`) that occurs most often outside quotes in
/// the first line; a comma when none does.
pub fn detect_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let cands = [b',', b';', b'\t', b'|'];
    let mut in_quotes = false;
    for &b in head {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = cands.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let (best, &n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, usize::MAX - i))
        .expect("four candidates");
    if n == 0 { b',' } else { cands[best] }
}

/// Whether numbers in `head` are written with a decimal comma: a digit,
/// comma, digit outside quotes is more common than a digit, dot, digit.
fn decimal_comma(head: &[u8]) -> bool {
    let (mut commas, mut dots) = (0usize, 0usize);
    let mut in_quotes = false;
    for w in head.windows(3) {
        if w[0] == b'"' {
            in_quotes = !in_quotes;
        }
        if !in_quotes && w[0].is_ascii_digit() && w[2].is_ascii_digit() {
            match w[1] {
                b',' => commas += 1,
                b'.' => dots += 1,
                _ => {}
            }
        }
    }
    commas > dots
}

/// A quote-aware record counter that keeps line and column.
#[derive(Debug, Default)]
struct Scanner {
    delimiter: u8,
    max_cell: usize,
    line: u64,
    column: u64,
    in_quotes: bool,
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
}

impl Scanner {
    fn position_after(&self, bytes: &[u8]) -> (u64, u64) {
        let mut line = self.line + 1;
        let mut column = self.column + 1;
        for &b in bytes {
            if b == b'\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        (line, column)
    }

    fn feed(&mut self, bytes: &[u8], limits: &Limits) -> Result<(), IngestError> {
        for &b in bytes {
            if b == 0 {
                return Err(IngestError::NulByte {
                    line: self.line + 1,
                    column: self.column + 1,
                });
            }
            if self.records == 0 {
                self.current.push(b);
            }
            if self.in_quotes {
                if b == b'"' {
                    self.in_quotes = false;
                }
            } else if b == b'"' {
                self.in_quotes = true;
                self.quote_line = self.line + 1;
                self.quote_column = self.column + 1;
            } else if b == self.delimiter {
                self.fields += 1;
                self.cell_len = 0;
                self.cell_start = self.column + 2;
                self.record_has_content = true;
                // Stop a very wide header at once: it is the one line kept in memory.
                if self.records == 0 && self.fields >= limits.max_columns {
                    return Err(IngestError::TooManyColumns {
                        found: self.fields + 1,
                        limit: limits.max_columns,
                    });
                }
            } else if b == b'\n' {
                self.end_record(limits)?;
            } else if b != b'\r' {
                self.record_has_content = true;
            }
            if b == b'\n' {
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
        let line = self.record_line + 1;
        self.record_line = self.line + 1;
        if !has_content {
            // Blank lines are skipped, like every CSV reader does.
            if self.records == 0 {
                self.current.clear();
            }
            return Ok(());
        }
        if self.records == 0 {
            self.header = parse_header(&self.current, self.delimiter);
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
fn parse_header(bytes: &[u8], delimiter: u8) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\n', '\r']);
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
pub fn latin1_to_utf8(from: &Path, to: &Path) -> Result<(), IngestError> {
    use std::io::{BufWriter, Write};
    let mut input = File::open(from)?;
    let mut out = BufWriter::new(File::create(to)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(2 << 20);
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
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
        let r = read_csv(&p, &Limits::default());
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
            read_csv(&src, &Limits::default())
                .unwrap_err()
                .to_string()
                .contains("Latin-1")
        );
        let dst = src.with_extension("utf8");
        latin1_to_utf8(&src, &dst).unwrap();
        let f = read_csv(&dst, &Limits::default()).unwrap().frame;
        let names: Vec<Option<&str>> = f.column("name").unwrap().str().unwrap().iter().collect();
        assert_eq!(names, vec![Some("José"), Some("A€")]);
        std::fs::remove_file(src).unwrap();
        std::fs::remove_file(dst).unwrap();
    }

    #[test]
    fn too_many_columns_is_a_limit_error() {
        let header: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        let csv = format!("{}\n{}\n", header.join(","), vec!["1"; 20].join(","));
        let p = write("wide.csv", csv.as_bytes());
        let err = read_csv(
            &p,
            &Limits {
                max_columns: 10,
                ..Limits::default()
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
            &Limits {
                max_cell_bytes: 1000,
                ..Limits::default()
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
            &Limits {
                max_rows: 2,
                ..Limits::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("more than 2 rows"), "{err}");
        assert!(
            read_csv(
                &p,
                &Limits {
                    max_rows: 3,
                    ..Limits::default()
                }
            )
            .is_ok()
        );
        std::fs::remove_file(p).unwrap();
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
