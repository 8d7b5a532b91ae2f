//! NeuroML2 import: a `.nml` document (and the files it `<include>`s) in; the cell's morphology out, as a
//! [`Morphology`] with the sections NEURON gets from jNeuroML's `-neuron` export.
//!
//! What is read (NeuroML v2.3 schema, elements matched by local name):
//!
//! - the first `<cell>` (or `<cell2CaPools>`) of the file, else of its included files; its `<morphology>`
//!   inline, or the top-level `<morphology id>` its `morphology="id"` attribute names, in this file or an
//!   included one. A file with no cell but a top-level `<morphology>` (a `*.morph.nml`) gives that one;
//! - `<include href>` at the top level, a path relative to the including file, read recursively (each
//!   file once); a missing or unreadable file is an error;
//! - `<segment id name>` with `<parent segment fractionAlong>` (default 1), `<proximal>` and `<distal>`
//!   (x, y, z, diameter in µm, diameter > 0); a missing proximal is, as the specification says, the
//!   point `fractionAlong` of the way from the parent's proximal to its distal point, diameter included;
//! - `<segmentGroup id neuroLexId>` with `<member segment>`, `<include segmentGroup>`, `<path>` and
//!   `<subTree>` (`<from segment>`, `<to segment>`) and `<property tag="numberInternalDivisions">`.
//!
//! How the sections are made is in `neuroml_sections.rs`. Every error is a [`NeuroMlError`] naming the
//! file and line; nothing panics.

use super::neuroml_sections::{self, Sections};
use super::tree::{Morphology, MorphologyError, Point3};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The neuroLex id of an unbranched cable (`sao864921383`): groups with it map to NEURON sections.
pub const CABLE_NEUROLEX_ID: &str = "sao864921383";

/// Elements nested deeper than this are refused before parsing (the XML parser recurses per level).
pub const MAX_XML_DEPTH: usize = 1_000;

