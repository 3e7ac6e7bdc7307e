//! The artifact as a file: saved and loaded it predicts and explains exactly
//! as before, and no corruption of it makes loading, predicting or
//! explaining panic; a corrupted file is either refused with an error or
//! still a consistent model.

use std::sync::atomic::AtomicBool;

use automl::{Column, Control, Dataset, ModelArtifact, Rng, SearchConfig, search};

/// `n` rows: numbers with missing values, a category, and three targets.
fn data_rows(n: usize) -> Dataset {
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if i % 13 == 0 {
                f64::NAN
            } else {
                ((i * 37) % 100) as f64 / 10.0
            }
        })
        .collect();
    let z: Vec<f64> = (0..n).map(|i| ((i * 11) % 17) as f64).collect();
    let c: Vec<Option<String>> = (0..n)
        .map(|i| (i % 9 != 0).then(|| ["red", "green", "blue", "grey"][i % 4].to_owned()))
        .collect();
    let value: Vec<f64> = (0..n)
        .map(|i| {
            let xi = if x[i].is_nan() { 5.0 } else { x[i] };
            // Steps and an interaction: boosted trees beat a linear model.
            let step = if xi > 5.0 { 10.0 } else { 0.0 };
            step + if i % 4 == 0 && z[i] > 8.0 { 6.0 } else { 0.0 } + (z[i] * 0.7).sin()
        })
        .collect();
    let two: Vec<Option<String>> = value
        .iter()
        .map(|v| Some(if *v > 6.0 { "yes" } else { "no" }.to_owned()))
        .collect();
    let three: Vec<Option<String>> = value
        .iter()
        .map(|v| {
            Some(
                if *v < 3.0 {
                    "low"
                } else if *v < 12.0 {
                    "mid"
                } else {
                    "high"
                }
                .to_owned(),
            )
        })
        .collect();
    Dataset::new(vec![
        ("x".into(), Column::Numeric(x)),
        ("z".into(), Column::Numeric(z)),
        ("colour".into(), Column::Categorical(c)),
        ("value".into(), Column::Numeric(value)),
        ("two".into(), Column::Categorical(two)),
        ("three".into(), Column::Categorical(three)),
    ])
    .unwrap()
}

/// `data` with `target` and without the other targets.
fn data() -> Dataset {
    data_rows(240)
}

fn for_target(data: &Dataset, target: &str) -> Dataset {
    let keep = data
        .columns()
        .filter(|(n, _)| !["value", "two", "three"].contains(n) || *n == target)
        .map(|(n, c)| (n.to_owned(), c.clone()))
        .collect();
    Dataset::new(keep).unwrap()
}

fn build(data: &Dataset, target: &str, trials: usize) -> ModelArtifact {
    let cancel = AtomicBool::new(false);
    let config = SearchConfig {
        max_trials: Some(trials),
        ..SearchConfig::new(target)
    };
    let control = Control {
        deadline: None,
        cancel: &cancel,
    };
    search(data, &config, control, &mut |_| {})
        .unwrap()
        .artifact
}

#[test]
fn saved_and_loaded_models_predict_and_explain_identically() {
    let mut families = Vec::new();
    for target in ["value", "two", "three"] {
        let data = for_target(&data(), target);
        // Two trials end on a linear model, six on an ensemble of boosted trees and linear models.
        for trials in [2, 6] {
            let a = build(&data, target, trials);
            let bytes = a.to_json();
            let b = ModelArtifact::from_json(&bytes).unwrap();
            families.push(b.model.family());
            // Every family's explanation adds up to its raw output.
            let e = b.explain(&data).unwrap();
            let k = e.outputs.len();
            for r in 0..e.n_rows() {
                for o in 0..k {
                    let total = e.base[o] + e.row(r, o).iter().sum::<f64>();
                    assert!(
                        (total - e.raw[r * k + o]).abs() < 1e-8,
                        "{target} {}: row {r}",
                        b.model.family()
                    );
                }
            }
            assert_eq!(a, b, "{target}");
            assert_eq!(a.predict(&data).unwrap(), b.predict(&data).unwrap());
            assert_eq!(a.explain(&data).unwrap(), b.explain(&data).unwrap());
            assert_eq!(
                b.to_json(),
                bytes,
                "{target}: saving again changes the file"
            );
        }
    }
    assert!(
        families.contains(&"linear") && families.contains(&"ensemble"),
        "{families:?}"
    );
}

