//! Imports from where data lives (`/api/imports`): the sources a server
//! was started with, and the requests that turn a PostgreSQL query or an
//! S3 object into a dataset.

use serde::{Deserialize, Serialize};

/// The places this server can import a dataset from
/// (`GET /api/imports`), as the operator configured them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSources {
    /// The PostgreSQL database queries read, described without its
    /// password (`shop on db.example.com:5432 as analyst`); absent when
    /// the server was started without `--postgres`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    /// The S3-compatible endpoint objects are read from (absent: AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_endpoint: Option<String>,
    /// Most rows a query may return.
    pub max_rows: u64,
    /// Longest a query may run, in seconds.
    pub timeout_secs: u64,
}

/// `POST /api/imports/postgres`: the rows of a query become a dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostgresImport {
    /// One `SELECT` (or `WITH … SELECT`, `VALUES`, `TABLE t`), run read-only.
    pub query: String,
    /// The dataset's name (default: `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /api/imports/s3`: an object (any upload format) becomes a dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct S3Import {
    /// `s3://bucket/path/to/file.csv` (or `.parquet`, `.xlsx`, `.csv.gz`, …).
    pub url: String,
    /// The sheet of a workbook with several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}
