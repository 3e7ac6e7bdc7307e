//! Forecast set-up: the timestamp, the target and the optional item
//! column (guessed from the profile), the known covariates and item
//! attributes, the horizon, the quantiles, the ranking metric and the
//! budget; below, the table read as time series
//! (its frequency, per series the strength of trend and season, and one
//! series' line, decomposition and autocorrelation charts).

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::client;
use crate::components::{ErrorBox, Loaded};
use crate::pages::setup::BUDGETS;
use crate::pages::use_dataset;

/// The metrics a forecast can rank by: the request's name and the label.
const METRICS: [(&str, &str); 5] = [
    ("mase", "MASE (scaled error, default)"),
    ("wql", "wQL (weighted quantile loss)"),
    ("wape", "WAPE"),
    ("rmse", "RMSE"),
    ("mape", "MAPE (undefined at zeros)"),
];

/// Whether a column name reads like a time: `date`, `month`, `quarter`, …
fn timeish(name: &str) -> bool {
    let n = name.to_lowercase();
    [
        "date", "time", "day", "week", "month", "quarter", "year", "period", "stamp", "ds",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// The columns guessed for a table: timestamp, target, item (empty: none).
fn guess(d: &api::DatasetDetail) -> (String, String, String) {
    let cols = &d.profile.columns;
    let time = cols
        .iter()
        .find(|c| c.kind == api::ColumnKind::Datetime)
        .or_else(|| {
            cols.iter()
                .find(|c| timeish(&c.name) && c.kind != api::ColumnKind::Numeric)
        })
        .or_else(|| cols.iter().find(|c| timeish(&c.name)))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let target = cols
        .iter()
        .rev()
        .find(|c| c.kind == api::ColumnKind::Numeric && c.name != time && !timeish(&c.name))
        .or_else(|| {
            cols.iter()
                .find(|c| c.kind == api::ColumnKind::Numeric && c.name != time)
        })
        .map(|c| c.name.clone())
        .unwrap_or_default();
    // Several series when timestamps repeat: a category column splits them.
    let repeats = cols
        .iter()
        .find(|c| c.name == time)
        .is_some_and(|c| c.distinct + c.missing < d.summary.rows);
    let item = if repeats {
        cols.iter()
            .find(|c| {
                matches!(
                    c.kind,
                    api::ColumnKind::Categorical
                        | api::ColumnKind::Identifier
                        | api::ColumnKind::Text
                ) && c.name != time
                    && c.distinct >= 2
                    && c.distinct * 3 <= d.summary.rows
            })
            .map(|c| c.name.clone())
            .unwrap_or_default()
    } else {
        String::new()
    };
    (time, target, item)
}

/// A horizon to start from: one season, a quarter of a long one, or 6 steps.
fn default_horizon(season: u32) -> u32 {
    match season {
        0 | 1 => 6,
        m if m > 24 => m / 4,
        m => m,
    }
}

/// The ticked columns that are not the timestamp, target or item.
fn free(chosen: Vec<String>, roles: &[String]) -> Vec<String> {
    chosen.into_iter().filter(|c| !roles.contains(c)).collect()
}

/// A list of columns to tick for one role (covariates or attributes). A
/// column in another role (`other`, or the timestamp, target or item) is
/// disabled.
#[component]
fn ColumnTicks(
    id: &'static str,
    names: Vec<String>,
    chosen: RwSignal<Vec<String>>,
    other: RwSignal<Vec<String>>,
    roles: Signal<Vec<String>>,
    summary: &'static str,
    help: &'static str,
) -> impl IntoView {
    let ticks = names
        .into_iter()
        .map(|n| {
            let (checked, busy, toggled) = (n.clone(), n.clone(), n.clone());
            view! {
                <label class="inline">
                    <input type="checkbox" class=format!("{id}-tick") value=n.clone()
                        prop:checked=move || chosen.with(|c| c.contains(&checked)) && !roles.with(|r| r.contains(&checked))
                        disabled=move || roles.with(|r| r.contains(&busy)) || other.with(|o| o.contains(&busy))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|x| *x != toggled);
                                if on {
                                    c.push(toggled.clone());
                                }
                            });
                        }/>
                    {format!(" {n}")}
                </label>
            }
        })
        .collect_view();
    view! {
        <details id=id class="hint">
            <summary>{move || {
                let n = chosen.with(|c| c.iter().filter(|x| !roles.with(|r| r.contains(x))).count());
                if n == 0 { summary.to_owned() } else { format!("{summary}: {n} chosen") }
            }}</summary>
            <p class="muted small">{help}</p>
            <div class="ticks">{ticks}</div>
        </details>
    }
}

