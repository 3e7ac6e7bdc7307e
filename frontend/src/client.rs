//! All HTTP to the backend: JSON fetches, the upload with progress (an
//! `XMLHttpRequest`, since `fetch` reports no upload progress) and the
//! server-sent build events.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    EventSource, FormData, MessageEvent, ProgressEvent, Request, RequestInit, Response,
    XmlHttpRequest,
};

/// An error message fit to show a person.
pub type ClientResult<T> = Result<T, String>;

fn window() -> web_sys::Window {
    // The app only runs in a browser window.
    web_sys::window().expect("a browser window")
}

fn js_message(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// A failed request: the API's error code (empty when there is none) and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn from_response(status: u16, body: &str) -> Failure {
        let code = serde_json::from_str::<api::ApiError>(body)
            .map(|e| e.error.code)
            .unwrap_or_default();
        Failure {
            code,
            message: error_message(status, body),
        }
    }
}

/// The message of an API error body, or a generic one.
pub fn error_message(status: u16, body: &str) -> String {
    match serde_json::from_str::<api::ApiError>(body) {
        Ok(e) => e.error.message,
        Err(_) if body.trim().is_empty() => format!("the server answered {status}"),
        Err(_) => format!(
            "the server answered {status}: {}",
            body.chars().take(200).collect::<String>()
        ),
    }
}

async fn send(method: &str, path: &str, body: Option<String>) -> ClientResult<String> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = &body {
        init.set_body(&JsValue::from_str(b));
    }
    let req = Request::new_with_str_and_init(path, &init).map_err(js_message)?;
    if body.is_some() {
        req.headers()
            .set("content-type", "application/json")
            .map_err(js_message)?;
    }
    let resp = JsFuture::from(window().fetch_with_request(&req))
        .await
        .map_err(|_| "the server cannot be reached".to_owned())?;
    let resp: Response = resp.dyn_into().map_err(js_message)?;
    let text = JsFuture::from(resp.text().map_err(js_message)?)
        .await
        .map_err(js_message)?
        .as_string()
        .unwrap_or_default();
    if resp.ok() {
        Ok(text)
    } else {
        Err(error_message(resp.status(), &text))
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> ClientResult<T> {
    serde_json::from_str(text).map_err(|e| format!("unexpected answer from the server: {e}"))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> ClientResult<T> {
    parse(&send("GET", path, None).await?)
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ClientResult<T> {
    let body = serde_json::to_string(body).map_err(|e| e.to_string())?;
    parse(&send("POST", path, Some(body)).await?)
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ClientResult<T> {
    let body = serde_json::to_string(body).map_err(|e| e.to_string())?;
    parse(&send("PUT", path, Some(body)).await?)
}

pub async fn post_empty<T: DeserializeOwned>(path: &str) -> ClientResult<T> {
    parse(&send("POST", path, None).await?)
}

pub async fn delete(path: &str) -> ClientResult<()> {
    send("DELETE", path, None).await.map(|_| ())
}

/// Uploads `file` as a new dataset, reporting progress in [0, 1].
pub fn upload(
    file: web_sys::File,
    latin1: bool,
    nulls: &str,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(Result<api::DatasetSummary, Failure>) + 'static,
) -> ClientResult<()> {
    upload_file(&upload_url(latin1, nulls), file, on_progress, on_done)
}

/// The upload address: Latin-1 when asked, and the extra missing-value
/// tokens (comma-separated, as typed) when there are any.
pub fn upload_url(latin1: bool, nulls: &str) -> String {
    let mut params = Vec::new();
    if latin1 {
        params.push("encoding=latin1".to_owned());
    }
    if !nulls.trim().is_empty() {
        params.push(format!("nulls={}", percent_encode(nulls.trim())));
    }
    if params.is_empty() {
        "/api/datasets".to_owned()
    } else {
        format!("/api/datasets?{}", params.join("&"))
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts `file` as the multipart field `file` to `url`, reporting progress in [0, 1].
pub fn upload_file<T: DeserializeOwned + 'static>(
    url: &str,
    file: web_sys::File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl Fn(Result<T, Failure>) + 'static,
) -> ClientResult<()> {
    let xhr = XmlHttpRequest::new().map_err(js_message)?;
    xhr.open("POST", url).map_err(js_message)?;
    let form = FormData::new().map_err(js_message)?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(js_message)?;
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            on_progress(e.loaded() / e.total());
        }
    });
    xhr.upload()
        .map_err(js_message)?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));
    progress.forget();
    let on_done = std::rc::Rc::new(on_done);
    let done = on_done.clone();
    let xhr2 = xhr.clone();
    let load = Closure::<dyn FnMut()>::new(move || {
        let status = xhr2.status().unwrap_or(0);
        let text = xhr2.response_text().ok().flatten().unwrap_or_default();
        if (200..300).contains(&status) {
            done(parse(&text).map_err(|message| Failure {
                code: String::new(),
                message,
            }));
        } else {
            done(Err(Failure::from_response(status, &text)));
        }
    });
    xhr.set_onload(Some(load.as_ref().unchecked_ref()));
    load.forget();
    let error = Closure::<dyn FnMut()>::new(move || {
        on_done(Err(Failure {
            code: String::new(),
            message: "the upload failed: the server cannot be reached".into(),
        }))
    });
    xhr.set_onerror(Some(error.as_ref().unchecked_ref()));
    error.forget();
    xhr.send_with_opt_form_data(Some(&form)).map_err(js_message)
}

/// Follows a build's server-sent events until it reaches a final state.
/// Returns the `EventSource` so the caller can close it early.
pub fn follow_build(
    id: &str,
    on_update: impl Fn(api::Build) + 'static,
) -> ClientResult<EventSource> {
    let es = EventSource::new(&format!("/api/builds/{id}/events")).map_err(js_message)?;
    let es2 = es.clone();
    let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let Some(text) = e.data().as_string() else {
            return;
        };
        if let Ok(build) = serde_json::from_str::<api::Build>(&text) {
            let done = build.state.is_final();
            on_update(build);
            if done {
                // Otherwise the browser reconnects when the server ends the stream.
                es2.close();
            }
        }
    });
    es.add_event_listener_with_callback("build", cb.as_ref().unchecked_ref())
        .map_err(js_message)?;
    cb.forget();
    Ok(es)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_url_carries_encoding_and_missing_tokens() {
        assert_eq!(upload_url(false, "  "), "/api/datasets");
        assert_eq!(upload_url(true, ""), "/api/datasets?encoding=latin1");
        assert_eq!(
            upload_url(true, " -999, n/a & ? "),
            "/api/datasets?encoding=latin1&nulls=-999%2C%20n%2Fa%20%26%20%3F"
        );
    }
}
