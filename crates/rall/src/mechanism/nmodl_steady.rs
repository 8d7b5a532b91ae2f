//! Algebraic solves: the states INITIAL (or the state update) left in, the solution out, with the ASSIGNED
//! values the block sets. `SOLVE ... STEADYSTATE sparse` closing INITIAL: the KINETIC block's backward Euler
//! with dt = 1e9 ms, each CONSERVE equation replacing one state's, as NEURON's `_ss_sparse` does. LINEAR and
//! NONLINEAR blocks (closing INITIAL, or SOLVEd in BREAKPOINT and then solved in every state update): every
//! row an equation. Both by Newton's method from the present values.

use super::nmodl::{NmodlMechanism, solve_dense, tape_for};
use rall_nmodl::ir::{Graph, MechanismIr, NodeId, STEADY_STATE_DT_MS, SteadyState, Tape, TapeScratch};

/// The compiled steady-state system: rates, their Jacobian, the assigned values, then each CONSERVE
/// equation and its gradient.
#[derive(Clone)]
pub(super) struct SteadySolve {
    tape: Tape,
    scratch: TapeScratch,
}

impl SteadySolve {
    pub(super) fn new(ir: &MechanismIr) -> Option<Self> {
        Some(Self::of(&ir.graph, ir.steady_state.as_ref()?))
    }

    pub(super) fn of(graph: &Graph, s: &SteadyState) -> Self {
        let mut nodes: Vec<NodeId> = s.rates.iter().chain(&s.jacobian).copied().collect();
        nodes.extend(s.assigned.iter().map(|(_, n)| *n));
        for (_, g, gradient) in &s.conserve {
            nodes.push(*g);
            nodes.extend(gradient);
        }
        Self {
            tape: tape_for(graph, &nodes),
            scratch: TapeScratch::default(),
        }
    }
}

impl NmodlMechanism {
    /// Replaces the states by their steady state; an error names the mechanism if Newton does not converge.
    pub(super) fn solve_steady_state(&mut self) -> Result<(), String> {
        let (Some(system), Some(mut solve)) = (self.ir.steady_state.clone(), self.steady.take()) else {
            return Ok(());
        };
        let result = self.solve_system(&system, &mut solve, "INITIAL's closing SOLVE");
        self.steady = Some(solve);
        result
    }

    /// Solves the LINEAR or NONLINEAR block that BREAKPOINT SOLVEs, after the state update.
    pub(super) fn solve_algebraic(&mut self) -> Result<(), String> {
        let (Some(system), Some(mut solve)) = (self.ir.algebraic.clone(), self.algebraic_solve.take()) else {
            return Ok(());
        };
        let result = self.solve_system(&system, &mut solve, "the LINEAR or NONLINEAR block BREAKPOINT solves");
        self.algebraic_solve = Some(solve);
        result
    }

    fn solve_system(&mut self, system: &SteadyState, solve: &mut SteadySolve, what: &str) -> Result<(), String> {
        let (n, m, dt) = (self.width(), system.states.len(), STEADY_STATE_DT_MS);
        let old: Vec<Vec<f64>> = system
            .states
            .iter()
            .map(|s| self.columns[*s as usize].clone())
            .collect();
        let (mut matrix, mut residual) = (vec![0.0; m * m], vec![0.0; m]);
        let base_conserve = m + m * m + system.assigned.len();
        let mut result = Err(format!(
            "`{}`: Newton iterations for {what} did not converge",
            self.ir.info.name
        ));
        for _ in 0..100 {
            let columns = &self.columns;
            solve
                .tape
                .execute(n, |slot| columns[slot as usize].as_slice(), &mut solve.scratch);
            let out = |k: usize| solve.tape.output(k, n, &solve.scratch);
            let mut largest: f64 = 0.0;
            for k in 0..n {
                for i in 0..m {
                    let s = self.columns[system.states[i] as usize][k];
                    residual[i] = -(s - old[i][k] - dt * out(i)[k]);
                    for j in 0..m {
                        matrix[i * m + j] = f64::from(i == j) - dt * out(m + i * m + j)[k];
                    }
                }
                for (c, (row, _, _)) in system.conserve.iter().enumerate() {
                    let at = base_conserve + c * (m + 1);
                    residual[*row] = -out(at)[k];
                    for j in 0..m {
                        matrix[row * m + j] = out(at + 1 + j)[k];
                    }
                }
                if solve_dense(&mut matrix, &mut residual, m).is_err() {
                    largest = f64::NAN;
                    break;
                }
                // Relative to each state, or to a small fraction of the largest where a state is near 0.
                let norm = system
                    .states
                    .iter()
                    .fold(0.0f64, |a, s| a.max(self.columns[*s as usize][k].abs()));
                for (s, step) in system.states.iter().zip(&residual) {
                    let column = &mut self.columns[*s as usize];
                    column[k] += step;
                    let scale = column[k].abs().max(1e-12 * norm).max(f64::MIN_POSITIVE);
                    largest = largest.max(step.abs() / scale);
                }
            }
            if largest < 1e-13 {
                result = Ok(());
                break;
            }
            if !largest.is_finite() {
                break;
            }
        }
        // The assigned values at the steady state.
        let columns = &self.columns;
        solve
            .tape
            .execute(n, |slot| columns[slot as usize].as_slice(), &mut solve.scratch);
        for (j, (slot, _)) in system.assigned.iter().enumerate() {
            let values = solve.tape.output(m + m * m + j, n, &solve.scratch).to_vec();
            self.columns[*slot as usize].copy_from_slice(&values);
        }
        result
    }
}
