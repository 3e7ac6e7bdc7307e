//! Explore: before any target is chosen, the table's segments (k-means,
//! k by silhouette or chosen), a map of the rows (the first two principal
//! components, coloured by segment or any column) with the explained
//! variance and the loadings, and the most unusual rows with what makes
//! them so. The answer (`api::Explore`) is read as a JSON value.

use api::display;
use leptos::prelude::*;
use serde_json::Value;

use crate::client;
use crate::components::{Loaded, with_code};
use crate::json::{items, number, text};
use crate::pages::use_dataset;

/// Segment and group colours (Tableau 10), as SVG fill attributes.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

fn colour(i: u64) -> &'static str {
    PALETTE[i as usize % PALETTE.len()]
}

#[component]
pub fn ExplorePage() -> impl IntoView {
    let dataset = use_dataset();
    let k = RwSignal::new(String::new());
    let colour_by = RwSignal::new(String::new());
    let unticked = RwSignal::new(Vec::<String>::new());
    // The query the shown answer was asked with; changing a control asks again.
    let query = Memo::new(move |_| {
        let mut q: Vec<(&'static str, String)> = Vec::new();
        if !k.get().is_empty() {
            q.push(("k", k.get()));
        }
        if !colour_by.get().is_empty() {
            q.push(("colour", colour_by.get()));
        }
        (q, unticked.get())
    });
    // The request's pairs: the controls, and the ticked columns when some are not.
    let pairs = Memo::new(move |_| {
        let (mut q, off) = query.get();
        if !off.is_empty() {
            let columns = dataset.detail.get().and_then(Result::ok).map(|d| {
                d.profile
                    .columns
                    .iter()
                    .map(|c| c.name.clone())
                    .filter(|n| !off.contains(n))
                    .collect::<Vec<_>>()
            });
            q.extend(
                columns
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| ("column", c)),
            );
        }
        q
    });
    let found = LocalResource::new(move || {
        let id = dataset.id.get();
        let q = pairs.get();
        async move {
            let csv = client::explore_url(&id, &q, "csv");
            client::explore(&id, &q).await.map(|e| (e, csv))
        }
    });
    view! {
        <Loaded resource=dataset.detail let:d>
            {
                let names: Vec<String> = d.profile.columns.iter().map(|c| c.name.clone()).collect();
                let back = format!("/datasets/{}", d.summary.id);
                let colour_options = names.iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view();
                let ticks = names.iter().map(|n| {
                    let name = n.clone();
                    let checked = n.clone();
                    view! {
                        <label class="inline">
                            <input type="checkbox" class="explore-column"
                                prop:checked=move || unticked.with(|u| !u.contains(&checked))
                                on:change=move |_| unticked.update(|u| {
                                    if let Some(i) = u.iter().position(|x| *x == name) {
                                        u.remove(i);
                                    } else {
                                        u.push(name.clone());
                                    }
                                })/>
                            {format!(" {n}")}
                        </label>
                    }
                }).collect_view();
                view! {
                    <div class="title-row">
                        <div>
                            <h1>"Explore "<a href=back>{d.summary.name.clone()}</a></h1>
                            <p class="muted">"Groups of similar rows, a map of the rows, and the rows least like the others, before you choose a column to predict."</p>
                        </div>
                    </div>
                    <div class="form">
                        <label for="explore-k">"Segments"</label>
                        <select id="explore-k" prop:value=move || k.get() on:change=move |ev| k.set(event_target_value(&ev))>
                            <option value="">"Chosen by silhouette"</option>
                            {(2..=10).map(|i| view! { <option value=i.to_string()>{i.to_string()}</option> }).collect_view()}
                        </select>
                        <label for="explore-colour">"Colour the map by"</label>
                        <select id="explore-colour" prop:value=move || colour_by.get() on:change=move |ev| colour_by.set(event_target_value(&ev))>
                            <option value="">"Segment"</option>
                            {colour_options}
                        </select>
                        <span class="form-label">"Columns"</span>
                        <details class="hint"><summary>"Choose the columns compared"</summary><div class="ticks">{ticks}</div></details>
                    </div>
                }
            }
        </Loaded>
        <Loaded resource=found loading="Exploring the rows…" let:e>
            <ExploreView found=e.0 csv=e.1 dataset=dataset.id.get_untracked()/>
        </Loaded>
    }
}

