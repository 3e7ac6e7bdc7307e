//! Validation splits: stratified k-fold cross-validation, or one
//! stratified holdout for large data. Positions index the target's rows.

use crate::rng::Rng;
use crate::task::Target;

/// Training and validation positions of one split.
pub(crate) type Split = (Vec<usize>, Vec<usize>);

/// The rows of each class (one group for regression).
fn groups(target: &Target) -> Vec<Vec<usize>> {
    match target {
        Target::Regression(y) => vec![(0..y.len()).collect()],
        Target::Classes { classes, y } => (0..classes.len())
            .map(|c| (0..y.len()).filter(|&i| y[i] == c).collect())
            .collect(),
    }
}

/// Splits positions `0..n` into train and validation, stratified by class.
pub(crate) fn holdout(target: &Target, fraction: f64, seed: u64) -> Split {
    let mut rng = Rng::derive(seed, 0x5e11);
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for mut g in groups(target) {
        rng.shuffle(&mut g);
        let mut take = (g.len() as f64 * fraction).round() as usize;
        if g.len() >= 2 {
            take = take.clamp(1, g.len() - 1);
        } else {
            take = 0;
        }
        valid.extend_from_slice(&g[..take]);
        train.extend_from_slice(&g[take..]);
    }
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

/// Validation splits as positions into the target: stratified k-fold, or
/// one stratified holdout when `k < 2`.
pub(crate) fn splits(target: &Target, k: usize, holdout_fraction: f64, seed: u64) -> Vec<Split> {
    if k < 2 {
        return vec![holdout(target, holdout_fraction, seed)];
    }
    let mut rng = Rng::derive(seed, 0xf01d);
    let mut fold_of = vec![0usize; target.len()];
    let mut next = 0;
    for mut g in groups(target) {
        rng.shuffle(&mut g);
        for i in g {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    (0..k)
        .map(|f| {
            let (valid, train): (Vec<usize>, Vec<usize>) =
                (0..target.len()).partition(|&i| fold_of[i] == f);
            (train, valid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfold_is_stratified_and_validates_every_row_once() {
        let y: Vec<usize> = (0..103).map(|i| usize::from(i % 4 == 0)).collect();
        let target = Target::Classes {
            classes: vec!["a".into(), "b".into()],
            y: y.clone(),
        };
        let s = splits(&target, 5, 0.2, 1);
        assert_eq!(s.len(), 5);
        let mut seen = vec![0; 103];
        for (tr, va) in &s {
            assert_eq!(tr.len() + va.len(), 103);
            va.iter().for_each(|&i| seen[i] += 1);
            let positives = va.iter().filter(|&&i| y[i] == 1).count();
            assert!(
                (5..=6).contains(&positives),
                "{positives} of 26 positives in a fold"
            );
        }
        assert!(seen.iter().all(|&c| c == 1));
    }
}
