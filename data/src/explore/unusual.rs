//! Unusual rows: the isolation forest's score of every row, and the values
//! that set the most unusual apart.

use std::collections::HashMap;

use api::display;
use automl::iforest;
use automl::segments::{Encoding, Input};
use automl::{Column, Dataset};

use super::{Encoded, Query, SAMPLE_ROWS, SEED, UNUSUAL_LISTED, UNUSUAL_SCORE, encode};
use crate::error::Result;
use crate::stats::sample_rows;

/// The isolation forest's score of every row of `x` (row-major, `width`
/// numbers a row), its trees grown on rows drawn from `sample`.
pub(super) fn score_rows(x: &[f64], width: usize, sample: &[usize], seed: u64) -> Vec<f64> {
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
    let Encoded { encoding, x, .. } = encode(data, &Query::default())?;
    if encoding.inputs.is_empty() {
        return Ok(None);
    }
    let width = encoding.width();
    let sample = sample_rows(n, SAMPLE_ROWS, SEED ^ 0x9ca);
    Ok(Some(score_rows(&x, width, &sample, SEED)))
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
pub(super) fn unusual_rows(
    data: &Dataset,
    encoding: &Encoding,
    scores: &[f64],
    n: usize,
) -> api::Unusual {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let above = scores.iter().filter(|&&s| s >= UNUSUAL_SCORE).count();
    // Per input: how many rows hold each label, or how many miss the number.
    let counts: Vec<(HashMap<String, usize>, usize)> = encoding
        .inputs
        .iter()
        .map(|input| {
            let mut labels = HashMap::new();
            let mut missing = 0;
            if let Some(col) = data.column(input.column()) {
                let category = matches!(input, Input::Category { .. });
                for r in 0..n {
                    if col.is_missing(r) {
                        missing += 1;
                    } else if category && let Some(l) = col.label(r) {
                        *labels.entry(l).or_default() += 1;
                    }
                }
            }
            (labels, missing)
        })
        .collect();
    let rows = order
        .iter()
        .take(UNUSUAL_LISTED)
        .map(|&r| {
            let mut reasons: Vec<(f64, String)> = Vec::new();
            for (input, (labels, missing)) in encoding.inputs.iter().zip(&counts) {
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
                            let share = *missing as f64 / n as f64;
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
                            let c = labels.get(&l).copied().unwrap_or(0);
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
