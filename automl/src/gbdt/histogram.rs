//! Histograms of gradient and hessian sums per feature bin, built for a
//! node's rows (in parallel over features when the node is large).

use rayon::prelude::*;

use super::PARALLEL_WORK;
use super::bins::Binned;
use super::grow::Gradients;

/// Gradient and hessian sums of a histogram bin or a node. Row counts are
/// not kept per bin: as in LightGBM, a side's count is estimated from its
/// hessian share of the node (exact for squared error, where every hessian
/// is 1; for classification, confidently predicted rows count less), which
/// keeps a bin at 16 bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sums {
    pub(super) g: f64,
    pub(super) h: f64,
}

impl Sums {
    pub(super) fn add(&mut self, o: Sums) {
        self.g += o.g;
        self.h += o.h;
    }

    pub(super) fn sub(self, o: Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
        }
    }
}

/// A node's gradients gathered in row order, so that each feature reads
/// them sequentially: gradients alone for squared error (every hessian is
/// 1), else gradient and hessian pairs.
enum Gathered {
    Unit(Vec<f64>),
    Pairs(Vec<(f64, f64)>),
}

impl Gathered {
    fn new(rows: &[u32], g: Gradients<'_>, unit_hess: bool) -> Gathered {
        let (grad, hess) = (g.grad, g.hess);
        let gather = |&r: &u32| (grad[r as usize], hess[r as usize]);
        let gather_g = |&r: &u32| grad[r as usize];
        match (unit_hess, rows.len() >= PARALLEL_WORK) {
            (true, true) => Gathered::Unit(rows.par_iter().map(gather_g).collect()),
            (true, false) => Gathered::Unit(rows.iter().map(gather_g).collect()),
            (false, true) => Gathered::Pairs(rows.par_iter().map(gather).collect()),
            (false, false) => Gathered::Pairs(rows.iter().map(gather).collect()),
        }
    }
}

impl Binned {
    /// Histograms of `features` (ascending) over `rows`. The node's
    /// gradients are gathered once so each feature reads them in order;
    /// features are filled in parallel when the node is large enough.
    #[cfg(test)]
    pub(super) fn histogram(
        &self,
        rows: &[u32],
        g: Gradients<'_>,
        features: &[usize],
        unit_hess: bool,
    ) -> Vec<Sums> {
        let mut hist = vec![Sums::default(); self.hist_len];
        self.histogram_into(&mut hist, rows, g, features, unit_hess);
        hist
    }

    /// [`Binned::histogram`] into a buffer of `hist_len` sums, which it
    /// zeroes first (only the bins of `features` are written).
    pub(super) fn histogram_into(
        &self,
        hist: &mut [Sums],
        rows: &[u32],
        g: Gradients<'_>,
        features: &[usize],
        unit_hess: bool,
    ) {
        hist.fill(Sums::default());
        let gathered = Gathered::new(rows, g, unit_hess);
        let slices = self.feature_slices(hist, features);
        let fill = |(f, h): (usize, &mut [Sums])| fill_feature(h, &self.bins[f], rows, &gathered);
        if rows.len() * features.len() >= PARALLEL_WORK {
            slices.into_par_iter().for_each(fill);
        } else {
            slices.into_iter().for_each(fill);
        }
    }

    /// The bins of each of `features` (ascending) in `hist`, apart, so that
    /// they can be filled in parallel.
    fn feature_slices<'h>(
        &self,
        hist: &'h mut [Sums],
        features: &[usize],
    ) -> Vec<(usize, &'h mut [Sums])> {
        let mut slices = Vec::with_capacity(features.len());
        let mut rest = hist;
        let mut at = 0;
        for &f in features {
            let tail = std::mem::take(&mut rest);
            let (_, tail) = tail.split_at_mut(self.offsets[f] - at);
            let (mine, tail) = tail.split_at_mut(self.n_bins(f));
            slices.push((f, mine));
            rest = tail;
            at = self.offsets[f] + self.n_bins(f);
        }
        slices
    }
}

/// Adds one feature's rows to its bins `h`, given the feature's column of
/// bins and the node's gathered gradients.
fn fill_feature(h: &mut [Sums], col: &[u8], rows: &[u32], gathered: &Gathered) {
    if rows.len() < 512 {
        match gathered {
            Gathered::Unit(g1) => {
                for (&r, &g) in rows.iter().zip(g1) {
                    let s = &mut h[col[r as usize] as usize];
                    s.g += g;
                    s.h += 1.0;
                }
            }
            Gathered::Pairs(gh) => {
                for (&r, &(g, hs)) in rows.iter().zip(gh) {
                    let s = &mut h[col[r as usize] as usize];
                    s.g += g;
                    s.h += hs;
                }
            }
        }
        return;
    }
    // Two interleaved histograms indexed by the `u8` bin (no bounds
    // checks, no chain of updates to one bin), merged at the end.
    let mut local = [[Sums::default(); 256]; 2];
    let last = match gathered {
        Gathered::Unit(g1) => {
            // Squared error: every hessian is 1, so the hessian sum is the count.
            for (r, g) in rows.chunks_exact(2).zip(g1.chunks_exact(2)) {
                let a = &mut local[0][usize::from(col[r[0] as usize])];
                a.g += g[0];
                a.h += 1.0;
                let b = &mut local[1][usize::from(col[r[1] as usize])];
                b.g += g[1];
                b.h += 1.0;
            }
            g1.last().map(|&g| (g, 1.0))
        }
        Gathered::Pairs(gh) => {
            for (r, g) in rows.chunks_exact(2).zip(gh.chunks_exact(2)) {
                let a = &mut local[0][usize::from(col[r[0] as usize])];
                a.g += g[0].0;
                a.h += g[0].1;
                let b = &mut local[1][usize::from(col[r[1] as usize])];
                b.g += g[1].0;
                b.h += g[1].1;
            }
            gh.last().copied()
        }
    };
    if let (Some(&r), Some((g, hs))) = (rows.last(), last)
        && rows.len() % 2 == 1
    {
        let a = &mut local[0][usize::from(col[r as usize])];
        a.g += g;
        a.h += hs;
    }
    for (i, s) in h.iter_mut().enumerate() {
        let (a, b) = (local[0][i], local[1][i]);
        s.g = a.g + b.g;
        s.h = a.h + b.h;
    }
}
