//! The quality report's tests. Which findings a file gets is a table of
//! cases run through one helper, [`check`]: CSV text (or a fixture under
//! `data/test_data/quality/`, made by `make_fixtures.py` there), read by
//! ingest as an upload is, an optional target, and the findings expected of
//! each kind the case names. Every kind has a case that finds it and one
//! that does not. The tests after the table pin numbers, words and steps.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::{FindingKind as K, Severity as S, Step};
use automl::Rng;
use polars::prelude::*;

use super::*;
use crate::ingest;

/// What a case expects of one kind of finding.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A finding of this kind and severity about these columns; a case's
    /// findings of a kind are exactly those it lists, in report order.
    Finds(K, S, &'static [&'static str]),
    /// No finding of this kind.
    No(K),
}

use Expect::{Finds, No};

impl Expect {
    fn kind(self) -> K {
        match self {
            Finds(k, ..) | No(k) => k,
        }
    }
}

/// A case's data: CSV text, or a fixture file.
#[derive(Debug, Clone, Copy)]
enum Csv {
    Text(&'static str),
    File(&'static str),
}

use Csv::{File, Text};

/// (what the case shows, its data, its target, what it expects).
type Case = (&'static str, Csv, Option<&'static str>, &'static [Expect]);

#[rustfmt::skip]
const CASES: &[Case] = &[
    ("a repeated row", Text("a,b\n1,x\n2,y\n1,x\n3,z\n"), None, &[Finds(K::DuplicateRows, S::Warning, &[])]),
    ("missing cells are equal", Text("a,b\n1,\n1,\n2,y\n"), None, &[Finds(K::DuplicateRows, S::Warning, &[])]),
    ("rows differing in one column", Text("a,b\n1,x\n2,y\n1,z\n0,w\n"), None, &[No(K::DuplicateRows)]),
    ("missing values by share", File("missing.csv"), None, &[
        Finds(K::MissingValues, S::Critical, &["half"]),
        Finds(K::MissingValues, S::Critical, &["empty"]),
        Finds(K::MissingValues, S::Warning, &["tenth"]),
        Finds(K::MissingValues, S::Info, &["few", "fewer"]),
        No(K::IdLike),
        No(K::NearDuplicateColumns),
    ]),
    ("no missing values", Text("a,b\n1,x\n2,y\n"), None, &[No(K::MissingValues)]),
    ("placeholders apart from the other values", File("placeholders.csv"), None, &[
        Finds(K::DisguisedMissing, S::Warning, &["age"]),
        Finds(K::DisguisedMissing, S::Warning, &["income"]),
        Finds(K::DisguisedMissing, S::Warning, &["colour"]),
        // A placeholder is not also an outlier.
        No(K::Outliers),
        No(K::NearDuplicateColumns),
        No(K::Multicollinearity),
    ]),
    ("a column coded -1 and 1", Text("sign,x\n-1,1\n1,2\n-1,3\n1,4\n-1,5\n1,6\n-1,7\n"), None, &[No(K::DisguisedMissing)]),
    ("inf and -inf", Text("x,y\n1,a\ninf,b\n2,c\n-inf,d\n3,e\n"), None, &[Finds(K::InfiniteValues, S::Warning, &["x"])]),
    ("finite numbers", Text("x\n1\n2.5\n1e300\n"), None, &[No(K::InfiniteValues)]),
    ("constant columns", Text("year,two,flag\n2013,1,y\n2013,2,\n2013,1,y\n"), None, &[
        Finds(K::ConstantColumn, S::Warning, &["year"]),
        Finds(K::ConstantColumn, S::Warning, &["flag"]),
    ]),
    ("no constant column", Text("a,b\n1,x\n2,y\n"), None, &[No(K::ConstantColumn)]),
    ("identifiers", File("identifiers.csv"), None, &[
        Finds(K::IdLike, S::Warning, &["row"]),
        Finds(K::IdLike, S::Warning, &["customer_id"]),
        Finds(K::IdLike, S::Warning, &["code"]),
        // Sentences are many distinct categories, not identifiers.
        Finds(K::HighCardinality, S::Warning, &["note"]),
        Finds(K::DatesAsText, S::Info, &["when"]),
    ]),
    ("many categories, with dates", File("categories.csv"), None, &[
        Finds(K::HighCardinality, S::Warning, &["city"]),
        Finds(K::DatesAsText, S::Info, &["day"]),
        No(K::IdLike),
    ]),
    ("60 levels in 2,000 rows", File("categories_common.csv"), None, &[No(K::HighCardinality)]),
    ("two far values", File("outliers.csv"), None, &[Finds(K::Outliers, S::Info, &["x"])]),
    ("skewed both ways", File("skew.csv"), None, &[
        Finds(K::Skewed, S::Info, &["heavy"]),
        Finds(K::Skewed, S::Info, &["left"]),
        Finds(K::Outliers, S::Warning, &["heavy"]),
        Finds(K::Outliers, S::Warning, &["left"]),
    ]),
    ("identical, near-duplicate and collinear", File("related.csv"), None, &[
        Finds(K::NearDuplicateColumns, S::Warning, &["x", "copy"]),
        Finds(K::NearDuplicateColumns, S::Warning, &["country", "name"]),
        Finds(K::NearDuplicateColumns, S::Warning, &["x", "scaled"]),
        Finds(K::NearDuplicateColumns, S::Warning, &["copy", "scaled"]),
        Finds(K::Multicollinearity, S::Info, &["x", "copy", "scaled", "close"]),
        No(K::Skewed),
        No(K::Outliers),
    ]),
    ("numbers and dates as text", Text(NUMBERS_AND_DATES), None, &[
        Finds(K::NumbersAsText, S::Warning, &["weight"]),
        Finds(K::DatesAsText, S::Info, &["when"]),
        // Nine in ten distinct values are numbers: the check above says so.
        No(K::TextAmongNumbers),
    ]),
    ("codes and words", Text("code,mixed\nA1,0\nB2,1\nC3,2\nD4,x\nE5,y\n"), None, &[
        No(K::NumbersAsText),
        No(K::DatesAsText),
        No(K::TextAmongNumbers),
    ]),
    ("ratings with a word among them", Text(RATINGS), None, &[
        Finds(K::TextAmongNumbers, S::Warning, &["rating"]),
        No(K::NumbersAsText),
    ]),
    ("a target of one value", Text("y,x\na,1\na,2\na,3\n"), Some("y"), &[
        Finds(K::UnusableTarget, S::Critical, &["y"]),
        No(K::TargetMissing),
    ]),
    ("a tenth of the targets missing", Text(TENTH_MISSING), Some("y"), &[
        Finds(K::TargetMissing, S::Warning, &["y"]),
        No(K::UnusableTarget),
    ]),
    ("an infinite target", Text("x,y\n1,1.5\n2,inf\n3,2.5\n4,3\n"), Some("y"), &[
        Finds(K::TargetMissing, S::Warning, &["y"]),
    ]),
    ("a rare class", File("imbalance.csv"), Some("rare5"), &[Finds(K::ClassImbalance, S::Warning, &["rare5"])]),
    ("a very rare class", File("imbalance.csv"), Some("rare1"), &[Finds(K::ClassImbalance, S::Critical, &["rare1"])]),
    ("30% of one class", File("imbalance.csv"), Some("rare30"), &[
        No(K::ClassImbalance),
        No(K::TargetMissing),
        No(K::UnusableTarget),
        No(K::TargetLeakage),
    ]),
    ("columns that give the class away", File("churn.csv"), Some("y"), &[
        Finds(K::TargetLeakage, S::Critical, &["x", "y"]),
        Finds(K::TargetLeakage, S::Critical, &["status", "y"]),
    ]),
    ("no target, no target checks", File("churn.csv"), None, &[
        No(K::TargetLeakage),
        No(K::ClassImbalance),
        Finds(K::IdLike, S::Warning, &["id"]),
    ]),
    // Guessing the majority of a rare target is 99.5% right, with any column.
    ("a rare target", File("rare_target.csv"), Some("y"), &[
        No(K::TargetLeakage),
        Finds(K::ClassImbalance, S::Critical, &["y"]),
    ]),
    ("a column that explains a number", File("price.csv"), Some("price"), &[
        Finds(K::TargetLeakage, S::Critical, &["price_eur", "price"]),
    ]),
];

/// `weight` is numbers but for one word; `when` is dates.
const NUMBERS_AND_DATES: &str = "weight,when
61.5,2024-01-31
70.2,2024-02-29
80.1,2024-03-01
55.0,2024-04-15
92.3,2024-05-20
66.6,2024-06-30
71.9,2024-07-04
83.4,2024-08-08
59.8,2024-09-09
77.7,2024-10-10
heavy,2024-11-11
";

/// `rating` is 1 to 5 but for one word in 21 rows (a sixth of its distinct
/// values); `mixed` has words in a third of its rows.
const RATINGS: &str = "rating,mixed
1,0
2,1
3,2
4,x
5,0
1,1
2,2
n/r,y
3,0
4,1
5,2
1,x
2,0
3,1
4,2
5,y
1,0
2,1
3,2
4,x
5,0
";

const TENTH_MISSING: &str = "x,y
1,a
2,b
3,
4,a
5,b
6,a
7,b
8,a
9,b
10,a
11,b
12,
13,a
14,b
15,a
16,b
17,a
18,b
19,a
20,b
";

/// The report on `csv` read as an upload is (`ingest::read_csv`).
fn report_of(csv: &str, target: Option<&str>) -> Result<api::QualityReport> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "kiln-quality-{}-{}.csv",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, csv).expect("the temporary file is written");
    let read = ingest::read_csv(&path, &ingest::ReadOptions::default());
    let _ = std::fs::remove_file(&path);
    report(&read.expect("the case's CSV reads").frame, target)
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/quality")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Csv {
    fn text(self) -> String {
        match self {
            Text(t) => t.to_owned(),
            File(f) => fixture(f),
        }
    }
}

/// A finding as one line: `warning near_duplicate_columns x, copy`.
fn line(kind: K, severity: S, columns: &[impl AsRef<str>]) -> String {
    let columns: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
    format!(
        "{} {} {}",
        severity.label(),
        kind.as_str(),
        columns.join(", ")
    )
}

/// Checks the report on `csv` (with `target`): most severe first, then by
/// kind; every number finite; and for each kind `expected` names, exactly
/// the findings it lists, in report order.
fn check(csv: &str, target: Option<&str>, expected: &[Expect]) {
    let report = report_of(csv, target).expect("the report is made");
    let all: Vec<String> = report
        .findings
        .iter()
        .map(|f| line(f.kind, f.severity, &f.columns))
        .collect();
    let order: Vec<(S, K)> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.kind))
        .collect();
    assert!(order.is_sorted(), "not sorted: {all:#?}");
    for f in &report.findings {
        let numbers = f
            .evidence
            .stats
            .iter()
            .map(|s| s.value)
            .chain(f.evidence.share);
        assert!(numbers.into_iter().all(f64::is_finite), "{f:#?}");
    }
    let about: Vec<K> = expected.iter().map(|e| e.kind()).collect();
    for e in expected {
        if let No(k) = e {
            assert!(
                !expected.iter().any(|x| matches!(x, Finds(f, ..) if f == k)),
                "{k:?} both found and not"
            );
        }
    }
    let got: Vec<String> = report
        .findings
        .iter()
        .filter(|f| about.contains(&f.kind))
        .map(|f| line(f.kind, f.severity, &f.columns))
        .collect();
    let mut want: Vec<(S, K, String)> = expected
        .iter()
        .filter_map(|e| match *e {
            Finds(k, s, columns) => Some((s, k, line(k, s, columns))),
            No(_) => None,
        })
        .collect();
    want.sort_by_key(|w| (w.0, w.1));
    let want: Vec<String> = want.into_iter().map(|w| w.2).collect();
    assert_eq!(got, want, "every finding: {all:#?}");
}

