//! Explore through the API: segments, map and unusual rows on well-separated
//! blobs (the reference checks live in `data/tests/explore.rs`), the rows
//! with their segment as CSV, and a 4xx naming the problem for each bad
//! request, with the stored dataset untouched.

mod common;

use axum::http::StatusCode;
use backend::Config;
use common::{TestApp, error_message};

const BLOBS: &[u8] = include_bytes!("../../data/test_data/explore/blobs.csv");

#[tokio::test]
async fn explore_answers_segments_a_map_and_unusual_rows() {
    let t = TestApp::new(Config::default());
    let (status, ds) = t.upload("blobs.csv", BLOBS).await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let id = ds["id"].as_str().unwrap();
    let columns = "column=x1&column=x2&column=x3&column=x4&column=x5";
    let (status, e) = t
        .json(
            "GET",
            &format!("/api/datasets/{id}/explore?{columns}&colour=truth"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["rows"], 600);
    assert_eq!(e["segments"]["k"], 4, "{}", e["segments"]);
    let segments = e["segments"]["segments"].as_array().unwrap();
    assert_eq!(
        segments
            .iter()
            .map(|s| s["rows"].as_u64().unwrap())
            .sum::<u64>(),
        600
    );
    assert!(
        segments[0]["sentence"]
            .as_str()
            .unwrap()
            .starts_with("Segment 1 (150 rows")
    );
    let map = &e["map"];
    assert_eq!(map["shown"], 600);
    assert_eq!(map["points"].as_array().unwrap().len(), 600);
    let explained: Vec<f64> = map["explained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(explained.len(), 5);
    assert!((explained.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(map["colour"]["column"], "truth");
    assert_eq!(map["colour"]["groups"].as_array().unwrap().len(), 4);
    assert_eq!(e["unusual"]["scored"], 600);
    assert_eq!(e["unusual"]["rows"].as_array().unwrap().len(), 10);

    // Every row with its segment: each blob is one segment.
    let (status, body, headers) = t
        .call(
            axum::http::Request::get(format!("/api/datasets/{id}/explore?{columns}&format=csv"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = String::from_utf8(body).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "x1,x2,x3,x4,x5,truth,segment,unusual_score"
    );
    let mut pairs = std::collections::BTreeSet::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        pairs.insert((cells[5].to_owned(), cells[6].to_owned()));
    }
    assert_eq!(pairs.len(), 4, "{pairs:?}");
}

#[tokio::test]
async fn bad_explore_requests_get_a_4xx_naming_the_problem() {
    let t = TestApp::new(Config::default());
    let (_, one) = t.upload("one.csv", b"a,b\n1,x\n").await;
    let one = one["id"].as_str().unwrap().to_owned();
    let (_, constant) = t.upload("constant.csv", b"a,b\n1,x\n1,x\n1,x\n").await;
    let constant = constant["id"].as_str().unwrap().to_owned();
    let (_, small) = t.upload("small.csv", b"a,b\n1,x\n2,y\n3,x\n").await;
    let small = small["id"].as_str().unwrap().to_owned();
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            format!("/api/datasets/{one}/explore"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "this table has 1 row",
        ),
        (
            format!("/api/datasets/{constant}/explore"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`a`: the same value in every row",
        ),
        (
            format!("/api/datasets/{small}/explore?k=5"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "5 segments cannot be made from 3 rows",
        ),
        (
            format!("/api/datasets/{small}/explore?k=1"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "between 2 and 20",
        ),
        (
            format!("/api/datasets/{small}/explore?column=zzz"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no column `zzz`",
        ),
        (
            format!("/api/datasets/{small}/explore?colour=zzz"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`zzz` to colour",
        ),
        (
            format!("/api/datasets/{small}/explore?k=two"),
            StatusCode::BAD_REQUEST,
            "`k` must be a whole number",
        ),
        (
            format!("/api/datasets/{small}/explore?size=3"),
            StatusCode::BAD_REQUEST,
            "unknown parameter `size`",
        ),
        (
            format!("/api/datasets/{small}/explore?format=xml"),
            StatusCode::BAD_REQUEST,
            "json or csv",
        ),
        (
            "/api/datasets/0123456789abcdef0123456789abcdef/explore".into(),
            StatusCode::NOT_FOUND,
            "dataset",
        ),
    ];
    for (uri, want, words) in cases {
        let (status, body) = t.json("GET", &uri, None).await;
        assert_eq!(status, want, "{uri}: {body}");
        assert!(error_message(&body).contains(words), "{uri}: {body}");
    }
    // Nothing stored changed: the small table still explores.
    let (status, e) = t
        .json("GET", &format!("/api/datasets/{small}/explore?k=2"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["segments"]["k"], 2);
}
