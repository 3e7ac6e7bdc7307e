//! Imports from real peers (`common::peers`): a throwaway PostgreSQL and
//! moto's S3-compatible server, on loopback ports, stopped afterwards. Rows become datasets as uploads do,
//! the query runs read-only under its limits, and every refusal names the
//! problem.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::StatusCode;
use backend::Config;
use backend::imports::ImportConfig;
use backend::imports::tls::Target;
use common::peers::{Moto, Postgres, free_port};
use common::{TestApp, error_message};
use serde_json::json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn seed_sales(url: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(
            "CREATE TABLE sales (id serial PRIMARY KEY, region text, amount numeric(10,2), units int, \
             sold date, returned boolean, note text);
             INSERT INTO sales (region, amount, units, sold, returned, note)
             SELECT (ARRAY['north','south','east','west'])[1 + i % 4], (i * 7 % 500) + 0.25, i % 13,
                    DATE '2024-01-01' + i, i % 5 = 0, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n' || i END
             FROM generate_series(1, 200) AS i;",
        )
        .await
        .unwrap();
}

async fn rows_of_sales(url: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .query_one("SELECT count(*) FROM sales", &[])
        .await
        .unwrap()
        .get(0)
}

fn app_with(imports: ImportConfig) -> TestApp {
    TestApp::new(Config {
        imports,
        ..Config::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_query_becomes_a_dataset_read_only_and_within_limits() {
    let pg = Postgres::start();
    seed_sales(&pg.url()).await;
    let t = app_with(ImportConfig {
        postgres: Some(Target::parse(&pg.url()).unwrap()),
        ..ImportConfig::default()
    });
    let (status, sources) = t.json("GET", "/api/imports", None).await;
    assert_eq!(status, StatusCode::OK);
    let described = sources["postgres"].as_str().unwrap();
    assert_eq!(
        described,
        format!("postgres on 127.0.0.1:{} as kiln", pg.port)
    );

    let query = "SELECT region, amount, units, sold, returned, note FROM sales ORDER BY id;";
    let (status, ds) = t
        .json(
            "POST",
            "/api/imports/postgres",
            Some(json!({ "query": query, "name": "sales" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    assert_eq!(
        (ds["rows"].as_u64(), ds["columns"].as_u64()),
        (Some(200), Some(6))
    );
    assert_eq!(ds["name"], "sales");
    let source = ds["source"].as_str().unwrap();
    assert!(
        source.starts_with("PostgreSQL query on postgres on 127.0.0.1:"),
        "{source}"
    );
    assert!(source.ends_with("FROM sales ORDER BY id"), "{source}");
    // The connection string is never stored.
    let id = ds["id"].as_str().unwrap();
    let (_, detail) = t.json("GET", &format!("/api/datasets/{id}"), None).await;
    assert!(!detail.to_string().contains("do-not-show"));
    assert_eq!(
        detail["notes"][0],
        "read from the query's rows, each PostgreSQL value as JSON"
    );
    let kinds: Vec<(&str, &str)> = detail["profile"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds[1], ("amount", "numeric"), "{kinds:?}");
    assert_eq!(kinds[2], ("units", "numeric"), "{kinds:?}");
    let note = &detail["profile"]["columns"][5];
    assert_eq!(note["missing"].as_u64(), Some(66), "{note}");
    // It trains like an upload.
    let (status, build) = t
        .json(
            "POST",
            "/api/builds",
            Some(json!({ "dataset_id": id, "target": "amount", "time_budget_secs": 5, "max_trials": 3 })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{build}");
    let build = t
        .wait_final(build["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(build["state"], "succeeded", "{build}");

    // Refusals name the problem; nothing is written to the database.
    for (query, code, words) in [
        ("", "invalid_query", "empty"),
        (
            "SELECT nope FROM sales",
            "invalid_query",
            "column \"nope\" does not exist",
        ),
        ("SELEC 1", "invalid_query", "at character"),
        (
            "SELECT 1; DROP TABLE sales",
            "invalid_query",
            "the database refused",
        ),
        (
            "SELECT nextval('sales_id_seq')",
            "invalid_query",
            "read-only transaction",
        ),
        (
            "WITH gone AS (DELETE FROM sales RETURNING *) SELECT * FROM gone",
            "invalid_query",
            "the database refused",
        ),
        ("SELECT * FROM sales WHERE false", "empty_query", "no rows"),
    ] {
        let (status, e) = t
            .json(
                "POST",
                "/api/imports/postgres",
                Some(json!({ "query": query })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {e}");
        assert_eq!(e["error"]["code"], code, "{query}: {e}");
        assert!(error_message(&e).contains(words), "{query}: {e}");
    }
    assert_eq!(rows_of_sales(&pg.url()).await, 200);

    // The row and time limits.
    let small = app_with(ImportConfig {
        postgres: Some(Target::parse(&pg.url()).unwrap()),
        max_rows: 150,
        timeout: Duration::from_secs(1),
        ..ImportConfig::default()
    });
    let (status, e) = small
        .json(
            "POST",
            "/api/imports/postgres",
            Some(json!({ "query": "TABLE sales" })),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("too_many_rows")),
        "{e}"
    );
    assert!(error_message(&e).contains("more than 150 rows"), "{e}");
    let (status, e) = small
        .json(
            "POST",
            "/api/imports/postgres",
            Some(json!({ "query": "SELECT pg_sleep(5)" })),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("query_timeout")),
        "{e}"
    );
    let (status, datasets) = small.json("GET", "/api/datasets", None).await;
    assert_eq!((status, datasets), (StatusCode::OK, json!([])));

    // A server without a database says how to give it one.
    let none = app_with(ImportConfig::default());
    let (status, e) = none
        .json(
            "POST",
            "/api/imports/postgres",
            Some(json!({ "query": "SELECT 1" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_message(&e).contains("--postgres"), "{e}");
    // A database that is not there.
    let gone = app_with(ImportConfig {
        postgres: Some(
            Target::parse(&format!(
                "postgres://kiln@127.0.0.1:{}/postgres",
                free_port()
            ))
            .unwrap(),
        ),
        ..ImportConfig::default()
    });
    let (status, e) = gone
        .json(
            "POST",
            "/api/imports/postgres",
            Some(json!({ "query": "SELECT 1" })),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("database_unreachable")
        ),
        "{e}"
    );
}

const KEYS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "kiln-test"),
    ("AWS_SECRET_ACCESS_KEY", "kiln-test-secret"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
];

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_object_becomes_a_dataset_in_any_upload_format() {
    let moto = Moto::start();
    // A bucket with a CSV and a workbook.
    moto.put("/kiln-test", b"");
    let penguins = std::fs::read(root().join("assets/samples/penguins.csv")).unwrap();
    moto.put("/kiln-test/data/penguins.csv", &penguins);
    let book = std::fs::read(root().join("data/test_data/formats/two_sheets.xlsx")).unwrap();
    moto.put("/kiln-test/books/two%20sheets.xlsx", &book);

    let config = ImportConfig {
        s3_endpoint: Some(moto.endpoint()),
        s3_settings: KEYS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..ImportConfig::default()
    };
    let t = app_with(config.clone());
    let (status, ds) = t
        .json(
            "POST",
            "/api/imports/s3",
            Some(json!({ "url": "s3://kiln-test/data/penguins.csv" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    assert_eq!(
        (ds["rows"].as_u64(), ds["columns"].as_u64()),
        (Some(344), Some(8))
    );
    assert_eq!(
        (ds["name"].as_str(), ds["source"].as_str()),
        (Some("penguins"), Some("s3://kiln-test/data/penguins.csv"))
    );
    // A workbook asks for its sheet, as an upload does, then reads it.
    let url = "s3://kiln-test/books/two sheets.xlsx";
    let (status, e) = t
        .json("POST", "/api/imports/s3", Some(json!({ "url": url })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "choose_sheet", "{e}");
    let (status, ds) = t
        .json(
            "POST",
            "/api/imports/s3",
            Some(json!({ "url": url, "sheet": "Penguins" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");

    for (url, code, words) in [
        (
            "s3://kiln-test/data/absent.csv",
            "not_found",
            "no such object",
        ),
        (
            "https://example.com/x.csv",
            "invalid_url",
            "is not an S3 URL",
        ),
        (
            "s3://kiln-test",
            "invalid_url",
            "names a bucket but no file",
        ),
    ] {
        let (status, e) = t
            .json("POST", "/api/imports/s3", Some(json!({ "url": url })))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {e}");
        assert_eq!(e["error"]["code"], code, "{url}: {e}");
        assert!(error_message(&e).contains(words), "{url}: {e}");
    }
    // Over the upload limit: refused, nothing kept.
    let small = TestApp::new(Config {
        imports: config,
        max_upload_bytes: 1024,
        ..Config::default()
    });
    let (status, e) = small
        .json(
            "POST",
            "/api/imports/s3",
            Some(json!({ "url": "s3://kiln-test/data/penguins.csv" })),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    let (_, datasets) = small.json("GET", "/api/datasets", None).await;
    assert_eq!(datasets, json!([]));
}

/// The TLS a connection string asks for, as libpq reads `sslmode` and
/// `sslrootcert`, against a server that takes TLS connections only, with a
/// certificate for `db.example.internal` (not the address connected to).
#[tokio::test(flavor = "multi_thread")]
async fn postgres_over_tls_as_sslmode_asks() {
    let pg = Postgres::start_tls();
    let ca = pg.ca();
    let url = |query: &str| format!("postgres://kiln@127.0.0.1:{}/postgres?{query}", pg.port);
    // 20 rows saying whether this session is encrypted, and how.
    let ask = json!({
        "query": "SELECT s.ssl, s.version, n FROM pg_stat_ssl s, generate_series(1, 20) n \
                  WHERE s.pid = pg_backend_pid()"
    });
    let import = |conn: String| {
        let ask = ask.clone();
        async move {
            let t = app_with(ImportConfig {
                postgres: Some(Target::parse(&conn).unwrap()),
                ..ImportConfig::default()
            });
            let (status, body) = t.json("POST", "/api/imports/postgres", Some(ask)).await;
            let first_row = if status == StatusCode::CREATED {
                let id = body["id"].as_str().unwrap();
                let (_, page) = t
                    .json("GET", &format!("/api/datasets/{id}/rows?limit=1"), None)
                    .await;
                page["rows"][0].clone()
            } else {
                serde_json::Value::Null
            };
            (status, body, first_row)
        }
    };
    let ca = ca.display().to_string();
    // Encrypted without checking the certificate: `require`, and `prefer`
    // (the default) when the server offers TLS.
    for mode in ["sslmode=require", ""] {
        let (status, body, row) = import(url(mode)).await;
        assert_eq!(status, StatusCode::CREATED, "{mode}: {body}");
        assert_eq!(row[0], "true", "{mode}: {row}");
        assert!(row[1].as_str().unwrap().starts_with("TLSv1."), "{row}");
    }
    // The chain checked against sslrootcert: the authority signed it.
    let (status, body, row) = import(url(&format!("sslmode=verify-ca&sslrootcert={ca}"))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(row[0], "true");
    // `require` with a root certificate checks the chain as verify-ca does.
    let (status, body, _) = import(url(&format!("sslmode=require&sslrootcert={ca}"))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // verify-full: the certificate is for db.example.internal, not 127.0.0.1.
    let (status, body, _) = import(url(&format!("sslmode=verify-full&sslrootcert={ca}"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = error_message(&body);
    assert!(
        message.contains("certificate") && message.contains("verify-full"),
        "{message}"
    );
    // verify-ca against the system's authorities, which did not sign it.
    let (status, body, _) = import(url("sslmode=verify-ca&sslrootcert=system")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(error_message(&body).contains("UnknownIssuer"), "{body}");
    // Without TLS, the server's pg_hba.conf refuses, and says so.
    let (status, body, _) = import(url("sslmode=disable")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = error_message(&body);
    assert!(
        message.starts_with("the database refused the connection")
            && message.contains("no encryption"),
        "{message}"
    );
}