#[component]
fn ExploreView(
    /// An `api::Explore`.
    found: Value,
    /// The address of the rows with their segment and score.
    csv: String,
    dataset: String,
) -> impl IntoView {
    // The segments as a recipe step: appended to the dataset's recipe, then
    // the Prepare page shows it.
    let adding = RwSignal::new(None::<Result<(), String>>);
    let step = api::Step::AddSegments {
        columns: items(&found["columns"]).iter().map(text).collect(),
        k: found["segments"]["k"].as_u64().unwrap_or(2) as u32,
        name: "segment".into(),
    };
    let navigate = leptos_router::hooks::use_navigate();
    let add = move |_| {
        let (dataset, step, navigate) = (dataset.clone(), step.clone(), navigate.clone());
        adding.set(Some(Ok(())));
        leptos::task::spawn_local(async move {
            let saved = async {
                let mut recipe = client::recipe(&dataset).await?.recipe;
                recipe.steps.push(step);
                client::save_recipe(&dataset, &recipe).await
            }
            .await;
            match saved {
                Ok(_) => navigate(&format!("/datasets/{dataset}/prepare"), Default::default()),
                Err(e) => adding.set(Some(Err(e.error.message))),
            }
        });
    };
    let rows = found["rows"].as_u64().unwrap_or(0);
    let method = items(&found["method"])
        .iter()
        .map(|m| view! { <li>{text(m)}</li> })
        .collect_view();
    let left_out = items(&found["left_out"]).to_vec();
    let left_out = (!left_out.is_empty()).then(|| {
        view! {
            <p class="small" id="explore-left-out">"Not compared: "{left_out.iter().map(|l| view! {
                <span class="left-out"><code>{text(&l["column"])}</code>{format!(" ({}) ", text(&l["reason"]))}</span>
            }).collect_view()}</p>
        }
    });
    let seg = &found["segments"];
    let silhouette: Vec<String> = items(&seg["silhouette"])
        .iter()
        .map(|s| format!("k = {}: {}", s["k"], number(&s["silhouette"])))
        .collect();
    let segments = items(&seg["segments"])
        .iter()
        .enumerate()
        .map(|(i, s)| {
            view! {
                <tr class="segment">
                    <td><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=colour(i as u64)/></svg>{format!(" {}", s["number"])}</td>
                    <td class="num">{display::count(s["rows"].as_u64().unwrap_or(0))}</td>
                    <td class="num">{s["share"].as_f64().map(display::percent)}</td>
                    <td>{with_code(&text(&s["sentence"]))}</td>
                </tr>
            }
        })
        .collect_view();
    let unusual = &found["unusual"];
    let unusual_rows = items(&unusual["rows"])
        .iter()
        .map(|r| {
            view! {
                <tr class="unusual-row">
                    <td class="num">{display::count(r["row"].as_u64().unwrap_or(0))}</td>
                    <td class="num">{number(&r["score"])}</td>
                    <td>{items(&r["reasons"]).iter().map(|t| view! { <div>{with_code(&text(t))}</div> }).collect_view()}</td>
                </tr>
            }
        })
        .collect_view();
    let above = unusual["above"].as_u64().unwrap_or(0);
    view! {
        <ul class="notes small" id="explore-method">{method}</ul>
        {left_out}
        <section id="segments">
            <h2>{format!("{} segments", seg["k"])}</h2>
            <p class="muted small" id="segments-chosen">{format!(
                "k {}{}.",
                text(&seg["chosen"]),
                if silhouette.is_empty() { String::new() } else { format!(" (silhouette {})", silhouette.join(", ")) }
            )}</p>
            <table class="data" id="segments-table">
                <thead><tr><th>"Segment"</th><th>"Rows"</th><th>"Share"</th><th>"What sets it apart"</th></tr></thead>
                <tbody>{segments}</tbody>
            </table>
            <p class="small actions">
                <button class="button" id="add-segments" on:click=add disabled=move || matches!(adding.get(), Some(Ok(())))>
                    "Add the segment as a column in the recipe"
                </button>
                " "
                <a id="segments-csv" href=csv download="">"Download every row with its segment and unusual score (CSV)"</a>
            </p>
            <p class="muted small">"As a recipe step, the centres are fitted once on the data the recipe reaches, kept with any model built on it, and new rows join their nearest segment."</p>
            {move || match adding.get() {
                Some(Err(message)) => Some(view! { <div class="error" role="alert">{with_code(&message)}</div> }),
                _ => None,
            }}
        </section>
        {found.get("map").filter(|m| !m.is_null()).map(|m| view! { <MapView map=m.clone() rows=rows/> })}
        <section id="unusual">
            <h2>"Unusual rows"</h2>
            <p class="muted small" id="unusual-summary">{format!(
                "{} {} or more (unusual). {}",
                match above {
                    0 => "No row scores".to_owned(),
                    n => display::plural(n, "row scores", "rows score"),
                },
                number(&unusual["threshold"]),
                text(&unusual["method"])
            )}</p>
            <table class="data" id="unusual-table">
                <thead><tr><th>"Row"</th><th>"Score"</th><th>"What makes it unusual"</th></tr></thead>
                <tbody>{unusual_rows}</tbody>
            </table>
        </section>
        <p class="muted small">{format!("Answered in {} s.", number(&found["seconds"]))}</p>
    }
}

