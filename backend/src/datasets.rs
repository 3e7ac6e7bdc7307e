//! Datasets as the domain sees them: creating one from a received file
//! (ingest, profile, prepared columns, record and Parquet file), its rows,
//! its quality report, saving and previewing a recipe, and what a column
//! would be as a target. Every function takes the store and an id: the
//! files are the store's.

use crate::error::{AppError, AppResult};
use crate::plan::PreparedColumns;
use crate::storage::{Received, Store, new_id};
use crate::{models, time};
use data::{convert, ingest, profile, quality, recipe};

/// How the source of a dataset made by a query begins.
pub const POSTGRES_SOURCE: &str = "PostgreSQL query on ";

/// Ingests a received file (removed afterwards) as a new dataset; `sheet`
/// chooses the sheet of a workbook, `source` records where an imported
/// file came from.
pub fn create(
    store: &Store,
    name: &str,
    file_label: &str,
    file: Received,
    options: &ingest::ReadOptions,
    sheet: Option<String>,
    source: Option<String>,
) -> AppResult<api::DatasetDetail> {
    let bytes = file.size();
    let ingested = file
        .read(file_label, options, sheet)
        .map_err(|e| name_file(file_label, e.into()))?;
    drop(file);
    let mut frame = ingested.frame;
    let profile =
        profile::profile(&frame).map_err(|e| AppError::Internal(format!("profile: {e}")))?;
    let prepared = PreparedColumns::of(&frame)?;
    let detail = api::DatasetDetail {
        summary: api::DatasetSummary {
            id: new_id(),
            name: name.to_owned(),
            rows: frame.height() as u64,
            columns: frame.width() as u32,
            bytes,
            created: time::now_rfc3339(),
            source: source.clone(),
        },
        profile,
        notes: match &source {
            // How a query's rows travel is not the person's concern.
            Some(s) if s.starts_with(POSTGRES_SOURCE) => ingested
                .notes
                .into_iter()
                .map(|n| {
                    if n == ingest::format_note(ingest::Format::JsonLines) {
                        "read from the query's rows, each PostgreSQL value as JSON".into()
                    } else {
                        n
                    }
                })
                .collect(),
            _ => ingested.notes,
        },
    };
    store.create_dataset(&detail, &mut frame, &prepared)?;
    Ok(detail)
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

/// A page of the stored rows.
pub fn rows(store: &Store, id: &str, offset: usize, limit: usize) -> AppResult<api::RowsPage> {
    let frame = store.dataset_frame(id)?;
    profile::rows_page(&frame, offset, limit).map_err(|e| AppError::Internal(e.to_string()))
}

/// The data-quality report of the stored dataset (after its latest recipe
/// when `prepared`), with the target checks for `target`.
pub fn quality(
    store: &Store,
    id: &str,
    prepared: bool,
    target: Option<&str>,
) -> AppResult<api::QualityReport> {
    let recipe = if prepared {
        Some(store.recipe(id, None)?.recipe)
    } else {
        if let Some(t) = target {
            require_column(&store.profile(id)?, t)?;
        }
        None
    };
    let mut frame = store.dataset_frame(id)?;
    if let Some(r) = &recipe {
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

/// Checks `recipe` on the dataset and saves it as the next version (or
/// returns the latest, when it is the same), with the columns it prepares.
pub fn save_recipe(store: &Store, id: &str, r: &api::Recipe) -> AppResult<api::RecipeVersion> {
    let applied = recipe::apply(store.dataset_frame(id)?, r, None)?;
    let prepared = PreparedColumns::of(&applied.frame)?;
    drop(applied);
    Ok(store.save_recipe(id, r, &time::now_rfc3339(), &prepared)?)
}

/// What `recipe` would do to the dataset.
pub fn preview(store: &Store, id: &str, r: &api::Recipe) -> AppResult<api::RecipePreview> {
    Ok(recipe::preview(store.dataset_frame(id)?, r)?)
}

/// The task, classes and missing count of `column` as a target.
pub fn target_info(store: &Store, id: &str, column: &str) -> AppResult<api::TargetInfo> {
    require_column(&store.profile(id)?, column)?;
    let frame = store.dataset_frame(id)?;
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
