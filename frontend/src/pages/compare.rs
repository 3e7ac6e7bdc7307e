//! Compare: two or more builds side by side (`/compare?builds=a,b`), as
//! SageMaker Experiments compares runs: the dataset, recipe version and
//! settings with their differences marked, the shipped models' held-out
//! metrics, their curves drawn over each other, and each leaderboard's best
//! candidate of every family. Builds are chosen on the Experiments page.

use api::display;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::client::{self, ApiError, ModelChart};
use crate::components::{Loaded, StateBadge};
use crate::format;

/// The most builds one comparison shows (the charts' palette).
const MAX_BUILDS: usize = 8;

/// A compared build, its shipped model (if it has one that still reads
/// back) and its dataset's name.
#[derive(Clone)]
struct Compared {
    build: api::Build,
    model: Option<api::ModelSummary>,
    dataset: String,
}

/// The build ids of the address, without repeats, at most [`MAX_BUILDS`].
fn build_ids(query: Option<String>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in query.unwrap_or_default().split(',').map(str::trim) {
        if !id.is_empty() && !ids.iter().any(|i| i == id) {
            ids.push(id.to_owned());
        }
    }
    ids.truncate(MAX_BUILDS);
    ids
}

/// The builds that read back, and the ids of those that do not (deleted
/// since they were chosen).
async fn load(ids: Vec<String>) -> Result<(Vec<Compared>, Vec<String>), ApiError> {
    let datasets = client::datasets().await?.items;
    let mut out = Vec::new();
    let mut gone = Vec::new();
    for id in ids {
        let build = match client::build(&id).await {
            Ok(b) => b,
            Err(e) if e.error.code == "not_found" || e.error.code == "unreadable_record" => {
                gone.push(id);
                continue;
            }
            Err(e) => return Err(e),
        };
        // A deleted model leaves the build comparable by its settings and leaderboard.
        let model = match &build.model_id {
            Some(m) => client::model(m).await.ok(),
            None => None,
        };
        let dataset = datasets
            .iter()
            .find(|d| d.id == build.dataset_id)
            .map_or_else(|| "(deleted dataset)".to_owned(), |d| d.name.clone());
        out.push(Compared {
            build,
            model,
            dataset,
        });
    }
    Ok((out, gone))
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let ids = Memo::new(move |_| build_ids(query.read().get("builds")));
    let compared = LocalResource::new(move || load(ids.get()));
    view! {
        <h1>"Compare builds"</h1>
        {move || if ids.get().len() < 2 {
            view! {
                <p class="muted" id="compare-empty">
                    "Choose two or more builds on the "<a href="/builds">"Experiments"</a>" page to see them side by side."
                </p>
            }.into_any()
        } else {
            view! {
                <p class="muted">
                    "Rows marked “differs” are where the builds part ways. Choose other builds on the "<a href="/builds">"Experiments"</a>" page."
                </p>
                <Loaded resource=compared loading="Loading the builds…" let:loaded>
                    {(!loaded.1.is_empty()).then(|| view! {
                        <p class="notice" id="compare-gone">{format!(
                            "Not shown, as they no longer read back (deleted?): {}.",
                            loaded.1.join(", ")
                        )}</p>
                    })}
                    {if loaded.0.len() < 2 {
                        view! { <p class="muted" id="compare-empty">"Fewer than two of these builds are left to compare."</p> }.into_any()
                    } else {
                        view! { <Comparison builds=loaded.0/> }.into_any()
                    }}
                </Loaded>
            }.into_any()
        }}
    }
}

