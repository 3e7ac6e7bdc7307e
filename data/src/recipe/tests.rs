//! Every step with Polars and with the engine, column by column, and the recipe's errors.

use super::*;
use api::Step;

fn messy() -> DataFrame {
    df!(
        "age" => [Some(30i64), None, Some(-1), Some(45), Some(1000), Some(30), Some(52), Some(38)],
        "income" => [Some("$1,200"), Some("900"), None, Some("n/a"), Some("2,500.5"), Some("$1,200"), Some("700"), Some("1 100")],
        "city" => [Some("Oslo"), Some("Rome"), None, Some("Oslo"), Some("Lima"), Some("Oslo"), Some("unknown"), Some("Rome")],
        "joined" => [Some("2024-03-31"), Some("2023-12-01"), Some("2024-01-15"), None, Some("2022-07-04"), Some("2024-03-31"), Some("2021-02-28"), Some("2020-10-10")],
        "score" => [1.5, 2.0, 3.5, 100.0, 2.5, 1.5, 3.0, 2.0],
        "y" => ["a", "b", "a", "b", "a", "a", "b", "a"]
    )
    .expect("frame")
}

fn every_step() -> Vec<Step> {
    vec![
        Step::DropDuplicates,
        Step::SetMissing {
            column: "age".into(),
            values: vec!["-1".into()],
        },
        Step::SetMissing {
            column: "city".into(),
            values: vec!["unknown".into()],
        },
        Step::Impute {
            column: "age".into(),
            strategy: api::Imputation::Median,
            value: None,
        },
        Step::Outliers {
            column: "age".into(),
            action: api::OutlierAction::Clip,
        },
        Step::Cast {
            column: "income".into(),
            to: api::CastTo::Number,
        },
        Step::Impute {
            column: "income".into(),
            strategy: api::Imputation::Mean,
            value: None,
        },
        Step::Log {
            column: "income".into(),
        },
        Step::Impute {
            column: "city".into(),
            strategy: api::Imputation::Constant,
            value: Some("Elsewhere".into()),
        },
        Step::OneHot {
            column: "city".into(),
            max_categories: 2,
        },
        Step::DateParts {
            column: "joined".into(),
        },
        Step::Bin {
            column: "score".into(),
            bins: 3,
            strategy: api::BinStrategy::Quantile,
        },
        Step::Rename {
            column: "age".into(),
            to: "age_years".into(),
        },
        Step::Cast {
            column: "joined_year".into(),
            to: api::CastTo::Category,
        },
        Step::DropColumns {
            columns: vec!["joined_weekday".into()],
        },
    ]
}

#[test]
fn polars_and_the_engine_apply_the_same_steps_alike() {
    let frame = messy();
    let recipe = api::Recipe {
        steps: every_step(),
    };
    let applied = apply(frame.clone(), &recipe, Some("y")).expect("applies");
    assert_eq!(applied.frame.height(), 7, "one duplicate row removed");
    let names: Vec<String> = applied
        .frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "age_years",
            "income",
            "city=Elsewhere",
            "city=Oslo",
            "joined_year",
            "joined_month",
            "joined_day",
            "score",
            "y"
        ]
    );
    // The engine applies the fitted steps to the same rows (after the
    // duplicate is gone) and gets the same columns.
    let deduped = frame
        .clone()
        .lazy()
        .unique_stable(None, UniqueKeepStrategy::First)
        .collect()
        .expect("dedup");
    assert_same(&deduped, &applied);
    // Fitted values: the two most frequent cities (ties by name), the log, the bins.
    let c = |n: &str| applied.frame.column(n).expect(n).clone();
    assert_eq!(
        convert::numbers(&c("city=Oslo")).expect("n"),
        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    );
    let income = convert::numbers(&c("income")).expect("n");
    assert!((income[0] - 1201f64.ln()).abs() < 1e-12, "{income:?}");
    assert_eq!(
        convert::labels(&c("score")).expect("l")[4].as_deref(),
        Some("2 to 3"),
    );
    assert_eq!(applied.outcomes.len(), recipe.steps.len());
    assert!(
        applied.outcomes[5]
            .message
            .contains("1 value could not be read"),
        "{:?}",
        applied.outcomes[5]
    );
}

