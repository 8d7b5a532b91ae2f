//! SWC import: the 7-column text format in, a checked [`Morphology`] out, with line-numbered errors.
//!
//! Soma conventions follow NEURON's importer: a one-point soma (and the
//! NeuroMorpho three-point soma) becomes a sphere-equivalent cylinder of
//! length and diameter `2r` along x, with its children attached at its
//! centre; any other soma is an ordinary tree of frusta. A child whose tag
//! differs from its parent's starts with its own radius, not the parent's.

use super::tree::{Attachment, Morphology, MorphologyBuilder, MorphologyError, Point3};
use std::collections::HashMap;
use std::path::Path;

/// One line of an SWC file.
#[derive(Clone, Debug, PartialEq)]
pub struct SwcSample {
    pub id: i64,
    pub tag: i32,
    pub point: Point3,
    /// [µm]
    pub radius_um: f64,
    /// `-1` (any negative number) for the root.
    pub parent: i64,
    /// 1-based line number in the source file.
    pub line: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SwcError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}: expected 7 columns (id type x y z radius parent), found {found}")]
    ColumnCount { file: String, line: usize, found: usize },
    #[error("{file}:{line}: column {column} ({name}) must be {expected}, found `{text}`")]
    BadNumber {
        file: String,
        line: usize,
        column: usize,
        name: &'static str,
        expected: &'static str,
        text: String,
    },
    #[error("{file}:{line}: sample id {id} already used at line {first_line}")]
    DuplicateId {
        file: String,
        line: usize,
        id: i64,
        first_line: usize,
    },
    #[error("{file}:{line}: sample {id} names parent {parent}, which is not in the file")]
    MissingParent {
        file: String,
        line: usize,
        id: i64,
        parent: i64,
    },
    #[error("{file}:{line}: sample {id} is part of a cycle of parents and never reaches the root")]
    Cycle { file: String, line: usize, id: i64 },
    #[error("{file}:{line}: sample {id} has radius {radius}; radii must be positive")]
    NonPositiveRadius {
        file: String,
        line: usize,
        id: i64,
        radius: f64,
    },
    #[error("{file}:{line}: the root sample {id} has tag {tag}; the root must be a soma sample (tag 1)")]
    NonSomaRoot {
        file: String,
        line: usize,
        id: i64,
        tag: i32,
    },
    #[error("{file}:{line}: sample {id} is a second root (parent -1); the first is at line {first_line}")]
    MultipleRoots {
        file: String,
        line: usize,
        id: i64,
        first_line: usize,
    },
    #[error("{file}: no samples")]
    NoSamples { file: String },
    #[error("{file}: {source}")]
    Morphology { file: String, source: MorphologyError },
}

/// Reads and imports an SWC file.
pub fn load_swc(path: &Path) -> Result<Morphology, SwcError> {
    let file = path.display().to_string();
    let text = crate::read_text(path).map_err(|e| SwcError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let samples = parse_swc(&text, &file)?;
    morphology_from_samples(&samples, &file)
}

/// Imports SWC text; `file` names it in errors.
pub fn load_swc_text(text: &str, file: &str) -> Result<Morphology, SwcError> {
    morphology_from_samples(&parse_swc(text, file)?, file)
}

/// Parses SWC text into samples, checking columns, numbers and radii.
pub fn parse_swc(text: &str, file: &str) -> Result<Vec<SwcSample>, SwcError> {
    const NAMES: [&str; 7] = ["id", "type", "x", "y", "z", "radius", "parent"];
    let mut samples = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.len() != 7 {
            return Err(SwcError::ColumnCount {
                file: file.into(),
                line,
                found: fields.len(),
            });
        }
        let int = |c: usize| -> Result<i64, SwcError> {
            fields[c].parse::<i64>().map_err(|_| SwcError::BadNumber {
                file: file.into(),
                line,
                column: c + 1,
                name: NAMES[c],
                expected: "an integer",
                text: fields[c].into(),
            })
        };
        let real = |c: usize| -> Result<f64, SwcError> {
            fields[c]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| SwcError::BadNumber {
                    file: file.into(),
                    line,
                    column: c + 1,
                    name: NAMES[c],
                    expected: "a finite number",
                    text: fields[c].into(),
                })
        };
        let sample = SwcSample {
            id: int(0)?,
            tag: i32::try_from(int(1)?).map_err(|_| SwcError::BadNumber {
                file: file.into(),
                line,
                column: 2,
                name: NAMES[1],
                expected: "an integer that fits in 32 bits",
                text: fields[1].into(),
            })?,
            point: Point3::new(real(2)?, real(3)?, real(4)?),
            radius_um: real(5)?,
            parent: int(6)?,
            line,
        };
        if !(sample.radius_um > 0.0) {
            return Err(SwcError::NonPositiveRadius {
                file: file.into(),
                line,
                id: sample.id,
                radius: sample.radius_um,
            });
        }
        samples.push(sample);
    }
    Ok(samples)
}

