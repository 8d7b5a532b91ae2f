//! Discretisation stage: a morphology, a CV policy and painted cable properties in, per-CV geometry and electrical properties out.
//!
//! rall uses NEURON's node layout. Each branch cut into `n` CVs has `n`
//! membrane nodes at the CV centres, plus a zero-area junction node at its
//! distal end (`x = 1`); the root point has a zero-area junction node too.
//! A child branch links to the node its attachment point falls on; the
//! axial resistance of a link is the integral of `Ra dx / (π r²)` along the
//! path between the two nodes, over the child's side only (as NEURON does).

mod cv_geometry;
mod cv_policy;
mod cv_properties;

pub use cv_geometry::{CvGeometry, CvIndex, CvKind};
pub use cv_policy::CvPolicy;
pub use cv_properties::{CableProperties, CvProperties, PaintedScalar, link_span};
