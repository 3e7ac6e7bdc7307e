//! The studio embedded in the binary (`build.rs`, when built with
//! `KILN_EMBED_SITE`), served as `ServeDir` serves `target/site`: the
//! Brotli or gzip copy to a browser that accepts it, and `index.html` for
//! any other path, so that deep links work.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;

include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// Whether this binary carries the studio.
pub fn present() -> bool {
    SITE.iter().any(|(p, _)| *p == "index.html")
}

fn find(site: &'static [(&'static str, &'static [u8])], path: &str) -> Option<&'static [u8]> {
    site.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The response for `uri` from `site`.
pub fn respond(
    site: &'static [(&'static str, &'static [u8])],
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let asked = uri.path().trim_start_matches('/');
    let path = if asked.is_empty()
        || find(site, asked).is_none()
        || asked.ends_with(".br")
        || asked.ends_with(".gz")
    {
        "index.html"
    } else {
        asked
    };
    let accepts = |coding: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',')
                    .any(|c| c.trim().split(';').next() == Some(coding))
            })
    };
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::VARY, "accept-encoding");
    let mut body = find(site, path).unwrap_or_default();
    for (coding, ext) in [("br", "br"), ("gzip", "gz")] {
        if accepts(coding)
            && let Some(b) = find(site, &format!("{path}.{ext}"))
        {
            builder = builder.header(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            body = b;
            break;
        }
    }
    builder.body(Body::from(body)).unwrap_or_default()
}

/// The embedded studio's handler.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    respond(SITE, &uri, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    static FAKE: &[(&str, &[u8])] = &[
        ("index.html", b"<html>"),
        ("index.html.br", b"BR"),
        ("pkg/frontend_bg.wasm", b"\0asm"),
        ("pkg/frontend.js", b"js"),
        ("pkg/frontend.js.gz", b"GZ"),
    ];

    fn get(path: &str, encoding: &str) -> Response {
        let mut headers = HeaderMap::new();
        if !encoding.is_empty() {
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(encoding).unwrap(),
            );
        }
        respond(FAKE, &path.parse().unwrap(), &headers)
    }

    #[test]
    fn files_deep_links_and_precompressed_copies() {
        let r = get("/pkg/frontend_bg.wasm", "gzip, br");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/wasm");
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        let r = get("/pkg/frontend.js", "gzip, br");
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let r = get("/datasets/abc/explore", "br");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        let r = get("/", "");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        // A precompressed copy is never sent as if it were the file.
        let r = get("/index.html.br", "");
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
