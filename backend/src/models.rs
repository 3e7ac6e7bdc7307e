//! Models as the API shows them: summaries of artifacts, and predictions
//! for JSON rows or a CSV file, both through `ModelArtifact::predict`.

use std::io::Write;
use std::path::Path;

use api::display;
use automl::{FeatureKind, ModelArtifact, Predictions};

use crate::error::AppError;
use data::{DataFrame, convert, ingest};

pub fn to_api_task(t: automl::Task) -> api::Task {
    match t {
        automl::Task::Regression => api::Task::Regression,
        automl::Task::Binary => api::Task::Binary,
        automl::Task::Multiclass => api::Task::Multiclass,
    }
}

pub fn to_automl_task(t: api::Task) -> automl::Task {
    match t {
        api::Task::Regression => automl::Task::Regression,
        api::Task::Binary => automl::Task::Binary,
        api::Task::Multiclass => automl::Task::Multiclass,
    }
}

pub fn to_automl_metric(m: api::RankingMetric) -> automl::Metric {
    match m {
        api::RankingMetric::Auc => automl::Metric::Auc,
        api::RankingMetric::LogLoss => automl::Metric::LogLoss,
        api::RankingMetric::BalancedAccuracy => automl::Metric::BalancedAccuracy,
        api::RankingMetric::MacroF1 => automl::Metric::MacroF1,
        api::RankingMetric::Rmse => automl::Metric::Rmse,
        api::RankingMetric::Mae => automl::Metric::Mae,
        api::RankingMetric::R2 => automl::Metric::R2,
    }
}

pub fn summary(
    id: &str,
    build: &api::Build,
    artifact: &ModelArtifact,
    bytes: u64,
) -> api::ModelSummary {
    let s = &artifact.schema;
    api::ModelSummary {
        id: id.to_owned(),
        build_id: build.id.clone(),
        dataset_id: build.dataset_id.clone(),
        created: build.created.clone(),
        target: s.target.clone(),
        task: to_api_task(s.task),
        family: artifact.model.family().to_owned(),
        params: artifact.params.clone(),
        metrics: to_api_metrics(&artifact.metrics),
        features: artifact
            .inputs()
            .iter()
            .map(|f| api::FeatureInfo {
                name: f.name.clone(),
                kind: match f.kind {
                    FeatureKind::Numeric => api::FeatureKind::Numeric,
                    FeatureKind::Categorical => api::FeatureKind::Categorical,
                },
                categories: f.levels.clone(),
                typical: match f.kind {
                    FeatureKind::Numeric => serde_json::Value::from(f.median),
                    FeatureKind::Categorical => {
                        f.levels.first().map_or(serde_json::Value::Null, |l| {
                            serde_json::Value::from(l.clone())
                        })
                    }
                },
            })
            .collect(),
        classes: s.classes.clone(),
        artifact_bytes: bytes,
        recipe: Vec::new(),
        insights: None,
        evaluation: None,
        threshold: artifact.threshold,
        calibration: artifact.calibration.map(|c| api::CalibrationInfo {
            method: match c.method {
                automl::calibrate::Method::Platt { .. } => "platt",
                automl::calibrate::Method::Temperature { .. } => "temperature",
            }
            .to_owned(),
            description: c.method.describe(),
            log_loss_before: c.log_loss_before,
            log_loss_after: c.log_loss_after,
        }),
        left_out: artifact
            .left_out
            .iter()
            .map(|l| api::LeftOut {
                column: l.column.clone(),
                reason: l.reason.clone(),
            })
            .collect(),
        leak_cost: build.leak_cost.clone(),
        trial: None,
    }
}

/// The engine's metrics as the API shows them. A metric without a finite
/// value (targets near the largest double overflowed it; one class only has
/// no AUC) is left out rather than stored as a number JSON cannot hold.
fn to_api_metrics(metrics: &[automl::MetricValue]) -> Vec<api::MetricValue> {
    metrics
        .iter()
        .filter(|m| m.value.is_finite())
        .map(|m| api::MetricValue {
            name: m.name.clone(),
            value: m.value,
        })
        .collect()
}

