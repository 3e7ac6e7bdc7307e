//! The leaderboard: a build's candidates ranked, and once the build has
//! finished, every row a model to open. The build's winner already is
//! one; any other row is trained on request (validated on the build's
//! folds, refit on every row) and opened when it is ready. An ensemble
//! names its members by trial number, each a link to its row.

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::client;
use crate::format;

/// The finished build a board belongs to, for opening its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardBuild {
    pub id: String,
    /// The build's model (its winner, or the one chosen since).
    pub model_id: Option<String>,
}

/// How often rows being trained are checked on.
const POLL_MS: u64 = 1500;
/// Long boards show the best rows first; the rest on request.
const SHOWN: usize = 20;

/// The ranked candidates of a build.
#[component]
pub fn LeaderboardTable(
    entries: Vec<api::LeaderboardEntry>,
    metric: Option<String>,
    /// A finished build: each row can be opened as a model.
    #[prop(default = None)]
    board: Option<BoardBuild>,
    /// The row of the model shown on this page, marked.
    #[prop(default = None)]
    current: Option<u32>,
) -> impl IntoView {
    let metric = metric.unwrap_or_else(|| "score".into());
    let total = entries.len();
    let show_all = RwSignal::new(false);
    let models = RwSignal::new(Vec::<api::TrialModel>::new());
    // The row whose model was asked for: opened as soon as it is ready.
    let awaiting = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<String>);
    let chosen = board.as_ref().and_then(|b| b.model_id.clone());
    if let Some(b) = &board {
        let id = b.id.clone();
        let fetch = move || {
            let id = id.clone();
            spawn_local(async move {
                if let Ok(list) = client::build_models(&id).await {
                    models.set(list);
                }
            });
        };
        fetch();
        let pending = move || {
            models.with(|ms| {
                ms.iter().any(|m| {
                    matches!(
                        m.state,
                        api::TrialModelState::Queued | api::TrialModelState::Training
                    )
                })
            })
        };
        let ticker = set_interval_with_handle(
            move || {
                if pending() {
                    fetch();
                }
            },
            std::time::Duration::from_millis(POLL_MS),
        )
        .ok();
        on_cleanup(move || {
            if let Some(t) = ticker {
                t.clear();
            }
        });
        let navigate = use_navigate();
        Effect::new(move || {
            let Some(trial) = awaiting.get() else { return };
            let ready = models.with(|ms| {
                ms.iter()
                    .find(|m| m.trial == trial && m.state == api::TrialModelState::Ready)
                    .and_then(|m| m.model_id.clone())
            });
            if let Some(model) = ready {
                awaiting.set(None);
                navigate(&format!("/models/{model}"), Default::default());
            }
        });
    }
    let build_id = StoredValue::new(board.map(|b| b.id));
    let chosen = StoredValue::new(chosen);
    let rows = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let trial = e.trial;
            let hidden = move || i >= SHOWN && !show_all.get();
            // The build's model's row (the first, until the models are known).
            let marked = move || match current {
                Some(t) => t == trial,
                None => match chosen.get_value() {
                    Some(c) if !models.with(Vec::is_empty) => models.with(|ms| {
                        ms.iter()
                            .any(|m| m.trial == trial && m.model_id.as_deref() == Some(&c))
                    }),
                    _ => i == 0,
                },
            };
            let open = build_id
                .get_value()
                .map(|id| view! { <td class="row-action"><RowAction build_id=id trial=trial models=models awaiting=awaiting error=error chosen=chosen.get_value()/></td> });
            view! {
                <tr id=format!("trial-{trial}") class:best=marked class:hidden=hidden>
                    <td class="num">{i + 1}</td>
                    <td>{e.family}<span class="muted small trial-no">{format!(" · trial {trial}")}</span></td>
                    <td class="num">{format::score(e.score, e.score_std)}</td>
                    <td class="num">{format::seconds(e.fit_secs)}</td>
                    <td class="num">{format!("{} µs", display::number(e.predict_us_per_row))}</td>
                    <td class="num">{format::bytes(e.size_bytes)}</td>
                    <td class="params">{params_view(&e.params, show_all)}</td>
                    {open}
                </tr>
            }
        })
        .collect_view();
    let action_header = build_id
        .get_value()
        .is_some()
        .then(|| view! { <th>"Model"</th> });
    view! {
        {move || error.get().map(|e| view! { <div class="error" role="alert" id="row-error">{e}</div> })}
        <div class="scroll" tabindex="0">
        <table class="leaderboard">
            <thead>
                <tr>
                    <th>"#"</th>
                    <th>"Candidate"</th>
                    <th title="The mean of the per-fold scores ± their standard deviation (with one holdout, its score)">{format!("Validation {metric}")}</th>
                    <th>"Fit time"</th>
                    <th>"Predict / row"</th>
                    <th>"Size"</th>
                    <th>"Hyperparameters"</th>
                    {action_header}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
        {(total > SHOWN).then(|| view! {
            <button class="button small" id="show-all-trials" on:click=move |_| show_all.update(|v| *v = !*v)>
                {move || if show_all.get() { "Show the best 20".to_owned() } else { format!("Show all {total} candidates") }}
            </button>
        })}
    }
}

