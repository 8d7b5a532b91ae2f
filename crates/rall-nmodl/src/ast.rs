//! The syntax tree of one `.mod` file, as written (names unresolved), every node with its span.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
    /// `x[index]` as written; [`crate::parse`] turns every constant index into a name `x[k]`. An index known
    /// only at run time stays (the mechanism then runs procedurally, see [`crate::procedural`]).
    pub index: Option<Box<Expr>>,
}

impl Name {
    pub fn new(text: impl Into<String>, span: Span) -> Self {
        Self {
            text: text.into(),
            span,
            index: None,
        }
    }
}

/// A whole file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Module {
    pub title: Option<String>,
    pub neuron: Option<NeuronBlock>,
    pub parameters: Vec<VarDecl>,
    pub constants: Vec<VarDecl>,
    pub states: Vec<VarDecl>,
    pub assigned: Vec<VarDecl>,
    pub initial: Option<Body>,
    pub breakpoint: Option<Body>,
    pub derivatives: Vec<Routine>,
    pub kinetics: Vec<Routine>,
    /// LINEAR and NONLINEAR blocks: algebraic equations `~ lhs = rhs` solved for their unknowns.
    pub algebraic: Vec<Algebraic>,
    pub procedures: Vec<Routine>,
    pub functions: Vec<Routine>,
    pub net_receive: Option<Routine>,
    /// NET_RECEIVE's own INITIAL block: run for each event stream (NEURON: each NetCon) at initialisation.
    pub net_receive_initial: Option<Body>,
    /// Arrays and their sizes (set by the parser, which declares each element `x[k]` as a scalar).
    pub arrays: Vec<(String, usize)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MechanismKind {
    Density,
    PointProcess,
    ArtificialCell,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NeuronBlock {
    pub kind: MechanismKind,
    pub name: Name,
    pub ions: Vec<UseIon>,
    pub nonspecific_currents: Vec<Name>,
    pub electrode_currents: Vec<Name>,
    pub range: Vec<Name>,
    pub global: Vec<Name>,
    /// POINTER names: ASSIGNED variables whose value another variable (bound by the model) provides.
    pub pointers: Vec<Name>,
    /// RANDOM names: per-instance random streams, read by the `random_*` functions.
    pub randoms: Vec<Name>,
    pub threadsafe: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UseIon {
    pub ion: Name,
    pub read: Vec<Name>,
    pub write: Vec<Name>,
    pub valence: Option<f64>,
}

/// A declaration in PARAMETER, CONSTANT, STATE or ASSIGNED.
#[derive(Clone, Debug, PartialEq)]
pub struct VarDecl {
    pub name: Name,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub bounds: Option<(f64, f64)>,
    /// `x[size]`: an array of `size` values (a number or a DEFINE name); unrolled into `x[0]`, `x[1]`, ...
    pub size: Option<Expr>,
}

/// A LINEAR or NONLINEAR block. Its unknowns are the `SOLVEFOR` names, or else the STATEs its equations name.
#[derive(Clone, Debug, PartialEq)]
pub struct Algebraic {
    pub routine: Routine,
    pub nonlinear: bool,
    pub solve_for: Vec<Name>,
}

/// A named block with arguments: PROCEDURE, FUNCTION, DERIVATIVE, KINETIC, NET_RECEIVE.
#[derive(Clone, Debug, PartialEq)]
pub struct Routine {
    pub name: Name,
    pub params: Vec<Name>,
    pub body: Body,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Local(Vec<Name>),
    Assign {
        target: Name,
        value: Expr,
    },
    /// `x' = expr` in a DERIVATIVE block.
    Derivative {
        state: Name,
        value: Expr,
    },
    If {
        condition: Expr,
        then: Body,
        otherwise: Option<Body>,
    },
    Call {
        name: Name,
        args: Vec<Expr>,
    },
    Solve {
        block: Name,
        method: Option<Name>,
        steady_state: bool,
    },
    /// TABLE statements are accepted and ignored: rall evaluates exactly.
    Table {
        span: Span,
    },
    /// `~ lhs <-> rhs (kf, kb)` or `~ lhs -> rhs (kf)` in a KINETIC block.
    Reaction {
        left: Vec<(f64, Name)>,
        right: Vec<(f64, Name)>,
        forward: Expr,
        backward: Option<Expr>,
        span: Span,
    },
    /// `~ lhs = rhs` in a LINEAR or NONLINEAR block.
    Equation {
        left: Expr,
        right: Expr,
        span: Span,
    },
    /// `~ x << (flux)`: a flux into a state.
    Flux {
        state: Name,
        flux: Expr,
        span: Span,
    },
    Conserve {
        left: Expr,
        right: Expr,
        span: Span,
    },
    /// `COMPARTMENT volume {states}`, or `COMPARTMENT i, volume {arrays}`: one volume per element.
    Compartment {
        index: Option<Name>,
        volume: Expr,
        states: Vec<Name>,
        span: Span,
    },
    /// `FROM i = a TO b [BY c] { ... }`, unrolled by the parser when its bounds are constants; a loop whose
    /// bounds are known only at run time stays.
    From {
        variable: Name,
        from: Expr,
        to: Expr,
        by: Option<Expr>,
        body: Body,
        span: Span,
    },
    /// `while (condition) { ... }`: run procedurally.
    While {
        condition: Expr,
        body: Body,
        span: Span,
    },
    /// UNITSON / UNITSOFF: accepted, no effect.
    UnitsToggle,
    /// `WATCH (condition) flag, ...` in NET_RECEIVE: each condition sends a self-event with its flag when it
    /// becomes true.
    Watch {
        conditions: Vec<(Expr, Expr)>,
        span: Span,
    },
    /// A VERBATIM block (embedded C) inside a block: allowed only where rall never runs it (a PROCEDURE or
    /// FUNCTION that no block calls, kept for hoc).
    Verbatim(Span),
    /// An `INITIAL { ... }` inside NET_RECEIVE (moved to [`Module::net_receive_initial`] by the parser).
    NestedInitial(Body),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64, Span),
    Name(Name),
    Call(Name, Vec<Expr>, Span),
    Unary(UnaryOp, Box<Expr>, Span),
    Binary(BinaryOp, Box<Expr>, Box<Expr>, Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(_, s) | Expr::Call(_, _, s) | Expr::Unary(_, _, s) | Expr::Binary(_, _, _, s) => *s,
            Expr::Name(n) => n.span,
        }
    }
}
