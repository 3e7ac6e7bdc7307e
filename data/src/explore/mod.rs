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

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use api::display;
use automl::iforest;
use automl::segments::{Encoding, Input, Segments, Unusable};
use automl::segments::{kmeans, principal_components, silhouette};
use automl::{Column, Dataset};
use ndarray::{Array1, Array2};
use polars::prelude::DataFrame;

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
    let all: Vec<usize> = (0..n).collect();
    let x_all = encoding.encode(data, &all)?;
    let matrix = |rows: &[usize]| -> Array2<f64> {
        let mut m = Array2::zeros((rows.len(), width));
        for (i, &r) in rows.iter().enumerate() {
            m.row_mut(i)
                .assign(&Array1::from(x_all[r * width..(r + 1) * width].to_vec()));
        }
        m
    };
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
    let choose = sample_rows(n, CHOOSE_ROWS, seed ^ 0x5e9);
    let (k, silhouette, chosen) = match query.k {
        Some(k) => (k, Vec::new(), "set by you".to_owned()),
        None => {
            let x = matrix(&choose);
            let top = MAX_AUTO_K.min(distinct).min(choose.len() - 1);
            let mut scores = Vec::new();
            for k in 2..=top.max(2) {
                let (_, labels) = kmeans(&x, k, seed, 3)?;
                let s = silhouette(&x, labels)?;
                scores.push(api::KScore {
                    k: k as u32,
                    silhouette: s,
                });
            }
            let best = scores
                .iter()
                .fold(None::<api::KScore>, |b, s| match b {
                    Some(b) if b.silhouette >= s.silhouette => Some(b),
                    _ => Some(*s),
                })
                .map_or(2, |b| b.k as usize);
            let mut chosen = format!(
                "by silhouette, the best of k = 2 to {} on {}",
                top.max(2),
                sampled(choose.len(), n)
            );
            let s = scores
                .iter()
                .find(|s| s.k as usize == best)
                .map_or(0.0, |s| s.silhouette);
            if s < WEAK_SILHOUETTE {
                chosen.push_str(&format!(
                    "; at {} the rows form no clearly separate groups (0.5 and above is clear structure), so the segments are slices of one cloud",
                    display::number((s * 100.0).round() / 100.0)
                ));
            }
            (best, scores, chosen)
        }
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
            &matrix(&sample),
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

/// k-means' `k` segments of the encoded rows `x_all` (row-major, in
/// `encoding`'s numbers): centres fitted by linfa on at most [`FIT_ROWS`]
/// seeded rows, numbered largest first over every row. Returns them, each
/// row's segment and the rows fitted on. The recipe's "add segments" step
/// fits through here too, so a model's segments are Explore's.
pub fn fit_segments(
    encoding: &Encoding,
    x_all: &[f64],
    k: usize,
    seed: u64,
) -> Result<(Segments, Vec<usize>, usize)> {
    let width = encoding.width();
    let n = x_all.len() / width.max(1);
    let fit_rows = sample_rows(n, FIT_ROWS, seed ^ 0xf17);
    let mut x = Array2::zeros((fit_rows.len(), width));
    for (i, &r) in fit_rows.iter().enumerate() {
        x.row_mut(i)
            .assign(&Array1::from(x_all[r * width..(r + 1) * width].to_vec()));
    }
    let runs = if fit_rows.len() > 5_000 { 3 } else { 10 };
    let (centres, _) = kmeans(&x, k, seed, runs)?;
    let centroids: Vec<Vec<f64>> = centres.rows().into_iter().map(|r| r.to_vec()).collect();
    let first: Vec<usize> = x_all
        .chunks_exact(width)
        .map(|row| automl::segments::nearest(&centroids, row))
        .collect();
    // Largest first.
    let mut sizes = vec![0usize; k];
    for &s in &first {
        sizes[s] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut rank = vec![0usize; k];
    for (i, &o) in order.iter().enumerate() {
        rank[o] = i;
    }
    let segments = Segments {
        encoding: encoding.clone(),
        centroids: order.iter().map(|&o| centroids[o].clone()).collect(),
    };
    let of_row = first.iter().map(|&s| rank[s]).collect();
    Ok((segments, of_row, fit_rows.len()))
}

/// The isolation forest's score of every row of `x` (row-major, `width`
/// numbers a row), its trees grown on rows drawn from `sample`.
fn score_rows(x: &[f64], width: usize, sample: &[usize], seed: u64) -> Vec<f64> {
    iforest::Forest::fit(x, width, sample, seed ^ 0x1f0).score(x, width)
}

/// The unusual-row score of every row of `data`, on every column Explore
/// would compare by default, exactly as Explore scores them with the
/// default seed; `None` when fewer than 3 rows or no column can be compared.
/// The quality report's "unusual rows" finding and the recipe step that
/// drops them both read it, so they name the same rows.
pub fn unusual_scores(data: &Dataset) -> Result<Option<Vec<f64>>> {
    let n = data.n_rows();
    if n < 3 {
        return Ok(None);
    }
    let (columns, _) = choose_columns(data, &Query::default())?;
    let (encoding, _) = Encoding::fit(data, &columns, None)?;
    if encoding.inputs.is_empty() {
        return Ok(None);
    }
    let width = encoding.width();
    let x = encoding.encode(data, &(0..n).collect::<Vec<_>>())?;
    let sample = sample_rows(n, SAMPLE_ROWS, SEED ^ 0x9ca);
    Ok(Some(score_rows(&x, width, &sample, SEED)))
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

/// Cohen's h between two shares.
fn cohen_h(p: f64, q: f64) -> f64 {
    2.0 * p.sqrt().asin() - 2.0 * q.sqrt().asin()
}

/// Each segment's size and what sets it apart (on every row).
fn describe_segments(
    data: &Dataset,
    encoding: &Encoding,
    of_row: &[usize],
    k: usize,
) -> Vec<api::Segment> {
    let n = of_row.len();
    let mut sizes = vec![0usize; k];
    for &s in of_row {
        sizes[s] += 1;
    }
    let mut traits: Vec<Vec<api::Trait>> = vec![Vec::new(); k];
    for input in &encoding.inputs {
        let Some(col) = data.column(input.column()) else {
            continue;
        };
        match (input, col) {
            (Input::Number { column, .. }, Column::Numeric(v)) => {
                let (mut sum, mut count) = (vec![0.0; k + 1], vec![0usize; k + 1]);
                for (r, &x) in v.iter().enumerate() {
                    if x.is_finite() {
                        sum[of_row[r]] += x;
                        count[of_row[r]] += 1;
                        sum[k] += x;
                        count[k] += 1;
                    }
                }
                let mean = sum[k] / count[k].max(1) as f64;
                let var = v
                    .iter()
                    .filter(|x| x.is_finite())
                    .map(|x| (x - mean) * (x - mean))
                    .sum::<f64>()
                    / count[k].max(1) as f64;
                let sd = var.sqrt();
                for s in 0..k {
                    if count[s] == 0 || sd <= 0.0 {
                        continue;
                    }
                    let m = sum[s] / count[s] as f64;
                    let d = (m - mean) / sd;
                    traits[s].push(api::Trait {
                        column: column.clone(),
                        effect: d,
                        text: format!(
                            "{} `{column}` (mean {} against {})",
                            if d >= 0.0 { "higher" } else { "lower" },
                            display::number(m),
                            display::number(mean)
                        ),
                    });
                }
            }
            (Input::Category { column, .. }, col) => {
                let mut counts: HashMap<String, Vec<usize>> = HashMap::new();
                for (r, &s) in of_row.iter().enumerate() {
                    if let Some(l) = col.label(r) {
                        let c = counts.entry(l).or_insert_with(|| vec![0; k + 1]);
                        c[s] += 1;
                        c[k] += 1;
                    }
                }
                for s in 0..k {
                    if sizes[s] == 0 {
                        continue;
                    }
                    // The label this segment holds most over its share of the table.
                    let best = counts
                        .iter()
                        .map(|(l, c)| {
                            let p = c[s] as f64 / sizes[s] as f64;
                            let q = c[k] as f64 / n as f64;
                            (l, p, q, cohen_h(p, q))
                        })
                        .max_by(|a, b| a.3.total_cmp(&b.3).then(b.0.cmp(a.0)));
                    if let Some((label, p, q, h)) = best {
                        let word = if p >= 0.5 { "mostly" } else { "more often" };
                        traits[s].push(api::Trait {
                            column: column.clone(),
                            effect: h,
                            text: format!(
                                "{word} `{column} = {label}` ({} against {})",
                                display::percent(p),
                                display::percent(q)
                            ),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    (0..k)
        .map(|s| {
            let mut t = std::mem::take(&mut traits[s]);
            t.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
            // Differences of at least a fifth of a standard deviation (small, by Cohen), three at most.
            t.retain(|t| t.effect.abs() >= 0.2);
            t.truncate(3);
            let head = format!(
                "Segment {} ({}, {})",
                s + 1,
                display::plural(sizes[s] as u64, "row", "rows"),
                display::percent(sizes[s] as f64 / n as f64)
            );
            let sentence = if t.is_empty() {
                format!("{head}: close to the table as a whole in every column.")
            } else {
                let parts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
                format!("{head}: {}.", parts.join(", "))
            };
            api::Segment {
                number: s as u32 + 1,
                rows: sizes[s] as u64,
                share: sizes[s] as f64 / n as f64,
                traits: t,
                sentence,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn row_map(
    data: &Dataset,
    encoding: &Encoding,
    x: &Array2<f64>,
    sample: &[usize],
    of_row: &[usize],
    colour: Option<&str>,
    seed: u64,
    n: usize,
    method: &mut Vec<String>,
) -> Result<api::RowMap> {
    let (components, variance, mean) = principal_components(x)?;
    let total: f64 = variance.iter().sum();
    let explained: Vec<f64> = variance
        .iter()
        .take(10)
        .map(|v| if total > 0.0 { v / total } else { 0.0 })
        .collect();
    let names = encoding.names();
    let mut loadings: Vec<api::Loading> = names
        .iter()
        .enumerate()
        .map(|(j, name)| api::Loading {
            name: name.clone(),
            pc1: components[[0, j]],
            pc2: components.get([1, j]).copied().unwrap_or(0.0),
        })
        .collect();
    loadings.sort_by(|a, b| (b.pc1.hypot(b.pc2)).total_cmp(&a.pc1.hypot(a.pc2)));
    loadings.truncate(8);
    let shown = sample_rows(sample.len(), MAP_POINTS, seed ^ 0x3a9);
    let mut points = Vec::with_capacity(shown.len());
    for &i in &shown {
        let row = x.row(i);
        let centred = &row - &mean;
        let p1 = centred.dot(&components.row(0));
        let p2 = if components.nrows() > 1 {
            centred.dot(&components.row(1))
        } else {
            0.0
        };
        points.push([p1 as f32, p2 as f32]);
    }
    let rows: Vec<usize> = shown.iter().map(|&i| sample[i]).collect();
    method.push(format!(
        "Map: principal components (linfa-reduction) of {}; {} drawn.",
        sampled(sample.len(), n),
        sampled(rows.len(), n)
    ));
    Ok(api::RowMap {
        shown: rows.len() as u64,
        explained,
        loadings,
        points,
        segment: rows.iter().map(|&r| of_row[r] as u8).collect(),
        colour: colour.map(|c| colouring(data, c, &rows)),
    })
}

/// Groups of `column`'s values for the drawn `rows`: its 8 most frequent
/// labels and "other", or five ranges of numbers with about as many
/// points each; "missing" last when some are.
fn colouring(data: &Dataset, column: &str, rows: &[usize]) -> api::Colouring {
    let col = data.column(column).expect("checked before");
    let mut groups: Vec<String> = Vec::new();
    let mut of_point = Vec::with_capacity(rows.len());
    match col {
        Column::Numeric(v) => {
            let mut values: Vec<f64> = rows
                .iter()
                .map(|&r| v[r])
                .filter(|x| x.is_finite())
                .collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            let bins = values.len().min(5);
            let edges: Vec<f64> = (1..bins).map(|b| values[b * values.len() / bins]).collect();
            let mut lo = values.first().copied().unwrap_or(0.0);
            for (b, &e) in edges.iter().enumerate() {
                groups.push(format!("{} to {}", display::number(lo), display::number(e)));
                lo = e;
                let _ = b;
            }
            if let Some(&hi) = values.last() {
                groups.push(format!(
                    "{} to {}",
                    display::number(lo),
                    display::number(hi)
                ));
            }
            let missing = groups.len();
            for &r in rows {
                let x = v[r];
                of_point.push(if x.is_finite() {
                    edges.iter().filter(|&&e| x >= e).count() as u8
                } else {
                    missing as u8
                });
            }
        }
        Column::Categorical(_) => {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for &r in rows {
                if let Some(l) = col.label(r) {
                    *counts.entry(l).or_default() += 1;
                }
            }
            let mut top: Vec<(String, usize)> = counts.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let other = top.len() > 8;
            top.truncate(8);
            groups = top.into_iter().map(|(l, _)| l).collect();
            let index: HashMap<String, usize> = groups
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), i))
                .collect();
            if other {
                groups.push("other".into());
            }
            let missing = groups.len();
            for &r in rows {
                of_point.push(match col.label(r) {
                    Some(l) => index.get(&l).copied().unwrap_or(missing - 1) as u8,
                    None => missing as u8,
                });
            }
        }
    }
    if of_point.iter().any(|&g| g as usize == groups.len()) {
        groups.push("missing".into());
    }
    api::Colouring {
        column: column.to_owned(),
        groups,
        of_point,
    }
}

/// How rare a share is, in the standard deviations of a normal tail that
/// rare (`√(−2 ln p)`), to rank rare labels and missing values with numbers
/// far from their mean.
fn rarity(share: f64) -> f64 {
    (-2.0 * share.max(1e-300).ln()).sqrt()
}

/// The rows scoring highest, each with the values that set it apart: a
/// number's distance from the mean in standard deviations, or how rare a
/// label or a missing value is ([`rarity`]).
fn unusual_rows(data: &Dataset, encoding: &Encoding, scores: &[f64], n: usize) -> api::Unusual {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let above = scores.iter().filter(|&&s| s >= UNUSUAL_SCORE).count();
    let mut shares: Vec<HashMap<String, usize>> = Vec::new();
    for input in &encoding.inputs {
        let mut counts = HashMap::new();
        match (input, data.column(input.column())) {
            (Input::Category { .. }, Some(col)) => {
                for r in 0..n {
                    if let Some(l) = col.label(r) {
                        *counts.entry(l).or_default() += 1;
                    }
                }
            }
            // A number column's one count: its missing values.
            (Input::Number { .. }, Some(Column::Numeric(v))) => {
                counts.insert(String::new(), v.iter().filter(|x| !x.is_finite()).count());
            }
            _ => {}
        }
        shares.push(counts);
    }
    let rows = order
        .iter()
        .take(UNUSUAL_LISTED)
        .map(|&r| {
            let mut reasons: Vec<(f64, String)> = Vec::new();
            for (input, counts) in encoding.inputs.iter().zip(&shares) {
                let Some(col) = data.column(input.column()) else {
                    continue;
                };
                match (input, col) {
                    (
                        Input::Number {
                            column,
                            mean,
                            scale,
                        },
                        Column::Numeric(v),
                    ) => {
                        let x = v[r];
                        if !x.is_finite() {
                            let share = counts.get("").copied().unwrap_or(0) as f64 / n as f64;
                            reasons.push((
                                rarity(share),
                                format!(
                                    "`{column}` is missing (in {} of rows)",
                                    display::percent(share)
                                ),
                            ));
                        } else {
                            let z = (x - mean) / scale;
                            reasons.push((
                                z.abs(),
                                format!(
                                    "`{column}` = {} ({} sd {} the mean, {})",
                                    display::number(x),
                                    display::number((z.abs() * 10.0).round() / 10.0),
                                    if z >= 0.0 { "above" } else { "below" },
                                    display::number(*mean)
                                ),
                            ));
                        }
                    }
                    (Input::Category { column, .. }, col) => {
                        if let Some(l) = col.label(r) {
                            let c = counts.get(&l).copied().unwrap_or(0);
                            let share = c as f64 / n as f64;
                            reasons.push((
                                rarity(share),
                                format!(
                                    "`{column}` = {l} (in {} of rows)",
                                    display::percent(share)
                                ),
                            ));
                        }
                    }
                    _ => {}
                }
            }
            reasons.sort_by(|a, b| b.0.total_cmp(&a.0));
            api::UnusualRow {
                row: r as u64 + 1,
                score: scores[r],
                reasons: reasons.into_iter().take(3).map(|(_, t)| t).collect(),
            }
        })
        .collect();
    api::Unusual {
        scored: n as u64,
        method: String::new(),
        threshold: UNUSUAL_SCORE,
        above: above as u64,
        rows,
    }
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
