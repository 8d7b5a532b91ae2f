//! Statement lowering: statements and an environment (name → node) in, graph nodes out; calls are inlined, IF/ELSE merges by select.

use crate::ast::{BinaryOp, Body, Expr, Module, Routine, Statement, UnaryOp};
use crate::diagnostics::Diagnostic;
use crate::ir::{EventAction, EventActionKind, Func, Graph, NodeId, Slot, SlotId};
use std::collections::{HashMap, HashSet};

/// The values assigned so far in a kernel; unassigned names read their slot.
#[derive(Clone, Debug, Default)]
pub(crate) struct Env {
    values: HashMap<String, NodeId>,
    /// LOCAL variables and routine arguments: never kernel outputs.
    locals: HashSet<String>,
}

impl Env {
    pub fn get(&self, name: &str) -> Option<NodeId> {
        self.values.get(name).copied()
    }

    pub fn set(&mut self, name: &str, node: NodeId) {
        self.values.insert(name.to_string(), node);
    }

    pub fn is_local(&self, name: &str) -> bool {
        self.locals.contains(name)
    }
}

/// A pure FUNCTION call: the function, its argument nodes, and every variable's node at the call.
pub(crate) type CallKey = (String, Vec<NodeId>, Vec<(String, NodeId)>);

pub(crate) struct Lowerer<'a> {
    pub module: &'a Module,
    pub graph: Graph,
    pub slots: &'a [Slot],
    pub slot_index: &'a HashMap<String, SlotId>,
    pub constants: &'a HashMap<String, f64>,
    pub diagnostics: Vec<Diagnostic>,
    /// `normrand` calls lowered so far: call `k` reads the random slot `slots.len() + k`.
    pub random_draws: u32,
    /// The conditions of the IF branches being lowered, as one node (1 outside any IF).
    pub guard: Option<NodeId>,
    /// Event actions (`net_send`, `net_event`, WATCH) lowered since the caller last took them.
    pub actions: Vec<EventAction>,
    /// Which FUNCTIONs are pure (see [`Lowerer::is_pure`]), and the result of each pure call so far by
    /// (function, argument nodes, the variables' nodes at the call).
    pub purity: HashMap<String, bool>,
    pub inlined: HashMap<CallKey, NodeId>,
}

