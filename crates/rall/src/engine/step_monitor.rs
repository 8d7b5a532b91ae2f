//! Each step's membrane potentials before and after in, the largest one-step change of any CV out, and a
//! warning when it is too large for the step to have resolved it (a spike's upstroke jumped in one or two
//! steps: dt = 1 ms on hh gives one spike where there are three, and Crank-Nicolson rings).

/// A change larger than this in one step [mV] means the step did not resolve the dynamics. Measured on an hh
/// compartment driven to spike 5 times in 50 ms (`engine_time_stepping.rs`): the largest step is 7.5 mV at
/// dt = 0.025 ms and 24 mV at 0.1 ms with the right count; from dt = 0.2 ms (33 mV) backward Euler loses
/// spikes, and Crank-Nicolson gains or loses them from 0.5 ms (110 mV).
pub const RESOLVED_CHANGE_MV: f64 = 30.0;

/// The largest change of any CV's membrane potential in one step since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LargestStep {
    /// |ΔV| [mV].
    pub change_mv: f64,
    /// The step's start [ms].
    pub t_ms: f64,
    pub cv: usize,
    /// The step [ms].
    pub dt_ms: f64,
}

impl LargestStep {
    /// Observes a step that takes `before` to `before + factor · (target - before)` at every CV.
    pub fn observe(&mut self, before: &[f64], target: &[f64], factor: f64, t_ms: f64, dt_ms: f64) {
        // Eight independent maxima, so the check costs a fraction of the step.
        let mut lanes = [0.0f64; 8];
        let (chunks, rest) = (before.chunks_exact(8), before.len() / 8 * 8);
        for (b, t) in chunks.zip(target.chunks_exact(8)) {
            for k in 0..8 {
                lanes[k] = lanes[k].max((t[k] - b[k]).abs());
            }
        }
        let tail = before[rest..]
            .iter()
            .zip(&target[rest..])
            .fold(0.0f64, |m, (b, t)| m.max((t - b).abs()));
        let largest = factor * lanes.iter().fold(tail, |m, &x| m.max(x));
        if largest > self.change_mv {
            let cv = before
                .iter()
                .zip(target)
                .position(|(b, t)| factor * (t - b).abs() == largest)
                .unwrap_or(0);
            *self = Self {
                change_mv: largest,
                t_ms,
                cv,
                dt_ms,
            };
        }
    }

    /// Whether the largest change shows a step too coarse for the dynamics.
    pub fn unresolved(&self) -> bool {
        self.change_mv > RESOLVED_CHANGE_MV
    }
}

impl std::fmt::Display for LargestStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the membrane potential changed by {:.0} mV in one step (CV {}, t = {:.3} ms); dt = {} ms does not \
             resolve the fastest dynamics and the result may be far from the converged one: try a smaller dt \
             (0.025 ms is NEURON's default)",
            self.change_mv, self.cv, self.t_ms, self.dt_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_change_and_its_place_are_kept() {
        let mut largest = LargestStep::default();
        let before: Vec<f64> = (0..19).map(|k| -65.0 + k as f64).collect();
        let mut after = before.clone();
        after[17] += 30.0;
        largest.observe(&before, &after, 1.0, 2.0, 0.1);
        after[17] -= 30.0;
        after[3] -= 20.0;
        largest.observe(&before, &after, 2.0, 3.0, 0.1);
        assert_eq!((largest.change_mv, largest.cv, largest.t_ms), (40.0, 3, 3.0));
        assert!(largest.unresolved());
        let mut calm = LargestStep::default();
        calm.observe(&before, &before, 1.0, 0.0, 0.1);
        assert!(!calm.unresolved());
    }
}
