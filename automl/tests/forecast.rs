//! Forecasting against statsforecast 2.0.1 on committed tables
//! (`test_data/forecast/reference.json`, made by `make_reference.py`): the
//! last `horizon` steps of each series are held out, as statsforecast's
//! reference run held them out.
//!
//! Tolerances: seasonal naive is exact; automatic ETS, Theta and ARIMA are
//! optimised differently (our Nelder–Mead, their own; ARIMA by conditional
//! sum of squares here, exact likelihood there), so their holdout MASE must
//! be within 10% of statsforecast's `AutoETS`, `AutoTheta` and `AutoARIMA`,
//! or better.

use std::collections::BTreeMap;
use std::path::PathBuf;

use automl::forecast::{self, ForecastMetric, ForecastSettings, Method, Series};
use serde_json::Value;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/forecast")
}

/// The series of a committed table, in file order (a small CSV reader: no quoting in these files).
fn load(file: &str, item: Option<&str>, value: &str) -> Vec<Series> {
    let text = std::fs::read_to_string(data_dir().join(file)).expect("committed table");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (vi, ii) = (col(value), item.map(col));
    let mut order = Vec::new();
    let mut by_item: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let key = ii.map_or("all".to_string(), |i| cells[i].to_string());
        if !by_item.contains_key(&key) {
            order.push(key.clone());
        }
        by_item
            .entry(key)
            .or_default()
            .push(cells[vi].parse().expect("number"));
    }
    order
        .into_iter()
        .map(|item| Series {
            values: by_item.remove(&item).expect("item"),
            item,
            ..Series::default()
        })
        .collect()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(data_dir().join("reference.json")).expect("reference");
    serde_json::from_str(&text).expect("json")
}

const TABLES: [(&str, Option<&str>, &str); 4] = [
    ("airpassengers.csv", None, "passengers"),
    ("wineind.csv", None, "bottles"),
    ("woolyrnq.csv", None, "tonnes"),
    ("us_macro_quarterly.csv", Some("series"), "value"),
];

/// Holdout MASE (mean over items) of one method, and its forecasts by item.
fn holdout(
    method: Method,
    series: &[Series],
    m: usize,
    h: usize,
) -> (f64, BTreeMap<String, (Vec<f64>, String)>) {
    let mut total = 0.0;
    let mut out = BTreeMap::new();
    for s in series {
        let n = s.values.len();
        let (train, test) = s.values.split_at(n - h);
        let p = forecast::point_forecast(method, train, m, h).expect("forecast");
        let scale = forecast::metrics::mase_scale(train, m).expect("scale");
        let mae = test
            .iter()
            .zip(&p.values)
            .map(|(a, f)| (a - f).abs())
            .sum::<f64>()
            / h as f64;
        total += mae / scale;
        out.insert(s.item.clone(), (p.values, p.detail));
    }
    (total / series.len() as f64, out)
}

