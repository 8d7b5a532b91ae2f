//! Scaled paints: an expression of position text in (`-0.8696 + 2.087 * exp(0.0031 * distance)`), its value
//! at each CV centre out, so that a painted parameter can vary along the cell.
//!
//! The language is the infix arithmetic people write in BluePyOpt's and Hay's distributions: numbers,
//! `distance` (the path distance [µm] from the paint's reference location to the CV centre), `+ - * / **`
//! (and `^` for `**`), comparisons `< <= > >= == !=` giving 1 or 0 (for step profiles), parentheses, and the
//! functions `exp`, `log`, `sqrt`, `abs`, `min`, `max`, `pow`, `if(condition, then, else)`.

pub use crate::morphology::{path_between_um, path_from_root_um};

/// A parsed scale expression.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleExpr {
    pub text: String,
    node: Node,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Number(f64),
    Distance,
    Unary(char, Box<Node>),
    Binary(&'static str, Box<Node>, Box<Node>),
    Call(&'static str, Vec<Node>),
}

/// A parse error: what was expected, at a character column (1-based) of the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ScaleError {
    pub column: usize,
    pub message: String,
}

/// Deepest nesting a scale expression may have (far beyond any real profile; keeps the parser's stack small).
const MAX_DEPTH: usize = 200;

impl ScaleExpr {
    pub fn parse(text: &str) -> Result<Self, ScaleError> {
        let mut p = Parser {
            chars: text.chars().collect(),
            at: 0,
            depth: 0,
        };
        let node = p.expr(0)?;
        p.skip_space();
        if p.at < p.chars.len() {
            return Err(p.error(format!("unexpected `{}`", p.chars[p.at])));
        }
        Ok(Self {
            text: text.to_string(),
            node,
        })
    }

    /// The expression's value at a path distance [µm].
    pub fn at(&self, distance_um: f64) -> f64 {
        eval(&self.node, distance_um)
    }
}

