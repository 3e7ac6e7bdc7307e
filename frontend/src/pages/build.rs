//! Build: choose the target (and see whether it is imbalanced or leaked)
//! and the budget, then watch the search live (SSE), with a Cancel button
//! that keeps what finished; once it has ended, run it again or delete it
//! (also a build whose record no longer reads back).

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use send_wrapper::SendWrapper;

use crate::client;
use crate::components::{
    DeleteButton, Deleted, ErrorBox, FindingList, LeaderboardTable, Loaded, StateBadge, with_code,
};
use crate::format;
use crate::pages::{route_id, use_dataset};

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
    let dataset = use_dataset();
    let id = dataset.id;
    let target = RwSignal::new(String::new());
    let task_override = RwSignal::new(String::new());
    let budget = RwSignal::new(60u32);
    let seed = RwSignal::new(0u64);
    let error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    // Both are `None` until a target is chosen.
    let target_info = LocalResource::new(move || {
        let (id, t) = (id.get(), target.get());
        async move {
            if t.is_empty() {
                return Ok(None);
            }
            client::target_info(&id, &t).await.map(Some)
        }
    });
    // The target checks (imbalance, leakage) of the quality report.
    let target_quality = LocalResource::new(move || {
        let (id, t) = (id.get(), target.get());
        async move {
            if t.is_empty() {
                return Ok(None);
            }
            client::quality(&id, Some(&t), true).await.map(Some)
        }
    });
    let recipe = LocalResource::new(move || {
        let id = id.get();
        async move { client::recipe(&id).await }
    });
    // Columns that leak the target are left out unless the person keeps them.
    let excluded = RwSignal::new(Vec::<String>::new());
    let leaky_columns = Memo::new(move |_| -> Vec<String> {
        let t = target.get();
        match target_quality.get() {
            Some(Ok(Some(r))) if r.target.as_deref() == Some(t.as_str()) => r
                .findings
                .iter()
                .filter(|f| f.kind == api::FindingKind::TargetLeakage)
                .flat_map(|f| f.columns.iter().filter(|c| **c != t).cloned())
                .collect(),
            _ => Vec::new(),
        }
    });
    Effect::new(move || excluded.set(leaky_columns.get()));
    let navigate = use_navigate();
    let start = move |_| {
        let req = api::BuildRequest {
            dataset_id: id.get_untracked(),
            target: target.get_untracked(),
            task: parse_task(&task_override.get_untracked()),
            time_budget_secs: budget.get_untracked(),
            seed: seed.get_untracked(),
            exclude: excluded.get_untracked(),
            recipe_version: recipe
                .get_untracked()
                .and_then(Result::ok)
                .map(|r| r.version),
        };
        let navigate = navigate.clone();
        starting.set(true);
        error.set(None);
        spawn_local(async move {
            match client::start_build(&req).await {
                Ok(b) => navigate(&format!("/builds/{}", b.id), Default::default()),
                Err(e) => {
                    starting.set(false);
                    error.set(Some(e.error.message));
                }
            }
        });
    };

    view! {
        <Loaded resource=dataset.detail let:d>
            {
                let options = d.profile.columns.iter().map(|c| {
                    let label = format!("{} ({})", c.name, c.kind.label());
                    view! { <option value=c.name.clone()>{label}</option> }
                }).collect_view();
                let prepare = format!("/datasets/{}/prepare", d.summary.id);
                view! {
                    <h1>"Build a model"</h1>
                    <p class="muted">{format!(
                        "From “{}”: {}, {}.",
                        d.summary.name,
                        display::plural(d.summary.rows, "row", "rows"),
                        display::plural(u64::from(d.summary.columns), "column", "columns")
                    )}</p>
                    <div id="build-recipe" class="small">
                        <Loaded resource=recipe quiet=true let:r>
                            <RecipeSummary recipe=r prepare=prepare.clone()/>
                        </Loaded>
                    </div>
                    <div class="form">
                        <label for="target-select">"Column to predict"</label>
                        <select id="target-select" on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="" selected=true disabled=true>"Choose a column…"</option>
                            {options}
                        </select>
                        <div class="hint" id="task-hint">
                            <Loaded resource=target_info quiet=true let:info>
                                <TargetHint info=info/>
                            </Loaded>
                        </div>

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
                    {move || {
                        let leaky = leaky_columns.get();
                        (!leaky.is_empty()).then(|| view! { <ExcludedColumns leaky=leaky excluded=excluded/> })
                    }}
                    {move || (!target.get().is_empty()).then(|| {
                        let name = target.get();
                        view! {
                            <section id="target-findings">
                                <h2>{format!("About “{name}” as a target")}</h2>
                                <Loaded resource=target_quality loading=checking(&name) let:report>
                                    <TargetFindings name=name.clone() report=report/>
                                </Loaded>
                            </section>
                        }
                    })}
                    {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
                }
            }
        </Loaded>
    }
}

