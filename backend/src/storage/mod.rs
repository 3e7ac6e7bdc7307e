//! The only module that touches the data directory: SQLite (`kiln.db`, WAL,
//! through a small pool of connections) for records, `datasets/`,
//! `models/`, `predictions/` and `forecasts/` for files, `tmp/` for files being written.
//! No path leaves this module: the rest of the server gives and takes
//! frames, bytes, [`Upload`]s, [`Received`] files and [`NewFile`]s, and
//! names records by id. Files are written to `tmp/` and renamed into place,
//! so a crash never leaves a partial file where a reader would find it. Ids
//! are server-generated and validated before they become part of a path.
//!
//! A document is checked before it is written: a NaN or infinite number
//! (which JSON writes as `null`, and which then does not read back) is
//! refused with its path, so no record is stored unreadable. Lists skip a
//! record that does not read back (one made by an older version, or edited
//! by hand), log it and name it in [`Listed::unreadable`], and every record
//! can be deleted without being read.
//!
//! Records by resource: `datasets.rs` (datasets, their files, recipes and
//! prepared columns), `builds.rs` (builds and their trials), `models.rs`
//! (models, artifacts and scored files), `forecasts.rs` (forecasts, their
//! forecaster and result files).

mod builds;
mod datasets;
mod endpoints;
mod files;
mod finite;
mod forecasts;
mod models;
mod pool;

pub use endpoints::{is_valid_name as is_valid_endpoint_name, start_capture_writer};
pub use files::{NewFile, Received, Upload};
pub use finite::{NonFinite, first_non_finite};

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, TransactionBehavior};

use data::ingest::{self, IngestError};
use files::TempFile;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file the server received or stored, read as data: what is wrong
    /// with it, and where.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// `what` is e.g. `build 0123…`.
    #[error("the stored {what} does not read back: {reason}")]
    Corrupt { what: String, reason: String },
    #[error(
        "refusing to store {what}: `{}` is {}, which JSON cannot hold (the record would not read back)",
        found.path,
        found.value
    )]
    NonFinite { what: String, found: NonFinite },
    /// More work waits than the store holds in memory.
    #[error("{0}")]
    Backlog(String),
}

