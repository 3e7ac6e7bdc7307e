//! Deployments: the endpoints that serve models (their variants and
//! traffic shares, shadow, requests, errors, latency and captured rows,
//! refreshed every few seconds), a form that deploys a model (opened from
//! a model's page with `?model=`), and per endpoint a swap to another
//! model, the capture download, delete and its latest check. Each endpoint
//! has its Monitor page (`/deployments/:name`): the same card, the bias to
//! watch, and its monitoring runs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::client;
use crate::components::{DeleteButton, ErrorBox, Loaded, SkippedNotice, delete_action};
use crate::format;

/// A model that can be deployed: a finished build's model, as `(id, label)`.
fn model_choices(builds: &[api::Build]) -> Vec<(String, String)> {
    builds
        .iter()
        .filter(|b| b.state == api::BuildState::Succeeded)
        .filter_map(|b| {
            let id = b.model_id.clone()?;
            let label = format!(
                "{} · {} · model {}",
                b.target,
                format::timestamp(&b.created),
                &id[..id.len().min(8)]
            );
            Some((id, label))
        })
        .collect()
}

fn percent(share: f64) -> String {
    format!("{}%", (share * 1000.0).round() / 10.0)
}

/// `name` as an endpoint name: letters, digits, `-` and `_` kept, the rest `-`.
fn endpoint_name(target: &str) -> String {
    let s: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.chars().take(64).collect()
}

/// The request that makes `e` as it is (to change one thing and `PUT` it).
fn request_of(e: &api::Endpoint) -> api::EndpointRequest {
    api::EndpointRequest {
        name: String::new(),
        variants: e
            .variants
            .iter()
            .map(|v| api::VariantRequest {
                name: Some(v.name.clone()),
                model_id: v.model_id.clone(),
                weight: v.weight,
            })
            .collect(),
        shadow: e.shadow.as_ref().map(|s| s.model_id.clone()),
        capture: Some(e.capture),
        monitor_every_minutes: e.monitor_every_minutes,
        bias: e.bias.clone(),
    }
}

/// Puts `req` in place of endpoint `name`: `on_changed` when done, the
/// refusal in `error` when not.
fn update(
    name: String,
    req: api::EndpointRequest,
    error: RwSignal<Option<String>>,
    on_changed: Callback<()>,
) {
    spawn_local(async move {
        match client::update_endpoint(&name, &req).await {
            Ok(_) => {
                error.set(None);
                on_changed.run(());
            }
            Err(e) => error.set(Some(e.error.message)),
        }
    });
}

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    // The endpoints as last read; read again every 3 s. A card is made
    // again only when its record changes (`updated`), so what is typed or
    // open in it stays; its traffic line follows each read.
    let listed = RwSignal::new(None::<client::ClientResult<client::Listed<api::Endpoint>>>);
    let load = move || {
        spawn_local(async move {
            let read = client::endpoints().await;
            listed.set(Some(read));
        })
    };
    load();
    let builds = LocalResource::new(client::builds);
    let error = RwSignal::new(None::<String>);
    let delete = delete_action(
        |name: String| async move { client::delete_endpoint(&name).await },
        error,
        load,
    );
    let ticker = set_interval_with_handle(load, std::time::Duration::from_secs(3)).ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    let on_changed = Callback::new(move |()| load());
    let items = move || {
        listed.with(|l| match l {
            Some(Ok(l)) => l.items.clone(),
            _ => Vec::new(),
        })
    };
    let state = move || {
        match listed.get() {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBox message=e.error.message/> }.into_any(),
        Some(Ok(l)) if l.items.is_empty() && l.skipped.is_empty() => view! {
            <p class="muted" id="no-endpoints">"No endpoints yet: deploy a model above, or from its page."</p>
        }
        .into_any(),
        Some(Ok(l)) => view! {
            <SkippedNotice kind=("endpoint", "endpoints") ids=l.skipped.clone() on_delete=delete/>
        }
        .into_any(),
    }
    };
    view! {
        <h1>"Deployments"</h1>
        <p class="muted">"An endpoint serves models from a stable address. Post rows to it as JSON ("<code>"{\"rows\": [{…}]}"</code>") or as a CSV body; each answer names the variant that gave it, and each row gets an inference id. Several variants split the traffic by their shares (A/B); a shadow scores the same rows without answering. Requests and answers are captured for monitoring."</p>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        <Loaded resource=builds let:list>
            <DeployForm choices=model_choices(&list.items) on_done=on_changed/>
        </Loaded>
        <h2>"Endpoints"</h2>
        {state}
        <For each=items key=|e| (e.name.clone(), e.updated.clone()) let:e>
            {
                let choices = builds.with(|b| match b {
                    Some(Ok(l)) => model_choices(&l.items),
                    _ => Vec::new(),
                });
                let name = e.name.clone();
                let now = Signal::derive(move || {
                    listed.with(|l| match l {
                        Some(Ok(l)) => l.items.iter().find(|x| x.name == name).cloned(),
                        _ => None,
                    })
                });
                view! { <EndpointCard endpoint=e now=now choices=choices on_delete=delete on_changed=on_changed detail=false/> }
            }
        </For>
    }
}

