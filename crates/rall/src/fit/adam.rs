//! Adam: parameters and gradients in, updated parameters out (bias-corrected moments, optional gradient clipping).

/// Adam's settings; defaults are the usual ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamSettings {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    /// Adds this fraction of the largest parameter's RMS gradient to ε: parameters whose gradients are far
    /// smaller than the largest then move in proportion to them instead of at the full rate.
    pub relative_epsilon: f64,
    /// Scales the gradient to at most this L2 norm before the update (None: no clipping).
    pub clip_norm: Option<f64>,
    /// Learning-rate schedule: the rate is multiplied by this factor after every step (1: constant).
    pub decay: f64,
}

impl Default for AdamSettings {
    fn default() -> Self {
        Self {
            learning_rate: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            relative_epsilon: 0.0,
            clip_norm: None,
            decay: 1.0,
        }
    }
}

/// Adam's state for one parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub settings: AdamSettings,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u32,
}

impl Adam {
    pub fn new(settings: AdamSettings, dimension: usize) -> Self {
        Self {
            settings,
            m: vec![0.0; dimension],
            v: vec![0.0; dimension],
            t: 0,
        }
    }

    /// One step: `x -= lr · m̂ / (sqrt(v̂) + ε)`.
    pub fn step(&mut self, x: &mut [f64], gradient: &[f64]) {
        let s = self.settings;
        let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        let scale = match s.clip_norm {
            Some(c) if norm > c => c / norm,
            _ => 1.0,
        };
        self.t += 1;
        let (c1, c2) = (1.0 - s.beta1.powi(self.t as i32), 1.0 - s.beta2.powi(self.t as i32));
        let rate = s.learning_rate * s.decay.powi(self.t as i32 - 1);
        for ((m, v), g) in self.m.iter_mut().zip(&mut self.v).zip(gradient) {
            let g = g * scale;
            *m = s.beta1 * *m + (1.0 - s.beta1) * g;
            *v = s.beta2 * *v + (1.0 - s.beta2) * g * g;
        }
        let largest = self.v.iter().fold(0.0f64, |a, &b| a.max(b)) / c2;
        let floor = s.epsilon + s.relative_epsilon * largest.sqrt();
        for ((x, m), v) in x.iter_mut().zip(&self.m).zip(&self.v) {
            *x -= rate * (m / c1) / ((v / c2).sqrt() + floor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_minimises_an_ill_conditioned_quadratic() {
        let mut x = vec![3.0, -2.0];
        let mut adam = Adam::new(
            AdamSettings {
                learning_rate: 0.05,
                ..Default::default()
            },
            2,
        );
        for _ in 0..2000 {
            let g = [2.0 * x[0], 200.0 * x[1]];
            adam.step(&mut x, &g);
        }
        assert!(x[0].abs() < 1e-3 && x[1].abs() < 1e-3, "{x:?}");
    }

    /// The first step (bias-corrected moments m̂ = g, v̂ = g²) is `lr · g / (|g| + ε + κ max|g|)`: every
    /// coordinate moves by the full rate without κ, and in proportion to its gradient with it.
    #[test]
    fn relative_epsilon_scales_the_steps_of_small_gradients() {
        let g = [4.0, -0.04];
        for kappa in [0.0, 0.3] {
            let mut x = vec![0.0, 0.0];
            let mut adam = Adam::new(
                AdamSettings {
                    learning_rate: 0.1,
                    epsilon: 0.0,
                    relative_epsilon: kappa,
                    ..Default::default()
                },
                2,
            );
            adam.step(&mut x, &g);
            for i in 0..2 {
                let expected = -0.1 * g[i] / (g[i].abs() + kappa * 4.0);
                assert!((x[i] - expected).abs() < 1e-15, "κ {kappa}: {x:?}");
            }
        }
    }
}
