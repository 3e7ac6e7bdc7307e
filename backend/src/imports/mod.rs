//! Datasets from where data lives, received as an upload is (into a store
//! upload, under the upload size limit) and then ingested by the same code:
//!
//! - a PostgreSQL query, on the database the operator named at start
//!   (`kiln serve --postgres`, never stored in a record): one statement,
//!   run in a read-only transaction with a statement timeout and a row
//!   limit, its rows read as `row_to_json` text (so every PostgreSQL type
//!   arrives as JSON: numbers, booleans, text, dates) into JSON Lines;
//! - an S3 object (`s3://bucket/key`, through `object_store`, credentials
//!   from the standard `AWS_*` settings, an S3-compatible endpoint with
//!   `--s3-endpoint`), read in any upload format by its name.
//!
//! Each dataset records where it came from (`DatasetSummary::source`),
//! without a password.

pub mod tls;

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

use crate::error::{AppError, AppResult};
use crate::storage::{Received, Store};

/// Where imports may read from, and their limits (from `kiln serve`'s
/// command line and environment).
#[derive(Debug, Clone)]
pub struct ImportConfig {
    /// The PostgreSQL database queries run on, with its TLS
    /// ([`tls::Target::parse`] reads the connection string).
    pub postgres: Option<tls::Target>,
    /// An S3-compatible endpoint (MinIO, moto, R2…) instead of AWS.
    pub s3_endpoint: Option<String>,
    /// `AWS_*` settings (`AmazonS3Builder::from_env`'s keys: credentials,
    /// region…), read from the environment at start.
    pub s3_settings: Vec<(String, String)>,
    /// Most rows a query may return.
    pub max_rows: u64,
    /// Longest a query (or a download) may take.
    pub timeout: Duration,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            postgres: None,
            s3_endpoint: None,
            s3_settings: Vec::new(),
            max_rows: 5_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

impl ImportConfig {
    /// What the studio shows of the sources: the database without its
    /// password, the endpoint, the limits.
    pub fn sources(&self) -> api::ImportSources {
        api::ImportSources {
            postgres: self.postgres.as_ref().map(|t| describe_postgres(&t.config)),
            s3_endpoint: self.s3_endpoint.clone(),
            max_rows: self.max_rows,
            timeout_secs: self.timeout.as_secs(),
        }
    }
}

/// `shop on db.example.com:5432 as analyst`: the database a connection
/// names, without its password.
pub fn describe_postgres(c: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .zip(c.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, port)| match h {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let user = c.get_user().unwrap_or("the default user");
    format!(
        "{} on {} as {user}",
        c.get_dbname().unwrap_or(user),
        if hosts.is_empty() {
            "localhost".to_owned()
        } else {
            hosts.join(", ")
        }
    )
}

/// Bytes of query rows gathered before one write to the upload.
const CHUNK_BYTES: usize = 1 << 20;

fn refused(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::unprocessable(code, message)
}

/// The query as one statement: trailing semicolons and blanks dropped.
fn one_statement(query: &str) -> AppResult<String> {
    let q = query
        .trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    if q.is_empty() {
        return Err(refused("invalid_query", "the query is empty"));
    }
    if q.len() > 100_000 {
        return Err(refused(
            "invalid_query",
            "the query is longer than 100,000 characters",
        ));
    }
    Ok(q.to_owned())
}

/// Runs `query` read-only on the configured database and receives its
/// rows as a JSON Lines file (`query.jsonl`); returns it with the source
/// to record.
pub async fn postgres(
    store: &Store,
    config: &ImportConfig,
    max_bytes: u64,
    query: &str,
) -> AppResult<(Received, String)> {
    let Some(target) = &config.postgres else {
        return Err(refused(
            "no_database",
            "this server has no database to import from: start it with `kiln serve --postgres postgres://user:password@host/db` (or KILN_POSTGRES)",
        ));
    };
    let query = one_statement(query)?;
    let source = format!(
        "{}{}: {query}",
        crate::datasets::POSTGRES_SOURCE,
        describe_postgres(&target.config)
    );
    let limit = config.timeout;
    let received = tokio::time::timeout(
        limit + Duration::from_secs(5),
        run_query(store, target, &query, config, max_bytes),
    )
    .await
    .map_err(|_| {
        refused(
            "query_timeout",
            format!(
                "the query took longer than {} s; narrow it down",
                limit.as_secs()
            ),
        )
    })??;
    Ok((received, source))
}

/// A PostgreSQL error as the person who wrote the query needs it: the
/// server's message, and where in the query.
fn database_error(e: &tokio_postgres::Error) -> AppError {
    match e.as_db_error() {
        Some(db) => {
            let at = match db.position() {
                Some(tokio_postgres::error::ErrorPosition::Original(p)) => {
                    format!(" (at character {p} of the query)")
                }
                _ => String::new(),
            };
            let code = if db.code() == &tokio_postgres::error::SqlState::QUERY_CANCELED {
                "query_timeout"
            } else {
                "invalid_query"
            };
            refused(
                code,
                format!("the database refused the query: {}{at}", db.message()),
            )
        }
        None => refused(
            "database_unreachable",
            format!("the database cannot be reached: {}", with_causes(e)),
        ),
    }
}

/// `e` with the causes tokio-postgres keeps apart (a TLS handshake's
/// reason is one level down).
fn with_causes(e: &tokio_postgres::Error) -> String {
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        cause = c.source();
    }
    message
}

/// Why the connection failed, and which check refused a certificate.
fn connect_error(e: &tokio_postgres::Error, target: &tls::Target) -> AppError {
    if let Some(db) = e.as_db_error() {
        return refused(
            "database_unreachable",
            format!("the database refused the connection: {}", db.message()),
        );
    }
    let message = with_causes(e);
    let hint = match target.verify {
        _ if !message.contains("certificate") => "",
        tls::Verify::Full => {
            " (sslmode=verify-full wants a certificate signed by an authority in `sslrootcert`, or the system's, for the host named)"
        }
        _ => {
            " (sslmode=verify-ca wants a certificate signed by an authority in `sslrootcert`, or the system's)"
        }
    };
    refused(
        "database_unreachable",
        format!("the database cannot be reached: {message}{hint}"),
    )
}

async fn run_query(
    store: &Store,
    target: &tls::Target,
    query: &str,
    config: &ImportConfig,
    max_bytes: u64,
) -> AppResult<Received> {
    let (mut client, connection) = tokio::time::timeout(Duration::from_secs(15), target.connect())
        .await
        .map_err(|_| {
            refused(
                "database_unreachable",
                "the database did not answer within 15 s",
            )
        })?
        .map_err(|e| connect_error(&e, target))?;
    let connection = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection closed with an error");
        }
    });
    let tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .map_err(|e| database_error(&e))?;
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = {}",
        config.timeout.as_millis()
    ))
    .await
    .map_err(|e| database_error(&e))?;
    // One statement (the extended protocol refuses more), its rows as JSON
    // objects with the columns in order and every type as JSON.
    let sql = format!("SELECT row_to_json(kiln_rows)::text FROM ({query}\n) AS kiln_rows");
    let rows = tx
        .query_raw(&sql, std::iter::empty::<&str>())
        .await
        .map_err(|e| database_error(&e))?;
    let mut rows = std::pin::pin!(rows);
    let mut upload = store.upload().await?;
    // Rows are gathered into chunks: each async file write is a trip to a
    // blocking thread, too many for one per row.
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let mut count: u64 = 0;
    while let Some(row) = rows.try_next().await.map_err(|e| database_error(&e))? {
        count += 1;
        if count > config.max_rows {
            return Err(refused(
                "too_many_rows",
                format!(
                    "the query returns more than {} rows, the most this server imports; add a WHERE or a LIMIT",
                    api::display::count(config.max_rows)
                ),
            ));
        }
        let line: &str = row.try_get(0).map_err(|e| database_error(&e))?;
        if upload.size() + (chunk.len() + line.len()) as u64 + 1 > max_bytes {
            return Err(AppError::TooLarge {
                limit_mb: max_bytes >> 20,
            });
        }
        chunk.extend_from_slice(line.as_bytes());
        chunk.push(b'\n');
        if chunk.len() >= CHUNK_BYTES {
            upload.write(&chunk).await?;
            chunk.clear();
        }
    }
    upload.write(&chunk).await?;
    // Read-only: nothing to keep.
    let _ = tx.rollback().await;
    drop(client);
    let _ = connection.await;
    if count == 0 {
        return Err(refused(
            "empty_query",
            "the query returned no rows: there is nothing to learn from",
        ));
    }
    Ok(upload.finish().await?)
}

