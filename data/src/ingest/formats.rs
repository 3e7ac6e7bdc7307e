//! Files that are not plain CSV, each brought to a frame through the same
//! checks and limits as a CSV: a gzip or one-CSV ZIP archive is
//! decompressed (within [`Limits::max_expanded_bytes`], so a decompression
//! bomb is refused) and read as a CSV; an Excel sheet and JSON Lines are
//! written out as CSV and read as one, so that typing, missing-value
//! tokens, notes and errors are a CSV's; Parquet and Arrow IPC are read by
//! Polars, already typed, and checked against the limits.
//!
//! The format is found from the file's first bytes (a renamed file is read
//! as what it is), the name deciding only between CSV and JSON Lines.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use polars::prelude::*;

use super::{IngestError, Ingested, ReadOptions, read_csv};

/// What a file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Gzip,
    /// A ZIP archive that is not an Office file.
    Zip,
    Xlsx,
    Xls,
    Parquet,
    ArrowIpc,
    JsonLines,
}

impl Format {
    /// The format's name in notes and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Gzip => "gzip-compressed CSV",
            Format::Zip => "ZIP archive",
            Format::Xlsx => "Excel workbook (.xlsx)",
            Format::Xls => "Excel 97–2003 workbook (.xls)",
            Format::Parquet => "Parquet file",
            Format::ArrowIpc => "Arrow IPC file",
            Format::JsonLines => "JSON Lines file",
        }
    }
}

/// The format of the file at `path` named `name` by the user.
pub fn detect(path: &Path, name: &str) -> Result<Format, IngestError> {
    let mut head = [0u8; 4096];
    let mut file = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        let got = file.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    let head = &head[..n];
    let starts = |m: &[u8]| head.starts_with(m);
    let lower = name.to_ascii_lowercase();
    Ok(if starts(&[0x1F, 0x8B]) {
        Format::Gzip
    } else if starts(b"PK\x03\x04") {
        let has = |part: &[u8]| head.windows(part.len()).any(|w| w == part);
        if has(b"xl/") || lower.ends_with(".xlsx") || lower.ends_with(".xlsm") {
            Format::Xlsx
        } else {
            Format::Zip
        }
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Format::Xls
    } else if starts(b"PAR1") {
        Format::Parquet
    } else if starts(b"ARROW1") {
        Format::ArrowIpc
    } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || looks_like_json_lines(head)
    {
        Format::JsonLines
    } else {
        Format::Csv
    })
}

/// A first line that is a JSON object: `{` first, after blanks and a BOM.
fn looks_like_json_lines(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// What else a file may need: the sheet to read from a workbook, and a
/// folder for the files made on the way (removed before returning).
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    pub sheet: Option<String>,
    pub scratch: Option<PathBuf>,
}

/// A file made on the way, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn scratch(file: &FileOptions, suffix: &str) -> Scratch {
    let dir = file.scratch.clone().unwrap_or_else(std::env::temp_dir);
    let unique = format!(
        "kiln-ingest-{}-{}{suffix}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    Scratch(dir.join(unique))
}

/// Reads the file at `path` (named `name` by the user) in whatever format
/// it is, with a note saying which when it is not a CSV.
pub fn read_file(
    path: &Path,
    name: &str,
    options: &ReadOptions,
    file: &FileOptions,
) -> Result<Ingested, IngestError> {
    let format = detect(path, name)?;
    let mut ingested = match format {
        Format::Csv => return read_csv(path, options),
        Format::Gzip => {
            let out = scratch(file, ".csv");
            let input = flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path)?));
            expand(input, &out.0, options.limits.max_expanded_bytes, format)?;
            read_csv(&out.0, options)?
        }
        Format::Zip => {
            let out = scratch(file, ".csv");
            let inner = unzip_one(path, &out.0, options.limits.max_expanded_bytes)?;
            let mut ingested = read_csv(&out.0, options)?;
            ingested
                .notes
                .insert(0, format!("read `{inner}` from the ZIP archive"));
            ingested
        }
        Format::Xlsx | Format::Xls => {
            let out = scratch(file, ".csv");
            let notes = sheet_to_csv(path, format, file.sheet.as_deref(), &out.0)?;
            let mut ingested = read_csv(&out.0, options).map_err(|e| in_sheet(e, &notes))?;
            ingested.notes.splice(0..0, notes.notes);
            ingested
        }
        Format::JsonLines => {
            let out = scratch(file, ".csv");
            json_lines_to_csv(path, &out.0, options)?;
            read_csv(&out.0, options)?
        }
        Format::Parquet | Format::ArrowIpc => read_columnar(path, format, options)?,
    };
    ingested.notes.insert(0, format_note(format));
    Ok(ingested)
}

