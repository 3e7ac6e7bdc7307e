//! `kiln-bench forecast [SECONDS]`: Kiln's forecast build against
//! statsforecast (`SeasonalNaive`, `AutoETS`, `AutoARIMA`, `AutoTheta`) on the
//! same final-horizon holdout of each series.
//!
//! Both sides get the same training series: Kiln's regularised ones (gaps
//! interpolated, duplicates averaged), written to a CSV that the Python side
//! reads. MASE (mean over items, scale: the training history's mean absolute
//! seasonal difference) and WAPE are computed here for every side alike.
//!
//! A table with known covariates (the UCI bike-sharing days, with their
//! calendar and weather) is run by Kiln with and without them; the peers
//! are univariate. It is left out of the counts against statsforecast,
//! which are the issue's six tables.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automl::forecast::covariates::ExtraColumn;
use automl::forecast::time::{Columns, prepare};
use automl::forecast::{self, ForecastMetric, ForecastSettings, Method, Series};

struct Table {
    name: &'static str,
    file: &'static str,
    time: &'static str,
    item: Option<&'static str>,
    value: &'static str,
    horizon: usize,
    /// Known covariates (their values in the holdout are given to Kiln).
    covariates: &'static [&'static str],
}

const TABLES: &[Table] = &[
    Table {
        name: "airpassengers",
        file: "../shared/datasets/forecast/airpassengers.csv",
        time: "month",
        item: None,
        value: "passengers",
        horizon: 12,
        covariates: &[],
    },
    Table {
        name: "wineind",
        file: "../shared/datasets/forecast/wineind.csv",
        time: "month",
        item: None,
        value: "bottles",
        horizon: 12,
        covariates: &[],
    },
    Table {
        name: "woolyrnq",
        file: "../shared/datasets/forecast/woolyrnq.csv",
        time: "quarter",
        item: None,
        value: "tonnes",
        horizon: 8,
        covariates: &[],
    },
    Table {
        name: "co2_weekly",
        file: "../shared/datasets/forecast/co2_weekly.csv",
        time: "week",
        item: None,
        value: "co2",
        horizon: 52,
        covariates: &[],
    },
    Table {
        name: "us_macro_quarterly",
        file: "../shared/datasets/forecast/us_macro_quarterly.csv",
        time: "quarter",
        item: Some("series"),
        value: "value",
        horizon: 8,
        covariates: &[],
    },
    Table {
        name: "seattle_weather",
        file: "../shared/datasets/seattle_weather.csv",
        time: "date",
        item: None,
        value: "temp_max",
        horizon: 28,
        covariates: &[],
    },
    Table {
        name: "bike_sharing_daily",
        file: "automl/test_data/forecast/bike_sharing_daily.csv",
        time: "dteday",
        item: None,
        value: "cnt",
        horizon: 14,
        covariates: &[
            "holiday",
            "workingday",
            "weathersit",
            "temp",
            "hum",
            "windspeed",
        ],
    },
];

const PEERS: [&str; 4] = ["SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta"];

const SCRIPT: &str = r#"
import sys, time, json, signal
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import SeasonalNaive, AutoETS, AutoARIMA, AutoTheta
path, season, horizon, out, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
df = pd.read_csv(path, dtype={"unique_id": str})
result = {}
class TimedOut(Exception):
    pass
def alarm(signum, frame):
    raise TimedOut()
signal.signal(signal.SIGALRM, alarm)
for name, model in [("SeasonalNaive", SeasonalNaive(season_length=season)),
                    ("AutoETS", AutoETS(season_length=season)),
                    ("AutoARIMA", AutoARIMA(season_length=season)),
                    ("AutoTheta", AutoTheta(season_length=season))]:
    start = time.time()
    signal.alarm(limit)
    try:
        sf = StatsForecast(models=[model], freq=1, n_jobs=1)
        fc = sf.forecast(df=df, h=horizon)
    except TimedOut:
        result[name] = {"seconds": time.time() - start, "timed_out": True}
        continue
    finally:
        signal.alarm(0)
    col = [c for c in fc.columns if c not in ("unique_id", "ds")][0]
    result[name] = {"seconds": time.time() - start,
                    "forecasts": {k: g[col].tolist() for k, g in fc.groupby("unique_id", sort=False)}}
json.dump(result, open(out, "w"))
"#;