fn strength(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |s| format!("{:.2}", s))
}

#[component]
pub fn ForecastSetupPage() -> impl IntoView {
    let dataset = use_dataset();
    let id = dataset.id;
    // What the person chose; until then, what the profile suggests.
    let chosen_time = RwSignal::new(None::<String>);
    let chosen_target = RwSignal::new(None::<String>);
    let chosen_item = RwSignal::new(None::<String>);
    let typed_horizon = RwSignal::new(None::<String>);
    let guessed = Memo::new(move |_| {
        dataset
            .detail
            .with(|d| d.as_ref().and_then(|r| r.as_ref().ok()).map(guess))
            .unwrap_or_default()
    });
    let time = Memo::new(move |_| chosen_time.get().unwrap_or_else(|| guessed.get().0));
    let target = Memo::new(move |_| chosen_target.get().unwrap_or_else(|| guessed.get().1));
    let item_column = Memo::new(move |_| chosen_item.get().unwrap_or_else(|| guessed.get().2));
    let quantiles = RwSignal::new("0.1, 0.5, 0.9".to_owned());
    let metric = RwSignal::new("mase".to_owned());
    let budget = RwSignal::new(60u32);
    let windows = RwSignal::new(String::new());
    let covariates = RwSignal::new(Vec::<String>::new());
    let attributes = RwSignal::new(Vec::<String>::new());
    // The columns already in a role: not offered as covariates or attributes.
    let roles = Signal::derive(move || vec![time.get(), target.get(), item_column.get()]);
    let shown = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    let query = Memo::new(move |_| {
        (!time.get().is_empty() && !target.get().is_empty())
            .then(|| client::series_query(&time.get(), &target.get(), &item_column.get(), None))
    });
    // Another table of series: draw its first one.
    Effect::new(move || {
        query.track();
        shown.set(None);
    });
    let overview = LocalResource::new(move || {
        let (id, q) = (id.get(), query.get());
        async move {
            match q {
                Some(q) => client::series_overview(&id, &q).await.map(Some),
                None => Ok(None),
            }
        }
    });
    // A horizon from the frequency, until one is typed.
    let horizon = Memo::new(move |_| {
        typed_horizon.get().unwrap_or_else(|| {
            overview.with(|o| match o {
                Some(Ok(Some(o))) => default_horizon(o.season).to_string(),
                _ => String::new(),
            })
        })
    });
    let navigate = use_navigate();
    let start = move |_| {
        let parsed: Result<Vec<f64>, _> = quantiles
            .get_untracked()
            .split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse::<f64>())
            .collect();
        let Ok(levels) = parsed else {
            error.set(Some(format!(
                "Quantiles are numbers between 0 and 1 separated by commas, not “{}”.",
                quantiles.get_untracked()
            )));
            return;
        };
        let Ok(h) = horizon.get_untracked().trim().parse::<u32>() else {
            error.set(Some("The horizon is a whole number of steps.".into()));
            return;
        };
        let req = api::ForecastRequest {
            time_column: time.get_untracked(),
            target: target.get_untracked(),
            item_column: Some(item_column.get_untracked()).filter(|c| !c.is_empty()),
            covariates: free(covariates.get_untracked(), &roles.get_untracked()),
            attributes: if item_column.get_untracked().is_empty() {
                Vec::new()
            } else {
                free(attributes.get_untracked(), &roles.get_untracked())
            },
            horizon: h,
            quantiles: levels,
            metric: Some(metric.get_untracked()),
            windows: windows.get_untracked().trim().parse().ok(),
            season: None,
            budget_seconds: budget.get_untracked(),
            seed: 0,
        };
        let navigate = navigate.clone();
        starting.set(true);
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match client::start_forecast(&id, &req).await {
                Ok(f) => navigate(&format!("/forecasts/{}", f.id), Default::default()),
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
                let all_names: Vec<String> = d.profile.columns.iter().map(|c| c.name.clone()).collect();
                let names: Vec<(String, String)> = d.profile.columns.iter().map(|c| (c.name.clone(), format!("{} ({})", c.name, c.kind.label()))).collect();
                let numeric: Vec<(String, String)> = d.profile.columns.iter().filter(|c| c.kind == api::ColumnKind::Numeric).map(|c| (c.name.clone(), c.name.clone())).collect();
                let options = |list: Vec<(String, String)>, chosen: Memo<String>| {
                    list.into_iter().map(move |(value, label)| {
                        let selected = chosen.get_untracked() == value;
                        view! { <option value=value selected=selected>{label}</option> }
                    }).collect_view()
                };
                let (time_options, item_options) = (options(names.clone(), time), options(names, item_column));
                let target_options = options(numeric, target);
                let back = format!("/datasets/{}", d.summary.id);
                view! {
                    <h1>"Forecast "<a href=back>{d.summary.name.clone()}</a></h1>
                    <p class="muted">"Forecast a numeric column over time, for one series or many (one per item). Kiln reads the timestamps, finds the frequency, backtests seasonal naive, drift, exponential smoothing (ETS), Theta, autoregression, ARIMA and a global boosted-tree model on the last windows of each series, and ships the best or a weighted ensemble, with a quantile band."</p>
                    <div class="form">
                        <label for="forecast-time">"Timestamp column"</label>
                        <select id="forecast-time" prop:value=move || time.get() on:change=move |ev| { chosen_time.set(Some(event_target_value(&ev))); typed_horizon.set(None); }>
                            <option value="" disabled=true>"Choose a column…"</option>
                            {time_options}
                        </select>
                        <label for="forecast-target">"Column to forecast"</label>
                        <select id="forecast-target" prop:value=move || target.get() on:change=move |ev| chosen_target.set(Some(event_target_value(&ev)))>
                            <option value="" disabled=true>"Choose a numeric column…"</option>
                            {target_options}
                        </select>
                        <label for="forecast-item">"Item column"</label>
                        <div>
                            <select id="forecast-item" prop:value=move || item_column.get() on:change=move |ev| chosen_item.set(Some(event_target_value(&ev)))>
                                <option value="">"None: the table is one series"</option>
                                {item_options}
                            </select>
                            <p class="muted small">"The column that names each series (a store, a product, a city), when the table holds many in long format."</p>
                        </div>
                        <span class="form-label">"Known covariates"</span>
                        <ColumnTicks id="forecast-covariates" names=all_names.clone() chosen=covariates other=attributes roles=roles
                            summary="Columns known in advance (optional)"
                            help="Prices, holidays, promotions: values known for the days to forecast. Give them for the horizon as rows after each series' last value, with the column to forecast left empty. The global boosted-tree model reads them at the forecast step and at the origin."/>
                        <span class="form-label">"Item attributes"</span>
                        <ColumnTicks id="forecast-attributes" names=all_names chosen=attributes other=covariates roles=roles
                            summary="Columns that describe each item (optional)"
                            help="A store's region, a product's category: one value per item, the same on every row of it. Needs an item column. The global model reads them, so similar items share what they learn."/>
                        <label for="forecast-horizon">"Horizon (steps)"</label>
                        <input id="forecast-horizon" type="number" min="1" prop:value=move || horizon.get() on:change=move |ev| typed_horizon.set(Some(event_target_value(&ev)))/>
                        <label for="forecast-quantiles">"Quantiles"</label>
                        <div>
                            <input id="forecast-quantiles" type="text" prop:value=move || quantiles.get() on:change=move |ev| quantiles.set(event_target_value(&ev))/>
                            <p class="muted small">"Levels between 0 and 1: 0.1 and 0.9 bound the band that should hold 80% of future values; 0.5 is the median forecast."</p>
                        </div>
                        <label for="forecast-metric">"Rank forecasters by"</label>
                        <select id="forecast-metric" prop:value=move || metric.get() on:change=move |ev| metric.set(event_target_value(&ev))>
                            {METRICS.iter().map(|(v, l)| view! { <option value=*v selected=*v == "mase">{*l}</option> }).collect_view()}
                        </select>
                        <label for="forecast-windows">"Backtest windows"</label>
                        <input id="forecast-windows" type="number" min="1" max="20" placeholder="automatic: 3 to 6" prop:value=move || windows.get() on:change=move |ev| windows.set(event_target_value(&ev))/>
                        <label for="forecast-budget">"Time budget"</label>
                        <select id="forecast-budget" prop:value=move || budget.get().to_string() on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { budget.set(v) } }>
                            {BUDGETS.iter().map(|(s, n)| view! { <option value=s.to_string() selected=*s == 60>{*n}</option> }).collect_view()}
                        </select>
                        <div></div>
                        <button id="start-forecast" class="button primary"
                            disabled=move || time.get().is_empty() || target.get().is_empty() || starting.get()
                            on:click=start.clone()>
                            {move || if starting.get() { "Starting…" } else { "Start forecast" }}
                        </button>
                    </div>
                    {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
                }
            }
        </Loaded>
        <section id="series-profile">
            <h2>"The table as time series"</h2>
            <Loaded resource=overview loading="Reading the series…" let:o>
                {match o {
                    None => view! { <p class="muted">"Choose a timestamp column and a column to forecast."</p> }.into_any(),
                    Some(o) => {
                        let columns = (time.get_untracked(), target.get_untracked(), item_column.get_untracked());
                        view! { <SeriesProfile overview=o dataset=id.get_untracked() columns=columns shown=shown/> }.into_any()
                    }
                }}
            </Loaded>
        </section>
    }
}

