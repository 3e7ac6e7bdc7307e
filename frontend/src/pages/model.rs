//! Model: metrics on held-out rows, the leaderboard it won, the download
//! and how to use it, a one-row predict form prefilled with typical values,
//! and its deletion (also of a model whose record no longer reads back).

use api::display;
use leptos::prelude::*;

mod threshold;

use crate::client::{self, ModelChart};
use crate::components::{DeleteButton, Deleted, ErrorBox, Loaded, RowsTable, with_code};
use crate::fairness::{FairnessSection, ModelFacts};
use crate::format;
use crate::leaderboard::{BoardBuild, LeaderboardTable};
use crate::pages::route_id;

/// The form's text for a feature's typical value.
fn typical_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.as_f64().map(display::number).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Python that scores one row of typical values with the ONNX file, its
/// inputs named as the model's columns.
fn onnx_example(file: &str, features: &[api::FeatureInfo], task: api::Task) -> String {
    let row = features
        .iter()
        .map(|f| {
            let value = match (&f.typical, f.kind) {
                (serde_json::Value::Number(n), _) => format!("[[{}]]", n),
                (serde_json::Value::String(s), api::FeatureKind::Categorical) => {
                    format!("[[{}]]", serde_json::Value::from(s.as_str()))
                }
                (_, api::FeatureKind::Numeric) => "[[float('nan')]]".into(),
                _ => "[[\"\"]]".into(),
            };
            let dtype = match f.kind {
                api::FeatureKind::Numeric => "np.float64",
                api::FeatureKind::Categorical => "object",
            };
            format!(
                "    {}: np.array({value}, {dtype}),\n",
                serde_json::Value::from(f.name.as_str())
            )
        })
        .collect::<String>();
    let outputs = if task == api::Task::Regression {
        "prediction"
    } else {
        "label, probabilities"
    };
    format!(
        "import numpy as np, onnxruntime as ort\nsession = ort.InferenceSession(\"{file}\")\nrow = {{\n{row}}}\n{outputs} = session.run(None, row)"
    )
}

/// One JSON row from the form's values: numbers where the feature is numeric, empty as missing.
pub fn form_row(
    features: &[api::FeatureInfo],
    values: &[String],
) -> serde_json::Map<String, serde_json::Value> {
    features
        .iter()
        .zip(values)
        .map(|(f, v)| {
            let v = v.trim();
            let value = if v.is_empty() {
                serde_json::Value::Null
            } else if f.kind == api::FeatureKind::Numeric {
                v.parse::<f64>()
                    .ok()
                    .map_or(serde_json::Value::Null, serde_json::Value::from)
            } else {
                serde_json::Value::from(v)
            };
            (f.name.clone(), value)
        })
        .collect()
}

