//! CMA-ES: an objective over R^n in, its minimiser by the covariance matrix adaptation evolution strategy out (ask/tell, seeded).
#![allow(clippy::needless_range_loop)] // dense linear algebra reads clearest with explicit indices

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// CMA-ES settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CmaesSettings {
    /// λ; `None`: 4 + ⌊3 ln n⌋.
    pub population: Option<usize>,
    /// Initial step size σ.
    pub step: f64,
    pub seed: u64,
}

impl Default for CmaesSettings {
    fn default() -> Self {
        Self {
            population: None,
            step: 0.1,
            seed: 1,
        }
    }
}

/// The strategy's state (Hansen's standard (μ/μ_w, λ)-CMA-ES with cumulative step-size adaptation).
pub struct Cmaes {
    n: usize,
    lambda: usize,
    weights: Vec<f64>,
    mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    chi_n: f64,
    pub mean: Vec<f64>,
    pub sigma: f64,
    covariance: Vec<f64>,
    p_sigma: Vec<f64>,
    p_c: Vec<f64>,
    /// Eigen decomposition of the covariance: `B` (columns) and `D` (square roots of the eigenvalues).
    basis: Vec<f64>,
    scales: Vec<f64>,
    rng: ChaCha8Rng,
    generation: usize,
}

impl Cmaes {
    pub fn new(start: &[f64], settings: CmaesSettings) -> Self {
        let n = start.len();
        let lambda = settings
            .population
            .unwrap_or(4 + (3.0 * (n as f64).ln()).floor() as usize)
            .max(2);
        let mu = lambda / 2;
        let raw: Vec<f64> = (0..mu)
            .map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - ((i + 1) as f64).ln())
            .collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let nf = n as f64;
        let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
        let c_1 = 2.0 / ((nf + 1.3).powi(2) + mu_eff);
        let c_mu = (1.0 - c_1).min(2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((nf + 2.0).powi(2) + mu_eff));
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        let mut identity = vec![0.0; n * n];
        for i in 0..n {
            identity[i * n + i] = 1.0;
        }
        Self {
            n,
            lambda,
            weights,
            mu_eff,
            c_sigma,
            d_sigma,
            c_c,
            c_1,
            c_mu,
            chi_n,
            mean: start.to_vec(),
            sigma: settings.step,
            covariance: identity.clone(),
            p_sigma: vec![0.0; n],
            p_c: vec![0.0; n],
            basis: identity,
            scales: vec![1.0; n],
            rng: ChaCha8Rng::seed_from_u64(settings.seed),
            generation: 0,
        }
    }

    pub fn population(&self) -> usize {
        self.lambda
    }

    /// Draws λ candidates `m + σ B D z`, z ~ N(0, I).
    pub fn ask(&mut self) -> Vec<Vec<f64>> {
        let n = self.n;
        (0..self.lambda)
            .map(|_| {
                let z: Vec<f64> = (0..n).map(|_| standard_normal(&mut self.rng)).collect();
                (0..n)
                    .map(|i| {
                        self.mean[i]
                            + self.sigma
                                * (0..n)
                                    .map(|j| self.basis[i * n + j] * self.scales[j] * z[j])
                                    .sum::<f64>()
                    })
                    .collect()
            })
            .collect()
    }

    /// Updates the distribution from the candidates and their objective values (smaller is better).
    pub fn tell(&mut self, candidates: &[Vec<f64>], values: &[f64]) {
        let n = self.n;
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let old = self.mean.clone();
        let steps: Vec<Vec<f64>> = order
            .iter()
            .take(self.weights.len())
            .map(|&k| (0..n).map(|i| (candidates[k][i] - old[i]) / self.sigma).collect())
            .collect();
        let mut y_w = vec![0.0; n];
        for (w, y) in self.weights.iter().zip(&steps) {
            for i in 0..n {
                y_w[i] += w * y[i];
            }
        }
        for i in 0..n {
            self.mean[i] = old[i] + self.sigma * y_w[i];
        }
        // C^(-1/2) y_w = B D^-1 Bᵀ y_w
        let bt_y: Vec<f64> = (0..n)
            .map(|j| (0..n).map(|i| self.basis[i * n + j] * y_w[i]).sum::<f64>() / self.scales[j])
            .collect();
        let inv_sqrt_y: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| self.basis[i * n + j] * bt_y[j]).sum())
            .collect();
        let cs = (self.c_sigma * (2.0 - self.c_sigma) * self.mu_eff).sqrt();
        for i in 0..n {
            self.p_sigma[i] = (1.0 - self.c_sigma) * self.p_sigma[i] + cs * inv_sqrt_y[i];
        }
        self.generation += 1;
        let norm = self.p_sigma.iter().map(|x| x * x).sum::<f64>().sqrt();
        let decay = 1.0 - (1.0 - self.c_sigma).powi(2 * self.generation as i32);
        let h_sigma = f64::from(norm / decay.sqrt() / self.chi_n < 1.4 + 2.0 / (n as f64 + 1.0));
        let cc = (self.c_c * (2.0 - self.c_c) * self.mu_eff).sqrt();
        for i in 0..n {
            self.p_c[i] = (1.0 - self.c_c) * self.p_c[i] + h_sigma * cc * y_w[i];
        }
        let delta = (1.0 - h_sigma) * self.c_c * (2.0 - self.c_c);
        for i in 0..n {
            for j in 0..n {
                let rank_mu: f64 = self.weights.iter().zip(&steps).map(|(w, y)| w * y[i] * y[j]).sum();
                let c = &mut self.covariance[i * n + j];
                *c = (1.0 - self.c_1 - self.c_mu) * *c
                    + self.c_1 * (self.p_c[i] * self.p_c[j] + delta * *c)
                    + self.c_mu * rank_mu;
            }
        }
        self.sigma *= ((self.c_sigma / self.d_sigma) * (norm / self.chi_n - 1.0)).exp();
        let (values, vectors) = symmetric_eigen(&self.covariance, n);
        self.scales = values.iter().map(|v| v.max(1e-300).sqrt()).collect();
        self.basis = vectors;
    }
}

