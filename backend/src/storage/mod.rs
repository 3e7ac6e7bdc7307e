//! The only module that touches the data directory: SQLite (`kiln.db`, WAL)
//! for metadata, `datasets/` and `models/` for files. Files are written to
//! `tmp/` and renamed into place, so a crash never leaves a partial file
//! where a reader would find it. Ids are server-generated and validated
//! before they become part of a path.
//!
//! A document is checked before it is written: a NaN or infinite number
//! (which JSON writes as `null`, and which then does not read back) is
//! refused with its path, so no record is stored unreadable. Lists skip a
//! record that does not read back (one made by an older version, or edited
//! by hand), log it and name it in [`Listed::unreadable`], and every record
//! can be deleted without being read.

mod finite;

pub use finite::{NonFinite, first_non_finite};

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

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
    /// `what` is e.g. `build 0123…`.
    #[error("the stored {what} does not read back: {reason}")]
    Corrupt { what: String, reason: String },
    #[error(
        "refusing to store {what}: `{}` is {}, which JSON cannot hold (the record would not read back)",
        found.path,
        found.value
    )]
    NonFinite { what: String, found: NonFinite },
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

pub struct Store {
    root: PathBuf,
    db: Mutex<Connection>,
    /// Fault injection for the crash tests: wait this long between writing
    /// a file and renaming it into place (`KILN_FAULT_PAUSE_BEFORE_RENAME_MS`).
    pause_before_rename: Option<std::time::Duration>,
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
CREATE TABLE IF NOT EXISTS recipes (
    dataset_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version)
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    build_id TEXT NOT NULL,
    created TEXT NOT NULL,
    summary TEXT NOT NULL
);
";

impl Store {
    /// Opens (creating if needed) the data directory. Leftover temporary
    /// files are removed, and builds that were queued or running when the
    /// last process died are marked `interrupted`.
    pub fn open(root: &Path) -> Result<Store> {
        for dir in ["datasets", "models", "predictions", "tmp"] {
            let p = root.join(dir);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let tmp = root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io(&tmp))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let conn = Connection::open(root.join("kiln.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        let pause_before_rename = std::env::var("KILN_FAULT_PAUSE_BEFORE_RENAME_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis);
        let store = Store {
            root: root.to_owned(),
            db: Mutex::new(conn),
            pause_before_rename,
        };
        store.mark_interrupted()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (statements are atomic), so a poisoned lock is still usable.
        self.db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn mark_interrupted(&self) -> Result<()> {
        let builds = self.list_builds()?;
        for mut b in builds.items.into_iter().filter(|b| !b.state.is_final()) {
            b.state = api::BuildState::Interrupted;
            b.message =
                "the server stopped while this build was running; start it again to retry".into();
            self.save_build(&b)?;
        }
        Ok(())
    }

    /// A fresh path under `tmp/` for a file being written.
    pub fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(new_id())
    }

    pub fn dataset_path(&self, id: &str) -> PathBuf {
        debug_assert!(is_valid_id(id));
        self.root.join("datasets").join(format!("{id}.parquet"))
    }

    /// A scored CSV made by a batch prediction.
    pub fn predictions_path(&self, id: &str) -> PathBuf {
        debug_assert!(is_valid_id(id));
        self.root.join("predictions").join(format!("{id}.csv"))
    }

    pub fn model_path(&self, id: &str) -> PathBuf {
        debug_assert!(is_valid_id(id));
        self.root.join("models").join(format!("{id}.json"))
    }

    /// Moves a finished temporary file into place, durably.
    pub fn persist(&self, tmp: &Path, dest: &Path) -> Result<()> {
        fs::File::open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(tmp))?;
        if let Some(pause) = self.pause_before_rename {
            tracing::warn!(file = %tmp.display(), "fault injection: pausing before the rename");
            std::thread::sleep(pause);
        }
        fs::rename(tmp, dest).map_err(io(dest))?;
        if let Some(dir) = dest.parent() {
            // Make the rename itself durable.
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
        }
        Ok(())
    }

