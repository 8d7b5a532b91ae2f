//! S-expression reader: label text in, a tree of atoms and lists with byte offsets out.

use super::expression::LabelError;

#[derive(Clone, Debug, PartialEq)]
pub enum Sexpr {
    List(Vec<Sexpr>, usize),
    Symbol(String, usize),
    Int(i64, usize),
    Real(f64, usize),
    Str(String, usize),
}

impl Sexpr {
    pub fn offset(&self) -> usize {
        match self {
            Sexpr::List(_, o) | Sexpr::Symbol(_, o) | Sexpr::Int(_, o) | Sexpr::Real(_, o) | Sexpr::Str(_, o) => *o,
        }
    }
}

/// Reads exactly one s-expression from `text`.
pub fn read(text: &str) -> Result<Sexpr, LabelError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    let expr = reader.expr()?;
    reader.skip_space();
    if reader.at < reader.bytes.len() {
        return Err(LabelError::at(text, reader.at, "unexpected text after the expression"));
    }
    Ok(expr)
}

/// The deepest nesting of parentheses a label may have (Arbor's expressions use a handful).
pub const MAX_LABEL_DEPTH: usize = 200;

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    /// The items of a list whose `(` (at `start`) was just read, through its `)`.
    fn list(&mut self, start: usize) -> Result<Sexpr, LabelError> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.bytes.get(self.at) {
                None => return Err(LabelError::at(self.text, start, "this `(` is never closed")),
                Some(b')') => {
                    self.at += 1;
                    return Ok(Sexpr::List(items, start));
                }
                Some(_) => items.push(self.expr()?),
            }
        }
    }

    fn expr(&mut self) -> Result<Sexpr, LabelError> {
        self.skip_space();
        let start = self.at;
        match self.bytes.get(self.at) {
            None => Err(LabelError::at(
                self.text,
                start,
                "expected an expression, found the end of the text",
            )),
            Some(b'(') if self.depth >= MAX_LABEL_DEPTH => Err(LabelError::at(
                self.text,
                start,
                format!("the expression nests deeper than {MAX_LABEL_DEPTH} levels here"),
            )),
            Some(b'(') => {
                self.at += 1;
                self.depth += 1;
                let list = self.list(start);
                self.depth -= 1;
                list
            }
            Some(b')') => Err(LabelError::at(self.text, start, "unexpected `)`")),
            Some(b'"') => {
                self.at += 1;
                let from = self.at;
                while self.at < self.bytes.len() && self.bytes[self.at] != b'"' {
                    self.at += 1;
                }
                if self.at >= self.bytes.len() {
                    return Err(LabelError::at(self.text, start, "this string is never closed"));
                }
                let s = self.text[from..self.at].to_string();
                self.at += 1;
                Ok(Sexpr::Str(s, start))
            }
            Some(_) => {
                while self.at < self.bytes.len()
                    && !self.bytes[self.at].is_ascii_whitespace()
                    && !b"()\"".contains(&self.bytes[self.at])
                {
                    self.at += 1;
                }
                let word = &self.text[start..self.at];
                if let Ok(i) = word.parse::<i64>() {
                    Ok(Sexpr::Int(i, start))
                } else if let Ok(x) = word.parse::<f64>() {
                    Ok(Sexpr::Real(x, start))
                } else {
                    Ok(Sexpr::Symbol(word.to_string(), start))
                }
            }
        }
    }
}
