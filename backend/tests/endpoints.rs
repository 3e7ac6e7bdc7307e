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

async fn model(t: &TestApp, dataset: &str, target: &str) -> String {
    let (status, build) = t
        .json(
            "POST",
            "/api/builds",
            Some(json!({ "dataset_id": dataset, "target": target, "time_budget_secs": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(60))
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