    /// Writes `bytes` to `dest` through a temporary file and a rename.
    pub fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = self.temp_path();
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        drop(f);
        self.persist(&tmp, dest)
    }

    // Datasets.

    pub fn insert_dataset(&self, detail: &api::DatasetDetail) -> Result<()> {
        let s = &detail.summary;
        let what = format!("dataset {}", s.id);
        let (summary, profile, notes) = (
            to_json(&what, s)?,
            to_json(&what, &detail.profile)?,
            to_json(&what, &detail.notes)?,
        );
        self.conn().execute(
            "INSERT INTO datasets (id, created, summary, profile, notes) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.id, s.created, summary, profile, notes],
        )?;
        Ok(())
    }

    pub fn list_datasets(&self) -> Result<Listed<api::DatasetSummary>> {
        self.docs(
            "dataset",
            "SELECT id, summary FROM datasets ORDER BY created DESC, id",
        )
    }

    pub fn dataset(&self, id: &str) -> Result<api::DatasetDetail> {
        let not_found = || StorageError::NotFound(format!("dataset {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let row: Option<(String, String, String)> = self
            .conn()
            .query_row(
                "SELECT summary, profile, notes FROM datasets WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (summary, profile, notes) = row.ok_or_else(not_found)?;
        Ok(api::DatasetDetail {
            summary: from_json("dataset", id, &summary)?,
            profile: from_json("dataset", id, &profile)?,
            notes: from_json("dataset", id, &notes)?,
        })
    }

    /// Deletes the dataset's record and file. Builds and models made from it stay.
    pub fn delete_dataset(&self, id: &str) -> Result<()> {
        if !is_valid_id(id) {
            return Err(StorageError::NotFound(format!("dataset {id}")));
        }
        let n = self
            .conn()
            .execute("DELETE FROM datasets WHERE id = ?1", [id])?;
        self.conn()
            .execute("DELETE FROM recipes WHERE dataset_id = ?1", [id])?;
        if n == 0 {
            return Err(StorageError::NotFound(format!("dataset {id}")));
        }
        remove_if_present(self.dataset_path(id))
    }

    // Recipes.

    /// Version `version` of the dataset's recipe, or the latest when `None`.
    /// Version 0, the empty recipe, always exists.
    pub fn recipe(&self, dataset_id: &str, version: Option<u32>) -> Result<api::RecipeVersion> {
        let detail = self.dataset(dataset_id)?;
        let empty = api::RecipeVersion {
            dataset_id: dataset_id.to_owned(),
            version: 0,
            created: detail.summary.created,
            recipe: api::Recipe::default(),
        };
        if version == Some(0) {
            return Ok(empty);
        }
        let row: Option<(u32, String, String)> = self
            .conn()
            .query_row(
                "SELECT version, created, doc FROM recipes WHERE dataset_id = ?1
                 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1",
                params![dataset_id, version],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match (row, version) {
            (Some((version, created, doc)), _) => Ok(api::RecipeVersion {
                dataset_id: dataset_id.to_owned(),
                version,
                created,
                recipe: from_json(
                    &format!("recipe version {version} of dataset"),
                    dataset_id,
                    &doc,
                )?,
            }),
            (None, None) => Ok(empty),
            (None, Some(v)) => Err(StorageError::NotFound(format!(
                "version {v} of the recipe of dataset {dataset_id}"
            ))),
        }
    }

    /// Saves `recipe` as the dataset's next version, unless it equals the latest.
    pub fn save_recipe(
        &self,
        dataset_id: &str,
        recipe: &api::Recipe,
        created: &str,
    ) -> Result<api::RecipeVersion> {
        let latest = self.recipe(dataset_id, None)?;
        if &latest.recipe == recipe {
            return Ok(latest);
        }
        let version = latest.version + 1;
        let doc = to_json(
            &format!("version {version} of the recipe of dataset {dataset_id}"),
            recipe,
        )?;
        self.conn().execute(
            "INSERT INTO recipes (dataset_id, version, created, doc) VALUES (?1, ?2, ?3, ?4)",
            params![dataset_id, version, created, doc],
        )?;
        Ok(api::RecipeVersion {
            dataset_id: dataset_id.to_owned(),
            version,
            created: created.to_owned(),
            recipe: recipe.clone(),
        })
    }

    // Builds.

    pub fn save_build(&self, b: &api::Build) -> Result<()> {
        let doc = to_json(&format!("build {}", b.id), b)?;
        self.conn().execute(
            "INSERT INTO builds (id, created, state, doc) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc",
            params![b.id, b.created, b.state.label(), doc],
        )?;
        Ok(())
    }

    pub fn build(&self, id: &str) -> Result<api::Build> {
        self.doc("build", "SELECT doc FROM builds WHERE id = ?1", id)
    }

    pub fn list_builds(&self) -> Result<Listed<api::Build>> {
        self.docs(
            "build",
            "SELECT id, doc FROM builds ORDER BY created DESC, id",
        )
    }

    /// Deletes the build's record, readable or not. Its model stays.
    pub fn delete_build(&self, id: &str) -> Result<()> {
        self.delete_row("build", "DELETE FROM builds WHERE id = ?1", id)
    }

    // Models.

    pub fn insert_model(&self, m: &api::ModelSummary) -> Result<()> {
        let doc = to_json(&format!("model {}", m.id), m)?;
        self.conn().execute(
            "INSERT INTO models (id, build_id, created, summary) VALUES (?1, ?2, ?3, ?4)",
            params![m.id, m.build_id, m.created, doc],
        )?;
        Ok(())
    }

    /// Deletes the model's record (readable or not) and its artifact file.
    pub fn delete_model(&self, id: &str) -> Result<()> {
        self.delete_row("model", "DELETE FROM models WHERE id = ?1", id)?;
        remove_if_present(self.model_path(id))
    }

    pub fn model(&self, id: &str) -> Result<api::ModelSummary> {
        self.doc("model", "SELECT summary FROM models WHERE id = ?1", id)
    }

    /// The artifact of a model whose record exists (readable or not: the
    /// artifact file is the model, the record only its summary).
    pub fn model_bytes(&self, id: &str) -> Result<Vec<u8>> {
        let not_found = || StorageError::NotFound(format!("model {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let known: Option<i64> = self
            .conn()
            .query_row("SELECT 1 FROM models WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        known.ok_or_else(not_found)?;
        let path = self.model_path(id);
        fs::read(&path).map_err(io(&path))
    }
}

impl Store {
    /// The JSON document `sql` selects for `id`; ids that are not ours are not found.
    fn doc<T: serde::de::DeserializeOwned>(&self, kind: &str, sql: &str, id: &str) -> Result<T> {
        let not_found = || StorageError::NotFound(format!("{kind} {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let doc: Option<String> = self.conn().query_row(sql, [id], |r| r.get(0)).optional()?;
        from_json(kind, id, &doc.ok_or_else(not_found)?)
    }

    /// Every `(id, document)` row `sql` selects that parses; the ids of the
    /// others are logged and returned, so that one bad record never hides
    /// the rest.
    fn docs<T: serde::de::DeserializeOwned>(&self, kind: &str, sql: &str) -> Result<Listed<T>> {
        let conn = self.conn();
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
                Err(e) => {
                    tracing::warn!(
                        kind,
                        id = %id,
                        error = %e,
                        "skipping a stored {kind} that does not read back; delete it to clear this warning"
                    );
                    listed.unreadable.push(id);
                }
            }
        }
        Ok(listed)
    }

    /// Runs `sql` (a `DELETE ... WHERE id = ?1`) for a valid id; not found when it deletes nothing.
    fn delete_row(&self, kind: &str, sql: &str, id: &str) -> Result<()> {
        let not_found = || StorageError::NotFound(format!("{kind} {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        match self.conn().execute(sql, [id])? {
            0 => Err(not_found()),
            _ => Ok(()),
        }
    }
}

fn remove_if_present(path: PathBuf) -> Result<()> {
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::Io { path, source: e }),
    }
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
    // Our own api types serialise without error (string keys, no failing impls).
    Ok(serde_json::to_string(v).expect("api types serialise"))
}

fn from_json<T: serde::de::DeserializeOwned>(kind: &str, id: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| StorageError::Corrupt {
        what: format!("{kind} {id}"),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(id: &str, state: api::BuildState) -> api::Build {
        api::Build {
            id: id.into(),
            dataset_id: new_id(),
            target: "y".into(),
            task: None,
            state,
            created: "2026-01-01T00:00:00Z".into(),
            time_budget_secs: 10,
            seed: 0,
            recipe_version: 0,
            excluded: Vec::new(),
            metric: None,
            higher_is_better: false,
            validation: None,
            elapsed_secs: 0.0,
            trials_done: 0,
            message: String::new(),
            leaderboard: vec![],
            model_id: None,
            error: None,
        }
    }

    #[test]
    fn reopening_marks_running_builds_interrupted_and_keeps_finished_ones() {
        let dir = tempdir();
        let (a, b) = (new_id(), new_id());
        {
            let store = Store::open(&dir).unwrap();
            store
                .save_build(&build(&a, api::BuildState::Running))
                .unwrap();
            store
                .save_build(&build(&b, api::BuildState::Succeeded))
                .unwrap();
        }
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.build(&a).unwrap().state, api::BuildState::Interrupted);
        assert_eq!(store.build(&b).unwrap().state, api::BuildState::Succeeded);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_document_with_a_non_finite_number_is_refused_and_nothing_is_written() {
        let dir = tempdir();
        let store = Store::open(&dir).unwrap();
        let id = new_id();
        let mut b = build(&id, api::BuildState::Running);
        b.leaderboard.push(api::LeaderboardEntry {
            trial: 3,
            family: "neural network".into(),
            params: String::new(),
            score: f64::NAN,
            score_std: 0.0,
            fit_secs: 0.1,
            predict_us_per_row: 1.0,
            size_bytes: 1,
            finished_secs: 0.2,
        });
        let err = store.save_build(&b).unwrap_err();
        assert!(
            matches!(&err, StorageError::NonFinite { found, .. } if found.path == "leaderboard[0].score"),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("build {id}")), "{err}");
        assert!(matches!(store.build(&id), Err(StorageError::NotFound(_))));
        b.leaderboard[0].score = 0.5;
        store.save_build(&b).unwrap();
        assert_eq!(store.build(&id).unwrap(), b);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lists_skip_and_name_what_does_not_read_back_and_open_still_works() {
        let dir = tempdir();
        let (good, bad) = (new_id(), new_id());
        {
            let store = Store::open(&dir).unwrap();
            store
                .save_build(&build(&good, api::BuildState::Succeeded))
                .unwrap();
            let mut doc = serde_json::to_value(build(&bad, api::BuildState::Running)).unwrap();
            doc["elapsed_secs"] = serde_json::Value::Null;
            store
                .conn()
                .execute(
                    "INSERT INTO builds (id, created, state, doc) VALUES (?1, 'x', 'running', ?2)",
                    params![bad, doc.to_string()],
                )
                .unwrap();
        }
        // Opening marks running builds interrupted: the unreadable one is skipped.
        let store = Store::open(&dir).unwrap();
        let listed = store.list_builds().unwrap();
        assert_eq!(listed.unreadable, vec![bad.clone()]);
        assert_eq!(listed.items.len(), 1);
        assert!(matches!(
            store.build(&bad),
            Err(StorageError::Corrupt { what, .. }) if what == format!("build {bad}")
        ));
        store.delete_build(&bad).unwrap();
        assert!(store.list_builds().unwrap().unreadable.is_empty());
        assert!(matches!(
            store.delete_build(&bad),
            Err(StorageError::NotFound(_))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ids_that_are_not_ours_never_become_paths() {
        let dir = tempdir();
        let store = Store::open(&dir).unwrap();
        for id in ["../kiln.db", "..%2Fkiln.db", "/etc/passwd", "", "ABCDEF"] {
            assert!(
                matches!(store.dataset(id), Err(StorageError::NotFound(_))),
                "{id}"
            );
            assert!(
                matches!(store.model_bytes(id), Err(StorageError::NotFound(_))),
                "{id}"
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn leftover_temporary_files_are_removed_on_open() {
        let dir = tempdir();
        let store = Store::open(&dir).unwrap();
        let tmp = store.temp_path();
        fs::write(&tmp, b"partial").unwrap();
        drop(store);
        Store::open(&dir).unwrap();
        assert!(!tmp.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiln-store-{}", new_id()));
        fs::create_dir_all(&d).unwrap();
        d
    }
}
