//! Regularised linear models on the linear encoder's output: elastic-net
//! regression (ridge in closed form by Cholesky; with an L1 penalty,
//! coordinate descent on the same Gram matrix) and elastic-net logistic
//! regression, binary (sigmoid) or multinomial (softmax), fitted with
//! L-BFGS (pure L2) or FISTA, an accelerated proximal gradient (with L1).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::task::Target;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearParams {
    /// L2 penalty on the weights (the intercept is not penalised), per row:
    /// the loss is `mean(loss) + l2 / 2 * |w|^2`.
    pub l2: f64,
    /// L1 penalty on the weights, per row: adds `l1 * |w|_1` to the loss.
    pub l1: f64,
    pub max_iter: usize,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            l2: 1e-3,
            l1: 0.0,
            max_iter: 300,
        }
    }
}

impl LinearParams {
    pub(crate) fn check(&self) -> Result<()> {
        for (name, v) in [("l2", self.l2), ("l1", self.l1)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Parameter {
                    name,
                    reason: format!("must be finite and >= 0, got {v}"),
                });
            }
        }
        Ok(())
    }
}

/// A fitted linear model: `outputs` rows of `width` weights plus intercepts.
/// Regression and binary have one output; multiclass one per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub width: usize,
    pub outputs: usize,
    pub weights: Vec<f64>,
    pub intercepts: Vec<f64>,
}

impl LinearModel {
    /// Fits on a row-major matrix `x` (`n * width`).
    pub(crate) fn fit(
        x: &[f64],
        width: usize,
        target: &Target,
        params: &LinearParams,
    ) -> Result<LinearModel> {
        params.check()?;
        match target {
            Target::Regression(y) => Ok(ridge(x, width, y, params.l2, params.l1)),
            Target::Classes { classes, y } => {
                let outputs = if classes.len() == 2 { 1 } else { classes.len() };
                Ok(logistic(x, width, y, outputs, params))
            }
        }
    }

