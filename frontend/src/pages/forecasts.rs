//! Forecasts: every forecast, newest first, with its dataset, target,
//! state and best backtest score; refreshed while one builds.

use leptos::prelude::*;

use crate::client;
use crate::components::{DeleteButton, ErrorBox, Loaded, SkippedNotice, delete_action};
use crate::format;

#[component]
pub fn ForecastsPage() -> impl IntoView {
    let forecasts = LocalResource::new(client::forecasts);
    let error = RwSignal::new(None::<String>);
    let delete = delete_action(
        |id: String| async move { client::delete_forecast(&id).await },
        error,
        move || forecasts.refetch(),
    );
    let ticker = set_interval_with_handle(
        move || {
            let live = forecasts.with_untracked(
                |f| matches!(f, Some(Ok(list)) if list.items.iter().any(|f| !f.state.is_final())),
            );
            if live {
                forecasts.refetch();
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
    view! {
        <h1>"Forecasts"</h1>
        <p class="muted">"Start one from a dataset's page: “Forecast”."</p>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        <Loaded resource=forecasts let:list>
            <SkippedNotice kind=("forecast", "forecasts") ids=list.skipped.clone() on_delete=delete/>
            {if list.items.is_empty() {
                view! { <p class="muted" id="no-forecasts">"No forecasts yet."</p> }.into_any()
            } else {
                view! { <ForecastTable forecasts=list.items on_delete=delete/> }.into_any()
            }}
        </Loaded>
    }
}

/// A table of forecasts, each linked, with a delete button.
#[component]
pub fn ForecastTable(forecasts: Vec<api::Forecast>, on_delete: Callback<String>) -> impl IntoView {
    let rows = forecasts
        .into_iter()
        .map(|f| {
            let href = format!("/forecasts/{}", f.id);
            let best = f
                .board
                .iter()
                .find(|r| r.shipped)
                .and_then(|r| r.score)
                .map(|s| format!("{} {}", f.metric, api::display::number(s)))
                .unwrap_or_default();
            let by = f.request.item_column.clone().unwrap_or_else(|| "–".into());
            let id = f.id.clone();
            let blocked = (!f.state.is_final()).then(|| "It is still running".to_owned());
            view! {
                <tr>
                    <td><a href=href>{f.request.target.clone()}</a></td>
                    <td>{by}</td>
                    <td>{f.frequency.clone()}</td>
                    <td class="num">{f.items}</td>
                    <td class="num">{f.request.horizon}</td>
                    <td><span class=format!("state state-{}", f.state.label())>{f.state.label()}</span></td>
                    <td>{best}</td>
                    <td class="small">{format::timestamp(&f.created)}</td>
                    <td><DeleteButton on_delete=Callback::new(move |()| on_delete.run(id.clone())) blocked=blocked/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="scroll" tabindex="0">
            <table class="data" id="forecast-list">
                <thead><tr>
                    <th>"Target"</th><th>"Items"</th><th>"Frequency"</th><th>"Series"</th><th>"Horizon"</th><th>"State"</th><th>"Best backtest"</th><th>"Created"</th><th></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
