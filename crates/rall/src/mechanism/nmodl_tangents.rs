//! Tangent propagation for NMODL mechanisms: Jacobians captured by the extended kernels and input tangents in,
//! tangents of states, assigned values, currents and ion variables out (lane-major, all parameters at once).

use super::ions::{IonPool, IonVariable};
use super::nmodl::{AdvanceTangents, KernelNodes, NmodlMechanism, Tangents, Which, solve_dense};
use super::tangents::{JacobianKernel, LaneKernel, ParameterSeed};
use super::{CurrentTangents, StepContext as Step};
use rall_nmodl::ir::{Advance, Differentiator, SlotId, SlotKind};
use std::sync::Arc;

impl NmodlMechanism {
    /// Extends every kernel with its Jacobian and seeds the parameters' tangents.
    pub(super) fn build_tangents(&mut self, lanes: usize, seeds: &[ParameterSeed]) -> Result<(), String> {
        let ir = &self.ir;
        let current = KernelNodes::of(ir).current;
        if let Advance::Implicit { assigned, .. } = &ir.advance
            && let Some((slot, _)) = assigned
                .iter()
                .find(|(slot, _)| current.iter().any(|&n| ir.graph.depends_on(n, *slot)))
        {
            return Err(format!(
                "`{}`: sensitivities through `{}`, an ASSIGNED value its implicit (KINETIC or derivimplicit) block \
                 sets and BREAKPOINT reads, are not supported yet",
                ir.info.name, ir.slots[*slot as usize].name
            ));
        }
        if ir.steady_state.is_some() || ir.algebraic.is_some() {
            return Err(format!(
                "`{}`: sensitivities through INITIAL's closing SOLVE (STEADYSTATE, LINEAR or NONLINEAR) or through a \
                 LINEAR or NONLINEAR block solved in BREAKPOINT are not supported yet",
                ir.info.name
            ));
        }
        if !ir.initial_actions.is_empty() || ir.net_receive.as_ref().is_some_and(|r| r.has_event_side(&ir.slots)) {
            return Err(format!(
                "`{}`: sensitivities through self-events (net_send, WATCH), net_event, voltage assignments or \
                 per-stream NET_RECEIVE arguments are not supported yet",
                ir.info.name
            ));
        }
        self.check_pointer_tangents()?;
        let n = self.width();
        let mut carries: Vec<bool> = ir
            .slots
            .iter()
            .map(|s| {
                matches!(
                    s.kind,
                    SlotKind::Voltage
                        | SlotKind::Pointer
                        | SlotKind::State
                        | SlotKind::Assigned
                        | SlotKind::Current { .. }
                        | SlotKind::Ion { .. }
                        | SlotKind::EventArgument
                )
            })
            .collect();
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); ir.slots.len()];
        for seed in seeds {
            let slot = ir
                .slot(&seed.parameter)
                .ok_or_else(|| format!("`{}` has no parameter `{}`", ir.info.name, seed.parameter))?;
            let slot = slot as usize;
            if seed.lane >= lanes || seed.instance >= n {
                return Err(format!("internal: seed out of range for `{}`", ir.info.name));
            }
            carries[slot] = true;
            if columns[slot].is_empty() {
                columns[slot] = vec![0.0; lanes * n];
            }
            columns[slot][seed.lane * n + seed.instance] += seed.value;
        }
        for (slot, c) in carries.iter().enumerate() {
            if *c && columns[slot].is_empty() {
                columns[slot] = vec![0.0; lanes * n];
            }
        }
        // Parameters' tangents are non-zero only in their own lanes.
        let mut lanes_of: Vec<Vec<usize>> = vec![Vec::new(); ir.slots.len()];
        for seed in seeds {
            let slot = ir.slot(&seed.parameter).unwrap_or(0) as usize;
            if ir.slots[slot].kind == SlotKind::Parameter && !lanes_of[slot].contains(&seed.lane) {
                lanes_of[slot].push(seed.lane);
            }
        }
        let mut graph = ir.graph.clone();
        let mut d = Differentiator::new();
        let nodes = KernelNodes::of(ir);
        // Assigned values and currents carry tangents only where some kernel reads them (e.g. hh's
        // minf is written and never read: its tangent would be wasted work).
        let all: Vec<_> = nodes
            .init
            .iter()
            .chain(&nodes.current)
            .chain(&nodes.advance)
            .chain(&nodes.net_receive)
            .copied()
            .collect();
        for (slot, s) in ir.slots.iter().enumerate() {
            if matches!(s.kind, SlotKind::Assigned | SlotKind::Current { .. })
                && !all.iter().any(|&n| graph.depends_on(n, slot as SlotId))
            {
                carries[slot] = false;
                columns[slot] = Vec::new();
            }
        }
        let keep = |slots: &[SlotId], extra: usize| -> Vec<bool> {
            slots
                .iter()
                .map(|s| carries[*s as usize])
                .chain(std::iter::repeat_n(true, extra))
                .collect()
        };
        let init = JacobianKernel::new(&mut graph, &mut d, &nodes.init, &keep(&self.init_slots, 0), &carries);
        let extra = nodes.current.len() - self.current_slots.len();
        let current = LaneKernel::new(
            &mut graph,
            &mut d,
            &nodes.current,
            &keep(&self.current_slots, extra),
            &carries,
            &lanes_of,
            lanes,
        );
        let advance = match &ir.advance {
            Advance::None => None,
            Advance::Explicit(_) => Some(AdvanceTangents::Lanes(LaneKernel::new(
                &mut graph,
                &mut d,
                &nodes.advance,
                &keep(&self.advance_slots, 0),
                &carries,
                &lanes_of,
                lanes,
            ))),
            Advance::Implicit { states, .. } => {
                // The states' own Jacobian is already among the outputs; differentiate the rates by the rest.
                let mut others = carries.clone();
                for s in states {
                    others[*s as usize] = false;
                }
                let wanted: Vec<bool> = (0..nodes.advance.len()).map(|o| o < states.len()).collect();
                Some(AdvanceTangents::Jacobian(JacobianKernel::new(
                    &mut graph,
                    &mut d,
                    &nodes.advance,
                    &wanted,
                    &others,
                )))
            }
        };
        let net_receive = ir.net_receive.as_ref().map(|_| {
            JacobianKernel::new(
                &mut graph,
                &mut d,
                &nodes.net_receive,
                &keep(&self.net_slots, 0),
                &carries,
            )
        });
        let outputs = [&nodes.init, &nodes.current, &nodes.advance, &nodes.net_receive]
            .iter()
            .map(|n| n.len())
            .max()
            .unwrap_or(0);
        self.tangents = Some(Box::new(Tangents {
            lanes,
            columns,
            init,
            current,
            advance,
            net_receive,
            out: vec![Vec::new(); outputs],
            event_inputs: Vec::new(),
            lanes_of,
        }));
        Ok(())
    }

    /// Copies the cell's voltage tangents (lane-major over CVs) into the voltage slot's tangent column.
    pub(super) fn gather_voltage(&mut self, v_dot: &[f64]) {
        let n = self.width();
        let t = self.tangents.as_mut().unwrap();
        let cvs = v_dot.len() / t.lanes.max(1);
        gather_lanes(&mut t.columns[0], v_dot, &self.cv, t.lanes, n, cvs);
        self.load_pointer_tangents(v_dot);
    }

    /// Copies the tangents of the ion variables the mechanism reads from the pool.
    pub(super) fn gather_ions(&mut self, ions: &IonPool) {
        let n = self.width();
        let t = self.tangents.as_mut().unwrap();
        for link in self
            .ions
            .iter()
            .filter(|l| !(l.write && !l.read && l.variable == IonVariable::Current))
        {
            let Some(source) = ions.tangent_of(link.species, link.variable) else {
                continue;
            };
            let cvs = ions.species[link.species].e_mv.len();
            gather_lanes(&mut t.columns[link.slot as usize], source, &self.cv, t.lanes, n, cvs);
        }
    }

    /// Concentration tangents go back to the pool, as the values do.
    fn write_concentration_tangents(&self, ions: &mut IonPool) {
        let n = self.width();
        let t = self.tangents.as_ref().unwrap();
        for link in self.ions.iter().filter(|l| l.write) {
            let cvs = ions.species[link.species].e_mv.len();
            let Some(target) = ions.species[link.species].tangent.as_mut() else {
                continue;
            };
            let target = match link.variable {
                IonVariable::Inside => &mut target.ci,
                IonVariable::Outside => &mut target.co,
                _ => continue,
            };
            let column = &t.columns[link.slot as usize];
            for p in 0..t.lanes {
                for (k, &cv) in self.cv.iter().enumerate() {
                    target[p * cvs + cv] = column[p * n + k];
                }
            }
        }
    }

    /// Applies the Jacobian of INITIAL or of an implicit state update to the current input tangents; results
    /// in `t.out`.
    fn apply(&mut self, which: Which, skip: &[SlotId]) {
        let n = self.width();
        let t = self.tangents.as_mut().unwrap();
        let kernel = match (which, &t.advance) {
            (Which::Advance, Some(AdvanceTangents::Jacobian(kernel))) => kernel,
            (Which::Init, _) => &t.init,
            _ => unreachable!("BREAKPOINT and explicit state updates compute their tangents in their own tapes"),
        };
        let (columns, lanes_of) = (&t.columns, &t.lanes_of);
        let input = |slot: SlotId| {
            let c = &columns[slot as usize];
            (!c.is_empty() && !skip.contains(&slot)).then_some((c.as_slice(), lanes_of[slot as usize].as_slice()))
        };
        kernel.apply(
            n,
            t.lanes,
            &self.scratches[which as usize],
            input,
            &mut t.out[..kernel.outputs],
        );
    }

    fn store_tangents(&mut self, slots: &[SlotId]) {
        let t = self.tangents.as_mut().unwrap();
        for (k, slot) in slots.iter().enumerate() {
            let column = &mut t.columns[*slot as usize];
            if !column.is_empty() {
                column.copy_from_slice(&t.out[k]);
            }
        }
    }

    /// At INITIAL: states, assigned values and voltage start with zero tangents; parameters keep their seeds.
    pub(super) fn initial_tangents(&mut self, ions: &mut IonPool) {
        let t = self.tangents.as_mut().unwrap();
        for (slot, column) in t.columns.iter_mut().enumerate() {
            if self.ir.slots[slot].kind != SlotKind::Parameter {
                column.fill(0.0);
            }
        }
        self.gather_ions(ions);
        self.apply(Which::Init, &[]);
        let slots = std::mem::take(&mut self.init_slots);
        self.store_tangents(&slots);
        self.init_slots = slots;
        self.write_concentration_tangents(ions);
    }

    /// After BREAKPOINT ran with its lanes: the tangents of its assigned values and currents into their
    /// tangent columns, and those of the total current, conductance and ion currents into the cell's sums.
    pub(super) fn add_current_tangents(&mut self, tangents: CurrentTangents<'_>, ions: &mut IonPool) {
        let slots = std::mem::take(&mut self.current_slots);
        self.store_lane_tangents(Which::Current, &slots);
        let base = slots.len();
        self.current_slots = slots;
        let n = self.width();
        let t = self.tangents.as_ref().unwrap();
        let kernel = &t.current;
        let scratch = &self.scratches[Which::Current as usize];
        // The tape output of lane `p`'s tangent of primal output `o` (the totals always carry one).
        let tangent = |o: usize, p: usize| {
            let j = kernel.tangent_outputs.iter().position(|&x| x == o).unwrap();
            kernel.tape.output(kernel.tangent_output(j, p), n, scratch)
        };
        let cvs = tangents.v_dot.len() / t.lanes.max(1);
        // Lane by lane over whole rows, so only the scattered index is checked.
        for p in 0..t.lanes {
            let i_row = &mut tangents.i_dot[p * cvs..(p + 1) * cvs];
            let g_row = &mut tangents.g_dot[p * cvs..(p + 1) * cvs];
            let (total, conductance) = (tangent(base, p), tangent(base + 1, p));
            for (((&cv, &scale), &i), &g) in self.cv.iter().zip(&self.current_scale).zip(total).zip(conductance) {
                i_row[cv] += scale * i;
                g_row[cv] += scale * g;
            }
        }
        for (j, &species) in self.ion_current_species.iter().enumerate() {
            let Some(target) = ions.species[species].tangent.as_mut() else {
                continue;
            };
            for p in 0..t.lanes {
                let row = &mut target.current[p * cvs..(p + 1) * cvs];
                let values = tangent(base + 2 + j, p);
                for ((&cv, &scale), &i) in self.cv.iter().zip(&self.ion_scale).zip(values) {
                    row[cv] += scale * i;
                }
            }
        }
    }

    /// The tangents a kernel run with its lanes computed, into the tangent columns of the first outputs' slots.
    fn store_lane_tangents(&mut self, which: Which, slots: &[SlotId]) {
        let n = self.width();
        let t = self.tangents.as_mut().unwrap();
        let kernel = match (which, &t.advance) {
            (Which::Current, _) => &t.current,
            (Which::Advance, Some(AdvanceTangents::Lanes(kernel))) => kernel,
            _ => unreachable!("only BREAKPOINT and explicit state updates run with lanes"),
        };
        let scratch = &self.scratches[which as usize];
        for (j, &o) in kernel.tangent_outputs.iter().enumerate() {
            let Some(&slot) = slots.get(o) else { continue };
            let column = &mut t.columns[slot as usize];
            if column.is_empty() {
                continue;
            }
            for p in 0..t.lanes {
                column[p * n..(p + 1) * n].copy_from_slice(kernel.tape.output(kernel.tangent_output(j, p), n, scratch));
            }
        }
    }

    /// An explicit state update and its lanes' tangents in one run of its tape, given the new voltages and
    /// their tangents.
    pub(super) fn advance_explicit_with_tangents(
        &mut self,
        ctx: &Step,
        v_mv: &[f64],
        v_dot: &[f64],
        ions: &mut IonPool,
    ) -> Result<(), String> {
        if let Some(e) = self.initial_error.take() {
            return Err(e);
        }
        self.load_inputs(ctx.t_ms + ctx.dt_ms, ctx, v_mv, ions);
        self.gather_voltage(v_dot);
        self.gather_ions(ions);
        self.run(Which::Advance);
        let slots = std::mem::take(&mut self.advance_slots);
        self.store(Which::Advance, &slots);
        self.store_lane_tangents(Which::Advance, &slots);
        self.advance_slots = slots;
        self.write_concentrations(ions);
        self.write_concentration_tangents(ions);
        Ok(())
    }

    /// An implicit state update's tangents, after its states converged, given the new voltage's tangents.
    pub(super) fn advance_implicit_tangents(
        &mut self,
        ctx: &Step,
        v_dot: &[f64],
        ions: &mut IonPool,
    ) -> Result<(), String> {
        self.gather_voltage(v_dot);
        self.gather_ions(ions);
        let ir = Arc::clone(&self.ir);
        let Advance::Implicit { states, .. } = &ir.advance else {
            unreachable!("only implicit updates keep a Jacobian");
        };
        self.apply(Which::Advance, states);
        self.implicit_tangents(states, ctx.dt_ms)?;
        self.write_concentration_tangents(ions);
        Ok(())
    }

    /// `(I - dt ∂f/∂s) ṡ_new = ṡ_old + dt Σ ∂f/∂x ẋ` per instance and lane, at the converged states.
    fn implicit_tangents(&mut self, states: &[SlotId], dt: f64) -> Result<(), String> {
        let m = states.len();
        let mut jacobian = std::mem::take(&mut self.dense.jacobian);
        let (mut matrix, mut rhs) = (
            std::mem::take(&mut self.dense.matrix),
            std::mem::take(&mut self.dense.vector),
        );
        jacobian.resize(m * m, 0.0);
        matrix.resize(m * m, 0.0);
        rhs.resize(m, 0.0);
        let result = self.implicit_tangents_with(states, dt, &mut jacobian, &mut matrix, &mut rhs);
        (self.dense.jacobian, self.dense.matrix, self.dense.vector) = (jacobian, matrix, rhs);
        result
    }

    fn implicit_tangents_with(
        &mut self,
        states: &[SlotId],
        dt: f64,
        jacobian: &mut [f64],
        matrix: &mut [f64],
        rhs: &mut [f64],
    ) -> Result<(), String> {
        let (n, m) = (self.width(), states.len());
        let lanes = self.tangents.as_ref().unwrap().lanes;
        for k in 0..n {
            for i in 0..m {
                for j in 0..m {
                    jacobian[i * m + j] = self.output(Which::Advance, m + i * m + j)[k];
                }
            }
            let t = self.tangents.as_mut().unwrap();
            for p in 0..lanes {
                for (ij, entry) in matrix.iter_mut().enumerate() {
                    *entry = f64::from(ij / m == ij % m) - dt * jacobian[ij];
                }
                for (i, r) in rhs.iter_mut().enumerate() {
                    *r = t.columns[states[i] as usize][p * n + k] + dt * t.out[i][p * n + k];
                }
                solve_dense(matrix, rhs, m)
                    .map_err(|_| format!("`{}`: singular implicit tangent matrix", self.ir.info.name))?;
                for i in 0..m {
                    t.columns[states[i] as usize][p * n + k] = rhs[i];
                }
            }
        }
        Ok(())
    }

    /// NET_RECEIVE with tangents: the event's weight tangent per lane enters through the first argument.
    pub(super) fn event_tangents(
        &mut self,
        instance: usize,
        arguments: &[SlotId],
        weight_tangent: &[f64],
        outputs: &[SlotId],
    ) {
        let n = self.width();
        let t = self.tangents.as_mut().unwrap();
        let lanes = t.lanes;
        for (a, slot) in arguments.iter().enumerate() {
            for p in 0..lanes {
                t.columns[*slot as usize][p * n + instance] = if a == 0 {
                    weight_tangent.get(p).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
            }
        }
        let kernel = t.net_receive.as_mut().unwrap();
        let columns = &self.columns;
        kernel.tape.execute(
            1,
            |slot| &columns[slot as usize][instance..instance + 1],
            &mut self.scratches[3],
        );
        // The instance's input tangents, one value per lane, in vectors kept between events.
        let mut local = std::mem::take(&mut t.event_inputs);
        local.resize_with(t.columns.len(), Vec::new);
        for (values, c) in local.iter_mut().zip(&t.columns) {
            values.clear();
            if !c.is_empty() {
                values.extend((0..lanes).map(|p| c[p * n + instance]));
            }
        }
        let kernel = t.net_receive.as_ref().unwrap();
        kernel.apply(
            1,
            lanes,
            &self.scratches[3],
            |slot| (!local[slot as usize].is_empty()).then_some((local[slot as usize].as_slice(), &[][..])),
            &mut t.out[..kernel.outputs],
        );
        t.event_inputs = local;
        for (o, slot) in outputs.iter().enumerate() {
            self.columns[*slot as usize][instance] = kernel.tape.output(o, 1, &self.scratches[3])[0];
            let column = &mut t.columns[*slot as usize];
            if !column.is_empty() {
                for p in 0..lanes {
                    column[p * n + instance] = t.out[o][p];
                }
            }
        }
    }
}

/// `column[p·n + k] = source[p·cvs + cv[k]]` for every lane `p`: one lane's rows at a time, so only the
/// gathered index is bounds-checked.
fn gather_lanes(column: &mut [f64], source: &[f64], cv: &[usize], lanes: usize, n: usize, cvs: usize) {
    for p in 0..lanes {
        let row = &source[p * cvs..(p + 1) * cvs];
        for (c, &cv) in column[p * n..(p + 1) * n].iter_mut().zip(cv) {
            *c = row[cv];
        }
    }
}
