//! Explore against scikit-learn (`test_data/explore/reference.json`, made
//! by `make_reference.py`; tool versions in the file): the PCA's explained
//! variance and components to 1e-9 (up to sign), the adjusted Rand index,
//! k-means on well-separated blobs, and the isolation forest's ROC AUC on
//! planted anomalies. Then the refusals of bad input.

use std::path::{Path, PathBuf};

use automl::Dataset;
use automl::segments::Encoding;
use data::explore::{self, Query};
use data::{convert, ingest};
use ndarray::Array2;
use serde_json::Value as Json;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/explore")
}

fn reference() -> Json {
    serde_json::from_str(&std::fs::read_to_string(dir().join("reference.json")).unwrap()).unwrap()
}

fn read(file: &str) -> Dataset {
    let ingested = ingest::read_csv(&dir().join(file), &ingest::ReadOptions::default()).unwrap();
    convert::frame_to_dataset(&ingested.frame).unwrap()
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "{what}: {got} against scikit-learn's {want}"
    );
}

#[test]
fn pca_matches_scikit_learn_to_1e_9() {
    let r = &reference()["pca_wine"];
    let data = read("wine.csv");
    let columns: Vec<String> = r["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let (encoding, unusable) = Encoding::fit(&data, &columns, None).unwrap();
    assert!(unusable.is_empty());
    let n = data.n_rows();
    let width = encoding.width();
    let x = encoding.encode(&data, &(0..n).collect::<Vec<_>>()).unwrap();
    let x = Array2::from_shape_vec((n, width), x).unwrap();
    let (components, variance, _) = automl::segments::principal_components(&x).unwrap();
    let total: f64 = variance.iter().sum();
    for (i, want) in floats(&r["explained_variance"]).into_iter().enumerate() {
        close(variance[i], want, 1e-9, &format!("explained variance {i}"));
    }
    for (i, want) in floats(&r["explained_variance_ratio"])
        .into_iter()
        .enumerate()
    {
        close(variance[i] / total, want, 1e-9, &format!("ratio {i}"));
    }
    for (i, row) in r["components"].as_array().unwrap().iter().enumerate() {
        let want = floats(row);
        // Up to sign: both sides state the same convention, checked apart.
        let sign = if components[[i, 0]] * want[0] < 0.0 {
            -1.0
        } else {
            1.0
        };
        for (j, w) in want.iter().enumerate() {
            close(
                sign * components[[i, j]],
                *w,
                1e-9,
                &format!("component {i}, {j}"),
            );
        }
        assert_eq!(
            sign, 1.0,
            "component {i}: the largest entry is positive on both sides"
        );
    }
}

#[test]
fn adjusted_rand_index_matches_scikit_learn() {
    for case in reference()["ari_cases"].as_array().unwrap() {
        let labels = |k: &str| -> Vec<usize> {
            case[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect()
        };
        let got = explore::adjusted_rand_index(&labels("labels_true"), &labels("labels_pred"));
        close(
            got,
            case["adjusted_rand_score"].as_f64().unwrap(),
            1e-12,
            case["name"].as_str().unwrap(),
        );
    }
}

fn truth(data: &Dataset, column: &str) -> Vec<usize> {
    let col = data.column(column).unwrap();
    let mut labels: Vec<String> = Vec::new();
    (0..data.n_rows())
        .map(|r| {
            let l = col.label(r).unwrap();
            match labels.iter().position(|x| *x == l) {
                Some(i) => i,
                None => {
                    labels.push(l);
                    labels.len() - 1
                }
            }
        })
        .collect()
}

#[test]
fn kmeans_finds_well_separated_blobs() {
    let data = read("blobs.csv");
    let query = Query {
        columns: ["x1", "x2", "x3", "x4", "x5"].map(String::from).to_vec(),
        ..Query::default()
    };
    let found = explore::explore_dataset(&data, &query).unwrap();
    assert_eq!(
        found.report.segments.k, 4,
        "{:?}",
        found.report.segments.silhouette
    );
    let ari = explore::adjusted_rand_index(&found.of_row, &truth(&data, "truth"));
    assert!(ari >= 0.99, "ARI {ari}");
    // The engine's nearest-centre rule puts each row where linfa's k-means did.
    assert_eq!(found.segments.assign(&data).unwrap(), found.of_row);
    // Seeded: the same request gives the same segments.
    let again = explore::explore_dataset(&data, &query).unwrap();
    assert_eq!(again.of_row, found.of_row);
    assert_eq!(again.segments, found.segments);
}

/// ROC AUC of `scores` for the rows where `positive` holds (ties count half).
fn auc(scores: &[f64], positive: &[bool]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (i, &p) in positive.iter().enumerate() {
        if !p {
            continue;
        }
        for (j, &q) in positive.iter().enumerate() {
            if q {
                continue;
            }
            pairs += 1.0;
            wins += if scores[i] > scores[j] {
                1.0
            } else if scores[i] == scores[j] {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / pairs
}

#[test]
fn isolation_forest_finds_planted_anomalies() {
    let data = read("planted.csv");
    let query = Query {
        columns: ["a", "b", "c", "d", "e", "f", "kind"]
            .map(String::from)
            .to_vec(),
        ..Query::default()
    };
    let found = explore::explore_dataset(&data, &query).unwrap();
    let labels = truth(&data, "is_anomaly");
    let first = data.column("is_anomaly").unwrap().label(0).unwrap();
    let positive: Vec<bool> = labels.iter().map(|&l| (l == 0) == (first == "1")).collect();
    let got = auc(&found.scores, &positive);
    let sklearn = reference()["planted"]["isolation_forest_roc_auc"]
        .as_f64()
        .unwrap();
    eprintln!("isolation forest ROC AUC {got:.4} (scikit-learn's {sklearn:.4})");
    assert!(got >= 0.95, "ROC AUC {got}");
    // The listed rows are the highest scores, each with its reasons.
    let listed = &found.report.unusual.rows;
    assert_eq!(listed.len(), explore::UNUSUAL_LISTED);
    assert!(listed.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(listed.iter().all(|r| !r.reasons.is_empty()));
}

fn refused(csv: &str, query: Query) -> (String, String) {
    let path = std::env::temp_dir().join(format!("kiln-explore-{}.csv", std::process::id()));
    std::fs::write(&path, csv).unwrap();
    let ingested = ingest::read_csv(&path, &ingest::ReadOptions::default()).unwrap();
    std::fs::remove_file(&path).ok();
    match explore::explore(&ingested.frame, &query) {
        Err(data::Error::Unprocessable { code, message, .. }) => (code.to_owned(), message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn bad_input_is_refused_naming_the_problem() {
    let (code, message) = refused("a,b\n1,x\n", Query::default());
    assert_eq!(code, "too_few_rows");
    assert!(message.contains("1 row"), "{message}");

    let (code, message) = refused("a,b\n1,x\n1,x\n1,x\n1,x\n", Query::default());
    assert_eq!(code, "no_usable_columns");
    assert!(
        message.contains("`a`: the same value in every row"),
        "{message}"
    );
    assert!(message.contains("`b`"), "{message}");

    let (code, message) = refused(
        "a,b\n1,x\n2,y\n3,x\n",
        Query {
            k: Some(5),
            ..Query::default()
        },
    );
    assert_eq!(code, "k_too_large");
    assert!(message.contains("3 rows"), "{message}");

    let (code, message) = refused(
        "a,b\n1,x\n2,y\n3,x\n",
        Query {
            columns: vec!["nope".into()],
            ..Query::default()
        },
    );
    assert_eq!(code, "unknown_column");
    assert!(message.contains("`nope`"), "{message}");

    // Three rows but two different ones: three segments cannot be made.
    let (code, message) = refused(
        "a,b\n1,x\n1,x\n2,y\n",
        Query {
            k: Some(3),
            ..Query::default()
        },
    );
    assert_eq!(code, "k_too_large");
    assert!(message.contains("only 2 different"), "{message}");
}