#[component]
pub fn ModelPage() -> impl IntoView {
    let id = route_id();
    // The model with the build it won (whose leaderboard it shows, if still there).
    let model = LocalResource::new(move || {
        let id = id.get();
        async move {
            let m = client::model(&id).await?;
            let b = client::build(&m.build_id).await.ok();
            Ok::<_, client::ApiError>((m, b))
        }
    });
    let deleted = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = Callback::new(move |()| {
        error.set(None);
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            match client::delete_model(&id).await {
                Ok(()) => deleted.set(true),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    });
    // A model whose stored record does not read back can still be deleted.
    let unreadable =
        move || model.with(|r| matches!(r, Some(Err(e)) if e.error.code == "unreadable_record"));
    view! {
        <Show when=move || !deleted.get() fallback=|| view! { <Deleted what="model" note="Its build and the files it scored stay."/> }>
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
            <Loaded resource=model let:loaded>
                <ModelView model=loaded.0 parent=loaded.1 on_delete=delete/>
            </Loaded>
            {move || unreadable().then(|| view! {
                <div class="actions" id="model-actions">
                    <DeleteButton on_delete=delete label="Delete model" question="Delete this model?"/>
                </div>
            })}
        </Show>
    }
}

#[component]
fn ModelView(
    model: api::ModelSummary,
    parent: Option<api::Build>,
    on_delete: Callback<()>,
) -> impl IntoView {
    let note = metrics_note(parent.as_ref(), model.trial);
    let scored = RwSignal::new(None::<(String, String)>);
    let threshold = model
        .evaluation
        .clone()
        .filter(|e| model.task == api::Task::Binary && !e.thresholds.is_empty())
        .map(|e| view! { <threshold::Threshold model_id=model.id.clone() classes=model.classes.clone() evaluation=e saved=model.threshold/> });
    let artifact_href = client::artifact_url(&model.id);
    let file_name = format!("kiln-model-{}.json", model.id);
    let usage =
        format!("kiln predict --model {file_name} --input new.csv --output predictions.csv");
    let onnx_name = format!("kiln-model-{}.onnx", model.id);
    let onnx_usage = onnx_example(&onnx_name, &model.features, model.task);
    let onnx = LocalResource::new({
        let id = model.id.clone();
        move || {
            let id = id.clone();
            async move { client::onnx_check(&id).await }
        }
    });
    let onnx_href = client::onnx_url(&model.id);
    let onnx_button = move || {
        matches!(onnx.get(), Some(Ok(()))).then(|| {
            view! { <a class="button" id="download-onnx" href=onnx_href.clone() download=onnx_name.clone()>"Download ONNX"</a> }
        })
    };
    let onnx_note = move || {
        match onnx.get() {
        Some(Ok(())) => Some(view! {
            <p>"Or score it without Kiln, from Python, Java, C# or JavaScript, with any ONNX runtime (onnxruntime 1.21 or newer): one input per column, numbers as doubles (NaN when missing) and text as strings (empty when missing). In Python:"</p>
            <pre class="code" tabindex="0" id="onnx-usage">{onnx_usage.clone()}</pre>
        }.into_any()),
        Some(Err(e)) => Some(view! {
            <p class="muted small" id="onnx-refused">{format!("No ONNX download for this model: {}", e.error.message)}</p>
        }.into_any()),
        None => None,
    }
    };
    let metrics = model.metrics.iter().map(|m| view! {
        <div class="metric"><span class="metric-value">{display::number(m.value)}</span><span class="metric-name">{m.name.clone()}</span></div>
    }).collect_view();
    let values = RwSignal::new(
        model
            .features
            .iter()
            .map(|f| typical_text(&f.typical))
            .collect::<Vec<_>>(),
    );
    let features = StoredValue::new(model.features.clone());
    let model_id = model.id.clone();
    // The form's row, predicted and explained as soon as the page opens and
    // again whenever an input changes (the latest answer wins); the inputs
    // come back with the answer for the waterfall's labels.
    let explained = LocalResource::new(move || {
        let inputs = values.get();
        let row = form_row(&features.get_value(), &inputs);
        let id = model_id.clone();
        async move {
            let answer = client::explain(&id, &api::PredictRequest { rows: vec![row] }).await?;
            Ok::<_, client::ApiError>((answer, inputs))
        }
    });
    let inputs = model.features.iter().enumerate().map(|(i, f)| {
        let input_id = format!("feature-{i}");
        let set = move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            values.update(|vals| vals[i] = v);
        };
        let control = match f.kind {
            api::FeatureKind::Numeric => view! {
                // The browser keeps what is typed ("2." on the way to "2.5");
                // the form only reads it, never writes it back.
                <input id=input_id.clone() type="number" step="any" value=values.with_untracked(|v| v[i].clone()) on:input=set/>
            }.into_any(),
            api::FeatureKind::Categorical => {
                let current = values.with_untracked(|v| v[i].clone());
                let options = f.categories.iter().map(|c| view! { <option value=c.clone() selected=*c == current>{c.clone()}</option> }).collect_view();
                view! {
                    <select id=input_id.clone() on:change=set>
                        <option value="">"(missing)"</option>
                        {options}
                    </select>
                }.into_any()
            }
        };
        view! { <label for=input_id>{f.name.clone()}</label>{control} }
    }).collect_view();
    let classes = model.classes.clone();
    let evaluation = model.evaluation.clone().map(|e| {
        let chart = |chart: ModelChart, alt: &'static str, show: bool| {
            show.then(|| view! { <img class="chart" id=format!("{}-chart", chart.name()) src=client::model_chart_url(&model.id, chart) alt=alt/> })
        };
        view! {
            <div class="charts" id="evaluation">
                {chart(ModelChart::Roc, "ROC curve on held-out rows", !e.roc.is_empty())}
                {chart(ModelChart::PrecisionRecall, "Precision-recall curve on held-out rows", !e.pr.is_empty())}
                {chart(ModelChart::Confusion, "Confusion matrix on held-out rows", !e.confusion.is_empty())}
                {chart(ModelChart::Residuals, "Predicted against actual values on held-out rows", !e.residuals.is_empty())}
            </div>
        }
    });
    let insights = model.insights.clone().map(|ins| {
        let dependence = (0..ins.dependence.len()).map(|i| {
            let feature = ins.dependence[i].feature.clone();
            view! { <img class="chart" src=client::model_chart_url(&model.id, ModelChart::Dependence(i)) alt=format!("Partial dependence on {feature}")/> }
        }).collect_view();
        let top: Vec<String> = ins.importance.iter().take(3).map(|i| i.feature.clone()).collect();
        view! {
            <h2>"What drives the predictions"</h2>
            <p class="muted small">{format!(
                "SHAP values of the final model on {} of its training rows, in {}. Most important: {}.",
                display::count(ins.sample_rows),
                if ins.space == "value" { "units of the target".to_owned() } else { ins.space.clone() },
                top.join(", ")
            )}</p>
            <div class="charts" id="insights">
                <img class="chart" id="importance-chart" src=client::model_chart_url(&model.id, ModelChart::Importance) alt="Feature importance: mean absolute SHAP value per feature"/>
                <img class="chart" id="beeswarm-chart" src=client::model_chart_url(&model.id, ModelChart::Beeswarm) alt="SHAP value of each sampled row per feature, coloured by the feature's value"/>
                {dependence}
            </div>
        }
    });

    let standing = parent.as_ref().map(
        |b| view! { <Standing model_id=model.id.clone() trial=model.trial parent=b.clone()/> },
    );
    view! {
        <div class="title-row">
            <div>
                <h1>{format!("Model for “{}”", model.target)}</h1>
                <p class="muted">{format!("{} · {} · created {}", model.family, model.task.label(), format::timestamp(&model.created))}</p>
                {standing}
            </div>
            <div class="actions" id="model-actions">
                <DeleteButton on_delete=on_delete label="Delete model" question="Delete this model and its file?"/>
                {onnx_button}
                <a class="button" id="deploy-model" href=format!("/deployments?model={}", model.id)>"Deploy"</a>
                <a class="button primary" id="download-artifact" href=artifact_href download=file_name>"Download model"</a>
            </div>
        </div>
        <h2>"Held-out metrics"</h2>
        <p class="muted small" id="metrics-note">{note}</p>
        <div class="metrics" id="model-metrics">{metrics}</div>
        {model.calibration.as_ref().map(|c| view! {
            <p class="small" id="model-calibration">{calibration_note(c)}</p>
        })}
        {evaluation}
        {threshold}
        <p class="muted small">{format!("Hyperparameters: {}", model.params)}</p>
        {(!model.left_out.is_empty()).then(|| view! {
            <div id="model-left-out" class="small">
                <p class="muted">"Its build left these columns out because they leak the target:"</p>
                <ul>{model.left_out.iter().map(|l| view! { <li><code>{l.column.clone()}</code>": "{with_code(&l.reason)}</li> }).collect_view()}</ul>
                {model.leak_cost.as_ref().map(|c| view! { <p id="model-leak-cost">{format::leak_cost(c)}</p> })}
            </div>
        })}
        {(!model.recipe.is_empty()).then(|| view! {
            <div id="model-recipe" class="small">
                <p class="muted">"Before scoring, the model applies its cleaning recipe to the columns you give it:"</p>
                <ol>{model.recipe.iter().map(|s| view! { <li>{with_code(s)}</li> }).collect_view()}</ol>
            </div>
        })}

        {insights}

        <h2>"What if"</h2>
        <p class="muted small">"Every input starts at its median or most frequent value. Change one and the prediction and its explanation update at once."</p>
        <div class="predict">
            <div class="form" id="predict-form">
                {inputs}
                <div></div>
                <button id="predict-button" class="button" on:click=move |_| explained.refetch()>"Predict"</button>
            </div>
            <div class="prediction" id="prediction">
                <Loaded resource=explained let:answer>
                    <Prediction response=answer.0 inputs=answer.1 classes=classes.clone()/>
                </Loaded>
            </div>
        </div>

        <BatchPredict model_id=model.id.clone() scored=scored/>

        <ModelFairness model=model.clone() scored=scored/>

        <h2>"Use it elsewhere"</h2>
        <p>"The downloaded file holds everything needed to score new rows: the schema, the fitted preprocessing and the model. Score a CSV with the "<code>"kiln"</code>" binary:"</p>
        <pre class="code" tabindex="0">{usage}</pre>
        {onnx_note}

        {parent.map(|b| {
            let board = BoardBuild { id: b.id.clone(), model_id: b.model_id.clone() };
            let current = model.trial;
            view! {
                <h2>"Leaderboard of its build"</h2>
                <p class="muted small">"Every row is a model: open one to see its metrics and explanations, and make it the build's model if you prefer it."</p>
                <LeaderboardTable entries=b.leaderboard metric=b.metric board=Some(board) current=current/>
                <p class="muted small"><a href=format!("/builds/{}", b.id)>"Open the build"</a></p>
            }
        })}
    }
}

