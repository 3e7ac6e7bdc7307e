//! Experiments: every build with its target, state and best score, each
//! deletable once it has ended, and chosen with a tick to be compared
//! (`/compare`); above them, the stored builds that do not read back, each
//! deletable too.

use api::display;
use leptos::prelude::*;

use crate::client;
use crate::components::{DeleteButton, ErrorBox, Loaded, SkippedNotice, StateBadge, delete_action};
use crate::format;

/// What the list shows: builds of one dataset, in one state, whose target
/// contains some text (each empty for all).
#[derive(Clone, Copy)]
struct Filter {
    dataset: RwSignal<String>,
    state: RwSignal<String>,
    target: RwSignal<String>,
}

impl Filter {
    fn keeps(&self, b: &api::Build) -> bool {
        let (dataset, state, target) = (self.dataset.get(), self.state.get(), self.target.get());
        (dataset.is_empty() || b.dataset_id == dataset)
            && (state.is_empty() || b.state.label() == state)
            && b.target
                .to_lowercase()
                .contains(target.trim().to_lowercase().as_str())
    }
}

#[component]
pub fn BuildsPage() -> impl IntoView {
    let builds = LocalResource::new(client::builds);
    // Dataset names for the list; a list without them still shows the builds.
    let datasets = LocalResource::new(client::datasets);
    let error = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(Vec::<String>::new());
    let filter = Filter {
        dataset: RwSignal::new(String::new()),
        state: RwSignal::new(String::new()),
        target: RwSignal::new(String::new()),
    };
    let delete = delete_action(
        move |id: String| async move {
            let done = client::delete_build(&id).await;
            if done.is_ok() {
                chosen.update(|c| c.retain(|x| *x != id));
            }
            done
        },
        error,
        move || builds.refetch(),
    );
    // While a build is queued or running, the list follows it.
    let ticker = set_interval_with_handle(
        move || {
            let live = builds.with_untracked(
                |b| matches!(b, Some(Ok(list)) if list.items.iter().any(|b| !b.state.is_final())),
            );
            if live {
                builds.refetch();
            }
        },
        std::time::Duration::from_secs(2),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    let names = move || -> Vec<(String, String)> {
        match datasets.get() {
            Some(Ok(list)) => list.items.into_iter().map(|d| (d.id, d.name)).collect(),
            _ => Vec::new(),
        }
    };
    view! {
        <h1>"Experiments"</h1>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        <CompareBar chosen=chosen/>
        // Outside the list, which is redrawn as it refreshes: the filters keep their state.
        <Filters builds=builds names=Signal::derive(names) filter=filter/>
        <Loaded resource=builds let:list>
            <SkippedNotice kind=("build", "builds") ids=list.skipped on_delete=delete/>
            <div id="builds-list">
                <BuildsTable builds=list.items names=Signal::derive(names) filter=filter on_delete=delete chosen=chosen/>
            </div>
        </Loaded>
    }
}

/// The builds ticked for comparison, and the way to compare them.
#[component]
fn CompareBar(chosen: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <div class="compare-bar">
            {move || {
                let ids = chosen.get();
                if ids.len() >= 2 {
                    view! { <a class="button" id="compare-builds" href=format!("/compare?builds={}", ids.join(","))>{format!("Compare {} builds", ids.len())}</a> }.into_any()
                } else {
                    view! { <button class="button" id="compare-builds" disabled=true>"Compare builds"</button> }.into_any()
                }
            }}
            <span class="muted small">{move || match chosen.get().len() {
                0 => "Tick two or more builds to compare them side by side.".to_owned(),
                1 => "Tick at least one more build.".to_owned(),
                n => format!("{n} builds ticked."),
            }}</span>
        </div>
    }
}