/// The first `n` rows of `data`.
fn head(data: &Dataset, n: usize) -> Dataset {
    let rows: Vec<usize> = (0..n).collect();
    let cols = data
        .columns()
        .map(|(name, c)| {
            let c = match c {
                Column::Numeric(v) => Column::Numeric(rows.iter().map(|&i| v[i]).collect()),
                Column::Categorical(v) => {
                    Column::Categorical(rows.iter().map(|&i| v[i].clone()).collect())
                }
            };
            (name.to_owned(), c)
        })
        .collect();
    Dataset::new(cols).unwrap()
}

/// Artifacts that an earlier Kiln wrote (`test_data/format2/README.md`)
/// load, predict and explain exactly as they did then, and are written
/// back unchanged: the format did not move with the code.
#[test]
fn format_2_artifacts_of_every_family_still_load_and_score_identically() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/format2");
    let mut families = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let bytes = serde_json::to_vec(&doc["artifact"]).unwrap();
        let art = ModelArtifact::from_json(&bytes).unwrap();
        let again: serde_json::Value = serde_json::from_slice(&art.to_json()).unwrap();
        assert_eq!(again, doc["artifact"], "{name}: written back differently");
        let target = name.split('-').next().unwrap();
        let rows = head(&for_target(&data_rows(120), target), 20);
        let numbers =
            |v: &serde_json::Value| -> Vec<f64> { serde_json::from_value(v.clone()).unwrap() };
        let predicted = match art.predict(&rows).unwrap() {
            automl::Predictions::Regression(v) => v,
            automl::Predictions::Classes { probabilities, .. } => probabilities,
        };
        assert_eq!(predicted, numbers(&doc["predictions"]), "{name}");
        let e = art.explain(&rows).unwrap();
        assert_eq!(e.base, numbers(&doc["base"]), "{name}");
        assert_eq!(e.values, numbers(&doc["shap"]), "{name}");
        families.insert(art.model.family());
        if let automl::FittedModel::Ensemble(e) = &art.model {
            families.extend(e.members.iter().map(|m| m.model.family()));
        }
    }
    let want = [
        "baseline",
        "boosted trees",
        "ensemble",
        "linear",
        "neural network",
    ];
    assert_eq!(families.into_iter().collect::<Vec<_>>(), want);
}

