//! The boosted trees against LightGBM's reference values, and their properties.

use super::bins::*;
use super::*;

fn never() -> bool {
    false
}

/// LightGBM 4.7.0 on 300 rows with missing values (see
/// `test_data/reference/make_reference.py`), 25 rounds of 8 leaves, 63
/// bins, at least 5 rows per leaf: the same bins, splits and leaf
/// values, so the same raw scores up to rounding (LightGBM keeps
/// gradients in single precision; the base score differs by ~1e-8).
#[test]
fn trains_like_lightgbm_at_the_same_settings() {
    for name in ["regression", "binary", "multiclass"] {
        let path = format!(
            "{}/test_data/reference/lightgbm_{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let rows = r["X"].as_array().unwrap();
        let x: Vec<Vec<f64>> = (0..5)
            .map(|f| {
                rows.iter()
                    .map(|row| row[f].as_f64().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let y = r["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap());
        let target = if name == "regression" {
            Target::Regression(y.collect())
        } else {
            let y: Vec<usize> = y.map(|v| v as usize).collect();
            let k = y.iter().max().unwrap() + 1;
            Target::Classes {
                classes: (0..k).map(|c| c.to_string()).collect(),
                y,
            }
        };
        let want: Vec<f64> = r["raw"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| match v.as_array() {
                Some(row) => row.iter().map(|v| v.as_f64().unwrap()).collect(),
                None => vec![v.as_f64().unwrap()],
            })
            .collect();
        let params = GbdtParams {
            n_rounds: 25,
            learning_rate: 0.1,
            max_leaves: 8,
            min_samples_leaf: 5,
            max_bins: 63,
            early_stopping_rounds: 0,
            ..Default::default()
        };
        let (b, _) = fit(&x, &target, None, &params, &never).unwrap();
        let got = b.raw(&x);
        assert_eq!(got.len(), want.len(), "{name}");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "{name}: raw scores differ by up to {worst}");
    }
}

#[test]
fn l1_shrinks_leaves_and_class_weights_shift_probabilities() {
    let n = 400;
    let x0: Vec<f64> = (0..n).map(|i| (i % 40) as f64).collect();
    let y: Vec<f64> = x0
        .iter()
        .map(|v| if *v < 20.0 { 0.0 } else { 1.0 })
        .collect();
    let base = GbdtParams {
        n_rounds: 5,
        min_samples_leaf: 5,
        early_stopping_rounds: 0,
        ..Default::default()
    };
    let fit_with = |p: &GbdtParams, t: &Target| {
        fit(std::slice::from_ref(&x0), t, None, p, &never)
            .unwrap()
            .0
    };
    let plain = fit_with(&base, &Target::Regression(y.clone()));
    let shrunk = fit_with(
        &GbdtParams {
            l1: 50.0,
            ..base.clone()
        },
        &Target::Regression(y.clone()),
    );
    let spread = |b: &Booster| {
        let p = b.raw(std::slice::from_ref(&x0));
        p.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - p.iter().copied().fold(f64::INFINITY, f64::min)
    };
    assert!(
        spread(&shrunk) < spread(&plain) * 0.9,
        "{} vs {}",
        spread(&shrunk),
        spread(&plain)
    );
    // One positive in ten: weighting the positives raises their predicted log-odds.
    let classes: Vec<usize> = (0..n)
        .map(|i| usize::from(i % 10 == 0 && x0[i] >= 20.0 || i % 37 == 0))
        .collect();
    let t = Target::Classes {
        classes: vec!["no".into(), "yes".into()],
        y: classes,
    };
    let weights = balanced_weights(&t);
    assert!(weights[1] > 5.0 * weights[0], "{weights:?}");
    let unweighted = fit_with(&base, &t);
    let weighted = fit_with(
        &GbdtParams {
            class_weights: weights,
            ..base.clone()
        },
        &t,
    );
    let mean = |b: &Booster| b.raw(std::slice::from_ref(&x0)).iter().sum::<f64>() / n as f64;
    assert!(mean(&weighted) > mean(&unweighted) + 0.1);
    let bad = GbdtParams {
        class_weights: vec![1.0, -2.0],
        ..base
    };
    assert!(fit_with_err(&bad));
}

fn fit_with_err(p: &GbdtParams) -> bool {
    let t = Target::Regression(vec![0.0, 1.0]);
    fit(&[vec![0.0, 1.0]], &t, None, p, &never).is_err()
}

#[test]
fn zero_has_a_bin_of_its_own_between_negatives_and_positives() {
    // Few zeros among many values, and a missing one: zero still gets
    // its own bin, and no bin mixes signs.
    let mut v: Vec<f64> = (0..400).map(|i| f64::from(i - 200) / 10.0).collect();
    v.push(f64::NAN);
    let m = BinMapper::fit(&v, 32);
    assert!(m.missing);
    assert!(m.n_bins() <= 32 + 1, "{} bins", m.n_bins());
    let zero = m.bin(0.0);
    assert_eq!(m.bin(-1e-40), zero);
    assert_ne!(m.bin(-0.1), zero);
    assert_ne!(m.bin(0.1), zero);
    for &x in &v {
        if x.is_nan() || x == 0.0 {
            continue;
        }
        let b = m.bin(x);
        assert!(b > 0);
        let lo = if b >= 2 {
            m.bounds[b as usize - 2]
        } else {
            f64::NEG_INFINITY
        };
        let hi = m
            .bounds
            .get(b as usize - 1)
            .copied()
            .unwrap_or(f64::INFINITY);
        assert!(!(lo < 0.0 && hi > 0.0) || b == zero, "bin {b} spans zero");
    }
    // Only positive values: a (empty) bin at zero, then the values.
    let m = BinMapper::fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 255);
    assert_eq!(m.bounds[0], ZERO);
    assert!(!m.missing);
}

#[test]
fn bins_match_raw_thresholds() {
    let v: Vec<f64> = (0..1000).map(|i| ((i * 37) % 1000) as f64 / 7.0).collect();
    let m = BinMapper::fit(&v, 16);
    assert!(m.n_bins() <= 17);
    for t in 1..m.bounds.len() {
        let thr = m.bounds[t - 1];
        for &x in &v {
            assert_eq!(m.bin(x) as usize <= t, x <= thr, "x={x} t={t}");
        }
    }
    assert_eq!(m.bin(f64::NAN), 0);
}

#[test]
fn parent_histogram_is_sum_of_children() {
    let x = vec![(0..100).map(|i| (i % 10) as f64).collect::<Vec<_>>()];
    let mappers = vec![BinMapper::fit(&x[0], 255)];
    let data = Binned::new(&x, &mappers);
    let grad: Vec<f64> = (0..100).map(|i| i as f64 * 0.1).collect();
    let hess = vec![1.0; 100];
    let all: Vec<u32> = (0..100).collect();
    let (a, b): (Vec<u32>, Vec<u32>) = all.iter().partition(|&&r| r % 3 == 0);
    let g = super::grow::Gradients {
        grad: &grad,
        hess: &hess,
    };
    let p = data.histogram(&all, g, &[0], false);
    let ha = data.histogram(&a, g, &[0], false);
    let hb = data.histogram(&b, g, &[0], false);
    for i in 0..p.len() {
        assert!((p[i].g - ha[i].g - hb[i].g).abs() < 1e-9);
        assert_eq!(p[i].h, ha[i].h + hb[i].h);
    }
}

/// Squared error counts rows exactly, so no leaf holds fewer than
/// `min_samples_leaf`; classification counts rows by hessian share (as
/// LightGBM), so confidently predicted rows weigh less, yet no leaf is
/// empty and each node's count is the sum of its children's.
#[test]
fn leaves_hold_at_least_the_minimum_rows() {
    let n = 600;
    let x: Vec<Vec<f64>> = (0..3)
        .map(|f| (0..n).map(|i| ((i * (7 + f) + f) % 97) as f64).collect())
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| x[0][i] * 0.3 + (x[1][i] - 50.0).abs())
        .collect();
    let classes: Vec<usize> = y.iter().map(|v| usize::from(*v > 30.0)).collect();
    let params = GbdtParams {
        n_rounds: 40,
        min_samples_leaf: 25,
        early_stopping_rounds: 0,
        ..Default::default()
    };
    let reg = fit(&x, &Target::Regression(y), None, &params, &never)
        .unwrap()
        .0;
    let cls = Target::Classes {
        classes: vec!["a".into(), "b".into()],
        y: classes,
    };
    let cls = fit(&x, &cls, None, &params, &never).unwrap().0;
    let leaf_counts = |b: &Booster| -> Vec<u32> {
        for t in &b.trees {
            for node in t.nodes.iter().filter(|n| !n.is_leaf()) {
                let (l, r) = (&t.nodes[node.left as usize], &t.nodes[node.right as usize]);
                assert_eq!(node.count, l.count + r.count);
            }
        }
        b.trees
            .iter()
            .flat_map(|t| t.nodes.iter().filter(|n| n.is_leaf()).map(|n| n.count))
            .collect()
    };
    let reg = leaf_counts(&reg);
    assert!(reg.len() > 40, "the trees split: {reg:?}");
    assert!(reg.iter().all(|&c| c >= 25), "{reg:?}");
    let cls = leaf_counts(&cls);
    assert!(cls.len() > 40, "the trees split: {cls:?}");
    assert!(cls.iter().all(|&c| c >= 1), "{cls:?}");
}

#[test]
fn fits_a_step_function_and_routes_missing() {
    let n = 400;
    let x0: Vec<f64> = (0..n)
        .map(|i| {
            if i % 10 == 0 {
                f64::NAN
            } else {
                (i % 100) as f64
            }
        })
        .collect();
    let y: Vec<f64> = x0
        .iter()
        .map(|&v| {
            if v.is_nan() {
                10.0
            } else if v < 50.0 {
                0.0
            } else {
                5.0
            }
        })
        .collect();
    let params = GbdtParams {
        n_rounds: 100,
        min_samples_leaf: 5,
        learning_rate: 0.3,
        ..Default::default()
    };
    let (b, _) = fit(
        std::slice::from_ref(&x0),
        &Target::Regression(y.clone()),
        None,
        &params,
        &never,
    )
    .unwrap();
    b.validate().unwrap();
    let pred = b.raw(&[vec![10.0, 80.0, f64::NAN]]);
    assert!((pred[0] - 0.0).abs() < 0.1, "{pred:?}");
    assert!((pred[1] - 5.0).abs() < 0.1, "{pred:?}");
    assert!((pred[2] - 10.0).abs() < 0.1, "{pred:?}");
}

#[test]
fn binned_and_raw_traversal_agree() {
    let n = 300;
    let x: Vec<Vec<f64>> = (0..3)
        .map(|f| {
            (0..n)
                .map(|i| ((i * (f + 3) * 7919) % 101) as f64)
                .collect()
        })
        .collect();
    let y: Vec<usize> = (0..n)
        .map(|i| usize::from(x[0][i] + x[1][i] > 100.0))
        .collect();
    let target = Target::Classes {
        classes: vec!["a".into(), "b".into()],
        y,
    };
    let params = GbdtParams {
        n_rounds: 20,
        min_samples_leaf: 3,
        early_stopping_rounds: 0,
        ..Default::default()
    };
    let (b, report) = fit(&x, &target, Some((&x, &target)), &params, &never).unwrap();
    assert!(report.rounds >= 1);
    let raw = b.raw(&x);
    assert!(loss(&target, 1, &raw) < 0.3);
}

#[test]
fn softmax_grows_one_tree_per_class() {
    let n = 90;
    let x = vec![(0..n).map(|i| i as f64).collect::<Vec<_>>()];
    let target = Target::Classes {
        classes: vec!["a".into(), "b".into(), "c".into()],
        y: (0..n).map(|i| i / 30).collect(),
    };
    let params = GbdtParams {
        n_rounds: 10,
        min_samples_leaf: 2,
        ..Default::default()
    };
    let (b, _) = fit(&x, &target, None, &params, &never).unwrap();
    assert_eq!(b.trees.len(), 30);
    let raw = b.raw(&[vec![5.0, 45.0, 85.0]]);
    for (r, want) in [0usize, 1, 2].iter().enumerate() {
        let row = &raw[r * 3..r * 3 + 3];
        let arg = (0..3).max_by(|&a, &c| row[a].total_cmp(&row[c])).unwrap();
        assert_eq!(arg, *want);
    }
}

#[test]
fn stop_ends_training_with_a_valid_model() {
    let x = vec![(0..50).map(|i| i as f64).collect::<Vec<_>>()];
    let (b, report) = fit(
        &x,
        &Target::Regression(x[0].clone()),
        None,
        &GbdtParams::default(),
        &|| true,
    )
    .unwrap();
    assert!(report.stopped);
    assert_eq!(b.trees.len(), 0);
    assert_eq!(b.raw(&x).len(), 50);
}

#[test]
fn rejects_bad_parameters() {
    let x = vec![vec![1.0]];
    let bad = GbdtParams {
        learning_rate: 0.0,
        ..Default::default()
    };
    assert!(fit(&x, &Target::Regression(vec![1.0]), None, &bad, &never).is_err());
    let inf = vec![vec![1.0, f64::INFINITY]];
    let y = Target::Regression(vec![1.0, 2.0]);
    assert!(fit(&inf, &y, None, &GbdtParams::default(), &never).is_err());
}

#[test]
fn nodes_without_hessian_do_not_split() {
    // Tiny class weights leave (sub)normal hessian sums: no row count
    // can be estimated, and the fit must neither overflow nor panic.
    let x = vec![vec![f64::NAN, 20.0], vec![-1.0, 2.0]];
    let y = Target::Classes {
        classes: vec!["a".into(), "b".into(), "c".into()],
        y: vec![2, 2],
    };
    let p = GbdtParams {
        class_weights: vec![1e-300, 1.0, 1e-300],
        min_child_weight: 0.0,
        min_samples_leaf: 1,
        max_bins: 2,
        learning_rate: 1.0,
        n_rounds: 6,
        early_stopping_rounds: 0,
        ..Default::default()
    };
    let (b, _) = fit(&x, &y, None, &p, &never).unwrap();
    assert!(b.raw(&x).iter().all(|v| v.is_finite()));
}
