//! Statistics shared by the profile and the quality report: a column as plain
//! values (numbers with NaN for missing, everything else as dictionary codes),
//! seeded row samples, quantiles, moments, histograms, Pearson's r and
//! Cramér's V. Plain Rust over slices, so each piece is tested by hand.

use std::collections::HashMap;

use automl::Rng;
use polars::prelude::*;

/// Above this many rows, distribution statistics use a seeded sample of this many.
pub const SAMPLE_ROWS: usize = 200_000;
/// Pairwise coefficients use a seeded sample of at most this many rows.
pub const PAIR_ROWS: usize = 50_000;
/// The seed of every sample: the same data always gives the same statistics.
pub const SEED: u64 = 0x4b49_4c4e;
/// The code of a missing value in [`Values::Categories`].
pub const MISSING: u32 = u32::MAX;

/// `k` distinct indices of `0..n` chosen uniformly at random, in increasing
/// order (Knuth's selection sampling, one pass, drawn with the engine's
/// `Rng::new(seed)`); all of `0..n` when `k >= n`.
pub fn sample_rows(n: usize, k: usize, seed: u64) -> Vec<usize> {
    if k >= n {
        return (0..n).collect();
    }
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(k);
    for i in 0..n {
        let need = k - out.len();
        if need == 0 {
            break;
        }
        if ((n - i) as f64) * rng.next_f64() < need as f64 {
            out.push(i);
        }
    }
    out
}

/// A column's values in the form the statistics need.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Numbers, NaN where missing; `integer` when the column's type is an integer.
    Numbers { values: Vec<f64>, integer: bool },
    /// Anything else (text, booleans, dates) as codes into `levels`, in order
    /// of first appearance; [`MISSING`] where missing.
    Categories {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
}

impl Values {
    pub fn from_column(c: &Column) -> PolarsResult<Values> {
        let dt = c.dtype();
        if dt.is_primitive_numeric() {
            let f = c.cast(&DataType::Float64)?;
            let values = f.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            return Ok(Values::Numbers {
                values,
                integer: dt.is_integer(),
            });
        }
        let text = c.cast(&DataType::String)?;
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut levels: Vec<String> = Vec::new();
        let codes = text
            .str()?
            .iter()
            .map(|v| match v {
                None => MISSING,
                Some(s) => *index.entry(s).or_insert_with(|| {
                    levels.push(s.to_owned());
                    (levels.len() - 1) as u32
                }),
            })
            .collect();
        Ok(Values::Categories { codes, levels })
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Numbers { values, .. } => values.len(),
            Values::Categories { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Values::Numbers { values, .. } => values[row].is_nan(),
            Values::Categories { codes, .. } => codes[row] == MISSING,
        }
    }

    /// The values of `rows`, in that order (levels are kept as they are).
    pub fn take(&self, rows: &[usize]) -> Values {
        match self {
            Values::Numbers { values, integer } => Values::Numbers {
                values: rows.iter().map(|&r| values[r]).collect(),
                integer: *integer,
            },
            Values::Categories { codes, levels } => Values::Categories {
                codes: rows.iter().map(|&r| codes[r]).collect(),
                levels: levels.clone(),
            },
        }
    }

    /// The value at `row` as text (`None` when missing).
    pub fn label(&self, row: usize) -> Option<String> {
        match self {
            Values::Numbers { values, .. } => {
                (!values[row].is_nan()).then(|| automl::category_label(values[row]))
            }
            Values::Categories { codes, levels } => {
                levels.get(codes[row] as usize).map(ToOwned::to_owned)
            }
        }
    }
}

/// How many times each level occurs.
pub fn level_counts(codes: &[u32], levels: usize) -> Vec<u64> {
    let mut counts = vec![0u64; levels];
    for &c in codes {
        if c != MISSING {
            counts[c as usize] += 1;
        }
    }
    counts
}

