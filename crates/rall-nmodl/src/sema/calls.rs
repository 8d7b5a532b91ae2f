//! The calls and assignments of a checked body: a call's name, arity and place (events, RANDOM streams,
//! FUNCTIONs, PROCEDUREs, built-ins) and an assignment's target in, diagnostics out.

use super::check_module::{Checker, Context, EVENT_CALLS, Scope, declared_name};
use super::symbols::*;
use crate::ast::*;
use crate::diagnostics::{Diagnostic, did_you_mean};

impl Checker<'_> {
    /// `net_send(delay, flag)`, `net_event(t)` and `state_discontinuity(x, value)`, each where NEURON allows it.
    pub(super) fn event_call(
        &self,
        name: &Name,
        args: &[Expr],
        ctx: Context,
        scope: &Scope,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let (_, arity) = EVENT_CALLS.iter().find(|(n, _)| *n == name.text).unwrap();
        if args.len() != *arity {
            diagnostics.push(Diagnostic::error(
                name.span,
                format!("`{}` takes {arity} argument(s), given {}", name.text, args.len()),
            ));
            return;
        }
        let allowed = match name.text.as_str() {
            "net_send" => matches!(ctx, Context::Initial | Context::NetReceive | Context::Routine),
            "net_event" | "net_move" => matches!(ctx, Context::NetReceive | Context::Routine),
            _ => true,
        };
        if !allowed {
            let place = if name.text == "net_send" {
                "INITIAL or NET_RECEIVE"
            } else {
                "NET_RECEIVE"
            };
            diagnostics.push(Diagnostic::error(
                name.span,
                format!("`{}` belongs in {place}", name.text),
            ));
        }
        if name.text == "state_discontinuity" {
            match &args[0] {
                Expr::Name(target) => self.assignment(target, ctx, scope, diagnostics),
                other => diagnostics.push(Diagnostic::error(
                    other.span(),
                    "state_discontinuity's first argument is the variable it sets",
                )),
            }
        }
    }

    pub(super) fn state_name(&self, n: &Name, diagnostics: &mut Vec<Diagnostic>) {
        if self.table.get(&n.text).map(|s| &s.kind) != Some(&SymbolKind::State) {
            let states = self.table.of_kind(|k| *k == SymbolKind::State).map(|s| s.name.as_str());
            diagnostics.push(
                Diagnostic::error(n.span, format!("`{}` is not a STATE", n.text))
                    .with_note(did_you_mean(&n.text, states)),
            );
        }
    }

    pub(super) fn assignment(&self, target: &Name, ctx: Context, scope: &Scope, diagnostics: &mut Vec<Diagnostic>) {
        if let Some(index) = &target.index {
            self.expr(index, scope, diagnostics);
        }
        if scope.locals.contains(&target.text) {
            return;
        }
        let Some(symbol) = self.table.get(&declared_name(target)) else {
            let hint = did_you_mean(&target.text, self.known_names(scope));
            diagnostics.push(
                Diagnostic::error(
                    target.span,
                    format!("assignment to `{}`, which is not declared", target.text),
                )
                .with_note(hint),
            );
            return;
        };
        let problem = match &symbol.kind {
            SymbolKind::Constant => Some("a CONSTANT".to_string()),
            SymbolKind::Parameter if !matches!(ctx, Context::Initial | Context::NetReceive) => {
                Some("a PARAMETER (parameters may only be changed in INITIAL or NET_RECEIVE)".to_string())
            }
            // `v` is the mechanism's own copy of the membrane voltage (as in nocmodl): an assignment changes it
            // for the rest of the block being evaluated, never the membrane's voltage.
            SymbolKind::Builtin if !matches!(target.text.as_str(), "celsius" | "v") => {
                Some(format!("the built-in `{}`", target.text))
            }
            SymbolKind::Ion { write: false, .. } => {
                Some("an ion variable that the mechanism only READs (add it to WRITE)".to_string())
            }
            SymbolKind::Function { .. }
            | SymbolKind::Procedure { .. }
            | SymbolKind::Derivative
            | SymbolKind::Kinetic
            | SymbolKind::Algebraic => Some("a block name".to_string()),
            SymbolKind::RandomStream => Some("a RANDOM stream".to_string()),
            _ => None,
        };
        if let Some(p) = problem {
            diagnostics.push(Diagnostic::error(
                target.span,
                format!("cannot assign to `{}`: it is {p}", target.text),
            ));
        }
    }

    /// A `random_*` function of a RANDOM stream: the stream first, then numbers. Returns false for other calls.
    pub(super) fn random_call(
        &self,
        name: &Name,
        args: &[Expr],
        scope: &Scope,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> bool {
        let Some((_, counts)) = RANDOM_FUNCTIONS.iter().find(|(n, _)| *n == name.text) else {
            return false;
        };
        if !counts.contains(&args.len()) {
            let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
            diagnostics.push(Diagnostic::error(
                name.span,
                format!(
                    "`{}` takes {} argument(s), given {}",
                    name.text,
                    counts.join(" or "),
                    args.len()
                ),
            ));
        }
        match args.first() {
            Some(Expr::Name(stream))
                if self.table.get(&stream.text).map(|s| &s.kind) == Some(&SymbolKind::RandomStream) => {}
            other => {
                let at = other.map_or(name.span, Expr::span);
                diagnostics.push(Diagnostic::error(
                    at,
                    format!(
                        "`{}` takes a RANDOM stream (declared in the NEURON block) as its first argument",
                        name.text
                    ),
                ));
            }
        }
        for a in args.iter().skip(1) {
            self.expr(a, scope, diagnostics);
        }
        true
    }

    pub(super) fn call(
        &self,
        name: &Name,
        arity: usize,
        statement: bool,
        scope: &Scope,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let expected = match self.table.get(&name.text).map(|s| &s.kind) {
            Some(SymbolKind::Function { arity }) => Some(*arity),
            Some(SymbolKind::Procedure { arity }) => {
                if !statement {
                    diagnostics.push(Diagnostic::error(
                        name.span,
                        format!("the PROCEDURE `{}` has no value; call it as a statement", name.text),
                    ));
                }
                Some(*arity)
            }
            _ => BUILTIN_FUNCTIONS.iter().find(|(f, _)| *f == name.text).map(|(_, a)| *a),
        };
        match expected {
            Some(a) if a != arity => diagnostics.push(Diagnostic::error(
                name.span,
                format!("`{}` takes {a} argument(s), given {arity}", name.text),
            )),
            Some(_) => {}
            None if ["nrn_random_play", "state_discontinuity"].contains(&name.text.as_str()) => {
                diagnostics.push(Diagnostic::error(
                    name.span,
                    format!("`{}` is not supported by rall yet", name.text),
                ));
            }
            None => {
                let known = self
                    .table
                    .of_kind(|k| matches!(k, SymbolKind::Function { .. } | SymbolKind::Procedure { .. }))
                    .map(|s| s.name.as_str())
                    .chain(BUILTIN_FUNCTIONS.iter().map(|(f, _)| *f));
                let hint = did_you_mean(&name.text, known);
                let _ = scope;
                diagnostics
                    .push(Diagnostic::error(name.span, format!("unknown function `{}`", name.text)).with_note(hint));
            }
        }
    }
}
