//! Any leaderboard row as a model, after the search: the trial's
//! candidate (or the ensemble's members) revived from its spec, validated
//! on the same splits as in the search (same seed, same rows: the same
//! out-of-fold predictions, so the same score unless the search stopped it
//! after one fold) and refit on every row, shipped as the search ships its
//! winner.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ensemble::blend;
use super::trial::{Evaluation, evaluate};
use super::{Control, Problem, SearchConfig, SearchOutcome, Shipped, TrialRecord};
use crate::artifact::link_inverse;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::families::{self, Candidate};

/// What a leaderboard row was: one family's candidate, or an ensemble of
/// trials' candidates with their weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrialSpec {
    pub family: String,
    #[serde(default)]
    pub params: Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MemberSpec {
    pub trial: u32,
    pub weight: f64,
    pub family: String,
    pub params: Value,
}

impl TrialSpec {
    pub fn of(cand: &dyn Candidate) -> TrialSpec {
        TrialSpec {
            family: cand.family().to_owned(),
            params: cand.spec(),
            members: Vec::new(),
        }
    }

    /// An ensemble of `(trial, weight, candidate)`.
    pub fn ensemble(members: Vec<(u32, f64, &dyn Candidate)>) -> TrialSpec {
        TrialSpec {
            family: families::ENSEMBLE.to_owned(),
            params: Value::Null,
            members: members
                .into_iter()
                .map(|(trial, weight, c)| MemberSpec {
                    trial,
                    weight,
                    family: c.family().to_owned(),
                    params: c.spec(),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn unreadable(reason: String) -> Error {
    Error::Parameter {
        name: "spec",
        reason,
    }
}

/// The validation score one family's leaderboard row (`spec`, not an
/// ensemble) gets on `data`, which may hold more or fewer columns than the
/// search's: its candidate validated on the same splits (same seed, same
/// rows), not refit. What the score would have been with columns the build
/// left out.
pub fn rescore(
    data: &Dataset,
    config: &SearchConfig,
    spec: &str,
    control: Control<'_>,
) -> Result<f64> {
    let spec: TrialSpec = serde_json::from_str(spec)
        .map_err(|e| unreadable(format!("the trial's settings do not read back: {e}")))?;
    if !spec.members.is_empty() {
        return Err(unreadable(
            "an ensemble is scored again through its members".into(),
        ));
    }
    let (problem, _) = Problem::new(data, config)?;
    let cand = families::revive(&spec.family, spec.params)?;
    let stop = || control.cancelled() || control.past(std::time::Duration::ZERO);
    let eval = evaluate(cand.as_ref(), &problem, None, &stop)?.ok_or(if control.cancelled() {
        Error::CancelledEmpty
    } else {
        Error::DeadlineEmpty
    })?;
    Ok(eval.score)
}

/// Trains leaderboard row `trial` of a finished search again, from its
/// `spec` ([`TrialRecord::spec`]), on the data and settings the search
/// had (`config` with the same seed, task and metric): its metrics and
/// curves on held-out rows, and the model refit on every row. The outcome's
/// leaderboard is that one row.
pub fn retrain(
    data: &Dataset,
    config: &SearchConfig,
    trial: u32,
    spec: &str,
    control: Control<'_>,
) -> Result<SearchOutcome> {
    let spec: TrialSpec = serde_json::from_str(spec)
        .map_err(|e| unreadable(format!("the trial's settings do not read back: {e}")))?;
    let (problem, _) = Problem::new(data, config)?;
    let stopped = || {
        if control.cancelled() {
            Error::CancelledEmpty
        } else {
            Error::DeadlineEmpty
        }
    };
    let stop = || control.cancelled() || control.past(std::time::Duration::ZERO);
    if spec.members.is_empty() {
        let cand = families::revive(&spec.family, spec.params.clone())?;
        let eval = evaluate(cand.as_ref(), &problem, None, &stop)?.ok_or_else(stopped)?;
        let model = problem
            .refit(cand.as_ref(), eval.rounds, control)?
            .ok_or_else(stopped)?;
        let record = TrialRecord::of(trial, cand.as_ref(), &eval);
        let shipped = Shipped::new(
            &problem,
            (model, eval.last.0.params.clone()),
            (problem.full_schema(), problem.rows.len()),
            trial,
            &eval.covered,
            &eval.oof,
        );
        return Ok(shipped.outcome(config, &problem, vec![record], false));
    }
    // An ensemble: each member validated and refit, blended with its weight.
    let mut evals: Vec<Evaluation> = Vec::new();
    let mut members = Vec::new();
    for m in &spec.members {
        if !(m.weight.is_finite() && m.weight > 0.0) {
            return Err(unreadable(format!(
                "member trial {} has weight {}",
                m.trial, m.weight
            )));
        }
        let cand = families::revive(&m.family, m.params.clone())?;
        let eval = evaluate(cand.as_ref(), &problem, None, &stop)?.ok_or_else(stopped)?;
        let model = problem
            .refit(cand.as_ref(), eval.rounds, control)?
            .ok_or_else(stopped)?;
        members.push(families::Member {
            weight: m.weight,
            model,
        });
        evals.push(eval);
    }
    let covered = evals[0].covered.clone();
    let target = problem.covered_target(&covered);
    let k = target.n_classes();
    let raws: Vec<Vec<f64>> = evals
        .iter()
        .map(|e| link_inverse(problem.task(), &e.oof, k))
        .collect();
    let weights = spec.members.iter().map(|m| m.weight).enumerate().collect();
    let blended = blend(
        &raws,
        weights,
        &target,
        problem.task(),
        problem.metric,
        &problem.validation(),
        &covered,
    );
    let params = spec
        .members
        .iter()
        .map(|m| format!("{:.2} × trial {}", m.weight, m.trial))
        .collect::<Vec<_>>()
        .join(" + ");
    let record = TrialRecord {
        trial,
        family: families::ENSEMBLE.to_owned(),
        params: params.clone(),
        score: blended.score,
        score_std: blended.score_std,
        fit_secs: evals.iter().map(|e| e.fit_time.as_secs_f64()).sum(),
        predict_us_per_row: evals.iter().map(|e| e.predict_us).sum(),
        size_bytes: 0,
        spec: spec.to_json(),
    };
    let shipped = Shipped::new(
        &problem,
        (families::Ensemble { members }.into(), params),
        (problem.full_schema(), problem.rows.len()),
        trial,
        &covered,
        &blended.oof,
    );
    Ok(shipped.outcome(config, &problem, vec![record], false))
}
