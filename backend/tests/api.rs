//! API integration tests through the `Router` with `oneshot`: no socket,
//! a fresh data directory per test.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use backend::{AppState, Config, app};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PENGUINS: &[u8] = include_bytes!("../../assets/samples/penguins.csv");

struct TestApp {
    dir: PathBuf,
    state: AppState,
}

impl TestApp {
    fn new(config: Config) -> TestApp {
        let dir = std::env::temp_dir().join(format!("kiln-api-{}", backend::storage::new_id()));
        let state = AppState::open(&dir, config).expect("open store");
        TestApp { dir, state }
    }

    fn reopen(&self) -> TestApp {
        TestApp {
            dir: self.dir.clone(),
            state: AppState::open(&self.dir, Config::default()).expect("reopen store"),
        }
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
        let resp = app(self.state.clone(), None)
            .oneshot(req)
            .await
            .expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, body, headers)
    }

    async fn json(
        &self,
        method: &str,
        uri: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method(method).uri(uri);
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let (status, bytes, _) = self.call(req.body(body).unwrap()).await;
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into())
        };
        (status, value)
    }

    async fn upload(&self, file_name: &str, bytes: &[u8]) -> (StatusCode, serde_json::Value) {
        let boundary = "kilnboundary7MA4YWxkTrZu0gW";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n").into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post("/api/datasets")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let (status, bytes, _) = self.call(req).await;
        (status, serde_json::from_slice(&bytes).expect("json body"))
    }

    async fn wait_final(&self, build_id: &str, timeout: Duration) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let (status, b) = self
                .json("GET", &format!("/api/builds/{build_id}"), None)
                .await;
            assert_eq!(status, StatusCode::OK);
            let state = b["state"].as_str().unwrap_or_default().to_owned();
            if !["queued", "running"].contains(&state.as_str()) {
                return b;
            }
            assert!(
                start.elapsed() < timeout,
                "build still {state} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn error_message(v: &serde_json::Value) -> &str {
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an API error: {v}"))
}

