//! Dataset: the profile (one row per column) and the first rows.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::client;
use crate::components::{ErrorBox, Loading};
use crate::format;

fn stats(c: &api::ColumnProfile) -> String {
    match (c.min, c.mean, c.max) {
        (Some(min), Some(mean), Some(max)) => format!(
            "{} · {} · {}",
            format::number(min),
            format::number(mean),
            format::number(max)
        ),
        _ => c
            .top_values
            .iter()
            .map(|v| format!("{} ({})", v.value, v.count))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[component]
pub fn DatasetPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = LocalResource::new(move || {
        let id = id();
        async move { client::get::<api::DatasetDetail>(&format!("/api/datasets/{id}")).await }
    });
    view! {
        {move || match detail.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorBox message=e/> }.into_any(),
            Some(Ok(d)) => {
                let rows = d.summary.rows;
                let build_href = format!("/datasets/{}/build", d.summary.id);
                let notes = d.notes.clone();
                let columns = d.profile.columns.iter().map(|c| view! {
                    <tr>
                        <td class="colname">{c.name.clone()}</td>
                        <td><span class=format!("kind kind-{}", c.kind.label())>{c.kind.label()}</span></td>
                        <td class="num">{format::percent(c.missing, rows)}</td>
                        <td class="num">{c.distinct}</td>
                        <td class="stats">{stats(c)}</td>
                    </tr>
                }).collect_view();
                let head = d.profile.head.clone();
                let head_cols = head.columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view();
                let head_rows = head.rows.into_iter().map(|r| view! {
                    <tr>{r.into_iter().map(|cell| match cell {
                        Some(v) => view! { <td>{v}</td> }.into_any(),
                        None => view! { <td class="missing">"missing"</td> }.into_any(),
                    }).collect_view()}</tr>
                }).collect_view();
                view! {
                    <div class="title-row">
                        <div>
                            <h1 id="dataset-name">{d.summary.name.clone()}</h1>
                            <p class="muted">{format!("{} rows · {} columns · {} · uploaded {}", d.summary.rows, d.summary.columns, format::bytes(d.summary.bytes), format::timestamp(&d.summary.created))}</p>
                        </div>
                        <a class="button primary" id="build-model" href=build_href>"Build a model"</a>
                    </div>
                    {(!notes.is_empty()).then(|| view! {
                        <ul class="notes">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    })}
                    <h2>"Profile"</h2>
                    <table class="data" id="profile-table">
                        <thead><tr><th>"Column"</th><th>"Type"</th><th>"Missing"</th><th>"Distinct"</th><th>"Min · mean · max, or top values"</th></tr></thead>
                        <tbody>{columns}</tbody>
                    </table>
                    <h2>{format!("First {} rows", d.profile.head.rows.len())}</h2>
                    <div class="scroll">
                        <table class="data rows"><thead><tr>{head_cols}</tr></thead><tbody>{head_rows}</tbody></table>
                    </div>
                }.into_any()
            }
        }}
    }
}
