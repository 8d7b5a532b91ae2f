//! Which routines the blocks reach: a checked module in; the routines each body calls, the names it assigns
//! through the procedures it calls, the first recursive routine, and VERBATIM wherever rall would run it out.

use crate::ast::*;
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};

/// The first FUNCTION or PROCEDURE that calls itself, directly or through others (such a mechanism runs
/// procedurally: the graph inlines calls).
pub(crate) fn recursive_routine(module: &Module) -> Option<&Name> {
    let routines: Vec<&Routine> = module.functions.iter().chain(&module.procedures).collect();
    let mut calls: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in &routines {
        let mut set = BTreeSet::new();
        collect_calls(&r.body, &mut set);
        calls.insert(r.name.text.as_str(), set);
    }
    for r in &routines {
        let mut stack = vec![r.name.text.clone()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            for callee in calls.get(n.as_str()).into_iter().flatten() {
                if *callee == r.name.text {
                    return Some(&r.name);
                }
                if seen.insert(callee.clone()) {
                    stack.push(callee.clone());
                }
            }
        }
    }
    None
}

fn collect_calls(body: &Body, out: &mut BTreeSet<String>) {
    fn expr(e: &Expr, out: &mut BTreeSet<String>) {
        match e {
            Expr::Call(n, args, _) => {
                out.insert(n.text.clone());
                args.iter().for_each(|a| expr(a, out));
            }
            Expr::Unary(_, a, _) => expr(a, out),
            Expr::Binary(_, a, b, _) => {
                expr(a, out);
                expr(b, out);
            }
            _ => {}
        }
    }
    for s in &body.statements {
        match s {
            Statement::Assign { value, .. } | Statement::Derivative { value, .. } => expr(value, out),
            Statement::Call { name, args } => {
                out.insert(name.text.clone());
                args.iter().for_each(|a| expr(a, out));
            }
            Statement::If {
                condition,
                then,
                otherwise,
            } => {
                expr(condition, out);
                collect_calls(then, out);
                if let Some(o) = otherwise {
                    collect_calls(o, out);
                }
            }
            Statement::From { from, to, by, body, .. } => {
                [Some(from), Some(to), by.as_ref()]
                    .into_iter()
                    .flatten()
                    .for_each(|e| expr(e, out));
                collect_calls(body, out);
            }
            Statement::While { condition, body, .. } => {
                expr(condition, out);
                collect_calls(body, out);
            }
            _ => {}
        }
    }
}

/// Names a body assigns, through the procedures it calls (each procedure followed once).
pub(super) fn collect_assignments(body: &Body, procedures: &[crate::ast::Routine], out: &mut BTreeSet<String>) {
    collect_assignments_seen(body, procedures, out, &mut BTreeSet::new());
}

fn collect_assignments_seen(
    body: &Body,
    procedures: &[crate::ast::Routine],
    out: &mut BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) {
    for s in &body.statements {
        match s {
            Statement::Assign { target, .. } => {
                out.insert(target.text.clone());
            }
            Statement::If { then, otherwise, .. } => {
                collect_assignments_seen(then, procedures, out, seen);
                if let Some(o) = otherwise {
                    collect_assignments_seen(o, procedures, out, seen);
                }
            }
            Statement::From { body, .. } | Statement::While { body, .. } => {
                collect_assignments_seen(body, procedures, out, seen);
            }
            Statement::Call { name, .. } if seen.insert(name.text.clone()) => {
                if let Some(p) = procedures.iter().find(|p| p.name.text == name.text) {
                    collect_assignments_seen(&p.body, procedures, out, seen);
                }
            }
            _ => {}
        }
    }
}

/// VERBATIM (embedded C) is refused wherever rall would run it: in the blocks it runs (INITIAL, BREAKPOINT,
/// NET_RECEIVE, the SOLVEd blocks) and the FUNCTIONs and PROCEDUREs they call. In a routine no block reaches
/// (NEURON's netstim.mod keeps its Random123 setup for hoc that way) it is skipped with a warning.
pub(super) fn check_verbatim(module: &Module, diagnostics: &mut Vec<Diagnostic>) {
    let routines: Vec<&Routine> = module.functions.iter().chain(&module.procedures).collect();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<&Body> = Vec::new();
    pending.extend(module.initial.as_ref());
    pending.extend(module.breakpoint.as_ref());
    pending.extend(module.net_receive_initial.as_ref());
    pending.extend(module.net_receive.as_ref().map(|r| &r.body));
    let solved = |name: &str| {
        module
            .derivatives
            .iter()
            .chain(&module.kinetics)
            .chain(module.algebraic.iter().map(|a| &a.routine))
            .chain(&module.procedures)
            .find(|r| r.name.text == name)
    };
    let mut run: Vec<&Body> = Vec::new();
    while let Some(body) = pending.pop() {
        run.push(body);
        let mut names = BTreeSet::new();
        collect_calls(body, &mut names);
        solve_targets(body, &mut names);
        for n in names {
            if reached.insert(n.clone()) {
                if let Some(r) = routines.iter().find(|r| r.name.text == n) {
                    pending.push(&r.body);
                } else if let Some(r) = solved(&n) {
                    pending.push(&r.body);
                }
            }
        }
    }
    for body in &run {
        if let Some(span) = verbatim_in(body) {
            diagnostics.push(Diagnostic::error(
                span,
                "VERBATIM blocks (embedded C) are not supported by rall",
            ));
        }
    }
    for r in &routines {
        if !reached.contains(&r.name.text)
            && let Some(span) = verbatim_in(&r.body)
        {
            diagnostics.push(Diagnostic::warning(
                span,
                format!(
                    "VERBATIM (embedded C) in `{}`, which no block of the mechanism calls: rall skips it (hoc code \
                     that calls it has no rall counterpart)",
                    r.name.text
                ),
            ));
        }
    }
}

/// The first VERBATIM statement of a body, looking into nested blocks.
fn verbatim_in(body: &Body) -> Option<Span> {
    body.statements.iter().find_map(|s| match s {
        Statement::Verbatim(span) => Some(*span),
        Statement::If { then, otherwise, .. } => verbatim_in(then).or_else(|| otherwise.as_ref().and_then(verbatim_in)),
        Statement::From { body, .. } | Statement::While { body, .. } => verbatim_in(body),
        _ => None,
    })
}

/// The blocks a body SOLVEs.
fn solve_targets(body: &Body, out: &mut BTreeSet<String>) {
    for s in &body.statements {
        match s {
            Statement::Solve { block, .. } => {
                out.insert(block.text.clone());
            }
            Statement::If { then, otherwise, .. } => {
                solve_targets(then, out);
                if let Some(o) = otherwise {
                    solve_targets(o, out);
                }
            }
            _ => {}
        }
    }
}
