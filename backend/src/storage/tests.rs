//! The store's own tests: records, crash leftovers, migrations, and the
//! invariant that only this module touches files.

use super::*;
use rusqlite::params;

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
        families: Vec::new(),
        ranking_metric: None,
        max_trials: None,
        allowed: Vec::new(),
        left_out: Vec::new(),
        leak_cost: None,
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
fn reopening_marks_queued_forecasts_interrupted_with_the_reason() {
    let dir = tempdir();
    let forecast = |state| api::Forecast {
        id: new_id(),
        dataset_id: new_id(),
        created: "2026-01-01T00:00:00Z".into(),
        request: serde_json::from_value(serde_json::json!({
            "time_column": "day", "target": "y", "horizon": 3
        }))
        .unwrap(),
        state,
        error: None,
        frequency: "daily".into(),
        season: 7,
        windows: 3,
        metric: "MASE".into(),
        items: 1,
        items_left_out: 0,
        notes: Vec::new(),
        board: Vec::new(),
        importance: Vec::new(),
        summary: None,
        elapsed_secs: 0.0,
    };
    let (queued, failed) = (
        forecast(api::BuildState::Queued),
        forecast(api::BuildState::Failed),
    );
    {
        let store = Store::open(&dir).unwrap();
        store.save_forecast(&queued).unwrap();
        store.save_forecast(&failed).unwrap();
    }
    let store = Store::open(&dir).unwrap();
    let read = store.forecast(&queued.id).unwrap();
    assert_eq!(read.state, api::BuildState::Interrupted);
    assert!(read.error.unwrap().contains("the server stopped"));
    assert_eq!(
        store.forecast(&failed.id).unwrap().state,
        api::BuildState::Failed
    );
    assert_eq!(store.list_forecasts(None).unwrap().items.len(), 2);
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
            .unwrap()
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
    let mut file = store.new_file().unwrap();
    std::io::Write::write_all(&mut file, b"partial").unwrap();
    std::mem::forget(file);
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 1);
    drop(store);
    Store::open(&dir).unwrap();
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_being_written_is_removed_when_dropped_and_kept_when_saved() {
    let dir = tempdir();
    let store = Store::open(&dir).unwrap();
    let mut dropped = store.new_file().unwrap();
    std::io::Write::write_all(&mut dropped, b"a,b\n").unwrap();
    drop(dropped);
    let received = store.receive_bytes(b"a,b\n1,2\n").unwrap();
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 1);
    drop(received);
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
    let mut kept = store.new_file().unwrap();
    std::io::Write::write_all(&mut kept, b"x\n1\n").unwrap();
    let id = store.save_predictions(kept).unwrap();
    assert_eq!(store.predictions(&id).unwrap(), b"x\n1\n");
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
    assert!(matches!(
        store.predictions(&new_id()),
        Err(StorageError::NotFound(_))
    ));
    fs::remove_dir_all(&dir).unwrap();
}

fn entry(trial: u32, score: f64) -> api::LeaderboardEntry {
    api::LeaderboardEntry {
        trial,
        family: "linear".into(),
        params: String::new(),
        score,
        score_std: 0.0,
        fit_secs: 0.1,
        predict_us_per_row: 1.0,
        size_bytes: 1,
        finished_secs: 0.2,
    }
}

