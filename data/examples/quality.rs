//! Times ingest, profile and the quality report on a CSV, the work behind an
//! upload and `GET /api/datasets/{id}/quality`:
//! `cargo run --release -p backend --example quality -- FILE.csv [TARGET]`.

use std::time::Instant;

use anyhow::Context;
use data::{ingest, profile, quality};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().context("usage: quality FILE.csv [TARGET]")?;
    let target = args.next();
    let start = Instant::now();
    let ingested = ingest::read_csv(path.as_ref(), &ingest::ReadOptions::default())?;
    let frame = ingested.frame;
    let read = start.elapsed();
    let start = Instant::now();
    let p = profile::profile(&frame)?;
    let profiled = start.elapsed();
    let parquet = std::env::temp_dir().join(format!("kiln-quality-{}.parquet", std::process::id()));
    ingest::write_parquet(&mut frame.clone(), &parquet)?;
    let start = Instant::now();
    let stored = ingest::read_parquet(&parquet)?;
    let reread = start.elapsed();
    let start = Instant::now();
    let report = quality::report(&stored, target.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let checked = start.elapsed();
    std::fs::remove_file(&parquet)?;
    println!(
        "{} rows x {} columns (statistics sample: {:?})",
        frame.height(),
        frame.width(),
        p.sampled_rows
    );
    println!("read CSV        {:>8.3} s", read.as_secs_f64());
    println!("profile         {:>8.3} s", profiled.as_secs_f64());
    println!("read Parquet    {:>8.3} s", reread.as_secs_f64());
    println!("quality report  {:>8.3} s", checked.as_secs_f64());
    for f in &report.findings {
        println!(
            "{:>8} {:<22} {}",
            f.severity.label(),
            f.kind.as_str(),
            f.message
        );
    }
    Ok(())
}
