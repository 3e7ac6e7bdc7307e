//! Monitoring's drift tests on synthetic shifts of real tables (diamonds
//! and German credit, from `assets/samples/`): half the rows are the
//! training baseline, and samples of the other half are the live traffic.
//!
//! - Twenty same-distribution samples raise at most one drift alarm in
//!   total, over every feature.
//! - A shifted copy (one numeric feature moved by one training standard
//!   deviation, one category re-weighted) is flagged on exactly those two.
//! - Ground truth with 20% of its labels flipped is a model-quality
//!   violation; the same rows with their true labels are not.

use std::path::Path;

use automl::monitor::{self, Baseline, Live, Outputs, Truth};
use automl::{Column, Dataset, FeatureStats, Rng};
use data::{convert, ingest};

fn table(file: &str) -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/samples")
        .join(file);
    let ingested = ingest::read_csv(&path, &ingest::ReadOptions::default()).unwrap();
    convert::frame_to_dataset(&ingested.frame).unwrap()
}

/// The rows `rows` of `data`, without the `target` column.
fn take(data: &Dataset, rows: &[usize], target: &str) -> Dataset {
    Dataset::new(
        data.columns()
            .filter(|(n, _)| *n != target)
            .map(|(n, c)| {
                let col = match c {
                    Column::Numeric(v) => Column::Numeric(rows.iter().map(|r| v[*r]).collect()),
                    Column::Categorical(v) => {
                        Column::Categorical(rows.iter().map(|r| v[*r].clone()).collect())
                    }
                };
                (n.to_owned(), col)
            })
            .collect(),
    )
    .unwrap()
}

fn features(data: &Dataset) -> Vec<FeatureStats> {
    let all: Vec<usize> = (0..data.n_rows()).collect();
    data.columns()
        .map(|(n, c)| FeatureStats::fit(n, c, &all))
        .collect()
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut rows: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_f64() * (i + 1) as f64) as usize;
        rows.swap(i, j.min(i));
    }
    rows
}

fn sample(pool: &[usize], size: usize, rng: &mut Rng) -> Vec<usize> {
    (0..size)
        .map(|_| pool[((rng.next_f64() * pool.len() as f64) as usize).min(pool.len() - 1)])
        .collect()
}