/// The note that says which format a file other than a CSV was read as.
pub fn format_note(format: Format) -> String {
    format!("read as a {}", format.name())
}

/// Copies `input` to `out`, refusing it past `limit` bytes.
fn expand(
    mut input: impl Read,
    out: &Path,
    limit: u64,
    format: Format,
) -> Result<u64, IngestError> {
    let mut writer = BufWriter::new(File::create(out)?);
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(|e| {
            IngestError::Damaged(format!("the {} cannot be decompressed: {e}", format.name()))
        })?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(IngestError::TooLarge {
                what: format.name(),
                limit,
            });
        }
        writer.write_all(&buf[..n])?;
    }
    writer.flush()?;
    Ok(total)
}

/// Decompresses the one data file of a ZIP archive to `out`; its name.
fn unzip_one(path: &Path, out: &Path, limit: u64) -> Result<String, IngestError> {
    let damaged = |e: ::zip::result::ZipError| {
        IngestError::Damaged(format!("the ZIP archive cannot be read: {e}"))
    };
    let mut archive = ::zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(damaged)?;
    let files: Vec<String> = (0..archive.len())
        .filter_map(|i| {
            let entry = archive.by_index(i).ok()?;
            let name = entry.name().ok()?.into_owned();
            let hidden = name.starts_with("__MACOSX/")
                || name.rsplit('/').next().is_some_and(|b| b.starts_with('.'));
            (entry.is_file() && !hidden).then_some(name)
        })
        .collect();
    let [inner] = files.as_slice() else {
        return Err(IngestError::NotCsv(if files.is_empty() {
            "an empty ZIP archive"
        } else {
            "a ZIP archive of several files; upload one CSV, or a ZIP holding only it"
        }));
    };
    let lower = inner.to_ascii_lowercase();
    if !(lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt")) {
        return Err(IngestError::NotCsv(
            "a ZIP archive whose one file is not a CSV (.csv, .tsv or .txt)",
        ));
    }
    let entry = archive.by_name(inner).map_err(damaged)?;
    expand(entry, out, limit, Format::Zip)?;
    Ok(inner.clone())
}

/// A sheet written as CSV, with what the user should know.
struct SheetNotes {
    sheet: String,
    notes: Vec<String>,
}

/// An error in the CSV made of a sheet, said of the sheet.
fn in_sheet(e: IngestError, sheet: &SheetNotes) -> IngestError {
    match e {
        IngestError::Ragged { .. }
        | IngestError::CellTooLong { .. }
        | IngestError::TooManyRows { .. }
        | IngestError::TooManyColumns { .. }
        | IngestError::Empty
        | IngestError::NoRows => IngestError::Sheet {
            sheet: sheet.sheet.clone(),
            reason: e.to_string(),
        },
        other => other,
    }
}