/// The finite numbers of `values`, sorted.
pub fn finite_sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// The robust outlier rule of the quality report and the recipe: the median
/// ± `spreads` × the standard deviation of the values clipped to their
/// 5th–95th percentiles. `(lower, upper, median, spread)`; `None` for fewer
/// than two numbers or no spread.
pub fn outlier_bounds(sorted: &[f64], spreads: f64) -> Option<(f64, f64, f64, f64)> {
    let (p05, median, p95) = (
        quantile(sorted, 0.05)?,
        quantile(sorted, 0.5)?,
        quantile(sorted, 0.95)?,
    );
    let clipped: Vec<f64> = sorted.iter().map(|x| x.clamp(p05, p95)).collect();
    let spread = Moments::of(&clipped)?.std?;
    // Bounds beyond the largest double are the largest double: no finite
    // number lies beyond either.
    let bound = |x: f64| x.clamp(f64::MIN, f64::MAX);
    (spread > 0.0).then_some((
        bound(median - spreads * spread),
        bound(median + spreads * spread),
        median,
        spread,
    ))
}

/// The `q`-quantile of sorted numbers, interpolated linearly (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(between(sorted[lo], sorted[hi], h - lo as f64))
}

/// `a + t (b - a)` for `t` in [0, 1], finite whenever `a` and `b` are (the
/// difference of two numbers near the largest double overflows).
fn between(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if d.is_finite() {
        a + t * d
    } else {
        a * (1.0 - t) + b * t
    }
}

/// A power of two that brings the largest magnitude of `values` near 1, when
/// their squares and cubes would overflow or underflow (1 otherwise, so that
/// ordinary data gives exactly the unscaled results). Dividing by a power of
/// two is exact, and every statistic here either scales back exactly or does
/// not depend on the scale.
fn scale_of(values: impl Iterator<Item = f64>) -> f64 {
    let largest = values.fold(0.0f64, |m, x| m.max(x.abs()));
    let (big, small) = (2f64.powi(300), 2f64.powi(-300));
    if (largest > big || largest < small) && largest.is_normal() {
        // The exponent bits alone: 2^floor(log2(largest)).
        f64::from_bits(largest.to_bits() & 0x7FF0_0000_0000_0000)
    } else {
        1.0
    }
}

/// The mean of the finite numbers of `values` (`None` when there are none),
/// finite even when their sum overflows.
pub fn mean(values: &[f64]) -> Option<f64> {
    Moments::of(values).map(|m| m.mean)
}

pub fn quantiles(sorted: &[f64]) -> Option<api::Quantiles> {
    Some(api::Quantiles {
        p05: quantile(sorted, 0.05)?,
        p25: quantile(sorted, 0.25)?,
        median: quantile(sorted, 0.5)?,
        p75: quantile(sorted, 0.75)?,
        p95: quantile(sorted, 0.95)?,
    })
}

/// Mean, sample standard deviation and skewness of finite numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: usize,
    pub mean: f64,
    /// With n − 1 in the denominator; `None` below two numbers.
    pub std: Option<f64>,
    /// `m3 / m2^1.5` (biased, as scipy's `skew` by default); `None` when the
    /// numbers do not vary.
    pub skewness: Option<f64>,
}

impl Moments {
    /// Infinite values are left out like missing ones. Numbers near the
    /// largest double are scaled first, so the sums do not overflow; a
    /// standard deviation that is itself beyond the largest double is `None`.
    pub fn of(values: &[f64]) -> Option<Moments> {
        let finite = || values.iter().copied().filter(|x| x.is_finite());
        let n = finite().count();
        if n == 0 {
            return None;
        }
        let scale = scale_of(finite());
        let scaled = || finite().map(|x| x / scale);
        let nf = n as f64;
        let mean = scaled().sum::<f64>() / nf;
        let (mut s2, mut s3) = (0.0, 0.0);
        for x in scaled() {
            let d = x - mean;
            s2 += d * d;
            s3 += d * d * d;
        }
        let std = (n >= 2)
            .then(|| (s2 / (nf - 1.0)).sqrt() * scale)
            .filter(|s| s.is_finite());
        let m2 = s2 / nf;
        // Differences at the rounding level of the mean are no spread at all.
        let varies = m2 > (f64::EPSILON * 16.0 * mean.abs()).powi(2) && m2 > 0.0;
        let skewness = varies
            .then(|| (s3 / nf) / m2.powf(1.5))
            .filter(|s| s.is_finite());
        Some(Moments {
            n,
            mean: mean * scale,
            std,
            skewness,
        })
    }
}

