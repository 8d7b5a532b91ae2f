//! Identifiability: the Gauss-Newton curvature of a fit's loss (from the exact trace sensitivities) in, how
//! sharply the loss pins down each parameter, alone and with the others compensating, out.
//!
//! Near a minimum `L(θ) ≈ L* + ½ δᵀ H δ` with `δ` the change of the log-multipliers. Moving parameter
//! `i` alone by `δ_i` raises the loss by `½ H_ii δ_i²`; when every other parameter moves to compensate,
//! by only `½ δ_i² / (H⁻¹)_ii`. Read backwards: a fit that has reached `L` lies, as far as the quadratic
//! model holds, within `|δ_i| ≤ sqrt(2 (L - L*) (H⁻¹)_ii)` of the minimum (with `L* ≥ 0` unknown,
//! `L - L* ≤ L` gives a conservative bound).

use super::cmaes::symmetric_eigen;

/// The relative change that the `*_5_percent` figures are for.
pub const FIVE_PERCENT: f64 = 0.05;

/// How well the loss determines one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterIdentifiability {
    pub name: String,
    pub multiplier: f64,
    /// Loss rise when this parameter alone is 5 % off (the others held).
    pub rise_alone_5_percent: f64,
    /// Loss rise when this parameter is 5 % off and the others compensate as well as they can.
    pub rise_compensated_5_percent: f64,
    /// Largest relative error of the parameter compatible with the evaluated loss (conservative; `inf`
    /// where the loss does not depend on the parameter along some direction).
    pub relative_error_bound: f64,
}

/// The curvature of the loss at one point and what it says about each parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Identifiability {
    pub loss: f64,
    /// Gauss-Newton matrix of the loss in log-multipliers, row-major `n × n`.
    pub curvature: Vec<f64>,
    /// The eigenvalues of the scaled matrix `D H D` (`D = diag(H)^(-1/2)`, unit diagonal), largest first: values
    /// near zero mark combinations of parameters that the loss cannot tell apart.
    pub eigenvalues: Vec<f64>,
    pub parameters: Vec<ParameterIdentifiability>,
}

impl Identifiability {
    /// From the loss at a point and its Gauss-Newton matrix in log-multipliers.
    pub fn new(names: &[String], multipliers: &[f64], loss: f64, curvature: Vec<f64>) -> Self {
        let n = names.len();
        // Work on the scaled matrix C = D H D with D = diag(H)^(-1/2) (unit diagonal), so that a parameter the
        // loss barely sees does not set the round-off level for the others; (H⁻¹)_ii = (C⁻¹)_ii / H_ii.
        let diagonal: Vec<f64> = (0..n).map(|i| curvature[i * n + i]).collect();
        let scale: Vec<f64> = diagonal
            .iter()
            .map(|&h| if h > 0.0 { 1.0 / h.sqrt() } else { 0.0 })
            .collect();
        let scaled: Vec<f64> = (0..n * n).map(|k| curvature[k] * scale[k / n] * scale[k % n]).collect();
        let (values, vectors) = symmetric_eigen(&scaled, n);
        // Directions of C whose curvature is at round-off level are flat: the loss cannot see them, and
        // every parameter with a share in one is undetermined.
        let flat = 1e-12 * n as f64;
        let inverse_diagonal: Vec<f64> = (0..n)
            .map(|i| {
                if diagonal[i] <= 0.0 {
                    return f64::INFINITY;
                }
                let c: f64 = (0..n)
                    .map(|k| {
                        let share = vectors[i * n + k].powi(2);
                        if values[k] > flat {
                            share / values[k]
                        } else if share > 1e-8 {
                            f64::INFINITY
                        } else {
                            0.0
                        }
                    })
                    .sum();
                c / diagonal[i]
            })
            .collect();
        let step = (1.0 + FIVE_PERCENT).ln();
        let parameters = (0..n)
            .map(|i| ParameterIdentifiability {
                name: names[i].clone(),
                multiplier: multipliers[i],
                rise_alone_5_percent: 0.5 * step * step * curvature[i * n + i],
                rise_compensated_5_percent: 0.5 * step * step / inverse_diagonal[i],
                relative_error_bound: if inverse_diagonal[i].is_finite() && loss.is_finite() {
                    (2.0 * loss.max(0.0) * inverse_diagonal[i]).sqrt().exp_m1()
                } else {
                    f64::INFINITY
                },
            })
            .collect();
        let mut eigenvalues = values;
        eigenvalues.sort_by(|a, b| b.total_cmp(a));
        Self {
            loss,
            curvature,
            eigenvalues,
            parameters,
        }
    }