/// A model trained after a cleaning recipe, which it carries: it takes the
/// raw columns (with a placeholder category and a date written as text).
fn with_recipe(target: &str, n: usize) -> (Dataset, ModelArtifact) {
    use automl::{Fill, FittedStep, Recipe};
    let base = for_target(&data_rows(n), target);
    let mut cols: Vec<(String, Column)> = base
        .columns()
        .map(|(name, c)| {
            let c = match (name, c) {
                ("colour", Column::Categorical(v)) => Column::Categorical(
                    v.iter()
                        .enumerate()
                        .map(|(i, l)| {
                            if i % 7 == 3 {
                                Some("n/a".into())
                            } else {
                                l.clone()
                            }
                        })
                        .collect(),
                ),
                _ => c.clone(),
            };
            (name.to_owned(), c)
        })
        .collect();
    let when = (0..n)
        .map(|i| Some(format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28)))
        .collect();
    cols.push(("when".into(), Column::Categorical(when)));
    let raw = Dataset::new(cols).unwrap();
    let steps = vec![
        FittedStep::SetMissing {
            column: "colour".into(),
            values: vec!["n/a".into()],
        },
        FittedStep::Impute {
            column: "colour".into(),
            value: Fill::Text("red".into()),
        },
        FittedStep::OneHot {
            column: "colour".into(),
            categories: vec!["red".into(), "green".into(), "blue".into()],
        },
        FittedStep::Clip {
            column: "x".into(),
            lower: 1.0,
            upper: 9.0,
        },
        FittedStep::Log { column: "x".into() },
        FittedStep::DateParts {
            column: "when".into(),
            day_first: false,
            time: false,
        },
        FittedStep::Rename {
            column: "z".into(),
            to: "zz".into(),
        },
    ];
    let mut recipe = Recipe {
        version: 3,
        inputs: Vec::new(),
        steps,
    };
    let prepared = recipe.apply(&raw).unwrap().into_owned();
    let mut artifact = build(&prepared, target, 6);
    let all: Vec<usize> = (0..n).collect();
    recipe.inputs = ["x", "z", "colour", "when"]
        .iter()
        .map(|name| automl::FeatureStats::fit(name, raw.require(name).unwrap(), &all))
        .collect();
    artifact.recipe = Some(recipe);
    // The model scores raw rows exactly as it scores the prepared ones.
    let mut plain = artifact.clone();
    plain.recipe = None;
    assert_eq!(
        artifact.predict(&raw).unwrap(),
        plain.predict(&prepared).unwrap()
    );
    (raw, artifact)
}

#[test]
fn a_model_with_a_recipe_takes_raw_columns_and_explains_them() {
    for target in ["value", "three"] {
        let (raw, a) = with_recipe(target, 240);
        let bytes = a.to_json();
        let b = ModelArtifact::from_json(&bytes).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.to_json(), bytes);
        let names: Vec<&str> = b.feature_names().collect();
        assert_eq!(names, ["x", "z", "colour", "when"]);
        let e = b.explain(&raw).unwrap();
        assert_eq!(e.features, names);
        let k = e.outputs.len();
        for r in 0..e.n_rows() {
            for o in 0..k {
                let row = e.row(r, o);
                let total = e.base[o] + row.iter().sum::<f64>();
                assert!((total - e.raw[r * k + o]).abs() < 1e-8, "{target} row {r}");
            }
        }
        // Each raw column's contribution is the sum of its features' contributions.
        let mut plain = b.clone();
        plain.recipe = None;
        let fe = plain.explain(&b.prepare(&raw).unwrap()).unwrap();
        for (i, input) in names.iter().enumerate() {
            let mine: Vec<usize> = (0..fe.features.len())
                .filter(|&j| {
                    let f = &fe.features[j];
                    f == input
                        || f.starts_with(&format!("{input}="))
                        || f.starts_with(&format!("{input}_"))
                        || (*input == "z" && f == "zz")
                })
                .collect();
            assert!(!mine.is_empty(), "{input}");
            for r in 0..e.n_rows() {
                for o in 0..k {
                    let sum: f64 = mine.iter().map(|&j| fe.row(r, o)[j]).sum();
                    assert!((sum - e.row(r, o)[i]).abs() < 1e-12, "{input} row {r}");
                }
            }
        }
        // `x` drives the target through its clipped log.
        assert!((0..e.n_rows()).any(|r| e.row(r, 0)[0] != 0.0));
        // A file without a raw input is refused by name.
        let cols: Vec<(String, Column)> = raw
            .columns()
            .filter(|(n, _)| *n != "when")
            .map(|(n, c)| (n.to_owned(), c.clone()))
            .collect();
        let err = b.predict(&Dataset::new(cols).unwrap()).unwrap_err();
        assert!(err.to_string().contains("when"), "{err}");
        // Global views are per raw column too.
        let insights = b.insights(&raw, 1, None).unwrap();
        let mut features: Vec<&str> = insights
            .importance
            .iter()
            .map(|i| i.feature.as_str())
            .collect();
        features.sort_unstable();
        assert_eq!(features, ["colour", "when", "x", "z"]);
    }
}

