//! Forecasts: the record (`forecasts`, one JSON document with its state,
//! leaderboard and notes) and, once it succeeded, two files under
//! `forecasts/`: the forecaster (`{id}.json`, the download that extends a
//! new history) and what the forecast page draws (`{id}.result.json`).

use rusqlite::params;

use super::{Listed, Result, StorageError, Store, io, is_valid_id, remove_if_present, to_json};

const INTERRUPTED: &str =
    "the server stopped while this forecast was queued or running; start it again";

impl Store {
    /// Saves a forecast's record (queued, running, failed), inserting or replacing it.
    pub fn save_forecast(&self, f: &api::Forecast) -> Result<()> {
        if !is_valid_id(&f.id) {
            return Err(StorageError::NotFound(format!("forecast {}", f.id)));
        }
        let doc = to_json(&format!("forecast {}", f.id), f)?;
        self.conn()?.execute(
            "INSERT OR REPLACE INTO forecasts (id, dataset_id, created, state, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![f.id, f.dataset_id, f.created, f.state.label(), doc],
        )?;
        Ok(())
    }

    /// Saves a finished forecast: its two files first, then its record, so
    /// a record that says it succeeded always has them.
    pub fn finish_forecast(&self, f: &api::Forecast, artifact: &[u8], result: &[u8]) -> Result<()> {
        if !is_valid_id(&f.id) {
            return Err(StorageError::NotFound(format!("forecast {}", f.id)));
        }
        let doc = to_json(&format!("forecast {}", f.id), f)?;
        let artifact_path = self.file("forecasts", &f.id, "json");
        let result_path = self.file("forecasts", &f.id, "result.json");
        let saved = self
            .write_file(&artifact_path, artifact)
            .and_then(|()| self.write_file(&result_path, result))
            .and_then(|()| {
                self.conn()?.execute(
                    "INSERT OR REPLACE INTO forecasts (id, dataset_id, created, state, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![f.id, f.dataset_id, f.created, f.state.label(), doc],
                )?;
                Ok(())
            });
        saved.inspect_err(|_| {
            let _ = remove_if_present(artifact_path);
            let _ = remove_if_present(result_path);
        })
    }

    pub fn forecast(&self, id: &str) -> Result<api::Forecast> {
        self.doc("forecast", "SELECT doc FROM forecasts WHERE id = ?1", id)
    }

    /// Every forecast, newest first, or those of one dataset.
    pub fn list_forecasts(&self, dataset_id: Option<&str>) -> Result<Listed<api::Forecast>> {
        let listed: Listed<api::Forecast> = self.docs(
            "forecast",
            "SELECT id, doc FROM forecasts ORDER BY created DESC, id",
        )?;
        Ok(match dataset_id {
            None => listed,
            Some(d) => Listed {
                items: listed
                    .items
                    .into_iter()
                    .filter(|f| f.dataset_id == d)
                    .collect(),
                unreadable: listed.unreadable,
            },
        })
    }

    /// A file of a forecast whose record exists: `json` (the forecaster) or `result.json`.
    fn forecast_file(&self, id: &str, extension: &str) -> Result<Vec<u8>> {
        if !self.exists("SELECT 1 FROM forecasts WHERE id = ?1", id)? {
            return Err(StorageError::NotFound(format!("forecast {id}")));
        }
        let path = self.file("forecasts", id, extension);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::NotFound(
                format!("the results of forecast {id} (it has not finished)"),
            )),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The forecaster file of a finished forecast.
    pub fn forecaster_bytes(&self, id: &str) -> Result<Vec<u8>> {
        self.forecast_file(id, "json")
    }

    /// What the forecast page draws, of a finished forecast.
    pub fn forecast_result(&self, id: &str) -> Result<Vec<u8>> {
        self.forecast_file(id, "result.json")
    }

    /// Deletes the forecast's record (readable or not) and its files.
    pub fn delete_forecast(&self, id: &str) -> Result<()> {
        self.delete_row("forecast", "DELETE FROM forecasts WHERE id = ?1", id)?;
        remove_if_present(self.file("forecasts", id, "json"))?;
        remove_if_present(self.file("forecasts", id, "result.json"))
    }

    /// Marks forecasts that were queued or running when the last process died.
    pub(super) fn interrupt_forecasts(&self) -> Result<()> {
        self.interrupt_live("forecasts", "error", INTERRUPTED)
    }
}
