//! Adam: parameters and gradients in, updated parameters out (bias-corrected moments, optional gradient clipping).

/// Adam's settings; defaults are the usual ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamSettings {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
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
        for i in 0..x.len() {
            let g = gradient[i] * scale;
            self.m[i] = s.beta1 * self.m[i] + (1.0 - s.beta1) * g;
            self.v[i] = s.beta2 * self.v[i] + (1.0 - s.beta2) * g * g;
            x[i] -= rate * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + s.epsilon);
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
}
