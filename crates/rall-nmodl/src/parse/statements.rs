//! Statement and expression parsing: tokens of a block body in, [`Statement`]s and [`Expr`]s out.

use super::{PResult, Parser};
use crate::ast::*;
use crate::diagnostics::Diagnostic;
use crate::lex::TokenKind;

impl Parser<'_> {
    /// `{ statements }`, recovering at the next line after a bad statement.
    pub(crate) fn body(&mut self) -> PResult<Body> {
        self.nest()?;
        let body = self.body_unnested();
        self.depth -= 1;
        body
    }

    /// One level deeper, or a located error beyond [`super::MAX_DEPTH`].
    pub(crate) fn nest(&mut self) -> PResult<()> {
        if self.depth >= super::MAX_DEPTH {
            return Err(Diagnostic::error(
                self.peek().span,
                format!("the file nests deeper than {} levels here", super::MAX_DEPTH),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn body_unnested(&mut self) -> PResult<Body> {
        let open = self.expect_punct("{")?;
        let mut statements = Vec::new();
        loop {
            if self.is_punct("}") {
                let close = self.bump().span;
                return Ok(Body {
                    statements,
                    span: open.to(close),
                });
            }
            if matches!(self.peek().kind, TokenKind::Eof) {
                return Err(Diagnostic::error(open, "this `{` is never closed"));
            }
            let before = self.at;
            match self.statement() {
                Ok(Some(s)) => statements.push(s),
                Ok(None) => {}
                Err(d) => {
                    self.diagnostics.push(d);
                    if self.at == before {
                        self.bump();
                    }
                    self.recover_statement();
                }
            }
        }
    }

    /// Skips to the next line (or the end of the enclosing block).
    fn recover_statement(&mut self) {
        let mut depth = 0;
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::Eof => return,
                TokenKind::Punct("}") if depth == 0 => return,
                _ if t.line_start && depth == 0 => return,
                TokenKind::Punct("{") => depth += 1,
                TokenKind::Punct("}") => depth -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    fn statement(&mut self) -> PResult<Option<Statement>> {
        let t = self.peek().clone();
        let word = match &t.kind {
            TokenKind::Ident(w) => w.clone(),
            TokenKind::Punct("~") => return self.reaction().map(Some),
            TokenKind::Verbatim => {
                self.bump();
                // Refused by sema unless no block rall runs reaches it.
                return Ok(Some(Statement::Verbatim(t.span)));
            }
            _ => return Err(self.expected("a statement")),
        };
        match word.as_str() {
            "LOCAL" => {
                self.bump();
                Ok(Some(Statement::Local(self.name_list()?)))
            }
            "UNITSON" | "UNITSOFF" => {
                self.bump();
                Ok(Some(Statement::UnitsToggle))
            }
            "if" | "IF" => self.if_statement().map(Some),
            "SOLVE" => {
                self.bump();
                let block = self.name("the name of a DERIVATIVE or KINETIC block")?;
                let (method, steady_state) = if self.eat_word("METHOD") {
                    (Some(self.name("a method: cnexp, derivimplicit or sparse")?), false)
                } else if self.eat_word("STEADYSTATE") {
                    (Some(self.name("a method")?), true)
                } else {
                    (None, false)
                };
                Ok(Some(Statement::Solve {
                    block,
                    method,
                    steady_state,
                }))
            }
            "TABLE" => {
                self.bump();
                // TABLE names DEPEND names FROM lo TO hi WITH n, on one line or several: accepted; rall
                // evaluates exactly. The clause ends after the number that follows WITH.
                let mut after_with = false;
                while !matches!(self.peek().kind, TokenKind::Eof | TokenKind::Punct("}")) {
                    let keyword = |k: &str| matches!(&self.peek().kind, TokenKind::Ident(w) if w == k);
                    // A new line continues the clause only with one of its keywords.
                    if self.peek().line_start && !["DEPEND", "FROM", "TO", "WITH"].iter().any(|k| keyword(k)) {
                        break;
                    }
                    let word = keyword("WITH");
                    self.bump();
                    if after_with {
                        break;
                    }
                    after_with = word;
                }
                Ok(Some(Statement::Table { span: t.span }))
            }
            "CONSERVE" => {
                self.bump();
                let left = self.expression()?;
                self.expect_punct("=")?;
                let right = self.expression()?;
                Ok(Some(Statement::Conserve {
                    span: t.span.to(right.span()),
                    left,
                    right,
                }))
            }
            "COMPARTMENT" => {
                self.bump();
                let mut volume = self.expression()?;
                let mut index = None;
                if self.eat_punct(",") {
                    // `COMPARTMENT i, volume {arrays}`: the index variable, then the volume.
                    match volume {
                        Expr::Name(n) if n.index.is_none() => index = Some(n),
                        other => {
                            return Err(Diagnostic::error(
                                other.span(),
                                "expected the index variable of `COMPARTMENT i, volume {...}`",
                            ));
                        }
                    }
                    volume = self.expression()?;
                }
                self.expect_punct("{")?;
                let mut states = Vec::new();
                while !self.eat_punct("}") {
                    states.push(self.name("a state name")?);
                }
                Ok(Some(Statement::Compartment {
                    index,
                    volume,
                    states,
                    span: t.span,
                }))
            }
            "WATCH" => {
                self.bump();
                let mut conditions = Vec::new();
                loop {
                    self.expect_punct("(")?;
                    let condition = self.expression()?;
                    self.expect_punct(")")?;
                    let flag = self.expression()?;
                    conditions.push((condition, flag));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                Ok(Some(Statement::Watch {
                    conditions,
                    span: t.span,
                }))
            }
            "INITIAL"
                if matches!(
                    self.tokens.get(self.at + 1).map(|t| &t.kind),
                    Some(TokenKind::Punct("{"))
                ) =>
            {
                self.bump();
                Ok(Some(Statement::NestedInitial(self.body()?)))
            }
            "printf"
                if matches!(
                    self.tokens.get(self.at + 1).map(|t| &t.kind),
                    Some(TokenKind::Punct("("))
                ) =>
            {
                // C's printf (diagnostic output in NEURON): skipped, it changes nothing.
                self.bump();
                let mut depth = 0;
                loop {
                    match self.bump().kind {
                        TokenKind::Punct("(") => depth += 1,
                        TokenKind::Punct(")") => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(None);
                            }
                        }
                        TokenKind::Eof => return Err(Diagnostic::error(t.span, "this printf's `(` is never closed")),
                        _ => {}
                    }
                }
            }
            "FROM" => {
                self.bump();
                let variable = self.name("the loop variable after FROM")?;
                self.expect_punct("=")?;
                let from = self.expression()?;
                if !self.eat_word("TO") {
                    return Err(self.expected("TO"));
                }
                let to = self.expression()?;
                let by = if self.eat_word("BY") {
                    Some(self.expression()?)
                } else {
                    None
                };
                let body = self.body()?;
                Ok(Some(Statement::From {
                    span: t.span.to(body.span),
                    variable,
                    from,
                    to,
                    by,
                    body,
                }))
            }
            "while" | "WHILE" => {
                self.bump();
                self.expect_punct("(")?;
                let condition = self.expression()?;
                self.expect_punct(")")?;
                let body = self.body()?;
                Ok(Some(Statement::While {
                    condition,
                    span: t.span.to(body.span),
                    body,
                }))
            }
            w @ ("FOR" | "MUTEXLOCK" | "MUTEXUNLOCK" | "LAG" | "SENS" | "PROTECT" | "FOR_NETCONS") => Err(
                Diagnostic::error(t.span, format!("`{w}` statements are not supported by rall")),
            ),
            _ => {
                let name = self.indexed_name("a statement")?;
                if self.eat_punct("'") {
                    self.expect_punct("=")?;
                    let value = self.expression()?;
                    return Ok(Some(Statement::Derivative { state: name, value }));
                }
                if self.eat_punct("=") {
                    let value = self.expression()?;
                    return Ok(Some(Statement::Assign { target: name, value }));
                }
                if self.is_punct("(") {
                    let args = self.arguments()?;
                    return Ok(Some(Statement::Call { name, args }));
                }
                Err(self.expected(&format!("`=`, `'` or `(` after `{}`", name.text)))
            }
        }
    }

    fn if_statement(&mut self) -> PResult<Statement> {
        self.bump();
        self.expect_punct("(")?;
        let condition = self.expression()?;
        self.expect_punct(")")?;
        let then = self.body()?;
        let otherwise = if self.eat_word("else") || self.eat_word("ELSE") {
            if self.is_word("if") || self.is_word("IF") {
                let nested = self.if_statement()?;
                Some(Body {
                    span: then.span,
                    statements: vec![nested],
                })
            } else {
                Some(self.body()?)
            }
        } else {
            None
        };
        Ok(Statement::If {
            condition,
            then,
            otherwise,
        })
    }

    /// `~ 2A + B <-> C (kf, kb)`, `~ A -> B (k)`, `~ x << (flux)`, or an equation `~ lhs = rhs` (LINEAR and
    /// NONLINEAR blocks: a `=` on the line and no reaction arrow).
    fn reaction(&mut self) -> PResult<Statement> {
        let start = self.bump().span;
        if self.line_is_equation() {
            let left = self.expression()?;
            self.expect_punct("=")?;
            let right = self.expression()?;
            let span = start.to(right.span());
            return Ok(Statement::Equation { left, right, span });
        }
        let left = self.reactants()?;
        if self.eat_punct("<<") {
            if left.len() != 1 || left[0].0 != 1.0 {
                return Err(Diagnostic::error(start, "a flux `~ x << (f)` names exactly one state"));
            }
            self.expect_punct("(")?;
            let flux = self.expression()?;
            let close = self.expect_punct(")")?;
            return Ok(Statement::Flux {
                state: left[0].1.clone(),
                flux,
                span: start.to(close),
            });
        }
        let two_way = if self.eat_punct("<->") {
            true
        } else if self.eat_punct("->") {
            false
        } else {
            return Err(self.expected("`<->`, `->` or `<<` in a reaction"));
        };
        let right = self.reactants()?;
        self.expect_punct("(")?;
        let forward = self.expression()?;
        let backward = if two_way {
            self.expect_punct(",")?;
            Some(self.expression()?)
        } else {
            None
        };
        let close = self.expect_punct(")")?;
        Ok(Statement::Reaction {
            left,
            right,
            forward,
            backward,
            span: start.to(close),
        })
    }

    /// Whether the tokens from here to the end of the line hold a `=` and no reaction arrow.
    fn line_is_equation(&self) -> bool {
        let mut equals = false;
        for t in self.tokens[self.at..].iter() {
            if (t.line_start && !std::ptr::eq(t, &self.tokens[self.at])) || matches!(t.kind, TokenKind::Eof) {
                break;
            }
            match t.kind {
                TokenKind::Punct("<->" | "->" | "<<") => return false,
                TokenKind::Punct("=") => equals = true,
                TokenKind::Punct("}") => break,
                _ => {}
            }
        }
        equals
    }

    fn reactants(&mut self) -> PResult<Vec<(f64, Name)>> {
        let mut list = Vec::new();
        loop {
            let coefficient = match self.peek().kind {
                TokenKind::Number(x) => {
                    self.bump();
                    x
                }
                _ => 1.0,
            };
            list.push((coefficient, self.indexed_name("a state in the reaction")?));
            if !self.eat_punct("+") {
                return Ok(list);
            }
        }
    }

    fn arguments(&mut self) -> PResult<Vec<Expr>> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        if self.eat_punct(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expression()?);
            if self.eat_punct(")") {
                return Ok(args);
            }
            self.expect_punct(",")?;
        }
    }

    pub(crate) fn expression(&mut self) -> PResult<Expr> {
        self.binary(0)
    }

    fn binary(&mut self, level: usize) -> PResult<Expr> {
        const LEVELS: [&[(&str, BinaryOp)]; 5] = [
            &[("||", BinaryOp::Or)],
            &[("&&", BinaryOp::And)],
            &[
                ("<=", BinaryOp::Le),
                (">=", BinaryOp::Ge),
                ("==", BinaryOp::Eq),
                ("!=", BinaryOp::Ne),
                ("<", BinaryOp::Lt),
                (">", BinaryOp::Gt),
            ],
            &[("+", BinaryOp::Add), ("-", BinaryOp::Sub)],
            &[("*", BinaryOp::Mul), ("/", BinaryOp::Div)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        // Each operator of a chain nests the tree one level deeper.
        let entered = self.depth;
        let result = 'outer: loop {
            for (p, op) in LEVELS[level] {
                if self.is_punct(p) {
                    if let Err(e) = self.nest() {
                        break 'outer Err(e);
                    }
                    self.bump();
                    let right = match self.binary(level + 1) {
                        Ok(r) => r,
                        Err(e) => break 'outer Err(e),
                    };
                    let span = left.span().to(right.span());
                    left = Expr::Binary(*op, Box::new(left), Box::new(right), span);
                    continue 'outer;
                }
            }
            break Ok(left);
        };
        self.depth = entered;
        result
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.nest()?;
        let e = self.unary_unnested();
        self.depth -= 1;
        e
    }

    fn unary_unnested(&mut self) -> PResult<Expr> {
        let start = self.peek().span;
        if self.eat_punct("-") {
            let e = self.unary()?;
            let span = start.to(e.span());
            return Ok(Expr::Unary(UnaryOp::Neg, Box::new(e), span));
        }
        if self.eat_punct("+") {
            return self.unary();
        }
        if self.eat_punct("!") {
            let e = self.unary()?;
            let span = start.to(e.span());
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(e), span));
        }
        self.power()
    }

    /// `a ^ b` binds tighter than unary minus and associates to the right.
    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary()?;
        if self.eat_punct("^") {
            let exponent = self.unary()?;
            let span = base.span().to(exponent.span());
            return Ok(Expr::Binary(BinaryOp::Pow, Box::new(base), Box::new(exponent), span));
        }
        Ok(base)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Number(x) => {
                self.bump();
                // A unit after a literal, as in `18(mV)` or `1(/ms)`, is a unit
                // conversion factor of 1 in NEURON's checked units: ignored.
                if self.is_punct("(") {
                    self.unit()?;
                }
                Ok(Expr::Number(x, t.span))
            }
            TokenKind::Ident(_) => {
                let name = self.name("a name")?;
                if self.is_punct("(") {
                    let args = self.arguments()?;
                    let span = name.span.to(self.tokens[self.at - 1].span);
                    return Ok(Expr::Call(name, args, span));
                }
                if self.is_punct("[") {
                    self.at -= 1;
                    return Ok(Expr::Name(self.indexed_name("a name")?));
                }
                Ok(Expr::Name(name))
            }
            TokenKind::Punct("(") => {
                self.bump();
                let e = self.expression()?;
                let close = self.expect_punct(")")?;
                Ok(match e {
                    Expr::Binary(op, a, b, s) => Expr::Binary(op, a, b, s.to(close).to(t.span)),
                    other => other,
                })
            }
            _ => Err(self.expected("an expression")),
        }
    }
}
