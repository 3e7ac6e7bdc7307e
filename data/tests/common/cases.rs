//! The CSV corpus's cases (`data/test_data/csv/expected.json` and a few
//! generated ones), shared by the data crate's corpus test and the
//! server's upload test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use data::ingest::{self, Limits};
use serde::Deserialize;
use serde_json::Value;

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/test_data/csv")
}

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub file: String,
    #[serde(default)]
    pub limits: Option<LimitsSpec>,
    /// Extra tokens read as missing.
    #[serde(default)]
    pub nulls: Vec<String>,
    #[serde(default)]
    pub read: Option<Read>,
    #[serde(default)]
    pub error: Option<Failure>,
    /// Where the upload endpoint, which reads more than CSV (compressed
    /// CSV, workbooks, Parquet), answers otherwise than `read_csv`.
    #[serde(default)]
    pub upload: Option<Upload>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    #[serde(default)]
    pub read: Option<Read>,
    #[serde(default)]
    pub error: Option<Failure>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    pub max_columns: Option<usize>,
    pub max_rows: Option<u64>,
    pub max_cell_bytes: Option<usize>,
}

impl LimitsSpec {
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_columns: self.max_columns.unwrap_or(d.max_columns),
            max_rows: self.max_rows.unwrap_or(d.max_rows),
            max_cell_bytes: self.max_cell_bytes.unwrap_or(d.max_cell_bytes),
            ..d
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    pub rows: usize,
    pub columns: usize,
    pub delimiter: Option<String>,
    pub names: Option<Vec<String>>,
    /// Polars dtype names (`i64`, `f64`, `str`, `bool`).
    #[serde(default)]
    pub dtypes: BTreeMap<String, String>,
    /// Profile kinds (`numeric`, `categorical`, `datetime`, ...).
    #[serde(default)]
    pub kinds: BTreeMap<String, String>,
    #[serde(default)]
    pub nulls: BTreeMap<String, usize>,
    /// `[column, row, value]`.
    #[serde(default)]
    pub values: Vec<(String, usize, Value)>,
    /// Substrings, each of which some note must contain.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    pub code: String,
    pub message: String,
    /// Line and column the API reports in the error's details.
    pub at: Option<(u64, u64)>,
}

impl Case {
    pub fn options(&self) -> ingest::ReadOptions {
        ingest::ReadOptions {
            limits: self.limits.clone().unwrap_or_default().limits(),
            nulls: self.nulls.clone(),
        }
    }
}

pub fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus_dir().join("expected.json")).expect("manifest");
    serde_json::from_str::<Manifest>(&text)
        .expect("expected.json parses")
        .cases
}

/// Cases too big to keep as files: the type of a column changes after the
/// rows Polars infers types from.
pub fn generated() -> Vec<(Case, Vec<u8>)> {
    let tall = |late: &str, y: &dyn Fn(usize) -> String| {
        let mut s = String::from("x,y\n");
        for i in 0..10_050 {
            let x = if i == 10_000 {
                late.to_owned()
            } else {
                i.to_string()
            };
            s.push_str(&format!("{x},{}\n", y(i)));
        }
        s.into_bytes()
    };
    let case = |file: &str, read: Value| Case {
        file: file.to_owned(),
        limits: None,
        nulls: Vec::new(),
        read: Some(serde_json::from_value(read).expect("a read")),
        error: None,
        upload: None,
    };
    vec![
        (
            case(
                "numeric_then_text.csv",
                serde_json::json!({"rows": 10_050, "columns": 2, "dtypes": {"x": "str", "y": "str"},
                    "values": [["x", 10_000, "abc"], ["x", 3, "3"]], "notes": ["`x`", "`abc`"]}),
            ),
            tall("abc", &|_| "a".into()),
        ),
        (
            case(
                "integers_then_decimal.csv",
                serde_json::json!({"rows": 10_050, "columns": 2, "dtypes": {"x": "f64"},
                    "values": [["x", 10_000, 2.5], ["x", 10_049, 10_049.0]], "notes": ["`x`"]}),
            ),
            tall("2.5", &|_| "a".into()),
        ),
        (
            case(
                "integers_then_decimal_then_text.csv",
                serde_json::json!({"rows": 10_050, "columns": 2, "dtypes": {"x": "str"},
                    "values": [["x", 10_000, "2.5"], ["x", 10_020, "n/k"]],
                    "notes": ["column `x` is read as text because of the value `n/k`"]}),
            ),
            {
                let mut bytes = tall("2.5", &|_| "a".into());
                let at = String::from_utf8_lossy(&bytes)
                    .find("\n10020,")
                    .expect("row 10,020")
                    + 1;
                bytes.splice(at..at + 5, b"n/k".iter().copied());
                bytes
            },
        ),
        (
            case(
                "empty_then_numbers.csv",
                serde_json::json!({"rows": 10_050, "columns": 2, "dtypes": {"x": "i64", "y": "i64"},
                    "nulls": {"y": 10_000}, "values": [["y", 10_020, 20]]}),
            ),
            tall("10000", &|i| {
                if i < 10_000 {
                    String::new()
                } else {
                    (i - 10_000).to_string()
                }
            }),
        ),
    ]
}

pub fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

/// Every case with its bytes: the files, then the generated ones.
pub fn all_cases() -> Vec<(Case, Vec<u8>)> {
    let mut out: Vec<(Case, Vec<u8>)> = manifest()
        .into_iter()
        .map(|c| {
            let bytes = std::fs::read(corpus_dir().join(&c.file)).expect("corpus file");
            (c, bytes)
        })
        .collect();
    out.extend(generated());
    out
}