/// Every value in the document, as JSON pointers.
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// Damages one value of `doc` in place; returns how to undo it.
fn corrupt(
    doc: &mut serde_json::Value,
    rng: &mut Rng,
    paths: &[String],
) -> Option<(String, serde_json::Value)> {
    use serde_json::Value;
    let path = &paths[rng.below(paths.len())];
    let target = doc.pointer_mut(path)?;
    let undo = Some((path.clone(), target.clone()));
    let replacement = match rng.below(10) {
        0 => Value::Null,
        1 => Value::from(-1),
        2 => Value::from(u32::MAX),
        3 => Value::from(1e308),
        4 => Value::from(0),
        5 => Value::from("x"),
        6 => Value::Array(Vec::new()),
        7 => match target {
            // Drop the last element or key.
            Value::Array(a) if !a.is_empty() => {
                a.pop();
                return undo;
            }
            Value::Object(o) if !o.is_empty() => {
                let k = o.keys().next_back().cloned().unwrap_or_default();
                o.remove(&k);
                return undo;
            }
            _ => Value::from(7),
        },
        8 => match target {
            // Duplicate an element.
            Value::Array(a) if !a.is_empty() => {
                let x = a[rng.below(a.len())].clone();
                a.push(x);
                return undo;
            }
            _ => Value::from(2),
        },
        _ => match target {
            Value::Number(n) => Value::from(n.as_f64().unwrap_or(0.0) * -3.0 + 1.0),
            _ => Value::Bool(true),
        },
    };
    *target = replacement;
    undo
}

#[test]
fn corrupted_models_are_refused_or_still_score_without_panicking() {
    // SplitMix64 from a fixed state: the corruptions are the same on every run.
    let mut rng = Rng::from_state(2024);
    let (mut refused, mut loaded) = (0, 0);
    for (target, trials) in [
        ("value", 6),
        ("two", 2),
        ("three", 6),
        ("two", 6),
        ("value", 0),
    ] {
        // Trials 0: a model with a cleaning recipe.
        let (a, data) = if trials == 0 {
            let (_, a) = with_recipe(target, 240);
            (a, with_recipe(target, 24).0)
        } else {
            let data = for_target(&data(), target);
            // Scoring a few rows is enough to reach every code path.
            (
                build(&data, target, trials),
                for_target(&data_rows(24), target),
            )
        };
        let bytes = a.to_json();
        let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut paths = Vec::new();
        pointers(&doc, String::new(), &mut paths);
        for round in 0..100 {
            let bad = if round % 10 == 0 {
                // Raw byte damage: truncation or a flipped byte.
                let mut b = bytes.clone();
                let at = rng.below(b.len());
                if rng.below(2) == 0 {
                    b.truncate(at);
                } else {
                    b[at] ^= 1 << rng.below(8);
                }
                b
            } else {
                let mut undo = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    undo.extend(corrupt(&mut doc, &mut rng, &paths));
                }
                let bad = serde_json::to_vec(&doc).unwrap();
                for (path, old) in undo.into_iter().rev() {
                    if let Some(v) = doc.pointer_mut(&path) {
                        *v = old;
                    }
                }
                bad
            };
            let outcome = std::panic::catch_unwind(|| match ModelArtifact::from_json(&bad) {
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    false
                }
                Ok(m) => {
                    // Whatever loads must score and explain without panicking.
                    let _ = m.predict(&data);
                    let _ = m.explain(&data);
                    true
                }
            });
            match outcome {
                Ok(true) => loaded += 1,
                Ok(false) => refused += 1,
                Err(_) => panic!(
                    "{target}: round {round} panicked on:\n{}",
                    String::from_utf8_lossy(&bad)
                        .chars()
                        .take(3000)
                        .collect::<String>()
                ),
            }
        }
    }
    assert!(refused > 150, "{refused} refused, {loaded} loaded");
}

