//! A procedural program: a checked module's blocks and routines in, statements over slots and frame locals out
//! (every name resolved once, so running looks nothing up by name).

use crate::ast::{self, BinaryOp, Body, Expr as AstExpr, Module, Statement, UnaryOp};
use crate::ir::{Func, Slot, SlotId};
use crate::source::Span;
use std::collections::HashMap;

/// Where a value lives: a slot of the instance, a local of the running frame, or an array element whose index
/// is computed at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    Slot(SlotId),
    Local(usize),
    Element {
        array: String,
        first: SlotId,
        len: usize,
        index: Box<Expr>,
        span: Span,
    },
}

/// Random draws, on one of the instance's seeded streams (0: `scop_random`'s, `exprand`'s and `normrand`'s;
/// k > 0: the k-th RANDOM stream of the NEURON block).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Draw {
    /// `normrand(mean, sd)`, `random_normal(r[, mean, sd])`
    Normal,
    /// `exprand(mean)`, `random_negexp(r[, mean])`
    Exponential,
    /// `scop_random()`, `random_uniform(r)`, `random_dpick(r)`: uniform in (0, 1).
    Uniform,
    /// `random_uniform(r, a, b)`: uniform in (a, b).
    UniformIn,
    /// `random_ipick(r)`: a whole number from 0 to 2^32 - 1.
    Whole,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Read(Place),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Func(Func, Vec<Expr>),
    /// A draw from stream `usize` with its arguments.
    Draw(Draw, usize, Vec<Expr>),
    /// A FUNCTION: routine index, arguments, the call's span.
    Call(usize, Vec<Expr>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Set(Place, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    While(Expr, Vec<Stmt>, Span),
    From {
        variable: usize,
        from: Expr,
        to: Expr,
        by: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    /// A PROCEDURE (or a FUNCTION called as a statement).
    Call(usize, Vec<Expr>, Span),
    /// `net_send(delay, flag)`
    Send(Expr, Expr),
    /// `net_event(t)`
    Spike(Expr),
    /// `net_move(t)`
    Move(Expr),
    /// `set_seed(x)` (stream 0), `random_setseq(r, x)`, `random_setids(r, a, b, c)`: restarts a stream.
    Seed(usize, Vec<Expr>),
}

/// A block run with a frame of `locals` values (its LOCALs and loop variables).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub statements: Vec<Stmt>,
    pub locals: usize,
}

/// A FUNCTION or PROCEDURE: its arguments are the frame's first locals; a FUNCTION's value is local `result`.
#[derive(Clone, Debug, PartialEq)]
pub struct Routine {
    pub name: String,
    pub arguments: usize,
    pub result: Option<usize>,
    pub block: Block,
}

/// Everything a procedural mechanism runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub routines: Vec<Routine>,
    pub initial: Option<Block>,
    pub breakpoint: Option<Block>,
    pub net_receive: Option<Block>,
    pub net_receive_initial: Option<Block>,
}

impl Program {
    /// Whether any block or routine draws random numbers (then its runs are not NEURON's, draw for draw).
    pub fn draws_random(&self) -> bool {
        fn expr(e: &Expr) -> bool {
            match e {
                Expr::Number(_) => false,
                Expr::Read(Place::Element { index, .. }) => expr(index),
                Expr::Read(_) => false,
                Expr::Unary(_, a) => expr(a),
                Expr::Binary(_, a, b) => expr(a) || expr(b),
                Expr::Draw(..) => true,
                Expr::Func(_, args) | Expr::Call(_, args, _) => args.iter().any(expr),
            }
        }
        fn statements(list: &[Stmt]) -> bool {
            list.iter().any(|s| match s {
                Stmt::Set(p, e) => expr(e) || expr(&Expr::Read(p.clone())),
                Stmt::If(c, a, b) => expr(c) || statements(a) || statements(b),
                Stmt::While(c, body, _) => expr(c) || statements(body),
                Stmt::From { from, to, by, body, .. } => [from, to, by].into_iter().any(expr) || statements(body),
                Stmt::Call(_, args, _) => args.iter().any(expr),
                Stmt::Send(a, b) => expr(a) || expr(b),
                Stmt::Spike(a) | Stmt::Move(a) => expr(a),
                Stmt::Seed(..) => true,
            })
        }
        let blocks = [
            &self.initial,
            &self.breakpoint,
            &self.net_receive,
            &self.net_receive_initial,
        ];
        blocks.into_iter().flatten().any(|b| statements(&b.statements))
            || self.routines.iter().any(|r| statements(&r.block.statements))
    }
}

