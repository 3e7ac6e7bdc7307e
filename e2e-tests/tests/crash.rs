//! Crash safety: SIGKILL in the middle of an upload, of a build and of a
//! model write; after a restart every acknowledged dataset and model is
//! intact, no partial file is visible, the killed build is `interrupted`
//! and can be run again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::env_path;
use e2e_tests::http::{get_json, head, multipart, post_json, request};
use tokio::io::AsyncWriteExt;

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    async fn start(data: &Path, fault_pause_ms: Option<u64>) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cmd = Command::new(env_path("KILN_BIN")?);
        cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(ms) = fault_pause_ms {
            cmd.env("KILN_FAULT_PAUSE_BEFORE_RENAME_MS", ms.to_string());
        }
        let mut child = cmd.spawn()?;
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(st) = child.try_wait()? {
                bail!("kiln exited: {st}");
            }
            ensure!(
                start.elapsed() < Duration::from_secs(30),
                "kiln did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Server { child, port })
    }

    /// SIGKILL: no shutdown code runs.
    fn kill9(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_build(
    port: u16,
    id: &str,
    timeout: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value> {
    let start = Instant::now();
    loop {
        let b = get_json(port, &format!("/api/builds/{id}")).await?;
        if done(&b) {
            return Ok(b);
        }
        ensure!(
            start.elapsed() < timeout,
            "build {id} never reached the expected state: {b}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn files(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

async fn upload(port: u16, name: &str, bytes: &[u8]) -> Result<String> {
    let (ct, body) = multipart(name, bytes);
    let r = request(port, "POST", "/api/datasets", Some(&ct), &body).await?;
    ensure!(r.status == 201, "upload {name}: {} {}", r.status, r.text());
    Ok(r.json()?["id"].as_str().context("id")?.to_owned())
}

#[tokio::test]
#[ignore = "needs the kiln binary: run `cargo xtask test`"]
async fn nothing_acknowledged_is_lost_to_sigkill() -> Result<()> {
    let data: PathBuf = std::env::temp_dir().join(format!("kiln-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let samples = env_path("KILN_SAMPLES")?;
    let penguins = std::fs::read(samples.join("penguins.csv"))?;
    let diamonds = std::fs::read(samples.join("diamonds.csv"))?;

    // Acknowledged state: two datasets and a model.
    let server = Server::start(&data, None).await?;
    let port = server.port;
    let a = upload(port, "penguins.csv", &penguins).await?;
    let b = upload(port, "diamonds.csv", &diamonds).await?;
    let r = post_json(
        port,
        "/api/builds",
        &serde_json::json!({ "dataset_id": a, "target": "species", "time_budget_secs": 10 }),
    )
    .await?;
    let first = r.json()?["id"].as_str().context("build id")?.to_owned();
    let built = wait_build(port, &first, Duration::from_secs(60), |b| {
        b["state"] == "succeeded"
    })
    .await?;
    let model = built["model_id"].as_str().context("model id")?.to_owned();
    let row = serde_json::json!({ "rows": [{ "island": "Dream", "bill_length_mm": 49.0, "bill_depth_mm": 18.5, "flipper_length_mm": 195, "body_mass_g": 3800, "sex": "male", "year": 2008 }] });
    let before = post_json(port, &format!("/api/models/{model}/predict"), &row)
        .await?
        .json()?;

    // 1. SIGKILL in the middle of an upload.
    let (ct, body) = multipart("half.csv", &diamonds);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(head(port, "POST", "/api/datasets", Some(&ct), body.len()).as_bytes())
        .await?;
    stream.write_all(&body[..body.len() / 2]).await?;
    stream.flush().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ensure!(
        !files(&data.join("tmp"))?.is_empty(),
        "the upload is being written to tmp/"
    );
    // 2. ... while a build is running.
    let r = post_json(
        port,
        "/api/builds",
        &serde_json::json!({ "dataset_id": b, "target": "price", "time_budget_secs": 600 }),
    )
    .await?;
    let killed = r.json()?["id"].as_str().context("build id")?.to_owned();
    wait_build(port, &killed, Duration::from_secs(120), |b| {
        b["trials_done"].as_u64().unwrap_or(0) >= 1
    })
    .await?;
    server.kill9()?;
    drop(stream);

    let server = Server::start(&data, None).await?;
    let port = server.port;
    ensure!(
        files(&data.join("tmp"))?.is_empty(),
        "partial files were cleaned up"
    );
    let mut want = vec![format!("{a}.parquet"), format!("{b}.parquet")];
    want.sort();
    ensure!(
        files(&data.join("datasets"))? == want,
        "only acknowledged datasets: {:?}",
        files(&data.join("datasets"))?
    );
    let list = get_json(port, "/api/datasets").await?;
    ensure!(list.as_array().map(Vec::len) == Some(2), "{list}");
    for id in [&a, &b] {
        let rows = get_json(port, &format!("/api/datasets/{id}/rows?limit=5")).await?;
        ensure!(
            rows["rows"].as_array().map(Vec::len) == Some(5),
            "{id}: {rows}"
        );
    }
    let interrupted = get_json(port, &format!("/api/builds/{killed}")).await?;
    ensure!(interrupted["state"] == "interrupted", "{interrupted}");
    let after = post_json(port, &format!("/api/models/{model}/predict"), &row)
        .await?
        .json()?;
    ensure!(after == before, "the model predicts as before the crash");
    // The interrupted build runs again.
    let r = post_json(
        port,
        &format!("/api/builds/{killed}/rerun"),
        &serde_json::json!({}),
    )
    .await?;
    ensure!(r.status == 202, "rerun: {} {}", r.status, r.text());
    let rerun = r.json()?["id"].as_str().context("id")?.to_owned();
    wait_build(port, &rerun, Duration::from_secs(60), |b| {
        b["state"] == "running"
    })
    .await?;
    let r = request(
        port,
        "POST",
        &format!("/api/builds/{rerun}/cancel"),
        None,
        b"",
    )
    .await?;
    ensure!(r.status == 202, "cancel: {}", r.text());
    wait_build(port, &rerun, Duration::from_secs(120), |b| {
        b["state"] == "cancelled"
    })
    .await?;
    server.kill9()?;

    // 3. SIGKILL in the middle of a model write (paused between write and rename).
    let server = Server::start(&data, Some(30_000)).await?;
    let port = server.port;
    let models_before = files(&data.join("models"))?;
    let r = post_json(
        port,
        "/api/builds",
        &serde_json::json!({ "dataset_id": a, "target": "sex", "time_budget_secs": 5 }),
    )
    .await?;
    let writing = r.json()?["id"].as_str().context("id")?.to_owned();
    let start = Instant::now();
    while files(&data.join("tmp"))?.is_empty() {
        ensure!(
            start.elapsed() < Duration::from_secs(60),
            "the model write never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill9()?;

    let server = Server::start(&data, None).await?;
    let port = server.port;
    ensure!(
        files(&data.join("tmp"))?.is_empty(),
        "the half-written model was removed"
    );
    ensure!(
        files(&data.join("models"))? == models_before,
        "no partial model is visible"
    );
    let b = get_json(port, &format!("/api/builds/{writing}")).await?;
    ensure!(
        b["state"] == "interrupted" && b["model_id"].is_null(),
        "{b}"
    );
    let artifact = request(
        port,
        "GET",
        &format!("/api/models/{model}/artifact"),
        None,
        b"",
    )
    .await?;
    ensure!(
        artifact.status == 200 && automl_like(&artifact.body),
        "the earlier model still downloads"
    );
    let after = post_json(port, &format!("/api/models/{model}/predict"), &row)
        .await?
        .json()?;
    ensure!(after == before, "the earlier model still predicts the same");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// The artifact parses as JSON and names its format version.
fn automl_like(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v["format_version"].is_u64())
}
