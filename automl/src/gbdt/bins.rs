//! Binning: each feature's values to `u8` bins as LightGBM makes them
//! (bin 0 = missing; zero has a bin of its own, negatives and positives
//! binned apart, greedy equal-frequency, at least 3 rows per bin), and the
//! binned training data.

/// Rows a value bin holds at least (LightGBM's `min_data_in_bin`): rare
/// values share a bin rather than invite splits on two or three rows, and
/// small data gets fewer bins to search.
const MIN_ROWS_IN_BIN: usize = 3;

/// Per-feature bin boundaries: value bin `b` (1-based) holds values in
/// `(bounds[b-2], bounds[b-1]]`; bin 0 holds missing values.
#[derive(Debug, Clone)]
pub(super) struct BinMapper {
    pub(super) bounds: Vec<f64>,
    /// The training values include missing ones.
    pub(super) missing: bool,
    /// With missing values sent right, the left side's row count is the
    /// estimated one (see [`Grower::scan`]): LightGBM does so when the
    /// feature's most frequent bin is not its first.
    pub(super) left_estimated: bool,
}

impl BinMapper {
    /// Bins as LightGBM makes them: zero gets a bin of its own, and the
    /// negative and positive values are binned apart (the negatives get
    /// their share of the bins), so a split at zero is always possible and
    /// zero-heavy features keep their resolution on both sides.
    pub(super) fn fit(values: &[f64], max_bins: usize) -> BinMapper {
        BinMapper::fit_with(values, max_bins, MIN_ROWS_IN_BIN)
    }

    /// [`BinMapper::fit`] with at least `min_rows` rows per value bin.
    pub(super) fn fit_with(values: &[f64], max_bins: usize, min_rows: usize) -> BinMapper {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        // Missing values take one of the bins, as in LightGBM.
        let max_bins = max_bins - usize::from(v.len() < values.len());
        let mut distinct: Vec<(f64, usize)> = Vec::new();
        for x in v.iter().copied() {
            let x = if x.abs() <= ZERO { 0.0 } else { x };
            match distinct.last_mut() {
                Some((d, c)) if *d == x => *c += 1,
                _ => distinct.push((x, 1)),
            }
        }
        let neg = distinct.partition_point(|d| d.0 < 0.0);
        let pos = distinct.partition_point(|d| d.0 <= 0.0);
        let rows = |d: &[(f64, usize)]| d.iter().map(|d| d.1).sum::<usize>();
        let (neg_rows, zero_rows) = (rows(&distinct[..neg]), rows(&distinct[neg..pos]));
        let mut bounds = Vec::new();
        if neg > 0 && max_bins > 1 {
            let share = neg_rows as f64 / (v.len() - zero_rows) as f64;
            let neg_bins = ((share * (max_bins - 1) as f64) as usize).max(1);
            bounds = greedy_bounds(&distinct[..neg], neg_bins, min_rows);
            bounds.push(-ZERO);
        }
        let pos_bins = max_bins.saturating_sub(1 + bounds.len());
        if pos < distinct.len() && pos_bins > 0 {
            bounds.push(ZERO);
            bounds.extend(greedy_bounds(&distinct[pos..], pos_bins, min_rows));
        }
        let mut m = BinMapper {
            bounds,
            missing: v.len() < values.len(),
            left_estimated: false,
        };
        // LightGBM's most frequent bin: the fullest (missing values last),
        // unless it holds under 70% of the rows, then the bin of zero.
        let mut rows_in = vec![0usize; m.n_bins()];
        for d in &distinct {
            rows_in[usize::from(m.bin(d.0))] += d.1;
        }
        rows_in.rotate_left(1);
        *rows_in.last_mut().unwrap() = values.len() - v.len();
        let mut most = 0;
        for (b, &n) in rows_in.iter().enumerate() {
            if n > rows_in[most] {
                most = b;
            }
        }
        let zero = usize::from(m.bin(0.0)) - 1;
        if most != zero && (rows_in[most] as f64) < 0.7 * values.len() as f64 {
            most = zero;
        }
        m.left_estimated = most != 0;
        m
    }

    pub(super) fn n_bins(&self) -> usize {
        self.bounds.len() + 2
    }

