//! Monitoring runs of an endpoint against the baseline of the model its
//! first variant serves (`automl::monitor`): on the captured traffic
//! (inputs and the answers given, joined with ground truth uploaded by
//! inference id), or on an uploaded batch (scored here; its target column,
//! when present, is the truth). Runs are kept as records; the latest run
//! with violations is an alert.

use automl::monitor::{self, Baseline, Live, Outputs, Truth};
use automl::{Column, FeatureKind, ModelArtifact, Task};
use data::{DataFrame, convert};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::storage::Store;

/// At most this many captured rows are checked in one run (the newest).
const MAX_ROWS: usize = 50_000;

/// The truth at `rows` of a target column, as the task reads it.
pub fn truth_at(col: &Column, rows: &[usize], task: Task) -> Truth {
    match (task, col) {
        (Task::Regression, Column::Numeric(v)) => Truth::Numbers(
            rows.iter()
                .map(|r| v.get(*r).copied().unwrap_or(f64::NAN))
                .collect(),
        ),
        _ => Truth::Labels(
            rows.iter()
                .map(|r| (*r < col.len()).then(|| col.label(*r)).flatten())
                .collect(),
        ),
    }
}

/// The model's baseline, or a 422 saying it has none.
pub fn baseline(store: &Store, model_id: &str) -> AppResult<Baseline> {
    let bytes = store.model_baseline(model_id)?.ok_or_else(|| {
        AppError::unprocessable(
            "no_baseline",
            format!(
                "model {model_id} was made before Kiln kept monitoring baselines: train it again (Change and run again) to monitor it"
            ),
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::Internal(format!("model {model_id}'s baseline: {e}")))
}

/// Per numeric input, the cells that are text but not numbers.
fn type_errors(model: &ModelArtifact, rows: &[Map<String, Value>]) -> Vec<(String, u64)> {
    model
        .inputs()
        .iter()
        .filter(|f| f.kind == FeatureKind::Numeric)
        .map(|f| {
            let bad = rows
                .iter()
                .filter(|r| match r.get(&f.name) {
                    Some(Value::String(s)) => {
                        !s.trim().is_empty() && !automl::values::parse_number(s).is_finite()
                    }
                    Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => true,
                    _ => false,
                })
                .count() as u64;
            (f.name.clone(), bad)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The live mean |SHAP| per feature of `data`, largest first, if it can be had.
fn attribution(model: &ModelArtifact, data: &automl::Dataset) -> Option<Vec<(String, f64)>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let ins = model.insights(data, 0, Some(deadline)).ok()?;
    Some(
        ins.importance
            .iter()
            .map(|i| (i.feature.clone(), i.mean_abs_shap))
            .collect(),
    )
}

fn run_record(
    endpoint: &api::Endpoint,
    source: &str,
    model_id: &str,
    report: &monitor::Report,
) -> AppResult<api::MonitorRun> {
    Ok(api::MonitorRun {
        id: crate::storage::new_id(),
        endpoint: endpoint.name.clone(),
        created: crate::time::now_rfc3339(),
        source: source.to_owned(),
        model_id: model_id.to_owned(),
        rows: report.rows,
        violations: report.violations.clone(),
        report: serde_json::to_value(report)
            .map_err(|e| AppError::Internal(format!("monitoring report: {e}")))?,
    })
}

/// The production model of an endpoint (its first variant) and its baseline.
fn production(
    store: &Store,
    endpoint: &api::Endpoint,
) -> AppResult<(String, ModelArtifact, Baseline)> {
    let variant = endpoint
        .variants
        .first()
        .ok_or_else(|| crate::endpoints::no_variant(&endpoint.name))?;
    let id = variant.model_id.clone();
    let model = ModelArtifact::from_json(&store.model_bytes(&id)?)
        .map_err(|e| AppError::Internal(format!("stored model {id}: {e}")))?;
    let baseline = baseline(store, &id)?;
    Ok((id, model, baseline))
}

/// Checks the endpoint's captured traffic (the rows its first variant
/// answered, the newest first up to a cap), with the ground truth uploaded
/// for them, and keeps the run.
pub fn run_on_capture(
    store: &Store,
    name: &str,
    source: &str,
    since: Option<&str>,
) -> AppResult<api::MonitorRun> {
    let endpoint = store.endpoint(name)?;
    let (model_id, model, baseline) = production(store, &endpoint)?;
    let captured = store.captured(name)?;
    let mut rows: Vec<&Value> = captured
        .iter()
        .filter(|r| {
            r["model_id"] == model_id.as_str()
                && r["variant"] != "shadow"
                && r.get("error").is_none()
                && since.is_none_or(|s| r["time"].as_str().is_some_and(|t| t > s))
        })
        .collect();
    if rows.len() > MAX_ROWS {
        rows.drain(..rows.len() - MAX_ROWS);
    }
    if rows.is_empty() {
        return Err(AppError::unprocessable(
            "nothing_to_monitor",
            format!(
                "endpoint `{name}` has no captured rows answered by model {model_id} yet: send it traffic, or check an uploaded batch"
            ),
        ));
    }
    let inputs: Vec<Map<String, Value>> = rows
        .iter()
        .map(|r| r["input"].as_object().cloned().unwrap_or_default())
        .collect();
    let data = convert::json_for_model(&inputs, model.inputs())?;
    let outputs = match model.schema.task {
        Task::Regression => Outputs::Numbers(
            rows.iter()
                .map(|r| r["prediction"].as_f64().unwrap_or(f64::NAN))
                .collect(),
        ),
        _ => Outputs::Classes {
            labels: rows
                .iter()
                .map(|r| match &r["prediction"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            confidence: rows
                .iter()
                .map(|r| {
                    r["probabilities"]
                        .as_array()
                        .map(|p| p.iter().filter_map(Value::as_f64).fold(0.0, f64::max))
                        .unwrap_or(f64::NAN)
                })
                .collect(),
        },
    };
    let labels = store.ground_truth(name)?;
    let truth = (!labels.is_empty()).then(|| {
        let of = |r: &&Value| r["inference_id"].as_str().and_then(|id| labels.get(id));
        match model.schema.task {
            Task::Regression => Truth::Numbers(
                rows.iter()
                    .map(|r| of(r).map_or(f64::NAN, |l| automl::values::parse_number(l)))
                    .collect(),
            ),
            _ => Truth::Labels(rows.iter().map(|r| of(r).cloned()).collect()),
        }
    });
    let seen = Seen {
        data,
        outputs,
        truth,
        inputs,
    };
    keep(store, &endpoint, source, &model_id, &model, &baseline, seen)
}

/// What a run saw: the rows as the model reads them and as they came, the
/// answers, and the truth when known.
struct Seen {
    data: automl::Dataset,
    outputs: Outputs,
    truth: Option<Truth>,
    inputs: Vec<Map<String, Value>>,
}

/// Checks what was seen against the baseline and keeps the run.
fn keep(
    store: &Store,
    endpoint: &api::Endpoint,
    source: &str,
    model_id: &str,
    model: &ModelArtifact,
    baseline: &Baseline,
    seen: Seen,
) -> AppResult<api::MonitorRun> {
    let errors = type_errors(model, &seen.inputs);
    let live_attribution = attribution(model, &seen.data);
    let report = monitor::check(
        baseline,
        &Live {
            data: &seen.data,
            outputs: Some(&seen.outputs),
            truth: seen.truth.as_ref(),
            type_errors: &errors,
            attribution: live_attribution.as_deref(),
        },
    );
    let mut report = report;
    if let Some(watch) = &endpoint.bias {
        let bias = bias_drift(store, endpoint, model_id, watch, &seen);
        report.violations.extend(bias.violations());
        report.bias = Some(bias);
    }
    let run = run_record(endpoint, source, model_id, &report)?;
    store.save_monitor_run(&run)?;
    Ok(run)
}

/// Live rows with ground truth, at least, for the bias metrics that need it.
const BIAS_TRUTH_ROWS: usize = 50;

/// The watched facet's bias metrics on what was seen against the model's
/// training rows; what stopped the comparison is kept as its note.
fn bias_drift(
    store: &Store,
    endpoint: &api::Endpoint,
    model_id: &str,
    watch: &api::BiasWatch,
    seen: &Seen,
) -> monitor::BiasDrift {
    let q = crate::fairness::BiasQuery::from(watch);
    let target = endpoint
        .variants
        .first()
        .map(|v| v.target.clone())
        .unwrap_or_default();
    let words = crate::fairness::watch_words(&q, &target);
    let facet_cells: Vec<Option<String>> = seen
        .inputs
        .iter()
        .map(|r| match r.get(&watch.facet) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => n.as_f64().map(automl::category_label),
            Some(other) => Some(other.to_string()),
        })
        .collect();
    let predicted = match &seen.outputs {
        Outputs::Numbers(v) => Column::Numeric(v.clone()),
        Outputs::Classes { labels, .. } => {
            Column::Categorical(labels.iter().cloned().map(Some).collect())
        }
    };
    let truth = seen.truth.as_ref().map(|t| match t {
        Truth::Numbers(v) => Column::Numeric(v.clone()),
        Truth::Labels(v) => Column::Categorical(v.clone()),
    });
    let labelled = truth.as_ref().map_or(0, |t| {
        (0..t.len()).filter(|&r| t.label(r).is_some()).count()
    });
    let truth = truth.filter(|_| labelled >= BIAS_TRUTH_ROWS);
    let compared = crate::fairness::model_rows(store, model_id, &q).and_then(|training| {
        let live =
            crate::fairness::live_facets(&q, &target, &facet_cells, &predicted, truth.as_ref())?;
        Ok(monitor::bias_drift(
            &training.facets,
            &live,
            truth.is_some(),
            0,
        ))
    });
    match compared {
        Ok(mut d) => {
            d.facet = words;
            d
        }
        Err(e) => monitor::BiasDrift::unavailable(words, e.to_string()),
    }
}

/// Checks an uploaded batch: scored by the endpoint's first variant; its
/// target column, when it has one, is the truth.
pub fn run_on_batch(store: &Store, name: &str, frame: &DataFrame) -> AppResult<api::MonitorRun> {
    let endpoint = store.endpoint(name)?;
    let (model_id, model, baseline) = production(store, &endpoint)?;
    let data = convert::frame_for_model(frame, model.inputs())?;
    let outputs = Outputs::of(&model.predict(&data)?);
    let target = endpoint
        .variants
        .first()
        .map(|v| v.target.clone())
        .unwrap_or_default();
    let full = convert::frame_to_dataset(frame)?;
    let truth = full.column(&target).map(|c| {
        let all: Vec<usize> = (0..c.len()).collect();
        truth_at(c, &all, model.schema.task)
    });
    let inputs = crate::endpoints::Rows::Table(frame.clone()).objects()?;
    let seen = Seen {
        data,
        outputs,
        truth,
        inputs,
    };
    keep(
        store, &endpoint, "batch", &model_id, &model, &baseline, seen,
    )
}

/// Stores ground truth from a table of `inference_id` and the endpoint's
/// target column; ids not in the capture are counted and named, not kept.
pub fn ground_truth(
    store: &Store,
    name: &str,
    frame: &DataFrame,
) -> AppResult<api::GroundTruthReceipt> {
    let endpoint = store.endpoint(name)?;
    let target = endpoint
        .variants
        .first()
        .map(|v| v.target.clone())
        .unwrap_or_default();
    let column = |c: &str| -> AppResult<Vec<Option<String>>> {
        let col = frame.column(c).map_err(|_| {
            AppError::unprocessable(
                "invalid_ground_truth",
                format!(
                    "the table needs the columns `inference_id` and `{target}`; `{c}` is not in it"
                ),
            )
        })?;
        data::profile::text_cells(col).map_err(|e| AppError::Internal(e.to_string()))
    };
    let ids = column("inference_id")?;
    let labels = column(&target)?;
    let known: std::collections::HashSet<String> = store
        .captured(name)?
        .iter()
        .filter_map(|r| r["inference_id"].as_str().map(String::from))
        .collect();
    let mut keep = Vec::new();
    let mut unknown = Vec::new();
    for (id, label) in ids.into_iter().zip(labels) {
        let (Some(id), Some(label)) = (id, label) else {
            continue;
        };
        if known.contains(&id) {
            keep.push((id, label));
        } else {
            unknown.push(id);
        }
    }
    store.save_ground_truth(name, &keep)?;
    Ok(api::GroundTruthReceipt {
        rows: (keep.len() + unknown.len()) as u64,
        matched: keep.len() as u64,
        unknown: unknown.len() as u64,
        unknown_examples: unknown.into_iter().take(5).collect(),
    })
}

/// Runs the scheduled checks that are due at `now` (seconds since the
/// epoch): an endpoint checked every N minutes whose last scheduled check
/// is N minutes old (or that has none) is checked on the rows captured
/// since. Endpoints with nothing new are passed over. Returns the runs.
pub fn run_due(store: &Store, now: u64) -> AppResult<Vec<api::MonitorRun>> {
    let mut done = Vec::new();
    for e in store.list_endpoints()?.items {
        let Some(every) = e.monitor_every_minutes else {
            continue;
        };
        let last = store
            .monitor_runs(&e.name, 200)?
            .into_iter()
            .find(|r| r.source == "schedule");
        let due_before = crate::time::rfc3339(now.saturating_sub(u64::from(every) * 60));
        if last.as_ref().is_some_and(|r| r.created > due_before) {
            continue;
        }
        match run_on_capture(
            store,
            &e.name,
            "schedule",
            last.as_ref().map(|r| r.created.as_str()),
        ) {
            Ok(run) => done.push(run),
            Err(AppError::Unprocessable {
                code: "nothing_to_monitor",
                ..
            }) => {}
            Err(err) => tracing::warn!(endpoint = %e.name, error = %err, "scheduled check failed"),
        }
    }
    Ok(done)
}

/// The endpoints whose latest run found violations.
pub fn alerts(store: &Store) -> AppResult<Vec<api::Alert>> {
    let mut out = Vec::new();
    for e in store.list_endpoints()?.items {
        if let Some(run) = store.monitor_runs(&e.name, 1)?.into_iter().next()
            && !run.violations.is_empty()
        {
            out.push(api::Alert {
                endpoint: e.name,
                run_id: run.id,
                created: run.created,
                violations: run.violations.len() as u32,
            });
        }
    }
    Ok(out)
}

/// The checks the timeline shows, with how a run's report says each went:
/// `Some(true)` violated, `Some(false)` passed, `None` not run.
const CHECKS: [&str; 6] = [
    "data quality",
    "feature drift",
    "prediction drift",
    "model quality",
    "estimated accuracy",
    "attribution",
];

fn check_states(report: &Value) -> [Option<bool>; 6] {
    let flag = |v: &Value, key: &str| -> Option<bool> {
        (!v.is_null()).then(|| v[key].as_bool().unwrap_or(false))
    };
    let quality = report["quality"]
        .as_array()
        .map(|q| q.iter().any(|c| c["violation"] == true));
    let drift = report["drift"]
        .as_array()
        .map(|d| d.iter().any(|c| c["drifted"] == true));
    [
        quality,
        drift,
        flag(&report["prediction"], "drifted"),
        flag(&report["model_quality"], "violation"),
        flag(&report["estimated_quality"], "violation"),
        flag(&report["attribution"], "violation"),
    ]
}

/// A timeline per check: one column per run (oldest left), a red dot where
/// the check was violated, green where it passed, nothing where it did not run.
pub fn timeline_chart(runs: &[api::MonitorRun]) -> AppResult<String> {
    use crate::charts::{FONT, GRID, TEXT, chart_error, render};
    use plotters::prelude::*;
    let runs: Vec<&api::MonitorRun> = runs.iter().rev().collect();
    let n = runs.len().max(1);
    render(300, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Checks over time", (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(130)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), -0.5..(CHECKS.len() as f64 - 0.5))
            .map_err(chart_error)?;
        let labels: Vec<String> = runs
            .iter()
            .map(|r| r.created.get(5..16).unwrap_or(&r.created).replace('T', " "))
            .collect();
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .disable_y_mesh()
            .y_labels(CHECKS.len())
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() > 1e-6 || i < 0.0 || i as usize >= CHECKS.len() {
                    String::new()
                } else {
                    CHECKS[CHECKS.len() - 1 - i as usize].to_owned()
                }
            })
            .x_labels(n.min(8))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() > 1e-6 || i < 0.0 || i as usize >= labels.len() {
                    String::new()
                } else {
                    labels[i as usize].clone()
                }
            })
            .x_desc("run (UTC)")
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        let red = RGBColor(180, 35, 24);
        let green = RGBColor(22, 163, 74);
        for (x, run) in runs.iter().enumerate() {
            for (c, state) in check_states(&run.report).iter().enumerate() {
                let Some(bad) = state else { continue };
                let y = (CHECKS.len() - 1 - c) as f64;
                let colour = if *bad { red } else { green };
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (x as f64, y),
                        6,
                        colour.filled(),
                    )))
                    .map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// One feature's distribution in a run against training: the share of rows
/// per bin (training deciles, or categories), training and live side by side.
pub fn drift_chart(run: &api::MonitorRun, feature: &str) -> AppResult<String> {
    use crate::charts::{ACCENT, FONT, GRID, TEXT, chart_error, render, short};
    use plotters::prelude::*;
    let drift = run.report["drift"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&run.report["prediction"]))
        .find(|d| d["feature"] == feature)
        .ok_or_else(|| AppError::NotFound(format!("the drift of `{feature}` in this run")))?;
    let bins: Vec<(String, f64, f64)> = drift["bins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            Some((
                b[0].as_str()?.to_owned(),
                b[1].as_f64().unwrap_or(0.0),
                b[2].as_f64().unwrap_or(0.0),
            ))
        })
        .collect();
    let n = bins.len().max(1);
    let top = bins
        .iter()
        .map(|b| b.1.max(b.2))
        .fold(0.0, f64::max)
        .max(1e-9);
    let title = format!(
        "{} — {} (PSI {:.3})",
        short(feature, 40),
        if drift["drifted"] == true {
            "drifted"
        } else {
            "no drift"
        },
        drift["psi"].as_f64().unwrap_or(0.0)
    );
    render(90 + 30 * n as u32, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..top * 1.1, -0.5..(n as f64 - 0.5))
            .map_err(chart_error)?;
        let labels: Vec<String> = bins.iter().map(|b| short(&b.0, 24)).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() > 1e-6 || i < 0.0 || i as usize >= labels.len() {
                    String::new()
                } else {
                    labels[labels.len() - 1 - i as usize].clone()
                }
            })
            .x_desc("share of rows")
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        let grey = RGBColor(148, 163, 184);
        chart
            .draw_series(bins.iter().enumerate().map(|(i, b)| {
                let y = (n - 1 - i) as f64;
                Rectangle::new([(0.0, y + 0.02), (b.2, y + 0.38)], grey.filled())
            }))
            .map_err(chart_error)?
            .label("training")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], grey.filled()));
        chart
            .draw_series(bins.iter().enumerate().map(|(i, b)| {
                let y = (n - 1 - i) as f64;
                Rectangle::new([(0.0, y - 0.38), (b.1, y - 0.02)], ACCENT.filled())
            }))
            .map_err(chart_error)?
            .label("live")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], ACCENT.filled()));
        crate::charts::legend(&mut chart, 2, SeriesLabelPosition::LowerRight)
    })
}