/// The engine's evaluation as the API shows it (the same fields; points
/// that are not finite, which a chart cannot draw, are left out).
pub fn to_api_evaluation(e: &automl::metrics::Evaluation) -> api::Evaluation {
    let finite = |points: &[(f64, f64)]| {
        points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect()
    };
    let roc: Vec<(f64, f64)> = finite(&e.roc);
    // The thresholds go with the ROC points, all or none.
    let thresholds = if roc.len() == e.roc.len() && e.thresholds.iter().all(|t| t.is_finite()) {
        e.thresholds.clone()
    } else {
        Vec::new()
    };
    api::Evaluation {
        roc,
        pr: finite(&e.pr),
        confusion: e.confusion.clone(),
        residuals: finite(&e.residuals),
        thresholds,
    }
}

/// The engine's insights as the API shows them (the same fields); an error
/// when a value is not finite (JSON has no such numbers).
pub fn to_api_insights(ins: &automl::Insights) -> Result<api::Insights, AppError> {
    if let Some(found) = crate::storage::first_non_finite(ins) {
        return Err(AppError::Internal(format!(
            "insights: `{}` is {}",
            found.path, found.value
        )));
    }
    serde_json::to_value(ins)
        .and_then(serde_json::from_value)
        .map_err(|e| AppError::Internal(format!("insights: {e}")))
}

/// Predictions for JSON rows with each row's SHAP contributions to the
/// output it shows: the value, the positive class's log-odds, or the
/// predicted class's logit.
pub fn explain_json(
    artifact: &ModelArtifact,
    req: &api::PredictRequest,
) -> Result<api::ExplainResponse, AppError> {
    let data = convert::json_for_model(&req.rows, artifact.inputs())?;
    let preds = artifact.predict(&data)?;
    let e = artifact.explain(&data)?;
    let k = e.outputs.len();
    let space = match artifact.schema.task {
        automl::Task::Regression => "value",
        automl::Task::Binary => "log-odds",
        automl::Task::Multiclass => "logit",
    };
    let explanations = (0..e.n_rows())
        .map(|r| {
            let o = match &preds {
                Predictions::Classes { labels, .. } if k > 1 => labels[r],
                _ => 0,
            };
            api::RowExplanation {
                output: e.outputs[o].clone(),
                space: space.to_owned(),
                base: e.base[o],
                raw: e.raw[r * k + o],
                contributions: e
                    .features
                    .iter()
                    .zip(e.row(r, o))
                    .map(|(f, &shap)| api::Contribution {
                        feature: f.clone(),
                        shap,
                    })
                    .collect(),
            }
        })
        .collect();
    let warnings = artifact
        .check_inputs(&data)?
        .iter()
        .map(to_api_warning)
        .collect();
    Ok(api::ExplainResponse {
        prediction: to_api_predictions(&preds),
        explanations,
        warnings,
    })
}

/// What scoring a CSV found besides the predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome {
    pub rows: usize,
    /// Input columns the model does not use.
    pub extra_columns: Vec<String>,
    pub warnings: Vec<api::InputWarning>,
    /// The model's metrics on the rows, when the file holds its target.
    pub evaluation: Option<api::BatchEvaluation>,
    /// The first rows of the scored file, as text.
    pub preview: api::RowsPage,
}

/// Rows of a scored file shown with its report.
const PREVIEW_ROWS: usize = 10;

/// The model's metrics and charts on `frame`'s target column, if it has
/// one with values the model can be scored on.
fn evaluate_labelled(
    artifact: &ModelArtifact,
    frame: &DataFrame,
    preds: &Predictions,
) -> Result<Option<api::BatchEvaluation>, AppError> {
    let target = &artifact.schema.target;
    if frame.column(target).is_err() {
        return Ok(None);
    }
    let (one, _) = convert::one_column(frame, target)?;
    let Some(l) = automl::scored::labelled(preds, one.require(target)?) else {
        return Ok(None);
    };
    Ok(Some(api::BatchEvaluation {
        target: target.clone(),
        rows: l.rows as u64,
        missing: l.missing as u64,
        unknown: l.unknown as u64,
        unknown_examples: l.unknown_examples,
        classes: artifact.schema.classes.clone(),
        metrics: to_api_metrics(&l.metrics),
        evaluation: to_api_evaluation(&l.evaluation),
    }))
}

