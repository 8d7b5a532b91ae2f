//! A model's simulation built once for a list of multiplied parameters and a list of differentiated ones:
//! multipliers in, traces (with the exact sensitivities at those multipliers) out, without lowering the cells
//! again (the Python package's `Model.run`, parameter sweeps).

use super::LaneShares;
use super::Model;
use crate::sensitivity::{ParameterSpec, ParameterValues, SensitivitySetup, Transform, setup_for};
use crate::simulation::{RunOptions, SimulationError, Traces};
use std::collections::BTreeSet;

/// Why a model cannot be built for given parameters.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error("cell `{cell}`: {message}")]
    Parameter { cell: String, message: String },
    /// The multipliers can only be applied by rebuilding the cells (see [`Model::build`]).
    #[error("`{name}` cannot be set on the built cells: {why}")]
    NotSettable { name: String, why: &'static str },
}

/// A built simulation (its lanes split over the threads) and how to set its multiplied parameters.
pub struct BuiltModel {
    simulation: LaneShares,
    /// Per cell: the multiplied parameters resolved as multipliers (their seeds are the base values).
    multiplied: Vec<SensitivitySetup>,
    /// Per cell, per differentiated lane (of all shares): the multiplied parameters whose product scales the
    /// lane's seeds.
    seed_scales: Vec<Vec<Vec<usize>>>,
    /// Per cell: probes and lanes (its tangent columns are probe-major).
    columns: Vec<(usize, usize)>,
}

impl Model {
    /// Builds the model's cells (or network) once, with sensitivities of `differentiated` co-simulated, so
    /// that [`BuiltModel::run`] can be given any values of the `multiplied` parameters (each a multiplier of
    /// the value in the file, as [`perturbed`](crate::sensitivity::perturbed) cells have).
    ///
    /// [`BuildError::NotSettable`] when the multipliers can only be applied by rebuilding the cells: they
    /// scale `cm`, `ra` or a connection weight (built into the matrix or the wiring); a region covers a CV in
    /// part; a differentiated parameter's seeds would be scaled differently at different places; or
    /// homeostatic control resets the parameters at every run.
    pub fn build(
        &self,
        multiplied: &[ParameterSpec],
        differentiated: &[ParameterSpec],
    ) -> Result<BuiltModel, BuildError> {
        if self.homeostasis.is_some() && !multiplied.is_empty() {
            return Err(BuildError::NotSettable {
                name: multiplied[0].label(),
                why: "homeostatic control starts every run from the parameters the cells were built with",
            });
        }
        let as_multipliers: Vec<ParameterSpec> = multiplied
            .iter()
            .map(|s| ParameterSpec {
                transform: Transform::Multiplier,
                ..s.clone()
            })
            .collect();
        let mut setups = Vec::with_capacity(self.cells.len());
        for (name, cell) in &self.cells {
            let setup = if multiplied.is_empty() {
                SensitivitySetup::default()
            } else {
                setup_for(cell, &self.catalogue, &as_multipliers).map_err(|e| BuildError::Parameter {
                    cell: name.clone(),
                    message: e.to_string(),
                })?
            };
            if let Err(e) = setup.values_at(&vec![1.0; multiplied.len()]) {
                return Err(BuildError::NotSettable {
                    name: e.name,
                    why: "it is built into the cable matrix or the connections",
                });
            }
            if let Some(&lane) = setup.partly_covered.first() {
                return Err(BuildError::NotSettable {
                    name: setup.names[lane].clone(),
                    why: "its region covers a CV in part, which a rebuilt cell splits at the boundary",
                });
            }
            setups.push(setup);
        }
        let simulation = self.simulation_over_threads(&self.cells, differentiated)?;
        let mut seed_scales = vec![Vec::new(); setups.len()];
        for (lanes, share) in simulation.parts() {
            for ((seeds, setup), scales) in share.sensitivity_setups().iter().zip(&setups).zip(&mut seed_scales) {
                if let Some(seeds) = seeds {
                    scales.extend(scales_of_seeds(seeds, &differentiated[lanes.clone()], setup)?);
                }
            }
        }
        let first = &simulation.parts()[0].1;
        let columns = first
            .probe_counts()
            .into_iter()
            .zip(first.sensitivity_setups())
            .map(|(probes, seeds)| (probes, if seeds.is_some() { differentiated.len() } else { 0 }))
            .collect();
        Ok(BuiltModel {
            simulation,
            multiplied: setups,
            seed_scales,
            columns,
        })
    }
}

