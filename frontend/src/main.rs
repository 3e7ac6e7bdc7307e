//! Kiln's studio: a Leptos client-side app. One file per page under
//! `pages/` (the dataset's pages share one fetch of it, `pages::DatasetRoute`),
//! shared views in `components` (`Loaded` for every loading, error and ready
//! view), all HTTP in `client`, the frontend's wording in `format` (numbers
//! from `api::display`) and chart geometry in `plot`.

mod client;
mod components;
mod fairness;
mod format;
mod json;
mod leaderboard;
mod pages;
mod plot;

use leptos::prelude::*;
use leptos_router::components::{A, ParentRoute, Route, Router, Routes};
use leptos_router::path;

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Kiln"</A>
                <nav>
                    <A href="/">"Datasets"</A>
                    <A href="/builds">"Experiments"</A>
                    <A href="/forecasts">"Forecasts"</A>
                    <A href="/deployments">"Deployments"</A>
                </nav>
                <AlertBadge/>
            </header>
            <main class="page">
                <Routes fallback=|| view! { <p class="muted">"This page does not exist."</p> }>
                    <Route path=path!("/") view=pages::datasets::DatasetsPage/>
                    <ParentRoute path=path!("/datasets/:id") view=pages::DatasetRoute>
                        <Route path=path!("") view=pages::dataset::DatasetPage/>
                        <Route path=path!("prepare") view=pages::prepare::PreparePage/>
                        <Route path=path!("explore") view=pages::explore::ExplorePage/>
                        <Route path=path!("build") view=pages::setup::BuildSetupPage/>
                        <Route path=path!("forecast") view=pages::forecast_setup::ForecastSetupPage/>
                    </ParentRoute>
                    <Route path=path!("/builds") view=pages::builds::BuildsPage/>
                    <Route path=path!("/builds/:id") view=pages::build::BuildPage/>
                    <Route path=path!("/compare") view=pages::compare::ComparePage/>
                    <Route path=path!("/forecasts") view=pages::forecasts::ForecastsPage/>
                    <Route path=path!("/forecasts/:id") view=pages::forecast::ForecastPage/>
                    <Route path=path!("/models/:id") view=pages::model::ModelPage/>
                    <Route path=path!("/deployments") view=pages::deployments::DeploymentsPage/>
                    <Route path=path!("/deployments/:name") view=pages::deployments::EndpointPage/>
                </Routes>
            </main>
            <footer class="site-footer muted">
                // `rel="external"`: the router leaves it to the browser.
                <a id="api-link" href="/api/openapi.json" rel="external">
                    "The API (OpenAPI 3.1)"
                </a>
            </footer>
        </Router>
    }
}

/// A warning in the navigation while an endpoint's latest monitoring run
/// has violations (checked every 15 seconds).
#[component]
fn AlertBadge() -> impl IntoView {
    let alerts = LocalResource::new(client::alerts);
    let ticker =
        set_interval_with_handle(move || alerts.refetch(), std::time::Duration::from_secs(15)).ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });
    move || {
        let list = alerts.with(|a| match a {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        });
        (!list.is_empty()).then(|| {
            let names: Vec<String> = list.iter().map(|a| a.endpoint.clone()).collect();
            // One endpoint in alert: its Monitor page; more: the list.
            let href = match &names[..] {
                [one] => format!("/deployments/{one}"),
                _ => "/deployments".to_owned(),
            };
            view! {
                <a class="alert-badge" id="monitor-alert" href=href title=format!("Monitoring violations on {}", names.join(", "))>
                    {format!("⚠ {}", api::display::plural(list.len() as u64, "alert", "alerts"))}
                </a>
            }
        })
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
