//! CV geometry: a morphology and per-branch CV boundaries in, the tree of CV nodes with their extents out.

use crate::labels::Location;
use crate::morphology::{BranchId, Morphology};
use std::ops::Range;

/// Index of a CV (a node of the cable's linear system) within one cell.
pub type CvIndex = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvKind {
    /// A CV with membrane: its node sits at the centre of its extent.
    Membrane,
    /// A zero-area node at a branch end or the root: no membrane, no capacitance.
    Junction,
}

/// The tree of CV nodes of one cell. CVs are numbered parents first: the
/// root junction is CV 0, then for each branch in order its membrane CVs
/// from proximal to distal, then its distal junction.
#[derive(Clone, Debug, PartialEq)]
pub struct CvGeometry {
    /// Parent CV (`None` for the root).
    pub parent: Vec<Option<CvIndex>>,
    pub kind: Vec<CvKind>,
    /// Branch holding the CV's node.
    pub branch: Vec<BranchId>,
    /// Node position on its branch, in `[0, 1]`.
    pub node_pos: Vec<f64>,
    /// Extent `[prox, dist]` on the branch (empty for junctions).
    pub extent: Vec<(f64, f64)>,
    /// The membrane CVs of each branch.
    pub branch_cvs: Vec<Range<CvIndex>>,
    /// The distal junction of each branch.
    pub branch_end: Vec<CvIndex>,
}

impl CvGeometry {
    /// Lays out CVs given the sorted boundary positions of every branch.
    pub fn new(morphology: &Morphology, boundaries: &[Vec<f64>]) -> Self {
        let mut g = CvGeometry {
            parent: vec![None],
            kind: vec![CvKind::Junction],
            branch: vec![0],
            node_pos: vec![0.0],
            extent: vec![(0.0, 0.0)],
            branch_cvs: Vec::with_capacity(morphology.branches.len()),
            branch_end: Vec::with_capacity(morphology.branches.len()),
        };
        for (b, cuts) in boundaries.iter().enumerate() {
            let first = g.len();
            let mut previous = morphology.branches[b]
                .attachment
                .map_or(0, |a| g.cv_at(morphology, a.parent, a.pos));
            for w in cuts.windows(2) {
                g.push(previous, CvKind::Membrane, b, 0.5 * (w[0] + w[1]), (w[0], w[1]));
                previous = g.len() - 1;
            }
            g.branch_cvs.push(first..g.len());
            g.push(previous, CvKind::Junction, b, 1.0, (1.0, 1.0));
            g.branch_end.push(g.len() - 1);
        }
        g
    }

    fn push(&mut self, parent: CvIndex, kind: CvKind, branch: BranchId, pos: f64, extent: (f64, f64)) {
        self.parent.push(Some(parent));
        self.kind.push(kind);
        self.branch.push(branch);
        self.node_pos.push(pos);
        self.extent.push(extent);
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The CV whose node represents a location, as NEURON's `sec(x)` does:
    /// the junction at a branch end for `x = 1`, the node the branch hangs
    /// from for `x = 0`, otherwise the membrane CV whose extent holds `x`
    /// (a position on a boundary belongs to the distal CV).
    pub fn cv_at(&self, morphology: &Morphology, branch: BranchId, pos: f64) -> CvIndex {
        if pos >= 1.0 {
            return self.branch_end[branch];
        }
        if pos <= 0.0 {
            return match morphology.branches[branch].attachment {
                Some(a) => self.cv_at(morphology, a.parent, a.pos),
                None => 0,
            };
        }
        let cvs = self.branch_cvs[branch].clone();
        cvs.clone().find(|&cv| pos < self.extent[cv].1).unwrap_or(cvs.end - 1)
    }

    pub fn cv_at_location(&self, morphology: &Morphology, location: Location) -> CvIndex {
        self.cv_at(morphology, location.branch, location.pos)
    }

    /// A human-readable place for messages: `CV 12 (branch 3 at 0.25)`.
    pub fn describe(&self, cv: CvIndex) -> String {
        match self.kind[cv] {
            CvKind::Junction if cv == 0 => "CV 0 (the root junction)".to_string(),
            CvKind::Junction => format!("CV {cv} (junction at the end of branch {})", self.branch[cv]),
            CvKind::Membrane => format!("CV {cv} (branch {} at {:.4})", self.branch[cv], self.node_pos[cv]),
        }
    }
}
