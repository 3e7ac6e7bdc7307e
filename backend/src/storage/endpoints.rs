//! Endpoints: the record (`endpoints`, one JSON document per name: its
//! variants, shadow and capture settings) and its captured traffic, JSON
//! Lines files under `captures/{name}/`, each row one line. Files rotate
//! at a tenth of the endpoint's row cap; the oldest are removed once the
//! rows kept pass the cap. `capture_files` counts each file's rows, so the
//! cap is kept without reading the files. A capture is best effort for its
//! caller (a failure is logged, the request answered), and a torn last
//! line after a crash is skipped when the rows are read back.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Listed, Result, StorageError, Store, from_json, io, to_json};

/// Whether `name` can name an endpoint (and its capture folder).
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn not_found(name: &str) -> StorageError {
    StorageError::NotFound(format!("endpoint `{name}`"))
}

impl Store {
    fn capture_dir(&self, name: &str) -> PathBuf {
        debug_assert!(is_valid_name(name));
        self.root.join("captures").join(name)
    }

    /// Stores a new endpoint; `false` when the name is taken.
    pub fn create_endpoint(&self, e: &api::Endpoint) -> Result<bool> {
        if !is_valid_name(&e.name) {
            return Err(not_found(&e.name));
        }
        let doc = to_json(&format!("endpoint {}", e.name), e)?;
        let added = self.conn()?.execute(
            "INSERT OR IGNORE INTO endpoints (name, created, doc) VALUES (?1, ?2, ?3)",
            params![e.name, e.created, doc],
        )?;
        Ok(added == 1)
    }

    /// Replaces an endpoint's record.
    pub fn update_endpoint(&self, e: &api::Endpoint) -> Result<()> {
        if !is_valid_name(&e.name) {
            return Err(not_found(&e.name));
        }
        let doc = to_json(&format!("endpoint {}", e.name), e)?;
        match self.conn()?.execute(
            "UPDATE endpoints SET doc = ?2 WHERE name = ?1",
            params![e.name, doc],
        )? {
            0 => Err(not_found(&e.name)),
            _ => Ok(()),
        }
    }

