//! Validation without optimism: on a target with no signal, the scores a
//! search reports (each trial's mean fold score, and the shipped model's
//! out-of-fold predictions) say so, as if no model had looked at the rows
//! it is scored on.

use std::sync::atomic::AtomicBool;

use automl::{Column, Control, Dataset, Rng, SearchConfig, metrics, search};

/// `n` rows of noise features and a coin-flip target.
fn noise(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut columns: Vec<(String, Column)> = (0..8)
        .map(|j| {
            let v: Vec<f64> = (0..n).map(|_| rng.next_f64() * 10.0).collect();
            (format!("x{j}"), Column::Numeric(v))
        })
        .collect();
    let colour: Vec<Option<String>> = (0..n)
        .map(|_| Some(["red", "green", "blue"][rng.below(3)].to_owned()))
        .collect();
    columns.push(("colour".into(), Column::Categorical(colour)));
    let y: Vec<Option<String>> = (0..n)
        .map(|_| Some(if rng.next_f64() < 0.5 { "yes" } else { "no" }.to_owned()))
        .collect();
    columns.push(("y".into(), Column::Categorical(y)));
    Dataset::new(columns).unwrap()
}

#[test]
fn a_target_with_no_signal_scores_as_chance() {
    // Each trial's mean fold AUC, averaged over the trials of a search.
    let mut trial_means = Vec::new();
    let mut oof_aucs = Vec::new();
    for seed in 0..40 {
        let data = noise(400, seed);
        let cancel = AtomicBool::new(false);
        let config = SearchConfig {
            max_trials: Some(6),
            seed,
            families: vec!["boosted trees".into(), "neural network".into()],
            ..SearchConfig::new("y")
        };
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        let out = search(&data, &config, control, &mut |_| {}).unwrap();
        let mean_trial: f64 =
            out.leaderboard.iter().map(|t| t.score).sum::<f64>() / out.leaderboard.len() as f64;
        trial_means.push(mean_trial);
        let automl::Predictions::Classes { probabilities, .. } = &out.oof.predictions else {
            panic!("classes")
        };
        let y: Vec<usize> = out
            .oof
            .rows
            .iter()
            .map(|&r| match data.column("y").unwrap() {
                Column::Categorical(v) => usize::from(v[r].as_deref() == Some("yes")),
                _ => unreachable!(),
            })
            .collect();
        let p: Vec<f64> = probabilities.chunks(2).map(|p| p[1]).collect();
        oof_aucs.push(metrics::auc(&y, &p));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    eprintln!(
        "mean trial AUC {:.3} ({trial_means:.3?}); shipped out-of-fold AUC {:.3} ({oof_aucs:.3?})",
        mean(&trial_means),
        mean(&oof_aucs)
    );
    // Measured: 0.519 and 0.546 when boosting and networks stopped on the
    // fold they were scored on; 0.494 and 0.494 with rounds chosen on an
    // inner split of the training fold.
    let (trials, shipped) = (mean(&trial_means), mean(&oof_aucs));
    assert!(
        (0.46..0.51).contains(&trials),
        "trials {trials}: {trial_means:?}"
    );
    assert!(
        (0.45..0.525).contains(&shipped),
        "shipped {shipped}: {oof_aucs:?}"
    );
}
