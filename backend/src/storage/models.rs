//! Models (the record, and the artifact file that is the model) and the
//! scored files batch predictions make (`predictions/`, by id).

use rusqlite::params;

use super::{
    NewFile, Result, StorageError, Store, io, is_valid_id, new_id, remove_if_present, to_json,
};

impl Store {
    /// Stores a new model: its artifact file, then its record.
    pub fn save_model(&self, m: &api::ModelSummary, artifact: &[u8]) -> Result<()> {
        if !is_valid_id(&m.id) {
            return Err(StorageError::NotFound(format!("model {}", m.id)));
        }
        let doc = to_json(&format!("model {}", m.id), m)?;
        let path = self.file("models", &m.id, "json");
        self.write_file(&path, artifact)?;
        let inserted = self.conn().and_then(|conn| {
            conn.execute(
                "INSERT INTO models (id, build_id, created, summary) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, m.build_id, m.created, doc],
            )?;
            Ok(())
        });
        inserted.inspect_err(|_| {
            let _ = remove_if_present(path);
        })
    }

    /// Deletes the model's record (readable or not) and its artifact file.
    pub fn delete_model(&self, id: &str) -> Result<()> {
        self.delete_row("model", "DELETE FROM models WHERE id = ?1", id)?;
        remove_if_present(self.file("models", id, "json"))
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

    /// A scored file made by a batch prediction.
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
