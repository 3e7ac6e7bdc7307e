//! Text among numbers: a text column that is numbers in nearly every row,
//! with a few words among them (`n/r`, `pending`, `see notes`), which ingest
//! therefore left as text and models would take as categories. Counted by
//! rows, so a column of a few codes (ratings 1 to 5) with one word is found;
//! columns whose distinct values are mostly numbers are the numbers-as-text
//! check's. Fix: read the column as numbers (the words become missing).

use api::{FindingKind as K, Severity};
use automl::values::parse_number;

use super::text::numbers_as_text;
use super::{Check, Col, Context, counted, finding};
use crate::stats::{self, Values};

/// At least this share of the rows with a value must read as numbers.
const NUMBER_ROWS: f64 = 0.95;
/// Rows with a value a column needs before the check judges it.
const MIN_ROWS: usize = 20;
/// Words named in the message (the evidence lists them all).
const NAMED: usize = 5;

pub(super) const TEXT_AMONG_NUMBERS: Check = Check {
    kinds: &[K::TextAmongNumbers],
    run: text_among_numbers,
};

fn text_among_numbers(cx: &Context) -> Vec<api::Finding> {
    cx.cols.iter().filter_map(|c| words(cx, c)).collect()
}

fn words(cx: &Context, c: &Col) -> Option<api::Finding> {
    let Values::Categories { codes, levels } = &c.values else {
        return None;
    };
    let present = c.present();
    if !c.text || present < MIN_ROWS || numbers_as_text(levels) {
        return None;
    }
    let counts = stats::level_counts(codes, levels.len());
    let mut words: Vec<usize> = (0..levels.len())
        .filter(|&i| parse_number(&levels[i]).is_nan())
        .collect();
    let in_words = words.iter().map(|&i| counts[i] as usize).sum::<usize>();
    if words.is_empty() || ((present - in_words) as f64) < NUMBER_ROWS * present as f64 {
        return None;
    }
    words.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    let named: Vec<String> = words
        .iter()
        .take(NAMED)
        .map(|&i| format!("“{}”", levels[i]))
        .collect();
    let more = match words.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let rows = (0..cx.rows).filter(|&r| codes[r] != stats::MISSING && words.contains(&(codes[r] as usize)));
    Some(finding(
        K::TextAmongNumbers,
        Severity::Warning,
        vec![c.name.clone()],
        format!(
            "`{}` is numbers except in {}: {}{more}; as it is, models take every value as a category",
            c.name,
            counted(in_words, "row", "rows", cx.rows),
            named.join(", "),
        ),
        api::Evidence {
            count: Some(in_words as u64),
            share: Some(in_words as f64 / cx.rows as f64),
            examples: c.examples(rows),
            values: words
                .iter()
                .map(|&i| api::ValueCount {
                    value: levels[i].clone(),
                    count: counts[i],
                })
                .collect(),
            ..Default::default()
        },
        "Read the column as numbers: the words become missing values, to impute or drop (or correct them at the source).",
        vec![api::Step::Cast {
            column: c.name.clone(),
            to: api::CastTo::Number,
        }],
    ))
}
