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
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
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
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kiln_train_refuses_bad_input_with_exit_code_2() {
    let dir = scratch("bad");
    let penguins = root().join("assets/samples/penguins.csv");
    for (args, words) in [
        (vec!["--target", "wingspan"], "no column `wingspan`"),
        (vec!["--target", "species", "--budget", "1"], "budget"),
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["train", "--data"])
            .arg(&penguins)
            .args(&args)
            .arg("--out")
            .arg(dir.join("m.json"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
    let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["train", "--data"])
        .arg(dir.join("absent.csv"))
        .args(["--target", "y", "--out"])
        .arg(dir.join("m.json"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("absent.csv"));
    let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["train", "--data"])
        .arg(&penguins)
        .args(["--target", "species", "--out"])
        .arg(dir.join("no/such/folder/m.json"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("does not exist"));
    // A recipe that is not JSON.
    std::fs::write(dir.join("bad.json"), "steps: drop").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["train", "--data"])
        .arg(&penguins)
        .args(["--target", "species", "--recipe"])
        .arg(dir.join("bad.json"))
        .arg("--out")
        .arg(dir.join("m.json"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("bad.json"));
    // A workbook asks for its sheet; five rows are too few to train.
    let book = root().join("data/test_data/formats/two_sheets.xlsx");
    for (args, words) in [
        (vec![], "choose one (`Notes`, `Penguins`)"),
        (vec!["--sheet", "Penguins"], "not enough rows to train"),
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["train", "--data"])
            .arg(&book)
            .args(["--target", "species", "--budget", "5"])
            .args(&args)
            .arg("--out")
            .arg(dir.join("m.json"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
