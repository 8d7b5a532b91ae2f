//! rall-nmodl: NMODL `.mod` text in, a checked mechanism description and its differentiable kernels out.
//!
//! Stages: [`lex`] → [`parse`] (recovering, every error with a span) →
//! [`sema`] (names, ions, kinds) → [`lower`] (kernels as expression graphs) →
//! [`ir`] (the graph and its symbolic derivatives). Knows nothing about cells.

pub mod ast;
pub mod compile;
pub mod diagnostics;
pub mod ir;
pub mod lex;
pub mod lower;
pub mod parse;
pub mod procedural;
pub mod sema;
pub mod source;

pub use diagnostics::{Diagnostic, Severity};
pub use source::{SourceFile, Span};

pub use compile::{Compiled, compile};
