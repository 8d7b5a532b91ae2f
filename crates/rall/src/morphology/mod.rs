//! Morphology stage: SWC, Neurolucida ASC or NeuroML2 text, or hand-built points, in; a tree of unbranched branches of frusta out.
//!
//! A [`Morphology`] is a list of [`Branch`]es, each an unbranched chain of
//! [`Segment`]s (frusta) of one tag. Positions along a branch are fractions of
//! its arc length in `[0, 1]`. A branch attaches to a position on its parent
//! branch (usually its distal end, `1.0`) or to the root point.

mod asc;
mod contour;
mod edit;
mod geometry;
mod neuroml;
mod neuroml_sections;
mod swc;
mod tree;

pub use asc::{AscError, MAX_ASC_DEPTH, load_asc, load_asc_text};
pub use contour::{ContourError, contour_centroid};
pub use edit::{AxonStub, ReplacedAxon};
pub use geometry::{Piece, frustum_area_um2, frustum_resistance_mohm, path_between_um, path_from_root_um};
pub use neuroml::{
    CABLE_NEUROLEX_ID, MAX_NEUROML_GROUP_DEPTH, MAX_XML_DEPTH, NeuroMlCell, NeuroMlError, load_neuroml,
    load_neuroml_text, read_neuroml, read_neuroml_text,
};
pub use swc::{SwcError, SwcSample, load_swc, load_swc_text, parse_swc};
pub use tree::{Attachment, Branch, BranchId, Morphology, MorphologyBuilder, MorphologyError, Point3, Segment};