#[test]
fn cases() {
    for &(name, csv, target, expected) in CASES {
        eprintln!("case: {name}");
        check(&csv.text(), target, expected);
    }
}

#[test]
fn every_kind_has_a_case_that_finds_it_and_one_that_does_not() {
    for kind in K::ALL {
        let expects = || CASES.iter().flat_map(|c| c.3.iter());
        assert!(
            expects().any(|e| matches!(e, Finds(k, ..) if *k == kind)),
            "no case finds {kind:?}"
        );
        assert!(
            expects().any(|e| *e == No(kind)),
            "no case expects no {kind:?}"
        );
    }
}

#[test]
fn every_kind_is_made_by_exactly_one_check() {
    for kind in K::ALL {
        let checks = CHECKS.iter().filter(|c| c.kinds.contains(&kind)).count();
        assert_eq!(checks, 1, "{kind:?}");
    }
}

#[test]
fn an_unknown_target_is_refused() {
    let e = report_of("a,b\n1,2\n", Some("c")).unwrap_err();
    assert!(
        matches!(&e, Error::Unprocessable { code, .. } if *code == "unknown_column"),
        "{e:?}"
    );
}

fn findings(frame: &DataFrame, target: Option<&str>) -> Vec<api::Finding> {
    report(frame, target).unwrap().findings
}