/// Groups nested deeper than this (`<include segmentGroup>` chains) are refused.
pub const MAX_NEUROML_GROUP_DEPTH: usize = 1_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NeuroMlError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}: not well-formed XML: {message}")]
    Xml { file: String, line: usize, message: String },
    #[error("{file}:{line}: elements nest more than {MAX_XML_DEPTH} levels deep")]
    XmlTooDeep { file: String, line: usize },
    #[error("{file}:{line}: the root element is <{found}>; a NeuroML2 file starts with <neuroml>")]
    NotNeuroMl { file: String, line: usize, found: String },
    #[error("{file}:{line}: cannot read the included file `{href}`: {message}")]
    MissingInclude {
        file: String,
        line: usize,
        href: String,
        message: String,
    },
    #[error("{file}:{line}: <{element}> needs the attribute `{attribute}`")]
    MissingAttribute {
        file: String,
        line: usize,
        element: String,
        attribute: &'static str,
    },
    #[error("{file}:{line}: `{attribute}` must be {expected}, found `{text}`")]
    BadNumber {
        file: String,
        line: usize,
        attribute: String,
        expected: &'static str,
        text: String,
    },
    #[error("{file}: no <cell> with a <morphology>, and no top-level <morphology>")]
    NoMorphology { file: String },
    #[error("{file}:{line}: cell `{cell}` has no <morphology> and no `morphology` attribute")]
    CellWithoutMorphology { file: String, line: usize, cell: String },
    #[error("{file}:{line}: cell `{cell}` names morphology `{id}`, which no read file defines at its top level")]
    UnknownMorphology {
        file: String,
        line: usize,
        cell: String,
        id: String,
    },
    #[error("{file}:{line}: the morphology has no segments")]
    NoSegments { file: String, line: usize },
    #[error("{file}:{line}: segment {id} has no <distal> point")]
    MissingDistal { file: String, line: usize, id: u64 },
    #[error("{file}:{line}: point with diameter {diameter}; diameters must be positive")]
    NonPositiveDiameter { file: String, line: usize, diameter: f64 },
    #[error("{file}:{line}: fractionAlong {fraction} is outside [0, 1]")]
    FractionOutOfRange { file: String, line: usize, fraction: f64 },
    #[error("{file}:{line}: segment id {id} already used at line {first_line}")]
    DuplicateSegment {
        file: String,
        line: usize,
        id: u64,
        first_line: usize,
    },
    #[error("{file}:{line}: segment {id} names parent {parent}, which is not in the morphology")]
    UnknownParent {
        file: String,
        line: usize,
        id: u64,
        parent: u64,
    },
    #[error("{file}:{line}: segment {id} is part of a cycle of parents and never reaches the root")]
    Cycle { file: String, line: usize, id: u64 },
    #[error("{file}:{line}: segment {id} is a second root (no <parent>); the first is at line {first_line}")]
    SecondRoot {
        file: String,
        line: usize,
        id: u64,
        first_line: usize,
    },
    #[error("{file}:{line}: the root segment {id} has no <proximal> point")]
    RootWithoutProximal { file: String, line: usize, id: u64 },
    #[error("{file}:{line}: segment group `{id}` already defined at line {first_line}")]
    DuplicateGroup {
        file: String,
        line: usize,
        id: String,
        first_line: usize,
    },
    #[error("{file}:{line}: no segment group `{id}`")]
    UnknownGroup { file: String, line: usize, id: String },
    #[error("{file}:{line}: segment group `{group}` names segment {segment}, which is not in the morphology")]
    UnknownMember {
        file: String,
        line: usize,
        group: String,
        segment: u64,
    },
    #[error("{file}:{line}: segment group `{id}` includes itself (through the groups it includes)")]
    GroupCycle { file: String, line: usize, id: String },
    #[error("{file}:{line}: segment groups include each other more than {MAX_NEUROML_GROUP_DEPTH} levels deep")]
    GroupsTooDeep { file: String, line: usize },
    #[error("{file}:{line}: <{element}> needs a <from> or <to> segment")]
    EmptyPath { file: String, line: usize, element: String },
    #[error("{file}:{line}: segment {from} is not on the path from the root to segment {to}")]
    NotOnPath {
        file: String,
        line: usize,
        from: u64,
        to: u64,
    },
    #[error("{file}:{line}: cable `{group}` has no segments")]
    EmptyCable { file: String, line: usize, group: String },
    #[error("{file}:{line}: segment {segment} is in cable `{second}` and in cable `{first}`")]
    SegmentInTwoCables {
        file: String,
        line: usize,
        segment: u64,
        first: String,
        second: String,
    },
    #[error(
        "{file}:{line}: segment {segment} is in no cable (segment group with neuroLexId=\"{CABLE_NEUROLEX_ID}\"), though the morphology has cables"
    )]
    SegmentOutsideCables { file: String, line: usize, segment: u64 },
    #[error(
        "{file}:{line}: cable `{group}` is not an unbranched chain: the parent of its segment {segment} is not the member listed before it"
    )]
    CableNotAChain {
        file: String,
        line: usize,
        group: String,
        segment: u64,
    },
    #[error("{file}:{line}: {source}")]
    Morphology {
        file: String,
        line: usize,
        source: MorphologyError,
    },
}

/// A NeuroML2 cell's morphology with what NEURON calls its sections.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuroMlCell {
    /// The `<cell>`'s id, `None` for a bare top-level `<morphology>`.
    pub cell_id: Option<String>,
    pub morphology: Morphology,
    /// Per branch: the NEURON section's name, the cable group's id (or the segment's name).
    pub section_names: Vec<String>,
    /// Per branch: the cable group's `numberInternalDivisions` (NEURON's nseg in jNeuroML's export), 1 if absent.
    pub number_internal_divisions: Vec<usize>,
}

/// Reads a NeuroML2 file (and its includes) into its cell's morphology.
pub fn load_neuroml(path: &Path) -> Result<Morphology, NeuroMlError> {
    read_neuroml(path).map(|c| c.morphology)
}

/// NeuroML2 text; `file` names it in errors and its folder is where `<include href>` paths start.
pub fn load_neuroml_text(text: &str, file: &str) -> Result<Morphology, NeuroMlError> {
    read_neuroml_text(text, file).map(|c| c.morphology)
}

