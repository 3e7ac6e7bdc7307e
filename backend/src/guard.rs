//! Who may talk to the server: a Host allow-list (against DNS rebinding),
//! a same-origin check on state-changing requests (against cross-site
//! requests), and, when a token is set, a bearer token or an HttpOnly
//! SameSite cookie on every request (set by the `/login` page).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// The cookie that carries the token in a browser.
pub const COOKIE: &str = "kiln_token";

#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Required on every request when set.
    pub token: Option<String>,
    /// Accepted `Host` header values (`host:port`); empty accepts any (tests).
    pub allowed_hosts: Vec<String>,
}

impl Access {
    /// The hosts a server on `addr` answers to: the address itself, and for
    /// loopback also `localhost`, plus `extra` names.
    pub fn hosts_for(addr: std::net::SocketAddr, extra: &[String]) -> Vec<String> {
        let port = addr.port();
        let mut hosts = vec![addr.to_string()];
        if addr.ip().is_loopback() {
            hosts.extend([
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ]);
        }
        for h in extra {
            hosts.push(if h.contains(':') && !h.ends_with(']') {
                h.clone()
            } else {
                format!("{h}:{port}")
            });
        }
        hosts.sort();
        hosts.dedup();
        hosts
    }

    fn host_ok(&self, host: &str) -> bool {
        self.allowed_hosts.is_empty()
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    }

    fn token_ok(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same(t.trim(), token));
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && same(v, token));
        bearer || cookie
    }
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn deny(status: StatusCode, code: &str, message: String) -> Response {
    crate::error::error_response(status, code, message, None)
}

pub async fn guard(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !access.host_ok(&host) {
        return deny(
            StatusCode::MISDIRECTED_REQUEST,
            "host_not_allowed",
            format!(
                "this server does not answer for host `{host}`; start it with --allow-host to add a name"
            ),
        );
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let cross_site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site");
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_none_or(|o| o == format!("http://{host}") || o == format!("https://{host}"));
        if cross_site || !origin_ok {
            return deny(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "requests that change data must come from the Kiln page itself".into(),
            );
        }
    }
    let path = req.uri().path();
    let public = matches!(
        path,
        "/login" | "/api/login" | "/style.css" | "/favicon.svg"
    );
    if !public && !access.token_ok(req.headers()) {
        return if path.starts_with("/api") {
            deny(StatusCode::UNAUTHORIZED, "unauthorized", "this Kiln needs its access token: send `Authorization: Bearer <token>` or sign in at /login".into())
        } else {
            Redirect::to("/login").into_response()
        };
    }
    next.run(req).await
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    token: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    failed: Option<String>,
}

/// A plain HTML form (no script, so the CSP stays strict).
pub async fn login_page(query: axum::extract::Query<LoginQuery>) -> Html<String> {
    let failed = if query.failed.is_some() {
        r#"<p class="error">That token is not right.</p>"#
    } else {
        ""
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Kiln: sign in</title><link rel="stylesheet" href="/style.css"></head>
<body><main class="page"><h1>Sign in to Kiln</h1><p class="muted">This Kiln is shared: enter the access token it was started with.</p>{failed}
<form class="form" method="post" action="/api/login"><label for="token">Access token</label><input id="token" name="token" type="password" autocomplete="current-password" required>
<div></div><button class="button primary" type="submit">Sign in</button></form></main></body></html>"#
    ))
}

#[utoipa::path(post, path = "/api/login", tag = "system", request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "Signed in (the cookie is set) and sent to the studio, or back to the form when the token is wrong")))]
pub async fn login(State(st): State<crate::AppState>, Form(form): Form<LoginForm>) -> Response {
    match &st.config.access.token {
        Some(token) if same(form.token.trim(), token) => {
            let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Some(_) => Redirect::to("/login?failed=1").into_response(),
        None => Redirect::to("/").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_include_localhost_names() {
        let hosts = Access::hosts_for("127.0.0.1:8080".parse().unwrap(), &["kiln.lan".into()]);
        for h in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "kiln.lan:8080",
        ] {
            assert!(hosts.contains(&h.to_owned()), "{h} in {hosts:?}");
        }
        let a = Access {
            token: None,
            allowed_hosts: hosts,
        };
        assert!(a.host_ok("LOCALHOST:8080"));
        assert!(!a.host_ok("evil.example:8080"));
    }

    #[test]
    fn tokens_from_header_or_cookie() {
        let a = Access {
            token: Some("s3cret".into()),
            allowed_hosts: vec![],
        };
        let mut h = HeaderMap::new();
        assert!(!a.token_ok(&h));
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(a.token_ok(&h));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "theme=dark; kiln_token=s3cret".parse().unwrap(),
        );
        assert!(a.token_ok(&h));
        h.insert(header::COOKIE, "kiln_token=s3cre".parse().unwrap());
        assert!(!a.token_ok(&h));
    }
}