/// Writes one sheet of the workbook at `path` to `out` as CSV: the sheet
/// asked for, or the only one (several without a choice are an error that
/// lists them). Header cells merged across columns repeat their text with
/// a number, and the notes say so.
fn sheet_to_csv(
    path: &Path,
    format: Format,
    sheet: Option<&str>,
    out: &Path,
) -> Result<SheetNotes, IngestError> {
    let damaged = |e: calamine::Error| {
        IngestError::Damaged(format!("the {} cannot be read: {e}", format.name()))
    };
    // In memory: calamine reads a workbook from a cloneable reader.
    let bytes = std::fs::read(path)?;
    let mut workbook =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(damaged)?;
    let sheets = workbook.sheet_names();
    let chosen = match sheet {
        Some(s) if sheets.iter().any(|n| n == s) => s.to_owned(),
        Some(s) => {
            return Err(IngestError::NoSuchSheet {
                sheet: s.to_owned(),
                sheets,
            });
        }
        None => match sheets.as_slice() {
            [] => return Err(IngestError::Empty),
            [one] => one.clone(),
            _ => return Err(IngestError::ChooseSheet { sheets }),
        },
    };
    let range = workbook.worksheet_range(&chosen).map_err(damaged)?;
    let merged = match &mut workbook {
        calamine::Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&chosen).unwrap_or_default(),
        calamine::Sheets::Xls(x) => x.merge_cells_by_sheet_name(&chosen).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut notes = Vec::new();
    if sheets.len() > 1 {
        notes.push(format!(
            "read the sheet `{chosen}` of {} ({})",
            sheets.len(),
            sheets
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let (top, left) = range.start().unwrap_or((0, 0));
    let width = range.width();
    let mut rows = range.rows();
    let mut header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    // Merged header cells: calamine gives the text to the first cell only.
    let mut merged_words = Vec::new();
    for m in &merged {
        if m.start.0 != top || m.end.1 <= m.start.1 {
            continue;
        }
        let first = (m.start.1.saturating_sub(left)) as usize;
        let last = ((m.end.1.saturating_sub(left)) as usize).min(width.saturating_sub(1));
        let Some(text) = header.get(first).cloned().filter(|t| !t.is_empty()) else {
            continue;
        };
        for (i, c) in (first + 1..=last).enumerate() {
            if header[c].is_empty() {
                header[c] = format!("{text}_{}", i + 2);
            }
        }
        merged_words.push(format!(
            "`{text}` over {} columns ({}{}:{}{})",
            last - first + 1,
            column_letters(m.start.1),
            m.start.0 + 1,
            column_letters(m.end.1),
            m.end.0 + 1
        ));
    }
    if !merged_words.is_empty() {
        notes.push(format!(
            "merged header cells: {}; the columns after the first are named with _2, _3…",
            merged_words.join("; ")
        ));
    }
    let mut errors = 0usize;
    let mut writer = BufWriter::new(File::create(out)?);
    let line = |cells: &[String], w: &mut BufWriter<File>| -> std::io::Result<()> {
        let quoted: Vec<String> = cells.iter().map(|c| csv_quote(c)).collect();
        writeln!(w, "{}", quoted.join(","))
    };
    line(&header, &mut writer)?;
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if matches!(c, Data::Error(_)) {
                    errors += 1;
                }
                cell_text(c)
            })
            .collect();
        line(&cells, &mut writer)?;
    }
    writer.flush()?;
    if errors > 0 {
        notes.push(format!(
            "{errors} cell{} held a spreadsheet error (#DIV/0!, #N/A…) and {} read as missing",
            if errors == 1 { "" } else { "s" },
            if errors == 1 { "is" } else { "are" }
        ));
    }
    Ok(SheetNotes {
        sheet: chosen,
        notes,
    })
}