#[test]
fn trials_are_appended_and_read_back_ranked() {
    let dir = tempdir();
    let store = Store::open(&dir).unwrap();
    let id = new_id();
    let mut b = build(&id, api::BuildState::Running);
    b.higher_is_better = true;
    store.save_build(&b).unwrap();
    for (trial, score) in [(0, 0.7), (1, 0.9), (2, 0.7), (3, 0.8)] {
        b.trials_done += 1;
        let spec = format!("{{\"trial\": {trial}}}");
        store.add_trial(&b, &entry(trial, score), &spec).unwrap();
    }
    let read = store.build(&id).unwrap();
    let order: Vec<u32> = read.leaderboard.iter().map(|e| e.trial).collect();
    assert_eq!(order, [1, 3, 0, 2], "best first, ties in trial order");
    assert_eq!(read.trials_done, 4);
    // The build's own document holds no leaderboard.
    let doc: String = store
        .conn()
        .unwrap()
        .query_row("SELECT doc FROM builds WHERE id = ?1", [&id], |r| r.get(0))
        .unwrap();
    assert!(doc.contains(r#""leaderboard":[]"#), "{doc}");
    // Each trial's spec reads back by its number.
    assert_eq!(
        store.trial_spec(&id, 2).unwrap().as_deref(),
        Some(r#"{"trial": 2}"#)
    );
    assert_eq!(store.trial_spec(&id, 9).unwrap(), None);
    // Updating the state keeps the trials; the list reads them too.
    b.state = api::BuildState::Succeeded;
    store.update_build(&b).unwrap();
    let listed = store.list_builds().unwrap();
    assert_eq!(listed.items[0].leaderboard, read.leaderboard);
    assert_eq!(listed.items[0].state, api::BuildState::Succeeded);
    store.delete_build(&id).unwrap();
    let left: i64 = store
        .conn()
        .unwrap()
        .query_row(
            "SELECT (SELECT count(*) FROM trials) + (SELECT count(*) FROM trial_specs)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leaderboards_inside_old_build_documents_move_to_trials_on_open() {
    let dir = tempdir();
    let (old, running) = (new_id(), new_id());
    {
        // A database as the previous version left it: no trials table, the
        // leaderboard inside each build's document.
        let db = rusqlite::Connection::open(dir.join("kiln.db")).unwrap();
        db.execute_batch(
            "CREATE TABLE builds (id TEXT PRIMARY KEY, created TEXT NOT NULL, state TEXT NOT NULL, doc TEXT NOT NULL);",
        )
        .unwrap();
        for (id, state) in [
            (&old, api::BuildState::Succeeded),
            (&running, api::BuildState::Running),
        ] {
            let mut b = build(id, state);
            b.leaderboard = vec![entry(0, 2.0), entry(1, 1.0)];
            db.execute(
                "INSERT INTO builds (id, created, state, doc) VALUES (?1, ?2, ?3, ?4)",
                params![
                    id,
                    b.created,
                    state.label(),
                    serde_json::to_string(&b).unwrap()
                ],
            )
            .unwrap();
        }
    }
    let store = Store::open(&dir).unwrap();
    let b = store.build(&old).unwrap();
    let order: Vec<u32> = b.leaderboard.iter().map(|e| e.trial).collect();
    assert_eq!(order, [1, 0], "lower is better here");
    let r = store.build(&running).unwrap();
    assert_eq!(
        (r.state, r.leaderboard.len()),
        (api::BuildState::Interrupted, 2)
    );
    let trials: i64 = store
        .conn()
        .unwrap()
        .query_row("SELECT count(*) FROM trials", [], |r| r.get(0))
        .unwrap();
    assert_eq!(trials, 4);
    drop(store);
    // Once: opening again moves nothing twice.
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.build(&old).unwrap().leaderboard, b.leaderboard);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn existence_is_checked_by_key_and_a_dataset_file_opens_by_id() {
    let dir = tempdir();
    let store = Store::open(&dir).unwrap();
    let id = new_id();
    assert!(matches!(
        store.require_dataset(&id),
        Err(StorageError::NotFound(_))
    ));
    // A record whose profile does not read back still exists.
    store
        .conn()
        .unwrap()
        .execute(
            "INSERT INTO datasets (id, created, summary, profile, notes) VALUES (?1, 'x', '{}', 'not json', '[]')",
            [&id],
        )
        .unwrap();
    store.require_dataset(&id).unwrap();
    assert!(store.recipe(&id, None).is_ok());
    fs::remove_dir_all(&dir).unwrap();
}

/// Only `storage` touches the data directory: outside it, no module of
/// the server names a filesystem API (`std::fs`, `tokio::fs`, `File::`,
/// `OpenOptions`). `main.rs` is the one exception: `kiln predict` reads
/// and writes the files its user names, and never the data directory.
#[test]
fn only_storage_touches_files() {
    const NAMES: [&str; 5] = ["std::fs", "tokio::fs", "fs::", "File::", "OpenOptions"];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                if rel != "storage" {
                    dirs.push(path);
                }
                continue;
            }
            if rel == "main.rs" || !rel.ends_with(".rs") {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if NAMES.iter().any(|name| names(code, name)) {
                    found.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "only storage touches files; these lines should call a Store method:\n{}",
        found.join("\n")
    );
}

/// Whether `code` names `name` as a path of its own (not as the end of a
/// longer identifier, as `ServeFile::` ends in `File::`).
fn names(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        !code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiln-store-{}", new_id()));
    fs::create_dir_all(&d).unwrap();
    d
}
