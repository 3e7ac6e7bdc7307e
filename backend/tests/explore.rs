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

#[tokio::test]
async fn segments_as_a_recipe_step_travel_with_the_model() {
    use serde_json::json;
    let t = TestApp::new(Config::default());
    let (_, ds) = t.upload("blobs.csv", BLOBS).await;
    let id = ds["id"].as_str().unwrap().to_owned();
    let inputs = ["x1", "x2", "x3", "x4", "x5"];
    // Explore's segments, then the same as a recipe step.
    let (_, e) = t
        .json(
            "GET",
            &format!("/api/datasets/{id}/explore?column=x1&column=x2&column=x3&column=x4&column=x5&k=4&format=json"),
            None,
        )
        .await;
    assert_eq!(e["segments"]["k"], 4);
    let step = json!({ "op": "add_segments", "columns": inputs, "k": 4 });
    let (status, v1) = t
        .json(
            "PUT",
            &format!("/api/datasets/{id}/recipe"),
            Some(json!({ "steps": [step.clone()] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    // A step that reads the target is refused before any build.
    let (status, refused) = t
        .json(
            "POST",
            "/api/builds",
            Some(json!({ "dataset_id": id, "target": "x1", "time_budget_secs": 5, "recipe_version": 1 })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        error_message(&refused).contains("its segments read the target `x1`"),
        "{refused}"
    );
    // A build on the recipe: the fitted centres travel in its artifact.
    let (status, build) = t
        .json(
            "POST",
            "/api/builds",
            Some(json!({ "dataset_id": id, "target": "truth", "time_budget_secs": 5, "recipe_version": 1 })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let done = t
        .wait_final(
            build["id"].as_str().unwrap(),
            std::time::Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let model = done["model_id"].as_str().unwrap();
    let (_, bytes, _) = t
        .call(
            axum::http::Request::get(format!("/api/models/{model}/artifact"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let artifact: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let steps = artifact["recipe"]["steps"].as_array().unwrap();
    let fitted = steps
        .iter()
        .find(|s| s["op"] == "segments")
        .expect("the segment step");
    assert_eq!(fitted["segments"]["centroids"].as_array().unwrap().len(), 4);
    let inputs_kept: Vec<&str> = artifact["recipe"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(inputs_kept, inputs);
    // New rows: the first rows of the file, scored and explained through the
    // recipe, the segment's contribution shared among its columns.
    let text = std::str::from_utf8(BLOBS).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .take(3)
        .map(|l| {
            let c: Vec<f64> = l.split(',').take(5).map(|v| v.parse().unwrap()).collect();
            json!({ "x1": c[0], "x2": c[1], "x3": c[2], "x4": c[3], "x5": c[4] })
        })
        .collect();
    let truth: Vec<&str> = text
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    let (status, ex) = t
        .json(
            "POST",
            &format!("/api/models/{model}/explain"),
            Some(json!({ "rows": rows })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ex}");
    for (i, want) in truth.iter().enumerate() {
        assert_eq!(ex["prediction"]["predictions"][i]["value"], *want, "{ex}");
        let e = &ex["explanations"][i];
        let contributions = e["contributions"].as_array().unwrap();
        assert_eq!(contributions.len(), 5, "{e}");
        let sum: f64 = contributions
            .iter()
            .map(|c| c["shap"].as_f64().unwrap())
            .sum();
        let (base, raw) = (e["base"].as_f64().unwrap(), e["raw"].as_f64().unwrap());
        assert!((base + sum - raw).abs() < 1e-9, "{base} + {sum} vs {raw}");
    }

    // `kiln explain` on the same rows, from the downloaded artifact, gives
    // the API's values: one line per row and output.
    let dir = std::env::temp_dir().join(format!("kiln-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model_file, rows_file, out_file) = (
        dir.join("model.json"),
        dir.join("rows.csv"),
        dir.join("shap.csv"),
    );
    std::fs::write(&model_file, &bytes).unwrap();
    let first: Vec<&str> = text.lines().take(4).collect();
    std::fs::write(&rows_file, first.join("\n") + "\n").unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("explain")
        .arg("--model")
        .arg(&model_file)
        .arg("--input")
        .arg(&rows_file)
        .arg("--output")
        .arg(&out_file)
        .status()
        .unwrap();
    assert!(status.success());
    let cli = std::fs::read_to_string(&out_file).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let mut lines = cli.lines();
    assert_eq!(lines.next().unwrap(), "row,output,base,raw,x1,x2,x3,x4,x5");
    let lines: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(lines.len(), 3 * 4, "a line per row and class");
    for i in 0..3 {
        let e = &ex["explanations"][i];
        let line = lines
            .iter()
            .find(|l| l[0] == (i + 1).to_string() && l[1] == e["output"].as_str().unwrap())
            .expect("the explained output");
        let raw: f64 = line[3].parse().unwrap();
        assert!(
            (raw - e["raw"].as_f64().unwrap()).abs() < 1e-9,
            "{line:?} vs {e}"
        );
        let shap: f64 = line[4..].iter().map(|v| v.parse::<f64>().unwrap()).sum();
        let base: f64 = line[2].parse().unwrap();
        assert!((base + shap - raw).abs() < 1e-9, "{line:?}");
    }
}
