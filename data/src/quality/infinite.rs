//! Infinite numbers (`inf`, `-inf`, or literals beyond the range of a
//! double), which every statistic leaves out and the models read as
//! missing. Fix: read them as missing; the evidence's values are the
//! spellings that step reads as missing (`inf`, `-inf`: what the recipe's
//! number parsing makes infinite).

use api::FindingKind as K;

use super::{Check, Col, Context, counted, finding};

pub(super) const INFINITE_VALUES: Check = Check {
    kinds: &[K::InfiniteValues],
    run: infinite_values,
};

fn infinite_values(cx: &Context) -> Vec<api::Finding> {
    cx.cols.iter().filter_map(|c| infinite(cx, c)).collect()
}

fn infinite(cx: &Context, c: &Col) -> Option<api::Finding> {
    let values = c.numbers()?;
    let rows: Vec<usize> = (0..cx.rows).filter(|&r| values[r].is_infinite()).collect();
    if rows.is_empty() {
        return None;
    }
    let positive = rows.iter().filter(|&&r| values[r] > 0.0).count();
    let negative = rows.len() - positive;
    let signs: Vec<api::ValueCount> = [("inf", positive), ("-inf", negative)]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(value, n)| api::ValueCount {
            value: value.into(),
            count: n as u64,
        })
        .collect();
    let which = match (positive, negative) {
        (_, 0) => "+infinity",
        (0, _) => "−infinity",
        _ => "+infinity or −infinity",
    };
    let steps = vec![api::Step::SetMissing {
        column: c.name.clone(),
        values: signs.iter().map(|v| v.value.clone()).collect(),
    }];
    Some(finding(
        K::InfiniteValues,
        api::Severity::Warning,
        vec![c.name.clone()],
        format!(
            "`{}` holds {} that {} {which}: infinite numbers are not measurements, and the statistics leave them out",
            c.name,
            counted(rows.len(), "infinite value", "infinite values", cx.rows),
            if rows.len() == 1 { "is" } else { "are" },
        ),
        api::Evidence {
            count: Some(rows.len() as u64),
            share: Some(rows.len() as f64 / cx.rows as f64),
            examples: c.examples(rows.iter().copied()),
            values: signs,
            ..Default::default()
        },
        "Read them as missing (the models already do), then impute them or drop those rows; an infinite value usually comes from a division by zero or an overflow where the data was made.",
        steps,
    ))
}
