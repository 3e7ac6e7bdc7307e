//! Forecasting through the API: the series profile and its charts, a
//! forecast build of twelve related quarterly series from set-up to CSV,
//! the forecaster extended from the same history giving the same numbers,
//! and a 4xx naming the problem for each bad request, storing nothing.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backend::Config;
use common::{TestApp, error_message};
use serde_json::{Value, json};

const MACRO: &[u8] = include_bytes!("../../automl/test_data/forecast/us_macro_quarterly.csv");

async fn wait_forecast(t: &TestApp, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (status, f) = t.json("GET", &format!("/api/forecasts/{id}"), None).await;
        assert_eq!(status, StatusCode::OK, "{f}");
        if !["queued", "running"].contains(&f["state"].as_str().unwrap_or_default()) {
            return f;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "still {}",
            f["state"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_text(t: &TestApp, uri: &str) -> (StatusCode, String) {
    let (status, body, _) = t.call(Request::get(uri).body(Body::empty()).unwrap()).await;
    (status, String::from_utf8(body).expect("text"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forecast_of_related_series_goes_from_set_up_to_csv_and_extends_alike() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.upload("us_macro_quarterly.csv", MACRO).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let id = ds["id"].as_str().unwrap();

    // The profile of the table read as series.
    let q = "time=quarter&target=value&item_column=series";
    let (status, o) = t
        .json("GET", &format!("/api/datasets/{id}/series?{q}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert_eq!(o["frequency"], "quarterly");
    assert_eq!(o["season"], 4);
    assert_eq!(o["items"], 12);
    let gdp = &o["series"][0];
    assert_eq!(gdp["item"], "realgdp");
    assert!(gdp["trend_strength"].as_f64().unwrap() > 0.9, "{gdp}");
    for chart in ["series.svg", "decomposition.svg", "acf.svg"] {
        let (status, svg) = get_text(
            &t,
            &format!("/api/datasets/{id}/series/charts/{chart}?{q}&item=unemp"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{chart}: {svg}");
        assert!(svg.starts_with("<svg"), "{chart}");
    }

    let (status, f) = t
        .json(
            "POST",
            &format!("/api/datasets/{id}/forecasts"),
            Some(
                json!({"time_column": "quarter", "target": "value", "item_column": "series",
                        "horizon": 4, "budget_seconds": 20}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{f}");
    assert_eq!(f["frequency"], "quarterly");
    let fid = f["id"].as_str().unwrap().to_owned();
    let f = wait_forecast(&t, &fid).await;
    assert_eq!(f["state"], "succeeded", "{f}");
    assert!(
        f["elapsed_secs"].as_f64().unwrap() < 20.0 * 1.05 + 5.0,
        "{f}"
    );
    let board = f["board"].as_array().unwrap();
    assert!(board.len() >= 4, "{board:?}");
    assert_eq!(board.iter().filter(|r| r["shipped"] == true).count(), 1);
    assert!(
        board
            .iter()
            .all(|r| r["mase"].as_f64().is_some_and(f64::is_finite))
    );
    // The board ranks by MASE, best first.
    let scores: Vec<f64> = board.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");

    let (status, items) = t
        .json(
            "GET",
            &format!("/api/forecasts/{fid}/items?search=GDP"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["realgdp"]);
    let (status, svg) = get_text(
        &t,
        &format!("/api/forecasts/{fid}/charts/forecast.svg?item=realinv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{svg}");
    assert!(
        svg.contains("P10–P90 band") && svg.contains("forecast (P50)"),
        "{svg}"
    );
    let (status, _) = get_text(
        &t,
        &format!("/api/forecasts/{fid}/charts/forecast.svg?item=nope"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, csv) = get_text(&t, &format!("/api/forecasts/{fid}/forecast.csv")).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "item,timestamp,p10,p50,p90");
    assert_eq!(lines.len(), 1 + 12 * 4);
    // After the last quarter of 2009.
    assert!(
        lines[1].starts_with("realgdp,2009-10-01,") || lines[1].contains(",2010-"),
        "{}",
        lines[1]
    );
    for line in &lines[1..] {
        let cells: Vec<f64> = line
            .split(',')
            .skip(2)
            .map(|c| c.parse().unwrap())
            .collect();
        assert!(cells[0] <= cells[1] && cells[1] <= cells[2], "{line}");
    }

    // The forecaster, extended from the same history, gives the same CSV.
    let (status, body, headers) = t
        .call(
            Request::get(format!("/api/forecasts/{fid}/artifact"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("kiln-forecaster-")
    );
    let artifact: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(artifact["kind"], "kiln-forecaster");
    let (status, ext) = t
        .upload_to(
            &format!("/api/forecasts/{fid}/extend"),
            "history.csv",
            MACRO,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ext}");
    assert_eq!(ext["items"], 12);
    let (status, extended) = get_text(&t, ext["download"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(extended, csv);
    // `kiln forecast` with the downloaded file gives the same CSV too.
    let model = t.dir.join("forecaster.json");
    let history = t.dir.join("history.csv");
    let output = t.dir.join("forecast.csv");
    std::fs::write(&model, &body).unwrap();
    std::fs::write(&history, MACRO).unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["forecast", "--model"])
        .arg(&model)
        .arg("--history")
        .arg(&history)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), csv);
    // A model file is not a forecaster, and says what to use.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["forecast", "--model"])
        .arg(&history)
        .arg("--history")
        .arg(&history)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("not valid JSON"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // A history without the target column is refused by name.
    let (status, e) = t
        .upload_to(
            &format!("/api/forecasts/{fid}/extend"),
            "h.csv",
            b"series,quarter,other\na,2020-01-01,1\n",
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(error_message(&e).contains("target column `value`"), "{e}");

    let (status, list, _) = t.list(&format!("/api/datasets/{id}/forecasts")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = t
        .json("DELETE", &format!("/api/forecasts/{fid}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = t
        .json("GET", &format!("/api/forecasts/{fid}/artifact"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_forecast_requests_are_refused_by_name_and_store_nothing() {
    let t = TestApp::new(Config::default());
    let mut many = String::from("shop,day,sales\n");
    for i in 0..100_000 {
        many.push_str(&format!("s{i},2024-01-01,1\n"));
    }
    let mut long = String::from("day,sales\n");
    for d in 1..=20 {
        long.push_str(&format!("2024-01-{d:02},{d}\n"));
    }
    let cases: Vec<(&str, String, Value, StatusCode, &str)> = vec![
        (
            "unreadable",
            "day,sales\n2024-01-01,1\nsoon,2\n2024-01-03,3\n".into(),
            json!({"time_column": "day", "target": "sales", "horizon": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "row 2 (\"soon\")",
        ),
        (
            "mixed",
            "day,sales\n2024-01-01,1\n2024-02-01,2\n2024-03-01,3\n2024-03-17,4\n2024-04-01,5\n"
                .into(),
            json!({"time_column": "day", "target": "sales", "horizon": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not on one regular grid",
        ),
        (
            "text target",
            "day,sales\n2024-01-01,high\n2024-01-02,low\n2024-01-03,1\n".into(),
            json!({"time_column": "day", "target": "sales", "horizon": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`sales` is not numeric",
        ),
        (
            "horizon",
            long.clone(),
            json!({"time_column": "day", "target": "sales", "horizon": 30}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "longer than the history allows",
        ),
        (
            "single row",
            "day,sales\n2024-01-01,1\n".into(),
            json!({"time_column": "day", "target": "sales", "horizon": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "single timestamp",
        ),
        (
            "items",
            many,
            json!({"time_column": "day", "target": "sales", "item_column": "shop", "horizon": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "more than 10000 items",
        ),
        (
            "column",
            long.clone(),
            json!({"time_column": "date", "target": "sales", "horizon": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timestamp column `date`",
        ),
        (
            "metric",
            long.clone(),
            json!({"time_column": "day", "target": "sales", "horizon": 1, "metric": "r2"}),
            StatusCode::BAD_REQUEST,
            "unknown metric",
        ),
        (
            "quantiles",
            long.clone(),
            json!({"time_column": "day", "target": "sales", "horizon": 1, "quantiles": [0.9, 0.1]}),
            StatusCode::BAD_REQUEST,
            "ascending",
        ),
        (
            "budget",
            long,
            json!({"time_column": "day", "target": "sales", "horizon": 1, "budget_seconds": 1}),
            StatusCode::BAD_REQUEST,
            "budget",
        ),
    ];
    for (name, csv, request, status_wanted, says) in cases {
        let (status, ds) = t
            .upload(&format!("{}.csv", name.replace(' ', "_")), csv.as_bytes())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {ds}");
        let id = ds["id"].as_str().unwrap();
        let (status, e) = t
            .json(
                "POST",
                &format!("/api/datasets/{id}/forecasts"),
                Some(request),
            )
            .await;
        assert_eq!(status, status_wanted, "{name}: {e}");
        assert!(error_message(&e).contains(says), "{name}: {e}");
    }
    let (status, list, _) = t.list("/api/forecasts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]), "nothing is stored");
    // One item with a single row among others is left out, and said so.
    let (status, ds) = t
        .upload("shops.csv", b"shop,day,sales\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-03,3\na,2024-01-04,4\na,2024-01-05,5\nb,2024-01-03,7\n")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = ds["id"].as_str().unwrap();
    let (status, f) = t
        .json(
            "POST",
            &format!("/api/datasets/{id}/forecasts"),
            Some(json!({"time_column": "day", "target": "sales", "item_column": "shop", "horizon": 1, "budget_seconds": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{f}");
    assert_eq!(
        (f["items"].as_u64(), f["items_left_out"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        f["notes"][0].as_str().unwrap().contains("b: only 1 value"),
        "{f}"
    );
    let f = wait_forecast(&t, f["id"].as_str().unwrap()).await;
    assert_eq!(f["state"], "succeeded", "{f}");
}

const BIKES: &[u8] = include_bytes!("../../assets/samples/bike_sharing_daily.csv");

#[tokio::test(flavor = "multi_thread")]
async fn known_covariates_carry_their_future_rows_into_the_forecast_and_its_forecaster() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.upload("bike_sharing_daily.csv", BIKES).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let id = ds["id"].as_str().unwrap();
    let request = |horizon: u32, covariates: Value, attributes: Value| {
        json!({"time_column": "dteday", "target": "cnt", "horizon": horizon,
               "covariates": covariates, "attributes": attributes, "budget_seconds": 20})
    };
    let covariates = json!(["holiday", "workingday", "weathersit", "temp"]);
    // Bad requests name the problem and store nothing.
    for (req, says) in [
        (
            request(20, covariates.clone(), json!([])),
            "`holiday` has no value for 6 of the 20 steps after the history",
        ),
        (
            request(14, json!(["holiday", "cnt"]), json!([])),
            "`cnt` is named twice",
        ),
        (
            request(14, json!(["promo"]), json!([])),
            "column `promo` is not in the table",
        ),
        (
            request(14, json!([]), json!(["season"])),
            "item attributes need an item column",
        ),
    ] {
        let (status, e) = t
            .json("POST", &format!("/api/datasets/{id}/forecasts"), Some(req))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(error_message(&e).contains(says), "{says}: {e}");
    }
    let (_, list, _) = t.list("/api/forecasts").await;
    assert_eq!(list, json!([]), "nothing is stored");

    let (status, f) = t
        .json(
            "POST",
            &format!("/api/datasets/{id}/forecasts"),
            Some(request(14, covariates.clone(), json!([]))),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{f}");
    assert_eq!(f["request"]["covariates"], covariates);
    let fid = f["id"].as_str().unwrap().to_owned();
    let f = wait_forecast(&t, &fid).await;
    assert_eq!(f["state"], "succeeded", "{f}");
    // The forecast covers the 14 days whose covariates were given, after the last count.
    let (status, csv) = get_text(&t, &format!("/api/forecasts/{fid}/forecast.csv")).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 14, "{csv}");
    assert!(lines[1].starts_with("all,2012-12-18,"), "{}", lines[1]);
    assert!(lines[14].starts_with("all,2012-12-31,"), "{}", lines[14]);
    // When the global model earned weight, its importance names the covariates.
    if f["summary"].as_str().unwrap().contains("global") {
        let features: Vec<&str> = f["importance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["feature"].as_str().unwrap())
            .collect();
        assert!(
            features.contains(&"temp at the forecast step"),
            "{features:?}"
        );
    }
    // The forecaster reads the covariates from a new history the same way.
    let (status, ext) = t
        .upload_to(
            &format!("/api/forecasts/{fid}/extend"),
            "history.csv",
            BIKES,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ext}");
    let (_, extended) = get_text(&t, ext["download"].as_str().unwrap()).await;
    assert_eq!(extended, csv);
    // A history without one of them is refused by name.
    let text = std::str::from_utf8(BIKES).unwrap();
    let no_temp: String = text
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!("{},{},{}\n", cells[0], cells[2..6].join(","), cells[9])
        })
        .collect();
    let (status, e) = t
        .upload_to(
            &format!("/api/forecasts/{fid}/extend"),
            "history.csv",
            no_temp.as_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        error_message(&e).contains("`temp` is not in the table"),
        "{e}"
    );
}
