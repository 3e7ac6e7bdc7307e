//! A forecast: its state while it builds, then what was read (frequency,
//! series, notes), the backtest leaderboard with the band's coverage, one
//! item's chart (history, backtest forecasts, P50 and band) picked by
//! search, the global tree model's SHAP importance, the downloads (CSV,
//! forecaster), and a new history forecast with the same forecaster.

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::client;
use crate::components::{DeleteButton, ErrorBox, Loaded};
use crate::format;
use crate::pages::route_id;

fn cell(v: Option<f64>) -> String {
    v.map(display::number).unwrap_or_else(|| "–".to_owned())
}

/// "80%": the share of the band between the outer quantiles.
fn nominal(levels: &[f64]) -> Option<f64> {
    match (levels.first(), levels.last()) {
        (Some(a), Some(b)) if levels.len() >= 2 => Some(b - a),
        _ => None,
    }
}

#[component]
pub fn ForecastPage() -> impl IntoView {
    let id = route_id();
    let forecast = LocalResource::new(move || {
        let id = id.get();
        async move { client::forecast(&id).await }
    });
    // While it is queued or running, the page follows it.
    let ticker = set_interval_with_handle(
        move || {
            let live = forecast.with_untracked(|f| matches!(f, Some(Ok(f)) if !f.state.is_final()));
            if live {
                forecast.refetch();
            }
        },
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    let deleted = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = Callback::new(move |()| {
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match client::delete_forecast(&id).await {
                Ok(()) => deleted.set(true),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    });
    view! {
        <Show when=move || !deleted.get() fallback=|| view! {
            <div id="forecast-deleted">
                <h1>"The forecast was deleted"</h1>
                <p><a class="button" href="/forecasts">"Back to the forecasts"</a></p>
            </div>
        }>
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
            <Loaded resource=forecast let:f>
                <ForecastView forecast=f on_delete=delete/>
            </Loaded>
        </Show>
    }
}

#[component]
fn ForecastView(forecast: api::Forecast, on_delete: Callback<()>) -> impl IntoView {
    let f = forecast;
    let r = &f.request;
    let by = r
        .item_column
        .as_ref()
        .map(|c| format!(" by {c}"))
        .unwrap_or_default();
    let title = format!("Forecast of {}{by}", r.target);
    let facts = format!(
        "{} · {} · horizon {} · season {} · budget {} · {}",
        f.frequency,
        display::plural(u64::from(f.items), "series", "series"),
        display::plural(u64::from(r.horizon), "step", "steps"),
        f.season,
        format::seconds(f64::from(r.budget_seconds)),
        format::timestamp(&f.created)
    );
    let mut read = Vec::new();
    if !r.covariates.is_empty() {
        read.push(format!("known covariates: {}", r.covariates.join(", ")));
    }
    if !r.attributes.is_empty() {
        read.push(format!("item attributes: {}", r.attributes.join(", ")));
    }
    let read = (!read.is_empty()).then(|| {
        view! { <p class="muted" id="forecast-covariates">{format!("The global model also reads the {}.", read.join("; and the "))}</p> }
    });
    let dataset = format!("/datasets/{}", f.dataset_id);
    let state = f.state;
    let blocked = (!state.is_final()).then(|| "It is still running".to_owned());
    let notes = f.notes.clone();
    let note_count = notes.len();
    let head = view! {
        <div class="title-row">
            <div>
                <h1 id="forecast-title">{title}</h1>
                <p class="muted">{facts}" · "<a href=dataset>"dataset"</a></p>
                {read}
                <p><span class=format!("state state-{}", state.label()) id="forecast-state">{state.label()}</span>
                    {(state.is_final()).then(|| format!(" in {}", format::seconds(f.elapsed_secs)))}</p>
            </div>
            <div class="actions">
                <DeleteButton on_delete=on_delete label="Delete forecast" question="Delete this forecast?" blocked=blocked/>
            </div>
        </div>
        {(note_count > 0).then(|| view! {
            <details class="notes" id="forecast-notes" open=note_count <= 5>
                <summary>{format!("{} about the series", display::plural(note_count as u64, "note", "notes"))}</summary>
                <ul>{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </details>
        })}
    };
    let body = match state {
        api::BuildState::Queued | api::BuildState::Running => view! {
            <p class="muted" id="forecast-running">{format!(
                "Backtesting the forecasters on the last windows of each series; this takes at most about {}.",
                format::seconds(f64::from(r.budget_seconds))
            )}</p>
        }
        .into_any(),
        api::BuildState::Succeeded => view! { <Results forecast=f.clone()/> }.into_any(),
        _ => view! { <ErrorBox message=f.error.clone().unwrap_or_else(|| format!("The forecast is {}.", state.label()))/> }.into_any(),
    };
    view! { {head} {body} }
}

#[component]
fn Results(forecast: api::Forecast) -> impl IntoView {
    let f = forecast;
    let id = f.id.clone();
    let levels = f.request.quantiles.clone();
    let band = nominal(&levels);
    let shipped = f.board.iter().find(|r| r.shipped).cloned();
    let coverage = shipped.as_ref().and_then(|r| r.coverage.clone()).zip(band).map(|(c, nominal)| {
        let inside = c.last().copied().unwrap_or(0.0) - c.first().copied().unwrap_or(0.0);
        view! {
            <p id="forecast-coverage">{format!(
                "On the backtests, the {}–{} band held {} of actual values (nominal {}); each window's band was fitted on the other windows.",
                format::quantile_name(levels[0]),
                format::quantile_name(levels[levels.len() - 1]),
                display::percent(inside),
                display::percent(nominal)
            )}</p>
        }
    });
    let metric = f.metric.clone();
    let rows = f
        .board
        .iter()
        .map(|r| {
            let band = r.coverage.as_ref().map(|c| display::percent(c.last().copied().unwrap_or(0.0) - c.first().copied().unwrap_or(0.0))).unwrap_or_else(|| "–".into());
            let score = match (r.score, r.spread) {
                (Some(s), Some(sd)) => format::score(s, sd),
                (Some(s), None) => display::number(s),
                _ => "–".into(),
            };
            view! {
                <tr class:best=r.shipped>
                    <td>{r.name.clone()}{r.shipped.then(|| view! { <span class="badge">"shipped"</span> })}</td>
                    <td class="num">{score}</td>
                    <td class="num">{cell(r.wql)}</td>
                    <td class="num">{cell(r.wape)}</td>
                    <td class="num">{cell(r.mase)}</td>
                    <td class="num">{cell(r.rmse)}</td>
                    <td class="num">{cell(r.mape)}</td>
                    <td class="num">{display::number(r.weight)}</td>
                    <td class="num">{band}</td>
                </tr>
            }
        })
        .collect_view();
    let mape_note = f.board.iter().any(|r| r.mape.is_none()).then(|| view! {
        <p class="muted small">"MAPE is left out (–) where some actual values are zero or near it: a percentage of nothing means nothing there."</p>
    });
    let global_unused = f.importance.is_empty()
        && f.board
            .iter()
            .any(|r| r.name.contains("global") && r.weight == 0.0);
    let unused_note = global_unused.then(|| view! {
        <p class="muted small" id="forecast-importance-note">"The global tree model earned no weight in the shipped forecaster, so it was not fitted on the whole history and has no feature importance here."</p>
    });
    let importance = (!f.importance.is_empty()).then(|| {
        let src = client::forecast_importance_url(&id);
        view! {
            <section id="forecast-importance">
                <h2>"What drives the global tree model"</h2>
                <p class="muted small">"Mean absolute SHAP value of each feature over every item's forecast, in units of the model's scaled target (the change from the last value, divided by the series' recent mean absolute change). Lags count back from the forecast origin."</p>
                <img class="chart" src=src alt="Feature importance of the global tree model"/>
            </section>
        }
    });
    let summary = f.summary.clone().unwrap_or_default();
    view! {
        <p id="forecast-summary">"Shipped: "<strong>{summary}</strong></p>
        <div class="actions">
            <a class="button primary" id="download-forecast" href=client::forecast_csv_url(&id) download=format!("kiln-forecast-{id}.csv")>"Download forecasts (CSV)"</a>
            <a class="button" id="download-forecaster" href=client::forecaster_url(&id) download=format!("kiln-forecaster-{id}.json")>"Download the forecaster"</a>
        </div>
        <ItemChart id=id.clone()/>
        <section id="forecast-leaderboard">
            <h2>"Backtest leaderboard"</h2>
            <p class="muted small">{format!(
                "Each forecaster forecast the last {} of every series from the history before it (rolling origin, never shuffled); ranked by {} (mean over windows ± its spread), lower is better.",
                display::plural(u64::from(f.windows.max(1)), "window", "windows"),
                metric
            )}</p>
            {coverage}
            <div class="scroll" tabindex="0">
                <table class="data" id="forecast-board">
                    <thead><tr>
                        <th>"Forecaster"</th><th>{metric.clone()}</th><th>"wQL"</th><th>"WAPE"</th><th>"MASE"</th><th>"RMSE"</th><th>"MAPE"</th><th>"Weight"</th><th>"Band coverage"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {mape_note}
        </section>
        {importance}
        {unused_note}
        <Extend id=id covariates=f.request.covariates.clone()/>
    }
}

/// The item picker (search, then choose) and the chosen item's chart.
#[component]
fn ItemChart(id: String) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<String>);
    let forecast_id = id.clone();
    let items = LocalResource::new(move || {
        let (id, s) = (forecast_id.clone(), search.get());
        async move { client::forecast_items(&id, &s).await }
    });
    // The first match until one is chosen.
    let current = move || {
        chosen.get().or_else(|| {
            items.with(|r| match r {
                Some(Ok(list)) => list.first().map(|i| i.item.clone()),
                _ => None,
            })
        })
    };
    view! {
        <section id="forecast-chart-section">
            <h2>"Forecast by item"</h2>
            <div class="form">
                <label for="item-search">"Find an item"</label>
                <input id="item-search" type="search" placeholder="part of its name"
                    prop:value=move || search.get() on:input=move |ev| { search.set(event_target_value(&ev)); chosen.set(None); }/>
                <label for="item-select">"Item"</label>
                <Loaded resource=items quiet=true let:list>
                    {if list.is_empty() {
                        view! { <p class="muted" id="item-none">"No item matches."</p> }.into_any()
                    } else {
                        let chosen_now = current();
                        view! {
                            <select id="item-select" on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                                {list.into_iter().map(|i| {
                                    let selected = chosen_now.as_deref() == Some(i.item.as_str());
                                    let label = format!("{} ({} values to {}{})", i.item, display::count(u64::from(i.length)), i.last,
                                        if i.details.is_empty() { String::new() } else { format!("; {}", i.details.join(", ")) });
                                    view! { <option value=i.item.clone() selected=selected>{label}</option> }
                                }).collect_view()}
                            </select>
                        }.into_any()
                    }}
                </Loaded>
            </div>
            {move || current().map(|item| view! {
                <img class="chart wide" id="forecast-chart" src=client::forecast_chart_url(&id, &item)
                    alt=format!("{item}: history, backtest forecasts, the forecast and its band")/>
            })}
        </section>
    }
}

/// Forecast a new history with this forecaster (the API's `extend`, as `kiln forecast` does).
#[component]
fn Extend(id: String, covariates: Vec<String>) -> impl IntoView {
    let progress = RwSignal::new(None::<f64>);
    let report = RwSignal::new(None::<Result<api::ForecastExtension, String>>);
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        report.set(None);
        progress.set(Some(0.0));
        let started = client::extend_forecast(
            &id,
            file,
            move |p| progress.set(Some(p)),
            move |res: Result<api::ForecastExtension, client::ApiError>| {
                progress.set(None);
                report.set(Some(res.map_err(|e| e.error.message)));
            },
        );
        if let Err(e) = started {
            progress.set(None);
            report.set(Some(Err(e.error.message)));
        }
        input.set_value("");
    };
    view! {
        <section id="forecast-extend">
            <h2>"Forecast a newer history"</h2>
            <p class="muted small">"Upload the same table with newer rows: the forecaster refits its methods on each series and forecasts the horizon after its new end, with the numbers "<code>"kiln forecast --model FILE --history new.csv --output f.csv"</code>" gives."</p>
            {(!covariates.is_empty()).then(|| view! {
                <p class="muted small">{format!("Include rows for the horizon after each series' end, with {} filled in and the column to forecast left empty.", covariates.join(", "))}</p>
            })}
            <label class="button" for="extend-input">"Choose a history to forecast"</label>
            <input id="extend-input" type="file" accept=".csv,.tsv,.txt,.parquet,.xlsx,text/csv" class="visually-hidden" on:change=on_pick/>
            {move || progress.get().map(|p| view! { <progress max="100" value=(p * 100.0).round().to_string()></progress> })}
            {move || report.get().map(|r| match r {
                Err(e) => view! { <ErrorBox message=e/> }.into_any(),
                Ok(r) => view! {
                    <p id="extend-done">{format!("Forecast {} from {}. ", display::plural(u64::from(r.items), "series", "series"), r.file_name)}
                        <a href=r.download.clone() download="forecast.csv">"Download the forecast"</a></p>
                    {(!r.notes.is_empty()).then(|| view! { <ul class="notes">{r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> })}
                }.into_any(),
            })}
        </section>
    }
}
