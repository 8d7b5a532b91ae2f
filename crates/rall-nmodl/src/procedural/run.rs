//! Running a procedural program: a block, one instance's slot values (a column per slot) and a host for random
//! draws and events in; the slots it sets, the events it asks for, or a located [`RunError`] out.

use super::program::{Block, Draw, Expr, Place, Program, Stmt};
use crate::ast::{BinaryOp, UnaryOp};
use crate::source::Span;

/// The most loop iterations one run of a block may take (a `while` whose condition never turns false).
pub const MAX_ITERATIONS: u64 = 100_000_000;
/// The deepest nesting of calls (a recursion that does not end).
pub const MAX_CALL_DEPTH: usize = 1_000;

/// What the program asks of the simulation: random samples and events.
pub trait Host {
    /// A uniform sample in (0, 1) from the instance's stream `stream` (0: its own; k: its k-th RANDOM stream).
    fn uniform(&mut self, stream: usize) -> f64;
    /// Restarts a stream from the given numbers (`set_seed(x)`, `random_setseq(r, x)`, `random_setids(r, ...)`).
    fn reseed(&mut self, stream: usize, seed: &[f64]);
    /// `net_send(delay, flag)`
    fn send(&mut self, delay_ms: f64, flag: f64);
    /// `net_event(t)`
    fn spike(&mut self, t_ms: f64);
    /// `net_move(t)`
    fn move_to(&mut self, t_ms: f64);
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error("index {index} of `{array}` is outside 0 to {last}", last = .len.saturating_sub(1))]
    IndexOutOfRange {
        array: String,
        index: f64,
        len: usize,
        span: Span,
    },
    #[error("a loop ran for more than {MAX_ITERATIONS} iterations")]
    EndlessLoop { span: Span },
    #[error("calls nested more than {MAX_CALL_DEPTH} deep (a recursion that does not end?)")]
    TooDeep { span: Span },
}

impl RunError {
    pub fn span(&self) -> Span {
        match self {
            RunError::IndexOutOfRange { span, .. } | RunError::EndlessLoop { span } | RunError::TooDeep { span } => {
                *span
            }
        }
    }
}

/// One instance's values during a run.
pub struct Machine<'a> {
    program: &'a Program,
    /// One column per slot; this run reads and writes entry `instance` of each.
    columns: &'a mut [Vec<f64>],
    instance: usize,
    host: &'a mut dyn Host,
    iterations: u64,
    depth: usize,
}

impl<'a> Machine<'a> {
    pub fn new(program: &'a Program, columns: &'a mut [Vec<f64>], instance: usize, host: &'a mut dyn Host) -> Self {
        Self {
            program,
            columns,
            instance,
            host,
            iterations: 0,
            depth: 0,
        }
    }

    /// Runs a block of the program with a fresh frame (its locals start at 0).
    pub fn run(&mut self, block: &Block) -> Result<(), RunError> {
        let mut frame = vec![0.0; block.locals];
        self.statements(&block.statements, &mut frame)
    }

    fn statements(&mut self, statements: &[Stmt], frame: &mut [f64]) -> Result<(), RunError> {
        for s in statements {
            self.statement(s, frame)?;
        }
        Ok(())
    }

    fn count(&mut self, span: Span) -> Result<(), RunError> {
        self.iterations += 1;
        if self.iterations > MAX_ITERATIONS {
            return Err(RunError::EndlessLoop { span });
        }
        Ok(())
    }

    fn statement(&mut self, s: &Stmt, frame: &mut [f64]) -> Result<(), RunError> {
        match s {
            Stmt::Set(place, value) => {
                let x = self.expr(value, frame)?;
                self.write(place, x, frame)?;
            }
            Stmt::If(condition, then, otherwise) => {
                if self.expr(condition, frame)? != 0.0 {
                    self.statements(then, frame)?;
                } else {
                    self.statements(otherwise, frame)?;
                }
            }
            Stmt::While(condition, body, span) => {
                while self.expr(condition, frame)? != 0.0 {
                    self.count(*span)?;
                    self.statements(body, frame)?;
                }
            }
            Stmt::From {
                variable,
                from,
                to,
                by,
                body,
                span,
            } => {
                // NEURON evaluates the bounds once and steps the loop variable by `by` (positive or negative).
                let (a, b, step) = (self.expr(from, frame)?, self.expr(to, frame)?, self.expr(by, frame)?);
                let mut i = a;
                while (step > 0.0 && i <= b) || (step < 0.0 && i >= b) {
                    self.count(*span)?;
                    frame[*variable] = i;
                    self.statements(body, frame)?;
                    i += step;
                }
                if step == 0.0 && a <= b {
                    return Err(RunError::EndlessLoop { span: *span });
                }
            }
            Stmt::Call(routine, args, span) => {
                self.call(*routine, args, *span, frame)?;
            }
            Stmt::Send(delay, flag) => {
                let (d, f) = (self.expr(delay, frame)?, self.expr(flag, frame)?);
                self.host.send(d, f);
            }
            Stmt::Spike(t) => {
                let t = self.expr(t, frame)?;
                self.host.spike(t);
            }
            Stmt::Move(t) => {
                let t = self.expr(t, frame)?;
                self.host.move_to(t);
            }
            Stmt::Seed(stream, values) => {
                let values = values
                    .iter()
                    .map(|x| self.expr(x, frame))
                    .collect::<Result<Vec<f64>, _>>()?;
                self.host.reseed(*stream, &values);
            }
        }
        Ok(())
    }

