//! Explore on request (`GET /api/datasets/{id}/explore`): the dataset as
//! uploaded through `data::explore`, never stored.

use data::explore::{MAX_K, Query};

use crate::error::{AppError, AppResult};
use crate::models::{csv_line, text_columns};
use crate::storage::Store;

/// Reads `?column=a&column=b&k=3&colour=c&seed=7&format=json|csv` (repeated
/// keys through `form_urlencoded`); 400 for a key it does not know or a
/// number it cannot read. `format=csv` asks for the rows with their segment
/// and unusual score.
pub fn parse(raw: Option<&str>) -> AppResult<(Query, bool)> {
    let mut q = Query::default();
    let mut csv = false;
    let whole = |key: &str, v: &str| {
        v.trim().parse::<u64>().map_err(|_| {
            AppError::bad_request(
                "invalid_query",
                format!("`{key}` must be a whole number, not “{v}”"),
            )
        })
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "column" => q.columns.push(value),
            "k" if value.is_empty() || value == "auto" => q.k = None,
            "k" => {
                let k = whole("k", &value)?;
                q.k = Some(usize::try_from(k).unwrap_or(usize::MAX).min(MAX_K * 1000));
            }
            "colour" | "color" => q.colour = Some(value).filter(|c| !c.is_empty()),
            "seed" => q.seed = Some(whole("seed", &value)?),
            "format" => {
                csv = match value.as_str() {
                    "json" => false,
                    "csv" => true,
                    other => {
                        return Err(AppError::bad_request(
                            "invalid_query",
                            format!("`format` is json or csv, not “{other}”"),
                        ));
                    }
                }
            }
            other => {
                return Err(AppError::bad_request(
                    "invalid_query",
                    format!("unknown parameter `{other}`: use column, k, colour, seed, format"),
                ));
            }
        }
    }
    Ok((q, csv))
}

/// Explore dataset `id` as uploaded.
pub fn explore(store: &Store, id: &str, q: &Query) -> AppResult<api::Explore> {
    let frame = store.dataset_frame(id)?;
    Ok(data::explore::explore(&frame, q)?)
}

/// The rows of dataset `id` as uploaded, each with its `segment` (from 1,
/// as the report numbers them) and `unusual_score`, as CSV.
pub fn rows_csv(store: &Store, id: &str, q: &Query) -> AppResult<Vec<u8>> {
    let frame = store.dataset_frame(id)?;
    let dataset = data::convert::frame_to_dataset(&frame)?;
    let found = data::explore::explore_dataset(&dataset, q)?;
    let text = text_columns(&frame)?;
    let mut header: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(["segment".to_owned(), "unusual_score".to_owned()]);
    let mut out = csv_line(&header) + "\n";
    for r in 0..dataset.n_rows() {
        let mut cells: Vec<String> = text
            .iter()
            .map(|c| c[r].clone().unwrap_or_default())
            .collect();
        cells.push((found.of_row[r] + 1).to_string());
        cells.push(found.scores[r].to_string());
        out.push_str(&csv_line(&cells));
        out.push('\n');
    }
    Ok(out.into_bytes())
}
