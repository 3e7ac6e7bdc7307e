//! A bounded load test against a running `kiln` on loopback:
//! `kiln-load PORT KILN_PID CLIENTS SECONDS SAMPLE_CSV`. It prepares a
//! dataset and a model, queues several builds at once (to show they wait for
//! the workers), then runs CLIENTS concurrent loops for SECONDS mixing
//! uploads, profile reads, single predictions, SSE subscriptions and
//! listings, and prints latency percentiles, errors and the server's peak memory.
//! Then the endpoint phase: CLIENTS loops for SECONDS posting single rows to
//! a named endpoint, each over its own kept-alive connection (as an SDK's
//! pool holds them), the endpoint pointed at another model half-way through;
//! it prints the invocations' latency percentiles, errors, and how many
//! answers each model gave.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e_tests::http::{KeptAlive, get_json, multipart, post_json, request};

const OPS: [&str; 5] = ["upload", "profile", "predict", "events", "list"];

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn one(
    port: u16,
    op: &str,
    dataset: &str,
    model: &str,
    build: &str,
    csv: &[u8],
) -> Result<()> {
    let r = match op {
        "upload" => {
            let (ct, body) = multipart("load.csv", csv);
            request(port, "POST", "/api/datasets", Some(&ct), &body).await?
        }
        "profile" => {
            request(
                port,
                "GET",
                &format!("/api/datasets/{dataset}/profile"),
                None,
                b"",
            )
            .await?
        }
        "predict" => {
            let row = serde_json::json!({ "rows": [{ "island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5, "flipper_length_mm": 215, "body_mass_g": 5000, "sex": "female", "year": 2009 }] });
            post_json(port, &format!("/api/models/{model}/predict"), &row).await?
        }
        "events" => {
            request(
                port,
                "GET",
                &format!("/api/builds/{build}/events"),
                None,
                b"",
            )
            .await?
        }
        _ => request(port, "GET", "/api/datasets", None, b"").await?,
    };
    ensure!(
        (200..300).contains(&r.status),
        "{op}: {} {}",
        r.status,
        r.text()
    );
    if op == "events" {
        ensure!(
            r.text().contains("\"state\":\"succeeded\""),
            "events stream ended without the final state"
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, pid, clients, secs, sample] = args.as_slice() else {
        bail!("usage: kiln-load PORT KILN_PID CLIENTS SECONDS SAMPLE_CSV");
    };
    let (port, pid): (u16, u32) = (port.parse()?, pid.parse()?);
    let (clients, secs): (usize, u64) = (clients.parse()?, secs.parse()?);
    let csv = std::fs::read(sample).with_context(|| format!("reading {sample}"))?;

    // A dataset and a model to read and score.
    let (ct, body) = multipart("penguins.csv", &csv);
    let ds = request(port, "POST", "/api/datasets", Some(&ct), &body)
        .await?
        .json()?;
    let dataset = ds["id"].as_str().context("dataset id")?.to_owned();
    let b = post_json(
        port,
        "/api/builds",
        &serde_json::json!({ "dataset_id": dataset, "target": "species", "time_budget_secs": 10 }),
    )
    .await?
    .json()?;
    let build = b["id"].as_str().context("build id")?.to_owned();
    let model = loop {
        let b = get_json(port, &format!("/api/builds/{build}")).await?;
        if b["state"] == "succeeded" {
            break b["model_id"].as_str().context("model id")?.to_owned();
        }
        ensure!(
            b["state"] == "queued" || b["state"] == "running",
            "setup build ended {}",
            b["state"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Several builds at once: they queue for the workers.
    let mut queued = Vec::new();
    for _ in 0..6 {
        let b = post_json(
            port,
            "/api/builds",
            &serde_json::json!({ "dataset_id": dataset, "target": "sex", "time_budget_secs": 5 }),
        )
        .await?
        .json()?;
        queued.push(b["id"].as_str().context("build id")?.to_owned());
    }
    let watcher = tokio::spawn(async move {
        let mut most = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if let Ok(list) = get_json(port, "/api/builds").await {
                let running = list
                    .as_array()
                    .map_or(0, |l| l.iter().filter(|b| b["state"] == "running").count());
                most = most.max(running);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        most
    });

    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (dataset, model, build, csv) =
            (dataset.clone(), model.clone(), build.clone(), csv.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
            let mut errors: Vec<String> = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                // Mostly reads and predictions, some uploads and streams.
                let op = OPS[[1, 2, 2, 4, 1, 2, 3, 2, 0, 1][i % 10]];
                let start = Instant::now();
                match one(port, op, &dataset, &model, &build, &csv).await {
                    Ok(()) => lat
                        .entry(op)
                        .or_default()
                        .push(start.elapsed().as_secs_f64() * 1000.0),
                    Err(e) => errors.push(e.to_string()),
                }
                i += 1;
            }
            (lat, errors)
        }));
    }
    let mut lat: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut errors = Vec::new();
    for t in tasks {
        let (l, e) = t.await?;
        for (k, v) in l {
            lat.entry(k).or_default().extend(v);
        }
        errors.extend(e);
    }
    let most_running = watcher.await?;
    let total: usize = lat.values().map(Vec::len).sum();
    println!("load: {clients} clients for {secs} s on 127.0.0.1:{port}");
    println!(
        "{:<8} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "op", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (op, mut v) in lat {
        v.sort_by(f64::total_cmp);
        println!(
            "{op:<8} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.9),
            percentile(&v, 0.99),
            v[v.len() - 1]
        );
    }
    println!(
        "requests: {total} ({:.0}/s), errors: {}",
        total as f64 / secs as f64,
        errors.len()
    );
    println!(
        "builds running at once (max seen): {most_running}; queued together: {}",
        queued.len()
    );
    if let Some(rss) = peak_rss_mib(pid) {
        println!("server peak RSS: {rss:.0} MiB");
    }
    for e in errors.iter().take(5) {
        println!("error: {e}");
    }
    ensure!(errors.is_empty(), "{} requests failed", errors.len());
    endpoint_phase(port, &dataset, &model, clients, secs).await
}

/// Single rows to an endpoint under load, with a swap to another model half-way.
async fn endpoint_phase(
    port: u16,
    dataset: &str,
    model: &str,
    clients: usize,
    secs: u64,
) -> Result<()> {
    let b = post_json(
        port,
        "/api/builds",
        &serde_json::json!({ "dataset_id": dataset, "target": "species", "time_budget_secs": 5 }),
    )
    .await?
    .json()?;
    let build = b["id"].as_str().context("build id")?.to_owned();
    let other = loop {
        let b = get_json(port, &format!("/api/builds/{build}")).await?;
        if b["state"] == "succeeded" {
            break b["model_id"].as_str().context("model id")?.to_owned();
        }
        ensure!(
            b["state"] == "queued" || b["state"] == "running",
            "second model's build ended {}",
            b["state"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let r = post_json(
        port,
        "/api/endpoints",
        &serde_json::json!({ "name": "load", "variants": [{ "model_id": model }] }),
    )
    .await?;
    ensure!(
        r.status == 201,
        "creating the endpoint: {} {}",
        r.status,
        r.text()
    );
    let row = serde_json::json!({ "rows": [{ "island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5, "flipper_length_mm": 215, "body_mass_g": 5000, "sex": "female", "year": 2009 }] });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let row = row.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            let mut by_model: BTreeMap<String, usize> = BTreeMap::new();
            let mut conn = KeptAlive::new(port);
            while Instant::now() < deadline {
                let start = Instant::now();
                match conn
                    .post_json("/api/endpoints/load/invocations", &row)
                    .await
                {
                    Ok(r) if r.status == 200 => {
                        lat.push(start.elapsed().as_secs_f64() * 1000.0);
                        let m = r
                            .json()
                            .ok()
                            .and_then(|j| j["model_id"].as_str().map(String::from));
                        *by_model.entry(m.unwrap_or_default()).or_default() += 1;
                    }
                    Ok(r) => errors.push(format!("{} {}", r.status, r.text())),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (lat, errors, by_model)
        }));
    }
    // Half-way: point the endpoint at the other model.
    tokio::time::sleep(Duration::from_secs(secs / 2)).await;
    let swap = request(
        port,
        "PUT",
        "/api/endpoints/load",
        Some("application/json"),
        serde_json::json!({ "variants": [{ "model_id": other }] })
            .to_string()
            .as_bytes(),
    )
    .await?;
    ensure!(
        swap.status == 200,
        "the swap: {} {}",
        swap.status,
        swap.text()
    );
    let mut lat = Vec::new();
    let mut errors = Vec::new();
    let mut by_model: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks {
        let (l, e, m) = t.await?;
        lat.extend(l);
        errors.extend(e);
        for (k, v) in m {
            *by_model.entry(k).or_default() += v;
        }
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "\nendpoint: {clients} clients (kept-alive connections) for {secs} s, single rows, pointed at another model after {} s",
        secs / 2
    );
    println!(
        "invoke   {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "invocations: {} ({:.0}/s)",
        lat.len(),
        lat.len() as f64 / secs as f64
    );
    let served = get_json(port, "/api/endpoints/load").await?;
    println!(
        "server's own clock (the last 10,000): p50 {:.2} ms, p99 {:.2} ms",
        served["traffic"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
        served["traffic"]["p99_ms"].as_f64().unwrap_or(f64::NAN)
    );
    let first = by_model.get(model).copied().unwrap_or(0);
    let second = by_model.get(&other).copied().unwrap_or(0);
    println!(
        "answers: {first} by the first model, {second} by the second; errors: {}",
        errors.len()
    );
    println!(
        "endpoint p99 {:.1} ms against the bar of 20 ms: {}",
        percentile(&lat, 0.99),
        if percentile(&lat, 0.99) < 20.0 {
            "met"
        } else {
            "not met"
        }
    );
    for e in errors.iter().take(5) {
        println!("error: {e}");
    }
    ensure!(errors.is_empty(), "{} invocations failed", errors.len());
    ensure!(
        first > 0 && second > 0,
        "both models should have answered across the swap"
    );
    Ok(())
}
