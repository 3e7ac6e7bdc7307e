//! `kiln train` as a user runs it: a model from a file and a target, the
//! artifact loading and scoring like a studio one, a JSON summary, and
//! exit code 2 naming the problem for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

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
