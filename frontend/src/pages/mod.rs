//! One module per page of the studio, and what pages share: the route's
//! `:id`, and the dataset that every page under `/datasets/:id` shows.

pub mod build;
pub mod builds;
pub mod compare;
pub mod dataset;
pub mod datasets;
pub mod deployments;
pub mod explore;
pub mod forecast;
pub mod forecast_setup;
pub mod forecasts;
pub mod model;
pub mod prepare;
pub mod setup;

use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_params_map;

use crate::client::{self, ApiError};

/// The `:id` of the current route.
pub fn route_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("id").unwrap_or_default())
}

/// The dataset of the pages under `/datasets/:id`, fetched once for all of
/// them by [`DatasetRoute`].
#[derive(Clone, Copy)]
pub struct CurrentDataset {
    pub id: Memo<String>,
    pub detail: LocalResource<Result<api::DatasetDetail, ApiError>>,
}

/// The dataset of the current page (under [`DatasetRoute`]).
pub fn use_dataset() -> CurrentDataset {
    expect_context::<CurrentDataset>()
}

/// The parent of the dataset's pages (profile, prepare, build): fetches the
/// dataset named in the address and shares it with them.
#[component]
pub fn DatasetRoute() -> impl IntoView {
    let id = route_id();
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move { client::dataset(&id).await }
    });
    provide_context(CurrentDataset { id, detail });
    view! { <Outlet/> }
}