#[test]
fn statistical_forecasters_match_statsforecast_on_holdouts() {
    let reference = reference();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (file, item, value) in TABLES {
        let table = &reference["tables"][file];
        let m = table["season"].as_u64().expect("season") as usize;
        let h = table["horizon"].as_u64().expect("horizon") as usize;
        let series = load(file, item, value);
        // Seasonal naive: exactly statsforecast's numbers.
        let (_, naive) = holdout(Method::SeasonalNaive, &series, m, h);
        for (key, (values, _)) in &naive {
            let want: Vec<f64> = table["models"]["seasonal_naive"]["forecasts"][key]
                .as_array()
                .expect("forecast")
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect();
            for (a, b) in values.iter().zip(&want) {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{file} {key}: {values:?} against {want:?}"
                );
            }
        }
        for (method, name) in [
            (Method::Ets, "auto_ets"),
            (Method::Theta, "auto_theta"),
            (Method::Arima, "auto_arima"),
        ] {
            let (mase, fits) = holdout(method, &series, m, h);
            let want = table["models"][name]["mase"].as_f64().expect("mase");
            let chosen: Vec<&String> = fits.values().map(|(_, d)| d).take(3).collect();
            report.push(format!(
                "{file} {name}: Kiln {mase:.4} ({chosen:?}) statsforecast {want:.4} ({})",
                table["models"][name]["chosen"]
            ));
            if mase > want * 1.10 {
                failures.push(format!(
                    "{file} {name}: MASE {mase:.4} against statsforecast's {want:.4}"
                ));
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{failures:#?}\n{}", report.join("\n"));
}

#[test]
fn a_build_ranks_backtests_ships_an_ensemble_and_covers_its_band() {
    let series = load("us_macro_quarterly.csv", Some("series"), "value");
    let settings = ForecastSettings {
        horizon: 8,
        season: 4,
        quantiles: vec![0.1, 0.5, 0.9],
        windows: 3,
        metric: ForecastMetric::Mase,
        seed: 0,
        ..ForecastSettings::default()
    };
    let outcome = forecast::build(&series, &settings, &Method::ALL, None).expect("build");
    let board: Vec<String> = outcome
        .board
        .iter()
        .map(|r| {
            format!(
                "{:<18} MASE {:.4} ± {:.4} weight {:.2} coverage {:?}",
                r.name, r.evaluation.mean, r.evaluation.spread, r.weight, r.evaluation.coverage
            )
        })
        .collect();
    println!("{}", board.join("\n"));
    assert_eq!(outcome.folds.len(), 3 * series.len());
    // The shipped forecaster is the board's best row (an ensemble or its one member).
    let best = &outcome.board[0];
    assert!(
        best.weight == 1.0
            || best
                .method
                .is_some_and(|m| outcome.forecaster.members == vec![(m, 1.0)])
    );
    // Its band: P10 below P90 everywhere, and backtest coverage near nominal.
    let coverage = best
        .evaluation
        .coverage
        .as_ref()
        .expect("three windows give coverage");
    let inside = coverage[2] - coverage[0];
    assert!(
        (inside - 0.8).abs() <= 0.10,
        "P10–P90 covers {inside:.3} of backtest actuals"
    );
    let out = outcome.forecaster.forecast(&series).expect("forecast");
    assert_eq!(out.len(), series.len());
    for f in &out {
        assert_eq!(f.point.len(), 8);
        assert!(
            f.quantiles[0]
                .iter()
                .zip(&f.quantiles[2])
                .all(|(lo, hi)| lo <= hi),
            "{f:?}"
        );
        assert_eq!(f.quantiles[1], f.point);
    }
    // Too long a horizon is refused with the numbers that make it so.
    let err = forecast::build(
        &series,
        &ForecastSettings {
            horizon: 400,
            ..settings
        },
        &Method::ALL,
        None,
    )
    .err()
    .expect("no backtest fits");
    assert!(err.to_string().contains("400 steps"), "{err}");
}

#[test]
fn extreme_values_end_in_a_forecast_or_a_named_error_never_a_panic() {
    let settings = ForecastSettings {
        horizon: 4,
        season: 4,
        quantiles: vec![0.1, 0.5, 0.9],
        windows: 2,
        metric: ForecastMetric::Wape,
        seed: 0,
        ..ForecastSettings::default()
    };
    let huge: Vec<f64> = (0..40)
        .map(|t| if t % 2 == 0 { 1e308 } else { -1e308 })
        .collect();
    let constant = vec![5.0; 40];
    let one = vec![3.0];
    for values in [huge, constant, one] {
        let series = vec![Series {
            item: "x".into(),
            values,
            ..Series::default()
        }];
        match forecast::build(&series, &settings, &Method::ALL, None) {
            Ok(out) => {
                let f = out.forecaster.forecast(&series).expect("forecast");
                assert_eq!(f[0].point.len(), 4);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    // Non-finite values are refused by name.
    let err = forecast::point_forecast(Method::Ets, &[1.0, f64::NAN, 2.0], 1, 2)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("finite"), "{err}");
}

#[test]
fn a_forecaster_file_round_trips_and_extends_a_history_with_the_same_numbers() {
    use forecast::artifact::{ForecastArtifact, ForecastColumns};
    use forecast::time::{Columns, prepare};
    let text = std::fs::read_to_string(data_dir().join("us_macro_quarterly.csv")).expect("table");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let items: Vec<Option<String>> = rows.iter().map(|r| Some(r[0].to_string())).collect();
    let times: Vec<Option<String>> = rows.iter().map(|r| Some(r[1].to_string())).collect();
    let values: Vec<Option<f64>> = rows.iter().map(|r| r[2].parse().ok()).collect();
    let cols = Columns {
        time_name: "quarter",
        times: &times,
        target_name: "value",
        values: &values,
        items: Some(("series", &items)),
        ..Columns::default()
    };
    let prepared = prepare(&cols, None).expect("quarterly series");
    assert_eq!(prepared.frequency.label(), "quarterly");
    let settings = ForecastSettings {
        horizon: 4,
        season: prepared.frequency.season(),
        quantiles: vec![0.1, 0.5, 0.9],
        windows: 2,
        metric: ForecastMetric::Mase,
        seed: 1,
        ..ForecastSettings::default()
    };
    let outcome = forecast::build(
        &prepared.series,
        &settings,
        &[Method::SeasonalNaive, Method::GlobalTrees],
        None,
    )
    .expect("build");
    let file = ForecastArtifact::new(
        "2026-12-01T00:00:00Z".into(),
        ForecastColumns {
            time: "quarter".into(),
            target: "value".into(),
            item: Some("series".into()),
            ..ForecastColumns::default()
        },
        prepared.frequency,
        outcome.forecaster.clone(),
        outcome.board.clone(),
    );
    let loaded = ForecastArtifact::from_json(&file.to_json()).expect("reads back");
    assert_eq!(loaded, file);
    let (again, extended) = loaded.extend(&cols).expect("extends");
    assert_eq!(again.series, prepared.series);
    assert_eq!(
        extended,
        outcome
            .forecaster
            .forecast(&prepared.series)
            .expect("forecast")
    );
    // The global model's SHAP importance, when it is a member.
    if let Some(imp) = outcome
        .forecaster
        .importance(&prepared.series)
        .expect("shap")
    {
        assert_eq!(
            imp.len(),
            forecast::global::feature_names(4, &[], &[]).len()
        );
        assert!(imp.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(imp[0].1 > 0.0 && imp.iter().all(|(_, v)| v.is_finite()));
    } else {
        assert!(outcome.forecaster.members.iter().all(|(m, _)| m.is_local()));
    }
    // A history on another grid is refused, naming both frequencies.
    let monthly: Vec<Option<String>> = (0..rows.len())
        .map(|i| Some(format!("{}-{:02}-01", 1960 + (i % 120) / 12, i % 12 + 1)))
        .collect();
    let err = loaded
        .extend(&Columns {
            times: &monthly,
            ..cols
        })
        .expect_err("monthly");
    assert!(
        err.to_string().contains("monthly") && err.to_string().contains("quarterly"),
        "{err}"
    );
    // Files that are not forecasters say what they are.
    for (bytes, says) in [
        (&b"{\"format_version\": 3}"[..], "kiln predict"),
        (b"[1, 2]", "not a Kiln forecaster"),
        (
            b"{\"kind\": \"kiln-forecaster\", \"format_version\": 9}",
            "version 9",
        ),
        (b"not json", "not valid JSON"),
    ] {
        let err = ForecastArtifact::from_json(bytes).expect_err("refused");
        assert!(err.to_string().contains(says), "{err}");
    }
    let mut broken = file.clone();
    broken.forecaster.members.clear();
    let err = ForecastArtifact::from_json(&broken.to_json()).expect_err("no members");
    assert!(err.to_string().contains("members"), "{err}");
}

/// Twelve monthly items whose sales rise by half in promotion months (a
/// known covariate, given for the horizon too) around a level set by the
/// item's region (an attribute); the rows after each history have no target.
struct PromoTable {
    times: Vec<Option<String>>,
    items: Vec<Option<String>>,
    values: Vec<Option<f64>>,
    promo: Vec<Option<String>>,
    region: Vec<Option<String>>,
    /// Each item's true future values.
    future: Vec<Vec<f64>>,
}

fn promo_table(history: usize, horizon: usize) -> PromoTable {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut t = PromoTable {
        times: Vec::new(),
        items: Vec::new(),
        values: Vec::new(),
        promo: Vec::new(),
        region: Vec::new(),
        future: Vec::new(),
    };
    for i in 0..12 {
        let (region, level) = if i % 2 == 0 {
            ("north", 100.0)
        } else {
            ("south", 30.0)
        };
        let level = level * (1.0 + 0.05 * i as f64);
        let mut future = Vec::new();
        for s in 0..history + horizon {
            let on = uniform() < 0.3;
            let season = 1.0 + 0.1 * (std::f64::consts::TAU * (s % 12) as f64 / 12.0).sin();
            let y = level * season * if on { 1.5 } else { 1.0 } * (1.0 + 0.02 * (uniform() - 0.5));
            t.times
                .push(Some(format!("{}-{:02}-01", 2000 + s / 12, s % 12 + 1)));
            t.items.push(Some(format!("shop {i}")));
            t.promo.push(Some(if on { "yes" } else { "no" }.into()));
            t.region.push(Some(region.into()));
            if s < history {
                t.values.push(Some(y));
            } else {
                t.values.push(None);
                future.push(y);
            }
        }
        t.future.push(future);
    }
    t
}

#[test]
fn known_covariates_and_item_attributes_reach_the_global_model_and_its_forecast() {
    use forecast::artifact::{ForecastArtifact, ForecastColumns};
    use forecast::covariates::ExtraColumn;
    use forecast::time::{Columns, prepare};
    let (history, horizon) = (96, 12);
    let table = promo_table(history, horizon);
    let cols = Columns {
        time_name: "month",
        times: &table.times,
        target_name: "sales",
        values: &table.values,
        items: Some(("shop", &table.items)),
        covariates: vec![ExtraColumn {
            name: "promo",
            cells: &table.promo,
            encoding: None,
        }],
        attributes: vec![ExtraColumn {
            name: "region",
            cells: &table.region,
            encoding: None,
        }],
    };
    let prepared = prepare(&cols, None).expect("prepares");
    assert_eq!(prepared.series.len(), 12);
    let s0 = &prepared.series[0];
    assert_eq!(s0.values.len(), history, "the future rows are not history");
    assert_eq!(s0.covariates[0].len(), history + horizon);
    assert_eq!(s0.attributes, vec![0.0], "north is the first category");
    let settings = ForecastSettings {
        horizon,
        season: 12,
        windows: 3,
        covariates: vec!["promo".into()],
        attributes: vec!["region".into()],
        ..ForecastSettings::default()
    };
    let outcome = forecast::build(&prepared.series, &settings, &Method::ALL, None).expect("build");
    let mase = |m: Method| {
        outcome
            .board
            .iter()
            .find(|r| r.method == Some(m))
            .map(|r| r.evaluation.mean)
            .expect("on the board")
    };
    // The local methods cannot know next month's promotion; the global model can.
    let best_local = [
        Method::Ets,
        Method::Theta,
        Method::Autoregression,
        Method::SeasonalNaive,
    ]
    .into_iter()
    .map(mase)
    .fold(f64::INFINITY, f64::min);
    let global = mase(Method::GlobalTrees);
    assert!(
        global < 0.5 * best_local,
        "global trees {global:.3} against the best local method {best_local:.3}"
    );
    assert!(
        outcome
            .forecaster
            .members
            .iter()
            .any(|(m, w)| *m == Method::GlobalTrees && *w >= 0.5),
        "{:?}",
        outcome.forecaster.members
    );
    let importance = outcome
        .forecaster
        .importance(&prepared.series)
        .expect("shap")
        .expect("global model");
    assert_eq!(
        importance[0].0, "promo at the forecast step",
        "{importance:?}"
    );
    // The forecast follows the promotion calendar it was given.
    let file = ForecastArtifact::new(
        "2026-12-01T00:00:00Z".into(),
        ForecastColumns {
            time: "month".into(),
            target: "sales".into(),
            item: Some("shop".into()),
            covariates: prepared.covariates.clone(),
            attributes: prepared.attributes.clone(),
        },
        prepared.frequency,
        outcome.forecaster.clone(),
        outcome.board.clone(),
    );
    let loaded = ForecastArtifact::from_json(&file.to_json()).expect("reads back");
    let (_, forecasts) = loaded.extend(&cols).expect("extends");
    let mut err = 0.0;
    let mut total = 0.0;
    for (f, truth) in forecasts.iter().zip(&table.future) {
        for (p, a) in f.point.iter().zip(truth) {
            err += (p - a).abs();
            total += a.abs();
        }
    }
    assert!(
        err / total < 0.06,
        "WAPE on the true future: {:.3}",
        err / total
    );
    // Without the future promotion calendar, there is nothing to forecast from.
    let cut: Vec<Option<String>> = table
        .promo
        .iter()
        .enumerate()
        .map(|(r, p)| {
            if r % (history + horizon) < history + 3 {
                p.clone()
            } else {
                None
            }
        })
        .collect();
    let short = Columns {
        covariates: vec![ExtraColumn {
            name: "promo",
            cells: &cut,
            encoding: None,
        }],
        attributes: vec![ExtraColumn {
            name: "region",
            cells: &table.region,
            encoding: None,
        }],
        ..cols
    };
    let err = loaded.extend(&short).expect_err("no future promotions");
    assert!(
        err.to_string()
            .contains("`promo` has no value for 9 of the 12 steps after the history"),
        "{err}"
    );
    // An attribute that changes within an item is refused, naming the rows.
    let mut moved = table.region.clone();
    moved[5] = Some("south".into());
    let err = prepare(
        &Columns {
            attributes: vec![ExtraColumn {
                name: "region",
                cells: &moved,
                encoding: None,
            }],
            covariates: Vec::new(),
            ..short
        },
        None,
    )
    .expect_err("not constant");
    assert!(
        err.to_string()
            .contains("item `shop 0` has “north” in row 1 and “south” in row 6"),
        "{err}"
    );
}

/// The UCI bike-sharing days (Fanaee-T and Gama, 2013; CC BY 4.0): the
/// last 14 days held out, forecast with and without the day's calendar and
/// weather as known covariates (the weather as a forecast would give it).
#[test]
fn known_covariates_lower_the_error_on_real_bike_demand() {
    use forecast::covariates::ExtraColumn;
    use forecast::time::{Columns, prepare};
    let text = std::fs::read_to_string(data_dir().join("bike_sharing_daily.csv")).expect("table");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<String>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let col = |name: &str| -> Vec<Option<String>> {
        let i = header.iter().position(|h| *h == name).expect("column");
        rows.iter().map(|r| Some(r[i].clone())).collect()
    };
    let horizon = 14;
    let n = rows.len();
    let truth: Vec<f64> = col("cnt")[n - horizon..]
        .iter()
        .map(|c| c.as_deref().expect("count").parse().expect("number"))
        .collect();
    let values: Vec<Option<f64>> = col("cnt")
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (i < n - horizon)
                .then(|| c.as_deref()?.parse().ok())
                .flatten()
        })
        .collect();
    let times = col("dteday");
    let names = [
        "holiday",
        "workingday",
        "weathersit",
        "temp",
        "hum",
        "windspeed",
    ];
    let cells: Vec<Vec<Option<String>>> = names.iter().map(|c| col(c)).collect();
    let wape = |covariates: bool| -> f64 {
        let cols = Columns {
            time_name: "dteday",
            times: &times,
            target_name: "cnt",
            values: &values,
            covariates: if covariates {
                names
                    .iter()
                    .zip(&cells)
                    .map(|(name, cells)| ExtraColumn {
                        name,
                        cells,
                        encoding: None,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            ..Columns::default()
        };
        let prepared = prepare(&cols, None).expect("daily");
        assert_eq!(prepared.series[0].values.len(), n - horizon);
        let settings = ForecastSettings {
            horizon,
            season: 7,
            windows: 4,
            covariates: if covariates {
                names.iter().map(|s| s.to_string()).collect()
            } else {
                Vec::new()
            },
            ..ForecastSettings::default()
        };
        let outcome =
            forecast::build(&prepared.series, &settings, &Method::ALL, None).expect("build");
        let f = outcome
            .forecaster
            .forecast(&prepared.series)
            .expect("forecast");
        let err: f64 = f[0]
            .point
            .iter()
            .zip(&truth)
            .map(|(p, a)| (p - a).abs())
            .sum();
        err / truth.iter().sum::<f64>()
    };
    let (with, without) = (wape(true), wape(false));
    eprintln!("holdout WAPE with covariates {with:.3}, without {without:.3}");
    assert!(
        with < 0.8 * without,
        "holdout WAPE with covariates {with:.3}, without {without:.3}"
    );
}
