//! Global explanations of a fitted model, computed once after a build on a
//! seeded sample of the training rows: mean |SHAP| importance, the SHAP
//! values of the top features per row (for a beeswarm), and partial
//! dependence of the prediction on the top features.

use serde::{Deserialize, Serialize};

use crate::artifact::ModelArtifact;
use crate::data::{Column, Dataset};
use crate::encode::FeatureKind;
use crate::error::Result;
use crate::rng::Rng;
use crate::task::Task;

/// Rows explained for the importance and the beeswarm.
pub const SAMPLE_ROWS: usize = 300;
/// Rows averaged per grid point of a partial dependence curve.
const DEPENDENCE_ROWS: usize = 150;
const BEESWARM_FEATURES: usize = 12;
const DEPENDENCE_FEATURES: usize = 4;
const GRID_POINTS: usize = 20;
/// Rows explained at a time (the deadline is checked between chunks).
const CHUNK_ROWS: usize = 25;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    /// Rows the SHAP values were computed on.
    pub sample_rows: u64,
    /// The output the SHAP values are in: "value", "log-odds of <class>",
    /// or "logit of the predicted class".
    pub space: String,
    /// Every feature, most important first.
    pub importance: Vec<Importance>,
    pub beeswarm: Vec<Beeswarm>,
    pub dependence: Vec<Dependence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    pub feature: String,
    /// Mean |SHAP| over the sample (summed over classes for multiclass).
    pub mean_abs_shap: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beeswarm {
    pub feature: String,
    /// Per sampled row: the SHAP value and the feature value's position in
    /// `[0, 1]` (its rank among the sample, or its category's rank); `None`
    /// when missing.
    pub points: Vec<(f64, Option<f64>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependence {
    pub feature: String,
    pub categorical: bool,
    /// Grid values: numbers or category labels.
    pub grid: Vec<serde_json::Value>,
    /// What each curve is: "prediction" (regression) or a class probability.
    pub outputs: Vec<String>,
    /// `curves[o][g]`: mean prediction of output `o` with the feature set to `grid[g]`.
    pub curves: Vec<Vec<f64>>,
}

impl ModelArtifact {
    /// Computes the global explanations on a seeded sample of `data`.
    /// With a `deadline`, rows are explained in chunks until it passes (at
    /// least one chunk) and partial dependence stops there too, so a large
    /// ensemble cannot hold a build past its time budget.
    pub fn insights(
        &self,
        data: &Dataset,
        seed: u64,
        deadline: Option<std::time::Instant>,
    ) -> Result<Insights> {
        let schema = &self.schema;
        let past = || deadline.is_some_and(|d| std::time::Instant::now() >= d);
        let names: Vec<&str> = self.feature_names().collect();
        let (e, order) = self.explain_sample(data, seed, &past)?;
        let sample = data.select(&names, &order)?;
        let (n, k, nf) = (e.n_rows(), e.outputs.len(), e.features.len());
        // Multiclass beeswarms show each row's predicted class.
        let shown: Vec<usize> = (0..n)
            .map(|r| {
                if k == 1 {
                    0
                } else {
                    let raw = &e.raw[r * k..(r + 1) * k];
                    (0..k).fold(0, |b, o| if raw[o] > raw[b] { o } else { b })
                }
            })
            .collect();
        let importance: Vec<Importance> = (0..nf)
            .map(|f| Importance {
                feature: e.features[f].clone(),
                mean_abs_shap: (0..n)
                    .map(|r| (0..k).map(|o| e.row(r, o)[f].abs()).sum::<f64>())
                    .sum::<f64>()
                    / n.max(1) as f64,
            })
            .collect();
        let mut ranked: Vec<usize> = (0..nf).collect();
        ranked.sort_by(|&a, &b| {
            importance[b]
                .mean_abs_shap
                .total_cmp(&importance[a].mean_abs_shap)
                .then(a.cmp(&b))
        });
        let beeswarm = ranked
            .iter()
            .take(BEESWARM_FEATURES)
            .map(|&f| {
                let position = positions(sample.require(&e.features[f])?, self.inputs()[f].kind);
                Ok(Beeswarm {
                    feature: e.features[f].clone(),
                    points: (0..n)
                        .map(|r| (e.row(r, shown[r])[f], position[r]))
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let dependence_rows: Vec<usize> = (0..n.min(DEPENDENCE_ROWS)).collect();
        let small = sample.select(&names, &dependence_rows)?;
        let mut dependence = Vec::new();
        for &f in ranked.iter().take(DEPENDENCE_FEATURES) {
            if importance[f].mean_abs_shap <= 0.0 || (!dependence.is_empty() && past()) {
                continue;
            }
            dependence.push(self.dependence(&small, f)?);
        }
        let space = match schema.task {
            Task::Regression => "value".to_owned(),
            Task::Binary => format!("log-odds of {}", schema.classes[1]),
            Task::Multiclass => "logit of the predicted class".to_owned(),
        };
        let sorted = ranked.iter().map(|&f| importance[f].clone()).collect();
        Ok(Insights {
            sample_rows: n as u64,
            space,
            importance: sorted,
            beeswarm,
            dependence,
        })
    }

    /// SHAP values of a seeded sample of `data`, explained in chunks until
    /// `past` (at least one chunk), with the rows explained.
    fn explain_sample(
        &self,
        data: &Dataset,
        seed: u64,
        past: &dyn Fn() -> bool,
    ) -> Result<(crate::explain::Explanation, Vec<usize>)> {
        let mut order: Vec<usize> = (0..data.n_rows()).collect();
        Rng::derive(seed, 0x1a51).shuffle(&mut order);
        order.truncate(SAMPLE_ROWS);
        let names: Vec<&str> = self.feature_names().collect();
        let mut e: Option<crate::explain::Explanation> = None;
        let mut explained = 0;
        for chunk in order.chunks(CHUNK_ROWS) {
            if e.is_some() && past() {
                break;
            }
            let part = self.explain(&data.select(&names, chunk)?)?;
            explained += chunk.len();
            match &mut e {
                None => e = Some(part),
                Some(all) => {
                    all.raw.extend(part.raw);
                    all.values.extend(part.values);
                }
            }
        }
        order.truncate(explained);
        match e {
            Some(e) => Ok((e, order)),
            None => Err(crate::error::Error::TooFewRows { rows: 0, needed: 1 }),
        }
    }

    fn dependence(&self, sample: &Dataset, f: usize) -> Result<Dependence> {
        let stats = &self.inputs()[f];
        let name = stats.name.as_str();
        let n = sample.n_rows();
        let (categorical, grid): (bool, Vec<serde_json::Value>) = match stats.kind {
            FeatureKind::Categorical => (
                true,
                stats
                    .levels
                    .iter()
                    .take(GRID_POINTS)
                    .map(|l| serde_json::Value::from(l.clone()))
                    .collect(),
            ),
            FeatureKind::Numeric => {
                let cols = crate::encode::tree_matrix(
                    std::slice::from_ref(stats),
                    sample,
                    &(0..n).collect::<Vec<_>>(),
                )?;
                let mut v: Vec<f64> = cols[0].iter().copied().filter(|x| !x.is_nan()).collect();
                v.sort_by(f64::total_cmp);
                let mut grid: Vec<f64> = (0..GRID_POINTS)
                    .filter_map(|g| {
                        let q = g as f64 / (GRID_POINTS - 1) as f64;
                        v.get(((v.len().max(1) - 1) as f64 * q).round() as usize)
                            .copied()
                    })
                    .collect();
                grid.dedup();
                (
                    false,
                    grid.into_iter().map(serde_json::Value::from).collect(),
                )
            }
        };
        let outputs: Vec<String> = match self.schema.task {
            Task::Regression => vec!["prediction".to_owned()],
            Task::Binary => vec![format!("P({})", self.schema.classes[1])],
            Task::Multiclass => self
                .schema
                .classes
                .iter()
                .map(|c| format!("P({c})"))
                .collect(),
        };
        let mut curves = vec![Vec::with_capacity(grid.len()); outputs.len()];
        for g in &grid {
            let column = match g {
                serde_json::Value::String(s) => Column::Categorical(vec![Some(s.clone()); n]),
                other => Column::Numeric(vec![other.as_f64().unwrap_or(f64::NAN); n]),
            };
            let data = replace(sample, name, column)?;
            let preds = self.outputs(&data)?;
            let width = preds.len() / n.max(1);
            for (o, curve) in curves.iter_mut().enumerate() {
                // Binary predictions are [P(first), P(second)]; show the second.
                let col = if self.schema.task == Task::Binary {
                    1
                } else {
                    o
                };
                let mean = (0..n).map(|r| preds[r * width + col]).sum::<f64>() / n.max(1) as f64;
                curve.push(mean);
            }
        }
        Ok(Dependence {
            feature: name.to_owned(),
            categorical,
            grid,
            outputs,
            curves,
        })
    }
}

fn replace(data: &Dataset, name: &str, column: Column) -> Result<Dataset> {
    let mut column = Some(column);
    let columns = data
        .columns()
        .map(|(n, c)| {
            let c = if n == name {
                column.take().unwrap_or_else(|| c.clone())
            } else {
                c.clone()
            };
            (n.to_owned(), c)
        })
        .collect();
    Dataset::new(columns)
}

/// Each row's value as a position in `[0, 1]`: numbers by rank, categories by
/// their label's rank among the labels present.
fn positions(column: &Column, kind: FeatureKind) -> Vec<Option<f64>> {
    let n = column.len();
    let keys: Vec<Option<f64>> = match (kind, column) {
        (FeatureKind::Numeric, Column::Numeric(v)) => {
            v.iter().map(|&x| x.is_finite().then_some(x)).collect()
        }
        _ => {
            let labels: Vec<Option<String>> = (0..n).map(|r| column.label(r)).collect();
            let mut distinct: Vec<&String> = labels.iter().flatten().collect();
            distinct.sort();
            distinct.dedup();
            labels
                .iter()
                .map(|l| {
                    l.as_ref()
                        .and_then(|l| distinct.binary_search(&l).ok())
                        .map(|i| i as f64)
                })
                .collect()
        }
    };
    let mut present: Vec<f64> = keys.iter().flatten().copied().collect();
    present.sort_by(f64::total_cmp);
    let top = present.len().saturating_sub(1).max(1) as f64;
    keys.iter()
        .map(|k| {
            k.map(|x| {
                let lo = present.partition_point(|&p| p < x);
                let hi = present.partition_point(|&p| p <= x);
                ((lo + hi.saturating_sub(1)) as f64 / 2.0 / top).clamp(0.0, 1.0)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::search::{Control, SearchConfig, search};

    #[test]
    fn ranks_the_informative_feature_first_and_traces_its_effect() {
        let n = 400;
        let mut rng = Rng::new(5);
        let x: Vec<f64> = (0..n).map(|_| rng.next_f64() * 10.0).collect();
        let noise: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        let colour: Vec<Option<String>> = (0..n)
            .map(|i| (i % 11 != 0).then(|| ["red", "blue"][i % 2].to_owned()))
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 3.0 * x[i] + if i % 2 == 0 { 2.0 } else { 0.0 } + rng.normal() * 0.1)
            .collect();
        let data = Dataset::new(vec![
            ("x".into(), Column::Numeric(x)),
            ("noise".into(), Column::Numeric(noise)),
            ("colour".into(), Column::Categorical(colour)),
            ("y".into(), Column::Numeric(y)),
        ])
        .unwrap();
        let cancel = AtomicBool::new(false);
        let config = SearchConfig {
            max_trials: Some(4),
            ..SearchConfig::new("y")
        };
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        let out = search(&data, &config, control, &mut |_| {}).unwrap();
        let ins = out.artifact.insights(&data, 1, None).unwrap();
        assert_eq!(ins.sample_rows, 300);
        assert_eq!(ins.importance[0].feature, "x", "{:?}", ins.importance);
        assert_eq!(ins.importance[2].feature, "noise", "{:?}", ins.importance);
        assert!(ins.importance[0].mean_abs_shap > 5.0 * ins.importance[1].mean_abs_shap);
        assert_eq!(ins.beeswarm[0].points.len(), 300);
        // Larger x, larger SHAP value.
        let (lo, hi): (Vec<_>, Vec<_>) = ins.beeswarm[0]
            .points
            .iter()
            .partition(|(_, p)| p.is_some_and(|p| p < 0.5));
        let mean = |v: &[&(f64, Option<f64>)]| v.iter().map(|p| p.0).sum::<f64>() / v.len() as f64;
        assert!(mean(&lo) < 0.0 && mean(&hi) > 0.0);
        let d = &ins.dependence[0];
        assert_eq!(d.feature, "x");
        assert!(d.grid.len() >= 10);
        let curve = &d.curves[0];
        assert!(curve.last().unwrap() - curve[0] > 20.0, "{curve:?}");
        let colour = ins
            .dependence
            .iter()
            .find(|d| d.feature == "colour")
            .unwrap();
        assert!(colour.categorical);
        assert_eq!(colour.grid.len(), 2);
        // Same seed, same insights.
        assert_eq!(out.artifact.insights(&data, 1, None).unwrap(), ins);
    }
}
