//! Kiln's bias metrics against smclarify 0.5, the library behind SageMaker
//! Clarify, on committed data: `data/test_data/fairness/` holds German
//! credit and CPS 1985 wages with a `predicted` column, the reference values
//! (`reference.json`, made by `make_reference.py` there, with the tools'
//! versions) and Clarify's definitions as read from its source
//! (`CLARIFY.md`). The files are read as an upload is (ingest, then the
//! engine's columns), so facet and label selection is tested too.
//!
//! Equal to 1e-9 wherever both facets have rows of both labels and no rate
//! is over zero rows. Where smclarify answers an edge case with an artefact
//! (0/0 = 0, x/0 = ∞, a label value dropped from one distribution), Kiln's
//! decision is in `DECIDED` and in `automl::fairness`'s notes.

use std::path::{Path, PathBuf};

use automl::fairness::{self, BiasMetric, Facets, Selector, Value};
use data::{convert, ingest};
use serde_json::Value as Json;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/fairness")
}

/// What Kiln answers where smclarify's answer is an artefact of its edge
/// rules: (case, metric, expected). `None`: undefined, with why.
const DECIDED: &[(&str, &str, Option<f64>)] = &[
    // Two facet rows, both favourable: `d` has no unfavourable label, so KL is
    // infinite; the other distances compare the whole distributions (computed
    // from the case's counts in the reference, by hand in Python).
    ("edge_few_rows_age_gt74", "KL", None),
    ("edge_few_rows_age_gt74", "JS", Some(0.11754373715024709)),
    ("edge_few_rows_age_gt74", "LP", Some(0.42511429730654154)),
    ("edge_few_rows_age_gt74", "TVD", Some(0.3006012024048096)),
    // Two facet rows, both favourable and predicted so: no unfavourable
    // predictions, unfavourable labels or false positives to take a rate over.
    ("edge_few_rows_age_gt74", "DCR", None),
    ("edge_few_rows_age_gt74", "DRR", None),
    ("edge_few_rows_age_gt74", "SD", None),
    ("edge_few_rows_age_gt74", "TE", None),
    // Seven facet rows, none predicted favourable: rates over them are undefined.
    ("edge_zero_pred_pos_education_2to6", "DCA", None),
    ("edge_zero_pred_pos_education_2to6", "DAR", None),
    ("edge_zero_pred_pos_education_2to6", "TE", None),
    // Three facet rows, none favourable, none predicted so.
    ("edge_zero_all_education_6", "KL", None),
    ("edge_zero_all_education_6", "JS", Some(0.2162790875596529)),
    ("edge_zero_all_education_6", "LP", Some(0.7084384323752227)),
    ("edge_zero_all_education_6", "TVD", Some(0.5009416195856874)),
    ("edge_zero_all_education_6", "DCA", None),
    ("edge_zero_all_education_6", "DAR", None),
    ("edge_zero_all_education_6", "RD", None),
    ("edge_zero_all_education_6", "TE", None),
    // Two other rows, neither predicted unfavourable.
    ("edge_ft_k1_age_gt19", "DCR", None),
    ("edge_ft_k1_age_gt19", "DRR", None),
    // Small cases written in the reference (`inline_data`). No favourable prediction at all.
    ("syn_no_positive_predictions", "DI", None),
    ("syn_no_positive_predictions", "DCA", None),
    ("syn_no_positive_predictions", "DAR", None),
    ("syn_no_positive_predictions", "TE", None),
    // Every label favourable, every prediction not.
    ("syn_all_false_negative", "DI", None),
    ("syn_all_false_negative", "DCA", None),
    ("syn_all_false_negative", "DAR", None),
    ("syn_all_false_negative", "SD", None),
    ("syn_all_false_negative", "TE", None),
    // The facet all favourable, the rest all not: distances between whole
    // distributions (Clarify refuses them), no favourable label among the
    // others and no unfavourable one in the facet for recall and specificity.
    (
        "syn_disjoint_label_support",
        "JS",
        Some(std::f64::consts::LN_2),
    ),
    (
        "syn_disjoint_label_support",
        "LP",
        Some(std::f64::consts::SQRT_2),
    ),
    ("syn_disjoint_label_support", "TVD", Some(1.0)),
    ("syn_disjoint_label_support", "KS", Some(1.0)),
    ("syn_disjoint_label_support", "RD", None),
    ("syn_disjoint_label_support", "SD", None),
];

/// Cases whose flip test hangs on how scikit-learn's kd-tree orders equal
/// distances: Kiln breaks ties by row order, so its value is the brute-force
/// one with that rule (in the reference), within (rows whose vote depends on
/// the order) / n_d of smclarify's.
fn flip_test_tied(case: &Json) -> Option<(f64, f64)> {
    let ft = &case["ft"];
    let tied = ft["rows_whose_vote_depends_on_tie_breaking"].as_f64()?;
    (tied > 0.0).then(|| {
        (
            ft["FT_brute_force_stable_tiebreak"].as_f64().unwrap(),
            tied / ft["n_d_query"].as_f64().unwrap(),
        )
    })
}