fn of(fs: &[api::Finding], kind: K) -> Vec<api::Finding> {
    fs.iter().filter(|f| f.kind == kind).cloned().collect()
}

fn about(fs: &[api::Finding], kind: K, column: &str) -> Option<api::Finding> {
    fs.iter()
        .find(|f| f.kind == kind && f.columns.iter().any(|c| c == column))
        .cloned()
}

fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.next_f64()).collect()
}

#[test]
fn numbers_and_counts_read_as_they_always_have() {
    assert_eq!(counted(1, "row", "rows", 4), "1 row (25.0%)");
    assert_eq!(counted(312, "row", "rows", 7610), "312 rows (4.1%)");
    assert_eq!(
        counted(1_234, "value", "values", 5_000),
        "1,234 values (24.7%)"
    );
    assert_eq!(counted(0, "row", "rows", 0), "0 rows (0.0%)");
    assert_eq!(number(2013.0), "2013");
    assert_eq!(number(-2.71234), "-2.712");
    assert_eq!(number(0.000012345), "1.234e-5");
    // Where the report writes numbers unlike `display::number`: whole
    // numbers up to 1e15 stay integers, and NaN is spelled out.
    assert_eq!(display::number(1e9), "1.000e9");
    assert_eq!(number(1e9), "1000000000");
    assert_eq!(number(-123_456_789_012_345.0), "-123456789012345");
    assert_eq!(number(1e15), "1.000e15");
    assert_eq!(number(1.5e9 + 0.5), "1.500e9");
    assert_eq!(number(f64::INFINITY), "inf");
    assert_eq!(number(f64::NAN), "NaN");
}