    pub fn endpoint(&self, name: &str) -> Result<api::Endpoint> {
        if !is_valid_name(name) {
            return Err(not_found(name));
        }
        let doc: Option<String> = self
            .conn()?
            .query_row("SELECT doc FROM endpoints WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        let mut e: api::Endpoint =
            from_json("endpoint", name, &doc.ok_or_else(|| not_found(name))?)?;
        e.captured_rows = self.captured_rows(name)?;
        Ok(e)
    }

    /// Every endpoint, by name.
    pub fn list_endpoints(&self) -> Result<Listed<api::Endpoint>> {
        let mut listed: Listed<api::Endpoint> =
            self.docs("endpoint", "SELECT name, doc FROM endpoints ORDER BY name")?;
        for e in &mut listed.items {
            e.captured_rows = self.captured_rows(&e.name)?;
        }
        Ok(listed)
    }

    /// The endpoints whose variants or shadow are `model_id`.
    pub fn endpoints_serving(&self, model_id: &str) -> Result<Vec<String>> {
        let listed = self.list_endpoints()?;
        let mut names: Vec<String> = listed
            .items
            .into_iter()
            .filter(|e| {
                e.variants.iter().any(|v| v.model_id == model_id)
                    || e.shadow.as_ref().is_some_and(|s| s.model_id == model_id)
            })
            .map(|e| e.name)
            .collect();
        // A record that does not read back may serve it too: it is named, not guessed.
        names.extend(listed.unreadable);
        Ok(names)
    }

    /// Deletes the endpoint's record (readable or not) and its captures.
    pub fn delete_endpoint(&self, name: &str) -> Result<()> {
        if !is_valid_name(name) {
            return Err(not_found(name));
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx.execute("DELETE FROM endpoints WHERE name = ?1", [name])? == 0 {
            return Err(not_found(name));
        }
        tx.execute("DELETE FROM capture_files WHERE endpoint = ?1", [name])?;
        tx.execute("DELETE FROM monitor_runs WHERE endpoint = ?1", [name])?;
        tx.execute("DELETE FROM ground_truth WHERE endpoint = ?1", [name])?;
        tx.commit()?;
        let dir = self.capture_dir(name);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&dir)(e)),
            _ => Ok(()),
        }
    }

    /// Rows captured and kept for an endpoint.
    pub fn captured_rows(&self, name: &str) -> Result<u64> {
        let rows: i64 = self.conn()?.query_row(
            "SELECT COALESCE(SUM(rows), 0) FROM capture_files WHERE endpoint = ?1",
            [name],
            |r| r.get(0),
        )?;
        Ok(rows.max(0) as u64)
    }

    /// Appends captured rows (each one JSON value, written as a line),
    /// rotating files and dropping the oldest past `max_rows`.
    pub fn capture(&self, name: &str, rows: &[serde_json::Value], max_rows: u64) -> Result<()> {
        if !is_valid_name(name) {
            return Err(not_found(name));
        }
        if rows.is_empty() || max_rows == 0 {
            return Ok(());
        }
        let per_file = (max_rows / 10).clamp(1, 10_000) as i64;
        let _guard = self.capture_lock.lock().unwrap_or_else(|p| p.into_inner());
        let dir = self.capture_dir(name);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut conn = self.conn()?;
        let last: Option<(i64, i64)> = conn
            .query_row(
                "SELECT seq, rows FROM capture_files WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, already) = match last {
            Some((seq, n)) if n < per_file => (seq, n),
            Some((seq, _)) => (seq + 1, 0),
            None => (0, 0),
        };
        let path = dir.join(format!("{seq:010}.jsonl"));
        let mut text = String::new();
        for row in rows {
            text.push_str(&row.to_string());
            text.push('\n');
        }
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO capture_files (endpoint, seq, rows) VALUES (?1, ?2, ?3)",
            params![name, seq, already + rows.len() as i64],
        )?;
        // Past the cap, the oldest files go (the newest always stays).
        let files: Vec<(i64, i64)> = {
            let mut stmt =
                tx.prepare("SELECT seq, rows FROM capture_files WHERE endpoint = ?1 ORDER BY seq")?;
            stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut total: i64 = files.iter().map(|f| f.1).sum();
        let mut dropped = Vec::new();
        for (old, n) in &files[..files.len().saturating_sub(1)] {
            if total <= max_rows as i64 {
                break;
            }
            tx.execute(
                "DELETE FROM capture_files WHERE endpoint = ?1 AND seq = ?2",
                params![name, old],
            )?;
            total -= n;
            dropped.push(*old);
        }
        tx.commit()?;
        for old in dropped {
            let _ = fs::remove_file(dir.join(format!("{old:010}.jsonl")));
        }
        Ok(())
    }

    /// The captured rows kept, oldest first (a line that does not parse, such
    /// as one torn by a crash, is skipped).
    pub fn captured(&self, name: &str) -> Result<Vec<serde_json::Value>> {
        if !is_valid_name(name) {
            return Err(not_found(name));
        }
        let seqs: Vec<i64> = {
            let conn = self.conn()?;
            let mut stmt =
                conn.prepare("SELECT seq FROM capture_files WHERE endpoint = ?1 ORDER BY seq")?;
            stmt.query_map([name], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let dir = self.capture_dir(name);
        let mut out = Vec::new();
        for seq in seqs {
            let path = dir.join(format!("{seq:010}.jsonl"));
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            out.extend(
                text.lines()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()),
            );
        }
        Ok(out)
    }
}

impl Store {
    /// Keeps a model's monitoring baseline beside its artifact.
    pub fn save_baseline(&self, model_id: &str, bytes: &[u8]) -> Result<()> {
        if !super::is_valid_id(model_id) {
            return Err(StorageError::NotFound(format!("model {model_id}")));
        }
        self.write_file(&self.file("models", model_id, "baseline.json"), bytes)
    }

