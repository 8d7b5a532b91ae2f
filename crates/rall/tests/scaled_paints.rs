//! Parameters that vary along the cell (scaled paints): the value each CV gets equals the expression at the
//! path distance to the CV's centre, computed here by hand from the geometry; the model file's `scale` and
//! `distance_from` build the same cell, and a bad expression is reported at its file, line and column.
//! (NEURON evaluating the same expression at its own distances: `neuron_agreement.rs`; gradients through a
//! scaled paint: `gradients.rs`.)

use rall::Cell;
use rall::mechanism::Catalogue;
use rall::model::parse_model;
use rall::morphology::{Attachment, MorphologyBuilder, Point3};

/// A 20 µm soma (4 CVs) with a 200 µm dendrite (10 CVs) on its distal end.
fn ball_and_stick() -> Cell {
    let mut b = MorphologyBuilder::new();
    let soma = b.add_cylinder(None, Point3::new(0.0, 0.0, 0.0), 20.0, 10.0, 1).unwrap();
    b.add_cylinder(
        Some(Attachment { parent: soma, pos: 1.0 }),
        Point3::new(20.0, 0.0, 0.0),
        200.0,
        0.5,
        3,
    )
    .unwrap();
    let mut cell = Cell::new(b.finish().unwrap());
    cell.policy = rall::discretize::CvPolicy::FixedPerBranch(4);
    cell
}

/// Painted gnabar at each CV centre, keyed by (branch, centre position).
fn painted_gnabar(cell: &Cell) -> Vec<((usize, f64), f64)> {
    let catalogue = Catalogue::default();
    let layout = rall::cell::lower_cell(cell, &catalogue).unwrap();
    let k = catalogue.parameter_index("hh", "gnabar").unwrap();
    let hh = layout.mechanisms.iter().find(|m| m.mechanism == "hh").unwrap();
    hh.cv
        .iter()
        .zip(&hh.parameters)
        .map(|(&cv, values)| {
            let (p0, p1) = layout.geometry.extent[cv];
            ((layout.geometry.branch[cv], 0.5 * (p0 + p1)), values[k])
        })
        .collect()
}

#[test]
fn each_cv_gets_the_expression_at_its_centres_distance() {
    let mut cell = ball_and_stick();
    let profile = "-0.8696 + 2.087 * exp(0.0031 * distance)";
    cell.paint_scaled(
        "(all)",
        "hh",
        &[("gnabar", 0.2)],
        &[("gnabar", profile)],
        Some("(location 0 0.5)"),
    )
    .unwrap();
    let values = painted_gnabar(&cell);
    assert_eq!(values.len(), 8);
    for ((branch, x), g) in values {
        // From the soma's centre: along the soma, |x - 0.5| of its 20 µm; on the dendrite, 10 µm of soma first.
        let d = if branch == 0 {
            (x - 0.5).abs() * 20.0
        } else {
            10.0 + x * 200.0
        };
        let expected = 0.2 * (-0.8696 + 2.087 * (0.0031 * d).exp());
        assert!(
            (g - expected).abs() <= 1e-15 * expected,
            "branch {branch} at {x}: {g} vs {expected}"
        );
    }
    // Without an origin the distance is from the root (the soma's 0 end).
    let mut cell = ball_and_stick();
    cell.paint_scaled("(all)", "hh", &[], &[("gnabar", "(distance > 100) * 9 + 1")], None)
        .unwrap();
    for ((branch, x), g) in painted_gnabar(&cell) {
        let d = if branch == 0 { x * 20.0 } else { 20.0 + x * 200.0 };
        let expected = 0.12 * if d > 100.0 { 10.0 } else { 1.0 };
        assert_eq!(g, expected, "branch {branch} at {x}");
    }
}

const MODEL: &str = r#"
[simulation]
t_stop = 5.0
[morphology]
cylinder = [{ length = 20.0, diameter = 20.0, tag = 1 }, { parent = 0, length = 200.0, diameter = 1.0 }]
[labels]
soma_centre = "(location 0 0.5)"
[discretization]
policy = "fixed-per-branch"
per_branch = 4
[[mechanism]]
name = "hh"
parameters = { gnabar = 0.2 }
scale = { gnabar = "-0.8696 + 2.087 * exp(0.0031 * distance)" }
distance_from = "soma_centre"
"#;

/// The error a model text gives (without printing the model, whose debug form is long, if it builds).
fn error_of(text: &str) -> String {
    let base = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    match parse_model(text, "scaled.toml", &base, &Catalogue::default()) {
        Ok(_) => panic!("the model built"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_model_file_paints_the_same_profile_and_locates_a_bad_expression() {
    let base = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let model = parse_model(MODEL, "scaled.toml", &base, &Catalogue::default()).unwrap();
    let mut by_hand = ball_and_stick();
    by_hand
        .paint_scaled(
            "(all)",
            "hh",
            &[("gnabar", 0.2)],
            &[("gnabar", "-0.8696 + 2.087 * exp(0.0031 * distance)")],
            Some("(location 0 0.5)"),
        )
        .unwrap();
    // The file's dendrite is 1 µm thick, the hand-built one 0.5 µm: the profile depends on distance only.
    assert_eq!(painted_gnabar(&model.cells[0].1), painted_gnabar(&by_hand));
    let bad = MODEL.replace("exp(0.0031", "expp(0.0031");
    let e = error_of(&bad);
    assert!(
        e.starts_with("scaled.toml:14:39:") && e.contains("did you mean `exp`"),
        "{e}"
    );
    let bad = MODEL.replace("scale = { gnabar", "scale = { gnabarr");
    let e = error_of(&bad);
    assert!(e.contains("scaled.toml:14:") && e.contains("gnabarr"), "{e}");
    let bad = MODEL.replace(
        "distance_from = \"soma_centre\"",
        "distance_from = \"(join (location 0 0) (location 1 1))\"",
    );
    let e = error_of(&bad);
    assert!(e.contains("scaled.toml:15:") && e.contains("one is needed"), "{e}");
}
