//! Segments: k chosen by silhouette, linfa's k-means fitted and every row
//! put at its nearest centre, and what sets each segment apart.

use std::collections::HashMap;

use api::display;
use automl::segments::{Encoding, Input, Segments, kmeans, silhouette};
use automl::{Column, Dataset};

use super::{CHOOSE_ROWS, FIT_ROWS, MAX_AUTO_K, WEAK_SILHOUETTE, matrix, sampled};
use crate::error::Result;
use crate::stats::sample_rows;

/// k by silhouette: linfa's k-means for k = 2 to [`MAX_AUTO_K`] (at most
/// the distinct rows) on [`CHOOSE_ROWS`] seeded rows of `x_all`, the best
/// kept (the smaller on a tie); with every score and how k was chosen, in
/// words that say when even the best finds no clear groups.
pub(super) fn choose_k(
    x_all: &[f64],
    width: usize,
    distinct: usize,
    seed: u64,
) -> Result<(usize, Vec<api::KScore>, String)> {
    let n = x_all.len() / width.max(1);
    let choose = sample_rows(n, CHOOSE_ROWS, seed ^ 0x5e9);
    let x = matrix(x_all, width, &choose);
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
    Ok((best, scores, chosen))
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
    let x = matrix(x_all, width, &fit_rows);
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

/// Cohen's h between two shares.
fn cohen_h(p: f64, q: f64) -> f64 {
    2.0 * p.sqrt().asin() - 2.0 * q.sqrt().asin()
}

/// Each segment's size and what sets it apart (on every row).
pub(super) fn describe_segments(
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
