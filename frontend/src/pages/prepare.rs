//! Prepare: the dataset's cleaning recipe. Steps suggested by the quality
//! report are added with one click, others from a small form; steps can be
//! reordered and removed; every change shows a before/after preview of the
//! first rows and of the columns whose statistics changed. Saving makes a
//! new recipe version, which builds then apply.

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::client;
use crate::components::{ErrorBox, Loaded, RowsTable, with_code};
use crate::pages::use_dataset;

/// The operations the add-a-step form offers, with their names.
const OPS: &[(&str, &str)] = &[
    ("impute", "Fill missing values"),
    ("set_missing", "Read values as missing"),
    ("drop_missing", "Drop rows with missing values"),
    ("drop_duplicates", "Drop duplicate rows"),
    ("drop_unusual", "Drop unusual rows"),
    ("drop_columns", "Drop a column"),
    ("outliers_clip", "Clip outliers"),
    ("outliers_remove", "Drop rows with outliers"),
    ("cast_number", "Read as numbers"),
    ("cast_category", "Treat as categories"),
    ("log", "Log transform"),
    ("bin", "Bin into ranges"),
    ("one_hot", "One-hot encode"),
    ("group_rare", "Group rare categories"),
    ("date_parts", "Split a date into parts"),
    ("rename", "Rename"),
];

/// What the add-a-step form holds.
#[derive(Clone, Copy)]
struct Form {
    op: RwSignal<String>,
    column: RwSignal<String>,
    strategy: RwSignal<String>,
    text: RwSignal<String>,
    bins: RwSignal<u32>,
    width: RwSignal<bool>,
    min_rows: RwSignal<u32>,
}

impl Form {
    /// The step the form describes, or why it is not one yet.
    fn step(&self) -> Result<api::Step, String> {
        let column = self.column.get_untracked();
        let text = self.text.get_untracked().trim().to_owned();
        let needs_column = !matches!(
            self.op.get_untracked().as_str(),
            "drop_duplicates" | "drop_missing" | "drop_unusual"
        );
        if needs_column && column.is_empty() {
            return Err("choose a column".into());
        }
        Ok(match self.op.get_untracked().as_str() {
            "impute" => {
                let strategy = match self.strategy.get_untracked().as_str() {
                    "mean" => api::Imputation::Mean,
                    "mode" => api::Imputation::Mode,
                    "constant" => api::Imputation::Constant,
                    _ => api::Imputation::Median,
                };
                if strategy == api::Imputation::Constant && text.is_empty() {
                    return Err("type the value to fill with".into());
                }
                api::Step::Impute {
                    column,
                    strategy,
                    value: (strategy == api::Imputation::Constant).then_some(text),
                }
            }
            "set_missing" => {
                let values: Vec<String> = text
                    .split(',')
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect();
                if values.is_empty() {
                    return Err("type the values to read as missing, separated by commas".into());
                }
                api::Step::SetMissing { column, values }
            }
            "drop_missing" => api::Step::DropMissing {
                columns: (!column.is_empty()).then_some(column).into_iter().collect(),
            },
            "drop_duplicates" => api::Step::DropDuplicates,
            "drop_unusual" => api::Step::DropUnusual {
                threshold: api::Step::UNUSUAL_SCORE,
            },
            "drop_columns" => api::Step::DropColumns {
                columns: vec![column],
            },
            "outliers_clip" => api::Step::Outliers {
                column,
                action: api::OutlierAction::Clip,
            },
            "outliers_remove" => api::Step::Outliers {
                column,
                action: api::OutlierAction::Remove,
            },
            "cast_number" => api::Step::Cast {
                column,
                to: api::CastTo::Number,
            },
            "cast_category" => api::Step::Cast {
                column,
                to: api::CastTo::Category,
            },
            "log" => api::Step::Log { column },
            "bin" => api::Step::Bin {
                column,
                bins: self.bins.get_untracked(),
                strategy: if self.width.get_untracked() {
                    api::BinStrategy::Width
                } else {
                    api::BinStrategy::Quantile
                },
            },
            "one_hot" => api::Step::OneHot {
                column,
                max_categories: 20,
            },
            "group_rare" => api::Step::GroupRare {
                column,
                min_rows: self.min_rows.get_untracked(),
            },
            "date_parts" => api::Step::DateParts { column },
            "rename" if text.is_empty() => return Err("type the new name".into()),
            "rename" => api::Step::Rename { column, to: text },
            other => return Err(format!("unknown operation {other}")),
        })
    }
}

