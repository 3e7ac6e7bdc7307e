//! Datasets: upload (file picker or drag and drop, with progress), import
//! (a PostgreSQL query, an S3 object), the stored datasets (each deletable, and those that do not read back named
//! above them, deletable too), and one-click samples.

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::client;
use crate::components::{DeleteButton, ErrorBox, Loaded, SkippedNotice, delete_action};
use crate::format;

/// Below this many datasets, the samples are shown above them.
const FEW_DATASETS: usize = 3;

#[component]
pub fn DatasetsPage() -> impl IntoView {
    let datasets = LocalResource::new(client::datasets);
    let samples = LocalResource::new(client::samples);
    let progress = RwSignal::new(None::<f64>);
    let error = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    // Extra tokens read as missing, comma-separated (`-999, unknown`).
    let nulls = RwSignal::new(String::new());
    let navigate = use_navigate();

    // A file that was not UTF-8, kept so it can be read again as Latin-1.
    let retry_latin1 = RwSignal::new_local(None::<web_sys::File>);
    // A workbook of several sheets, kept with them so one can be chosen.
    let choose_sheet = RwSignal::new_local(None::<(web_sys::File, Vec<String>)>);
    let sheet = RwSignal::new(String::new());
    let start_upload = {
        let navigate = navigate.clone();
        move |file: web_sys::File, latin1: bool, chosen: Option<String>| {
            error.set(None);
            retry_latin1.set(None);
            choose_sheet.set(None);
            progress.set(Some(0.0));
            let navigate = navigate.clone();
            let kept = file.clone();
            let started = client::upload(
                file,
                latin1,
                &nulls.get_untracked(),
                chosen.as_deref(),
                move |p| progress.set(Some(p)),
                move |res| {
                    progress.set(None);
                    match res {
                        Ok(ds) => navigate(&format!("/datasets/{}", ds.id), Default::default()),
                        Err(e) => {
                            if e.error.code == "invalid_utf8" && !latin1 {
                                retry_latin1.set(Some(kept.clone()));
                            }
                            if e.error.code == "choose_sheet" || e.error.code == "unknown_sheet" {
                                let sheets: Vec<String> = e
                                    .error
                                    .details
                                    .as_ref()
                                    .and_then(|d| d["sheets"].as_array())
                                    .map(|a| {
                                        a.iter()
                                            .filter_map(|s| s.as_str().map(str::to_owned))
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                sheet.set(sheets.first().cloned().unwrap_or_default());
                                choose_sheet.set(Some((kept.clone(), sheets)));
                            }
                            error.set(Some(e.error.message));
                        }
                    }
                },
            );
            if let Err(e) = started {
                progress.set(None);
                error.set(Some(e.error.message));
            }
        }
    };
    let start_upload_again = start_upload.clone();
    let start_upload_sheet = start_upload.clone();
    let on_pick = {
        let start_upload = start_upload.clone();
        move |ev: leptos::ev::Event| {
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                start_upload(file, false, None);
            }
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            start_upload(file, false, None);
        }
    };
    let load_sample = move |name: String| {
        let navigate = navigate.clone();
        error.set(None);
        progress.set(Some(1.0));
        spawn_local(async move {
            let res = client::load_sample(&name).await;
            progress.set(None);
            match res {
                Ok(ds) => navigate(&format!("/datasets/{}", ds.id), Default::default()),
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    // Errors of the list's deletes, shown by the list.
    let list_error = RwSignal::new(None::<String>);
    let delete = delete_action(
        |id: String| async move { client::delete_dataset(&id).await },
        list_error,
        move || datasets.refetch(),
    );

    // The samples come first for someone with few datasets of their own.
    let few = move || {
        datasets.with(|d| match d {
            None => None,
            Some(Ok(list)) => Some(list.items.len() < FEW_DATASETS),
            Some(Err(_)) => Some(true),
        })
    };
    let samples_section = move || {
        let load_sample = load_sample.clone();
        view! {
        <h2>"Samples"</h2>
            <div class="cards">
                <Loaded resource=samples quiet=true let:list>
                    {list.into_iter().map(|s| {
                        let name = s.name.clone();
                        let load_sample = load_sample.clone();
                        view! {
                            <div class="card">
                                <h3>{s.name.clone()}</h3>
                                <p>{s.description}</p>
                                <p class="muted small">{format!("Target: {} · {}", s.target, format::bytes(s.bytes))}</p>
                                <button class="button" data-sample=s.name on:click=move |_| load_sample(name.clone())>"Use this sample"</button>
                            </div>
                        }
                    }).collect_view()}
                </Loaded>
            </div>
        }
    };
    let samples_first = samples_section.clone();

    view! {
        <h1>"Datasets"</h1>
        <section class="intro" id="intro">
            <p>"Kiln turns a table into a model you can explain and take away, in four steps: "
            <strong>"1. Upload"</strong>" a CSV and read its profile and data-quality report. "
            <strong>"2. Prepare"</strong>" it with a cleaning recipe (missing values, outliers, duplicates), suggested by the report. "
            <strong>"3. Build"</strong>": pick the column to predict and a time budget, and watch linear, boosted-tree, forest, nearest-neighbour, kernel and neural models compete on a live leaderboard. "
            <strong>"4. Use"</strong>" the best model: its scores and explanations, what-if predictions, scoring a whole file, and a download that runs anywhere with the "<code>"kiln"</code>" binary."</p>
        </section>
        <section
            class="dropzone"
            class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <p class="drop-title">"Drop a data file here"</p>
            <p class="muted">"or"</p>
            <label class="button primary">
                "Choose a file…"
                <input id="upload-input" type="file" accept=".csv,.tsv,.txt,.gz,.zip,.xlsx,.xlsm,.xls,.parquet,.arrow,.ipc,.feather,.jsonl,.ndjson,text/csv" class="visually-hidden" on:change=on_pick/>
            </label>
            <p class="muted small">"CSV (comma, semicolon, tab or pipe separated; also gzip or in a ZIP), Excel, Parquet, Arrow IPC or JSON Lines; up to 1 GB."</p>
            <div class="form">
                <label for="nulls-input">"Also read as missing"</label>
                <input
                    id="nulls-input"
                    type="text"
                    placeholder="-999, unknown"
                    title="Values read as missing besides empty cells, NA, N/A, NULL, NaN, None, ? and -; separate them with commas"
                    prop:value=move || nulls.get()
                    on:input=move |ev| nulls.set(event_target_value(&ev))
                />
            </div>
            {move || progress.get().map(|p| view! {
                <div class="upload-progress">
                    <progress max="100" value=(p * 100.0).round().to_string()></progress>
                    <span>{if p >= 1.0 { "Reading and profiling…".to_owned() } else { format!("Uploading… {:.0}%", p * 100.0) }}</span>
                </div>
            })}
        </section>
        <ImportSection error=error/>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
        {move || retry_latin1.get().map(|file| {
            let start_upload = start_upload_again.clone();
            view! {
                <button id="read-latin1" class="button" on:click=move |_| start_upload(file.clone(), true, None)>
                    "Read it as Latin-1 (Windows-1252)"
                </button>
            }
        })}

        {move || choose_sheet.get().map(|(file, sheets)| {
            let start_upload = start_upload_sheet.clone();
            view! {
                <div class="form" id="sheet-picker">
                    <label for="sheet-select">"Sheet"</label>
                    <select id="sheet-select" prop:value=move || sheet.get() on:change=move |ev| sheet.set(event_target_value(&ev))>
                        {sheets.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                    </select>
                    <span></span>
                    <button id="read-sheet" class="button primary" on:click=move |_| start_upload(file.clone(), false, Some(sheet.get_untracked()))>
                        "Read this sheet"
                    </button>
                </div>
            }
        })}

        {move || (few() == Some(true)).then(samples_first.clone())}

        <h2>"Your datasets"</h2>
        {move || list_error.get().map(|e| view! { <ErrorBox message=e/> })}
        <Loaded resource=datasets let:list>
            <SkippedNotice kind=("dataset", "datasets") ids=list.skipped on_delete=delete/>
            <div id="datasets-list">
            {if list.items.is_empty() {
                view! { <p class="muted">"No datasets yet: upload a CSV or start from a sample above."</p> }.into_any()
            } else {
                let rows = list.items.into_iter().map(|d| {
                    let href = format!("/datasets/{}", d.id);
                    let id = d.id.clone();
                    let delete = Callback::new(move |()| delete.run(id.clone()));
                    view! {
                        <tr data-id=d.id.clone()>
                            <td><a href=href class="dataset-link">{d.name}</a></td>
                            <td class="num">{display::count(d.rows)}</td>
                            <td class="num">{display::count(u64::from(d.columns))}</td>
                            <td class="num">{format::bytes(d.bytes)}</td>
                            <td>{format::timestamp(&d.created)}</td>
                            <td class="row-actions"><DeleteButton on_delete=delete question="Delete this dataset? Its models stay." small=true/></td>
                        </tr>
                    }
                }).collect_view();
                view! {
                    <div class="scroll" tabindex="0"><table class="data" id="datasets-table">
                        <thead><tr><th>"Name"</th><th>"Rows"</th><th>"Columns"</th><th>"Size"</th><th>"Uploaded"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                }.into_any()
            }}
            </div>
        </Loaded>

        {move || (few() == Some(false)).then(samples_section.clone())}
    }
}

/// Import from where data lives: a query on the database the server was
/// started with, or an S3 object; either opens the new dataset.
#[component]
fn ImportSection(error: RwSignal<Option<String>>) -> impl IntoView {
    let sources = LocalResource::new(client::import_sources);
    let query = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let sheet = RwSignal::new(String::new());
    let busy = RwSignal::new(None::<&'static str>);
    let navigate = use_navigate();
    let opened = move |res: Result<api::DatasetSummary, client::ApiError>| {
        busy.set(None);
        match res {
            Ok(ds) => navigate(&format!("/datasets/{}", ds.id), Default::default()),
            Err(e) => error.set(Some(e.error.message)),
        }
    };
    let from_postgres = {
        let opened = opened.clone();
        move |_| {
            error.set(None);
            busy.set(Some("Running the query…"));
            let req = api::PostgresImport {
                query: query.get_untracked(),
                name: Some(name.get_untracked()).filter(|n| !n.trim().is_empty()),
            };
            let opened = opened.clone();
            spawn_local(async move { opened(client::import_postgres(&req).await) });
        }
    };
    let from_s3 = move |_| {
        error.set(None);
        busy.set(Some("Downloading…"));
        let req = api::S3Import {
            url: url.get_untracked(),
            sheet: Some(sheet.get_untracked()).filter(|s| !s.trim().is_empty()),
        };
        let opened = opened.clone();
        spawn_local(async move { opened(client::import_s3(&req).await) });
    };
    view! {
        <details class="import" id="import">
            <summary>"Import from an S3 URL or a PostgreSQL query"</summary>
            <div class="form" id="s3-form">
                <label for="s3-url">"S3 URL"</label>
                <div>
                    <input id="s3-url" type="text" placeholder="s3://bucket/path/to/file.parquet" prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                    <p class="muted small">{move || {
                        let endpoint = sources.get().and_then(Result::ok).and_then(|s| s.s3_endpoint);
                        format!(
                            "Any format an upload may be, up to 1 GB, from {}; credentials from the server's AWS_* settings.",
                            endpoint.unwrap_or_else(|| "AWS".into())
                        )
                    }}</p>
                </div>
                <label for="s3-sheet">"Sheet (workbooks)"</label>
                <input id="s3-sheet" type="text" placeholder="the only sheet" prop:value=move || sheet.get() on:input=move |ev| sheet.set(event_target_value(&ev))/>
                <span></span>
                <button id="s3-import" class="button primary" on:click=from_s3 disabled=move || busy.get().is_some()>"Import"</button>
            </div>
            {move || sources.get().map(|s| match s {
                Ok(s) => {
                    let limits = format!(
                        "Read-only, at most {} rows and {} s.",
                        display::count(s.max_rows),
                        display::count(s.timeout_secs)
                    );
                    let from_postgres = from_postgres.clone();
                    match s.postgres {
                        Some(db) => view! {
                            <div class="form" id="postgres-form">
                                <label for="pg-query">"Query"</label>
                                <div>
                                    <textarea id="pg-query" rows="4" placeholder="SELECT * FROM orders WHERE created > now() - interval '1 year'"
                                        prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))></textarea>
                                    <p class="muted small">{format!("On {db}. {limits}")}</p>
                                </div>
                                <label for="pg-name">"Dataset name"</label>
                                <input id="pg-name" type="text" placeholder="query" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                                <span></span>
                                <button id="pg-import" class="button primary" on:click=from_postgres disabled=move || busy.get().is_some()>"Run and import"</button>
                            </div>
                        }.into_any(),
                        None => view! {
                            <p class="muted small" id="postgres-off">"No database to query: start Kiln with "<code>"--postgres postgres://user:password@host/db"</code>" (or KILN_POSTGRES) to import query results."</p>
                        }.into_any(),
                    }
                }
                Err(e) => view! { <ErrorBox message=e.error.message/> }.into_any(),
            })}
            {move || busy.get().map(|b| view! { <p class="muted" id="import-busy">{b}</p> })}
        </details>
    }
}
