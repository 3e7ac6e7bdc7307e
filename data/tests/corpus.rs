//! The CSV corpus in `test_data/csv/`: every file with its expected outcome
//! in `test_data/csv/expected.json` (a read with its shape, delimiter, names,
//! types, nulls and values, or an error with its place), checked through
//! `ingest::read_csv` (the server's `tests/corpus_upload.rs` sends the same
//! cases through the upload endpoint); a few large cases are generated in
//! `common/cases.rs`. Then a seeded property test: no byte string, random or a
//! mutation of the corpus, makes ingest panic.

#[allow(dead_code)]
mod common {
    pub mod cases;
}

use std::collections::BTreeMap;

use automl::Rng;
use common::cases::*;
use data::ingest::{self, IngestError, Ingested, Limits};
use polars::prelude::*;
use serde_json::Value;

fn delimiter_text(d: u8) -> String {
    char::from(d).to_string()
}

/// A cell as JSON: numbers as f64 (compared with a tolerance), text, booleans, null.
fn cell(frame: &DataFrame, column: &str, row: usize) -> Result<Value, String> {
    let col = frame
        .column(column)
        .map_err(|_| format!("no column `{column}`"))?;
    if row >= col.len() {
        return Err(format!("`{column}` has no row {row}"));
    }
    let v = col.get(row).map_err(|e| e.to_string())?;
    Ok(match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::String(s.to_owned()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        other => match other.extract::<f64>() {
            Some(f) => serde_json::json!(f),
            None => Value::String(other.to_string()),
        },
    })
}

fn same(got: &Value, want: &Value) -> bool {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
        _ => got == want,
    }
}

/// What is wrong with `got` for `case`, if anything.
fn check_outcome(case: &Case, got: Result<Ingested, IngestError>) -> Vec<String> {
    let mut bad = Vec::new();
    match (&case.read, &case.error, got) {
        (Some(want), None, Ok(got)) => {
            let f = &got.frame;
            if f.shape() != (want.rows, want.columns) {
                bad.push(format!(
                    "shape {:?}, want {:?}",
                    f.shape(),
                    (want.rows, want.columns)
                ));
            }
            if let Some(d) = &want.delimiter
                && delimiter_text(got.delimiter) != *d
            {
                bad.push(format!(
                    "delimiter {:?}, want {d:?}",
                    delimiter_text(got.delimiter)
                ));
            }
            let names: Vec<String> = f.get_column_names().iter().map(|s| s.to_string()).collect();
            if let Some(n) = &want.names
                && &names != n
            {
                bad.push(format!("names {names:?}, want {n:?}"));
            }
            for (c, dt) in &want.dtypes {
                match f.column(c) {
                    Ok(col) if col.dtype().to_string() == *dt => {}
                    Ok(col) => bad.push(format!("`{c}` is {}, want {dt}", col.dtype())),
                    Err(_) => bad.push(format!("no column `{c}` (have {names:?})")),
                }
            }
            for (c, n) in &want.nulls {
                match f.column(c) {
                    Ok(col) if col.null_count() == *n => {}
                    Ok(col) => bad.push(format!("`{c}` has {} nulls, want {n}", col.null_count())),
                    Err(_) => bad.push(format!("no column `{c}`")),
                }
            }
            for (c, row, v) in &want.values {
                match cell(f, c, *row) {
                    Ok(g) if same(&g, v) => {}
                    Ok(g) => bad.push(format!("`{c}`[{row}] = {g}, want {v}")),
                    Err(e) => bad.push(e),
                }
            }
            if !want.kinds.is_empty() {
                let p = data::profile::profile(f).expect("profile");
                for (c, k) in &want.kinds {
                    match p.columns.iter().find(|p| p.name == *c) {
                        Some(p) if p.kind.label() == k => {}
                        Some(p) => bad.push(format!("`{c}` is {}, want {k}", p.kind.label())),
                        None => bad.push(format!("no profile of `{c}`")),
                    }
                }
            }
            for n in &want.notes {
                if !got.notes.iter().any(|g| g.contains(n.as_str())) {
                    bad.push(format!("no note with {n:?} in {:?}", got.notes));
                }
            }
        }
        (None, Some(want), Err(e)) => {
            let msg = e.to_string();
            if !msg.contains(&want.message) {
                bad.push(format!("error `{msg}`, want `{}`", want.message));
            }
            if e.code() != want.code {
                bad.push(format!("code {}, want {}", e.code(), want.code));
            }
            if want.at.is_some() && e.location() != want.at {
                bad.push(format!("at {:?}, want {:?}", e.location(), want.at));
            }
        }
        (Some(_), None, Err(e)) => bad.push(format!("error `{e}`, want a read")),
        (None, Some(want), Ok(got)) => bad.push(format!(
            "read {:?} with notes {:?}, want the error `{}`",
            got.frame.shape(),
            got.notes,
            want.message
        )),
        _ => bad.push("the manifest needs exactly one of `read` and `error`".into()),
    }
    bad
}

#[test]
fn every_corpus_file_has_an_expected_outcome() {
    let cases = manifest();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let listed: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    for entry in std::fs::read_dir(corpus_dir()).expect("corpus dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if name != "expected.json" && !name.starts_with('.') {
            assert!(
                listed.contains(name.as_str()),
                "{name} is not in expected.json"
            );
        }
    }
    for c in &cases {
        assert!(
            c.read.is_some() != c.error.is_some(),
            "{}: exactly one of read and error",
            c.file
        );
        if let Some(e) = &c.error
            && e.at.is_some()
        {
            assert!(
                e.message.starts_with("line "),
                "{}: a located error names its line",
                c.file
            );
        }
    }
}