/// Reads a NeuroML2 file (and its includes) into its cell: morphology, section names and divisions.
pub fn read_neuroml(path: &Path) -> Result<NeuroMlCell, NeuroMlError> {
    let file = path.display().to_string();
    let text = crate::read_text(path).map_err(|e| NeuroMlError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    read_neuroml_text(&text, &file)
}

/// As [`read_neuroml`], from text; `file` names it in errors and its folder is where includes start.
pub fn read_neuroml_text(text: &str, file: &str) -> Result<NeuroMlCell, NeuroMlError> {
    let mut reader = Reader::default();
    if let Ok(canonical) = Path::new(file).canonicalize() {
        reader.seen.insert(canonical);
    }
    let folder = Path::new(file).parent().map(Path::to_path_buf).unwrap_or_default();
    reader.document(text, file, &folder)?;
    let (morphology, cell_id) = reader.chosen(file)?;
    let name = &reader.files[morphology.file];
    let Sections {
        morphology,
        names,
        divisions,
    } = neuroml_sections::build(morphology, name)?;
    Ok(NeuroMlCell {
        cell_id,
        morphology,
        section_names: names,
        number_internal_divisions: divisions,
    })
}

/// A point with its diameter [µm] and line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RawPoint {
    pub point: Point3,
    pub diameter: f64,
}

#[derive(Clone, Debug)]
pub(super) struct RawSegment {
    pub id: u64,
    pub name: Option<String>,
    /// Parent id and fractionAlong.
    pub parent: Option<(u64, f64)>,
    pub proximal: Option<RawPoint>,
    pub distal: RawPoint,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub(super) enum GroupItem {
    Member {
        segment: u64,
        line: usize,
    },
    Include {
        group: String,
        line: usize,
    },
    /// `<path>` or `<subTree>`: `element` names which, for errors.
    Path {
        element: String,
        from: Option<u64>,
        to: Option<u64>,
        line: usize,
    },
}

#[derive(Clone, Debug)]
pub(super) struct RawGroup {
    pub id: String,
    pub neuro_lex_id: Option<String>,
    pub items: Vec<GroupItem>,
    pub divisions: Option<usize>,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub(super) struct RawMorphology {
    pub id: Option<String>,
    /// Index into the reader's file names.
    pub file: usize,
    pub line: usize,
    pub segments: Vec<RawSegment>,
    pub groups: Vec<RawGroup>,
}

struct RawCell {
    id: String,
    file: usize,
    line: usize,
    inline: Option<usize>,
    reference: Option<String>,
}

#[derive(Default)]
struct Reader {
    files: Vec<String>,
    seen: HashSet<PathBuf>,
    cells: Vec<RawCell>,
    morphologies: Vec<RawMorphology>,
    top_level: Vec<usize>,
}

/// The line where elements first nest deeper than [`MAX_XML_DEPTH`], if they do. A quick scan of the
/// tags (comments, CDATA, declarations and quoted values skipped) that never counts fewer levels than the
/// parser will find.
fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut depth, mut line) = (0, 0usize, 1);
    // Moves past `end` (or to the end of the text), counting lines.
    let skip = |i: &mut usize, line: &mut usize, end: &[u8]| {
        while *i < b.len() && !b[*i..].starts_with(end) {
            *line += usize::from(b[*i] == b'\n');
            *i += 1;
        }
        *i += end.len();
    };
    while i < b.len() {
        let rest = &b[i..];
        if b[i] == b'\n' {
            line += 1;
            i += 1;
        } else if b[i] != b'<' {
            i += 1;
        } else if rest.starts_with(b"<!--") {
            skip(&mut i, &mut line, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            skip(&mut i, &mut line, b"]]>");
        } else if rest.starts_with(b"<?") {
            skip(&mut i, &mut line, b"?>");
        } else if rest.starts_with(b"</") || rest.starts_with(b"<!") {
            depth = depth.saturating_sub(usize::from(rest[1] == b'/'));
            skip(&mut i, &mut line, b">");
        } else {
            // A start tag: to its `>`, past quoted values; `/>` closes it at once.
            i += 1;
            let mut last = 0u8;
            while i < b.len() && b[i] != b'>' {
                if b[i] == b'"' || b[i] == b'\'' {
                    let quote = [b[i]];
                    i += 1;
                    skip(&mut i, &mut line, &quote);
                    last = 0;
                    continue;
                }
                line += usize::from(b[i] == b'\n');
                last = b[i];
                i += 1;
            }
            i += 1;
            if last != b'/' {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Some(line);
                }
            }
        }
    }
    None
}

/// Line numbers from byte offsets.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Self(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn of(&self, node: roxmltree::Node) -> usize {
        self.0.partition_point(|&start| start <= node.range().start)
    }
}

/// One file being read: its name, its lines and where it sits in the reader's list.
struct Source<'a> {
    file: &'a str,
    index: usize,
    lines: Lines,
}

