//! Datasets as the domain sees them: creating one from an uploaded file
//! (ingest, Parquet, profile, record), its quality report, and what a column
//! would be as a target.

use std::path::{Path, PathBuf};

use crate::error::{AppError, AppResult};
use crate::storage::{Store, new_id};
use crate::{convert, ingest, models, profile, quality, recipe, time};

/// Ingests the file at `tmp` (removed afterwards) as a new dataset.
pub fn create(
    store: &Store,
    name: &str,
    file_label: &str,
    tmp: PathBuf,
    bytes: u64,
    options: &ingest::ReadOptions,
) -> AppResult<api::DatasetDetail> {
    let result = (|| {
        let ingested = ingest::read_csv(&tmp, options)
            .map_err(|e| name_file(file_label, AppError::from(e)))?;
        let mut frame = ingested.frame;
        let id = new_id();
        let parquet_tmp = store.temp_path();
        ingest::write_parquet(&mut frame, &parquet_tmp)?;
        let profile =
            profile::profile(&frame).map_err(|e| AppError::Internal(format!("profile: {e}")))?;
        store.persist(&parquet_tmp, &store.dataset_path(&id))?;
        let detail = api::DatasetDetail {
            summary: api::DatasetSummary {
                id,
                name: name.to_owned(),
                rows: frame.height() as u64,
                columns: frame.width() as u32,
                bytes,
                created: time::now_rfc3339(),
            },
            profile,
            notes: ingested.notes,
        };
        store.insert_dataset(&detail)?;
        Ok(detail)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Rewrites the uploaded file at `tmp` (removed) from Latin-1 to UTF-8; returns the new file.
pub fn transcode_latin1(store: &Store, tmp: PathBuf) -> AppResult<PathBuf> {
    let utf8 = store.temp_path();
    let converted = ingest::latin1_to_utf8(&tmp, &utf8);
    let _ = std::fs::remove_file(&tmp);
    if let Err(e) = converted {
        let _ = std::fs::remove_file(&utf8);
        return Err(e.into());
    }
    Ok(utf8)
}

/// The dataset must have `column`, or the request names the one it lacks.
pub fn require_column(detail: &api::DatasetDetail, column: &str) -> AppResult<()> {
    if detail.profile.columns.iter().any(|c| c.name == column) {
        return Ok(());
    }
    Err(AppError::unprocessable(
        "unknown_column",
        format!("the dataset has no column `{column}`"),
    ))
}

/// The data-quality report of the stored dataset (after `recipe`, when
/// given), with the target checks for `target`.
pub fn quality(
    parquet: &Path,
    recipe: Option<&api::Recipe>,
    target: Option<&str>,
) -> AppResult<api::QualityReport> {
    let mut frame = ingest::read_parquet(parquet)?;
    if let Some(r) = recipe {
        frame = recipe::apply(frame, r, None)?.frame;
    }
    if let Some(t) = target
        && frame.column(t).is_err()
    {
        return Err(AppError::unprocessable(
            "unknown_column",
            format!("the prepared dataset has no column `{t}`"),
        ));
    }
    quality::report(&frame, target)
}

/// The stored dataset with its recipe applied (for a build, with `target`
/// protected from changes).
pub fn prepared(
    parquet: &Path,
    recipe: &api::Recipe,
    target: Option<&str>,
) -> AppResult<recipe::Applied> {
    recipe::apply(ingest::read_parquet(parquet)?, recipe, target)
}

/// Checks a build's columns against the prepared dataset: the target and
/// every excluded column must exist, and something must be left to learn from.
pub fn check_build_columns(
    frame: &polars::prelude::DataFrame,
    req: &api::BuildRequest,
) -> AppResult<()> {
    let has = |c: &str| frame.column(c).is_ok();
    if !has(&req.target) {
        return Err(AppError::unprocessable(
            "unknown_column",
            format!(
                "the prepared dataset has no column `{}` (the target)",
                req.target
            ),
        ));
    }
    let unknown: Vec<&str> = req
        .exclude
        .iter()
        .map(String::as_str)
        .filter(|c| !has(c))
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::unprocessable(
            "unknown_column",
            format!(
                "cannot exclude columns the prepared dataset lacks: {}",
                unknown.join(", ")
            ),
        ));
    }
    if req.exclude.contains(&req.target) {
        return Err(AppError::unprocessable(
            "invalid_exclude",
            "the target cannot be excluded",
        ));
    }
    if frame.width() <= 1 + req.exclude.len() {
        return Err(AppError::unprocessable(
            "no_features",
            "no columns are left to learn from besides the target",
        ));
    }
    let used = frame
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .filter(|n| !req.exclude.iter().any(|e| e == n));
    check_magnitudes(frame, used)
}

/// The numeric columns among `columns` must be small enough for training:
/// the engine keeps each column's mean and spread in the model, from plain
/// sums of the numbers and of their squared deviations, which overflow a
/// double for numbers beyond about ±1e154 (their squares pass ±1.8e308). A
/// model holding such an infinite statistic could not be saved, so the build
/// is refused before it starts, naming the column. Infinite values
/// themselves are fine: they are missing to training.
pub fn check_magnitudes<'a>(
    frame: &polars::prelude::DataFrame,
    columns: impl Iterator<Item = &'a str>,
) -> AppResult<()> {
    for name in columns {
        let Ok(c) = frame.column(name) else {
            continue;
        };
        if !c.dtype().is_primitive_numeric() {
            continue;
        }
        let v: Vec<f64> = convert::numbers(c)?
            .into_iter()
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            continue;
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let spread = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
        if mean.is_finite() && spread.is_finite() {
            continue;
        }
        let largest = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        return Err(AppError::unprocessable(
            "numbers_too_large",
            format!(
                "column `{name}` holds numbers too large to train on (up to ±{largest:e}; beyond about ±1e154 their sums overflow a double): rescale it (a log step in the recipe does) or exclude it"
            ),
        ));
    }
    Ok(())
}

/// The task, classes and missing count of `column` as a target.
pub fn target_info(parquet: &Path, column: &str) -> AppResult<api::TargetInfo> {
    let frame = ingest::read_parquet(parquet)?;
    let col = frame
        .column(column)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let one = polars::prelude::DataFrame::new_infer_height(vec![col.clone()])
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let data = convert::frame_to_dataset(&one)?;
    let values = data.require(column)?;
    let task = automl::detect_task(column, values)?;
    let (target, _) = automl::Target::encode(column, values, task)?;
    let classes = match target {
        automl::Target::Classes { classes, .. } => classes,
        automl::Target::Regression(_) => Vec::new(),
    };
    // Infinite numbers count as missing: training leaves those rows out.
    let missing = (0..values.len()).filter(|&i| values.is_missing(i)).count();
    Ok(api::TargetInfo {
        task: models::to_api_task(task),
        classes,
        missing: missing as u64,
    })
}

/// Names the file in a message about its content.
pub fn name_file(file_label: &str, e: AppError) -> AppError {
    match e {
        AppError::Unprocessable {
            code,
            message,
            details,
        } => AppError::Unprocessable {
            code,
            message: format!("{file_label}: {message}"),
            details,
        },
        other => other,
    }
}