/// Bins of a histogram of sorted finite numbers: one bin per integer when
/// `integer` and the range spans at most `bins` integers, otherwise `bins`
/// equal-width bins between the smallest and largest number.
pub fn histogram(sorted: &[f64], integer: bool, bins: usize) -> Option<api::Histogram> {
    let (&lo, &hi) = (sorted.first()?, sorted.last()?);
    let edges: Vec<f64> = if hi == lo {
        vec![lo - 0.5, hi + 0.5]
    } else if integer && hi - lo < bins as f64 {
        let k = (hi - lo) as usize + 1;
        (0..=k).map(|i| lo - 0.5 + i as f64).collect()
    } else if (hi - lo).is_finite() {
        let step = (hi - lo) / bins as f64;
        let mut e: Vec<f64> = (0..=bins).map(|i| lo + i as f64 * step).collect();
        e[bins] = hi;
        e
    } else {
        // The range overflows: interpolate each edge between the ends.
        (0..=bins)
            .map(|i| between(lo, hi, i as f64 / bins as f64))
            .collect()
    };
    let k = edges.len() - 1;
    let mut counts = vec![0u64; k];
    for &x in sorted {
        // The bin whose left edge is the last one at or below x; the last bin is closed.
        let i = edges
            .partition_point(|&e| e <= x)
            .saturating_sub(1)
            .min(k - 1);
        counts[i] += 1;
    }
    Some(api::Histogram { edges, counts })
}

/// Pearson's r over the rows where both are finite; `None` when either does not vary.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let pairs = || {
        x.iter()
            .zip(y)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
    };
    // r does not depend on the scale of either side.
    let (kx, ky) = (
        scale_of(pairs().map(|p| *p.0)),
        scale_of(pairs().map(|p| *p.1)),
    );
    let scaled = || pairs().map(|(a, b)| (a / kx, b / ky));
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for (a, b) in scaled() {
        n += 1;
        sx += a;
        sy += b;
    }
    if n < 3 {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in scaled() {
        let (da, db) = (a - mx, b - my);
        sxx += da * da;
        syy += db * db;
        sxy += da * db;
    }
    (sxx > 0.0 && syy > 0.0)
        .then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
        .filter(|r| r.is_finite())
}

