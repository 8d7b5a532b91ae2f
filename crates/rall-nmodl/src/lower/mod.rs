//! Lowering: a checked module in, a [`MechanismIr`] out: statements become graph nodes, calls are inlined,
//! IF/ELSE becomes selects, SOLVE blocks become explicit (cnexp, euler) or implicit (derivimplicit, sparse, KINETIC) updates.

mod solve;
mod statements;

use crate::ast::{Body, MechanismKind, Module, Statement};
use crate::diagnostics::Diagnostic;
use crate::ir::{Advance, Differentiator, Graph, Kernel, MechanismIr, NetReceive, NodeId, Slot, SlotId, SlotKind};
use crate::sema::{MechanismInfo, SymbolKind, SymbolTable};
use statements::{Env, Lowerer};
use std::collections::HashMap;

/// Lowers a module that passed [`check_module`](crate::sema::check_module) without errors.
pub fn lower(module: &Module, table: &SymbolTable, info: &MechanismInfo) -> Result<MechanismIr, Vec<Diagnostic>> {
    let slots = build_slots(module, table);
    let slot_index: HashMap<String, SlotId> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i as SlotId))
        .collect();
    let constants: HashMap<String, f64> = table
        .of_kind(|k| *k == SymbolKind::Constant)
        .filter_map(|s| s.default.map(|v| (s.name.clone(), v)))
        .collect();
    let mut lw = Lowerer {
        module,
        graph: Graph::new(),
        slots: &slots,
        slot_index: &slot_index,
        constants: &constants,
        diagnostics: Vec::new(),
        random_draws: 0,
        guard: None,
        actions: Vec::new(),
        purity: HashMap::new(),
        inlined: HashMap::new(),
    };

    // INITIAL: states start at 0 (or at their `x0` PARAMETER) unless the block sets them, except states that are concentrations the
    // mechanism WRITEs (`cai` declared as a STATE): as in NEURON, those start from the ion's value (its
    // initial concentration, loaded into the state's slot before INITIAL runs).
    let mut env = Env::default();
    for (i, s) in slots.iter().enumerate() {
        if s.kind == SlotKind::State {
            let written_concentration = info.ions.iter().any(|u| {
                u.write.contains(&s.name) && (s.name == format!("{}i", u.ion) || s.name == format!("{}o", u.ion))
            });
            // NEURON starts a state `x` at the PARAMETER `x0` where the file declares one (cabpump's pump0).
            let start_parameter = slot_index
                .get(&format!("{}0", s.name))
                .filter(|&&p| slots[p as usize].kind == SlotKind::Parameter);
            let start = if written_concentration {
                lw.graph.input(i as SlotId)
            } else if let Some(&p) = start_parameter {
                lw.graph.input(p)
            } else {
                lw.graph.constant(0.0)
            };
            env.set(&s.name, start);
        }
    }
    let mut solve: Option<(&str, Option<&str>)> = None;
    let mut steady_block = None;
    if let Some(body) = &module.initial {
        // A closing `SOLVE ... STEADYSTATE` (sema checked it is last) runs after INITIAL's kernel.
        let mut body = body.clone();
        match body.statements.last() {
            Some(Statement::Solve {
                block,
                steady_state: true,
                ..
            }) => {
                steady_block = Some((block.text.clone(), false));
                body.statements.pop();
            }
            // A LINEAR or NONLINEAR block closing INITIAL (sema checked where it stands).
            Some(Statement::Solve { block, .. })
                if module.algebraic.iter().any(|a| a.routine.name.text == block.text) =>
            {
                steady_block = Some((block.text.clone(), true));
                body.statements.pop();
            }
            _ => {}
        }
        lw.body(&body, &mut env);
    }
    let initial = lw.outputs(&env, |k| {
        !matches!(k, SlotKind::Voltage | SlotKind::Time | SlotKind::Dt)
    });
    let initial_actions = std::mem::take(&mut lw.actions);
    let steady_state = steady_block.and_then(|(b, algebraic)| {
        if algebraic {
            lw.algebraic_system(&b)
        } else {
            lw.steady_state(&b)
        }
    });

    // BREAKPOINT: everything but SOLVE, which names the state update.
    let mut env = Env::default();
    if let Some(body) = &module.breakpoint {
        for s in &body.statements {
            if let Statement::Solve { block, method, .. } = s {
                solve = Some((block.text.as_str(), method.as_ref().map(|m| m.text.as_str())));
            }
        }
        let without_solve = Body {
            statements: body
                .statements
                .iter()
                .filter(|s| !matches!(s, Statement::Solve { .. }))
                .cloned()
                .collect(),
            span: body.span,
        };
        lw.body(&without_solve, &mut env);
    }
    lw.no_actions_outside_events(module.breakpoint.as_ref().map(|b| b.span));
    let current = lw.outputs(&env, |k| {
        matches!(
            k,
            SlotKind::Assigned | SlotKind::Pointer | SlotKind::Current { .. } | SlotKind::Ion { write: true, .. }
        )
    });
    let mut total = lw.graph.constant(0.0);
    let mut ion_currents = Vec::new();
    let mut d = Differentiator::new();
    for (i, s) in slots.iter().enumerate() {
        let node = env.get(&s.name).unwrap_or_else(|| lw.graph.input(i as u32));
        match &s.kind {
            SlotKind::Current { electrode: false } => total = lw.graph.add(total, node),
            SlotKind::Current { electrode: true } => total = lw.graph.sub(total, node),
            // A current declared as a STATE contributes its present value.
            SlotKind::State if info.nonspecific_currents.contains(&s.name) => total = lw.graph.add(total, node),
            SlotKind::State if info.electrode_currents.contains(&s.name) => total = lw.graph.sub(total, node),
            SlotKind::Ion { ion, write: true } if s.name == format!("i{ion}") => {
                total = lw.graph.add(total, node);
                let dv = d.derivative(&mut lw.graph, node, 0);
                ion_currents.push((ion.clone(), node, dv));
            }
            _ => {}
        }
    }
    let conductance = d.derivative(&mut lw.graph, total, 0);

    let mut notes = Vec::new();
    let mut algebraic = None;
    let advance = match solve {
        None => Advance::None,
        Some((name, _)) if module.algebraic.iter().any(|a| a.routine.name.text == name) => {
            algebraic = lw.algebraic_system(name);
            Advance::None
        }
        Some((name, method)) => lw.advance(name, method, &mut notes),
    };
    lw.no_actions_outside_events(module.breakpoint.as_ref().map(|b| b.span));
    // NET_RECEIVE may set the membrane voltage (`v = c`, as in NEURON, where it writes the node's voltage) and
    // the event's further arguments (per-stream state, kept between events of the same stream).
    let event_outputs = |k: &SlotKind| {
        matches!(
            k,
            SlotKind::State
                | SlotKind::Assigned
                | SlotKind::Pointer
                | SlotKind::Parameter
                | SlotKind::EventArgument
                | SlotKind::Voltage
        )
    };
    let net_receive = module.net_receive.as_ref().map(|r| {
        let initial = module.net_receive_initial.as_ref().map(|b| {
            let mut env = Env::default();
            lw.body(b, &mut env);
            lw.outputs(&env, event_outputs)
        });
        lw.no_actions_outside_events(module.net_receive_initial.as_ref().map(|b| b.span));
        let mut env = Env::default();
        lw.body(&r.body, &mut env);
        NetReceive {
            kernel: lw.outputs(&env, event_outputs),
            initial,
            actions: std::mem::take(&mut lw.actions),
        }
    });
    if !lw.diagnostics.is_empty() {
        return Err(lw.diagnostics);
    }
    let (graph, draws) = (lw.graph, lw.random_draws);
    let mut slots = slots;
    for k in 0..draws {
        slots.push(Slot {
            name: format!("normrand#{k}"),
            kind: SlotKind::Random,
            unit: None,
            default: 0.0,
            bounds: None,
        });
    }
    Ok(MechanismIr {
        info: info.clone(),
        slots,
        graph,
        initial,
        current,
        total_current: total,
        conductance,
        ion_currents,
        advance,
        net_receive,
        initial_actions,
        steady_state,
        notes,
        procedural: None,
        algebraic,
    })
}

