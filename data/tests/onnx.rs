//! ONNX export against onnxruntime: every model family (baseline, linear,
//! neural network, boosted trees, and the ensemble of a default search) on
//! every shared table (`assets/samples/` and `test_data/onnx/`), and models
//! whose recipes use every row-wise step, are exported, scored by
//! onnxruntime (`tests/onnx_score.py`, installed by `cargo xtask test`) and
//! compared with `ModelArtifact::predict` on the same rows: values and
//! probabilities equal to 1e-5 (relative above 1), labels identical. Steps
//! that ONNX cannot express are refused, naming the step.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use automl::{Column, Control, Dataset, ModelArtifact, Predictions, SearchConfig, onnx, search};
use data::{convert, ingest};
use serde_json::{Value as Json, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A table as ingest reads it, cut to its first `rows`.
fn read(path: &str, rows: usize) -> Dataset {
    let ingested = ingest::read_csv(&root().join(path), &ingest::ReadOptions::default()).unwrap();
    let frame = ingested.frame.head(Some(rows));
    convert::frame_to_dataset(&frame).unwrap()
}

const TABLES: &[(&str, &str, &str)] = &[
    ("diamonds", "assets/samples/diamonds.csv", "price"),
    (
        "german_credit",
        "assets/samples/german_credit.csv",
        "creditability",
    ),
    (
        "breast_cancer",
        "assets/samples/breast_cancer.csv",
        "diagnosis",
    ),
    ("penguins", "assets/samples/penguins.csv", "species"),
    (
        "seattle_weather",
        "assets/samples/seattle_weather.csv",
        "weather",
    ),
    ("diabetes", "assets/samples/diabetes.csv", "progression"),
    ("carseats", "data/test_data/onnx/carseats.csv", "Sales"),
    ("cps1985", "data/test_data/onnx/cps1985_wages.csv", "wage"),
    ("hitters", "data/test_data/onnx/hitters.csv", "Salary"),
    (
        "windsor",
        "data/test_data/onnx/windsor_house_prices.csv",
        "price",
    ),
    ("wine", "data/test_data/onnx/wine.csv", "cultivar"),
    (
        "flights",
        "data/test_data/onnx/flights_2000.csv",
        "arr_delay",
    ),
];

/// The single families, then a default search (whose winner on these
/// tables is usually an ensemble).
const FAMILIES: &[(&str, &[&str], usize)] = &[
    ("baseline", &["baseline"], 1),
    ("linear", &["linear"], 2),
    ("mlp", &["neural network"], 1),
    ("gbdt", &["boosted trees"], 2),
    ("random_forest", &["random forest"], 1),
    ("extra_trees", &["extra trees"], 1),
    ("neighbours", &["nearest neighbours"], 1),
    ("kernel_ridge", &["kernel ridge"], 1),
    ("default", &[], 8),
];

fn train(data: &Dataset, target: &str, families: &[&str], trials: usize) -> ModelArtifact {
    let mut config = SearchConfig::new(target);
    config.families = families.iter().map(|f| (*f).to_owned()).collect();
    config.max_trials = Some(trials);
    config.cv_folds = 3;
    let cancel = AtomicBool::new(false);
    let control = Control {
        deadline: None,
        cancel: &cancel,
    };
    search(data, &config, control, &mut |_| {})
        .unwrap()
        .artifact
}

/// A model exported and the rows it is checked on.
struct Case {
    name: String,
    artifact: ModelArtifact,
    data: Dataset,
}

/// The caller's columns as onnx_score.py reads them.
fn inputs_json(artifact: &ModelArtifact, data: &Dataset) -> Json {
    let columns: Vec<Json> = artifact
        .inputs()
        .iter()
        .map(|f| {
            let col = data.column(&f.name).unwrap();
            let n = col.len();
            match f.kind {
                automl::FeatureKind::Numeric => {
                    let Column::Numeric(v) = col else {
                        panic!("{} is not numeric", f.name)
                    };
                    let values: Vec<Json> = v
                        .iter()
                        .map(|x| if x.is_finite() { json!(x) } else { Json::Null })
                        .collect();
                    json!({"name": f.name, "kind": "number", "values": values})
                }
                automl::FeatureKind::Categorical => {
                    let values: Vec<String> =
                        (0..n).map(|r| col.label(r).unwrap_or_default()).collect();
                    json!({"name": f.name, "kind": "text", "values": values})
                }
            }
        })
        .collect();
    json!({ "columns": columns })
}

/// Exports every case into a fresh folder, scores them all with one
/// onnxruntime process, and compares each with Kiln's own predictions.
fn check(cases: &[Case]) {
    let dir = std::env::temp_dir().join(format!("kiln-onnx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for c in cases {
        let bytes =
            onnx::export(&c.artifact).unwrap_or_else(|e| panic!("{}: export failed: {e}", c.name));
        std::fs::write(dir.join(format!("{}.onnx", c.name)), bytes).unwrap();
        let inputs = inputs_json(&c.artifact, &c.data);
        std::fs::write(
            dir.join(format!("{}.inputs.json", c.name)),
            serde_json::to_vec(&inputs).unwrap(),
        )
        .unwrap();
    }
    let script = root().join("data/tests/onnx_score.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("python3 runs (cargo xtask test installs onnxruntime)");
    assert!(
        out.status.success(),
        "onnxruntime failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
    let mut rows = 0;
    for c in cases {
        rows += c.data.n_rows();
        let got: Json = serde_json::from_slice(
            &std::fs::read(dir.join(format!("{}.outputs.json", c.name))).unwrap(),
        )
        .unwrap();
        compare(c, &got);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!("{} models, {rows} rows: the same predictions", cases.len());
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-5 * want.abs().max(1.0)
}

fn compare(c: &Case, got: &Json) {
    let want = c.artifact.predict(&c.data).unwrap();
    let family = c.artifact.model.family();
    match want {
        Predictions::Regression(v) => {
            let p = got["prediction"].as_array().unwrap();
            assert_eq!(p.len(), v.len(), "{}", c.name);
            for (r, (g, w)) in p.iter().zip(&v).enumerate() {
                let g = g.as_f64().unwrap();
                assert!(
                    close(g, *w),
                    "{} ({family}) row {r}: onnxruntime {g}, Kiln {w}",
                    c.name
                );
            }
        }
        Predictions::Classes {
            classes,
            probabilities,
            labels,
        } => {
            let k = classes.len();
            let p = got["probabilities"].as_array().unwrap();
            let l = got["label"].as_array().unwrap();
            assert_eq!(p.len(), labels.len(), "{}", c.name);
            for r in 0..labels.len() {
                let row = p[r].as_array().unwrap();
                for j in 0..k {
                    let (g, w) = (row[j].as_f64().unwrap(), probabilities[r * k + j]);
                    assert!(
                        close(g, w),
                        "{} ({family}) row {r} class {}: onnxruntime {g}, Kiln {w}",
                        c.name,
                        classes[j]
                    );
                }
                assert_eq!(
                    l[r].as_str().unwrap(),
                    classes[labels[r]],
                    "{} ({family}) row {r}: the label",
                    c.name
                );
            }
        }
    }
}

/// At most 400 rows of each table are scored: the first 200 (training
/// rows) and 200 from the end.
fn scored_rows(data: &Dataset) -> Dataset {
    let n = data.n_rows();
    let rows: Vec<usize> = if n <= 400 {
        (0..n).collect()
    } else {
        (0..200).chain(n - 200..n).collect()
    };
    let names: Vec<&str> = data.names().iter().map(String::as_str).collect();
    data.select(&names, &rows).unwrap()
}

#[test]
fn every_family_on_every_shared_table_scores_the_same_in_onnxruntime() {
    let mut cases = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, path, target) in TABLES {
        let data = read(path, 3000);
        for (family, families, trials) in FAMILIES {
            let artifact = train(&data, target, families, *trials);
            seen.insert(artifact.model.family());
            cases.push(Case {
                name: format!("{name}-{family}"),
                artifact,
                data: scored_rows(&data),
            });
        }
    }
    // A binary model with a decision threshold the user chose.
    let german = cases
        .iter()
        .find(|c| c.name == "german_credit-linear")
        .unwrap();
    let mut artifact = german.artifact.clone();
    artifact.threshold = Some(0.3);
    cases.push(Case {
        name: "german_credit-threshold".into(),
        artifact,
        data: german.data.clone(),
    });
    assert!(
        seen.contains("ensemble"),
        "no default search kept an ensemble: {seen:?}"
    );
    // Calibrated classifiers of both kinds (Platt, temperature) are among them.
    let calibrated: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let m = c.artifact.calibration?.method;
            Some(format!("{} ({})", c.name, m.describe()))
        })
        .collect();
    eprintln!("calibrated: {}", calibrated.join("; "));
    for kind in ["Platt", "temperature"] {
        assert!(
            calibrated.iter().any(|c| c.contains(kind)),
            "no model with {kind} scaling: {calibrated:?}"
        );
    }
    check(&cases);
}

/// A recipe applied as a build applies it, carried by the model.
fn with_recipe(path: &str, target: &str, steps: Json, families: &[&str]) -> Case {
    let raw = read(path, 3000);
    let ingested = ingest::read_csv(&root().join(path), &ingest::ReadOptions::default()).unwrap();
    let recipe: api::Recipe = serde_json::from_value(json!({ "steps": steps })).unwrap();
    let applied = data::recipe::apply(ingested.frame, &recipe, Some(target)).unwrap();
    let prepared = convert::frame_to_dataset(&applied.frame).unwrap();
    let mut artifact = train(&prepared, target, families, 2);
    let features: Vec<String> = artifact
        .schema
        .features
        .iter()
        .map(|f| f.name.clone())
        .collect();
    artifact.recipe = Some(automl::Recipe::for_features(
        1,
        applied.fitted,
        &features,
        &raw,
    ));
    Case {
        name: format!("recipe-{}", families.join("-").replace(' ', "_")),
        artifact,
        data: scored_rows(&raw),
    }
}

/// Every row-wise step ONNX can express, on penguins (with its missing
/// values) and flights, for trees, a linear model and a network.
fn recipe_steps() -> [(&'static str, &'static str, Json); 2] {
    [
        (
            "assets/samples/penguins.csv",
            "species",
            json!([
                {"op": "set_missing", "column": "sex", "values": ["female"]},
                {"op": "impute", "column": "sex", "strategy": "constant", "value": "unknown"},
                {"op": "set_missing", "column": "year", "values": ["2008"]},
                {"op": "impute", "column": "bill_length_mm", "strategy": "median"},
                {"op": "outliers", "column": "bill_depth_mm", "action": "clip"},
                {"op": "log", "column": "body_mass_g"},
                {"op": "bin", "column": "flipper_length_mm", "bins": 4},
                {"op": "add_segments", "columns": ["bill_length_mm", "bill_depth_mm", "island"], "k": 3},
                {"op": "one_hot", "column": "island"},
                {"op": "cast", "column": "year", "to": "category"},
                {"op": "rename", "column": "body_mass_g", "to": "log mass"},
            ]),
        ),
        (
            "data/test_data/onnx/flights_2000.csv",
            "arr_delay",
            json!([
                {"op": "drop_columns", "columns": ["time_hour"]},
                {"op": "group_rare", "column": "dest", "min_rows": 30},
                {"op": "impute", "column": "dep_delay", "strategy": "mean"},
                {"op": "cast", "column": "flight", "to": "category"},
                {"op": "impute", "column": "carrier", "strategy": "mode"},
                {"op": "outliers", "column": "air_time", "action": "clip"},
            ]),
        ),
    ]
}

#[test]
fn recipes_of_every_row_wise_step_score_the_same_in_onnxruntime() {
    let mut cases = Vec::new();
    for (i, (path, target, steps)) in recipe_steps().into_iter().enumerate() {
        for families in [&["boosted trees"][..], &["linear"], &["neural network"]] {
            let mut c = with_recipe(path, target, steps.clone(), families);
            c.name = format!("{}-{i}", c.name);
            cases.push(c);
        }
    }
    check(&cases);
}

#[test]
fn steps_onnx_cannot_express_are_refused_by_name() {
    // Prices as people write them, and "ask" now and then: text to ingest.
    let mut csv = String::from("price,sold,rooms,y\n");
    for i in 0..120 {
        let price = if i % 10 == 0 {
            "ask".to_owned()
        } else {
            format!("\"${},{:03}\"", 1 + i % 9, i * 7 % 1000)
        };
        csv += &format!(
            "{price},2024-{:02}-{:02},{},{}\n",
            1 + i % 12,
            1 + i % 28,
            i % 5,
            i % 3
        );
    }
    let path = std::env::temp_dir().join(format!("kiln-onnx-refusals-{}.csv", std::process::id()));
    std::fs::write(&path, csv).unwrap();
    for (steps, words) in [
        (
            json!([{"op": "date_parts", "column": "sold"}]),
            "the recipe's `date parts` step on `sold` cannot be exported: it reads the dates in `sold` from text",
        ),
        (
            json!([{"op": "rename", "column": "rooms", "to": "r"},
                   {"op": "cast", "column": "price", "to": "number"}]),
            "the recipe's `cast to number` step on `price` cannot be exported: it reads the text of `price` as numbers",
        ),
    ] {
        let c = with_recipe(path.to_str().unwrap(), "y", steps, &["linear"]);
        let Err(err) = onnx::export(&c.artifact) else {
            panic!(
                "exported despite {:?}",
                c.artifact.recipe.as_ref().map(|r| &r.steps)
            );
        };
        let err = err.to_string();
        assert!(err.contains(words), "{err}");
    }
    std::fs::remove_file(&path).unwrap();
}
