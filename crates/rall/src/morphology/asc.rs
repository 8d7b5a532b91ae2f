//! Neurolucida ASC import: the s-expression text format in, a [`Morphology`] with NEURON's sections out.
//!
//! The grammar and its meaning follow NEURON's Import3d (`Import3d_Neurolucida3`), so that a cell read
//! here has the sections NEURON makes of the same file:
//!
//! - the soma is the contour named `CellBody`, `Cell Body` or `Soma`, turned into a 21-point centroid
//!   along its principal axis ([`contour_centroid`]); other contours, markers, text, spines and sets are
//!   read and ignored;
//! - each tree (`Axon`, `Dendrite`, `Apical`: tags 2, 3 and 4, 0 for any other) is split at its branch
//!   points into sections; a child section starts at its parent's last point (with the child's first
//!   diameter), a tree's first section at its own first point;
//! - trees whose first point lies in the soma's bounding box (and, as NEURON does with a warning, those
//!   outside it) attach at the soma's middle, `soma(0.5)`; child sections attach at their parent's end;
//! - sections of one point, and of two equal points, are dropped and their children re-attached to the
//!   dropped section's parent.

use super::contour::{ContourError, contour_centroid};
use super::tree::{Attachment, Morphology, MorphologyBuilder, MorphologyError, Point3};
use std::path::Path;

/// Deepest nesting of parentheses (branch points within branch points) the reader follows.
pub const MAX_ASC_DEPTH: usize = 2_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AscError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Lex { file: String, line: usize, message: String },
    #[error("{file}:{line}: expected {expected}, found {found}")]
    Syntax {
        file: String,
        line: usize,
        expected: &'static str,
        found: String,
    },
    #[error("{file}:{line}: branches nest more than {MAX_ASC_DEPTH} levels deep")]
    TooDeep { file: String, line: usize },
    #[error("{file}:{line}: point with diameter {diameter}; tree points need a positive diameter")]
    NonPositiveDiameter { file: String, line: usize, diameter: f64 },
    #[error("{file}: no soma contour (a contour named \"CellBody\", \"Cell Body\" or \"Soma\")")]
    NoSoma { file: String },
    #[error(
        "{file}:{line}: a second soma contour; the first starts at line {first}. Separate somas (or stacks of soma contours) are not supported"
    )]
    SecondSoma { file: String, line: usize, first: usize },
    #[error("{file}:{line}: soma contour: {source}")]
    Contour {
        file: String,
        line: usize,
        source: ContourError,
    },
    #[error("{file}:{line}: {source}")]
    Morphology {
        file: String,
        line: usize,
        source: MorphologyError,
    },
    #[error("{file}: no trees (Axon, Dendrite, Apical) besides the soma")]
    NoTrees { file: String },
}

/// Reads and imports a Neurolucida ASC file.
pub fn load_asc(path: &Path) -> Result<Morphology, AscError> {
    let file = path.display().to_string();
    let text = crate::read_text(path).map_err(|e| AscError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    load_asc_text(&text, &file)
}

/// Imports ASC text; `file` names it in errors.
pub fn load_asc_text(text: &str, file: &str) -> Result<Morphology, AscError> {
    let tokens = lex(text, file)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        file,
        depth: 0,
        contours: Vec::new(),
        sections: Vec::new(),
    };
    parser.file()?;
    build(parser.contours, parser.sections, file)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Open,
    Close,
    Comma,
    Bar,
    OpenSpine,
    CloseSpine,
    Set,
    Rgb,
    Str(String),
    Label(String),
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(x) => format!("the number {x}"),
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::Comma => "`,`".into(),
            Token::Bar => "`|`".into(),
            Token::OpenSpine => "`<`".into(),
            Token::CloseSpine => "`>`".into(),
            Token::Set => "`Set`".into(),
            Token::Rgb => "`RGB`".into(),
            Token::Str(s) => format!("the string \"{s}\""),
            Token::Label(s) => format!("`{s}`"),
            Token::End => "the end of the file".into(),
        }
    }
}