/// Polars' result and the engine's on the same raw frame, column by column.
fn assert_same(raw: &DataFrame, applied: &Applied) {
    let engine = automl::Recipe {
        version: 1,
        inputs: Vec::new(),
        steps: applied.fitted.clone(),
    };
    let raw = convert::frame_to_dataset(raw).expect("raw");
    let by_engine = engine.apply(&raw).expect("engine applies");
    let by_polars = convert::frame_to_dataset(&applied.frame).expect("prepared");
    assert_eq!(by_engine.names(), by_polars.names());
    for (name, a) in by_polars.columns() {
        let b = by_engine.require(name).expect("same columns");
        match (a, b) {
            (automl::Column::Numeric(x), automl::Column::Numeric(y)) => {
                for (p, q) in x.iter().zip(y) {
                    assert!(
                        (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-12 * p.abs().max(1.0),
                        "{name}: {p} vs {q}"
                    );
                }
            }
            _ => assert_eq!(a, b, "{name}"),
        }
    }
}

#[test]
fn outliers_are_clipped_and_binned_alike() {
    let x: Vec<Option<f64>> = (0..60)
        .map(|i| match i {
            7 => None,
            13 => Some(1000.0),
            21 => Some(-400.0),
            _ => Some(f64::from(i % 17)),
        })
        .collect();
    let frame = df!("x" => x.clone(), "w" => x).expect("frame");
    let recipe = api::Recipe {
        steps: vec![
            Step::Outliers {
                column: "x".into(),
                action: api::OutlierAction::Clip,
            },
            Step::Bin {
                column: "w".into(),
                bins: 4,
                strategy: api::BinStrategy::Width,
            },
        ],
    };
    let applied = apply(frame.clone(), &recipe, None).expect("applies");
    assert_same(&frame, &applied);
    let x = convert::numbers(applied.frame.column("x").expect("x")).expect("n");
    let (lo, hi) = match &applied.fitted[0] {
        FittedStep::Clip { lower, upper, .. } => (*lower, *upper),
        other => panic!("{other:?}"),
    };
    assert!(lo > -400.0 && hi < 1000.0, "{lo} {hi}");
    assert_eq!((x[13], x[21]), (hi, lo));
    assert!(
        applied.outcomes[0].message.starts_with("2 values clipped"),
        "{:?}",
        applied.outcomes[0]
    );
    let removed = apply(
        frame,
        &api::Recipe {
            steps: vec![Step::Outliers {
                column: "x".into(),
                action: api::OutlierAction::Remove,
            }],
        },
        None,
    )
    .expect("applies");
    // The missing value stays; the two outliers go.
    assert_eq!(removed.frame.height(), 58);
}

#[test]
fn steps_that_name_unknown_columns_or_the_target_are_refused() {
    let recipe = api::Recipe {
        steps: vec![
            Step::Rename {
                column: "age".into(),
                to: "years".into(),
            },
            Step::Log {
                column: "age".into(),
            },
        ],
    };
    let err = apply(messy(), &recipe, None).unwrap_err().to_string();
    assert!(
        err.contains("step 2") && err.contains("no column `age`"),
        "{err}"
    );
    let err = apply(
        messy(),
        &api::Recipe {
            steps: vec![Step::Log { column: "y".into() }],
        },
        Some("y"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("changes the target `y`"), "{err}");
    for (step, want) in [
        (
            Step::Log {
                column: "city".into(),
            },
            "holds text",
        ),
        (
            Step::Impute {
                column: "city".into(),
                strategy: api::Imputation::Median,
                value: None,
            },
            "holds text",
        ),
        (
            Step::DateParts {
                column: "city".into(),
            },
            "does not hold dates",
        ),
        (
            Step::Rename {
                column: "age".into(),
                to: "city".into(),
            },
            "already exists",
        ),
    ] {
        let err = apply(messy(), &api::Recipe { steps: vec![step] }, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn a_preview_shows_rows_and_changed_statistics() {
    let recipe = api::Recipe {
        steps: vec![
            Step::DropDuplicates,
            Step::Impute {
                column: "age".into(),
                strategy: api::Imputation::Constant,
                value: Some("40".into()),
            },
        ],
    };
    let p = preview(messy(), &recipe).expect("preview");
    assert_eq!((p.rows_before, p.rows_after), (8, 7));
    assert_eq!(p.after.rows[1][0].as_deref(), Some("40"));
    let age = p
        .changes
        .iter()
        .find(|c| c.column == "age")
        .expect("age changed");
    assert_eq!(age.before.as_ref().map(|s| s.missing), Some(1));
    assert_eq!(age.after.as_ref().map(|s| s.missing), Some(0));
}

#[test]
fn rare_categories_are_grouped_alike_and_unseen_ones_join_them() {
    // 12 "a", 10 "b", 3 "c", 2 "Other", 1 "d", 2 missing.
    let mut city: Vec<Option<&str>> = Vec::new();
    for (label, n) in [("a", 12), ("b", 10), ("c", 3), ("Other", 2), ("d", 1)] {
        city.extend(std::iter::repeat_n(Some(label), n));
    }
    city.extend([None, None]);
    let frame = df!("city" => city).expect("frame");
    let recipe = api::Recipe {
        steps: vec![Step::GroupRare {
            column: "city".into(),
            min_rows: 10,
        }],
    };
    let applied = apply(frame.clone(), &recipe, None).expect("applies");
    assert_same(&frame, &applied);
    // The existing "Other" takes the rare ones; missing values stay missing.
    let labels = convert::labels(applied.frame.column("city").expect("city")).expect("l");
    let count = |l: Option<&str>| labels.iter().filter(|x| x.as_deref() == l).count();
    assert_eq!(
        [
            count(Some("a")),
            count(Some("b")),
            count(Some("Other")),
            count(None)
        ],
        [12, 10, 6, 2]
    );
    assert_eq!(
        applied.fitted,
        [FittedStep::GroupRare {
            column: "city".into(),
            keep: vec!["a".into(), "b".into()],
            other: "Other".into(),
        }]
    );
    assert_eq!(
        applied.outcomes[0].message,
        "2 categories kept; 2 rarer categories (4 rows) now \"Other\""
    );
    // A model meets a category it never saw: it is grouped too.
    let engine = automl::Recipe {
        version: 1,
        inputs: Vec::new(),
        steps: applied.fitted.clone(),
    };
    let new = convert::frame_to_dataset(&df!("city" => ["b", "Zagreb"]).expect("new")).expect("ds");
    let scored = engine.apply(&new).expect("applies");
    assert_eq!(
        scored.require("city").expect("city"),
        &automl::Column::Categorical(vec![Some("b".into()), Some("Other".into())])
    );
    // Numbers are refused with the way out named.
    let err = apply(
        messy(),
        &api::Recipe {
            steps: vec![Step::GroupRare {
                column: "score".into(),
                min_rows: 10,
            }],
        },
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("treats it as categories first"), "{err}");
}

#[test]
fn a_computed_fill_value_is_shown_without_binary_noise() {
    // In doubles, the median of these is 0.012400000000000001.
    assert_ne!((0.0123f64 + 0.0125) / 2.0, 0.0124);
    let frame = df!("x" => [Some(0.0123), Some(0.0125), None]).expect("frame");
    for strategy in [api::Imputation::Median, api::Imputation::Mean] {
        let recipe = api::Recipe {
            steps: vec![Step::Impute {
                column: "x".into(),
                strategy,
                value: None,
            }],
        };
        let p = preview(frame.clone(), &recipe).expect("preview");
        assert_eq!(
            p.after.rows[2][0].as_deref(),
            Some("0.0124"),
            "{strategy:?}"
        );
        assert!(
            p.outcomes[0].message.ends_with("with 0.0124"),
            "{:?}",
            p.outcomes[0]
        );
    }
}

/// Two groups of rows in `x` and `c`, and a constant column.
fn two_groups() -> DataFrame {
    let x: Vec<f64> = (0..40)
        .map(|i| {
            if i % 2 == 0 {
                i as f64 * 0.01
            } else {
                10.0 + i as f64 * 0.01
            }
        })
        .collect();
    let c: Vec<&str> = (0..40)
        .map(|i| if i % 2 == 0 { "low" } else { "high" })
        .collect();
    let y: Vec<&str> = (0..40)
        .map(|i| if i % 3 == 0 { "a" } else { "b" })
        .collect();
    df!("x" => x, "c" => c, "same" => vec![1i64; 40], "y" => y).expect("frame")
}

#[test]
fn segments_are_added_alike_by_polars_and_the_engine() {
    let frame = two_groups();
    let recipe = api::Recipe {
        steps: vec![Step::AddSegments {
            columns: vec!["x".into(), "c".into()],
            k: 2,
            name: "segment".into(),
        }],
    };
    let applied = apply(frame.clone(), &recipe, Some("y")).expect("applies");
    assert_same(&frame, &applied);
    let labels = convert::labels(applied.frame.column("segment").expect("added")).expect("l");
    // Each group is one segment, and the two differ.
    assert!(labels.iter().step_by(2).all(|l| *l == labels[0]));
    assert!(labels.iter().skip(1).step_by(2).all(|l| *l == labels[1]));
    assert_ne!(labels[0], labels[1]);
    assert!(matches!(
        applied.fitted.as_slice(),
        [FittedStep::Segments { name, .. }] if name == "segment"
    ));
    assert!(applied.outcomes[0].message.contains("2 segments"));
    for (step, target, want) in [
        (
            Step::AddSegments {
                columns: vec!["x".into(), "y".into()],
                k: 2,
                name: "s".into(),
            },
            Some("y"),
            "its segments read the target `y`",
        ),
        (
            Step::AddSegments {
                columns: vec!["x".into()],
                k: 1,
                name: "s".into(),
            },
            None,
            "between 2 and 20",
        ),
        (
            Step::AddSegments {
                columns: vec!["x".into()],
                k: 2,
                name: "c".into(),
            },
            None,
            "a column `c` already exists",
        ),
        (
            Step::AddSegments {
                columns: vec!["same".into()],
                k: 2,
                name: "s".into(),
            },
            None,
            "`same` cannot set segments apart",
        ),
        (
            Step::AddSegments {
                columns: vec!["nope".into()],
                k: 2,
                name: "s".into(),
            },
            None,
            "no column `nope`",
        ),
        (Step::DropUnusual { threshold: 0.4 }, None, "above 0.5"),
    ] {
        let err = apply(two_groups(), &api::Recipe { steps: vec![step] }, target)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn unusual_rows_are_dropped_for_training_only() {
    let mut x: Vec<f64> = (0..200).map(|i| (i % 20) as f64).collect();
    let mut z: Vec<f64> = (0..200).map(|i| (i / 20) as f64).collect();
    x[7] = 400.0;
    z[7] = -300.0;
    let frame = df!("x" => x, "z" => z).expect("frame");
    let data = convert::frame_to_dataset(&frame).expect("data");
    let scores = crate::explore::unusual_scores(&data)
        .expect("scores")
        .expect("some");
    let unusual = scores.iter().filter(|&&s| s >= 0.65).count();
    assert!(unusual >= 1 && scores[7] >= 0.65, "{:?}", &scores[..10]);
    let recipe = api::Recipe {
        steps: vec![Step::DropUnusual { threshold: 0.65 }],
    };
    let applied = apply(frame, &recipe, None).expect("applies");
    assert_eq!(applied.frame.height(), 200 - unusual);
    // A row filter: nothing for scoring to apply.
    assert!(applied.fitted.is_empty());
    assert!(
        applied.outcomes[0].message.contains("unusual row"),
        "{:?}",
        applied.outcomes[0]
    );
}