impl Lowerer<'_> {
    pub fn body(&mut self, body: &Body, env: &mut Env) {
        for s in &body.statements {
            self.statement(s, env);
        }
    }

    pub fn statement(&mut self, s: &Statement, env: &mut Env) {
        match s {
            Statement::Local(names) => {
                for n in names {
                    let zero = self.graph.constant(0.0);
                    env.locals.insert(n.text.clone());
                    env.set(&n.text, zero);
                }
            }
            Statement::Assign { target, value } => {
                let node = self.expr(value, env);
                env.set(&target.text, node);
            }
            Statement::If {
                condition,
                then,
                otherwise,
            } => {
                let c = self.expr(condition, env);
                let outer = self.guard;
                let not_c = self.graph.not(c);
                let mut then_env = env.clone();
                self.guard = Some(outer.map_or(c, |g| self.graph.and(g, c)));
                self.body(then, &mut then_env);
                let mut else_env = env.clone();
                if let Some(o) = otherwise {
                    self.guard = Some(outer.map_or(not_c, |g| self.graph.and(g, not_c)));
                    self.body(o, &mut else_env);
                }
                self.guard = outer;
                let names: HashSet<&String> = then_env.values.keys().chain(else_env.values.keys()).collect();
                let mut merged = Vec::new();
                for name in names {
                    if !env.values.contains_key(name) && (then_env.is_local(name) || else_env.is_local(name)) {
                        continue; // a LOCAL declared inside one branch
                    }
                    let a = then_env.get(name).unwrap_or_else(|| self.read(name, env));
                    let b = else_env.get(name).unwrap_or_else(|| self.read(name, env));
                    merged.push((name.clone(), self.graph.select(c, a, b)));
                }
                for (name, node) in merged {
                    env.set(&name, node);
                }
            }
            Statement::Call { name, args } if name.text == "state_discontinuity" => {
                // Sets the variable at the event (NEURON's fixed step: an assignment).
                if let Some(crate::ast::Expr::Name(target)) = args.first() {
                    let value = self.expr(&args[1], env);
                    env.set(&target.text, value);
                }
            }
            Statement::Call { name, args } if matches!(name.text.as_str(), "net_send" | "net_event" | "net_move") => {
                let values: Vec<NodeId> = args.iter().map(|a| self.expr(a, env)).collect();
                let kind = match name.text.as_str() {
                    "net_send" => EventActionKind::Send {
                        delay: values[0],
                        flag: values[1],
                    },
                    "net_event" => EventActionKind::Spike { time: values[0] },
                    _ => EventActionKind::Move { time: values[0] },
                };
                self.push_action(kind);
            }
            Statement::Watch { conditions, .. } => {
                for (condition, flag) in conditions {
                    // The watched value is positive when the condition holds: `a - b` for `a > b`.
                    let crate::ast::Expr::Binary(op, a, b, _) = condition else {
                        continue;
                    };
                    let (a, b) = (self.expr(a, env), self.expr(b, env));
                    let value = match op {
                        BinaryOp::Lt | BinaryOp::Le => self.graph.sub(b, a),
                        _ => self.graph.sub(a, b),
                    };
                    let flag = self.expr(flag, env);
                    self.push_action(EventActionKind::Watch { value, flag });
                }
            }
            Statement::Call { name, args } => {
                let args: Vec<NodeId> = args.iter().map(|a| self.expr(a, env)).collect();
                if let Some(p) = self.module.procedures.iter().find(|p| p.name.text == name.text) {
                    self.inline(p, &args, env, false);
                }
            }
            Statement::Solve { block, .. } => {
                // Reached only through a FUNCTION or PROCEDURE (BREAKPOINT's SOLVE is taken out first).
                self.diagnostics.push(Diagnostic::error(
                    block.span,
                    "a SOLVE inside a FUNCTION or PROCEDURE that the mechanism calls is not supported by rall",
                ));
            }
            // TABLE, units and kinetic statements are handled by their blocks' lowering.
            _ => {}
        }
    }

    /// Whether a FUNCTION assigns only its arguments, locals and result, and calls only such functions and
    /// deterministic built-ins (no PROCEDURE, `normrand` or event call).
    fn is_pure(&mut self, function: &str) -> bool {
        if let Some(&p) = self.purity.get(function) {
            return p;
        }
        self.purity.insert(function.to_string(), false); // recursion is rejected before lowering
        let Some(f) = self.module.functions.iter().find(|f| f.name.text == function) else {
            return false;
        };
        let mut own: Vec<String> = f.params.iter().map(|p| p.text.clone()).collect();
        own.push(f.name.text.clone());
        collect_locals(&f.body, &mut own);
        let mut calls = Vec::new();
        let pure = body_is_pure(&f.body, &own, &mut calls)
            && calls.iter().all(|c| {
                if self.module.functions.iter().any(|g| g.name.text == *c) {
                    self.is_pure(c)
                } else {
                    !self.module.procedures.iter().any(|p| p.name.text == *c)
                        && !matches!(
                            c.as_str(),
                            "normrand" | "net_send" | "net_event" | "net_move" | "state_discontinuity"
                        )
                }
            });
        self.purity.insert(function.to_string(), pure);
        pure
    }

    fn push_action(&mut self, kind: EventActionKind) {
        let guard = self.guard.unwrap_or_else(|| self.graph.constant(1.0));
        self.actions.push(EventAction { guard, kind });
    }

    /// Inlines a PROCEDURE or FUNCTION: arguments and locals are scoped to
    /// the call, other assignments reach the caller. Returns a FUNCTION's value.
    fn inline(&mut self, routine: &Routine, args: &[NodeId], env: &mut Env, function: bool) -> NodeId {
        let mut scoped: Vec<String> = routine.params.iter().map(|p| p.text.clone()).collect();
        if function {
            scoped.push(routine.name.text.clone());
        }
        collect_locals(&routine.body, &mut scoped);
        let saved: Vec<(String, Option<NodeId>, bool)> = scoped
            .iter()
            .map(|n| (n.clone(), env.get(n), env.is_local(n)))
            .collect();
        for (p, a) in routine.params.iter().zip(args) {
            env.set(&p.text, *a);
            env.locals.insert(p.text.clone());
        }
        if function {
            let zero = self.graph.constant(0.0);
            env.set(&routine.name.text, zero);
            env.locals.insert(routine.name.text.clone());
        }
        self.body(&routine.body, env);
        let result = if function {
            env.get(&routine.name.text).unwrap()
        } else {
            self.graph.constant(0.0)
        };
        for (name, value, was_local) in saved {
            match value {
                Some(v) => env.set(&name, v),
                None => {
                    env.values.remove(&name);
                }
            }
            if !was_local {
                env.locals.remove(&name);
            }
        }
        result
    }

    /// A name's current value: assigned in this kernel, else its slot, else a constant.
    pub fn read(&mut self, name: &str, env: &Env) -> NodeId {
        if let Some(n) = env.get(name) {
            return n;
        }
        if let Some(&slot) = self.slot_index.get(name) {
            return self.graph.input(slot);
        }
        if let Some(&c) = self.constants.get(name) {
            return self.graph.constant(c);
        }
        match name {
            "PI" => self.graph.constant(std::f64::consts::PI),
            "FARADAY" => self.graph.constant(96485.33212331001),
            "R" => self.graph.constant(8.31446261815324),
            _ => {
                self.diagnostics.push(Diagnostic::error(
                    Default::default(),
                    format!("internal: `{name}` has no value"),
                ));
                self.graph.constant(f64::NAN)
            }
        }
    }

    pub fn expr(&mut self, e: &Expr, env: &mut Env) -> NodeId {
        match e {
            Expr::Number(x, _) => self.graph.constant(*x),
            Expr::Name(n) => self.read(&n.text, env),
            Expr::Unary(op, a, _) => {
                let a = self.expr(a, env);
                match op {
                    UnaryOp::Neg => self.graph.neg(a),
                    UnaryOp::Not => self.graph.not(a),
                }
            }
            Expr::Binary(op, a, b, _) => {
                let (a, b) = (self.expr(a, env), self.expr(b, env));
                let gr = &mut self.graph;
                match op {
                    BinaryOp::Add => gr.add(a, b),
                    BinaryOp::Sub => gr.sub(a, b),
                    BinaryOp::Mul => gr.mul(a, b),
                    BinaryOp::Div => gr.div(a, b),
                    BinaryOp::Pow => gr.pow(a, b),
                    BinaryOp::Lt => gr.lt(a, b),
                    BinaryOp::Le => gr.le(a, b),
                    BinaryOp::Gt => gr.lt(b, a),
                    BinaryOp::Ge => gr.le(b, a),
                    BinaryOp::Eq => gr.eq(a, b),
                    BinaryOp::Ne => {
                        let e = gr.eq(a, b);
                        gr.not(e)
                    }
                    BinaryOp::And => gr.and(a, b),
                    BinaryOp::Or => gr.or(a, b),
                }
            }
            Expr::Call(name, args, span) => {
                let args: Vec<NodeId> = args.iter().map(|a| self.expr(a, env)).collect();
                if let Some(f) = self.module.functions.iter().find(|f| f.name.text == name.text) {
                    // A FUNCTION that sets nothing outside itself gives the same node for the same arguments
                    // and variables: inlined once (nested calls would otherwise multiply at every level).
                    if !self.is_pure(&f.name.text) {
                        return self.inline(f, &args, env, true);
                    }
                    let mut seen: Vec<(String, NodeId)> = env.values.iter().map(|(k, v)| (k.clone(), *v)).collect();
                    seen.sort_unstable();
                    let key = (f.name.text.clone(), args.clone(), seen);
                    if let Some(&node) = self.inlined.get(&key) {
                        return node;
                    }
                    let node = self.inline(f, &args, env, true);
                    self.inlined.insert(key, node);
                    return node;
                }
                self.builtin(&name.text, &args, *span)
            }
        }
    }

    fn builtin(&mut self, name: &str, args: &[NodeId], span: crate::source::Span) -> NodeId {
        let g = &mut self.graph;
        let one = |f: Func, g: &mut Graph| g.call1(f, args[0]);
        match name {
            "exp" => one(Func::Exp, g),
            "expm1" => one(Func::Expm1, g),
            "log" => one(Func::Log, g),
            "log10" => one(Func::Log10, g),
            "sqrt" => one(Func::Sqrt, g),
            "fabs" => one(Func::Fabs, g),
            "sin" => one(Func::Sin, g),
            "cos" => one(Func::Cos, g),
            "tan" => one(Func::Tan, g),
            "tanh" => one(Func::Tanh, g),
            "floor" => one(Func::Floor, g),
            "ceil" => one(Func::Ceil, g),
            "pow" => g.pow(args[0], args[1]),
            "min" => g.call2(Func::Min, args[0], args[1]),
            "max" => g.call2(Func::Max, args[0], args[1]),
            "atan2" => g.call2(Func::Atan2, args[0], args[1]),
            // A discontinuity notice for variable-step integrators: nothing to do at a fixed step (NEURON's
            // fixed step ignores it too), and its value is 0.
            "at_time" => g.constant(0.0),
            "normrand" => {
                // mean + sd · ξ, ξ a fresh standard normal sample per instance and step (a random slot).
                let xi = g.input(self.slots.len() as SlotId + self.random_draws);
                self.random_draws += 1;
                let spread = g.mul(args[1], xi);
                g.add(args[0], spread)
            }
            "exprelr" => {
                // x / (exp(x) - 1), 1 at 0: the reciprocal of exprel.
                let e = g.call1(Func::Exprel, args[0]);
                let unit = g.constant(1.0);
                g.div(unit, e)
            }
            other => {
                self.diagnostics
                    .push(Diagnostic::error(span, format!("unknown function `{other}`")));
                self.graph.constant(f64::NAN)
            }
        }
    }
}

