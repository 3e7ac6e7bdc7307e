//! The `kiln` server: axum routes over SQLite + files storage, Polars ingest
//! and profiling, and a worker pool that runs `automl` builds.
//!
//! Invariants: Polars stays in the `data` crate; only `storage` touches the data
//! directory; CPU-heavy work runs on `spawn_blocking` or the build workers,
//! never on the async runtime; user input never becomes a path.

pub mod build;
pub mod charts;
pub mod datasets;
pub mod embedded;
pub mod endpoints;
pub mod error;
pub mod explore;
pub mod fairness;
pub mod forecast;
pub mod guard;
pub mod imports;
pub mod jobs;
pub mod leaderboard;
pub mod models;
pub mod monitoring;
pub mod plan;
pub mod routes;
pub mod samples;
pub mod storage;
pub mod time;
pub mod train;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The Content-Security-Policy of every response: only our own scripts
/// (and their WebAssembly), styles and connections.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

#[derive(Debug, Clone)]
pub struct Config {
    pub max_upload_bytes: u64,
    /// An upload that sends nothing for this long is abandoned.
    pub upload_idle_timeout: std::time::Duration,
    /// Builds running at once (the rest wait in the queue).
    pub workers: usize,
    /// Builds queued or running at once; more are refused.
    pub max_live_builds: usize,
    pub limits: data::ingest::Limits,
    pub access: guard::Access,
    /// Where datasets may be imported from (a database, S3), and the limits.
    pub imports: imports::ImportConfig,
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Config {
            max_upload_bytes: 1 << 30,
            upload_idle_timeout: std::time::Duration::from_secs(60),
            workers: cores,
            max_live_builds: 32,
            limits: data::ingest::Limits::default(),
            access: guard::Access::default(),
            imports: imports::ImportConfig::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<storage::Store>,
    pub jobs: Arc<jobs::Jobs>,
    pub config: Arc<Config>,
    pub artifacts: Arc<Mutex<HashMap<String, Arc<automl::ModelArtifact>>>>,
    /// The endpoints serving, with their models loaded and their traffic.
    pub endpoints: Arc<endpoints::Registry>,
}

impl AppState {
    pub fn open(data_dir: &Path, config: Config) -> Result<AppState, storage::StorageError> {
        let store = Arc::new(storage::Store::open(data_dir)?);
        storage::start_capture_writer(&store);
        let jobs = jobs::Jobs::start(Arc::clone(&store), config.workers);
        Ok(AppState {
            store,
            jobs,
            config: Arc::new(config),
            artifacts: Arc::default(),
            endpoints: Arc::default(),
        })
    }
}

/// The whole application: `/api` plus the frontend bundle from `site`, or
/// else the one embedded in the binary (any other path serves
/// `index.html`, so deep links work).
pub fn app(state: AppState, site: Option<PathBuf>) -> Router {
    let access = Arc::new(state.config.access.clone());
    let api = routes::router(state);
    let router = Router::new()
        .nest("/api", api)
        .route("/login", axum::routing::get(guard::login_page));
    let router = match site {
        Some(dir) => {
            // `cargo xtask site` writes `.br` and `.gz` copies beside each
            // file; they are sent to browsers that accept them.
            let index = ServeFile::new(dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip();
            router.fallback_service(
                ServeDir::new(dir)
                    .precompressed_br()
                    .precompressed_gzip()
                    .fallback(index),
            )
        }
        None if embedded::present() => router.fallback(embedded::serve),
        None => router
            .fallback(|| async { "The Kiln frontend is not built here: run `cargo xtask run`." }),
    };
    router
        .layer(axum::middleware::from_fn_with_state(access, guard::guard))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // gzip for the bundle, JSON and artifacts (the default predicate skips SSE and small bodies).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}
