//! Procedural mechanisms: a checked module that the expression graph cannot express in, the reasons and a
//! [`Program`] of its blocks out, run statement by statement by [`Machine`].
//!
//! The graph (see [`crate::lower`]) needs straight-line kernels: loops unrolled, calls inlined, branches merged.
//! A file with a `while` loop, a FROM loop or an array index known only at run time, a recursive FUNCTION, or
//! random draws (`exprand`, `scop_random`, `set_seed`, NEURON 9's RANDOM streams) is run as written instead, the way
//! NEURON's generated C runs it. PyNN's AlphaSyn (a queue of spike times) and its gamma and refractory Poisson
//! generators are such files. Such a mechanism may not SOLVE states or use ions, and rall co-simulates no
//! sensitivities through its variables.

mod program;
mod run;

pub use program::{Block, Draw, Expr, Place, Program, Routine, Stmt, resolve};
pub use run::{Host, MAX_CALL_DEPTH, MAX_ITERATIONS, Machine, RunError};

use crate::ast::{Body, Expr as AstExpr, Module, Statement};
use crate::source::{SourceFile, Span};

/// A procedural mechanism's program, why it runs procedurally (`file:line: reason`), and its source for
/// locating run-time errors.
#[derive(Clone, Debug)]
pub struct Procedural {
    pub program: Program,
    pub reason: String,
    pub source: SourceFile,
}

impl Procedural {
    /// `file:line:column` of a span of the program.
    pub fn locate(&self, span: Span) -> String {
        let (line, column) = self.source.line_column(span.start);
        format!("{}:{line}:{column}", self.source.name)
    }
}

/// Why a module must run procedurally: each construct the graph cannot express, with its span (empty when the
/// graph can run it).
pub fn reasons(module: &Module) -> Vec<(Span, String)> {
    let mut out = Vec::new();
    let mut bodies: Vec<&Body> = Vec::new();
    bodies.extend(module.initial.as_ref());
    bodies.extend(module.breakpoint.as_ref());
    bodies.extend(module.net_receive_initial.as_ref());
    for r in module
        .procedures
        .iter()
        .chain(&module.functions)
        .chain(&module.derivatives)
        .chain(&module.kinetics)
        .chain(module.net_receive.as_ref())
        .chain(module.algebraic.iter().map(|a| &a.routine))
    {
        bodies.push(&r.body);
    }
    for b in bodies {
        body_reasons(b, &mut out);
    }
    if let Some(name) = crate::sema::recursive_routine(module) {
        out.push((name.span, format!("`{}` calls itself", name.text)));
    }
    out.sort_by_key(|(span, _)| span.start);
    out
}

fn body_reasons(body: &Body, out: &mut Vec<(Span, String)>) {
    fn expr(e: &AstExpr, out: &mut Vec<(Span, String)>) {
        match e {
            AstExpr::Number(..) => {}
            AstExpr::Name(n) => {
                if let Some(index) = &n.index {
                    out.push((
                        n.span,
                        format!("`{}` is indexed by a value known only at run time", n.text),
                    ));
                    expr(index, out);
                }
            }
            AstExpr::Call(n, args, _) => {
                if ["exprand", "scop_random", "set_seed"].contains(&n.text.as_str()) || n.text.starts_with("random_") {
                    out.push((n.span, format!("`{}` draws random numbers as it runs", n.text)));
                }
                args.iter().for_each(|a| expr(a, out));
            }
            AstExpr::Unary(_, a, _) => expr(a, out),
            AstExpr::Binary(_, a, b, _) => {
                expr(a, out);
                expr(b, out);
            }
        }
    }
    for s in &body.statements {
        match s {
            Statement::Assign { target, value } => {
                expr(&AstExpr::Name(target.clone()), out);
                expr(value, out);
            }
            Statement::Derivative { value, .. } => expr(value, out),
            Statement::If {
                condition,
                then,
                otherwise,
            } => {
                expr(condition, out);
                body_reasons(then, out);
                if let Some(o) = otherwise {
                    body_reasons(o, out);
                }
            }
            Statement::Call { name, args } => {
                expr(&AstExpr::Call(name.clone(), args.clone(), name.span), out);
            }
            Statement::From { span, body, .. } => {
                out.push((*span, "a FROM loop's bounds are known only at run time".to_string()));
                body_reasons(body, out);
            }
            Statement::While { span, body, .. } => {
                out.push((*span, "a `while` loop".to_string()));
                body_reasons(body, out);
            }
            _ => {}
        }
    }
}

/// A module with every block's statements removed (NET_RECEIVE keeps its arguments): lowering it gives the
/// slots and the interface of a procedural mechanism without lowering what the graph cannot express.
pub fn without_statements(module: &Module) -> Module {
    let mut m = module.clone();
    let empty = |b: &mut Body| b.statements.clear();
    m.initial.as_mut().map(empty);
    m.breakpoint.as_mut().map(empty);
    m.net_receive_initial = None;
    for r in m
        .procedures
        .iter_mut()
        .chain(&mut m.functions)
        .chain(m.net_receive.as_mut())
    {
        r.body.statements.clear();
    }
    m.derivatives.clear();
    m.kinetics.clear();
    m.algebraic.clear();
    m
}