fn checking(target: &str) -> String {
    format!("Checking “{target}” for class imbalance and leakage…")
}

/// The cleaning recipe a build applies first, or how to make one.
#[component]
fn RecipeSummary(recipe: api::RecipeVersion, prepare: String) -> impl IntoView {
    if recipe.version > 0 && !recipe.recipe.steps.is_empty() {
        let steps = recipe
            .recipe
            .steps
            .iter()
            .map(|s| view! { <li>{with_code(&s.describe())}</li> })
            .collect_view();
        view! {
            <p>{format!("Cleaning recipe version {} ({}) is applied first: ", recipe.version, display::plural(recipe.recipe.steps.len() as u64, "step", "steps"))}<a href=prepare>"edit"</a></p>
            <ol class="recipe-summary">{steps}</ol>
        }
        .into_any()
    } else {
        view! { <p class="muted">"The data is used as uploaded. "<a href=prepare>"Prepare it"</a>" to fill missing values, drop columns or transform them first."</p> }
            .into_any()
    }
}

/// The kind of problem detected for the chosen target (`None` before one is chosen).
#[component]
fn TargetHint(info: Option<api::TargetInfo>) -> impl IntoView {
    let Some(info) = info else {
        return view! { <span class="muted">"Kiln detects the kind of problem from the column."</span> }
            .into_any();
    };
    let classes = if info.classes.is_empty() {
        String::new()
    } else {
        let shown: Vec<&str> = info.classes.iter().take(6).map(String::as_str).collect();
        format!(
            " · {}: {}{}",
            display::plural(info.classes.len() as u64, "class", "classes"),
            shown.join(", "),
            if info.classes.len() > 6 { ", …" } else { "" }
        )
    };
    let missing = if info.missing > 0 {
        format!(
            " · {} left out",
            display::plural(
                info.missing,
                "row without a value is",
                "rows without a value are"
            )
        )
    } else {
        String::new()
    };
    view! { <span>"Detected: "<strong>{info.task.label()}</strong>{classes}{missing}</span> }
        .into_any()
}

/// Columns that leak the target, each left out or kept at the person's choice.
#[component]
fn ExcludedColumns(leaky: Vec<String>, excluded: RwSignal<Vec<String>>) -> impl IntoView {
    let items = leaky
        .into_iter()
        .map(|c| {
            let (c1, c2, c3) = (c.clone(), c.clone(), c.clone());
            let is_out = move || excluded.with(|e| e.contains(&c1));
            view! {
                <li class="excluded-column">
                    <code>{c.clone()}</code>
                    {move || if is_out() {
                        " is left out: on its own it predicts the target almost perfectly, which usually means it is only known after the fact (leakage). "
                    } else {
                        " is used as a feature, although it looks like a leak. "
                    }}
                    {move || if excluded.with(|e| e.contains(&c2)) {
                        let c = c3.clone();
                        view! { <button class="button keep-column" on:click=move |_| excluded.update(|e| e.retain(|x| *x != c))>"Use it anyway"</button> }.into_any()
                    } else {
                        let c = c3.clone();
                        view! { <button class="button exclude-column" on:click=move |_| excluded.update(|e| e.push(c.clone()))>"Leave it out"</button> }.into_any()
                    }}
                </li>
            }
        })
        .collect_view();
    view! { <section id="excluded-columns"><h3>"Left out of the features"</h3><ul>{items}</ul></section> }
}

/// The quality findings about the target `name`; an earlier target's report
/// (shown until the new one arrives) reads as still checking.
#[component]
fn TargetFindings(name: String, report: Option<api::QualityReport>) -> impl IntoView {
    match report.filter(|r| r.target.as_deref() == Some(name.as_str())) {
        None => view! { <p class="muted">{checking(&name)}</p> }.into_any(),
        Some(r) => {
            let about: Vec<api::Finding> = r
                .findings
                .into_iter()
                .filter(|f| f.kind.about_target())
                .collect();
            if about.is_empty() {
                view! { <p class="muted" id="target-clean">{format!("No class imbalance, missing targets or leaking columns found for “{name}”.")}</p> }
                    .into_any()
            } else {
                view! { <FindingList findings=about/> }.into_any()
            }
        }
    }
}

