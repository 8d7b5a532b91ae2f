//! A model's cells (as written, or with parameters changed) and the parameters to differentiate in; the
//! `Simulation` ready to run out: its network wired, its homeostatic control and sensitivities switched on.

use super::Model;
use crate::sensitivity::ParameterSpec;
use crate::simulation::SimulationError;
use crate::{Cell, Simulation};

impl Model {
    /// The simulation of `cells` (the model's, or copies with other parameter values) in this model's network,
    /// under its `[homeostasis]`, co-simulating the sensitivities to `specs`.
    pub fn simulation(&self, cells: &[(String, Cell)], specs: &[ParameterSpec]) -> Result<Simulation, SimulationError> {
        let mut simulation = match &self.network {
            Some(network) => {
                let mut network = network.clone();
                network.cells = cells.to_vec();
                Simulation::network(&network, &self.catalogue)
            }
            None => Simulation::new(cells, &self.catalogue),
        }?;
        if let Some(h) = &self.homeostasis {
            simulation.enable_homeostasis(cells, &self.catalogue, h)?;
        }
        if !specs.is_empty() {
            simulation.enable_sensitivities(cells, &self.catalogue, specs, self.forgetting_per_ms)?;
        }
        Ok(simulation)
    }
}
