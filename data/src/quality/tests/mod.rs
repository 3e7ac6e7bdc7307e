//! The quality report's tests. Which findings a file gets is a table of
//! cases run through one helper, [`check`]: CSV text (or a fixture under
//! `data/test_data/quality/`, made by `make_fixtures.py` there), read by
//! ingest as an upload is, an optional target, and the findings expected of
//! each kind the case names. Every kind has a case that finds it and one
//! that does not. The fixes' recipe steps are a table too; `words.rs` pins
//! numbers and words.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::{FindingKind as K, Severity as S, Step};

use super::*;
use crate::ingest;

mod words;

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

/// Ten by ten points on a grid: nothing stands apart.
const GRID: &str = "a,b\n0,0\n0,1\n0,2\n0,3\n0,4\n0,5\n0,6\n0,7\n0,8\n0,9\n1,0\n1,1\n1,2\n1,3\n1,4\n1,5\n1,6\n1,7\n1,8\n1,9\n2,0\n2,1\n2,2\n2,3\n2,4\n2,5\n2,6\n2,7\n2,8\n2,9\n3,0\n3,1\n3,2\n3,3\n3,4\n3,5\n3,6\n3,7\n3,8\n3,9\n4,0\n4,1\n4,2\n4,3\n4,4\n4,5\n4,6\n4,7\n4,8\n4,9\n5,0\n5,1\n5,2\n5,3\n5,4\n5,5\n5,6\n5,7\n5,8\n5,9\n6,0\n6,1\n6,2\n6,3\n6,4\n6,5\n6,6\n6,7\n6,8\n6,9\n7,0\n7,1\n7,2\n7,3\n7,4\n7,5\n7,6\n7,7\n7,8\n7,9\n8,0\n8,1\n8,2\n8,3\n8,4\n8,5\n8,6\n8,7\n8,8\n8,9\n9,0\n9,1\n9,2\n9,3\n9,4\n9,5\n9,6\n9,7\n9,8\n9,9\n";

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
    ("twenty planted anomalies", File("../explore/planted.csv"), None, &[Finds(K::UnusualRows, S::Info, &[])]),
    ("a regular grid", Text(GRID), None, &[No(K::UnusualRows)]),
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
    // The surest leak first: `status` copies the class, `x` nearly does.
    ("columns that give the class away", File("churn.csv"), Some("y"), &[
        Finds(K::TargetLeakage, S::Critical, &["status", "y"]),
        Finds(K::TargetLeakage, S::Critical, &["x", "y"]),
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
        No(K::DerivedTarget),
    ]),
    // Soft and missingness leaks, and honest predictors (`make_fixtures.py`'s `leaks`).
    ("a score recorded after the outcome", File("leak_soft.csv"), Some("recid"), &[
        Finds(K::TargetLeakage, S::Warning, &["followup_score", "recid"]),
    ]),
    // Likely by its missingness, and certain with the word “later” in its name.
    ("a date recorded only after a reoffence", File("leak_missing.csv"), Some("recid"), &[
        Finds(K::TargetLeakage, S::Critical, &["later_offence_date", "recid"]),
    ]),
    // A timing hint raises a leak a little weaker than likely, and a likely one to certain
    // (`make_fixtures.py`'s `timing`); the same strengths without a hint are not flagged,
    // and columns with a hint but no skill (`jail_out`, `result_code`) never are.
    ("a date after the screening date", File("leak_timing.csv"), Some("recid"), &[
        Finds(K::TargetLeakage, S::Warning, &["custody_date", "recid"]),
    ]),
    ("a number named for after the outcome", File("leak_named.csv"), Some("recid"), &[
        Finds(K::TargetLeakage, S::Warning, &["days_after", "recid"]),
    ]),
    // Later records in a block do not hide each other (nor does the flag copied from the
    // outcome); `r_jail_days`, present for a third of the reoffenders only, leaks through that
    // side of its missingness; `referral`, filled in more often for one class, does not.
    ("a block of later records", File("leak_block.csv"), Some("recid"), &[
        Finds(K::TargetLeakage, S::Critical, &["r_date", "recid"]),
        Finds(K::TargetLeakage, S::Warning, &["reoffended", "recid"]),
        Finds(K::TargetLeakage, S::Warning, &["r_case", "recid"]),
        Finds(K::TargetLeakage, S::Warning, &["r_charge", "recid"]),
        Finds(K::TargetLeakage, S::Warning, &["r_jail_days", "recid"]),
    ]),
    ("the same strengths without a timing hint", File("leak_timing_control.csv"), Some("recid"), &[
        No(K::TargetLeakage),
    ]),
    ("honest predictors of a class", File("leak_controls.csv"), Some("outcome"), &[No(K::TargetLeakage)]),
    ("near-copies of one strong number", File("leak_controls.csv"), Some("size"), &[No(K::TargetLeakage)]),
    // Targets rebuilt from columns that are weak alone (`make_fixtures.py`'s `derived`).
    ("a delay beside the actual and scheduled times", File("derived_difference.csv"), Some("delay"), &[
        Finds(K::DerivedTarget, S::Critical, &["sched", "actual", "delay"]),
        No(K::TargetLeakage),
    ]),
    ("a late flag from the actual and scheduled times", File("derived_class.csv"), Some("status"), &[
        Finds(K::DerivedTarget, S::Critical, &["sched", "actual", "status"]),
    ]),
    ("an arrival delay from clock times", File("derived_clock.csv"), Some("arr_delay"), &[
        Finds(K::DerivedTarget, S::Critical, &["arr_time", "sched_arr_time", "arr_delay"]),
    ]),
    ("a total from price and quantity", File("derived_product.csv"), Some("total"), &[
        Finds(K::DerivedTarget, S::Critical, &["price", "quantity", "total"]),
    ]),
    ("a density from mass and volume", File("derived_ratio.csv"), Some("density"), &[
        Finds(K::DerivedTarget, S::Critical, &["mass", "volume", "density"]),
    ]),
    ("a sum of three", File("derived_sum3.csv"), Some("spent"), &[
        Finds(K::DerivedTarget, S::Critical, &["rent", "food", "travel", "spent"]),
    ]),
    ("two honest columns that explain most of the target", File("derived_controls.csv"), Some("spend"), &[No(K::DerivedTarget)]),
    ("a product in noise", File("derived_controls.csv"), Some("score"), &[No(K::DerivedTarget)]),
    ("one strong column and a weak one", File("derived_controls.csv"), Some("rating"), &[No(K::DerivedTarget)]),
    ("no target, no rebuilt target", File("derived_difference.csv"), None, &[No(K::DerivedTarget)]),
    // Bill length and depth separate the species well (94%), honestly.
    ("measurements that separate classes", Text(include_str!("../../../../assets/samples/penguins.csv")), Some("species"), &[No(K::DerivedTarget)]),
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
        (File("../explore/planted.csv"), None, K::UnusualRows, "", vec![Step::DropUnusual { threshold: 0.65 }]),
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
        // The member whose removal costs the most, or whose name says it comes after.
        (File("derived_clock.csv"), Some("arr_delay"), K::DerivedTarget, "arr_time", drop("arr_time")),
        (File("derived_difference.csv"), Some("delay"), K::DerivedTarget, "actual", drop("actual")),
        (File("categories.csv"), None, K::HighCardinality, "city", vec![Step::GroupRare {
            column: "city".into(),
            min_rows: 10,
        }]),
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
