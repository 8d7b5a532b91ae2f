//! Typed label expressions: s-expression trees in, [`RegionExpr`] / [`LocsetExpr`] out, with column-precise errors.

use super::evaluate::{Cable, Location};
use super::sexpr::{Sexpr, read};
use crate::suggest::did_you_mean;

/// A label error, pointing at a column of the label's text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}{}", caret(.expression, *.column))]
pub struct LabelError {
    pub expression: String,
    /// 1-based column in `expression` (0 when the error is about the whole label).
    pub column: usize,
    pub message: String,
}

fn caret(expression: &str, column: usize) -> String {
    if column == 0 || expression.is_empty() {
        return String::new();
    }
    format!("\n    {expression}\n    {}^", " ".repeat(column - 1))
}

impl LabelError {
    pub fn at(expression: &str, offset: usize, message: impl Into<String>) -> Self {
        Self {
            expression: expression.into(),
            column: offset + 1,
            message: message.into(),
        }
    }

    pub fn whole(message: impl Into<String>) -> Self {
        Self {
            expression: String::new(),
            column: 0,
            message: message.into(),
        }
    }
}

/// A region: a set of cables on the morphology.
#[derive(Clone, Debug, PartialEq)]
pub enum RegionExpr {
    All,
    Nil,
    Tag(i32),
    Branch(usize),
    Cable(Cable),
    Named(String),
    Join(Vec<RegionExpr>),
    Intersect(Vec<RegionExpr>),
    Complement(Box<RegionExpr>),
    Difference(Box<RegionExpr>, Box<RegionExpr>),
    /// Everything distal to each location, up to a path distance [µm].
    DistalInterval(Box<LocsetExpr>, f64),
    /// Everything proximal to each location, up to a path distance [µm].
    ProximalInterval(Box<LocsetExpr>, f64),
}

/// A locset: a list of locations on the morphology.
#[derive(Clone, Debug, PartialEq)]
pub enum LocsetExpr {
    Root,
    Terminal,
    Location(Location),
    Named(String),
    Join(Vec<LocsetExpr>),
    /// Locations `first..=last` of a seeded sequence drawn uniformly by length over a region.
    Uniform {
        region: Box<RegionExpr>,
        first: u64,
        last: u64,
        seed: u64,
    },
    /// The same relative position on every branch.
    OnBranches(f64),
}

/// A parsed label: a region, a locset, or a bare name whose kind the dictionary decides.
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    Region(RegionExpr),
    Locset(LocsetExpr),
    Name(String),
}

const REGION_HEADS: &[&str] = &[
    "all",
    "nil",
    "tag",
    "branch",
    "cable",
    "region",
    "join",
    "intersect",
    "complement",
    "difference",
    "distal-interval",
    "proximal-interval",
];
/// `(uniform R FIRST LAST SEED)` draws locations `0..=LAST`: LAST stays below this.
pub const MAX_UNIFORM_DRAWS: u64 = 1_000_000;

const LOCSET_HEADS: &[&str] = &["root", "terminal", "location", "locset", "uniform", "on-branches"];

/// Parses a label: an s-expression or a bare name.
pub fn parse_label(text: &str) -> Result<Label, LabelError> {
    let trimmed = text.trim();
    if !trimmed.starts_with('(') {
        let valid = !trimmed.is_empty() && trimmed.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
        return if valid {
            Ok(Label::Name(trimmed.to_string()))
        } else {
            Err(LabelError::at(
                text,
                0,
                "expected a label name or an expression such as `(tag 1)`",
            ))
        };
    }
    let expr = read(text)?;
    Parser { text }.label(&expr)
}

