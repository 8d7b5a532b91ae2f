//! Voltage tangents of one cell: the primal step's matrix, currents and conductances in, `dV/dθ` for every lane out.

use crate::engine::LANE_BLOCK;
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
    /// Lanes of mechanism parameters whose region covers some seeded CV only in part (the seed scales the
    /// whole CV; a cell rebuilt with the parameter multiplied splits the CV's value at the boundary).
    pub partly_covered: Vec<usize>,
}

impl SensitivitySetup {
    pub fn lanes(&self) -> usize {
        self.names.len()
    }
}

/// The cable-level tangents of one cell, lane-major `[lane * cvs + cv]`, and their buffers.
#[derive(Clone)]
pub struct CableTangents {
    pub setup: SensitivitySetup,
    pub cvs: usize,
    /// `dV/dθ` [mV per unit of θ].
    pub v_dot: Vec<f64>,
    /// Tangents of the membrane current [nA] and conductance [µS] of this step.
    pub i_dot: Vec<f64>,
    pub g_dot: Vec<f64>,
    /// The tangent systems' right-hand sides, node-major with rows of `stride` lanes (whole blocks; the
    /// padding lanes stay zero).
    rhs: Vec<f64>,
    stride: usize,
    /// Per CV: `C/dt + G` and `V - x` of the step being differentiated.
    diagonal: Vec<f64>,
    drop_mv: Vec<f64>,
    /// Weight tangents per synapse placement, one value per lane.
    weight_dot: Vec<Vec<f64>>,
    /// Zeros, one per lane.
    no_weight: Vec<f64>,
}

impl CableTangents {
    pub fn new(setup: SensitivitySetup, cvs: usize, placements: usize) -> Self {
        let lanes = setup.lanes();
        let stride = crate::engine::lane_stride(lanes);
        let mut weight_dot = vec![vec![0.0; lanes]; placements];
        for &(lane, placement, d) in &setup.weight {
            weight_dot[placement][lane] += d;
        }
        Self {
            cvs,
            v_dot: vec![0.0; lanes * cvs],
            i_dot: vec![0.0; lanes * cvs],
            g_dot: vec![0.0; lanes * cvs],
            rhs: vec![0.0; stride * cvs],
            stride,
            diagonal: vec![0.0; cvs],
            drop_mv: vec![0.0; cvs],
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
        let (n, lanes, stride) = (self.cvs, self.lanes(), self.stride);
        for i in 0..n {
            self.diagonal[i] = capacitance_nf[i] / substep_ms + conductance_us[i];
            self.drop_mv[i] = v_old[i] - x[i];
        }
        // Lane-major tangents into node-major rows, a block of CVs at a time: the reads run along each lane's
        // row and the writes stay within the block's few rows.
        let rhs = &mut self.rhs;
        for (block, rows) in rhs.chunks_mut(LANE_BLOCK * stride).enumerate() {
            let cvs = block * LANE_BLOCK..(block * LANE_BLOCK + LANE_BLOCK).min(n);
            let factors = self.diagonal[cvs.clone()].iter().zip(&self.drop_mv[cvs.clone()]);
            for p in 0..lanes {
                let at = p * n + cvs.start..p * n + cvs.end;
                let tangents = self.g_dot[at.clone()]
                    .iter()
                    .zip(&self.v_dot[at.clone()])
                    .zip(&self.i_dot[at]);
                for ((row, (c, dv)), ((g_dot, v_dot), i_dot)) in
                    rows.chunks_exact_mut(stride).zip(factors.clone()).zip(tangents)
                {
                    row[p] = g_dot * dv + c * v_dot - i_dot;
                }
            }
        }
        for &(lane, cv, dc) in &self.setup.capacitance {
            rhs[cv * stride + lane] += dc / substep_ms * (v_old[cv] - x[cv]);
        }
        for &(lane, cv, dg) in &self.setup.axial {
            let q = parent[cv];
            let flow = dg * (x[cv] - x[q]);
            rhs[cv * stride + lane] -= flow;
            rhs[q * stride + lane] += flow;
        }
        matrix.solve_many(rhs, stride);
        for (block, rows) in rhs.chunks(LANE_BLOCK * stride).enumerate() {
            let cvs = block * LANE_BLOCK..(block * LANE_BLOCK + LANE_BLOCK).min(n);
            for p in 0..lanes {
                let v_dot = &mut self.v_dot[p * n + cvs.start..p * n + cvs.end];
                for (v, row) in v_dot.iter_mut().zip(rows.chunks_exact(stride)) {
                    *v = if crank_nicolson { 2.0 * row[p] - *v } else { row[p] };
                }
            }
        }
    }

    /// Forgetting: multiplies the voltage tangents by `factor`.
    pub fn scale(&mut self, factor: f64) {
        self.v_dot.iter_mut().for_each(|x| *x *= factor);
    }
}
