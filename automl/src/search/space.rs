//! Discrete hyperparameter spaces and the Tree-structured Parzen Estimator
//! that proposes their points: a family declares its space (choices per
//! dimension) and maps a point to its hyperparameters.

use std::collections::HashSet;

use crate::metrics::Metric;
use crate::rng::Rng;

/// Choices per dimension.
pub(crate) type Space<const D: usize> = [&'static [f64]; D];

/// A point of a space: one choice index per dimension.
pub(crate) type Point<const D: usize> = [usize; D];

/// Finished trials needed before TPE replaces random search.
const TPE_MIN_TRIALS: usize = 8;
/// Random proposals scored per TPE suggestion.
const TPE_PROPOSALS: usize = 24;
/// Draws for an untried point before settling for a tried one.
const RANDOM_REDRAWS: usize = 64;

/// TPE over one space: what finished (point and score) and what was tried.
#[derive(Debug, Clone)]
pub(crate) struct Tpe<const D: usize> {
    space: &'static Space<D>,
    history: Vec<(Point<D>, f64)>,
    tried: HashSet<Point<D>>,
}

impl<const D: usize> Tpe<D> {
    pub(crate) fn new(space: &'static Space<D>) -> Self {
        Tpe {
            space,
            history: Vec::new(),
            tried: HashSet::new(),
        }
    }

    /// Where `values` sit in the space (`None` if they are not a point of it).
    pub(crate) fn point(&self, values: [f64; D]) -> Option<Point<D>> {
        let mut out = [0; D];
        for (i, v) in values.iter().enumerate() {
            out[i] = self.space[i].iter().position(|c| c == v)?;
        }
        Some(out)
    }

    /// The values of a point.
    pub(crate) fn values(&self, point: &Point<D>) -> [f64; D] {
        std::array::from_fn(|i| self.space[i][point[i]])
    }

    /// A point was queued: it is not proposed again.
    pub(crate) fn tried(&mut self, point: Point<D>) {
        self.tried.insert(point);
    }

    /// A point finished with a finite score.
    pub(crate) fn finished(&mut self, point: Point<D>, score: f64) {
        self.history.push((point, score));
    }

    /// The next point by a Tree-structured Parzen Estimator over the
    /// discrete space: finished trials are split into the best quarter and
    /// the rest, each choice of each dimension gets a smoothed frequency in
    /// both groups, and of `TPE_PROPOSALS` random proposals the one with the
    /// highest ratio good/rest wins. Random search until `TPE_MIN_TRIALS`
    /// trials have finished. Points already tried are not proposed again:
    /// TPE converges on its favourite region, and without this it
    /// re-proposes the same point, which spends trials on copies and fills
    /// the ensemble pool with them.
    pub(crate) fn propose(&self, rng: &mut Rng, metric: Metric) -> Point<D> {
        if self.history.len() < TPE_MIN_TRIALS {
            return self.random(rng);
        }
        let mut ranked: Vec<&(Point<D>, f64)> = self.history.iter().collect();
        ranked.sort_by(|a, b| metric.compare(a.1, b.1));
        let n_good = (ranked.len() / 4).max(2);
        let density = |group: &[&(Point<D>, f64)], i: usize, c: usize| {
            let hits = group.iter().filter(|(x, _)| x[i] == c).count() as f64;
            (hits + 1.0) / (group.len() as f64 + self.space[i].len() as f64)
        };
        let (good, rest) = ranked.split_at(n_good);
        let mut best: Option<(f64, Point<D>)> = None;
        for _ in 0..TPE_PROPOSALS {
            let choice = self.draw(rng);
            if self.tried.contains(&choice) {
                continue;
            }
            let ratio: f64 = (0..D)
                .map(|i| (density(good, i, choice[i]) / density(rest, i, choice[i])).ln())
                .sum();
            if best.is_none_or(|(b, _)| ratio > b) {
                best = Some((ratio, choice));
            }
        }
        match best {
            Some((_, choice)) => choice,
            None => self.random(rng),
        }
    }

    /// A random point, drawn again while it was tried (a bounded number of times).
    fn random(&self, rng: &mut Rng) -> Point<D> {
        let mut choice = self.draw(rng);
        for _ in 0..RANDOM_REDRAWS {
            if !self.tried.contains(&choice) {
                break;
            }
            choice = self.draw(rng);
        }
        choice
    }

    fn draw(&self, rng: &mut Rng) -> Point<D> {
        let mut choice = [0; D];
        for (i, c) in choice.iter_mut().enumerate() {
            *c = rng.below(self.space[i].len());
        }
        choice
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPACE: Space<7> = [
        &[0.02, 0.05, 0.1, 0.2],
        &[4.0, 7.0, 15.0, 31.0, 63.0, 127.0],
        &[2.0, 5.0, 10.0, 20.0, 50.0],
        &[0.6, 0.8, 1.0],
        &[0.5, 0.7, 0.9, 1.0],
        &[0.0, 0.1, 1.0, 10.0],
        &[0.0, 0.1, 1.0],
    ];

    fn with_history(history: &[(Point<7>, f64)]) -> Tpe<7> {
        let mut tpe = Tpe::new(&SPACE);
        for (p, s) in history {
            tpe.finished(*p, *s);
        }
        tpe
    }

    #[test]
    fn tpe_proposes_what_worked() {
        // Trials with 63 leaves (index 4) scored best; TPE should mostly propose them.
        let history: Vec<(Point<7>, f64)> = (0..40)
            .map(|i| {
                let leaves = i % 6;
                let choice = [i % 4, leaves, i % 5, i % 3, i % 4, (i / 3) % 4, i % 3];
                let score = if leaves == 4 {
                    0.9
                } else {
                    0.6 + (i % 7) as f64 * 0.01
                };
                (choice, score)
            })
            .collect();
        let tpe = with_history(&history);
        let mut rng = Rng::new(1);
        let hits = (0..100)
            .filter(|_| tpe.propose(&mut rng, Metric::Auc)[1] == 4)
            .count();
        // Random search would pick 63 leaves about 17 times in 100.
        assert!(hits > 60, "{hits} of 100");
        // Too little history: random search.
        let few = with_history(&history[..TPE_MIN_TRIALS - 1]);
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        assert_eq!(few.propose(&mut a, Metric::Auc), few.random(&mut b));
    }

    #[test]
    fn tpe_does_not_propose_a_point_twice() {
        // TPE's favourite region is small (one point's neighbours), so
        // without the tried set it proposes the same points again.
        let history: Vec<(Point<7>, f64)> = (0..40)
            .map(|i| {
                let good = i % 4 == 0;
                let choice = if good {
                    [2, 4, 1, 2, 3, 0, 0]
                } else {
                    [i % 4, i % 6, i % 5, i % 3, i % 4, (i / 3) % 4, i % 3]
                };
                (choice, if good { 0.9 } else { 0.6 })
            })
            .collect();
        let mut tpe = with_history(&history);
        for (p, _) in &history {
            tpe.tried(*p);
        }
        let mut rng = Rng::new(3);
        for n in 0..300 {
            let x = tpe.propose(&mut rng, Metric::Auc);
            assert!(tpe.tried.insert(x), "proposal {n} repeats {x:?}");
        }
    }

    #[test]
    fn points_and_values_map_both_ways() {
        let tpe = Tpe::new(&SPACE);
        let p = [1, 2, 3, 0, 1, 2, 0];
        assert_eq!(tpe.point(tpe.values(&p)), Some(p));
        assert_eq!(tpe.point([0.03, 4.0, 2.0, 0.6, 0.5, 0.0, 0.0]), None);
    }
}
