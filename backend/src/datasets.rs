//! Datasets as the domain sees them: creating one from an uploaded file
//! (ingest, Parquet, profile, record), its quality report, and what a column
//! would be as a target.

use std::path::{Path, PathBuf};

use crate::error::{AppError, AppResult};
use crate::storage::{Store, new_id};
use crate::{models, time};
use data::{convert, ingest, profile, quality, recipe};

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
pub fn require_column(profile: &api::Profile, column: &str) -> AppResult<()> {
    if profile.columns.iter().any(|c| c.name == column) {
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
    Ok(quality::report(&frame, target)?)
}

/// The stored dataset with its recipe applied (for a build, with `target`
/// protected from changes).
pub fn prepared(
    parquet: &Path,
    recipe: &api::Recipe,
    target: Option<&str>,
) -> AppResult<recipe::Applied> {
    Ok(recipe::apply(
        ingest::read_parquet(parquet)?,
        recipe,
        target,
    )?)
}

/// The task, classes and missing count of `column` as a target.
pub fn target_info(parquet: &Path, column: &str) -> AppResult<api::TargetInfo> {
    let frame = ingest::read_parquet(parquet)?;
    let (data, _) = convert::one_column(&frame, column)?;
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
