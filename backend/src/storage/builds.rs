//! Builds and their trials. A build is a row of `builds` whose document
//! holds everything but the leaderboard; each finished trial is a row of
//! `trials (build_id, trial, doc)`, appended as it finishes, so progress
//! never rewrites what came before. Reading a build puts its leaderboard
//! back together, ranked ([`crate::leaderboard::rank`]).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::{
    Listed, Result, StorageError, Store, first_non_finite, from_json, is_valid_id, skip, to_json,
};
use crate::leaderboard;

const INTERRUPTED_MESSAGE: &str =
    "the server stopped while this build was running; start it again to retry";

impl Store {
    /// Saves the whole build: its record, and its leaderboard as its
    /// trials (replacing any stored before).
    pub fn save_build(&self, b: &api::Build) -> Result<()> {
        let what = format!("build {}", b.id);
        // Checked whole, so that a refusal names the entry (`leaderboard[2].score`).
        if let Some(found) = first_non_finite(b) {
            return Err(StorageError::NonFinite { what, found });
        }
        let doc = build_doc(&what, b)?;
        let trials = b
            .leaderboard
            .iter()
            .map(|t| Ok((t.trial, to_json(&what, t)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        upsert(&tx, b, &doc)?;
        tx.execute("DELETE FROM trials WHERE build_id = ?1", [&b.id])?;
        for (trial, doc) in trials {
            tx.execute(
                "INSERT INTO trials (build_id, trial, doc) VALUES (?1, ?2, ?3)",
                params![b.id, trial, doc],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Saves the build's record (its state, message, counts), leaving its
    /// stored trials as they are.
    pub fn update_build(&self, b: &api::Build) -> Result<()> {
        let doc = build_doc(&format!("build {}", b.id), b)?;
        let conn = self.conn()?;
        upsert(&conn, b, &doc)
    }

    /// Appends `trial` to the build's trials, with the engine's `spec` of
    /// it (what trains it again, `automl::retrain`), and saves the build's
    /// record, at once.
    pub fn add_trial(
        &self,
        b: &api::Build,
        trial: &api::LeaderboardEntry,
        spec: &str,
    ) -> Result<()> {
        let doc = build_doc(&format!("build {}", b.id), b)?;
        let entry = to_json(&format!("trial {} of build {}", trial.trial, b.id), trial)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO trials (build_id, trial, doc) VALUES (?1, ?2, ?3)",
            params![b.id, trial.trial, entry],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO trial_specs (build_id, trial, spec) VALUES (?1, ?2, ?3)",
            params![b.id, trial.trial, spec],
        )?;
        upsert(&tx, b, &doc)?;
        tx.commit()?;
        Ok(())
    }

    /// The engine's spec of a trial of the build; `None` for a trial it
    /// does not have, or one finished before specs were kept.
    pub fn trial_spec(&self, build_id: &str, trial: u32) -> Result<Option<String>> {
        if !is_valid_id(build_id) {
            return Ok(None);
        }
        Ok(self
            .conn()?
            .query_row(
                "SELECT spec FROM trial_specs WHERE build_id = ?1 AND trial = ?2",
                params![build_id, trial],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The build with its leaderboard, ranked.
    pub fn build(&self, id: &str) -> Result<api::Build> {
        let not_found = || StorageError::NotFound(format!("build {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let conn = self.conn()?;
        let doc: Option<String> = conn
            .query_row("SELECT doc FROM builds WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let doc = doc.ok_or_else(not_found)?;
        let mut stmt = conn.prepare("SELECT doc FROM trials WHERE build_id = ?1")?;
        let trials = stmt
            .query_map([id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        assemble(id, &doc, &trials)
    }

    /// Every build that reads back, newest first, with its leaderboard.
    pub fn list_builds(&self) -> Result<Listed<api::Build>> {
        let conn = self.conn()?;
        let mut trials: HashMap<String, Vec<String>> = HashMap::new();
        let mut stmt = conn.prepare("SELECT build_id, doc FROM trials")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (id, doc) = row?;
            trials.entry(id).or_default().push(doc);
        }
        let mut stmt = conn.prepare("SELECT id, doc FROM builds ORDER BY created DESC, id")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut listed = Listed {
            items: Vec::new(),
            unreadable: Vec::new(),
        };
        for (id, doc) in rows {
            let own = trials.remove(&id).unwrap_or_default();
            match assemble(&id, &doc, &own) {
                Ok(b) => listed.items.push(b),
                Err(e) => skip("build", &id, &e, &mut listed.unreadable),
            }
        }
        Ok(listed)
    }

    /// Deletes the build's record and trials, readable or not. Its model stays.
    pub fn delete_build(&self, id: &str) -> Result<()> {
        let not_found = || StorageError::NotFound(format!("build {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx.execute("DELETE FROM builds WHERE id = ?1", [id])? == 0 {
            return Err(not_found());
        }
        tx.execute("DELETE FROM trials WHERE build_id = ?1", [id])?;
        tx.execute("DELETE FROM trial_specs WHERE build_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Marks the builds that were queued or running `interrupted`, in
    /// their documents as they are (a document that does not read as a
    /// build keeps its leaderboard and its other fields).
    pub(super) fn mark_interrupted(&self) -> Result<()> {
        self.interrupt_live("builds", "message", INTERRUPTED_MESSAGE)
    }
}

/// The build's document: the build with an empty leaderboard (its entries
/// are rows of `trials`).
fn build_doc(what: &str, b: &api::Build) -> Result<String> {
    let record = api::Build {
        leaderboard: Vec::new(),
        ..b.clone()
    };
    to_json(what, &record)
}

fn upsert(conn: &Connection, b: &api::Build, doc: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO builds (id, created, state, doc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc",
        params![b.id, b.created, b.state.label(), doc],
    )?;
    Ok(())
}

/// A build from its document and its trials' documents; the leaderboard
/// ranked. A trial that does not read back makes the build unreadable.
fn assemble(id: &str, doc: &str, trials: &[String]) -> Result<api::Build> {
    let mut build: api::Build = from_json("build", id, doc)?;
    for t in trials {
        build.leaderboard.push(from_json("build", id, t)?);
    }
    leaderboard::rank(&mut build.leaderboard, build.higher_is_better);
    Ok(build)
}

/// Moves the leaderboards that earlier versions kept inside build
/// documents into `trials`, once per database (`PRAGMA user_version` 0 to
/// 1). Works on the JSON as it is, so a document that does not read as a
/// build still moves (and still does not read back); one that is not JSON
/// stays as it is.
pub(super) fn move_leaderboards(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= 1 {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows: Vec<(String, String)> = {
        let mut stmt = tx.prepare("SELECT id, doc FROM builds")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut moved = 0;
    for (id, doc) in rows {
        let Ok(mut doc) = serde_json::from_str::<Value>(&doc) else {
            continue;
        };
        let Some(board) = doc.get_mut("leaderboard").and_then(Value::as_array_mut) else {
            continue;
        };
        if board.is_empty() {
            continue;
        }
        for (i, entry) in std::mem::take(board).iter().enumerate() {
            let trial = entry
                .get("trial")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64);
            tx.execute(
                "INSERT OR REPLACE INTO trials (build_id, trial, doc) VALUES (?1, ?2, ?3)",
                params![id, trial as i64, entry.to_string()],
            )?;
        }
        tx.execute(
            "UPDATE builds SET doc = ?2 WHERE id = ?1",
            params![id, doc.to_string()],
        )?;
        moved += 1;
    }
    tx.pragma_update(None, "user_version", 1)?;
    tx.commit()?;
    if moved > 0 {
        tracing::info!(builds = moved, "moved leaderboards into the trials table");
    }
    Ok(())
}