/// A standard normal deviate (Box-Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Eigenvalues and eigenvectors (columns, row-major `n × n`) of a symmetric matrix by cyclic Jacobi rotations.
pub fn symmetric_eigen(matrix: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimise(f: impl Fn(&[f64]) -> f64, start: &[f64], step: f64, budget: usize) -> (f64, usize) {
        let mut es = Cmaes::new(
            start,
            CmaesSettings {
                population: None,
                step,
                seed: 7,
            },
        );
        let (mut best, mut evaluations) = (f64::INFINITY, 0);
        while evaluations < budget {
            let xs = es.ask();
            let values: Vec<f64> = xs.iter().map(|x| f(x)).collect();
            evaluations += xs.len();
            best = values.iter().copied().fold(best, f64::min);
            if best < 1e-10 {
                break;
            }
            es.tell(&xs, &values);
        }
        (best, evaluations)
    }

    #[test]
    fn eigen_decomposition_reconstructs_the_matrix() {
        let m = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 1.0];
        let (values, vectors) = symmetric_eigen(&m, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3)
                    .map(|k| vectors[i * 3 + k] * values[k] * vectors[j * 3 + k])
                    .sum();
                assert!((r - m[i * 3 + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn cmaes_minimises_the_sphere_in_a_known_number_of_evaluations() {
        // 10-D sphere from (1, ..., 1) with σ = 0.5: f < 1e-10 within 3000 evaluations (typically ~2000 for λ = 10).
        let (best, evaluations) = minimise(|x| x.iter().map(|v| v * v).sum(), &[1.0; 10], 0.5, 20_000);
        assert!(
            best < 1e-10 && evaluations <= 3000,
            "best {best} after {evaluations} evaluations"
        );
    }

    #[test]
    fn cmaes_minimises_rosenbrock() {
        let rosenbrock = |x: &[f64]| {
            (0..x.len() - 1)
                .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2))
                .sum::<f64>()
        };
        let (best, evaluations) = minimise(rosenbrock, &[0.0; 5], 0.5, 20_000);
        assert!(
            best < 1e-10 && evaluations <= 8000,
            "best {best} after {evaluations} evaluations"
        );
    }
}
