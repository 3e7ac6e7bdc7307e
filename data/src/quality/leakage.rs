//! Target leakage: columns that alone predict the target on held-out rows
//! far better than they should. Each column becomes bins (its categories,
//! or up to [`MAX_LEAK_BINS`] quantile bins of its numbers, missing as a
//! bin of its own); the majority class (or mean) of each bin on 80% of the
//! rows predicts the other 20%. A column's skill is the share of the gap
//! between the baseline (the majority class, or the mean) and a perfect
//! score that it closes: 1 − errors / the majority guess's errors, or R².
//!
//! Two tiers, both fixed by dropping the column:
//! - **certain**: accuracy of at least [`LEAK_SCORE`] with at most a tenth
//!   of the majority guess's errors, or R² of at least [`LEAK_SCORE`]
//!   (critical);
//! - **likely**: skill of at least [`LIKELY_SKILL`], and at least
//!   [`LIKELY_MARGIN`] above every other column's (a column recorded after
//!   the outcome stands far apart; honest strong predictors come in groups)
//!   (warning).
//!
//! A column that is missing for some outcomes and present for others
//! leaks through that alone (a later offence's date, present only when
//! there was one): the same tiers are applied to its missing/present
//! indicator, and when the indicator carries the leak the finding says so.
//! A class target can also leak through one side of it: where the column is
//! present (or missing), the target is nearly always one class (a later
//! jail date, present for a third of those who reoffended and almost none
//! of the others). That side's rows are scored as a column is, by the share
//! of the gap between that class's overall share and always being it that
//! they close, when they are at least [`MIN_SIDE_SHARE`] of the rows.
//!
//! A column of dates that falls after another date column of the row is
//! binned as times; other dates as categories, since a row's own time
//! predicting a trend is no leak. A column
//! with a timing hint ([`super::timing`]: dates after another date column,
//! or a name such as `days_after`) is raised one rank: likely becomes
//! certain, and it is likely already from [`HINTED_SKILL`] and a lead of
//! [`HINTED_MARGIN`]. A hint alone never makes a finding.
//!
//! Later records come in blocks (a later offence's number, date, charge):
//! columns with a sign of being recorded later (a timing hint, or a
//! missing/present pattern that alone closes [`LATER_MISSING_SKILL`] of the
//! gap), and columns already found to leak, do not count as "other
//! columns" in the lead, so that such a block does not hide itself. Honest
//! strong predictors, which also come in groups, still do.

use std::collections::HashMap;

use api::{FindingKind as K, Severity, display};
use automl::Rng;

use super::timing::{self, Hint};
use super::{Check, Context, finding, stat};
use crate::stats::{self, Values};

/// A single column whose binned model reaches this holdout accuracy (or R²) leaks.
pub const LEAK_SCORE: f64 = 0.99;
/// A leaking column makes at most this share of the majority guess's errors.
const LEAK_ERRORS: f64 = 0.1;
/// A likely leak closes at least this share of the gap to a perfect score...
pub const LIKELY_SKILL: f64 = 0.9;
/// ...and closes at least this much more of it than any other column.
pub const LIKELY_MARGIN: f64 = 0.3;
/// With a timing hint, a likely leak closes at least this share of the gap...
pub const HINTED_SKILL: f64 = 0.75;
/// ...and closes at least this much more of it than any other column.
pub const HINTED_MARGIN: f64 = 0.15;
/// A missing/present pattern that alone closes this share of the gap is a
/// sign of a later record: the column does not shield others.
const LATER_MISSING_SKILL: f64 = 0.5;
/// A side of a column's missingness is scored when it holds this share of the rows.
pub const MIN_SIDE_SHARE: f64 = 0.05;
/// Missing (and present) held-out and training rows a missingness leak needs.
const MIN_MISSING_ROWS: usize = 10;
/// The indicator carries the leak when its skill is within this of the
/// column's values'.
const INDICATOR_CARRIES: f64 = 0.02;
/// The share of the rows held out.
const HOLDOUT: f64 = 0.2;
/// Held-out (and training) rows needed before a column is called leaky.
const MIN_LEAK_HOLDOUT: usize = 30;
const MAX_LEAK_BINS: usize = 256;
/// Training rows per bin of a numeric column in the leakage check.
const LEAK_ROWS_PER_BIN: usize = 20;
/// Cells (rows × columns) the leakage check reads at most, by sampling rows.
const LEAK_CELLS: usize = 40_000_000;
/// Rows the check reads at least, whatever the width.
const MIN_LEAK_ROWS: usize = 10_000;