struct Parser<'a> {
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, at: &Sexpr, message: impl Into<String>) -> LabelError {
        LabelError::at(self.text, at.offset(), message)
    }

    fn label(&self, expr: &Sexpr) -> Result<Label, LabelError> {
        let Sexpr::List(items, _) = expr else {
            return match expr {
                Sexpr::Str(name, _) => Ok(Label::Name(name.clone())),
                _ => Err(self.err(expr, "expected a parenthesised expression such as `(tag 1)`")),
            };
        };
        let Some(Sexpr::Symbol(head, _)) = items.first() else {
            return Err(self.err(expr, "expected an expression name after `(`"));
        };
        let args = &items[1..];
        match head.as_str() {
            "join" => {
                let first = args
                    .first()
                    .ok_or_else(|| self.err(expr, "`join` needs at least one argument"))?;
                match self.label(first)? {
                    Label::Locset(_) => Ok(Label::Locset(LocsetExpr::Join(self.each(args, Self::locset)?))),
                    _ => Ok(Label::Region(RegionExpr::Join(self.each(args, Self::region)?))),
                }
            }
            h if REGION_HEADS.contains(&h) => Ok(Label::Region(self.region(expr)?)),
            h if LOCSET_HEADS.contains(&h) => Ok(Label::Locset(self.locset(expr)?)),
            other => {
                let known = REGION_HEADS.iter().chain(LOCSET_HEADS).copied();
                Err(self.err(
                    &items[0],
                    format!("unknown expression `{other}`{}", did_you_mean(other, known)),
                ))
            }
        }
    }

    fn each<T>(
        &self,
        args: &[Sexpr],
        f: impl Fn(&Self, &Sexpr) -> Result<T, LabelError>,
    ) -> Result<Vec<T>, LabelError> {
        args.iter().map(|a| f(self, a)).collect()
    }

    fn head<'s>(&self, expr: &'s Sexpr, what: &str) -> Result<(&'s str, &'s [Sexpr]), LabelError> {
        match expr {
            Sexpr::List(items, _) => match items.first() {
                Some(Sexpr::Symbol(h, _)) => Ok((h.as_str(), &items[1..])),
                _ => Err(self.err(expr, format!("expected a {what} expression"))),
            },
            _ => Err(self.err(expr, format!("expected a {what} expression such as {}", example(what)))),
        }
    }

    fn arity(
        &self,
        expr: &Sexpr,
        args: &[Sexpr],
        n: std::ops::RangeInclusive<usize>,
        usage: &str,
    ) -> Result<(), LabelError> {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(self.err(expr, format!("expected {usage}")))
        }
    }

    fn int(&self, e: &Sexpr, what: &str) -> Result<i64, LabelError> {
        match e {
            Sexpr::Int(i, _) => Ok(*i),
            _ => Err(self.err(e, format!("expected an integer ({what})"))),
        }
    }

    fn index(&self, e: &Sexpr, what: &str) -> Result<u64, LabelError> {
        let i = self.int(e, what)?;
        u64::try_from(i).map_err(|_| self.err(e, format!("expected a non-negative integer ({what})")))
    }

    fn real(&self, e: &Sexpr, what: &str) -> Result<f64, LabelError> {
        match e {
            Sexpr::Int(i, _) => Ok(*i as f64),
            Sexpr::Real(x, _) => Ok(*x),
            _ => Err(self.err(e, format!("expected a number ({what})"))),
        }
    }

    fn position(&self, e: &Sexpr) -> Result<f64, LabelError> {
        let p = self.real(e, "a position along the branch in [0, 1]")?;
        if (0.0..=1.0).contains(&p) {
            Ok(p)
        } else {
            Err(self.err(e, format!("position {p} is outside [0, 1]")))
        }
    }

    fn name(&self, e: &Sexpr) -> Result<String, LabelError> {
        match e {
            Sexpr::Str(s, _) => Ok(s.clone()),
            Sexpr::Symbol(s, _) => Ok(s.clone()),
            _ => Err(self.err(e, "expected a label name in quotes")),
        }
    }

    fn region(&self, expr: &Sexpr) -> Result<RegionExpr, LabelError> {
        if let Sexpr::Str(name, _) = expr {
            return Ok(RegionExpr::Named(name.clone()));
        }
        let (head, args) = self.head(expr, "region")?;
        Ok(match head {
            "all" => {
                self.arity(expr, args, 0..=0, "`(all)`")?;
                RegionExpr::All
            }
            "nil" => {
                self.arity(expr, args, 0..=0, "`(nil)`")?;
                RegionExpr::Nil
            }
            "tag" => {
                self.arity(expr, args, 1..=1, "`(tag N)`")?;
                let tag = self.int(&args[0], "an SWC tag")?;
                RegionExpr::Tag(
                    i32::try_from(tag).map_err(|_| self.err(&args[0], "an SWC tag must fit in 32 bits".to_string()))?,
                )
            }
            "branch" => {
                self.arity(expr, args, 1..=1, "`(branch N)`")?;
                RegionExpr::Branch(self.index(&args[0], "a branch id")? as usize)
            }
            "cable" => {
                self.arity(expr, args, 3..=3, "`(cable BRANCH PROX DIST)`")?;
                let (prox, dist) = (self.position(&args[1])?, self.position(&args[2])?);
                if prox > dist {
                    return Err(self.err(expr, "a cable's proximal position must not exceed its distal one"));
                }
                RegionExpr::Cable(Cable {
                    branch: self.index(&args[0], "a branch id")? as usize,
                    prox,
                    dist,
                })
            }
            "region" => {
                self.arity(expr, args, 1..=1, "`(region \"name\")`")?;
                RegionExpr::Named(self.name(&args[0])?)
            }
            "join" => RegionExpr::Join(self.each(args, Self::region)?),
            "intersect" => {
                if args.is_empty() {
                    return Err(self.err(expr, "`intersect` needs at least one region"));
                }
                RegionExpr::Intersect(self.each(args, Self::region)?)
            }
            "complement" => {
                self.arity(expr, args, 1..=1, "`(complement REGION)`")?;
                RegionExpr::Complement(Box::new(self.region(&args[0])?))
            }
            "difference" => {
                self.arity(expr, args, 2..=2, "`(difference REGION REGION)`")?;
                RegionExpr::Difference(Box::new(self.region(&args[0])?), Box::new(self.region(&args[1])?))
            }
            "distal-interval" | "proximal-interval" => {
                self.arity(expr, args, 1..=2, &format!("`({head} LOCSET [DISTANCE_UM])`"))?;
                let start = Box::new(self.locset(&args[0])?);
                let distance = match args.get(1) {
                    Some(d) => self.real(d, "a distance in µm")?,
                    None => f64::INFINITY,
                };
                if head == "distal-interval" {
                    RegionExpr::DistalInterval(start, distance)
                } else {
                    RegionExpr::ProximalInterval(start, distance)
                }
            }
            other if LOCSET_HEADS.contains(&other) => {
                return Err(self.err(expr, format!("`{other}` is a locset, but a region is expected here")));
            }
            other => {
                return Err(self.err(
                    expr,
                    format!(
                        "unknown region expression `{other}`{}",
                        did_you_mean(other, REGION_HEADS.iter().copied())
                    ),
                ));
            }
        })
    }

    fn locset(&self, expr: &Sexpr) -> Result<LocsetExpr, LabelError> {
        if let Sexpr::Str(name, _) = expr {
            return Ok(LocsetExpr::Named(name.clone()));
        }
        let (head, args) = self.head(expr, "locset")?;
        Ok(match head {
            "root" => {
                self.arity(expr, args, 0..=0, "`(root)`")?;
                LocsetExpr::Root
            }
            "terminal" => {
                self.arity(expr, args, 0..=0, "`(terminal)`")?;
                LocsetExpr::Terminal
            }
            "location" => {
                self.arity(expr, args, 2..=2, "`(location BRANCH POS)`")?;
                LocsetExpr::Location(Location {
                    branch: self.index(&args[0], "a branch id")? as usize,
                    pos: self.position(&args[1])?,
                })
            }
            "locset" => {
                self.arity(expr, args, 1..=1, "`(locset \"name\")`")?;
                LocsetExpr::Named(self.name(&args[0])?)
            }
            "join" => LocsetExpr::Join(self.each(args, Self::locset)?),
            "uniform" => {
                self.arity(expr, args, 4..=4, "`(uniform REGION FIRST LAST SEED)`")?;
                let (first, last) = (
                    self.index(&args[1], "first index")?,
                    self.index(&args[2], "last index")?,
                );
                if first > last {
                    return Err(self.err(expr, "`uniform` needs FIRST <= LAST"));
                }
                if last >= MAX_UNIFORM_DRAWS {
                    return Err(self.err(
                        &args[2],
                        format!("`uniform` draws at most {MAX_UNIFORM_DRAWS} locations: LAST must be below that"),
                    ));
                }
                let region = Box::new(self.region(&args[0])?);
                LocsetExpr::Uniform {
                    region,
                    first,
                    last,
                    seed: self.index(&args[3], "seed")?,
                }
            }
            "on-branches" => {
                self.arity(expr, args, 1..=1, "`(on-branches POS)`")?;
                LocsetExpr::OnBranches(self.position(&args[0])?)
            }
            other if REGION_HEADS.contains(&other) => {
                return Err(self.err(expr, format!("`{other}` is a region, but a locset is expected here")));
            }
            other => {
                return Err(self.err(
                    expr,
                    format!(
                        "unknown locset expression `{other}`{}",
                        did_you_mean(other, LOCSET_HEADS.iter().copied())
                    ),
                ));
            }
        })
    }
}

