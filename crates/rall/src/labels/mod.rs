//! Labels stage: Arbor-style s-expressions in, regions (lists of cables) and locsets (lists of locations) out.
//!
//! Regions: `(all)`, `(nil)`, `(tag N)`, `(branch N)`, `(cable B P0 P1)`,
//! `(region "name")`, `(join ...)`, `(intersect ...)`, `(complement R)`,
//! `(difference A B)`, `(distal-interval L [D])`, `(proximal-interval L [D])`.
//! Locsets: `(root)`, `(terminal)`, `(location B P)`, `(locset "name")`,
//! `(join ...)`, `(uniform R FIRST LAST SEED)`, `(on-branches P)`.
//! A bare name refers to a label of the dictionary.

mod dictionary;
mod evaluate;
mod expression;
mod sexpr;

pub use dictionary::LabelDictionary;
pub use evaluate::{Cable, Location, Locset, Region};
pub use expression::{Label, LabelError, LocsetExpr, RegionExpr, parse_label};
