//! CV areas, capacitances and axial conductances against values computed by hand from frustum formulas.

use approx::assert_relative_eq;
use rall::Cell;
use rall::cell::lower_cell;
use rall::discretize::{CvKind, CvPolicy};
use rall::mechanism::Catalogue;
use rall::morphology::{Attachment, MorphologyBuilder, Point3, parse_swc};
use std::f64::consts::PI;

fn p(x: f64) -> Point3 {
    Point3::new(x, 0.0, 0.0)
}

#[test]
fn cylinder_cvs_have_the_areas_and_conductances_of_their_halves() {
    // 100 µm long, 2 µm diameter, Ra 100 Ω·cm, 4 CVs of 25 µm.
    let mut b = MorphologyBuilder::new();
    b.add_cylinder(None, p(0.0), 100.0, 1.0, 3).unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = CvPolicy::FixedPerBranch(4);
    cell.decor.cable.ra_ohm_cm.default = 100.0;
    let layout = lower_cell(&cell, &Catalogue::default()).unwrap();
    let (g, props) = (&layout.geometry, &layout.properties);
    // root junction, 4 membrane CVs, distal junction
    assert_eq!(g.len(), 6);
    assert_eq!(
        g.kind,
        vec![
            CvKind::Junction,
            CvKind::Membrane,
            CvKind::Membrane,
            CvKind::Membrane,
            CvKind::Membrane,
            CvKind::Junction
        ]
    );
    assert_eq!(g.parent, vec![None, Some(0), Some(1), Some(2), Some(3), Some(4)]);
    let area = 2.0 * PI * 1.0 * 25.0; // 2πrL
    // R = Ra L / (π r²): Ω·cm·µm/µm² = 1e4 Ω; in MΩ: 1e-2 Ra L / (π r²)
    let half = 1e-2 * 100.0 * 12.5 / PI;
    for cv in 1..5 {
        assert_relative_eq!(props.area_um2[cv], area, max_relative = 1e-12);
        assert_relative_eq!(props.capacitance_nf[cv], 1e-5 * area, max_relative = 1e-12);
    }
    assert_relative_eq!(props.axial_conductance_us[1], 1.0 / half, max_relative = 1e-12);
    assert_relative_eq!(props.axial_conductance_us[2], 1.0 / (2.0 * half), max_relative = 1e-12);
    assert_relative_eq!(props.axial_conductance_us[5], 1.0 / half, max_relative = 1e-12);
    assert_eq!(props.area_um2[0], 0.0);
    assert_eq!(props.capacitance_nf[5], 0.0);
}

#[test]
fn tapered_frustum_areas_and_resistances_integrate_the_taper() {
    // One frustum: radius 2 µm -> 1 µm over 10 µm, Ra 50 Ω·cm, 2 CVs of 5 µm.
    let mut b = MorphologyBuilder::new();
    b.add_branch(None, &[(p(0.0), 2.0), (p(10.0), 1.0)], &[3], None)
        .unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = CvPolicy::FixedPerBranch(2);
    cell.decor.cable.ra_ohm_cm.default = 50.0;
    let layout = lower_cell(&cell, &Catalogue::default()).unwrap();
    let props = &layout.properties;
    let slant = |l: f64, r0: f64, r1: f64| PI * (r0 + r1) * (l * l + (r1 - r0) * (r1 - r0)).sqrt();
    assert_relative_eq!(props.area_um2[1], slant(5.0, 2.0, 1.5), max_relative = 1e-12);
    assert_relative_eq!(props.area_um2[2], slant(5.0, 1.5, 1.0), max_relative = 1e-12);
    // ∫ dx / (π r(x)²) over a linear taper = L / (π r0 r1)
    let r = |l: f64, r0: f64, r1: f64| 1e-2 * 50.0 * l / (PI * r0 * r1);
    assert_relative_eq!(
        1.0 / props.axial_conductance_us[1],
        r(2.5, 2.0, 1.75),
        max_relative = 1e-12
    );
    assert_relative_eq!(
        1.0 / props.axial_conductance_us[2],
        r(2.5, 1.75, 1.5) + r(2.5, 1.5, 1.25),
        max_relative = 1e-12
    );
    assert_relative_eq!(
        1.0 / props.axial_conductance_us[3],
        r(2.5, 1.25, 1.0),
        max_relative = 1e-12
    );
}

