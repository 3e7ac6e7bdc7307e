//! The CSV corpus (`data/test_data/csv/`) through the upload endpoint:
//! every file that reads gives a dataset of its shape, and every file that
//! is refused gives a 422 naming the file, with the code and the line and
//! column of `expected.json`.

#[allow(dead_code)]
#[path = "../../data/tests/common/cases.rs"]
mod cases;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use backend::{AppState, Config, app};
use cases::all_cases;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Posts `bytes` as an upload to a fresh Kiln with `config`.
async fn upload(config: Config, query: &str, file: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let dir = std::env::temp_dir().join(format!("kiln-corpus-api-{}", backend::storage::new_id()));
    let state = AppState::open(&dir, config).expect("open store");
    let boundary = "kilnCorpusBoundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::post(format!("/api/datasets{query}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    let resp = app(state, None).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let _ = std::fs::remove_dir_all(&dir);
    (status, serde_json::from_slice(&bytes).expect("a JSON body"))
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_corpus_through_the_upload_endpoint() {
    let mut failures = Vec::new();
    for (case, bytes) in all_cases() {
        let config = Config {
            limits: case.limits.clone().unwrap_or_default().limits(),
            ..Config::default()
        };
        let query = if case.nulls.is_empty() {
            String::new()
        } else {
            format!("?nulls={}", encode(&case.nulls.join(",")))
        };
        let (status, body) = upload(config, &query, &case.file, &bytes).await;
        let file = &case.file;
        let (read, error) = match &case.upload {
            Some(u) => (&u.read, &u.error),
            None => (&case.read, &case.error),
        };
        match (read, error) {
            (Some(want), _) => {
                if status != StatusCode::CREATED
                    || body["rows"] != want.rows
                    || body["columns"] != want.columns
                {
                    failures.push(format!("{file}: {status} {body}"));
                }
            }
            (_, Some(want)) => {
                let e = &body["error"];
                let message = e["message"].as_str().unwrap_or_default();
                let at = want
                    .at
                    .map(|(line, column)| serde_json::json!({"line": line, "column": column}))
                    .unwrap_or(Value::Null);
                if status != StatusCode::UNPROCESSABLE_ENTITY
                    || e["code"] != want.code.as_str()
                    || !message.starts_with(&format!("{file}: "))
                    || !message.contains(&want.message)
                    || e["details"] != at
                {
                    failures.push(format!("{file}: {status} {body}"));
                }
            }
            _ => failures.push(format!("{file}: no outcome")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