/// The form that deploys a model: a name, the model, an optional second
/// variant with its share, an optional shadow, and the capture settings.
#[component]
fn DeployForm(choices: Vec<(String, String)>, on_done: Callback<()>) -> impl IntoView {
    let query = use_query_map();
    let wanted = query.with_untracked(|q| q.get("model")).unwrap_or_default();
    let first = if choices.iter().any(|(id, _)| *id == wanted) {
        wanted
    } else {
        choices
            .first()
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    };
    let target = choices
        .iter()
        .find(|(id, _)| *id == first)
        .and_then(|(_, label)| label.split(" · ").next())
        .map(endpoint_name)
        .unwrap_or_default();
    let name = RwSignal::new(target);
    let model = RwSignal::new(first);
    let second = RwSignal::new(String::new());
    let second_share = RwSignal::new("10".to_owned());
    let shadow = RwSignal::new(String::new());
    let capture_share = RwSignal::new("100".to_owned());
    let capture_rows = RwSignal::new("100000".to_owned());
    let every = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let options = move |with_none: &'static str| {
        let none = (!with_none.is_empty()).then(|| view! { <option value="">{with_none}</option> });
        let list = choices
            .clone()
            .into_iter()
            .map(|(id, label)| view! { <option value=id>{label}</option> })
            .collect_view();
        view! { {none} {list} }
    };
    let (main_options, second_options, shadow_options) =
        (options(""), options("None"), options("None"));
    let deploy = move |_| {
        let parse = |s: String| s.trim().trim_end_matches('%').parse::<f64>().ok();
        let Some(share) = parse(second_share.get_untracked()).filter(|s| (0.0..100.0).contains(s))
        else {
            error.set(Some(
                "The second variant's share is a percentage from 0 to 100.".into(),
            ));
            return;
        };
        let Some(captured) =
            parse(capture_share.get_untracked()).filter(|s| (0.0..=100.0).contains(s))
        else {
            error.set(Some(
                "The captured share is a percentage from 0 to 100.".into(),
            ));
            return;
        };
        let Ok(max_rows) = capture_rows.get_untracked().trim().parse::<u64>() else {
            error.set(Some("The rows kept is a whole number.".into()));
            return;
        };
        let every = every.get_untracked();
        let monitor_every_minutes = if every.trim().is_empty() {
            None
        } else {
            let Ok(m) = every.trim().parse::<u32>() else {
                error.set(Some(
                    "Check every so many minutes: a whole number, or empty for on demand.".into(),
                ));
                return;
            };
            Some(m)
        };
        let mut variants = vec![api::VariantRequest {
            name: None,
            model_id: model.get_untracked(),
            weight: 100.0
                - if second.get_untracked().is_empty() {
                    0.0
                } else {
                    share
                },
        }];
        if !second.get_untracked().is_empty() {
            variants.push(api::VariantRequest {
                name: None,
                model_id: second.get_untracked(),
                weight: share,
            });
        }
        let req = api::EndpointRequest {
            name: name.get_untracked().trim().to_owned(),
            variants,
            shadow: Some(shadow.get_untracked()).filter(|s| !s.is_empty()),
            capture: Some(api::CaptureSettings {
                share: captured / 100.0,
                max_rows,
            }),
            monitor_every_minutes,
            bias: None,
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match client::create_endpoint(&req).await {
                Ok(_) => on_done.run(()),
                Err(e) => error.set(Some(e.error.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <section id="deploy">
            <h2>"Deploy a model"</h2>
            <div class="form">
                <label for="endpoint-name">"Endpoint name"</label>
                <input id="endpoint-name" type="text" placeholder="churn" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <label for="endpoint-model">"Model"</label>
                <select id="endpoint-model" prop:value=move || model.get() on:change=move |ev| model.set(event_target_value(&ev))>{main_options}</select>
                <label for="endpoint-second">"Second variant (A/B)"</label>
                <select id="endpoint-second" prop:value=move || second.get() on:change=move |ev| second.set(event_target_value(&ev))>{second_options}</select>
                <label for="endpoint-second-share">"Its share of the traffic (%)"</label>
                <input id="endpoint-second-share" type="number" min="0" max="100" prop:value=move || second_share.get() on:input=move |ev| second_share.set(event_target_value(&ev))/>
                <label for="endpoint-shadow">"Shadow"</label>
                <div>
                    <select id="endpoint-shadow" prop:value=move || shadow.get() on:change=move |ev| shadow.set(event_target_value(&ev))>{shadow_options}</select>
                    <p class="muted small">"Scores every request too, without answering it: its answers are only captured, to compare before a swap."</p>
                </div>
                <label for="endpoint-capture">"Capture (% of requests)"</label>
                <input id="endpoint-capture" type="number" min="0" max="100" prop:value=move || capture_share.get() on:input=move |ev| capture_share.set(event_target_value(&ev))/>
                <label for="endpoint-capture-rows">"Rows kept"</label>
                <input id="endpoint-capture-rows" type="number" min="1" prop:value=move || capture_rows.get() on:input=move |ev| capture_rows.set(event_target_value(&ev))/>
                <label for="endpoint-every">"Check every (minutes)"</label>
                <div>
                    <input id="endpoint-every" type="number" min="1" max="10080" placeholder="on demand" prop:value=move || every.get() on:input=move |ev| every.set(event_target_value(&ev))/>
                    <p class="muted small">"Checks the traffic captured since the last scheduled check against the training baseline."</p>
                </div>
                <div></div>
                <button id="deploy-button" class="button primary" disabled=move || busy.get() || model.get().is_empty() || name.get().trim().is_empty() on:click=deploy>
                    {move || if busy.get() { "Deploying…" } else { "Deploy" }}
                </button>
            </div>
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        </section>
    }
}

/// One endpoint: its address, variants, traffic, and what can be done with it.
#[component]
fn EndpointCard(
    endpoint: api::Endpoint,
    /// The endpoint as last read (its traffic moves; the rest is `endpoint`).
    now: Signal<Option<api::Endpoint>>,
    choices: Vec<(String, String)>,
    on_delete: Callback<String>,
    on_changed: Callback<()>,
    /// On its Monitor page: the bias form and the monitoring runs (in the
    /// list: the latest check and a link to the page).
    detail: bool,
) -> impl IntoView {
    let e = endpoint;
    let name = e.name.clone();
    let url = client::invocations_url(&name);
    let curl = format!(
        "curl -X POST {url} -H 'Content-Type: application/json' -d '{{\"rows\": [{{…}}]}}'"
    );
    // The latest traffic, or the record's when it is no longer listed.
    let current = {
        let e = e.clone();
        move || now.get().unwrap_or_else(|| e.clone())
    };
    let answered = {
        let current = current.clone();
        move |v: String| {
            let current = current.clone();
            move || {
                current()
                    .traffic
                    .by_variant
                    .iter()
                    .find(|(n, _)| *n == v)
                    .map_or(0, |(_, c)| *c)
            }
        }
    };
    let variants = e
        .variants
        .iter()
        .map(|v| {
            let href = format!("/models/{}", v.model_id);
            view! {
                <tr>
                    <td>{v.name.clone()}</td>
                    <td><a href=href>{format!("model {}", &v.model_id[..v.model_id.len().min(8)])}</a></td>
                    <td class="num">{percent(v.weight)}</td>
                    <td class="num">{answered(v.name.clone())}</td>
                </tr>
            }
        })
        .collect_view();
    let shadow = e.shadow.as_ref().map(|s| {
        let href = format!("/models/{}", s.model_id);
        view! { <tr><td>"shadow"</td><td><a href=href>{format!("model {}", &s.model_id[..s.model_id.len().min(8)])}</a></td><td class="num">"0% (captured only)"</td><td class="num">"–"</td></tr> }
    });
    let ms = |v: Option<f64>| v.map_or("–".to_owned(), |x| format!("{x:.1} ms"));
    let traffic = move || {
        let e = current();
        format!(
            "{} requests · {} rows · {} errors · p50 {} · p99 {} · {} rows captured ({} of requests, at most {}) · {}",
            e.traffic.requests,
            e.traffic.rows,
            e.traffic.errors,
            ms(e.traffic.p50_ms),
            ms(e.traffic.p99_ms),
            e.captured_rows,
            percent(e.capture.share),
            e.capture.max_rows,
            e.monitor_every_minutes.map_or_else(
                || "checked on demand".to_owned(),
                |m| format!(
                    "checked every {}",
                    api::display::plural(u64::from(m), "minute", "minutes")
                )
            )
        )
    };
    let swap_to = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let swap_name = name.clone();
    let current = request_of(&e);
    let swap = move |_| {
        let target = swap_to.get_untracked();
        if target.is_empty() {
            return;
        }
        // A swapped model may not have the watched facet: it is dropped.
        let req = api::EndpointRequest {
            variants: vec![api::VariantRequest {
                name: None,
                model_id: target,
                weight: 1.0,
            }],
            bias: None,
            ..current.clone()
        };
        update(swap_name.clone(), req, error, on_changed);
    };
    let swap_options = choices
        .into_iter()
        .map(|(id, label)| view! { <option value=id>{label}</option> })
        .collect_view();
    let delete_name = name.clone();
    view! {
        <section class="card endpoint" id=format!("endpoint-{name}")>
            <div class="title-row">
                <h3>{name.clone()}</h3>
                <div class="actions">
                    <a class="button" href=client::capture_url(&name) download=format!("kiln-capture-{name}.csv")>"Download capture (CSV)"</a>
                    <DeleteButton on_delete=Callback::new(move |()| on_delete.run(delete_name.clone())) label="Delete endpoint" question="Delete this endpoint and its captures?"/>
                </div>
            </div>
            <p class="muted small"><code>{format!("POST {url}")}</code></p>
            <p class="muted small endpoint-traffic">{traffic}</p>
            <div class="scroll" tabindex="0">
                <table class="data">
                    <thead><tr><th>"Variant"</th><th>"Model"</th><th>"Share"</th><th>"Answered"</th></tr></thead>
                    <tbody>{variants}{shadow}</tbody>
                </table>
            </div>
            <div class="inline-form">
                <label for=format!("swap-{name}")>"Point it at"</label>
                <select id=format!("swap-{name}") on:change=move |ev| swap_to.set(event_target_value(&ev))>
                    <option value="">"Choose a model…"</option>
                    {swap_options}
                </select>
                <button class="button" on:click=swap>"Swap"</button>
            </div>
            <details class="hint"><summary>"Call it from a shell"</summary><pre class="code" tabindex="0">{curl}</pre></details>
            {if detail {
                view! {
                    <BiasWatchForm endpoint=e.clone() on_changed=on_changed/>
                    <Monitor name=name.clone()/>
                }
                .into_any()
            } else {
                view! { <LatestCheck name=name.clone()/> }.into_any()
            }}
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        </section>
    }
}

/// The latest monitoring run in a line, and the way to the Monitor page.
#[component]
fn LatestCheck(name: String) -> impl IntoView {
    let runs = LocalResource::new({
        let name = name.clone();
        move || {
            let name = name.clone();
            async move { client::monitor_runs(&name).await }
        }
    });
    let href = format!("/deployments/{name}");
    view! {
        <div class="inline-form latest-check">
            <Loaded resource=runs quiet=true let:list>
                {match list.first() {
                    None => view! { <p class="muted small">"Not checked yet."</p> }.into_any(),
                    Some(r) => {
                        let text = format!(
                            "Latest check: {} · {} rows · {}",
                            format::timestamp(&r.created),
                            r.rows,
                            if r.violations.is_empty() {
                                "no violations".to_owned()
                            } else {
                                api::display::plural(r.violations.len() as u64, "violation", "violations")
                            }
                        );
                        let class = if r.violations.is_empty() { "small" } else { "small violated" };
                        view! { <p class=class>{text}</p> }.into_any()
                    }
                }}
            </Loaded>
            <a class="button monitor-link" href=href>"Monitor"</a>
        </div>
    }
}

/// An endpoint's Monitor page: its card, the bias to watch, and its
/// monitoring runs, with the timeline and the drift charts.
#[component]
pub fn EndpointPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let read = RwSignal::new(None::<client::ClientResult<api::Endpoint>>);
    let load = move || {
        let n = name.get_untracked();
        spawn_local(async move {
            let r = client::endpoint(&n).await;
            read.set(Some(r));
        })
    };
    Effect::new(move |_| {
        name.track();
        load();
    });
    let ticker = set_interval_with_handle(load, std::time::Duration::from_secs(3)).ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    let builds = LocalResource::new(client::builds);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let on_delete = Callback::new(move |n: String| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match client::delete_endpoint(&n).await {
                Ok(()) => navigate("/deployments", Default::default()),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    });
    let now =
        Signal::derive(move || read.with(|r| r.as_ref().and_then(|r| r.as_ref().ok().cloned())));
    // The card is made again only when the record changes.
    let record = Memo::new(move |_| {
        read.with(|r| match r {
            Some(Ok(e)) => Some((e.name.clone(), e.updated.clone())),
            _ => None,
        })
    });
    let card = move || {
        record.get()?;
        let e = now.get_untracked()?;
        let choices = builds.with(|b| match b {
            Some(Ok(l)) => model_choices(&l.items),
            _ => Vec::new(),
        });
        Some(
            view! { <EndpointCard endpoint=e now=now choices=choices on_delete=on_delete on_changed=Callback::new(move |()| load()) detail=true/> },
        )
    };
    view! {
        <p><a href="/deployments">"← All deployments"</a></p>
        <h1>{move || format!("Endpoint {}", name.get())}</h1>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        {move || match read.with(|r| r.as_ref().map(|r| r.as_ref().err().map(|e| e.error.message.clone()))) {
            None => Some(view! { <p class="muted">"Loading…"</p> }.into_any()),
            Some(Some(message)) => Some(view! { <ErrorBox message=message/> }.into_any()),
            Some(None) => None,
        }}
        {card}
    }
}

/// The facet whose bias each monitoring run compares with training: a
/// column of the production model, its value (or a threshold for numbers),
/// and the favourable class (or a threshold for a number target).
#[component]
fn BiasWatchForm(endpoint: api::Endpoint, on_changed: Callback<()>) -> impl IntoView {
    let e = endpoint;
    let model_id = e
        .variants
        .first()
        .map(|v| v.model_id.clone())
        .unwrap_or_default();
    let model = LocalResource::new(move || {
        let id = model_id.clone();
        async move { client::model(&id).await }
    });
    let watching = e.bias.as_ref().map(|b| {
        let facet = match b.above {
            Some(t) => format!("`{}` > {}", b.facet, api::display::number(t)),
            None => format!("`{}` is {}", b.facet, b.values.join(" or ")),
        };
        let favourable = match b.favourable_above {
            Some(t) => format!("the prediction > {}", api::display::number(t)),
            None => format!("the prediction is {}", b.favourable.join(" or ")),
        };
        format!("Watching bias: {facet} against the other rows, favourable when {favourable}.")
    });
    let facet = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let favourable = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let (name, current) = (e.name.clone(), request_of(&e));
    let send = move |bias: Option<api::BiasWatch>| {
        let req = api::EndpointRequest {
            bias,
            ..current.clone()
        };
        update(name.clone(), req, error, on_changed);
    };
    let stop = {
        let send = send.clone();
        move |_| send(None)
    };
    let slug = e.name.clone();
    let (facet_id, value_id, fav_id) = (
        format!("bias-facet-{slug}"),
        format!("bias-value-{slug}"),
        format!("bias-favourable-{slug}"),
    );
    view! {
        <div class="bias-watch">
            <h4>"Bias to watch"</h4>
            {match watching {
                Some(w) => view! {
                    <p class="small">{w}" "<button class="link" on:click=stop>"Stop watching"</button></p>
                }.into_any(),
                None => view! { <p class="muted small">"Each check can compare Clarify's bias metrics of one facet on the live rows with those of the training rows: the predicted favourable rates (DPPL, DI), and once ground truth arrives the acceptance, rejection, recall, specificity and accuracy differences."</p> }.into_any(),
            }}
            <Loaded resource=model let:m>
                {
                    let features = m.features.clone();
                    let classes = m.classes.clone();
                    let regression = classes.is_empty();
                    let feature_options = features
                        .iter()
                        .map(|f| view! { <option value=f.name.clone()>{f.name.clone()}</option> })
                        .collect_view();
                    let kinds = features.clone();
                    let categories = move || {
                        kinds
                            .iter()
                            .find(|f| f.name == facet.get())
                            .filter(|f| f.kind == api::FeatureKind::Categorical)
                            .map(|f| f.categories.clone())
                    };
                    let value_field = {
                        let categories = categories.clone();
                        let value_id = value_id.clone();
                        move || match categories() {
                            Some(cats) => view! {
                                <select id=value_id.clone() on:change=move |ev| value.set(event_target_value(&ev))>
                                    <option value="">"Choose a value…"</option>
                                    {cats.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                                </select>
                            }.into_any(),
                            None => view! {
                                <input id=value_id.clone() type="number" step="any" placeholder="above this number" on:input=move |ev| value.set(event_target_value(&ev))/>
                            }.into_any(),
                        }
                    };
                    let favourable_field = if regression {
                        view! { <input id=fav_id.clone() type="number" step="any" placeholder="above this number" on:input=move |ev| favourable.set(event_target_value(&ev))/> }.into_any()
                    } else {
                        view! {
                            <select id=fav_id.clone() on:change=move |ev| favourable.set(event_target_value(&ev))>
                                <option value="">"Choose a class…"</option>
                                {classes.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                            </select>
                        }.into_any()
                    };
                    let send = send.clone();
                    let (label_cats, watch_cats) = (categories.clone(), categories.clone());
                    let watch = move |_| {
                        let (f, v, fav) = (facet.get_untracked(), value.get_untracked(), favourable.get_untracked());
                        if f.is_empty() || v.trim().is_empty() || fav.trim().is_empty() {
                            error.set(Some("Choose the facet column, its value and the favourable outcome.".into()));
                            return;
                        }
                        let number = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
                        let mut w = api::BiasWatch { facet: f, ..Default::default() };
                        if watch_cats().is_some() {
                            w.values = vec![v];
                        } else {
                            let Some(t) = number(&v) else {
                                error.set(Some(format!("“{v}” is not a number: the facet is the rows above it.")));
                                return;
                            };
                            w.above = Some(t);
                        }
                        if regression {
                            let Some(t) = number(&fav) else {
                                error.set(Some(format!("“{fav}” is not a number: the outcome is favourable above it.")));
                                return;
                            };
                            w.favourable_above = Some(t);
                        } else {
                            w.favourable = vec![fav];
                        }
                        send(Some(w));
                    };
                    view! {
                        <div class="inline-form">
                            <label for=facet_id.clone()>"Facet"</label>
                            <select id=facet_id.clone() on:change=move |ev| { facet.set(event_target_value(&ev)); value.set(String::new()); }>
                                <option value="">"Choose a column…"</option>
                                {feature_options}
                            </select>
                            <label for=value_id.clone()>{move || if label_cats().is_some() { "is" } else { "above" }}</label>
                            {value_field}
                            <label for=fav_id.clone()>"Favourable"</label>
                            {favourable_field}
                            <button class="button watch-bias" on:click=watch>"Watch bias"</button>
                        </div>
                    }
                }
            </Loaded>
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        </div>
    }
}

/// A number from a report, for a table cell.
fn cell(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(x) if x != 0.0 && x.abs() < 1e-3 => format!("{x:.1e}"),
        Some(x) => format!("{x:.3}"),
        None => "–".to_owned(),
    }
}

/// An endpoint's monitoring: check its captured traffic or a batch, upload
/// ground truth, and the latest run's violations and drift per feature.
#[component]
fn Monitor(name: String) -> impl IntoView {
    let runs = LocalResource::new({
        let name = name.clone();
        move || {
            let name = name.clone();
            async move { client::monitor_runs(&name).await }
        }
    });
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run_now = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                if let Err(e) = client::run_monitor(&name).await {
                    error.set(Some(e.error.message));
                }
                busy.set(false);
                runs.refetch();
            });
        }
    };
    let on_batch = {
        let name = name.clone();
        move |ev: leptos::ev::Event| {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            error.set(None);
            busy.set(true);
            let started = client::monitor_batch(
                &name,
                file,
                |_| {},
                move |res| {
                    busy.set(false);
                    match res {
                        Ok(_) => runs.refetch(),
                        Err(e) => error.set(Some(e.error.message)),
                    }
                },
            );
            if let Err(e) = started {
                busy.set(false);
                error.set(Some(e.error.message));
            }
            input.set_value("");
        }
    };
    let on_truth = {
        let name = name.clone();
        move |ev: leptos::ev::Event| {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            error.set(None);
            let started = client::ground_truth(
                &name,
                file,
                |_| {},
                move |res: Result<api::GroundTruthReceipt, client::ApiError>| {
                    match res {
                Ok(r) => note.set(Some(if r.unknown == 0 {
                    format!("{} labels joined to captured rows; the next check compares the model's quality.", r.matched)
                } else {
                    format!(
                        "{} labels joined to captured rows; {} inference ids are not in the capture (for example {}), and were not kept.",
                        r.matched,
                        r.unknown,
                        r.unknown_examples.join(", ")
                    )
                })),
                Err(e) => error.set(Some(e.error.message)),
            }
                },
            );
            if let Err(e) = started {
                error.set(Some(e.error.message));
            }
            input.set_value("");
        }
    };
    let (batch_id, truth_id) = (format!("batch-{name}"), format!("truth-{name}"));
    let run_name = name.clone();
    view! {
        <div class="monitor" id=format!("monitor-{name}")>
            <h4>"Monitoring"</h4>
            <p class="muted small">"Checks the captured traffic (or a batch) against the training baseline of the model the first variant serves: data quality, drift per feature and of the predictions, the model's quality once ground truth arrives, the estimated accuracy from its confidence before it does, and the ranking of SHAP attributions."</p>
            <div class="inline-form">
                <button class="button monitor-now" disabled=move || busy.get() on:click=run_now>"Check captured traffic"</button>
                <label class="button" for=batch_id.clone()>"Check a batch…"</label>
                <input id=batch_id type="file" accept=".csv,.tsv,.txt,.parquet,.xlsx,text/csv" class="visually-hidden" on:change=on_batch/>
                <label class="button" for=truth_id.clone()>"Upload ground truth…"</label>
                <input id=truth_id type="file" accept=".csv,.tsv,.txt,.parquet,.xlsx,text/csv" class="visually-hidden" on:change=on_truth/>
            </div>
            {move || note.get().map(|n| view! { <p class="muted small">{n}</p> })}
            {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
            <Loaded resource=runs let:list>
                {match list.first() {
                    None => view! { <p class="muted small">"Not checked yet."</p> }.into_any(),
                    Some(run) => view! { <RunView name=run_name.clone() run=run.clone() earlier=list[1..].to_vec()/> }.into_any(),
                }}
            </Loaded>
        </div>
    }
}

