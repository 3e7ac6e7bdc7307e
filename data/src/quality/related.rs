//! Columns that repeat each other: identical columns (every row, any type;
//! categories that map one to one count as identical), numeric pairs with
//! |r| > [`NEAR_DUPLICATE_R`] on the pairwise sample, and the pairs with
//! |r| > [`COLLINEAR_R`] as one multicollinearity note. Fix: drop the
//! second column of a (near) duplicate pair.

use std::collections::HashMap;

use api::{FindingKind as K, Severity};

use super::{Check, Context, EXAMPLES, cell_key, finding, key, mix, stat};
use crate::stats::{self, Values};

/// Numeric pairs with |r| above this are near duplicates.
pub const NEAR_DUPLICATE_R: f64 = 0.98;
/// Numeric pairs with |r| above this (and not near duplicates) are collinear.
pub const COLLINEAR_R: f64 = 0.95;
/// Numeric columns compared pairwise (the first ones in dataset order).
const MAX_PAIR_COLUMNS: usize = 200;
/// Identical and near-duplicate pairs reported (each), and pairs listed
/// in the multicollinearity note's statistics.
const MAX_PAIR_FINDINGS: usize = 20;
/// Collinear pairs named in the note's message.
const LISTED_PAIRS: usize = 10;

pub(super) const RELATED_COLUMNS: Check = Check {
    kinds: &[K::NearDuplicateColumns, K::Multicollinearity],
    run: related_columns,
};

fn related_columns(cx: &Context) -> Vec<api::Finding> {
    let candidates: Vec<usize> = (0..cx.cols.len())
        .filter(|&j| cx.cols[j].distinct > 1)
        .collect();
    let identical = identical_pairs(cx, &candidates);
    let mut out: Vec<api::Finding> = identical
        .iter()
        .take(MAX_PAIR_FINDINGS)
        .map(|&(a, b)| identical_finding(cx, a, b))
        .collect();
    let (near, collinear) = correlated_pairs(cx, &candidates, &identical);
    out.extend(
        near.iter()
            .take(MAX_PAIR_FINDINGS)
            .map(|&(a, b, r)| near_finding(cx, a, b, r)),
    );
    if !collinear.is_empty() {
        out.push(collinear_finding(cx, &collinear));
    }
    out
}

/// Pairs of `candidates` with identical values, in column order. Columns
/// are grouped by a fingerprint of every row, then compared within a group;
/// codes are numbered in order of first appearance, so two categorical
/// columns that map one to one have equal codes.
fn identical_pairs(cx: &Context, candidates: &[usize]) -> Vec<(usize, usize)> {
    let fingerprint = |j: usize| {
        let v = &cx.cols[j].values;
        (0..cx.rows).fold(matches!(v, Values::Numbers { .. }) as u64, |h, r| {
            mix(h ^ cell_key(v, r))
        })
    };
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for &j in candidates {
        groups.entry(fingerprint(j)).or_default().push(j);
    }
    let mut identical = Vec::new();
    for g in groups.values().filter(|g| g.len() > 1) {
        for (x, &a) in g.iter().enumerate() {
            for &b in &g[x + 1..] {
                if identical_values(&cx.cols[a].values, &cx.cols[b].values) {
                    identical.push((a, b));
                }
            }
        }
    }
    identical.sort_unstable();
    identical
}

/// Equal numbers in every row (missing in the same rows), or categories
/// that map one to one.
fn identical_values(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::Numbers { values: x, .. }, Values::Numbers { values: y, .. }) => {
            x.iter().zip(y).all(|(&p, &q)| key(p) == key(q))
        }
        (Values::Categories { codes: x, .. }, Values::Categories { codes: y, .. }) => x == y,
        _ => false,
    }
}