#[component]
fn Comparison(builds: Vec<Compared>) -> impl IntoView {
    let same_rows = builds.windows(2).all(|w| {
        w[0].build.dataset_id == w[1].build.dataset_id
            && w[0].build.target == w[1].build.target
            && w[0].build.recipe_version == w[1].build.recipe_version
    });
    let head = builds
        .iter()
        .enumerate()
        .map(|(i, c)| {
            view! {
                <th>
                    <a href=format!("/builds/{}", c.build.id)>{format!("{}. {}", i + 1, c.build.target)}</a>
                    <div class="muted small">{format::timestamp(&c.build.created)}</div>
                </th>
            }
        })
        .collect_view();
    let header = move || view! { <thead><tr><th></th>{head.clone()}</tr></thead> };
    view! {
        <h2>"Settings"</h2>
        <div class="scroll" tabindex="0">
            <table class="data compare" id="compare-settings">
                {header()}
                <tbody>
                    {settings(&builds).into_iter().map(|(label, cells)| row(label, cells, None)).collect_view()}
                    <tr>
                        <td class="colname">"State"</td>
                        {builds.iter().map(|c| view! { <td><StateBadge state=c.build.state/></td> }).collect_view()}
                    </tr>
                </tbody>
            </table>
        </div>
        <h2>"Scores"</h2>
        {(!same_rows).then(|| view! {
            <p class="muted small" id="compare-different-rows">"These builds differ in dataset, target or recipe, so their scores are not measured on the same rows; no score is marked best."</p>
        })}
        <div class="scroll" tabindex="0">
            <table class="data compare" id="compare-metrics">
                {header()}
                <tbody>{metrics(&builds, same_rows)}</tbody>
            </table>
        </div>
        <Charts builds=builds.clone()/>
        <h2>"Best candidate of each family"</h2>
        <p class="muted small">"Each leaderboard's best validation score per model family, with the number of candidates tried."</p>
        <div class="scroll" tabindex="0">
            <table class="data compare" id="compare-families">
                {header()}
                <tbody>{families(&builds, same_rows)}</tbody>
            </table>
        </div>
    }
}

/// One row of a comparison: marked "differs" when its cells are not all
/// equal, and the cell at `best` marked best.
fn row(label: &'static str, cells: Vec<String>, best: Option<usize>) -> impl IntoView {
    let differs = cells.windows(2).any(|w| w[0] != w[1]);
    view! {
        <tr class:differs=differs>
            <td class="colname">
                {label}
                {differs.then(|| view! { " " <span class="differs-tag">"differs"</span> })}
            </td>
            {cells.into_iter().enumerate().map(|(i, c)| view! {
                <td class:best=best == Some(i)>{c}{(best == Some(i)).then_some(" ★")}</td>
            }).collect_view()}
        </tr>
    }
}

/// What each build was asked to do, row by row.
fn settings(builds: &[Compared]) -> Vec<(&'static str, Vec<String>)> {
    let each = |f: &dyn Fn(&Compared) -> String| builds.iter().map(f).collect::<Vec<_>>();
    vec![
        ("Dataset", each(&|c| c.dataset.clone())),
        (
            "Recipe",
            each(&|c| match c.build.recipe_version {
                0 => "none".to_owned(),
                v => format!("version {v}"),
            }),
        ),
        ("Target", each(&|c| c.build.target.clone())),
        (
            "Problem",
            each(&|c| c.build.task.map_or("–", api::Task::label).to_owned()),
        ),
        (
            "Ranked by",
            each(&|c| c.build.metric.clone().unwrap_or_else(|| "–".into())),
        ),
        (
            "Validation",
            each(&|c| c.build.validation.clone().unwrap_or_else(|| "–".into())),
        ),
        (
            "Time budget",
            each(&|c| format::seconds(f64::from(c.build.time_budget_secs))),
        ),
        (
            "Trial budget",
            each(&|c| {
                c.build
                    .max_trials
                    .map_or_else(|| "none".to_owned(), |n| display::count(u64::from(n)))
            }),
        ),
        ("Seed", each(&|c| c.build.seed.to_string())),
        (
            "Left-out columns",
            each(&|c| {
                if c.build.excluded.is_empty() {
                    "none".to_owned()
                } else {
                    c.build.excluded.join(", ")
                }
            }),
        ),
        (
            "Model families",
            each(&|c| {
                if c.build.families.is_empty() {
                    "the default set".to_owned()
                } else {
                    c.build.families.join(", ")
                }
            }),
        ),
        (
            "Candidates tried",
            each(&|c| c.build.trials_done.to_string()),
        ),
        ("Duration", each(&|c| format::seconds(c.build.elapsed_secs))),
        (
            "Model",
            each(&|c| {
                c.model
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |m| m.family.clone())
            }),
        ),
    ]
}

