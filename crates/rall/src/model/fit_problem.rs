//! A model's `[fit]` table in, the fitting problem out: each protocol's cells with its target (read from its
//! CSV, or simulated at the `truth` multipliers), windows, weight and simulated time.

use super::{FitSpec, Model};
use crate::fit::{FitProblem, Protocol, TargetTraces, synthetic_target};

impl Model {
    /// The fitting problem of `spec` (the model's `[fit]`, perhaps with other start values) on this model.
    pub fn fit_problem(&self, spec: &FitSpec) -> Result<FitProblem, String> {
        let at = |e: &dyn std::fmt::Display| format!("{}: {e}", self.file.display());
        let mut protocols = Vec::new();
        for p in &spec.protocols {
            let target = match (&p.target, &spec.truth) {
                (Some(path), _) => TargetTraces::read_csv(path).map_err(|e| e.to_string())?,
                (None, Some(truth)) => {
                    let options = crate::RunOptions {
                        t_stop_ms: p.t_stop_ms.unwrap_or(self.options.t_stop_ms),
                        ..self.options
                    };
                    synthetic_target(&p.cells, &self.catalogue, &options, &spec.parameters, truth)
                        .map_err(|e| at(&format!("protocol `{}`: {e}", p.name)))?
                }
                (None, None) => return Err(at(&format!("protocol `{}` has no target", p.name))),
            };
            protocols.push(Protocol {
                name: p.name.clone(),
                cells: p.cells.clone(),
                target,
                windows: p.windows.clone(),
                weight: p.weight,
                t_stop_ms: p.t_stop_ms,
            });
        }
        Ok(FitProblem {
            protocols,
            catalogue: self.catalogue.clone(),
            options: self.options,
            parameters: spec.parameters.clone(),
            space: spec.space,
            curriculum: spec.curriculum,
            built: Default::default(),
        })
    }
}
