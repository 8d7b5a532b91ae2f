//! One pass over a module: builds its symbol table and checks every block's names, assignments, ions and calls.

use super::reach::{check_verbatim, collect_assignments};
use super::symbols::*;
use crate::ast::*;
use crate::diagnostics::{Diagnostic, did_you_mean};
use std::collections::BTreeSet;

/// Calls that schedule or emit events, or set a state at an event, with their arities.
pub(crate) const EVENT_CALLS: [(&str, usize); 4] = [
    ("net_send", 2),
    ("net_event", 1),
    ("net_move", 1),
    ("state_discontinuity", 2),
];

/// Where a body sits, which decides what it may assign.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    Initial,
    Breakpoint,
    Derivative,
    Kinetic,
    Algebraic,
    Routine,
    NetReceive,
}

/// Builds the symbol table and the mechanism's interface; pushes every problem into `diagnostics`.
pub fn check_module(module: &Module, diagnostics: &mut Vec<Diagnostic>) -> Option<(SymbolTable, MechanismInfo)> {
    // A syntax error drops the rest of its statement or block, so what the file "never assigns" is unknown.
    let syntax_errors = diagnostics.iter().any(Diagnostic::is_error);
    let Some(neuron) = &module.neuron else {
        diagnostics.push(Diagnostic::error(
            Default::default(),
            "the file has no NEURON block (SUFFIX or POINT_PROCESS)",
        ));
        return None;
    };
    // An ARTIFICIAL_CELL has no membrane (NEURON keeps it off the cable): no currents, no ions.
    if neuron.kind == MechanismKind::ArtificialCell {
        let membrane = neuron.ions.first().map(|u| (&u.ion, "uses an ion")).or_else(|| {
            neuron
                .nonspecific_currents
                .iter()
                .chain(&neuron.electrode_currents)
                .next()
                .map(|n| (n, "has a current"))
        });
        if let Some((name, what)) = membrane {
            diagnostics.push(Diagnostic::error(
                name.span,
                format!("an ARTIFICIAL_CELL has no membrane, but this one {what}; make it a POINT_PROCESS"),
            ));
        }
    }
    let mut table = SymbolTable::default();
    let mut declare = |name: &Name, kind: SymbolKind, d: Option<&VarDecl>, diagnostics: &mut Vec<Diagnostic>| {
        if let Some(previous) = table.symbols.get(&name.text) {
            // A variable may be listed in USEION and declared in ASSIGNED/PARAMETER: keep the ion role.
            let ion_redeclared = matches!(previous.kind, SymbolKind::Ion { .. } | SymbolKind::Current { .. })
                && matches!(kind, SymbolKind::Assigned | SymbolKind::Parameter);
            let builtin_redeclared =
                previous.kind == SymbolKind::Builtin && matches!(kind, SymbolKind::Assigned | SymbolKind::Parameter);
            let ion_state = matches!(previous.kind, SymbolKind::Ion { .. }) && kind == SymbolKind::State;
            // A current that is itself a STATE (PyNN's ExpISyn: `i' = -i/tau`): a state whose value is the
            // current (MechanismInfo's current lists still name it).
            let current_state = matches!(previous.kind, SymbolKind::Current { .. }) && kind == SymbolKind::State;
            if current_state {
                let s = table.symbols.get_mut(&name.text).unwrap();
                s.kind = SymbolKind::State;
                if let Some(d) = d {
                    s.unit = d.unit.clone().or(s.unit.take());
                }
                return;
            }
            if let (SymbolKind::Ion { .. }, SymbolKind::Ion { write: true, .. }) = (&previous.kind, &kind) {
                // Listed under both READ and WRITE.
                table.symbols.get_mut(&name.text).unwrap().kind = kind;
                return;
            }
            if ion_redeclared || builtin_redeclared || ion_state {
                let s = table.symbols.get_mut(&name.text).unwrap();
                if ion_state {
                    if let SymbolKind::Ion { ion, write } = &s.kind {
                        s.ion = Some((ion.clone(), *write));
                    }
                    s.kind = SymbolKind::State;
                }
                if let Some(d) = d {
                    s.unit = d.unit.clone().or(s.unit.take());
                    s.default = d.value.or(s.default);
                }
                return;
            }
            diagnostics.push(Diagnostic::error(
                name.span,
                format!("`{}` is declared twice", name.text),
            ));
            return;
        }
        table.symbols.insert(
            name.text.clone(),
            Symbol {
                name: name.text.clone(),
                kind,
                unit: d.and_then(|d| d.unit.clone()),
                default: d.and_then(|d| d.value),
                bounds: d.and_then(|d| d.bounds),
                span: name.span,
                ion: None,
            },
        );
    };
    for b in BUILTINS {
        declare(
            &Name::new(b.to_string(), Default::default()),
            SymbolKind::Builtin,
            None,
            diagnostics,
        );
    }
    let mut ions = Vec::new();
    for u in &neuron.ions {
        let ion = &u.ion.text;
        let valid = [
            format!("e{ion}"),
            format!("i{ion}"),
            format!("{ion}i"),
            format!("{ion}o"),
        ];
        for (names, write) in [(&u.read, false), (&u.write, true)] {
            for n in names {
                if !valid.contains(&n.text) {
                    diagnostics.push(
                        Diagnostic::error(n.span, format!("`{}` is not a variable of ion `{ion}`", n.text))
                            .with_note(format!("ion variables are {}", valid.join(", "))),
                    );
                    continue;
                }
                if write && n.text == format!("e{ion}") {
                    diagnostics.push(Diagnostic::error(
                        n.span,
                        format!("writing the reversal potential `{}` is not supported by rall", n.text),
                    ));
                }
                declare(
                    n,
                    SymbolKind::Ion {
                        ion: ion.clone(),
                        write,
                    },
                    None,
                    diagnostics,
                );
            }
        }
        ions.push(IonUse {
            ion: ion.clone(),
            read: u.read.iter().map(|n| n.text.clone()).collect(),
            write: u.write.iter().map(|n| n.text.clone()).collect(),
            valence: u.valence,
        });
    }
    for n in &neuron.nonspecific_currents {
        declare(n, SymbolKind::Current { electrode: false }, None, diagnostics);
    }
    for n in &neuron.electrode_currents {
        declare(n, SymbolKind::Current { electrode: true }, None, diagnostics);
    }
    for d in &module.parameters {
        declare(&d.name, SymbolKind::Parameter, Some(d), diagnostics);
    }
    for d in &module.constants {
        declare(&d.name, SymbolKind::Constant, Some(d), diagnostics);
    }
    for d in &module.states {
        declare(&d.name, SymbolKind::State, Some(d), diagnostics);
    }
    for d in &module.assigned {
        declare(&d.name, SymbolKind::Assigned, Some(d), diagnostics);
    }
    for r in &module.functions {
        declare(
            &r.name,
            SymbolKind::Function { arity: r.params.len() },
            None,
            diagnostics,
        );
    }
    for r in &module.procedures {
        declare(
            &r.name,
            SymbolKind::Procedure { arity: r.params.len() },
            None,
            diagnostics,
        );
    }
    for r in &module.derivatives {
        declare(&r.name, SymbolKind::Derivative, None, diagnostics);
    }
    for r in &module.kinetics {
        declare(&r.name, SymbolKind::Kinetic, None, diagnostics);
    }
    for a in &module.algebraic {
        declare(&a.routine.name, SymbolKind::Algebraic, None, diagnostics);
    }
    for n in &neuron.randoms {
        declare(n, SymbolKind::RandomStream, None, diagnostics);
    }
    // A POINTER is an ASSIGNED variable whose value the model binds (nocmodl requires the declaration).
    for n in &neuron.pointers {
        match table.symbols.get_mut(&n.text) {
            Some(s) if s.kind == SymbolKind::Assigned => s.kind = SymbolKind::Pointer,
            Some(s) if s.kind == SymbolKind::Pointer => {}
            Some(_) => diagnostics.push(Diagnostic::error(
                n.span,
                format!(
                    "the POINTER `{}` must be declared in ASSIGNED, not as another kind of variable",
                    n.text
                ),
            )),
            None => diagnostics.push(
                Diagnostic::error(n.span, format!("the POINTER `{}` is not declared", n.text))
                    .with_note("declare it in the ASSIGNED block, as nocmodl requires"),
            ),
        }
    }
    for name in neuron.range.iter().chain(&neuron.global) {
        // An array is declared as its elements.
        if table.get(&name.text).is_none() && table.get(&format!("{}[0]", name.text)).is_none() {
            let hint = did_you_mean(&name.text, table.names());
            // nocmodl accepts this (and makes nothing of it), so it is a warning: the name stays unknown.
            diagnostics.push(
                Diagnostic::warning(
                    name.span,
                    format!(
                        "RANGE/GLOBAL names `{}`, which is not declared; the name is ignored",
                        name.text
                    ),
                )
                .with_note(hint),
            );
        }
    }

    let checker = Checker { table: &table, module };
    let mut assigned_in_breakpoint = BTreeSet::new();
    if let Some(b) = &module.initial {
        checker.body(
            b,
            Context::Initial,
            &mut Scope::default(),
            diagnostics,
            &mut BTreeSet::new(),
        );
    }
    if let Some(b) = &module.breakpoint {
        checker.body(
            b,
            Context::Breakpoint,
            &mut Scope::default(),
            diagnostics,
            &mut assigned_in_breakpoint,
        );
    }
    for r in &module.derivatives {
        checker.body(
            &r.body,
            Context::Derivative,
            &mut Scope::default(),
            diagnostics,
            &mut BTreeSet::new(),
        );
    }
    for r in &module.kinetics {
        checker.body(
            &r.body,
            Context::Kinetic,
            &mut Scope::default(),
            diagnostics,
            &mut BTreeSet::new(),
        );
    }
    for a in &module.algebraic {
        checker.body(
            &a.routine.body,
            Context::Algebraic,
            &mut Scope::default(),
            diagnostics,
            &mut BTreeSet::new(),
        );
        for n in &a.solve_for {
            if !matches!(
                checker.table.get(&n.text).map(|s| &s.kind),
                Some(SymbolKind::State | SymbolKind::Assigned)
            ) {
                diagnostics.push(Diagnostic::error(
                    n.span,
                    format!("SOLVEFOR names `{}`, which is not a STATE or ASSIGNED variable", n.text),
                ));
            }
        }
    }
    for r in module.functions.iter().chain(&module.procedures) {
        let mut scope = Scope::with(&r.params);
        if module.functions.contains(r) {
            scope.locals.insert(r.name.text.clone());
        }
        checker.body(&r.body, Context::Routine, &mut scope, diagnostics, &mut BTreeSet::new());
    }
    if let Some(r) = &module.net_receive {
        // `flag` is the event's flag: 0 for an input event, the `net_send` or WATCH flag for a self-event.
        let mut scope = Scope::with(&r.params);
        scope.locals.insert("flag".into());
        if let Some(initial) = &module.net_receive_initial {
            checker.body(
                initial,
                Context::NetReceive,
                &mut scope.clone(),
                diagnostics,
                &mut BTreeSet::new(),
            );
        }
        checker.body(
            &r.body,
            Context::NetReceive,
            &mut scope,
            diagnostics,
            &mut BTreeSet::new(),
        );
    }

    check_verbatim(module, diagnostics);

    // Every current the mechanism writes must be computed in BREAKPOINT, with the units NEURON expects.
    let current_unit = if neuron.kind == MechanismKind::PointProcess {
        "nA"
    } else {
        "mA/cm2"
    };
    for s in table.symbols.values() {
        let is_current = match &s.kind {
            SymbolKind::Current { .. } => true,
            SymbolKind::Ion { ion, write: true } => s.name == format!("i{ion}"),
            _ => false,
        };
        if !is_current {
            continue;
        }
        // A current that is a STATE changes through its own equations (and events).
        if !assigned_in_breakpoint.contains(&s.name) && s.kind != SymbolKind::State && !syntax_errors {
            let place = if module.breakpoint.is_some() {
                "in BREAKPOINT"
            } else {
                "(the mechanism has no BREAKPOINT block)"
            };
            diagnostics.push(Diagnostic::error(
                s.span,
                format!("the current `{}` is never assigned {place}", s.name),
            ));
        }
        // Compared by meaning (`milliamp/cm2` is `mA/cm2`), or by spelling where a name is unknown.
        let same = |unit: &str| match (super::units::parse_unit(unit), super::units::parse_unit(current_unit)) {
            (Some(a), Some(b)) => a.same_as(&b),
            _ => unit.replace(' ', "") == current_unit,
        };
        if let Some(unit) = &s.unit
            && !same(unit)
        {
            diagnostics.push(Diagnostic::error(
                s.span,
                format!(
                    "the current `{}` is declared in ({unit}); a {} mechanism's currents are in ({current_unit})",
                    s.name,
                    kind_name(&neuron.kind)
                ),
            ));
        }
    }

    let info = MechanismInfo {
        name: neuron.name.text.clone(),
        kind: neuron.kind.clone(),
        title: module.title.clone(),
        ions,
        nonspecific_currents: neuron.nonspecific_currents.iter().map(|n| n.text.clone()).collect(),
        electrode_currents: neuron.electrode_currents.iter().map(|n| n.text.clone()).collect(),
        pointers: neuron.pointers.iter().map(|n| n.text.clone()).collect(),
        randoms: neuron.randoms.iter().map(|n| n.text.clone()).collect(),
    };
    Some((table, info))
}