/// The latest run: its violations and drift table; then earlier runs in brief.
#[component]
fn RunView(name: String, run: api::MonitorRun, earlier: Vec<api::MonitorRun>) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    let chart = {
        let (name, run_id) = (name.clone(), run.id.clone());
        move || {
            shown.get().map(|f| {
                let src = client::drift_chart_url(&name, &run_id, &f);
                view! { <img class="chart drift-chart" src=src alt=format!("{f}: live distribution against training")/> }
            })
        }
    };
    let timeline = client::monitor_timeline_url(&name);
    let timeline_alt = format!("{name}: each check of each run, violated or passed");
    let head = format!(
        "{} · {} rows · {} · {}",
        format::timestamp(&run.created),
        run.rows,
        run.source,
        if run.violations.is_empty() {
            "no violations".to_owned()
        } else {
            api::display::plural(run.violations.len() as u64, "violation", "violations")
        }
    );
    let violations = run
        .violations
        .iter()
        .map(|v| view! { <li>{v.clone()}</li> })
        .collect_view();
    let drift = run.report["drift"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .chain(
            run.report
                .get("prediction")
                .filter(|p| !p.is_null())
                .cloned(),
        )
        .map(|d| {
            let drifted = d["drifted"].as_bool().unwrap_or(false);
            let feature = d["feature"].as_str().unwrap_or_default().to_owned();
            let pick = feature.clone();
            view! {
                <tr class=if drifted { "drifted" } else { "" }>
                    <td><button class="link drift-feature" on:click=move |_| shown.set(Some(pick.clone()))>{feature}</button></td>
                    <td>{d["test"].as_str().unwrap_or_default().to_owned()}</td>
                    <td class="num">{cell(&d["statistic"])}</td>
                    <td class="num">{cell(&d["p_value"])}</td>
                    <td class="num">{cell(&d["psi"])}</td>
                    <td class="num">{cell(&d["distance"])}</td>
                    <td>{if drifted { "drifted" } else { "" }}</td>
                </tr>
            }
        })
        .collect_view();
    let bias = run.report.get("bias").filter(|b| !b.is_null()).map(|b| {
        let rows = b["metrics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let drifted = m["drifted"].as_bool().unwrap_or(false);
                view! {
                    <tr class=if drifted { "drifted" } else { "" }>
                        <td>{m["code"].as_str().unwrap_or_default().to_owned()}</td>
                        <td class="num">{cell(&m["training"])}</td>
                        <td class="num">{cell(&m["live"])}</td>
                        <td class="num">{cell(&m["standard_error"])}</td>
                        <td>{if drifted { "drifted".to_owned() } else { m["note"].as_str().unwrap_or_default().to_owned() }}</td>
                    </tr>
                }
            })
            .collect_view();
        let head = format!(
            "Bias: {} · {} live rows in the facet, {} outside{}",
            b["facet"].as_str().unwrap_or_default(),
            b["facet_rows"].as_u64().unwrap_or(0),
            b["other_rows"].as_u64().unwrap_or(0),
            if b["with_truth"].as_bool().unwrap_or(false) {
                " · with ground truth"
            } else {
                " · predictions only, until ground truth arrives"
            }
        );
        let note = b["note"].as_str().map(|n| view! { <p class="muted small">{format!("Not compared: {n}")}</p> });
        view! {
            <details class="hint bias-drift" open=true><summary>{head}</summary>
                {note}
                <div class="scroll" tabindex="0">
                    <table class="data">
                        <thead><tr><th>"Metric"</th><th>"Training"</th><th>"Live"</th><th>"Std. error"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="muted small">"A metric drifts when it moved by 0.1 or more and by more than three standard errors of the difference (live and training are both samples)."</p>
            </details>
        }
    });
    let history = earlier
        .into_iter()
        .take(10)
        .map(|r| {
            view! { <li>{format!("{} · {} rows · {} · {} violations", format::timestamp(&r.created), r.rows, r.source, r.violations.len())}</li> }
        })
        .collect_view();
    view! {
        <p class="run-head"><strong>"Latest check: "</strong>{head}</p>
        <ul class="violations">{violations}</ul>
        <details class="hint"><summary>"Drift per feature"</summary>
            <p class="muted small">"Choose a feature to compare its live distribution with training."</p>
            <div class="scroll" tabindex="0">
                <table class="data drift-table">
                    <thead><tr><th>"Feature"</th><th>"Test"</th><th>"Statistic"</th><th>"p"</th><th>"PSI"</th><th>"Distance"</th><th></th></tr></thead>
                    <tbody>{drift}</tbody>
                </table>
            </div>
            {chart}
        </details>
        {bias}
        <img class="chart monitor-timeline" src=timeline alt=timeline_alt/>
        <details class="hint"><summary>"Earlier checks"</summary><ul>{history}</ul></details>
    }
}
