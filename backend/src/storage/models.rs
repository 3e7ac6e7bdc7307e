//! Models: the record, and the artifact file that is the model.

use rusqlite::params;

use super::{Result, StorageError, Store, io, remove_if_present, to_json};

impl Store {
    pub fn insert_model(&self, m: &api::ModelSummary) -> Result<()> {
        let doc = to_json(&format!("model {}", m.id), m)?;
        self.conn()?.execute(
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
        if !self.exists("SELECT 1 FROM models WHERE id = ?1", id)? {
            return Err(StorageError::NotFound(format!("model {id}")));
        }
        let path = self.model_path(id);
        std::fs::read(&path).map_err(io(&path))
    }
}
