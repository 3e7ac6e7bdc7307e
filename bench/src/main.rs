//! `kiln-bench`: Kiln against LightGBM and FLAML on identical 80/20 splits.
//! Run through `cargo xtask bench gbdt|automl|shap`, which builds it in
//! release. The reference side is `bench/python/reference.py` (LightGBM
//! and FLAML are pip-installed when missing); metrics of both sides are
//! computed here, by the same code, on the same test rows.
//!
//! - `gbdt [ROUNDS]`: our boosted trees and LightGBM at equal settings (the
//!   same numeric matrix, trees, leaves, learning rate, 255 bins, 2
//!   threads, no early stopping): fit time and test metric.
//! - `shap [ROUNDS]`: TreeSHAP per row and one-row prediction, ours and
//!   LightGBM's `pred_contrib`, on models of the same size.
//! - `automl [SECONDS] [SPLITS]`: Kiln's AutoML under a budget, FLAML under
//!   the same budget, and LightGBM with default settings, on SPLITS (3)
//!   seeded 80/20 splits (seeds 42, 43, …), then each side's mean per dataset.
//! - `ingest [MB]`: Kiln's ingest + profile against Python Polars, and its
//!   peak memory on a generated CSV of MB megabytes (`ingest.rs`).
//!
//! `automl` prints each search's best validation score per family;
//! `KILN_BENCH_DATASETS=a,b` runs only those datasets; `KILN_BENCH_KEEP=1`
//! keeps the matrices written for the reference side; `KILN_BENCH_VERBOSE=1`
//! prints the top of each AutoML leaderboard and the best of each family;
//! `KILN_BENCH_NO_FLAML=1` leaves FLAML out (its column shows NaN).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automl::{Dataset, GbdtParams, Target, Task};
use polars::prelude::*;

mod explore;
mod fairness;
mod forecast;
mod ingest;

const THREADS: usize = 2;
/// The seed of the first (or only) 80/20 split; further splits count up from it.
const SPLIT_SEED: u64 = 42;

struct Source {
    name: &'static str,
    file: &'static str,
    target: &'static str,
}

const SOURCES: &[Source] = &[
    Source {
        name: "diamonds",
        file: "assets/samples/diamonds.csv",
        target: "price",
    },
    Source {
        name: "flights",
        file: "../shared/datasets/flights.csv",
        target: "arr_delay",
    },
    Source {
        name: "german_credit",
        file: "assets/samples/german_credit.csv",
        target: "creditability",
    },
    Source {
        name: "breast_cancer",
        file: "assets/samples/breast_cancer.csv",
        target: "diagnosis",
    },
    Source {
        name: "penguins",
        file: "assets/samples/penguins.csv",
        target: "species",
    },
    Source {
        name: "seattle_weather",
        file: "assets/samples/seattle_weather.csv",
        target: "weather",
    },
    Source {
        name: "diabetes",
        file: "assets/samples/diabetes.csv",
        target: "progression",
    },
    // Small regression tables (#15), the copies the ONNX tests use.
    Source {
        name: "carseats",
        file: "data/test_data/onnx/carseats.csv",
        target: "Sales",
    },
    Source {
        name: "hitters",
        file: "data/test_data/onnx/hitters.csv",
        target: "Salary",
    },
    Source {
        name: "cps1985_wages",
        file: "data/test_data/onnx/cps1985_wages.csv",
        target: "wage",
    },
    Source {
        name: "windsor_house_prices",
        file: "data/test_data/onnx/windsor_house_prices.csv",
        target: "price",
    },
];

/// A dataset split 80/20 (seeded), as the engine sees it.
struct Split {
    name: &'static str,
    target_name: &'static str,
    frame: DataFrame,
    data: Dataset,
    task: Task,
    /// Data rows with a target, and the target over them.
    rows: Vec<usize>,
    target: Target,
    /// Positions in `rows`.
    train: Vec<usize>,
    test: Vec<usize>,
}

