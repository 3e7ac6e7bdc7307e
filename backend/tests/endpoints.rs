//! Endpoints through the API: variants with traffic weights and a shadow,
//! invocations as JSON and CSV, captured traffic with its inference ids and
//! errors, an atomic swap under load with no failed request, the capture
//! cap, a deployed model refused deletion, and 4xx for bad requests.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backend::Config;
use common::{TestApp, error_message};
use serde_json::{Value, json};

const PENGUINS: &[u8] = include_bytes!("../../assets/samples/penguins.csv");

/// A model of `target`, the same on every machine: a trial budget, not a
/// time budget, ends its search (the time budget is only a backstop).
async fn model(t: &TestApp, dataset: &str, target: &str) -> String {
    let (status, build) = t
        .json(
            "POST",
            "/api/builds",
            Some(
                json!({ "dataset_id": dataset, "target": target, "time_budget_secs": 120, "max_trials": 8 }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(180))
        .await;
    assert_eq!(build["state"], "succeeded", "{build}");
    build["model_id"].as_str().unwrap().to_owned()
}

fn rows() -> Value {
    json!({"rows": [
        {"island": "Biscoe", "bill_length_mm": 45.2, "bill_depth_mm": 14.8, "flipper_length_mm": 212, "body_mass_g": 5200, "sex": "female", "year": 2009},
        {"island": "Dream", "bill_length_mm": 39.5, "bill_depth_mm": 17.4, "flipper_length_mm": 186, "body_mass_g": 3800, "sex": "female", "year": 2007},
        {"island": "Dream", "bill_length_mm": 50.0, "bill_depth_mm": 19.5, "flipper_length_mm": 196, "body_mass_g": 3900, "sex": "male", "year": 2008}
    ]})
}

async fn invoke(t: &TestApp, name: &str, body: &Value) -> (StatusCode, Value, Option<String>) {
    let (status, bytes, headers) = t
        .call(
            Request::post(format!("/api/endpoints/{name}/invocations"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let variant = headers
        .get("x-kiln-variant")
        .and_then(|h| h.to_str().ok())
        .map(String::from);
    (status, v, variant)
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_split_traffic_capture_it_and_swap_models_without_failing_a_request() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.upload("penguins.csv", PENGUINS).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let ds = ds["id"].as_str().unwrap().to_owned();
    let a = model(&t, &ds, "species").await;
    let b = model(&t, &ds, "species").await;
    let other = model(&t, &ds, "island").await;

    // Bad requests are refused by name, and store nothing.
    for (req, status, says) in [
        (
            json!({"name": "no way", "variants": [{"model_id": a}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cannot name an endpoint",
        ),
        (
            json!({"name": "p", "variants": [{"model_id": "0".repeat(32)}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "does not exist",
        ),
        (
            json!({"name": "p", "variants": [{"model_id": a, "weight": 0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not all 0",
        ),
        (
            json!({"name": "p", "variants": [{"model_id": a}, {"model_id": other}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "different targets",
        ),
        (
            json!({"name": "p", "variants": [{"model_id": a}], "capture": {"share": 2.0, "max_rows": 10}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "capture a share of 0 to 1",
        ),
    ] {
        let (s, e) = t.json("POST", "/api/endpoints", Some(req)).await;
        assert_eq!(s, status, "{e}");
        assert!(error_message(&e).contains(says), "{says}: {e}");
    }
    let (_, list, _) = t.list("/api/endpoints").await;
    assert_eq!(list, json!([]));

    // Two variants, 3:1, and a shadow.
    let (status, e) = t
        .json(
            "POST",
            "/api/endpoints",
            Some(json!({"name": "penguins",
                "variants": [{"name": "blue", "model_id": a, "weight": 3}, {"name": "green", "model_id": b, "weight": 1}],
                "shadow": b})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_eq!(e["variants"][0]["weight"], 0.75);
    assert_eq!(e["variants"][1]["target"], "species");
    let (status, e) = t
        .json(
            "POST",
            "/api/endpoints",
            Some(json!({"name": "penguins", "variants": [{"model_id": a}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");

    let mut seen = HashSet::new();
    let mut ids = HashSet::new();
    for _ in 0..40 {
        let (status, r, header) = invoke(&t, "penguins", &rows()).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(header.as_deref(), r["variant"].as_str());
        assert_eq!(r["predictions"].as_array().unwrap().len(), 3);
        assert!(r["classes"].as_array().unwrap().contains(&json!("Gentoo")));
        for p in r["predictions"].as_array().unwrap() {
            assert!(ids.insert(p["inference_id"].as_str().unwrap().to_owned()));
        }
        seen.insert(r["variant"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 2, "both variants answer: {seen:?}");
    // A CSV body, and rows missing a column (refused, counted and captured with the error).
    let (status, body, _) = t
        .call(
            Request::post("/api/endpoints/penguins/invocations")
                .header("content-type", "text/csv")
                .body(Body::from(
                    "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\nBiscoe,45.2,14.8,212,5200,female,2009\n",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (status, e, _) = invoke(&t, "penguins", &json!({"rows": [{"island": "Dream"}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(error_message(&e).contains("bill_length_mm"), "{e}");

    let (_, e) = t.json("GET", "/api/endpoints/penguins", None).await;
    assert_eq!(e["traffic"]["requests"], 42, "{e}");
    assert_eq!(e["traffic"]["errors"], 1, "{e}");
    assert!(e["traffic"]["p99_ms"].as_f64().unwrap() >= e["traffic"]["p50_ms"].as_f64().unwrap());
    // The capture: every answered row, the shadow's scores of them, and the refused row.
    let mut csv = String::new();
    for _ in 0..50 {
        let (_, bytes, _) = t
            .call(
                Request::get("/api/endpoints/penguins/capture.csv")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        csv = String::from_utf8(bytes).unwrap();
        if csv.lines().filter(|l| l.contains(",shadow,")).count() >= 121 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("inference_id,time,variant,model_id,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(",prediction,probability_Adelie,"),
        "{}",
        lines[0]
    );
    let shadow = lines.iter().filter(|l| l.contains(",shadow,")).count();
    assert_eq!(shadow, 121, "the shadow scored every answered row");
    assert_eq!(lines.len(), 1 + 2 * 121 + 1, "{csv}");
    assert!(
        lines.iter().any(|l| l.contains("bill_length_mm")
            && l.split(',').next().is_some_and(|id| id.len() == 32)),
        "the refused row is captured with its error"
    );
    let first_id = lines[1].split(',').next().unwrap();
    assert!(ids.contains(first_id) || lines[1].contains(",shadow,"));

    // A deployed model cannot be deleted.
    let (status, e) = t.json("DELETE", &format!("/api/models/{a}"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(error_message(&e).contains("`penguins`"), "{e}");

    // Swapping to one model under load: no request fails, and afterwards only it answers.
    let load: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone_app();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..30 {
                    statuses.push(invoke(&t, "penguins", &rows()).await.0);
                }
                statuses
            })
        })
        .collect();
    let (status, e) = t
        .json(
            "PUT",
            "/api/endpoints/penguins",
            Some(json!({"variants": [{"model_id": b}], "capture": {"share": 1.0, "max_rows": 20}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    for task in load {
        let statuses = task.await.unwrap();
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "{statuses:?}"
        );
    }
    for _ in 0..5 {
        let (_, r, _) = invoke(&t, "penguins", &rows()).await;
        assert_eq!(
            (r["variant"].as_str(), r["model_id"].as_str()),
            (Some("variant-1"), Some(b.as_str()))
        );
    }
    let (_, e) = t.json("GET", "/api/endpoints/penguins", None).await;
    assert!(e["captured_rows"].as_u64().unwrap() <= 20, "{e}");
    assert!(e["shadow"].is_null());
    // Now the first model is free to go; the endpoint and its captures go too.
    let (status, _) = t.json("DELETE", &format!("/api/models/{a}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = t.json("DELETE", "/api/endpoints/penguins", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = invoke(&t, "penguins", &rows()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

const GERMAN: &str = include_str!("../../assets/samples/german_credit.csv");

/// Splits one CSV line, with quoted fields.
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Posts rows (CSV lines under `header`) to the `credit` endpoint; its answer.
async fn invoke_csv(t: &TestApp, header: &str, rows: &[&str]) -> Value {
    let body = format!("{header}\n{}\n", rows.join("\n"));
    let (status, bytes, _) = t
        .call(
            Request::post("/api/endpoints/credit/invocations")
                .header("content-type", "text/csv")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&bytes).unwrap()
}

async fn upload_to(t: &TestApp, uri: &str, csv: String) -> (StatusCode, Value) {
    t.upload_to(uri, "rows.csv", csv.as_bytes()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_finds_drift_in_a_shifted_batch_and_flipped_labels_in_ground_truth() {
    let t = TestApp::new(Config::default());
    // The rows in a seeded random order (the file is ordered: its first rows
    // are another population, with no "male : married/widowed" at all,
    // which monitoring rightly flags). The model trains on 600 of them; the
    // other 400 are its traffic, new to it, from the same distribution.
    let lines: Vec<&str> = GERMAN.lines().collect();
    let mut rows: Vec<&str> = lines[1..].to_vec();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..rows.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        rows.swap(i, (state >> 33) as usize % (i + 1));
    }
    let (traffic, training) = rows.split_at(400);
    let csv = format!("{}\n{}\n", lines[0], training.join("\n"));
    let (status, ds) = t.upload("german_credit.csv", csv.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let ds = ds["id"].as_str().unwrap().to_owned();
    let m = model(&t, &ds, "creditability").await;
    // The baseline was kept at build time.
    let (status, baseline) = t
        .json("GET", &format!("/api/models/{m}/baseline"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{baseline}");
    assert_eq!(
        baseline["metric"]["name"], "accuracy",
        "{}",
        baseline["metric"]
    );
    assert!(baseline["features"].as_array().unwrap().len() >= 15);
    let (status, e) = t
        .json(
            "POST",
            "/api/endpoints",
            Some(json!({"name": "credit", "variants": [{"model_id": m}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    // Nothing captured yet: a clear refusal.
    let (status, e) = t.json("POST", "/api/endpoints/credit/monitor", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    let header = cells(lines[0]);
    let target = header.iter().position(|h| h == "creditability").unwrap();
    let sex = header
        .iter()
        .position(|h| h == "personal_status_and_sex")
        .unwrap();
    const WOMEN: &str = "female : divorced/separated/married";
    let mut answered: Vec<(String, String)> = Vec::new();
    let mut women: Vec<bool> = Vec::new();
    for chunk in traffic.chunks(100) {
        let r = invoke_csv(&t, lines[0], chunk).await;
        for (p, row) in r["predictions"].as_array().unwrap().iter().zip(chunk) {
            answered.push((
                p["inference_id"].as_str().unwrap().to_owned(),
                cells(row)[target].clone(),
            ));
            women.push(cells(row)[sex] == WOMEN);
        }
    }
    let (status, run) = t.json("POST", "/api/endpoints/credit/monitor", None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["rows"], 400);
    let drifted: Vec<&str> = run["report"]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["drifted"] == true)
        .map(|d| d["feature"].as_str().unwrap())
        .collect();
    assert!(
        drifted.is_empty(),
        "same-distribution traffic drifted on {drifted:?}"
    );

    // A shifted batch: credit_amount up by a training std, purpose re-weighted.
    let amount = header.iter().position(|h| h == "credit_amount").unwrap();
    let purpose = header.iter().position(|h| h == "purpose").unwrap();
    let std = baseline["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "credit_amount")
        .unwrap()["sketch"]["std"]
        .as_f64()
        .unwrap();
    let mut batch = vec![line(&header)];
    for (i, l) in training.iter().take(500).enumerate() {
        let mut c = cells(l);
        c[amount] = (c[amount].parse::<f64>().unwrap() + std).to_string();
        if i % 3 == 0 {
            c[purpose] = "business".into();
        }
        batch.push(line(&c));
    }
    let (status, run) =
        upload_to(&t, "/api/endpoints/credit/monitor/batch", batch.join("\n")).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let mut drifted: Vec<&str> = run["report"]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["drifted"] == true)
        .map(|d| d["feature"].as_str().unwrap())
        .collect();
    drifted.sort();
    assert_eq!(
        drifted,
        ["credit_amount", "purpose"],
        "{}",
        run["violations"]
    );
    // Its charts: the feature's live distribution against training, and the timeline.
    let run_id = run["id"].as_str().unwrap();
    for (uri, says) in [
        (
            format!("/api/endpoints/credit/monitor/{run_id}/charts/credit_amount.svg"),
            "drifted",
        ),
        (
            "/api/endpoints/credit/monitor/charts/timeline.svg".to_owned(),
            "Checks over time",
        ),
    ] {
        let (status, bytes, _) = t
            .call(Request::get(uri.as_str()).body(Body::empty()).unwrap())
            .await;
        let svg = String::from_utf8(bytes).unwrap();
        assert_eq!(status, StatusCode::OK, "{uri}: {svg}");
        assert!(svg.starts_with("<svg") && svg.contains(says), "{uri}");
    }
    let (status, _, _) = t
        .call(
            Request::get(format!(
                "/api/endpoints/credit/monitor/{run_id}/charts/nope.svg"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The batch carries its labels: the model's quality on it is checked.
    assert!(
        run["report"]["model_quality"]["live"].as_f64().is_some(),
        "{run}"
    );
    let (_, alerts) = t.json("GET", "/api/alerts", None).await;
    assert_eq!(alerts[0]["endpoint"], "credit", "{alerts}");

    // Ground truth with a fifth of the labels flipped, and ids the capture does not know.
    let mut truth = vec!["inference_id,creditability".to_owned()];
    for (i, (id, label)) in answered.iter().enumerate() {
        let label = if i % 5 == 0 {
            if label == "good" { "bad" } else { "good" }
        } else {
            label.as_str()
        };
        truth.push(format!("{id},{label}"));
    }
    truth.push(format!("{},good", "f".repeat(32)));
    let (status, receipt) =
        upload_to(&t, "/api/endpoints/credit/ground-truth", truth.join("\n")).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(
        (receipt["matched"].as_u64(), receipt["unknown"].as_u64()),
        (Some(400), Some(1))
    );
    let (status, run) = t.json("POST", "/api/endpoints/credit/monitor", None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let q = &run["report"]["model_quality"];
    assert_eq!(q["violation"], true, "{q}");
    assert!(
        run["violations"].as_array().unwrap().iter().any(|v| v
            .as_str()
            .unwrap()
            .starts_with("accuracy on 400 labelled rows")),
        "{}",
        run["violations"]
    );
    let (_, runs) = t.json("GET", "/api/endpoints/credit/monitor", None).await;
    assert_eq!(runs.as_array().unwrap().len(), 3);

    // A schedule: checked when due, on the rows captured since the last scheduled check.
    let (status, e) = t
        .json(
            "PUT",
            "/api/endpoints/credit",
            Some(json!({"variants": [{"model_id": m}], "monitor_every_minutes": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let store = &t.state.store;
    let runs = backend::monitoring::run_due(store, now).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].source.as_str(), runs[0].rows), ("schedule", 400));
    assert!(
        backend::monitoring::run_due(store, now).unwrap().is_empty(),
        "not due yet"
    );
    // Five minutes after the run was made (it may have taken seconds).
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 301;
    assert!(
        backend::monitoring::run_due(store, later)
            .unwrap()
            .is_empty(),
        "nothing new was captured"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    invoke_csv(&t, lines[0], &traffic[..50]).await;
    let runs = backend::monitoring::run_due(store, later).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].rows, 50, "only the new rows");

    // Bias to watch: women against the other applicants, "good" favourable.
    let watch = |value: &str| {
        json!({"variants": [{"model_id": m}], "bias": {
            "facet": "personal_status_and_sex", "values": [value], "favourable": ["good"]}})
    };
    let (status, e) = t
        .json(
            "PUT",
            "/api/endpoints/credit",
            Some(watch("female : single")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has no value “female : single”"),
        "{e}"
    );
    let (status, e) = t
        .json("PUT", "/api/endpoints/credit", Some(watch(WOMEN)))
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["bias"]["facet"], "personal_status_and_sex", "{e}");
    let bias_violations = |run: &Value| -> Vec<String> {
        run["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .filter(|v| v.starts_with("bias drift"))
            .map(String::from)
            .collect()
    };
    // The true labels: the live bias is the training bias, within noise.
    let truth_csv = |flip_women: bool| -> String {
        let mut out = vec!["inference_id,creditability".to_owned()];
        for ((id, label), &w) in answered.iter().zip(&women) {
            let label = if flip_women && w {
                if label == "good" { "bad" } else { "good" }
            } else {
                label.as_str()
            };
            out.push(format!("{id},{label}"));
        }
        out.join("\n")
    };
    let (status, _) = upload_to(&t, "/api/endpoints/credit/ground-truth", truth_csv(false)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, run) = t.json("POST", "/api/endpoints/credit/monitor", None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let bias = &run["report"]["bias"];
    assert_eq!(bias["with_truth"], true, "{bias}");
    assert_eq!(bias["metrics"].as_array().unwrap().len(), 7, "{bias}");
    assert!(bias["facet_rows"].as_u64().unwrap() > 80, "{bias}");
    assert!(bias_violations(&run).is_empty(), "{}", run["violations"]);
    // The model now wrong on every woman (her labels flipped): the accuracy
    // difference, at least, drifts.
    let (status, _) = upload_to(&t, "/api/endpoints/credit/ground-truth", truth_csv(true)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, run) = t.json("POST", "/api/endpoints/credit/monitor", None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let found = bias_violations(&run);
    assert!(
        found.iter().any(|v| v.contains(": AD moved")),
        "{found:?} {}",
        run["report"]["bias"]
    );
}
