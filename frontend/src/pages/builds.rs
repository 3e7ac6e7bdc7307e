//! Experiments: every build with its target, state and best score, each
//! deletable once it has ended; above them, the stored builds that do not
//! read back, each deletable too.

use api::display;
use leptos::prelude::*;

use crate::client;
use crate::components::{DeleteButton, ErrorBox, Loaded, SkippedNotice, StateBadge, delete_action};
use crate::format;

#[component]
pub fn BuildsPage() -> impl IntoView {
    let builds = LocalResource::new(client::builds);
    let error = RwSignal::new(None::<String>);
    let delete = delete_action(
        |id: String| async move { client::delete_build(&id).await },
        error,
        move || builds.refetch(),
    );
    view! {
        <h1>"Experiments"</h1>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        <Loaded resource=builds let:list>
            <SkippedNotice kind=("build", "builds") ids=list.skipped on_delete=delete/>
            <div id="builds-list">
                <BuildsTable builds=list.items on_delete=delete/>
            </div>
        </Loaded>
    }
}

#[component]
fn BuildsTable(builds: Vec<api::Build>, on_delete: Callback<String>) -> impl IntoView {
    if builds.is_empty() {
        return view! { <p class="muted">"No builds yet: open a dataset and build a model."</p> }
            .into_any();
    }
    let rows = builds.into_iter().map(|b| {
        let best = b.leaderboard.first().map(|e| format!("{} {}", b.metric.clone().unwrap_or_default(), display::number(e.score))).unwrap_or_default();
        let blocked = (!b.state.is_final()).then_some("Cancel the build before deleting it; it keeps what finished.");
        let id = b.id.clone();
        let delete = Callback::new(move |()| on_delete.run(id.clone()));
        view! {
            <tr data-id=b.id.clone()>
                <td><a href=format!("/builds/{}", b.id)>{b.target.clone()}</a></td>
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
    }).collect_view();
    view! {
        <table class="data" id="builds-table">
            <thead><tr><th>"Target"</th><th>"Problem"</th><th>"State"</th><th>"Recipe"</th><th>"Trials"</th><th>"Best"</th><th>"Duration"</th><th>"Started"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
