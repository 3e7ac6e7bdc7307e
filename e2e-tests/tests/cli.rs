//! `kiln serve` access settings as a user meets them: off loopback it will
//! not start without a token, and once shared every request needs it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use e2e_tests::env_path;
use e2e_tests::http::request_with;

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[test]
#[ignore = "needs the kiln binary: run `cargo xtask test`"]
fn refuses_to_listen_off_loopback_without_a_token() -> Result<()> {
    let data = std::env::temp_dir().join(format!("kiln-cli-{}", std::process::id()));
    let port = free_port()?;
    let addr = format!("0.0.0.0:{port}");
    for (extra, want) in [
        (vec![], "without --token"),
        (vec!["--token", "short"], "too short"),
        (vec!["--token", "0123456789abcdef0123"], "--allow-host"),
    ] {
        let out = Command::new(env_path("KILN_BIN")?)
            .args(["serve", "--addr", &addr, "--data"])
            .arg(&data)
            .args(&extra)
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(!out.status.success(), "{extra:?}: started");
        ensure!(stderr.contains(want), "{extra:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

#[tokio::test]
#[ignore = "needs the kiln binary: run `cargo xtask test`"]
async fn a_shared_kiln_answers_only_with_its_token_and_its_names() -> Result<()> {
    let data = std::env::temp_dir().join(format!("kiln-shared-{}", std::process::id()));
    let port = free_port()?;
    let token = "0123456789abcdef0123";
    let mut child = Command::new(env_path("KILN_BIN")?)
        .args([
            "serve",
            "--addr",
            &format!("0.0.0.0:{port}"),
            "--token",
            token,
            "--allow-host",
            "kiln.test",
            "--data",
        ])
        .arg(&data)
        .stderr(Stdio::null())
        .spawn()?;
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(
            start.elapsed() < Duration::from_secs(30),
            "kiln did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let host = format!("kiln.test:{port}");
    let bearer = format!("Bearer {token}");
    let result = async {
        let r = request_with(port, "GET", "/api/datasets", &[("Host", &host)]).await?;
        ensure!(r.status == 401, "no token: {}", r.status);
        let r = request_with(port, "GET", "/", &[("Host", &host)]).await?;
        ensure!(
            r.status == 303,
            "the studio sends strangers to /login: {}",
            r.status
        );
        let r = request_with(
            port,
            "GET",
            "/api/datasets",
            &[("Host", &host), ("Authorization", &bearer)],
        )
        .await?;
        ensure!(r.status == 200, "with the token: {} {}", r.status, r.text());
        let r = request_with(
            port,
            "GET",
            "/api/datasets",
            &[("Host", "rebind.example"), ("Authorization", &bearer)],
        )
        .await?;
        ensure!(r.status == 421, "a foreign Host: {}", r.status);
        Ok(())
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    result
}
