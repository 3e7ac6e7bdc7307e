//! Experiments: every build with its target, state and best score.

use leptos::prelude::*;

use crate::client;
use crate::components::{ErrorBox, Loading, StateBadge};
use crate::format;

#[component]
pub fn BuildsPage() -> impl IntoView {
    let builds = LocalResource::new(|| client::get::<Vec<api::Build>>("/api/builds"));
    view! {
        <h1>"Experiments"</h1>
        {move || match builds.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorBox message=e/> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No builds yet: open a dataset and build a model."</p> }.into_any(),
            Some(Ok(list)) => {
                let rows = list.into_iter().map(|b| {
                    let best = b.leaderboard.first().map(|e| format!("{} {}", b.metric.clone().unwrap_or_default(), format::number(e.score))).unwrap_or_default();
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
                }.into_any()
            }
        }}
    }
}
