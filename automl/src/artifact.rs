//! The model artifact: everything needed to score new rows (schema, fitted
//! encoders, the model) in one versioned JSON document. Loading validates
//! the structure so that a malformed file is an error, never a panic.

use serde::{Deserialize, Serialize};

use crate::calibrate::Calibration;
use crate::data::Dataset;
use crate::encode::{FeatureStats, tree_matrix};
use crate::error::{Error, Result};
pub use crate::families::FittedModel;
use crate::linear::sigmoid;
use crate::metrics::MetricValue;
use crate::recipe::Recipe;
use crate::task::Task;

/// The artifact format this build writes and the newest it reads. Version 2
/// added the cleaning recipe; version 1 files (no recipe) still load.
pub const FORMAT_VERSION: u32 = 2;

/// What the model expects and predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub target: String,
    pub task: Task,
    /// Class labels (classification only), in the order of probabilities.
    pub classes: Vec<String>,
    /// Input features with their training statistics.
    pub features: Vec<FeatureStats>,
}

/// A model's output in the raw space: values, log-odds or logits.
pub(crate) fn link_inverse(task: Task, probabilities: &[f64], k: usize) -> Vec<f64> {
    match task {
        Task::Regression => probabilities.to_vec(),
        Task::Binary => probabilities
            .chunks(2)
            .map(|p| {
                let q = p[1].clamp(1e-15, 1.0 - 1e-15);
                (q / (1.0 - q)).ln()
            })
            .collect(),
        Task::Multiclass => probabilities
            .chunks(k)
            .flat_map(|row| row.iter().map(|p| p.max(1e-300).ln()).collect::<Vec<_>>())
            .collect(),
    }
}

/// The raw output of a model that predicts its values or class shares
/// itself (forests, neighbours, kernel ridge; one share for two classes,
/// the second class's): values as they are, shares kept in
/// `[floor, 1 - floor]` as log-odds (two classes) or logs (more).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SharesLink {
    pub task: Task,
    pub floor: f64,
}

impl SharesLink {
    /// An output's raw value, and the slope of the map there.
    pub(crate) fn raw(self, p: f64) -> (f64, f64) {
        if self.task == Task::Regression {
            return (p, 1.0);
        }
        let p = p.clamp(self.floor, 1.0 - self.floor);
        match self.task {
            Task::Binary => ((p / (1.0 - p)).ln(), 1.0 / (p * (1.0 - p))),
            _ => (p.ln(), 1.0 / p),
        }
    }

    pub(crate) fn raws(self, outputs: Vec<f64>) -> Vec<f64> {
        if self.task == Task::Regression {
            return outputs;
        }
        outputs.into_iter().map(|p| self.raw(p).0).collect()
    }
}