    /// A model's baseline; `None` for a model made before baselines.
    pub fn model_baseline(&self, model_id: &str) -> Result<Option<Vec<u8>>> {
        if !self.exists("SELECT 1 FROM models WHERE id = ?1", model_id)? {
            return Err(StorageError::NotFound(format!("model {model_id}")));
        }
        let path = self.file("models", model_id, "baseline.json");
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    pub fn save_monitor_run(&self, run: &api::MonitorRun) -> Result<()> {
        let doc = to_json(&format!("monitoring run {}", run.id), run)?;
        self.conn()?.execute(
            "INSERT OR REPLACE INTO monitor_runs (id, endpoint, created, doc) VALUES (?1, ?2, ?3, ?4)",
            params![run.id, run.endpoint, run.created, doc],
        )?;
        Ok(())
    }

    /// An endpoint's monitoring runs, newest first (at most `limit`).
    pub fn monitor_runs(&self, endpoint: &str, limit: usize) -> Result<Vec<api::MonitorRun>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, doc FROM monitor_runs WHERE endpoint = ?1 ORDER BY created DESC, rowid DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![endpoint, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, doc)| from_json("monitoring run", &id, &doc).ok())
            .collect())
    }

    /// Stores ground truth by inference id (a later label replaces an earlier one).
    pub fn save_ground_truth(&self, endpoint: &str, rows: &[(String, String)]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO ground_truth (endpoint, inference_id, label) VALUES (?1, ?2, ?3)",
            )?;
            for (id, label) in rows {
                stmt.execute(params![endpoint, id, label])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The ground truth of an endpoint, by inference id.
    pub fn ground_truth(
        &self,
        endpoint: &str,
    ) -> Result<std::collections::HashMap<String, String>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare("SELECT inference_id, label FROM ground_truth WHERE endpoint = ?1")?;
        let rows = stmt
            .query_map([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str) -> api::Endpoint {
        api::Endpoint {
            name: name.into(),
            created: "2026-12-01T00:00:00Z".into(),
            updated: "2026-12-01T00:00:00Z".into(),
            variants: vec![api::Variant {
                name: "variant-1".into(),
                model_id: "0".repeat(32),
                target: "y".into(),
                weight: 1.0,
            }],
            shadow: None,
            capture: api::CaptureSettings::default(),
            monitor_every_minutes: None,
            captured_rows: 0,
            traffic: api::Traffic::default(),
        }
    }

    #[test]
    fn endpoints_keep_their_captures_within_the_cap() {
        let store = Store::throwaway().expect("store");
        assert!(store.create_endpoint(&endpoint("churn")).unwrap());
        assert!(!store.create_endpoint(&endpoint("churn")).unwrap(), "taken");
        assert!(!is_valid_name("../x") && !is_valid_name(""));
        assert_eq!(store.endpoints_serving(&"0".repeat(32)).unwrap(), ["churn"]);
        // A cap of 50 rows: files of 5 rows, the oldest dropped past 50.
        for i in 0..30 {
            let rows: Vec<serde_json::Value> = (0..3)
                .map(|k| serde_json::json!({ "n": i * 3 + k }))
                .collect();
            store.capture("churn", &rows, 50).unwrap();
        }
        let kept = store.captured("churn").unwrap();
        let n = store.captured_rows("churn").unwrap();
        assert_eq!(kept.len() as u64, n);
        assert!((45..=50).contains(&n), "{n} rows kept");
        // The newest rows are the ones kept.
        assert_eq!(kept.last().unwrap()["n"], 89);
        store.delete_endpoint("churn").unwrap();
        assert!(store.captured("churn").unwrap().is_empty());
        assert!(matches!(
            store.endpoint("churn"),
            Err(StorageError::NotFound(_))
        ));
    }
}
