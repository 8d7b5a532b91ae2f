//! NeuroML2 segments and segment groups in; NEURON's sections, as jNeuroML's `-neuron` export makes them,
//! out as a [`Morphology`] (one branch per section, with its name and divisions).
//!
//! - If the morphology has cables (segment groups with neuroLexId `sao864921383`), each cable is one
//!   section, named by the group's id, through its segments in member order (members, then the included
//!   groups', then paths and subtrees): its first segment's proximal point, then every segment's distal
//!   point. The cables must cover every segment once, and each member's parent must be the member before
//!   it (the first's lies outside the cable). Otherwise each segment is one section, named by its `name`
//!   (`Seg<id>` if it has none).
//! - A section attaches to the section holding its first segment's parent, at the arc fraction of that
//!   parent's point `fractionAlong` along its segment: the arc length up to the parent segment plus
//!   `fractionAlong` of its length, over the section's length (jNeuroML's
//!   `getFractionAlongSegGroupLength`). A child of a one-segment section attaches at `fractionAlong` itself.
//! - A one-segment section whose two points coincide, diameters included (a spherical soma), becomes a
//!   cylinder from that point to one diameter further along y, jNeuroML's rule: its length and lateral
//!   area are the sphere's diameter and area.
//! - Tags per section, from the groups holding its first segment: `soma_group` (or neuroLexId GO:0043025,
//!   sao1044911821) 1, `axon_group` (GO:0030424) 2, a group whose id contains "apical" 4, `dendrite_group`
//!   (GO:0030425, sao1211023249) 3, in that order of precedence; 0 (SWC's "undefined") otherwise.
//!
//! Where jNeuroML 0.14.0 differs, rall follows the specification and NEURON's section model:
//! - a cable's first segment without a proximal point starts where the specification puts it
//!   (`fractionAlong` along its parent); jNeuroML starts it at the parent's distal point whatever
//!   `fractionAlong` is (the same for the usual fractionAlong = 1);
//! - jNeuroML refuses a fractionAlong other than 0 or 1 into a cable of several segments, reads it as a
//!   32-bit float (0.3 becomes 0.30000001192092896) and rounds one within 1e-4 of 1 up to 1; rall takes
//!   the number as written;
//! - jNeuroML ignores `<path>` and `<subTree>` in groups; rall resolves them;
//! - without cables jNeuroML writes each section's points distal first, so NEURON's 0 end is the segment's
//!   distal point; rall keeps the segments' direction (lengths, areas and positions are the same; the taper
//!   along each section is mirrored in NEURON).

use super::neuroml::{
    CABLE_NEUROLEX_ID, GroupItem, MAX_NEUROML_GROUP_DEPTH, NeuroMlError, RawGroup, RawMorphology, RawPoint,
};
use super::tree::{Attachment, Morphology, MorphologyBuilder, Point3};
use std::collections::HashMap;

pub(super) struct Sections {
    pub morphology: Morphology,
    pub names: Vec<String>,
    pub divisions: Vec<usize>,
}

/// Groups resolved so far, and those being resolved (on the current chain of includes).
struct Resolved {
    done: Vec<Option<Vec<usize>>>,
    active: Vec<bool>,
}

struct Section {
    name: String,
    segments: Vec<usize>,
    divisions: usize,
    line: usize,
}

/// The segment tree: indices, parents, children and resolved proximal points.
struct Tree<'a> {
    m: &'a RawMorphology,
    file: &'a str,
    index: HashMap<u64, usize>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    proximal: Vec<RawPoint>,
    groups: HashMap<&'a str, usize>,
}

