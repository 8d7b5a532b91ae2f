//! The passive leak `pas`: CVs, areas, `g` [S/cm²] and `e` [mV] in, `i = g (v - e)` out.

use super::catalogue::{MechanismInfo, ParameterInfo};
use super::{Mechanism, MechanismLayout};
use crate::discretize::CvIndex;

/// NEURON's `pas`: a linear leak with no states.
pub struct Passive {
    cv: Vec<CvIndex>,
    /// Leak conductance of each entry [µS].
    conductance_us: Vec<f64>,
    /// Reversal potential of each entry [mV].
    reversal_mv: Vec<f64>,
}

impl Passive {
    pub fn info() -> MechanismInfo {
        MechanismInfo {
            name: "pas",
            description: "passive leak i = g (v - e)",
            parameters: vec![
                ParameterInfo {
                    name: "g",
                    unit: "S/cm2",
                    default: 0.001,
                },
                ParameterInfo {
                    name: "e",
                    unit: "mV",
                    default: -70.0,
                },
            ],
        }
    }

    pub fn new(layout: &MechanismLayout) -> Self {
        // S/cm² · µm² = 1e-8 S = 1e-2 µS
        let conductance_us = layout
            .area_um2
            .iter()
            .zip(&layout.parameters)
            .map(|(a, p)| 1e-2 * p[0] * a)
            .collect();
        let reversal_mv = layout.parameters.iter().map(|p| p[1]).collect();
        Self {
            cv: layout.cv.clone(),
            conductance_us,
            reversal_mv,
        }
    }
}

impl Mechanism for Passive {
    fn name(&self) -> &str {
        "pas"
    }

    fn initialise(&mut self, _v_mv: &[f64]) {}

    fn accumulate_current(&self, v_mv: &[f64], current_na: &mut [f64], conductance_us: &mut [f64]) {
        for ((&cv, &g), &e) in self.cv.iter().zip(&self.conductance_us).zip(&self.reversal_mv) {
            current_na[cv] += g * (v_mv[cv] - e);
            conductance_us[cv] += g;
        }
    }

    fn advance_states(&mut self, _v_mv: &[f64], _dt_ms: f64) {}
}
