//! Bias reports through the API: before training on German credit (values
//! equal to smclarify's, as `data/tests/fairness.rs` checks in full), after
//! training on a model's out-of-fold predictions, the printable page, the
//! suggested facets, and a 4xx naming the problem for each bad request.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use backend::Config;
use common::{TestApp, error_message};

const GERMAN: &[u8] = include_bytes!("../../data/test_data/fairness/german_credit_scored.csv");

/// The reference value of `metric` in case `id` (`reference.json`).
fn clarify(id: &str, metric: &str) -> f64 {
    let r: serde_json::Value =
        serde_json::from_str(include_str!("../../data/test_data/fairness/reference.json")).unwrap();
    let case = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    case["metrics"][metric].as_f64().unwrap()
}

fn metric(report: &serde_json::Value, code: &str) -> f64 {
    report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {report}"))["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("{code} has no value in {report}"))
}

/// How many facet values the report's chart draws.
fn report_values(report: &serde_json::Value) -> usize {
    report["by_value"].as_array().unwrap().len()
}

const FEMALE: &str = "female+%3A+divorced%2Fseparated%2Fmarried";

#[tokio::test]
async fn a_dataset_reports_clarifys_pre_training_metrics_and_suggests_facets() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.upload("german.csv", GERMAN).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let id = ds["id"].as_str().unwrap();
    let uri = format!(
        "/api/datasets/{id}/fairness?facet=personal_status_and_sex&value={FEMALE}&target=creditability&favourable=good&group=purpose"
    );
    let (status, report) = t.json("GET", &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    for code in ["CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL"] {
        let (ours, theirs) = (metric(&report, code), clarify("german_sex_female", code));
        assert!(
            (ours - theirs).abs() <= 1e-9,
            "{code}: {ours} against {theirs}"
        );
    }
    assert_eq!(report["facet_rows"], 310);
    assert_eq!(report["other_rows"], 690);
    let dpl = &report["metrics"][1];
    assert_eq!(dpl["name"], "Difference in proportions of labels");
    assert!(
        dpl["reading"]
            .as_str()
            .unwrap()
            .contains("more common among the facet"),
        "{dpl}"
    );
    // A numeric facet by threshold.
    let (_, report) = t
        .json(
            "GET",
            &format!("/api/datasets/{id}/fairness?facet=age_in_years&above=40&target=creditability&favourable=good"),
            None,
        )
        .await;
    let (ours, theirs) = (metric(&report, "DPL"), clarify("german_age_gt40", "DPL"));
    assert!((ours - theirs).abs() <= 1e-9, "{ours} against {theirs}");
    assert_eq!(report["facet"], "`age_in_years` > 40");
    // The printable page.
    let req = Request::get(format!("{uri}&format=html"))
        .body(Body::empty())
        .unwrap();
    let (status, body, headers) = t.call(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = String::from_utf8(body).unwrap();
    assert!(
        page.contains("Bias before training: german")
            && page.contains("Class imbalance (CI)")
            && page.contains("format=svg\" alt=\"Favourable share"),
        "{page}"
    );
    // The chart of favourable shares by facet value.
    let req = Request::get(format!("{uri}&format=svg"))
        .body(Body::empty())
        .unwrap();
    let (status, body, headers) = t.call(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    let svg = String::from_utf8(body).unwrap();
    assert!(svg.contains("Favourable share by value"), "{svg}");
    // For a threshold, each side of it.
    assert_eq!(report_values(&report), 2);
    // Suggested, by name: sex and age; foreign_worker too.
    let (_, facets) = t
        .json("GET", &format!("/api/datasets/{id}/facets"), None)
        .await;
    let names: Vec<&str> = facets
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["column"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["personal_status_and_sex", "age_in_years", "foreign_worker"]
    );
}

#[tokio::test]
async fn a_model_reports_post_training_metrics_on_its_out_of_fold_predictions() {
    let t = TestApp::new(Config::default());
    let (_, ds) = t.upload("german.csv", GERMAN).await;
    let id = ds["id"].as_str().unwrap();
    let (status, build) = t
        .json(
            "POST",
            "/api/builds",
            Some(serde_json::json!({ "dataset_id": id, "target": "creditability", "time_budget_secs": 5, "families": ["linear"], "exclude": ["predicted"] })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(60))
        .await;
    assert_eq!(build["state"], "succeeded", "{build}");
    let model = build["model_id"].as_str().unwrap();
    let (status, report) = t
        .json(
            "GET",
            &format!("/api/models/{model}/fairness?facet=age_in_years&above=40&favourable=good&group=purpose"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // The labels are the dataset's: the pre-training values are Clarify's.
    let (ours, theirs) = (metric(&report, "DPL"), clarify("german_age_gt40", "DPL"));
    assert!((ours - theirs).abs() <= 1e-9, "{ours} against {theirs}");
    // The predictions are the model's out-of-fold ones: DPPL is the rates' difference.
    let rates = report["rates"].as_array().unwrap();
    let predicted = |i: usize| rates[i]["predictions"].as_f64().unwrap();
    let dppl = metric(&report, "DPPL");
    assert!(
        (dppl - (predicted(1) - predicted(0))).abs() < 1e-12,
        "{report}"
    );
    for code in [
        "DI", "DCA", "DCR", "DAR", "DRR", "RD", "SD", "AD", "TE", "GE", "CDDPL", "FT",
    ] {
        metric(&report, code);
    }
    assert!(
        report["source"]
            .as_str()
            .unwrap()
            .contains("1,000 training rows"),
        "{report}"
    );
    // A scored file that holds the outcomes: its predictions against them.
    let (status, batch) = t
        .upload_to(
            &format!("/api/models/{model}/batch"),
            "applicants.csv",
            GERMAN,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{batch}");
    let scored = batch["id"].as_str().unwrap();
    let (status, report) = t
        .json(
            "GET",
            &format!(
                "/api/predictions/{scored}/fairness?facet=age_in_years&above=40&favourable=good"
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (ours, theirs) = (metric(&report, "DPL"), clarify("german_age_gt40", "DPL"));
    assert!((ours - theirs).abs() <= 1e-9, "{ours} against {theirs}");
    assert!(
        report["source"]
            .as_str()
            .unwrap()
            .contains("scored rows of “applicants.csv”"),
        "{report}"
    );
    let rates = report["rates"].as_array().unwrap();
    let predicted = |i: usize| rates[i]["predictions"].as_f64().unwrap();
    let dppl = metric(&report, "DPPL");
    assert!(
        (dppl - (predicted(1) - predicted(0))).abs() < 1e-12,
        "{report}"
    );
    // Without the outcomes, there is nothing to compare with.
    let inputs: String = String::from_utf8_lossy(GERMAN)
        .lines()
        .map(|l| l.rsplitn(3, ',').nth(2).unwrap_or(l).to_owned() + "\n")
        .collect();
    let (_, unlabelled) = t
        .upload_to(
            &format!("/api/models/{model}/batch"),
            "no outcomes.csv",
            inputs.as_bytes(),
        )
        .await;
    let (status, err) = t
        .json(
            "GET",
            &format!(
                "/api/predictions/{}/fairness?facet=age_in_years&above=40&favourable=good",
                unlabelled["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(error_message(&err).contains("holds no outcomes"), "{err}");
}

#[tokio::test]
async fn bad_bias_requests_get_a_4xx_naming_the_problem() {
    let t = TestApp::new(Config::default());
    let mut csv = String::from("sex,same,empty,age,wage,outcome\n");
    for i in 0..60 {
        let sex = if i % 3 == 0 { "female" } else { "male" };
        let outcome = if i % 2 == 0 { "yes" } else { "no" };
        csv.push_str(&format!("{sex},x,,{},{}.5,{outcome}\n", 20 + i, 10 + i));
    }
    let (_, ds) = t.upload("people.csv", csv.as_bytes()).await;
    let id = ds["id"].as_str().unwrap();
    for (query, status, words) in [
        (
            "facet=nope&value=a&target=outcome&favourable=yes",
            422,
            "no column `nope`",
        ),
        (
            "facet=same&value=x&target=outcome&favourable=yes",
            422,
            "`same` has one value, “x”",
        ),
        (
            "facet=empty&value=x&target=outcome&favourable=yes",
            422,
            "`empty` has no values",
        ),
        (
            "facet=sex&value=female&target=outcome&favourable=maybe",
            422,
            "`outcome` has no value “maybe”",
        ),
        (
            "facet=sex&value=female&target=wage",
            422,
            "`wage` is numeric: give the threshold",
        ),
        (
            "facet=sex&value=female&target=outcome",
            422,
            "choose the favourable value(s) of `outcome`",
        ),
        (
            "facet=sex&target=outcome&favourable=yes",
            422,
            "choose the value(s) of `sex`",
        ),
        (
            "facet=sex&value=other&target=outcome&favourable=yes",
            422,
            "`sex` has no value “other”",
        ),
        (
            "facet=age&above=200&target=outcome&favourable=yes",
            422,
            "no row with a known outcome is in the facet",
        ),
        (
            "facet=age&above=1&target=outcome&favourable=yes",
            422,
            "every row with a known outcome is in the facet",
        ),
        (
            "facet=sex&above=1&target=outcome&favourable=yes",
            422,
            "not numeric",
        ),
        (
            "facet=outcome&value=yes&target=outcome&favourable=yes",
            422,
            "is the target",
        ),
        (
            "facet=sex&value=female&favourable=yes",
            422,
            "choose the target",
        ),
        (
            "facet=age&above=old&target=outcome&favourable=yes",
            400,
            "`above` must be a number",
        ),
        (
            "value=female&target=outcome&favourable=yes",
            422,
            "choose a facet column",
        ),
    ] {
        let (got, err) = t
            .json("GET", &format!("/api/datasets/{id}/fairness?{query}"), None)
            .await;
        assert_eq!(got.as_u16(), status, "{query}: {err}");
        assert!(error_message(&err).contains(words), "{query}: {err}");
    }
    // A regression target with a threshold is fine, and few rows are warned about.
    let (status, report) = t
        .json(
            "GET",
            &format!(
                "/api/datasets/{id}/fairness?facet=sex&value=female&target=wage&favourable_above=40"
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["favourable"], "`wage` > 40");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("The facet has only 20 rows"),
        "{report}"
    );
    let (_, report) = t
        .json(
            "GET",
            &format!(
                "/api/datasets/{id}/fairness?facet=age&above=60&target=outcome&favourable=yes"
            ),
            None,
        )
        .await;
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("The facet has only 19 rows"),
        "{report}"
    );
    let (status, _) = t
        .json(
            "GET",
            "/api/models/0123456789abcdef0123456789abcdef/fairness?facet=a&value=b",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