pub(super) const LEAKAGE: Check = Check {
    kinds: &[K::TargetLeakage],
    run: leakage,
};

/// The rows the leakage check reads (a seeded sample of those with a
/// target) and which of them are held out.
struct Holdout {
    /// Places in the target's rows.
    positions: Vec<usize>,
    /// Rows of the frame.
    rows: Vec<usize>,
    held: Vec<bool>,
    n_held: usize,
    sampled: Option<u64>,
}

impl Holdout {
    fn new(cx: &Context, target_rows: &[usize]) -> Option<Holdout> {
        let width = cx.cols.len().max(1);
        let limit = cx.sample.len().min((LEAK_CELLS / width).max(MIN_LEAK_ROWS));
        let positions = stats::sample_rows(target_rows.len(), limit, stats::SEED ^ 2);
        let sampled = (positions.len() < target_rows.len()).then_some(positions.len() as u64);
        let mut rng = Rng::new(stats::SEED ^ 3);
        let held: Vec<bool> = positions.iter().map(|_| rng.next_f64() < HOLDOUT).collect();
        let n_held = held.iter().filter(|&&h| h).count();
        if n_held < MIN_LEAK_HOLDOUT || positions.len() - n_held < MIN_LEAK_HOLDOUT {
            return None;
        }
        let rows = positions.iter().map(|&p| target_rows[p]).collect();
        Some(Holdout {
            positions,
            rows,
            held,
            n_held,
            sampled,
        })
    }
}

