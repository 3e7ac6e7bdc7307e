//! The quality report's numbers and words, pinned: messages, evidence,
//! example rows and what is sampled, on small frames and the fixtures.

use api::FindingKind as K;
use automl::Rng;
use polars::prelude::*;

use super::*;

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
fn likely_leaks_state_their_rule_and_missingness_leaks_say_who_has_a_value() {
    let fs = report_of(&fixture("leak_soft.csv"), Some("recid"))
        .unwrap()
        .findings;
    let f = about(&fs, K::TargetLeakage, "followup_score").unwrap();
    assert!(
        f.message
            .starts_with("`followup_score` alone predicts `recid` with ")
            && f.message
                .contains("far more than any other column (next: `"),
        "{}",
        f.message
    );
    let named: Vec<&str> = f.evidence.stats.iter().map(|s| s.name.as_str()).collect();
    assert!(
        named.contains(&"likely from a share of") && named.contains(&"and a lead over the next of"),
        "{named:?}"
    );
    let fs = report_of(&fixture("leak_missing.csv"), Some("recid"))
        .unwrap()
        .findings;
    let f = about(&fs, K::TargetLeakage, "later_offence_date").unwrap();
    assert!(
        f.message
            .starts_with("Whether `later_offence_date` is missing predicts `recid`")
            && f.message.contains("where `recid` is “yes”"),
        "{}",
        f.message
    );
}

#[test]
fn timing_hints_say_what_raised_the_finding() {
    let fs = report_of(&fixture("leak_timing.csv"), Some("recid"))
        .unwrap()
        .findings;
    let f = about(&fs, K::TargetLeakage, "custody_date").unwrap();
    assert!(
        f.message
            .starts_with("`custody_date` alone predicts `recid` with ")
            && f.message
                .contains(" Its dates fall on or after `jail_out` in ")
            && f.message.ends_with(
                " of the rows with both (and after 1 other date column), as a later record's would."
            ),
        "{}",
        f.message
    );
    let value = |name: &str| {
        f.evidence
            .stats
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", f.evidence.stats))
            .value
    };
    // Under the likely bar, over the hinted one.
    let skill = value("share of the gap to perfect closed");
    assert!((HINTED_SKILL..LIKELY_SKILL).contains(&skill), "{skill}");
    assert_eq!(value("likely from a share of"), HINTED_SKILL);
    assert_eq!(value("and a lead over the next of"), HINTED_MARGIN);
    assert!(value("share of rows on or after the earlier date") >= AFTER_SHARE);
    let fs = report_of(&fixture("leak_named.csv"), Some("recid"))
        .unwrap()
        .findings;
    let f = about(&fs, K::TargetLeakage, "days_after").unwrap();
    assert!(
        f.message
            .ends_with(" Its name (“after” in `days_after`) suggests a record made later."),
        "{}",
        f.message
    );
}

#[test]
fn one_sided_missingness_leaks_say_which_side() {
    let fs = report_of(&fixture("leak_block.csv"), Some("recid"))
        .unwrap()
        .findings;
    let f = about(&fs, K::TargetLeakage, "r_jail_days").unwrap();
    assert!(
        f.message
            .starts_with("Where `r_jail_days` is present, `recid` is “yes” in ")
            && f.message
                .contains("% of the gap to a perfect score there, far more than")
            && f.message.ends_with(
                "A value recorded only for some outcomes is usually filled in after them."
            ),
        "{}",
        f.message
    );
    let named: Vec<&str> = f.evidence.stats.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        named[..2],
        [
            "share of the side's rows in its most common class",
            "that class's share of all rows"
        ],
        "{named:?}"
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

#[test]
fn a_bound_beyond_every_value_is_not_reported() {
    // Never negative, with two huge values: the lower bound (the median
    // less five spreads) is below zero, where no value is.
    let mut x: Vec<f64> = uniform(500, 3).iter().map(|v| v.abs() + 0.1).collect();
    x[10] = 400.0;
    x[20] = 500.0;
    let frame = df!("x" => x).unwrap();
    let fs = of(&findings(&frame, None), K::Outliers);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    let names: Vec<&str> = fs[0]
        .evidence
        .stats
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(names.contains(&"upper bound"), "{names:?}");
    assert!(!names.contains(&"lower bound"), "{names:?}");
    assert!(
        fs[0].message.contains("above its typical values"),
        "{}",
        fs[0].message
    );
}
