//! Morphology edits users rely on: a morphology in, an edited copy out (BluePyOpt's axon replacement).

use super::tree::{Attachment, BranchId, Morphology, MorphologyBuilder, MorphologyError, Point3};

/// BluePyOpt's axon replacement (`NrnFileMorphology.replace_axon`, release 1.14): the axon becomes a
/// stub of two cylinders of `length_um / 2` each, the first attached at the soma's end (`soma(1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AxonStub {
    /// Total stub length [µm]; BluePyOpt's `axon_stub_length`, 60 by default.
    pub length_um: f64,
    /// The original sections' discretisation when their diameters are read: `1 + 2 int(L / f)` segments
    /// (BluePyOpt's `nseg_frequency`, 40 µm by default); a section's diameter is its middle segment's.
    pub nseg_frequency_um: f64,
}

impl Default for AxonStub {
    fn default() -> Self {
        Self {
            length_um: 60.0,
            nseg_frequency_um: 40.0,
        }
    }
}

/// The diameters [µm] the stub's two cylinders take from the original axon, and the edited morphology.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplacedAxon {
    pub morphology: Morphology,
    pub diameters_um: [f64; 2],
}

const AXON: i32 = 2;

impl Morphology {
    /// The tag of a branch (its first segment's).
    pub fn branch_tag(&self, branch: BranchId) -> i32 {
        self.segments[self.branches[branch].segments.start].tag
    }

    /// Mean diameter [µm] over `[p0, p1]` of a branch (the length-weighted mean of the frusta's
    /// diameters, as NEURON gives a segment of a section with 3D points).
    pub fn mean_diameter_um(&self, branch: BranchId, p0: f64, p1: f64) -> f64 {
        let (mut sum, mut length) = (0.0, 0.0);
        self.for_each_piece(branch, p0, p1, &[], |p| {
            sum += (p.r0_um + p.r1_um) * p.length_um;
            length += p.length_um;
        });
        if length > 0.0 {
            sum / length
        } else {
            2.0 * self.radius_at_um(branch, p0)
        }
    }

    /// Copies the branches that survive `drop` (and whose parents survive) into `builder`; returns each
    /// original branch's new id.
    fn copy_into(
        &self,
        builder: &mut MorphologyBuilder,
        drop: &dyn Fn(BranchId) -> bool,
    ) -> Result<Vec<Option<BranchId>>, MorphologyError> {
        let mut new_id: Vec<Option<BranchId>> = vec![None; self.branches.len()];
        for (b, branch) in self.branches.iter().enumerate() {
            let parent = branch.attachment.map(|a| (new_id[a.parent], a.pos));
            if drop(b) || matches!(parent, Some((None, _))) {
                continue;
            }
            let segments = &self.segments[branch.segments.clone()];
            let first = &segments[0];
            let points: Vec<(Point3, f64)> = std::iter::once((first.prox, first.prox_radius_um))
                .chain(segments.iter().map(|s| (s.dist, s.dist_radius_um)))
                .collect();
            let tags: Vec<i32> = segments.iter().map(|s| s.tag).collect();
            let attachment = parent.map(|(p, pos)| Attachment {
                parent: p.expect("dropped parents were skipped"),
                pos,
            });
            new_id[b] = Some(builder.add_branch(attachment, &points, &tags, None)?);
        }
        Ok(new_id)
    }

    /// The morphology without the branches `delete` picks and everything attached to them (their subtrees),
    /// the remaining branches renumbered in order. Deleting the root branch is an error (nothing is left).
    pub fn without_subtrees(&self, delete: &dyn Fn(BranchId) -> bool) -> Result<Morphology, MorphologyError> {
        let mut builder = MorphologyBuilder::new();
        self.copy_into(&mut builder, delete)?;
        builder.finish()
    }