impl Source<'_> {
    fn attribute<'n>(&self, node: roxmltree::Node<'n, '_>, name: &'static str) -> Result<&'n str, NeuroMlError> {
        node.attribute(name).ok_or_else(|| NeuroMlError::MissingAttribute {
            file: self.file.into(),
            line: self.lines.of(node),
            element: node.tag_name().name().into(),
            attribute: name,
        })
    }

    fn bad(&self, node: roxmltree::Node, attribute: &str, expected: &'static str, text: &str) -> NeuroMlError {
        NeuroMlError::BadNumber {
            file: self.file.into(),
            line: self.lines.of(node),
            attribute: attribute.into(),
            expected,
            text: text.chars().take(40).collect(),
        }
    }

    fn number(&self, node: roxmltree::Node, name: &'static str) -> Result<f64, NeuroMlError> {
        let text = self.attribute(node, name)?;
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.bad(node, name, "a finite number", text))
    }

    fn id(&self, node: roxmltree::Node, name: &'static str) -> Result<u64, NeuroMlError> {
        let text = self.attribute(node, name)?;
        text.trim()
            .parse::<u64>()
            .map_err(|_| self.bad(node, name, "a non-negative integer (a segment id)", text))
    }

    fn point(&self, node: roxmltree::Node) -> Result<RawPoint, NeuroMlError> {
        let [x, y, z, diameter] = [
            self.number(node, "x")?,
            self.number(node, "y")?,
            self.number(node, "z")?,
            self.number(node, "diameter")?,
        ];
        if !(diameter > 0.0) {
            return Err(NeuroMlError::NonPositiveDiameter {
                file: self.file.into(),
                line: self.lines.of(node),
                diameter,
            });
        }
        Ok(RawPoint {
            point: Point3::new(x, y, z),
            diameter,
        })
    }

    fn segment(&self, node: roxmltree::Node) -> Result<RawSegment, NeuroMlError> {
        let id = self.id(node, "id")?;
        let (mut parent, mut proximal, mut distal) = (None, None, None);
        for child in node.children().filter(roxmltree::Node::is_element) {
            match child.tag_name().name() {
                "parent" => {
                    let fraction = match child.attribute("fractionAlong") {
                        None => 1.0,
                        Some(_) => self.number(child, "fractionAlong")?,
                    };
                    if !(0.0..=1.0).contains(&fraction) {
                        return Err(NeuroMlError::FractionOutOfRange {
                            file: self.file.into(),
                            line: self.lines.of(child),
                            fraction,
                        });
                    }
                    parent = Some((self.id(child, "segment")?, fraction));
                }
                "proximal" => proximal = Some(self.point(child)?),
                "distal" => distal = Some(self.point(child)?),
                _ => {}
            }
        }
        let line = self.lines.of(node);
        let Some(distal) = distal else {
            return Err(NeuroMlError::MissingDistal {
                file: self.file.into(),
                line,
                id,
            });
        };
        Ok(RawSegment {
            id,
            name: node.attribute("name").map(String::from),
            parent,
            proximal,
            distal,
            line,
        })
    }

    fn group(&self, node: roxmltree::Node) -> Result<RawGroup, NeuroMlError> {
        let mut items = Vec::new();
        let mut divisions = None;
        for child in node.children().filter(roxmltree::Node::is_element) {
            let line = self.lines.of(child);
            match child.tag_name().name() {
                "member" => items.push(GroupItem::Member {
                    segment: self.id(child, "segment")?,
                    line,
                }),
                "include" => items.push(GroupItem::Include {
                    group: self.attribute(child, "segmentGroup")?.into(),
                    line,
                }),
                element @ ("path" | "subTree") => {
                    let end = |name: &str| -> Result<Option<u64>, NeuroMlError> {
                        let node = child.children().find(|c| c.tag_name().name() == name);
                        node.map(|n| self.id(n, "segment")).transpose()
                    };
                    items.push(GroupItem::Path {
                        element: element.into(),
                        from: end("from")?,
                        to: end("to")?,
                        line,
                    });
                }
                "property" if child.attribute("tag") == Some("numberInternalDivisions") => {
                    let text = self.attribute(child, "value")?;
                    let n = text.trim().parse::<usize>().ok().filter(|n| *n > 0);
                    divisions = Some(n.ok_or_else(|| self.bad(child, "value", "a positive integer", text))?);
                }
                _ => {}
            }
        }
        Ok(RawGroup {
            id: self.attribute(node, "id")?.into(),
            neuro_lex_id: node.attribute("neuroLexId").map(String::from),
            items,
            divisions,
            line: self.lines.of(node),
        })
    }

    fn morphology(&self, node: roxmltree::Node) -> Result<RawMorphology, NeuroMlError> {
        let mut m = RawMorphology {
            id: node.attribute("id").map(String::from),
            file: self.index,
            line: self.lines.of(node),
            segments: Vec::new(),
            groups: Vec::new(),
        };
        for child in node.children().filter(roxmltree::Node::is_element) {
            match child.tag_name().name() {
                "segment" => m.segments.push(self.segment(child)?),
                "segmentGroup" => m.groups.push(self.group(child)?),
                _ => {}
            }
        }
        Ok(m)
    }
}