/// A cell as CSV text: numbers in full, dates as ISO 8601, errors missing.
fn cell_text(c: &Data) -> String {
    match c {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }
        }
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64(), d.is_datetime()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`, with the
/// time when it has one.
fn excel_date(serial: f64, datetime: bool) -> String {
    if !serial.is_finite() {
        return String::new();
    }
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let (y, m, d) = automl::values::civil_from_days(days - 25_569);
    if datetime && secs > 0 {
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn column_letters(col: u32) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// JSON Lines as CSV: one row per line holding an object, the columns the
/// keys in the order first met; nested values are kept as JSON text.
fn json_lines_to_csv(path: &Path, out: &Path, options: &ReadOptions) -> Result<(), IngestError> {
    use std::io::BufRead;
    let mut names: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut rows: Vec<Vec<(usize, String)>> = Vec::new();
    let reader = BufReader::new(File::open(path)?);
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        let number = i as u64 + 1;
        let text = std::str::from_utf8(&line).map_err(|e| IngestError::InvalidUtf8 {
            line: number,
            column: e.valid_up_to() as u64 + 1,
        })?;
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        if !text.starts_with('{') {
            return Err(IngestError::JsonLine {
                line: number,
                column: 1,
                reason: "the line is not a JSON object (`{\"column\": value, …}`)".into(),
            });
        }
        let Ordered(map) = serde_json::from_str(text).map_err(|e| IngestError::JsonLine {
            line: number,
            column: e.column() as u64,
            reason: e.to_string(),
        })?;
        if rows.len() as u64 >= options.limits.max_rows {
            return Err(IngestError::TooManyRows {
                limit: options.limits.max_rows,
            });
        }
        let mut row = Vec::with_capacity(map.len());
        for (k, v) in map {
            let at = *index.entry(k.clone()).or_insert_with(|| {
                names.push(k);
                names.len() - 1
            });
            if names.len() > options.limits.max_columns {
                return Err(IngestError::TooManyColumns {
                    found: names.len(),
                    limit: options.limits.max_columns,
                });
            }
            let cell = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            row.push((at, cell));
        }
        rows.push(row);
    }
    if names.is_empty() {
        return Err(IngestError::Empty);
    }
    let mut writer = BufWriter::new(File::create(out)?);
    let header: Vec<String> = names.iter().map(|n| csv_quote(n)).collect();
    writeln!(writer, "{}", header.join(","))?;
    let mut cells = vec![String::new(); names.len()];
    for row in rows {
        cells.iter_mut().for_each(String::clear);
        for (at, cell) in row {
            cells[at] = csv_quote(&cell);
        }
        writeln!(writer, "{}", cells.join(","))?;
    }
    writer.flush()?;
    Ok(())
}

/// A JSON object's members in the order written (serde_json's map sorts them).
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(member) = map.next_entry()? {
                    out.push(member);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Members)
    }
}

/// Parquet or Arrow IPC, read by Polars: typed already; the limits hold,
/// names are made unique, and columns of types a table cannot show (lists,
/// structs, binary) are refused by name.
fn read_columnar(
    path: &Path,
    format: Format,
    options: &ReadOptions,
) -> Result<Ingested, IngestError> {
    let damaged = |e: PolarsError| {
        IngestError::Damaged(format!(
            "the {} cannot be read: {}",
            format.name(),
            super::polars_message(&e)
        ))
    };
    let file = File::open(path)?;
    let frame = match format {
        Format::Parquet => ParquetReader::new(file).finish().map_err(damaged)?,
        _ => IpcReader::new(file).finish().map_err(damaged)?,
    };
    if frame.width() > options.limits.max_columns {
        return Err(IngestError::TooManyColumns {
            found: frame.width(),
            limit: options.limits.max_columns,
        });
    }
    if frame.height() as u64 > options.limits.max_rows {
        return Err(IngestError::TooManyRows {
            limit: options.limits.max_rows,
        });
    }
    if frame.width() == 0 {
        return Err(IngestError::Empty);
    }
    if frame.height() == 0 {
        return Err(IngestError::NoRows);
    }
    let unsupported: Vec<String> = frame
        .columns()
        .iter()
        .filter(|c| {
            !(c.dtype().is_primitive_numeric()
                || matches!(
                    c.dtype(),
                    DataType::String | DataType::Boolean | DataType::Date | DataType::Datetime(..)
                ))
        })
        .map(|c| format!("`{}` ({})", c.name(), c.dtype()))
        .collect();
    if !unsupported.is_empty() {
        return Err(IngestError::Damaged(format!(
            "the {} has columns of a type a table cannot hold: {}; flatten or cast them to numbers or text first",
            format.name(),
            unsupported.join(", ")
        )));
    }
    let header: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (names, notes) = super::unique_names(&header);
    let mut frame = frame;
    frame
        .set_column_names(&names)
        .map_err(|e| IngestError::Parse(super::polars_message(&e)))?;
    Ok(Ingested {
        frame,
        notes,
        delimiter: b',',
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serial_dates_read_as_iso() {
        assert_eq!(excel_date(45_000.0, false), "2023-03-15");
        assert_eq!(excel_date(1.0, false), "1899-12-31");
        assert_eq!(excel_date(45_000.5, true), "2023-03-15 12:00:00");
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(27), "AB");
    }
}
