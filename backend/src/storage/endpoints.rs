//! Endpoints: the record (`endpoints`, one JSON document per name: its
//! variants, shadow and capture settings) and its captured traffic, JSON
//! Lines files under `captures/{name}/`, each row one line. Files rotate
//! at a tenth of the endpoint's row cap; the oldest are removed once the
//! rows kept pass the cap. `capture_files` counts each file's rows, so the
//! cap is kept without reading the files. A capture is best effort for its
//! caller (a failure is logged, the request answered), and a torn last
//! line after a crash is skipped when the rows are read back.
//!
//! A request only hands its rows to a buffer in memory (`capture`); they
//! are written in batches, one file append and one transaction per endpoint
//! and batch, by `flush_captures`, which a background thread calls every
//! `FLUSH_EVERY` and every read of the captures calls first, so a reader
//! always sees every row captured before it. A crash loses at most the
//! rows of the last `FLUSH_EVERY`; past `PENDING_CAP` rows waiting, new
//! rows are dropped and counted, never the request.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

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

/// How often the background thread writes the captured rows waiting.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Rows waiting to be written, over all endpoints, past which new rows are
/// dropped (and counted) rather than held.
const PENDING_CAP: usize = 200_000;

/// Captured rows not yet written, by endpoint.
#[derive(Default)]
pub(super) struct Pending {
    rows: HashMap<String, Batch>,
    waiting: usize,
    dropped: u64,
}

struct Batch {
    rows: Vec<serde_json::Value>,
    max_rows: u64,
}