/// The filters, offering the datasets and states the builds have.
#[component]
fn Filters(
    builds: LocalResource<Result<client::Listed<api::Build>, client::ApiError>>,
    names: Signal<Vec<(String, String)>>,
    filter: Filter,
) -> impl IntoView {
    let present = move || -> (Vec<String>, Vec<&'static str>) {
        let mut datasets: Vec<String> = Vec::new();
        let mut states: Vec<&'static str> = Vec::new();
        builds.with(|b| {
            if let Some(Ok(list)) = b {
                for b in &list.items {
                    if !datasets.contains(&b.dataset_id) {
                        datasets.push(b.dataset_id.clone());
                    }
                    if !states.contains(&b.state.label()) {
                        states.push(b.state.label());
                    }
                }
            }
        });
        (datasets, states)
    };
    view! {
        <div class="filters" id="builds-filters">
            <label for="filter-dataset">"Dataset"</label>
            <select id="filter-dataset" prop:value=move || filter.dataset.get() on:change=move |ev| filter.dataset.set(event_target_value(&ev))>
                <option value="">"All datasets"</option>
                {move || {
                    let names = names.get();
                    present().0.into_iter().map(|id| {
                        let chosen = filter.dataset.get_untracked() == id;
                        view! { <option value=id.clone() selected=chosen>{dataset_name(&names, &id)}</option> }
                    }).collect_view()
                }}
            </select>
            <label for="filter-state">"State"</label>
            <select id="filter-state" prop:value=move || filter.state.get() on:change=move |ev| filter.state.set(event_target_value(&ev))>
                <option value="">"Any state"</option>
                {move || present().1.into_iter().map(|s| {
                    let chosen = filter.state.get_untracked() == s;
                    view! { <option value=s selected=chosen>{s}</option> }
                }).collect_view()}
            </select>
            <label for="filter-target">"Target"</label>
            <input id="filter-target" type="search" placeholder="contains…" on:input=move |ev| filter.target.set(event_target_value(&ev))/>
        </div>
    }
}

/// A dataset's name from `names` (id, name), or that it is gone.
fn dataset_name(names: &[(String, String)], id: &str) -> String {
    names
        .iter()
        .find(|(d, _)| d == id)
        .map_or_else(|| "(deleted dataset)".to_owned(), |(_, n)| n.clone())
}

#[component]
fn BuildsTable(
    builds: Vec<api::Build>,
    /// Dataset ids and names.
    names: Signal<Vec<(String, String)>>,
    filter: Filter,
    on_delete: Callback<String>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    if builds.is_empty() {
        return view! { <p class="muted">"No builds yet: open a dataset and build a model."</p> }
            .into_any();
    }
    let total = builds.len();
    let builds = StoredValue::new(builds);
    let row = move |b: api::Build| {
        let best = b
            .leaderboard
            .first()
            .map(|e| {
                format!(
                    "{} {}",
                    b.metric.clone().unwrap_or_default(),
                    display::number(e.score)
                )
            })
            .unwrap_or_default();
        let blocked = (!b.state.is_final())
            .then_some("Cancel the build before deleting it; it keeps what finished.");
        let id = b.id.clone();
        let delete = Callback::new(move |()| on_delete.run(id.clone()));
        let (tick, ticked) = (b.id.clone(), b.id.clone());
        let toggle = move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            chosen.update(|c| {
                c.retain(|x| *x != tick);
                if on {
                    c.push(tick.clone());
                }
            });
        };
        let dataset = b.dataset_id.clone();
        view! {
            <tr data-id=b.id.clone()>
                <td><input type="checkbox" class="compare-tick" aria-label=format!("Compare the build of {}", b.target) prop:checked=move || chosen.with(|c| c.contains(&ticked)) on:change=toggle/></td>
                <td><a href=format!("/builds/{}", b.id)>{b.target.clone()}</a></td>
                <td class="dataset-name">{move || dataset_name(&names.get(), &dataset)}</td>
                <td>{b.task.map_or("–", api::Task::label)}</td>
                <td><StateBadge state=b.state/></td>
                <td class="num">{if b.recipe_version == 0 { "none".to_owned() } else { format!("v{}", b.recipe_version) }}</td>
                <td class="num">{b.trials_done}</td>
                <td>{best}</td>
                <td class="num">{format::seconds(b.elapsed_secs)}</td>
                <td>{format::timestamp(&b.created)}</td>
                <td class="row-actions">
                    <DeleteButton on_delete=delete question="Delete this build?" blocked=blocked.map(str::to_owned) small=true/>
                </td>
            </tr>
        }
    };
    let shown = move || {
        builds.with_value(|all| {
            all.iter()
                .filter(|b| filter.keeps(b))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="scroll" tabindex="0">
            <table class="data" id="builds-table">
                <thead><tr><th><span class="sr-only">"Compare"</span></th><th>"Target"</th><th>"Dataset"</th><th>"Problem"</th><th>"State"</th><th>"Recipe"</th><th>"Trials"</th><th>"Best"</th><th>"Duration"</th><th>"Started"</th><th></th></tr></thead>
                <tbody>{move || shown().into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
        <p class="muted small" id="builds-count">{move || {
            let n = shown().len();
            if n == total {
                display::plural(total as u64, "build", "builds")
            } else {
                format!("{} of {total} builds shown", n)
            }
        }}</p>
    }
    .into_any()
}