fn lex(text: &str, file: &str) -> Result<Vec<(Token, usize)>, AscError> {
    let mut tokens = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split(';').next().unwrap_or("");
        let bytes = content.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            let single = match c {
                b'(' => Some(Token::Open),
                b')' => Some(Token::Close),
                b',' => Some(Token::Comma),
                b'|' => Some(Token::Bar),
                b'<' => Some(Token::OpenSpine),
                b'>' => Some(Token::CloseSpine),
                _ => None,
            };
            if let Some(t) = single {
                tokens.push((t, line));
                i += 1;
            } else if c.is_ascii_whitespace() {
                i += 1;
            } else if c == b'"' {
                let Some(len) = content[i + 1..].find('"') else {
                    return Err(AscError::Lex {
                        file: file.into(),
                        line,
                        message: "string without a closing `\"` on its line".into(),
                    });
                };
                tokens.push((Token::Str(content[i + 1..i + 1 + len].into()), line));
                i += len + 2;
            } else if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' {
                let len = number_length(&bytes[i..]);
                let value = content[i..i + len].parse::<f64>().ok().filter(|v| v.is_finite());
                let Some(value) = value.filter(|_| len > 0) else {
                    return Err(AscError::Lex {
                        file: file.into(),
                        line,
                        message: format!("`{}` is not a number", word_at(content, i)),
                    });
                };
                tokens.push((Token::Number(value), line));
                i += len;
            } else if c.is_ascii_alphanumeric() || c == b'_' {
                let len = bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let word = &content[i..i + len];
                let token = match word {
                    "set" | "Set" | "SET" => Token::Set,
                    "RGB" => Token::Rgb,
                    _ => Token::Label(word.into()),
                };
                tokens.push((token, line));
                i += len;
            } else {
                let ch = content[i..].chars().next().unwrap_or('?');
                return Err(AscError::Lex {
                    file: file.into(),
                    line,
                    message: format!("unexpected character `{ch}`"),
                });
            }
        }
    }
    let last = text.lines().count().max(1);
    tokens.push((Token::End, last));
    Ok(tokens)
}

/// Length of the number at the start of `b`: `[+-]digits[.digits][e[+-]digits]`; 0 if there is none.
fn number_length(b: &[u8]) -> usize {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let whole = digits(i);
    i += whole;
    let mut fraction = 0;
    if b.get(i) == Some(&b'.') {
        fraction = digits(i + 1);
        i += 1 + fraction;
    }
    if whole + fraction == 0 {
        return 0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let exponent = digits(i + 1 + sign);
        if exponent > 0 {
            i += 1 + sign + exponent;
        }
    }
    i
}

fn word_at(content: &str, i: usize) -> &str {
    let rest = &content[i..];
    let end = rest
        .find(|c: char| c.is_whitespace() || "(),|<>".contains(c))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// One point of a tree: position, diameter [µm], source line.
type TreePoint = (Point3, f64, usize);

/// A section as Import3d makes it, before soma attachment.
struct RawSection {
    tag: i32,
    points: Vec<TreePoint>,
    /// Index of the parent section; `None` for a tree's first section.
    parent: Option<usize>,
}

/// A contour kept as the soma: its points and first line.
struct RawContour {
    points: Vec<Point3>,
    line: usize,
}

struct Parser<'a> {
    tokens: Vec<(Token, usize)>,
    at: usize,
    file: &'a str,
    depth: usize,
    contours: Vec<RawContour>,
    sections: Vec<RawSection>,
}

