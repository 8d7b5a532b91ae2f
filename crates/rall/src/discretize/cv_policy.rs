//! CV policies: a branch and a rule in, the CV boundary positions on that branch out.

use crate::morphology::{BranchId, Morphology};

/// How each branch is cut into control volumes.
#[derive(Clone, Debug, PartialEq)]
pub enum CvPolicy {
    /// The same number of CVs on every branch.
    FixedPerBranch(usize),
    /// As few CVs per branch as keep each at most this long [µm].
    MaxExtent(f64),
    /// One CV per segment (frustum) of the morphology.
    PerSegment,
    /// NEURON's d_lambda rule: an odd number of CVs so that each is at most
    /// `d_lambda` of the AC length constant at `frequency_hz`.
    DLambda { d_lambda: f64, frequency_hz: f64 },
    /// BluePyOpt's and many NEURON models' rule `nseg = 1 + 2 * int(L / length)`: an odd number of CVs,
    /// one more pair for every whole `length` [µm] of the branch.
    OddPerLength(f64),
}

impl Default for CvPolicy {
    fn default() -> Self {
        CvPolicy::DLambda {
            d_lambda: 0.1,
            frequency_hz: 100.0,
        }
    }
}

/// As a model file writes it: `d-lambda (d_lambda 0.1 at 100 Hz)`.
impl std::fmt::Display for CvPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CvPolicy::FixedPerBranch(n) => write!(f, "fixed-per-branch ({n} per branch)"),
            CvPolicy::MaxExtent(um) => write!(f, "max-extent ({um} µm)"),
            CvPolicy::PerSegment => write!(f, "per-segment"),
            CvPolicy::DLambda { d_lambda, frequency_hz } => {
                write!(f, "d-lambda (d_lambda {d_lambda} at {frequency_hz} Hz)")
            }
            CvPolicy::OddPerLength(um) => write!(f, "odd-per-length (a pair of CVs per {um} µm)"),
        }
    }
}

impl CvPolicy {
    /// Sorted CV boundary positions on `branch`, from 0 to 1. `ra_cm` gives
    /// axial resistivity [Ω·cm] and specific capacitance [µF/cm²] at a position
    /// (used by the d_lambda rule only).
    pub fn boundaries(&self, morphology: &Morphology, branch: BranchId, ra_cm: impl Fn(f64) -> (f64, f64)) -> Vec<f64> {
        if *self == CvPolicy::PerSegment {
            return morphology.segment_boundaries(branch);
        }
        let n = self.cv_count(morphology, branch, ra_cm) as usize;
        (0..=n).map(|k| k as f64 / n as f64).collect()
    }

    /// The number of CVs the policy gives `branch`, as a float so that absurd inputs (a branch of 1e12 µm)
    /// can be refused before anything is allocated.
    pub fn cv_count(&self, morphology: &Morphology, branch: BranchId, ra_cm: impl Fn(f64) -> (f64, f64)) -> f64 {
        let length = morphology.branches[branch].length_um();
        match *self {
            CvPolicy::FixedPerBranch(n) => n.max(1) as f64,
            CvPolicy::MaxExtent(extent) => (length / extent).ceil().max(1.0),
            CvPolicy::PerSegment => morphology.branches[branch].segments.len() as f64,
            CvPolicy::OddPerLength(per) => 1.0 + 2.0 * (length / per).floor(),
            CvPolicy::DLambda { d_lambda, frequency_hz } => {
                let (ra, cm) = ra_cm(0.5);
                let lambda = lambda_f_um(morphology, branch, frequency_hz, ra, cm);
                ((length / (d_lambda * lambda) + 0.9) / 2.0).floor() * 2.0 + 1.0
            }
        }
    }
}

/// NEURON's `lambda_f`: the AC length constant of a branch at `frequency_hz` [µm],
/// averaged over its frusta as `L / Σ Δx / sqrt(d0 + d1)` (scaled).
fn lambda_f_um(morphology: &Morphology, branch: BranchId, frequency_hz: f64, ra_ohm_cm: f64, cm_uf_cm2: f64) -> f64 {
    let b = &morphology.branches[branch];
    let mut sum = 0.0;
    for s in b.segments.clone() {
        let seg = &morphology.segments[s];
        sum += seg.length_um() / (2.0 * seg.prox_radius_um + 2.0 * seg.dist_radius_um).sqrt();
    }
    let scale = 2f64.sqrt() * 1e-5 * (4.0 * std::f64::consts::PI * frequency_hz * ra_ohm_cm * cm_uf_cm2).sqrt();
    b.length_um() / (sum * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::morphology::{MorphologyBuilder, Point3};

    #[test]
    fn d_lambda_matches_neurons_formula_for_a_cylinder() {
        // For a cylinder lambda_f = 1e5 sqrt(d / (4 π f Ra cm)) µm.
        let mut b = MorphologyBuilder::new();
        b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 1000.0, 0.5, 3)
            .unwrap();
        let m = b.finish().unwrap();
        let lambda = 1e5 * (1.0 / (4.0 * std::f64::consts::PI * 100.0 * 100.0 * 1.0)).sqrt();
        assert!((lambda_f_um(&m, 0, 100.0, 100.0, 1.0) - lambda).abs() < 1e-9 * lambda);
        let n = ((1000.0 / (0.1 * lambda) + 0.9) / 2.0).floor() as usize * 2 + 1;
        let policy = CvPolicy::DLambda {
            d_lambda: 0.1,
            frequency_hz: 100.0,
        };
        assert_eq!(policy.boundaries(&m, 0, |_| (100.0, 1.0)).len(), n + 1);
        assert_eq!(n % 2, 1);
    }

    #[test]
    fn max_extent_uses_the_fewest_cvs_that_respect_the_extent() {
        let mut b = MorphologyBuilder::new();
        b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 45.0, 0.5, 3).unwrap();
        let m = b.finish().unwrap();
        assert_eq!(CvPolicy::MaxExtent(20.0).boundaries(&m, 0, |_| (100.0, 1.0)).len(), 4);
        assert_eq!(CvPolicy::MaxExtent(45.0).boundaries(&m, 0, |_| (100.0, 1.0)).len(), 2);
    }

    #[test]
    fn odd_per_length_adds_a_pair_of_cvs_for_every_whole_length() {
        // nseg = 1 + 2 int(L / 40): 1 below 40 µm, 3 from 40 µm, 5 from 80 µm.
        for (length, cvs) in [(39.9, 1), (40.0, 3), (79.9, 3), (80.0, 5), (201.0, 11)] {
            let mut b = MorphologyBuilder::new();
            b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), length, 0.5, 3)
                .unwrap();
            let m = b.finish().unwrap();
            let boundaries = CvPolicy::OddPerLength(40.0).boundaries(&m, 0, |_| (100.0, 1.0));
            assert_eq!(boundaries.len(), cvs + 1, "{length} µm");
        }
    }
}
