//! Models (the record, and the artifact file that is the model), the
//! scored files batch predictions make (`predictions/`, by id) and their
//! reports (`batches`, by the same id).

use rusqlite::params;

use super::{
    NewFile, Result, StorageError, Store, from_json, io, is_valid_id, new_id, remove_if_present,
    skip, to_json,
};

impl Store {
    /// Stores a new model: its out-of-fold predictions (`oof`, JSON) and
    /// artifact files, then its record.
    pub fn save_model(&self, m: &api::ModelSummary, artifact: &[u8], oof: &[u8]) -> Result<()> {
        if !is_valid_id(&m.id) {
            return Err(StorageError::NotFound(format!("model {}", m.id)));
        }
        let doc = to_json(&format!("model {}", m.id), m)?;
        let held_out = self.file("models", &m.id, "oof.json");
        self.write_file(&held_out, oof)?;
        let path = self.file("models", &m.id, "json");
        let inserted = self.write_file(&path, artifact).and_then(|()| {
            let conn = self.conn()?;
            conn.execute(
                "INSERT INTO models (id, build_id, created, summary) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, m.build_id, m.created, doc],
            )?;
            Ok(())
        });
        inserted.inspect_err(|_| {
            let _ = remove_if_present(path);
            let _ = remove_if_present(held_out);
        })
    }

    /// A model's out-of-fold predictions (JSON), kept since they were;
    /// `None` for a model made before.
    pub fn model_oof(&self, id: &str) -> Result<Option<Vec<u8>>> {
        if !self.exists("SELECT 1 FROM models WHERE id = ?1", id)? {
            return Err(StorageError::NotFound(format!("model {id}")));
        }
        let path = self.file("models", id, "oof.json");
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Replaces a stored model's artifact and record (a new decision
    /// threshold): the artifact first, through a temporary file and a
    /// rename, since it is what scores.
    pub fn update_model(&self, m: &api::ModelSummary, artifact: &[u8]) -> Result<()> {
        if !self.exists("SELECT 1 FROM models WHERE id = ?1", &m.id)? {
            return Err(StorageError::NotFound(format!("model {}", m.id)));
        }
        let doc = to_json(&format!("model {}", m.id), m)?;
        self.write_file(&self.file("models", &m.id, "json"), artifact)?;
        self.conn()?.execute(
            "UPDATE models SET summary = ?2 WHERE id = ?1",
            params![m.id, doc],
        )?;
        Ok(())
    }

    /// Deletes the model's record (readable or not) and its artifact file.
    pub fn delete_model(&self, id: &str) -> Result<()> {
        self.delete_row("model", "DELETE FROM models WHERE id = ?1", id)?;
        remove_if_present(self.file("models", id, "oof.json"))?;
        remove_if_present(self.file("models", id, "baseline.json"))?;
        remove_if_present(self.file("models", id, "json"))
    }

    /// The models of a build that read back (its winner, and rows trained
    /// on request), oldest first.
    pub fn build_models(&self, build_id: &str) -> Result<Vec<api::ModelSummary>> {
        if !is_valid_id(build_id) {
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT id, summary FROM models WHERE build_id = ?1 ORDER BY created, id")?;
        let rows = stmt
            .query_map([build_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut unreadable = Vec::new();
        let mut models = Vec::new();
        for (id, doc) in rows {
            match from_json("model", &id, &doc) {
                Ok(m) => models.push(m),
                Err(e) => skip("model", &id, &e, &mut unreadable),
            }
        }
        Ok(models)
    }

    pub fn model(&self, id: &str) -> Result<api::ModelSummary> {
        self.doc("model", "SELECT summary FROM models WHERE id = ?1", id)
    }

    /// The artifact of a model whose record exists (readable or not: the
    /// artifact file is the model, the record only its summary).
    pub fn model_bytes(&self, id: &str) -> Result<Vec<u8>> {
        if !self.exists("SELECT 1 FROM models WHERE id = ?1", id)? {
            return Err(StorageError::NotFound(format!("model {id}")));
        }
        let path = self.file("models", id, "json");
        std::fs::read(&path).map_err(io(&path))
    }

    /// Keeps a scored file; returns its id.
    pub fn save_predictions(&self, file: NewFile) -> Result<String> {
        let id = new_id();
        self.persist(file.finish()?, &self.file("predictions", &id, "csv"))?;
        Ok(id)
    }

    /// Keeps the report of a batch prediction, under its scored file's id.
    pub fn save_batch(&self, report: &api::BatchReport) -> Result<()> {
        if !is_valid_id(&report.id) {
            return Err(StorageError::NotFound(format!("batch {}", report.id)));
        }
        let doc = to_json(&format!("batch {}", report.id), report)?;
        self.conn()?.execute(
            "INSERT INTO batches (id, doc) VALUES (?1, ?2)",
            params![report.id, doc],
        )?;
        Ok(())
    }

    /// The report of the batch prediction that made scored file `id`.
    pub fn batch(&self, id: &str) -> Result<api::BatchReport> {
        self.doc("batch", "SELECT doc FROM batches WHERE id = ?1", id)
    }

    /// A scored file made by a batch prediction.
    /// Where scored file `id` is, when it exists.
    pub fn predictions_file(&self, id: &str) -> Result<std::path::PathBuf> {
        let path = is_valid_id(id).then(|| self.file("predictions", id, "csv"));
        match path {
            Some(p) if p.is_file() => Ok(p),
            _ => Err(StorageError::NotFound(format!("predictions {id}"))),
        }
    }

    pub fn predictions(&self, id: &str) -> Result<Vec<u8>> {
        let not_found = || StorageError::NotFound(format!("predictions {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        match std::fs::read(self.file("predictions", id, "csv")) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found()),
            Err(e) => Err(StorageError::Io {
                path: self.file("predictions", id, "csv"),
                source: e,
            }),
        }
    }
}
