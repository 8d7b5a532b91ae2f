//! Discretisation summary: a cell and its layout in, per-region CV counts, lengths and areas out (for `rall inspect`).

use super::{Cell, CellLayout};
use crate::discretize::CvKind;
use crate::labels::Region;

/// What one region of a cell amounts to after discretisation.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionSummary {
    pub name: String,
    /// Membrane CVs that overlap the region.
    pub cvs: usize,
    /// [µm]
    pub length_um: f64,
    /// [µm²]
    pub area_um2: f64,
}

/// Summaries of every non-empty region label of the cell, plus `(all)`, sorted by name.
pub fn summarise_regions(cell: &Cell, layout: &CellLayout) -> Vec<RegionSummary> {
    let m = &cell.morphology;
    let mut out = Vec::new();
    for name in cell.labels.names() {
        let Ok(region) = cell.labels.region(m, name) else {
            continue;
        };
        if region.cables.is_empty() {
            continue;
        }
        out.push(summarise(cell, layout, name, &region));
    }
    out
}

fn summarise(cell: &Cell, layout: &CellLayout, name: &str, region: &Region) -> RegionSummary {
    let m = &cell.morphology;
    let g = &layout.geometry;
    let cvs = (0..g.len())
        .filter(|&cv| g.kind[cv] == CvKind::Membrane)
        .filter(|&cv| {
            let (p0, p1) = g.extent[cv];
            region.covered_length(g.branch[cv], p0, p1) > 0.0
        })
        .count();
    let length_um = region
        .cables
        .iter()
        .map(|c| (c.dist - c.prox) * m.branches[c.branch].length_um())
        .sum();
    let area_um2 = region
        .cables
        .iter()
        .map(|c| m.lateral_area_um2(c.branch, c.prox, c.dist))
        .sum();
    RegionSummary {
        name: name.to_string(),
        cvs,
        length_um,
        area_um2,
    }
}
