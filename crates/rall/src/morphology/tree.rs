//! The segment tree: branches of frusta with attachments, built by hand or by the SWC importer.

use std::ops::Range;

/// A point in space [µm].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl Point3 {
    pub fn new(x: f64, y: f64, z: f64) -> Self {
        Self { x, y, z }
    }

    pub fn distance(&self, other: &Point3) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2) + (self.z - other.z).powi(2)).sqrt()
    }
}

/// Index of a branch in [`Morphology::branches`].
pub type BranchId = usize;

/// One frustum: a truncated cone between two points with linearly varying radius.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub prox: Point3,
    pub dist: Point3,
    /// [µm]
    pub prox_radius_um: f64,
    /// [µm]
    pub dist_radius_um: f64,
    /// SWC structure identifier (1 soma, 2 axon, 3 basal dendrite, 4 apical dendrite, ...).
    pub tag: i32,
}

impl Segment {
    /// [µm]
    pub fn length_um(&self) -> f64 {
        self.prox.distance(&self.dist)
    }
}

/// Where a branch's proximal end is connected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attachment {
    pub parent: BranchId,
    /// Position on the parent branch, a fraction of its length in `[0, 1]`.
    pub pos: f64,
}

/// An unbranched chain of segments of one tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// `None` for branches that start at the root point.
    pub attachment: Option<Attachment>,
    /// Indices into [`Morphology::segments`].
    pub segments: Range<usize>,
    /// Arc length from the branch start to the end of each segment [µm]; starts with 0.
    pub cumulative_um: Vec<f64>,
    /// Branches attached to this one, in increasing id order.
    pub children: Vec<BranchId>,
}

impl Branch {
    /// [µm]
    pub fn length_um(&self) -> f64 {
        *self.cumulative_um.last().unwrap_or(&0.0)
    }
}

/// A neuron's shape: branches of frusta, parents before children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Morphology {
    pub segments: Vec<Segment>,
    pub branches: Vec<Branch>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MorphologyError {
    #[error("branch {branch} has zero length{}", source_hint(*line))]
    ZeroLengthBranch { branch: BranchId, line: Option<usize> },
    #[error("branch {branch} attaches to branch {parent}, which does not exist yet (parents come first)")]
    UnknownParent { branch: BranchId, parent: BranchId },
    #[error("attachment position {pos} is outside [0, 1]")]
    AttachmentOutOfRange { pos: f64 },
    #[error("radius {radius_um} µm is not positive")]
    NonPositiveRadius { radius_um: f64 },
    #[error("a branch needs at least two points")]
    TooFewPoints,
    #[error("the morphology has no branches")]
    Empty,
}

fn source_hint(line: Option<usize>) -> String {
    line.map(|l| format!(" (starting at SWC line {l})")).unwrap_or_default()
}

/// Builds a [`Morphology`] branch by branch; every branch is checked as it is added.
#[derive(Default)]
pub struct MorphologyBuilder {
    morphology: Morphology,
}

impl MorphologyBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a branch through `points` (position, radius [µm]); consecutive
    /// points make one frustum each. Zero-length frusta are dropped; a branch
    /// of zero total length is an error. `line` names the source line for errors.
    pub fn add_branch(
        &mut self,
        attachment: Option<Attachment>,
        points: &[(Point3, f64)],
        tags: &[i32],
        line: Option<usize>,
    ) -> Result<BranchId, MorphologyError> {
        if points.len() < 2 || tags.len() + 1 != points.len() {
            return Err(MorphologyError::TooFewPoints);
        }
        let id = self.morphology.branches.len();
        if let Some(a) = attachment {
            if a.parent >= id {
                return Err(MorphologyError::UnknownParent {
                    branch: id,
                    parent: a.parent,
                });
            }
            if !(0.0..=1.0).contains(&a.pos) {
                return Err(MorphologyError::AttachmentOutOfRange { pos: a.pos });
            }
        }
        for (_, r) in points {
            if !(*r > 0.0) {
                return Err(MorphologyError::NonPositiveRadius { radius_um: *r });
            }
        }
        let first = self.morphology.segments.len();
        let mut cumulative = vec![0.0];
        for (w, tag) in points.windows(2).zip(tags) {
            let segment = Segment {
                prox: w[0].0,
                dist: w[1].0,
                prox_radius_um: w[0].1,
                dist_radius_um: w[1].1,
                tag: *tag,
            };
            let length = segment.length_um();
            if length <= 1e-9 {
                continue;
            }
            cumulative.push(cumulative.last().unwrap() + length);
            self.morphology.segments.push(segment);
        }
        let last = self.morphology.segments.len();
        if last == first {
            return Err(MorphologyError::ZeroLengthBranch { branch: id, line });
        }
        if let Some(a) = attachment {
            self.morphology.branches[a.parent].children.push(id);
        }
        self.morphology.branches.push(Branch {
            attachment,
            segments: first..last,
            cumulative_um: cumulative,
            children: Vec::new(),
        });
        Ok(id)
    }

    /// Adds a uniform cylinder along the x axis starting at `x0_um`, for hand-built test cells.
    pub fn add_cylinder(
        &mut self,
        attachment: Option<Attachment>,
        start: Point3,
        length_um: f64,
        radius_um: f64,
        tag: i32,
    ) -> Result<BranchId, MorphologyError> {
        let end = Point3::new(start.x + length_um, start.y, start.z);
        self.add_branch(attachment, &[(start, radius_um), (end, radius_um)], &[tag], None)
    }

    pub fn finish(self) -> Result<Morphology, MorphologyError> {
        if self.morphology.branches.is_empty() {
            return Err(MorphologyError::Empty);
        }
        Ok(self.morphology)
    }
}

impl Morphology {
    /// Distal end point of a branch.
    pub fn branch_end(&self, branch: BranchId) -> Point3 {
        self.segments[self.branches[branch].segments.end - 1].dist
    }

    /// Radius at the distal end of a branch [µm].
    pub fn branch_end_radius_um(&self, branch: BranchId) -> f64 {
        self.segments[self.branches[branch].segments.end - 1].dist_radius_um
    }

    /// Branches with no children.
    pub fn terminal_branches(&self) -> impl Iterator<Item = BranchId> + '_ {
        (0..self.branches.len()).filter(|&b| self.branches[b].children.is_empty())
    }

    /// Total membrane area [µm²].
    pub fn total_area_um2(&self) -> f64 {
        (0..self.branches.len())
            .map(|b| self.lateral_area_um2(b, 0.0, 1.0))
            .sum()
    }

    /// Total length of all branches [µm].
    pub fn total_length_um(&self) -> f64 {
        self.branches.iter().map(Branch::length_um).sum()
    }

    /// Segment boundary positions of a branch, as fractions in `[0, 1]`, starting with 0.
    pub fn segment_boundaries(&self, branch: BranchId) -> Vec<f64> {
        let b = &self.branches[branch];
        let total = b.length_um();
        b.cumulative_um.iter().map(|c| c / total).collect()
    }
}