#[component]
pub fn PreparePage() -> impl IntoView {
    let dataset = use_dataset();
    let id = dataset.id;
    let quality = LocalResource::new(move || {
        let id = id.get();
        async move { client::quality(&id, None, false).await }
    });
    let steps = RwSignal::new(Vec::<api::Step>::new());
    let saved = RwSignal::new(None::<api::RecipeVersion>);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    // The saved recipe is where editing starts.
    Effect::new(move || {
        let id = id.get();
        spawn_local(async move {
            match client::recipe(&id).await {
                Ok(v) => {
                    steps.set(v.recipe.steps.clone());
                    saved.set(Some(v));
                }
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    });
    let preview = LocalResource::new(move || {
        let (id, steps) = (id.get(), steps.get());
        async move { client::preview_recipe(&id, &api::Recipe { steps }).await }
    });
    // Columns a new step can name: those the recipe leaves.
    let columns = move || -> Vec<String> {
        match preview.get() {
            Some(Ok(p)) => p.after.columns,
            _ => dataset
                .detail
                .get()
                .and_then(Result::ok)
                .map(|d| d.profile.columns.into_iter().map(|c| c.name).collect())
                .unwrap_or_default(),
        }
    };
    let form = Form {
        op: RwSignal::new("impute".into()),
        column: RwSignal::new(String::new()),
        strategy: RwSignal::new("median".into()),
        text: RwSignal::new(String::new()),
        bins: RwSignal::new(5),
        width: RwSignal::new(false),
        min_rows: RwSignal::new(api::Step::GROUP_RARE_MIN_ROWS),
    };
    let form_error = RwSignal::new(None::<String>);
    let add = move |_| match form.step() {
        Ok(step) => {
            form_error.set(None);
            steps.update(|s| s.push(step));
        }
        Err(e) => form_error.set(Some(e)),
    };
    let save = move |_| {
        let (id, recipe) = (
            id.get_untracked(),
            api::Recipe {
                steps: steps.get_untracked(),
            },
        );
        saving.set(true);
        error.set(None);
        spawn_local(async move {
            match client::save_recipe(&id, &recipe).await {
                Ok(v) => saved.set(Some(v)),
                Err(e) => error.set(Some(e.error.message)),
            }
            saving.set(false);
        });
    };
    let dirty = move || saved.with(|s| s.as_ref().is_none_or(|s| s.recipe.steps != steps.get()));

    let step_list = move || {
        let outcomes = match preview.get() {
            Some(Ok(p)) => p.outcomes,
            _ => Vec::new(),
        };
        let all = steps.get();
        let n = all.len();
        if n == 0 {
            return view! { <p class="muted" id="recipe-empty">"No steps yet: the data is used as uploaded. Add a suggested fix or a step of your own."</p> }.into_any();
        }
        let items = all.into_iter().enumerate().map(|(i, s)| {
            let outcome = outcomes.iter().find(|o| o.step as usize == i + 1).map(|o| o.message.clone());
            let describe = s.describe();
            view! {
                <li class="recipe-step">
                    <span class="step-text">{with_code(&describe)}</span>
                    {outcome.map(|m| view! { <span class="step-outcome muted small">{format!(" — {m}")}</span> })}
                    <span class="step-actions">
                        <button class="step-up" title="Move up" disabled=i == 0 on:click=move |_| steps.update(|s| s.swap(i, i - 1))>"↑"</button>
                        <button class="step-down" title="Move down" disabled=i + 1 == n on:click=move |_| steps.update(|s| s.swap(i, i + 1))>"↓"</button>
                        <button class="step-remove" title="Remove" on:click=move |_| steps.update(|s| { s.remove(i); })>"✕"</button>
                    </span>
                </li>
            }
        }).collect_view();
        view! { <ol id="recipe-steps">{items}</ol> }.into_any()
    };

    view! {
        <Loaded resource=dataset.detail let:d>
            <div class="title-row">
                <div>
                    <h1>"Prepare the data"</h1>
                    <p class="muted">
                        <a href=format!("/datasets/{}", d.summary.id)>{d.summary.name.clone()}</a>
                        {format!(
                            ": {}, {}. Steps run in order, each on what the steps before it left; a model built with this recipe applies the same steps to new rows.",
                            display::plural(d.summary.rows, "row", "rows"),
                            display::plural(u64::from(d.summary.columns), "column", "columns")
                        )}
                    </p>
                </div>
                <a class="button primary" id="build-with-recipe" href=format!("/datasets/{}/build", d.summary.id)>"Build a model"</a>
            </div>
        </Loaded>
        <div class="prepare">
            <section id="recipe">
                <h2>"Recipe"</h2>
                <p id="recipe-status" class="small">{move || match (saved.get(), dirty()) {
                    (None, _) => "Loading the saved recipe…".to_owned(),
                    (Some(v), false) if v.version == 0 => "Nothing saved yet.".to_owned(),
                    (Some(v), false) => format!("Saved as version {}.", v.version),
                    (Some(_), true) => "Unsaved changes.".to_owned(),
                }}</p>
                {step_list}
                <button class="button primary" id="save-recipe" disabled=move || saving.get() || !dirty() on:click=save>
                    {move || if saving.get() { "Saving…" } else { "Save recipe" }}
                </button>
                {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
                <h3>"Add a step"</h3>
                <div class="form" id="add-step">
                    <label for="step-op">"Operation"</label>
                    <select id="step-op" on:change=move |ev| form.op.set(event_target_value(&ev))>
                        {OPS.iter().map(|(v, name)| view! { <option value=*v selected=*v == "impute">{*name}</option> }).collect_view()}
                    </select>
                    <label for="step-column">"Column"</label>
                    <select id="step-column" on:change=move |ev| form.column.set(event_target_value(&ev))>
                        <option value="" selected=true>{move || if form.op.get() == "drop_missing" { "Any column" } else { "Choose a column…" }}</option>
                        {move || columns().into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                    {move || (form.op.get() == "impute").then(|| view! {
                        <label for="step-strategy">"Fill with"</label>
                        <select id="step-strategy" on:change=move |ev| form.strategy.set(event_target_value(&ev))>
                            <option value="median" selected=true>"the median"</option>
                            <option value="mean">"the mean"</option>
                            <option value="mode">"the most frequent value"</option>
                            <option value="constant">"a value…"</option>
                        </select>
                    })}
                    {move || {
                        let op = form.op.get();
                        let label = match op.as_str() {
                            "impute" if form.strategy.get() == "constant" => Some("Value"),
                            "set_missing" => Some("Values (comma-separated)"),
                            "rename" => Some("New name"),
                            _ => None,
                        };
                        label.map(|l| view! {
                            <label for="step-text">{l}</label>
                            <input id="step-text" type="text" prop:value=move || form.text.get() on:input=move |ev| form.text.set(event_target_value(&ev))/>
                        })
                    }}
                    {move || (form.op.get() == "bin").then(|| view! {
                        <label for="step-bins">"Bins"</label>
                        <span>
                            <input id="step-bins" type="number" min="2" max="50" value="5" on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { form.bins.set(v) } }/>
                            <label class="inline"><input type="checkbox" on:change=move |ev| form.width.set(event_target_checked(&ev))/>" equal width (else equal counts)"</label>
                        </span>
                    })}
                    {move || (form.op.get() == "group_rare").then(|| view! {
                        <label for="step-min-rows">"Keep categories with at least"</label>
                        <span>
                            <input id="step-min-rows" type="number" min="2" prop:value=move || form.min_rows.get().to_string() on:change=move |ev| { if let Ok(v) = event_target_value(&ev).trim().parse() { form.min_rows.set(v) } }/>
                            " rows; the others become “other”"
                        </span>
                    })}
                    <div></div>
                    <button class="button" id="add-step-button" on:click=add>"Add step"</button>
                </div>
                {move || form_error.get().map(|e| view! { <ErrorBox message=e/> })}
                <h3>"Suggested by the quality report"</h3>
                <Loaded resource=quality loading="Checking the data…" let:report>
                    <Suggestions findings=report.findings steps=steps/>
                </Loaded>
            </section>
            <section id="recipe-preview">
                <h2>"Preview"</h2>
                <Loaded resource=preview loading="Applying the recipe…" let:p>
                    <Preview preview=p/>
                </Loaded>
            </section>
        </div>
    }
}

/// The steps the quality report suggests that the recipe does not have yet.
#[component]
fn Suggestions(findings: Vec<api::Finding>, steps: RwSignal<Vec<api::Step>>) -> impl IntoView {
    move || {
        let current = steps.get();
        // Findings whose steps are not all in the recipe yet, with the missing steps.
        let offered: Vec<(api::Finding, Vec<api::Step>)> = findings
            .iter()
            .map(|f| {
                let new: Vec<api::Step> = f
                    .steps
                    .iter()
                    .filter(|s| !current.contains(s))
                    .cloned()
                    .collect();
                (f.clone(), new)
            })
            .filter(|(_, new)| !new.is_empty())
            .collect();
        if offered.is_empty() {
            return view! { <p class="muted" id="no-suggestions">"No more suggestions: every fix the quality report has a step for is in the recipe."</p> }.into_any();
        }
        let all: Vec<api::Step> = offered.iter().flat_map(|(_, s)| s.clone()).collect();
        let items = offered.into_iter().map(|(f, new)| {
            let described = new.iter().map(|s| view! { <div class="suggestion-step">{with_code(&s.describe())}</div> }).collect_view();
            let label = if new.len() == 1 { "Add".to_owned() } else { format!("Add {} steps", new.len()) };
            view! {
                <li class="suggestion">
                    <div class="suggestion-text">
                        <span class=format!("severity severity-{}", f.severity.label())>{f.severity.label()}</span>
                        {described}
                        <div class="muted small">{with_code(&f.message)}</div>
                    </div>
                    <button class="button add-suggestion" on:click=move |_| steps.update(|st| st.extend(new.clone()))>{label}</button>
                </li>
            }
        }).collect_view();
        view! {
            <ul id="suggested-steps">{items}</ul>
            <button class="button" id="add-all-suggestions" on:click=move |_| steps.update(|st| st.extend(all.clone()))>"Add all suggestions"</button>
        }.into_any()
    }
}

/// The recipe's effect: rows before and after, the columns whose
/// statistics changed, and the first rows after and before.
#[component]
fn Preview(preview: api::RecipePreview) -> impl IntoView {
    let p = preview;
    let rows = format!(
        "Rows: {} → {}",
        display::count(p.rows_before),
        display::count(p.rows_after)
    );
    let changes = p.changes.iter().map(|c| view! {
        <tr>
            <td class="colname">{c.column.clone()}</td>
            <td>{c.before.as_ref().map_or_else(|| "(new column)".to_owned(), stats_text)}</td>
            <td>{c.after.as_ref().map_or_else(|| "(removed)".to_owned(), stats_text)}</td>
        </tr>
    }).collect_view();
    let has_changes = !p.changes.is_empty();
    view! {
        <p id="preview-rows"><strong>{rows}</strong></p>
        {has_changes.then(|| view! {
            <h3>"Changed columns"</h3>
            <div class="scroll" tabindex="0">
                <table class="data" id="preview-changes">
                    <thead><tr><th>"Column"</th><th>"Before"</th><th>"After"</th></tr></thead>
                    <tbody>{changes}</tbody>
                </table>
            </div>
        })}
        <h3>"First rows after"</h3>
        <RowsTable page=p.after id="preview-after"/>
        <h3>"First rows before"</h3>
        <RowsTable page=p.before id="preview-before"/>
    }
}

fn stats_text(s: &api::ColumnStats) -> String {
    let mut parts = vec![
        s.kind.label().to_owned(),
        format!("{} missing", display::count(s.missing)),
        format!("{} distinct", display::count(s.distinct)),
    ];
    if let Some(m) = s.mean {
        parts.push(format!("mean {}", display::number(m)));
    }
    if let (Some(lo), Some(hi)) = (s.min, s.max) {
        parts.push(format!(
            "{} to {}",
            display::number(lo),
            display::number(hi)
        ));
    }
    parts.join(" · ")
}
