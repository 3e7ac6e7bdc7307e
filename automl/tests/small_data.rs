//! The small-data families against scikit-learn on committed data
//! (`test_data/small_data/`, made by its `make_reference.py`, with the tool
//! versions). Forests: the same settings (200 trees, one row per leaf at least,
//! every feature for regression and the square root of their number for
//! classes, bootstrap for forests only), the same 70/30 split, the mean
//! over five seeds. Kiln's forests split on at most 255 bins per feature
//! (of at least three rows each) rather than on every value, and send
//! missing values to the side that gains more, so they match on quality,
//! not split for split.

use automl::{ForestParams, KernelRidge, Neighbours, Target, fit_forest};

struct Case {
    name: String,
    task: String,
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    train: Vec<usize>,
    test: Vec<usize>,
    reference: serde_json::Value,
}

fn cases() -> (serde_json::Value, Vec<Case>) {
    let text = include_str!("../test_data/small_data/reference.json");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let nums = |v: &serde_json::Value| -> Vec<f64> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap_or(f64::NAN))
                    .collect()
            };
            let idx = |v: &serde_json::Value| -> Vec<usize> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as usize)
                    .collect()
            };
            Case {
                name: c["name"].as_str().unwrap().into(),
                task: c["task"].as_str().unwrap().into(),
                x: c["x"].as_array().unwrap().iter().map(nums).collect(),
                y: nums(&c["y"]),
                train: idx(&c["train"]),
                test: idx(&c["test"]),
                reference: c.clone(),
            }
        })
        .collect();
    (doc, cases)
}

fn target(case: &Case, rows: &[usize]) -> Target {
    if case.task == "regression" {
        return Target::Regression(rows.iter().map(|&r| case.y[r]).collect());
    }
    let k = case.y.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1;
    Target::Classes {
        classes: (0..k).map(|c| c.to_string()).collect(),
        y: rows.iter().map(|&r| case.y[r] as usize).collect(),
    }
}

fn take(x: &[Vec<f64>], rows: &[usize]) -> Vec<Vec<f64>> {
    x.iter()
        .map(|c| rows.iter().map(|&r| c[r]).collect())
        .collect()
}