#[test]
fn one_point_soma_is_a_sphere_equivalent_cylinder_with_children_at_its_centre() {
    let swc = "1 1 0 0 0 5 -1\n2 3 0 20 0 0.5 1\n";
    assert_eq!(parse_swc(swc, "ball.swc").unwrap()[0].radius_um, 5.0);
    let morphology = rall::morphology::load_swc_text(swc, "ball.swc").unwrap();
    assert_eq!(morphology.branches.len(), 2);
    assert_eq!(
        morphology.branches[1].attachment,
        Some(Attachment { parent: 0, pos: 0.5 })
    );
    // The soma's lateral area equals the sphere's, 4πr².
    assert_relative_eq!(
        morphology.lateral_area_um2(0, 0.0, 1.0),
        4.0 * PI * 25.0,
        max_relative = 1e-12
    );
    // The dendrite starts at the soma centre with its own radius: 20 µm long.
    assert_relative_eq!(morphology.branches[1].length_um(), 20.0, max_relative = 1e-12);
    assert_eq!(
        morphology.segments[morphology.branches[1].segments.start].prox_radius_um,
        0.5
    );

    let mut cell = Cell::new(morphology);
    cell.policy = CvPolicy::FixedPerBranch(1);
    cell.decor.cable.ra_ohm_cm.default = 100.0;
    let layout = lower_cell(&cell, &Catalogue::default()).unwrap();
    let g = &layout.geometry;
    // root, soma CV, soma end junction, dendrite CV, dendrite end junction
    assert_eq!(g.len(), 5);
    assert_eq!(g.parent[3], Some(1), "the dendrite hangs from the soma's centre node");
    // NEURON links a child at an interior point through the child's half segment only.
    let half_dendrite = 1e-2 * 100.0 * 10.0 / (PI * 0.25);
    assert_relative_eq!(
        1.0 / layout.properties.axial_conductance_us[3],
        half_dendrite,
        max_relative = 1e-12
    );
}

#[test]
fn painted_capacitance_is_area_weighted_within_a_cv() {
    // A 100 µm cylinder as one CV; cm = 2 on its distal quarter.
    let mut b = MorphologyBuilder::new();
    b.add_cylinder(None, p(0.0), 100.0, 1.0, 3).unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = CvPolicy::FixedPerBranch(1);
    cell.set_cm("(cable 0 0.75 1)", 2.0).unwrap();
    let layout = lower_cell(&cell, &Catalogue::default()).unwrap();
    let area = 2.0 * PI * 100.0;
    assert_relative_eq!(
        layout.properties.capacitance_nf[1],
        1e-5 * area * (0.75 * 1.0 + 0.25 * 2.0),
        max_relative = 1e-12
    );
}

#[test]
fn children_at_a_branch_end_share_its_junction() {
    let mut b = MorphologyBuilder::new();
    let root = b.add_cylinder(None, p(0.0), 10.0, 1.0, 1).unwrap();
    for _ in 0..3 {
        b.add_cylinder(Some(Attachment { parent: root, pos: 1.0 }), p(10.0), 10.0, 0.5, 3)
            .unwrap();
    }
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = CvPolicy::FixedPerBranch(2);
    let layout = lower_cell(&cell, &Catalogue::default()).unwrap();
    let g = &layout.geometry;
    let junction = g.branch_end[root];
    for child in 1..4 {
        assert_eq!(g.parent[g.branch_cvs[child].start], Some(junction));
    }
    let area: f64 = layout.properties.area_um2.iter().sum();
    // radius 1 µm root and three 0.5 µm children, each 10 µm long: 2πrL each
    assert_relative_eq!(
        area,
        2.0 * PI * 1.0 * 10.0 + 3.0 * 2.0 * PI * 0.5 * 10.0,
        max_relative = 1e-12
    );
}
