//! How a model does on scored rows whose true target is known (a file to
//! score that still holds its target column): the metrics and charts of its
//! out-of-fold evaluation, on those rows.

use crate::artifact::Predictions;
use crate::data::Column;
use crate::metrics::{self, Evaluation, MetricValue};
use crate::task::Target;
use crate::values::parse_number;

/// The metrics and charts of predictions against the true targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// Rows scored against their target.
    pub rows: usize,
    /// Rows without a target value.
    pub missing: usize,
    /// Rows whose target the model cannot be scored on: a class it does not
    /// know, or for a regression a value that is not a number.
    pub unknown: usize,
    /// Up to three such values.
    pub unknown_examples: Vec<String>,
    pub metrics: Vec<MetricValue>,
    pub evaluation: Evaluation,
}

/// `preds` against `truth` (one value per predicted row); `None` when no
/// row has a target the model can be scored on.
pub fn labelled(preds: &Predictions, truth: &Column) -> Option<Labelled> {
    let mut missing = 0;
    let mut unknown = Vec::new();
    let mut kept = Vec::new();
    // The classes as the model decided them (a decision threshold included).
    let mut decided = Vec::new();
    let (target, pred) = match preds {
        Predictions::Regression(p) => {
            let mut y = Vec::new();
            for i in 0..truth.len().min(p.len()) {
                let value = match truth {
                    Column::Numeric(v) => v[i],
                    Column::Categorical(v) => v[i].as_deref().map_or(f64::NAN, parse_number),
                };
                if truth.is_missing(i) {
                    missing += 1;
                } else if !value.is_finite() {
                    unknown.push(truth.label(i).unwrap_or_default());
                } else {
                    y.push(value);
                    kept.push(p[i]);
                }
            }
            (Target::Regression(y), kept)
        }
        Predictions::Classes {
            classes,
            probabilities,
            labels,
        } => {
            let k = classes.len();
            let mut y = Vec::new();
            for i in 0..truth.len().min(probabilities.len() / k.max(1)) {
                let Some(label) = truth.label(i) else {
                    missing += 1;
                    continue;
                };
                match classes.iter().position(|c| *c == label) {
                    Some(c) => {
                        y.push(c);
                        kept.extend_from_slice(&probabilities[i * k..(i + 1) * k]);
                        decided.push(labels[i]);
                    }
                    None => unknown.push(label),
                }
            }
            (
                Target::Classes {
                    classes: classes.clone(),
                    y,
                },
                kept,
            )
        }
    };
    let rows = match &target {
        Target::Regression(y) => y.len(),
        Target::Classes { y, .. } => y.len(),
    };
    if rows == 0 {
        return None;
    }
    let mut examples: Vec<String> = Vec::new();
    for u in &unknown {
        if examples.len() < 3 && !examples.contains(u) {
            examples.push(u.clone());
        }
    }
    Some(Labelled {
        rows,
        missing,
        unknown: unknown.len(),
        unknown_examples: examples,
        metrics: metrics::report_decided(&target, &pred, decided_for(&target, &decided)),
        evaluation: metrics::evaluation_decided(&target, &pred, decided_for(&target, &decided)),
    })
}

/// The decided classes, for a classification target.
fn decided_for<'a>(target: &Target, decided: &'a [usize]) -> Option<&'a [usize]> {
    matches!(target, Target::Classes { .. }).then_some(decided)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_scored_on_known_labels_only() {
        let preds = Predictions::Classes {
            classes: vec!["no".into(), "yes".into()],
            probabilities: vec![0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4, 0.5, 0.5],
            labels: vec![0, 1, 1, 0, 0],
        };
        let truth = Column::Categorical(vec![
            Some("no".into()),
            Some("yes".into()),
            None,
            Some("maybe".into()),
            Some("yes".into()),
        ]);
        let l = labelled(&preds, &truth).unwrap();
        assert_eq!((l.rows, l.missing, l.unknown), (3, 1, 1));
        assert_eq!(l.unknown_examples, ["maybe"]);
        let accuracy = l.metrics.iter().find(|m| m.name == "accuracy").unwrap();
        // "no" right, "yes" right, the tie at 0.5 read as "no": wrong.
        assert!((accuracy.value - 2.0 / 3.0).abs() < 1e-12, "{accuracy:?}");
        assert_eq!(l.evaluation.confusion, [vec![1, 0], vec![1, 1]]);
        assert!(!l.evaluation.roc.is_empty());
        // Classes decided by a threshold (0.45: the tie is "yes") are scored as decided.
        let decided = Predictions::Classes {
            classes: vec!["no".into(), "yes".into()],
            probabilities: vec![0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4, 0.5, 0.5],
            labels: vec![0, 1, 1, 0, 1],
        };
        let l = labelled(&decided, &truth).unwrap();
        let accuracy = l.metrics.iter().find(|m| m.name == "accuracy").unwrap();
        assert!((accuracy.value - 1.0).abs() < 1e-12, "{accuracy:?}");
        assert_eq!(l.evaluation.confusion, [vec![1, 0], vec![0, 2]]);
    }

    #[test]
    fn regression_reads_numbers_written_as_text() {
        let preds = Predictions::Regression(vec![10.0, 20.0, 30.0]);
        let truth = Column::Categorical(vec![Some("$12".into()), Some("n/a".into()), None]);
        let l = labelled(&preds, &truth).unwrap();
        assert_eq!((l.rows, l.missing, l.unknown), (1, 1, 1));
        let rmse = l.metrics.iter().find(|m| m.name == "RMSE").unwrap();
        assert!((rmse.value - 2.0).abs() < 1e-12);
        // Nothing to score on.
        let none = Column::Categorical(vec![None, None, None]);
        assert!(labelled(&preds, &none).is_none());
    }
}
