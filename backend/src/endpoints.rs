//! Serving models from named endpoints: the live set of endpoints in
//! memory (each with its models loaded), the choice of a variant by its
//! traffic weight, scoring and data capture, and traffic statistics.
//!
//! An endpoint's live state is an `Arc<Live>` in [`Registry`]; an update
//! builds a new one with every model loaded and swaps it in, so a request
//! in flight finishes on the models it started with and none fails. The
//! record in the store is the truth: an endpoint is loaded on its first
//! request after a start.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use automl::ModelArtifact;
use data::{DataFrame, convert};
use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};
use crate::models::{to_api_predictions, to_api_warning};

/// At most this many variants behind one endpoint.
pub const MAX_VARIANTS: usize = 10;
/// The most rows an endpoint may keep captured.
pub const MAX_CAPTURE_ROWS: u64 = 10_000_000;
/// Latencies kept for the percentiles.
const LATENCIES: usize = 10_000;

/// An endpoint as it serves: its record and its models, loaded.
pub struct Live {
    pub doc: api::Endpoint,
    /// One per variant, in order.
    pub models: Vec<Arc<ModelArtifact>>,
    pub shadow: Option<Arc<ModelArtifact>>,
}

impl Live {
    /// The variant for the `n`th request: weighted, by a hash of `n`, so
    /// traffic splits as the weights say without a shared random source.
    pub fn pick(&self, n: u64) -> usize {
        let total: f64 = self.doc.variants.iter().map(|v| v.weight).sum();
        if self.doc.variants.len() <= 1 || total <= 0.0 {
            return 0;
        }
        let u = (splitmix(n) >> 11) as f64 / (1u64 << 53) as f64 * total;
        let mut acc = 0.0;
        for (i, v) in self.doc.variants.iter().enumerate() {
            acc += v.weight;
            if u < acc {
                return i;
            }
        }
        self.doc.variants.len() - 1
    }
}

fn splitmix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Default)]
struct Counts {
    requests: u64,
    errors: u64,
    rows: u64,
    latencies: VecDeque<f64>,
    by_variant: BTreeMap<String, u64>,
}

/// Every endpoint's live state and traffic.
#[derive(Default)]
pub struct Registry {
    live: RwLock<HashMap<String, Arc<Live>>>,
    traffic: Mutex<HashMap<String, Counts>>,
    requests: AtomicU64,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<Arc<Live>> {
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Puts `live` in place of the endpoint's current state.
    pub fn install(&self, live: Live) -> Arc<Live> {
        let live = Arc::new(live);
        self.live
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(live.doc.name.clone(), Arc::clone(&live));
        live
    }

    pub fn remove(&self, name: &str) {
        self.live
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(name);
        self.traffic
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(name);
    }

    /// A number for the next request (which variant it goes to).
    pub fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts one request: its variant (`None` when refused), rows and latency.
    pub fn record(&self, name: &str, variant: Option<&str>, rows: usize, millis: f64) {
        let mut all = self
            .traffic
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = all.entry(name.to_owned()).or_default();
        c.requests += 1;
        match variant {
            Some(v) => {
                c.rows += rows as u64;
                *c.by_variant.entry(v.to_owned()).or_default() += 1;
            }
            None => c.errors += 1,
        }
        if c.latencies.len() == LATENCIES {
            c.latencies.pop_front();
        }
        c.latencies.push_back(millis);
    }

    /// The endpoint's traffic since the server started.
    pub fn traffic(&self, name: &str) -> api::Traffic {
        let all = self
            .traffic
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(c) = all.get(name) else {
            return api::Traffic::default();
        };
        let mut sorted: Vec<f64> = c.latencies.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let pct = |q: f64| -> Option<f64> {
            (!sorted.is_empty()).then(|| {
                let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
                sorted[i]
            })
        };
        api::Traffic {
            requests: c.requests,
            errors: c.errors,
            rows: c.rows,
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            by_variant: c.by_variant.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }
}

/// A 4xx for an endpoint request, naming the problem.
fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable("invalid_endpoint", message)
}

/// Checks a request's shape (name, weights, capture), before any model is read.
pub fn check_request(req: &api::EndpointRequest) -> AppResult<()> {
    if !crate::storage::is_valid_endpoint_name(&req.name) {
        return Err(invalid(format!(
            "“{}” cannot name an endpoint: use 1 to 64 letters, digits, `-` or `_`",
            req.name
        )));
    }
    if req.variants.is_empty() || req.variants.len() > MAX_VARIANTS {
        return Err(invalid(format!(
            "{} variants: an endpoint serves 1 to {MAX_VARIANTS}",
            req.variants.len()
        )));
    }
    if req
        .variants
        .iter()
        .any(|v| !(v.weight.is_finite() && v.weight >= 0.0))
        || req.variants.iter().map(|v| v.weight).sum::<f64>() <= 0.0
    {
        return Err(invalid(
            "traffic weights must be numbers of at least 0, and not all 0",
        ));
    }
    let names = variant_names(req);
    for (i, n) in names.iter().enumerate() {
        if !crate::storage::is_valid_endpoint_name(n) || n == "shadow" {
            return Err(invalid(format!(
                "“{n}” cannot name a variant: use 1 to 64 letters, digits, `-` or `_` (not `shadow`)"
            )));
        }
        if names[..i].contains(n) {
            return Err(invalid(format!("two variants are named “{n}”")));
        }
    }
    if req
        .monitor_every_minutes
        .is_some_and(|m| !(1..=10_080).contains(&m))
    {
        return Err(invalid(
            "check the traffic every 1 to 10080 minutes (a week), or leave the schedule out",
        ));
    }
    if let Some(c) = &req.capture
        && (!(0.0..=1.0).contains(&c.share) || !(1..=MAX_CAPTURE_ROWS).contains(&c.max_rows))
    {
        return Err(invalid(format!(
            "capture a share of 0 to 1 of the requests, keeping 1 to {MAX_CAPTURE_ROWS} rows"
        )));
    }
    Ok(())
}

/// The variants' names: as given, or `variant-1`, `variant-2`, ….
pub fn variant_names(req: &api::EndpointRequest) -> Vec<String> {
    req.variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("variant-{}", i + 1))
        })
        .collect()
}

