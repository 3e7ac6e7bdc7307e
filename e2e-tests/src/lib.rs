//! Browser-test harness: starts `kiln serve` on a free port with a fresh
//! data directory, starts ChromeDriver, and opens headless Chromium through
//! fantoccini. Everything started is stopped on drop.
//!
//! The paths come from the environment that `cargo xtask test` sets:
//! `KILN_BIN` (the binary), `KILN_SITE` (the built frontend) and
//! `KILN_SAMPLES` (CSV files to upload).

pub mod http;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

pub fn env_path(name: &str) -> Result<PathBuf> {
    std::env::var_os(name).map(PathBuf::from).with_context(|| {
        format!("{name} is not set: run the browser tests with `cargo xtask test`")
    })
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_port(port: u16, what: &str, child: &mut Child) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited early with {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{what} did not listen on port {port} within 30 s")
}

pub struct Studio {
    pub base: String,
    pub data_dir: PathBuf,
    pub client: Client,
    kiln: Child,
    driver: Child,
}

impl Studio {
    pub async fn start(name: &str) -> Result<Studio> {
        Studio::start_with(name, &[], &[]).await
    }

    /// A studio whose `kiln serve` gets `args` more and the environment `env`.
    pub async fn start_with(name: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Studio> {
        let bin = env_path("KILN_BIN")?;
        let site = env_path("KILN_SITE")?;
        let data_dir = std::env::temp_dir().join(format!("kiln-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let port = free_port()?;
        let mut kiln = Command::new(&bin)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data_dir)
            .arg("--site")
            .arg(&site)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        wait_for_port(port, "kiln", &mut kiln).await?;
        let driver_port = free_port()?;
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver (Debian package chromium-driver)")?;
        wait_for_port(driver_port, "chromedriver", &mut driver).await?;
        let profile = data_dir.join("chromium-profile");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("a JSON object literal"),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .context("opening headless Chromium through chromedriver")?;
        Ok(Studio {
            base: format!("http://127.0.0.1:{port}"),
            data_dir,
            client,
            kiln,
            driver,
        })
    }

    pub async fn open(&self, path: &str) -> Result<()> {
        self.client.goto(&format!("{}{path}", self.base)).await?;
        Ok(())
    }

    /// Waits for an element matching `css`.
    pub async fn find(
        &self,
        css: &str,
        timeout: Duration,
    ) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for `{css}`"))
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    pub async fn wait_text(
        &self,
        css: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < timeout {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
            {
                if ok(&t) {
                    return Ok(t);
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("`{css}` never had the expected text; last seen: `{last}`")
    }

    /// Waits until the page path starts with `prefix`; returns the path.
    pub async fn wait_path(&self, prefix: &str, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let url = self.client.current_url().await?;
            if url.path().starts_with(prefix) {
                return Ok(url.path().to_owned());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the page never reached {prefix}")
    }

    /// Runs `fetch` in the page and returns the response text.
    pub async fn fetch(&self, method: &str, path: &str, body: Option<String>) -> Result<String> {
        let script = r#"
            const [method, path, body, done] = arguments;
            const init = { method };
            if (body !== null) { init.body = body; init.headers = { "content-type": "application/json" }; }
            fetch(path, init).then(r => r.text().then(t => done({ status: r.status, text: t }))).catch(e => done({ status: 0, text: String(e) }));
        "#;
        let out = self
            .client
            .execute_async(
                script,
                vec![
                    method.into(),
                    path.into(),
                    body.map_or(serde_json::Value::Null, Into::into),
                ],
            )
            .await?;
        let status = out["status"].as_u64().unwrap_or(0);
        let text = out["text"].as_str().unwrap_or_default().to_owned();
        if !(200..300).contains(&status) {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(text)
    }

    /// [`Studio::fetch`], the answer read as JSON.
    pub async fn fetch_json(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<serde_json::Value> {
        let text = self.fetch(method, path, body).await?;
        serde_json::from_str(&text)
            .with_context(|| format!("{method} {path} answered: {text:.200}"))
    }

    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub fn kiln_bin(&self) -> Result<PathBuf> {
        env_path("KILN_BIN")
    }

    pub async fn close(mut self) -> Result<()> {
        self.client.clone().close().await?;
        self.stop();
        Ok(())
    }

    fn stop(&mut self) {
        let _ = self.kiln.kill();
        let _ = self.driver.kill();
        let _ = self.kiln.wait();
        let _ = self.driver.wait();
    }
}

impl Drop for Studio {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