fn leakage(cx: &Context) -> Vec<api::Finding> {
    let Some(t) = &cx.target else {
        return Vec::new();
    };
    let Ok((target, target_rows)) = &t.encoded else {
        return Vec::new();
    };
    let Some(h) = Holdout::new(cx, target_rows) else {
        return Vec::new();
    };
    let dates: Vec<Option<Vec<f64>>> = cx.cols.iter().map(timing::dates).collect();
    let hints = timing::hints(&cx.cols, &dates, &h.rows);
    let scored: Vec<Scored> = cx
        .cols
        .iter()
        .zip(dates.iter().zip(&hints))
        .enumerate()
        .filter(|(j, (c, _))| *j != t.index && c.distinct >= 2)
        .filter_map(|(j, (c, dated))| {
            let bins = match dated {
                (Some(seconds), Some(Hint::After { .. })) => {
                    bin_numbers(seconds, &h.rows, &h.held)
                }
                _ => bin_column(&c.values, &h.rows, &h.held),
            };
            let values = score_bins(&bins, target, &h)?;
            let indicator = missing_bins(&c.values, &h)
                .and_then(|bins| score_bins(&bins, target, &h));
            Some(Scored {
                j,
                values,
                indicator,
                side: one_side(&c.values, target, &h),
            })
        })
        .collect();
    // Columns with a sign of being recorded later, and those found to leak,
    // do not shield others: grow the leaks until none is added (adding one
    // only lowers the others' bar, so the order does not matter).
    let later: Vec<bool> = scored
        .iter()
        .map(|s| {
            hints[s.j].is_some()
                || s.indicator.as_ref().is_some_and(|i| i.skill() >= LATER_MISSING_SKILL)
                || s.side.as_ref().is_some_and(|d| d.score.skill() >= HINTED_SKILL)
        })
        .collect();
    let any_later = later.iter().any(|&l| l);
    let mut leaking = vec![false; scored.len()];
    let verdicts = loop {
        let verdicts: Vec<Option<Verdict>> = (0..scored.len())
            .map(|i| verdict(&scored, i, |o| later[o] || leaking[o], hints[scored[i].j].is_some()))
            .collect();
        let grown: Vec<bool> = verdicts.iter().map(Option::is_some).collect();
        if grown == leaking {
            break verdicts;
        }
        leaking = grown;
    };
    let mut found: Vec<(Rule, bool, f64, api::Finding)> = Vec::new();
    for (s, v) in scored.iter().zip(verdicts) {
        let Some(Verdict {
            score,
            rule,
            by,
            next,
        }) = v
        else {
            continue;
        };
        let c = &cx.cols[s.j];
        let hint = hints[s.j].as_ref();
        let next = next.map(|(k, j)| (cx.cols[j].name.as_str(), k));
        let presence = match by {
            By::Values => None,
            By::Missing => Some(presence_words(&c.values, target, &h, &t.name)),
            By::Side(side) => Some(side_words(side, &c.name, target, &t.name)),
        };
        let (mut message, mut stats_) = leak_words(
            score,
            rule,
            &c.name,
            &t.name,
            next,
            any_later,
            presence.map(|p| (by, p)),
        );
        if let Some(hint) = hint {
            message.push_str(&hint.words(&c.name));
            if let Hint::After { share, .. } = hint {
                stats_.push(stat("share of rows on or after the earlier date", *share));
            }
        }
        let certain = rule == Rule::Certain || (rule == Rule::Likely && hint.is_some());
        let (severity, fix) = if certain {
            (
                Severity::Critical,
                format!(
                    "Drop `{}` unless its value is truly known at the moment you will predict.",
                    c.name
                ),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "Drop `{}` if it is recorded after `{}` is known; keep it if you will have it when you predict.",
                    c.name, t.name
                ),
            )
        };
        let f = finding(
            K::TargetLeakage,
            severity,
            vec![c.name.clone(), t.name.clone()],
            message,
            api::Evidence {
                count: Some(h.n_held as u64),
                stats: stats_,
                sampled_rows: h.sampled,
                ..Default::default()
            },
            fix,
            super::drop_column(&c.name),
        );
        found.push((rule, hint.is_some(), score.skill(), f));
    }
    // The surest first: by the rule met, those with a hint, then by skill.
    found.sort_by(|a, b| {
        (a.0, !a.1)
            .cmp(&(b.0, !b.1))
            .then(b.2.total_cmp(&a.2))
    });
    found.into_iter().map(|(.., f)| f).collect()
}

/// Whether `scored[i]` leaks, and by which rule: its lead is over the best
/// column not `excluded` (by place in `scored`).
fn verdict(
    scored: &[Scored],
    i: usize,
    excluded: impl Fn(usize) -> bool,
    hinted: bool,
) -> Option<Verdict<'_>> {
    let s = &scored[i];
    // The best other column, by its values.
    let next = scored
        .iter()
        .enumerate()
        .filter(|&(o, _)| o != i && !excluded(o))
        .map(|(_, o)| (o.values.skill(), o.j))
        .filter(|(k, _)| k.is_finite())
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let next_skill = next.map_or(f64::NEG_INFINITY, |n| n.0);
    let rule = |score: &Score| Rule::met(score, next_skill, hinted);
    // Whether the fact that the column is missing carries the leak.
    let by_indicator = s.indicator.as_ref().and_then(|ind| {
        let r = rule(ind)?;
        (ind.skill() >= s.values.skill() - INDICATOR_CARRIES).then_some((ind, r))
    });
    let by_side = s
        .side
        .as_ref()
        .and_then(|side| Some((side, rule(&side.score)?)));
    let (score, rule, by) = match (by_indicator, rule(&s.values), by_side) {
        (Some((ind, r)), ..) => (ind, r, By::Missing),
        (None, Some(r), _) => (&s.values, r, By::Values),
        (None, None, Some((side, r))) => (&side.score, r, By::Side(side)),
        (None, None, None) => return None,
    };
    Some(Verdict {
        score,
        rule,
        by,
        next,
    })
}

