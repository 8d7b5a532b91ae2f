//! Parser: tokens in, a [`Module`] out, with every syntax error reported (it recovers at the next line or block).

mod statements;
mod unroll;

use crate::ast::*;
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::lex::{Token, TokenKind, lex};
use crate::source::{SourceFile, Span};

/// Parses a file; the module holds everything that could be read, the diagnostics every problem.
pub fn parse(source: &SourceFile) -> (Module, Vec<Diagnostic>) {
    let (tokens, mut diagnostics) = lex(&source.text);
    let mut parser = Parser {
        source,
        tokens,
        at: 0,
        diagnostics: Vec::new(),
        module: Module::default(),
        depth: 0,
    };
    parser.module_blocks();
    diagnostics.append(&mut parser.diagnostics);
    let mut module = parser.module;
    unroll::unroll(&mut module, &mut diagnostics);
    (module, diagnostics)
}

pub(crate) type PResult<T> = Result<T, Diagnostic>;

pub(crate) struct Parser<'a> {
    source: &'a SourceFile,
    tokens: Vec<Token>,
    at: usize,
    diagnostics: Vec<Diagnostic>,
    module: Module,
    /// How deep the syntax being read is nested (blocks, parentheses, prefix operators, operator chains).
    depth: usize,
}

/// The deepest nesting a file may have. Real files stay far below it; deeper input would overflow the
/// stack of every later pass (each recurses over the syntax tree).
pub const MAX_DEPTH: usize = 200;