/// Checks the sample tree (ids, parents, cycles, root) and builds branches.
pub fn morphology_from_samples(samples: &[SwcSample], file: &str) -> Result<Morphology, SwcError> {
    let tree = SampleTree::new(samples, file)?;
    let mut builder = MorphologyBuilder::new();
    let root = tree.root;
    let wrap = |source| SwcError::Morphology {
        file: file.into(),
        source,
    };

    // Stack of (first sample of a branch, sample it grows from, attachment).
    let mut stack: Vec<(usize, usize, Option<Attachment>)> = Vec::new();
    if let Some(soma_points) = tree.point_soma() {
        let c = samples[root].point;
        let r = samples[root].radius_um;
        let points = [
            (Point3::new(c.x - r, c.y, c.z), r),
            (c, r),
            (Point3::new(c.x + r, c.y, c.z), r),
        ];
        let soma = builder
            .add_branch(None, &points, &[1, 1], Some(samples[root].line))
            .map_err(wrap)?;
        let centre = Some(Attachment { parent: soma, pos: 0.5 });
        for &s in soma_points.iter() {
            for &child in tree.children[s].iter().rev() {
                stack.push((child, s, centre));
            }
        }
        for &child in tree.children[root].iter().rev() {
            if !soma_points.contains(&child) {
                stack.push((child, root, centre));
            }
        }
    } else {
        for &child in tree.children[root].iter().rev() {
            stack.push((child, root, None));
        }
    }

    while let Some((first, from, attachment)) = stack.pop() {
        let start = &samples[from];
        let head = &samples[first];
        let start_radius = if start.tag == head.tag {
            start.radius_um
        } else {
            head.radius_um
        };
        let mut points = vec![(start.point, start_radius), (head.point, head.radius_um)];
        let mut tags = vec![head.tag];
        let mut last = first;
        while let [only] = tree.children[last][..] {
            if samples[only].tag != samples[last].tag {
                break;
            }
            points.push((samples[only].point, samples[only].radius_um));
            tags.push(samples[only].tag);
            last = only;
        }
        let branch = builder
            .add_branch(attachment, &points, &tags, Some(head.line))
            .map_err(wrap)?;
        let end = Some(Attachment {
            parent: branch,
            pos: 1.0,
        });
        for &child in tree.children[last].iter().rev() {
            stack.push((child, last, end));
        }
    }
    builder.finish().map_err(wrap)
}

/// Parent/child index structure of checked samples.
struct SampleTree {
    root: usize,
    children: Vec<Vec<usize>>,
    tags: Vec<i32>,
}

impl SampleTree {
    fn new(samples: &[SwcSample], file: &str) -> Result<Self, SwcError> {
        if samples.is_empty() {
            return Err(SwcError::NoSamples { file: file.into() });
        }
        let mut index_of: HashMap<i64, usize> = HashMap::new();
        for (i, s) in samples.iter().enumerate() {
            if let Some(&first) = index_of.get(&s.id) {
                return Err(SwcError::DuplicateId {
                    file: file.into(),
                    line: s.line,
                    id: s.id,
                    first_line: samples[first].line,
                });
            }
            index_of.insert(s.id, i);
        }
        let mut root: Option<usize> = None;
        let mut children = vec![Vec::new(); samples.len()];
        for (i, s) in samples.iter().enumerate() {
            if s.parent < 0 {
                if let Some(first) = root {
                    let first_line = samples[first].line;
                    return Err(SwcError::MultipleRoots {
                        file: file.into(),
                        line: s.line,
                        id: s.id,
                        first_line,
                    });
                }
                root = Some(i);
                continue;
            }
            match index_of.get(&s.parent) {
                Some(&p) if p != i => children[p].push(i),
                Some(_) => {
                    return Err(SwcError::Cycle {
                        file: file.into(),
                        line: s.line,
                        id: s.id,
                    });
                }
                None => {
                    return Err(SwcError::MissingParent {
                        file: file.into(),
                        line: s.line,
                        id: s.id,
                        parent: s.parent,
                    });
                }
            }
        }
        let Some(root) = root else {
            // Every sample has a parent: the parents must form a cycle.
            let s = &samples[0];
            return Err(SwcError::Cycle {
                file: file.into(),
                line: s.line,
                id: s.id,
            });
        };
        if samples[root].tag != 1 {
            let s = &samples[root];
            return Err(SwcError::NonSomaRoot {
                file: file.into(),
                line: s.line,
                id: s.id,
                tag: s.tag,
            });
        }
        let mut reached = vec![false; samples.len()];
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            reached[i] = true;
            stack.extend(children[i].iter().copied());
        }
        if let Some(i) = reached.iter().position(|r| !r) {
            let s = &samples[i];
            return Err(SwcError::Cycle {
                file: file.into(),
                line: s.line,
                id: s.id,
            });
        }
        let tags = samples.iter().map(|s| s.tag).collect();
        Ok(Self { root, children, tags })
    }

    /// For a one-point soma, `Some([])`; for the NeuroMorpho three-point soma,
    /// `Some([a, b])` with its two outer samples; otherwise `None`.
    fn point_soma(&self) -> Option<Vec<usize>> {
        let soma: Vec<usize> = (0..self.tags.len()).filter(|&i| self.tags[i] == 1).collect();
        if soma.len() == 1 {
            return Some(Vec::new());
        }
        let outer: Vec<usize> = self.children[self.root]
            .iter()
            .copied()
            .filter(|&c| self.tags[c] == 1)
            .collect();
        let is_three_point = soma.len() == 3
            && outer.len() == 2
            && outer
                .iter()
                .all(|&c| self.children[c].iter().all(|&g| self.tags[g] != 1));
        is_three_point.then_some(outer)
    }
}
