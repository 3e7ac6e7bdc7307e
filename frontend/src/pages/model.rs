//! Model: metrics on held-out rows, the leaderboard it won, the download
//! and how to use it, and a one-row predict form prefilled with typical values.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::client;
use crate::components::{ErrorBox, LeaderboardTable, Loading};
use crate::format;

/// The form's text for a feature's typical value.
fn typical_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.as_f64().map(format::number).unwrap_or_default(),
        _ => String::new(),
    }
}

/// One JSON row from the form's values: numbers where the feature is numeric, empty as missing.
pub fn form_row(
    features: &[api::FeatureInfo],
    values: &[String],
) -> serde_json::Map<String, serde_json::Value> {
    features
        .iter()
        .zip(values)
        .map(|(f, v)| {
            let v = v.trim();
            let value = if v.is_empty() {
                serde_json::Value::Null
            } else if f.kind == api::FeatureKind::Numeric {
                v.parse::<f64>()
                    .ok()
                    .map_or(serde_json::Value::Null, serde_json::Value::from)
            } else {
                serde_json::Value::from(v)
            };
            (f.name.clone(), value)
        })
        .collect()
}

#[component]
pub fn ModelPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let model = LocalResource::new(move || {
        let id = id();
        async move {
            let m = client::get::<api::ModelSummary>(&format!("/api/models/{id}")).await?;
            let b = client::get::<api::Build>(&format!("/api/builds/{}", m.build_id))
                .await
                .ok();
            Ok::<_, String>((m, b))
        }
    });
    view! {
        {move || match model.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorBox message=e/> }.into_any(),
            Some(Ok((m, build))) => view! { <ModelView model=m parent=build/> }.into_any(),
        }}
    }
}

#[component]
fn ModelView(model: api::ModelSummary, parent: Option<api::Build>) -> impl IntoView {
    let artifact_href = format!("/api/models/{}/artifact", model.id);
    let file_name = format!("kiln-model-{}.json", model.id);
    let usage =
        format!("kiln predict --model {file_name} --input new.csv --output predictions.csv");
    let metrics = model.metrics.iter().map(|m| view! {
        <div class="metric"><span class="metric-value">{format::number(m.value)}</span><span class="metric-name">{m.name.clone()}</span></div>
    }).collect_view();
    let values = RwSignal::new(
        model
            .features
            .iter()
            .map(|f| typical_text(&f.typical))
            .collect::<Vec<_>>(),
    );
    let result = RwSignal::new(None::<Result<api::PredictResponse, String>>);
    let features = StoredValue::new(model.features.clone());
    let model_id = model.id.clone();
    let predict = move || {
        let row = form_row(&features.get_value(), &values.get_untracked());
        let path = format!("/api/models/{model_id}/predict");
        spawn_local(async move {
            let res = client::post::<_, api::PredictResponse>(
                &path,
                &api::PredictRequest { rows: vec![row] },
            )
            .await;
            result.set(Some(res));
        });
    };
    let predict_now = predict.clone();
    let inputs = model.features.iter().enumerate().map(|(i, f)| {
        let input_id = format!("feature-{i}");
        let set = move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            values.update(|vals| vals[i] = v);
        };
        let control = match f.kind {
            api::FeatureKind::Numeric => view! {
                <input id=input_id.clone() type="number" step="any" prop:value=move || values.with(|v| v[i].clone()) on:change=set/>
            }.into_any(),
            api::FeatureKind::Categorical => {
                let current = values.with_untracked(|v| v[i].clone());
                let options = f.categories.iter().map(|c| view! { <option value=c.clone() selected=*c == current>{c.clone()}</option> }).collect_view();
                view! {
                    <select id=input_id.clone() on:change=set>
                        <option value="">"(missing)"</option>
                        {options}
                    </select>
                }.into_any()
            }
        };
        view! { <label for=input_id>{f.name.clone()}</label>{control} }
    }).collect_view();
    let classes = model.classes.clone();

    view! {
        <div class="title-row">
            <div>
                <h1>{format!("Model for “{}”", model.target)}</h1>
                <p class="muted">{format!("{} · {} · created {}", model.family, model.task.label(), format::timestamp(&model.created))}</p>
            </div>
            <a class="button primary" id="download-artifact" href=artifact_href download=file_name>"Download model"</a>
        </div>
        <h2>"Held-out metrics"</h2>
        <p class="muted small">"Computed on predictions for rows each model did not train on (out-of-fold)."</p>
        <div class="metrics" id="model-metrics">{metrics}</div>
        <p class="muted small">{format!("Hyperparameters: {}", model.params)}</p>

        <h2>"Predict one row"</h2>
        <div class="predict">
            <div class="form" id="predict-form">
                {inputs}
                <div></div>
                <button id="predict-button" class="button primary" on:click=move |_| predict_now()>"Predict"</button>
            </div>
            <div class="prediction" id="prediction">
                {move || match result.get() {
                    None => view! { <p class="muted">"Change the values and press Predict."</p> }.into_any(),
                    Some(Err(e)) => view! { <ErrorBox message=e/> }.into_any(),
                    Some(Ok(resp)) => {
                        let Some(p) = resp.predictions.into_iter().next() else { return view! { <p class="muted">"No prediction."</p> }.into_any() };
                        let value = match &p.value { serde_json::Value::String(s) => s.clone(), serde_json::Value::Number(n) => n.as_f64().map(format::number).unwrap_or_default(), other => other.to_string() };
                        let probs = p.probabilities.map(|ps| {
                            let rows = classes.iter().zip(ps).map(|(c, p)| view! {
                                <tr><td>{c.clone()}</td><td class="num">{format!("{:.1}%", p * 100.0)}</td><td class="bar-cell"><progress max="100" value=(p * 100.0).round().to_string()></progress></td></tr>
                            }).collect_view();
                            view! { <table class="data probs"><tbody>{rows}</tbody></table> }
                        });
                        view! {
                            <p class="muted">"Prediction"</p>
                            <p class="predicted" id="predicted-value">{value}</p>
                            {probs}
                        }.into_any()
                    }
                }}
            </div>
        </div>

        <h2>"Use it elsewhere"</h2>
        <p>"The downloaded file holds everything needed to score new rows: the schema, the fitted preprocessing and the model. Score a CSV with the "<code>"kiln"</code>" binary:"</p>
        <pre class="code">{usage}</pre>

        {parent.map(|b| view! {
            <h2>"Leaderboard of its build"</h2>
            <LeaderboardTable entries=b.leaderboard metric=b.metric/>
            <p class="muted small"><a href=format!("/builds/{}", b.id)>"Open the build"</a></p>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_rows_type_numbers_and_blank_as_missing() {
        let f = |name: &str, kind| api::FeatureInfo {
            name: name.into(),
            kind,
            categories: vec![],
            typical: serde_json::Value::Null,
        };
        let feats = vec![
            f("x", api::FeatureKind::Numeric),
            f("c", api::FeatureKind::Categorical),
            f("y", api::FeatureKind::Numeric),
        ];
        let row = form_row(&feats, &["2.5".into(), "red".into(), " ".into()]);
        assert_eq!(row["x"], serde_json::json!(2.5));
        assert_eq!(row["c"], serde_json::json!("red"));
        assert_eq!(row["y"], serde_json::Value::Null);
    }
}
