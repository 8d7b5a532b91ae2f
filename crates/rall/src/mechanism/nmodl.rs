//! NMODL mechanisms at run time: a compiled [`MechanismIr`] and a layout in, kernels evaluated over all instances at once (one column per slot).

use super::ions::{IonPool, IonVariable};
use super::{Mechanism, MechanismLayout, StepContext};
use crate::discretize::CvIndex;
use rall_nmodl::ast::MechanismKind;
use rall_nmodl::ir::{Advance, MechanismIr, SlotId, SlotKind, Tape, TapeScratch};
use std::sync::Arc;

/// Compiles kernel outputs; `t`, `dt` and `celsius` (slots 1 to 3) are the same for every instance.
fn tape_for(graph: &rall_nmodl::ir::Graph, outputs: &[rall_nmodl::ir::NodeId]) -> Tape {
    Tape::with_uniform_inputs(graph, outputs, |slot| (1..=3).contains(&slot))
}

/// A slot that mirrors an ion variable of the cell.
#[derive(Clone, Debug)]
struct IonLink {
    slot: SlotId,
    species: usize,
    variable: IonVariable,
    write: bool,
}

enum AdvanceTape {
    None,
    Explicit { tape: Tape, outputs: Vec<SlotId> },
    Implicit { tape: Tape, states: Vec<SlotId> },
}

/// One NMODL mechanism over all the CVs (or locations) it covers.
pub struct NmodlMechanism {
    ir: Arc<MechanismIr>,
    cv: Vec<CvIndex>,
    /// nA per unit of the mechanism's current: `1e-2 · area` for densities (mA/cm² · µm²), 1 for point processes.
    current_scale: Vec<f64>,
    /// mA/cm² of ion current per unit of the mechanism's ion current.
    ion_scale: Vec<f64>,
    /// One column per slot, one entry per instance.
    columns: Vec<Vec<f64>>,
    ions: Vec<IonLink>,
    init_tape: Tape,
    init_outputs: Vec<SlotId>,
    current_tape: Tape,
    current_outputs: Vec<SlotId>,
    ion_current_species: Vec<usize>,
    advance: AdvanceTape,
    /// NET_RECEIVE: its tape, the slots it writes, and its argument slots (the weight first).
    net_receive: Option<(Tape, Vec<SlotId>, Vec<SlotId>)>,
    scratch: TapeScratch,
    newton_old: Vec<f64>,
}