#[tokio::test]
async fn upload_profile_build_predict_and_download() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.upload("penguins.csv", PENGUINS).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    assert_eq!(
        (
            ds["name"].as_str(),
            ds["rows"].as_u64(),
            ds["columns"].as_u64()
        ),
        (Some("penguins"), Some(344), Some(8))
    );
    let id = ds["id"].as_str().unwrap().to_owned();

    let (_, list) = t.json("GET", "/api/datasets", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, detail) = t.json("GET", &format!("/api/datasets/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let cols = detail["profile"]["columns"].as_array().unwrap();
    let bill = cols.iter().find(|c| c["name"] == "bill_length_mm").unwrap();
    assert_eq!(
        (bill["kind"].as_str(), bill["missing"].as_u64()),
        (Some("numeric"), Some(2))
    );
    assert!((bill["mean"].as_f64().unwrap() - 43.921_929_824_561_4).abs() < 1e-9);
    let (_, rows) = t
        .json(
            "GET",
            &format!("/api/datasets/{id}/rows?offset=340&limit=10"),
            None,
        )
        .await;
    assert_eq!(rows["rows"].as_array().unwrap().len(), 4);
    let (_, target) = t
        .json(
            "GET",
            &format!("/api/datasets/{id}/target?column=species"),
            None,
        )
        .await;
    assert_eq!(target["task"], "multiclass");
    assert_eq!(
        target["classes"],
        serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
    );

    let (status, build) = t.json("POST", "/api/builds", Some(serde_json::json!({ "dataset_id": id, "target": "species", "time_budget_secs": 30 }))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(60))
        .await;
    assert_eq!(build["state"], "succeeded", "{build}");
    let board = build["leaderboard"].as_array().unwrap();
    assert!(
        board.iter().any(|e| e["family"] == "baseline")
            && board.iter().any(|e| e["family"] == "boosted trees")
    );
    let best = board[0]["score"].as_f64().unwrap();
    let baseline = board.iter().find(|e| e["family"] == "baseline").unwrap()["score"]
        .as_f64()
        .unwrap();
    assert!(
        best < baseline / 5.0,
        "best log loss {best} vs baseline {baseline}"
    );

    let model_id = build["model_id"].as_str().unwrap();
    let (_, model) = t
        .json("GET", &format!("/api/models/{model_id}"), None)
        .await;
    assert_eq!(
        model["classes"],
        serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
    );
    let accuracy = model["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "accuracy")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!(accuracy > 0.9, "held-out accuracy {accuracy}");

    let gentoo = serde_json::json!({ "island": "Biscoe", "bill_length_mm": 47.5, "bill_depth_mm": 14.2, "flipper_length_mm": 215, "body_mass_g": 5100, "sex": "female", "year": 2008 });
    let odd = serde_json::json!({ "island": "Atlantis", "bill_length_mm": null, "bill_depth_mm": "n/a", "flipper_length_mm": 190, "body_mass_g": 3700, "sex": null, "year": 2009 });
    let (status, preds) = t
        .json(
            "POST",
            &format!("/api/models/{model_id}/predict"),
            Some(serde_json::json!({ "rows": [gentoo, odd] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preds}");
    assert_eq!(preds["predictions"][0]["value"], "Gentoo");
    let p: f64 = preds["predictions"][1]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((p - 1.0).abs() < 1e-9);

    let req = Request::get(format!("/api/models/{model_id}/artifact"))
        .body(Body::empty())
        .unwrap();
    let (status, bytes, headers) = t.call(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let artifact = automl::ModelArtifact::from_json(&bytes).expect("a valid artifact");
    assert_eq!(artifact.schema.target, "species");

    // Everything acknowledged survives a restart.
    let again = t.reopen();
    let (status, _) = again
        .json("GET", &format!("/api/datasets/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = again
        .json(
            "POST",
            &format!("/api/models/{model_id}/predict"),
            Some(serde_json::json!({ "rows": [gentoo] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_files_get_clear_messages() {
    let t = TestApp::new(Config::default());
    let cases: &[(&str, &[u8], &str)] = &[
        ("empty.csv", b"", "empty.csv: the file is empty"),
        (
            "ragged.csv",
            b"a,b\n1,2\n3,4,5\n",
            "ragged.csv: line 3: 3 fields",
        ),
        ("data.csv.gz", b"\x1f\x8b\x08\x00\x00", "gzip"),
        (
            "latin1.csv",
            b"name,city\nJos\xe9,Z\xfcrich\n",
            "line 2, column 4",
        ),
        (
            "page.csv",
            b"<!DOCTYPE html><html><body>hi</body></html>",
            "HTML",
        ),
    ];
    for (name, bytes, want) in cases {
        let (status, body) = t.upload(name, bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        assert!(error_message(&body).contains(want), "{name}: {body}");
    }
    let (_, list) = t.json("GET", "/api/datasets", None).await;
    assert_eq!(list, serde_json::json!([]), "nothing half-stored");
}

#[tokio::test]
async fn uploads_over_the_limit_get_413() {
    let t = TestApp::new(Config {
        max_upload_bytes: 1000,
        ..Config::default()
    });
    let (status, body) = t.upload("penguins.csv", PENGUINS).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "too_large");
    let tmp: Vec<_> = std::fs::read_dir(t.dir.join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "the partial upload was removed");
}

#[tokio::test]
async fn unknown_ids_and_bad_requests_are_4xx_json() {
    let t = TestApp::new(Config::default());
    for uri in [
        "/api/datasets/0123456789abcdef0123456789abcdef",
        "/api/datasets/..%2F..%2Fkiln.db",
        "/api/builds/nope",
        "/api/models/%2Fetc%2Fpasswd",
        "/api/models/x/artifact",
        "/api/nothing",
    ] {
        let (status, body) = t.json("GET", uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{uri}");
    }
    let (status, body) = t
        .json(
            "POST",
            "/api/builds",
            Some(serde_json::json!({ "dataset_id": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let req = Request::post("/api/builds")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, body, _) = t.call(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("invalid_json"));

    let (_, ds) = t.upload("penguins.csv", PENGUINS).await;
    let id = ds["id"].as_str().unwrap();
    let (status, body) = t
        .json(
            "POST",
            "/api/builds",
            Some(serde_json::json!({ "dataset_id": id, "target": "beak" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_message(&body).contains("`beak`"));
    let (status, _) = t
        .json(
            "POST",
            "/api/builds",
            Some(
                serde_json::json!({ "dataset_id": id, "target": "species", "time_budget_secs": 1 }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = t
        .json(
            "GET",
            &format!("/api/datasets/{id}/target?column=island2"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn a_single_valued_target_fails_the_build_with_a_reason() {
    let t = TestApp::new(Config::default());
    let csv: String = std::iter::once("x,y".to_owned())
        .chain((0..40).map(|i| format!("{i},same")))
        .collect::<Vec<_>>()
        .join("\n");
    let (_, ds) = t.upload("const.csv", csv.as_bytes()).await;
    let (_, build) = t.json("POST", "/api/builds", Some(serde_json::json!({ "dataset_id": ds["id"], "target": "y", "time_budget_secs": 10 }))).await;
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(build["state"], "failed");
    assert!(
        build["error"].as_str().unwrap().contains("single value"),
        "{build}"
    );
}

#[tokio::test]
async fn cancel_stops_a_build_and_keeps_what_finished() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.json("POST", "/api/samples/diamonds", None).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let (_, build) = t.json("POST", "/api/builds", Some(serde_json::json!({ "dataset_id": ds["id"], "target": "price", "time_budget_secs": 600 }))).await;
    let id = build["id"].as_str().unwrap().to_owned();
    // Wait for the first finished trial, then cancel.
    let start = Instant::now();
    loop {
        let (_, b) = t.json("GET", &format!("/api/builds/{id}"), None).await;
        if b["trials_done"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no trial finished: {b}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = t
        .json("POST", &format!("/api/builds/{id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let b = t.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(b["state"], "cancelled", "{b}");
    assert!(
        b["model_id"].is_string(),
        "the best finished trial is kept: {b}"
    );
    let (status, _) = t
        .json("POST", &format!("/api/builds/{id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn events_stream_ends_with_the_final_state_and_pages_carry_a_csp() {
    let t = TestApp::new(Config::default());
    let (_, ds) = t.upload("penguins.csv", PENGUINS).await;
    let (_, build) = t.json("POST", "/api/builds", Some(serde_json::json!({ "dataset_id": ds["id"], "target": "sex", "time_budget_secs": 20 }))).await;
    let id = build["id"].as_str().unwrap();
    let req = Request::get(format!("/api/builds/{id}/events"))
        .body(Body::empty())
        .unwrap();
    let (status, body, headers) = t.call(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
    let text = String::from_utf8(body).unwrap();
    let last = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .next_back()
        .expect("at least one event");
    let last: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(last["state"], "succeeded", "{text}");
    assert_eq!(last["task"], "binary");
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
}