/// One slot per variable a kernel can read or write, in a fixed order:
/// built-ins, parameters, states, assigned, ion variables, currents, event arguments.
fn build_slots(module: &Module, table: &SymbolTable) -> Vec<Slot> {
    let mut slots: Vec<Slot> = Vec::new();
    let push = |name: &str, kind: SlotKind, slots: &mut Vec<Slot>| {
        if slots.iter().any(|s| s.name == name) {
            return;
        }
        let symbol = table.get(name);
        slots.push(Slot {
            name: name.to_string(),
            kind,
            unit: symbol.and_then(|s| s.unit.clone()),
            default: symbol.and_then(|s| s.default).unwrap_or(0.0),
            bounds: symbol.and_then(|s| s.bounds),
        });
    };
    for (name, kind) in [
        ("v", SlotKind::Voltage),
        ("t", SlotKind::Time),
        ("dt", SlotKind::Dt),
        ("celsius", SlotKind::Celsius),
        ("diam", SlotKind::Diam),
        ("area", SlotKind::Area),
    ] {
        push(name, kind, &mut slots);
    }
    let kind_of = |name: &str| table.get(name).map(|s| (s.kind.clone(), s.ion.clone()));
    for d in &module.parameters {
        if let Some((SymbolKind::Parameter, _)) = kind_of(&d.name.text) {
            push(&d.name.text, SlotKind::Parameter, &mut slots);
        }
    }
    for d in &module.states {
        push(&d.name.text, SlotKind::State, &mut slots);
    }
    for d in &module.assigned {
        match kind_of(&d.name.text) {
            Some((SymbolKind::Assigned, _)) => push(&d.name.text, SlotKind::Assigned, &mut slots),
            Some((SymbolKind::Pointer, _)) => push(&d.name.text, SlotKind::Pointer, &mut slots),
            _ => {}
        }
    }
    for s in table.symbols.values() {
        match &s.kind {
            SymbolKind::Ion { ion, write } => push(
                &s.name,
                SlotKind::Ion {
                    ion: ion.clone(),
                    write: *write,
                },
                &mut slots,
            ),
            SymbolKind::Current { electrode } => push(&s.name, SlotKind::Current { electrode: *electrode }, &mut slots),
            _ => {}
        }
    }
    if let Some(r) = &module.net_receive {
        for p in &r.params {
            push(&p.text, SlotKind::EventArgument, &mut slots);
        }
        push("flag", SlotKind::EventFlag, &mut slots);
    }
    slots
}

