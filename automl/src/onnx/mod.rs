//! ONNX export: a model artifact as an ONNX model that scores the caller's
//! columns as [`ModelArtifact::predict`] does, in any ONNX runtime.
//!
//! The graph takes one `[N, 1]` input per input column, named as the
//! column: numbers as `double` (missing is NaN), text as `string` (missing
//! is the empty string). The recipe's row-wise steps follow
//! ([`recipe`]), then the model's own encoders ([`encode`]), then the
//! family's model ([`crate::families`]' `Model::onnx`: trees as
//! `ai.onnx.ml` `TreeEnsemble`, linear models and networks as `MatMul`,
//! `Add`, `Relu`; ensembles as the weighted sum of their members' raw
//! outputs), then the link. Outputs: `prediction` (`[N]` doubles) for
//! regression; `label` (`[N]` strings, the decision threshold applied) and
//! `probabilities` (`[N, classes]` doubles, in the classes' order) for
//! classification.
//!
//! Everything is computed in doubles, so that scores match Kiln's to
//! rounding (`data/tests/onnx.rs` checks every family on every shared
//! dataset with onnxruntime). What ONNX cannot express as Kiln computes it
//! is refused with [`Error::Onnx`], naming the step or the feature.

pub(crate) mod encode;
pub(crate) mod graph;
pub(crate) mod models;
mod proto;
mod recipe;

use graph::Col;
use proto::{Attr, Elem, ValueInfo};

use crate::artifact::ModelArtifact;
use crate::calibrate::Method;
use crate::encode::FeatureKind;
use crate::error::Result;
use crate::task::Task;

pub(crate) use encode::Features;
pub(crate) use graph::Graph;

/// The default-domain operator set the graph uses.
const OPSET: i64 = 21;
/// The `ai.onnx.ml` operator set: `TreeEnsemble` is from version 5, which
/// onnxruntime runs from 1.21 (1.20 does not).
const ML_OPSET: i64 = 5;

/// The artifact as ONNX model bytes, or why it cannot be exported.
pub fn export(artifact: &ModelArtifact) -> Result<Vec<u8>> {
    let mut g = Graph::default();
    let mut inputs = Vec::new();
    let mut cols: recipe::Columns = Vec::new();
    for f in artifact.inputs() {
        let (elem, col) = match f.kind {
            FeatureKind::Numeric => {
                // Infinite numbers are missing, as ingest reads them.
                let inf = g.op("IsInf", &[&f.name]);
                let nan = g.scalar(f64::NAN);
                (Elem::Double, Col::Number(g.select(&inf, &nan, &f.name)))
            }
            FeatureKind::Categorical => (Elem::String, Col::Text(f.name.clone())),
        };
        inputs.push(ValueInfo {
            name: f.name.clone(),
            elem,
            dims: vec![None, Some(1)],
        });
        cols.push((f.name.clone(), col));
    }
    if let Some(r) = &artifact.recipe {
        recipe::apply(&mut g, r, &mut cols)?;
    }
    let schema = &artifact.schema;
    let mut features = Features::new(&schema.features, &cols)?;
    let raw = artifact.model.onnx(schema, &mut g, &mut features)?;
    let outputs = head(&mut g, artifact, &raw);
    let classes = serde_json::to_string(&schema.classes).unwrap_or_default();
    let model = proto::Model {
        producer_version: artifact.kiln_version.clone(),
        doc: doc(artifact),
        graph_name: format!("kiln {} model", artifact.model.family()),
        nodes: g.nodes,
        initializers: g.initializers,
        inputs,
        outputs,
        opsets: vec![("", OPSET), (graph::ML, ML_OPSET)],
        metadata: vec![
            ("kiln_version".into(), artifact.kiln_version.clone()),
            ("family".into(), artifact.model.family().into()),
            ("task".into(), format!("{:?}", schema.task).to_lowercase()),
            ("target".into(), schema.target.clone()),
            ("classes".into(), classes),
        ],
    };
    Ok(model.encode())
}

/// What the model's inputs and outputs are, in words.
fn doc(artifact: &ModelArtifact) -> String {
    let s = &artifact.schema;
    let out = match s.task {
        Task::Regression => format!("`prediction` ([N] double): the predicted `{}`", s.target),
        _ => format!(
            "`label` ([N] string): the predicted `{}`{}; `probabilities` ([N, {}] double): one per class, in the order {}{}",
            s.target,
            artifact
                .threshold
                .map(|t| format!(" (the second class from probability {t})"))
                .unwrap_or_default(),
            s.classes.len(),
            s.classes.join(", "),
            artifact
                .calibration
                .map(|c| format!(", calibrated by {}", c.method.describe()))
                .unwrap_or_default()
        ),
    };
    format!(
        "Exported by Kiln {}. Inputs: one [N, 1] tensor per column, named as the column; numbers as double (NaN is missing), text as string (the empty string is missing). Outputs: {out}.",
        artifact.kiln_version
    )
}

/// The link from raw outputs `[N, K]` to predictions, and the graph outputs.
fn head(g: &mut Graph, artifact: &ModelArtifact, raw: &str) -> Vec<ValueInfo> {
    let s = &artifact.schema;
    let flat = g.int64s(vec![1], vec![-1]);
    if s.task == Task::Regression {
        let values = g.op("Reshape", &[raw, &flat]);
        g.output(&values, "prediction");
        return vec![ValueInfo {
            name: "prediction".into(),
            elem: Elem::Double,
            dims: vec![None],
        }];
    }
    let k = s.classes.len() as i64;
    // The calibration acts on the raw outputs, before the link, as
    // `ModelArtifact::outputs` applies it.
    let calibrated = artifact.calibration.map(|c| match c.method {
        Method::Platt { scale, shift } => {
            let (a, b) = (g.scalar(scale), g.scalar(shift));
            let scaled = g.op("Mul", &[raw, &a]);
            g.op("Add", &[&scaled, &b])
        }
        Method::Temperature { temperature } => {
            let t = g.scalar(temperature);
            g.op("Div", &[raw, &t])
        }
    });
    let raw = calibrated.as_deref().unwrap_or(raw);
    let probabilities = if s.task == Task::Binary {
        let p = g.op("Sigmoid", &[raw]);
        let one = g.scalar(1.0);
        let q = g.op("Sub", &[&one, &p]);
        g.concat(&[q, p], 1)
    } else {
        g.op_with("Softmax", &[raw], vec![("axis", Attr::Int(1))])
    };
    let index = match artifact.threshold {
        Some(t) if k == 2 => {
            let starts = g.int64s(vec![1], vec![1]);
            let ends = g.int64s(vec![1], vec![2]);
            let axes = g.int64s(vec![1], vec![1]);
            let p = g.op("Slice", &[&probabilities, &starts, &ends, &axes]);
            let t = g.scalar(t);
            let second = g.op("GreaterOrEqual", &[&p, &t]);
            let i = g.cast(&second, Elem::Int64);
            g.op("Reshape", &[&i, &flat])
        }
        _ => g.op_with(
            "ArgMax",
            &[&probabilities],
            vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))],
        ),
    };
    let names = g.strings(vec![k], s.classes.clone());
    let label = g.op("Gather", &[&names, &index]);
    g.output(&label, "label");
    g.output(&probabilities, "probabilities");
    vec![
        ValueInfo {
            name: "label".into(),
            elem: Elem::String,
            dims: vec![None],
        },
        ValueInfo {
            name: "probabilities".into(),
            elem: Elem::Double,
            dims: vec![None, Some(k)],
        },
    ]
}