/// A place a parameter's value lives: `(mechanism, PARAMETER, instance)`, or a stimulus (`usize::MAX`,
/// "", index).
type Place<'a> = (usize, &'a str, usize);

fn places_of(setup: &SensitivitySetup, lane: usize) -> impl Iterator<Item = Place<'_>> {
    let mechanism = setup.mechanism_seeds.iter().flat_map(move |(m, seeds)| {
        seeds
            .iter()
            .filter(move |s| s.lane == lane)
            .map(move |s| (*m, s.parameter.as_str(), s.instance))
    });
    let stimulus = setup
        .stimulus
        .iter()
        .filter(move |&&(l, _, _)| l == lane)
        .map(|&(_, k, _)| (usize::MAX, "", k));
    mechanism.chain(stimulus)
}

/// For each differentiated lane of a cell, the multiplied parameters that scale its seeds: a lane whose
/// seeds are the parameter's values (multiplier or log scale) is scaled by the multipliers of the places
/// it seeds, which must be the same at all of them.
fn scales_of_seeds(
    seeds: &SensitivitySetup,
    differentiated: &[ParameterSpec],
    multiplied: &SensitivitySetup,
) -> Result<Vec<Vec<usize>>, BuildError> {
    let mut scales = Vec::with_capacity(differentiated.len());
    for (lane, spec) in differentiated.iter().enumerate() {
        if spec.transform == Transform::Value {
            scales.push(Vec::new());
            continue;
        }
        let mut common: Option<BTreeSet<usize>> = None;
        for place in places_of(seeds, lane) {
            let by: BTreeSet<usize> = (0..multiplied.lanes())
                .filter(|&k| places_of(multiplied, k).any(|p| p == place))
                .collect();
            if common.get_or_insert_with(|| by.clone()) != &by {
                return Err(BuildError::NotSettable {
                    name: spec.label(),
                    why: "the multipliers scale its value at some of the places it is differentiated at and not at others",
                });
            }
        }
        scales.push(common.unwrap_or_default().into_iter().collect());
    }
    Ok(scales)
}

impl BuiltModel {
    /// Runs with the multiplied parameters at `multipliers` (one per multiplied parameter, in order); the
    /// sensitivities are those of the cells built at these values.
    pub fn run_with(
        &mut self,
        multipliers: &[f64],
        options: &RunOptions,
        progress: impl FnMut(f64) -> bool + Send,
    ) -> Result<Traces, SimulationError> {
        let expected = self.multiplied.first().map_or(0, SensitivitySetup::lanes);
        if multipliers.len() != expected {
            return Err(SimulationError::Options(format!(
                "{} multipliers for {expected} multiplied parameters",
                multipliers.len()
            )));
        }
        if expected > 0 {
            let values: Vec<ParameterValues> = self
                .multiplied
                .iter()
                .map(|setup| setup.values_at(multipliers).expect("checked when built"))
                .collect();
            for (_, share) in self.simulation.shares_mut() {
                share.set_parameter_values(&values)?;
            }
        }
        let mut traces = self.simulation.run_with(options, progress)?;
        let mut column = 0;
        for (&(probes, lanes), scales) in self.columns.iter().zip(&self.seed_scales) {
            for _ in 0..probes {
                for by in scales.iter().take(lanes) {
                    let factor: f64 = by.iter().map(|&k| multipliers[k]).product();
                    if factor != 1.0 {
                        traces.tangents[column].iter_mut().for_each(|x| *x *= factor);
                    }
                    column += 1;
                }
            }
        }
        Ok(traces)
    }

    /// After a run: its accuracy warnings (see [`Simulation::accuracy_warnings`]).
    pub fn accuracy_warnings(&self) -> Vec<String> {
        self.simulation.accuracy_warnings()
    }

    /// How many simulations the differentiated lanes are split over (one per thread, see [`LaneShares`]).
    pub fn shares(&self) -> usize {
        self.simulation.len()
    }
}
