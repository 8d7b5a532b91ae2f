//! Malformed SWC input: each kind of mistake gives its own error naming the file and line, never a panic.

use rall::morphology::{SwcError, load_swc, load_swc_text};

fn error(text: &str) -> SwcError {
    load_swc_text(text, "cell.swc").unwrap_err()
}

#[test]
fn wrong_column_count_names_the_line() {
    let e = error("# header\n1 1 0 0 0 5 -1\n2 3 0 10 0 1\n");
    assert_eq!(
        e,
        SwcError::ColumnCount {
            file: "cell.swc".into(),
            line: 3,
            found: 6
        }
    );
    assert!(e.to_string().starts_with("cell.swc:3: expected 7 columns"), "{e}");
}

#[test]
fn non_numbers_name_the_column() {
    let e = error("1 1 0 0 0 5 -1\n2 3 0 ten 0 1 1\n");
    assert!(
        matches!(
            e,
            SwcError::BadNumber {
                line: 2,
                column: 4,
                name: "y",
                ..
            }
        ),
        "{e:?}"
    );
    let e = error("1.5 1 0 0 0 5 -1\n");
    assert!(
        matches!(
            e,
            SwcError::BadNumber {
                line: 1,
                column: 1,
                name: "id",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn missing_parent_is_reported_with_both_ids() {
    let e = error("1 1 0 0 0 5 -1\n2 3 0 10 0 1 7\n");
    assert_eq!(
        e,
        SwcError::MissingParent {
            file: "cell.swc".into(),
            line: 2,
            id: 2,
            parent: 7
        }
    );
}

#[test]
fn cycles_are_detected() {
    let e = error("1 1 0 0 0 5 -1\n2 3 0 10 0 1 3\n3 3 0 20 0 1 2\n");
    assert!(matches!(e, SwcError::Cycle { line: 2, id: 2, .. }), "{e:?}");
    let e = error("1 1 0 0 0 5 -1\n2 3 0 10 0 1 2\n");
    assert!(matches!(e, SwcError::Cycle { line: 2, .. }), "{e:?}");
    let e = error("1 1 0 0 0 5 2\n2 3 0 10 0 1 1\n");
    assert!(matches!(e, SwcError::Cycle { .. }), "{e:?}");
}

#[test]
fn duplicate_ids_name_both_lines() {
    let e = error("1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n2 3 0 20 0 1 1\n");
    assert_eq!(
        e,
        SwcError::DuplicateId {
            file: "cell.swc".into(),
            line: 3,
            id: 2,
            first_line: 2
        }
    );
}

#[test]
fn non_positive_radius_is_rejected() {
    let e = error("1 1 0 0 0 5 -1\n2 3 0 10 0 0 1\n");
    assert!(matches!(e, SwcError::NonPositiveRadius { line: 2, id: 2, .. }), "{e:?}");
    let e = error("1 1 0 0 0 -1 -1\n");
    assert!(matches!(e, SwcError::NonPositiveRadius { line: 1, .. }), "{e:?}");
}

#[test]
fn the_root_must_be_soma_and_unique() {
    let e = error("1 3 0 0 0 1 -1\n2 3 0 10 0 1 1\n");
    assert_eq!(
        e,
        SwcError::NonSomaRoot {
            file: "cell.swc".into(),
            line: 1,
            id: 1,
            tag: 3
        }
    );
    let e = error("1 1 0 0 0 5 -1\n2 1 0 10 0 5 -1\n");
    assert!(
        matches!(
            e,
            SwcError::MultipleRoots {
                line: 2,
                first_line: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(error("# nothing\n"), SwcError::NoSamples { .. }));
}

#[test]
fn unreadable_files_are_an_error_not_a_panic() {
    let e = load_swc(std::path::Path::new("/no/such/file.swc")).unwrap_err();
    assert!(matches!(e, SwcError::Io { .. }), "{e:?}");
}

#[test]
fn zero_length_branches_are_rejected_with_their_line() {
    let e = error("1 1 0 0 0 5 -1\n2 1 0 10 0 5 1\n3 3 0 10 0 1 2\n");
    assert!(e.to_string().contains("zero length"), "{e}");
    assert!(e.to_string().contains("line 3"), "{e}");
}

#[test]
fn samples_may_come_in_any_order_and_three_point_somas_become_one_cylinder() {
    // NeuroMorpho's three-point soma (centre, then ±r along y), children listed before parents.
    let text = "4 3 0 30 0 1 1\n1 1 0 0 0 5 -1\n2 1 0 -5 0 5 1\n3 1 0 5 0 5 1\n";
    let m = load_swc_text(text, "three.swc").unwrap();
    assert_eq!(m.branches.len(), 2);
    let sphere = 4.0 * std::f64::consts::PI * 25.0;
    assert!((m.lateral_area_um2(0, 0.0, 1.0) - sphere).abs() < 1e-9 * sphere);
    assert_eq!(m.branches[1].attachment.unwrap().pos, 0.5);
}

#[test]
fn the_c4a_reconstruction_imports_with_its_tags() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/C4A.swc");
    let m = load_swc(&path).unwrap();
    let tags: std::collections::BTreeSet<i32> = m.segments.iter().map(|s| s.tag).collect();
    assert_eq!(tags.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
    // 3843 samples, one root: 3842 segments, none of them of zero length in this file.
    assert_eq!(m.segments.len(), 3842);
    // The lone axon sample becomes a frustum of 4 µm from the soma's root sample.
    let axon: Vec<_> = m.segments.iter().filter(|s| s.tag == 2).collect();
    assert_eq!(axon.len(), 1);
    assert!((axon[0].length_um() - 4.0).abs() < 0.05, "{}", axon[0].length_um());
}