pub fn to_api_warning(i: &automl::InputIssue) -> api::InputWarning {
    let examples = if i.examples.is_empty() {
        String::new()
    } else {
        format!(" (for example {})", i.examples.join(", "))
    };
    let (kind, message) = match i.kind {
        automl::InputIssueKind::UnseenCategory => (
            "unseen_category",
            if i.count == 1 {
                format!(
                    "1 row has a category training never saw{examples}; it is scored as if the value were missing"
                )
            } else {
                format!(
                    "{} rows have a category training never saw{examples}; they are scored as if the value were missing",
                    i.count
                )
            },
        ),
        automl::InputIssueKind::OutOfRange => {
            let range = i.range.map_or_else(String::new, |(lo, hi)| {
                format!(" {} to {}", display::number(lo), display::number(hi))
            });
            (
                "out_of_range",
                if i.count == 1 {
                    format!(
                        "1 value lies outside the training range{range}{examples}; the prediction there is an extrapolation"
                    )
                } else {
                    format!(
                        "{} values lie outside the training range{range}{examples}; predictions there are extrapolations",
                        i.count
                    )
                },
            )
        }
        automl::InputIssueKind::Missing => (
            "missing",
            if i.count == 1 {
                "1 row is missing a value that was never missing in training".to_owned()
            } else {
                format!(
                    "{} rows are missing a value that was never missing in training",
                    i.count
                )
            },
        ),
    };
    api::InputWarning {
        column: i.feature.clone(),
        kind: kind.to_owned(),
        count: i.count,
        message,
    }
}

pub fn to_api_predictions(preds: &Predictions) -> api::PredictResponse {
    match preds {
        Predictions::Regression(v) => api::PredictResponse {
            classes: Vec::new(),
            predictions: v
                .iter()
                .map(|&x| api::Prediction {
                    value: serde_json::Value::from(x),
                    probabilities: None,
                })
                .collect(),
        },
        Predictions::Classes {
            classes,
            probabilities,
            labels,
        } => {
            let k = classes.len();
            api::PredictResponse {
                classes: classes.clone(),
                predictions: labels
                    .iter()
                    .enumerate()
                    .map(|(r, &l)| api::Prediction {
                        value: serde_json::Value::from(classes[l].clone()),
                        probabilities: Some(probabilities[r * k..(r + 1) * k].to_vec()),
                    })
                    .collect(),
            }
        }
    }
}

pub fn predict_json(
    artifact: &ModelArtifact,
    req: &api::PredictRequest,
) -> Result<api::PredictResponse, AppError> {
    let data = convert::json_for_model(&req.rows, artifact.inputs())?;
    Ok(to_api_predictions(&artifact.predict(&data)?))
}

/// Scores a CSV file and writes input columns + `prediction` (+ one
/// `probability_<class>` column per class). Columns the model lacks are an
/// error naming them; extra columns, unseen categories and values outside
/// the training range are reported.
pub fn predict_csv(
    artifact: &ModelArtifact,
    input: &Path,
    output: &mut dyn Write,
) -> Result<BatchOutcome, AppError> {
    predict_frame(artifact, &read_input(input)?, output)
}

/// A file to score or explain, in any format an upload may be.
pub fn read_input(input: &Path) -> Result<DataFrame, AppError> {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(ingest::read_file(
        input,
        &name,
        &ingest::ReadOptions::default(),
        &ingest::FileOptions::default(),
    )?
    .frame)
}

/// Explains every row of the file at `input` (`kiln explain`): a CSV with,
/// per row and model output, `row`, `output`, `base`, `raw` and one SHAP
/// value per input column, in the raw output space (values, log-odds,
/// logits), so that `base` plus the row's values is `raw`. The number of rows.
pub fn explain_file(
    artifact: &ModelArtifact,
    input: &Path,
    output: &mut dyn Write,
) -> Result<usize, AppError> {
    let frame = read_input(input)?;
    let data = convert::frame_for_model(&frame, artifact.inputs())?;
    let e = artifact.explain(&data)?;
    let io = |e: std::io::Error| AppError::Internal(format!("writing explanations: {e}"));
    let mut header = vec![
        "row".to_owned(),
        "output".into(),
        "base".into(),
        "raw".into(),
    ];
    header.extend(e.features.iter().cloned());
    writeln!(output, "{}", csv_line(&header)).map_err(io)?;
    let outputs = e.outputs.len().max(1);
    for r in 0..e.n_rows() {
        for (o, name) in e.outputs.iter().enumerate() {
            let mut cells = vec![
                (r + 1).to_string(),
                name.clone(),
                e.base[o].to_string(),
                e.raw[r * outputs + o].to_string(),
            ];
            cells.extend(e.row(r, o).iter().map(|v| v.to_string()));
            writeln!(output, "{}", csv_line(&cells)).map_err(io)?;
        }
    }
    Ok(e.n_rows())
}

