//! Build setup: choose the target (and see whether it is imbalanced or
//! leaked), the columns used as features, the problem type, the budget and
//! the seed; a sample's target is chosen at first, and "Change and run
//! again" on a build opens this form with that build's settings.

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::client;
use crate::components::{ErrorBox, FindingList, Loaded, with_code};
use crate::format;
use crate::pages::use_dataset;

/// Budgets offered, in seconds, with their names.
pub const BUDGETS: &[(u32, &str)] = &[
    (30, "30 seconds"),
    (60, "Quick: 1 minute"),
    (300, "5 minutes"),
    (600, "Standard: 10 minutes"),
    (1800, "30 minutes"),
];

fn task_value(t: Option<api::Task>) -> &'static str {
    match t {
        Some(api::Task::Regression) => "regression",
        Some(api::Task::Binary) => "binary",
        Some(api::Task::Multiclass) => "multiclass",
        None => "",
    }
}

fn parse_task(s: &str) -> Option<api::Task> {
    match s {
        "regression" => Some(api::Task::Regression),
        "binary" => Some(api::Task::Binary),
        "multiclass" => Some(api::Task::Multiclass),
        _ => None,
    }
}

/// A ranking metric as a select's value: its place in `RankingMetric::ALL`.
fn metric_value(m: Option<api::RankingMetric>) -> String {
    m.and_then(|m| api::RankingMetric::ALL.iter().position(|x| *x == m))
        .map_or_else(String::new, |i| i.to_string())
}

fn parse_metric(s: &str) -> Option<api::RankingMetric> {
    s.parse::<usize>()
        .ok()
        .and_then(|i| api::RankingMetric::ALL.get(i).copied())
}

