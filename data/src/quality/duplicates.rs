//! Duplicate rows: rows equal in every column to an earlier row, counted
//! exactly on every row (hashed, then compared value by value). Fix: drop
//! them, keeping the first of each.

use std::collections::HashMap;

use api::FindingKind as K;

use super::{Check, Context, EXAMPLES, cell_key, counted, finding, mix};

pub(super) const DUPLICATE_ROWS: Check = Check {
    kinds: &[K::DuplicateRows],
    run: duplicate_rows,
};

fn duplicate_rows(cx: &Context) -> Vec<api::Finding> {
    if cx.rows < 2 || cx.cols.is_empty() {
        return Vec::new();
    }
    let (duplicates, examples) = earlier_copies(cx);
    if duplicates == 0 {
        return Vec::new();
    }
    vec![finding(
        K::DuplicateRows,
        api::Severity::Warning,
        Vec::new(),
        format!(
            "{} {} of an earlier row",
            counted(duplicates, "row", "rows", cx.rows),
            if duplicates == 1 {
                "is an exact duplicate"
            } else {
                "are exact duplicates"
            },
        ),
        api::Evidence {
            count: Some(duplicates as u64),
            share: Some(duplicates as f64 / cx.rows as f64),
            examples,
            ..Default::default()
        },
        "Drop duplicate rows, keeping the first of each.",
        vec![api::Step::DropDuplicates],
    )]
}

/// How many rows repeat an earlier row, and the first few with the row they
/// repeat (the first of its copies).
fn earlier_copies(cx: &Context) -> (usize, Vec<api::Example>) {
    let mut hashes = vec![0u64; cx.rows];
    for (j, c) in cx.cols.iter().enumerate() {
        let salt = (j as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (r, h) in hashes.iter_mut().enumerate() {
            *h = mix(*h ^ cell_key(&c.values, r).wrapping_add(salt));
        }
    }
    let same = |a: usize, b: usize| {
        cx.cols
            .iter()
            .all(|c| cell_key(&c.values, a) == cell_key(&c.values, b))
    };
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(cx.rows);
    // Different rows with the same hash (rare): checked one by one.
    let mut collided: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut duplicates = 0usize;
    let mut examples = Vec::new();
    for (r, &h) in hashes.iter().enumerate() {
        let original = match first.get(&h) {
            None => {
                first.insert(h, r);
                None
            }
            Some(&f) if same(f, r) => Some(f),
            Some(_) => {
                let others = collided.entry(h).or_default();
                let found = others.iter().copied().find(|&g| same(g, r));
                if found.is_none() {
                    others.push(r);
                }
                found
            }
        };
        if let Some(f) = original {
            duplicates += 1;
            if examples.len() < EXAMPLES {
                examples.push(api::Example {
                    row: r as u64 + 1,
                    value: format!("same as row {}", f + 1),
                });
            }
        }
    }
    (duplicates, examples)
}