/// Scores the rows of a CSV file already read (see [`predict_csv`]).
pub fn predict_frame(
    artifact: &ModelArtifact,
    frame: &DataFrame,
    output: &mut dyn Write,
) -> Result<BatchOutcome, AppError> {
    let data = convert::frame_for_model(frame, artifact.inputs())?;
    let preds = artifact.predict(&data)?;
    let used: std::collections::HashSet<&str> = artifact.feature_names().collect();
    let extra_columns = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .filter(|c| !used.contains(c.as_str()))
        .collect();
    let warnings = artifact
        .check_inputs(&data)?
        .iter()
        .map(to_api_warning)
        .collect();
    let mut header: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.push("prediction".into());
    let (classes, probs) = match &preds {
        Predictions::Classes {
            classes,
            probabilities,
            ..
        } => (classes.clone(), Some(probabilities)),
        Predictions::Regression(_) => (Vec::new(), None),
    };
    header.extend(classes.iter().map(|c| format!("probability_{c}")));
    let text = text_columns(frame)?;
    let evaluation = evaluate_labelled(artifact, frame, &preds)?;
    let api = to_api_predictions(&preds);
    let mut preview = api::RowsPage {
        columns: header.clone(),
        offset: 0,
        total: api.predictions.len() as u64,
        rows: Vec::new(),
    };
    let io = |e: std::io::Error| AppError::Internal(format!("writing predictions: {e}"));
    writeln!(output, "{}", csv_line(&header)).map_err(io)?;
    for (r, p) in api.predictions.iter().enumerate() {
        let mut cells: Vec<Option<String>> = text.iter().map(|c| c[r].clone()).collect();
        cells.push(Some(match &p.value {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        }));
        if let Some(probs) = probs {
            let k = classes.len();
            cells.extend(
                probs[r * k..(r + 1) * k]
                    .iter()
                    .map(|p| Some(p.to_string())),
            );
        }
        let line: Vec<&str> = cells.iter().map(|c| c.as_deref().unwrap_or("")).collect();
        writeln!(output, "{}", csv_line(&line)).map_err(io)?;
        if r < PREVIEW_ROWS {
            preview.rows.push(cells);
        }
    }
    Ok(BatchOutcome {
        rows: api.predictions.len(),
        extra_columns,
        warnings,
        evaluation,
        preview,
    })
}

/// One CSV line of `cells` ([`csv_cell`] each), without its newline.
pub fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    cells
        .iter()
        .map(|c| csv_cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every column of `frame` as text cells (`None` when missing), for writing it out.
pub fn text_columns(frame: &DataFrame) -> Result<Vec<Vec<Option<String>>>, AppError> {
    frame
        .columns()
        .iter()
        .map(|c| data::profile::text_cells(c).map_err(|e| AppError::Internal(e.to_string())))
        .collect()
}

/// One CSV cell: quoted when needed, and neutralised (a leading `'`) when a
/// spreadsheet would read it as a formula (`= + - @`, tab, CR) and it is not a number.
pub fn csv_cell(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if risky { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_metrics_are_the_engines_by_name_and_task() {
        let tasks = [
            api::Task::Regression,
            api::Task::Binary,
            api::Task::Multiclass,
        ];
        for m in api::RankingMetric::ALL {
            let engine = to_automl_metric(m);
            assert_eq!(m.label(), engine.name());
            for t in tasks {
                assert_eq!(
                    m.applies_to(t),
                    engine.applies_to(to_automl_task(t)),
                    "{m:?} {t:?}"
                );
                assert_eq!(
                    to_automl_metric(api::RankingMetric::default_for(t)),
                    automl::Metric::default_for(to_automl_task(t))
                );
            }
        }
        assert_eq!(api::RankingMetric::ALL.len(), automl::Metric::ALL.len());
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-3.5"), "-3.5");
        assert_eq!(csv_cell("+cmd"), "'+cmd");
    }
}
