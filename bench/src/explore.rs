//! `kiln-bench explore [FILE]`: Explore on flights.csv (336,776 rows, from
//! `../shared/datasets`, or FILE) stored as the server stores a dataset
//! (Parquet): reading it back and converting it (the floor, measured in the
//! same run), then the whole Explore answer with k chosen by silhouette,
//! and with k set.
//!
//! Bar (#21): Explore on flights in under 5 s (release), reading included.

use std::path::Path;

use anyhow::{Result, anyhow};
use data::explore::{self, Query};
use data::{convert, ingest};

/// Runs of each measurement; the fastest counts.
const REPEATS: usize = 3;
/// Seconds Explore may take.
const BAR_SECS: f64 = 5.0;

pub fn bench_explore(root: &Path, args: &[String]) -> Result<()> {
    let source = match args.first() {
        Some(f) => Path::new(f).to_path_buf(),
        None => root.join("../shared/datasets/flights.csv"),
    };
    let mut frame = ingest::read_csv(&source, &ingest::ReadOptions::default())
        .map_err(|e| anyhow!("{}: {e}", source.display()))?
        .frame;
    let path =
        std::env::temp_dir().join(format!("kiln-bench-explore-{}.parquet", std::process::id()));
    ingest::write_parquet(&mut frame, &path).map_err(|e| anyhow!("{e}"))?;
    let read = || -> Result<automl::Dataset> {
        let frame = ingest::read_parquet(&path).map_err(|e| anyhow!("{e}"))?;
        Ok(convert::frame_to_dataset(&frame)?)
    };
    let floor = crate::fastest(REPEATS, &mut || read().map(drop))?;
    let mut report = None;
    let auto = crate::fastest(REPEATS, &mut || {
        let data = read()?;
        report = Some(explore::explore_dataset(&data, &Query::default())?.report);
        Ok(())
    })?;
    let set = crate::fastest(REPEATS, &mut || {
        let data = read()?;
        let q = Query {
            k: Some(5),
            colour: Some("carrier".into()),
            ..Query::default()
        };
        explore::explore_dataset(&data, &q).map(drop)?;
        Ok(())
    })?;
    let _ = std::fs::remove_file(&path);
    let report = report.expect("ran");
    println!("file                          {}", source.display());
    println!("rows                          {}", report.rows);
    println!("columns read                  {}", report.columns.len());
    println!("k chosen                      {}", report.segments.k);
    println!("read + convert (the floor)    {floor:.3} s");
    for (what, secs) in [
        ("Explore, k by silhouette", auto),
        ("Explore, k = 5, coloured", set),
    ] {
        println!(
            "{what:<30}{secs:.3} s  ({:.2} × the floor; {:.2} × the {BAR_SECS} s bar: {})",
            secs / floor,
            secs / BAR_SECS,
            if secs < BAR_SECS { "met" } else { "NOT MET" }
        );
    }
    for m in &report.method {
        println!("  {m}");
    }
    anyhow::ensure!(
        auto < BAR_SECS && set < BAR_SECS,
        "Explore took {auto:.3} s / {set:.3} s"
    );
    Ok(())
}
