//! The map: the rows on their first two principal components
//! (linfa-reduction), coloured by segment or by a column.

use std::collections::HashMap;

use api::display;
use automl::segments::{Encoding, principal_components};
use automl::{Column, Dataset};
use ndarray::Array2;

use super::{MAP_POINTS, sampled};
use crate::error::Result;
use crate::stats::sample_rows;

#[allow(clippy::too_many_arguments)]
pub(super) fn row_map(
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