/// A leak: its score, the rule it meets, what carries it, and the best
/// other column (skill, place in the frame).
struct Verdict<'a> {
    score: &'a Score,
    rule: Rule,
    by: By<'a>,
    next: Option<(f64, usize)>,
}

/// What carries a leak: the column's values, whether it is missing, or one
/// side of that.
#[derive(Clone, Copy)]
enum By<'a> {
    Values,
    Missing,
    Side(&'a Side),
}

/// A column's held-out scores: by its values, by whether it is missing,
/// and by the side of that which gives a class away.
struct Scored {
    j: usize,
    values: Score,
    indicator: Option<Score>,
    side: Option<Side>,
}

/// Where a column is present (or missing), the target's most common
/// class there, and how much of the gap between that class's share of all
/// rows and always being it those rows close ([`Score::Accuracy`]: the
/// class's share there, and of all rows).
struct Side {
    present: bool,
    class: usize,
    score: Score,
}

/// The side of `values`' missingness on which a class target is most
/// nearly one class, among sides of at least [`MIN_SIDE_SHARE`] of the
/// sampled rows (and [`MIN_LEAK_HOLDOUT`] rows); `None` for numbers, or
/// when no side is purer than the class is overall.
fn one_side(values: &Values, target: &automl::Target, h: &Holdout) -> Option<Side> {
    let automl::Target::Classes { classes, y } = target else {
        return None;
    };
    let k = classes.len();
    let mut all = vec![0usize; k];
    let mut by_side = [vec![0usize; k], vec![0usize; k]];
    for (&r, &pos) in h.rows.iter().zip(&h.positions) {
        all[y[pos]] += 1;
        by_side[usize::from(!values.is_missing(r))][y[pos]] += 1;
    }
    let n = h.rows.len();
    [false, true]
        .into_iter()
        .filter_map(|present| {
            let counts = &by_side[usize::from(present)];
            let here: usize = counts.iter().sum();
            if here < MIN_LEAK_HOLDOUT || (here as f64) < MIN_SIDE_SHARE * n as f64 || here == n {
                return None;
            }
            let class = (0..k).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))?;
            let (share, overall) = (
                counts[class] as f64 / here as f64,
                all[class] as f64 / n as f64,
            );
            (share > overall).then_some(Side {
                present,
                class,
                score: Score::Accuracy {
                    accuracy: share,
                    baseline: overall,
                },
            })
        })
        .max_by(|a, b| a.score.skill().total_cmp(&b.score.skill()))
}

/// How one side gives the class away, in words.
fn side_words(side: &Side, column: &str, target: &automl::Target, name: &str) -> String {
    let automl::Target::Classes { classes, .. } = target else {
        return String::new();
    };
    let Score::Accuracy { accuracy, baseline } = side.score else {
        return String::new();
    };
    format!(
        "Where `{column}` is {}, `{name}` is “{}” in {} of the rows, against {} of all rows",
        if side.present { "present" } else { "missing" },
        classes[side.class],
        display::percent(accuracy),
        display::percent(baseline)
    )
}

/// The rule a leak meets, surest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    /// Almost perfect ([`LEAK_SCORE`]).
    Certain,
    /// [`LIKELY_SKILL`] and [`LIKELY_MARGIN`].
    Likely,
    /// With a timing hint, [`HINTED_SKILL`] and [`HINTED_MARGIN`].
    Hinted,
}

impl Rule {
    /// The surest rule `score` meets, `next_skill` being the best other
    /// column's skill.
    fn met(score: &Score, next_skill: f64, hinted: bool) -> Option<Rule> {
        let apart = |skill: f64, margin: f64| score.skill() >= skill && score.skill() >= next_skill + margin;
        if score.certain() {
            Some(Rule::Certain)
        } else if apart(LIKELY_SKILL, LIKELY_MARGIN) {
            Some(Rule::Likely)
        } else if hinted && apart(HINTED_SKILL, HINTED_MARGIN) {
            Some(Rule::Hinted)
        } else {
            None
        }
    }

