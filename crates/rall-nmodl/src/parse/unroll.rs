//! Arrays and FROM loops: a parsed module with `x[N]` declarations, `x[i]` references and `FROM i = a TO b`
//! loops in, the same module with one scalar `x[k]` per element and every loop unrolled out.
//!
//! Sizes must be constants (numbers, DEFINEs, CONSTANTs, with arithmetic). Loops whose bounds and indices are
//! constants (and enclosing loop variables), as in the files that use arrays for a fixed number of shells or
//! states, are unrolled; a loop bound or an index known only at run time stays as written, and the mechanism
//! runs procedurally. Unrolling is limited to [`MAX_ELEMENTS`] statements.

use crate::ast::*;
use crate::diagnostics::Diagnostic;
use std::collections::HashMap;

/// The most statements (and array elements) unrolling may produce in one file.
pub const MAX_ELEMENTS: usize = 100_000;

struct Unroller {
    /// Constants by name (DEFINE and CONSTANT values).
    constants: HashMap<String, f64>,
    /// Array sizes by name.
    sizes: HashMap<String, usize>,
    produced: usize,
    diagnostics: Vec<Diagnostic>,
}

pub(super) fn unroll(module: &mut Module, diagnostics: &mut Vec<Diagnostic>) {
    let constants = module
        .constants
        .iter()
        .filter_map(|d| d.value.map(|v| (d.name.text.clone(), v)))
        .collect();
    let mut u = Unroller {
        constants,
        sizes: HashMap::new(),
        produced: 0,
        diagnostics: Vec::new(),
    };
    for list in [&mut module.parameters, &mut module.states, &mut module.assigned] {
        *list = u.declarations(std::mem::take(list));
    }
    let env = HashMap::new();
    let mut bodies: Vec<&mut Body> = Vec::new();
    bodies.extend(module.initial.as_mut());
    bodies.extend(module.breakpoint.as_mut());
    bodies.extend(module.net_receive_initial.as_mut());
    for r in module
        .derivatives
        .iter_mut()
        .chain(&mut module.kinetics)
        .chain(&mut module.procedures)
        .chain(&mut module.functions)
        .chain(module.net_receive.as_mut())
        .chain(module.algebraic.iter_mut().map(|a| &mut a.routine))
    {
        bodies.push(&mut r.body);
    }
    for b in bodies {
        let statements = std::mem::take(&mut b.statements);
        b.statements = u.statements(statements, &env);
    }
    let mut arrays: Vec<(String, usize)> = u.sizes.into_iter().collect();
    arrays.sort();
    module.arrays = arrays;
    diagnostics.append(&mut u.diagnostics);
}