impl Reader {
    fn document(&mut self, text: &str, file: &str, folder: &Path) -> Result<(), NeuroMlError> {
        if let Some(line) = too_deep(text) {
            return Err(NeuroMlError::XmlTooDeep {
                file: file.into(),
                line,
            });
        }
        let doc = roxmltree::Document::parse(text).map_err(|e| NeuroMlError::Xml {
            file: file.into(),
            line: e.pos().row as usize,
            message: e.to_string(),
        })?;
        self.files.push(file.into());
        let source = Source {
            file,
            index: self.files.len() - 1,
            lines: Lines::new(text),
        };
        let root = doc.root_element();
        if root.tag_name().name() != "neuroml" {
            return Err(NeuroMlError::NotNeuroMl {
                file: file.into(),
                line: source.lines.of(root),
                found: root.tag_name().name().into(),
            });
        }
        for node in root.children().filter(roxmltree::Node::is_element) {
            match node.tag_name().name() {
                "include" => {
                    let href = source.attribute(node, "href")?;
                    let path = folder.join(href);
                    let missing = |message: String| NeuroMlError::MissingInclude {
                        file: file.into(),
                        line: source.lines.of(node),
                        href: href.into(),
                        message,
                    };
                    let canonical = path.canonicalize().map_err(|e| missing(e.to_string()))?;
                    if !self.seen.insert(canonical) {
                        continue;
                    }
                    let text = crate::read_text(&path).map_err(|e| missing(e.to_string()))?;
                    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    self.document(&text, &path.display().to_string(), &folder)?;
                }
                "cell" | "cell2CaPools" => {
                    let inline = node.children().find(|c| c.tag_name().name() == "morphology");
                    let inline = match inline {
                        Some(m) => {
                            self.morphologies.push(source.morphology(m)?);
                            Some(self.morphologies.len() - 1)
                        }
                        None => None,
                    };
                    self.cells.push(RawCell {
                        id: node.attribute("id").unwrap_or("").into(),
                        file: source.index,
                        line: source.lines.of(node),
                        inline,
                        reference: node.attribute("morphology").map(String::from),
                    });
                }
                "morphology" => {
                    self.morphologies.push(source.morphology(node)?);
                    self.top_level.push(self.morphologies.len() - 1);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The first cell of the main file (else of the included ones), or a bare top-level morphology.
    fn chosen(&self, file: &str) -> Result<(&RawMorphology, Option<String>), NeuroMlError> {
        let cell = self.cells.iter().find(|c| c.file == 0).or_else(|| self.cells.first());
        let Some(cell) = cell else {
            let first = self
                .top_level
                .iter()
                .find(|&&m| self.morphologies[m].file == 0)
                .or(self.top_level.first());
            return first
                .map(|&m| (&self.morphologies[m], None))
                .ok_or_else(|| NeuroMlError::NoMorphology { file: file.into() });
        };
        let found = match (cell.inline, &cell.reference) {
            (Some(m), _) => &self.morphologies[m],
            (None, Some(id)) => self
                .top_level
                .iter()
                .map(|&m| &self.morphologies[m])
                .find(|m| m.id.as_deref() == Some(id.as_str()))
                .ok_or_else(|| NeuroMlError::UnknownMorphology {
                    file: self.files[cell.file].clone(),
                    line: cell.line,
                    cell: cell.id.clone(),
                    id: id.clone(),
                })?,
            (None, None) => {
                return Err(NeuroMlError::CellWithoutMorphology {
                    file: self.files[cell.file].clone(),
                    line: cell.line,
                    cell: cell.id.clone(),
                });
            }
        };
        Ok((found, Some(cell.id.clone())))
    }
}

#[cfg(test)]
#[path = "neuroml_tests.rs"]
mod tests;