fn ensure_statsforecast() -> Result<()> {
    let ok = Command::new(super::python())
        .args(["-c", "import statsforecast, pandas"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    eprintln!("installing statsforecast with pip");
    let st = Command::new(super::python())
        .args(["-m", "pip", "install", "--quiet", "statsforecast", "pandas"])
        .status()
        .context("running pip (is Python 3 installed?)")?;
    if !st.success() {
        bail!("pip could not install statsforecast");
    }
    Ok(())
}

/// The table's series, regularised by Kiln.
fn load(root: &Path, t: &Table) -> Result<Option<(Vec<Series>, usize, String)>> {
    let path = root.join(t.file);
    if !path.exists() {
        eprintln!("skipping {}: {} is not here", t.name, path.display());
        return Ok(None);
    }
    let frame = data::ingest::read_csv(&path, &data::ingest::ReadOptions::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .frame;
    let data =
        data::convert::frame_to_dataset(&frame).map_err(|e| anyhow::anyhow!("{}: {e}", t.name))?;
    let labels = |name: &str| -> Result<Vec<Option<String>>> {
        Ok(match data.require(name)? {
            automl::Column::Categorical(v) => v.clone(),
            automl::Column::Numeric(v) => v
                .iter()
                .map(|x| x.is_finite().then(|| format!("{x}")))
                .collect(),
        })
    };
    let times = labels(t.time)?;
    let values: Vec<Option<f64>> = match data.require(t.value)? {
        automl::Column::Numeric(v) => v.iter().map(|x| x.is_finite().then_some(*x)).collect(),
        automl::Column::Categorical(_) => bail!("{}: `{}` is not numeric", t.name, t.value),
    };
    let items = t.item.map(labels).transpose()?;
    let covariates = t
        .covariates
        .iter()
        .map(|c| labels(c))
        .collect::<Result<Vec<_>>>()?;
    let prepared = prepare(
        &Columns {
            time_name: t.time,
            times: &times,
            target_name: t.value,
            values: &values,
            items: t.item.zip(items.as_deref()),
            covariates: t
                .covariates
                .iter()
                .zip(&covariates)
                .map(|(name, cells)| ExtraColumn {
                    name,
                    cells,
                    encoding: None,
                })
                .collect(),
            ..Columns::default()
        },
        None,
    )?;
    let season = prepared.frequency.season();
    let label = prepared.frequency.label();
    for n in &prepared.notes {
        eprintln!("{}: {}", t.name, n.sentence());
    }
    Ok(Some((prepared.series, season, label)))
}

struct Scored {
    mase: f64,
    wape: f64,
}

fn score(actual: &[Vec<f64>], train: &[Series], forecasts: &[Vec<f64>], season: usize) -> Scored {
    let (mut mase, mut abs_err, mut abs_act) = (0.0, 0.0, 0.0);
    for ((a, s), f) in actual.iter().zip(train).zip(forecasts) {
        let scale = forecast::metrics::mase_scale(&s.values, season)
            .or_else(|| forecast::metrics::mase_scale(&s.values, 1))
            .unwrap_or(1.0);
        let err: f64 = a.iter().zip(f).map(|(x, y)| (x - y).abs()).sum();
        mase += err / a.len() as f64 / scale;
        abs_err += err;
        abs_act += a.iter().map(|x| x.abs()).sum::<f64>();
    }
    Scored {
        mase: mase / actual.len() as f64,
        wape: abs_err / abs_act,
    }
}

pub fn bench_forecast(root: &Path, args: &[String]) -> Result<()> {
    let budget: u64 = match args.first() {
        Some(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("`{v}` is not a number of seconds: {e}"))?,
        None => 60,
    };
    let only: Option<Vec<String>> = std::env::var("KILN_BENCH_DATASETS")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    ensure_statsforecast()?;
    let dir = std::env::temp_dir().join(format!("kiln-bench-forecast-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Each peer model gets at most this long per dataset (AutoARIMA on a
    // season of 52 weeks can take many minutes); a model cut off is shown so.
    let peer_limit: u64 = std::env::var("KILN_BENCH_PEER_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    println!(
        "| dataset | frequency | items | h | metric | Kiln | SeasonalNaive | AutoETS | AutoARIMA | AutoTheta | Kiln s | peers s | Kiln P10–P90 holdout coverage | Kiln P10–P90 backtest coverage | shipped |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut over_budget = Vec::new();
    let mut global_rows = Vec::new();
    let mut without_covariates = Vec::new();
    let mut with_covariates = Vec::new();
    let mut beats_ets = 0;
    let mut beats_best = 0;
    let mut count = 0;
    for t in TABLES {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == t.name))
        {
            continue;
        }
        let Some((series, season, label)) = load(root, t)? else {
            continue;
        };
        let h = t.horizon;
        let (train, actual): (Vec<Series>, Vec<Vec<f64>>) = series
            .iter()
            .filter(|s| s.values.len() > h + forecast::MIN_HISTORY)
            .map(|s| {
                let cut = s.values.len() - h;
                (s.cut(cut), s.values[cut..].to_vec())
            })
            .unzip();
        // Kiln.
        let settings = ForecastSettings {
            horizon: h,
            season,
            quantiles: vec![0.1, 0.5, 0.9],
            windows: forecast::default_windows(&train, h, season),
            metric: ForecastMetric::Mase,
            covariates: t.covariates.iter().map(|c| c.to_string()).collect(),
            ..ForecastSettings::default()
        };
        if !t.covariates.is_empty() {
            // The same build without the covariates, for the comparison.
            let bare: Vec<Series> = train
                .iter()
                .map(|s| Series {
                    covariates: Vec::new(),
                    ..s.clone()
                })
                .collect();
            let plain = ForecastSettings {
                covariates: Vec::new(),
                ..settings.clone()
            };
            let deadline = Instant::now() + Duration::from_secs(budget);
            let outcome = forecast::build(&bare, &plain, &Method::ALL, Some(deadline))?;
            let points: Vec<Vec<f64>> = outcome
                .forecaster
                .forecast(&bare)?
                .into_iter()
                .map(|f| f.point)
                .collect();
            without_covariates.push((t.name, score(&actual, &train, &points, season)));
        }
        let start = Instant::now();
        let deadline = start + Duration::from_secs(budget);
        let outcome = forecast::build(&train, &settings, &Method::ALL, Some(deadline))?;
        let out = outcome.forecaster.forecast(&train)?;
        let kiln_secs = start.elapsed().as_secs_f64();
        let kiln_points: Vec<Vec<f64>> = out.iter().map(|f| f.point.clone()).collect();
        let kiln = score(&actual, &train, &kiln_points, season);
        let (mut inside, mut total) = (0usize, 0usize);
        for (f, a) in out.iter().zip(&actual) {
            for (k, v) in a.iter().enumerate() {
                total += 1;
                inside += usize::from(*v >= f.quantiles[0][k] && *v <= f.quantiles[2][k]);
            }
        }
        let shipped: Vec<String> = outcome
            .forecaster
            .members
            .iter()
            .map(|(m, w)| format!("{} {:.2}", m.name(), w))
            .collect();
        for row in &outcome.board {
            // Each local method's own holdout score beside its backtest, to read the choice by.
            let holdout = row.method.filter(|m| m.is_local()).map(|m| {
                let points: Vec<Vec<f64>> = train
                    .iter()
                    .map(|s| {
                        forecast::point_forecast(m, &s.values, season, h)
                            .map_or_else(|_| vec![f64::NAN; h], |p| p.values)
                    })
                    .collect();
                score(&actual, &train, &points, season).mase
            });
            eprintln!(
                "{} {:<24} backtest MASE {:.4} ± {:.4} weight {:.2} holdout MASE {}",
                t.name,
                row.name,
                row.evaluation.mean,
                row.evaluation.spread,
                row.weight,
                holdout.map_or("–".into(), |v| format!("{v:.4}"))
            );
        }
        // The global model direct (one model, the step as a feature: what Kiln
        // ships) against recursive (a one-step model fed its own forecasts).
        let direct = recursive_or_direct(&train, &settings, false)?;
        let recursive = recursive_or_direct(&train, &settings, true)?;
        let (d, r) = (
            score(&actual, &train, &direct, season),
            score(&actual, &train, &recursive, season),
        );
        global_rows.push(format!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} |",
            t.name, d.mase, r.mase, d.wape, r.wape
        ));
        // statsforecast on the same training series.
        let csv = dir.join(format!("{}.csv", t.name));
        let mut text = String::from("unique_id,ds,y\n");
        for s in &train {
            for (k, v) in s.values.iter().enumerate() {
                let _ = writeln!(text, "{},{},{}", s.item, k + 1, v);
            }
        }
        std::fs::write(&csv, text)?;
        let json = dir.join(format!("{}.json", t.name));
        let script = dir.join("peers.py");
        std::fs::write(&script, SCRIPT)?;
        let st = Command::new(super::python())
            .arg(&script)
            .arg(&csv)
            .arg(season.to_string())
            .arg(h.to_string())
            .arg(&json)
            .arg(peer_limit.to_string())
            .status()
            .context("running statsforecast")?;
        if !st.success() {
            bail!("statsforecast failed on {}", t.name);
        }
        let peers: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
        let mut peer_scores = Vec::new();
        let mut peer_secs = 0.0;
        let mut timed_out = [false; PEERS.len()];
        for (i, p) in PEERS.iter().enumerate() {
            timed_out[i] = peers[p]["timed_out"].as_bool().unwrap_or(false);
            let fc: Vec<Vec<f64>> = train
                .iter()
                .map(|s| {
                    peers[*p]["forecasts"][&s.item]
                        .as_array()
                        .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
                        .unwrap_or_else(|| vec![f64::NAN; h])
                })
                .collect();
            peer_secs += peers[*p]["seconds"].as_f64().unwrap_or(f64::NAN);
            peer_scores.push(score(&actual, &train, &fc, season));
        }
        let best = peer_scores
            .iter()
            .map(|s| s.mase)
            .filter(|m| m.is_finite())
            .fold(f64::INFINITY, f64::min);
        if t.covariates.is_empty() {
            count += 1;
            beats_ets += usize::from(kiln.mase <= peer_scores[1].mase);
            beats_best += usize::from(kiln.mase < best);
        } else {
            with_covariates.push((t.name, kiln.mase, kiln.wape, best));
        }
        if kiln_secs > 1.05 * budget as f64 + 5.0 {
            over_budget.push(format!("{} ({kiln_secs:.1} s)", t.name));
        }
        let backtest_coverage = outcome
            .board
            .iter()
            .find(|r| {
                r.weight == 1.0
                    || r.method
                        .is_some_and(|m| outcome.forecaster.members == vec![(m, 1.0)])
            })
            .and_then(|r| r.evaluation.coverage.as_ref())
            .map_or("–".to_string(), |c| format!("{:.2}", c[2] - c[0]));
        for (metric, get) in [
            ("MASE", (|s: &Scored| s.mase) as fn(&Scored) -> f64),
            ("WAPE", |s: &Scored| s.wape),
        ] {
            let cells: Vec<String> = peer_scores
                .iter()
                .zip(timed_out)
                .map(|(s, out)| {
                    if out {
                        format!("timed out ({peer_limit} s)")
                    } else {
                        format!("{:.4}", get(s))
                    }
                })
                .collect();
            println!(
                "| {} | {label} (season {season}) | {} | {h} | {metric} | {:.4} | {} | {kiln_secs:.1} | {peer_secs:.1} | {:.2} | {backtest_coverage} | {} |",
                t.name,
                train.len(),
                get(&kiln),
                cells.join(" | "),
                inside as f64 / total.max(1) as f64,
                shipped.join(", ")
            );
        }
    }
    println!("\nThe global tree model on the same holdout, direct against recursive:\n");
    println!("| dataset | direct MASE | recursive MASE | direct WAPE | recursive WAPE |");
    println!("|---|---|---|---|---|");
    for row in &global_rows {
        println!("{row}");
    }
    if !with_covariates.is_empty() {
        println!("\nKnown covariates, on the same holdout (the peers are univariate):\n");
        println!(
            "| dataset | Kiln MASE with | Kiln MASE without | Kiln WAPE with | Kiln WAPE without | best statsforecast MASE |"
        );
        println!("|---|---|---|---|---|---|");
        for ((name, mase, wape, best), (_, bare)) in with_covariates.iter().zip(&without_covariates)
        {
            println!(
                "| {name} | {mase:.4} | {:.4} | {wape:.4} | {:.4} | {best:.4} |",
                bare.mase, bare.wape
            );
        }
    }
    println!();
    if over_budget.is_empty() {
        println!("Every Kiln build ended within 1.05 × {budget} s + 5 s.");
    } else {
        println!("Over 1.05 × {budget} s + 5 s: {}.", over_budget.join(", "));
    }
    println!(
        "Kiln's MASE is at most AutoETS's on {beats_ets} of {count} datasets, and below the best statsforecast model on {beats_best} of {count}."
    );
    Ok(())
}

/// The global tree model's forecasts of the `h` steps after each series:
/// direct (one model for every step, as Kiln ships it), or recursive (a
/// model of the next step only, fed its own forecasts step by step).
fn recursive_or_direct(
    train: &[Series],
    settings: &ForecastSettings,
    recursive: bool,
) -> Result<Vec<Vec<f64>>> {
    let h = settings.horizon;
    let settings = ForecastSettings {
        horizon: if recursive { 1 } else { h },
        ..settings.clone()
    };
    let model = forecast::global::fit(train, &settings, None, None)?;
    train
        .iter()
        .map(|s| {
            if !recursive {
                return Ok(model.forecast(s)?.0);
            }
            let mut grown = s.clone();
            let mut out = Vec::with_capacity(h);
            for _ in 0..h {
                let next = model.forecast(&grown)?.0[0];
                out.push(next);
                grown.values.push(next);
            }
            Ok(out)
        })
        .collect()
}
