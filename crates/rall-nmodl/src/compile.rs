//! The whole front end in one call: `.mod` text in, the checked interface and lowered IR (or every diagnostic) out.

use crate::diagnostics::Diagnostic;
use crate::ir::MechanismIr;
use crate::parse::parse;
use crate::sema::{MechanismInfo, SymbolTable, check_module};
use crate::source::SourceFile;

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