/// `s3://bucket/key` split, or why it is not an S3 URL of an object.
fn s3_parts(url: &str) -> AppResult<(&str, &str)> {
    let bad = |why: &str| refused("invalid_url", format!("`{url}` {why}"));
    let rest = url
        .strip_prefix("s3://")
        .or_else(|| url.strip_prefix("s3a://"))
        .ok_or_else(|| bad("is not an S3 URL: write s3://bucket/path/to/file.csv"))?;
    let (bucket, key) = rest
        .split_once('/')
        .ok_or_else(|| bad("names a bucket but no file"))?;
    if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
        return Err(bad("does not name a file in a bucket"));
    }
    Ok((bucket, key))
}

/// Downloads the object `url` into a store upload (under `max_bytes`);
/// returns it with its file name (which tells its format).
pub async fn s3(
    store: &Store,
    config: &ImportConfig,
    max_bytes: u64,
    url: &str,
) -> AppResult<(Received, String)> {
    let url = url.trim();
    let (bucket, key) = s3_parts(url)?;
    let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
    let mut signed = false;
    for (k, v) in &config.s3_settings {
        if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            signed |= matches!(
                key,
                AmazonS3ConfigKey::AccessKeyId | AmazonS3ConfigKey::Token
            ) || k.starts_with("AWS_WEB_IDENTITY")
                || k.starts_with("AWS_CONTAINER_CREDENTIALS");
            builder = builder.with_config(key, v);
        }
    }
    if let Some(e) = &config.s3_endpoint {
        builder = builder
            .with_endpoint(e)
            .with_allow_http(e.starts_with("http://"));
    }
    // No credentials: a public bucket, read without signing (rather than
    // waiting on an instance-metadata service that is not there).
    let s3 = builder
        .with_skip_signature(!signed)
        .build()
        .map_err(|e| refused("invalid_url", format!("{url}: {e}")))?;
    let path = object_store::path::Path::from(key);
    let fail = |e: object_store::Error| match e {
        object_store::Error::NotFound { .. } => {
            refused("not_found", format!("{url}: there is no such object"))
        }
        other => refused("s3_error", format!("{url}: {other}")),
    };
    let download = async {
        let got = s3.get(&path).await.map_err(fail)?;
        if got.meta.size > max_bytes {
            return Err(AppError::TooLarge {
                limit_mb: max_bytes >> 20,
            });
        }
        let mut stream = got.into_stream();
        let mut upload = store.upload().await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(fail)?;
            if upload.size() + chunk.len() as u64 > max_bytes {
                return Err(AppError::TooLarge {
                    limit_mb: max_bytes >> 20,
                });
            }
            upload.write(&chunk).await?;
        }
        Ok(upload.finish().await?)
    };
    let received = tokio::time::timeout(config.timeout, download)
        .await
        .map_err(|_| {
            refused(
                "s3_timeout",
                format!(
                    "{url}: the download took longer than {} s",
                    config.timeout.as_secs()
                ),
            )
        })??;
    let name = key.rsplit('/').next().unwrap_or(key).to_owned();
    Ok((received, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_described_without_its_password() {
        let d = describe_postgres(
            &"postgres://analyst:s3cret@db.example.com:6543/shop"
                .parse()
                .unwrap(),
        );
        assert_eq!(d, "shop on db.example.com:6543 as analyst");
        assert!(
            !describe_postgres(&"host=h user=u password=pw dbname=d".parse().unwrap())
                .contains("pw")
        );
    }

    #[test]
    fn queries_are_one_statement_and_urls_name_an_object() {
        assert_eq!(one_statement(" SELECT 1 ;\n").unwrap(), "SELECT 1");
        assert!(one_statement(" ; ").is_err());
        assert_eq!(s3_parts("s3://b/a/k.csv").unwrap(), ("b", "a/k.csv"));
        for bad in ["http://b/k", "s3://b", "s3://b/", "s3:///k", "s3://b/dir/"] {
            assert!(s3_parts(bad).is_err(), "{bad}");
        }
    }
}