/// Whether a larger value of the held-out metric `name` is better (the
/// names the engine's `metrics::evaluate` gives), when known.
fn higher_is_better(name: &str) -> Option<bool> {
    match name {
        "AUC" | "R²" | "accuracy" | "balanced accuracy" | "macro F1" => Some(true),
        "RMSE" | "MAE" | "log loss" => Some(false),
        _ => None,
    }
}

/// The position of the best of `values` (`None` where a build has none).
fn best_of(values: &[Option<f64>], higher: bool) -> Option<usize> {
    let present: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    if present.len() < 2 {
        return None;
    }
    let (at, best) = present.iter().copied().reduce(|a, b| {
        let b_wins = if higher { b.1 > a.1 } else { b.1 < a.1 };
        if b_wins { b } else { a }
    })?;
    // A tie has no best.
    (present.iter().filter(|(_, v)| *v == best).count() == 1).then_some(at)
}

/// The validation score each build ranked by, then every held-out metric
/// of the shipped models; the best marked where the rows are the same.
fn metrics(builds: &[Compared], same_rows: bool) -> impl IntoView + use<> {
    let one_metric = builds
        .windows(2)
        .all(|w| w[0].build.metric == w[1].build.metric);
    let validation: Vec<Option<f64>> = builds
        .iter()
        .map(|c| c.build.leaderboard.first().map(|e| e.score))
        .collect();
    let validation_best = (same_rows && one_metric)
        .then(|| best_of(&validation, builds[0].build.higher_is_better))
        .flatten();
    let validation_cells = builds
        .iter()
        .map(|c| match c.build.leaderboard.first() {
            Some(e) => format!(
                "{} {}",
                c.build.metric.clone().unwrap_or_default(),
                format::score(e.score, e.score_std)
            ),
            None => "–".to_owned(),
        })
        .collect();
    let mut names: Vec<String> = Vec::new();
    for m in builds.iter().filter_map(|c| c.model.as_ref()) {
        for v in &m.metrics {
            if !names.contains(&v.name) {
                names.push(v.name.clone());
            }
        }
    }
    let held_out = names.into_iter().map(|name| {
        let values: Vec<Option<f64>> = builds
            .iter()
            .map(|c| {
                c.model
                    .as_ref()
                    .and_then(|m| m.metrics.iter().find(|v| v.name == name))
                    .map(|v| v.value)
            })
            .collect();
        let best = higher_is_better(&name)
            .filter(|_| same_rows)
            .and_then(|h| best_of(&values, h));
        let cells = values
            .iter()
            .map(|v| v.map_or_else(|| "–".to_owned(), display::number))
            .collect();
        view! {
            <tr class="metric-row">
                <td class="colname">{format!("Held-out {name}")}</td>
                {row_cells(cells, best)}
            </tr>
        }
    });
    view! {
        {row("Best validation score", validation_cells, validation_best)}
        {held_out.collect_view()}
    }
}

fn row_cells(cells: Vec<String>, best: Option<usize>) -> impl IntoView {
    cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| view! { <td class="num" class:best=best == Some(i)>{c}{(best == Some(i)).then_some(" ★")}</td> })
        .collect_view()
}

