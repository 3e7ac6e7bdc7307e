//! Nelder–Mead minimisation for the statistical forecasters' few parameters.
//!
//! The adaptive coefficients of Gao and Han (2012) keep it working past a
//! dozen dimensions (a monthly ETS has up to 17 parameters). Bounds are the
//! objective's business: it returns `f64::INFINITY` outside them, and the
//! simplex contracts away. One restart from the best point guards against
//! a simplex that collapsed early, as R's `ets` users do by hand.

/// Minimises `f` from `start`, with one initial step per coordinate; returns
/// the best point and its value after at most `max_evals` evaluations.
pub(crate) fn minimise(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    steps: &[f64],
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let (mut best, mut value, used) = run(f, start, steps, max_evals);
    if used < max_evals {
        let restart: Vec<f64> = steps.iter().map(|s| s * 0.5).collect();
        let (again, again_value, _) = run(f, &best, &restart, max_evals - used);
        if again_value < value {
            best = again;
            value = again_value;
        }
    }
    (best, value)
}

fn run(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    steps: &[f64],
    max_evals: usize,
) -> (Vec<f64>, f64, usize) {
    let d = start.len();
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    if d == 0 {
        let v = eval(start, &mut evals);
        return (Vec::new(), v, evals);
    }
    let dn = d as f64;
    let (reflect, expand, contract, shrink) = (
        1.0,
        1.0 + 2.0 / dn,
        0.75 - 1.0 / (2.0 * dn),
        1.0 - 1.0 / dn.max(2.0),
    );
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(d + 1);
    simplex.push(start.to_vec());
    for i in 0..d {
        let mut x = start.to_vec();
        x[i] += steps[i];
        simplex.push(x);
    }
    let mut values: Vec<f64> = simplex.iter().map(|x| eval(x, &mut evals)).collect();
    let mut order: Vec<usize> = (0..=d).collect();
    let mut centroid = vec![0.0; d];
    let mut trial = vec![0.0; d];
    let mut second = vec![0.0; d];
    while evals < max_evals {
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let (lo, hi, next) = (order[0], order[d], order[d - 1]);
        let (f_lo, f_hi) = (values[lo], values[hi]);
        if f_lo.is_finite() && f_hi.is_finite() {
            let spread = (f_hi - f_lo).abs();
            let size = simplex
                .iter()
                .flat_map(|x| x.iter().zip(&simplex[lo]).map(|(a, b)| (a - b).abs()))
                .fold(0.0f64, f64::max);
            if spread <= 1e-10 * (1.0 + f_lo.abs()) && size <= 1e-10 * (1.0 + l1(&simplex[lo])) {
                break;
            }
            if spread <= 1e-12 * (1.0 + f_lo.abs()) {
                break;
            }
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for &k in &order[..d] {
            for (c, x) in centroid.iter_mut().zip(&simplex[k]) {
                *c += x / dn;
            }
        }
        towards(&centroid, &simplex[hi], -reflect, &mut trial);
        let f_r = eval(&trial, &mut evals);
        if f_r < f_lo {
            towards(&centroid, &simplex[hi], -expand, &mut second);
            let f_e = eval(&second, &mut evals);
            if f_e < f_r {
                simplex[hi].copy_from_slice(&second);
                values[hi] = f_e;
            } else {
                simplex[hi].copy_from_slice(&trial);
                values[hi] = f_r;
            }
        } else if f_r < values[next] {
            simplex[hi].copy_from_slice(&trial);
            values[hi] = f_r;
        } else {
            let outside = f_r < f_hi;
            let coef = if outside {
                -reflect * contract
            } else {
                contract
            };
            towards(&centroid, &simplex[hi], coef, &mut second);
            let f_c = eval(&second, &mut evals);
            if (outside && f_c <= f_r) || (!outside && f_c < f_hi) {
                simplex[hi].copy_from_slice(&second);
                values[hi] = f_c;
            } else {
                let best = simplex[lo].clone();
                for k in 0..=d {
                    if k == lo {
                        continue;
                    }
                    for (x, b) in simplex[k].iter_mut().zip(&best) {
                        *x = b + shrink * (*x - b);
                    }
                    values[k] = eval(&simplex[k], &mut evals);
                }
            }
        }
    }
    let lo = (0..=d)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    (simplex[lo].clone(), values[lo], evals)
}

/// `out = centroid + coef · (point − centroid)`.
fn towards(centroid: &[f64], point: &[f64], coef: f64, out: &mut [f64]) {
    for ((o, c), p) in out.iter_mut().zip(centroid).zip(point) {
        *o = c + coef * (p - c);
    }
}

fn l1(x: &[f64]) -> f64 {
    x.iter().map(|v| v.abs()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum_and_respects_walls() {
        let mut rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let (x, v) = minimise(&mut rosen, &[-1.2, 1.0], &[0.1, 0.1], 4000);
        assert!(v < 1e-8, "value {v} at {x:?}");
        // A wall at x0 <= 0.5: the constrained minimum sits on it.
        let mut walled = |x: &[f64]| {
            if x[0] > 0.5 {
                f64::INFINITY
            } else {
                (1.0 - x[0]).powi(2) + (x[1] - 2.0).powi(2)
            }
        };
        let (x, _) = minimise(&mut walled, &[0.0, 0.0], &[0.1, 0.1], 4000);
        assert!(
            (x[0] - 0.5).abs() < 1e-3 && (x[1] - 2.0).abs() < 1e-3,
            "{x:?}"
        );
    }
}