#[component]
pub fn BuildSetupPage() -> impl IntoView {
    let dataset = use_dataset();
    let id = dataset.id;
    let target = RwSignal::new(String::new());
    let task_override = RwSignal::new(String::new());
    let budget = RwSignal::new(60u32);
    let seed = RwSignal::new(0u64);
    // Empty: the time budget only.
    let trials = RwSignal::new(String::new());
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
    // The columns the saved recipe changes or drops cannot be the target.
    let changed = Memo::new(move |_| -> Vec<String> {
        match recipe.get() {
            Some(Ok(r)) => r
                .recipe
                .steps
                .iter()
                .flat_map(|s| {
                    s.columns()
                        .into_iter()
                        .filter(|c| s.changes(c))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect(),
            _ => Vec::new(),
        }
    });
    // "Change and run again": the form starts from that build's settings.
    let query = use_query_map();
    let previous = LocalResource::new(move || {
        let from = query.read().get("from");
        async move {
            match from {
                Some(b) => client::build(&b).await.map(Some),
                None => Ok(None),
            }
        }
    });
    // The model families to try: ticked by default as the engine says.
    let available = LocalResource::new(client::families);
    let families = RwSignal::new(None::<Vec<String>>);
    Effect::new(move || {
        if families.get_untracked().is_none()
            && let Some(Ok(list)) = available.get()
        {
            families.set(Some(
                list.iter()
                    .filter(|f| f.by_default)
                    .map(|f| f.name.clone())
                    .collect(),
            ));
        }
    });
    // The ranking metric: `None` is the problem's default.
    let metric = RwSignal::new(None::<api::RankingMetric>);
    let task_now = Memo::new(move |_| {
        parse_task(&task_override.get()).or_else(|| match target_info.get() {
            Some(Ok(Some(info))) => Some(info.task),
            _ => None,
        })
    });
    // A metric of another kind of problem goes back to the default.
    Effect::new(move || {
        if let (Some(m), Some(t)) = (metric.get_untracked(), task_now.get())
            && !m.applies_to(t)
        {
            metric.set(None);
        }
    });
    // The previous build's exclusions, kept while its target is chosen.
    let kept_exclusions = RwSignal::new(None::<(String, Vec<String>)>);
    Effect::new(move || {
        if let Some(Ok(Some(b))) = previous.get() {
            // What it left out, whether asked to or as a leak.
            let out = b
                .excluded
                .iter()
                .cloned()
                .chain(b.left_out.iter().map(|l| l.column.clone()))
                .collect();
            kept_exclusions.set(Some((b.target.clone(), out)));
            task_override.set(task_value(b.task).to_owned());
            budget.set(b.time_budget_secs);
            seed.set(b.seed);
            trials.set(b.max_trials.map(|n| n.to_string()).unwrap_or_default());
            metric.set(b.ranking_metric);
            if !b.families.is_empty() {
                families.set(Some(b.families.clone()));
            }
            target.set(b.target.clone());
        }
    });
    // A sample's card names its target: the form starts from it.
    let samples = LocalResource::new(client::samples);
    Effect::new(move || {
        let (Some(Ok(d)), Some(Ok(list))) = (dataset.detail.get(), samples.get()) else {
            return;
        };
        if !target.get_untracked().is_empty() || query.read_untracked().get("from").is_some() {
            return;
        }
        if let Some(s) = list.iter().find(|s| s.name == d.summary.name)
            && d.profile.columns.iter().any(|c| c.name == s.target)
            && !changed.get_untracked().contains(&s.target)
        {
            target.set(s.target.clone());
        }
    });
    // A target chosen before the recipe loaded, which the recipe changes, is no target.
    Effect::new(move || {
        if changed.get().contains(&target.get_untracked()) {
            target.set(String::new());
        }
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
    // Columns that rebuild the target with others: offered to leave out,
    // never left out silently (a departure delay can be known in time).
    let questioned_columns = Memo::new(move |_| -> Vec<String> {
        let t = target.get();
        match target_quality.get() {
            Some(Ok(Some(r))) if r.target.as_deref() == Some(t.as_str()) => r
                .findings
                .iter()
                .filter(|f| f.kind == api::FindingKind::DerivedTarget)
                .filter_map(|f| match f.steps.first() {
                    Some(api::Step::DropColumns { columns }) => columns.first().cloned(),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    });
    // Columns that look like sensitive attributes (suggested facets): noted
    // when used as features, one click to leave out, never left out silently.
    let suggested = LocalResource::new(move || {
        let id = id.get();
        async move { client::facets(&id).await }
    });
    let sensitive_columns = Memo::new(move |_| -> Vec<String> {
        let t = target.get();
        match suggested.get() {
            Some(Ok(v)) => v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f["column"].as_str())
                        .filter(|c| !t.is_empty() && *c != t)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    });
    Effect::new(move || {
        let leaky = leaky_columns.get();
        let t = target.get();
        match kept_exclusions.get_untracked() {
            Some((kept_target, kept)) if kept_target == t => excluded.set(kept),
            _ => excluded.set(leaky),
        }
    });
    // The columns a build can use: those the saved recipe leaves.
    let prepared = LocalResource::new(move || {
        let (id, r) = (id.get(), recipe.get());
        async move {
            match r {
                Some(Ok(r)) if !r.recipe.steps.is_empty() => client::preview_recipe(&id, &r.recipe)
                    .await
                    .map(|p| Some(p.after.columns)),
                _ => Ok(None),
            }
        }
    });
    let navigate = use_navigate();
    let start = move |_| {
        let req = api::BuildRequest {
            dataset_id: id.get_untracked(),
            target: target.get_untracked(),
            task: parse_task(&task_override.get_untracked()),
            time_budget_secs: budget.get_untracked(),
            seed: seed.get_untracked(),
            max_trials: trials.get_untracked().trim().parse().ok(),
            exclude: excluded.get_untracked(),
            recipe_version: recipe
                .get_untracked()
                .and_then(Result::ok)
                .map(|r| r.version),
            families: chosen_families(available.get_untracked(), families.get_untracked()),
            metric: metric.get_untracked(),
            // Flagged columns the person chose to use: the server leaves
            // out every other one by itself.
            allow: leaky_columns
                .get_untracked()
                .into_iter()
                .filter(|c| !excluded.with_untracked(|e| e.contains(c)))
                .collect(),
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
                let columns = d.profile.columns.clone();
                let options = move || {
                    let changed = changed.get();
                    columns.iter().filter(|c| !changed.contains(&c.name)).map(|c| {
                        let label = format!("{} ({})", c.name, c.kind.label());
                        let name = c.name.clone();
                        let chosen = target.get_untracked() == name;
                        view! { <option value=c.name.clone() selected=chosen>{label}</option> }
                    }).collect_view()
                };
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
                        <select id="target-select" prop:value=move || target.get() on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="" disabled=true>"Choose a column…"</option>
                            {options}
                        </select>
                        {move || {
                            let changed = changed.get();
                            (!changed.is_empty()).then(|| view! {
                                <p class="hint muted" id="target-excluded-by-recipe">{format!(
                                    "Not offered: {}, which the recipe changes or drops (a model predicts its target as it is in the data).",
                                    changed.iter().map(|c| format!("“{c}”")).collect::<Vec<_>>().join(", ")
                                )}</p>
                            })
                        }}
                        <div class="hint" id="task-hint">
                            <Loaded resource=target_info quiet=true let:info>
                                <TargetHint info=info/>
                            </Loaded>
                        </div>

                        <label for="task-select">"Problem type"</label>
                        <select id="task-select" prop:value=move || task_override.get() on:change=move |ev| task_override.set(event_target_value(&ev))>
                            <option value="">"As detected"</option>
                            <option value="regression">"Regression"</option>
                            <option value="binary">"Binary classification"</option>
                            <option value="multiclass">"Multiclass classification"</option>
                        </select>

                        <label for="metric-select">"Rank models by"</label>
                        <select id="metric-select"
                            prop:value=move || metric_value(metric.get())
                            on:change=move |ev| metric.set(parse_metric(&event_target_value(&ev)))>
                            {move || {
                                let task = task_now.get();
                                let chosen = metric.get();
                                let default = match task {
                                    Some(t) => format!("Default: {}", api::RankingMetric::default_for(t).label()),
                                    None => "Default for the problem".to_owned(),
                                };
                                let options = api::RankingMetric::ALL
                                    .into_iter()
                                    .filter(|m| task.is_none_or(|t| m.applies_to(t)))
                                    .map(|m| view! { <option value=metric_value(Some(m)) selected=chosen == Some(m)>{m.label()}</option> })
                                    .collect_view();
                                view! { <option value="" selected=chosen.is_none()>{default}</option>{options} }
                            }}
                        </select>

                        <label for="budget-select">"Time budget"</label>
                        <select id="budget-select" prop:value=move || budget.get().to_string() on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { budget.set(v) } }>
                            {move || {
                                // A previous build's budget that is not among the usual ones.
                                let current = budget.get();
                                let mut offered: Vec<(u32, String)> = BUDGETS.iter().map(|(s, n)| (*s, (*n).to_owned())).collect();
                                if !offered.iter().any(|(s, _)| *s == current) {
                                    offered.push((current, format::seconds(f64::from(current))));
                                    offered.sort_by_key(|(s, _)| *s);
                                }
                                offered.into_iter().map(|(secs, name)| view! { <option value=secs.to_string() selected=secs == current>{name}</option> }).collect_view()
                            }}
                        </select>

                        <label for="seed-input">"Random seed"</label>
                        <input id="seed-input" type="number" min="0" prop:value=move || seed.get().to_string() on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { seed.set(v) } }/>

                        <label for="trials-input">"Trial budget"</label>
                        <div>
                            <input id="trials-input" type="number" min="1" max="100000" placeholder="no limit: the time budget decides"
                                prop:value=move || trials.get() on:change=move |ev| trials.set(event_target_value(&ev))/>
                            <p class="muted small">"Stop after this many candidate models (an ensemble of the best may follow). The same data, settings, seed and trial budget give the same model file, byte for byte, in the studio and with kiln train --trials; the time budget still applies."</p>
                        </div>

                        <span class="form-label">"Model families"</span>
                        <div id="families">
                            {move || match available.get() {
                                Some(Ok(list)) => list.into_iter().map(|f| {
                                    let (name, shown, toggled) = (f.name.clone(), f.name.clone(), f.name.clone());
                                    let input_id = format!("family-{}", name.replace(' ', "-"));
                                    let label_for = input_id.clone();
                                    view! {
                                        <label class="inline family" for=label_for>
                                            <input type="checkbox" id=input_id class="family-tick"
                                                prop:checked=move || families.with(|f| f.as_ref().is_some_and(|f| f.contains(&shown)))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    families.update(|f| {
                                                        let f = f.get_or_insert_with(Vec::new);
                                                        f.retain(|x| *x != toggled);
                                                        if on {
                                                            f.push(toggled.clone());
                                                        }
                                                    });
                                                }/>
                                            {format!(" {name}")}
                                        </label>
                                    }
                                }).collect_view().into_any(),
                                _ => view! { <span class="muted small">"Loading the families…"</span> }.into_any(),
                            }}
                        </div>

                        <div></div>
                        <button id="start-build" class="button primary" disabled=move || target.get().is_empty() || starting.get() || families.with(|f| f.as_ref().is_some_and(Vec::is_empty)) on:click=start.clone()>
                            {move || if starting.get() { "Starting…" } else { "Start build" }}
                        </button>
                    </div>
                    {move || {
                        let (leaky, questioned, sensitive) = (leaky_columns.get(), questioned_columns.get(), sensitive_columns.get());
                        (!leaky.is_empty() || !questioned.is_empty() || !sensitive.is_empty()).then(|| view! { <ExcludedColumns leaky=leaky questioned=questioned sensitive=sensitive excluded=excluded/> })
                    }}
                    {
                        let raw: Vec<String> = d.profile.columns.iter().map(|c| c.name.clone()).collect();
                        move || {
                            let t = target.get();
                            (!t.is_empty()).then(|| {
                                let columns = match prepared.get() {
                                    Some(Ok(Some(p))) => p,
                                    _ => raw.clone(),
                                };
                                view! { <ColumnsUsed columns=columns target=t excluded=excluded/> }
                            })
                        }
                    }
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

/// Columns that leak the target, or may be sensitive attributes, each left
/// out or kept at the person's choice.
#[component]
fn ExcludedColumns(
    leaky: Vec<String>,
    /// Columns that rebuild the target together with others.
    questioned: Vec<String>,
    /// Columns that look like sensitive attributes (not already listed).
    sensitive: Vec<String>,
    excluded: RwSignal<Vec<String>>,
) -> impl IntoView {
    let listed: Vec<String> = leaky.iter().chain(&questioned).cloned().collect();
    let items = leaky
        .into_iter()
        .map(|c| (c, 0))
        .chain(questioned.into_iter().map(|c| (c, 1)))
        .chain(sensitive.into_iter().filter(|c| !listed.contains(c)).map(|c| (c, 2)))
        .map(|(c, why)| {
            let (c1, c2, c3) = (c.clone(), c.clone(), c.clone());
            let is_out = move || excluded.with(|e| e.contains(&c1));
            view! {
                <li class="excluded-column">
                    <code>{c.clone()}</code>
                    {move || match (why, is_out()) {
                        (0, true) => " is left out: on its own, or by whether it is missing, it predicts the target far better than it should, which usually means it is only known after the fact (leakage). ",
                        (0, false) => " is used as a feature, although it looks like a leak. ",
                        (1, true) => " is left out: together with other columns it rebuilds the target almost exactly (see below). ",
                        (1, false) => " rebuilds the target almost exactly together with other columns (see below). If it is known only after the target, leave it out. ",
                        (_, true) => " is left out: it may be a sensitive attribute, so the model cannot use it directly (its bias can still be checked on the Model page). ",
                        (_, false) => " is used as a feature and may be a sensitive attribute: a model that uses it can treat its groups differently. ",
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
    view! { <section id="excluded-columns"><h3>"Columns to decide about"</h3><ul>{items}</ul></section> }
}

/// The families a request names: none when they are the default set (so a
/// build keeps following the engine's defaults), else those ticked, in the
/// engine's order.
fn chosen_families(
    available: Option<Result<Vec<api::FamilyInfo>, client::ApiError>>,
    ticked: Option<Vec<String>>,
) -> Vec<String> {
    let (Some(Ok(available)), Some(ticked)) = (available, ticked) else {
        return Vec::new();
    };
    let defaults: Vec<&str> = available
        .iter()
        .filter(|f| f.by_default)
        .map(|f| f.name.as_str())
        .collect();
    let chosen: Vec<String> = available
        .iter()
        .filter(|f| ticked.contains(&f.name))
        .map(|f| f.name.clone())
        .collect();
    if chosen
        .iter()
        .map(String::as_str)
        .eq(defaults.iter().copied())
    {
        Vec::new()
    } else {
        chosen
    }
}

/// Every column but the target, each used as a feature unless unticked.
#[component]
fn ColumnsUsed(
    columns: Vec<String>,
    target: String,
    excluded: RwSignal<Vec<String>>,
) -> impl IntoView {
    let features: Vec<String> = columns.into_iter().filter(|c| *c != target).collect();
    let total = features.len();
    let items = features
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let (shown, toggled) = (c.clone(), c.clone());
            let input_id = format!("use-column-{i}");
            view! {
                <li>
                    <input type="checkbox" id=input_id.clone() class="use-column"
                        prop:checked=move || !excluded.with(|e| e.contains(&shown))
                        on:change=move |ev| {
                            let used = event_target_checked(&ev);
                            excluded.update(|e| {
                                e.retain(|x| *x != toggled);
                                if !used {
                                    e.push(toggled.clone());
                                }
                            });
                        }/>
                    <label for=input_id>{c}</label>
                </li>
            }
        })
        .collect_view();
    view! {
        <details id="columns-used">
            <summary>{move || {
                let out = excluded.with(|e| e.len()).min(total);
                format!("Columns used as features: {} of {total}", total - out)
            }}</summary>
            <p class="muted small">"Untick a column to leave it out: an identifier, or something only known after the outcome."</p>
            <ul class="columns-used">{items}</ul>
        </details>
    }
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
