//! The Fairness section of the Dataset page (before training) and the
//! Model page (after): choose a facet (suggested ones first, none assumed),
//! the favourable outcome and an optional group column, and read Clarify's
//! metrics with their ranges, fair values and a sentence each, the chart of
//! favourable shares by facet value, and the printable report.

use leptos::prelude::*;
use serde_json::Value;

use crate::client;
use crate::components::{ErrorBox, with_code};
use crate::json::{items, number, text};

/// The model a section reports on: its id, target and classes (none for
/// regression).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFacts {
    pub id: String,
    pub target: String,
    pub classes: Vec<String>,
}

/// Values to tick for a column: its most common ones.
fn values_of(columns: &[api::ColumnProfile], name: &str) -> Option<Vec<String>> {
    let c = columns.iter().find(|c| c.name == name)?;
    (c.kind != api::ColumnKind::Numeric)
        .then(|| c.top_values.iter().map(|v| v.value.clone()).collect())
}

/// Ticks for `values` into `chosen`, with the class `class`.
fn ticks(values: Vec<String>, chosen: RwSignal<Vec<String>>, class: &'static str) -> impl IntoView {
    view! {
        <div class="hint ticks">{values.into_iter().map(|v| {
            let value = v.clone();
            view! {
                <label class="inline">
                    <input type="checkbox" class=class
                        prop:checked={let v = v.clone(); move || chosen.with(|c| c.contains(&v))}
                        on:change=move |_| chosen.update(|c| {
                            if let Some(i) = c.iter().position(|x| *x == value) {
                                c.remove(i);
                            } else {
                                c.push(value.clone());
                            }
                        })/>
                    {format!(" {v}")}
                </label>
            }
        }).collect_view()}</div>
    }
}

/// A threshold box: rows above it are chosen.
fn threshold(id: &'static str, value: RwSignal<String>, what: &'static str) -> impl IntoView {
    view! {
        <input id=id type="number" step="any" class="hint" placeholder=what
            prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
    }
}

