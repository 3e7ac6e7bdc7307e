//! Uploads beyond CSV (#22): every fixture in `test_data/formats/` (made
//! by its `make_fixtures.py`) holds the table of `table.csv` and must read
//! as the same dataset; then the refusals: a workbook of several sheets
//! without a choice, an unknown sheet, a ZIP of several files, broken JSON
//! Lines, and a decompression bomb.

use std::path::{Path, PathBuf};

use data::ingest::{self, FileOptions, IngestError, ReadOptions};
use data::{DataFrame, convert};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/formats")
}

fn read(
    file: &str,
    sheet: Option<&str>,
    options: &ReadOptions,
) -> Result<ingest::Ingested, IngestError> {
    let opts = FileOptions {
        sheet: sheet.map(str::to_owned),
        scratch: None,
    };
    ingest::read_file(&dir().join(file), file, options, &opts)
}

fn dataset(frame: &DataFrame) -> automl::Dataset {
    convert::frame_to_dataset(frame).unwrap()
}

#[test]
fn every_format_reads_as_the_same_table() {
    let options = ReadOptions::default();
    let want = read("table.csv", None, &options).unwrap();
    assert_eq!(want.frame.shape(), (5, 5));
    for (file, sheet, format) in [
        ("table.csv.gz", None, "gzip-compressed CSV"),
        ("table.zip", None, "ZIP archive"),
        ("table.jsonl", None, "JSON Lines"),
        ("table.parquet", None, "Parquet"),
        ("table.arrow", None, "Arrow IPC"),
        (
            "two_sheets.xlsx",
            Some("Penguins"),
            "Excel workbook (.xlsx)",
        ),
        ("table.xls", None, "Excel 97–2003"),
    ] {
        let got = read(file, sheet, &options).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            got.frame.get_column_names(),
            want.frame.get_column_names(),
            "{file}"
        );
        // Debug text, so that missing numbers (NaN) compare equal.
        assert_eq!(
            format!("{:?}", dataset(&got.frame)),
            format!("{:?}", dataset(&want.frame)),
            "{file}"
        );
        assert!(
            got.notes.iter().any(|n| n.contains(format)),
            "{file}: {:?}",
            got.notes
        );
    }
}

#[test]
fn a_workbook_of_several_sheets_asks_which() {
    let options = ReadOptions::default();
    match read("two_sheets.xlsx", None, &options) {
        Err(e @ IngestError::ChooseSheet { .. }) => {
            assert_eq!(e.code(), "choose_sheet");
            assert!(e.to_string().contains("`Notes`, `Penguins`"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match read("two_sheets.xlsx", Some("Birds"), &options) {
        Err(e @ IngestError::NoSuchSheet { .. }) => {
            assert!(e.to_string().contains("no sheet `Birds`"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let got = read("two_sheets.xlsx", Some("Penguins"), &options).unwrap();
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("read the sheet `Penguins` of 2")),
        "{:?}",
        got.notes
    );
}

#[test]
fn merged_header_cells_are_named_and_reported() {
    let got = read("merged_header.xlsx", None, &ReadOptions::default()).unwrap();
    assert_eq!(
        got.frame.get_column_names(),
        ["species", "measures", "measures_2", "seen"]
    );
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("merged header cells: `measures` over 2 columns (B1:C1)")),
        "{:?}",
        got.notes
    );
}

#[test]
fn bad_archives_and_lines_are_refused_naming_the_problem() {
    let options = ReadOptions::default();
    let e = read("two.zip", None, &options).unwrap_err();
    assert!(e.to_string().contains("several files"), "{e}");
    let e = read("broken.jsonl", None, &options).unwrap_err();
    assert_eq!(e.code(), "invalid_json");
    assert_eq!(e.location().map(|l| l.0), Some(2), "{e}");
}

#[test]
fn a_decompression_bomb_is_refused() {
    // 50 KB that decompress to 20 MB, against a 1 MB limit.
    let mut options = ReadOptions::default();
    options.limits.max_expanded_bytes = 1 << 20;
    let e = read("bomb.csv.gz", None, &options).unwrap_err();
    assert_eq!(e.code(), "limit_exceeded");
    assert!(
        e.to_string().contains("decompresses to more than 1 MB"),
        "{e}"
    );
    // Within a limit it fits, it reads.
    options.limits.max_expanded_bytes = 64 << 20;
    let got = read("bomb.csv.gz", None, &options).unwrap();
    assert_eq!(got.frame.width(), 10);
}