/// The frequency, the notes, a row per series, and the charts of one.
#[component]
fn SeriesProfile(
    overview: api::SeriesOverview,
    dataset: String,
    /// Timestamp, target and item column.
    columns: (String, String, String),
    shown: RwSignal<Option<String>>,
) -> impl IntoView {
    let first = overview
        .series
        .first()
        .map(|s| s.item.clone())
        .unwrap_or_default();
    let current = move || shown.get().unwrap_or_else(|| first.clone());
    let rows = overview
        .series
        .iter()
        .map(|s| {
            let item = s.item.clone();
            let label = s.item.clone();
            view! {
                <tr>
                    <td><button class="link" on:click=move |_| shown.set(Some(item.clone()))>{label}</button></td>
                    <td class="num">{display::count(u64::from(s.length))}</td>
                    <td>{s.first.clone()}</td>
                    <td>{s.last.clone()}</td>
                    <td class="num">{strength(s.trend_strength)}</td>
                    <td class="num">{strength(s.seasonal_strength)}</td>
                    <td>{if s.seasonal { "yes" } else { "no" }}</td>
                </tr>
            }
        })
        .collect_view();
    let more = (overview.items as usize > overview.series.len()).then(|| {
        view! { <p class="muted small">{format!("The first {} of {} series.", overview.series.len(), overview.items)}</p> }
    });
    let notes = overview.notes.clone();
    let note_count = notes.len();
    let charts = move || {
        let item = current();
        let q = client::series_query(&columns.0, &columns.1, &columns.2, Some(&item));
        ["series.svg", "decomposition.svg", "acf.svg"]
            .into_iter()
            .map(|name| {
                let alt = match name {
                    "series.svg" => format!("{item} over time"),
                    "decomposition.svg" => format!("{item}: trend, season and remainder"),
                    _ => format!("{item}: autocorrelation by lag"),
                };
                view! { <img class="chart" id=format!("series-{}", name.trim_end_matches(".svg")) src=client::series_chart_url(&dataset, name, &q) alt=alt/> }
            })
            .collect_view()
    };
    view! {
        <p id="series-frequency">{format!(
            "{}, {}; season of {}.",
            overview.frequency,
            display::plural(u64::from(overview.items), "series", "series"),
            display::plural(u64::from(overview.season), "step", "steps")
        )}</p>
        {(note_count > 0).then(|| view! {
            <details class="notes" open=note_count <= 5>
                <summary>{format!("{} about the series", display::plural(note_count as u64, "note", "notes"))}</summary>
                <ul>{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </details>
        })}
        <div class="scroll" tabindex="0">
            <table class="data" id="series-table">
                <thead><tr>
                    <th>"Series"</th><th>"Values"</th><th>"First"</th><th>"Last"</th>
                    <th title="1 − Var(remainder) / Var(trend + remainder)">"Trend strength"</th>
                    <th title="1 − Var(remainder) / Var(season + remainder)">"Season strength"</th>
                    <th title="The lag-season autocorrelation passes the 90% test">"Seasonal"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {more}
        <div class="chart-grid">{charts}</div>
    }
}