fn identical_finding(cx: &Context, a: usize, b: usize) -> api::Finding {
    let (ca, cb) = (&cx.cols[a], &cx.cols[b]);
    let same_labels = match (&ca.values, &cb.values) {
        (Values::Categories { levels: a, .. }, Values::Categories { levels: b, .. }) => a == b,
        _ => true,
    };
    let message = if same_labels {
        format!(
            "`{}` and `{}` hold the same value in every row",
            ca.name, cb.name
        )
    } else {
        format!(
            "`{}` and `{}` carry the same information: each value of one always goes with the same value of the other",
            ca.name, cb.name
        )
    };
    let examples = (0..cx.rows)
        .filter(|&r| !ca.values.is_missing(r))
        .take(EXAMPLES)
        .map(|r| api::Example {
            row: r as u64 + 1,
            value: format!(
                "{} = {}, {} = {}",
                ca.name,
                ca.values.label(r).unwrap_or_default(),
                cb.name,
                cb.values.label(r).unwrap_or_default()
            ),
        })
        .collect();
    finding(
        K::NearDuplicateColumns,
        Severity::Warning,
        vec![ca.name.clone(), cb.name.clone()],
        message,
        api::Evidence {
            examples,
            ..Default::default()
        },
        format!("Drop one of `{}` and `{}`.", ca.name, cb.name),
        super::drop_column(&cb.name),
    )
}

/// Two columns (by place, in column order) and Pearson's r between them.
type Correlated = (usize, usize, f64);

/// Pearson's r of the first [`MAX_PAIR_COLUMNS`] numeric `candidates` on
/// the pairwise sample: the near-duplicate pairs and the collinear ones
/// (identical pairs left out).
fn correlated_pairs(
    cx: &Context,
    candidates: &[usize],
    identical: &[(usize, usize)],
) -> (Vec<Correlated>, Vec<Correlated>) {
    let numeric: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&j| cx.cols[j].numbers().is_some())
        .take(MAX_PAIR_COLUMNS)
        .collect();
    let sampled: Vec<Vec<f64>> = numeric
        .iter()
        .map(|&j| {
            let v = cx.cols[j].numbers().unwrap_or_default();
            cx.pairs.iter().map(|&r| v[r]).collect()
        })
        .collect();
    let mut near = Vec::new();
    let mut collinear = Vec::new();
    for x in 0..numeric.len() {
        for y in x + 1..numeric.len() {
            let (a, b) = (numeric[x], numeric[y]);
            if identical.binary_search(&(a, b)).is_ok() {
                continue;
            }
            let Some(r) = stats::pearson(&sampled[x], &sampled[y]) else {
                continue;
            };
            if r.abs() > NEAR_DUPLICATE_R {
                near.push((a, b, r));
            } else if r.abs() > COLLINEAR_R {
                collinear.push((a, b, r));
            }
        }
    }
    (near, collinear)
}

fn near_finding(cx: &Context, a: usize, b: usize, r: f64) -> api::Finding {
    let (na, nb) = (&cx.cols[a].name, &cx.cols[b].name);
    finding(
        K::NearDuplicateColumns,
        Severity::Warning,
        vec![na.clone(), nb.clone()],
        format!("`{na}` and `{nb}` are almost the same column (Pearson r = {r:.3})"),
        api::Evidence {
            stats: vec![stat("Pearson r", r)],
            sampled_rows: cx.pair_sampled(),
            ..Default::default()
        },
        format!("Drop one of `{na}` and `{nb}`: they carry nearly the same information."),
        super::drop_column(nb),
    )
}

fn collinear_finding(cx: &Context, collinear: &[Correlated]) -> api::Finding {
    let name = |j: usize| &cx.cols[j].name;
    let mut columns: Vec<usize> = collinear.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    columns.sort_unstable();
    columns.dedup();
    let listed: Vec<String> = collinear
        .iter()
        .take(LISTED_PAIRS)
        .map(|&(a, b, r)| format!("{} and {} ({r:.2})", name(a), name(b)))
        .collect();
    let more = collinear.len().saturating_sub(LISTED_PAIRS);
    let n = collinear.len();
    let pairs = if n == 1 {
        "1 pair of numeric columns is".to_owned()
    } else {
        format!("{n} pairs of numeric columns are")
    };
    finding(
        K::Multicollinearity,
        Severity::Info,
        columns.iter().map(|&j| name(j).clone()).collect(),
        format!(
            "{pairs} strongly correlated (|r| > {COLLINEAR_R}): {}{}",
            listed.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
        api::Evidence {
            count: Some(n as u64),
            stats: collinear
                .iter()
                .take(MAX_PAIR_FINDINGS)
                .map(|&(a, b, r)| stat(&format!("r({}, {})", name(a), name(b)), r))
                .collect(),
            sampled_rows: cx.pair_sampled(),
            ..Default::default()
        },
        "Linear models become unstable with such pairs: keep one column of each pair, or rely on tree models, which are not affected.",
        Vec::new(),
    )
}
