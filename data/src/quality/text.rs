//! Numbers and dates stored as text, which a model would take as unrelated
//! categories. Fixes: read the column as numbers; split the dates into
//! parts. The tests here (`numbers_as_text`, `looks_like_dates`) also keep
//! such columns from being called identifiers or high-cardinality.

use api::{FindingKind as K, Severity};
use automl::values::parse_number;

use super::{Check, Col, Context, finding};
use crate::stats::Values;

/// Text is numbers when at least [`NUMBER_TENTHS`] in ten of its first
/// [`HEAD_LEVELS`] distinct values read as numbers.
const HEAD_LEVELS: usize = 200;
const NUMBER_TENTHS: usize = 9;
/// Text is dates when its first this many distinct values all are.
const DATE_LEVELS: usize = 20;

pub(super) const TYPED_AS_TEXT: Check = Check {
    kinds: &[K::NumbersAsText, K::DatesAsText],
    run: typed_as_text,
};

/// Text whose first values are all dates (`2012-01-31`, `31/01/2012 10:00`).
pub(super) fn looks_like_dates(levels: &[String]) -> bool {
    !levels.is_empty()
        && levels
            .iter()
            .take(DATE_LEVELS)
            .all(|l| crate::profile::looks_like_date(l))
}

/// Text that is numbers as people write them (`$1,200`, `3,5`, `12%`):
/// nine in ten of the first 200 distinct values read as numbers.
pub(super) fn numbers_as_text(levels: &[String]) -> bool {
    let head = &levels[..levels.len().min(HEAD_LEVELS)];
    let numbers = head.iter().filter(|l| parse_number(l).is_finite()).count();
    !head.is_empty() && numbers * 10 >= head.len() * NUMBER_TENTHS
}

fn typed_as_text(cx: &Context) -> Vec<api::Finding> {
    cx.cols.iter().filter_map(typed).collect()
}

fn typed(c: &Col) -> Option<api::Finding> {
    let Values::Categories { levels, .. } = &c.values else {
        return None;
    };
    if !c.text || levels.is_empty() {
        return None;
    }
    let evidence = api::Evidence {
        examples: c.first_examples(),
        ..Default::default()
    };
    if numbers_as_text(levels) {
        Some(finding(
            K::NumbersAsText,
            Severity::Warning,
            vec![c.name.clone()],
            format!(
                "`{}` holds numbers written as text (currency signs, thousands separators or decimal commas), so models would treat them as unrelated categories",
                c.name
            ),
            evidence,
            "Read the column as numbers.",
            vec![api::Step::Cast {
                column: c.name.clone(),
                to: api::CastTo::Number,
            }],
        ))
    } else if looks_like_dates(levels) {
        Some(finding(
            K::DatesAsText,
            Severity::Info,
            vec![c.name.clone()],
            format!(
                "`{}` holds dates; as they are, models see each date as its own category",
                c.name
            ),
            evidence,
            "Split the dates into year, month, day and weekday.",
            vec![api::Step::DateParts {
                column: c.name.clone(),
            }],
        ))
    } else {
        None
    }
}