/// Positions `0..n` shuffled by a seeded SplitMix64 and cut 80/20, so every
/// run and every tool sees the same rows.
fn cut(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = automl::Rng::from_state(seed);
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    let test = order.split_off(n * 4 / 5);
    (order, test)
}

impl Split {
    /// The same data cut by another seed (without reading the file again).
    fn reseeded(&self, seed: u64) -> Split {
        let (train, test) = cut(self.rows.len(), seed);
        Split {
            frame: self.frame.clone(),
            data: self.data.clone(),
            rows: self.rows.clone(),
            target: self.target.clone(),
            train,
            test,
            ..*self
        }
    }

    fn load(root: &Path, s: &'static Source, seed: u64) -> Result<Option<Split>> {
        let path = root.join(s.file);
        if !path.exists() {
            eprintln!("skipping {}: {} is not here", s.name, path.display());
            return Ok(None);
        }
        let frame = data::ingest::read_csv(&path, &data::ingest::ReadOptions::default())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            .frame;
        let data = data::convert::frame_to_dataset(&frame)
            .map_err(|e| anyhow::anyhow!("{}: {e}", s.name))?;
        let col = data.require(s.target)?;
        let task = automl::detect_task(s.target, col)?;
        let (target, rows) = Target::encode(s.target, col, task)?;
        let (train, test) = cut(rows.len(), seed);
        Ok(Some(Split {
            name: s.name,
            target_name: s.target,
            frame,
            data,
            task,
            rows,
            target,
            train,
            test,
        }))
    }

    fn k(&self) -> usize {
        self.target.n_classes()
    }

