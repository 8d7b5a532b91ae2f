//! The symbol table: declarations of a module in, every name with its kind, unit and default out.

use crate::ast::MechanismKind;
use crate::source::Span;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum SymbolKind {
    Parameter,
    Constant,
    State,
    Assigned,
    /// An ASSIGNED variable listed as a POINTER: its value comes from the variable the model binds it to.
    Pointer,
    /// An ion variable named by USEION (`ena`, `ina`, `cai`, ...).
    Ion {
        ion: String,
        write: bool,
    },
    /// A current named by NONSPECIFIC_CURRENT or ELECTRODE_CURRENT.
    Current {
        electrode: bool,
    },
    /// `v`, `t`, `dt`, `celsius`, `diam`, `area`.
    Builtin,
    Function {
        arity: usize,
    },
    Procedure {
        arity: usize,
    },
    Derivative,
    Kinetic,
    /// A LINEAR or NONLINEAR block.
    Algebraic,
    /// A RANDOM stream (NEURON 9), read only through the `random_*` functions.
    RandomStream,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub unit: Option<String>,
    pub default: Option<f64>,
    pub bounds: Option<(f64, f64)>,
    pub span: Span,
    /// For a STATE or PARAMETER that is also an ion variable (e.g. `cai` as a STATE): the ion and whether it is written.
    pub ion: Option<(String, bool)>,
}

/// How a mechanism uses one ion species.
#[derive(Clone, Debug, PartialEq)]
pub struct IonUse {
    pub ion: String,
    pub read: Vec<String>,
    pub write: Vec<String>,
    pub valence: Option<f64>,
}

/// The mechanism's outward interface, as `rall check` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct MechanismInfo {
    pub name: String,
    pub kind: MechanismKind,
    pub title: Option<String>,
    pub ions: Vec<IonUse>,
    pub nonspecific_currents: Vec<String>,
    pub electrode_currents: Vec<String>,
    /// POINTER variables, in declaration order.
    pub pointers: Vec<String>,
    /// RANDOM streams (NEURON 9), in declaration order.
    pub randoms: Vec<String>,
}

/// Every declared name of a module, in a deterministic order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SymbolTable {
    pub symbols: BTreeMap<String, Symbol>,
}

impl SymbolTable {
    pub fn get(&self, name: &str) -> Option<&Symbol> {
        self.symbols.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.symbols.keys().map(String::as_str)
    }

    pub fn of_kind<'a>(&'a self, pred: impl Fn(&SymbolKind) -> bool + 'a) -> impl Iterator<Item = &'a Symbol> + 'a {
        self.symbols.values().filter(move |s| pred(&s.kind))
    }
}

/// Variables every mechanism can read.
pub const BUILTINS: [&str; 6] = ["v", "t", "dt", "celsius", "diam", "area"];

/// NEURON 9's functions of a RANDOM stream (its first argument), with the numbers of arguments each takes.
pub const RANDOM_FUNCTIONS: [(&str, &[usize]); 7] = [
    ("random_setseq", &[2]),
    ("random_setids", &[4]),
    ("random_uniform", &[1, 3]),
    ("random_negexp", &[1, 2]),
    ("random_normal", &[1, 3]),
    ("random_dpick", &[1]),
    ("random_ipick", &[1]),
];

/// Functions every mechanism can call, with their arity.
pub const BUILTIN_FUNCTIONS: [(&str, usize); 22] = [
    ("exp", 1),
    ("log", 1),
    ("log10", 1),
    ("sqrt", 1),
    ("fabs", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("tanh", 1),
    ("pow", 2),
    ("min", 2),
    ("max", 2),
    ("atan2", 2),
    ("normrand", 2),
    ("exprelr", 1),
    ("expm1", 1),
    ("floor", 1),
    ("ceil", 1),
    ("at_time", 1),
    // Random numbers in events and procedures (the mechanism then runs procedurally): an exponential sample of
    // the given mean, a uniform sample in (0, 1), and reseeding the instance's stream.
    ("exprand", 1),
    ("scop_random", 0),
    ("set_seed", 1),
];