    /// BluePyOpt's axon replacement. The stub's first diameter is the first axon section's; the second is
    /// that of the first axon section (in branch order) whose middle lies more than `length_um` from the
    /// soma's middle, or the first diameter again. With no axon both are 1 µm. The soma is branch 0.
    pub fn replace_axon(&self, stub: &AxonStub) -> Result<ReplacedAxon, MorphologyError> {
        let axons: Vec<BranchId> = (0..self.branches.len())
            .filter(|&b| self.branch_tag(b) == AXON)
            .collect();
        let middle_diameter = |b: BranchId| {
            let nseg = 1.0 + 2.0 * (self.branches[b].length_um() / stub.nseg_frequency_um).floor();
            let half = 0.5 / nseg;
            self.mean_diameter_um(b, 0.5 - half, 0.5 + half)
        };
        let diameters_um = match axons.first() {
            None => [1.0, 1.0],
            Some(&first) => {
                let d1 = middle_diameter(first);
                let far = axons
                    .iter()
                    .skip(usize::from(axons.len() == 1))
                    .find(|&&b| super::path_between_um(self, (0, 0.5), (b, 0.5)) > stub.length_um);
                [d1, far.map_or(d1, |&b| middle_diameter(b))]
            }
        };
        let mut builder = MorphologyBuilder::new();
        let new_id = self.copy_into(&mut builder, &|b| self.branch_tag(b) == AXON)?;
        let soma = new_id[0].ok_or(MorphologyError::Empty)?;
        // The stub runs on from the soma's end in the direction of its last frustum (for drawing only).
        let end = self.branch_end(0);
        let last = &self.segments[self.branches[0].segments.end - 1];
        let length = last.length_um().max(1e-12);
        let direction = Point3::new(
            (last.dist.x - last.prox.x) / length,
            (last.dist.y - last.prox.y) / length,
            (last.dist.z - last.prox.z) / length,
        );
        let half = stub.length_um / 2.0;
        let at = |k: f64| {
            Point3::new(
                end.x + k * half * direction.x,
                end.y + k * half * direction.y,
                end.z + k * half * direction.z,
            )
        };
        let mut parent = soma;
        for (k, d) in diameters_um.iter().enumerate() {
            let points = [(at(k as f64), d / 2.0), (at(k as f64 + 1.0), d / 2.0)];
            parent = builder.add_branch(Some(Attachment { parent, pos: 1.0 }), &points, &[AXON], None)?;
        }
        Ok(ReplacedAxon {
            morphology: builder.finish()?,
            diameters_um,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20 µm soma with a tapering axon of three 40 µm sections and a dendrite.
    fn cell() -> Morphology {
        let mut b = MorphologyBuilder::new();
        let p = |x: f64| Point3::new(x, 0.0, 0.0);
        let soma = b
            .add_branch(None, &[(p(0.0), 10.0), (p(20.0), 10.0)], &[1], None)
            .unwrap();
        let mut parent = soma;
        for (k, (r0, r1)) in [(1.0, 0.8), (0.8, 0.6), (0.6, 0.4)].into_iter().enumerate() {
            let x = 20.0 + 40.0 * k as f64;
            let att = Some(Attachment { parent, pos: 1.0 });
            parent = b.add_branch(att, &[(p(x), r0), (p(x + 40.0), r1)], &[2], None).unwrap();
        }
        let att = Some(Attachment { parent: soma, pos: 0.5 });
        b.add_branch(att, &[(p(10.0), 1.0), (p(-90.0), 1.0)], &[3], None)
            .unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn deleting_a_branch_deletes_its_subtree() {
        let m = cell();
        // Branch 1 is the first axon section; 2 and 3 hang from it; 4 is the dendrite.
        let kept = m.without_subtrees(&|b| b == 1).unwrap();
        assert_eq!(kept.branches.len(), 2);
        assert_eq!(kept.branch_tag(1), 3);
        assert_eq!(kept.branches[1].attachment, Some(Attachment { parent: 0, pos: 0.5 }));
        assert!((kept.total_length_um() - (20.0 + 100.0)).abs() < 1e-12);
        assert_eq!(m.without_subtrees(&|b| b == 0), Err(MorphologyError::Empty));
    }

    #[test]
    fn the_axon_becomes_two_cylinders_at_the_somas_end() {
        let r = cell().replace_axon(&AxonStub::default()).unwrap();
        let m = &r.morphology;
        assert_eq!(m.branches.len(), 4);
        // Each 40 µm section has 3 segments; the middle one of the first spans 13.3-26.7 µm, where the
        // diameter falls linearly from 2 to 1.6 µm: its mean is 1.8 µm.
        assert!((r.diameters_um[0] - 1.8).abs() < 1e-12, "{:?}", r.diameters_um);
        // Middles are 30, 70 and 110 µm from the soma's middle: the second section is the first past 60 µm.
        // Its middle diameter is 1.4 µm.
        assert!((r.diameters_um[1] - 1.4).abs() < 1e-12, "{:?}", r.diameters_um);
        assert_eq!(m.branches[2].attachment, Some(Attachment { parent: 0, pos: 1.0 }));
        assert_eq!(m.branches[3].attachment, Some(Attachment { parent: 2, pos: 1.0 }));
        for b in [2, 3] {
            assert_eq!(m.branch_tag(b), 2);
            assert!((m.branches[b].length_um() - 30.0).abs() < 1e-12);
        }
        // The dendrite is untouched.
        assert_eq!(m.branch_tag(1), 3);
        assert!((m.branches[1].length_um() - 100.0).abs() < 1e-12);
    }
}