#[test]
fn duplicate_rows_are_counted_with_their_first_occurrence() {
    let frame = df!(
        "a" => [Some(1), Some(2), Some(1), Some(3), Some(1), None, None],
        "b" => [Some("x"), Some("y"), Some("x"), Some("z"), Some("x"), Some("w"), Some("w")],
    )
    .unwrap();
    let d = of(&findings(&frame, None), K::DuplicateRows);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].evidence.count, Some(3));
    assert_eq!(
        d[0].message,
        "3 rows (42.9%) are exact duplicates of an earlier row"
    );
    let ex: Vec<(u64, &str)> = d[0]
        .evidence
        .examples
        .iter()
        .map(|e| (e.row, e.value.as_str()))
        .collect();
    assert_eq!(
        ex,
        [
            (3, "same as row 1"),
            (5, "same as row 1"),
            (7, "same as row 6")
        ]
    );
    let frame = df!("a" => [1.0, 2.0, 1.0, -0.0, 0.0], "b" => ["x", "y", "x", "w", "w"]).unwrap();
    let d = of(&findings(&frame, None), K::DuplicateRows);
    // -0 and 0 are the same number.
    assert_eq!(
        d[0].message,
        "2 rows (40.0%) are exact duplicates of an earlier row"
    );
}

#[test]
fn missing_values_say_how_many_rows() {
    let fs = report_of(&fixture("missing.csv"), None).unwrap().findings;
    let message = |c: &str| about(&fs, K::MissingValues, c).unwrap().message;
    assert_eq!(message("tenth"), "`tenth` is missing in 10 rows (10.0%)");
    assert_eq!(message("empty"), "`empty` has no values at all");
    assert_eq!(
        message("few"),
        "2 columns have a few missing values (at most 5.0%): few (2.0%), fewer (1.0%)"
    );
    let frame = df!("one" => [Some(1.0), None, Some(2.0), Some(3.0)]).unwrap();
    let f = &of(&findings(&frame, None), K::MissingValues)[0];
    assert_eq!(f.message, "`one` is missing in 1 row (25.0%)");
}