    /// The share of the gap and the lead it needs; none for certain.
    fn bars(self) -> Option<(f64, f64)> {
        match self {
            Rule::Certain => None,
            Rule::Likely => Some((LIKELY_SKILL, LIKELY_MARGIN)),
            Rule::Hinted => Some((HINTED_SKILL, HINTED_MARGIN)),
        }
    }
}

/// The binned model's held-out score against the target.
fn score_bins(bins: &[u32], target: &automl::Target, h: &Holdout) -> Option<Score> {
    match target {
        automl::Target::Classes { classes, y } => {
            let y: Vec<usize> = h.positions.iter().map(|&p| y[p]).collect();
            classification_score(bins, &y, &h.held, classes.len())
        }
        automl::Target::Regression(v) => {
            let y: Vec<f64> = h.positions.iter().map(|&p| v[p]).collect();
            regression_score(bins, &y, &h.held)
        }
    }
}

/// Missing (1) or present (0) on the sampled rows, when both happen often
/// enough among the training and the held-out rows.
fn missing_bins(values: &Values, h: &Holdout) -> Option<Vec<u32>> {
    let bins: Vec<u32> = h.rows.iter().map(|&r| u32::from(values.is_missing(r))).collect();
    let count = |held: bool, missing: u32| {
        bins.iter()
            .zip(&h.held)
            .filter(|(b, hd)| **b == missing && **hd == held)
            .count()
    };
    let enough = [true, false]
        .iter()
        .all(|&held| count(held, 0) >= MIN_MISSING_ROWS && count(held, 1) >= MIN_MISSING_ROWS);
    enough.then_some(bins)
}

/// How presence follows the target, in words: for classes, the class in
/// whose rows the column is most often present and the share present in
/// its rows and the others'; for numbers, the target's mean where present
/// and where missing.
fn presence_words(values: &Values, target: &automl::Target, h: &Holdout, name: &str) -> String {
    let present: Vec<bool> = h.rows.iter().map(|&r| !values.is_missing(r)).collect();
    match target {
        automl::Target::Classes { classes, y } => {
            let k = classes.len();
            let (mut with, mut all) = (vec![0usize; k], vec![0usize; k]);
            for (&p, &pos) in present.iter().zip(&h.positions) {
                all[y[pos]] += 1;
                with[y[pos]] += usize::from(p);
            }
            let share = |c: usize| with[c] as f64 / all[c].max(1) as f64;
            let Some(top) = (0..k)
                .filter(|&c| all[c] > 0)
                .max_by(|&a, &b| share(a).total_cmp(&share(b)))
            else {
                return String::new();
            };
            let others_with: usize = (0..k).filter(|&c| c != top).map(|c| with[c]).sum();
            let others_all: usize = (0..k).filter(|&c| c != top).map(|c| all[c]).sum();
            format!(
                "it is present in {} of the rows where `{name}` is “{}” and in {} of the others",
                display::percent(share(top)),
                classes[top],
                display::percent(others_with as f64 / others_all.max(1) as f64)
            )
        }
        automl::Target::Regression(v) => {
            let mean = |want: bool| {
                let (sum, n) = present
                    .iter()
                    .zip(&h.positions)
                    .filter(|(p, _)| **p == want)
                    .fold((0.0, 0usize), |(s, n), (_, &pos)| (s + v[pos], n + 1));
                sum / n.max(1) as f64
            };
            format!(
                "`{name}` averages {} where it is present and {} where it is missing",
                super::number(mean(true)),
                super::number(mean(false))
            )
        }
    }
}

