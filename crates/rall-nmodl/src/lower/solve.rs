//! SOLVE lowering: a DERIVATIVE, KINETIC or PROCEDURE block and its METHOD in, an [`Advance`] out
//! (cnexp's exact exponential update, forward Euler, the implicit system with its symbolic Jacobian, or the
//! procedure's assignments after the voltage update).

use super::statements::{Env, Lowerer};
use crate::ast::{BinaryOp, Expr};
use crate::ast::{Body, Statement};
use crate::diagnostics::Diagnostic;
use crate::ir::{Advance, Differentiator, Func, Graph, Kernel, Node, NodeId, SlotId, SlotKind, SteadyState};
use std::collections::HashMap;

impl Lowerer<'_> {
    /// A LINEAR or NONLINEAR block as an algebraic system: its unknowns (SOLVEFOR, or the STATEs its equations
    /// name, in order of appearance), each equation `lhs - rhs = 0` with its gradient as a replaced row (no
    /// rates), and the ASSIGNED values the block sets. Solved by Newton's method from the present values (one
    /// step for a LINEAR block).
    pub(super) fn algebraic_system(&mut self, block: &str) -> Option<SteadyState> {
        let a = self.module.algebraic.iter().find(|a| a.routine.name.text == block)?;
        let mut env = Env::default();
        let mut equations = Vec::new();
        let mut named = Vec::new();
        for st in &a.routine.body.statements {
            match st {
                Statement::Equation { left, right, .. } => {
                    for e in [left, right] {
                        state_names(e, &mut named);
                    }
                    let (l, r) = (self.expr(left, &mut env), self.expr(right, &mut env));
                    equations.push(self.graph.sub(l, r));
                }
                other => self.statement(other, &mut env),
            }
        }
        let unknowns: Vec<String> = if a.solve_for.is_empty() {
            named
                .into_iter()
                .filter(|n| {
                    self.slot_index
                        .get(n)
                        .is_some_and(|&s| self.slots[s as usize].kind == SlotKind::State)
                })
                .collect()
        } else {
            a.solve_for.iter().map(|n| n.text.clone()).collect()
        };
        if unknowns.len() != equations.len() {
            let kind = if a.nonlinear { "NONLINEAR" } else { "LINEAR" };
            self.diagnostics.push(Diagnostic::error(
                a.routine.name.span,
                format!(
                    "the {kind} block `{block}` has {} equations for {} unknowns ({}); give as many equations \
                     as unknowns (the STATEs they name, or SOLVEFOR)",
                    equations.len(),
                    unknowns.len(),
                    unknowns.join(", ")
                ),
            ));
            return None;
        }
        let states: Vec<SlotId> = unknowns
            .iter()
            .filter_map(|n| self.slot_index.get(n).copied())
            .collect();
        let zero = self.graph.constant(0.0);
        let m = states.len();
        let mut d = Differentiator::new();
        let conserve = equations
            .iter()
            .enumerate()
            .map(|(row, &g)| {
                let gradient = states.iter().map(|&s| d.derivative(&mut self.graph, g, s)).collect();
                (row, g, gradient)
            })
            .collect();
        let assigned = self
            .outputs(&env, |k| *k == SlotKind::Assigned)
            .outputs
            .into_iter()
            .filter(|(s, _)| !states.contains(s))
            .collect();
        Some(SteadyState {
            states,
            rates: vec![zero; m],
            jacobian: vec![zero; m * m],
            assigned,
            conserve,
        })
    }

    pub(super) fn advance(&mut self, block: &str, method: Option<&str>, notes: &mut Vec<String>) -> Advance {
        if let Some(r) = self.module.kinetics.iter().find(|r| r.name.text == block) {
            return self.kinetic(&r.body);
        }
        if let Some(r) = self.module.procedures.iter().find(|r| r.name.text == block) {
            // The procedure runs after the voltage update; what it assigns is kept.
            let mut env = Env::default();
            let call = Statement::Call {
                name: r.name.clone(),
                args: Vec::new(),
            };
            self.statement(&call, &mut env);
            return Advance::Explicit(self.outputs(&env, |k| {
                matches!(k, SlotKind::State | SlotKind::Assigned | SlotKind::Current { .. })
            }));
        }
        let Some(r) = self.module.derivatives.iter().find(|r| r.name.text == block) else {
            return Advance::None;
        };
        let body = r.body.clone();
        match method {
            Some("cnexp") | None => match self.cnexp(&body) {
                Some(kernel) => Advance::Explicit(kernel),
                None => {
                    notes.push(format!("`{block}` is not linear in its states, so cnexp cannot apply; solved implicitly (as derivimplicit)"));
                    self.implicit(&body)
                }
            },
            Some("euler") => Advance::Explicit(self.euler(&body)),
            _ => self.implicit(&body),
        }
    }

    fn state_slot(&self, name: &str) -> SlotId {
        self.slot_index[name]
    }

    /// `s' = a + b s` over one step: `s + dt · exprel(b dt) · (a + b s)`, the exact solution
    /// for fixed `a` and `b` (written `s + expm1(b dt) · (a + b s) / b` where that quotient cancels without a
    /// division); `None` when some `b` depends on its own state (not linear).
    fn cnexp(&mut self, body: &Body) -> Option<Kernel> {
        let mut d = Differentiator::new();
        self.explicit(body, |l, f, slot, dt| {
            let b = d.derivative(&mut l.graph, f, slot);
            if l.graph.depends_on(b, slot) {
                return None;
            }
            Some(if l.graph.as_const(b) == Some(0.0) {
                l.graph.mul(dt, f)
            } else {
                let bdt = l.graph.mul(b, dt);
                match quotient_without_division(&mut l.graph, f, b) {
                    // A gate, `(inf - s) / tau` with `b = -1/tau`: `expm1(b dt) · (s - inf)`, NEURON's own form,
                    // with no division left (`f / b` would cost one per state and instance).
                    Some(ratio) => {
                        let factor = l.graph.call1(Func::Expm1, bdt);
                        l.graph.mul(factor, ratio)
                    }
                    None => {
                        let factor = l.graph.call1(Func::Exprel, bdt);
                        let scaled = l.graph.mul(dt, factor);
                        l.graph.mul(scaled, f)
                    }
                }
            })
        })
    }

    /// Forward Euler: `s + dt f(s)`.
    fn euler(&mut self, body: &Body) -> Kernel {
        self.explicit(body, |l, f, _, dt| Some(l.graph.mul(dt, f)))
            .expect("forward Euler applies to any block")
    }

    /// An explicit update `s + step(f, s, dt)` of each state, in statement order as NEURON does (a later
    /// equation sees the earlier states' new values); `None` if `step` declines a state.
    fn explicit(
        &mut self,
        body: &Body,
        mut step: impl FnMut(&mut Self, NodeId, SlotId, NodeId) -> Option<NodeId>,
    ) -> Option<Kernel> {
        let mut env = Env::default();
        let dt = self.graph.input(self.slot_index["dt"]);
        let mut updated = Vec::new();
        for s in &body.statements {
            match s {
                Statement::Derivative { state, value } => {
                    let slot = self.state_slot(&state.text);
                    let f = self.expr(value, &mut env);
                    let change = step(self, f, slot, dt)?;
                    let old = self.graph.input(slot);
                    let new = self.graph.add(old, change);
                    env.set(&state.text, new);
                    updated.push((slot, new));
                }
                other => self.statement(other, &mut env),
            }
        }
        Some(self.explicit_kernel(&env, updated))
    }

    /// State updates plus the assigned values and written concentrations (cabpump's `cai = ca[0]`) the block
    /// computed.
    fn explicit_kernel(&self, env: &Env, updated: Vec<(SlotId, NodeId)>) -> Kernel {
        let mut outputs = updated;
        for (i, s) in self.slots.iter().enumerate() {
            let concentration = match &s.kind {
                SlotKind::Ion { ion, write: true } => s.name == format!("{ion}i") || s.name == format!("{ion}o"),
                _ => false,
            };
            if (s.kind == SlotKind::Assigned || concentration)
                && !env.is_local(&s.name)
                && let Some(n) = env.get(&s.name)
            {
                outputs.push((i as SlotId, n));
            }
        }
        Kernel { outputs }
    }

    /// Backward Euler on the DERIVATIVE block's right-hand sides.
    fn implicit(&mut self, body: &Body) -> Advance {
        let mut env = Env::default();
        let mut rates: Vec<(SlotId, NodeId)> = Vec::new();
        for s in &body.statements {
            match s {
                Statement::Derivative { state, value } => {
                    let f = self.expr(value, &mut env);
                    rates.push((self.state_slot(&state.text), f));
                }
                other => self.statement(other, &mut env),
            }
        }
        self.implicit_system(rates, &env)
    }

    fn implicit_system(&mut self, rates: Vec<(SlotId, NodeId)>, env: &Env) -> Advance {
        let mut d = Differentiator::new();
        let states: Vec<SlotId> = rates.iter().map(|(s, _)| *s).collect();
        let mut jacobian = Vec::with_capacity(states.len() * states.len());
        for (_, f) in &rates {
            for &s in &states {
                jacobian.push(d.derivative(&mut self.graph, *f, s));
            }
        }
        let assigned = self
            .explicit_kernel(env, Vec::new())
            .outputs
            .into_iter()
            .filter(|(s, _)| !states.contains(s))
            .collect();
        Advance::Implicit {
            states,
            rates: rates.into_iter().map(|(_, f)| f).collect(),
            jacobian,
            assigned,
        }
    }

    /// The steady state of KINETIC block `block`, its CONSERVE statements as equations (NEURON: each state on
    /// the left times its COMPARTMENT volume; the last one's equation is replaced).
    pub(super) fn steady_state(&mut self, block: &str) -> Option<SteadyState> {
        let r = self.module.kinetics.iter().find(|r| r.name.text == block)?;
        let (advance, volume, env) = self.kinetic_system(&r.body.clone());
        let Advance::Implicit {
            states,
            rates,
            jacobian,
            assigned,
        } = advance
        else {
            return None;
        };
        let mut conserve = Vec::new();
        let mut env = env;
        for st in &r.body.statements {
            let Statement::Conserve { left, right, span } = st else {
                continue;
            };
            let mut terms = Vec::new();
            if !conserved_terms(left, &mut terms) {
                self.diagnostics.push(Diagnostic::error(
                    *span,
                    "CONSERVE's left side must be a sum of states, each optionally times a number",
                ));
                continue;
            }
            let total = self.expr(right, &mut env);
            let zero = self.graph.constant(0.0);
            let mut g = self.graph.sub(zero, total);
            let mut last = None;
            for (c, name) in terms {
                let Some(&slot) = self.slot_index.get(&name) else {
                    continue;
                };
                let Some(row) = states.iter().position(|&s| s == slot) else {
                    continue;
                };
                let k = self.graph.constant(c);
                let s = self.graph.input(slot);
                let mut term = self.graph.mul(k, s);
                if let Some(&v) = volume.get(&slot) {
                    term = self.graph.mul(term, v);
                }
                g = self.graph.add(g, term);
                last = Some(row);
            }
            let Some(row) = last else { continue };
            let mut d = Differentiator::new();
            let gradient = states.iter().map(|&s| d.derivative(&mut self.graph, g, s)).collect();
            conserve.push((row, g, gradient));
        }
        Some(SteadyState {
            states,
            rates,
            jacobian,
            assigned,
            conserve,
        })
    }

    /// KINETIC: reactions and fluxes become `d(vol·s)/dt` for each state; CONSERVE is implied by the
    /// reactions (backward Euler conserves what the reactions conserve) and is imposed only in a steady-state
    /// solve (where the starting states need not satisfy it).
    fn kinetic(&mut self, body: &Body) -> Advance {
        self.kinetic_system(body).0
    }

    /// The KINETIC system, the COMPARTMENT volume of each state, and the block's final environment.
    fn kinetic_system(&mut self, body: &Body) -> (Advance, HashMap<SlotId, NodeId>, Env) {
        let mut env = Env::default();
        let mut rate: HashMap<SlotId, NodeId> = HashMap::new();
        let mut order: Vec<SlotId> = Vec::new();
        let mut volume: HashMap<SlotId, NodeId> = HashMap::new();
        let zero = self.graph.constant(0.0);
        let is_state = |l: &Self, name: &str| {
            l.slot_index
                .get(name)
                .is_some_and(|&s| l.slots[s as usize].kind == SlotKind::State)
        };
        for st in &body.statements {
            match st {
                Statement::Compartment { volume: v, states, .. } => {
                    let node = self.expr(v, &mut env);
                    for n in states {
                        if is_state(self, &n.text) {
                            volume.insert(self.state_slot(&n.text), node);
                        }
                    }
                }
                Statement::Reaction {
                    left,
                    right,
                    forward,
                    backward,
                    ..
                } => {
                    let flux = |side: &[(f64, crate::ast::Name)], k: NodeId, l: &mut Self, env: &Env| {
                        let mut f = k;
                        for (c, n) in side {
                            let conc = l.read(&n.text, env);
                            let power = if *c == 1.0 {
                                conc
                            } else {
                                let e = l.graph.constant(*c);
                                l.graph.pow(conc, e)
                            };
                            f = l.graph.mul(f, power);
                        }
                        f
                    };
                    let kf = self.expr(forward, &mut env);
                    let ff = flux(left, kf, self, &env);
                    let bf = match backward {
                        Some(b) => {
                            let kb = self.expr(b, &mut env);
                            flux(right, kb, self, &env)
                        }
                        None => zero,
                    };
                    env.set("f_flux", ff);
                    env.set("b_flux", bf);
                    let net = self.graph.sub(ff, bf);
                    for (sign, side) in [(-1.0, left), (1.0, right)] {
                        for (c, n) in side.iter() {
                            if !is_state(self, &n.text) {
                                continue;
                            }
                            let slot = self.state_slot(&n.text);
                            let k = self.graph.constant(sign * c);
                            let term = self.graph.mul(k, net);
                            let entry = rate.entry(slot).or_insert_with(|| {
                                order.push(slot);
                                zero
                            });
                            *entry = self.graph.add(*entry, term);
                        }
                    }
                }
                Statement::Flux { state, flux, .. } => {
                    let f = self.expr(flux, &mut env);
                    if is_state(self, &state.text) {
                        let slot = self.state_slot(&state.text);
                        let entry = rate.entry(slot).or_insert_with(|| {
                            order.push(slot);
                            zero
                        });
                        *entry = self.graph.add(*entry, f);
                    }
                }
                Statement::Conserve { .. } => {}
                Statement::Derivative { state, .. } => {
                    self.diagnostics.push(Diagnostic::error(
                        state.span,
                        "`x' =` in a KINETIC block is not supported by rall",
                    ));
                }
                other => self.statement(other, &mut env),
            }
        }
        let rates = order
            .into_iter()
            .map(|s| {
                let r = rate[&s];
                (s, volume.get(&s).map_or(r, |&v| self.graph.div(r, v)))
            })
            .collect();
        let system = self.implicit_system(rates, &env);
        (system, volume, env)
    }
}