#[test]
fn placeholder_numbers_are_named_with_their_rows() {
    let fs = report_of(&fixture("placeholders.csv"), None)
        .unwrap()
        .findings;
    let age = about(&fs, K::DisguisedMissing, "age").unwrap();
    assert_eq!(age.evidence.count, Some(4));
    assert_eq!(age.evidence.values[0].value, "-1");
    assert_eq!(age.evidence.examples[0].row, 6);
    assert_eq!(
        age.message,
        "`age` holds “-1” in 4 rows (2.0%): this value usually means “unknown”"
    );
    let percentiles: Vec<&str> = age.evidence.stats.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        percentiles,
        [
            "1st percentile of the other values",
            "99th percentile of the other values"
        ]
    );
}

#[test]
fn placeholder_text_is_listed_as_written() {
    let frame = df!(
        "colour" => ["red", "Unknown", "blue", "N/a", "red", "unknown "],
        "album" => ["Unknown Pleasures", "Blue", "Red", "Low", "Heroes", "Abbey Road"],
    )
    .unwrap();
    let d = of(&findings(&frame, None), K::DisguisedMissing);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].columns, ["colour"]);
    assert_eq!(d[0].evidence.count, Some(3));
    let values: Vec<&str> = d[0]
        .evidence
        .values
        .iter()
        .map(|v| v.value.as_str())
        .collect();
    assert_eq!(values, ["Unknown", "N/a", "unknown "]);
    assert_eq!(
        d[0].fix.as_deref(),
        Some(
            "Treat “Unknown” and “N/a” and “unknown ” as missing, then impute or drop those rows."
        )
    );
}

#[test]
fn constant_and_high_cardinality_columns_show_their_values() {
    let frame = df!("year" => [2013, 2013, 2013], "flag" => [Some("y"), None, Some("y")]).unwrap();
    let fs = of(&findings(&frame, None), K::ConstantColumn);
    assert_eq!(
        fs[0].message,
        "`year` has the same value, “2013”, in every row"
    );
    assert_eq!(
        fs[1].message,
        "`flag` has the same value, “y”, in every row that has one (1 rows are missing)"
    );
    let fs = report_of(&fixture("categories.csv"), None)
        .unwrap()
        .findings;
    let h = about(&fs, K::HighCardinality, "city").unwrap();
    assert_eq!(h.evidence.count, Some(60));
    assert_eq!(h.evidence.values.len(), 5);
    assert_eq!(
        h.message,
        "`city` has 60 distinct values (30.0% of the rows with a value), too many for most categories to be learned"
    );
}

#[test]
fn text_among_numbers_is_named_with_its_rows() {
    let fs = report_of(RATINGS, None).unwrap().findings;
    let f = &of(&fs, K::TextAmongNumbers)[0];
    assert_eq!(
        f.message,
        "`rating` is numbers except in 1 row (4.8%): “n/r”; as it is, models take every value as a category"
    );
    assert_eq!((f.evidence.count, f.evidence.examples[0].row), (Some(1), 8));
    assert_eq!(f.evidence.values[0].value, "n/r");
}

#[test]
fn outliers_beyond_five_clipped_spreads_of_the_median() {
    let mut x = uniform(500, 1);
    x[42] = 50.0;
    x[7] = -20.0;
    let clean = uniform(500, 2);
    let frame = df!("x" => x, "clean" => clean).unwrap();
    let fs = of(&findings(&frame, None), K::Outliers);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    let o = &fs[0];
    assert_eq!(o.evidence.count, Some(2));
    let ex: Vec<(u64, &str)> = o
        .evidence
        .examples
        .iter()
        .map(|e| (e.row, e.value.as_str()))
        .collect();
    assert_eq!(ex, [(8, "-20"), (43, "50")]);
    assert!(
        o.message
            .starts_with("`x` has 2 values (0.4%) far outside its typical range of -"),
        "{}",
        o.message
    );
    let hi = o
        .evidence
        .stats
        .iter()
        .find(|s| s.name == "upper bound")
        .unwrap()
        .value;
    assert!((1.5..3.0).contains(&hi), "{hi}");
}

