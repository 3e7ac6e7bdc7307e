#![allow(dead_code)] // Each test crate uses part of it.

//! What the API tests share: a Kiln on a fresh data directory, driven
//! through the `Router` with `oneshot` (no socket), and its requests.

pub mod peers;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use backend::{AppState, Config, app};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub struct TestApp {
    pub dir: PathBuf,
    pub state: AppState,
    /// Whether dropping it removes the data directory (not for a `clone_app`).
    owns_dir: bool,
}

impl TestApp {
    pub fn new(config: Config) -> TestApp {
        let dir = std::env::temp_dir().join(format!("kiln-api-{}", backend::storage::new_id()));
        let state = AppState::open(&dir, config).expect("open store");
        TestApp {
            dir,
            state,
            owns_dir: true,
        }
    }

    /// The same app (state and data directory), for another task to call.
    pub fn clone_app(&self) -> TestApp {
        TestApp {
            dir: self.dir.clone(),
            state: self.state.clone(),
            owns_dir: false,
        }
    }

    pub fn reopen(&self) -> TestApp {
        TestApp {
            dir: self.dir.clone(),
            state: AppState::open(&self.dir, Config::default()).expect("reopen store"),
            owns_dir: true,
        }
    }

    pub async fn call(&self, req: Request<Body>) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
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

    pub async fn json(
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

    pub async fn upload(&self, file_name: &str, bytes: &[u8]) -> (StatusCode, serde_json::Value) {
        self.upload_to("/api/datasets", file_name, bytes).await
    }

    pub async fn upload_to(
        &self,
        uri: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> (StatusCode, serde_json::Value) {
        let boundary = "kilnboundary7MA4YWxkTrZu0gW";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n").into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post(uri)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let (status, bytes, _) = self.call(req).await;
        (status, serde_json::from_slice(&bytes).expect("json body"))
    }

    /// A list endpoint's items, and the ids its `X-Kiln-Skipped` header names.
    pub async fn list(&self, uri: &str) -> (StatusCode, serde_json::Value, Option<String>) {
        let req = Request::get(uri).body(Body::empty()).unwrap();
        let (status, body, headers) = self.call(req).await;
        let skipped = headers
            .get("x-kiln-skipped")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, serde_json::from_slice(&body).unwrap(), skipped)
    }

    pub async fn wait_final(&self, build_id: &str, timeout: Duration) -> serde_json::Value {
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
        if !self.owns_dir {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn error_message(v: &serde_json::Value) -> &str {
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an API error: {v}"))
}