/// Where the model stands in its build: the build's model, or another row
/// of its leaderboard, which "Use this one" makes the build's model.
#[component]
fn Standing(model_id: String, trial: Option<u32>, parent: api::Build) -> impl IntoView {
    let build = parent;
    let chosen = RwSignal::new(build.model_id.as_deref() == Some(model_id.as_str()));
    let error = RwSignal::new(None::<String>);
    let row = trial.map_or_else(String::new, |t| format!("Trial {t} of "));
    let build_href = format!("/builds/{}", build.id);
    let use_it = move |_| {
        error.set(None);
        let (build, model) = (build.id.clone(), model_id.clone());
        leptos::task::spawn_local(async move {
            match client::choose_model(&build, &model).await {
                Ok(_) => chosen.set(true),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    view! {
        <p class="small" id="model-standing">
            {row}<a href=build_href>"its build"</a>{move || if chosen.get() {
                view! { <span>". "<strong>"The build's model"</strong>": the Experiments list, Compare and the build page use it."</span> }.into_any()
            } else {
                let use_it = use_it.clone();
                view! {
                    <span>". Not the build's model. "</span>
                    <button class="button small" id="use-this-model" on:click=use_it>"Use this one"</button>
                }.into_any()
            }}
        </p>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
    }
}

/// The Fairness section on the model's dataset's columns.
#[component]
fn ModelFairness(
    model: api::ModelSummary,
    /// A file scored on the page that holds the outcomes.
    scored: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let dataset = model.dataset_id.clone();
    let detail = LocalResource::new(move || {
        let dataset = dataset.clone();
        async move { client::dataset(&dataset).await }
    });
    let facts = ModelFacts {
        id: model.id.clone(),
        target: model.target.clone(),
        classes: model.classes.clone(),
    };
    view! {
        <Loaded resource=detail quiet=true let:d>
            <FairnessSection dataset=d.summary.id.clone() columns=d.profile.columns.clone() model=facts.clone() scored=scored/>
        </Loaded>
    }
}

/// A scored file's metrics and charts, when it held the target column.
#[component]
fn BatchEvaluation(id: String, evaluation: api::BatchEvaluation) -> impl IntoView {
    let e = evaluation;
    let mut left_out = Vec::new();
    if e.missing > 0 {
        left_out.push(format!(
            "{} without a value",
            display::plural(e.missing, "row", "rows")
        ));
    }
    if e.unknown > 0 {
        left_out.push(format!(
            "{} the model cannot be scored on (for example {})",
            display::plural(e.unknown, "row", "rows"),
            e.unknown_examples.join(", ")
        ));
    }
    let note = format!(
        "The file holds `{}`, so the predictions are scored against it on {}{}.",
        e.target,
        display::plural(e.rows, "row", "rows"),
        if left_out.is_empty() {
            String::new()
        } else {
            format!("; left out: {}", left_out.join("; "))
        }
    );
    let metrics = e.metrics.iter().map(|m| view! {
        <div class="metric"><span class="metric-value">{display::number(m.value)}</span><span class="metric-name">{m.name.clone()}</span></div>
    }).collect_view();
    let charts = [
        (ModelChart::Roc, "ROC curve on the scored file", !e.evaluation.roc.is_empty()),
        (ModelChart::PrecisionRecall, "Precision-recall curve on the scored file", !e.evaluation.pr.is_empty()),
        (ModelChart::Confusion, "Confusion matrix on the scored file", !e.evaluation.confusion.is_empty()),
        (ModelChart::Residuals, "Predicted against actual values on the scored file", !e.evaluation.residuals.is_empty()),
    ]
    .into_iter()
    .filter(|(_, _, shown)| *shown)
    .map(|(chart, alt, _)| view! { <img class="chart" src=client::batch_chart_url(&id, chart) alt=alt/> })
    .collect_view();
    view! {
        <section id="batch-evaluation">
            <h3>"How the model did on this file"</h3>
            <p class="muted small">{with_code(&note)}</p>
            <div class="metrics" id="batch-metrics">{metrics}</div>
            <div class="charts">{charts}</div>
        </section>
    }
}

/// What the calibration of a classifier's probabilities did, and what it
/// leaves alone.
fn calibration_note(c: &api::CalibrationInfo) -> String {
    let raw = if c.method == "platt" {
        "log-odds"
    } else {
        "logits"
    };
    format!(
        "Probabilities are calibrated by {}, fitted on the out-of-fold predictions: their log loss goes from {} to {} (each row calibrated by a map fitted without it). The metrics above are of the calibrated probabilities, as every prediction and download is; the leaderboard ranks the models before calibration. The explanations below are in the model's {raw}, before calibration: it changes how sure a probability is, not which way a feature pushes it.",
        c.description,
        display::number(c.log_loss_before),
        display::number(c.log_loss_after)
    )
}

/// How the held-out metrics are computed, and why the leaderboard's score
/// of the same model differs from them.
fn metrics_note(build: Option<&api::Build>, trial: Option<u32>) -> String {
    let pooled = "Computed once on all out-of-fold predictions pooled together: every row predicted by a model that did not train on it.";
    // The model's own row (a model from before rows were kept: the winner's).
    fn row(b: &api::Build, trial: Option<u32>) -> Option<&api::LeaderboardEntry> {
        match trial {
            Some(t) => b.leaderboard.iter().find(|e| e.trial == t),
            None => b.leaderboard.first(),
        }
    }
    match build.and_then(|b| Some((b, row(b, trial)?, b.metric.as_deref()?))) {
        Some((_, row, metric)) if row.params.contains("stopped after fold") => format!(
            "{pooled} On the leaderboard this candidate was stopped after its first fold (its validation {metric} there, {}, is that fold's); opened as a model it was validated on every fold.",
            format::score(row.score, row.score_std)
        ),
        Some((b, best, metric)) => {
            let validation = b.validation.as_deref().unwrap_or("cross-validation");
            let how = if validation.contains("fold") {
                "the mean of its per-fold scores"
            } else {
                "its score on the holdout rows alone"
            };
            format!(
                "{pooled} The leaderboard's validation {metric} of this model, {}, is {how} ({validation}), so the two can differ a little.",
                format::score(best.score, best.score_std)
            )
        }
        None => pooled.to_owned(),
    }
}

/// The form row's prediction, its class probabilities and why.
#[component]
fn Prediction(
    response: api::ExplainResponse,
    /// The form's values the prediction is for.
    inputs: Vec<String>,
    classes: Vec<String>,
) -> impl IntoView {
    let explanation = response.explanations.into_iter().next();
    let warnings = (!response.warnings.is_empty()).then(|| {
        let items = response
            .warnings
            .iter()
            .map(|w| {
                view! {
                    <li><strong>{w.column.clone()}</strong>": "{w.message.clone()}</li>
                }
            })
            .collect_view();
        view! { <ul class="warnings" id="whatif-warnings" role="status">{items}</ul> }
    });
    let Some(p) = response.prediction.predictions.into_iter().next() else {
        return view! { <p class="muted">"No prediction."</p> }.into_any();
    };
    let value = match &p.value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.as_f64().map(display::number).unwrap_or_default(),
        other => other.to_string(),
    };
    let probs = p.probabilities.map(|ps| {
        let rows = classes.iter().zip(ps).map(|(c, p)| view! {
            <tr><td>{c.clone()}</td><td class="num">{format!("{:.1}%", p * 100.0)}</td><td class="bar-cell"><progress max="100" value=(p * 100.0).round().to_string()></progress></td></tr>
        }).collect_view();
        view! { <div class="scroll" tabindex="0"><table class="data probs"><tbody>{rows}</tbody></table></div> }
    });
    let waterfall = explanation.map(|e| view! { <Waterfall explanation=e inputs=inputs/> });
    view! {
        <p class="muted">"Prediction"</p>
        <p class="predicted" id="predicted-value">{value}</p>
        {warnings}
        {probs}
        {waterfall}
    }
    .into_any()
}

/// One bar of a waterfall: the running total moves from `start` to `end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub label: String,
    pub start: f64,
    pub end: f64,
}

/// `s` cut to `max` characters with an ellipsis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

/// Waterfall steps from the base value to the explained output: the
/// `max` largest contributions, then the rest summed in one step.
pub fn waterfall_steps(e: &api::RowExplanation, inputs: &[String], max: usize) -> Vec<Step> {
    let mut order: Vec<usize> = (0..e.contributions.len()).collect();
    order.sort_by(|&a, &b| {
        e.contributions[b]
            .shap
            .abs()
            .total_cmp(&e.contributions[a].shap.abs())
            .then(a.cmp(&b))
    });
    let mut steps = Vec::new();
    let mut at = e.base;
    for &i in order.iter().take(max) {
        let c = &e.contributions[i];
        let value = inputs
            .get(i)
            .map(|v| {
                if v.trim().is_empty() {
                    "missing"
                } else {
                    v.trim()
                }
            })
            .unwrap_or("");
        steps.push(Step {
            label: clip(&format!("{} = {value}", c.feature), 34),
            start: at,
            end: at + c.shap,
        });
        at += c.shap;
    }
    if order.len() > max {
        let rest: f64 = order[max..].iter().map(|&i| e.contributions[i].shap).sum();
        steps.push(Step {
            label: format!("{} other features", order.len() - max),
            start: at,
            end: at + rest,
        });
    }
    steps
}

/// How one row's prediction is built from the average output, feature by feature.
#[component]
fn Waterfall(explanation: api::RowExplanation, inputs: Vec<String>) -> impl IntoView {
    let steps = waterfall_steps(&explanation, &inputs, 10);
    let (lo, hi) = steps.iter().fold(
        (
            explanation.base.min(explanation.raw),
            explanation.base.max(explanation.raw),
        ),
        |(l, h), s| (l.min(s.start).min(s.end), h.max(s.start).max(s.end)),
    );
    let span = (hi - lo).max(1e-12);
    let (left, width, row) = (250.0, 310.0, 24.0);
    let x = move |v: f64| left + (v - lo) / span * width;
    let height = row * (steps.len() as f64 + 2.0) + 8.0;
    let output = match explanation.space.as_str() {
        "value" => "prediction".to_owned(),
        space => format!("{space} of {}", explanation.output),
    };
    let bars = steps.iter().enumerate().map(|(i, s)| {
        let y = row * (i as f64 + 1.0);
        let (a, b) = (x(s.start.min(s.end)), x(s.start.max(s.end)));
        let delta = s.end - s.start;
        let class = if delta >= 0.0 { "wf-up" } else { "wf-down" };
        view! {
            <text x=(left - 8.0).to_string() y=(y + 16.0).to_string() class="wf-label" text-anchor="end">{s.label.clone()}</text>
            <rect x=a.to_string() y=(y + 4.0).to_string() width=(b - a).max(1.0).to_string() height=(row - 8.0).to_string() class=class/>
            <text x=(left + width + 8.0).to_string() y=(y + 16.0).to_string() class="wf-value">{format!("{}{}", if delta >= 0.0 { "+" } else { "−" }, display::number(delta.abs()))}</text>
        }
    }).collect_view();
    let last = row * (steps.len() as f64 + 1.0);
    view! {
        <div class="waterfall" id="waterfall">
            <p class="muted small">{format!("Why: SHAP contributions to the {output}, from the average over training rows ({}) to this row ({}).", display::number(explanation.base), display::number(explanation.raw))}</p>
            <svg viewBox=format!("0 0 640 {height}") width="100%" role="img" aria-label="SHAP waterfall">
                <text x=(left - 8.0).to_string() y="16" class="wf-label" text-anchor="end">"average"</text>
                <line x1=x(explanation.base).to_string() x2=x(explanation.base).to_string() y1="4" y2=last.to_string() class="wf-base"/>
                {bars}
                <text x=(left - 8.0).to_string() y=(last + 16.0).to_string() class="wf-label wf-total" text-anchor="end">"this row"</text>
                <line x1=x(explanation.raw).to_string() x2=x(explanation.raw).to_string() y1=(row).to_string() y2=(last + 20.0).to_string() class="wf-final"/>
                <text x=(left + width + 8.0).to_string() y=(last + 16.0).to_string() class="wf-value wf-total">{display::number(explanation.raw)}</text>
            </svg>
        </div>
    }
}

/// Score a CSV file with the model and download the predictions.
#[component]
fn BatchPredict(
    model_id: String,
    /// Set to the scored file (id, name) when it holds the outcomes.
    scored: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let progress = RwSignal::new(None::<f64>);
    let report = RwSignal::new(None::<Result<api::BatchReport, String>>);
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        report.set(None);
        progress.set(Some(0.0));
        let started = client::score_file(
            &model_id,
            file,
            move |p| progress.set(Some(p)),
            move |res: Result<api::BatchReport, client::ApiError>| {
                progress.set(None);
                if let Ok(r) = &res {
                    scored.set(
                        r.evaluation
                            .is_some()
                            .then(|| (r.id.clone(), r.file_name.clone())),
                    );
                }
                report.set(Some(res.map_err(|e| e.error.message)));
            },
        );
        if let Err(e) = started {
            progress.set(None);
            report.set(Some(Err(e.error.message)));
        }
        // The same file can be picked again.
        input.set_value("");
    };
    view! {
        <h2>"Score a file"</h2>
        <p class="muted small">"Upload a CSV with the model's input columns. Extra columns are kept in the output and ignored by the model; the output adds the prediction and, for classes, their probabilities."</p>
        <label class="button" for="batch-input">"Choose a CSV to score"</label>
        <input id="batch-input" type="file" accept=".csv,.tsv,.txt,text/csv" class="visually-hidden" on:change=on_pick/>
        {move || progress.get().map(|p| view! { <progress max="100" value=(p * 100.0).round().to_string()></progress> })}
        {move || report.get().map(|r| match r {
            Err(e) => view! { <ErrorBox message=e/> }.into_any(),
            Ok(r) => {
                let extra = (!r.extra_columns.is_empty()).then(|| view! {
                    <p class="muted small">{format!("Ignored columns the model does not use: {}.", r.extra_columns.join(", "))}</p>
                });
                let warnings = r.warnings.iter().map(|w| view! {
                    <li><strong>{w.column.clone()}</strong>": "{w.message.clone()}</li>
                }).collect_view();
                // The server names the download (`?name=` of its address).
                let file = r.download.split_once("?name=").map(|(_, n)| n.to_owned()).unwrap_or_default();
                let evaluation = r.evaluation.clone().map(|e| view! { <BatchEvaluation id=r.id.clone() evaluation=e/> });
                let preview = r.preview.clone().map(|p| view! {
                    <h3>"First scored rows"</h3>
                    <RowsTable page=p id="batch-preview"/>
                });
                view! {
                    <div class="batch-report" id="batch-report">
                        <p>{format!("Scored {} of {}.", display::plural(r.rows, "row", "rows"), r.file_name)}</p>
                        {extra}
                        <ul class="warnings">{warnings}</ul>
                        <a class="button primary" id="batch-download" href=r.download.clone() download=file>"Download predictions"</a>
                        {evaluation}
                        {preview}
                    </div>
                }.into_any()
            }
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_rows_type_numbers_and_blank_as_missing() {
        let f = |name: &str, kind| api::FeatureInfo {
            name: name.into(),
            kind,
            categories: vec![],
            typical: serde_json::Value::Null,
        };
        let feats = vec![
            f("x", api::FeatureKind::Numeric),
            f("c", api::FeatureKind::Categorical),
            f("y", api::FeatureKind::Numeric),
        ];
        let row = form_row(&feats, &["2.5".into(), "red".into(), " ".into()]);
        assert_eq!(row["x"], serde_json::json!(2.5));
        assert_eq!(row["c"], serde_json::json!("red"));
        assert_eq!(row["y"], serde_json::Value::Null);
    }

    #[test]
    fn waterfall_runs_from_base_to_output_and_pools_small_contributions() {
        let e = api::RowExplanation {
            output: "yes".into(),
            space: "log-odds".into(),
            base: -1.0,
            raw: 0.5,
            contributions: [
                ("a", 0.5),
                ("b", -2.0),
                ("c", 3.0),
                ("d", 0.25),
                ("e", -0.25),
            ]
            .iter()
            .map(|(f, s)| api::Contribution {
                feature: (*f).into(),
                shap: *s,
            })
            .collect(),
        };
        let inputs: Vec<String> = ["1", "x", "", "4", "5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let steps = waterfall_steps(&e, &inputs, 3);
        let labels: Vec<&str> = steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["c = missing", "b = x", "a = 1", "2 other features"]
        );
        assert_eq!(steps[0].start, -1.0);
        assert!((steps[3].end - e.raw).abs() < 1e-12);
        for w in steps.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }
}
