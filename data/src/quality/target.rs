//! The chosen target as training will see it: a target the engine refuses
//! (a single value, too many classes, ...), rows without a target value
//! (missing or infinite; training leaves them out) and, for classes, the
//! smallest class's share. None of these has recipe steps: the fixes are a
//! different column, or better data.

use api::{FindingKind as K, Severity, display};

use super::missing::MISSING_WARNING;
use super::{Check, Context, TargetColumn, counted, finding};

/// A smallest class below these shares of the rows is a warning and critical.
pub const IMBALANCE_WARNING: f64 = 0.10;
pub const IMBALANCE_CRITICAL: f64 = 0.02;

pub(super) const TARGET: Check = Check {
    kinds: &[K::UnusableTarget, K::TargetMissing, K::ClassImbalance],
    run: target_checks,
};

fn target_checks(cx: &Context) -> Vec<api::Finding> {
    let Some(t) = &cx.target else {
        return Vec::new();
    };
    match &t.encoded {
        Err(why) => vec![finding(
            K::UnusableTarget,
            Severity::Critical,
            vec![t.name.clone()],
            why.clone(),
            api::Evidence::default(),
            "Choose another column to predict.",
            Vec::new(),
        )],
        Ok((target, rows)) => {
            let mut out: Vec<api::Finding> = target_missing(cx, t, rows).into_iter().collect();
            if let automl::Target::Classes { classes, y } = target {
                out.extend(class_imbalance(&t.name, classes, y));
            }
            out
        }
    }
}

/// The rows training leaves out: `rows` are those with a target value.
fn target_missing(cx: &Context, t: &TargetColumn, rows: &[usize]) -> Option<api::Finding> {
    let missing = cx.rows - rows.len();
    if missing == 0 {
        return None;
    }
    let col = &cx.cols[t.index];
    let name = &t.name;
    // Infinite target values are missing to training (see `convert`).
    let infinite = |r: usize| col.numbers().is_some_and(|v| v[r].is_infinite());
    let infinites = (0..cx.rows).filter(|&r| infinite(r)).count();
    let share = missing as f64 / cx.rows as f64;
    let label = |r: usize| {
        if col.values.is_missing(r) {
            "missing".to_owned()
        } else {
            col.values.label(r).unwrap_or_default()
        }
    };
    Some(finding(
        K::TargetMissing,
        if share > MISSING_WARNING {
            Severity::Warning
        } else {
            Severity::Info
        },
        vec![name.clone()],
        format!(
            "{} {} no value in `{name}`{}; training leaves {} out",
            counted(missing, "row", "rows", cx.rows),
            if missing == 1 { "has" } else { "have" },
            match infinites {
                0 => String::new(),
                n if n == missing => " (an infinite one)".to_owned(),
                n => format!(" ({} infinite)", display::count(n as u64)),
            },
            if missing == 1 { "it" } else { "them" }
        ),
        api::Evidence {
            count: Some(missing as u64),
            share: Some(share),
            examples: (0..cx.rows)
                .filter(|&r| col.values.is_missing(r) || infinite(r))
                .take(super::EXAMPLES)
                .map(|r| api::Example {
                    row: r as u64 + 1,
                    value: label(r),
                })
                .collect(),
            ..Default::default()
        },
        "Fill them in at the source if you can; a guessed target only teaches the model guesses.",
        Vec::new(),
    ))
}

fn class_imbalance(name: &str, classes: &[String], y: &[usize]) -> Option<api::Finding> {
    let mut counts = vec![0usize; classes.len()];
    for &c in y {
        counts[c] += 1;
    }
    let (smallest, &n) = counts
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)))?;
    let share = n as f64 / y.len().max(1) as f64;
    let severity = if share < IMBALANCE_CRITICAL {
        Severity::Critical
    } else if share < IMBALANCE_WARNING {
        Severity::Warning
    } else {
        return None;
    };
    let label = &classes[smallest];
    Some(finding(
        K::ClassImbalance,
        severity,
        vec![name.to_owned()],
        format!(
            "The smallest class of `{name}`, “{label}”, has {} of {} rows ({})",
            display::count(n as u64),
            display::count(y.len() as u64),
            display::percent(share)
        ),
        api::Evidence {
            count: Some(n as u64),
            share: Some(share),
            values: classes
                .iter()
                .zip(&counts)
                .map(|(c, &n)| api::ValueCount {
                    value: c.clone(),
                    count: n as u64,
                })
                .collect(),
            ..Default::default()
        },
        format!(
            "Judge models by AUC or balanced accuracy rather than accuracy (Kiln's folds keep the class shares), and collect more “{label}” rows if you can."
        ),
        Vec::new(),
    ))
}