/// The terms `(coefficient, state)` of a CONSERVE left side such as `pump + 2*pumpca`.
fn conserved_terms(e: &Expr, out: &mut Vec<(f64, String)>) -> bool {
    match e {
        Expr::Binary(BinaryOp::Add, a, b, _) => conserved_terms(a, out) && conserved_terms(b, out),
        Expr::Name(n) => {
            out.push((1.0, n.text.clone()));
            true
        }
        Expr::Binary(BinaryOp::Mul, a, b, _) => match (a.as_ref(), b.as_ref()) {
            (Expr::Number(c, _), Expr::Name(n)) | (Expr::Name(n), Expr::Number(c, _)) => {
                out.push((*c, n.text.clone()));
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The names an expression reads, in order of first appearance.
fn state_names(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Number(..) => {}
        Expr::Name(n) => {
            if !out.contains(&n.text) {
                out.push(n.text.clone());
            }
        }
        Expr::Call(_, args, _) => args.iter().for_each(|a| state_names(a, out)),
        Expr::Unary(_, a, _) => state_names(a, out),
        Expr::Binary(_, a, b, _) => {
            state_names(a, out);
            state_names(b, out);
        }
    }
}

/// `f / b` when `f` is a multiple of `b` by their structure, so the quotient needs no division: `b` is `c · K`
/// (`-K`, `c * K`) or `c / T`, and `f` is `x · K` or `x / T` with the same node `K` or `T`; then `f / b = x / c`.
/// `None` otherwise. (Where `K` is zero `f / b` is 0/0 while this gives `x / c`; the cnexp update uses it only
/// multiplied by `expm1(b dt)`, which is then 0, as the exact solution's change is.)
fn quotient_without_division(graph: &mut Graph, f: NodeId, b: NodeId) -> Option<NodeId> {
    enum Factor {
        Times(NodeId),
        Over(NodeId),
    }
    let (c, factor) = match graph.node(b) {
        Node::Neg(k) => (-1.0, Factor::Times(k)),
        Node::Mul(p, q) => match (graph.as_const(p), graph.as_const(q)) {
            (Some(c), _) => (c, Factor::Times(q)),
            (_, Some(c)) => (c, Factor::Times(p)),
            _ => (1.0, Factor::Times(b)),
        },
        Node::Div(p, t) => (graph.as_const(p)?, Factor::Over(t)),
        _ => (1.0, Factor::Times(b)),
    };
    if c == 0.0 || !c.is_finite() {
        return None;
    }
    let x = match (graph.node(f), factor) {
        (Node::Mul(p, q), Factor::Times(k)) if q == k => p,
        (Node::Mul(p, q), Factor::Times(k)) if p == k => q,
        (Node::Div(x, t), Factor::Over(u)) if t == u => x,
        _ => return None,
    };
    let c = graph.constant(c);
    Some(graph.div(x, c))
}