/// The message and statistics of a leak meeting `rule`: by the column's values,
/// or (with `presence`, how presence follows the target) by whether it is
/// missing; `next` is the best other column with no sign of being later
/// (`some_later`: some columns had one) and its skill.
fn leak_words(
    score: &Score,
    rule: Rule,
    column: &str,
    target: &str,
    next: Option<(&str, f64)>,
    some_later: bool,
    presence: Option<(By, String)>,
) -> (String, Vec<api::Stat>) {
    let side = matches!(presence, Some((By::Side(_), _)));
    let subject = match &presence {
        // The side's words are the whole statement.
        Some((By::Side(_), words)) => words.clone(),
        Some(_) => format!("Whether `{column}` is missing"),
        None => format!("`{column}` alone"),
    };
    let how = match score {
        _ if side => String::new(),
        Score::Accuracy { accuracy, baseline } => format!(
            "predicts `{target}` with {} accuracy on held-out rows (always guessing the most common class: {})",
            display::percent(*accuracy),
            display::percent(*baseline)
        ),
        Score::R2(r2) => format!(
            "explains {} of the variance of `{target}` on held-out rows (R² = {r2:.3})",
            display::percent(*r2)
        ),
    };
    let why = match (rule, presence.as_ref().map(|p| &p.1)) {
        _ if side => {
            ". A value recorded only for some outcomes is usually filled in after them".to_owned()
        }
        (_, Some(p)) => format!(
            ": {p}. A value recorded only for some outcomes is usually filled in after them"
        ),
        (Rule::Certain, None) => {
            ": it probably contains the answer, or is only known after it".to_owned()
        }
        (Rule::Likely | Rule::Hinted, None) => {
            ": it is probably recorded after the outcome, or derived from it".to_owned()
        }
    };
    let apart = match (rule.bars(), next) {
        (Some(_), Some((other, k))) => format!(
            ", closing {} of the gap to a perfect score{}, far more than any other column{} (next: `{other}`, {})",
            display::percent(score.skill()),
            if side { " there" } else { "" },
            if some_later {
                " that shows no sign of being recorded later"
            } else {
                ""
            },
            display::percent(k.max(0.0))
        ),
        (Some(_), None) => format!(
            ", closing {} of the gap to a perfect score",
            display::percent(score.skill())
        ),
        (None, _) => String::new(),
    };
    let mut stats_ = match score {
        Score::Accuracy { accuracy, baseline } if side => vec![
            stat("share of the side's rows in its most common class", *accuracy),
            stat("that class's share of all rows", *baseline),
        ],
        Score::Accuracy { accuracy, baseline } => vec![
            stat("held-out accuracy", *accuracy),
            stat("majority-class accuracy", *baseline),
        ],
        Score::R2(r2) => vec![stat("held-out R²", *r2)],
    };
    if let Some((skill, margin)) = rule.bars() {
        stats_.push(stat("share of the gap to perfect closed", score.skill()));
        if let Some((_, k)) = next {
            stats_.push(stat("next best column's share", k));
        }
        stats_.push(stat("likely from a share of", skill));
        stats_.push(stat("and a lead over the next of", margin));
    }
    let space = if how.is_empty() { "" } else { " " };
    (format!("{subject}{space}{how}{apart}{why}."), stats_)
}

/// The bin of each of `rows`: category codes, or quantile bins of the
/// training rows' numbers; missing is bin `u32::MAX`.
fn bin_column(values: &Values, rows: &[usize], holdout: &[bool]) -> Vec<u32> {
    match values {
        Values::Categories { codes, .. } => rows.iter().map(|&r| codes[r]).collect(),
        Values::Numbers { values, .. } => bin_numbers(values, rows, holdout),
    }
}

/// Quantile bins of the training rows' numbers; NaN is bin `u32::MAX`.
fn bin_numbers(values: &[f64], rows: &[usize], holdout: &[bool]) -> Vec<u32> {
    let train: Vec<f64> = rows
        .iter()
        .zip(holdout)
        .filter(|(_, h)| !**h)
        .map(|(&r, _)| values[r])
        .collect();
    let sorted = stats::finite_sorted(&train);
    let k = (sorted.len() / LEAK_ROWS_PER_BIN).clamp(1, MAX_LEAK_BINS);
    let mut edges: Vec<f64> = (1..k).map(|i| sorted[i * sorted.len() / k]).collect();
    edges.dedup();
    rows.iter()
        .map(|&r| {
            let x = values[r];
            if x.is_nan() {
                u32::MAX
            } else {
                edges.partition_point(|&e| e < x) as u32
            }
        })
        .collect()
}

