//! The `kiln` command: `kiln serve` runs the studio, `kiln predict` scores
//! a CSV with a downloaded model artifact, `kiln forecast` extends a
//! downloaded forecaster from a new history.

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
        /// A PostgreSQL database the studio may import query results from
        /// (`postgres://user:password@host/db`, with libpq's `sslmode` and
        /// `sslrootcert` for TLS). Kept in memory only, never stored;
        /// queries run read-only.
        #[arg(long, env = "KILN_POSTGRES", hide_env_values = true)]
        postgres: Option<String>,
        /// An S3-compatible endpoint (MinIO, R2…) for `s3://` imports;
        /// AWS when absent. Credentials come from the usual AWS_* variables.
        #[arg(long, env = "KILN_S3_ENDPOINT")]
        s3_endpoint: Option<String>,
        /// Most rows a database import may return.
        #[arg(long, default_value_t = 5_000_000)]
        import_max_rows: u64,
        /// Longest a database query or an S3 download may take, in seconds.
        #[arg(long, default_value_t = 120)]
        import_timeout_secs: u64,
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
    /// Forecast a new history with a forecaster downloaded from the studio:
    /// the file holds the forecaster's timestamp, target and item columns;
    /// writes `item, timestamp` and one column per quantile, the numbers
    /// the studio and the API give for the same history.
    Forecast {
        /// The forecaster file (`/api/forecasts/{id}/artifact`).
        #[arg(long)]
        model: PathBuf,
        /// The history: CSV, Excel, Parquet, Arrow IPC, JSON Lines, gzip or ZIP CSV.
        #[arg(long)]
        history: PathBuf,
        #[arg(long)]
        output: PathBuf,
    },
    /// Train a model without a browser, as a studio build does (the same
    /// checks, engine and artifact). Exit code 0 on success, 2 for bad
    /// input, 1 otherwise.
    Train {
        /// The data: CSV, Excel, Parquet, Arrow IPC, JSON Lines, gzip or ZIP CSV.
        #[arg(long)]
        data: PathBuf,
        /// The sheet of a workbook with several.
        #[arg(long)]
        sheet: Option<String>,
        /// The column to predict.
        #[arg(long)]
        target: String,
        /// Seconds the search may take (5 to 86,400).
        #[arg(long, default_value_t = 60)]
        budget: u32,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Stop after this many trials (1 to 100,000): with the same data,
        /// settings and seed, the same model file as a studio build with
        /// this trial budget, byte for byte.
        #[arg(long)]
        trials: Option<u32>,
        /// Columns to leave out, comma-separated.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// A recipe as JSON (`{"steps": [...]}`, as the Prepare page saves it).
        #[arg(long)]
        recipe: Option<PathBuf>,
        /// Where to write the model artifact.
        #[arg(long)]
        out: PathBuf,
        /// Also write the model as ONNX here (refused, exit code 2, when a
        /// recipe step has no ONNX form; the artifact is written anyway).
        #[arg(long)]
        onnx: Option<PathBuf>,
        /// Print a JSON summary on stdout at the end.
        #[arg(long)]
        json: bool,
    },
    /// Write a model artifact as ONNX, scored by any ONNX runtime as Kiln
    /// scores it: one [N, 1] input per column (numbers as double, NaN
    /// missing; text as string, "" missing); outputs `prediction`, or
    /// `label` and `probabilities`.
    Onnx {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        out: PathBuf,
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
    let cli = Cli::parse();
    // The terminal is the training's: only warnings are logged there.
    let quiet = matches!(cli.command, Command::Train { .. });
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                if quiet {
                    "warn"
                } else {
                    "info,tower_http=info"
                }
                .into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve {
            addr,
            token,
            allow_hosts,
            data,
            site,
            max_upload_mb,
            postgres,
            s3_endpoint,
            import_max_rows,
            import_timeout_secs,
        } => {
            let access = access(addr, token, &allow_hosts)?;
            let postgres = postgres
                .as_deref()
                .map(backend::imports::tls::Target::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--postgres: {e}"))?;
            let imports = backend::imports::ImportConfig {
                postgres,
                s3_endpoint,
                s3_settings: std::env::vars()
                    .filter(|(k, _)| k.starts_with("AWS_"))
                    .collect(),
                max_rows: import_max_rows.max(1),
                timeout: std::time::Duration::from_secs(import_timeout_secs.max(1)),
            };
            serve(addr, access, data, site, max_upload_mb, imports)
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
        Command::Forecast {
            model,
            history,
            output,
        } => forecast(&model, &history, &output),
        Command::Onnx { model, out } => {
            write_onnx(&load_artifact(&model)?, &out).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("wrote the ONNX model to {}", out.display());
            Ok(())
        }
        Command::Train {
            data,
            sheet,
            target,
            budget,
            seed,
            trials,
            exclude,
            recipe,
            out,
            onnx,
            json,
        } => {
            let recipe = match recipe.as_deref().map(read_recipe).transpose() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("kiln train: {e}");
                    std::process::exit(2);
                }
            };
            let req = backend::train::TrainRequest {
                data,
                sheet,
                target,
                budget_secs: budget,
                seed,
                max_trials: trials,
                exclude,
                recipe,
            };
            if let Err(e) = train(&req, &out, onnx.as_deref(), json) {
                eprintln!("kiln train: {e}");
                std::process::exit(e.exit_code());
            }
            Ok(())
        }
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
    imports: backend::imports::ImportConfig,
) -> anyhow::Result<()> {
    // `--site` first; then the studio embedded in this binary; then `target/site`.
    let site = site.or_else(|| {
        if backend::embedded::present() {
            None
        } else {
            default_site()
        }
    });
    match &site {
        Some(dir) if dir.join("index.html").is_file() => {
            tracing::info!(site = %dir.display(), "serving the frontend")
        }
        None if backend::embedded::present() => {
            tracing::info!("serving the frontend embedded in this binary")
        }
        _ => tracing::warn!("no built frontend found; only /api is served (run `cargo xtask run`)"),
    }
    let config = backend::Config {
        max_upload_bytes: max_upload_mb << 20,
        access,
        imports,
        ..backend::Config::default()
    };
    let state = backend::AppState::open(&data, config)
        .with_context(|| format!("opening the data directory {}", data.display()))?;
    let store = std::sync::Arc::clone(&state.store);
    let last_flush = std::sync::Arc::clone(&state.store);
    let app = backend::app(state, site);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Scheduled monitoring: every 30 s, the endpoints whose check is due.
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                tick.tick().await;
                let store = std::sync::Arc::clone(&store);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                match tokio::task::spawn_blocking(move || backend::monitoring::run_due(&store, now)).await {
                    Ok(Ok(runs)) => {
                        for r in runs {
                            tracing::info!(endpoint = %r.endpoint, violations = r.violations.len(), "scheduled monitoring run");
                        }
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "scheduled monitoring"),
                    Err(e) => tracing::warn!(error = %e, "scheduled monitoring stopped"),
                }
            }
        });
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
        // Captured rows still waiting are written before the process ends.
        if let Err(e) = tokio::task::spawn_blocking(move || last_flush.flush_captures()).await? {
            tracing::warn!(error = %e, "writing the last captured rows");
        }
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

