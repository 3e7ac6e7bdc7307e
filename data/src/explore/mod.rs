//! Explore: segments (linfa-clustering's k-means, k by linfa's silhouette),
//! a map of the rows (linfa-reduction's PCA) and unusual rows (an
//! isolation forest, [`iforest`]), on the scaled encoding of
//! [`automl::segments::Encoding`], before any target is chosen.
//!
//! Large tables are read through seeded samples, and the answer says so:
//! the encoding's means and scales and the segment sizes are exact on every
//! row; k is chosen on [`CHOOSE_ROWS`] rows, k-means fits on at most
//! [`FIT_ROWS`], the PCA on at most [`SAMPLE_ROWS`], and the map draws at
//! most [`MAP_POINTS`]; every row is then put in its nearest segment and
//! scored for how unusual it is.

mod map;
mod segments;
mod unusual;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use api::display;
use automl::iforest;
use automl::segments::{Encoding, Input, Segments, Unusable};
use automl::{Column, Dataset};
use ndarray::{Array2, ArrayView1};
use polars::prelude::DataFrame;

use map::row_map;
pub use segments::fit_segments;
use segments::{choose_k, describe_segments};
pub use unusual::unusual_scores;
use unusual::{score_rows, unusual_rows};

use crate::convert;
use crate::error::{Error, Result};
use crate::stats::sample_rows;

/// k is chosen among 2..=`MAX_AUTO_K` by silhouette.
pub const MAX_AUTO_K: usize = 8;
/// The largest k a user may set.
pub const MAX_K: usize = 20;
/// Rows the silhouette of each k is measured on.
pub const CHOOSE_ROWS: usize = 1_500;
/// Rows k-means fits its centres on.
pub const FIT_ROWS: usize = 20_000;
/// Rows the PCA is fitted on.
pub const SAMPLE_ROWS: usize = 50_000;
/// Points the map draws.
pub const MAP_POINTS: usize = 2_000;
/// A category column with more distinct values is left out.
pub const MAX_DISTINCT: usize = 100;
/// Rows scoring at least this are unusual.
pub const UNUSUAL_SCORE: f64 = 0.65;
/// Unusual rows listed.
pub const UNUSUAL_LISTED: usize = 10;
/// Below this best silhouette the answer says the groups are not clear.
pub const WEAK_SILHOUETTE: f64 = 0.25;
/// The default seed.
pub const SEED: u64 = 42;

/// What to explore.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The columns to read (every column when empty).
    pub columns: Vec<String>,
    /// The number of segments (chosen by silhouette when `None`).
    pub k: Option<usize>,
    /// A column to colour the map by.
    pub colour: Option<String>,
    pub seed: Option<u64>,
}

fn refuse(code: &'static str, message: String) -> Error {
    Error::unprocessable(code, message)
}

/// The columns to read: the request's (each must exist), or every column;
/// categories with more than [`MAX_DISTINCT`] values are left out.
fn choose_columns(data: &Dataset, query: &Query) -> Result<(Vec<String>, Vec<api::LeftOut>)> {
    let asked: Vec<String> = if query.columns.is_empty() {
        data.names().to_vec()
    } else {
        for c in &query.columns {
            if data.column(c).is_none() {
                return Err(refuse(
                    "unknown_column",
                    format!("There is no column `{c}` in this table."),
                ));
            }
        }
        data.names()
            .iter()
            .filter(|n| query.columns.contains(n))
            .cloned()
            .collect()
    };
    let mut keep = Vec::new();
    let mut left_out = Vec::new();
    for name in asked {
        if let Some(Column::Categorical(v)) = data.column(&name) {
            let mut seen = HashSet::new();
            for l in v.iter().flatten() {
                seen.insert(l.as_str());
                if seen.len() > MAX_DISTINCT {
                    break;
                }
            }
            if seen.len() > MAX_DISTINCT {
                left_out.push(api::LeftOut {
                    column: name,
                    reason: format!(
                        "more than {MAX_DISTINCT} different values: too many to compare (an identifier, a date or free text)"
                    ),
                });
                continue;
            }
        }
        keep.push(name);
    }
    Ok((keep, left_out))
}