#[component]
pub fn FairnessSection(
    dataset: String,
    columns: Vec<api::ColumnProfile>,
    /// After training: the model whose out-of-fold predictions are read.
    #[prop(optional)]
    model: Option<ModelFacts>,
    /// A file scored on the page that holds the outcomes (id, name): its
    /// predictions can be read instead.
    #[prop(optional)]
    scored: Option<RwSignal<Option<(String, String)>>>,
) -> impl IntoView {
    let read_scored = RwSignal::new(false);
    let facet = RwSignal::new(String::new());
    let values = RwSignal::new(Vec::<String>::new());
    let above = RwSignal::new(String::new());
    let target = RwSignal::new(model.as_ref().map(|m| m.target.clone()).unwrap_or_default());
    let favourable = RwSignal::new(Vec::<String>::new());
    let favourable_above = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let report =
        RwSignal::new(None::<Result<(Value, Vec<(&'static str, String)>, client::BiasOf), String>>);
    let suggested = LocalResource::new({
        let dataset = dataset.clone();
        move || {
            let dataset = dataset.clone();
            async move { client::facets(&dataset).await }
        }
    });
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let options = || {
        names
            .iter()
            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
            .collect_view()
    };
    let (facet_options, group_options, target_options) = (options(), options(), options());
    let model_id = model.as_ref().map(|m| m.id.clone());
    let classes = model.as_ref().map(|m| m.classes.clone());
    let cols = StoredValue::new(columns);
    let of = {
        let (dataset, model_id) = (dataset.clone(), model_id.clone());
        move || match (
            &model_id,
            scored.and_then(|s| s.get()).filter(|_| read_scored.get()),
        ) {
            (_, Some((batch, _))) => client::BiasOf::Scored(batch),
            (Some(m), None) => client::BiasOf::Model(m.clone()),
            (None, None) => client::BiasOf::Dataset(dataset.clone()),
        }
    };
    let is_model = model.is_some();
    let run = {
        move |_| {
            let mut q: Vec<(&'static str, String)> = vec![("facet", facet.get())];
            q.extend(values.get().into_iter().map(|v| ("value", v)));
            if !above.get().is_empty() {
                q.push(("above", above.get()));
            }
            if !is_model {
                q.push(("target", target.get()));
            }
            q.extend(favourable.get().into_iter().map(|v| ("favourable", v)));
            if !favourable_above.get().is_empty() {
                q.push(("favourable_above", favourable_above.get()));
            }
            if !group.get().is_empty() {
                q.push(("group", group.get()));
            }
            let of = of();
            leptos::task::spawn_local(async move {
                let answer = client::bias(&of, &q).await;
                report.set(Some(
                    answer.map(|r| (r, q, of)).map_err(|e| e.error.message),
                ));
            });
        }
    };
    let stage = if model.is_some() {
        "the model's out-of-fold predictions on its training rows, and their labels"
    } else {
        "the labels as uploaded, before any model"
    };
    view! {
        <section id="fairness">
            <h2>"Fairness"</h2>
            <p class="muted small">{format!(
                "Does one group (a facet: rows with some value of a column, or above a threshold) get the favourable outcome less often than the rest? SageMaker Clarify's bias metrics, on {stage}."
            )}</p>
            <p class="small" id="fairness-suggested">
                <crate::components::Loaded resource=suggested quiet=true let:s>
                    {let s: Vec<String> = items(&s).iter().map(|f| format!("{} ({})", text(&f["column"]), text(&f["reason"]))).collect();
                    if s.is_empty() {
                        "No column looks like a sensitive attribute by its name or values; any column can be a facet.".to_owned()
                    } else {
                        format!("Columns that may be sensitive attributes (a suggestion, not an assumption): {}.", s.join("; "))
                    }}
                </crate::components::Loaded>
            </p>
            <div class="form">
                <label for="fairness-facet">"Facet column"</label>
                <select id="fairness-facet" prop:value=move || facet.get() on:change=move |ev| {
                    facet.set(event_target_value(&ev));
                    values.set(Vec::new());
                    above.set(String::new());
                }>
                    <option value="" disabled=true>"Choose a column…"</option>
                    {facet_options}
                </select>
                <span class="form-label">"Facet of interest"</span>
                {move || match cols.with_value(|c| values_of(c, &facet.get())) {
                    Some(v) => ticks(v, values, "fairness-value").into_any(),
                    None => threshold("fairness-above", above, "rows above this number").into_any(),
                }}
                {model.is_none().then(|| view! {
                    <label for="fairness-target">"Outcome column"</label>
                    <select id="fairness-target" prop:value=move || target.get() on:change=move |ev| {
                        target.set(event_target_value(&ev));
                        favourable.set(Vec::new());
                        favourable_above.set(String::new());
                    }>
                        <option value="" disabled=true>"Choose a column…"</option>
                        {target_options}
                    </select>
                })}
                <span class="form-label">"Favourable outcome"</span>
                {move || {
                    let options = classes.clone().filter(|c| !c.is_empty())
                        .or_else(|| cols.with_value(|c| values_of(c, &target.get())));
                    match options {
                        Some(v) => ticks(v, favourable, "fairness-favourable").into_any(),
                        None => threshold("fairness-favourable-above", favourable_above, "favourable above this number").into_any(),
                    }
                }}
                <label for="fairness-group">"Group (optional)"</label>
                <select id="fairness-group" prop:value=move || group.get() on:change=move |ev| group.set(event_target_value(&ev))>
                    <option value="">"None"</option>
                    {group_options}
                </select>
                {move || scored.and_then(|s| s.get()).map(|(_, name)| view! {
                    <label for="fairness-source">"Predictions"</label>
                    <select id="fairness-source" on:change=move |ev| read_scored.set(event_target_value(&ev) == "scored")>
                        <option value="oof">"Out-of-fold, on its training rows"</option>
                        <option value="scored">{format!("The scored file “{name}”")}</option>
                    </select>
                })}
                <button class="button primary" id="fairness-run" on:click=run>"Report"</button>
            </div>
            {move || report.get().map(|r| match r {
                Err(message) => view! { <ErrorBox message=message/> }.into_any(),
                Ok((r, q, of)) => view! { <BiasView report=r of=of query=q/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn BiasView(
    /// An `api::BiasReport`.
    report: Value,
    of: client::BiasOf,
    query: Vec<(&'static str, String)>,
) -> impl IntoView {
    let url = |format| client::bias_url(&of, &query, format);
    let percent = |v: &Value| v.as_f64().map(api::display::percent);
    let rates = items(&report["rates"])
        .iter()
        .map(|r| {
            let predicted = percent(&r["predictions"]).map(|p| format!(", predicted {p}"));
            format!(
                "{}: {} rows, favourable {}{}",
                text(&r["side"]),
                api::display::count(r["rows"].as_u64().unwrap_or_default()),
                percent(&r["labels"]).unwrap_or_default(),
                predicted.unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <div id="fairness-report">
            <p class="small">{with_code(&format!(
                "{} against the other rows; favourable: {}. Read on {}. {rates}.",
                text(&report["facet"]), text(&report["favourable"]), text(&report["source"])
            ))}</p>
            <ul class="warnings">{items(&report["warnings"]).iter().map(|w| view! { <li>{text(w)}</li> }).collect_view()}</ul>
            <div class="scroll" tabindex="0">
                <table class="data" id="fairness-metrics">
                    <thead><tr><th>"Metric"</th><th>"Value"</th><th>"Fair"</th><th>"Range"</th><th>"Reading"</th></tr></thead>
                    <tbody>{items(&report["metrics"]).iter().map(|m| view! {
                        <tr data-code=text(&m["code"])>
                            <td>{format!("{} ({})", text(&m["name"]), text(&m["code"]))}</td>
                            <td class="num">{number(&m["value"])}</td>
                            <td class="num">{number(&m["fair"])}</td>
                            <td class="small">{text(&m["range"])}</td>
                            <td class="small">{match m["undefined"].as_str() {
                                Some(w) => format!("Undefined: {w}."),
                                None => text(&m["reading"]),
                            }}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </div>
            <img class="chart" src=url("svg") alt="Favourable share by facet value"/>
            <p class="small">
                <a id="fairness-html" href=url("html") target="_blank" rel="noopener">"Printable report"</a>" · "
                <a id="fairness-json" href=url("json") download="bias-report.json">"JSON"</a>
            </p>
        </div>
    }
}