fn auc(p: &[f64], y: &[usize]) -> f64 {
    let (mut pairs, mut good) = (0.0, 0.0);
    for (i, &a) in p.iter().enumerate() {
        for (j, &b) in p.iter().enumerate() {
            if y[i] == 1 && y[j] == 0 {
                pairs += 1.0;
                good += if a > b {
                    1.0
                } else if a == b {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    good / pairs
}

/// The metrics of one fit on the case's test rows.
fn score(case: &Case, extra: bool, seed: u64) -> Vec<(&'static str, f64)> {
    let regression = case.task == "regression";
    let params = ForestParams {
        n_trees: 200,
        extra,
        bootstrap: !extra,
        max_leaves: 1 << 20,
        min_samples_leaf: 1,
        max_features: if regression { 1.0 } else { 0.0 },
        class_weights: Vec::new(),
        seed,
    };
    let (booster, trees) = fit_forest(
        &take(&case.x, &case.train),
        &target(case, &case.train),
        &params,
        &|| false,
    )
    .unwrap();
    assert_eq!(trees, 200);
    // The forest's output is the value or the class shares.
    metrics_of(
        case,
        &booster.raw(&take(&case.x, &case.test)),
        booster.outputs,
    )
}

/// Kiln's mean metric may trail scikit-learn's by this much: RMSE 5% and
/// log loss 10% higher, accuracy and AUC 0.01 lower.
fn within(metric: &str, kiln: f64, sklearn: f64) -> bool {
    match metric {
        "rmse" => kiln <= sklearn * 1.05,
        "log_loss" => kiln <= sklearn * 1.10,
        _ => kiln >= sklearn - 0.01,
    }
}

#[test]
fn forests_score_as_scikit_learns_do() {
    let (doc, cases) = cases();
    let mut failures = Vec::new();
    for case in &cases {
        for (kind, extra) in [("random_forest", false), ("extra_trees", true)] {
            let runs: Vec<_> = (0..5).map(|seed| score(case, extra, seed)).collect();
            for (i, (metric, _)) in runs[0].iter().enumerate() {
                let kiln = runs.iter().map(|r| r[i].1).sum::<f64>() / runs.len() as f64;
                let sklearn = case.reference[kind][metric].as_f64().unwrap();
                let ok = within(metric, kiln, sklearn);
                eprintln!(
                    "{:<14} {kind:<13} {metric:<9} kiln {kiln:.4}  scikit-learn {} {sklearn:.4}{}",
                    case.name,
                    doc["sklearn"].as_str().unwrap(),
                    if ok { "" } else { "  <- worse" }
                );
                if !ok {
                    failures.push(format!("{} {kind} {metric}", case.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "worse than scikit-learn: {failures:?}");
}

/// The features standardised as the reference script does: missing values
/// filled with the training median, then the training mean and standard
/// deviation; row-major training and test rows.
fn standardised(case: &Case) -> (Vec<f64>, Vec<f64>, usize) {
    let width = case.x.len();
    let (mut train, mut test) = (
        vec![0.0; case.train.len() * width],
        vec![0.0; case.test.len() * width],
    );
    for (j, col) in case.x.iter().enumerate() {
        let mut seen: Vec<f64> = case
            .train
            .iter()
            .map(|&r| col[r])
            .filter(|v| !v.is_nan())
            .collect();
        seen.sort_by(f64::total_cmp);
        let m = seen.len();
        let median = if m % 2 == 1 {
            seen[m / 2]
        } else {
            (seen[m / 2 - 1] + seen[m / 2]) / 2.0
        };
        let fill = |v: f64| if v.is_nan() { median } else { v };
        let n = case.train.len() as f64;
        let mean = case.train.iter().map(|&r| fill(col[r])).sum::<f64>() / n;
        let var = case
            .train
            .iter()
            .map(|&r| (fill(col[r]) - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        for (i, &r) in case.train.iter().enumerate() {
            train[i * width + j] = (fill(col[r]) - mean) / std;
        }
        for (i, &r) in case.test.iter().enumerate() {
            test[i * width + j] = (fill(col[r]) - mean) / std;
        }
    }
    (train, test, width)
}

/// Test metrics of values, or of shares (the second class's for two).
fn metrics_of(case: &Case, out: &[f64], k: usize) -> Vec<(&'static str, f64)> {
    let y: Vec<f64> = case.test.iter().map(|&r| case.y[r]).collect();
    if case.task == "regression" {
        let mse = out
            .iter()
            .zip(&y)
            .map(|(p, t)| (p - t).powi(2))
            .sum::<f64>()
            / y.len() as f64;
        return vec![("rmse", mse.sqrt())];
    }
    let classes: Vec<usize> = y.iter().map(|&v| v as usize).collect();
    let p: Vec<Vec<f64>> = out
        .chunks(k)
        .map(|row| match row {
            [q] => vec![1.0 - q, *q],
            _ => row.to_vec(),
        })
        .collect();
    let n = classes.len() as f64;
    // The first of equal shares, as numpy's argmax.
    let argmax =
        |row: &Vec<f64>| (0..row.len()).fold(0, |b, c| if row[c] > row[b] { c } else { b });
    let accuracy = p
        .iter()
        .zip(&classes)
        .filter(|(r, c)| argmax(r) == **c)
        .count() as f64
        / n;
    let log_loss = -p
        .iter()
        .zip(&classes)
        .map(|(row, &c)| row[c].clamp(1e-15, 1.0 - 1e-15).ln())
        .sum::<f64>()
        / n;
    let mut out = vec![("accuracy", accuracy), ("log_loss", log_loss)];
    if k == 1 {
        let p1: Vec<f64> = p.iter().map(|row| row[1]).collect();
        out.push(("auc", auc(&p1, &classes)));
    }
    out
}

/// k-nearest neighbours (12, equal weights) score as scikit-learn's do,
/// to 1e-9: Kiln's class shares are smoothed by a twelfth of a neighbour
/// toward the training shares, which is undone here, and ties with the
/// twelfth neighbour (all of which Kiln includes) do not occur in these
/// tables.
#[test]
fn neighbours_score_as_scikit_learns_do() {
    let (_, cases) = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let (train, test, width) = standardised(case);
        let model =
            Neighbours::fit(&train, width, &target(case, &case.train), 12, false, 0).unwrap();
        let mut out = model.predict(&test);
        if model.classes > 0 {
            let beta = 1.0 / 12.0;
            let k = model.outputs();
            for (i, v) in out.iter_mut().enumerate() {
                *v = *v * (1.0 + beta) - beta * model.prior[i % k];
            }
        }
        for (metric, kiln) in metrics_of(case, &out, model.outputs()) {
            let sklearn = case.reference["neighbours"][metric].as_f64().unwrap();
            let ok = (kiln - sklearn).abs() <= 1e-9 * sklearn.abs().max(1.0);
            eprintln!(
                "{:<14} neighbours {metric:<9} kiln {kiln:.4}  scikit-learn {sklearn:.4}",
                case.name
            );
            if !ok {
                failures.push(format!("{} {metric}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "worse than scikit-learn: {failures:?}");
}

/// Kernel ridge with every training row a landmark (under 500 here) is
/// scikit-learn's `KernelRidge` with `alpha = lambda * rows`: the same
/// predictions to 1e-6 of the target's spread.
#[test]
fn kernel_ridge_predicts_as_scikit_learns_does() {
    let (_, cases) = cases();
    for case in &cases {
        let (train, test, width) = standardised(case);
        let t = target(case, &case.train);
        let model = KernelRidge::fit(&train, width, &t, (0.3 / width as f64, 0.01), 0).unwrap();
        let out = model.predict(&test);
        let want: Vec<f64> = case.reference["kernel_ridge_predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(out.len(), want.len(), "{}", case.name);
        let spread = match &t {
            Target::Regression(y) => {
                let m = y.iter().sum::<f64>() / y.len() as f64;
                (y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / y.len() as f64).sqrt()
            }
            Target::Classes { .. } => 1.0,
        };
        let worst = out
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs() / spread)
            .fold(0.0, f64::max);
        eprintln!(
            "{:<14} kernel ridge: largest difference {worst:.2e} of the spread",
            case.name
        );
        assert!(worst < 1e-6, "{}: {worst}", case.name);
    }
}