    fn task_name(&self) -> &'static str {
        match self.task {
            Task::Regression => "regression",
            Task::Binary => "binary",
            Task::Multiclass => "multiclass",
        }
    }

    fn data_rows(&self, positions: &[usize]) -> Vec<usize> {
        positions.iter().map(|&p| self.rows[p]).collect()
    }

    /// Raw columns of `positions`, with the target as a number (class index).
    fn write_raw(&self, positions: &[usize], path: &Path) -> Result<()> {
        let idx: Vec<IdxSize> = self
            .data_rows(positions)
            .iter()
            .map(|&r| r as IdxSize)
            .collect();
        let mut df = self.frame.take(&IdxCa::from_vec("idx".into(), idx))?;
        let values: Vec<f64> = match &self.target.subset(positions) {
            Target::Regression(y) => y.clone(),
            Target::Classes { y, .. } => y.iter().map(|&c| c as f64).collect(),
        };
        df.with_column(Column::new(self.target_name.into(), values))?;
        let mut f = std::fs::File::create(path)?;
        CsvWriter::new(&mut f).finish(&mut df)?;
        Ok(())
    }

    /// Primary test metric of predictions (values or row-major probabilities).
    fn score(&self, pred: &[f64]) -> Score {
        let target = self.target.subset(&self.test);
        let metric = automl::Metric::default_for(self.task);
        Score {
            name: metric.name(),
            value: metric.score(&target, pred),
            higher_is_better: metric.higher_is_better(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Score {
    name: &'static str,
    value: f64,
    higher_is_better: bool,
}

impl Score {
    /// How much worse than `reference`, in percent (negative: better).
    fn worse_pct(&self, reference: f64) -> f64 {
        let d = if self.higher_is_better {
            reference - self.value
        } else {
            self.value - reference
        };
        100.0 * d / reference.abs().max(1e-12)
    }
}

fn write_matrix(cols: &[Vec<f64>], y: &Target, path: &Path) -> Result<()> {
    let mut out = String::new();
    for f in 0..cols.len() {
        write!(out, "f{f},")?;
    }
    out.push_str("y\n");
    let labels: Vec<f64> = match y {
        Target::Regression(v) => v.clone(),
        Target::Classes { y, .. } => y.iter().map(|&c| c as f64).collect(),
    };
    for (r, label) in labels.iter().enumerate() {
        for c in cols {
            let v = c[r];
            if !v.is_nan() {
                write!(out, "{v}")?;
            }
            out.push(',');
        }
        writeln!(out, "{label}")?;
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn read_predictions(path: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .flat_map(|l| l.split(','))
        .map(|v| v.trim().parse::<f64>().context("a prediction"))
        .collect()
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Installs LightGBM, FLAML and scikit-learn with pip when they are missing.
fn ensure_python() -> Result<()> {
    let ok = Command::new(python())
        .args([
            "-c",
            "import lightgbm, sklearn, pandas; from flaml import AutoML",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    eprintln!("installing lightgbm, flaml[automl] and scikit-learn with pip");
    let st = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "lightgbm",
            "flaml[automl]",
            "scikit-learn",
            "pandas",
        ])
        .status()
        .context("running pip (is Python 3 installed?)")?;
    if !st.success() {
        bail!("pip could not install the reference tools");
    }
    Ok(())
}

fn reference(root: &Path, args: &[String]) -> Result<serde_json::Value> {
    let out = Command::new(python())
        .arg(root.join("bench/python/reference.py"))
        .args(args)
        .output()
        .context("running bench/python/reference.py")?;
    if !out.status.success() {
        bail!(
            "reference.py {} failed: {}",
            args.first().map_or("", String::as_str),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("reference output: {text}"))
}

struct Prepared {
    train_x: Vec<Vec<f64>>,
    test_x: Vec<Vec<f64>>,
    train_y: Target,
    train_csv: PathBuf,
    test_csv: PathBuf,
}

/// Kiln's tree encoding of both halves, written for LightGBM too.
fn prepare_matrix(s: &Split, dir: &Path) -> Result<Prepared> {
    let train_rows = s.data_rows(&s.train);
    let test_rows = s.data_rows(&s.test);
    let features = automl::select_features(&s.data, s.target_name, &train_rows);
    let train_x = automl::tree_matrix(&features, &s.data, &train_rows)?;
    let test_x = automl::tree_matrix(&features, &s.data, &test_rows)?;
    let train_y = s.target.subset(&s.train);
    let train_csv = dir.join(format!("{}-train.csv", s.name));
    let test_csv = dir.join(format!("{}-test.csv", s.name));
    write_matrix(&train_x, &train_y, &train_csv)?;
    write_matrix(&test_x, &s.target.subset(&s.test), &test_csv)?;
    Ok(Prepared {
        train_x,
        test_x,
        train_y,
        train_csv,
        test_csv,
    })
}

/// The settings both sides train with (the defaults are LightGBM's but for
/// the rounds and early stopping).
fn params(rounds: usize) -> GbdtParams {
    GbdtParams {
        n_rounds: rounds,
        learning_rate: 0.1,
        max_leaves: 31,
        min_samples_leaf: 20,
        max_bins: 255,
        early_stopping_rounds: 0,
        ..GbdtParams::default()
    }
}

/// LightGBM on the same matrix and settings as [`params`]; predictions go to `out`.
fn lightgbm_at_equal_settings(
    root: &Path,
    s: &Split,
    p: &Prepared,
    out: &Path,
    rounds: usize,
    threads: usize,
) -> Result<serde_json::Value> {
    let args: Vec<String> = [
        "gbdt",
        &p.train_csv.display().to_string(),
        &p.test_csv.display().to_string(),
        s.task_name(),
        &s.k().to_string(),
        &out.display().to_string(),
        &rounds.to_string(),
        "31",
        "0.1",
        "255",
        &threads.to_string(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    reference(root, &args)
}

fn bench_gbdt(root: &Path, splits: &[Split], dir: &Path, rounds: usize) -> Result<()> {
    println!(
        "\nGBDT at equal settings: {rounds} rounds, 31 leaves, learning rate 0.1, 255 bins, min 20 rows per leaf, {THREADS} threads; fit time (best of 3) includes binning"
    );
    println!(
        "| dataset | rows (train) | metric | Kiln | LightGBM | Kiln worse by | Kiln fit s | LightGBM fit s | time ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for s in splits {
        let p = prepare_matrix(s, dir)?;
        let out = dir.join(format!("{}-lgb.csv", s.name));
        let r = lightgbm_at_equal_settings(root, s, &p, &out, rounds, THREADS)?;
        let lgb = s.score(&read_predictions(&out)?);
        let lgb_fit = r["fit_secs"].as_f64().unwrap_or(f64::NAN);
        // Best of three fits, like the LightGBM side.
        let mut fit = f64::INFINITY;
        let mut fitted = None;
        for _ in 0..3 {
            let start = Instant::now();
            let (booster, _) =
                automl::gbdt_fit(&p.train_x, &p.train_y, None, &params(rounds), &|| false)?;
            fit = fit.min(start.elapsed().as_secs_f64());
            fitted = Some(booster);
        }
        let booster = fitted.context("no fit")?;
        let ours = s.score(&automl::link(s.task, booster.raw(&p.test_x), s.k()));
        ratios.push(fit / lgb_fit);
        println!(
            "| {} | {} | {} | {:.4} | {:.4} | {:+.2}% | {:.2} | {:.2} | {:.2}× |",
            s.name,
            s.train.len(),
            ours.name,
            ours.value,
            lgb.value,
            ours.worse_pct(lgb.value),
            fit,
            lgb_fit,
            fit / lgb_fit
        );
    }
    println!(
        "\nGeometric mean of Kiln / LightGBM fit time: {:.2}× (bar: at most 1.5×)",
        geo_mean(&ratios)
    );
    Ok(())
}

fn geo_mean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len().max(1) as f64).exp()
}

fn bench_shap(root: &Path, splits: &[Split], dir: &Path, rounds: usize) -> Result<()> {
    println!(
        "\nTreeSHAP per row and one-row prediction on models of {rounds} rounds × 31 leaves (LightGBM: pred_contrib on up to 2,000 test rows; predict on 200 single rows)"
    );
    println!(
        "| dataset | trees | Kiln SHAP µs/row | LightGBM SHAP µs/row | ratio | Kiln predict µs/row | LightGBM predict µs/call |"
    );
    println!("|---|---|---|---|---|---|---|");
    for s in splits {
        let p = prepare_matrix(s, dir)?;
        let out = dir.join(format!("{}-lgb.csv", s.name));
        let r = lightgbm_at_equal_settings(root, s, &p, &out, rounds, 1)?;
        let (booster, _) =
            automl::gbdt_fit(&p.train_x, &p.train_y, None, &params(rounds), &|| false)?;
        let n = p.test_x[0].len().min(2000);
        let rows: Vec<Vec<f64>> = p.test_x.iter().map(|c| c[..n].to_vec()).collect();
        let start = Instant::now();
        let (_, values) = booster.shap(&rows);
        let ours = start.elapsed().as_secs_f64() / n as f64;
        std::hint::black_box(values);
        let single = n.min(200);
        let start = Instant::now();
        for r in 0..single {
            let one: Vec<Vec<f64>> = rows.iter().map(|c| vec![c[r]]).collect();
            std::hint::black_box(booster.raw(&one));
        }
        let one = start.elapsed().as_secs_f64() / single as f64;
        let theirs = r["shap_secs_per_row"].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} |",
            s.name,
            booster.trees.len(),
            ours * 1e6,
            theirs * 1e6,
            ours / theirs,
            one * 1e6,
            r["predict_one_secs"].as_f64().unwrap_or(f64::NAN) * 1e6
        );
    }
    Ok(())
}

/// One dataset on one split: the test metric of each side.
struct AutomlResult {
    name: &'static str,
    kiln: Score,
    flaml: Score,
    lgb: Score,
}

fn bench_automl(root: &Path, sets: &[(u64, Vec<Split>)], dir: &Path, budget: u64) -> Result<()> {
    println!(
        "\nAutoML with a {budget} s budget on {THREADS} cores: Kiln, FLAML (same budget), LightGBM defaults; test metric on the same 20%, for {} seeded 80/20 splits",
        sets.len()
    );
    println!(
        "| dataset | split | metric | Kiln | FLAML | LightGBM default | Kiln vs FLAML | Kiln vs LightGBM | Kiln s | FLAML s | Kiln model |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut results = Vec::new();
    let mut worst_overrun = f64::NEG_INFINITY;
    for (seed, splits) in sets {
        for s in splits {
            let (result, secs, flaml_secs, family) = automl_on_split(root, s, dir, budget)?;
            worst_overrun = worst_overrun.max(secs - (1.05 * budget as f64 + 5.0));
            println!(
                "| {} | {seed} | {} | {:.4} | {:.4} | {:.4} | {:+.2}% | {:+.2}% | {:.1} | {:.1} | {} |",
                s.name,
                result.kiln.name,
                result.kiln.value,
                result.flaml.value,
                result.lgb.value,
                result.kiln.worse_pct(result.flaml.value),
                result.kiln.worse_pct(result.lgb.value),
                secs,
                flaml_secs,
                family,
            );
            results.push(result);
        }
    }
    print_automl_means(&results, sets.len());
    println!(
        "Kiln's time includes the search, the refit and the explanations; the latest finish was {:.1} s {} the bar of 1.05 × budget + 5 s",
        worst_overrun.abs(),
        if worst_overrun <= 0.0 {
            "inside"
        } else {
            "past"
        }
    );
    Ok(())
}

/// Per dataset, each side's test metric averaged over the splits, and how
/// often Kiln was at least as good split by split. One 20% test split of a
/// few hundred rows decides little (breast_cancer's has 114 rows, where one
/// misordered pair costs 0.0003 AUC); the mean over splits decides more.
fn print_automl_means(results: &[AutomlResult], n_splits: usize) {
    println!(
        "\nMean over {n_splits} splits (percentages: how much worse Kiln's mean is; negative is better)"
    );
    println!(
        "| dataset | metric | Kiln | FLAML | LightGBM default | Kiln vs FLAML | Kiln vs LightGBM | splits Kiln ≥ FLAML | splits Kiln ≥ LightGBM |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut names: Vec<&str> = Vec::new();
    for r in results {
        if !names.contains(&r.name) {
            names.push(r.name);
        }
    }
    let (mut mean_flaml, mut mean_lgb, mut split_flaml, mut split_lgb) = (0, 0, 0, 0);
    for name in &names {
        let rs: Vec<&AutomlResult> = results.iter().filter(|r| r.name == *name).collect();
        let mean = |pick: fn(&AutomlResult) -> Score| -> Score {
            let first = pick(rs[0]);
            Score {
                value: rs.iter().map(|r| pick(r).value).sum::<f64>() / rs.len() as f64,
                ..first
            }
        };
        let (kiln, flaml, lgb) = (mean(|r| r.kiln), mean(|r| r.flaml), mean(|r| r.lgb));
        let wins = |other: fn(&AutomlResult) -> Score| {
            rs.iter()
                .filter(|r| r.kiln.worse_pct(other(r).value) <= 0.0)
                .count()
        };
        let (wf, wl) = (wins(|r| r.flaml), wins(|r| r.lgb));
        split_flaml += wf;
        split_lgb += wl;
        mean_flaml += usize::from(kiln.worse_pct(flaml.value) <= 0.0);
        mean_lgb += usize::from(kiln.worse_pct(lgb.value) <= 0.0);
        println!(
            "| {name} | {} | {:.4} | {:.4} | {:.4} | {:+.2}% | {:+.2}% | {wf} of {n} | {wl} of {n} |",
            kiln.name,
            kiln.value,
            flaml.value,
            lgb.value,
            kiln.worse_pct(flaml.value),
            kiln.worse_pct(lgb.value),
            n = rs.len(),
        );
    }
    println!(
        "\nOn the means, Kiln is at least as good as FLAML on {mean_flaml} of {n} datasets and as LightGBM defaults on {mean_lgb} of {n}; split by split, {split_flaml} and {split_lgb} of {m}",
        n = names.len(),
        m = results.len(),
    );
}

/// Runs the three sides on one split: the scores, Kiln's and FLAML's
/// seconds, and the family of Kiln's model.
fn automl_on_split(
    root: &Path,
    s: &Split,
    dir: &Path,
    budget: u64,
) -> Result<(AutomlResult, f64, f64, &'static str)> {
    let train_csv = dir.join(format!("{}-raw-train.csv", s.name));
    let test_csv = dir.join(format!("{}-raw-test.csv", s.name));
    s.write_raw(&s.train, &train_csv)?;
    s.write_raw(&s.test, &test_csv)?;
    let common = |mode: &str, out: &Path| -> Vec<String> {
        vec![
            mode.to_owned(),
            train_csv.display().to_string(),
            test_csv.display().to_string(),
            s.task_name().to_owned(),
            s.k().to_string(),
            out.display().to_string(),
            s.target_name.to_owned(),
            THREADS.to_string(),
        ]
    };
    let out = dir.join(format!("{}-default.csv", s.name));
    reference(root, &common("default", &out))?;
    let lgb = s.score(&read_predictions(&out)?);
    let (flaml, flaml_secs) = if std::env::var_os("KILN_BENCH_NO_FLAML").is_some() {
        let skipped = Score {
            value: f64::NAN,
            ..lgb
        };
        (skipped, f64::NAN)
    } else {
        let out = dir.join(format!("{}-flaml.csv", s.name));
        let mut args = common("flaml", &out);
        args.push(budget.to_string());
        let r = reference(root, &args)?;
        let flaml = s.score(&read_predictions(&out)?);
        (flaml, r["fit_secs"].as_f64().unwrap_or(f64::NAN))
    };

    let names: Vec<&str> = s.data.names().iter().map(String::as_str).collect();
    let train = s.data.select(&names, &s.data_rows(&s.train))?;
    let test = s.data.select(&names, &s.data_rows(&s.test))?;
    let mut config = automl::SearchConfig::new(s.target_name);
    config.task = Some(s.task);
    let cancel = AtomicBool::new(false);
    let start = Instant::now();
    let control = automl::Control {
        deadline: Some(start + Duration::from_secs(budget)),
        cancel: &cancel,
    };
    let outcome = automl::search(&train, &config, control, &mut |_| {})?;
    // The leaderboard's best of each family (ranked best first).
    let mut best: Vec<String> = Vec::new();
    for t in &outcome.leaderboard {
        if !best
            .iter()
            .any(|b| b.starts_with(&format!("{} ", t.family)))
        {
            best.push(format!("{} {:.4}", t.family, t.score));
        }
    }
    eprintln!(
        "{} ({} trials, validation {}): best per family: {}",
        s.name,
        outcome.leaderboard.len(),
        outcome.metric.name(),
        best.join(", ")
    );
    // What the shipped ensemble weighs, by family (a single model: itself).
    let mut weights: Vec<(String, f64)> = Vec::new();
    match &outcome.artifact.model {
        automl::FittedModel::Ensemble(e) => {
            for m in &e.members {
                let f = m.model.family().to_owned();
                match weights.iter_mut().find(|(g, _)| *g == f) {
                    Some((_, w)) => *w += m.weight,
                    None => weights.push((f, m.weight)),
                }
            }
        }
        m => weights.push((m.family().to_owned(), 1.0)),
    }
    weights.sort_by(|a, b| b.1.total_cmp(&a.1));
    eprintln!(
        "{}: shipped weights by family: {}",
        s.name,
        weights
            .iter()
            .map(|(f, w)| format!("{f} {w:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if std::env::var_os("KILN_BENCH_VERBOSE").is_some() {
        // The top 12, then the best of each family not among them.
        let mut families = Vec::new();
        for (i, t) in outcome.leaderboard.iter().enumerate() {
            if i >= 12 && families.contains(&t.family) {
                continue;
            }
            families.push(t.family.clone());
            eprintln!(
                "{} trial {:>3} {:<14} {:.5} ± {:.5} fit {:.1} s {}",
                s.name, t.trial, t.family, t.score, t.score_std, t.fit_secs, t.params
            );
        }
    }
    // A build also explains its model before it ends.
    let explain_by = start + Duration::from_secs_f64(budget as f64 * 1.05 + 2.0);
    std::hint::black_box(outcome.artifact.insights(&train, 0, Some(explain_by))?);
    let secs = start.elapsed().as_secs_f64();
    let pred = match outcome.artifact.predict(&test)? {
        automl::Predictions::Regression(v) => v,
        automl::Predictions::Classes { probabilities, .. } => probabilities,
    };
    let result = AutomlResult {
        name: s.name,
        kiln: s.score(&pred),
        flaml,
        lgb,
    };
    Ok((result, secs, flaml_secs, outcome.artifact.model.family()))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = std::env::current_dir()?;
    let mode = args.first().map(String::as_str).unwrap_or_default();
    let number = |default: u64| -> Result<u64> {
        args.get(1).map_or(Ok(default), |v| {
            v.parse::<u64>()
                .map_err(|e| anyhow::anyhow!("`{v}` is not a number: {e}"))
        })
    };
    match mode {
        "ingest" => return ingest::bench_ingest(&root, &args[1..]),
        "fairness" => return fairness::bench_fairness(&root, &args[1..]),
        "explore" => return explore::bench_explore(&root, &args[1..]),
        "forecast" => return forecast::bench_forecast(&root, &args[1..]),
        "ingest-child" => {
            let file = args.get(1).context("usage: kiln-bench ingest-child FILE")?;
            return ingest::ingest_child(Path::new(file));
        }
        _ => {}
    }
    let only: Option<Vec<&str>> = std::env::var("KILN_BENCH_DATASETS")
        .ok()
        .map(|v| v.leak().split(',').collect());
    ensure_python()?;
    let dir = std::env::temp_dir().join(format!("kiln-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut splits = Vec::new();
    for s in SOURCES {
        if only.as_ref().is_some_and(|o| !o.contains(&s.name)) {
            continue;
        }
        if let Some(split) = Split::load(&root, s, SPLIT_SEED)? {
            splits.push(split);
        }
    }
    let result = match mode {
        "gbdt" => bench_gbdt(&root, &splits, &dir, number(200)? as usize),
        "shap" => bench_shap(&root, &splits, &dir, number(500)? as usize),
        "automl" => {
            let n_splits = match args.get(2) {
                Some(v) => v
                    .parse::<u64>()
                    .map_err(|e| anyhow::anyhow!("`{v}` is not a number of splits: {e}"))?
                    .max(1),
                None => 3,
            };
            let sets: Vec<(u64, Vec<Split>)> = (SPLIT_SEED..SPLIT_SEED + n_splits)
                .map(|seed| (seed, splits.iter().map(|s| s.reseeded(seed)).collect()))
                .collect();
            bench_automl(&root, &sets, &dir, number(60)?)
        }
        _ => bail!(
            "usage: kiln-bench <gbdt [ROUNDS] | shap [ROUNDS] | automl [SECONDS] [SPLITS] | ingest [MB] | fairness [ROWS] | explore [FILE] | forecast [SECONDS]>"
        ),
    };
    if std::env::var_os("KILN_BENCH_KEEP").is_some() {
        eprintln!("kept the matrices in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// The fastest of `repeats` runs of `f`, in seconds (the fairness and
/// Explore benches time their reports so).
pub(crate) fn fastest(repeats: usize, f: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = std::time::Instant::now();
        f()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}