#[test]
fn the_corpus_reads_as_expected() {
    let mut failures = Vec::new();
    for (case, bytes) in all_cases() {
        let path = write_temp(&case.file, &bytes);
        let got = ingest::read_csv(&path, &case.options());
        let _ = std::fs::remove_file(&path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir(dir);
        }
        for problem in check_outcome(&case, got) {
            failures.push(format!("{}: {problem}", case.file));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Bytes that CSV readers treat specially.
const SPECIAL: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b";",
    b"\t",
    b"|",
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b"\xff",
    b"\xef\xbb\xbf",
    b" ",
    b"NA",
    b"1",
    b"-1.5",
    b"1,5",
    b"true",
    b"2024-01-31",
    b"$1,234",
    b"\xc3",
    b"\xe2\x82",
    b"sep=;\n",
    b"\n\n",
];

/// A random change to `bytes`: flips, special insertions, deletions, truncation, duplication.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let n = bytes.len();
    match rng.below(7) {
        0 if n > 0 => {
            let i = rng.below(n);
            bytes[i] ^= 1 << rng.below(8);
        }
        1 if n > 0 => {
            let i = rng.below(n);
            bytes[i] = rng.next_u64() as u8;
        }
        2 | 3 => {
            let i = rng.below(n + 1);
            let ins = rng.pick(SPECIAL);
            bytes.splice(i..i, ins.iter().copied());
        }
        4 if n > 0 => {
            let i = rng.below(n);
            let len = rng.below(8).min(n - i);
            bytes.drain(i..i + len);
        }
        5 => bytes.truncate(rng.below(n + 1)),
        _ if n > 0 => {
            let i = rng.below(n);
            let len = rng.below(64).min(n - i);
            let copy = bytes[i..i + len].to_vec();
            let at = rng.below(n + 1);
            bytes.splice(at..at, copy);
        }
        _ => bytes.push(rng.next_u64() as u8),
    }
}

/// Random short CSV-like text from a small alphabet of tokens.
fn random_csv(rng: &mut Rng) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"a",
        b"b",
        b"12",
        b"-3.25",
        b"x y",
        b",",
        b",",
        b";",
        b"\t",
        b"|",
        b"\n",
        b"\n",
        b"\r\n",
        b"\"",
        b"\"q,\"",
        b"\"\"",
        b" ",
        b"NA",
        b"",
        b"true",
        b"1e400",
        b"99999999999999999999",
        b"\r",
        b"1,5",
        b"$1,234",
    ];
    let len = rng.below(80);
    let mut out = Vec::new();
    for _ in 0..len {
        let token = TOKENS[rng.below(TOKENS.len())];
        out.extend_from_slice(token);
    }
    out
}

/// Any bytes either read (and profile) or give an error; nothing panics,
/// and every error comes from the byte-level scan, with its place, not from
/// Polars. `KILN_FUZZ_CASES` and `KILN_FUZZ_SEED` run more or other cases.
#[test]
fn no_byte_string_makes_ingest_panic() {
    let seeds: Vec<Vec<u8>> = all_cases()
        .into_iter()
        .map(|(_, b)| b)
        .filter(|b| b.len() < 20_000)
        .collect();
    let limits = [
        Limits::default(),
        Limits {
            max_columns: 4,
            max_rows: 5,
            max_cell_bytes: 16,
            ..Limits::default()
        },
    ];
    let cases: u64 = std::env::var("KILN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let seed: u64 = std::env::var("KILN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x4b49_4c4e);
    let (mut read, mut failed) = (0u64, 0u64);
    let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut parse_errors: Vec<String> = Vec::new();
    let dir = std::env::temp_dir().join(format!("kiln-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("case.csv");
    for case in 0..cases {
        let mut rng = Rng::from_state(seed ^ case.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut bytes = match case % 8 {
            0 => (0..rng.below(200)).map(|_| rng.next_u64() as u8).collect(),
            1 | 2 => random_csv(&mut rng),
            _ => rng.pick(&seeds).clone(),
        };
        if case % 8 >= 3 {
            for _ in 0..1 + rng.below(3) {
                mutate(&mut rng, &mut bytes);
            }
        }
        let options = ingest::ReadOptions {
            limits: rng.pick(&limits).clone(),
            nulls: if rng.below(4) == 0 {
                vec!["x y".into(), "-1.5".into()]
            } else {
                Vec::new()
            },
        };
        std::fs::write(&path, &bytes).expect("write case");
        let outcome = std::panic::catch_unwind(|| {
            ingest::read_csv(&path, &options).map(|got| {
                data::profile::profile(&got.frame).expect("a read frame profiles");
            })
        });
        match outcome {
            Ok(Ok(())) => read += 1,
            Ok(Err(e)) => {
                failed += 1;
                *codes.entry(e.code()).or_insert(0u64) += 1;
                if let IngestError::Parse(m) = &e {
                    parse_errors.push(format!(
                        "{case}: {m}: {:?}",
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
            Err(_) => {
                let keep = dir.join(format!("panic-{case}.csv"));
                std::fs::write(&keep, &bytes).expect("keep the case");
                panic!(
                    "case {case} panicked; its bytes are in {}: {:?}",
                    keep.display(),
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{cases} byte strings: {read} read, {failed} refused with an error: {codes:?}");
    // The byte-level scan refuses, with a place, whatever Polars cannot read.
    assert!(
        parse_errors.is_empty(),
        "Polars refused what the scan let through:\n{}",
        parse_errors[..parse_errors.len().min(20)].join("\n")
    );
    // Both outcomes are common (nearly half the corpus files are ones to refuse).
    assert!(
        read > cases / 20 && failed > cases / 20,
        "{read} read, {failed} refused"
    );
}