enum Score {
    Accuracy { accuracy: f64, baseline: f64 },
    R2(f64),
}

impl Score {
    /// The share of the gap between the baseline and a perfect score closed.
    fn skill(&self) -> f64 {
        match self {
            Score::Accuracy { accuracy, baseline } => 1.0 - (1.0 - accuracy) / (1.0 - baseline),
            Score::R2(r2) => *r2,
        }
    }

    /// The certain tier: almost perfect.
    fn certain(&self) -> bool {
        match self {
            Score::Accuracy { accuracy, baseline } => {
                *accuracy >= LEAK_SCORE && (1.0 - accuracy) <= LEAK_ERRORS * (1.0 - baseline)
            }
            Score::R2(r2) => *r2 >= LEAK_SCORE,
        }
    }
}

/// Holdout accuracy of each bin's majority class (learned on the other
/// rows), and of always guessing the overall majority; `None` when the
/// held-out rows are all one class.
fn classification_score(bins: &[u32], y: &[usize], holdout: &[bool], k: usize) -> Option<Score> {
    let mut train: Vec<(u32, usize)> = bins
        .iter()
        .zip(y)
        .zip(holdout)
        .filter(|(_, h)| !**h)
        .map(|((&b, &c), _)| (b, c))
        .collect();
    train.sort_unstable();
    let mut overall = vec![0usize; k];
    let mut majority: HashMap<u32, usize> = HashMap::new();
    let mut i = 0;
    while i < train.len() {
        let bin = train[i].0;
        let (mut best, mut best_n) = (train[i].1, 0);
        while i < train.len() && train[i].0 == bin {
            let class = train[i].1;
            let mut n = 0;
            while i < train.len() && train[i] == (bin, class) {
                n += 1;
                i += 1;
            }
            overall[class] += n;
            if n > best_n {
                (best, best_n) = (class, n);
            }
        }
        majority.insert(bin, best);
    }
    let global = (0..k).max_by(|&a, &b| overall[a].cmp(&overall[b]).then(b.cmp(&a)))?;
    let (mut n, mut right, mut base) = (0usize, 0usize, 0usize);
    for ((b, &c), _) in bins.iter().zip(y).zip(holdout).filter(|(_, h)| **h) {
        n += 1;
        right += usize::from(*majority.get(b).unwrap_or(&global) == c);
        base += usize::from(global == c);
    }
    if n == 0 || base == n {
        return None;
    }
    Some(Score::Accuracy {
        accuracy: right as f64 / n as f64,
        baseline: base as f64 / n as f64,
    })
}

/// Holdout R² of each bin's mean (learned on the other rows); `None` when
/// the held-out target does not vary.
fn regression_score(bins: &[u32], y: &[f64], holdout: &[bool]) -> Option<Score> {
    let mut sums: HashMap<u32, (f64, usize)> = HashMap::new();
    let (mut total, mut n_train) = (0.0, 0usize);
    for ((&b, &v), _) in bins.iter().zip(y).zip(holdout).filter(|(_, h)| !**h) {
        let e = sums.entry(b).or_default();
        e.0 += v;
        e.1 += 1;
        total += v;
        n_train += 1;
    }
    let global = total / n_train.max(1) as f64;
    let held: Vec<(u32, f64)> = bins
        .iter()
        .zip(y)
        .zip(holdout)
        .filter(|(_, h)| **h)
        .map(|((&b, &v), _)| (b, v))
        .collect();
    let mean = held.iter().map(|h| h.1).sum::<f64>() / held.len().max(1) as f64;
    let (mut sse, mut sst) = (0.0, 0.0);
    for &(b, v) in &held {
        let pred = sums.get(&b).map_or(global, |&(s, n)| s / n as f64);
        sse += (v - pred) * (v - pred);
        sst += (v - mean) * (v - mean);
    }
    // Targets near the largest double overflow the sums: no score then.
    let r2 = 1.0 - sse / sst;
    (sst > 0.0 && r2.is_finite()).then_some(Score::R2(r2))
}
