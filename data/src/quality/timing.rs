//! Timing hints for the leakage check: signs that a column is recorded
//! later than the others, so possibly after the outcome. A hint never makes
//! a finding by itself; it raises the rank of one the column's skill
//! already nearly earns ([`super::leakage`]).
//!
//! Two signs:
//! - **dates after the other dates**: a column of dates that falls after
//!   more than half of the other date columns, each on or after in at least
//!   [`AFTER_SHARE`] of the rows that have both and strictly after in at
//!   least half (an offence date after the screening date);
//! - **a name of a later record**: a word of the name (split at
//!   punctuation and case changes) among [`LATER_WORDS`] (`days_after`,
//!   `Outcome`, `final_grade`, `end_date`).

use automl::values::{date_format, parse_datetime};

use super::Col;
use super::text::looks_like_dates;
use crate::stats::{MISSING, Values};

/// A date column is later than another when on or after it in this share
/// of the rows with both...
pub const AFTER_SHARE: f64 = 0.95;
/// ...and strictly after it in this share.
const STRICTLY_AFTER_SHARE: f64 = 0.5;
/// Rows with both dates needed before comparing two date columns.
const MIN_SHARED_ROWS: usize = 30;
/// Words of a column's name that suggest a record made later.
pub const LATER_WORDS: &[&str] = &[
    "after", "later", "outcome", "outcomes", "result", "results", "end", "ended", "final", "post",
    "future", "next", "event",
];

/// Why a column may be recorded later than the others.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Hint {
    /// Its dates fall after `than`'s in `share` of the rows with both,
    /// and after `others` more date columns.
    After {
        than: String,
        others: usize,
        share: f64,
    },
    /// Its name holds `word`.
    Named { word: String },
}

impl Hint {
    /// The hint as a sentence that ends the finding's message.
    pub(super) fn words(&self, column: &str) -> String {
        match self {
            Hint::After {
                than,
                others,
                share,
            } => {
                let more = match others {
                    0 => String::new(),
                    n => format!(
                        " (and after {})",
                        api::display::plural(*n as u64, "other date column", "other date columns")
                    ),
                };
                format!(
                    " Its dates fall on or after `{than}` in {} of the rows with both{more}, as a later record's would.",
                    api::display::percent(*share)
                )
            }
            Hint::Named { word } if column.eq_ignore_ascii_case(word) => {
                " Its name suggests a record made later.".to_owned()
            }
            Hint::Named { word } => {
                format!(" Its name (“{word}” in `{column}`) suggests a record made later.")
            }
        }
    }
}

/// Each column as seconds since 1970 (NaN where missing or not a date),
/// when it is text whose values are dates.
pub(super) fn dates(c: &Col) -> Option<Vec<f64>> {
    let Values::Categories { codes, levels } = &c.values else {
        return None;
    };
    if !looks_like_dates(levels) {
        return None;
    }
    let (_, day_first, _) = date_format(levels.iter().map(String::as_str));
    let seconds: Vec<f64> = levels
        .iter()
        .map(|l| parse_datetime(l, day_first).map_or(f64::NAN, |d| d.seconds() as f64))
        .collect();
    Some(
        codes
            .iter()
            .map(|&code| {
                if code == MISSING {
                    f64::NAN
                } else {
                    seconds[code as usize]
                }
            })
            .collect(),
    )
}

/// The hint for each of `cols` on `rows`, given their `dates`: the date
/// columns it falls after, or else a later word in its name.
pub(super) fn hints(cols: &[Col], dates: &[Option<Vec<f64>>], rows: &[usize]) -> Vec<Option<Hint>> {
    let after = after(dates, rows);
    cols.iter()
        .enumerate()
        .map(|(j, c)| later_than(cols, &after, j).or_else(|| named(&c.name)))
        .collect()
}

/// For each pair of date columns `(j, k)` compared on at least
/// [`MIN_SHARED_ROWS`] rows: `Some(share)` when `j` falls after `k` by the
/// [`AFTER_SHARE`] rule, `None` when not; absent when not compared.
type After = Vec<Vec<Option<Option<f64>>>>;

fn after(dates: &[Option<Vec<f64>>], rows: &[usize]) -> After {
    let compare = |a: &[f64], b: &[f64]| {
        let (mut both, mut on_or_after, mut strictly) = (0usize, 0usize, 0usize);
        for &r in rows {
            let (x, y) = (a[r], b[r]);
            if x.is_nan() || y.is_nan() {
                continue;
            }
            both += 1;
            on_or_after += usize::from(x >= y);
            strictly += usize::from(x > y);
        }
        let share = on_or_after as f64 / both.max(1) as f64;
        (both >= MIN_SHARED_ROWS).then(|| {
            (share >= AFTER_SHARE && strictly as f64 >= STRICTLY_AFTER_SHARE * both as f64)
                .then_some(share)
        })
    };
    dates
        .iter()
        .enumerate()
        .map(|(j, a)| {
            dates
                .iter()
                .enumerate()
                .map(|(k, b)| match (a, b) {
                    (Some(a), Some(b)) if j != k => compare(a, b),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Column `j`'s hint when its dates fall after more than half of the date
/// columns it is compared with (a birth date does not make every later
/// date a later record): named by the latest of them, the one that is
/// itself after the most others.
fn later_than(cols: &[Col], after: &After, j: usize) -> Option<Hint> {
    let compared = after[j].iter().filter(|c| c.is_some()).count();
    let before: Vec<(usize, f64)> = after[j]
        .iter()
        .enumerate()
        .filter_map(|(k, c)| Some((k, (*c)??)))
        .collect();
    if before.len() * 2 <= compared {
        return None;
    }
    let rank = |k: usize| {
        after[k]
            .iter()
            .filter(|c| matches!(c, Some(Some(_))))
            .count()
    };
    let &(k, share) = before.iter().max_by(|a, b| {
        rank(a.0)
            .cmp(&rank(b.0))
            .then(a.1.total_cmp(&b.1))
            .then(b.0.cmp(&a.0))
    })?;
    Some(Hint::After {
        than: cols[k].name.clone(),
        others: before.len() - 1,
        share,
    })
}

/// A word of `name` among [`LATER_WORDS`].
fn named(name: &str) -> Option<Hint> {
    words(name)
        .into_iter()
        .find(|w| LATER_WORDS.contains(&w.as_str()))
        .map(|word| Hint::Named { word })
}

/// The words of a name, lowercase: split at anything not a letter or a
/// digit, and where a lowercase letter is followed by a capital
/// (`daysAfter` is `days`, `after`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut last_lower = false;
    for ch in name.chars() {
        if !ch.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            last_lower = false;
            continue;
        }
        if ch.is_uppercase() && last_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        last_lower = ch.is_lowercase() || ch.is_ascii_digit();
        word.extend(ch.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words() {
        assert_eq!(words("days_after"), ["days", "after"]);
        assert_eq!(words("daysAfterRelease"), ["days", "after", "release"]);
        assert_eq!(words("Outcome"), ["outcome"]);
        assert_eq!(words("r-offense date"), ["r", "offense", "date"]);
        assert_eq!(words("HTTPStatus"), ["httpstatus"]);
    }

    #[test]
    fn later_words_are_whole_words() {
        for name in [
            "days_after",
            "Outcome",
            "final_grade",
            "end_date",
            "testResult",
        ] {
            assert!(named(name).is_some(), "{name}");
        }
        // A later word inside another word is not one.
        for name in [
            "gender",
            "weekend",
            "aftermath",
            "posting",
            "resultant",
            "legend",
        ] {
            assert_eq!(named(name), None, "{name}");
        }
    }
}