#[test]
fn a_binary_models_threshold_decides_its_classes_and_travels_with_it() {
    let data = for_target(&data(), "two");
    let mut a = build(&data, "two", 2);
    let labels = |a: &ModelArtifact| match a.predict(&data).unwrap() {
        automl::Predictions::Classes {
            labels,
            probabilities,
            ..
        } => (labels, probabilities),
        other => panic!("{other:?}"),
    };
    let (plain, probs) = labels(&a);
    let p1: Vec<f64> = probs.chunks(2).map(|p| p[1]).collect();
    // A low threshold calls more rows "yes", a high one fewer, each by the rule.
    for t in [0.05, 0.5, 0.95] {
        a.threshold = Some(t);
        let b = ModelArtifact::from_json(&a.to_json()).unwrap();
        assert_eq!(b.threshold, Some(t));
        let (l, _) = labels(&b);
        let rule: Vec<usize> = p1.iter().map(|&p| usize::from(p >= t)).collect();
        assert_eq!(l, rule, "threshold {t}");
    }
    let yes = |l: &[usize]| l.iter().filter(|&&c| c == 1).count();
    a.threshold = Some(0.05);
    let low = yes(&labels(&a).0);
    a.threshold = Some(0.95);
    let high = yes(&labels(&a).0);
    assert!(
        low >= yes(&plain) && yes(&plain) >= high && low > high,
        "{low} {} {high}",
        yes(&plain)
    );
    // A threshold that is no probability, or on a model that is not binary, is refused.
    for bad in [0.0, 1.0, 1.5, f64::NAN] {
        a.threshold = Some(bad);
        let text = String::from_utf8(a.to_json()).unwrap();
        // serde_json writes NaN as null, which reads back as no threshold.
        if bad.is_nan() {
            assert!(
                ModelArtifact::from_json(text.as_bytes())
                    .unwrap()
                    .threshold
                    .is_none()
            );
            continue;
        }
        let err = ModelArtifact::from_json(text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("threshold"), "{bad}: {err}");
    }
    let mut three = build(&for_target(&data_rows(240), "three"), "three", 2);
    three.threshold = Some(0.5);
    let err = ModelArtifact::from_json(&three.to_json())
        .unwrap_err()
        .to_string();
    assert!(err.contains("only a binary classifier"), "{err}");
}

#[test]
fn a_calibration_maps_the_raw_outputs_and_travels_with_the_model() {
    use automl::calibrate::{Calibration, Method};
    for (target, method) in [
        (
            "two",
            Method::Platt {
                scale: 0.5,
                shift: 0.25,
            },
        ),
        ("three", Method::Temperature { temperature: 2.5 }),
    ] {
        let data = for_target(&data(), target);
        let mut a = build(&data, target, 2);
        a.calibration = None;
        let raw = a.raw(&data).unwrap();
        let k = a.schema.classes.len();
        a.calibration = Some(Calibration {
            method,
            log_loss_before: 0.5,
            log_loss_after: 0.4,
        });
        let b = ModelArtifact::from_json(&a.to_json()).unwrap();
        assert_eq!(b.calibration, a.calibration);
        let mut mapped = raw.clone();
        method.apply(&mut mapped);
        let want = automl::link(a.schema.task, mapped, k);
        let automl::Predictions::Classes { probabilities, .. } = b.predict(&data).unwrap() else {
            panic!("classes")
        };
        assert_eq!(probabilities, want, "{target}");
        // SHAP still explains the raw outputs, before the calibration.
        assert_eq!(b.raw(&data).unwrap(), raw);
        // A calibration of the other kind of classifier is refused.
        let mut wrong = a.clone();
        wrong.calibration = Some(Calibration {
            method: if target == "two" {
                Method::Temperature { temperature: 2.0 }
            } else {
                Method::Platt {
                    scale: 1.0,
                    shift: 0.0,
                }
            },
            log_loss_before: 0.5,
            log_loss_after: 0.4,
        });
        let err = ModelArtifact::from_json(&wrong.to_json())
            .unwrap_err()
            .to_string();
        assert!(err.contains("calibration"), "{err}");
    }
}