    /// The loss a fit must reach (above the minimum) so that every parameter is within 5 % of the
    /// minimum's, as far as the quadratic model holds: the smallest compensated rise.
    pub fn loss_for_5_percent(&self) -> f64 {
        self.parameters
            .iter()
            .map(|p| p.rise_compensated_5_percent)
            .fold(f64::INFINITY, f64::min)
    }

    /// A plain-text table: one row per parameter.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<32} {:>12} {:>16} {:>16} {:>16}\n",
            "parameter", "multiplier", "5% off: alone", "compensated", "relative error ≤"
        );
        for p in &self.parameters {
            // Beyond a factor of 100 the bound says only that the loss does not constrain the parameter.
            let bound = if p.relative_error_bound < 100.0 {
                format!("{:.2e}", p.relative_error_bound)
            } else {
                "> 100".to_string()
            };
            out += &format!(
                "{:<32} {:>12.6} {:>16.3e} {:>16.3e} {:>16}\n",
                p.name, p.multiplier, p.rise_alone_5_percent, p.rise_compensated_5_percent, bound
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Residuals r = A x for a linear model: L = ½ |A x|² has H = AᵀA, and moving x_i by δ with the others
    /// re-optimised raises L by ½ δ² / (H⁻¹)_ii, which a brute-force minimisation over the others confirms.
    #[test]
    fn compensated_rise_matches_minimising_over_the_others() {
        let a = [[1.0, 0.9, 0.0], [0.0, 0.5, 0.2], [0.3, 0.0, 1.0], [0.1, 0.4, 0.0]];
        let n = 3;
        let mut h = vec![0.0; n * n];
        for row in &a {
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] += row[i] * row[j];
                }
            }
        }
        let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        let id = Identifiability::new(&names, &[1.0; 3], 0.0, h.clone());
        let step = 1.05f64.ln();
        let loss = |x: &[f64]| -> f64 {
            a.iter()
                .map(|r| (r[0] * x[0] + r[1] * x[1] + r[2] * x[2]).powi(2))
                .sum::<f64>()
                * 0.5
        };
        for i in 0..n {
            // Minimise over the two others by coordinate descent (exact per coordinate for a quadratic).
            let mut x = [0.0; 3];
            x[i] = step;
            for _ in 0..2000 {
                for j in (0..n).filter(|&j| j != i) {
                    let rest: f64 = (0..n).filter(|&k| k != j).map(|k| h[j * n + k] * x[k]).sum();
                    x[j] = -rest / h[j * n + j];
                }
            }
            let p = &id.parameters[i];
            approx::assert_relative_eq!(p.rise_compensated_5_percent, loss(&x), max_relative = 1e-9);
            let mut alone = [0.0; 3];
            alone[i] = step;
            approx::assert_relative_eq!(p.rise_alone_5_percent, loss(&alone), max_relative = 1e-12);
            assert!(p.rise_compensated_5_percent <= p.rise_alone_5_percent);
        }
    }

    #[test]
    fn a_parameter_the_loss_ignores_is_unbounded() {
        // The second parameter never enters the residuals.
        let h = vec![2.0, 0.0, 0.0, 0.0];
        let id = Identifiability::new(&["a".into(), "b".into()], &[1.0, 1.0], 1e-6, h);
        assert!(id.parameters[1].relative_error_bound.is_infinite());
        assert_eq!(id.parameters[1].rise_compensated_5_percent, 0.0);
        // The first: L = x² (H = 2), so L = 1e-6 allows |x| = 1e-3.
        approx::assert_relative_eq!(
            id.parameters[0].relative_error_bound,
            1e-3f64.exp_m1(),
            max_relative = 1e-9
        );
        assert_eq!(id.loss_for_5_percent(), 0.0);
    }
}