/// Cramér's V (without bias correction) over the rows where both have a
/// value; `None` unless both show at least two values there.
pub fn cramers_v(a: &[u32], levels_a: usize, b: &[u32], levels_b: usize) -> Option<f64> {
    let mut table = vec![0u64; levels_a * levels_b];
    let mut n = 0u64;
    for (&i, &j) in a.iter().zip(b) {
        if i != MISSING && j != MISSING {
            table[i as usize * levels_b + j as usize] += 1;
            n += 1;
        }
    }
    let rows: Vec<u64> = (0..levels_a)
        .map(|i| table[i * levels_b..(i + 1) * levels_b].iter().sum())
        .collect();
    let cols: Vec<u64> = (0..levels_b)
        .map(|j| (0..levels_a).map(|i| table[i * levels_b + j]).sum())
        .collect();
    let r = rows.iter().filter(|&&c| c > 0).count();
    let c = cols.iter().filter(|&&c| c > 0).count();
    if r < 2 || c < 2 {
        return None;
    }
    let nf = n as f64;
    let mut chi2 = 0.0;
    for (i, &ri) in rows.iter().enumerate().filter(|(_, r)| **r > 0) {
        for (j, &cj) in cols.iter().enumerate().filter(|(_, c)| **c > 0) {
            let expected = ri as f64 * cj as f64 / nf;
            let d = table[i * levels_b + j] as f64 - expected;
            chi2 += d * d / expected;
        }
    }
    Some((chi2 / (nf * (r.min(c) - 1) as f64)).sqrt().min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn samples_are_sorted_distinct_seeded_and_complete_when_small() {
        let s = sample_rows(1000, 100, 7);
        assert_eq!(s.len(), 100);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s[99] < 1000);
        assert_eq!(s, sample_rows(1000, 100, 7));
        assert_ne!(s, sample_rows(1000, 100, 8));
        assert_eq!(sample_rows(5, 10, 1), vec![0, 1, 2, 3, 4]);
        // Both halves of the rows are represented.
        assert!(s.iter().filter(|&&i| i < 500).count() > 30);
        assert!(s.iter().filter(|&&i| i >= 500).count() > 30);
    }

    #[test]
    fn samples_are_the_rows_drawn_before_the_engine_generator_was_shared() {
        // Drawn by the data crate's own SplitMix64 before it used
        // `automl::Rng`: profiles and quality reports of stored datasets
        // keep their samples.
        assert_eq!(
            sample_rows(1000, 8, SEED),
            [112, 185, 227, 456, 519, 528, 644, 971]
        );
        assert_eq!(sample_rows(50, 5, SEED ^ 1), [1, 6, 9, 17, 35]);
        let mut rng = Rng::new(3);
        let draws: Vec<f64> = (0..3).map(|_| rng.next_f64()).collect();
        assert_eq!(
            draws,
            [0.7457817572627011, 0.9710027535867962, 0.4443592170557721]
        );
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy 2.4.6: np.percentile([1, 2, 3, 4, 10], [5, 25, 50, 75, 95])
        // = [1.2, 2.0, 3.0, 4.0, 8.8]
        let q = quantiles(&[1.0, 2.0, 3.0, 4.0, 10.0]).unwrap();
        assert!(close(q.p05, 1.2) && close(q.p95, 8.8));
        assert_eq!((q.p25, q.median, q.p75), (2.0, 3.0, 4.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.95), Some(4.0));
    }

    #[test]
    fn moments_of_constant_and_tiny_inputs() {
        let m = Moments::of(&[3.0, 3.0, 3.0, f64::NAN]).unwrap();
        assert_eq!((m.n, m.mean, m.std, m.skewness), (3, 3.0, Some(0.0), None));
        let one = Moments::of(&[5.0]).unwrap();
        assert_eq!((one.std, one.skewness), (None, None));
        assert_eq!(Moments::of(&[f64::NAN]), None);
        // A spread at the rounding level of a large mean is no spread.
        let m = Moments::of(&[0.1 + 0.2, 0.3, 0.3]).unwrap();
        assert_eq!(m.skewness, None);
    }

    #[test]
    fn statistics_of_numbers_near_the_largest_double_stay_finite() {
        // -1.7e308 to 1.53e308: their sum, range and squares overflow.
        let v: Vec<f64> = (0..20).map(|i| (f64::from(i) - 10.0) * 1.7e307).collect();
        let m = Moments::of(&v).unwrap();
        assert!(close(m.mean, -8.5e306), "{m:?}");
        // numpy 2.4.6: np.std(np.arange(20) - 10, ddof=1) = 5.916079783099616
        assert!(
            close(m.std.unwrap(), 5.916_079_783_099_616 * 1.7e307),
            "{m:?}"
        );
        assert!(m.skewness.unwrap().abs() < 1e-12, "{m:?}");
        let sorted = finite_sorted(&v);
        let q = quantiles(&sorted).unwrap();
        assert!(
            close(q.median, -8.5e306) && close(q.p05, -1.5385e308),
            "{q:?}"
        );
        let h = histogram(&sorted, false, 20).unwrap();
        assert!(h.edges.iter().all(|e| e.is_finite()), "{:?}", h.edges);
        assert_eq!((h.edges[0], h.edges[20]), (sorted[0], sorted[19]));
        assert_eq!(h.counts.iter().sum::<u64>(), 20);
        assert!(close(pearson(&v, &v).unwrap(), 1.0));
        let (lo, hi, _, spread) = outlier_bounds(&sorted, 5.0).unwrap();
        assert!(lo.is_finite() && hi.is_finite() && spread.is_finite());
        // A spread beyond the largest double is none rather than infinite.
        assert_eq!(Moments::of(&[-f64::MAX, f64::MAX]).unwrap().std, None);
        assert_eq!(
            mean(&[1.0, f64::INFINITY, 3.0, f64::NEG_INFINITY]),
            Some(2.0)
        );
    }

    #[test]
    fn histograms_bin_integers_one_per_value_and_close_the_last_bin() {
        let h = histogram(&[1.0, 2.0, 2.0, 4.0], true, 20).unwrap();
        assert_eq!(h.edges, vec![0.5, 1.5, 2.5, 3.5, 4.5]);
        assert_eq!(h.counts, vec![1, 2, 0, 1]);
        let h = histogram(&[0.0, 0.5, 1.0, 2.0], false, 4).unwrap();
        assert_eq!(h.edges, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(h.counts, vec![1, 1, 1, 1]);
        let h = histogram(&[7.0, 7.0], false, 20).unwrap();
        assert_eq!((h.edges, h.counts), (vec![6.5, 7.5], vec![2]));
        assert_eq!(histogram(&[], false, 20), None);
    }

    #[test]
    fn pearson_skips_missing_pairs_and_constant_columns() {
        let x = [1.0, 2.0, 3.0, 4.0, f64::NAN];
        let y = [2.0, 4.0, 6.0, 8.0, 1.0];
        assert!(close(pearson(&x, &y).unwrap(), 1.0));
        let neg: Vec<f64> = y.iter().map(|v| -v).collect();
        assert!(close(pearson(&x, &neg).unwrap(), -1.0));
        assert_eq!(pearson(&x, &[1.0; 5]), None);
        // numpy 2.4.6: np.corrcoef([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])[0, 1] = 0.8
        assert!(close(
            pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap(),
            0.8
        ));
    }

    /// Paired codes with the given contingency table.
    fn from_table(table: &[&[u32]]) -> (Vec<u32>, Vec<u32>) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (i, row) in table.iter().enumerate() {
            for (j, &n) in row.iter().enumerate() {
                for _ in 0..n {
                    a.push(i as u32);
                    b.push(j as u32);
                }
            }
        }
        (a, b)
    }

    #[test]
    fn cramers_v_matches_scipy() {
        // scipy 1.17.1: scipy.stats.contingency.association(table, method="cramer")
        // [[10, 5], [3, 12]] -> 0.4708709557974187
        // [[10, 5, 3], [2, 8, 9]] -> 0.4933391994885332
        let (mut a, mut b) = from_table(&[&[10, 5], &[3, 12]]);
        a.push(MISSING);
        b.push(0);
        let v = cramers_v(&a, 2, &b, 2).unwrap();
        assert!((v - 0.470_870_955_797_418_7).abs() < 1e-12, "{v}");
        let (a, b) = from_table(&[&[10, 5, 3], &[2, 8, 9]]);
        let v = cramers_v(&a, 2, &b, 3).unwrap();
        assert!((v - 0.493_339_199_488_533_2).abs() < 1e-12, "{v}");
        assert!(close(
            cramers_v(&[0, 1, 2, 0], 3, &[2, 0, 1, 2], 3).unwrap(),
            1.0
        ));
        assert_eq!(cramers_v(&[0, 0, 0], 1, &[0, 1, 0], 2), None);
    }

    #[test]
    fn values_encode_text_in_order_of_appearance() {
        let c = Column::new("s".into(), [Some("b"), None, Some("a"), Some("b")]);
        let v = Values::from_column(&c).unwrap();
        assert_eq!(
            v,
            Values::Categories {
                codes: vec![0, MISSING, 1, 0],
                levels: vec!["b".into(), "a".into()],
            }
        );
        assert_eq!(v.label(2).as_deref(), Some("a"));
        assert!(v.is_missing(1));
        let n = Values::from_column(&Column::new("n".into(), [Some(1i64), None])).unwrap();
        assert!(matches!(n, Values::Numbers { integer: true, ref values } if values[1].is_nan()));
        assert_eq!(n.label(0).as_deref(), Some("1"));
    }
}