/// Resolves the module's blocks against `slots` (named as the lowered mechanism names them) and its constants.
pub fn resolve(module: &Module, slots: &[Slot], constants: &HashMap<String, f64>) -> Program {
    let routines: Vec<&ast::Routine> = module.functions.iter().chain(&module.procedures).collect();
    let index: HashMap<&str, usize> = routines
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.text.as_str(), i))
        .collect();
    let randoms = module
        .neuron
        .iter()
        .flat_map(|n| &n.randoms)
        .enumerate()
        .map(|(k, n)| (n.text.clone(), k + 1))
        .collect();
    let r = Resolver {
        randoms,
        slots: slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as SlotId))
            .collect(),
        arrays: module.arrays.iter().cloned().collect(),
        constants,
        routines: &index,
    };
    let program_routines = routines
        .iter()
        .enumerate()
        .map(|(i, routine)| {
            let mut frame = Frame::default();
            for p in &routine.params {
                frame.declare(&p.text);
            }
            let function = i < module.functions.len();
            let result = function.then(|| frame.declare(&routine.name.text));
            let statements = r.body(&routine.body, &mut frame);
            Routine {
                name: routine.name.text.clone(),
                arguments: routine.params.len(),
                result,
                block: Block {
                    statements,
                    locals: frame.count,
                },
            }
        })
        .collect();
    let block = |b: &Body| {
        let mut frame = Frame::default();
        let statements = r.body(b, &mut frame);
        Block {
            statements,
            locals: frame.count,
        }
    };
    Program {
        routines: program_routines,
        initial: module.initial.as_ref().map(block),
        breakpoint: module.breakpoint.as_ref().map(block),
        net_receive: module.net_receive.as_ref().map(|r| block(&r.body)),
        net_receive_initial: module.net_receive_initial.as_ref().map(block),
    }
}

/// The locals visible in a body (a nested body sees its parent's and hides them with its own).
#[derive(Clone, Default)]
struct Frame {
    names: HashMap<String, usize>,
    count: usize,
}

impl Frame {
    fn declare(&mut self, name: &str) -> usize {
        let k = self.count;
        self.names.insert(name.to_string(), k);
        self.count += 1;
        k
    }
}

struct Resolver<'a> {
    /// RANDOM streams by name (numbered from 1; stream 0 is the instance's own).
    randoms: HashMap<String, usize>,
    slots: HashMap<String, SlotId>,
    arrays: HashMap<String, usize>,
    constants: &'a HashMap<String, f64>,
    routines: &'a HashMap<&'a str, usize>,
}