/// Writes the captures waiting every `FLUSH_EVERY`, for as long as the
/// store is open (the thread holds it weakly, and ends with it).
pub fn start_capture_writer(store: &Arc<Store>) {
    let weak: Weak<Store> = Arc::downgrade(store);
    let spawned = std::thread::Builder::new()
        .name("kiln-capture".into())
        .spawn(move || {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                let Some(store) = weak.upgrade() else { break };
                if let Err(e) = store.flush_captures() {
                    tracing::warn!(error = %e, "writing captured rows");
                }
            }
        });
    if let Err(e) = spawned {
        // Reads still flush what waits; only the delay is unbounded.
        tracing::warn!(error = %e, "no capture writer thread");
    }
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
        // No batch is being written meanwhile, and none waits for it after.
        let _guard = self
            .capture_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        {
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(b) = p.rows.remove(name) {
                p.waiting -= b.rows.len();
            }
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
        self.flush_captures()?;
        let rows: i64 = self.conn()?.query_row(
            "SELECT COALESCE(SUM(rows), 0) FROM capture_files WHERE endpoint = ?1",
            [name],
            |r| r.get(0),
        )?;
        Ok(rows.max(0) as u64)
    }

    /// Hands captured rows (each one JSON value, to be written as a line)
    /// to the writer; the endpoint keeps at most `max_rows`.
    pub fn capture(&self, name: &str, rows: &[serde_json::Value], max_rows: u64) -> Result<()> {
        if !is_valid_name(name) {
            return Err(not_found(name));
        }
        if rows.is_empty() || max_rows == 0 {
            return Ok(());
        }
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if p.waiting + rows.len() > PENDING_CAP {
            p.dropped += rows.len() as u64;
            return Err(StorageError::Backlog(format!(
                "{} captured rows are waiting to be written; these {} are dropped ({} so far)",
                p.waiting,
                rows.len(),
                p.dropped
            )));
        }
        p.waiting += rows.len();
        let batch = p.rows.entry(name.to_owned()).or_insert_with(|| Batch {
            rows: Vec::new(),
            max_rows,
        });
        batch.max_rows = max_rows;
        batch.rows.extend_from_slice(rows);
        Ok(())
    }

    /// Writes every captured row waiting. Rows of an endpoint deleted
    /// meanwhile are dropped with it.
    pub fn flush_captures(&self) -> Result<()> {
        // One flush at a time, so batches are written in the order taken.
        let _guard = self
            .capture_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let taken = {
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            p.waiting = 0;
            std::mem::take(&mut p.rows)
        };
        let mut first_error = None;
        for (name, batch) in taken {
            if let Err(e) = self.write_captures(&name, &batch.rows, batch.max_rows) {
                tracing::warn!(endpoint = %name, rows = batch.rows.len(), error = %e, "captured rows lost");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Appends rows to the endpoint's newest file, rotating files and
    /// dropping the oldest past `max_rows`. The caller holds `capture_lock`.
    fn write_captures(&self, name: &str, rows: &[serde_json::Value], max_rows: u64) -> Result<()> {
        let per_file = (max_rows / 10).clamp(1, 10_000) as i64;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM endpoints WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            return Ok(());
        }
        let dir = self.capture_dir(name);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let last: Option<(i64, i64)> = tx
            .query_row(
                "SELECT seq, rows FROM capture_files WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (mut seq, mut already) = match last {
            Some((seq, n)) if n < per_file => (seq, n),
            Some((seq, _)) => (seq + 1, 0),
            None => (0, 0),
        };
        // A batch fills the newest file up to `per_file`, then starts the next.
        let mut rest = rows;
        while !rest.is_empty() {
            let room = (per_file - already).max(1) as usize;
            let (now, later) = rest.split_at(room.min(rest.len()));
            let path = dir.join(format!("{seq:010}.jsonl"));
            let mut text = String::new();
            for row in now {
                text.push_str(&row.to_string());
                text.push('\n');
            }
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io(&path))?;
            file.write_all(text.as_bytes()).map_err(io(&path))?;
            tx.execute(
                "INSERT OR REPLACE INTO capture_files (endpoint, seq, rows) VALUES (?1, ?2, ?3)",
                params![name, seq, already + now.len() as i64],
            )?;
            rest = later;
            if !rest.is_empty() {
                seq += 1;
                already = 0;
            }
        }
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
        self.flush_captures()?;
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
            bias: None,
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
            // Batches of any size: some flushed one request at a time.
            if i < 4 || i % 7 == 0 {
                store.flush_captures().unwrap();
            }
        }
        let kept = store.captured("churn").unwrap();
        let n = store.captured_rows("churn").unwrap();
        assert_eq!(kept.len() as u64, n);
        assert!((45..=50).contains(&n), "{n} rows kept");
        // The newest rows are the ones kept.
        assert_eq!(kept.last().unwrap()["n"], 89);
        // Rows still waiting when the endpoint goes are dropped with it, and
        // an endpoint made again under the name starts empty.
        store
            .capture("churn", &[serde_json::json!({ "n": 90 })], 50)
            .unwrap();
        store.delete_endpoint("churn").unwrap();
        assert!(store.captured("churn").unwrap().is_empty());
        assert!(matches!(
            store.endpoint("churn"),
            Err(StorageError::NotFound(_))
        ));
        assert!(store.create_endpoint(&endpoint("churn")).unwrap());
        assert_eq!(store.captured_rows("churn").unwrap(), 0);
        // Rows for an endpoint that does not exist are not written.
        store
            .capture("gone", &[serde_json::json!({ "n": 1 })], 50)
            .unwrap();
        store.flush_captures().unwrap();
        assert!(!store.root.join("captures").join("gone").exists());
    }

    #[test]
    fn a_capture_backlog_drops_rows_not_requests() {
        let store = Store::throwaway().expect("store");
        assert!(store.create_endpoint(&endpoint("busy")).unwrap());
        let rows = vec![serde_json::json!({ "n": 1 }); PENDING_CAP];
        store.capture("busy", &rows, 1_000_000).unwrap();
        let refused = store.capture("busy", &rows[..10], 1_000_000);
        assert!(
            matches!(&refused, Err(StorageError::Backlog(m)) if m.contains("dropped")),
            "{refused:?}"
        );
        // Once written, there is room again.
        store.flush_captures().unwrap();
        store.capture("busy", &rows[..10], 1_000_000).unwrap();
        assert_eq!(
            store.captured_rows("busy").unwrap(),
            PENDING_CAP as u64 + 10
        );
    }
}