fn eval(n: &Node, d: f64) -> f64 {
    let truth = |b: bool| if b { 1.0 } else { 0.0 };
    match n {
        Node::Number(x) => *x,
        Node::Distance => d,
        Node::Unary(_, a) => -eval(a, d),
        Node::Binary(op, a, b) => {
            let (a, b) = (eval(a, d), eval(b, d));
            match *op {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                "**" => a.powf(b),
                "<" => truth(a < b),
                "<=" => truth(a <= b),
                ">" => truth(a > b),
                ">=" => truth(a >= b),
                "==" => truth(a == b),
                _ => truth(a != b),
            }
        }
        Node::Call(f, args) => {
            let x: Vec<f64> = args.iter().map(|a| eval(a, d)).collect();
            match *f {
                "exp" => x[0].exp(),
                "log" => x[0].ln(),
                "sqrt" => x[0].sqrt(),
                "abs" => x[0].abs(),
                "min" => x[0].min(x[1]),
                "max" => x[0].max(x[1]),
                "pow" => x[0].powf(x[1]),
                _ => {
                    if x[0] != 0.0 {
                        x[1]
                    } else {
                        x[2]
                    }
                }
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    depth: usize,
}

/// Binary operators by precedence level (loosest first); `**` binds tightest and to the right.
const LEVELS: [&[&str]; 4] = [
    &["<=", ">=", "==", "!=", "<", ">"],
    &["+", "-"],
    &["*", "/"],
    &["**", "^"],
];

const FUNCTIONS: [(&str, usize); 8] = [
    ("exp", 1),
    ("log", 1),
    ("sqrt", 1),
    ("abs", 1),
    ("min", 2),
    ("max", 2),
    ("pow", 2),
    ("if", 3),
];

impl Parser {
    fn error(&self, message: String) -> ScaleError {
        ScaleError {
            column: self.at + 1,
            message,
        }
    }

    fn skip_space(&mut self) {
        while self.at < self.chars.len() && self.chars[self.at].is_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let t: Vec<char> = token.chars().collect();
        if self.chars[self.at..].starts_with(&t) {
            self.at += t.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self, level: usize) -> Result<Node, ScaleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let result = self.level(level);
        self.depth -= 1;
        result
    }

    fn level(&mut self, level: usize) -> Result<Node, ScaleError> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.expr(level + 1)?;
        loop {
            let Some(op) = LEVELS[level].iter().copied().find(|op| self.eat(op)) else {
                return Ok(left);
            };
            let op = if op == "^" { "**" } else { op };
            // `**` is right-associative: its right side is parsed at the same level.
            let right = if op == "**" {
                self.expr(level)?
            } else {
                self.expr(level + 1)?
            };
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Node, ScaleError> {
        // A sign binds looser than `**` (as in Python: -2**2 is -4) and tighter than `*`.
        let power = LEVELS.len() - 1;
        if self.eat("-") {
            return Ok(Node::Unary('-', Box::new(self.expr(power)?)));
        }
        if self.eat("+") {
            return self.expr(power);
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Node, ScaleError> {
        self.skip_space();
        let start = self.at;
        if self.eat("(") {
            let inner = self.expr(0)?;
            if !self.eat(")") {
                return Err(self.error("expected `)`".into()));
            }
            return Ok(inner);
        }
        let c = self.chars.get(self.at).copied();
        match c {
            Some(c) if c.is_ascii_digit() || c == '.' => {
                while self.at < self.chars.len()
                    && (self.chars[self.at].is_ascii_digit()
                        || self.chars[self.at] == '.'
                        || ((self.chars[self.at] == 'e' || self.chars[self.at] == 'E')
                            && self
                                .chars
                                .get(self.at + 1)
                                .is_some_and(|n| n.is_ascii_digit() || *n == '-' || *n == '+'))
                        || ((self.chars[self.at] == '-' || self.chars[self.at] == '+')
                            && matches!(self.chars[self.at - 1], 'e' | 'E')))
                {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse().map(Node::Number).map_err(|_| ScaleError {
                    column: start + 1,
                    message: format!("`{text}` is not a number"),
                })
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                while self.at < self.chars.len()
                    && (self.chars[self.at].is_ascii_alphanumeric() || "_.".contains(self.chars[self.at]))
                {
                    self.at += 1;
                }
                let name: String = self.chars[start..self.at].iter().collect();
                let bare = name.strip_prefix("math.").unwrap_or(&name);
                if bare == "distance" {
                    return Ok(Node::Distance);
                }
                let Some(&(f, arity)) = FUNCTIONS.iter().find(|(f, _)| *f == bare) else {
                    let known: Vec<&str> = FUNCTIONS.iter().map(|(f, _)| *f).chain(["distance"]).collect();
                    return Err(ScaleError {
                        column: start + 1,
                        message: format!(
                            "unknown name `{name}`{} (known: {})",
                            crate::suggest::did_you_mean(bare, known.iter().copied()),
                            known.join(", ")
                        ),
                    });
                };
                if !self.eat("(") {
                    return Err(self.error(format!("expected `(` after `{f}`")));
                }
                let mut args = vec![self.expr(0)?];
                while self.eat(",") {
                    args.push(self.expr(0)?);
                }
                if !self.eat(")") {
                    return Err(self.error("expected `,` or `)`".into()));
                }
                if args.len() != arity {
                    return Err(ScaleError {
                        column: start + 1,
                        message: format!("`{f}` takes {arity} argument(s), found {}", args.len()),
                    });
                }
                Ok(Node::Call(f, args))
            }
            Some(c) => Err(self.error(format!("expected a number, `distance`, a function or `(`, found `{c}`"))),
            None => Err(self.error("expected a number, `distance`, a function or `(`, found the end".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_evaluate_with_python_precedence() {
        let e = ScaleExpr::parse("-0.8696 + 2.087 * math.exp(0.0031 * distance)").unwrap();
        let expected = -0.8696 + 2.087 * (0.0031f64 * 300.0).exp();
        assert!((e.at(300.0) - expected).abs() < 1e-15);
        assert_eq!(ScaleExpr::parse("2 ** 3 ** 2").unwrap().at(0.0), 512.0);
        assert_eq!(ScaleExpr::parse("-2^2").unwrap().at(0.0), -4.0);
        assert_eq!(ScaleExpr::parse("1 + 2 * 3 - 4 / 2").unwrap().at(0.0), 5.0);
        assert_eq!(ScaleExpr::parse("(distance > 100) * 10 + 1").unwrap().at(150.0), 11.0);
        assert_eq!(ScaleExpr::parse("if(distance <= 100, 1, 2e-1)").unwrap().at(150.0), 0.2);
        assert_eq!(ScaleExpr::parse("min(distance, 5.5E1)").unwrap().at(150.0), 55.0);
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        let e = ScaleExpr::parse("1 + expp(distance)").unwrap_err();
        assert_eq!(e.column, 5);
        assert!(e.message.contains("did you mean `exp`"), "{e}");
        let e = ScaleExpr::parse("2 * (distance + 1").unwrap_err();
        assert!(e.message.contains("expected `)`"), "{e}");
        assert_eq!(ScaleExpr::parse("1 2").unwrap_err().column, 3);
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(ScaleExpr::parse(&deep).unwrap_err().message.contains("nested deeper"));
    }
}
