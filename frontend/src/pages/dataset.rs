//! Dataset: the profile (one row per column, with its distribution), the
//! correlation heatmap, the data-quality findings and the first rows.

use api::display;
use leptos::prelude::*;

use crate::client;
use crate::components::{CorrelationHeatmap, Distribution, FindingList, Loaded};
use crate::fairness::FairnessSection;
use crate::format;
use crate::pages::use_dataset;

fn stats(c: &api::ColumnProfile) -> String {
    match (c.min, c.mean, c.max) {
        (Some(min), Some(mean), Some(max)) => format!(
            "{} · {} · {}",
            display::number(min),
            display::number(mean),
            display::number(max)
        ),
        _ => c
            .top_values
            .iter()
            .map(|v| format!("{} ({})", v.value, display::count(v.count)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[component]
pub fn DatasetPage() -> impl IntoView {
    let dataset = use_dataset();
    // Computed on request, so it loads after the profile.
    let quality = LocalResource::new(move || {
        let id = dataset.id.get();
        async move { client::quality(&id, None, false).await }
    });
    view! {
        <Loaded resource=dataset.detail let:d>
            {
                let rows = d.summary.rows;
                let build_href = format!("/datasets/{}/build", d.summary.id);
                let prepare_href = format!("/datasets/{}/prepare", d.summary.id);
                let explore_href = format!("/datasets/{}/explore", d.summary.id);
                let forecast_href = format!("/datasets/{}/forecast", d.summary.id);
                let prepare_link = prepare_href.clone();
                let notes = d.notes.clone();
                let sample_note = d.profile.sampled_rows.map(|n| view! {
                    <p class="muted small" id="sample-note">{format!(
                        "Std, quantiles, skewness, histograms and correlations are statistics on a sample of {} of {} rows; counts use every row.",
                        display::count(n),
                        display::count(rows)
                    )}</p>
                });
                let columns = d.profile.columns.iter().map(|c| {
                    let std = c.std.map(display::number).unwrap_or_default();
                    let quantiles = c.quantiles.as_ref().map(format::quantiles).unwrap_or_default();
                    let skew = c.skewness.map(display::number).unwrap_or_default();
                    view! {
                        <tr>
                            <td class="colname">{c.name.clone()}</td>
                            <td><span class=format!("kind kind-{}", c.kind.label())>{c.kind.label()}</span></td>
                            <td class="num">{display::percent_of(c.missing, rows)}</td>
                            <td class="num">{display::count(c.distinct)}</td>
                            <td class="stats">{stats(c)}</td>
                            <td class="num small">{std}</td>
                            <td class="stats quantiles">{quantiles}</td>
                            <td class="num small">{skew}</td>
                            <td class="chart-cell"><Distribution column=c.clone()/></td>
                        </tr>
                    }
                }).collect_view();
                let heatmap = d.profile.correlations.clone().map(|m| {
                    let numeric: Vec<bool> = m.columns.iter().map(|name| {
                        d.profile.columns.iter().any(|c| &c.name == name && c.kind == api::ColumnKind::Numeric)
                    }).collect();
                    let chosen = if (m.eligible as usize) > m.columns.len() {
                        format!(" Of {} columns that qualify, these {} are the ones most strongly related to another.", m.eligible, m.columns.len())
                    } else {
                        String::new()
                    };
                    view! {
                        <section id="correlations">
                            <h2>"Correlations"</h2>
                            <p class="muted small">{format!(
                                "Pearson's r between numeric columns (red positive, blue negative) and Cramér's V between categorical columns with at most 50 values (purple); grey pairs mix a number and a category and are not compared. On {} rows.{chosen}",
                                display::count(m.rows)
                            )}</p>
                            <div class="scroll" tabindex="0"><CorrelationHeatmap correlations=m numeric=numeric/></div>
                        </section>
                    }
                });
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
                            <p class="muted">{format!("{} · {} · {} · {} {}", display::plural(d.summary.rows, "row", "rows"), display::plural(u64::from(d.summary.columns), "column", "columns"), format::bytes(d.summary.bytes), if d.summary.source.is_some() { "imported" } else { "uploaded" }, format::timestamp(&d.summary.created))}</p>
                            {d.summary.source.clone().map(|s| view! { <p class="muted small" id="dataset-source">"From "<code>{s}</code></p> })}
                            <p class="small" id="quality-summary">
                                <Loaded resource=quality quiet=true let:r>
                                    {if r.findings.is_empty() {
                                        view! { <a href="#quality-report">"No data-quality problems found"</a> }.into_any()
                                    } else {
                                        view! { <a href="#quality-report">{format!("Data quality: {}", format::severity_counts(&r.findings))}</a> }.into_any()
                                    }}
                                </Loaded>
                            </p>
                        </div>
                        <div class="actions">
                            <a class="button" id="explore-data" href=explore_href>"Explore"</a>
                            <a class="button" id="forecast-data" href=forecast_href>"Forecast"</a>
                            <a class="button" id="prepare-data" href=prepare_href>"Prepare the data"</a>
                            <a class="button primary" id="build-model" href=build_href>"Build a model"</a>
                        </div>
                    </div>
                    {(!notes.is_empty()).then(|| view! {
                        <ul class="notes">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    })}
                    <h2>"Profile"</h2>
                    {sample_note}
                    <div class="scroll" tabindex="0">
                        <table class="data" id="profile-table">
                            <thead><tr>
                                <th>"Column"</th><th>"Type"</th><th>"Missing"</th><th>"Distinct"</th>
                                <th>"Min · mean · max, or top values"</th><th>"Std"</th>
                                <th>"p5 · p25 · median · p75 · p95"</th><th>"Skew"</th><th>"Distribution"</th>
                            </tr></thead>
                            <tbody>{columns}</tbody>
                        </table>
                    </div>
                    {heatmap}
                    <section id="distributions">
                        <h2>"Distributions"</h2>
                        <div class="chart-grid">
                            {d.profile.columns.iter().enumerate().filter(|(_, c)| c.histogram.is_some() || c.bars.is_some()).map(|(i, c)| view! {
                                <img class="chart" loading="lazy" src=client::column_chart_url(&d.summary.id, i) alt=format!("Distribution of {}", c.name)/>
                            }).collect_view()}
                        </div>
                    </section>
                    <section id="quality-report">
                        <h2>"Data quality"</h2>
                        <Loaded resource=quality loading="Checking the data…" let:r>
                            {if r.findings.is_empty() {
                                view! {
                                    <p class="muted" id="quality-clean">"No problems found: no duplicate rows, no columns with many missing values, constants, identifiers, outliers or near-duplicates."</p>
                                }.into_any()
                            } else {
                                view! {
                                    <p class="muted small">"Choose a column to predict on the build page to check it for class imbalance and leakage as well. Most fixes are one click on the "<a href=prepare_link.clone()>"Prepare"</a>" page."</p>
                                    <FindingList findings=r.findings/>
                                }.into_any()
                            }}
                        </Loaded>
                    </section>
                    <FairnessSection dataset=d.summary.id.clone() columns=d.profile.columns.clone()/>
                    <DatasetForecasts dataset=d.summary.id.clone()/>
                    <h2>{format!("First {}", display::plural(d.profile.head.rows.len() as u64, "row", "rows"))}</h2>
                    <div class="scroll" tabindex="0">
                        <table class="data rows"><thead><tr>{head_cols}</tr></thead><tbody>{head_rows}</tbody></table>
                    </div>
                }
            }
        </Loaded>
    }
}

/// The dataset's forecasts, when it has any.
#[component]
fn DatasetForecasts(dataset: String) -> impl IntoView {
    let forecasts = LocalResource::new(move || {
        let id = dataset.clone();
        async move { client::dataset_forecasts(&id).await }
    });
    let error = RwSignal::new(None::<String>);
    let delete = crate::components::delete_action(
        |id: String| async move { client::delete_forecast(&id).await },
        error,
        move || forecasts.refetch(),
    );
    view! {
        <Loaded resource=forecasts quiet=true let:list>
            {(!list.items.is_empty()).then(|| view! {
                <section id="dataset-forecasts">
                    <h2>"Forecasts"</h2>
                    {move || error.get().map(|e| view! { <crate::components::ErrorBox message=e/> })}
                    <crate::pages::forecasts::ForecastTable forecasts=list.items.clone() on_delete=delete/>
                </section>
            })}
        </Loaded>
    }
}