/// `numeric` moved by one training standard deviation, and `category`
/// set to `to` on a third of the rows that had another value.
fn shifted(data: &Dataset, numeric: &str, std: f64, category: &str, to: &str) -> Dataset {
    let mut k = 0usize;
    Dataset::new(
        data.columns()
            .map(|(n, c)| {
                let col = match c {
                    Column::Numeric(v) if n == numeric => {
                        Column::Numeric(v.iter().map(|x| x + std).collect())
                    }
                    Column::Categorical(v) if n == category => Column::Categorical(
                        v.iter()
                            .map(|x| {
                                k += 1;
                                if x.as_deref() != Some(to) && k.is_multiple_of(3) {
                                    Some(to.to_owned())
                                } else {
                                    x.clone()
                                }
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (n.to_owned(), col)
            })
            .collect(),
    )
    .unwrap()
}

fn std_of(data: &Dataset, name: &str) -> f64 {
    let Some(Column::Numeric(v)) = data.column(name) else {
        panic!("{name} is numeric")
    };
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

fn drifted(report: &monitor::Report) -> Vec<String> {
    let mut d: Vec<String> = report
        .drift
        .iter()
        .filter(|d| d.drifted)
        .map(|d| d.feature.clone())
        .collect();
    d.sort();
    d
}

fn check_table(
    file: &str,
    target: &str,
    sample_size: usize,
    numeric: &str,
    category: &str,
    to: &str,
) {
    let data = table(file);
    let order = shuffled(data.n_rows(), 7);
    let (train, pool) = order.split_at(data.n_rows() / 2);
    let reference = take(&data, train, target);
    let stats = features(&reference);
    let outputs = Outputs::Numbers(vec![0.0; reference.n_rows()]);
    let baseline = Baseline::fit(&stats, &reference, &outputs, None, Vec::new());
    assert_eq!(baseline.features.len(), stats.len());
    let mut rng = Rng::new(11);
    let mut alarms = Vec::new();
    for i in 0..20 {
        let live = take(&data, &sample(pool, sample_size, &mut rng), target);
        let report = monitor::check(
            &baseline,
            &Live {
                data: &live,
                outputs: None,
                truth: None,
                type_errors: &[],
                attribution: None,
            },
        );
        for f in drifted(&report) {
            alarms.push(format!("sample {i}: {f}"));
        }
    }
    assert!(alarms.len() <= 1, "{file}: false alarms {alarms:?}");
    let live = take(&data, &sample(pool, sample_size, &mut rng), target);
    let moved = shifted(&live, numeric, std_of(&reference, numeric), category, to);
    let report = monitor::check(
        &baseline,
        &Live {
            data: &moved,
            outputs: None,
            truth: None,
            type_errors: &[],
            attribution: None,
        },
    );
    let mut want = vec![numeric.to_owned(), category.to_owned()];
    want.sort();
    assert_eq!(drifted(&report), want, "{file}: {:#?}", report.drift);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.contains(&format!("`{numeric}` drifted"))),
        "{:?}",
        report.violations
    );
    println!(
        "{file}: {} false alarms in 20 samples of {sample_size}; shifted copy flagged on {:?}",
        alarms.len(),
        drifted(&report)
    );
}

#[test]
fn drift_is_flagged_on_the_shifted_features_and_not_on_same_distribution_samples() {
    check_table("diamonds.csv", "price", 2000, "carat", "cut", "Fair");
    check_table(
        "german_credit.csv",
        "creditability",
        250,
        "credit_amount",
        "purpose",
        "business",
    );
}

#[test]
fn flipped_labels_are_a_model_quality_violation() {
    let data = table("german_credit.csv");
    let order = shuffled(data.n_rows(), 3);
    let (train, pool) = order.split_at(500);
    // A plain rule as the model: a checking account below 0 DM is "bad".
    let Some(Column::Categorical(status)) = data.column("status_of_existing_checking_account")
    else {
        panic!("categorical")
    };
    let Some(Column::Categorical(truth)) = data.column("creditability") else {
        panic!("categorical")
    };
    let predict = |rows: &[usize]| Outputs::Classes {
        labels: rows
            .iter()
            .map(|r| {
                if status[*r].as_deref() == Some("... < 0 DM") {
                    "bad"
                } else {
                    "good"
                }
                .to_owned()
            })
            .collect(),
        confidence: vec![0.7; rows.len()],
    };
    let labels = |rows: &[usize]| Truth::Labels(rows.iter().map(|r| truth[*r].clone()).collect());
    let reference = take(&data, train, "creditability");
    let baseline = Baseline::fit(
        &features(&reference),
        &reference,
        &predict(train),
        Some(&labels(train)),
        Vec::new(),
    );
    let metric = baseline.metric.clone().expect("accuracy");
    assert_eq!(metric.name, "accuracy");
    let live_rows: Vec<usize> = pool.to_vec();
    let live = take(&data, &live_rows, "creditability");
    let outputs = predict(&live_rows);
    let honest = labels(&live_rows);
    let Truth::Labels(t) = &honest else {
        unreachable!()
    };
    let flipped = Truth::Labels(
        t.iter()
            .enumerate()
            .map(|(i, l)| {
                if i % 5 == 0 {
                    l.as_deref()
                        .map(|l| if l == "good" { "bad" } else { "good" }.to_owned())
                } else {
                    l.clone()
                }
            })
            .collect(),
    );
    let run = |truth: &Truth| {
        monitor::check(
            &baseline,
            &Live {
                data: &live,
                outputs: Some(&outputs),
                truth: Some(truth),
                type_errors: &[],
                attribution: None,
            },
        )
        .model_quality
        .expect("checked")
    };
    let fine = run(&honest);
    assert!(!fine.violation, "{fine:?}");
    let bad = run(&flipped);
    assert!(bad.violation, "{bad:?} against {metric:?}");
}
