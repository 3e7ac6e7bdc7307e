//! A minimal HTTP/1.1 client over a raw TCP stream, so tests can send half a
//! request, stall, or read an SSE stream, with no client library in between.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("not JSON ({}): {}", self.status, self.text()))
    }
}

/// The head of a request with `Connection: close`.
pub fn head(port: u16, method: &str, path: &str, content_type: Option<&str>, len: usize) -> String {
    let mut h = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {len}\r\n"
    );
    if let Some(ct) = content_type {
        h.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    h.push_str("\r\n");
    h
}

pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response> {
    send(
        port,
        head(port, method, path, content_type, body.len()),
        body,
    )
    .await
}

/// A request with exactly these headers (give `Host` yourself).
pub async fn request_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Response> {
    let mut h = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    send(port, h, b"").await
}

async fn send(port: u16, head: String, body: &[u8]) -> Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), s.read_to_end(&mut raw))
        .await
        .context("response timed out")??;
    parse(&raw)
}

pub async fn get_json(port: u16, path: &str) -> Result<serde_json::Value> {
    let r = request(port, "GET", path, None, b"").await?;
    if r.status != 200 {
        bail!("GET {path}: {} {}", r.status, r.text());
    }
    r.json()
}

pub async fn post_json(port: u16, path: &str, body: &serde_json::Value) -> Result<Response> {
    request(
        port,
        "POST",
        path,
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await
}

/// A multipart body with one `file` field; returns (content type, body).
pub fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "kilnE2Eboundary4f9c2a";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n").into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn parse(raw: &[u8]) -> Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..eol])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}

/// One kept-alive HTTP/1.1 connection, as an SDK's connection pool holds
/// one per client: requests go one after another over the same socket, and
/// each answer is read by its `Content-Length`.
pub struct KeptAlive {
    port: u16,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl KeptAlive {
    pub fn new(port: u16) -> KeptAlive {
        KeptAlive {
            port,
            stream: None,
            buf: Vec::new(),
        }
    }

    pub async fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Result<Response> {
        let body = body.to_string();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.port,
            body.len()
        );
        let answer = self.exchange(head.as_bytes(), body.as_bytes()).await;
        if answer.is_err() {
            // The next request starts on a new connection.
            self.stream = None;
            self.buf.clear();
        }
        answer
    }

    async fn exchange(&mut self, head: &[u8], body: &[u8]) -> Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port)).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let s = self.stream.as_mut().context("connected")?;
        let mut out = Vec::with_capacity(head.len() + body.len());
        out.extend_from_slice(head);
        out.extend_from_slice(body);
        s.write_all(&out).await?;
        let mut chunk = [0u8; 8192];
        let end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let n = tokio::time::timeout(Duration::from_secs(120), s.read(&mut chunk))
                .await
                .context("response timed out")??;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .context("an answer without Content-Length")?;
        while self.buf.len() < end + len {
            let n = tokio::time::timeout(Duration::from_secs(120), s.read(&mut chunk))
                .await
                .context("response timed out")??;
            if n == 0 {
                bail!("the server closed the connection mid-answer");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let raw: Vec<u8> = self.buf.drain(..end + len).collect();
        parse(&raw)
    }
}