impl Parser<'_> {
    fn peek(&self, ahead: usize) -> &Token {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)].0
    }

    fn line(&self) -> usize {
        self.tokens[self.at.min(self.tokens.len() - 1)].1
    }

    fn advance(&mut self) {
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
    }

    fn error(&self, expected: &'static str) -> AscError {
        AscError::Syntax {
            file: self.file.into(),
            line: self.line(),
            expected,
            found: self.peek(0).describe(),
        }
    }

    fn expect(&mut self, token: Token, expected: &'static str) -> Result<(), AscError> {
        if *self.peek(0) != token {
            return Err(self.error(expected));
        }
        self.advance();
        Ok(())
    }

    fn optional_comma(&mut self) {
        if *self.peek(0) == Token::Comma {
            self.advance();
        }
    }

    fn enter(&mut self) -> Result<(), AscError> {
        self.depth += 1;
        if self.depth > MAX_ASC_DEPTH {
            return Err(AscError::TooDeep {
                file: self.file.into(),
                line: self.line(),
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn file(&mut self) -> Result<(), AscError> {
        self.objects()?;
        if *self.peek(0) != Token::End {
            return Err(self.error("`(` starting a contour, tree, marker or property"));
        }
        Ok(())
    }

    fn objects(&mut self) -> Result<(), AscError> {
        self.object()?;
        loop {
            self.optional_comma();
            if *self.peek(0) != Token::Open {
                return Ok(());
            }
            self.object()?;
        }
    }

    fn object(&mut self) -> Result<(), AscError> {
        if *self.peek(0) != Token::Open {
            return Err(self.error("`(` starting a contour, tree, marker or property"));
        }
        self.enter()?;
        match self.peek(1).clone() {
            Token::Str(name) => self.contour(&name)?,
            Token::Label(_) if *self.peek(2) == Token::Open => self.marker()?,
            Token::Label(_) => {
                self.property()?;
            }
            Token::Open => self.tree_or_text()?,
            Token::Set => self.set()?,
            _ => {
                self.advance();
                return Err(self.error("a contour name, a label, `(` or `Set` after `(`"));
            }
        }
        self.leave();
        Ok(())
    }

    fn contour(&mut self, name: &str) -> Result<(), AscError> {
        let line = self.line();
        self.advance(); // (
        self.advance(); // "name"
        self.properties()?;
        let points = self.points()?;
        if matches!(name, "CellBody" | "Cell Body" | "Soma") && points.len() > 2 {
            self.contours.push(RawContour {
                points: points.iter().map(|p| p.0).collect(),
                line,
            });
        }
        self.expect(Token::Close, "`)` closing the contour")
    }

    fn marker(&mut self) -> Result<(), AscError> {
        self.advance(); // (
        self.advance(); // label
        self.properties()?;
        self.points()?;
        self.expect(Token::Close, "`)` closing the marker")
    }

    /// `( label values... )`; returns the label.
    fn property(&mut self) -> Result<String, AscError> {
        self.expect(Token::Open, "`(`")?;
        let Token::Label(label) = self.peek(0).clone() else {
            return Err(self.error("a property name"));
        };
        self.advance();
        loop {
            match self.peek(0) {
                Token::Number(_) | Token::Str(_) | Token::Label(_) => self.advance(),
                Token::Rgb => {
                    self.advance();
                    self.expect(Token::Open, "`(` after RGB")?;
                    for k in 0..3 {
                        if !matches!(self.peek(0), Token::Number(_)) {
                            return Err(self.error("a colour component"));
                        }
                        self.advance();
                        if k < 2 {
                            self.optional_comma();
                        }
                    }
                    self.expect(Token::Close, "`)` closing the RGB colour")?;
                }
                _ => break,
            }
        }
        self.expect(Token::Close, "`)` closing the property")?;
        Ok(label)
    }

    fn set(&mut self) -> Result<(), AscError> {
        self.advance(); // (
        self.advance(); // Set
        if !matches!(self.peek(0), Token::Str(_)) {
            return Err(self.error("the set's name in quotes"));
        }
        self.advance();
        if *self.peek(0) != Token::Close {
            self.objects()?;
        }
        self.expect(Token::Close, "`)` closing the set")
    }

    /// Properties and sets before a contour's, marker's or tree's points; returns the last property's label.
    fn properties(&mut self) -> Result<Option<String>, AscError> {
        let mut last = None;
        while *self.peek(0) == Token::Open && matches!(self.peek(1), Token::Label(_) | Token::Set) {
            if *self.peek(1) == Token::Set {
                self.enter()?;
                self.set()?;
                self.leave();
                last = None;
            } else {
                last = Some(self.property()?);
            }
            self.optional_comma();
        }
        Ok(last)
    }

    fn points(&mut self) -> Result<Vec<TreePoint>, AscError> {
        let mut points = vec![self.point()?];
        loop {
            self.optional_comma();
            if *self.peek(0) != Token::Open {
                return Ok(points);
            }
            points.push(self.point()?);
        }
    }

    /// `( x ,? y [,? z [,? d [label] [( a b c d )]]] )`; z and d default to 0.
    fn point(&mut self) -> Result<TreePoint, AscError> {
        let line = self.line();
        self.expect(Token::Open, "`(` starting a point")?;
        let mut values = [0.0; 4];
        let mut count = 0;
        while count < 4 {
            if count > 0 {
                self.optional_comma();
            }
            match *self.peek(0) {
                Token::Number(v) => {
                    values[count] = v;
                    count += 1;
                    self.advance();
                }
                _ if count < 2 => return Err(self.error("a coordinate")),
                _ => break,
            }
        }
        if count == 4 {
            self.optional_comma();
            if matches!(self.peek(0), Token::Label(_)) {
                self.advance();
            }
            self.optional_comma();
            if *self.peek(0) == Token::Open {
                self.advance();
                for k in 0..4 {
                    if k > 0 {
                        self.optional_comma();
                    }
                    if !matches!(self.peek(0), Token::Number(_)) {
                        return Err(self.error("a Bézier control value"));
                    }
                    self.advance();
                }
                self.expect(Token::Close, "`)` closing the Bézier values")?;
            }
        }
        self.expect(Token::Close, "`)` closing the point")?;
        Ok((Point3::new(values[0], values[1], values[2]), values[3], line))
    }

    /// A tree and a text both start `( properties point`; a text then has a string and `)`.
    fn tree_or_text(&mut self) -> Result<(), AscError> {
        self.advance(); // (
        let last = self.properties()?;
        let first = self.point()?;
        if matches!(self.peek(0), Token::Str(_)) {
            self.advance();
            return self.expect(Token::Close, "`)` closing the text");
        }
        let tag = match last.as_deref() {
            Some("Axon") => 2,
            Some("Dendrite") => 3,
            Some("Apical") => 4,
            _ => 0,
        };
        self.branch(tag, None, Some(first))?;
        self.expect(Token::Close, "`)` closing the tree")
    }

    /// Points up to a branch point or an ending, then the children.
    fn branch(&mut self, tag: i32, parent: Option<usize>, first: Option<TreePoint>) -> Result<(), AscError> {
        self.enter()?;
        let mut points: Vec<TreePoint> = first.into_iter().collect();
        if points.is_empty() {
            self.tree_point(&mut points)?;
        } else if *self.peek(0) == Token::OpenSpine {
            self.spines()?;
        }
        loop {
            self.optional_comma();
            if *self.peek(0) != Token::Open || !matches!(self.peek(1), Token::Number(_)) {
                break;
            }
            self.tree_point(&mut points)?;
        }
        // A child starts at its parent's last point (with its own first diameter) unless its first point
        // is that point already.
        if let (Some(p), Some(&(start, d, line))) = (parent, points.first())
            && let Some(&(end, _, _)) = self.sections[p].points.last()
            && end != start
        {
            points.insert(0, (end, d, line));
        }
        let id = self.sections.len();
        self.sections.push(RawSection { tag, points, parent });
        // Branch end: markers, then a split `( branch | branch ... )` or an ending label (`Normal`, ...).
        self.optional_comma();
        while *self.peek(0) == Token::Open && matches!(self.peek(1), Token::Label(_)) {
            self.skip_balanced()?;
        }
        self.optional_comma();
        match self.peek(0) {
            Token::Open => {
                self.advance();
                self.branch(tag, Some(id), None)?;
                while *self.peek(0) == Token::Bar {
                    self.advance();
                    self.branch(tag, Some(id), None)?;
                }
                self.expect(
                    Token::Close,
                    "`)` closing the branch point, or `|` before the next branch",
                )?;
            }
            Token::Label(_) => self.advance(),
            _ => {}
        }
        self.leave();
        Ok(())
    }

    fn tree_point(&mut self, points: &mut Vec<TreePoint>) -> Result<(), AscError> {
        if *self.peek(0) == Token::Open && matches!(self.peek(1), Token::Label(_)) {
            return if *self.peek(2) == Token::Open {
                self.marker()
            } else {
                self.property().map(|_| ())
            };
        }
        points.push(self.point()?);
        if *self.peek(0) == Token::OpenSpine {
            self.spines()?;
        }
        Ok(())
    }

    /// `< properties point >` repeated: spines are read and ignored.
    fn spines(&mut self) -> Result<(), AscError> {
        while *self.peek(0) == Token::OpenSpine {
            self.advance();
            self.properties()?;
            self.point()?;
            self.expect(Token::CloseSpine, "`>` closing the spine")?;
        }
        Ok(())
    }

    /// Skips a parenthesised marker list.
    fn skip_balanced(&mut self) -> Result<(), AscError> {
        let mut open = 0usize;
        loop {
            match self.peek(0) {
                Token::Open => open += 1,
                Token::Close => open -= 1,
                Token::End => return Err(self.error("`)` closing the marker")),
                _ => {}
            }
            self.advance();
            if open == 0 {
                return Ok(());
            }
        }
    }
}

/// Attaches trees to the soma, drops one-point sections and builds the morphology.
fn build(contours: Vec<RawContour>, mut sections: Vec<RawSection>, file: &str) -> Result<Morphology, AscError> {
    let Some(soma) = contours.first() else {
        return Err(AscError::NoSoma { file: file.into() });
    };
    if let Some(second) = contours.get(1) {
        return Err(AscError::SecondSoma {
            file: file.into(),
            line: second.line,
            first: soma.line,
        });
    }
    let centroid = contour_centroid(&soma.points).map_err(|source| AscError::Contour {
        file: file.into(),
        line: soma.line,
        source,
    })?;
    // Sections of fewer than two distinct points are dropped (last first, as Import3d does), their
    // children moved to the dropped section's parent.
    let mut removed = vec![false; sections.len()];
    for i in (0..sections.len()).rev() {
        let p = &sections[i].points;
        let empty = p.len() <= 1 || (p.len() == 2 && p[0].0 == p[1].0);
        if empty {
            removed[i] = true;
            let parent = sections[i].parent;
            for s in sections.iter_mut().skip(i + 1) {
                if s.parent == Some(i) {
                    s.parent = parent;
                }
            }
        }
    }
    let wrap = |line: usize| {
        move |source| AscError::Morphology {
            file: file.into(),
            line,
            source,
        }
    };
    let mut builder = MorphologyBuilder::new();
    let soma_tags = vec![1; centroid.len() - 1];
    let soma_points: Vec<(Point3, f64)> = centroid.iter().map(|&(p, d)| (p, d / 2.0)).collect();
    let soma_id = builder
        .add_branch(None, &soma_points, &soma_tags, Some(soma.line))
        .map_err(wrap(soma.line))?;
    let mut branch_of = vec![usize::MAX; sections.len()];
    for (i, s) in sections.iter_mut().enumerate() {
        if removed[i] {
            continue;
        }
        let line = s.points[0].2;
        if let Some(&(_, d, line)) = s.points.iter().find(|p| !(p.1 > 0.0)) {
            return Err(AscError::NonPositiveDiameter {
                file: file.into(),
                line,
                diameter: d,
            });
        }
        let attachment = match s.parent {
            Some(p) => Attachment {
                parent: branch_of[p],
                pos: 1.0,
            },
            None => Attachment {
                parent: soma_id,
                pos: 0.5,
            },
        };
        let points: Vec<(Point3, f64)> = s.points.iter().map(|p| (p.0, p.1 / 2.0)).collect();
        let tags = vec![s.tag; points.len() - 1];
        branch_of[i] = builder
            .add_branch(Some(attachment), &points, &tags, Some(line))
            .map_err(wrap(line))?;
    }
    if branch_of.iter().all(|b| *b == usize::MAX) {
        return Err(AscError::NoTrees { file: file.into() });
    }
    builder.finish().map_err(wrap(soma.line))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELL: &str = r#"; a small cell
(ImageCoords)
("CellBody"
  (Color RGB (255, 255, 128))
  (CellBody)
  ( 10 0 0 0.5) ( 7 5 0 0.5) ( 0 6 0 0.5) (-7 5 0 0.5) (-10 0 0 0.5) (-7 -5 0 0.5) (0 -6 0 0.5) (7 -5 0 0.5)
)
( (Color Yellow)
  (Dendrite)
  ( 0 7 0 2) ; root
  ( 0 20 0 2)
  (
    ( 1 21 0 1) ( 10 30 0 1) Normal
  |
    (Cross (Name "Marker 3") ( 5 5 5 1))
    ( -1 21 0 1) ( -10 30 0 1) Incomplete
  )
)
"#;

    #[test]
    fn a_tree_becomes_three_sections_on_a_centroid_soma() {
        let m = load_asc_text(CELL, "cell.asc").unwrap();
        assert_eq!(m.branches.len(), 4);
        assert_eq!(m.branches[0].segments.len(), 20);
        assert_eq!(m.branches[1].attachment, Some(Attachment { parent: 0, pos: 0.5 }));
        for b in [2, 3] {
            assert_eq!(m.branches[b].attachment, Some(Attachment { parent: 1, pos: 1.0 }));
            // Children start at the parent's end, with their own first diameter.
            let first = &m.segments[m.branches[b].segments.start];
            assert_eq!((first.prox.y, first.prox_radius_um), (20.0, 0.5));
            assert_eq!(first.tag, 3);
        }
        assert!((m.branches[1].length_um() - 13.0).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_line() {
        let e = load_asc_text("(\"CellBody\" (1 2 3 4)\n (5 6 7 8) (1 1 1 1)\n(Dendrite", "x.asc").unwrap_err();
        assert!(e.to_string().starts_with("x.asc:3: expected"), "{e}");
        let e = load_asc_text("( (Axon) (0 0 0 1) (0 5 0 1))", "x.asc").unwrap_err();
        assert_eq!(e, AscError::NoSoma { file: "x.asc".into() });
        let e = load_asc_text("(\"Soma\" (1 2 3 4) # )", "x.asc").unwrap_err();
        assert!(e.to_string().contains("x.asc:1: unexpected character `#`"), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // 100,000 nested branch points, each a section of two points.
        let mut text = String::from("(\"Soma\" (1 0 0 1) (0 1 0 1) (-1 0 0 1) (0 -1 0 1))\n( (Dendrite) (0 0 0 1)");
        for k in 0..100_000 {
            text.push_str(&format!(" ( ({k} 1 0 1) ({k} 2 0 1)"));
        }
        let e = load_asc_text(&text, "deep.asc").unwrap_err();
        assert!(matches!(e, AscError::TooDeep { line: 2, .. }), "{e}");
    }
}
