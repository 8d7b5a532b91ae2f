//! Semantic checks: a parsed [`Module`](crate::ast::Module) in, a [`SymbolTable`] out, with diagnostics
//! for undefined names, bad assignments, ion usage, SOLVE targets, current units and recursion.

mod calls;
mod check_module;
mod reach;
mod symbols;
pub mod units;

pub use check_module::check_module;
pub(crate) use reach::recursive_routine;
pub use symbols::{IonUse, MechanismInfo, Symbol, SymbolKind, SymbolTable};
