//! The only module that touches the data directory: SQLite (`kiln.db`, WAL)
//! for metadata, `datasets/` and `models/` for files. Files are written to
//! `tmp/` and renamed into place, so a crash never leaves a partial file
//! where a reader would find it. Ids are server-generated and validated
//! before they become part of a path.

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
    #[error("stored record {id} is corrupt: {reason}")]
    Corrupt { id: String, reason: String },
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
        for mut b in builds.into_iter().filter(|b| !b.state.is_final()) {
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
        self.conn().execute(
            "INSERT INTO datasets (id, created, summary, profile, notes) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.id, s.created, to_json(s), to_json(&detail.profile), to_json(&detail.notes)],
        )?;
        Ok(())
    }

    pub fn list_datasets(&self) -> Result<Vec<api::DatasetSummary>> {
        self.docs("SELECT id, summary FROM datasets ORDER BY created DESC, id")
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
            summary: from_json(id, &summary)?,
            profile: from_json(id, &profile)?,
            notes: from_json(id, &notes)?,
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
        let path = self.dataset_path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::Io { path, source: e }),
        }
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
                recipe: from_json(dataset_id, &doc)?,
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
        self.conn().execute(
            "INSERT INTO recipes (dataset_id, version, created, doc) VALUES (?1, ?2, ?3, ?4)",
            params![dataset_id, version, created, to_json(recipe)],
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
        self.conn().execute(
            "INSERT INTO builds (id, created, state, doc) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc",
            params![b.id, b.created, b.state.label(), to_json(b)],
        )?;
        Ok(())
    }

    pub fn build(&self, id: &str) -> Result<api::Build> {
        self.doc("build", "SELECT doc FROM builds WHERE id = ?1", id)
    }

    pub fn list_builds(&self) -> Result<Vec<api::Build>> {
        self.docs("SELECT id, doc FROM builds ORDER BY created DESC, id")
    }

    // Models.

    pub fn insert_model(&self, m: &api::ModelSummary) -> Result<()> {
        self.conn().execute(
            "INSERT INTO models (id, build_id, created, summary) VALUES (?1, ?2, ?3, ?4)",
            params![m.id, m.build_id, m.created, to_json(m)],
        )?;
        Ok(())
    }

    pub fn model(&self, id: &str) -> Result<api::ModelSummary> {
        self.doc("model", "SELECT summary FROM models WHERE id = ?1", id)
    }

    pub fn model_bytes(&self, id: &str) -> Result<Vec<u8>> {
        self.model(id)?;
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
        from_json(id, &doc.ok_or_else(not_found)?)
    }

    /// Every `(id, document)` row `sql` selects, parsed.
    fn docs<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (id, doc) = r?;
            from_json(&id, &doc)
        })
        .collect()
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Our own api types serialise without error.
    serde_json::to_string(v).expect("api types serialise")
}

fn from_json<T: serde::de::DeserializeOwned>(id: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| StorageError::Corrupt {
        id: id.to_owned(),
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