fn example(what: &str) -> &'static str {
    if what == "region" {
        "`(tag 3)`"
    } else {
        "`(location 0 0.5)`"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_expressions_parse_to_their_typed_form() {
        let label = parse_label("(intersect (tag 3) (distal-interval (location 0 0.5) 100))").unwrap();
        let expected = RegionExpr::Intersect(vec![
            RegionExpr::Tag(3),
            RegionExpr::DistalInterval(Box::new(LocsetExpr::Location(Location { branch: 0, pos: 0.5 })), 100.0),
        ]);
        assert_eq!(label, Label::Region(expected));
        assert_eq!(
            parse_label("(join (root) (terminal))").unwrap(),
            Label::Locset(LocsetExpr::Join(vec![LocsetExpr::Root, LocsetExpr::Terminal]))
        );
        assert_eq!(parse_label("soma").unwrap(), Label::Name("soma".into()));
    }

    #[test]
    fn errors_point_at_the_offending_column_and_suggest_names() {
        let e = parse_label("(join (tag 1) (tagg 3))").unwrap_err();
        assert_eq!(e.column, 15);
        assert!(e.message.contains("did you mean `tag`"), "{}", e.message);
        let e = parse_label("(location 0 1.5)").unwrap_err();
        assert_eq!(e.column, 13);
        let e = parse_label("(tag 1").unwrap_err();
        assert!(e.message.contains("never closed"));
        let e = parse_label("(distal-interval (tag 1))").unwrap_err();
        assert!(
            e.message.contains("is a region, but a locset is expected"),
            "{}",
            e.message
        );
    }
}
