//! Small views shared by pages.

use leptos::prelude::*;

use crate::format;

#[component]
pub fn ErrorBox(message: String) -> impl IntoView {
    view! { <div class="error" role="alert">{message}</div> }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

#[component]
pub fn StateBadge(state: api::BuildState) -> impl IntoView {
    let class = format!("badge state-{}", state.label());
    view! { <span class=class id="build-state">{state.label()}</span> }
}

/// The ranked candidates of a build.
#[component]
pub fn LeaderboardTable(
    entries: Vec<api::LeaderboardEntry>,
    metric: Option<String>,
    #[prop(optional)] best_trial: Option<u32>,
) -> impl IntoView {
    let metric = metric.unwrap_or_else(|| "score".into());
    // Long boards show the best rows first; the rest on request.
    const SHOWN: usize = 20;
    let total = entries.len();
    let show_all = RwSignal::new(false);
    let rows = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let hidden = move || i >= SHOWN && !show_all.get();
            let class = if Some(e.trial) == best_trial || (best_trial.is_none() && i == 0) {
                "best"
            } else {
                ""
            };
            view! {
                <tr class=class class:hidden=hidden>
                    <td class="num">{i + 1}</td>
                    <td>{e.family}</td>
                    <td class="num">{format::score(e.score, e.score_std)}</td>
                    <td class="num">{format::seconds(e.fit_secs)}</td>
                    <td class="num">{format!("{} µs", format::number(e.predict_us_per_row))}</td>
                    <td class="num">{format::bytes(e.size_bytes)}</td>
                    <td class="params">{e.params}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="leaderboard">
            <thead>
                <tr>
                    <th>"#"</th>
                    <th>"Model"</th>
                    <th>{format!("Validation {metric}")}</th>
                    <th>"Fit time"</th>
                    <th>"Predict / row"</th>
                    <th>"Size"</th>
                    <th>"Hyperparameters"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {(total > SHOWN).then(|| view! {
            <button class="button small" id="show-all-trials" on:click=move |_| show_all.update(|v| *v = !*v)>
                {move || if show_all.get() { "Show the best 20".to_owned() } else { format!("Show all {total} candidates") }}
            </button>
        })}
    }
}