impl Unroller {
    fn error(&mut self, span: crate::source::Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(span, message));
    }

    /// A constant expression's value, or `None` (with an error) if it depends on a run-time value.
    fn constant(&mut self, e: &Expr, env: &HashMap<String, f64>, what: &str) -> Option<f64> {
        let value = fold(e, env, &self.constants);
        if value.is_none() {
            self.error(
                e.span(),
                format!("{what} must be a constant (numbers, DEFINEs, CONSTANTs, FROM loop variables)"),
            );
        }
        value
    }

    fn declarations(&mut self, list: Vec<VarDecl>) -> Vec<VarDecl> {
        let mut out = Vec::new();
        for d in list {
            let Some(size) = &d.size else {
                out.push(d);
                continue;
            };
            let Some(n) = self.constant(size, &HashMap::new(), "an array size") else {
                continue;
            };
            if !(n >= 1.0 && n.fract() == 0.0 && (n as usize) <= MAX_ELEMENTS - self.produced) {
                self.error(
                    size.span(),
                    format!("an array size must be a whole number from 1 to {MAX_ELEMENTS}, not {n}"),
                );
                continue;
            }
            let n = n as usize;
            self.produced += n;
            self.sizes.insert(d.name.text.clone(), n);
            for k in 0..n {
                out.push(VarDecl {
                    name: Name::new(element(&d.name.text, k), d.name.span),
                    size: None,
                    ..d.clone()
                });
            }
        }
        out
    }

    /// `x[i]` as the element's own name `x[k]`; a scalar stays as it is.
    fn name(&mut self, n: &Name, env: &HashMap<String, f64>) -> Name {
        let Some(index) = &n.index else {
            return n.clone();
        };
        let Some(size) = self.sizes.get(&n.text).copied() else {
            self.error(
                n.span,
                format!("`{}` is indexed but is not declared as an array", n.text),
            );
            return Name::new(n.text.clone(), n.span);
        };
        let Some(k) = fold(index, env, &self.constants) else {
            // Known at run time only: kept, with the enclosing constant loop variables substituted.
            return Name {
                index: Some(Box::new(self.expr(index, env))),
                ..n.clone()
            };
        };
        if !(k >= 0.0 && k.fract() == 0.0 && (k as usize) < size) {
            self.error(
                index.span(),
                format!("index {k} of `{}` is outside 0 to {}", n.text, size - 1),
            );
            return Name::new(element(&n.text, 0), n.span);
        }
        Name::new(element(&n.text, k as usize), n.span)
    }

    fn expr(&mut self, e: &Expr, env: &HashMap<String, f64>) -> Expr {
        match e {
            Expr::Number(..) => e.clone(),
            Expr::Name(n) if n.index.is_none() => match env.get(&n.text) {
                Some(&k) => Expr::Number(k, n.span),
                None => e.clone(),
            },
            Expr::Name(n) => Expr::Name(self.name(n, env)),
            Expr::Call(f, args, span) => Expr::Call(f.clone(), args.iter().map(|a| self.expr(a, env)).collect(), *span),
            Expr::Unary(op, a, span) => Expr::Unary(*op, Box::new(self.expr(a, env)), *span),
            Expr::Binary(op, a, b, span) => {
                Expr::Binary(*op, Box::new(self.expr(a, env)), Box::new(self.expr(b, env)), *span)
            }
        }
    }

    fn body(&mut self, b: &Body, env: &HashMap<String, f64>) -> Body {
        Body {
            statements: self.statements(b.statements.clone(), env),
            span: b.span,
        }
    }

    fn statements(&mut self, statements: Vec<Statement>, env: &HashMap<String, f64>) -> Vec<Statement> {
        let mut out = Vec::new();
        for s in statements {
            self.statement(s, env, &mut out);
            if self.produced > MAX_ELEMENTS {
                self.error(
                    Default::default(),
                    format!("unrolling FROM loops gives more than {MAX_ELEMENTS} statements"),
                );
                return out;
            }
        }
        out
    }

    fn statement(&mut self, s: Statement, env: &HashMap<String, f64>, out: &mut Vec<Statement>) {
        self.produced += 1;
        let reactants = |u: &mut Self, side: &[(f64, Name)]| -> Vec<(f64, Name)> {
            side.iter().map(|(c, n)| (*c, u.name(n, env))).collect()
        };
        let s = match s {
            Statement::From {
                variable,
                from,
                to,
                by,
                body,
                span,
            } => {
                let step = match &by {
                    Some(e) => fold(e, env, &self.constants),
                    None => Some(1.0),
                };
                let (Some(a), Some(b), Some(step)) =
                    (fold(&from, env, &self.constants), fold(&to, env, &self.constants), step)
                else {
                    // Bounds known at run time only: the loop stays, its variable hiding any outer one.
                    let mut inner = env.clone();
                    inner.remove(&variable.text);
                    let s = Statement::From {
                        from: self.expr(&from, env),
                        to: self.expr(&to, env),
                        by: by.map(|e| self.expr(&e, env)),
                        body: self.body(&body, &inner),
                        variable,
                        span,
                    };
                    out.push(s);
                    return;
                };
                if step <= 0.0 || (b - a) / step > MAX_ELEMENTS as f64 {
                    self.error(
                        span,
                        format!("a FROM loop from {a} to {b} by {step} does not end in time"),
                    );
                    return;
                }
                let mut inner = env.clone();
                let mut i = a;
                while i <= b && self.produced <= MAX_ELEMENTS {
                    inner.insert(variable.text.clone(), i);
                    let unrolled = self.statements(body.statements.clone(), &inner);
                    out.extend(unrolled);
                    i += step;
                }
                return;
            }
            Statement::Assign { target, value } => Statement::Assign {
                target: self.name(&target, env),
                value: self.expr(&value, env),
            },
            Statement::Derivative { state, value } => Statement::Derivative {
                state: self.name(&state, env),
                value: self.expr(&value, env),
            },
            Statement::If {
                condition,
                then,
                otherwise,
            } => Statement::If {
                condition: self.expr(&condition, env),
                then: self.body(&then, env),
                otherwise: otherwise.map(|o| self.body(&o, env)),
            },
            Statement::Call { name, args } => Statement::Call {
                name,
                args: args.iter().map(|a| self.expr(a, env)).collect(),
            },
            Statement::Reaction {
                left,
                right,
                forward,
                backward,
                span,
            } => Statement::Reaction {
                left: reactants(self, &left),
                right: reactants(self, &right),
                forward: self.expr(&forward, env),
                backward: backward.map(|b| self.expr(&b, env)),
                span,
            },
            Statement::Flux { state, flux, span } => Statement::Flux {
                state: self.name(&state, env),
                flux: self.expr(&flux, env),
                span,
            },
            Statement::Equation { left, right, span } => Statement::Equation {
                left: self.expr(&left, env),
                right: self.expr(&right, env),
                span,
            },
            Statement::Conserve { left, right, span } => Statement::Conserve {
                left: self.expr(&left, env),
                right: self.expr(&right, env),
                span,
            },
            Statement::Compartment {
                index: Some(index),
                volume,
                states,
                span,
            } => {
                // One COMPARTMENT per element: the volume with the index variable set, each array's element.
                let size = states
                    .iter()
                    .filter_map(|n| self.sizes.get(&n.text))
                    .copied()
                    .max()
                    .unwrap_or(0);
                let mut inner = env.clone();
                for k in 0..size {
                    inner.insert(index.text.clone(), k as f64);
                    let elements = states
                        .iter()
                        .filter(|n| self.sizes.get(&n.text).is_some_and(|&s| k < s))
                        .map(|n| Name::new(element(&n.text, k), n.span))
                        .collect();
                    out.push(Statement::Compartment {
                        index: None,
                        volume: self.expr(&volume, &inner),
                        states: elements,
                        span,
                    });
                }
                return;
            }
            Statement::Compartment {
                index: None,
                volume,
                states,
                span,
            } => Statement::Compartment {
                index: None,
                volume: self.expr(&volume, env),
                states: states.iter().map(|n| self.name(n, env)).collect(),
                span,
            },
            Statement::While { condition, body, span } => Statement::While {
                condition: self.expr(&condition, env),
                body: self.body(&body, env),
                span,
            },
            Statement::Watch { conditions, span } => Statement::Watch {
                conditions: conditions
                    .iter()
                    .map(|(c, f)| (self.expr(c, env), self.expr(f, env)))
                    .collect(),
                span,
            },
            other => other,
        };
        out.push(s);
    }
}