#[test]
fn skew_is_reported_with_its_direction_and_transform() {
    let fs = report_of(&fixture("skew.csv"), None).unwrap().findings;
    let fs = of(&fs, K::Skewed);
    assert!(
        fs[0]
            .message
            .starts_with("`heavy` is strongly right-skewed (skewness ")
    );
    assert!(
        fs[1]
            .message
            .starts_with("`left` is strongly left-skewed (skewness ")
    );
    assert!(fs[0].fix.as_deref().unwrap().contains("log(1 + x)"));
    assert!(fs[1].fix.as_deref().unwrap().contains("signed-log"));
}

#[test]
fn related_columns_say_how_they_are_related() {
    let fs = report_of(&fixture("related.csv"), None).unwrap().findings;
    let near = of(&fs, K::NearDuplicateColumns);
    assert_eq!(
        near[0].message,
        "`x` and `copy` hold the same value in every row"
    );
    assert_eq!(
        near[1].message,
        "`country` and `name` carry the same information: each value of one always goes with the same value of the other"
    );
    assert_eq!(
        near[2].message,
        "`x` and `scaled` are almost the same column (Pearson r = 1.000)"
    );
    let m = &of(&fs, K::Multicollinearity)[0];
    assert_eq!(m.evidence.count, Some(3));
    assert!(
        m.message.starts_with(
            "3 pairs of numeric columns are strongly correlated (|r| > 0.95): x and close (0.9"
        ),
        "{}",
        m.message
    );
}

#[test]
fn target_findings_say_what_training_will_do() {
    let fs = report_of("y,x\na,1\na,2\na,3\n", Some("y"))
        .unwrap()
        .findings;
    let u = &of(&fs, K::UnusableTarget)[0];
    assert!(u.message.contains("single value"), "{}", u.message);
    let fs = report_of(TENTH_MISSING, Some("y")).unwrap().findings;
    let m = &of(&fs, K::TargetMissing)[0];
    assert_eq!(m.evidence.count, Some(2));
    assert_eq!(
        m.message,
        "2 rows (10.0%) have no value in `y`; training leaves them out"
    );
    let fs = report_of("x,y\n1,1.5\n2,inf\n3,2.5\n4,3\n", Some("y"))
        .unwrap()
        .findings;
    assert_eq!(
        of(&fs, K::TargetMissing)[0].message,
        "1 row (25.0%) has no value in `y` (an infinite one); training leaves it out"
    );
    let fs = report_of(&fixture("imbalance.csv"), Some("rare1"))
        .unwrap()
        .findings;
    let f = &of(&fs, K::ClassImbalance)[0];
    assert_eq!(
        f.message,
        "The smallest class of `rare1`, “yes”, has 10 of 1,000 rows (1.0%)"
    );
    assert_eq!(f.evidence.values.len(), 2);
}

#[test]
fn leaks_name_their_held_out_score() {
    let fs = report_of(&fixture("churn.csv"), Some("y"))
        .unwrap()
        .findings;
    let f = about(&fs, K::TargetLeakage, "status").unwrap();
    assert!(
        f.message
            .starts_with("`status` alone predicts `y` with 100.0% accuracy on held-out rows"),
        "{}",
        f.message
    );
    let fs = report_of(&fixture("price.csv"), Some("price"))
        .unwrap()
        .findings;
    let f = &of(&fs, K::TargetLeakage)[0];
    assert!(f.evidence.stats[0].value > 0.99);
    assert!(
        f.message.starts_with("`price_eur` alone explains "),
        "{}",
        f.message
    );
}

#[test]
fn large_frames_say_which_checks_ran_on_a_sample() {
    let x = uniform(1000, 12);
    let mut heavy: Vec<f64> = (1..=1000).map(|i| 1e6 / f64::from(i * i)).collect();
    heavy[0] = 1e9;
    let frame = df!("x" => x.clone(), "twin" => x, "heavy" => heavy).unwrap();
    let sampling = Sampling {
        rows: 300,
        pair_rows: 100,
    };
    let fs = report_sampled(&frame, None, sampling).unwrap().findings;
    let skew = about(&fs, K::Skewed, "heavy").unwrap();
    assert_eq!(skew.evidence.sampled_rows, Some(300));
    // Exact checks use every row.
    let twins = about(&fs, K::NearDuplicateColumns, "twin").unwrap();
    assert_eq!(twins.evidence.sampled_rows, None);
    let o = about(&fs, K::Outliers, "heavy").unwrap();
    assert_eq!(o.evidence.sampled_rows, Some(300));
    assert_eq!(o.evidence.examples[0].row, 1);
    // 1e9 is written as the whole number it is.
    assert_eq!(o.evidence.examples[0].value, "1000000000");
    assert!(
        o.message
            .contains("far above its typical values (more than "),
        "{}",
        o.message
    );
    assert_eq!(
        report_sampled(&frame, None, sampling).unwrap().findings,
        fs,
        "seeded"
    );
}