    pub(super) fn bin(&self, x: f64) -> u8 {
        if x.is_nan() {
            0
        } else {
            (1 + self.bounds.partition_point(|&b| b < x)) as u8
        }
    }
}

/// Values this close to zero are zero (LightGBM's `kZeroThreshold`).
pub(super) const ZERO: f64 = 1e-35;

/// Interior bin boundaries for sorted `(value, rows)` pairs, at most
/// `max_bins` bins of at least `min_rows` rows (LightGBM's `GreedyFindBin`).
pub(super) fn greedy_bounds(
    distinct: &[(f64, usize)],
    max_bins: usize,
    min_rows: usize,
) -> Vec<f64> {
    let mut bounds = Vec::new();
    let total: usize = distinct.iter().map(|d| d.1).sum();
    if distinct.len() <= max_bins {
        // A bin of its own for each value, once it holds enough rows.
        let mut in_bin = 0;
        for w in distinct.windows(2) {
            in_bin += w[0].1;
            if in_bin >= min_rows {
                bounds.push(midpoint(w[0].0, w[1].0));
                in_bin = 0;
            }
        }
        return bounds;
    }
    let max_bins = max_bins.min(total / min_rows.max(1)).max(1);
    // Greedy equal-frequency bins: a value holding at least a bin's share
    // of rows gets a bin of its own, and the other values share the
    // remaining bins evenly, so frequent values do not use up the bins the
    // tails need.
    let mut mean = total as f64 / max_bins as f64;
    let big: Vec<bool> = distinct.iter().map(|d| d.1 as f64 >= mean).collect();
    let big_rows: usize = distinct
        .iter()
        .zip(&big)
        .filter(|(_, b)| **b)
        .map(|(d, _)| d.1)
        .sum();
    // As in LightGBM, the bins left for the other values may run out: the
    // mean is then infinite (or negative), and IEEE division says so.
    let mut rest_bins = max_bins as i64 - big.iter().filter(|b| **b).count() as i64;
    let mut rest_rows = (total - big_rows) as f64;
    mean = rest_rows / rest_bins as f64;
    let mut in_bin = 0.0;
    for i in 0..distinct.len() - 1 {
        if !big[i] {
            rest_rows -= distinct[i].1 as f64;
        }
        in_bin += distinct[i].1 as f64;
        if big[i] || in_bin >= mean || (big[i + 1] && in_bin >= (mean * 0.5).max(1.0)) {
            bounds.push(midpoint(distinct[i].0, distinct[i + 1].0));
            if bounds.len() + 1 >= max_bins {
                break;
            }
            in_bin = 0.0;
            if !big[i] {
                rest_bins -= 1;
                mean = rest_rows / rest_bins as f64;
            }
        }
    }
    bounds
}

fn midpoint(a: f64, b: f64) -> f64 {
    let m = a + (b - a) / 2.0;
    // Keep `a <= m < b` even when the two are adjacent floats.
    if m >= b { a } else { m }
}

/// Training-time view of the binned data.
pub(super) struct Binned {
    /// Column-major bins, one `Vec<u8>` per feature.
    pub(super) bins: Vec<Vec<u8>>,
    pub(super) offsets: Vec<usize>,
    pub(super) hist_len: usize,
    /// Per feature: [`BinMapper::missing`] and [`BinMapper::left_estimated`].
    pub(super) missing: Vec<bool>,
    pub(super) left_estimated: Vec<bool>,
}

impl Binned {
    pub(super) fn new(cols: &[Vec<f64>], mappers: &[BinMapper]) -> Binned {
        let bins = cols
            .iter()
            .zip(mappers)
            .map(|(c, m)| c.iter().map(|&x| m.bin(x)).collect())
            .collect();
        let mut offsets = Vec::with_capacity(mappers.len());
        let mut total = 0;
        for m in mappers {
            offsets.push(total);
            total += m.n_bins();
        }
        Binned {
            bins,
            offsets,
            hist_len: total,
            missing: mappers.iter().map(|m| m.missing).collect(),
            left_estimated: mappers.iter().map(|m| m.left_estimated).collect(),
        }
    }

    pub(super) fn n_bins(&self, f: usize) -> usize {
        let end = self.offsets.get(f + 1).copied().unwrap_or(self.hist_len);
        end - self.offsets[f]
    }
}