    /// Raw scores (`n * outputs`, row-major): the value, the log-odds or the logits.
    pub(crate) fn raw(&self, x: &[f64]) -> Vec<f64> {
        let n = x.len() / self.width.max(1);
        let mut out = Vec::with_capacity(n * self.outputs);
        for r in 0..n {
            let row = &x[r * self.width..(r + 1) * self.width];
            for k in 0..self.outputs {
                let w = &self.weights[k * self.width..(k + 1) * self.width];
                out.push(self.intercepts[k] + dot(w, row));
            }
        }
        out
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.weights.len() != self.width * self.outputs || self.intercepts.len() != self.outputs
        {
            return Err(Error::Artifact(
                "linear model weights do not match its width".into(),
            ));
        }
        Ok(())
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn ridge(x: &[f64], d: usize, y: &[f64], l2: f64, l1: f64) -> LinearModel {
    let n = y.len();
    let nf = n.max(1) as f64;
    let mut xm = vec![0.0; d];
    for r in 0..n {
        for j in 0..d {
            xm[j] += x[r * d + j] / nf;
        }
    }
    let ym = y.iter().sum::<f64>() / nf;
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    for r in 0..n {
        let row = &x[r * d..(r + 1) * d];
        let yc = y[r] - ym;
        for i in 0..d {
            let xi = row[i] - xm[i];
            b[i] += xi * yc;
            for j in 0..=i {
                a[i * d + j] += xi * (row[j] - xm[j]);
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            a[j * d + i] = a[i * d + j];
        }
        a[i * d + i] += nf * l2.max(1e-10);
    }
    let w = if l1 > 0.0 {
        gram_coordinate_descent(&a, &b, d, nf * l1)
    } else {
        cholesky_solve(&mut a, &b, d)
    };
    let intercept = ym - dot(&w, &xm);
    LinearModel {
        width: d,
        outputs: 1,
        weights: w,
        intercepts: vec![intercept],
    }
}

/// Minimises `w'Aw/2 - b'w + l1 |w|_1` by cyclic coordinate descent with
/// soft thresholding (`a` is `d * d`, symmetric, with a positive diagonal).
fn gram_coordinate_descent(a: &[f64], b: &[f64], d: usize, l1: f64) -> Vec<f64> {
    let mut w = vec![0.0; d];
    // `aw[j] = (A w)_j`, kept up to date as weights change.
    let mut aw = vec![0.0; d];
    for _ in 0..100_000 {
        let mut largest = 0.0f64;
        for j in 0..d {
            let ajj = a[j * d + j];
            let rho = b[j] - (aw[j] - ajj * w[j]);
            let new = soft_threshold(rho, l1) / ajj;
            let delta = new - w[j];
            if delta != 0.0 {
                for (k, awk) in aw.iter_mut().enumerate() {
                    *awk += a[k * d + j] * delta;
                }
                w[j] = new;
                largest = largest.max(delta.abs() * ajj.sqrt());
            }
        }
        if largest < 1e-13 {
            break;
        }
    }
    w
}

fn soft_threshold(x: f64, t: f64) -> f64 {
    x.signum() * (x.abs() - t).max(0.0)
}

/// FISTA with backtracking for `f(x) + l1 * |x[..penalized]|_1`, where `f`
/// is smooth and returns its value and gradient.
fn fista(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    penalized: usize,
    l1: f64,
    max_iter: usize,
) -> Vec<f64> {
    let dim = x0.len();
    let objective =
        |x: &[f64], fx: f64| fx + l1 * x[..penalized].iter().map(|v| v.abs()).sum::<f64>();
    let mut x = x0.clone();
    let mut y = x0;
    let mut t = 1.0f64;
    let mut lipschitz = 1.0f64;
    let mut gy = vec![0.0; dim];
    let mut gz = vec![0.0; dim];
    let mut z = vec![0.0; dim];
    let mut fx = {
        let mut g = vec![0.0; dim];
        objective(&x, f(&x, &mut g))
    };
    for _ in 0..max_iter {
        let fy = f(&y, &mut gy);
        let mut fz;
        loop {
            for i in 0..dim {
                let step = y[i] - gy[i] / lipschitz;
                z[i] = if i < penalized {
                    soft_threshold(step, l1 / lipschitz)
                } else {
                    step
                };
            }
            fz = f(&z, &mut gz);
            let mut bound = fy;
            for i in 0..dim {
                let dz = z[i] - y[i];
                bound += gy[i] * dz + 0.5 * lipschitz * dz * dz;
            }
            if fz <= bound + 1e-12 * fy.abs().max(1.0) || lipschitz > 1e12 {
                break;
            }
            lipschitz *= 2.0;
        }
        let fz_total = objective(&z, fz);
        let change = z
            .iter()
            .zip(&x)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        // Restart the momentum when the objective goes up.
        let t_next = if fz_total > fx {
            1.0
        } else {
            0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt())
        };
        let momentum = if fz_total > fx {
            0.0
        } else {
            (t - 1.0) / t_next
        };
        for i in 0..dim {
            y[i] = z[i] + momentum * (z[i] - x[i]);
        }
        x.copy_from_slice(&z);
        fx = fz_total;
        t = t_next;
        lipschitz *= 0.9;
        if change < 1e-12 {
            break;
        }
    }
    x
}

/// Solves `a x = b` for symmetric positive definite `a` (overwritten).
fn cholesky_solve(a: &mut [f64], b: &[f64], d: usize) -> Vec<f64> {
    cholesky_factor(a, d);
    cholesky_back(a, b, d)
}

/// Overwrites the lower triangle of symmetric positive definite `a`
/// (`d × d`, row-major) with its Cholesky factor `L` (`a = L Lᵀ`).
pub(crate) fn cholesky_factor(a: &mut [f64], d: usize) {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        let diag = s.max(1e-12).sqrt();
        a[j * d + j] = diag;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = s / diag;
        }
    }
}