const BLOCKS: &[&str] = &[
    "TITLE",
    "UNITS",
    "NEURON",
    "PARAMETER",
    "CONSTANT",
    "STATE",
    "ASSIGNED",
    "INITIAL",
    "BREAKPOINT",
    "DERIVATIVE",
    "KINETIC",
    "LINEAR",
    "NONLINEAR",
    "PROCEDURE",
    "FUNCTION",
    "NET_RECEIVE",
    "INDEPENDENT",
    "UNITSON",
    "UNITSOFF",
    "DEFINE",
    "LOCAL",
];

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.at].clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Punct(q) if *q == p)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(i) if i == w)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.bump();
        }
        yes
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        if yes {
            self.bump();
        }
        yes
    }

    fn describe(t: &Token) -> String {
        match &t.kind {
            TokenKind::Ident(s) => format!("`{s}`"),
            TokenKind::Number(x) => format!("the number {x}"),
            TokenKind::Str(s) => format!("the string \"{s}\""),
            TokenKind::Punct(p) => format!("`{p}`"),
            TokenKind::Verbatim => "a VERBATIM block".into(),
            TokenKind::Eof => "the end of the file".into(),
        }
    }

    pub(crate) fn expected(&self, what: &str) -> Diagnostic {
        let t = self.peek();
        Diagnostic::error(t.span, format!("expected {what}, found {}", Self::describe(t)))
    }

    fn expect_punct(&mut self, p: &str) -> PResult<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    fn name(&mut self, what: &str) -> PResult<Name> {
        match &self.peek().kind {
            TokenKind::Ident(s) => {
                let text = s.clone();
                let span = self.bump().span;
                Ok(Name::new(text, span))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A signed number literal.
    fn number(&mut self, what: &str) -> PResult<f64> {
        let negative = self.eat_punct("-");
        if !negative {
            self.eat_punct("+");
        }
        match self.peek().kind {
            TokenKind::Number(x) => {
                self.bump();
                Ok(if negative { -x } else { x })
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A parenthesised unit, returned as its source text; the caller has checked for `(`.
    fn unit(&mut self) -> PResult<String> {
        let open = self.expect_punct("(")?;
        let mut depth = 1;
        let start = open.end;
        loop {
            let t = self.bump();
            match t.kind {
                TokenKind::Punct("(") => depth += 1,
                TokenKind::Punct(")") => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.source.text[start..t.span.start].trim().to_string());
                    }
                }
                TokenKind::Eof => return Err(Diagnostic::error(open, "this unit's `(` is never closed")),
                _ => {}
            }
        }
    }

    /// Skips a `{ ... }` block (the caller is at `{`), returning its span.
    fn skip_braces(&mut self) -> Span {
        let start = self.peek().span;
        let mut depth = 0;
        loop {
            let t = self.bump();
            match t.kind {
                TokenKind::Punct("{") => depth += 1,
                TokenKind::Punct("}") => {
                    depth -= 1;
                    if depth <= 0 {
                        return start.to(t.span);
                    }
                }
                TokenKind::Eof => return start.to(t.span),
                _ => {}
            }
        }
    }

    /// After an error at top level: skip to the next line that starts a known block.
    fn recover_top_level(&mut self) {
        loop {
            let t = self.peek();
            if matches!(t.kind, TokenKind::Eof) {
                return;
            }
            if t.line_start && matches!(&t.kind, TokenKind::Ident(w) if BLOCKS.contains(&w.as_str())) {
                return;
            }
            if self.is_punct("{") {
                self.skip_braces();
            } else {
                self.bump();
            }
        }
    }

    fn module_blocks(&mut self) {
        loop {
            let t = self.peek().clone();
            let word = match &t.kind {
                TokenKind::Eof => return,
                TokenKind::Ident(w) => w.clone(),
                TokenKind::Verbatim => {
                    self.bump();
                    self.diagnostics.push(Diagnostic::error(
                        t.span,
                        "VERBATIM blocks (embedded C) are not supported by rall",
                    ));
                    continue;
                }
                _ => {
                    self.diagnostics
                        .push(self.expected("a block keyword such as NEURON, PARAMETER or BREAKPOINT"));
                    self.bump();
                    self.recover_top_level();
                    continue;
                }
            };
            self.bump();
            if let Err(d) = self.block(&word, t.span) {
                self.diagnostics.push(d);
                self.recover_top_level();
            }
        }
    }

    fn block(&mut self, word: &str, span: Span) -> PResult<()> {
        match word {
            "TITLE" => {
                // The lexer skipped the rest of the line; read it from the source.
                let line_end = self.source.text[span.end..]
                    .find('\n')
                    .map_or(self.source.text.len(), |p| span.end + p);
                self.module.title = Some(self.source.text[span.end..line_end].trim().to_string());
            }
            "UNITSON" | "UNITSOFF" => {}
            "UNITS" => self.units_block()?,
            "NEURON" => {
                let block = self.neuron_block(span)?;
                if self.module.neuron.is_some() {
                    return Err(Diagnostic::error(span, "a second NEURON block"));
                }
                self.module.neuron = Some(block);
            }
            "PARAMETER" => {
                let mut d = self.declarations(true)?;
                self.module.parameters.append(&mut d);
            }
            "CONSTANT" => {
                let mut d = self.declarations(true)?;
                self.module.constants.append(&mut d);
            }
            "STATE" => {
                let mut d = self.declarations(false)?;
                self.module.states.append(&mut d);
            }
            "ASSIGNED" => {
                let mut d = self.declarations(false)?;
                self.module.assigned.append(&mut d);
            }
            "LOCAL" => {
                // File-level LOCAL variables: per-mechanism scratch values, treated as ASSIGNED.
                loop {
                    let name = self.name("a name")?;
                    let size = self.array_size()?;
                    self.module.assigned.push(VarDecl {
                        name,
                        value: None,
                        unit: None,
                        bounds: None,
                        size,
                    });
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            }
            "DEFINE" => {
                let name = self.name("a name after DEFINE")?;
                let value = self.number("a number")?;
                self.module.constants.push(VarDecl {
                    name,
                    value: Some(value),
                    unit: None,
                    bounds: None,
                    size: None,
                });
            }
            "INDEPENDENT" => {
                if !self.is_punct("{") {
                    return Err(self.expected("`{`"));
                }
                self.skip_braces();
            }
            "INITIAL" | "BREAKPOINT" => {
                let body = self.body()?;
                let slot = if word == "INITIAL" {
                    &mut self.module.initial
                } else {
                    &mut self.module.breakpoint
                };
                if slot.is_some() {
                    return Err(Diagnostic::error(span, format!("a second {word} block")));
                }
                *slot = Some(body);
            }
            "DERIVATIVE" | "KINETIC" => {
                let name = self.name(&format!("a name for the {word} block"))?;
                let body = self.body()?;
                let routine = Routine {
                    span: span.to(body.span),
                    name,
                    params: Vec::new(),
                    body,
                };
                if word == "DERIVATIVE" {
                    self.module.derivatives.push(routine);
                } else {
                    self.module.kinetics.push(routine);
                }
            }
            "LINEAR" | "NONLINEAR" => {
                let name = self.name(&format!("a name for the {word} block"))?;
                let mut solve_for = Vec::new();
                if self.eat_word("SOLVEFOR") {
                    solve_for.push(self.name("a variable to solve for")?);
                    while self.eat_punct(",") {
                        solve_for.push(self.name("a variable to solve for")?);
                    }
                }
                let body = self.body()?;
                self.module.algebraic.push(Algebraic {
                    routine: Routine {
                        span: span.to(body.span),
                        name,
                        params: Vec::new(),
                        body,
                    },
                    nonlinear: word == "NONLINEAR",
                    solve_for,
                });
            }
            "PROCEDURE" | "FUNCTION" => {
                let name = self.name(&format!("a name for the {word}"))?;
                let params = self.parameter_list()?;
                if word == "FUNCTION" && self.is_punct("(") {
                    self.unit()?;
                }
                let body = self.body()?;
                let routine = Routine {
                    span: span.to(body.span),
                    name,
                    params,
                    body,
                };
                if word == "FUNCTION" {
                    self.module.functions.push(routine);
                } else {
                    self.module.procedures.push(routine);
                }
            }
            "NET_RECEIVE" => {
                let params = self.parameter_list()?;
                let mut body = self.body()?;
                // Its own INITIAL block (per event stream) is kept apart from the event's statements.
                let mut statements = Vec::new();
                for s in std::mem::take(&mut body.statements) {
                    match s {
                        Statement::NestedInitial(b) if self.module.net_receive_initial.is_none() => {
                            self.module.net_receive_initial = Some(b);
                        }
                        Statement::NestedInitial(b) => {
                            return Err(Diagnostic::error(b.span, "a second INITIAL block in NET_RECEIVE"));
                        }
                        other => statements.push(other),
                    }
                }
                body.statements = statements;
                let name = Name::new("NET_RECEIVE", span);
                self.module.net_receive = Some(Routine {
                    span: span.to(body.span),
                    name,
                    params,
                    body,
                });
            }
            other => {
                let known = [
                    "DISCRETE",
                    "PARTIAL",
                    "FUNCTION_TABLE",
                    "CONSTRUCTOR",
                    "DESTRUCTOR",
                    "BEFORE",
                    "AFTER",
                    "WATCH",
                    "FOR_NETCONS",
                    "LAG",
                    "MATCH",
                ];
                let message = if known.contains(&other) {
                    format!("{other} blocks are not supported by rall")
                } else {
                    format!("unknown block `{other}`")
                };
                let d = Diagnostic::error(span, message).with_note(did_you_mean(other, BLOCKS.iter().copied()));
                // Skip the block's header and braces so the rest of the file is still read.
                while !self.is_punct("{") && !matches!(self.peek().kind, TokenKind::Eof) && !self.peek().line_start {
                    self.bump();
                }
                if self.is_punct("{") {
                    self.skip_braces();
                }
                self.diagnostics.push(d);
            }
        }
        Ok(())
    }

    fn parameter_list(&mut self) -> PResult<Vec<Name>> {
        let mut params = Vec::new();
        if !self.eat_punct("(") {
            return Ok(params);
        }
        if self.eat_punct(")") {
            return Ok(params);
        }
        loop {
            params.push(self.name("an argument name")?);
            if self.is_punct("(") {
                self.unit()?;
            }
            if self.eat_punct(")") {
                return Ok(params);
            }
            self.expect_punct(",")?;
        }
    }

    /// UNITS { (mV) = (millivolt)  FARADAY = (faraday) (coulomb) ... }
    fn units_block(&mut self) -> PResult<()> {
        self.expect_punct("{")?;
        loop {
            if self.eat_punct("}") {
                return Ok(());
            }
            if self.is_punct("(") {
                self.unit()?;
                self.expect_punct("=")?;
                self.unit()?;
                continue;
            }
            let name =
                self.name("a unit definition such as `(mV) = (millivolt)` or `FARADAY = (faraday) (coulomb)`")?;
            self.expect_punct("=")?;
            let value = if self.is_punct("(") {
                let unit = self.unit()?;
                let value = physical_constant(&unit).ok_or_else(|| {
                    Diagnostic::error(name.span, format!("unit constant `({unit})` is not known to rall"))
                        .with_note("known: (faraday), (k-mole), (k), (e), (avogadro), (pi)")
                })?;
                let scale = if self.is_punct("(") {
                    let target = self.unit()?;
                    conversion_scale(&unit, &target).ok_or_else(|| {
                        Diagnostic::error(
                            name.span,
                            format!("converting ({unit}) to ({target}) is not supported by rall"),
                        )
                    })?
                } else {
                    1.0
                };
                value * scale
            } else {
                let v = self.number("a number or a unit")?;
                if self.is_punct("(") {
                    self.unit()?;
                }
                v
            };
            self.module.constants.push(VarDecl {
                name,
                value: Some(value),
                unit: None,
                bounds: None,
                size: None,
            });
        }
    }

    fn neuron_block(&mut self, span: Span) -> PResult<NeuronBlock> {
        self.expect_punct("{")?;
        let mut block = NeuronBlock {
            kind: MechanismKind::Density,
            name: Name::new("", span),
            ions: Vec::new(),
            nonspecific_currents: Vec::new(),
            electrode_currents: Vec::new(),
            range: Vec::new(),
            global: Vec::new(),
            pointers: Vec::new(),
            randoms: Vec::new(),
            threadsafe: false,
            span,
        };
        let mut named = false;
        loop {
            if self.eat_punct("}") {
                if !named {
                    return Err(Diagnostic::error(
                        span,
                        "the NEURON block needs SUFFIX, POINT_PROCESS or ARTIFICIAL_CELL",
                    ));
                }
                return Ok(block);
            }
            let keyword = self.name("a NEURON block statement such as SUFFIX, USEION or RANGE")?;
            match keyword.text.as_str() {
                "SUFFIX" | "POINT_PROCESS" | "ARTIFICIAL_CELL" => {
                    block.kind = match keyword.text.as_str() {
                        "SUFFIX" => MechanismKind::Density,
                        "POINT_PROCESS" => MechanismKind::PointProcess,
                        _ => MechanismKind::ArtificialCell,
                    };
                    block.name = self.name("the mechanism's name")?;
                    named = true;
                }
                "USEION" => {
                    let ion = self.name("an ion name")?;
                    let mut use_ion = UseIon {
                        ion,
                        read: Vec::new(),
                        write: Vec::new(),
                        valence: None,
                    };
                    loop {
                        if self.eat_word("READ") {
                            use_ion.read.extend(self.name_list()?);
                        } else if self.eat_word("WRITE") {
                            use_ion.write.extend(self.name_list()?);
                        } else if self.eat_word("VALENCE") {
                            use_ion.valence = Some(self.number("a valence")?);
                        } else if self.is_word("REPRESENTS") {
                            let t = self.bump();
                            return Err(Diagnostic::error(t.span, "REPRESENTS is not supported by rall"));
                        } else {
                            break;
                        }
                    }
                    block.ions.push(use_ion);
                }
                "NONSPECIFIC_CURRENT" => block.nonspecific_currents.extend(self.name_list()?),
                "ELECTRODE_CURRENT" => block.electrode_currents.extend(self.name_list()?),
                "RANGE" => block.range.extend(self.name_list()?),
                "GLOBAL" => block.global.extend(self.name_list()?),
                "THREADSAFE" => block.threadsafe = true,
                "POINTER" => block.pointers.extend(self.name_list()?),
                "RANDOM" => block.randoms.extend(self.name_list()?),
                other @ ("BBCOREPOINTER" | "EXTERNAL" | "FOR_NETCONS") => {
                    let d = Diagnostic::error(keyword.span, format!("{other} is not supported by rall"));
                    self.name_list()?;
                    self.diagnostics.push(d);
                }
                other => {
                    let known = [
                        "SUFFIX",
                        "POINT_PROCESS",
                        "ARTIFICIAL_CELL",
                        "USEION",
                        "NONSPECIFIC_CURRENT",
                        "ELECTRODE_CURRENT",
                        "RANGE",
                        "GLOBAL",
                        "POINTER",
                        "RANDOM",
                        "THREADSAFE",
                    ];
                    return Err(
                        Diagnostic::error(keyword.span, format!("unknown NEURON block statement `{other}`"))
                            .with_note(did_you_mean(other, known)),
                    );
                }
            }
        }
    }

    /// `[size]` after a declared name (a number or a DEFINE name), if present.
    fn array_size(&mut self) -> PResult<Option<Expr>> {
        if !self.eat_punct("[") {
            return Ok(None);
        }
        let size = self.expression()?;
        self.expect_punct("]")?;
        Ok(Some(size))
    }

    /// A name, with `[index]` if one follows.
    pub(crate) fn indexed_name(&mut self, what: &str) -> PResult<Name> {
        let mut name = self.name(what)?;
        if self.eat_punct("[") {
            let index = self.expression()?;
            let close = self.expect_punct("]")?;
            name.span = name.span.to(close);
            name.index = Some(Box::new(index));
        }
        Ok(name)
    }

    fn name_list(&mut self) -> PResult<Vec<Name>> {
        let mut names = vec![self.name("a name")?];
        while self.eat_punct(",") {
            names.push(self.name("a name after `,`")?);
        }
        Ok(names)
    }

    /// Declarations in PARAMETER / CONSTANT (`with_values`) or STATE / ASSIGNED.
    fn declarations(&mut self, with_values: bool) -> PResult<Vec<VarDecl>> {
        self.expect_punct("{")?;
        let mut decls = Vec::new();
        loop {
            if self.eat_punct("}") {
                return Ok(decls);
            }
            let name = self.name("a variable name")?;
            let size = self.array_size()?;
            let mut decl = VarDecl {
                name,
                value: None,
                unit: None,
                bounds: None,
                size,
            };
            if self.eat_punct("=") {
                decl.value = Some(self.number("a number after `=`")?);
            } else if with_values && matches!(self.peek().kind, TokenKind::Number(_)) {
                decl.value = Some(self.number("a number")?);
            }
            if self.is_punct("(") {
                decl.unit = Some(self.unit()?);
            }
            if self.eat_punct("<") {
                let lo = self.number("a bound")?;
                let hi = if self.eat_punct(",") {
                    self.number("an upper bound")?
                } else {
                    f64::INFINITY
                };
                self.expect_punct(">")?;
                decl.bounds = Some((lo, hi));
            }
            if self.eat_word("FROM") {
                self.number("a lower limit")?;
                if !self.eat_word("TO") {
                    return Err(self.expected("TO"));
                }
                self.number("an upper limit")?;
            }
            decls.push(decl);
        }
    }
}

/// Physical constants that NMODL files define in their UNITS block (NEURON's modern SI values).
fn physical_constant(unit: &str) -> Option<f64> {
    match unit {
        "faraday" => Some(96485.33212331001),
        "k-mole" => Some(8.31446261815324),
        "e" => Some(1.602176634e-19),
        "avogadro" => Some(6.02214076e23),
        "pi" => Some(std::f64::consts::PI),
        "k" | "boltzmann" => Some(1.380649e-23),
        _ => None,
    }
}

/// Scale from a physical constant's SI unit to the unit a file asks for.
fn conversion_scale(constant: &str, target: &str) -> Option<f64> {
    let target = target.replace(' ', "");
    match (constant, target.as_str()) {
        ("faraday", "coulomb" | "coulombs" | "coul") => Some(1.0),
        ("faraday", "kilocoulombs" | "kilocoulomb") => Some(1e-3),
        ("k-mole", "joule/degC" | "joule/degK" | "J/degC" | "J/K") => Some(1.0),
        ("e", "coulomb" | "coulombs" | "coul") => Some(1.0),
        ("k" | "boltzmann", "joule/degC" | "joule/degK" | "J/degC" | "J/K") => Some(1.0),
        ("avogadro", "1" | "/mole" | "1/mole") => Some(1.0),
        ("pi", "1") => Some(1.0),
        _ => None,
    }
}