impl Lowerer<'_> {
    /// `net_send`/`net_event` reached outside INITIAL and NET_RECEIVE (through a PROCEDURE): an error.
    fn no_actions_outside_events(&mut self, span: Option<crate::source::Span>) {
        if !self.actions.is_empty() {
            self.actions.clear();
            self.diagnostics.push(Diagnostic::error(
                span.unwrap_or_default(),
                "net_send, net_event and WATCH act only from INITIAL (net_send) and NET_RECEIVE; this block \
                 reaches one through a PROCEDURE",
            ));
        }
    }

    /// Kernel outputs: every slot of the wanted kinds that the environment assigned.
    fn outputs(&self, env: &Env, wanted: impl Fn(&SlotKind) -> bool) -> Kernel {
        let mut outputs: Vec<(SlotId, NodeId)> = Vec::new();
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(node) = env.get(&s.name)
                && wanted(&s.kind)
                && self.graph.node(node) != crate::ir::Node::Input(i as u32)
            {
                outputs.push((i as SlotId, node));
            }
        }
        Kernel { outputs }
    }
}

/// Whether the mechanism's currents are densities (mA/cm²) rather than absolute (nA).
pub fn is_density(ir: &MechanismIr) -> bool {
    *ir.kind() == MechanismKind::Density
}
