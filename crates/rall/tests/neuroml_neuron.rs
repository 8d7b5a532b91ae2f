//! rall's NeuroML2 reader against NEURON, section by section. NEURON has no NeuroML2 reader of its own
//! (Import3d reads only NeuroML v1); a NeuroML2 cell reaches it through jNeuroML's `-neuron` export, so
//! NEURON's side is `validation/neuron/neuroml_sections.py`: jNeuroML 0.14.0 exports the cell, NEURON 9.0.2
//! loads the geometry and writes every section's parent, position on it, L, area and nseg. The cells are
//! pyNeuroML 1.3.22's examples and test cells, fetched by `validation/neuroml/fetch.sh` (with jNeuroML's jar
//! and Java), and a cell written for this test (`tests/fixtures/neuroml/`: an included morphology, a
//! spherical soma, fractionAlong 0.3, children in the middle of a cable).
//! `#[ignore]`d for a plain `cargo test` (needs NEURON in `.venv`, Java and the fetched files).

use crate::common::{max_or_nan, python, repo_path, run_tool};
use rall::morphology::read_neuroml;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder `validation/neuroml/fetch.sh` fills (pyNeuroML's sources, jNeuroML's jar).
fn neuroml_corpus() -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_path("validation/neuroml/fetch.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "validation/neuroml/fetch.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

struct Agreement {
    sections: usize,
    length: f64,
    area: f64,
    parent_x: f64,
}

fn compare(cell: &Path, jar: &Path) -> Agreement {
    let json = std::env::temp_dir().join(format!(
        "rall-neuroml-{}-{}.json",
        std::process::id(),
        cell.file_stem().unwrap().to_string_lossy()
    ));
    run_tool(
        &python(),
        "validation/neuron/neuroml_sections.py",
        &[cell.as_os_str(), json.as_os_str(), jar.as_os_str()],
    );
    let neuron: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sections = neuron["sections"].as_array().unwrap();
    let ours = read_neuroml(cell).unwrap();
    let m = &ours.morphology;
    let name = |s: &Value| s["name"].as_str().unwrap().to_string();
    assert_eq!(
        sections.len(),
        m.branches.len(),
        "{}: NEURON made {} sections, rall {} branches",
        cell.display(),
        sections.len(),
        m.branches.len()
    );
    let (mut length, mut area, mut parent_x) = (Vec::new(), Vec::new(), Vec::new());
    for s in sections {
        let b = ours
            .section_names
            .iter()
            .position(|n| *n == name(s))
            .unwrap_or_else(|| panic!("{}: no rall branch named {}", cell.display(), name(s)));
        assert_eq!(
            ours.number_internal_divisions[b] as u64,
            s["nseg"].as_u64().unwrap(),
            "{}: nseg",
            name(s)
        );
        match (m.branches[b].attachment, s["parent"].as_u64()) {
            (Some(a), Some(p)) => {
                assert_eq!(
                    ours.section_names[a.parent],
                    name(&sections[p as usize]),
                    "{}: parent",
                    name(s)
                );
                parent_x.push((a.pos - s["parent_x"].as_f64().unwrap()).abs());
            }
            (None, None) => {}
            (ours, theirs) => panic!("{}: parent {ours:?} in rall, {theirs:?} in NEURON", name(s)),
        }
        let l = s["length"].as_f64().unwrap();
        length.push((m.branches[b].length_um() - l).abs() / l);
        let a = s["area"].as_f64().unwrap();
        area.push((m.lateral_area_um2(b, 0.0, 1.0) - a).abs() / a);
    }
    Agreement {
        sections: sections.len(),
        length: max_or_nan(length),
        area: max_or_nan(area),
        parent_x: max_or_nan(parent_x),
    }
}

#[test]
#[ignore = "needs NEURON in .venv, Java and pyNeuroML's files: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn neuroml_cells_read_into_the_sections_neuron_gets_from_jneuroml() {
    let corpus = neuroml_corpus();
    let jar = corpus.join("jneuroml-0.14.0/jNeuroML-0.14.0-jar-with-dependencies.jar");
    let pyneuroml = corpus.join("pyneuroml-1.3.22");
    // NEURON keeps 3D points as 32-bit floats and subtracts them in 32 bits; rall reads the decimal numbers
    // as 64-bit floats (and does not mimic that storage), so lengths and areas agree to the float spacing of
    // the coordinates, the worst on short sections far from the origin. Positions on the parent agree
    // exactly (both take the arc fraction in 64 bits from the decimal coordinates), except where jNeuroML
    // reads fractionAlong as a 32-bit float (below, 0.3). Each row: (file, sections, limit on the relative
    // L and area differences, limit on the position differences), the measured values beside it.
    for (file, sections, limit_l, limit_x) in [
        // 9 cables, children at fractionAlong 0. Measured: L and area 3.3e-8, positions 0; limit 30x.
        ("examples/test_data/pyr_4_sym.cell.nml", 9, 1e-6, 1e-12),
        // Two-segment cables, missing proximal points, ids out of order. Measured 0 and 0 (integer
        // coordinates): the limits are round-off's.
        ("examples/test_data/ca1/cells/olm.cell.nml", 4, 1e-12, 1e-12),
        // An Allen cell: 3489 segments in 100 cables, children in the middle of a two-segment soma (at
        // 0.4999999999999976). Measured: L 7.6e-6, areas 5.6e-6, positions 0; limit 26x.
        ("tests/plot/Cell_497232312.cell.nml", 100, 2e-4, 1e-12),
        // 5840 segments in 92 cables, children at the soma's middle, apical and basal groups. Measured:
        // L and areas 2.4e-5, positions 0; limit 21x.
        ("tests/plot/L23-example/HL23PYR.cell.nml", 92, 5e-4, 1e-12),
    ] {
        let a = compare(&pyneuroml.join(file), &jar);
        println!(
            "{file}: {} sections; lengths within {:.1e}, areas {:.1e} relative, positions on the parent {:.1e}",
            a.sections, a.length, a.area, a.parent_x
        );
        assert_eq!(a.sections, sections, "{file}");
        assert!(
            a.length < limit_l && a.area < limit_l,
            "{file}: lengths {}, areas {}",
            a.length,
            a.area
        );
        assert!(a.parent_x < limit_x, "{file}: positions {}", a.parent_x);
    }
    let a = compare(
        &repo_path("crates/rall/tests/fixtures/neuroml/two_dendrites.cell.nml"),
        &jar,
    );
    println!(
        "two_dendrites: {} sections; lengths within {:.1e}, areas {:.1e} relative, positions {:.1e}",
        a.sections, a.length, a.area, a.parent_x
    );
    // Measured: L 3.7e-8, areas 5.4e-8 (limit 19x); positions 1.2e-8, fractionAlong 0.3 as a 32-bit float
    // (limit 17x).
    assert_eq!(a.sections, 5);
    assert!(
        a.length < 1e-6 && a.area < 1e-6,
        "lengths {}, areas {}",
        a.length,
        a.area
    );
    assert!(a.parent_x < 2e-7, "positions {}", a.parent_x);
}
