//! Ensembles: a weighted average of other families' models in the raw
//! output space (values, log-odds or logits), chosen by greedy ensemble
//! selection in the search. Averaging raw outputs makes the SHAP values
//! exactly the same weighted average of the members'.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Family, FittedModel, Model, Shap};
use crate::artifact::Schema;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::onnx::{Features, Graph};
use crate::task::Target;

/// Ensembles are built by the search from finished trials, not proposed.
pub(crate) static FAMILY: EnsembleFamily = EnsembleFamily;

pub(crate) struct EnsembleFamily;

pub(crate) const NAME: &str = "ensemble";

/// Most members an artifact may hold.
const MAX_MEMBERS: usize = 64;

impl Family for EnsembleFamily {
    fn name(&self) -> &'static str {
        NAME
    }

    fn portfolio(&self, _: &Target, _: u64) -> Vec<(u32, Arc<dyn Candidate>)> {
        Vec::new()
    }

    /// An ensemble is its members' candidates, revived one by one by the search.
    fn revive(&self, _: serde_json::Value) -> Result<Arc<dyn Candidate>> {
        Err(crate::error::Error::Parameter {
            name: "spec",
            reason: "an ensemble is trained from its members".into(),
        })
    }
}

/// Models weighted in the raw output space; the weights sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    pub members: Vec<Member>,
}

/// One model of an ensemble and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub weight: f64,
    pub model: FittedModel,
}

/// `to += weight * from`, element by element.
fn add_weighted(to: &mut Vec<f64>, weight: f64, from: &[f64]) {
    if to.is_empty() {
        to.resize(from.len(), 0.0);
    }
    to.iter_mut().zip(from).for_each(|(t, f)| *t += weight * f);
}

impl Model for Ensemble {
    fn family(&self) -> &'static str {
        NAME
    }

    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let mut total = Vec::new();
        for m in &self.members {
            add_weighted(&mut total, m.weight, &m.model.raw(schema, data, rows)?);
        }
        Ok(total)
    }

    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        let (mut base, mut raw, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for m in &self.members {
            let s = m.model.explain(schema, data, rows)?;
            add_weighted(&mut base, m.weight, &s.base);
            add_weighted(&mut raw, m.weight, &s.raw);
            add_weighted(&mut values, m.weight, &s.values);
        }
        Ok(Shap { base, raw, values })
    }

    /// The weighted sum of the members' raw outputs, as [`Model::raw`].
    fn onnx(&self, schema: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String> {
        let mut total: Option<String> = None;
        for m in &self.members {
            let raw = m.model.onnx(schema, g, x)?;
            let w = g.scalar(m.weight);
            let weighted = g.op("Mul", &[&raw, &w]);
            total = Some(match total {
                None => weighted,
                Some(t) => g.op("Add", &[&t, &weighted]),
            });
        }
        total.ok_or_else(|| Error::Onnx("the ensemble has no members".into()))
    }

    fn validate(&self, schema: &Schema) -> Result<()> {
        let bad = |m: &str| Err(Error::Artifact(m.to_owned()));
        let members = &self.members;
        if members.is_empty() || members.len() > MAX_MEMBERS {
            return bad("an ensemble needs between 1 and 64 members");
        }
        let total: f64 = members.iter().map(|m| m.weight).sum();
        if members
            .iter()
            .any(|m| !(m.weight.is_finite() && m.weight > 0.0))
            || (total - 1.0).abs() > 1e-6
        {
            return bad("ensemble weights must be positive and sum to 1");
        }
        for m in members {
            if m.model.family() == NAME {
                return bad("an ensemble cannot contain an ensemble");
            }
            m.model.validate(schema)?;
        }
        Ok(())
    }
}