impl NmodlMechanism {
    pub fn new(
        ir: Arc<MechanismIr>,
        layout: &MechanismLayout,
        diam_um: &[f64],
        ions: &mut IonPool,
        cvs: usize,
    ) -> Self {
        let n = layout.cv.len();
        let density = *ir.kind() == MechanismKind::Density;
        let mut columns: Vec<Vec<f64>> = ir.slots.iter().map(|s| vec![s.default; n]).collect();
        let parameter_slots: Vec<SlotId> = ir.slots_where(|k| *k == SlotKind::Parameter).map(|(i, _)| i).collect();
        for (k, values) in layout.parameters.iter().enumerate() {
            for (p, slot) in parameter_slots.iter().enumerate() {
                columns[*slot as usize][k] = values[p];
            }
        }
        if let Some(area) = ir.slot("area") {
            columns[area as usize].copy_from_slice(&layout.area_um2);
        }
        if let Some(diam) = ir.slot("diam") {
            for (k, &cv) in layout.cv.iter().enumerate() {
                columns[diam as usize][k] = diam_um[cv];
            }
        }
        let mut links = Vec::new();
        for (slot, s) in ir.slots.iter().enumerate() {
            let (ion, write) = match &s.kind {
                SlotKind::Ion { ion, write } => (ion.clone(), *write),
                _ => continue,
            };
            let Some(variable) = IonVariable::of(&s.name, &ion) else {
                continue;
            };
            let species = ions.species_index(&ion, cvs);
            if write && matches!(variable, IonVariable::Inside | IonVariable::Outside) {
                ions.species[species].nernst = true;
            }
            links.push(IonLink {
                slot: slot as SlotId,
                species,
                variable,
                write,
            });
        }
        // States that are ion concentrations (e.g. `cai` declared as a STATE) are written back too.
        for (slot, s) in ir.slots.iter().enumerate() {
            if s.kind != SlotKind::State {
                continue;
            }
            for u in &ir.info.ions {
                if u.write.contains(&s.name)
                    && let Some(variable) = IonVariable::of(&s.name, &u.ion)
                {
                    let species = ions.species_index(&u.ion, cvs);
                    ions.species[species].nernst = true;
                    links.push(IonLink {
                        slot: slot as SlotId,
                        species,
                        variable,
                        write: true,
                    });
                }
            }
        }

        let init_outputs: Vec<SlotId> = ir.initial.outputs.iter().map(|(s, _)| *s).collect();
        let init_tape = Tape::new(
            &ir.graph,
            &ir.initial.outputs.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        );
        let mut current_nodes: Vec<_> = ir.current.outputs.iter().map(|(_, n)| *n).collect();
        current_nodes.push(ir.total_current);
        current_nodes.push(ir.conductance);
        let mut ion_current_species = Vec::new();
        for (ion, node, _) in &ir.ion_currents {
            current_nodes.push(*node);
            ion_current_species.push(ions.species_index(ion, cvs));
        }
        let current_tape = tape_for(&ir.graph, &current_nodes);
        let current_outputs = ir.current.outputs.iter().map(|(s, _)| *s).collect();
        let advance = match &ir.advance {
            Advance::None => AdvanceTape::None,
            Advance::Explicit(k) => AdvanceTape::Explicit {
                tape: tape_for(&ir.graph, &k.outputs.iter().map(|(_, n)| *n).collect::<Vec<_>>()),
                outputs: k.outputs.iter().map(|(s, _)| *s).collect(),
            },
            Advance::Implicit {
                states,
                rates,
                jacobian,
            } => {
                let nodes: Vec<_> = rates.iter().chain(jacobian).copied().collect();
                AdvanceTape::Implicit {
                    tape: tape_for(&ir.graph, &nodes),
                    states: states.clone(),
                }
            }
        };
        let net_receive = ir.net_receive.as_ref().map(|k| {
            let tape = tape_for(&ir.graph, &k.outputs.iter().map(|(_, n)| *n).collect::<Vec<_>>());
            let arguments = ir
                .slots_where(|k| *k == SlotKind::EventArgument)
                .map(|(i, _)| i)
                .collect();
            (tape, k.outputs.iter().map(|(s, _)| *s).collect(), arguments)
        });
        let current_scale = if density {
            layout.area_um2.iter().map(|a| 1e-2 * a).collect()
        } else {
            vec![1.0; n]
        };
        let ion_scale = if density {
            vec![1.0; n]
        } else {
            layout.area_um2.iter().map(|a| 1e2 / a).collect()
        };
        Self {
            ir,
            cv: layout.cv.clone(),
            current_scale,
            ion_scale,
            columns,
            ions: links,
            init_tape,
            init_outputs,
            current_tape,
            current_outputs,
            ion_current_species,
            advance,
            net_receive,
            scratch: TapeScratch::default(),
            newton_old: Vec::new(),
        }
    }

    fn width(&self) -> usize {
        self.cv.len()
    }

    /// Loads voltage, time, temperature and the ion variables the mechanism reads.
    fn load_inputs(&mut self, t_ms: f64, ctx: &StepContext, v_mv: &[f64], ions: &IonPool) {
        for (k, &cv) in self.cv.iter().enumerate() {
            self.columns[0][k] = v_mv[cv];
        }
        self.columns[1].fill(t_ms);
        self.columns[2].fill(ctx.dt_ms);
        self.columns[3].fill(ctx.celsius);
        for link in &self.ions {
            if link.write && link.variable == IonVariable::Current {
                continue;
            }
            let column = &mut self.columns[link.slot as usize];
            for (k, &cv) in self.cv.iter().enumerate() {
                column[k] = ions.value(link.species, link.variable, cv);
            }
        }
    }

    fn store_outputs(columns: &mut [Vec<f64>], tape: &Tape, outputs: &[SlotId], width: usize, scratch: &TapeScratch) {
        for (k, slot) in outputs.iter().enumerate() {
            columns[*slot as usize].copy_from_slice(tape.output(k, width, scratch));
        }
    }

