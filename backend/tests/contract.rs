//! The OpenAPI contract, checked by a real peer: schemathesis (pip) fuzzes
//! every operation of `/api/openapi.json` against a running `kiln serve`
//! (the binary, with PostgreSQL and S3 imports on real peers), and fails on
//! any 5xx, any undocumented status or content type, and any response that
//! does not match its schema.
//!
//! The server's data directory holds a dataset, a finished build, its model
//! and a scored file first, and schemathesis is told their ids, so that the
//! handlers behind the ids (profiles, explanations, predictions, bias
//! reports, recipes) are fuzzed too, not only their 404s.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;
use backend::Config;
use common::TestApp;
use common::peers::{Moto, Postgres, free_port, wait_for_port};
use serde_json::json;

/// `kiln serve` as a child process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The checks the contract promises (#22): no server error, and every
/// response documented (status, content type, headers, body).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance";

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    // Records for the ids: a sample, a short build, its model, a scored file.
    let seeded = TestApp::new(Config::default());
    let (status, dataset) = seeded.json("POST", "/api/samples/penguins", None).await;
    assert_eq!(status, StatusCode::CREATED, "{dataset}");
    let dataset = dataset["id"].as_str().unwrap().to_owned();
    let (status, build) = seeded
        .json(
            "POST",
            "/api/builds",
            Some(json!({
                "dataset_id": dataset, "target": "species",
                "time_budget_secs": 10, "max_trials": 4, "seed": 1
            })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let build = build["id"].as_str().unwrap().to_owned();
    let done = seeded.wait_final(&build, Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let model = done["model_id"].as_str().unwrap().to_owned();
    let penguins = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/samples/penguins.csv"),
    )
    .unwrap();
    let (status, batch) = seeded
        .upload_to(
            &format!("/api/models/{model}/batch"),
            "penguins.csv",
            &penguins,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{batch}");
    let scored = batch["id"].as_str().unwrap().to_owned();

    // The server under test, on the same data directory, with both imports.
    let postgres = Postgres::start();
    let moto = Moto::start();
    let port = free_port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&seeded.dir)
            .args(["--postgres", &postgres.url()])
            .args(["--s3-endpoint", &moto.endpoint()])
            .args(["--import-timeout-secs", "5", "--import-max-rows", "10000"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("KILN_SITE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kiln serve"),
    );
    wait_for_port(port, "kiln serve");

    // Each id-taking operation gets the id of a record that exists, except
    // the deletes (which would take the records away from the rest) and a
    // re-run (which would start builds): those keep generated ids.
    let config = format!(
        r#"
[[operations]]
include-path-regex = '^/api/datasets/\{{id\}}'
exclude-method = "DELETE"
parameters = {{ "path.id" = "{dataset}" }}

[[operations]]
include-path-regex = '^/api/builds/\{{id\}}(/(events|models|model|cancel|trials/.*))?$'
exclude-method = "DELETE"
parameters = {{ "path.id" = "{build}" }}

[[operations]]
include-path-regex = '^/api/models/\{{id\}}'
exclude-method = "DELETE"
parameters = {{ "path.id" = "{model}" }}

[[operations]]
include-path-regex = '^/api/predictions/\{{id\}}'
parameters = {{ "path.id" = "{scored}" }}

[[operations]]
include-path = "/api/compare/charts/{{name}}"
parameters = {{ "query.models" = "{model}" }}
"#
    );
    let config_file = seeded.dir.join("schemathesis.toml");
    std::fs::write(&config_file, config).unwrap();

    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            // Its cache (`.schemathesis/`) goes with the data directory.
            .current_dir(config_file.parent().unwrap())
            .args(["-m", "schemathesis.cli", "--config-file"])
            .arg(&config_file)
            .args([
                "run",
                &format!("http://127.0.0.1:{port}/api/openapi.json"),
                "--checks",
                CHECKS,
                "--max-examples",
                "40",
                "--seed",
                "1",
                "--workers",
                "2",
                "--request-timeout",
                "60",
                "--generation-database",
                "none",
                "--no-color",
            ])
            .output()
            .expect("python3 -m schemathesis.cli (pip install schemathesis; cargo xtask test does)")
    })
    .await
    .unwrap();
    drop(server);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It tested every operation the document describes.
    let (_, spec) = seeded.json("GET", "/api/openapi.json", None).await;
    let operations: usize = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(operations > 40, "{operations}");
    assert!(
        report.contains(&format!("Tested: {operations}\n")),
        "not every one of the {operations} operations was tested:\n{report}"
    );
}