/// The scatter of the rows on the first two components, its legend, the
/// explained variance and the loadings.
#[component]
fn MapView(map: Value, rows: u64) -> impl IntoView {
    const W: f64 = 560.0;
    const H: f64 = 400.0;
    const PAD: f64 = 36.0;
    let points: Vec<(f64, f64)> = items(&map["points"])
        .iter()
        .map(|p| (p[0].as_f64().unwrap_or(0.0), p[1].as_f64().unwrap_or(0.0)))
        .collect();
    let colouring = map.get("colour").filter(|c| !c.is_null());
    let (groups, of_point): (Vec<String>, Vec<u64>) = match colouring {
        Some(c) => (
            items(&c["groups"]).iter().map(text).collect(),
            items(&c["of_point"])
                .iter()
                .map(|g| g.as_u64().unwrap_or(0))
                .collect(),
        ),
        None => {
            let of: Vec<u64> = items(&map["segment"])
                .iter()
                .map(|g| g.as_u64().unwrap_or(0))
                .collect();
            let k = of.iter().copied().max().map_or(0, |m| m + 1);
            ((1..=k).map(|i| format!("segment {i}")).collect(), of)
        }
    };
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in &points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let sx = (W - 2.0 * PAD) / (x1 - x0).max(1e-12);
    let sy = (H - 2.0 * PAD) / (y1 - y0).max(1e-12);
    let dots = points
        .iter()
        .zip(&of_point)
        .map(|(&(x, y), &g)| {
            view! {
                <circle cx=format!("{:.1}", PAD + (x - x0) * sx) cy=format!("{:.1}", H - PAD - (y - y0) * sy)
                    r="2.5" fill=colour(g) fill-opacity="0.75"/>
            }
        })
        .collect_view();
    let explained: Vec<f64> = items(&map["explained"])
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let pc = |i: usize| {
        explained
            .get(i)
            .map(|v| format!("PC{} ({})", i + 1, display::percent(*v)))
            .unwrap_or_default()
    };
    let legend = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            view! {
                <span class="legend-item"><svg width="10" height="10" aria-hidden="true"><circle cx="5" cy="5" r="5" fill=colour(i as u64)/></svg>{format!(" {g} ")}</span>
            }
        })
        .collect_view();
    let loadings = items(&map["loadings"])
        .iter()
        .map(|l| {
            view! {
                <tr><td><code>{text(&l["name"])}</code></td><td class="num">{number(&l["pc1"])}</td><td class="num">{number(&l["pc2"])}</td></tr>
            }
        })
        .collect_view();
    let shown = map["shown"].as_u64().unwrap_or(0);
    let title = colouring.map_or_else(
        || "segment".to_owned(),
        |c| format!("`{}`", text(&c["column"])),
    );
    view! {
        <section id="map">
            <h2>"Map of the rows"</h2>
            <p class="muted small" id="map-shown">{format!(
                "{} of {} rows shown, coloured by {}. Rows near each other are alike in the compared columns.",
                display::count(shown),
                display::count(rows),
                title.trim_matches('`')
            )}</p>
            <div class="scroll" tabindex="0">
                <svg id="map-chart" width=W height=H viewBox=format!("0 0 {W} {H}") role="img"
                    aria-label=format!("Scatter of {} rows on the first two principal components", display::count(shown))>
                    <rect x="0" y="0" width=W height=H fill="#fbfaf8" stroke="#ddd"/>
                    {dots}
                    <text x=W / 2.0 y=H - 8.0 text-anchor="middle" font-size="12" fill="#444">{pc(0)}</text>
                    <text x="12" y=H / 2.0 text-anchor="middle" font-size="12" fill="#444"
                        transform=format!("rotate(-90 12 {})", H / 2.0)>{pc(1)}</text>
                </svg>
            </div>
            <p class="small legend" id="map-legend">{legend}</p>
            <p class="small" id="map-explained">{format!(
                "Share of the variance by component: {}.",
                explained.iter().enumerate().map(|(i, v)| format!("PC{} {}", i + 1, display::percent(*v))).collect::<Vec<_>>().join(", ")
            )}</p>
            <table class="data" id="map-loadings">
                <thead><tr><th>"Column"</th><th>"PC1 loading"</th><th>"PC2 loading"</th></tr></thead>
                <tbody>{loadings}</tbody>
            </table>
        </section>
    }
}
