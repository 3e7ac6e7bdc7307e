//! Build: choose the target (and see whether it is imbalanced or leaked)
//! and the budget, then watch the search live (SSE), with a Cancel button
//! that keeps what finished.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use send_wrapper::SendWrapper;

use crate::client;
use crate::components::{ErrorBox, FindingList, LeaderboardTable, Loading, StateBadge};
use crate::format;

/// Budgets offered, in seconds, with their names.
pub const BUDGETS: &[(u32, &str)] = &[
    (30, "30 seconds"),
    (60, "Quick: 1 minute"),
    (300, "5 minutes"),
    (600, "Standard: 10 minutes"),
    (1800, "30 minutes"),
];

fn parse_task(s: &str) -> Option<api::Task> {
    match s {
        "regression" => Some(api::Task::Regression),
        "binary" => Some(api::Task::Binary),
        "multiclass" => Some(api::Task::Multiclass),
        _ => None,
    }
}

#[component]
pub fn BuildSetupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = LocalResource::new(move || {
        let id = id();
        async move { client::get::<api::DatasetDetail>(&format!("/api/datasets/{id}")).await }
    });
    let target = RwSignal::new(String::new());
    let task_override = RwSignal::new(String::new());
    let budget = RwSignal::new(60u32);
    let seed = RwSignal::new(0u64);
    let error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    let target_info = LocalResource::new(move || {
        let (id, t) = (id(), target.get());
        async move {
            if t.is_empty() {
                return None;
            }
            let col = js_sys::encode_uri_component(&t);
            Some(
                client::get::<api::TargetInfo>(&format!("/api/datasets/{id}/target?column={col}"))
                    .await,
            )
        }
    });
    // The target checks (imbalance, leakage) of the quality report.
    let target_quality = LocalResource::new(move || {
        let (id, t) = (id(), target.get());
        async move {
            if t.is_empty() {
                return None;
            }
            let col = js_sys::encode_uri_component(&t);
            Some(
                client::get::<api::QualityReport>(&format!(
                    "/api/datasets/{id}/quality?target={col}"
                ))
                .await,
            )
        }
    });
    let navigate = use_navigate();
    let start = move |_| {
        let req = api::BuildRequest {
            dataset_id: id(),
            target: target.get_untracked(),
            task: parse_task(&task_override.get_untracked()),
            time_budget_secs: budget.get_untracked(),
            seed: seed.get_untracked(),
        };
        let navigate = navigate.clone();
        starting.set(true);
        error.set(None);
        spawn_local(async move {
            match client::post::<_, api::Build>("/api/builds", &req).await {
                Ok(b) => navigate(&format!("/builds/{}", b.id), Default::default()),
                Err(e) => {
                    starting.set(false);
                    error.set(Some(e));
                }
            }
        });
    };

    view! {
        {move || match detail.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorBox message=e/> }.into_any(),
            Some(Ok(d)) => {
                let options = d.profile.columns.iter().map(|c| {
                    let label = format!("{} ({})", c.name, c.kind.label());
                    view! { <option value=c.name.clone()>{label}</option> }
                }).collect_view();
                view! {
                    <h1>"Build a model"</h1>
                    <p class="muted">{format!("From “{}”: {} rows, {} columns.", d.summary.name, d.summary.rows, d.summary.columns)}</p>
                    <div class="form">
                        <label for="target-select">"Column to predict"</label>
                        <select id="target-select" on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="" selected=true disabled=true>"Choose a column…"</option>
                            {options}
                        </select>
                        <div class="hint" id="task-hint">{move || match target_info.get() {
                            None | Some(None) => view! { <span class="muted">"Kiln detects the kind of problem from the column."</span> }.into_any(),
                            Some(Some(Err(e))) => view! { <ErrorBox message=e/> }.into_any(),
                            Some(Some(Ok(info))) => {
                                let classes = if info.classes.is_empty() { String::new() } else {
                                    let shown: Vec<&str> = info.classes.iter().take(6).map(String::as_str).collect();
                                    format!(" · {} classes: {}{}", info.classes.len(), shown.join(", "), if info.classes.len() > 6 { ", …" } else { "" })
                                };
                                let missing = if info.missing > 0 { format!(" · {} rows without a value are left out", info.missing) } else { String::new() };
                                view! { <span>"Detected: "<strong>{info.task.label()}</strong>{classes}{missing}</span> }.into_any()
                            }
                        }}</div>

                        <label for="task-select">"Problem type"</label>
                        <select id="task-select" on:change=move |ev| task_override.set(event_target_value(&ev))>
                            <option value="" selected=true>"As detected"</option>
                            <option value="regression">"Regression"</option>
                            <option value="binary">"Binary classification"</option>
                            <option value="multiclass">"Multiclass classification"</option>
                        </select>

                        <label for="budget-select">"Time budget"</label>
                        <select id="budget-select" on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { budget.set(v) } }>
                            {BUDGETS.iter().map(|(secs, name)| view! { <option value=secs.to_string() selected=*secs == 60>{*name}</option> }).collect_view()}
                        </select>

                        <label for="seed-input">"Random seed"</label>
                        <input id="seed-input" type="number" min="0" value="0" on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { seed.set(v) } }/>

                        <div></div>
                        <button id="start-build" class="button primary" disabled=move || target.get().is_empty() || starting.get() on:click=start.clone()>
                            {move || if starting.get() { "Starting…" } else { "Start build" }}
                        </button>
                    </div>
                    {move || (!target.get().is_empty()).then(|| {
                        let name = target.get();
                        view! {
                            <section id="target-findings">
                                <h2>{format!("About “{name}” as a target")}</h2>
                                // An earlier target's report stays until the new one arrives.
                                {match target_quality.get().map(|r| r.filter(|r| r.as_ref().map_or(true, |r| r.target.as_deref() == Some(name.as_str())))) {
                                    None | Some(None) => view! { <p class="muted">{format!("Checking “{name}” for class imbalance and leakage…")}</p> }.into_any(),
                                    Some(Some(Err(e))) => view! { <ErrorBox message=e/> }.into_any(),
                                    Some(Some(Ok(r))) => {
                                        let about: Vec<api::Finding> = r.findings.into_iter().filter(|f| f.kind.about_target()).collect();
                                        if about.is_empty() {
                                            view! { <p class="muted" id="target-clean">{format!("No class imbalance, missing targets or leaking columns found for “{name}”.")}</p> }.into_any()
                                        } else {
                                            view! { <FindingList findings=about/> }.into_any()
                                        }
                                    }
                                }}
                            </section>
                        }
                    })}
                    {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
                }.into_any()
            }
        }}
    }
}

