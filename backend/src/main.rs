//! The `kiln` command: `kiln serve` runs the studio, `kiln predict` scores
//! a CSV with a downloaded model artifact.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Kiln: a no-code machine-learning studio for tabular data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the studio and its API.
    Serve {
        /// Address to listen on. Any address but loopback needs --token.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Access token every request must carry (bearer header, or the
        /// cookie the /login page sets). Required off loopback.
        #[arg(long, env = "KILN_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// More host names to answer to (the Host header allow-list).
        #[arg(long = "allow-host")]
        allow_hosts: Vec<String>,
        /// Data directory (created if missing).
        #[arg(long, default_value = "./kiln-data")]
        data: PathBuf,
        /// Directory of the built frontend (index.html, pkg/).
        #[arg(long, env = "KILN_SITE")]
        site: Option<PathBuf>,
        /// Largest accepted upload, in MiB.
        #[arg(long, default_value_t = 1024)]
        max_upload_mb: u64,
    },
    /// Score a file (CSV, Excel, Parquet, Arrow IPC, JSON Lines, gzip or ZIP
    /// CSV) with a model artifact; writes the input columns plus predictions.
    Predict {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
    },
    /// Explain each row of a file with a model artifact: writes, per row and
    /// model output, the base value, the raw output and each input column's
    /// SHAP value (they add up to the raw output).
    Explain {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            addr,
            token,
            allow_hosts,
            data,
            site,
            max_upload_mb,
        } => {
            let access = access(addr, token, &allow_hosts)?;
            serve(addr, access, data, site, max_upload_mb)
        }
        Command::Predict {
            model,
            input,
            output,
        } => predict(&model, &input, &output),
        Command::Explain {
            model,
            input,
            output,
        } => explain(&model, &input, &output),
    }
}

/// Checks the access settings for `addr`: off loopback a token is required,
/// and a wildcard address needs the host names it will be reached by.
fn access(
    addr: SocketAddr,
    token: Option<String>,
    allow_hosts: &[String],
) -> anyhow::Result<backend::guard::Access> {
    let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if !addr.ip().is_loopback() {
        match &token {
            None => bail!(
                "refusing to listen on {addr} without --token: off loopback, anyone who can reach the port could use Kiln"
            ),
            Some(t) if t.len() < 16 => {
                bail!("the --token is too short: use at least 16 characters")
            }
            Some(_) => {}
        }
        if addr.ip().is_unspecified() && allow_hosts.is_empty() {
            bail!(
                "listening on {addr} needs --allow-host NAME for each host name or address clients will use (the Host header allow-list)"
            );
        }
    }
    Ok(backend::guard::Access {
        token,
        allowed_hosts: backend::guard::Access::hosts_for(addr, allow_hosts),
    })
}

fn serve(
    addr: SocketAddr,
    access: backend::guard::Access,
    data: PathBuf,
    site: Option<PathBuf>,
    max_upload_mb: u64,
) -> anyhow::Result<()> {
    let site = site.or_else(default_site);
    match &site {
        Some(dir) if dir.join("index.html").is_file() => {
            tracing::info!(site = %dir.display(), "serving the frontend")
        }
        _ => tracing::warn!("no built frontend found; only /api is served (run `cargo xtask run`)"),
    }
    let config = backend::Config {
        max_upload_bytes: max_upload_mb << 20,
        access,
        ..backend::Config::default()
    };
    let state = backend::AppState::open(&data, config)
        .with_context(|| format!("opening the data directory {}", data.display()))?;
    let app = backend::app(state, site);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        tracing::info!(
            "Kiln is serving http://{addr} with data in {}",
            data.display()
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

/// `target/site` under the current directory, or `site` beside the executable.
fn default_site() -> Option<PathBuf> {
    let local = PathBuf::from("target/site");
    if local.join("index.html").is_file() {
        return Some(local);
    }
    let beside = std::env::current_exe().ok()?.parent()?.join("site");
    beside.join("index.html").is_file().then_some(beside)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

fn predict(
    model: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let artifact = automl::ModelArtifact::from_json(&bytes)
        .with_context(|| format!("loading {}", model.display()))?;
    let tmp = output.with_extension("partial");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    let outcome = backend::models::predict_csv(&artifact, input, &mut out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    drop(out);
    std::fs::rename(&tmp, output)?;
    if !outcome.extra_columns.is_empty() {
        eprintln!(
            "ignored columns the model does not use: {}",
            outcome.extra_columns.join(", ")
        );
    }
    for w in &outcome.warnings {
        eprintln!("warning: {}: {}", w.column, w.message);
    }
    if let Some(e) = &outcome.evaluation {
        let metrics: Vec<String> = e
            .metrics
            .iter()
            .map(|m| format!("{} {}", m.name, api::display::number(m.value)))
            .collect();
        eprintln!(
            "against `{}` on {} rows: {}",
            e.target,
            api::display::count(e.rows),
            metrics.join(", ")
        );
    }
    eprintln!("wrote {} predictions to {}", outcome.rows, output.display());
    Ok(())
}

fn explain(
    model: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let artifact = automl::ModelArtifact::from_json(&bytes)
        .with_context(|| format!("loading {}", model.display()))?;
    let tmp = output.with_extension("partial");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    let rows = backend::models::explain_file(&artifact, input, &mut out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    drop(out);
    std::fs::rename(&tmp, output)?;
    eprintln!(
        "wrote the SHAP values of {rows} rows to {}",
        output.display()
    );
    Ok(())
}