/// The name of element `k` of array `name`.
fn element(name: &str, k: usize) -> String {
    format!("{name}[{k}]")
}

/// The value of a constant expression, or `None` if it reads anything else.
fn fold(e: &Expr, env: &HashMap<String, f64>, constants: &HashMap<String, f64>) -> Option<f64> {
    Some(match e {
        Expr::Number(x, _) => *x,
        Expr::Name(n) if n.index.is_none() => *env.get(&n.text).or_else(|| constants.get(&n.text))?,
        Expr::Unary(UnaryOp::Neg, a, _) => -fold(a, env, constants)?,
        Expr::Binary(op, a, b, _) => {
            let (a, b) = (fold(a, env, constants)?, fold(b, env, constants)?);
            match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                BinaryOp::Div => a / b,
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::compile;

    fn errors(body: &str) -> Vec<String> {
        let text = format!(
            "NEURON {{ SUFFIX t }}\nDEFINE N 3\nSTATE {{ s[N] }}\nASSIGNED {{ a[2] q }}\n{body}\nBREAKPOINT {{ SOLVE d METHOD cnexp }}\nDERIVATIVE d {{ FROM i = 0 TO N-1 {{ s[i]' = -s[i] }} }}\n"
        );
        match compile("t.mod", &text) {
            Ok(_) => Vec::new(),
            Err((_, d)) => d.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect(),
        }
    }

    #[test]
    fn a_loop_over_an_array_becomes_one_statement_per_element() {
        let text = "NEURON { SUFFIX t }\nDEFINE N 3\nPARAMETER { k = 2 }\nSTATE { s[N] }\n\
                    INITIAL { FROM i = 0 TO N-1 { s[i] = i + 1 } }\n\
                    BREAKPOINT { SOLVE d METHOD cnexp }\n\
                    DERIVATIVE d { FROM i = 0 TO N-1 { s[i]' = -k * s[i] } }\n";
        let c = compile("t.mod", text).unwrap_or_else(|(_, d)| panic!("{d:?}"));
        let states: Vec<&str> =
            c.ir.slots
                .iter()
                .filter(|s| s.kind == crate::ir::SlotKind::State)
                .map(|s| s.name.as_str())
                .collect();
        assert_eq!(states, ["s[0]", "s[1]", "s[2]"]);
        // INITIAL sets each element to its index plus one (the loop variable substituted).
        let mut values = vec![0.0; c.ir.slots.len()];
        let k = c.ir.slot("k").unwrap() as usize;
        values[k] = 2.0;
        for (slot, node) in &c.ir.initial.outputs {
            values[*slot as usize] = c.ir.graph.evaluate(*node, &values);
        }
        for (j, name) in states.iter().enumerate() {
            assert_eq!(values[c.ir.slot(name).unwrap() as usize], j as f64 + 1.0);
        }
    }

    #[test]
    fn indices_outside_the_array_are_errors_and_run_time_ones_make_the_mechanism_procedural() {
        assert!(
            errors("INITIAL { s[3] = 1 }")
                .iter()
                .any(|e| e.contains("index 3 of `s` is outside 0 to 2"))
        );
        // Known only at run time: the mechanism would run procedurally, which cannot SOLVE its states.
        assert!(
            errors("INITIAL { s[q] = 1 }")
                .iter()
                .any(|e| e.contains("SOLVE in a mechanism that runs procedurally"))
        );
        assert!(
            errors("INITIAL { q[0] = 1 }")
                .iter()
                .any(|e| e.contains("`q` is indexed but is not declared as an array"))
        );
        assert!(
            errors("INITIAL { FROM i = 0 TO q { a[0] = i } }")
                .iter()
                .any(|e| e.contains("SOLVE in a mechanism that runs procedurally"))
        );
        assert!(
            errors("INITIAL { FROM i = 0 TO 1e9 { a[0] = i } }")
                .iter()
                .any(|e| e.contains("does not end in time"))
        );
        assert!(errors("INITIAL { FROM i = 0 TO 1 { a[i] = i } }").is_empty());
    }
}
