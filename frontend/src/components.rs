//! Small views shared by pages.

use std::future::Future;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::client::{ApiError, ClientResult};
use crate::{format, plot};

#[component]
pub fn ErrorBox(message: String) -> impl IntoView {
    view! { <div class="error" role="alert">{message}</div> }
}

/// A delete button that asks once more in place ("Delete? Yes No") before
/// it calls `on_delete`; disabled, with the reason as its tooltip, while
/// `blocked` names one. Its parts have the classes `delete`, `confirm-yes`
/// and `confirm-no`.
#[component]
pub fn DeleteButton(
    /// Called after "Yes".
    on_delete: Callback<()>,
    /// The button's text; "Delete" unless given.
    #[prop(optional, into)]
    label: Option<String>,
    /// The question before "Yes" and "No"; "Delete?" unless given.
    #[prop(optional, into)]
    question: Option<String>,
    /// Why it cannot be deleted now.
    #[prop(default = None)]
    blocked: Option<String>,
    /// The small buttons of table rows and notices.
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Delete".into());
    let question = question.unwrap_or_else(|| "Delete?".into());
    let size = if small { " small" } else { "" };
    let asking = RwSignal::new(false);
    move || {
        if let Some(reason) = blocked.clone() {
            view! { <button class=format!("button danger delete{size}") disabled=true title=reason>{label.clone()}</button> }
                .into_any()
        } else if asking.get() {
            view! {
                <span class=format!("confirm{size}")>
                    <span class="confirm-question">{question.clone()}</span>
                    <button class=format!("button danger confirm-yes{size}") on:click=move |_| {
                        asking.set(false);
                        on_delete.run(());
                    }>"Yes"</button>
                    <button class=format!("button confirm-no{size}") on:click=move |_| asking.set(false)>"No"</button>
                </span>
            }
            .into_any()
        } else {
            view! { <button class=format!("button danger delete{size}") on:click=move |_| asking.set(true)>{label.clone()}</button> }
                .into_any()
        }
    }
}

/// A delete action for the ids of one kind of record: runs `delete(id)`,
/// puts its error (a 409 while a build runs, a 404 for one already gone)
/// in `error`, and then calls `done` either way, so the page shows what is
/// stored now.
pub fn delete_action<F, Fut>(
    delete: F,
    error: RwSignal<Option<String>>,
    done: impl Fn() + Copy + Send + Sync + 'static,
) -> Callback<String>
where
    F: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = ClientResult<()>> + 'static,
{
    Callback::new(move |id: String| {
        error.set(None);
        spawn_local(async move {
            if let Err(e) = delete(id).await {
                error.set(Some(e.error.message));
            }
            done();
        });
    })
}

/// What a page says once its record is deleted, with the way back to the
/// experiments; its id is `{what}-deleted`.
#[component]
pub fn Deleted(
    /// What was deleted: "model", "build".
    what: &'static str,
    /// What stays.
    note: &'static str,
) -> impl IntoView {
    view! {
        <div id=format!("{what}-deleted")>
            <h1>{format!("The {what} was deleted")}</h1>
            <p class="muted">{note}</p>
            <p><a class="button" href="/builds">"Back to the experiments"</a></p>
        </div>
    }
}