/// Per model family, each build's best validation score and its count of
/// candidates of that family.
fn families(builds: &[Compared], same_rows: bool) -> impl IntoView + use<> {
    let mut names: Vec<String> = Vec::new();
    for c in builds {
        for e in &c.build.leaderboard {
            if !names.contains(&e.family) {
                names.push(e.family.clone());
            }
        }
    }
    let one_metric = builds
        .windows(2)
        .all(|w| w[0].build.metric == w[1].build.metric);
    names
        .into_iter()
        .map(|family| {
            // Leaderboards are ranked best first.
            let bests: Vec<Option<&api::LeaderboardEntry>> = builds
                .iter()
                .map(|c| c.build.leaderboard.iter().find(|e| e.family == family))
                .collect();
            let scores: Vec<Option<f64>> = bests.iter().map(|e| e.map(|e| e.score)).collect();
            let best = (same_rows && one_metric)
                .then(|| best_of(&scores, builds[0].build.higher_is_better))
                .flatten();
            let cells = builds
                .iter()
                .zip(&bests)
                .map(|(c, e)| match e {
                    Some(e) => {
                        let n = c
                            .build
                            .leaderboard
                            .iter()
                            .filter(|x| x.family == family)
                            .count();
                        // Builds ranked by different metrics: each score names its own.
                        let metric = match (&c.build.metric, one_metric) {
                            (Some(m), false) => format!("{m} "),
                            _ => String::new(),
                        };
                        format!(
                            "{metric}{} ({})",
                            format::score(e.score, e.score_std),
                            display::plural(n as u64, "candidate", "candidates")
                        )
                    }
                    None => "–".to_owned(),
                })
                .collect();
            view! {
                <tr>
                    <td class="colname">{family}</td>
                    {row_cells(cells, best)}
                </tr>
            }
        })
        .collect_view()
}

/// The shipped models' held-out charts over each other: ROC and
/// precision-recall curves (binary), predicted against actual (regression);
/// confusion matrices side by side (more classes).
#[component]
fn Charts(builds: Vec<Compared>) -> impl IntoView {
    let models: Vec<(usize, api::ModelSummary)> = builds
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.model.clone().map(|m| (i, m)))
        .collect();
    let tasks: Vec<api::Task> = models.iter().map(|(_, m)| m.task).collect();
    let body = if models.len() < 2 {
        view! { <p class="muted" id="compare-no-charts">"Fewer than two of these builds have a model, so there is nothing to draw over each other."</p> }.into_any()
    } else if tasks.windows(2).any(|w| w[0] != w[1]) {
        view! { <p class="muted" id="compare-no-charts">"These models predict different kinds of target, so no chart can hold them all."</p> }.into_any()
    } else {
        let ids: Vec<String> = models.iter().map(|(_, m)| m.id.clone()).collect();
        let numbers: Vec<String> = models.iter().map(|(i, _)| (i + 1).to_string()).collect();
        let note = format!(
            "Builds {} in the legend's numbers, each on its own held-out rows.",
            numbers.join(", ")
        );
        let img = |chart: ModelChart, alt: &'static str| {
            view! { <img class="chart" id=format!("compare-{}-chart", chart.name()) src=client::compare_chart_url(&ids, &numbers, chart) alt=alt/> }
        };
        let charts = match tasks[0] {
            api::Task::Binary => view! {
                {img(ModelChart::Roc, "ROC curves of the compared models")}
                {img(ModelChart::PrecisionRecall, "Precision-recall curves of the compared models")}
            }.into_any(),
            api::Task::Regression => img(ModelChart::Residuals, "Predicted against actual values of the compared models").into_any(),
            api::Task::Multiclass => models.iter().map(|(i, m)| view! {
                <figure>
                    <img class="chart" src=client::model_chart_url(&m.id, ModelChart::Confusion) alt=format!("Confusion matrix of build {}", i + 1)/>
                    <figcaption class="muted small">{format!("{}. {}", i + 1, m.family)}</figcaption>
                </figure>
            }).collect_view().into_any(),
        };
        view! {
            <p class="muted small">{note}</p>
            <div class="charts" id="compare-charts">{charts}</div>
        }
        .into_any()
    };
    view! {
        <h2>"Held-out predictions"</h2>
        {body}
    }
}