/// Values or class probabilities (row-major, one per class) from raw
/// outputs: the identity, the sigmoid of the log-odds, or the softmax.
pub fn link(task: Task, raw: Vec<f64>, k: usize) -> Vec<f64> {
    match task {
        Task::Regression => raw,
        Task::Binary => raw
            .iter()
            .flat_map(|&z| {
                let p = sigmoid(z);
                [1.0 - p, p]
            })
            .collect(),
        Task::Multiclass => raw
            .chunks(k)
            .flat_map(|row| {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = row.iter().map(|v| (v - m).exp()).sum();
                row.iter()
                    .map(move |v| (v - m).exp() / sum)
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}

/// The downloadable model: `kiln predict` and `POST /api/models/{id}/predict`
/// both load this and call [`ModelArtifact::predict`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    pub format_version: u32,
    pub kiln_version: String,
    /// RFC 3339 time of the build, in files written before Kiln 0.2's
    /// reproducible artifacts; empty (and not written) since, so that the
    /// same data, settings, seed and trial budget give the same file byte
    /// for byte. The studio keeps the time in the model's record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
    /// The model's features (after the recipe) and task.
    pub schema: Schema,
    /// The cleaning steps from the caller's columns to the features; `None`
    /// when the model takes its features as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
    pub model: FittedModel,
    /// Hyperparameters in a short human-readable form.
    pub params: String,
    /// Metrics on held-out rows.
    pub metrics: Vec<MetricValue>,
    pub training_rows: u64,
    /// Binary: a row is the second class when its probability is at least
    /// this (chosen by the user; `None`: the more probable class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Classification: the map from raw outputs to calibrated
    /// probabilities, when it lowered the out-of-fold log loss (absent
    /// otherwise, so older files read and write back unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Columns of the data its build left out because they leak the
    /// target, with why (absent when none, so older files read and write
    /// back unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOutColumn>,
}

/// A column left out of training because it leaks the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOutColumn {
    pub column: String,
    pub reason: String,
}

/// A difference between scored data and the training data.
#[derive(Debug, Clone, PartialEq)]
pub struct InputIssue {
    pub feature: String,
    pub kind: InputIssueKind,
    /// Rows affected.
    pub count: u64,
    /// Up to three offending values.
    pub examples: Vec<String>,
    /// The training range, for values outside it.
    pub range: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputIssueKind {
    /// A category training never saw (scored like a missing value).
    UnseenCategory,
    /// A number below the training minimum or above its maximum.
    OutOfRange,
    /// Missing values in a feature that had none in training.
    Missing,
}

/// Predictions for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    Regression(Vec<f64>),
    Classes {
        classes: Vec<String>,
        /// Row-major `n * classes.len()`.
        probabilities: Vec<f64>,
        /// Index of the most probable class per row.
        labels: Vec<usize>,
    },
}

impl Predictions {
    pub fn len(&self) -> usize {
        match self {
            Predictions::Regression(v) => v.len(),
            Predictions::Classes { labels, .. } => labels.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The issues of one column against what training saw of it.
fn check_feature(
    f: &FeatureStats,
    col: &crate::data::Column,
    issues: &mut Vec<InputIssue>,
) -> Result<()> {
    let n = col.len();
    let missing = (0..n).filter(|&r| col.is_missing(r)).count() as u64;
    if missing > 0 && f.missing == 0 {
        issues.push(InputIssue {
            feature: f.name.clone(),
            kind: InputIssueKind::Missing,
            count: missing,
            examples: Vec::new(),
            range: None,
        });
    }
    match f.kind {
        crate::encode::FeatureKind::Categorical => {
            let known: std::collections::HashSet<&str> =
                f.levels.iter().map(String::as_str).collect();
            let mut count = 0;
            let mut examples: Vec<String> = Vec::new();
            for r in 0..n {
                if let Some(l) = col.label(r).filter(|l| !known.contains(l.as_str())) {
                    count += 1;
                    if examples.len() < 3 && !examples.contains(&l) {
                        examples.push(l);
                    }
                }
            }
            if count > 0 {
                issues.push(InputIssue {
                    feature: f.name.clone(),
                    kind: InputIssueKind::UnseenCategory,
                    count,
                    examples,
                    range: None,
                });
            }
        }
        crate::encode::FeatureKind::Numeric => {
            let one = Dataset::new(vec![(f.name.clone(), col.clone())])?;
            let rows: Vec<usize> = (0..n).collect();
            let values = tree_matrix(std::slice::from_ref(f), &one, &rows)?;
            let outside: Vec<f64> = values[0]
                .iter()
                .copied()
                .filter(|x| !x.is_nan() && (*x < f.min || *x > f.max))
                .collect();
            if !outside.is_empty() && f.missing < f.rows {
                issues.push(InputIssue {
                    feature: f.name.clone(),
                    kind: InputIssueKind::OutOfRange,
                    count: outside.len() as u64,
                    examples: outside.iter().take(3).map(|x| x.to_string()).collect(),
                    range: Some((f.min, f.max)),
                });
            }
        }
    }
    Ok(())
}

/// Whether `t` can be a decision threshold for `task`: binary only, and
/// strictly between 0 and 1.
pub fn check_threshold(task: Task, t: f64) -> Result<()> {
    if task != Task::Binary {
        return Err(Error::Artifact(
            "only a binary classifier has a decision threshold".into(),
        ));
    }
    if !(t > 0.0 && t < 1.0) {
        return Err(Error::Artifact(format!(
            "a decision threshold is a probability strictly between 0 and 1, not {t}"
        )));
    }
    Ok(())
}

impl ModelArtifact {
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs of numbers and strings cannot fail.
        serde_json::to_vec(self).expect("artifact serialises")
    }

    /// Parses and validates an artifact.
    pub fn from_json(bytes: &[u8]) -> Result<ModelArtifact> {
        /// Only the version, so a newer format gets a clear message.
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<serde_json::Value>,
        }
        let peek: Version = serde_json::from_slice(bytes)
            .map_err(|e| Error::Artifact(format!("not valid JSON: {e}")))?;
        let version = peek
            .format_version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                Error::Artifact("no format_version: this is not a Kiln model file".into())
            })?;
        if version > u64::from(FORMAT_VERSION) || version == 0 {
            return Err(Error::Artifact(format!(
                "format version {version} is not supported; this Kiln reads versions 1 to {FORMAT_VERSION}"
            )));
        }
        let artifact: ModelArtifact = serde_json::from_slice(bytes)
            .map_err(|e| Error::Artifact(format!("malformed: {e}")))?;
        artifact.validate()?;
        Ok(artifact)
    }

    fn validate(&self) -> Result<()> {
        let s = &self.schema;
        let classes_ok = match s.task {
            Task::Regression => s.classes.is_empty(),
            Task::Binary => s.classes.len() == 2,
            Task::Multiclass => s.classes.len() >= 3,
        };
        if !classes_ok {
            return Err(Error::Artifact("the classes do not match the task".into()));
        }
        if s.features.is_empty() {
            return Err(Error::Artifact("the model has no input features".into()));
        }
        if let Some(t) = self.threshold {
            check_threshold(s.task, t)?;
        }
        if let Some(c) = &self.calibration {
            c.validate(s.task)?;
        }
        if let Some(recipe) = &self.recipe {
            recipe.validate()?;
            let features: Vec<String> = s.features.iter().map(|f| f.name.clone()).collect();
            for (f, sources) in features.iter().zip(recipe.sources(&features)) {
                if sources.is_empty() {
                    return Err(Error::Artifact(format!(
                        "feature `{f}` comes from no recipe input"
                    )));
                }
                for source in sources {
                    if !recipe.inputs.iter().any(|i| i.name == source) {
                        return Err(Error::Artifact(format!(
                            "feature `{f}` comes from `{source}`, which is not a recipe input"
                        )));
                    }
                }
            }
        }
        self.model.validate(s)
    }

    /// The columns a caller supplies: the recipe's inputs, or the features.
    pub fn inputs(&self) -> &[FeatureStats] {
        match &self.recipe {
            Some(r) => &r.inputs,
            None => &self.schema.features,
        }
    }

    /// The caller's columns after the recipe: what the model's encoders read.
    pub fn prepare<'a>(&self, data: &'a Dataset) -> Result<std::borrow::Cow<'a, Dataset>> {
        match &self.recipe {
            Some(r) => r.apply(data),
            None => Ok(std::borrow::Cow::Borrowed(data)),
        }
    }

    /// Output probabilities or values (`rows * outputs`) of the caller's rows.
    /// Calibrated, when the artifact has a calibration: the model's raw
    /// outputs mapped, then the link.
    pub(crate) fn outputs(&self, data: &Dataset) -> Result<Vec<f64>> {
        let data = self.prepare(data)?;
        let rows: Vec<usize> = (0..data.n_rows()).collect();
        let Some(c) = &self.calibration else {
            return self.model.predict(&self.schema, &data, &rows);
        };
        let mut raw = self.model.raw(&self.schema, &data, &rows)?;
        c.method.apply(&mut raw);
        Ok(link(self.schema.task, raw, self.schema.classes.len()))
    }

    /// Scores every row of `data`; columns are matched by name, extra columns are ignored.
    pub fn predict(&self, data: &Dataset) -> Result<Predictions> {
        let out = self.outputs(data)?;
        Ok(match self.schema.task {
            Task::Regression => Predictions::Regression(out),
            Task::Binary | Task::Multiclass => {
                let k = self.schema.classes.len();
                let labels = match self.threshold {
                    Some(t) if k == 2 => out.chunks(2).map(|p| usize::from(p[1] >= t)).collect(),
                    _ => crate::metrics::argmax_rows(&out, k),
                };
                Predictions::Classes {
                    classes: self.schema.classes.clone(),
                    labels,
                    probabilities: out,
                }
            }
        })
    }

    /// What in `data` the model did not see in training, per input column:
    /// unseen categories, numbers outside the training range, missing values
    /// where training had none. Columns the recipe reads as numbers or
    /// dates, or groups rare categories of, are checked after that step, as
    /// the features they become.
    /// Scoring still works; these are warnings.
    pub fn check_inputs(&self, data: &Dataset) -> Result<Vec<InputIssue>> {
        let mut issues = Vec::new();
        let parsed: Vec<&str> = self
            .recipe
            .iter()
            .flat_map(|r| &r.steps)
            .filter_map(|s| match s {
                crate::recipe::FittedStep::ToNumber { column }
                | crate::recipe::FittedStep::DateParts { column, .. }
                | crate::recipe::FittedStep::GroupRare { column, .. } => Some(column.as_str()),
                _ => None,
            })
            .collect();
        for f in self.inputs() {
            let col = data.require(&f.name)?;
            if !parsed.contains(&f.name.as_str()) {
                check_feature(f, col, &mut issues)?;
            }
        }
        if let Some(recipe) = self.recipe.as_ref().filter(|_| !parsed.is_empty()) {
            let prepared = self.prepare(data)?;
            let names: Vec<String> = self
                .schema
                .features
                .iter()
                .map(|f| f.name.clone())
                .collect();
            for (f, sources) in self.schema.features.iter().zip(recipe.sources(&names)) {
                if sources.iter().any(|s| parsed.contains(&s.as_str())) {
                    check_feature(f, prepared.require(&f.name)?, &mut issues)?;
                }
            }
        }
        Ok(issues)
    }

    /// The columns a data file must have (see [`ModelArtifact::inputs`]).
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.inputs().iter().map(|f| f.name.as_str())
    }
}