/// Solves `L Lᵀ x = b` with the factor [`cholesky_factor`] left in `l`.
pub(crate) fn cholesky_back(l: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut z = b.to_vec();
    for i in 0..d {
        for k in 0..i {
            z[i] -= l[i * d + k] * z[k];
        }
        z[i] /= l[i * d + i];
    }
    for i in (0..d).rev() {
        for k in i + 1..d {
            z[i] -= l[k * d + i] * z[k];
        }
        z[i] /= l[i * d + i];
    }
    z
}

fn logistic(
    x: &[f64],
    d: usize,
    y: &[usize],
    outputs: usize,
    params: &LinearParams,
) -> LinearModel {
    let n = y.len();
    let nf = n.max(1) as f64;
    let l2 = params.l2;
    let dim = outputs * (d + 1);
    let loss_grad = |theta: &[f64], grad: &mut [f64]| -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let (w, b) = theta.split_at(outputs * d);
        let (gw, gb) = grad.split_at_mut(outputs * d);
        let mut loss = 0.0;
        let mut z = vec![0.0; outputs];
        for r in 0..n {
            let row = &x[r * d..(r + 1) * d];
            for k in 0..outputs {
                z[k] = b[k] + dot(&w[k * d..(k + 1) * d], row);
            }
            if outputs == 1 {
                let t = f64::from(u8::from(y[r] == 1));
                // log(1 + e^z) - t z, computed stably.
                loss += z[0].max(0.0) + (-z[0].abs()).exp().ln_1p() - t * z[0];
                let g = sigmoid(z[0]) - t;
                gb[0] += g;
                for j in 0..d {
                    gw[j] += g * row[j];
                }
            } else {
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
                loss += m + sum.ln() - z[y[r]];
                for k in 0..outputs {
                    let g = (z[k] - m).exp() / sum - f64::from(u8::from(y[r] == k));
                    gb[k] += g;
                    for j in 0..d {
                        gw[k * d + j] += g * row[j];
                    }
                }
            }
        }
        loss /= nf;
        gw.iter_mut().for_each(|g| *g /= nf);
        gb.iter_mut().for_each(|g| *g /= nf);
        for (g, wv) in gw.iter_mut().zip(w) {
            *g += l2 * wv;
        }
        loss + 0.5 * l2 * w.iter().map(|v| v * v).sum::<f64>()
    };
    let theta = if params.l1 > 0.0 {
        fista(
            loss_grad,
            vec![0.0; dim],
            outputs * d,
            params.l1,
            params.max_iter,
        )
    } else {
        lbfgs(loss_grad, vec![0.0; dim], params.max_iter)
    };
    let (w, b) = theta.split_at(outputs * d);
    LinearModel {
        width: d,
        outputs,
        weights: w.to_vec(),
        intercepts: b.to_vec(),
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Limited-memory BFGS with a backtracking Armijo line search.
fn lbfgs(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    mut x: Vec<f64>,
    max_iter: usize,
) -> Vec<f64> {
    const M: usize = 10;
    let dim = x.len();
    let mut g = vec![0.0; dim];
    let mut fx = f(&x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut g_new = vec![0.0; dim];
    for iter in 0..max_iter {
        let gnorm = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if gnorm < 1e-7 {
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push((rho, a));
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y), (rho, a)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            dir = g.iter().map(|v| -v).collect();
            slope = -dot(&g, &g);
        }
        let mut t = if iter == 0 { 1.0 / gnorm.max(1.0) } else { 1.0 };
        let mut x_new = vec![0.0; dim];
        let mut f_new = f64::INFINITY;
        for _ in 0..40 {
            x_new
                .iter_mut()
                .zip(&x)
                .zip(&dir)
                .for_each(|((xn, xi), di)| *xn = xi + t * di);
            f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * t * slope {
                break;
            }
            t *= 0.5;
        }
        if !f_new.is_finite() || f_new > fx {
            break;
        }
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let converged = (fx - f_new).abs() <= 1e-12 * fx.abs().max(1.0);
        if dot(&s, &y) > 1e-12 {
            if s_hist.len() == M {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
        }
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if converged {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> serde_json::Value {
        let path = format!(
            "{}/test_data/reference/sklearn_linear.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn matrix(v: &serde_json::Value) -> (Vec<f64>, usize) {
        let rows = v.as_array().unwrap();
        let width = rows[0].as_array().unwrap().len();
        let x = rows
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
            .collect();
        (x, width)
    }

    fn floats(v: &serde_json::Value) -> Vec<f64> {
        match v {
            serde_json::Value::Array(a) => a.iter().flat_map(floats).collect(),
            other => vec![other.as_f64().unwrap()],
        }
    }

    /// scikit-learn 1.9.1 `Ridge(alpha)` minimises `|y - Xw - b|^2 + alpha |w|^2`,
    /// which is our objective with `l2 = alpha / n`.
    #[test]
    fn ridge_matches_scikit_learn() {
        let r = &reference()["ridge"];
        let (x, d) = matrix(&r["X"]);
        let y = floats(&r["y"]);
        let l2 = r["alpha"].as_f64().unwrap() / y.len() as f64;
        let m = LinearModel::fit(
            &x,
            d,
            &Target::Regression(y),
            &LinearParams {
                l2,
                l1: 0.0,
                max_iter: 0,
            },
        )
        .unwrap();
        for (got, want) in m.weights.iter().zip(floats(&r["coef"])) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        assert!((m.intercepts[0] - r["intercept"].as_f64().unwrap()).abs() < 1e-9);
    }

    /// `LogisticRegression(C)` minimises `C * sum(log loss) + |W|^2 / 2`: our
    /// objective with `l2 = 1 / (C n)`. Compared with the exact optimum
    /// (Newton's method, in the reference file) and with scikit-learn's lbfgs
    /// answer, which stops within 5e-8 of it.
    #[test]
    fn logistic_regression_matches_scikit_learn() {
        for case in ["logistic_binary", "logistic_multinomial"] {
            let r = &reference()[case];
            let (x, d) = matrix(&r["X"]);
            let y: Vec<usize> = floats(&r["y"]).iter().map(|&v| v as usize).collect();
            let n = y.len();
            let classes: Vec<String> = (0..=*y.iter().max().unwrap())
                .map(|c| c.to_string())
                .collect();
            let l2 = 1.0 / (r["C"].as_f64().unwrap() * n as f64);
            let target = Target::Classes { classes, y };
            let m = LinearModel::fit(
                &x,
                d,
                &target,
                &LinearParams {
                    l2,
                    l1: 0.0,
                    max_iter: 1000,
                },
            )
            .unwrap();
            let got: Vec<f64> = m.weights.iter().chain(&m.intercepts).copied().collect();
            let exact: Vec<f64> = floats(&r["coef_newton"])
                .into_iter()
                .chain(floats(&r["intercept_newton"]))
                .collect();
            let sklearn: Vec<f64> = floats(&r["coef"])
                .into_iter()
                .chain(floats(&r["intercept"]))
                .collect();
            assert_eq!(got.len(), exact.len(), "{case}");
            for ((g, e), s) in got.iter().zip(&exact).zip(&sklearn) {
                assert!((g - e).abs() < 1e-6, "{case}: {g} vs exact {e}");
                assert!((g - s).abs() < 1e-5, "{case}: {g} vs scikit-learn {s}");
            }
        }
    }

    fn elastic_reference() -> serde_json::Value {
        let path = format!(
            "{}/test_data/reference/sklearn_elastic_net.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// scikit-learn 1.9.1 `ElasticNet(alpha, l1_ratio)` and
    /// `LogisticRegression(C, l1_ratio, solver="saga")`, both solved to a KKT
    /// residual below 1e-14 (recorded in the file): the same weights, zeros
    /// where theirs are zero.
    #[test]
    fn elastic_net_matches_scikit_learn() {
        let all = elastic_reference();
        let r = &all["elastic_net"];
        let (x, d) = matrix(&r["X"]);
        let y = floats(&r["y"]);
        let (alpha, ratio) = (
            r["alpha"].as_f64().unwrap(),
            r["l1_ratio"].as_f64().unwrap(),
        );
        let params = LinearParams {
            l2: alpha * (1.0 - ratio),
            l1: alpha * ratio,
            max_iter: 0,
        };
        let m = LinearModel::fit(&x, d, &Target::Regression(y), &params).unwrap();
        let want = floats(&r["coef"]);
        for (got, want) in m.weights.iter().zip(&want) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
            assert_eq!(*got == 0.0, *want == 0.0, "{got} vs {want}");
        }
        assert!((m.intercepts[0] - r["intercept"].as_f64().unwrap()).abs() < 1e-9);

        let r = &all["logistic_elastic_net"];
        let (x, d) = matrix(&r["X"]);
        let y: Vec<usize> = floats(&r["y"]).iter().map(|&v| v as usize).collect();
        let n = y.len() as f64;
        let (c, ratio) = (r["C"].as_f64().unwrap(), r["l1_ratio"].as_f64().unwrap());
        let params = LinearParams {
            l2: (1.0 - ratio) / (c * n),
            l1: ratio / (c * n),
            max_iter: 20_000,
        };
        let target = Target::Classes {
            classes: vec!["0".into(), "1".into()],
            y,
        };
        let m = LinearModel::fit(&x, d, &target, &params).unwrap();
        for (got, want) in m.weights.iter().zip(floats(&r["coef"])) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
            assert_eq!(*got == 0.0, want == 0.0, "{got} vs {want}");
        }
        assert!((m.intercepts[0] - r["intercept"].as_f64().unwrap()).abs() < 1e-6);
    }

    #[test]
    fn ridge_recovers_a_line() {
        let x: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v - 2.0).collect();
        let m = LinearModel::fit(
            &x,
            1,
            &Target::Regression(y),
            &LinearParams {
                l2: 0.0,
                l1: 0.0,
                max_iter: 10,
            },
        )
        .unwrap();
        assert!((m.weights[0] - 3.0).abs() < 1e-6, "{:?}", m.weights);
        assert!((m.intercepts[0] + 2.0).abs() < 1e-6);
    }

    #[test]
    fn logistic_separates_and_gradient_vanishes() {
        // Overlapping classes so the optimum is finite.
        let x: Vec<f64> = (0..200).map(|i| (i as f64 - 100.0) / 25.0).collect();
        let y: Vec<usize> = (0..200)
            .map(|i| usize::from((i * 7919) % 200 < i))
            .collect();
        let target = Target::Classes {
            classes: vec!["0".into(), "1".into()],
            y: y.clone(),
        };
        let m = LinearModel::fit(
            &x,
            1,
            &target,
            &LinearParams {
                l2: 1e-3,
                l1: 0.0,
                max_iter: 500,
            },
        )
        .unwrap();
        assert!(m.weights[0] > 0.5);
        // Gradient of the objective at the solution is ~0.
        let mut gw = 0.0;
        let mut gb = 0.0;
        for (xi, yi) in x.iter().zip(&y) {
            let g = sigmoid(m.intercepts[0] + m.weights[0] * xi) - *yi as f64;
            gw += g * xi / 200.0;
            gb += g / 200.0;
        }
        gw += 1e-3 * m.weights[0];
        assert!(gw.abs() < 1e-5 && gb.abs() < 1e-5, "{gw} {gb}");
    }

    #[test]
    fn softmax_has_one_output_per_class() {
        let x = vec![0.0, 1.0, 2.0, 0.1, 1.1, 2.1];
        let target = Target::Classes {
            classes: vec!["a".into(), "b".into(), "c".into()],
            y: vec![0, 1, 2, 0, 1, 2],
        };
        let m = LinearModel::fit(&x, 1, &target, &LinearParams::default()).unwrap();
        assert_eq!(m.outputs, 3);
        let raw = m.raw(&[0.0, 2.0]);
        assert!(raw[0] > raw[2] && raw[5] > raw[3]);
    }

    #[test]
    fn negative_penalty_is_rejected() {
        let err = LinearModel::fit(
            &[1.0],
            1,
            &Target::Regression(vec![1.0]),
            &LinearParams {
                l2: -1.0,
                l1: 0.0,
                max_iter: 1,
            },
        );
        assert!(err.is_err());
    }
}