/// The records of a list that read back, and the ids of those that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// Ids of stored records that could not be read (each logged).
    pub unreadable: Vec<String>,
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A new server-generated id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `id` has the shape of an id this server makes (32 lowercase hex
/// digits): anything else is not found, and never reaches the filesystem.
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Connections to `kiln.db` at most: request handlers (on blocking
/// threads) and build workers each take one for a statement or a
/// transaction, so a handful serves many callers.
const CONNECTIONS: usize = 8;

pub struct Store {
    root: PathBuf,
    db: pool::Pool,
    /// Fault injection for the crash tests: wait this long between writing
    /// a file and renaming it into place (`KILN_FAULT_PAUSE_BEFORE_RENAME_MS`).
    pause_before_rename: Option<std::time::Duration>,
    /// Captures append to shared files: one writer at a time.
    capture_lock: std::sync::Mutex<()>,
    /// Captured rows waiting for the writer.
    pending: std::sync::Mutex<endpoints::Pending>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    summary TEXT NOT NULL,
    profile TEXT NOT NULL,
    notes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS builds (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    build_id TEXT NOT NULL,
    trial INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (build_id, trial)
);
CREATE TABLE IF NOT EXISTS trial_specs (
    build_id TEXT NOT NULL,
    trial INTEGER NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (build_id, trial)
);
CREATE TABLE IF NOT EXISTS recipes (
    dataset_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version)
);
CREATE TABLE IF NOT EXISTS prepared_columns (
    dataset_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version)
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    build_id TEXT NOT NULL,
    created TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoints (
    name TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS capture_files (
    endpoint TEXT NOT NULL,
    seq INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    PRIMARY KEY (endpoint, seq)
);
CREATE TABLE IF NOT EXISTS monitor_runs (
    id TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    created TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ground_truth (
    endpoint TEXT NOT NULL,
    inference_id TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (endpoint, inference_id)
);
CREATE TABLE IF NOT EXISTS forecasts (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL,
    created TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL
);
";

impl Store {
    /// Opens (creating if needed) the data directory. Leftover temporary
    /// files are removed, leaderboards kept inside build documents by
    /// earlier versions move to `trials`, and builds that were queued or
    /// running when the last process died are marked `interrupted`.
    pub fn open(root: &Path) -> Result<Store> {
        for dir in ["datasets", "models", "predictions", "forecasts", "tmp"] {
            let p = root.join(dir);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let tmp = root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io(&tmp))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let db = pool::Pool::open(&root.join("kiln.db"), CONNECTIONS)?;
        let pause_before_rename = std::env::var("KILN_FAULT_PAUSE_BEFORE_RENAME_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis);
        let store = Store {
            root: root.to_owned(),
            db,
            pause_before_rename,
            capture_lock: std::sync::Mutex::new(()),
            pending: std::sync::Mutex::default(),
        };
        {
            let mut conn = store.conn()?;
            conn.execute_batch(SCHEMA)?;
            builds::move_leaderboards(&mut conn)?;
        }
        store.mark_interrupted()?;
        store.interrupt_forecasts()?;
        Ok(store)
    }

    fn conn(&self) -> Result<pool::Conn<'_>> {
        Ok(self.db.get()?)
    }

    /// Whether `sql` (a `SELECT 1 ... WHERE id = ?1`) finds `id`; ids that
    /// are not ours are never looked up.
    fn exists(&self, sql: &str, id: &str) -> Result<bool> {
        if !is_valid_id(id) {
            return Ok(false);
        }
        let found: Option<i64> = self.conn()?.query_row(sql, [id], |r| r.get(0)).optional()?;
        Ok(found.is_some())
    }

    // Files.

    /// The file of record `id` in `dir` (`datasets`, `models`, `predictions`).
    fn file(&self, dir: &str, id: &str, extension: &str) -> PathBuf {
        debug_assert!(is_valid_id(id), "ids are checked before they name a file");
        self.root.join(dir).join(format!("{id}.{extension}"))
    }

    fn temp(&self) -> TempFile {
        TempFile::new(self.root.join("tmp").join(new_id()))
    }

    /// Moves a finished temporary file into place, durably.
    fn persist(&self, temp: TempFile, dest: &Path) -> Result<()> {
        temp.persist(dest, self.pause_before_rename)
    }

    /// Writes `bytes` to `dest` through a temporary file and a rename.
    fn write_file(&self, dest: &Path, bytes: &[u8]) -> Result<()> {
        let temp = self.temp();
        fs::write(temp.path(), bytes).map_err(io(temp.path()))?;
        self.persist(temp, dest)
    }

    /// A new upload under `tmp/`, for async code to stream into.
    pub async fn upload(&self) -> Result<Upload> {
        Upload::create(self.temp()).await
    }

    /// `bytes` the server has (a sample), as a received file.
    pub fn receive_bytes(&self, bytes: &[u8]) -> Result<Received> {
        let temp = self.temp();
        fs::write(temp.path(), bytes).map_err(io(temp.path()))?;
        Ok(Received::new(temp, bytes.len() as u64))
    }

    /// A store in a new folder under the system's temporary one, removed
    /// with everything in it when the returned value is dropped (`kiln train`).
    pub fn throwaway() -> Result<Throwaway> {
        let dir =
            std::env::temp_dir().join(format!("kiln-train-{}-{}", std::process::id(), new_id()));
        let store = Store::open(&dir)?;
        Ok(Throwaway {
            store: Some(store),
            dir,
        })
    }

    /// A local file (`kiln train`), copied in as a received file.
    pub fn receive_path(&self, path: &Path) -> Result<Received> {
        let temp = self.temp();
        let size = fs::copy(path, temp.path()).map_err(io(path))?;
        Ok(Received::new(temp, size))
    }

    /// The received file rewritten from Latin-1 (Windows-1252) to UTF-8.
    pub fn transcode_latin1(&self, from: Received) -> Result<Received> {
        let temp = self.temp();
        ingest::latin1_to_utf8(from.path(), temp.path())?;
        Ok(Received::new(temp, from.size()))
    }

    /// A new file to write with [`std::io::Write`] on a blocking thread,
    /// then keep with a `save_*` method (scored files) or drop.
    pub fn new_file(&self) -> Result<NewFile> {
        NewFile::create(self.temp())
    }
}

/// A store whose folder goes when it does ([`Store::throwaway`]).
#[derive(Debug)]
pub struct Throwaway {
    store: Option<Store>,
    dir: PathBuf,
}

impl std::ops::Deref for Throwaway {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store.as_ref().expect("present until dropped")
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        // The database closes before its folder goes.
        drop(self.store.take());
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn remove_if_present(path: PathBuf) -> Result<()> {
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::Io { path, source: e }),
    }
}

impl Store {
    /// The JSON document `sql` selects for `id`; ids that are not ours are not found.
    fn doc<T: serde::de::DeserializeOwned>(&self, kind: &str, sql: &str, id: &str) -> Result<T> {
        let not_found = || StorageError::NotFound(format!("{kind} {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let doc: Option<String> = self.conn()?.query_row(sql, [id], |r| r.get(0)).optional()?;
        from_json(kind, id, &doc.ok_or_else(not_found)?)
    }

    /// Every `(id, document)` row `sql` selects that parses; the ids of the
    /// others are logged and returned, so that one bad record never hides
    /// the rest.
    fn docs<T: serde::de::DeserializeOwned>(&self, kind: &str, sql: &str) -> Result<Listed<T>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut listed = Listed {
            items: Vec::new(),
            unreadable: Vec::new(),
        };
        for row in rows {
            let (id, doc) = row?;
            match from_json(kind, &id, &doc) {
                Ok(item) => listed.items.push(item),
                Err(e) => skip(kind, &id, &e, &mut listed.unreadable),
            }
        }
        Ok(listed)
    }

    /// Marks the records of `table` (`builds`, `forecasts`: a `state`
    /// column and a JSON `doc`) left queued or running by a process that
    /// died as interrupted, setting `state` and `field` (the reason) in
    /// their documents as they are; a document that does not read as an
    /// object keeps its text, and its row's state column still changes.
    fn interrupt_live(&self, table: &'static str, field: &str, reason: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: Vec<(String, String)> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT id, doc FROM {table} WHERE state IN ('queued', 'running')"
            ))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let state = api::BuildState::Interrupted;
        for (id, doc) in live {
            let doc = match serde_json::from_str::<serde_json::Value>(&doc) {
                Ok(serde_json::Value::Object(mut fields)) => {
                    fields.insert("state".into(), state.label().into());
                    fields.insert(field.into(), reason.into());
                    serde_json::Value::Object(fields).to_string()
                }
                _ => doc,
            };
            tx.execute(
                &format!("UPDATE {table} SET state = ?2, doc = ?3 WHERE id = ?1"),
                rusqlite::params![id, state.label(), doc],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `sql` (a `DELETE ... WHERE id = ?1`) for a valid id; not found when it deletes nothing.
    fn delete_row(&self, kind: &str, sql: &str, id: &str) -> Result<()> {
        let not_found = || StorageError::NotFound(format!("{kind} {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        match self.conn()?.execute(sql, [id])? {
            0 => Err(not_found()),
            _ => Ok(()),
        }
    }
}

/// Logs a record a list leaves out, and names it in `unreadable`.
fn skip(kind: &str, id: &str, e: &StorageError, unreadable: &mut Vec<String>) {
    tracing::warn!(
        kind,
        id = %id,
        error = %e,
        "skipping a stored {kind} that does not read back; delete it to clear this warning"
    );
    unreadable.push(id.to_owned());
}

/// `v` as JSON, unless it holds a number JSON cannot (NaN or infinite),
/// which would be written as `null` and make the record unreadable.
fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    if let Some(found) = first_non_finite(v) {
        return Err(StorageError::NonFinite {
            what: what.to_owned(),
            found,
        });
    }
    // Our own types serialise without error (string keys, no failing impls).
    Ok(serde_json::to_string(v).expect("stored types serialise"))
}

fn from_json<T: serde::de::DeserializeOwned>(kind: &str, id: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| StorageError::Corrupt {
        what: format!("{kind} {id}"),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