fn kind_name(kind: &MechanismKind) -> &'static str {
    match kind {
        MechanismKind::Density => "density (SUFFIX)",
        MechanismKind::PointProcess => "POINT_PROCESS",
        MechanismKind::ArtificialCell => "ARTIFICIAL_CELL",
    }
}

#[derive(Clone, Default)]
pub(super) struct Scope {
    pub(super) locals: BTreeSet<String>,
}

impl Scope {
    fn with(params: &[Name]) -> Self {
        Self {
            locals: params.iter().map(|p| p.text.clone()).collect(),
        }
    }
}

pub(super) struct Checker<'a> {
    pub(super) table: &'a SymbolTable,
    pub(super) module: &'a Module,
}

impl Checker<'_> {
    pub(super) fn known_names<'s>(&'s self, scope: &'s Scope) -> impl Iterator<Item = &'s str> {
        self.table.names().chain(scope.locals.iter().map(String::as_str))
    }

    fn body(
        &self,
        body: &Body,
        ctx: Context,
        scope: &mut Scope,
        diagnostics: &mut Vec<Diagnostic>,
        assigned: &mut BTreeSet<String>,
    ) {
        if ctx == Context::Kinetic {
            // The fluxes of the latest reaction.
            scope.locals.insert("f_flux".into());
            scope.locals.insert("b_flux".into());
        }
        for s in &body.statements {
            self.statement(s, ctx, scope, diagnostics, assigned);
        }
    }

    fn statement(
        &self,
        s: &Statement,
        ctx: Context,
        scope: &mut Scope,
        diagnostics: &mut Vec<Diagnostic>,
        assigned: &mut BTreeSet<String>,
    ) {
        match s {
            Statement::Local(names) => {
                for n in names {
                    scope.locals.insert(n.text.clone());
                }
            }
            Statement::Assign { target, value } => {
                self.expr(value, scope, diagnostics);
                self.assignment(target, ctx, scope, diagnostics);
                assigned.insert(target.text.clone());
            }
            Statement::Derivative { state, value } => {
                self.expr(value, scope, diagnostics);
                if ctx != Context::Derivative {
                    diagnostics.push(Diagnostic::error(
                        state.span,
                        "`x' = ...` is only allowed in a DERIVATIVE block",
                    ));
                } else if self.table.get(&state.text).map(|s| &s.kind) != Some(&SymbolKind::State) {
                    diagnostics.push(Diagnostic::error(
                        state.span,
                        format!("`{}'`: `{}` is not a STATE", state.text, state.text),
                    ));
                }
            }
            Statement::If {
                condition,
                then,
                otherwise,
            } => {
                self.expr(condition, scope, diagnostics);
                self.body(then, ctx, &mut scope.clone(), diagnostics, assigned);
                if let Some(o) = otherwise {
                    self.body(o, ctx, &mut scope.clone(), diagnostics, assigned);
                }
            }
            Statement::Call { name, args } if EVENT_CALLS.iter().any(|(n, _)| *n == name.text) => {
                for a in args {
                    self.expr(a, scope, diagnostics);
                }
                self.event_call(name, args, ctx, scope, diagnostics);
                if name.text == "state_discontinuity"
                    && let Some(Expr::Name(target)) = args.first()
                {
                    assigned.insert(target.text.clone());
                }
            }
            Statement::Watch { conditions, span } => {
                if ctx != Context::NetReceive {
                    diagnostics.push(Diagnostic::error(*span, "WATCH belongs in NET_RECEIVE"));
                }
                for (condition, flag) in conditions {
                    self.expr(condition, scope, diagnostics);
                    self.expr(flag, scope, diagnostics);
                    if !matches!(
                        condition,
                        Expr::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge, ..)
                    ) {
                        diagnostics.push(Diagnostic::error(
                            condition.span(),
                            "a WATCH condition compares two values with <, <=, > or >=",
                        ));
                    }
                }
            }
            // Loops the parser could not unroll (bounds known at run time).
            Statement::From {
                variable,
                from,
                to,
                by,
                body,
                ..
            } => {
                for e in [Some(from), Some(to), by.as_ref()].into_iter().flatten() {
                    self.expr(e, scope, diagnostics);
                }
                let mut inner = scope.clone();
                inner.locals.insert(variable.text.clone());
                self.body(body, ctx, &mut inner, diagnostics, assigned);
            }
            Statement::While { condition, body, .. } => {
                self.expr(condition, scope, diagnostics);
                self.body(body, ctx, &mut scope.clone(), diagnostics, assigned);
            }
            Statement::NestedInitial(b) => {
                diagnostics.push(Diagnostic::error(
                    b.span,
                    "an INITIAL block inside another block belongs only in NET_RECEIVE",
                ));
            }
            Statement::Call { name, args } => {
                if self.random_call(name, args, scope, diagnostics) {
                    return;
                }
                for a in args {
                    self.expr(a, scope, diagnostics);
                }
                self.call(name, args.len(), true, scope, diagnostics);
                // A procedure may assign module variables (e.g. rates() sets minf, mtau).
                if let Some(p) = self.module.procedures.iter().find(|p| p.name.text == name.text) {
                    collect_assignments(&p.body, &self.module.procedures, assigned);
                }
            }
            Statement::Solve {
                block,
                method,
                steady_state,
            } => {
                if *steady_state && ctx == Context::Routine {
                    // NEURON's cabpump.mod has `FUNCTION ss() { SOLVE state STEADYSTATE sparse ... }`, called
                    // from hoc only. Lowering refuses it if a block rall runs calls the routine.
                    diagnostics.push(Diagnostic::warning(
                        block.span,
                        "SOLVE ... STEADYSTATE in a FUNCTION or PROCEDURE: rall does not run it (calling the \
                         routine from the mechanism's blocks is an error)",
                    ));
                    return;
                }
                let algebraic = matches!(
                    self.table.get(&block.text).map(|s| &s.kind),
                    Some(SymbolKind::Algebraic)
                );
                if algebraic {
                    // LINEAR and NONLINEAR blocks: solved in the state update (BREAKPOINT) or closing INITIAL.
                    let last = self.module.initial.as_ref().and_then(|b| b.statements.last());
                    let closes_initial =
                        matches!(last, Some(Statement::Solve { block: b, .. }) if b.span == block.span);
                    if !(ctx == Context::Breakpoint || (ctx == Context::Initial && closes_initial)) {
                        diagnostics.push(Diagnostic::error(
                            block.span,
                            "rall solves a LINEAR or NONLINEAR block from BREAKPOINT (each step) or as INITIAL's \
                             last statement",
                        ));
                    }
                    if *steady_state {
                        diagnostics.push(Diagnostic::error(
                            block.span,
                            "SOLVE ... STEADYSTATE of a LINEAR or NONLINEAR block: solve it without STEADYSTATE",
                        ));
                    }
                    return;
                }
                if ctx != Context::Breakpoint && !(ctx == Context::Initial && *steady_state) {
                    diagnostics.push(Diagnostic::error(block.span, "SOLVE belongs in BREAKPOINT"));
                }
                let kinetic = matches!(self.table.get(&block.text).map(|s| &s.kind), Some(SymbolKind::Kinetic));
                if *steady_state && !kinetic {
                    diagnostics.push(Diagnostic::error(
                        block.span,
                        "SOLVE ... STEADYSTATE is supported by rall for KINETIC blocks (sparse) only",
                    ));
                }
                if *steady_state && ctx == Context::Initial {
                    let last = self.module.initial.as_ref().and_then(|b| b.statements.last());
                    if !matches!(last, Some(Statement::Solve { block: b, .. }) if b.span == block.span) {
                        diagnostics.push(Diagnostic::error(
                            block.span,
                            "rall supports SOLVE ... STEADYSTATE as INITIAL's last statement only",
                        ));
                    }
                }
                match self.table.get(&block.text).map(|s| &s.kind) {
                    // A PROCEDURE solved in BREAKPOINT (`SOLVE icur METHOD after_cvode`, NEURON's SEClamp) runs
                    // in the state update, after the voltage has advanced.
                    Some(SymbolKind::Derivative) | Some(SymbolKind::Kinetic) | Some(SymbolKind::Procedure { .. }) => {}
                    _ => {
                        let blocks = self
                            .module
                            .derivatives
                            .iter()
                            .chain(&self.module.kinetics)
                            .map(|r| r.name.text.as_str());
                        diagnostics.push(
                            Diagnostic::error(
                                block.span,
                                format!(
                                    "SOLVE names `{}`, which is not a DERIVATIVE or KINETIC block",
                                    block.text
                                ),
                            )
                            .with_note(did_you_mean(&block.text, blocks)),
                        );
                    }
                }
                let procedure = matches!(
                    self.table.get(&block.text).map(|s| &s.kind),
                    Some(SymbolKind::Procedure { .. })
                );
                match method.as_ref().map(|m| m.text.as_str()) {
                    None | Some("cnexp" | "derivimplicit" | "sparse" | "euler") => {}
                    // NEURON's method for a PROCEDURE run after the voltage update (SEClamp's icur).
                    Some("after_cvode") if procedure => {}
                    Some(other) => {
                        let m = method.as_ref().unwrap();
                        diagnostics.push(
                            Diagnostic::error(m.span, format!("METHOD `{other}` is not supported by rall"))
                                .with_note("rall supports cnexp, derivimplicit, sparse and euler")
                                .with_note(did_you_mean(other, ["cnexp", "derivimplicit", "sparse", "euler"])),
                        );
                    }
                }
            }
            Statement::Table { .. } | Statement::UnitsToggle | Statement::Verbatim(_) => {}
            Statement::Reaction {
                left,
                right,
                forward,
                backward,
                span,
            } => {
                if ctx != Context::Kinetic {
                    diagnostics.push(Diagnostic::error(*span, "reactions `~` belong in a KINETIC block"));
                }
                for (_, n) in left.iter().chain(right) {
                    // Non-states take part as fixed concentrations, as in NEURON.
                    self.expr(&Expr::Name(n.clone()), scope, diagnostics);
                }
                self.expr(forward, scope, diagnostics);
                if let Some(b) = backward {
                    self.expr(b, scope, diagnostics);
                }
            }
            Statement::Equation { left, right, span } => {
                if ctx != Context::Algebraic {
                    diagnostics.push(Diagnostic::error(
                        *span,
                        "an equation `~ lhs = rhs` belongs in a LINEAR or NONLINEAR block",
                    ));
                }
                self.expr(left, scope, diagnostics);
                self.expr(right, scope, diagnostics);
            }
            Statement::Flux { state, flux, .. } => {
                self.state_name(state, diagnostics);
                self.expr(flux, scope, diagnostics);
            }
            Statement::Conserve { left, right, .. } => {
                self.expr(left, scope, diagnostics);
                self.expr(right, scope, diagnostics);
            }
            Statement::Compartment { volume, states, .. } => {
                self.expr(volume, scope, diagnostics);
                for n in states {
                    self.expr(&Expr::Name(n.clone()), scope, diagnostics);
                }
            }
        }
    }

    pub(super) fn expr(&self, e: &Expr, scope: &Scope, diagnostics: &mut Vec<Diagnostic>) {
        match e {
            Expr::Number(..) => {}
            Expr::Name(n) => {
                if let Some(index) = &n.index {
                    self.expr(index, scope, diagnostics);
                }
                if self.table.get(&n.text).map(|s| &s.kind) == Some(&SymbolKind::RandomStream) {
                    diagnostics.push(Diagnostic::error(
                        n.span,
                        format!(
                            "`{}` is a RANDOM stream: it has no value; draw from it with random_uniform, \
                             random_negexp or random_normal (its first argument)",
                            n.text
                        ),
                    ));
                    return;
                }
                let known = scope.locals.contains(&n.text)
                    || matches!(self.table.get(&declared_name(n)).map(|s| &s.kind), Some(k) if !matches!(k, SymbolKind::Function { .. } | SymbolKind::Procedure { .. } | SymbolKind::Derivative | SymbolKind::Kinetic | SymbolKind::Algebraic));
                if !known && n.text != "PI" && n.text != "FARADAY" && n.text != "R" {
                    let hint = did_you_mean(&n.text, self.known_names(scope));
                    diagnostics
                        .push(Diagnostic::error(n.span, format!("`{}` is not declared", n.text)).with_note(hint));
                }
            }
            Expr::Call(name, args, _) => {
                if self.random_call(name, args, scope, diagnostics) {
                    return;
                }
                for a in args {
                    self.expr(a, scope, diagnostics);
                }
                self.call(name, args.len(), false, scope, diagnostics);
            }
            Expr::Unary(_, a, _) => self.expr(a, scope, diagnostics),
            Expr::Binary(_, a, b, _) => {
                self.expr(a, scope, diagnostics);
                self.expr(b, scope, diagnostics);
            }
        }
    }
}

/// The name a reference resolves to: `x[0]` for an element of array `x` indexed at run time (each element is
/// declared as a scalar `x[k]`), the name itself otherwise.
pub(super) fn declared_name(n: &Name) -> String {
    if n.index.is_some() {
        format!("{}[0]", n.text)
    } else {
        n.text.clone()
    }
}