pub(super) fn build(m: &RawMorphology, file: &str) -> Result<Sections, NeuroMlError> {
    let tree = Tree::new(m, file)?;
    let mut resolved = Resolved {
        done: vec![None; m.groups.len()],
        active: vec![false; m.groups.len()],
    };
    let mut sections: Vec<Section> = Vec::new();
    let cables: Vec<usize> = (0..m.groups.len())
        .filter(|&g| m.groups[g].neuro_lex_id.as_deref() == Some(CABLE_NEUROLEX_ID))
        .collect();
    let mut section_of = vec![usize::MAX; m.segments.len()];
    for &g in &cables {
        let group = &m.groups[g];
        let segments = tree.resolve(g, &mut resolved, 0)?;
        if segments.is_empty() {
            return Err(NeuroMlError::EmptyCable {
                file: file.into(),
                line: group.line,
                group: group.id.clone(),
            });
        }
        for (k, &s) in segments.iter().enumerate() {
            if section_of[s] != usize::MAX {
                return Err(NeuroMlError::SegmentInTwoCables {
                    file: file.into(),
                    line: group.line,
                    segment: m.segments[s].id,
                    first: sections[section_of[s]].name.clone(),
                    second: group.id.clone(),
                });
            }
            let chained = match tree.parent[s] {
                Some(p) if k > 0 => p == segments[k - 1],
                Some(p) => !segments.contains(&p),
                None => k == 0,
            };
            if !chained {
                return Err(NeuroMlError::CableNotAChain {
                    file: file.into(),
                    line: group.line,
                    group: group.id.clone(),
                    segment: m.segments[s].id,
                });
            }
            section_of[s] = sections.len();
        }
        sections.push(Section {
            name: group.id.clone(),
            segments,
            divisions: group.divisions.unwrap_or(1),
            line: group.line,
        });
    }
    if cables.is_empty() {
        for (s, segment) in m.segments.iter().enumerate() {
            section_of[s] = s;
            sections.push(Section {
                name: segment.name.clone().unwrap_or_else(|| format!("Seg{}", segment.id)),
                segments: vec![s],
                divisions: 1,
                line: segment.line,
            });
        }
    } else if let Some(s) = section_of.iter().position(|&c| c == usize::MAX) {
        return Err(NeuroMlError::SegmentOutsideCables {
            file: file.into(),
            line: m.segments[s].line,
            segment: m.segments[s].id,
        });
    }
    let tags = tree.tags(&mut resolved)?;
    let points: Vec<Vec<RawPoint>> = sections.iter().map(|s| tree.points(&s.segments)).collect();
    // Parent section and position of each section; then the sections in depth-first order from the root's.
    let mut attach: Vec<Option<(usize, f64)>> = Vec::with_capacity(sections.len());
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); sections.len()];
    let mut root = 0;
    for (c, section) in sections.iter().enumerate() {
        let first = section.segments[0];
        attach.push(tree.parent[first].map(|p| {
            let fraction = m.segments[first].parent.map_or(1.0, |(_, f)| f);
            let ps = section_of[p];
            let k = sections[ps].segments.iter().position(|&s| s == p).unwrap_or(0);
            (ps, position(&points[ps], k, fraction))
        }));
        match attach[c] {
            Some((ps, _)) => children[ps].push(c),
            None => root = c,
        }
    }
    let mut builder = MorphologyBuilder::new();
    let mut branch_of = vec![usize::MAX; sections.len()];
    let (mut names, mut divisions) = (Vec::new(), Vec::new());
    let mut stack = vec![root];
    while let Some(c) = stack.pop() {
        let section = &sections[c];
        let attachment = attach[c].map(|(ps, pos)| Attachment {
            parent: branch_of[ps],
            pos,
        });
        let pts: Vec<(Point3, f64)> = points[c].iter().map(|p| (p.point, p.diameter / 2.0)).collect();
        let branch_tags = vec![tags[section.segments[0]]; pts.len() - 1];
        branch_of[c] = builder
            .add_branch(attachment, &pts, &branch_tags, None)
            .map_err(|source| NeuroMlError::Morphology {
                file: file.into(),
                line: section.line,
                source,
            })?;
        names.push(section.name.clone());
        divisions.push(section.divisions);
        stack.extend(children[c].iter().rev());
    }
    let morphology = builder.finish().map_err(|source| NeuroMlError::Morphology {
        file: file.into(),
        line: m.line,
        source,
    })?;
    Ok(Sections {
        morphology,
        names,
        divisions,
    })
}

/// Arc fraction along a section's points of the point `fraction` along its `k`-th segment (frustum k).
fn position(points: &[RawPoint], k: usize, fraction: f64) -> f64 {
    if points.len() == 2 {
        return fraction;
    }
    let lengths: Vec<f64> = points.windows(2).map(|w| w[0].point.distance(&w[1].point)).collect();
    let before: f64 = lengths[..k].iter().sum();
    let total: f64 = lengths.iter().sum();
    let end = before + lengths[k];
    let at = if fraction == 1.0 {
        end
    } else {
        before + fraction * lengths[k]
    };
    if total > 0.0 {
        (at / total).clamp(0.0, 1.0)
    } else {
        fraction
    }
}

