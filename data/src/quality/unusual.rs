//! Unusual rows: rows that Explore's isolation forest sets apart with few
//! random cuts (`explore::unusual_scores`, every column it compares, every
//! row scored), at [`UNUSUAL_SCORE`] or more. Fix: drop them from training
//! (the recipe's `drop_unusual` step, which scores the same rows the same way).

use api::FindingKind as K;

use super::{Check, Context, finding};
use crate::convert;
use crate::explore;

use api::Step;
use api::display;

/// The score from which a row is unusual.
pub const UNUSUAL_SCORE: f64 = Step::UNUSUAL_SCORE;
/// Fewer rows than this are not scored: a forest needs rows to isolate from.
pub const UNUSUAL_MIN_ROWS: usize = 50;
/// Rows listed as examples.
const LISTED: usize = 5;

pub(super) const UNUSUAL_ROWS: Check = Check {
    kinds: &[K::UnusualRows],
    run: unusual_rows,
};

fn unusual_rows(cx: &Context) -> Vec<api::Finding> {
    if cx.rows < UNUSUAL_MIN_ROWS {
        return Vec::new();
    }
    let Ok(data) = convert::frame_to_dataset(&cx.frame) else {
        return Vec::new();
    };
    let Ok(Some(scores)) = explore::unusual_scores(&data) else {
        return Vec::new();
    };
    let mut above: Vec<usize> = (0..cx.rows)
        .filter(|&r| scores[r] >= UNUSUAL_SCORE)
        .collect();
    if above.is_empty() {
        return Vec::new();
    }
    let count = above.len();
    above.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let examples = above
        .iter()
        .take(LISTED)
        .map(|&r| api::Example {
            row: r as u64 + 1,
            value: format!("score {:.2}", scores[r]),
        })
        .collect();
    vec![finding(
        K::UnusualRows,
        api::Severity::Info,
        Vec::new(),
        format!(
            "{} ({}) {} unlike the rest: an isolation forest sets {} apart with few random cuts (score {UNUSUAL_SCORE} or more, where 0.5 is ordinary); Explore shows what makes each unusual",
            display::plural(count as u64, "row", "rows"),
            display::percent(count as f64 / cx.rows as f64),
            if count == 1 { "is" } else { "are" },
            if count == 1 { "it" } else { "them" },
        ),
        api::Evidence {
            count: Some(count as u64),
            share: Some(count as f64 / cx.rows as f64),
            examples,
            ..Default::default()
        },
        "If they are errors rather than rare real cases, drop them from training (new rows are still scored).",
        vec![Step::DropUnusual {
            threshold: UNUSUAL_SCORE,
        }],
    )]
}