    /// Written concentrations go back to the cell's ion pool.
    fn write_concentrations(&self, ions: &mut IonPool) {
        for link in self.ions.iter().filter(|l| l.write) {
            let column = &self.columns[link.slot as usize];
            let s = &mut ions.species[link.species];
            let target = match link.variable {
                IonVariable::Inside => &mut s.ci_mm,
                IonVariable::Outside => &mut s.co_mm,
                _ => continue,
            };
            for (k, &cv) in self.cv.iter().enumerate() {
                target[cv] = column[k];
            }
        }
    }

    /// Backward Euler for the implicit states, Newton's method with the symbolic Jacobian, per instance.
    fn solve_implicit(&mut self, tape: &Tape, states: &[SlotId], dt: f64) -> Result<(), String> {
        let (n, m) = (self.width(), states.len());
        self.newton_old.clear();
        for s in states {
            self.newton_old.extend_from_slice(&self.columns[*s as usize]);
        }
        let mut matrix = vec![0.0; m * m];
        let mut residual = vec![0.0; m];
        for iteration in 0..50 {
            let columns = &self.columns;
            tape.execute(n, |slot| columns[slot as usize].as_slice(), &mut self.scratch);
            let mut largest: f64 = 0.0;
            for k in 0..n {
                for i in 0..m {
                    let s = self.columns[states[i] as usize][k];
                    residual[i] = -(s - self.newton_old[i * n + k] - dt * tape.output(i, n, &self.scratch)[k]);
                    for j in 0..m {
                        let jac = tape.output(m + i * m + j, n, &self.scratch)[k];
                        matrix[i * m + j] = f64::from(i == j) - dt * jac;
                    }
                }
                solve_dense(&mut matrix, &mut residual, m)
                    .map_err(|_| format!("`{}`: singular Newton matrix", self.ir.info.name))?;
                for i in 0..m {
                    let column = &mut self.columns[states[i] as usize];
                    column[k] += residual[i];
                    largest = largest.max(residual[i].abs() / (1.0 + column[k].abs()));
                }
            }
            if largest < 1e-12 || (iteration > 0 && largest < 1e-10) {
                return Ok(());
            }
            if !largest.is_finite() {
                break;
            }
        }
        Err(format!(
            "`{}`: Newton iterations for its implicit states did not converge",
            self.ir.info.name
        ))
    }
}

/// Gaussian elimination with partial pivoting on a small dense system (in place).
fn solve_dense(a: &mut [f64], b: &mut [f64], m: usize) -> Result<(), ()> {
    for col in 0..m {
        let pivot = (col..m)
            .max_by(|&i, &j| a[i * m + col].abs().total_cmp(&a[j * m + col].abs()))
            .unwrap();
        if a[pivot * m + col] == 0.0 {
            return Err(());
        }
        if pivot != col {
            for j in 0..m {
                a.swap(col * m + j, pivot * m + j);
            }
            b.swap(col, pivot);
        }
        for row in col + 1..m {
            let f = a[row * m + col] / a[col * m + col];
            for j in col..m {
                a[row * m + j] -= f * a[col * m + j];
            }
            b[row] -= f * b[col];
        }
    }
    for row in (0..m).rev() {
        let s: f64 = (row + 1..m).map(|j| a[row * m + j] * b[j]).sum();
        b[row] = (b[row] - s) / a[row * m + row];
    }
    Ok(())
}

impl Mechanism for NmodlMechanism {
    fn name(&self) -> &str {
        &self.ir.info.name
    }

    fn initialise(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &mut IonPool) {
        for (slot, s) in self.ir.slots.iter().enumerate() {
            if matches!(s.kind, SlotKind::State | SlotKind::Assigned | SlotKind::Current { .. }) {
                self.columns[slot].fill(0.0);
            }
        }
        self.load_inputs(ctx.t_ms, ctx, v_mv, ions);
        let n = self.width();
        let columns = &self.columns;
        self.init_tape
            .execute(n, |slot| columns[slot as usize].as_slice(), &mut self.scratch);
        Self::store_outputs(&mut self.columns, &self.init_tape, &self.init_outputs, n, &self.scratch);
        self.write_concentrations(ions);
    }