#[component]
pub fn BuildPage() -> impl IntoView {
    let id = route_id();
    // A first snapshot, in case the stream is slow to open.
    let snapshot = LocalResource::new(move || {
        let id = id.get();
        async move { client::build(&id).await }
    });
    let live = RwSignal::new(None::<api::Build>);
    let received = RwSignal::new(js_sys::Date::now());
    let error = RwSignal::new(None::<String>);
    let source = StoredValue::new(None::<SendWrapper<web_sys::EventSource>>);
    Effect::new(move |_| {
        let id = id.get();
        if let Some(es) = source.get_value() {
            es.close();
        }
        live.set(None);
        match client::follow_build(&id, move |b| {
            received.set(js_sys::Date::now());
            live.set(Some(b));
        }) {
            Ok(es) => source.set_value(Some(SendWrapper::new(es))),
            Err(e) => error.set(Some(e.error.message)),
        }
    });
    on_cleanup(move || {
        if let Some(es) = source.try_get_value().flatten() {
            es.close();
        }
    });
    let deleted = RwSignal::new(false);
    let delete = Callback::new(move |()| {
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match client::delete_build(&id).await {
                Ok(()) => deleted.set(true),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    });
    // A build whose stored record does not read back can still be deleted.
    let unreadable =
        move || snapshot.with(|r| matches!(r, Some(Err(e)) if e.error.code == "unreadable_record"));
    view! {
        <Show when=move || !deleted.get() fallback=|| view! { <Deleted what="build" note="Its model stays."/> }>
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
            <Loaded resource=snapshot let:first>
                <BuildView first=first live=live received=received error=error on_delete=delete/>
            </Loaded>
            {move || unreadable().then(|| view! {
                <div class="actions" id="build-actions">
                    <DeleteButton on_delete=delete label="Delete build" question="Delete this build?"/>
                </div>
            })}
        </Show>
    }
}

/// A build as it runs: the latest server event, else the first snapshot.
#[component]
fn BuildView(
    first: api::Build,
    live: RwSignal<Option<api::Build>>,
    /// When the latest event arrived (ms since the epoch).
    received: RwSignal<f64>,
    error: RwSignal<Option<String>>,
    on_delete: Callback<()>,
) -> impl IntoView {
    let build = Memo::new(move |_| {
        live.get()
            .filter(|b| b.id == first.id)
            .unwrap_or_else(|| first.clone())
    });
    // The clock ticks between server events, so the elapsed time moves.
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
            if b.state.is_final() {
                b.elapsed_secs
            } else {
                (b.elapsed_secs + (now.get() - received.get()) / 1000.0)
                    .min(f64::from(b.time_budget_secs) * 1.05 + 5.0)
            }
        })
    };
    let cancelling = RwSignal::new(false);
    let navigate = use_navigate();
    let rerun = move |_| {
        let navigate = navigate.clone();
        let id = build.with_untracked(|b| b.id.clone());
        spawn_local(async move {
            match client::rerun_build(&id).await {
                Ok(b) => navigate(&format!("/builds/{}", b.id), Default::default()),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    let cancel = move |_| {
        cancelling.set(true);
        let id = build.with_untracked(|b| b.id.clone());
        spawn_local(async move {
            if let Err(e) = client::cancel_build(&id).await {
                error.set(Some(e.error.message));
            }
        });
    };

    move || {
        let b = build.get();
        let running = !b.state.is_final();
        let budget = f64::from(b.time_budget_secs.max(1));
        let task = b.task.map_or("detecting…", api::Task::label);
        let model_link = b.model_id.clone().map(|m| view! {
            <a class="button primary" id="open-model" href=format!("/models/{m}")>"Open the best model"</a>
        });
        let dataset_href = format!("/datasets/{}", b.dataset_id);
        let trials = display::plural(u64::from(b.trials_done), "trial", "trials");
        view! {
            <div class="title-row">
                <div>
                    <h1>{format!("Predicting “{}”", b.target)}</h1>
                    <p class="muted">{task}" · "<a href=dataset_href>"dataset"</a>" · started "{format::timestamp(&b.created)}</p>
                </div>
                <div class="actions" id="build-actions">
                    {(!running).then(|| view! {
                        <DeleteButton on_delete=on_delete label="Delete build" question="Delete this build?"/>
                    })}
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
                <span class="muted">{move || format!("{trials} · {} of {} budget", format::seconds(elapsed()), format::seconds(budget))}</span>
            </div>
            {running.then(|| view! { <progress class="budget" max="100" value=move || (elapsed() / budget * 100.0).min(100.0).round().to_string()></progress> })}
            {b.error.clone().map(|e| view! { <ErrorBox message=e/> })}
            <ProgressChart entries=b.leaderboard.clone() higher_is_better=b.higher_is_better budget=budget metric=b.metric.clone().unwrap_or_default()/>
            <h2>"Leaderboard"</h2>
            {if b.leaderboard.is_empty() {
                view! { <p class="muted">"The first results appear here as soon as a model finishes."</p> }.into_any()
            } else {
                view! { <LeaderboardTable entries=b.leaderboard.clone() metric=b.metric.clone()/> }.into_any()
            }}
            {b.metric.clone().map(|m| view! {
                <p class="muted small" id="ranking-note">{format!(
                    "Ranked by {m} on held-out rows, {} ({}).{}{}",
                    b.validation.clone().unwrap_or_else(|| "one holdout".into()),
                    if b.higher_is_better { "higher is better" } else { "lower is better" },
                    if b.recipe_version > 0 { format!(" Data prepared with recipe version {}.", b.recipe_version) } else { String::new() },
                    if b.excluded.is_empty() { String::new() } else { format!(" Left out: {}.", b.excluded.join(", ")) }
                )}</p>
            })}
        }
    }
}

/// `(seconds, best score so far)` each time the best score improved.
pub fn best_over_time(
    entries: &[api::LeaderboardEntry],
    higher_is_better: bool,
) -> Vec<(f64, f64)> {
    let mut done: Vec<&api::LeaderboardEntry> =
        entries.iter().filter(|e| e.score.is_finite()).collect();
    done.sort_by(|a, b| {
        a.finished_secs
            .total_cmp(&b.finished_secs)
            .then(a.trial.cmp(&b.trial))
    });
    let mut out: Vec<(f64, f64)> = Vec::new();
    for e in done {
        let better = out.last().is_none_or(|&(_, best)| {
            if higher_is_better {
                e.score > best
            } else {
                e.score < best
            }
        });
        if better {
            out.push((e.finished_secs, e.score));
        }
    }
    out
}

/// The best validation score over the build's time, as a step line.
#[component]
fn ProgressChart(
    entries: Vec<api::LeaderboardEntry>,
    higher_is_better: bool,
    budget: f64,
    metric: String,
) -> impl IntoView {
    let points = best_over_time(&entries, higher_is_better);
    if points.len() < 2 {
        return None;
    }
    let (w, h, left, bottom) = (640.0, 180.0, 56.0, 24.0);
    let t_max = points.iter().map(|p| p.0).fold(budget, f64::max).max(1e-9);
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.1), h.max(p.1))
        });
    let span = (hi - lo).max(1e-12);
    let x = move |t: f64| left + t / t_max * (w - left - 12.0);
    let y = move |s: f64| 8.0 + (hi - s) / span * (h - bottom - 16.0);
    let mut path = String::new();
    for (i, &(t, s)) in points.iter().enumerate() {
        if i > 0 {
            // Steps: the best score holds until the next improvement.
            path.push_str(&format!("{:.1},{:.1} ", x(t), y(points[i - 1].1)));
        }
        path.push_str(&format!("{:.1},{:.1} ", x(t), y(s)));
    }
    let last = points[points.len() - 1];
    let dots = points
        .iter()
        .map(|&(t, s)| view! { <circle cx=format!("{:.1}", x(t)) cy=format!("{:.1}", y(s)) r="3" class="pc-dot"/> })
        .collect_view();
    Some(view! {
        <div class="progress-chart" id="progress-chart">
            <p class="muted small">{format!("Best {metric} so far, by time (now {}).", display::number(last.1))}</p>
            <svg viewBox=format!("0 0 {w} {h}") width="100%" role="img" aria-label="Best score over time">
                <line x1=left.to_string() x2=(w - 12.0).to_string() y1=(h - bottom).to_string() y2=(h - bottom).to_string() class="pc-axis"/>
                <text x=left.to_string() y=(h - 6.0).to_string() class="pc-label">"0 s"</text>
                <text x=(w - 12.0).to_string() y=(h - 6.0).to_string() class="pc-label" text-anchor="end">{format!("{} s", display::number(t_max))}</text>
                <text x=(left - 6.0).to_string() y=(y(hi) + 4.0).to_string() class="pc-label" text-anchor="end">{display::number(hi)}</text>
                <text x=(left - 6.0).to_string() y=(y(lo) + 4.0).to_string() class="pc-label" text-anchor="end">{display::number(lo)}</text>
                <polyline points=path class="pc-line"/>
                {dots}
            </svg>
        </div>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(trial: u32, score: f64, finished_secs: f64) -> api::LeaderboardEntry {
        api::LeaderboardEntry {
            trial,
            family: "boosted trees".into(),
            params: String::new(),
            score,
            score_std: 0.0,
            fit_secs: 0.0,
            predict_us_per_row: 0.0,
            size_bytes: 0,
            finished_secs,
        }
    }

    #[test]
    fn best_score_steps_only_when_it_improves() {
        let entries = vec![
            entry(2, 0.5, 3.0),
            entry(0, 0.9, 1.0),
            entry(1, f64::NAN, 2.0),
            entry(3, 0.4, 4.0),
            entry(4, 0.45, 5.0),
        ];
        assert_eq!(
            best_over_time(&entries, false),
            vec![(1.0, 0.9), (3.0, 0.5), (4.0, 0.4)]
        );
        assert_eq!(best_over_time(&entries, true), vec![(1.0, 0.9)]);
    }
}