/// Above a list: the stored records it left out because they do not read
/// back, each with a delete button; nothing when there are none.
#[component]
pub fn SkippedNotice(
    /// What the records are, singular and plural: `("build", "builds")`.
    kind: (&'static str, &'static str),
    ids: Vec<String>,
    on_delete: Callback<String>,
) -> impl IntoView {
    let (one, many) = kind;
    (!ids.is_empty()).then(|| {
        let text = format::unreadable(ids.len(), one, many);
        let items = ids
            .into_iter()
            .map(|id| {
                let delete = {
                    let id = id.clone();
                    Callback::new(move |()| on_delete.run(id.clone()))
                };
                view! {
                    <li data-id=id.clone()>
                        <code>{id.clone()}</code>
                        <DeleteButton on_delete=delete small=true/>
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="notice" id=format!("skipped-{many}") role="status">
                <p>{text}</p>
                <p class="muted small">"The server log says why. Deleting removes the stored record."</p>
                <ul class="skipped">{items}</ul>
            </div>
        }
    })
}

/// A resource's loading, error and ready views: a muted line while it
/// loads for the first time (later loads keep the current view until the
/// new value is there), the error's message if the request failed, and
/// `children` of the value once it is ready:
///
/// ```ignore
/// <Loaded resource=builds let:list> … </Loaded>
/// ```
///
/// Other resources read inside `children` wait in a `Loaded` of their own,
/// so that a slow one does not hold back this view.
#[component]
pub fn Loaded<T, C, V>(
    resource: LocalResource<Result<T, ApiError>>,
    /// What the line says while loading; "Loading…" unless given.
    #[prop(optional, into)]
    loading: Option<String>,
    /// Show nothing while loading.
    #[prop(optional)]
    quiet: bool,
    children: C,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    C: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    // Erased here, so the loading machinery below exists once per `T`,
    // not once per call site (it is most of each call site's code).
    let children: Arc<dyn Fn(T) -> AnyView + Send + Sync> =
        Arc::new(move |value| children(value).into_any());
    loaded(
        resource,
        loading.unwrap_or_else(|| "Loading…".into()),
        quiet,
        children,
    )
}

fn loaded<T: Clone + Send + Sync + 'static>(
    resource: LocalResource<Result<T, ApiError>>,
    loading: String,
    quiet: bool,
    children: Arc<dyn Fn(T) -> AnyView + Send + Sync>,
) -> AnyView {
    let fallback = move || (!quiet).then(|| view! { <p class="muted">{loading}</p> });
    view! {
        <Transition fallback=fallback>
            {move || {
                let children = Arc::clone(&children);
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => children(value),
                        Err(e) => view! { <ErrorBox message=e.error.message/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

#[component]
pub fn StateBadge(state: api::BuildState) -> impl IntoView {
    let class = format!("badge state-{}", state.label());
    view! { <span class=class id="build-state">{state.label()}</span> }
}

/// A column's distribution as a small bar chart: its histogram (numbers) or
/// its most frequent values (categories); nothing for other columns.
#[component]
pub fn Distribution(column: api::ColumnProfile) -> impl IntoView {
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    let (bars, what) = if let Some(h) = &column.histogram {
        (plot::histogram_bars(h, W, H), "Histogram")
    } else if let Some(b) = &column.bars {
        (plot::count_bars(b, W, H), "Most frequent values")
    } else {
        return None;
    };
    let label = format!("{what} of {}", column.name);
    let rects = bars
        .into_iter()
        .map(|b| {
            let class = if b.other {
                "spark-bar spark-other"
            } else {
                "spark-bar"
            };
            view! {
                <rect x=b.x.to_string() y=b.y.to_string() width=b.width.max(0.5).to_string() height=b.height.to_string() class=class>
                    <title>{b.label}</title>
                </rect>
            }
        })
        .collect_view();
    Some(view! {
        <svg class="spark" viewBox=format!("0 0 {W} {H}") width=W.to_string() height=H.to_string() role="img" aria-label=label>
            <line x1="0" x2=W.to_string() y1=H.to_string() y2=H.to_string() class="spark-base"/>
            {rects}
        </svg>
    })
}

/// The correlation matrix as a heatmap: Pearson's r between numeric
/// columns, Cramér's V between categorical ones.
#[component]
pub fn CorrelationHeatmap(
    correlations: api::Correlations,
    /// Whether each of `correlations.columns` is numeric.
    numeric: Vec<bool>,
) -> impl IntoView {
    let k = correlations.columns.len();
    let (cell, left, top) = (34.0, 170.0, 120.0);
    let size = cell * k as f64;
    let names = correlations
        .columns
        .iter()
        .map(|n| {
            if n.chars().count() > 24 {
                format!("{}…", n.chars().take(23).collect::<String>())
            } else {
                n.clone()
            }
        })
        .collect::<Vec<_>>();
    let row_labels = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let y = top + cell * i as f64 + cell / 2.0 + 4.0;
            view! { <text x=(left - 8.0).to_string() y=y.to_string() class="heat-label" text-anchor="end">{n.clone()}</text> }
        })
        .collect_view();
    let col_labels = names
        .iter()
        .enumerate()
        .map(|(j, n)| {
            let (x, y) = (left + cell * j as f64 + cell / 2.0, top - 8.0);
            view! { <text x=x.to_string() y=y.to_string() class="heat-label" transform=format!("rotate(-45 {x} {y})")>{n.clone()}</text> }
        })
        .collect_view();
    let cells = (0..k)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| {
            let v = correlations.values[i][j];
            let pearson = numeric[i] && numeric[j];
            let (fill, opacity) = plot::heat_fill(v, pearson);
            let (x, y) = (left + cell * j as f64, top + cell * i as f64);
            let what = if v.is_none() {
                "not compared".to_owned()
            } else if pearson {
                format!("Pearson's r {}", v.map_or(String::new(), |v| format!("{v:.2}")))
            } else {
                format!("Cramér's V {}", v.map_or(String::new(), |v| format!("{v:.2}")))
            };
            let tip = format!("{} × {}: {what}", correlations.columns[i], correlations.columns[j]);
            let text = v.map(|v| {
                let class = if v.abs() > 0.6 { "heat-value strong" } else { "heat-value" };
                view! { <text x=(x + cell / 2.0).to_string() y=(y + cell / 2.0 + 4.0).to_string() class=class text-anchor="middle">{format!("{v:.2}").replace("0.", ".")}</text> }
            });
            view! {
                <rect x=x.to_string() y=y.to_string() width=(cell - 1.0).to_string() height=(cell - 1.0).to_string() fill=fill fill-opacity=format!("{opacity:.3}") class="heat-cell">
                    <title>{tip}</title>
                </rect>
                {text}
            }
        })
        .collect_view();
    view! {
        <svg class="heatmap" viewBox=format!("0 0 {} {}", left + size + 10.0, top + size + 10.0) width=(left + size + 10.0).to_string() role="img" aria-label="Correlation heatmap">
            {col_labels}
            {row_labels}
            {cells}
        </svg>
    }
}

/// Text with its backtick-quoted names as `<code>` (all of it as text, never markup).
pub fn with_code(message: &str) -> impl IntoView + use<> {
    format::code_spans(message)
        .into_iter()
        .map(|(code, text)| {
            if code {
                view! { <code>{text}</code> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view()
}

/// Findings grouped by severity, each with its message, evidence and fix.
#[component]
pub fn FindingList(findings: Vec<api::Finding>) -> impl IntoView {
    format::by_severity(&findings)
        .into_iter()
        .map(|(severity, group)| {
            let heading = match severity {
                api::Severity::Critical => "Critical",
                api::Severity::Warning => "Warnings",
                api::Severity::Info => "Notes",
            };
            let items = group
                .into_iter()
                .map(|f| {
                    let class = format!("finding finding-{}", f.severity.label());
                    let columns = f
                        .columns
                        .iter()
                        .map(|c| view! { <code class="finding-column">{c.clone()}</code> })
                        .collect_view();
                    let evidence = format::evidence(&f.evidence)
                        .into_iter()
                        .map(|line| view! { <li>{line}</li> })
                        .collect_view();
                    view! {
                        <li class=class data-kind=f.kind.as_str()>
                            <div class="finding-head">
                                <span class=format!("severity severity-{}", f.severity.label())>{f.severity.label()}</span>
                                <strong class="finding-kind">{f.kind.label()}</strong>
                                {columns}
                            </div>
                            <p class="finding-message">{with_code(&f.message)}</p>
                            <ul class="finding-evidence">{evidence}</ul>
                            {f.fix.as_deref().map(|fix| view! { <p class="finding-fix"><span class="fix-label">"Suggested fix: "</span>{with_code(fix)}</p> })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <h3 class=format!("findings-heading severity-{}", severity.label())>{heading}</h3>
                <ul class="findings">{items}</ul>
            }
        })
        .collect_view()
}

/// Rows of a table as text, missing cells marked, scrolling sideways in
/// their own box.
#[component]
pub fn RowsTable(page: api::RowsPage, id: &'static str) -> impl IntoView {
    let head = page
        .columns
        .iter()
        .map(|c| view! { <th>{c.clone()}</th> })
        .collect_view();
    let rows = page
        .rows
        .into_iter()
        .map(|r| {
            view! {
                <tr>{r.into_iter().map(|cell| match cell {
                    Some(v) => view! { <td>{v}</td> }.into_any(),
                    None => view! { <td class="missing">"missing"</td> }.into_any(),
                }).collect_view()}</tr>
            }
        })
        .collect_view();
    view! {
        <div class="scroll" tabindex="0">
            <table class="data rows" id=id><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
        </div>
    }
}
