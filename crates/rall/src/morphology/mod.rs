//! Morphology stage: SWC text or hand-built points in, a tree of unbranched branches of frusta out.
//!
//! A [`Morphology`] is a list of [`Branch`]es, each an unbranched chain of
//! [`Segment`]s (frusta) of one tag. Positions along a branch are fractions of
//! its arc length in `[0, 1]`. A branch attaches to a position on its parent
//! branch (usually its distal end, `1.0`) or to the root point.

mod geometry;
mod swc;
mod tree;

pub use geometry::{Piece, frustum_area_um2, frustum_resistance_mohm};
pub use swc::{SwcError, SwcSample, load_swc, load_swc_text, parse_swc};
pub use tree::{Attachment, Branch, BranchId, Morphology, MorphologyBuilder, MorphologyError, Point3, Segment};
