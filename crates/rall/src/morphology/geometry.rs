//! Frustum geometry: intervals of a branch in, lateral areas [µm²], axial resistances [MΩ] and path
//! distances [µm] out.

use super::tree::{BranchId, Morphology, Point3};

/// Lateral surface of a frustum [µm²] (length and radii in µm), as NEURON and Arbor compute it.
pub fn frustum_area_um2(length_um: f64, r0_um: f64, r1_um: f64) -> f64 {
    std::f64::consts::PI * (r0_um + r1_um) * (length_um * length_um + (r1_um - r0_um).powi(2)).sqrt()
}

/// Axial resistance of a frustum [MΩ]: the integral of `Ra dx / (π r(x)²)`,
/// which for a linear radius is `Ra L / (π r0 r1)`; `Ra` in Ω·cm, lengths in µm.
pub fn frustum_resistance_mohm(length_um: f64, r0_um: f64, r1_um: f64, ra_ohm_cm: f64) -> f64 {
    // Ω·cm · µm / µm² = 1e4 Ω; 1e4 Ω = 1e-2 MΩ.
    1e-2 * ra_ohm_cm * length_um / (std::f64::consts::PI * r0_um * r1_um)
}

/// A piece of one segment lying inside an interval of a branch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    pub segment: usize,
    pub tag: i32,
    /// [µm]
    pub length_um: f64,
    /// Radius at the piece's proximal and distal ends [µm].
    pub r0_um: f64,
    pub r1_um: f64,
    /// Branch position of the piece's midpoint, in `[0, 1]`.
    pub mid_pos: f64,
}

impl Piece {
    pub fn area_um2(&self) -> f64 {
        frustum_area_um2(self.length_um, self.r0_um, self.r1_um)
    }

    pub fn resistance_mohm(&self, ra_ohm_cm: f64) -> f64 {
        frustum_resistance_mohm(self.length_um, self.r0_um, self.r1_um, ra_ohm_cm)
    }
}

impl Morphology {
    /// Calls `visit` for every piece of `[p0, p1]` on `branch`, cut at segment
    /// boundaries and at the sorted positions `cuts`.
    pub fn for_each_piece(&self, branch: BranchId, p0: f64, p1: f64, cuts: &[f64], mut visit: impl FnMut(Piece)) {
        let b = &self.branches[branch];
        let total = b.length_um();
        let (lo, hi) = (p0.min(p1) * total, p0.max(p1) * total);
        if hi <= lo {
            return;
        }
        for (k, seg_index) in b.segments.clone().enumerate() {
            let (s0, s1) = (b.cumulative_um[k], b.cumulative_um[k + 1]);
            let (a, z) = (lo.max(s0), hi.min(s1));
            if z <= a {
                continue;
            }
            let seg = &self.segments[seg_index];
            let radius = |x: f64| seg.prox_radius_um + (seg.dist_radius_um - seg.prox_radius_um) * (x - s0) / (s1 - s0);
            let mut start = a;
            let inner = cuts.iter().map(|c| c * total).filter(|&c| c > a && c < z);
            for end in inner.chain(std::iter::once(z)) {
                if end > start {
                    visit(Piece {
                        segment: seg_index,
                        tag: seg.tag,
                        length_um: end - start,
                        r0_um: radius(start),
                        r1_um: radius(end),
                        mid_pos: 0.5 * (start + end) / total,
                    });
                }
                start = end;
            }
        }
    }

    /// Lateral membrane area of `[p0, p1]` on `branch` [µm²].
    pub fn lateral_area_um2(&self, branch: BranchId, p0: f64, p1: f64) -> f64 {
        let mut area = 0.0;
        self.for_each_piece(branch, p0, p1, &[], |p| area += p.area_um2());
        area
    }

    /// Radius at a branch position [µm].
    pub fn radius_at_um(&self, branch: BranchId, pos: f64) -> f64 {
        let (seg, frac) = self.locate(branch, pos);
        let s = &self.segments[seg];
        s.prox_radius_um + (s.dist_radius_um - s.prox_radius_um) * frac
    }

    /// Point in space at a branch position.
    pub fn point_at(&self, branch: BranchId, pos: f64) -> Point3 {
        let (seg, f) = self.locate(branch, pos);
        let s = &self.segments[seg];
        Point3::new(
            s.prox.x + (s.dist.x - s.prox.x) * f,
            s.prox.y + (s.dist.y - s.prox.y) * f,
            s.prox.z + (s.dist.z - s.prox.z) * f,
        )
    }

    /// The segment holding a branch position, and the fraction along it.
    fn locate(&self, branch: BranchId, pos: f64) -> (usize, f64) {
        let b = &self.branches[branch];
        let x = pos.clamp(0.0, 1.0) * b.length_um();
        let k = b.cumulative_um[1..]
            .iter()
            .position(|&c| x <= c)
            .unwrap_or(b.cumulative_um.len() - 2);
        let (s0, s1) = (b.cumulative_um[k], b.cumulative_um[k + 1]);
        (b.segments.start + k, ((x - s0) / (s1 - s0)).clamp(0.0, 1.0))
    }
}

/// Path distance [µm] along the tree from the root point to `pos` on `branch`.
pub fn path_from_root_um(m: &Morphology, branch: BranchId, pos: f64) -> f64 {
    let mut total = pos * m.branches[branch].length_um();
    let mut b = branch;
    while let Some(a) = m.branches[b].attachment {
        total += a.pos * m.branches[a.parent].length_um();
        b = a.parent;
    }
    total
}

/// Path distance [µm] along the tree between two points: up from each to their nearest common point.
pub fn path_between_um(m: &Morphology, a: (BranchId, f64), b: (BranchId, f64)) -> f64 {
    // The branches from each point up to the root, with the position the path leaves each at.
    let chain = |(mut branch, mut pos): (BranchId, f64)| {
        let mut out = vec![(branch, pos)];
        while let Some(at) = m.branches[branch].attachment {
            (branch, pos) = (at.parent, at.pos);
            out.push((branch, pos));
        }
        out
    };
    let (ca, cb) = (chain(a), chain(b));
    for &(branch, pa) in &ca {
        if let Some(&(_, pb)) = cb.iter().find(|(x, _)| *x == branch) {
            // Both paths pass through `branch`: the shared part of the tree is below the nearer position.
            let meet = (branch, pa.min(pb));
            return path_from_root_um(m, a.0, a.1) + path_from_root_um(m, b.0, b.1)
                - 2.0 * path_from_root_um(m, meet.0, meet.1);
        }
    }
    // Different root branches: they meet at the root point.
    path_from_root_um(m, a.0, a.1) + path_from_root_um(m, b.0, b.1)
}