/// Explore `frame`.
pub fn explore(frame: &DataFrame, query: &Query) -> Result<api::Explore> {
    let data = convert::frame_to_dataset(frame)?;
    Ok(explore_dataset(&data, query)?.report)
}

/// What [`explore_dataset`] found, with what the report only summarises.
#[derive(Debug)]
pub struct Explored {
    pub report: api::Explore,
    /// The fitted segments (centres in report order).
    pub segments: Segments,
    /// The segment (from 0) of every row.
    pub of_row: Vec<usize>,
    /// The isolation forest's score of every row.
    pub scores: Vec<f64>,
}

/// Explore a dataset.
pub fn explore_dataset(data: &Dataset, query: &Query) -> Result<Explored> {
    let started = Instant::now();
    let n = data.n_rows();
    if n < 3 {
        return Err(refuse(
            "too_few_rows",
            format!(
                "Explore needs at least 3 rows to compare; this table has {}.",
                display::plural(n as u64, "row", "rows")
            ),
        ));
    }
    if let Some(k) = query.k {
        if !(2..=MAX_K).contains(&k) {
            return Err(refuse(
                "bad_k",
                format!("The number of segments must be between 2 and {MAX_K}; it was {k}."),
            ));
        }
        if k > n {
            return Err(refuse(
                "k_too_large",
                format!(
                    "{k} segments cannot be made from {}: choose at most {n}.",
                    display::plural(n as u64, "row", "rows")
                ),
            ));
        }
    }
    if let Some(c) = &query.colour
        && data.column(c).is_none()
    {
        return Err(refuse(
            "unknown_column",
            format!("There is no column `{c}` to colour the map by."),
        ));
    }
    let seed = query.seed.unwrap_or(SEED);
    let Encoded {
        encoding,
        left_out,
        x: x_all,
    } = encode(data, query)?;
    if encoding.inputs.is_empty() {
        let why: Vec<String> = left_out
            .iter()
            .map(|l| format!("`{}`: {}", l.column, l.reason))
            .collect();
        return Err(refuse(
            "no_usable_columns",
            format!(
                "No column can be compared across rows{}",
                if why.is_empty() {
                    ".".to_owned()
                } else {
                    format!(": {}.", why.join("; "))
                }
            ),
        ));
    }
    let used: Vec<String> = encoding
        .inputs
        .iter()
        .map(|i| i.column().to_owned())
        .collect();
    let width = encoding.width();
    let mut method = vec![describe_encoding(&encoding)];

    // Segments.
    let distinct = distinct_rows(&x_all, width, query.k.unwrap_or(MAX_AUTO_K) + 1);
    if let Some(k) = query.k
        && k > distinct
    {
        return Err(refuse(
            "k_too_large",
            format!(
                "{k} segments cannot be made: the rows take only {distinct} different values in these columns."
            ),
        ));
    }
    let (k, silhouette, chosen) = match query.k {
        Some(k) => (k, Vec::new(), "set by you".to_owned()),
        None => choose_k(&x_all, width, distinct, seed)?,
    };
    let (segments, of_row, fitted_on) = fit_segments(&encoding, &x_all, k, seed)?;
    method.push(format!(
        "Segments: k-means (linfa-clustering, k-means++ starts, seed {seed}) fitted on {}; every row then joins the segment of its nearest centre.",
        sampled(fitted_on, n)
    ));
    let described = describe_segments(data, &encoding, &of_row, k);

    // Map.
    let sample = sample_rows(n, SAMPLE_ROWS, seed ^ 0x9ca);
    let map = if width >= 2 {
        Some(row_map(
            data,
            &encoding,
            &matrix(&x_all, width, &sample),
            &sample,
            &of_row,
            query.colour.as_deref(),
            seed,
            n,
            &mut method,
        )?)
    } else {
        None
    };

    // Unusual rows.
    let scores = score_rows(&x_all, width, &sample, seed);
    let unusual = unusual_rows(data, &encoding, &scores, n);

    let report = api::Explore {
        rows: n as u64,
        columns: used,
        left_out,
        method,
        segments: api::Segments {
            k: k as u32,
            chosen,
            silhouette,
            seed,
            segments: described,
        },
        map,
        unusual: api::Unusual {
            method: format!(
                "Isolation forest written for Kiln: {} trees, each on {} drawn from {}, seed {seed}; every row scored.",
                iforest::TREES,
                display::plural(sample.len().min(iforest::TREE_ROWS) as u64, "row", "rows"),
                sampled(sample.len(), n)
            ),
            ..unusual
        },
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(Explored {
        report,
        segments,
        of_row,
        scores,
    })
}

/// The rows as numbers: the columns read, those left out with why, the
/// encoding fitted on every row and every row encoded (row-major).
struct Encoded {
    encoding: Encoding,
    left_out: Vec<api::LeftOut>,
    x: Vec<f64>,
}

fn encode(data: &Dataset, query: &Query) -> Result<Encoded> {
    let (columns, mut left_out) = choose_columns(data, query)?;
    let (encoding, unusable) = Encoding::fit(data, &columns, None)?;
    for (column, why) in unusable {
        let reason = match why {
            Unusable::Empty => "every value is missing",
            Unusable::Constant => "the same value in every row",
        };
        left_out.push(api::LeftOut {
            column,
            reason: reason.into(),
        });
    }
    let x = encoding.encode(data, &(0..data.n_rows()).collect::<Vec<_>>())?;
    Ok(Encoded {
        encoding,
        left_out,
        x,
    })
}

/// `rows` of the row-major `x` (`width` numbers a row) as a matrix.
fn matrix(x: &[f64], width: usize, rows: &[usize]) -> Array2<f64> {
    let mut m = Array2::zeros((rows.len(), width));
    for (i, &r) in rows.iter().enumerate() {
        m.row_mut(i)
            .assign(&ArrayView1::from(&x[r * width..(r + 1) * width]));
    }
    m
}

/// "1,500 of 336,776 rows (a seeded sample)", or "all 344 rows".
fn sampled(used: usize, n: usize) -> String {
    if used >= n {
        format!("all {}", display::plural(n as u64, "row", "rows"))
    } else {
        format!(
            "{} of {} rows (a seeded sample)",
            display::count(used as u64),
            display::count(n as u64)
        )
    }
}

fn describe_encoding(encoding: &Encoding) -> String {
    let numbers = encoding
        .inputs
        .iter()
        .filter(|i| matches!(i, Input::Number { .. }))
        .count();
    let categories = encoding.inputs.len() - numbers;
    let mut parts = Vec::new();
    if numbers > 0 {
        parts.push(format!(
            "{} scaled to mean 0 and standard deviation 1, a missing number read as the mean",
            display::plural(numbers as u64, "number column", "number columns"),
        ));
    }
    if categories > 0 {
        parts.push(format!(
            "{} as a 0/1 column for each of {} {} most frequent values (other and missing values are 0 in all of them)",
            display::plural(categories as u64, "category column", "category columns"),
            if categories == 1 { "its" } else { "their" },
            automl::segments::MAX_LEVELS,
        ));
    }
    format!(
        "{}; {} a row.",
        parts.join("; "),
        display::plural(encoding.width() as u64, "number", "numbers")
    )
}

/// How many different rows `x` holds, counted up to `cap`.
fn distinct_rows(x: &[f64], width: usize, cap: usize) -> usize {
    let mut seen = HashSet::new();
    for row in x.chunks_exact(width) {
        seen.insert(row.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        if seen.len() >= cap {
            break;
        }
    }
    seen.len()
}

/// The adjusted Rand index of two labellings of the same rows (Hubert and
/// Arabie's, by pair counts over the contingency table, as scikit-learn's
/// `adjusted_rand_score`): 1 for the same partition, about 0 for chance.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len());
    let pairs = |c: u64| (c * c.saturating_sub(1) / 2) as f64;
    let mut table: HashMap<(usize, usize), u64> = HashMap::new();
    let (mut rows, mut cols): (HashMap<usize, u64>, HashMap<usize, u64>) = Default::default();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = table.values().map(|&c| pairs(c)).sum();
    let sum_a: f64 = rows.values().map(|&c| pairs(c)).sum();
    let sum_b: f64 = cols.values().map(|&c| pairs(c)).sum();
    let expected = sum_a * sum_b / pairs(a.len() as u64).max(1.0);
    let max = (sum_a + sum_b) / 2.0;
    // One cluster each, or every row its own: the partitions agree trivially.
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}
