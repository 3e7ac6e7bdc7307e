//! Histograms of gradient and hessian sums per feature bin, built for a
//! node's rows (in parallel over features when the node is large).

use rayon::prelude::*;

use super::PARALLEL_WORK;
use super::bins::Binned;

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

impl Binned {
    /// Histograms of `features` (ascending) over `rows`. The node's
    /// gradients are gathered once so each feature reads them in order;
    /// features are filled in parallel when the node is large enough.
    #[cfg(test)]
    pub(super) fn histogram(
        &self,
        rows: &[u32],
        grad: &[f64],
        hess: &[f64],
        features: &[usize],
        unit_hess: bool,
    ) -> Vec<Sums> {
        let mut hist = vec![Sums::default(); self.hist_len];
        self.histogram_into(&mut hist, rows, grad, hess, features, unit_hess);
        hist
    }

    /// [`Binned::histogram`] into a buffer of `hist_len` sums, which it
    /// zeroes first (only the bins of `features` are written).
    pub(super) fn histogram_into(
        &self,
        hist: &mut [Sums],
        rows: &[u32],
        grad: &[f64],
        hess: &[f64],
        features: &[usize],
        unit_hess: bool,
    ) {
        hist.fill(Sums::default());
        // Squared error needs no hessians (every one is 1): gather half as much.
        let gather = |&r: &u32| (grad[r as usize], hess[r as usize]);
        let gather_g = |&r: &u32| grad[r as usize];
        let (gh, g1): (Vec<(f64, f64)>, Vec<f64>) = match (unit_hess, rows.len() >= PARALLEL_WORK) {
            (true, true) => (Vec::new(), rows.par_iter().map(gather_g).collect()),
            (true, false) => (Vec::new(), rows.iter().map(gather_g).collect()),
            (false, true) => (rows.par_iter().map(gather).collect(), Vec::new()),
            (false, false) => (rows.iter().map(gather).collect(), Vec::new()),
        };
        let mut slices: Vec<(usize, &mut [Sums])> = Vec::with_capacity(features.len());
        let mut rest: &mut [Sums] = hist;
        let mut at = 0;
        for &f in features {
            let tail = std::mem::take(&mut rest);
            let (_, tail) = tail.split_at_mut(self.offsets[f] - at);
            let (mine, tail) = tail.split_at_mut(self.n_bins(f));
            slices.push((f, mine));
            rest = tail;
            at = self.offsets[f] + self.n_bins(f);
        }
        let fill = |(f, h): (usize, &mut [Sums])| {
            let col = &self.bins[f];
            if rows.len() < 512 {
                if unit_hess {
                    for (&r, &g) in rows.iter().zip(&g1) {
                        let s = &mut h[col[r as usize] as usize];
                        s.g += g;
                        s.h += 1.0;
                    }
                } else {
                    for (&r, &(g, hs)) in rows.iter().zip(&gh) {
                        let s = &mut h[col[r as usize] as usize];
                        s.g += g;
                        s.h += hs;
                    }
                }
                return;
            }
            // Two interleaved histograms indexed by the `u8` bin (no bounds
            // checks, no chain of updates to one bin), merged at the end.
            let mut local = [[Sums::default(); 256]; 2];
            if unit_hess {
                // Squared error: every hessian is 1, so the hessian sum is the count.
                for (r, g) in rows.chunks_exact(2).zip(g1.chunks_exact(2)) {
                    let a = &mut local[0][usize::from(col[r[0] as usize])];
                    a.g += g[0];
                    a.h += 1.0;
                    let b = &mut local[1][usize::from(col[r[1] as usize])];
                    b.g += g[1];
                    b.h += 1.0;
                }
            } else {
                for (r, g) in rows.chunks_exact(2).zip(gh.chunks_exact(2)) {
                    let a = &mut local[0][usize::from(col[r[0] as usize])];
                    a.g += g[0].0;
                    a.h += g[0].1;
                    let b = &mut local[1][usize::from(col[r[1] as usize])];
                    b.g += g[1].0;
                    b.h += g[1].1;
                }
            }
            if let Some(&r) = rows.last()
                && rows.len() % 2 == 1
            {
                let (g, hs) = if unit_hess {
                    (g1[g1.len() - 1], 1.0)
                } else {
                    gh[gh.len() - 1]
                };
                let a = &mut local[0][usize::from(col[r as usize])];
                a.g += g;
                a.h += hs;
            }
            for (i, s) in h.iter_mut().enumerate() {
                let (a, b) = (local[0][i], local[1][i]);
                s.g = a.g + b.g;
                s.h = a.h + b.h;
            }
        };
        if rows.len() * features.len() >= PARALLEL_WORK {
            slices.into_par_iter().for_each(fill);
        } else {
            slices.into_iter().for_each(fill);
        }
    }
}
