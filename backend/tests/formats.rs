//! Uploads beyond CSV through the API (#22): a workbook of several sheets
//! asks which (the sheets in the error's details), then reads the one
//! chosen; Parquet, Arrow IPC, JSON Lines and compressed CSV upload as
//! datasets named without their extension; a scored file may be any of
//! them; a decompression bomb is refused within the upload limit, and
//! nothing stored is lost.

mod common;

use axum::http::StatusCode;
use backend::Config;
use common::{TestApp, error_message};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/test_data/formats")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn every_format_uploads_as_a_dataset() {
    let t = TestApp::new(Config::default());
    for (file, name) in [
        ("table.csv.gz", "table"),
        ("table.zip", "table"),
        ("table.jsonl", "table"),
        ("table.parquet", "table"),
        ("table.arrow", "table"),
        ("table.xls", "table"),
    ] {
        let (status, ds) = t.upload(file, &fixture(file)).await;
        assert_eq!(status, StatusCode::CREATED, "{file}: {ds}");
        assert_eq!(
            (ds["rows"].as_u64(), ds["columns"].as_u64()),
            (Some(5), Some(5)),
            "{file}"
        );
        assert_eq!(ds["name"], name, "{file}");
        let id = ds["id"].as_str().unwrap();
        let (_, detail) = t.json("GET", &format!("/api/datasets/{id}"), None).await;
        let notes = detail["notes"].to_string();
        assert!(notes.contains("read as a"), "{file}: {notes}");
    }
    // Latin-1 is for text: a Parquet file asked to be read so keeps its bytes.
    let (status, ds) = t
        .upload_to(
            "/api/datasets?encoding=latin1",
            "table.parquet",
            &fixture("table.parquet"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
}

#[tokio::test]
async fn a_workbook_asks_for_its_sheet() {
    let t = TestApp::new(Config::default());
    let book = fixture("two_sheets.xlsx");
    let (status, e) = t.upload("birds.xlsx", &book).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "choose_sheet");
    assert_eq!(
        e["error"]["details"]["sheets"],
        serde_json::json!(["Notes", "Penguins"])
    );
    assert!(
        error_message(&e).starts_with("birds.xlsx: the workbook has 2 sheets"),
        "{e}"
    );
    let (status, e) = t
        .upload_to("/api/datasets?sheet=Gulls", "birds.xlsx", &book)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unknown_sheet");
    let (status, ds) = t
        .upload_to("/api/datasets?sheet=Penguins", "birds.xlsx", &book)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    assert_eq!(ds["name"], "birds");
    assert_eq!(ds["rows"], 5);
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_within_the_upload_limit() {
    let t = TestApp::new(Config {
        max_upload_bytes: 1 << 20,
        ..Config::default()
    });
    let (status, kept) = t.upload("table.csv.gz", &fixture("table.csv.gz")).await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    // 50 KB on the wire, 20 MB once decompressed.
    let (status, e) = t.upload("bomb.csv.gz", &fixture("bomb.csv.gz")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "limit_exceeded");
    assert!(
        error_message(&e).contains("decompresses to more than 1 MB"),
        "{e}"
    );
    let (status, list, _) = t.list("/api/datasets").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}
