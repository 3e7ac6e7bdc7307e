//! `kiln train` as a user runs it: a model from a file and a target, the
//! artifact loading and scoring like a studio one, the same file byte for
//! byte as a studio build with the same seed and trial budget, a JSON
//! summary, and exit code 2 naming the problem for bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use backend::Config;
use common::TestApp;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-train-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn kiln_train_writes_a_model_and_a_summary() {
    let dir = scratch("ok");
    let out = dir.join("model.json");
    let onnx = dir.join("model.onnx");
    let recipe = dir.join("recipe.json");
    std::fs::write(
        &recipe,
        r#"{"steps": [{"op": "drop_columns", "columns": ["island"]}]}"#,
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["train", "--data"])
        .arg(root().join("assets/samples/penguins.csv"))
        .args([
            "--target",
            "species",
            "--budget",
            "5",
            "--seed",
            "3",
            "--exclude",
            "year",
            "--json",
            "--recipe",
        ])
        .arg(&recipe)
        .arg("--out")
        .arg(&out)
        .arg("--onnx")
        .arg(&onnx)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("wrote the ONNX model to"), "{stderr}");
    assert!(stderr.contains("leaderboard (log loss"), "{stderr}");
    assert!(stderr.contains("trial   1"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["target"], "species");
    assert_eq!(summary["task"], "multiclass");
    assert!(
        summary["leaderboard"].as_array().unwrap().len() >= 2,
        "{summary}"
    );
    let artifact = automl::ModelArtifact::from_json(&std::fs::read(&out).unwrap()).unwrap();
    // The summary and the terminal say whether the probabilities are calibrated, as the file does.
    assert_eq!(
        summary["calibration"],
        serde_json::to_value(artifact.calibration).unwrap()
    );
    assert_eq!(
        stderr.contains("its probabilities are calibrated by"),
        artifact.calibration.is_some(),
        "{stderr}"
    );
    let inputs: Vec<&str> = artifact.inputs().iter().map(|f| f.name.as_str()).collect();
    assert!(
        !inputs.contains(&"year")
            && !inputs.contains(&"island")
            && inputs.contains(&"bill_length_mm"),
        "{inputs:?}"
    );
    // It scores like any model: `kiln predict` on the same file.
    let predictions = dir.join("predictions.csv");
    let status = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["predict", "--model"])
        .arg(&out)
        .arg("--input")
        .arg(root().join("assets/samples/penguins.csv"))
        .arg("--output")
        .arg(&predictions)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&predictions).unwrap();
    assert_eq!(text.lines().count(), 345);
    // `kiln onnx` on the artifact writes the same ONNX model as `--onnx`.
    let again = dir.join("again.onnx");
    let status = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["onnx", "--model"])
        .arg(&out)
        .arg("--out")
        .arg(&again)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&onnx).unwrap();
    assert_eq!(bytes, std::fs::read(&again).unwrap());
    assert_eq!(bytes, automl::onnx::export(&artifact).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kiln_train_keeps_the_model_when_onnx_cannot_express_its_recipe() {
    let dir = scratch("onnx");
    let recipe = dir.join("recipe.json");
    std::fs::write(
        &recipe,
        r#"{"steps": [{"op": "date_parts", "column": "date"}]}"#,
    )
    .unwrap();
    let (out, onnx) = (dir.join("m.json"), dir.join("m.onnx"));
    let recipe = recipe.display().to_string();
    let onnx_arg = onnx.display().to_string();
    let (code, stderr) = train(
        &root().join("assets/samples/seattle_weather.csv"),
        &[
            "--target", "weather", "--budget", "5", "--recipe", &recipe, "--onnx", &onnx_arg,
        ],
        &out,
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the recipe's `date parts` step on `date` cannot be exported"),
        "{stderr}"
    );
    assert!(out.is_file() && !onnx.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// `kiln train --data DATA ARGS… --out OUT`: its exit code and stderr.
fn train(data: &Path, args: &[&str], out: &Path) -> (Option<i32>, String) {
    let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["train", "--data"])
        .arg(data)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        run.status.code(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

#[test]
fn kiln_train_refuses_bad_input_with_exit_code_2() {
    let dir = scratch("bad");
    let penguins = root().join("assets/samples/penguins.csv");
    let book = root().join("data/test_data/formats/two_sheets.xlsx");
    let out = dir.join("m.json");
    let (absent, nowhere) = (dir.join("absent.csv"), dir.join("no/such/folder/m.json"));
    std::fs::write(dir.join("bad.json"), "steps: drop").unwrap();
    let bad_recipe = dir.join("bad.json").display().to_string();
    let cases: Vec<(&Path, Vec<&str>, &Path, &str)> = vec![
        (
            &penguins,
            vec!["--target", "wingspan"],
            &out,
            "no column `wingspan`",
        ),
        (
            &penguins,
            vec!["--target", "species", "--budget", "1"],
            &out,
            "budget",
        ),
        (&absent, vec!["--target", "y"], &out, "absent.csv"),
        (
            &penguins,
            vec!["--target", "species"],
            &nowhere,
            "does not exist",
        ),
        // A recipe that is not JSON.
        (
            &penguins,
            vec!["--target", "species", "--recipe", &bad_recipe],
            &out,
            "bad.json",
        ),
        // A workbook asks for its sheet; five rows are too few to train.
        (
            &book,
            vec!["--target", "species", "--budget", "5"],
            &out,
            "choose one (`Notes`, `Penguins`)",
        ),
        (
            &book,
            vec![
                "--target", "species", "--budget", "5", "--sheet", "Penguins",
            ],
            &out,
            "not enough rows to train",
        ),
    ];
    for (data, args, out, words) in cases {
        let (code, stderr) = train(data, &args, out);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The model file of `kiln train --seed SEED --trials TRIALS` on penguins.
fn trained(dir: &Path, seed: &str, trials: &str) -> Vec<u8> {
    let out = dir.join(format!("seed-{seed}.json"));
    let (code, stderr) = train(
        &root().join("assets/samples/penguins.csv"),
        &[
            "--target", "species", "--budget", "600", "--seed", seed, "--trials", trials,
        ],
        &out,
    );
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::read(&out).unwrap()
}

#[tokio::test]
async fn kiln_train_writes_the_studio_builds_file_for_the_same_seed_and_trial_budget() {
    let t = TestApp::new(Config::default());
    let csv = std::fs::read(root().join("assets/samples/penguins.csv")).unwrap();
    let (status, dataset) = t.upload("penguins.csv", &csv).await;
    assert!(status.is_success(), "{dataset}");
    let request = serde_json::json!({
        "dataset_id": dataset["id"],
        "target": "species",
        "time_budget_secs": 600,
        "seed": 7,
        "max_trials": 6,
    });
    let (status, build) = t.json("POST", "/api/builds", Some(request)).await;
    assert!(status.is_success(), "{build}");
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(300))
        .await;
    assert_eq!(build["state"], "succeeded", "{build}");
    assert_eq!(
        (build["max_trials"].as_u64(), build["trials_done"].as_u64()),
        (Some(6), Some(6))
    );
    let model = build["model_id"].as_str().unwrap();
    let req = axum::http::Request::get(format!("/api/models/{model}/artifact"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, studio, _) = t.call(req).await;
    assert!(status.is_success());

    let dir = scratch("same");
    assert!(
        trained(&dir, "7", "6") == studio,
        "kiln train wrote another file than the studio build"
    );
    // Another seed, another file: the comparison can fail.
    assert!(trained(&dir, "8", "6") != studio);
    std::fs::remove_dir_all(&dir).ok();
    // A trial budget out of range is refused by name.
    let (status, e) = t
        .json(
            "POST",
            "/api/builds",
            Some(serde_json::json!({ "dataset_id": dataset["id"], "target": "species", "max_trials": 0 })),
        )
        .await;
    assert_eq!(status.as_u16(), 422, "{e}");
    assert!(common::error_message(&e).contains("trial budget"), "{e}");
}
