//! The byte-level scan, before Polars sees the file (and without it):
//! magic numbers (a renamed workbook, archive, image or page is named),
//! UTF-16, UTF-8 validity, the line ending, Excel's `sep=` line, the
//! delimiter and decimal mark, then every record's field count and quoting,
//! refusing with line and column what Polars would misread (ragged rows,
//! quotes that never close, text after a closing quote, a mid-cell quote
//! spanning a delimiter or line end, NUL) and the limits. It also counts
//! blank lines, which Polars reads as rows.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use automl::values::DecimalMark;

use super::{IngestError, Limits};

/// What the byte-level scan learned.
#[derive(Debug, Clone, PartialEq)]
pub struct Sniffed {
    pub delimiter: u8,
    /// The decimal mark of numbers: a comma (`1,5`) only with `;` as the
    /// delimiter.
    pub decimal: DecimalMark,
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

/// Reads the file once, in chunks: rejects non-CSV content, checks UTF-8,
/// detects the line ending and the delimiter, and checks that every record
/// has the header's number of fields and that quotes close.
pub fn scan(path: &Path, limits: &Limits) -> Result<Sniffed, IngestError> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut state = Scanner::default();
    let mut sniffed: Option<Sniffed> = None;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        if sniffed.is_none() {
            sniffed = Some(state.start(&mut chunk, limits)?);
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

pub(super) fn check_magic(head: &[u8]) -> Result<(), IngestError> {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&[0x1F, 0x8B]) {
        return Err(IngestError::NotCsv(
            "a gzip-compressed file; decompress it first",
        ));
    }
    if starts(b"PK\x03\x04") {
        return Err(IngestError::NotCsv(zip_kind(head)));
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

/// What a ZIP file is: an Office file is a ZIP whose first entries name its parts.
fn zip_kind(head: &[u8]) -> &'static str {
    let has = |part: &[u8]| head.windows(part.len()).any(|w| w == part);
    if has(b"xl/") {
        "an Excel workbook (.xlsx), not a CSV; in Excel, save the sheet as “CSV UTF-8” and upload that"
    } else if has(b"word/") {
        "a Word document (.docx); export the table as CSV"
    } else {
        "a ZIP archive or an Excel workbook; unzip it, or export the sheet as CSV"
    }
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
    /// Reads the head of the file (its first chunk): magic numbers, byte
    /// order mark, line ending, Excel's `sep=` line and the delimiter. Sets
    /// the scanner up and removes the mark and the `sep=` line from `chunk`.
    fn start(&mut self, chunk: &mut Vec<u8>, limits: &Limits) -> Result<Sniffed, IngestError> {
        check_magic(chunk)?;
        let has_bom = chunk.starts_with(&[0xEF, 0xBB, 0xBF]);
        if has_bom {
            chunk.drain(..3);
        }
        let eol = if !chunk.contains(&b'\n') && chunk.contains(&b'\r') {
            b'\r'
        } else {
            b'\n'
        };
        let hint = sep_hint(chunk, eol);
        if let Some((_, len)) = hint {
            chunk.drain(..len);
            self.line = 1;
            self.record_line = 1;
            self.lines_before_header = 1;
        }
        let delimiter = hint.map_or_else(|| detect_delimiter(chunk, eol), |(d, _)| d);
        self.delimiter = delimiter;
        self.eol = eol;
        self.max_cell = limits.max_cell_bytes;
        self.at_field_start = true;
        self.special = vec![0; 256];
        for b in [0, b'"', eol] {
            self.special[usize::from(b)] = SPECIAL_UNQUOTED | SPECIAL_QUOTED;
        }
        for b in [delimiter, b'\r'] {
            self.special[usize::from(b)] |= SPECIAL_UNQUOTED;
        }
        let decimal = if delimiter == b';' && decimal_comma(chunk) {
            DecimalMark::Comma
        } else {
            DecimalMark::Point
        };
        Ok(Sniffed {
            delimiter,
            decimal,
            eol,
            header: Vec::new(),
            has_bom,
            sep_hint: hint.is_some(),
            lines_before_header: 0,
            data_rows: 0,
            blank_rows: Vec::new(),
        })
    }

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
                self.plain(run)?;
            } else {
                self.byte(bytes[i], limits)?;
                i += 1;
            }
        }
        Ok(())
    }

    /// Counts `run` bytes of ordinary text in a cell.
    fn plain(&mut self, run: usize) -> Result<(), IngestError> {
        self.column += run as u64;
        self.cell_len += run;
        self.at_field_start = false;
        if !self.in_quotes {
            self.record_has_content = true;
        }
        self.check_cell_len()
    }

    fn check_cell_len(&self) -> Result<(), IngestError> {
        if self.cell_len > self.max_cell {
            return Err(IngestError::CellTooLong {
                line: self.line + 1,
                column: self.cell_start.max(1),
                limit: self.max_cell,
            });
        }
        Ok(())
    }

    /// One byte that may change the state (see [`Scanner::plain_run`]).
    fn byte(&mut self, b: u8, limits: &Limits) -> Result<(), IngestError> {
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
            self.quoted_byte(b)?;
        } else {
            self.unquoted_byte(b, field_start, limits)?;
        }
        if b == self.eol {
            self.line += 1;
            self.column = 0;
            if !self.in_quotes {
                self.cell_start = 1;
            }
            Ok(())
        } else {
            self.column += 1;
            self.cell_len += 1;
            self.check_cell_len()
        }
    }

    /// A byte inside quotes: a quote closes them.
    fn quoted_byte(&mut self, b: u8) -> Result<(), IngestError> {
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
        Ok(())
    }

    /// A byte outside quotes: a quote, the delimiter, a line end, `\r` or text.
    fn unquoted_byte(
        &mut self,
        b: u8,
        field_start: bool,
        limits: &Limits,
    ) -> Result<(), IngestError> {
        if let (Some((line, column)), true) = (self.cr_after_quote, b != self.eol) {
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
            self.end_field(limits)?;
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
        Ok(())
    }

    fn end_field(&mut self, limits: &Limits) -> Result<(), IngestError> {
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
                max_expanded_bytes: u64::MAX,
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

#[cfg(test)]
mod tests {
    use super::super::tests::write;
    use super::*;

    fn scan_bytes(bytes: &[u8]) -> Result<Sniffed, IngestError> {
        let p = write("scan.csv", bytes);
        let r = scan(&p, &Limits::default());
        std::fs::remove_file(p).unwrap();
        r
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
            let err = scan_bytes(bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{bytes:?}: got `{err}`, want `{want}`");
        }
    }
}