/// (data, target, kind, column, the steps of that finding's fix).
type Fix = (Csv, Option<&'static str>, K, &'static str, Vec<Step>);

/// The steps of the first finding of `kind` about `column` (any finding of
/// `kind` when `column` is empty).
fn steps_of(csv: Csv, target: Option<&str>, kind: K, column: &str) -> Vec<Step> {
    let fs = report_of(&csv.text(), target).unwrap().findings;
    let f = fs
        .iter()
        .find(|f| f.kind == kind && (column.is_empty() || f.columns.iter().any(|c| c == column)));
    f.unwrap_or_else(|| panic!("no {kind:?} about `{column}`: {fs:#?}"))
        .steps
        .clone()
}

#[test]
fn fixes_come_with_their_recipe_steps() {
    let drop = |c: &str| {
        vec![Step::DropColumns {
            columns: vec![c.into()],
        }]
    };
    let impute = |c: &str, strategy| Step::Impute {
        column: c.into(),
        strategy,
        value: None,
    };
    let set_missing = |c: &str, values: &[&str]| {
        vec![Step::SetMissing {
            column: c.into(),
            values: values.iter().map(|&v| v.into()).collect(),
        }]
    };
    let text = Text("n,t\n1,a\n,b\n3,\n4,d\n5,e\n6,f\n7,g\n8,h\n9,i\n10,j\n");
    #[rustfmt::skip]
    let cases: Vec<Fix> = vec![
        (Text("a\n1\n1\n2\n"), None, K::DuplicateRows, "", vec![Step::DropDuplicates]),
        (File("missing.csv"), None, K::MissingValues, "empty", drop("empty")),
        (File("missing.csv"), None, K::MissingValues, "tenth", vec![impute("tenth", api::Imputation::Median)]),
        (File("missing.csv"), None, K::MissingValues, "few", vec![
            impute("few", api::Imputation::Median),
            impute("fewer", api::Imputation::Median),
        ]),
        (text, None, K::MissingValues, "t", vec![impute("t", api::Imputation::Mode)]),
        (File("placeholders.csv"), None, K::DisguisedMissing, "income", set_missing("income", &["99999"])),
        (Text("x\n1\ninf\n-inf\n"), None, K::InfiniteValues, "x", set_missing("x", &["inf", "-inf"])),
        (Text("a,b\n1,x\n1,y\n"), None, K::ConstantColumn, "a", drop("a")),
        (File("identifiers.csv"), None, K::IdLike, "code", drop("code")),
        (File("outliers.csv"), None, K::Outliers, "x", vec![Step::Outliers {
            column: "x".into(),
            action: api::OutlierAction::Clip,
        }]),
        (File("skew.csv"), None, K::Skewed, "heavy", vec![Step::Log { column: "heavy".into() }]),
        (File("related.csv"), None, K::NearDuplicateColumns, "scaled", drop("scaled")),
        (Text(NUMBERS_AND_DATES), None, K::NumbersAsText, "weight", vec![Step::Cast {
            column: "weight".into(),
            to: api::CastTo::Number,
        }]),
        (Text(RATINGS), None, K::TextAmongNumbers, "rating", vec![Step::Cast {
            column: "rating".into(),
            to: api::CastTo::Number,
        }]),
        (Text(NUMBERS_AND_DATES), None, K::DatesAsText, "when", vec![Step::DateParts { column: "when".into() }]),
        (File("churn.csv"), Some("y"), K::TargetLeakage, "status", drop("status")),
        (File("categories.csv"), None, K::HighCardinality, "city", Vec::new()),
        (File("related.csv"), None, K::Multicollinearity, "", Vec::new()),
        (Text(TENTH_MISSING), Some("y"), K::TargetMissing, "y", Vec::new()),
    ];
    for (csv, target, kind, column, want) in cases {
        assert_eq!(
            steps_of(csv, target, kind, column),
            want,
            "{kind:?} {column}"
        );
    }
}
