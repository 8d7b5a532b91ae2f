//! The whole front end in one call: `.mod` text in, the checked interface and lowered IR (or every diagnostic) out.

use crate::ast::{Module, Statement};
use crate::diagnostics::Diagnostic;
use crate::ir::MechanismIr;
use crate::parse::parse;
use crate::procedural::{Procedural, resolve, without_statements};
use crate::sema::SymbolKind;
use crate::sema::{MechanismInfo, SymbolTable, check_module};
use crate::source::SourceFile;
use crate::source::Span;

/// A successfully compiled mechanism, with any warnings.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub source: SourceFile,
    pub info: MechanismInfo,
    pub symbols: SymbolTable,
    pub ir: MechanismIr,
    pub warnings: Vec<Diagnostic>,
}

/// Parses, checks and lowers one file. On failure returns the source and every diagnostic.
pub fn compile(file_name: &str, text: &str) -> Result<Compiled, (SourceFile, Vec<Diagnostic>)> {
    let source = SourceFile::new(file_name, text);
    let (module, mut diagnostics) = parse(&source);
    let checked = check_module(&module, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err((source, diagnostics));
    }
    let Some((symbols, info)) = checked else {
        return Err((source, diagnostics));
    };
    let reasons = crate::procedural::reasons(&module);
    if !reasons.is_empty() {
        return compile_procedural(source, module, symbols, info, &reasons, diagnostics);
    }
    match crate::lower::lower(&module, &symbols, &info) {
        Ok(ir) => Ok(Compiled {
            source,
            info,
            symbols,
            ir,
            warnings: diagnostics,
        }),
        Err(mut more) => {
            diagnostics.append(&mut more);
            Err((source, diagnostics))
        }
    }
}

/// A module the graph cannot express (see [`crate::procedural`]): its interface lowered without statements, its
/// blocks resolved into a program. What a procedural mechanism cannot do is an error naming both constructs.
fn compile_procedural(
    source: SourceFile,
    module: Module,
    symbols: SymbolTable,
    info: MechanismInfo,
    reasons: &[(Span, String)],
    mut diagnostics: Vec<Diagnostic>,
) -> Result<Compiled, (SourceFile, Vec<Diagnostic>)> {
    let (first_span, first_reason) = &reasons[0];
    let (line, _) = source.line_column(first_span.start);
    let reason = format!("{}:{line}: {first_reason}", source.name);
    let neuron = module.neuron.as_ref().expect("checked modules have a NEURON block");
    let mut refuse = |span: Span, what: &str| {
        diagnostics.push(
            Diagnostic::error(span, format!("{what} in a mechanism that runs procedurally"))
                .with_note(format!("it runs procedurally because {reason}"))
                .with_note("rall runs such a mechanism statement by statement, which supports no SOLVE, ions, POINTERs or WATCH"),
        )
    };
    let solve = module
        .breakpoint
        .iter()
        .chain(&module.initial)
        .flat_map(|b| &b.statements)
        .find_map(|s| match s {
            Statement::Solve { block, .. } => Some(block.span),
            _ => None,
        });
    if let Some(span) = solve {
        refuse(span, "SOLVE");
    }
    if let Some(u) = neuron.ions.first() {
        refuse(u.ion.span, "an ion");
    }
    if let Some(p) = neuron.pointers.first() {
        refuse(p.span, "a POINTER");
    }
    let watch = module
        .net_receive
        .iter()
        .flat_map(|r| &r.body.statements)
        .find_map(|s| match s {
            Statement::Watch { span, .. } => Some(*span),
            _ => None,
        });
    if let Some(span) = watch {
        refuse(span, "WATCH");
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err((source, diagnostics));
    }
    let mut ir = match crate::lower::lower(&without_statements(&module), &symbols, &info) {
        Ok(ir) => ir,
        Err(mut more) => {
            diagnostics.append(&mut more);
            return Err((source, diagnostics));
        }
    };
    let constants = symbols
        .of_kind(|k| *k == SymbolKind::Constant)
        .filter_map(|s| s.default.map(|v| (s.name.clone(), v)))
        .collect();
    ir.procedural = Some(Box::new(Procedural {
        program: resolve(&module, &ir.slots, &constants),
        reason,
        source: source.clone(),
    }));
    Ok(Compiled {
        source,
        info,
        symbols,
        ir,
        warnings: diagnostics,
    })
}
