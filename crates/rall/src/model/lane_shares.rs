//! A model's run with sensitivities split over threads: the differentiated parameters in, one simulation per
//! share of them out (each repeating the primal run), run side by side; their traces come back as one
//! simulation's would, the sensitivity columns in lane order.

use super::Model;
use crate::engine::CellIntegrator;
use crate::sensitivity::ParameterSpec;
use crate::simulation::{RunOptions, SimulationError, Traces};
use crate::{Cell, Simulation};
use rayon::prelude::*;
use std::ops::Range;

/// Simulations of one model, each co-simulating the sensitivities of a share of the parameters.
pub struct LaneShares {
    shares: Vec<(Range<usize>, Simulation)>,
}

impl Model {
    /// The simulation of `cells` with the sensitivities to `specs` split into at most `shares` shares of
    /// consecutive lanes, as even as they go: one simulation when `shares` is 1, when there is at most one
    /// parameter, or for several cells (whose steps the threads already share).
    pub fn simulation_in_shares(
        &self,
        cells: &[(String, Cell)],
        specs: &[ParameterSpec],
        shares: usize,
    ) -> Result<LaneShares, SimulationError> {
        let shares = if cells.len() > 1 {
            1
        } else {
            shares.clamp(1, specs.len().max(1))
        };
        let size = specs.len().div_ceil(shares).max(1);
        let mut out = Vec::with_capacity(shares);
        let mut start = 0;
        loop {
            let lanes = start..(start + size).min(specs.len());
            out.push((lanes.clone(), self.simulation(cells, &specs[lanes.clone()])?));
            start = lanes.end;
            if start >= specs.len() {
                break;
            }
        }
        Ok(LaneShares { shares: out })
    }

    /// [`Model::simulation_in_shares`] with a share per thread of rayon's pool (`RAYON_NUM_THREADS`).
    pub fn simulation_over_threads(
        &self,
        cells: &[(String, Cell)],
        specs: &[ParameterSpec],
    ) -> Result<LaneShares, SimulationError> {
        self.simulation_in_shares(cells, specs, rayon::current_num_threads())
    }
}

impl LaneShares {
    /// Runs every share side by side and puts their traces together; the first share reports its progress
    /// (as [`Simulation::run_with`] does), and every share stops with [`SimulationError::Interrupted`] when
    /// `progress` returns false.
    pub fn run_with(
        &mut self,
        options: &RunOptions,
        progress: impl FnMut(f64) -> bool + Send,
    ) -> Result<Traces, SimulationError> {
        let progress = std::sync::Mutex::new(progress);
        let stopped = std::sync::atomic::AtomicBool::new(false);
        let runs: Vec<Result<Traces, SimulationError>> = self
            .shares
            .par_iter_mut()
            .enumerate()
            .map(|(k, (_, simulation))| {
                simulation.run_with(options, |fraction| {
                    use std::sync::atomic::Ordering::Relaxed;
                    if k == 0 {
                        let go_on = (progress.lock().expect("not poisoned"))(fraction);
                        stopped.fetch_or(!go_on, Relaxed);
                    }
                    !stopped.load(Relaxed)
                })
            })
            .collect();
        let runs: Vec<Traces> = runs.into_iter().collect::<Result<_, _>>()?;
        Ok(Self::together(runs, &self.shares))
    }

    /// Every share's lanes (a range of the parameters) and simulation.
    pub(crate) fn parts(&self) -> &[(Range<usize>, Simulation)] {
        &self.shares
    }

    pub(crate) fn shares_mut(&mut self) -> &mut [(Range<usize>, Simulation)] {
        &mut self.shares
    }

    /// The first share's traces with the sensitivity columns of all shares: for each probe, the lanes of
    /// each share in turn.
    fn together(runs: Vec<Traces>, shares: &[(Range<usize>, Simulation)]) -> Traces {
        let mut runs = runs.into_iter();
        let mut first = runs.next().expect("at least one share");
        if shares.len() == 1 {
            return first;
        }
        let rest: Vec<Traces> = runs.collect();
        let width = shares[0].0.len();
        let probes = first.tangents.len() / width;
        let (mut names, mut columns) = (Vec::new(), Vec::new());
        let mut first_names = std::mem::take(&mut first.tangent_names).into_iter();
        let mut first_columns = std::mem::take(&mut first.tangents).into_iter();
        let mut other: Vec<(std::vec::IntoIter<String>, std::vec::IntoIter<Vec<f64>>)> = rest
            .into_iter()
            .map(|t| (t.tangent_names.into_iter(), t.tangents.into_iter()))
            .collect();
        for _ in 0..probes {
            names.extend(first_names.by_ref().take(width));
            columns.extend(first_columns.by_ref().take(width));
            for ((share_names, share_columns), (lanes, _)) in other.iter_mut().zip(&shares[1..]) {
                names.extend(share_names.by_ref().take(lanes.len()));
                columns.extend(share_columns.by_ref().take(lanes.len()));
            }
        }
        first.tangent_names = names;
        first.tangents = columns;
        first
    }

    /// After a run: the accuracy warnings (of the first share; every share runs the same primal steps).
    pub fn accuracy_warnings(&self) -> Vec<String> {
        self.shares[0].1.accuracy_warnings()
    }

    /// The first share's cells.
    pub fn cells(&self) -> &[CellIntegrator] {
        self.shares[0].1.cells()
    }

    /// The number of CVs of all cells.
    pub fn cv_count(&self) -> usize {
        self.shares[0].1.cv_count()
    }

    /// How many simulations the lanes are split over.
    pub fn len(&self) -> usize {
        self.shares.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shares.is_empty()
    }
}