    /// Calls a routine; its value (0 for a PROCEDURE).
    fn call(&mut self, routine: usize, args: &[Expr], span: Span, frame: &mut [f64]) -> Result<f64, RunError> {
        let r = &self.program.routines[routine];
        let mut inner = vec![0.0; r.block.locals];
        for (k, a) in args.iter().enumerate().take(r.arguments) {
            inner[k] = self.expr(a, frame)?;
        }
        if self.depth >= MAX_CALL_DEPTH {
            return Err(RunError::TooDeep { span });
        }
        self.depth += 1;
        let outcome = self.statements(&r.block.statements, &mut inner);
        self.depth -= 1;
        outcome?;
        Ok(r.result.map_or(0.0, |k| inner[k]))
    }

    fn element(&mut self, place: &Place, frame: &mut [f64]) -> Result<usize, RunError> {
        let Place::Element {
            array,
            first,
            len,
            index,
            span,
        } = place
        else {
            unreachable!("only array elements have an index")
        };
        let k = self.expr(index, frame)?;
        // NEURON's generated C truncates the index to an int.
        let whole = k.trunc();
        if !(whole >= 0.0 && whole < *len as f64) {
            return Err(RunError::IndexOutOfRange {
                array: array.clone(),
                index: k,
                len: *len,
                span: *span,
            });
        }
        Ok(*first as usize + whole as usize)
    }

    fn read(&mut self, place: &Place, frame: &mut [f64]) -> Result<f64, RunError> {
        Ok(match place {
            Place::Slot(s) => self.columns[*s as usize][self.instance],
            Place::Local(k) => frame[*k],
            Place::Element { .. } => {
                let s = self.element(place, frame)?;
                self.columns[s][self.instance]
            }
        })
    }

    fn write(&mut self, place: &Place, x: f64, frame: &mut [f64]) -> Result<(), RunError> {
        match place {
            Place::Slot(s) => self.columns[*s as usize][self.instance] = x,
            Place::Local(k) => frame[*k] = x,
            Place::Element { .. } => {
                let s = self.element(place, frame)?;
                self.columns[s][self.instance] = x;
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr, frame: &mut [f64]) -> Result<f64, RunError> {
        Ok(match e {
            Expr::Number(x) => *x,
            Expr::Read(place) => self.read(place, frame)?,
            Expr::Unary(op, a) => {
                let a = self.expr(a, frame)?;
                match op {
                    UnaryOp::Neg => -a,
                    UnaryOp::Not => f64::from(a == 0.0),
                }
            }
            // `&&` and `||` do not evaluate their right side when the left decides (as C does), which matters
            // for the draws a condition makes.
            Expr::Binary(BinaryOp::And, a, b) => f64::from(self.expr(a, frame)? != 0.0 && self.expr(b, frame)? != 0.0),
            Expr::Binary(BinaryOp::Or, a, b) => f64::from(self.expr(a, frame)? != 0.0 || self.expr(b, frame)? != 0.0),
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, frame)?, self.expr(b, frame)?);
                match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div => a / b,
                    BinaryOp::Pow => a.powf(b),
                    BinaryOp::Lt => f64::from(a < b),
                    BinaryOp::Le => f64::from(a <= b),
                    BinaryOp::Gt => f64::from(a > b),
                    BinaryOp::Ge => f64::from(a >= b),
                    BinaryOp::Eq => f64::from(a == b),
                    BinaryOp::Ne => f64::from(a != b),
                    BinaryOp::And | BinaryOp::Or => unreachable!("handled above"),
                }
            }
            Expr::Func(f, args) => match args.as_slice() {
                [a] => {
                    let a = self.expr(a, frame)?;
                    f.apply1(a)
                }
                [a, b] => {
                    let (a, b) = (self.expr(a, frame)?, self.expr(b, frame)?);
                    f.apply2(a, b)
                }
                _ => f64::NAN,
            },
            Expr::Draw(draw, stream, args) => {
                let args = args
                    .iter()
                    .map(|a| self.expr(a, frame))
                    .collect::<Result<Vec<f64>, _>>()?;
                let s = *stream;
                match draw {
                    Draw::Uniform => self.host.uniform(s),
                    Draw::UniformIn => args[0] + (args[1] - args[0]) * self.host.uniform(s),
                    Draw::Whole => (self.host.uniform(s) * 4294967296.0).floor().min(4294967295.0),
                    // mean · (−ln U): an exponential sample of the given mean.
                    Draw::Exponential => -args[0] * self.host.uniform(s).ln(),
                    // Box–Muller: mean + sd · √(−2 ln U1) cos(2π U2).
                    Draw::Normal => {
                        let (u1, u2) = (self.host.uniform(s), self.host.uniform(s));
                        args[0] + args[1] * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                    }
                }
            }
            Expr::Call(routine, args, span) => self.call(*routine, args, *span, frame)?,
        })
    }
}
