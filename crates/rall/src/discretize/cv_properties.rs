//! CV electrical properties: CV geometry and painted cable properties in, areas, capacitances and axial conductances out.

use super::cv_geometry::{CvGeometry, CvKind};
use crate::labels::Region;
use crate::morphology::{BranchId, Morphology};

/// A scalar painted over the cell: a default, overridden region by region (later paints win).
#[derive(Clone, Debug, PartialEq)]
pub struct PaintedScalar {
    pub default: f64,
    pub layers: Vec<(Region, f64)>,
}

impl PaintedScalar {
    pub fn uniform(value: f64) -> Self {
        Self {
            default: value,
            layers: Vec::new(),
        }
    }

    /// The value at a position (interval ends count as inside the region).
    pub fn at(&self, branch: BranchId, pos: f64) -> f64 {
        self.layers
            .iter()
            .rev()
            .find(|(r, _)| r.contains(branch, pos))
            .map_or(self.default, |(_, v)| *v)
    }

    /// Positions on `branch` where the value may change, sorted.
    pub fn cuts(&self, branch: BranchId) -> Vec<f64> {
        let mut cuts: Vec<f64> = self.layers.iter().flat_map(|(r, _)| r.boundaries_on(branch)).collect();
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        cuts
    }
}

/// The cable properties of one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CableProperties {
    /// Specific membrane capacitance [µF/cm²].
    pub cm_uf_per_cm2: PaintedScalar,
    /// Axial resistivity [Ω·cm].
    pub ra_ohm_cm: PaintedScalar,
    /// Initial membrane potential [mV].
    pub v_init_mv: f64,
}

impl Default for CableProperties {
    /// NEURON's defaults: 1 µF/cm², 35.4 Ω·cm, -65 mV.
    fn default() -> Self {
        Self {
            cm_uf_per_cm2: PaintedScalar::uniform(1.0),
            ra_ohm_cm: PaintedScalar::uniform(35.4),
            v_init_mv: -65.0,
        }
    }
}

/// Per-CV electrical properties, indexed like [`CvGeometry`].
#[derive(Clone, Debug, PartialEq)]
pub struct CvProperties {
    /// Membrane area [µm²] (0 for junctions).
    pub area_um2: Vec<f64>,
    /// Membrane capacitance [nF].
    pub capacitance_nf: Vec<f64>,
    /// Conductance of the link to the parent CV [µS] (0 for the root).
    pub axial_conductance_us: Vec<f64>,
}

impl CvProperties {
    pub fn new(morphology: &Morphology, geometry: &CvGeometry, cable: &CableProperties) -> Self {
        let n = geometry.len();
        let mut p = CvProperties {
            area_um2: vec![0.0; n],
            capacitance_nf: vec![0.0; n],
            axial_conductance_us: vec![0.0; n],
        };
        for cv in 0..n {
            let b = geometry.branch[cv];
            if geometry.kind[cv] == CvKind::Membrane {
                let (p0, p1) = geometry.extent[cv];
                morphology.for_each_piece(b, p0, p1, &cable.cm_uf_per_cm2.cuts(b), |piece| {
                    let area = piece.area_um2();
                    p.area_um2[cv] += area;
                    // µF/cm² · µm² = 1e-8 µF = 1e-5 nF
                    p.capacitance_nf[cv] += 1e-5 * cable.cm_uf_per_cm2.at(b, piece.mid_pos) * area;
                });
            }
            if let Some((b, from, to)) = link_span(geometry, cv) {
                let mut resistance_mohm = 0.0;
                morphology.for_each_piece(b, from, to, &cable.ra_ohm_cm.cuts(b), |piece| {
                    resistance_mohm += piece.resistance_mohm(cable.ra_ohm_cm.at(b, piece.mid_pos));
                });
                p.axial_conductance_us[cv] = 1.0 / resistance_mohm;
            }
        }
        p
    }
}

/// The stretch of branch a CV's link to its parent runs along: `(branch, from, to)`. It runs on the
/// CV's own branch, from the branch start (or the previous node on that branch) to the CV's node.
pub fn link_span(geometry: &CvGeometry, cv: usize) -> Option<(usize, f64, f64)> {
    let parent = geometry.parent[cv]?;
    let b = geometry.branch[cv];
    let from = if geometry.branch[parent] == b && parent != 0 {
        geometry.node_pos[parent]
    } else {
        0.0
    };
    Some((b, from, geometry.node_pos[cv]))
}