/// A row's way to its model: open it, or train it first.
#[component]
fn RowAction(
    build_id: String,
    trial: u32,
    models: RwSignal<Vec<api::TrialModel>>,
    awaiting: RwSignal<Option<u32>>,
    error: RwSignal<Option<String>>,
    chosen: Option<String>,
) -> impl IntoView {
    let navigate = use_navigate();
    let train = move |_| {
        error.set(None);
        let id = build_id.clone();
        let navigate = navigate.clone();
        spawn_local(async move {
            match client::train_trial(&id, trial).await {
                Ok(m) if m.state == api::TrialModelState::Ready => {
                    if let Some(model) = m.model_id {
                        navigate(&format!("/models/{model}"), Default::default());
                    }
                }
                Ok(m) => {
                    models.update(|ms| {
                        ms.retain(|x| x.trial != trial);
                        ms.push(m);
                    });
                    awaiting.set(Some(trial));
                }
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    move || {
        let state = models.with(|ms| ms.iter().find(|m| m.trial == trial).cloned());
        match state {
            Some(api::TrialModel {
                state: api::TrialModelState::Ready,
                model_id: Some(id),
                ..
            }) => {
                let label = if chosen.as_deref() == Some(&id) {
                    "Open (the build's model)"
                } else {
                    "Open"
                };
                view! { <a class="button small open-row" href=format!("/models/{id}")>{label}</a> }
                    .into_any()
            }
            Some(api::TrialModel {
                state: api::TrialModelState::Queued | api::TrialModelState::Training,
                ..
            }) => view! { <span class="muted small training-row" role="status">"Training…"</span> }
                .into_any(),
            Some(api::TrialModel { error: why, .. }) => {
                let train = train.clone();
                view! {
                    <span class="small failed-row">{format!("Failed: {}", why.unwrap_or_default())}</span>
                    " "
                    <button class="button small open-row" on:click=train>"Try again"</button>
                }
                .into_any()
            }
            None => {
                let train = train.clone();
                view! {
                    <button class="button small open-row" on:click=train
                        title="Trains this candidate again: validated on the build's folds, refit on every row, then opened">
                        "Open"
                    </button>
                }
                .into_any()
            }
        }
    }
}

/// Hyperparameters, with an ensemble's "trial N" members as links to
/// their rows (shown first when beyond the best 20).
fn params_view(params: &str, show_all: RwSignal<bool>) -> impl IntoView + use<> {
    let mut parts = Vec::new();
    let mut rest = params;
    while let Some(at) = rest.find("trial ") {
        let digits: String = rest[at + 6..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            parts.push(rest[..at + 6].to_owned().into_any());
            rest = &rest[at + 6..];
            continue;
        }
        parts.push(rest[..at].to_owned().into_any());
        let href = format!("#trial-{digits}");
        parts.push(
            view! { <a class="member-link" href=href on:click=move |_| show_all.set(true)>{format!("trial {digits}")}</a> }
                .into_any(),
        );
        rest = &rest[at + 6 + digits.len()..];
    }
    parts.push(rest.to_owned().into_any());
    parts
}
