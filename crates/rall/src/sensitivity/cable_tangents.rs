//! Voltage tangents of one cell: the primal step's matrix, currents and conductances in, `dV/dθ` for every lane out.

use crate::mechanism::ParameterSeed;

/// Everything a cell needs to co-simulate sensitivities, in CV terms (from [`resolve_parameters`](super::resolve_parameters)).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SensitivitySetup {
    /// One name per lane, e.g. `hh.gnabar@soma`.
    pub names: Vec<String>,
    /// `(mechanism index in the layout, seeds)`.
    pub mechanism_seeds: Vec<(usize, Vec<ParameterSeed>)>,
    /// `(lane, cv, dC/dθ [nF])`.
    pub capacitance: Vec<(usize, usize, f64)>,
    /// `(lane, cv, d(axial conductance to parent)/dθ [µS])`.
    pub axial: Vec<(usize, usize, f64)>,
    /// `(lane, stimulus index in the layout, d(amplitude)/dθ [nA])`.
    pub stimulus: Vec<(usize, usize, f64)>,
    /// `(lane, synapse placement, d(weight)/dθ)`.
    pub weight: Vec<(usize, usize, f64)>,
    /// Forgetting rate λ [1/ms]: tangents decay by `exp(-λ dt)` each step (0: exact sensitivities).
    pub forgetting_per_ms: f64,
}

impl SensitivitySetup {
    pub fn lanes(&self) -> usize {
        self.names.len()
    }
}

/// The cable-level tangents of one cell, lane-major `[lane * cvs + cv]`, and their buffers.
pub struct CableTangents {
    pub setup: SensitivitySetup,
    pub cvs: usize,
    /// `dV/dθ` [mV per unit of θ].
    pub v_dot: Vec<f64>,
    /// Tangents of the membrane current [nA] and conductance [µS] of this step.
    pub i_dot: Vec<f64>,
    pub g_dot: Vec<f64>,
    rhs: Vec<f64>,
    /// Weight tangents per synapse placement, one value per lane.
    weight_dot: Vec<Vec<f64>>,
    /// Zeros, one per lane.
    no_weight: Vec<f64>,
}

impl CableTangents {
    pub fn new(setup: SensitivitySetup, cvs: usize, placements: usize) -> Self {
        let lanes = setup.lanes();
        let mut weight_dot = vec![vec![0.0; lanes]; placements];
        for &(lane, placement, d) in &setup.weight {
            weight_dot[placement][lane] += d;
        }
        Self {
            cvs,
            v_dot: vec![0.0; lanes * cvs],
            i_dot: vec![0.0; lanes * cvs],
            g_dot: vec![0.0; lanes * cvs],
            rhs: vec![0.0; lanes * cvs],
            weight_dot,
            no_weight: vec![0.0; lanes],
            setup,
        }
    }

    pub fn lanes(&self) -> usize {
        self.setup.lanes()
    }

    /// The weight tangents of events from one synapse placement.
    pub fn weight_tangent(&self, placement: usize) -> &[f64] {
        // Events from outside the cell's own placements (network connections) carry none.
        self.weight_dot.get(placement).map_or(&self.no_weight, Vec::as_slice)
    }

    /// Start of a step's current phase.
    pub fn clear_currents(&mut self) {
        self.i_dot.fill(0.0);
        self.g_dot.fill(0.0);
    }

    /// A stimulus of the layout is on with its waveform at `shape` (1 for a step): its amplitude tangents enter
    /// as (negative) membrane current.
    pub fn add_stimulus(&mut self, stimulus: usize, cv: usize, shape: f64) {
        for &(lane, s, d) in &self.setup.stimulus {
            if s == stimulus {
                self.i_dot[lane * self.cvs + cv] -= d * shape;
            }
        }
    }

    /// Solves `A ẋ = (Ċ/dt + Ġ)(V - x) + (C/dt + G) V̇ - İ - L̇ x` for every lane with the primal
    /// factorisation, where `A x = b` was the step's system; returns through `v_dot` the new voltage tangents
    /// (`ẋ` for backward Euler, `2ẋ - V̇` for Crank-Nicolson).
    #[allow(clippy::too_many_arguments)]
    pub fn solve(
        &mut self,
        matrix: &crate::engine::HinesMatrix,
        parent: &[usize],
        capacitance_nf: &[f64],
        conductance_us: &[f64],
        v_old: &[f64],
        x: &[f64],
        substep_ms: f64,
        crank_nicolson: bool,
    ) {
        let (n, lanes) = (self.cvs, self.lanes());
        // Right-hand sides node-major (`[cv * lanes + lane]`), so all lanes are solved together.
        let rhs = &mut self.rhs;
        for i in 0..n {
            let c = capacitance_nf[i] / substep_ms + conductance_us[i];
            let dv = v_old[i] - x[i];
            for p in 0..lanes {
                let k = p * n + i;
                rhs[i * lanes + p] = self.g_dot[k] * dv + c * self.v_dot[k] - self.i_dot[k];
            }
        }
        for &(lane, cv, dc) in &self.setup.capacitance {
            rhs[cv * lanes + lane] += dc / substep_ms * (v_old[cv] - x[cv]);
        }
        for &(lane, cv, dg) in &self.setup.axial {
            let q = parent[cv];
            let flow = dg * (x[cv] - x[q]);
            rhs[cv * lanes + lane] -= flow;
            rhs[q * lanes + lane] += flow;
        }
        matrix.solve_many(rhs, lanes);
        for i in 0..n {
            for p in 0..lanes {
                let k = p * n + i;
                let solved = rhs[i * lanes + p];
                self.v_dot[k] = if crank_nicolson {
                    2.0 * solved - self.v_dot[k]
                } else {
                    solved
                };
            }
        }
    }

    /// Forgetting: multiplies the voltage tangents by `factor`.
    pub fn scale(&mut self, factor: f64) {
        self.v_dot.iter_mut().for_each(|x| *x *= factor);
    }
}