/// Whether `body` assigns only `own` names (collecting the names it calls).
fn body_is_pure(body: &Body, own: &[String], calls: &mut Vec<String>) -> bool {
    fn expr(e: &Expr, calls: &mut Vec<String>) {
        match e {
            Expr::Call(n, args, _) => {
                calls.push(n.text.clone());
                args.iter().for_each(|a| expr(a, calls));
            }
            Expr::Unary(_, a, _) => expr(a, calls),
            Expr::Binary(_, a, b, _) => {
                expr(a, calls);
                expr(b, calls);
            }
            _ => {}
        }
    }
    body.statements.iter().all(|s| match s {
        Statement::Local(_) | Statement::Table { .. } | Statement::UnitsToggle => true,
        Statement::Assign { target, value } => {
            expr(value, calls);
            own.contains(&target.text)
        }
        Statement::If {
            condition,
            then,
            otherwise,
        } => {
            expr(condition, calls);
            body_is_pure(then, own, calls) && otherwise.as_ref().is_none_or(|o| body_is_pure(o, own, calls))
        }
        _ => false,
    })
}

fn collect_locals(body: &Body, out: &mut Vec<String>) {
    for s in &body.statements {
        match s {
            Statement::Local(names) => out.extend(names.iter().map(|n| n.text.clone())),
            Statement::If { then, otherwise, .. } => {
                collect_locals(then, out);
                if let Some(o) = otherwise {
                    collect_locals(o, out);
                }
            }
            _ => {}
        }
    }
}