/// Rows to score: a JSON body's rows, or a CSV body read as a table.
pub enum Rows {
    Json(Vec<Map<String, Value>>),
    Table(DataFrame),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Json(r) => r.len(),
            Rows::Table(f) => f.height(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn dataset(&self, model: &ModelArtifact) -> AppResult<automl::Dataset> {
        Ok(match self {
            Rows::Json(rows) => convert::json_for_model(rows, model.inputs())?,
            Rows::Table(frame) => convert::frame_for_model(frame, model.inputs())?,
        })
    }

    /// Each row as a JSON object (a table's cells as text), for the capture.
    pub(crate) fn objects(&self) -> AppResult<Vec<Map<String, Value>>> {
        match self {
            Rows::Json(rows) => Ok(rows.clone()),
            Rows::Table(frame) => {
                let names: Vec<String> = frame
                    .get_column_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let cells = crate::models::text_columns(frame)?;
                Ok((0..frame.height())
                    .map(|r| {
                        names
                            .iter()
                            .zip(&cells)
                            .map(|(n, c)| {
                                (n.clone(), c[r].clone().map_or(Value::Null, Value::String))
                            })
                            .collect()
                    })
                    .collect())
            }
        }
    }
}

/// Scores `rows` with `model`: the predictions and the input warnings.
pub fn score(
    model: &ModelArtifact,
    rows: &Rows,
) -> AppResult<(api::PredictResponse, Vec<api::InputWarning>)> {
    let data = rows.dataset(model)?;
    let preds = model.predict(&data)?;
    let warnings = model
        .check_inputs(&data)?
        .iter()
        .map(to_api_warning)
        .collect();
    Ok((to_api_predictions(&preds), warnings))
}

/// Whether request `n` is captured, for a share of `share`.
pub fn sampled(n: u64, share: f64) -> bool {
    share >= 1.0 || ((splitmix(n ^ 0x5eed) >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// The captured rows of one request: per row its inference id, the time,
/// the variant and model, the input, and the prediction or the error.
pub fn capture_rows(
    rows: &Rows,
    ids: &[String],
    variant: &api::Variant,
    outcome: Result<&api::PredictResponse, &str>,
) -> AppResult<Vec<Value>> {
    let time = crate::time::now_rfc3339();
    let inputs = rows.objects()?;
    Ok(inputs
        .into_iter()
        .zip(ids)
        .enumerate()
        .map(|(r, (input, id))| {
            let mut row = json!({
                "inference_id": id,
                "time": time,
                "variant": variant.name,
                "model_id": variant.model_id,
                "input": input,
            });
            match outcome {
                Ok(p) => {
                    row["prediction"] = p.predictions[r].value.clone();
                    if let Some(probs) = &p.predictions[r].probabilities {
                        row["probabilities"] = json!(probs);
                        row["classes"] = json!(p.classes);
                    }
                }
                Err(e) => row["error"] = json!(e),
            }
            row
        })
        .collect())
}

/// Captures one request's rows with its outcome (the answer, or the error
/// that refused it). A capture that fails is logged; the request is
/// answered all the same.
pub fn capture(
    store: &crate::storage::Store,
    endpoint: &str,
    rows: &Rows,
    ids: &[String],
    variant: &api::Variant,
    outcome: &AppResult<(api::PredictResponse, Vec<api::InputWarning>)>,
    max_rows: u64,
) {
    let message = outcome.as_ref().err().map(ToString::to_string);
    let result = match (outcome, &message) {
        (Ok((p, _)), _) => Ok(p),
        (Err(_), m) => Err(m.as_deref().unwrap_or("")),
    };
    if let Err(e) = capture_rows(rows, ids, variant, result).and_then(|c| {
        store
            .capture(endpoint, &c, max_rows)
            .map_err(AppError::from)
    }) {
        tracing::warn!(%endpoint, variant = %variant.name, error = %e, "capture failed");
    }
}

/// The captured rows as CSV: `inference_id, time, variant, model_id`, the
/// input columns (each row's in name order, new names after), `prediction`, one
/// `probability_<class>` per class seen, and `error`.
pub fn capture_csv(rows: &[Value]) -> Vec<u8> {
    let mut inputs: Vec<String> = Vec::new();
    let mut classes: Vec<String> = Vec::new();
    for r in rows {
        if let Some(obj) = r["input"].as_object() {
            for k in obj.keys() {
                if !inputs.contains(k) {
                    inputs.push(k.clone());
                }
            }
        }
        if let Some(cs) = r["classes"].as_array() {
            for c in cs.iter().filter_map(Value::as_str) {
                if !classes.iter().any(|x| x == c) {
                    classes.push(c.to_owned());
                }
            }
        }
    }
    let text = |v: &Value| -> String {
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    };
    let mut header: Vec<String> = ["inference_id", "time", "variant", "model_id"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(inputs.iter().cloned());
    header.push("prediction".into());
    header.extend(classes.iter().map(|c| format!("probability_{c}")));
    header.push("error".into());
    let mut out = crate::models::csv_line(&header);
    out.push('\n');
    for r in rows {
        let mut cells: Vec<String> = ["inference_id", "time", "variant", "model_id"]
            .iter()
            .map(|k| text(&r[*k]))
            .collect();
        cells.extend(inputs.iter().map(|k| text(&r["input"][k])));
        cells.push(text(&r["prediction"]));
        let row_classes: Vec<&str> = r["classes"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for c in &classes {
            let p = row_classes
                .iter()
                .position(|x| x == c)
                .map(|i| text(&r["probabilities"][i]))
                .unwrap_or_default();
            cells.push(p);
        }
        cells.push(text(&r["error"]));
        out.push_str(&crate::models::csv_line(&cells));
        out.push('\n');
    }
    out.into_bytes()
}

/// Refuses a request that is not one of the endpoint's variants.
pub fn no_variant(name: &str) -> AppError {
    AppError::Internal(format!("endpoint `{name}` has no variant to answer with"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(weights: &[f64]) -> Live {
        Live {
            doc: api::Endpoint {
                name: "e".into(),
                created: String::new(),
                updated: String::new(),
                variants: weights
                    .iter()
                    .enumerate()
                    .map(|(i, w)| api::Variant {
                        name: format!("v{i}"),
                        model_id: String::new(),
                        target: String::new(),
                        weight: *w,
                    })
                    .collect(),
                shadow: None,
                capture: api::CaptureSettings::default(),
                monitor_every_minutes: None,
                bias: None,
                captured_rows: 0,
                traffic: api::Traffic::default(),
            },
            models: Vec::new(),
            shadow: None,
        }
    }

    #[test]
    fn traffic_splits_as_the_weights_say() {
        let l = live(&[3.0, 1.0, 0.0]);
        let mut counts = [0usize; 3];
        for n in 0..20_000 {
            counts[l.pick(n)] += 1;
        }
        assert_eq!(counts[2], 0, "a weight of 0 gets nothing");
        let share = counts[0] as f64 / 20_000.0;
        assert!((share - 0.75).abs() < 0.02, "{counts:?}");
        let captured = (0..20_000).filter(|n| sampled(*n, 0.1)).count();
        assert!((1_700..2_300).contains(&captured), "{captured}");
    }

    #[test]
    fn captured_rows_read_back_as_csv() {
        let rows = vec![
            json!({"inference_id": "a", "time": "t", "variant": "v", "model_id": "m",
                   "input": {"x": 1, "c": "red"}, "prediction": "yes",
                   "probabilities": [0.25, 0.75], "classes": ["no", "yes"]}),
            json!({"inference_id": "b", "time": "t", "variant": "v", "model_id": "m",
                   "input": {"x": null, "d": "new"}, "error": "column `c` is missing"}),
        ];
        let csv = String::from_utf8(capture_csv(&rows)).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "inference_id,time,variant,model_id,c,x,d,prediction,probability_no,probability_yes,error"
        );
        assert_eq!(lines[1], "a,t,v,m,red,1,,yes,0.25,0.75,");
        assert_eq!(lines[2], "b,t,v,m,,,new,,,,column `c` is missing");
    }
}