fn selector(values: &Json, threshold: &Json) -> Selector {
    match threshold.as_f64() {
        Some(t) => Selector::Above(t),
        None => Selector::Values(
            values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
    }
}

/// A case's data: its file read as an upload is, or its inline columns
/// (numbers, or text as categories), the prediction named `predicted`.
fn case_data(case: &Json) -> Result<automl::Dataset, String> {
    if let Some(file) = case["dataset"].as_str() {
        let ingested = ingest::read_csv(&dir().join(file), &ingest::ReadOptions::default())
            .map_err(|e| e.to_string())?;
        return convert::frame_to_dataset(&ingested.frame).map_err(|e| e.to_string());
    }
    let inline = case["inline_data"].as_object().unwrap();
    let column = |v: &Json| -> automl::Column {
        let items = v.as_array().unwrap();
        if items.iter().all(Json::is_number) {
            automl::Column::Numeric(items.iter().map(|x| x.as_f64().unwrap()).collect())
        } else {
            automl::Column::Categorical(
                items
                    .iter()
                    .map(|x| x.as_str().map(str::to_owned))
                    .collect(),
            )
        }
    };
    let predicted = case["predicted_column"].as_str().unwrap();
    automl::Dataset::new(
        inline
            .iter()
            .map(|(name, v)| {
                let name = if name == predicted { "predicted" } else { name };
                (name.to_owned(), column(v))
            })
            .collect(),
    )
    .map_err(|e| e.to_string())
}

/// The case's metrics, or the input error Kiln gives before computing.
fn compute(case: &Json) -> Result<Vec<BiasMetric>, String> {
    let data = case_data(case)?;
    let col = |name: &str| data.require(name).unwrap();
    let facet_name = case["facet_column"].as_str().unwrap();
    let facet = selector(&case["facet_values"], &case["facet_threshold"])
        .rows(facet_name, col(facet_name))
        .map_err(|e| e.to_string())?;
    let label_sel = selector(&case["label_values"], &case["label_threshold"]);
    let label_name = case["label_column"].as_str().unwrap();
    let label = label_sel.rows(label_name, col(label_name)).unwrap();
    let predicted = label_sel.predicted(col("predicted"));
    let group = case["group_column"].as_str().map(col);
    let facets = Facets::new(&facet, &label, Some(&predicted), group);
    if facets.sizes().1 == 0 {
        // The API refuses a facet that is every row before any metric.
        return Err(format!("every row is in the facet `{facet_name}`"));
    }
    let features: Vec<&str> = case["ft"]["features"]
        .as_array()
        .map(|f| f.iter().map(|n| n.as_str().unwrap()).collect())
        .unwrap_or_default();
    let features = data
        .select(&features, &(0..data.n_rows()).collect::<Vec<_>>())
        .unwrap();
    let mut out = fairness::pre_training(&facets);
    out.extend(fairness::post_training(&facets, Some(&features), 0));
    Ok(out)
}

#[test]
fn every_metric_equals_clarifys_or_kilns_stated_decision() {
    let reference: Json =
        serde_json::from_str(&std::fs::read_to_string(dir().join("reference.json")).unwrap())
            .unwrap();
    assert_eq!(reference["version"], "0.5");
    let mut checked = 0;
    let mut wrong: Vec<String> = Vec::new();
    for case in reference["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let ours = match compute(case) {
            Ok(ours) => ours,
            Err(e) => {
                // A facet with no rows, or with every row, is refused before any metric.
                match id {
                    "edge_empty_facet" => {
                        assert!(e.contains("`gender` has no value “nonbinary”"), "{e}")
                    }
                    "syn_facet_is_everything" => assert!(e.contains("every row"), "{e}"),
                    _ => panic!("{id}: {e}"),
                }
                continue;
            }
        };
        let theirs = case["metrics"].as_object().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{id}: {ours:?}");
        for m in &ours {
            let want = &theirs[m.code];
            let decided = DECIDED
                .iter()
                .find(|(c, code, _)| *c == id && *code == m.code);
            match (decided, &m.value) {
                (Some((.., None)), Value::Undefined(_)) => {}
                (Some((.., Some(v))), Value::Number(x)) => {
                    assert!((x - v).abs() <= 1e-12, "{id} {}: {x} against {v}", m.code);
                }
                (Some(d), got) => wrong.push(format!("{id} {}: {got:?}, decided {d:?}", m.code)),
                (None, Value::Number(x)) if m.code == "FT" && flip_test_tied(case).is_some() => {
                    let (stable, slack) = flip_test_tied(case).unwrap();
                    let clarify = want.as_f64().unwrap();
                    assert!((x - stable).abs() <= 1e-12, "{id} FT: {x} against {stable}");
                    assert!(
                        (x - clarify).abs() <= slack,
                        "{id} FT: {x}, Clarify {clarify}"
                    );
                }
                (None, Value::Number(x)) => {
                    let v = want
                        .as_f64()
                        .unwrap_or_else(|| panic!("{id} {}: {x}, Clarify {want}", m.code));
                    assert!(
                        (x - v).abs() <= 1e-9,
                        "{id} {}: {x} against Clarify's {v}",
                        m.code
                    );
                }
                // Clarify raises, or answers infinity: undefined here too.
                (None, Value::Undefined(_)) if !want.is_f64() => {}
                (None, Value::Undefined(why)) => {
                    wrong.push(format!(
                        "{id} {}: undefined ({why}), Clarify {want}",
                        m.code
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 11 * 21, "{checked}");
}
