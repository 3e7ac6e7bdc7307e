//! `kiln-bench fairness [ROWS]`: the work behind a bias report, on German
//! credit repeated to ROWS rows (default 50,000) and stored as the server
//! stores a dataset (Parquet): reading it back and converting it (the
//! floor, measured in the same run), then the pre-training report (facet
//! `age_in_years` > 40, favourable `creditability` = good, groups by
//! `purpose`), and the post-training one on the `predicted` column with the
//! flip test.
//!
//! Bar: the pre-training report, reading included, in under 1 s (release).

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use automl::fairness::{self, Facets, Selector};
use data::{convert, ingest};

/// Runs of each measurement; the fastest counts.
const REPEATS: usize = 3;
/// Seconds the pre-training report may take.
const BAR_SECS: f64 = 1.0;

pub fn bench_fairness(root: &Path, args: &[String]) -> Result<()> {
    let rows: usize = match args.first() {
        Some(v) => v
            .parse()
            .with_context(|| format!("`{v}` is not a row count"))?,
        None => 50_000,
    };
    let source = root.join("data/test_data/fairness/german_credit_scored.csv");
    let frame = ingest::read_csv(&source, &ingest::ReadOptions::default())
        .map_err(|e| anyhow!("{e}"))?
        .frame;
    let mut big = frame.clone();
    while big.height() < rows {
        big.vstack_mut(&frame)?;
    }
    let mut big = big.slice(0, rows);
    let path = std::env::temp_dir().join(format!(
        "kiln-bench-fairness-{}.parquet",
        std::process::id()
    ));
    ingest::write_parquet(&mut big, &path).map_err(|e| anyhow!("{e}"))?;
    let read = || -> Result<automl::Dataset> {
        let frame = ingest::read_parquet(&path).map_err(|e| anyhow!("{e}"))?;
        Ok(convert::frame_to_dataset(&frame)?)
    };
    let facets = |data: &automl::Dataset, predicted: bool| -> Result<Facets> {
        let col = |n: &str| data.require(n).map_err(|e| anyhow!("{e}"));
        let facet = Selector::Above(40.0).rows("age_in_years", col("age_in_years")?)?;
        let good = Selector::Values(vec!["good".into()]);
        let label = good.rows("creditability", col("creditability")?)?;
        let pred = if predicted {
            Some(good.rows("predicted", col("predicted")?)?)
        } else {
            None
        };
        Ok(Facets::new(
            &facet,
            &label,
            pred.as_deref(),
            Some(col("purpose")?),
        ))
    };
    let floor = crate::fastest(REPEATS, &mut || read().map(drop))?;
    let pre = crate::fastest(REPEATS, &mut || {
        let data = read()?;
        let metrics = fairness::pre_training(&facets(&data, false)?);
        anyhow::ensure!(metrics.len() == 8, "{metrics:?}");
        Ok(())
    })?;
    let post = crate::fastest(REPEATS, &mut || {
        let data = read()?;
        let names: Vec<&str> = data
            .columns()
            .filter(|(n, c)| {
                matches!(c, automl::Column::Numeric(_)) && !["age_in_years"].contains(n)
            })
            .map(|(n, _)| n)
            .collect();
        let all: Vec<usize> = (0..data.n_rows()).collect();
        let features = data.select(&names, &all)?;
        let metrics = fairness::post_training(&facets(&data, true)?, Some(&features), 0);
        anyhow::ensure!(metrics.len() == 13, "{metrics:?}");
        Ok(())
    })?;
    let _ = std::fs::remove_file(&path);
    println!("rows                          {rows}");
    println!("read + convert (the floor)    {floor:.3} s");
    println!(
        "pre-training report           {pre:.3} s  ({:.2} × the floor; {:.2} × the {BAR_SECS} s bar: {})",
        pre / floor,
        pre / BAR_SECS,
        if pre < BAR_SECS { "met" } else { "NOT MET" }
    );
    println!(
        "post-training report with FT  {post:.3} s  ({:.2} × the floor; the flip test on at most {} facet rows)",
        post / floor,
        fairness::FT_MAX_D
    );
    anyhow::ensure!(pre < BAR_SECS, "the pre-training report took {pre:.3} s");
    Ok(())
}
