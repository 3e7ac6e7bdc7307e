//! Build: watch the search live (SSE), with a Cancel button that keeps
//! what finished; once it has ended, run it again as it was, or change its
//! settings first, or delete it (also a build whose record no longer reads
//! back).

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use send_wrapper::SendWrapper;

use crate::client;
use crate::components::{DeleteButton, Deleted, ErrorBox, Loaded, StateBadge, with_code};
use crate::format;
use crate::leaderboard::{BoardBuild, LeaderboardTable};
use crate::pages::route_id;

#[component]
pub fn BuildPage() -> impl IntoView {
    let id = route_id();
    // A first snapshot, in case the stream is slow to open.
    let snapshot = LocalResource::new(move || {
        let id = id.get();
        async move { client::build(&id).await }
    });
    let live = RwSignal::new(None::<api::Build>);
    let received = RwSignal::new(js_sys::Date::now());
    let error = RwSignal::new(None::<String>);
    let source = StoredValue::new(None::<SendWrapper<web_sys::EventSource>>);
    Effect::new(move |_| {
        let id = id.get();
        if let Some(es) = source.get_value() {
            es.close();
        }
        live.set(None);
        match client::follow_build(&id, move |b| {
            received.set(js_sys::Date::now());
            live.set(Some(b));
        }) {
            Ok(es) => source.set_value(Some(SendWrapper::new(es))),
            Err(e) => error.set(Some(e.error.message)),
        }
    });
    on_cleanup(move || {
        if let Some(es) = source.try_get_value().flatten() {
            es.close();
        }
    });
    let deleted = RwSignal::new(false);
    let delete = Callback::new(move |()| {
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match client::delete_build(&id).await {
                Ok(()) => deleted.set(true),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    });
    // A build whose stored record does not read back can still be deleted.
    let unreadable =
        move || snapshot.with(|r| matches!(r, Some(Err(e)) if e.error.code == "unreadable_record"));
    view! {
        <Show when=move || !deleted.get() fallback=|| view! { <Deleted what="build" note="Its model stays."/> }>
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
            <Loaded resource=snapshot let:first>
                <BuildView first=first live=live received=received error=error on_delete=delete/>
            </Loaded>
            {move || unreadable().then(|| view! {
                <div class="actions" id="build-actions">
                    <DeleteButton on_delete=delete label="Delete build" question="Delete this build?"/>
                </div>
            })}
        </Show>
    }
}

/// A build as it runs: the latest server event, else the first snapshot.
#[component]
fn BuildView(
    first: api::Build,
    live: RwSignal<Option<api::Build>>,
    /// When the latest event arrived (ms since the epoch).
    received: RwSignal<f64>,
    error: RwSignal<Option<String>>,
    on_delete: Callback<()>,
) -> impl IntoView {
    let build = Memo::new(move |_| {
        live.get()
            .filter(|b| b.id == first.id)
            .unwrap_or_else(|| first.clone())
    });
    // The clock ticks between server events, so the elapsed time moves.
    let now = RwSignal::new(js_sys::Date::now());
    let ticker = set_interval_with_handle(
        move || now.set(js_sys::Date::now()),
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    let elapsed = move || {
        build.with(|b| {
            if b.state.is_final() {
                b.elapsed_secs
            } else {
                (b.elapsed_secs + (now.get() - received.get()) / 1000.0)
                    .min(f64::from(b.time_budget_secs) * 1.05 + 5.0)
            }
        })
    };
    let cancelling = RwSignal::new(false);
    let navigate = use_navigate();
    let rerun = move |_| {
        let navigate = navigate.clone();
        let id = build.with_untracked(|b| b.id.clone());
        spawn_local(async move {
            match client::rerun_build(&id).await {
                Ok(b) => navigate(&format!("/builds/{}", b.id), Default::default()),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    let cancel = move |_| {
        cancelling.set(true);
        let id = build.with_untracked(|b| b.id.clone());
        spawn_local(async move {
            if let Err(e) = client::cancel_build(&id).await {
                error.set(Some(e.error.message));
            }
        });
    };

    move || {
        let b = build.get();
        let running = !b.state.is_final();
        let budget = f64::from(b.time_budget_secs.max(1));
        let task = b.task.map_or("detecting…", api::Task::label);
        let model_link = b.model_id.clone().map(|m| view! {
            <a class="button primary" id="open-model" href=format!("/models/{m}")>"Open the build's model"</a>
        });
        let dataset_href = format!("/datasets/{}", b.dataset_id);
        let trials = display::plural(u64::from(b.trials_done), "trial", "trials");
        view! {
            <div class="title-row">
                <div>
                    <h1>{format!("Predicting “{}”", b.target)}</h1>
                    <p class="muted">{task}" · "<a href=dataset_href>"dataset"</a>" · started "{format::timestamp(&b.created)}</p>
                </div>
                <div class="actions" id="build-actions">
                    {(!running).then(|| view! {
                        <DeleteButton on_delete=on_delete label="Delete build" question="Delete this build?"/>
                    })}
                    {running.then(|| view! {
                        <button id="cancel-build" class="button danger" disabled=move || cancelling.get() on:click=cancel>
                            {move || if cancelling.get() { "Cancelling…" } else { "Cancel" }}
                        </button>
                    })}
                    {(!running).then(|| {
                        let rerun = rerun.clone();
                        let change = format!("/datasets/{}/build?from={}", b.dataset_id, b.id);
                        view! {
                            <button id="rerun-build" class="button" on:click=rerun>"Run again"</button>
                            <a id="change-rerun" class="button" href=change>"Change and run again"</a>
                        }
                    })}
                    {model_link}
                </div>
            </div>
            <div class="status">
                <StateBadge state=b.state/>
                <span id="build-message">{b.message.clone()}</span>
                <span class="muted">{move || format!("{trials} · {} of {} budget", format::seconds(elapsed()), format::seconds(budget))}</span>
            </div>
            {running.then(|| view! { <progress class="budget" max="100" value=move || (elapsed() / budget * 100.0).min(100.0).round().to_string()></progress> })}
            {b.error.clone().map(|e| view! { <ErrorBox message=e/> })}
            <ProgressChart entries=b.leaderboard.clone() higher_is_better=b.higher_is_better budget=budget metric=b.metric.clone().unwrap_or_default()/>
            <h2>"Leaderboard"</h2>
            {if b.leaderboard.is_empty() {
                view! { <p class="muted">"The first results appear here as soon as a model finishes."</p> }.into_any()
            } else {
                // Once the build has ended, every row opens as a model.
                let board = b.state.is_final().then(|| BoardBuild { id: b.id.clone(), model_id: b.model_id.clone() });
                view! { <LeaderboardTable entries=b.leaderboard.clone() metric=b.metric.clone() board=board/> }.into_any()
            }}
            {b.metric.clone().map(|m| view! {
                <p class="muted small" id="ranking-note">{format!(
                    "Ranked by {m} on held-out rows, {} ({}).{}{}",
                    b.validation.clone().unwrap_or_else(|| "one holdout".into()),
                    if b.higher_is_better { "higher is better" } else { "lower is better" },
                    if b.recipe_version > 0 { format!(" Data prepared with recipe version {}.", b.recipe_version) } else { String::new() },
                    if b.excluded.is_empty() { String::new() } else { format!(" Left out: {}.", b.excluded.join(", ")) }
                )}</p>
            })}
            {(!b.left_out.is_empty()).then(|| view! {
                <div class="small" id="left-out-leaks">
                    <p>"Left out because they leak the target (to keep one, choose “Use it anyway” for it under “Change and run again”):"</p>
                    <ul>{b.left_out.iter().map(|l| view! { <li><code>{l.column.clone()}</code>": "{with_code(&l.reason)}</li> }).collect_view()}</ul>
                </div>
            })}
        }
    }
}

/// `(seconds, best score so far)` each time the best score improved.
pub fn best_over_time(
    entries: &[api::LeaderboardEntry],
    higher_is_better: bool,
) -> Vec<(f64, f64)> {
    let mut done: Vec<&api::LeaderboardEntry> =
        entries.iter().filter(|e| e.score.is_finite()).collect();
    done.sort_by(|a, b| {
        a.finished_secs
            .total_cmp(&b.finished_secs)
            .then(a.trial.cmp(&b.trial))
    });
    let mut out: Vec<(f64, f64)> = Vec::new();
    for e in done {
        let better = out.last().is_none_or(|&(_, best)| {
            if higher_is_better {
                e.score > best
            } else {
                e.score < best
            }
        });
        if better {
            out.push((e.finished_secs, e.score));
        }
    }
    out
}

/// The best validation score over the build's time, as a step line.
#[component]
fn ProgressChart(
    entries: Vec<api::LeaderboardEntry>,
    higher_is_better: bool,
    budget: f64,
    metric: String,
) -> impl IntoView {
    let points = best_over_time(&entries, higher_is_better);
    if points.len() < 2 {
        return None;
    }
    let (w, h, left, bottom) = (640.0, 180.0, 56.0, 24.0);
    let t_max = points.iter().map(|p| p.0).fold(budget, f64::max).max(1e-9);
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.1), h.max(p.1))
        });
    let span = (hi - lo).max(1e-12);
    let x = move |t: f64| left + t / t_max * (w - left - 12.0);
    let y = move |s: f64| 8.0 + (hi - s) / span * (h - bottom - 16.0);
    let mut path = String::new();
    for (i, &(t, s)) in points.iter().enumerate() {
        if i > 0 {
            // Steps: the best score holds until the next improvement.
            path.push_str(&format!("{:.1},{:.1} ", x(t), y(points[i - 1].1)));
        }
        path.push_str(&format!("{:.1},{:.1} ", x(t), y(s)));
    }
    let last = points[points.len() - 1];
    let dots = points
        .iter()
        .map(|&(t, s)| view! { <circle cx=format!("{:.1}", x(t)) cy=format!("{:.1}", y(s)) r="3" class="pc-dot"/> })
        .collect_view();
    Some(view! {
        <div class="progress-chart" id="progress-chart">
            <p class="muted small">{format!("Best {metric} so far, by time (now {}).", display::number(last.1))}</p>
            <svg viewBox=format!("0 0 {w} {h}") width="100%" role="img" aria-label="Best score over time">
                <line x1=left.to_string() x2=(w - 12.0).to_string() y1=(h - bottom).to_string() y2=(h - bottom).to_string() class="pc-axis"/>
                <text x=left.to_string() y=(h - 6.0).to_string() class="pc-label">"0 s"</text>
                <text x=(w - 12.0).to_string() y=(h - 6.0).to_string() class="pc-label" text-anchor="end">{format!("{} s", display::number(t_max))}</text>
                <text x=(left - 6.0).to_string() y=(y(hi) + 4.0).to_string() class="pc-label" text-anchor="end">{display::number(hi)}</text>
                <text x=(left - 6.0).to_string() y=(y(lo) + 4.0).to_string() class="pc-label" text-anchor="end">{display::number(lo)}</text>
                <polyline points=path class="pc-line"/>
                {dots}
            </svg>
        </div>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(trial: u32, score: f64, finished_secs: f64) -> api::LeaderboardEntry {
        api::LeaderboardEntry {
            trial,
            family: "boosted trees".into(),
            params: String::new(),
            score,
            score_std: 0.0,
            fit_secs: 0.0,
            predict_us_per_row: 0.0,
            size_bytes: 0,
            finished_secs,
        }
    }

    #[test]
    fn best_score_steps_only_when_it_improves() {
        let entries = vec![
            entry(2, 0.5, 3.0),
            entry(0, 0.9, 1.0),
            entry(1, f64::NAN, 2.0),
            entry(3, 0.4, 4.0),
            entry(4, 0.45, 5.0),
        ];
        assert_eq!(
            best_over_time(&entries, false),
            vec![(1.0, 0.9), (3.0, 0.5), (4.0, 0.4)]
        );
        assert_eq!(best_over_time(&entries, true), vec![(1.0, 0.9)]);
    }
}
