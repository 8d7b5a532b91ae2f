//! Levenberg-Marquardt: a loss's gradient and Gauss-Newton curvature (from the exact trace sensitivities) in,
//! the damped Gauss-Newton step out.
//!
//! A trace loss is a sum of squares, so the sensitivities that give its gradient `Jᵀr` also give the curvature
//! `JᵀJ`. The step solves `(JᵀJ + λ c I) δ = -Jᵀr` with `c` the largest diagonal entry of `JᵀJ`; λ shrinks after
//! a step that lowers the loss and grows after one that does not, moving between Gauss-Newton (fast near the
//! minimum) and gradient descent. The damping is the same for every variable (Levenberg's, not Marquardt's
//! per-variable scaling): in log-multipliers all variables are relative, and a parameter the loss hardly sees
//! then moves little, where a per-variable scaling would send it far along the flat directions.

/// Levenberg-Marquardt settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LevenbergMarquardtSettings {
    /// The first damping λ.
    pub initial_damping: f64,
    /// Largest change of any optimiser variable in one step (for log-multipliers 1 is a factor e).
    pub max_step: f64,
    /// Stop when the gradient's largest entry falls below this.
    pub gradient_tolerance: f64,
}

impl Default for LevenbergMarquardtSettings {
    fn default() -> Self {
        Self {
            initial_damping: 1e-2,
            max_step: 1.0,
            gradient_tolerance: 1e-12,
        }
    }
}

/// The step `δ` solving `(H + λ c I) δ = -g` (`c` the largest diagonal entry of `H`) for a symmetric positive semi-definite `H` (row-major `n × n`),
/// scaled down so that no entry exceeds `max_step`; `None` if the damped matrix is not positive definite.
pub fn damped_step(gradient: &[f64], curvature: &[f64], damping: f64, max_step: f64) -> Option<Vec<f64>> {
    let n = gradient.len();
    let largest = (0..n).map(|i| curvature[i * n + i]).fold(0.0f64, f64::max);
    let mut a = curvature.to_vec();
    for i in 0..n {
        a[i * n + i] += damping * largest.max(f64::MIN_POSITIVE);
    }
    let rhs: Vec<f64> = gradient.iter().map(|g| -g).collect();
    let mut step = cholesky_solve(&mut a, &rhs, n)?;
    let biggest = step.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if biggest > max_step {
        step.iter_mut().for_each(|x| *x *= max_step / biggest);
    }
    Some(step)
}

/// Solves `A x = b` for symmetric positive definite `A` (overwritten by its Cholesky factor).
fn cholesky_solve(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let d = a[j * n + j] - (0..j).map(|k| a[j * n + k].powi(2)).sum::<f64>();
        if !(d > 0.0) || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let s = a[i * n + j] - (0..j).map(|k| a[i * n + k] * a[j * n + k]).sum::<f64>();
            a[i * n + j] = s / d;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| a[i * n + k] * y[k]).sum::<f64>()) / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| a[k * n + i] * x[k]).sum::<f64>()) / a[i * n + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Residuals r = A x - b with b = A x*: the undamped step from 0 is the least-squares solution x*.
    #[test]
    fn an_undamped_step_solves_a_linear_least_squares_problem() {
        let a = [[2.0, 1.0, 0.0], [0.0, 1.0, -1.0], [1.0, 0.0, 3.0], [0.5, 0.5, 0.5]];
        let solution = [0.3, -1.2, 2.0];
        let b: Vec<f64> = a
            .iter()
            .map(|r| r.iter().zip(&solution).map(|(x, y)| x * y).sum())
            .collect();
        let n = 3;
        let mut h = vec![0.0; n * n];
        let mut g = vec![0.0; n];
        for (row, bk) in a.iter().zip(&b) {
            for i in 0..n {
                g[i] += row[i] * (-bk); // r(0) = -b
                for j in 0..n {
                    h[i * n + j] += row[i] * row[j];
                }
            }
        }
        let step = damped_step(&g, &h, 0.0, 10.0).unwrap();
        for (s, x) in step.iter().zip(&solution) {
            assert!((s - x).abs() < 1e-12, "{step:?}");
        }
        // The cap on the largest entry keeps the direction.
        let capped = damped_step(&g, &h, 0.0, 1.0).unwrap();
        assert!((capped[2] - 1.0).abs() < 1e-12 && (capped[0] / capped[2] - 0.15).abs() < 1e-12);
    }

    /// Rosenbrock as residuals (10 (y - x²), 1 - x): Levenberg-Marquardt from (-1.2, 1) reaches (1, 1).
    #[test]
    fn levenberg_marquardt_minimises_rosenbrock_residuals() {
        let residuals = |x: &[f64]| [10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]];
        let jacobian = |x: &[f64]| [[-20.0 * x[0], 10.0], [-1.0, 0.0]];
        let loss = |x: &[f64]| 0.5 * residuals(x).iter().map(|r| r * r).sum::<f64>();
        let (mut x, mut damping) = (vec![-1.2, 1.0], 1e-2);
        let mut iterations = 0;
        while loss(&x) > 1e-24 && iterations < 100 {
            iterations += 1;
            let (r, j) = (residuals(&x), jacobian(&x));
            let g: Vec<f64> = (0..2).map(|i| (0..2).map(|k| j[k][i] * r[k]).sum()).collect();
            let h: Vec<f64> = (0..4)
                .map(|e| (0..2).map(|k| j[k][e / 2] * j[k][e % 2]).sum())
                .collect();
            let step = damped_step(&g, &h, damping, 10.0).unwrap();
            let trial: Vec<f64> = x.iter().zip(&step).map(|(a, b)| a + b).collect();
            if loss(&trial) < loss(&x) {
                x = trial;
                damping /= 3.0;
            } else {
                damping *= 4.0;
            }
        }
        assert!(
            (x[0] - 1.0).abs() < 1e-10 && (x[1] - 1.0).abs() < 1e-10,
            "{x:?} after {iterations}"
        );
        assert!(iterations < 40, "{iterations} iterations");
    }
}