impl Resolver<'_> {
    /// A nested body: its own LOCALs hide the parent's names, and the frame's size covers both.
    fn nested(&self, body: &Body, frame: &mut Frame) -> Vec<Stmt> {
        let mut inner = frame.clone();
        let statements = self.body(body, &mut inner);
        frame.count = inner.count;
        statements
    }

    fn body(&self, body: &Body, frame: &mut Frame) -> Vec<Stmt> {
        let mut out = Vec::new();
        for s in &body.statements {
            match s {
                Statement::Local(names) => {
                    for n in names {
                        frame.declare(&n.text);
                    }
                }
                Statement::Assign { target, value } => {
                    let value = self.expr(value, frame);
                    out.push(Stmt::Set(self.place(target, frame), value));
                }
                Statement::If {
                    condition,
                    then,
                    otherwise,
                } => out.push(Stmt::If(
                    self.expr(condition, frame),
                    self.nested(then, frame),
                    otherwise.as_ref().map(|o| self.nested(o, frame)).unwrap_or_default(),
                )),
                Statement::While { condition, body, span } => out.push(Stmt::While(
                    self.expr(condition, frame),
                    self.nested(body, frame),
                    *span,
                )),
                Statement::From {
                    variable,
                    from,
                    to,
                    by,
                    body,
                    span,
                } => {
                    let (from, to) = (self.expr(from, frame), self.expr(to, frame));
                    let by = by.as_ref().map_or(Expr::Number(1.0), |b| self.expr(b, frame));
                    let mut inner = frame.clone();
                    let k = inner.declare(&variable.text);
                    let body = self.body(body, &mut inner);
                    frame.count = inner.count;
                    out.push(Stmt::From {
                        variable: k,
                        from,
                        to,
                        by,
                        body,
                        span: *span,
                    });
                }
                // At a fixed step NEURON's state_discontinuity(x, value) is the assignment x = value.
                Statement::Call { name, args } if name.text == "state_discontinuity" => {
                    if let [AstExpr::Name(target), value] = args.as_slice() {
                        let value = self.expr(value, frame);
                        out.push(Stmt::Set(self.place(target, frame), value));
                    }
                }
                Statement::Call { name, args } => {
                    let ast_args = args;
                    let mut args: Vec<Expr> = args.iter().map(|a| self.expr(a, frame)).collect();
                    let arg = |args: &mut Vec<Expr>, k: usize| std::mem::replace(&mut args[k], Expr::Number(0.0));
                    out.push(match name.text.as_str() {
                        "net_send" => Stmt::Send(arg(&mut args, 0), arg(&mut args, 1)),
                        "net_event" => Stmt::Spike(arg(&mut args, 0)),
                        "net_move" => Stmt::Move(arg(&mut args, 0)),
                        "set_seed" => Stmt::Seed(0, vec![arg(&mut args, 0)]),
                        "random_setseq" | "random_setids" => {
                            Stmt::Seed(self.stream_of(ast_args), args.split_off(1.min(args.len())))
                        }
                        other => match self.routines.get(other) {
                            Some(&r) => Stmt::Call(r, args, name.span),
                            // A built-in called for nothing (its value unused): evaluated for its draws.
                            None => {
                                let value = self.builtin(other, ast_args, args, name.span);
                                Stmt::Set(Place::Local(frame.declare("")), value)
                            }
                        },
                    });
                }
                Statement::NestedInitial(_)
                | Statement::Table { .. }
                | Statement::UnitsToggle
                | Statement::Solve { .. }
                | Statement::Derivative { .. }
                | Statement::Reaction { .. }
                | Statement::Equation { .. }
                | Statement::Verbatim(_)
                | Statement::Flux { .. }
                | Statement::Conserve { .. }
                | Statement::Compartment { .. }
                | Statement::Watch { .. } => {}
            }
        }
        out
    }

    fn place(&self, n: &ast::Name, frame: &Frame) -> Place {
        if let Some(index) = &n.index {
            let first = self.slots.get(&format!("{}[0]", n.text)).copied().unwrap_or(0);
            return Place::Element {
                array: n.text.clone(),
                first,
                len: self.arrays.get(&n.text).copied().unwrap_or(0),
                index: Box::new(self.expr(index, frame)),
                span: n.span,
            };
        }
        if let Some(&k) = frame.names.get(&n.text) {
            return Place::Local(k);
        }
        Place::Slot(self.slots.get(&n.text).copied().unwrap_or(0))
    }

    fn expr(&self, e: &AstExpr, frame: &Frame) -> Expr {
        match e {
            AstExpr::Number(x, _) => Expr::Number(*x),
            AstExpr::Name(n) if n.index.is_none() && !frame.names.contains_key(&n.text) => {
                if let Some(&slot) = self.slots.get(&n.text) {
                    return Expr::Read(Place::Slot(slot));
                }
                Expr::Number(match n.text.as_str() {
                    "PI" => std::f64::consts::PI,
                    "FARADAY" => 96485.33212331001,
                    "R" => 8.31446261815324,
                    other => self.constants.get(other).copied().unwrap_or(f64::NAN),
                })
            }
            AstExpr::Name(n) => Expr::Read(self.place(n, frame)),
            AstExpr::Unary(op, a, _) => Expr::Unary(*op, Box::new(self.expr(a, frame))),
            AstExpr::Binary(op, a, b, _) => {
                Expr::Binary(*op, Box::new(self.expr(a, frame)), Box::new(self.expr(b, frame)))
            }
            AstExpr::Call(name, args, span) => {
                let ast_args = args;
                let args: Vec<Expr> = args.iter().map(|a| self.expr(a, frame)).collect();
                match self.routines.get(name.text.as_str()) {
                    Some(&r) => Expr::Call(r, args, *span),
                    None => self.builtin(&name.text, ast_args, args, *span),
                }
            }
        }
    }

    /// The RANDOM stream a `random_*` call names (its first argument).
    fn stream_of(&self, args: &[AstExpr]) -> usize {
        match args.first() {
            Some(AstExpr::Name(n)) => self.randoms.get(&n.text).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// A built-in function (sema checked the name and the number of arguments); `ast_args` are the arguments
    /// as written (for the RANDOM stream a `random_*` function names).
    fn builtin(&self, name: &str, ast_args: &[AstExpr], mut args: Vec<Expr>, _span: Span) -> Expr {
        if name.starts_with("random_") {
            let stream = self.stream_of(ast_args);
            args.remove(0);
            let number = Expr::Number;
            return match (name, args.len()) {
                ("random_negexp", 0) => Expr::Draw(Draw::Exponential, stream, vec![number(1.0)]),
                ("random_negexp", _) => Expr::Draw(Draw::Exponential, stream, args),
                ("random_normal", 0) => Expr::Draw(Draw::Normal, stream, vec![number(0.0), number(1.0)]),
                ("random_normal", _) => Expr::Draw(Draw::Normal, stream, args),
                ("random_uniform", 2) => Expr::Draw(Draw::UniformIn, stream, args),
                ("random_ipick", _) => Expr::Draw(Draw::Whole, stream, args),
                _ => Expr::Draw(Draw::Uniform, stream, args),
            };
        }
        let f = match name {
            "exp" => Func::Exp,
            "expm1" => Func::Expm1,
            "log" => Func::Log,
            "log10" => Func::Log10,
            "sqrt" => Func::Sqrt,
            "fabs" => Func::Fabs,
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tan" => Func::Tan,
            "tanh" => Func::Tanh,
            "floor" => Func::Floor,
            "ceil" => Func::Ceil,
            "min" => Func::Min,
            "max" => Func::Max,
            "atan2" => Func::Atan2,
            "pow" => {
                let mut a = args.into_iter();
                let base = a.next().unwrap_or(Expr::Number(f64::NAN));
                let exponent = a.next().unwrap_or(Expr::Number(f64::NAN));
                return Expr::Binary(BinaryOp::Pow, Box::new(base), Box::new(exponent));
            }
            "exprelr" => {
                // x / (exp(x) - 1) = 1 / exprel(x)
                let exprel = Expr::Func(Func::Exprel, args);
                return Expr::Binary(BinaryOp::Div, Box::new(Expr::Number(1.0)), Box::new(exprel));
            }
            "normrand" => return Expr::Draw(Draw::Normal, 0, args),
            "exprand" => return Expr::Draw(Draw::Exponential, 0, args),
            "scop_random" => return Expr::Draw(Draw::Uniform, 0, args),
            // `at_time` (a notice for variable-step integrators) is 0 at a fixed step.
            _ => return Expr::Number(0.0),
        };
        Expr::Func(f, args)
    }
}