impl<'a> Tree<'a> {
    fn new(m: &'a RawMorphology, file: &'a str) -> Result<Self, NeuroMlError> {
        let n = m.segments.len();
        if n == 0 {
            return Err(NeuroMlError::NoSegments {
                file: file.into(),
                line: m.line,
            });
        }
        let mut index: HashMap<u64, usize> = HashMap::with_capacity(n);
        for (i, s) in m.segments.iter().enumerate() {
            if let Some(&first) = index.get(&s.id) {
                return Err(NeuroMlError::DuplicateSegment {
                    file: file.into(),
                    line: s.line,
                    id: s.id,
                    first_line: m.segments[first].line,
                });
            }
            index.insert(s.id, i);
        }
        let mut parent = Vec::with_capacity(n);
        let mut root: Option<usize> = None;
        for s in &m.segments {
            match s.parent {
                Some((p, _)) => parent.push(Some(*index.get(&p).ok_or_else(|| NeuroMlError::UnknownParent {
                    file: file.into(),
                    line: s.line,
                    id: s.id,
                    parent: p,
                })?)),
                None => {
                    if let Some(r) = root {
                        return Err(NeuroMlError::SecondRoot {
                            file: file.into(),
                            line: s.line,
                            id: s.id,
                            first_line: m.segments[r].line,
                        });
                    }
                    root = Some(parent.len());
                    parent.push(None);
                }
            }
        }
        // Parents before children: walk up from each segment to one already placed (or the root).
        let mut state = vec![0u8; n]; // 0 new, 1 on the current walk, 2 placed
        let mut order = Vec::with_capacity(n);
        for start in 0..n {
            let mut walk = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                match state[i] {
                    2 => break,
                    1 => {
                        return Err(NeuroMlError::Cycle {
                            file: file.into(),
                            line: m.segments[i].line,
                            id: m.segments[i].id,
                        });
                    }
                    _ => {
                        state[i] = 1;
                        walk.push(i);
                        at = parent[i];
                    }
                }
            }
            for &i in walk.iter().rev() {
                state[i] = 2;
                order.push(i);
            }
        }
        let mut children = vec![Vec::new(); n];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        // A missing proximal point lies fractionAlong from the parent's proximal to its distal point.
        let mut proximal: Vec<Option<RawPoint>> = m.segments.iter().map(|s| s.proximal).collect();
        for &i in &order {
            if proximal[i].is_some() {
                continue;
            }
            let s = &m.segments[i];
            let (Some(p), Some((_, f))) = (parent[i], s.parent) else {
                return Err(NeuroMlError::RootWithoutProximal {
                    file: file.into(),
                    line: s.line,
                    id: s.id,
                });
            };
            let (a, b) = (proximal[p].unwrap_or(m.segments[p].distal), m.segments[p].distal);
            let lerp = |u: f64, v: f64| u + f * (v - u);
            proximal[i] = Some(RawPoint {
                point: Point3::new(
                    lerp(a.point.x, b.point.x),
                    lerp(a.point.y, b.point.y),
                    lerp(a.point.z, b.point.z),
                ),
                diameter: lerp(a.diameter, b.diameter),
            });
        }
        let mut groups = HashMap::with_capacity(m.groups.len());
        for (g, group) in m.groups.iter().enumerate() {
            if let Some(&first) = groups.get(group.id.as_str()) {
                let first: &RawGroup = &m.groups[first];
                return Err(NeuroMlError::DuplicateGroup {
                    file: file.into(),
                    line: group.line,
                    id: group.id.clone(),
                    first_line: first.line,
                });
            }
            groups.insert(group.id.as_str(), g);
        }
        Ok(Self {
            m,
            file,
            index,
            parent,
            children,
            proximal: proximal
                .into_iter()
                .zip(&m.segments)
                .map(|(p, s)| p.unwrap_or(s.distal))
                .collect(),
            groups,
        })
    }

    fn segment(&self, id: u64, group: usize, line: usize) -> Result<usize, NeuroMlError> {
        self.index.get(&id).copied().ok_or_else(|| NeuroMlError::UnknownMember {
            file: self.file.into(),
            line,
            group: self.m.groups[group].id.clone(),
            segment: id,
        })
    }

    /// A group's segments in order (members, includes, paths, subtrees as listed), each once.
    fn resolve(&self, g: usize, memo: &mut Resolved, depth: usize) -> Result<Vec<usize>, NeuroMlError> {
        if let Some(done) = &memo.done[g] {
            return Ok(done.clone());
        }
        let group = &self.m.groups[g];
        if depth > MAX_NEUROML_GROUP_DEPTH {
            return Err(NeuroMlError::GroupsTooDeep {
                file: self.file.into(),
                line: group.line,
            });
        }
        memo.active[g] = true;
        let mut out = Vec::new();
        for item in &group.items {
            match item {
                GroupItem::Member { segment, line } => out.push(self.segment(*segment, g, *line)?),
                GroupItem::Include { group: id, line } => {
                    let Some(&h) = self.groups.get(id.as_str()) else {
                        return Err(NeuroMlError::UnknownGroup {
                            file: self.file.into(),
                            line: *line,
                            id: id.clone(),
                        });
                    };
                    if memo.active[h] {
                        return Err(NeuroMlError::GroupCycle {
                            file: self.file.into(),
                            line: *line,
                            id: id.clone(),
                        });
                    }
                    out.extend(self.resolve(h, memo, depth + 1)?);
                }
                GroupItem::Path {
                    element,
                    from,
                    to,
                    line,
                } => {
                    let from = from.map(|s| self.segment(s, g, *line)).transpose()?;
                    let to = to.map(|s| self.segment(s, g, *line)).transpose()?;
                    match (from, to) {
                        (_, Some(t)) => {
                            let mut up = vec![t];
                            while Some(*up.last().unwrap()) != from {
                                match self.parent[*up.last().unwrap()] {
                                    Some(p) => up.push(p),
                                    None if from.is_none() => break,
                                    None => {
                                        return Err(NeuroMlError::NotOnPath {
                                            file: self.file.into(),
                                            line: *line,
                                            from: self.m.segments[from.unwrap_or(0)].id,
                                            to: self.m.segments[t].id,
                                        });
                                    }
                                }
                            }
                            out.extend(up.into_iter().rev());
                        }
                        (Some(f), None) => {
                            let mut stack = vec![f];
                            while let Some(s) = stack.pop() {
                                out.push(s);
                                stack.extend(self.children[s].iter().rev());
                            }
                        }
                        (None, None) => {
                            return Err(NeuroMlError::EmptyPath {
                                file: self.file.into(),
                                line: *line,
                                element: element.clone(),
                            });
                        }
                    }
                }
            }
        }
        let mut seen = vec![false; self.m.segments.len()];
        out.retain(|&s| !std::mem::replace(&mut seen[s], true));
        memo.active[g] = false;
        memo.done[g] = Some(out.clone());
        Ok(out)
    }

    /// Tag of each segment from the standard groups.
    fn tags(&self, memo: &mut Resolved) -> Result<Vec<i32>, NeuroMlError> {
        // Precedence: the lower rank wins.
        let rank = |tag: i32| [0, 1, 2, 4, 3].iter().position(|&t| t == tag).unwrap_or(5);
        let mut tags = vec![0; self.m.segments.len()];
        for (g, group) in self.m.groups.iter().enumerate() {
            let lex = group.neuro_lex_id.as_deref().unwrap_or("");
            let tag = if group.id == "soma_group" || matches!(lex, "GO:0043025" | "sao1044911821") {
                1
            } else if group.id == "axon_group" || lex == "GO:0030424" {
                2
            } else if group.id.to_lowercase().contains("apical") {
                4
            } else if group.id == "dendrite_group" || matches!(lex, "GO:0030425" | "sao1211023249") {
                3
            } else {
                continue;
            };
            for s in self.resolve(g, memo, 0)? {
                if tags[s] == 0 || rank(tag) < rank(tags[s]) {
                    tags[s] = tag;
                }
            }
        }
        Ok(tags)
    }

    /// A section's points: its first segment's proximal point, then each segment's distal point.
    fn points(&self, segments: &[usize]) -> Vec<RawPoint> {
        let mut points = vec![self.proximal[segments[0]]];
        points.extend(segments.iter().map(|&s| self.m.segments[s].distal));
        if points.len() == 2 && points[0] == points[1] {
            points[1].point.y += points[1].diameter;
        }
        points
    }
}
