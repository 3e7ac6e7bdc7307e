//! The leaderboard as the API shows it: an entry per finished trial, in
//! the engine's one ranking (`automl::metrics::compare_scores`), so that
//! the live board, the stored one and the search agree on what is best.

/// Best first by score (non-finite scores last), then in trial order.
pub fn rank(board: &mut [api::LeaderboardEntry], higher_is_better: bool) {
    board.sort_by(|a, b| {
        automl::metrics::compare_scores(higher_is_better, a.score, b.score)
            .then(a.trial.cmp(&b.trial))
    });
}

/// The entry of a finished trial, `finished_secs` after the build started.
pub fn entry(t: &automl::TrialRecord, finished_secs: f64) -> api::LeaderboardEntry {
    api::LeaderboardEntry {
        trial: t.trial,
        family: t.family.clone(),
        params: t.params.clone(),
        score: t.score,
        score_std: t.score_std,
        fit_secs: t.fit_secs,
        predict_us_per_row: t.predict_us_per_row,
        size_bytes: t.size_bytes,
        finished_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(trial: u32, score: f64) -> api::LeaderboardEntry {
        api::LeaderboardEntry {
            trial,
            family: "linear".into(),
            params: String::new(),
            score,
            score_std: 0.0,
            fit_secs: 0.0,
            predict_us_per_row: 0.0,
            size_bytes: 0,
            finished_secs: 0.0,
        }
    }

    #[test]
    fn best_first_non_finite_last_ties_in_trial_order() {
        let scores = [f64::NAN, 0.5, f64::INFINITY, 0.9, 0.5];
        let mut board: Vec<_> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| scored(i as u32, s))
            .collect();
        rank(&mut board, true);
        let order: Vec<u32> = board.iter().map(|e| e.trial).collect();
        assert_eq!(order, [3, 1, 4, 0, 2]);
        rank(&mut board, false);
        let order: Vec<u32> = board.iter().map(|e| e.trial).collect();
        assert_eq!(order, [1, 4, 3, 0, 2]);
    }
}