    fn accumulate_current(
        &mut self,
        ctx: &StepContext,
        v_mv: &[f64],
        current_na: &mut [f64],
        conductance_us: &mut [f64],
        ions: &mut IonPool,
    ) {
        // NEURON evaluates BREAKPOINT at mid-step time.
        self.load_inputs(ctx.t_ms + 0.5 * ctx.dt_ms, ctx, v_mv, ions);
        let n = self.width();
        let columns = &self.columns;
        self.current_tape
            .execute(n, |slot| columns[slot as usize].as_slice(), &mut self.scratch);
        Self::store_outputs(
            &mut self.columns,
            &self.current_tape,
            &self.current_outputs,
            n,
            &self.scratch,
        );
        let base = self.current_outputs.len();
        let total = self.current_tape.output(base, n, &self.scratch);
        let conductance = self.current_tape.output(base + 1, n, &self.scratch);
        for k in 0..n {
            let cv = self.cv[k];
            current_na[cv] += self.current_scale[k] * total[k];
            conductance_us[cv] += self.current_scale[k] * conductance[k];
        }
        for (j, &species) in self.ion_current_species.iter().enumerate() {
            let i_ion = self.current_tape.output(base + 2 + j, n, &self.scratch);
            let target = &mut ions.species[species].current;
            for k in 0..n {
                target[self.cv[k]] += self.ion_scale[k] * i_ion[k];
            }
        }
    }

    fn advance_states(&mut self, ctx: &StepContext, v_mv: &[f64], ions: &mut IonPool) -> Result<(), String> {
        self.load_inputs(ctx.t_ms + ctx.dt_ms, ctx, v_mv, ions);
        let n = self.width();
        match std::mem::replace(&mut self.advance, AdvanceTape::None) {
            AdvanceTape::None => {}
            AdvanceTape::Explicit { tape, outputs } => {
                let columns = &self.columns;
                tape.execute(n, |slot| columns[slot as usize].as_slice(), &mut self.scratch);
                Self::store_outputs(&mut self.columns, &tape, &outputs, n, &self.scratch);
                self.advance = AdvanceTape::Explicit { tape, outputs };
            }
            AdvanceTape::Implicit { tape, states } => {
                let result = self.solve_implicit(&tape, &states, ctx.dt_ms);
                self.advance = AdvanceTape::Implicit { tape, states };
                result?;
            }
        }
        self.write_concentrations(ions);
        Ok(())
    }

    fn deliver_event(&mut self, instance: usize, t_ms: f64, weight: f64) -> Result<(), String> {
        let Some((tape, outputs, arguments)) = self.net_receive.take() else {
            return Err(format!(
                "`{}` has no NET_RECEIVE block and cannot receive events",
                self.ir.info.name
            ));
        };
        for (k, slot) in arguments.iter().enumerate() {
            self.columns[*slot as usize][instance] = if k == 0 { weight } else { 0.0 };
        }
        self.columns[1][instance] = t_ms;
        let columns = &self.columns;
        tape.execute(
            1,
            |slot| &columns[slot as usize][instance..instance + 1],
            &mut self.scratch,
        );
        for (k, slot) in outputs.iter().enumerate() {
            self.columns[*slot as usize][instance] = tape.output(k, 1, &self.scratch)[0];
        }
        self.net_receive = Some((tape, outputs, arguments));
        Ok(())
    }

    fn check_finite(&self) -> Result<(), (String, CvIndex)> {
        for (slot, s) in self.ir.slots.iter().enumerate() {
            if s.kind != SlotKind::State {
                continue;
            }
            if let Some(k) = self.columns[slot].iter().position(|x| !x.is_finite()) {
                return Err((s.name.clone(), self.cv[k]));
            }
        }
        Ok(())
    }

    fn variable(&self, name: &str) -> Option<(&[CvIndex], &[f64])> {
        let slot = self.ir.slot(name)?;
        Some((&self.cv, &self.columns[slot as usize]))
    }
}
