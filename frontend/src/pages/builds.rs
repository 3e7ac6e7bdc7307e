//! Experiments: every build with its target, state and best score.

use api::display;
use leptos::prelude::*;

use crate::client;
use crate::components::{Loaded, StateBadge};
use crate::format;

#[component]
pub fn BuildsPage() -> impl IntoView {
    let builds = LocalResource::new(client::builds);
    view! {
        <h1>"Experiments"</h1>
        <Loaded resource=builds let:list>
            <BuildsTable builds=list/>
        </Loaded>
    }
}

#[component]
fn BuildsTable(builds: Vec<api::Build>) -> impl IntoView {
    if builds.is_empty() {
        return view! { <p class="muted">"No builds yet: open a dataset and build a model."</p> }
            .into_any();
    }
    let rows = builds.into_iter().map(|b| {
        let best = b.leaderboard.first().map(|e| format!("{} {}", b.metric.clone().unwrap_or_default(), display::number(e.score))).unwrap_or_default();
        view! {
            <tr>
                <td><a href=format!("/builds/{}", b.id)>{b.target.clone()}</a></td>
                <td>{b.task.map_or("–", api::Task::label)}</td>
                <td><StateBadge state=b.state/></td>
                <td class="num">{if b.recipe_version == 0 { "none".to_owned() } else { format!("v{}", b.recipe_version) }}</td>
                <td class="num">{b.trials_done}</td>
                <td>{best}</td>
                <td class="num">{format::seconds(b.elapsed_secs)}</td>
                <td>{format::timestamp(&b.created)}</td>
            </tr>
        }
    }).collect_view();
    view! {
        <table class="data">
            <thead><tr><th>"Target"</th><th>"Problem"</th><th>"State"</th><th>"Recipe"</th><th>"Trials"</th><th>"Best"</th><th>"Duration"</th><th>"Started"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