#[component]
pub fn BuildPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let build = RwSignal::new(None::<api::Build>);
    // The clock ticks between server events, so the elapsed time moves.
    let received = RwSignal::new(js_sys::Date::now());
    let now = RwSignal::new(js_sys::Date::now());
    let ticker = set_interval_with_handle(
        move || now.set(js_sys::Date::now()),
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    let elapsed = move || {
        build.with(|b| {
            b.as_ref().map_or(0.0, |b| {
                if b.state.is_final() {
                    b.elapsed_secs
                } else {
                    (b.elapsed_secs + (now.get() - received.get()) / 1000.0)
                        .min(f64::from(b.time_budget_secs) * 1.05 + 5.0)
                }
            })
        })
    };
    let error = RwSignal::new(None::<String>);
    let cancelling = RwSignal::new(false);
    let source = StoredValue::new(None::<SendWrapper<web_sys::EventSource>>);
    Effect::new(move |_| {
        let id = id();
        if let Some(es) = source.get_value() {
            es.close();
        }
        match client::follow_build(&id, move |b| {
            received.set(js_sys::Date::now());
            build.set(Some(b));
        }) {
            Ok(es) => source.set_value(Some(SendWrapper::new(es))),
            Err(e) => error.set(Some(e)),
        }
        // A first snapshot, in case the stream is slow to open.
        spawn_local(async move {
            match client::get::<api::Build>(&format!("/api/builds/{id}")).await {
                Ok(b) => build.update(|cur| {
                    if cur.is_none() {
                        *cur = Some(b);
                    }
                }),
                Err(e) => error.set(Some(e)),
            }
        });
    });
    on_cleanup(move || {
        if let Some(es) = source.try_get_value().flatten() {
            es.close();
        }
    });
    let navigate = use_navigate();
    let rerun = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match client::post_empty::<api::Build>(&format!("/api/builds/{}/rerun", id())).await {
                Ok(b) => navigate(&format!("/builds/{}", b.id), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let cancel = move |_| {
        cancelling.set(true);
        spawn_local(async move {
            if let Err(e) =
                client::post_empty::<api::Build>(&format!("/api/builds/{}/cancel", id())).await
            {
                error.set(Some(e));
            }
        });
    };

    view! {
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        {move || match build.get() {
            None => view! { <Loading/> }.into_any(),
            Some(b) => {
                let running = !b.state.is_final();
                let budget = f64::from(b.time_budget_secs.max(1));
                let task = b.task.map_or("detecting…", api::Task::label);
                let model_link = b.model_id.clone().map(|m| view! {
                    <a class="button primary" id="open-model" href=format!("/models/{m}")>"Open the best model"</a>
                });
                let dataset_href = format!("/datasets/{}", b.dataset_id);
                view! {
                    <div class="title-row">
                        <div>
                            <h1>{format!("Predicting “{}”", b.target)}</h1>
                            <p class="muted">{task}" · "<a href=dataset_href>"dataset"</a>" · started "{format::timestamp(&b.created)}</p>
                        </div>
                        <div class="actions">
                            {running.then(|| view! {
                                <button id="cancel-build" class="button danger" disabled=move || cancelling.get() on:click=cancel>
                                    {move || if cancelling.get() { "Cancelling…" } else { "Cancel" }}
                                </button>
                            })}
                            {(!running).then(|| {
                                let rerun = rerun.clone();
                                view! { <button id="rerun-build" class="button" on:click=rerun>"Run again"</button> }
                            })}
                            {model_link}
                        </div>
                    </div>
                    <div class="status">
                        <StateBadge state=b.state/>
                        <span id="build-message">{b.message.clone()}</span>
                        <span class="muted">{move || format!("{} trials · {} of {} budget", b.trials_done, format::seconds(elapsed()), format::seconds(budget))}</span>
                    </div>
                    {running.then(|| view! { <progress class="budget" max="100" value=move || (elapsed() / budget * 100.0).min(100.0).round().to_string()></progress> })}
                    {b.error.clone().map(|e| view! { <ErrorBox message=e/> })}
                    <h2>"Leaderboard"</h2>
                    {if b.leaderboard.is_empty() {
                        view! { <p class="muted">"The first results appear here as soon as a model finishes."</p> }.into_any()
                    } else {
                        view! { <LeaderboardTable entries=b.leaderboard.clone() metric=b.metric.clone()/> }.into_any()
                    }}
                    {b.metric.clone().map(|m| view! {
                        <p class="muted small" id="ranking-note">{format!(
                            "Ranked by {m} on held-out rows, {} ({}).",
                            b.validation.clone().unwrap_or_else(|| "one holdout".into()),
                            if b.higher_is_better { "higher is better" } else { "lower is better" }
                        )}</p>
                    })}
                }.into_any()
            }
        }}
    }
}