/// Loads the artifact at `model` and has `write` make `output` from
/// `input`, through a `.partial` file renamed once complete.
fn with_model<T>(
    model: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
    write: impl FnOnce(
        &automl::ModelArtifact,
        &mut dyn std::io::Write,
    ) -> Result<T, backend::error::AppError>,
) -> anyhow::Result<T> {
    let artifact = load_artifact(model)?;
    let tmp = output.with_extension("partial");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    let done =
        write(&artifact, &mut out).map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    std::fs::rename(&tmp, output)?;
    Ok(done)
}

fn predict(
    model: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let outcome = with_model(model, input, output, |artifact, out| {
        backend::models::predict_csv(artifact, input, out)
    })?;
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

fn forecast(
    model: &std::path::Path,
    history: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let artifact = automl::forecast::artifact::ForecastArtifact::from_json(&bytes)
        .with_context(|| format!("loading {}", model.display()))?;
    let frame = backend::models::read_input(history)
        .map_err(|e| anyhow::anyhow!("{}: {e}", history.display()))?;
    let tmp = output.with_extension("partial");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    let (items, notes) = backend::forecast::extend(&artifact, &frame, &mut out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", history.display()))?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    std::fs::rename(&tmp, output)?;
    for note in &notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "wrote the next {} steps of {} to {}",
        artifact.forecaster.settings.horizon,
        api::display::plural(items as u64, "series", "series"),
        output.display()
    );
    Ok(())
}

fn explain(
    model: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let rows = with_model(model, input, output, |artifact, out| {
        backend::models::explain_file(artifact, input, out)
    })?;
    eprintln!(
        "wrote the SHAP values of {rows} rows to {}",
        output.display()
    );
    Ok(())
}

/// `kiln train`: the build's progress on stderr (a status line redrawn on
/// a terminal, one line per trial either way), the artifact to `out`, and
/// a JSON summary on stdout with `json`.
fn train(
    req: &backend::train::TrainRequest,
    out: &std::path::Path,
    onnx: Option<&std::path::Path>,
    json: bool,
) -> Result<(), backend::train::TrainError> {
    use std::io::IsTerminal;
    use std::io::Write as _;
    backend::train::check_out(out)?;
    if let Some(path) = onnx {
        backend::train::check_out(path)?;
    }
    let tty = std::io::stderr().is_terminal();
    let budget = f64::from(req.budget_secs);
    let status = |b: &api::Build| {
        if !tty {
            return;
        }
        let done = (b.elapsed_secs / budget).clamp(0.0, 1.0);
        let filled = (done * 30.0).round() as usize;
        eprint!(
            "\r[{}{}] {:>4.0}/{} s · {} · {}\x1b[K",
            "=".repeat(filled),
            " ".repeat(30 - filled),
            b.elapsed_secs,
            req.budget_secs,
            api::display::plural(u64::from(b.trials_done), "trial", "trials"),
            b.message
        );
        let _ = std::io::stderr().flush();
    };
    let trial = |b: &api::Build, e: &api::LeaderboardEntry| {
        let metric = b.metric.as_deref().unwrap_or("score");
        if tty {
            eprint!("\r\x1b[K");
        }
        eprintln!(
            "trial {:>3}  {:<14} {metric} {:<10} ± {:<8} {}",
            e.trial,
            e.family,
            api::display::number(e.score),
            api::display::number(e.score_std),
            e.params
        );
        status(b);
    };
    let trained = backend::train::train(req, &status, &trial)?;
    if tty {
        eprint!("\r\x1b[K");
    }
    write_whole(out, &trained.artifact)?;
    let b = &trained.build;
    let metric = b.metric.clone().unwrap_or_default();
    eprintln!("leaderboard ({metric}, best first):");
    for e in b.leaderboard.iter().take(10) {
        eprintln!(
            "  trial {:>3}  {:<14} {} ± {}",
            e.trial,
            e.family,
            api::display::number(e.score),
            api::display::number(e.score_std)
        );
    }
    eprintln!(
        "wrote the model ({}) to {} after {:.1} s",
        api::display::plural(u64::from(b.trials_done), "trial", "trials"),
        out.display(),
        b.elapsed_secs
    );
    let artifact = automl::ModelArtifact::from_json(&trained.artifact)
        .map_err(|e| backend::train::TrainError::Failed(e.to_string()))?;
    if let Some(c) = &artifact.calibration {
        eprintln!(
            "its probabilities are calibrated by {}: out-of-fold log loss {} before, {} after",
            c.method.describe(),
            api::display::number(c.log_loss_before),
            api::display::number(c.log_loss_after)
        );
    }
    if let Some(path) = onnx {
        write_onnx(&artifact, path)?;
        eprintln!("wrote the ONNX model to {}", path.display());
    }
    if json {
        let summary = serde_json::json!({
            "model": out.display().to_string(),
            "target": b.target,
            "task": b.task,
            "metric": b.metric,
            "higher_is_better": b.higher_is_better,
            "trials": b.trials_done,
            "elapsed_secs": b.elapsed_secs,
            "left_out": b.left_out,
            "calibration": artifact.calibration,
            "leaderboard": b.leaderboard,
        });
        println!("{summary}");
    }
    Ok(())
}

/// The artifact as ONNX at `path` (written whole or not at all); a step
/// with no ONNX form is the input's fault.
fn write_onnx(
    artifact: &automl::ModelArtifact,
    path: &std::path::Path,
) -> Result<(), backend::train::TrainError> {
    let bytes = automl::onnx::export(artifact)
        .map_err(|e| backend::train::TrainError::BadInput(e.to_string()))?;
    write_whole(path, &bytes)
}

/// `bytes` at `path`, through a `.partial` file and a rename: whole or not at all.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<(), backend::train::TrainError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| backend::train::TrainError::Failed(format!("{}: {e}", path.display())))
}

/// A model artifact file, read and validated.
fn load_artifact(path: &std::path::Path) -> anyhow::Result<automl::ModelArtifact> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    automl::ModelArtifact::from_json(&bytes).with_context(|| format!("loading {}", path.display()))
}

/// A recipe file (`{"steps": [...]}`), or why it cannot be read.
fn read_recipe(path: &std::path::Path) -> Result<api::Recipe, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
