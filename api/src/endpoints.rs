//! Deployments' wire types: a named endpoint that serves one or more models
//! (production variants with traffic weights, and an optional shadow that
//! scores the same rows without answering), its data-capture settings, its
//! live traffic, and the answer to an invocation.

use serde::{Deserialize, Serialize};

use crate::InputWarning;

fn one() -> f64 {
    1.0
}

/// `POST /api/endpoints` and `PUT /api/endpoints/{name}`: what to serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// The endpoint's name in its URL: 1 to 64 letters, digits, `-` or `_`
    /// (ignored by `PUT`, whose path names it).
    #[serde(default)]
    pub name: String,
    /// The models that answer, each with its share of the traffic.
    pub variants: Vec<VariantRequest>,
    /// A model that scores every request too, without answering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureSettings>,
    /// Check the traffic captured since the last scheduled check every so
    /// many minutes (1 to 10080; absent: on demand only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_every_minutes: Option<u32>,
    /// Bias to watch: each monitoring run compares the bias metrics of the
    /// live rows with those of the model's training rows (bias drift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<BiasWatch>,
}

/// A facet and a favourable outcome, as a bias report takes them: the
/// facet's values (or a threshold above which a number is in it), and the
/// favourable classes (or a threshold for a number target).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BiasWatch {
    pub facet: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub favourable: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favourable_above: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VariantRequest {
    /// The variant's name in responses (default `variant-1`, `variant-2`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub model_id: String,
    /// Its relative share of the traffic (default 1).
    #[serde(default = "one")]
    pub weight: f64,
}

/// Which requests are written down, and how many rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CaptureSettings {
    /// The share of requests captured, 0 to 1 (default 1: all).
    pub share: f64,
    /// The most rows kept; the oldest are dropped beyond (default 100,000).
    pub max_rows: u64,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        CaptureSettings {
            share: 1.0,
            max_rows: 100_000,
        }
    }
}

/// A variant as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub name: String,
    pub model_id: String,
    /// The model's target, for people reading the list.
    pub target: String,
    /// Its share of the traffic, 0 to 1 (the shadow's is 0).
    pub weight: f64,
}

/// Live traffic since the server started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Traffic {
    pub requests: u64,
    /// Requests refused (bad rows) or failed.
    pub errors: u64,
    pub rows: u64,
    /// Latency percentiles over the last 10,000 requests, in milliseconds.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Requests answered per variant, by name.
    pub by_variant: Vec<(String, u64)>,
}

/// `GET /api/endpoints/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub name: String,
    pub created: String,
    pub updated: String,
    pub variants: Vec<Variant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Variant>,
    pub capture: CaptureSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_every_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<BiasWatch>,
    /// Rows captured and kept.
    #[serde(default)]
    pub captured_rows: u64,
    #[serde(default)]
    pub traffic: Traffic,
}

/// One row's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invoked {
    /// The id its capture is kept under, for joining ground truth later.
    pub inference_id: String,
    /// A number (regression) or a class label.
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Vec<f64>>,
}

/// `POST /api/endpoints/{name}/invocations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvocationResponse {
    /// The variant that answered (also in the `X-Kiln-Variant` header).
    pub variant: String,
    pub model_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    pub predictions: Vec<Invoked>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<InputWarning>,
}

/// A monitoring run of an endpoint: on its captured traffic, or on an
/// uploaded batch, against the baseline of the model its first variant serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonitorRun {
    pub id: String,
    pub endpoint: String,
    pub created: String,
    /// `capture`, `batch` or `schedule`.
    pub source: String,
    pub model_id: String,
    pub rows: u64,
    /// Each violation in words, with its evidence; empty when all is well.
    pub violations: Vec<String>,
    /// The checks: `quality`, `drift` (per feature: test, statistic,
    /// p-value, distance, PSI, bins), `drifted_share`, `prediction`,
    /// `model_quality`, `estimated_quality`, `attribution`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub report: serde_json::Value,
}

/// `POST /api/endpoints/{name}/ground-truth`: what was joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroundTruthReceipt {
    pub rows: u64,
    /// Rows whose inference id is in the capture.
    pub matched: u64,
    /// Rows whose inference id is not (reported, not dropped silently).
    pub unknown: u64,
    pub unknown_examples: Vec<String>,
}

/// An endpoint whose latest monitoring run found violations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub endpoint: String,
    pub run_id: String,
    pub created: String,
    pub violations: u32,
}
