//! Unit tests of the NeuroML2 reader on hand-written snippets.

use super::*;
use crate::morphology::Attachment;

/// A document around a morphology's segments and groups.
fn doc(body: &str) -> String {
    format!(
        "<neuroml xmlns=\"http://www.neuroml.org/schema/neuroml2\" id=\"t\">\n<cell id=\"c\">\n<morphology id=\"m\">\n{body}</morphology>\n</cell>\n</neuroml>\n"
    )
}

const SOMA: &str = "<segment id=\"0\" name=\"soma\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"10\"/>\
                    <distal x=\"0\" y=\"20\" z=\"0\" diameter=\"10\"/></segment>\n";

fn read(body: &str) -> Result<NeuroMlCell, NeuroMlError> {
    read_neuroml_text(&doc(body), "t.nml")
}

fn error(body: &str) -> String {
    read(body).map(|_| panic!("no error: {body}")).unwrap_err().to_string()
}

#[test]
fn without_cables_each_segment_is_a_section_at_its_fraction_along() {
    let c = read(&format!(
        "{SOMA}<segment id=\"1\" name=\"d\"><parent segment=\"0\" fractionAlong=\"0.5\"/>\
         <proximal x=\"0\" y=\"10\" z=\"0\" diameter=\"2\"/><distal x=\"30\" y=\"10\" z=\"0\" diameter=\"2\"/></segment>\n\
         <segment id=\"2\"><parent segment=\"1\"/><distal x=\"30\" y=\"50\" z=\"0\" diameter=\"1\"/></segment>\n"
    ))
    .unwrap();
    assert_eq!(c.cell_id.as_deref(), Some("c"));
    assert_eq!(c.section_names, ["soma", "d", "Seg2"]);
    let m = &c.morphology;
    assert_eq!(m.branches[1].attachment, Some(Attachment { parent: 0, pos: 0.5 }));
    assert_eq!(m.branches[2].attachment, Some(Attachment { parent: 1, pos: 1.0 }));
    // Segment 2 has no proximal point: it starts at its parent's distal point (fractionAlong 1).
    let s = &m.segments[m.branches[2].segments.start];
    assert_eq!((s.prox, s.prox_radius_um), (Point3::new(30.0, 10.0, 0.0), 1.0));
    assert!((m.branches[2].length_um() - 40.0).abs() < 1e-12);
    // No standard groups: tag 0.
    assert!(m.segments.iter().all(|s| s.tag == 0));
}

#[test]
fn a_missing_proximal_lies_fraction_along_the_parent_diameter_included() {
    let c = read(
        "<segment id=\"0\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"10\"/><distal x=\"0\" y=\"20\" z=\"0\" diameter=\"6\"/></segment>\n\
         <segment id=\"1\"><parent segment=\"0\" fractionAlong=\"0.25\"/><distal x=\"8\" y=\"5\" z=\"0\" diameter=\"1\"/></segment>\n"
    )
    .unwrap();
    let m = &c.morphology;
    let s = &m.segments[m.branches[1].segments.start];
    assert_eq!(s.prox, Point3::new(0.0, 5.0, 0.0));
    assert_eq!(s.prox_radius_um, 4.5);
    assert_eq!(m.branches[1].attachment, Some(Attachment { parent: 0, pos: 0.25 }));
}

const CABLES: &str = "<segment id=\"0\" name=\"soma\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"10\"/>\
    <distal x=\"0\" y=\"10\" z=\"0\" diameter=\"10\"/></segment>\n\
    <segment id=\"1\"><parent segment=\"0\"/><distal x=\"0\" y=\"20\" z=\"0\" diameter=\"10\"/></segment>\n\
    <segment id=\"2\"><parent segment=\"0\" fractionAlong=\"0.5\"/><proximal x=\"0\" y=\"5\" z=\"0\" diameter=\"2\"/>\
    <distal x=\"40\" y=\"5\" z=\"0\" diameter=\"2\"/></segment>\n\
    <segment id=\"3\"><parent segment=\"1\"/><proximal x=\"0\" y=\"20\" z=\"0\" diameter=\"3\"/>\
    <distal x=\"0\" y=\"80\" z=\"0\" diameter=\"3\"/></segment>\n\
    <segmentGroup id=\"dend\" neuroLexId=\"sao864921383\"><member segment=\"2\"/></segmentGroup>\n\
    <segmentGroup id=\"soma_0\" neuroLexId=\"sao864921383\"><property tag=\"numberInternalDivisions\" value=\"3\"/>\
    <member segment=\"0\"/><member segment=\"1\"/></segmentGroup>\n\
    <segmentGroup id=\"apic\" neuroLexId=\"sao864921383\"><member segment=\"3\"/></segmentGroup>\n\
    <segmentGroup id=\"soma_group\"><include segmentGroup=\"soma_0\"/></segmentGroup>\n\
    <segmentGroup id=\"dendrite_group\"><include segmentGroup=\"dend\"/><include segmentGroup=\"apical_dendrites\"/></segmentGroup>\n\
    <segmentGroup id=\"apical_dendrites\"><path><from segment=\"3\"/><to segment=\"3\"/></path></segmentGroup>\n";

#[test]
fn cables_are_sections_attached_at_their_parents_point_along_the_cable() {
    let c = read(CABLES).unwrap();
    // Parents first: the soma cable, though listed second, is branch 0; its children in document order.
    assert_eq!(c.section_names, ["soma_0", "dend", "apic"]);
    assert_eq!(c.number_internal_divisions, [3, 1, 1]);
    let m = &c.morphology;
    assert_eq!(m.branches[0].segments.len(), 2);
    assert_eq!(m.branches[0].length_um(), 20.0);
    // fractionAlong 0.5 of the soma cable's first segment (10 µm of 20) is the cable's 0.25.
    assert_eq!(m.branches[1].attachment, Some(Attachment { parent: 0, pos: 0.25 }));
    assert_eq!(m.branches[2].attachment, Some(Attachment { parent: 0, pos: 1.0 }));
    let tags: Vec<i32> = (0..3).map(|b| m.branch_tag(b)).collect();
    assert_eq!(tags, [1, 3, 4]);
}

#[test]
fn a_spherical_soma_becomes_a_cylinder_one_diameter_long() {
    let c = read(
        "<segment id=\"0\"><proximal x=\"1\" y=\"2\" z=\"3\" diameter=\"8\"/><distal x=\"1\" y=\"2\" z=\"3\" diameter=\"8\"/></segment>\n\
         <segment id=\"1\"><parent segment=\"0\" fractionAlong=\"0.5\"/><proximal x=\"1\" y=\"2\" z=\"3\" diameter=\"1\"/>\
         <distal x=\"1\" y=\"2\" z=\"30\" diameter=\"1\"/></segment>\n",
    )
    .unwrap();
    let m = &c.morphology;
    assert_eq!(m.branches[0].length_um(), 8.0);
    assert_eq!(m.branch_end(0), Point3::new(1.0, 10.0, 3.0));
    let sphere = std::f64::consts::PI * 64.0;
    assert!((m.lateral_area_um2(0, 0.0, 1.0) - sphere).abs() < 1e-12 * sphere);
    assert_eq!(m.branches[1].attachment, Some(Attachment { parent: 0, pos: 0.5 }));
}

#[test]
fn an_included_file_holds_the_morphology_the_cell_names() {
    let dir = std::env::temp_dir().join(format!("rall-neuroml-unit-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/m.nml"),
        format!("<neuroml><morphology id=\"other\">{SOMA}</morphology>\n<morphology id=\"mine\">{CABLES}</morphology></neuroml>"),
    )
    .unwrap();
    let cell = dir.join("cell.nml");
    std::fs::write(
        &cell,
        "<neuroml>\n<include href=\"sub/m.nml\"/>\n<include href=\"sub/m.nml\"/>\n<cell id=\"pyr\" morphology=\"mine\"/>\n</neuroml>",
    )
    .unwrap();
    let c = read_neuroml(&cell).unwrap();
    assert_eq!(c.cell_id.as_deref(), Some("pyr"));
    assert_eq!(c.section_names, ["soma_0", "dend", "apic"]);
    // A morphology file on its own gives its first morphology.
    let bare = read_neuroml(&dir.join("sub/m.nml")).unwrap();
    assert_eq!((bare.cell_id, bare.section_names), (None, vec!["soma".to_string()]));
    // A missing include and an unknown morphology name the line.
    std::fs::write(&cell, "<neuroml>\n<include href=\"nowhere.nml\"/>\n</neuroml>").unwrap();
    let e = read_neuroml(&cell).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:2: cannot read the included file `nowhere.nml`",
            cell.display()
        )),
        "{e}"
    );
    std::fs::write(
        &cell,
        "<neuroml>\n<include href=\"sub/m.nml\"/>\n\n<cell id=\"pyr\" morphology=\"yours\"/>\n</neuroml>",
    )
    .unwrap();
    let e = read_neuroml(&cell).unwrap_err().to_string();
    assert!(e.contains("cell.nml:4: cell `pyr` names morphology `yours`"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_file_and_line() {
    // The snippet's first line (the segments start on line 4).
    let at = |line: usize, text: &str| format!("t.nml:{line}: {text}");
    let cases: Vec<(String, String)> = vec![
        (
            format!("{SOMA}<segment id=\"1\"><parent segment=\"7\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "segment 1 names parent 7, which is not in the morphology"),
        ),
        (
            format!("{SOMA}<segment id=\"0\"><parent segment=\"0\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "segment id 0 already used at line 4"),
        ),
        (
            format!(
                "{SOMA}<segment id=\"1\"><parent segment=\"2\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n\
                 <segment id=\"2\"><parent segment=\"1\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n"
            ),
            at(5, "segment 1 is part of a cycle"),
        ),
        (
            format!("{SOMA}<segment id=\"1\"><parent segment=\"0\"/>\n<distal x=\"0\" y=\"1\" z=\"0\" diameter=\"0\"/></segment>\n"),
            at(6, "point with diameter 0; diameters must be positive"),
        ),
        (
            format!("{SOMA}<segment id=\"1\"><parent segment=\"0\"/><distal x=\"0\" y=\"1,5\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "`y` must be a finite number, found `1,5`"),
        ),
        (
            format!("{SOMA}<segment id=\"1\"><parent segment=\"0\" fractionAlong=\"1.5\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "fractionAlong 1.5 is outside [0, 1]"),
        ),
        (
            "<segment id=\"0\"><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n".into(),
            at(4, "the root segment 0 has no <proximal> point"),
        ),
        (
            format!("{SOMA}<segment id=\"1\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "segment 1 has no <distal> point"),
        ),
        (
            format!("{SOMA}<segment id=\"-1\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "`id` must be a non-negative integer"),
        ),
        (
            format!("{SOMA}<segmentGroup id=\"a\" neuroLexId=\"sao864921383\"><member segment=\"0\"/></segmentGroup>\n\
                     <segmentGroup id=\"a\"/>\n"),
            at(6, "segment group `a` already defined at line 5"),
        ),
        (
            format!("{SOMA}<segmentGroup id=\"a\" neuroLexId=\"sao864921383\">\n<include segmentGroup=\"b\"/></segmentGroup>\n"),
            at(6, "no segment group `b`"),
        ),
        (
            format!("{SOMA}<segmentGroup id=\"soma_group\"><include segmentGroup=\"b\"/></segmentGroup>\n\
                     <segmentGroup id=\"b\">\n<include segmentGroup=\"soma_group\"/></segmentGroup>\n"),
            at(7, "segment group `soma_group` includes itself"),
        ),
        (
            format!("{SOMA}<segmentGroup id=\"a\" neuroLexId=\"sao864921383\">\n<member segment=\"3\"/></segmentGroup>\n"),
            at(6, "segment group `a` names segment 3"),
        ),
        (
            format!(
                "{SOMA}<segment id=\"1\"><parent segment=\"0\"/><distal x=\"0\" y=\"30\" z=\"0\" diameter=\"1\"/></segment>\n\
                 <segmentGroup id=\"a\" neuroLexId=\"sao864921383\"><member segment=\"0\"/></segmentGroup>\n"
            ),
            at(5, "segment 1 is in no cable"),
        ),
        (
            format!(
                "{SOMA}<segment id=\"1\"><parent segment=\"0\"/><distal x=\"0\" y=\"30\" z=\"0\" diameter=\"1\"/></segment>\n\
                 <segmentGroup id=\"a\" neuroLexId=\"sao864921383\"><member segment=\"1\"/><member segment=\"0\"/></segmentGroup>\n"
            ),
            at(6, "cable `a` is not an unbranched chain: the parent of its segment 1"),
        ),
        (
            format!(
                "{SOMA}<segmentGroup id=\"a\" neuroLexId=\"sao864921383\"><member segment=\"0\"/></segmentGroup>\n\
                 <segmentGroup id=\"b\" neuroLexId=\"sao864921383\"><member segment=\"0\"/></segmentGroup>\n"
            ),
            at(6, "segment 0 is in cable `b` and in cable `a`"),
        ),
        (
            format!("{SOMA}<segment id=\"1\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"1\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "segment 1 is a second root"),
        ),
        (
            "<segment id=\"0\"><proximal x=\"0\" y=\"0\" z=\"0\" diameter=\"1\"/><distal x=\"0\" y=\"0\" z=\"0\" diameter=\"1\"/></segment>\n\
             <segment id=\"1\"><parent segment=\"0\"/><distal x=\"0\" y=\"1\" z=\"0\" diameter=\"1\"/></segment>\n\
             <segmentGroup id=\"a\" neuroLexId=\"sao864921383\"><member segment=\"0\"/><member segment=\"1\"/></segmentGroup>\n\
             <segmentGroup id=\"b\" neuroLexId=\"sao864921383\"><member segment=\"0\"/></segmentGroup>\n"
                .into(),
            at(7, "segment 0 is in cable `b`"),
        ),
        (
            format!("{SOMA}<segment id=\"1\"><parent segment=\"0\"/><distal x=\"0\" y=\"20\" z=\"0\" diameter=\"1\"/></segment>\n"),
            at(5, "branch 1 has zero length"),
        ),
        ("<segment id=\"0\"><proximal x=\"0\" y=\"0\"/>\n".into(), at(5, "not well-formed XML")),
        ("".into(), at(3, "the morphology has no segments")),
    ];
    for (body, expected) in cases {
        let e = error(&body);
        assert!(e.starts_with(&expected), "expected `{expected}`, found `{e}`");
    }
    let e = read_neuroml_text("<neuroml><cell id=\"x\"/></neuroml>", "t.nml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.nml:1: cell `x` has no <morphology> and no `morphology` attribute"
    );
    let e = read_neuroml_text("<neuroml/>", "t.nml").unwrap_err();
    assert_eq!(e, NeuroMlError::NoMorphology { file: "t.nml".into() });
    let e = read_neuroml_text("\n<morphml/>", "t.nml").unwrap_err();
    assert!(
        e.to_string().starts_with("t.nml:2: the root element is <morphml>"),
        "{e}"
    );
    let e = load_neuroml(Path::new("/nonexistent/x.nml")).unwrap_err();
    assert!(matches!(e, NeuroMlError::Io { .. }), "{e}");
}

#[test]
fn hostile_depths_are_errors_not_crashes() {
    // The XML parser recurses per level: 100,000 nested elements overflowed the stack. They are refused
    // first; 1,000 levels (997 inside the morphology) (with comments, CDATA, quoted `>` and `/>`, and self-closed tags on the way) are read.
    let nested = format!("{SOMA}\n{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let e = read(&nested).unwrap_err();
    assert_eq!(
        e,
        NeuroMlError::XmlTooDeep {
            file: "t.nml".into(),
            line: 6
        }
    );
    let open = "<a x='>'><!-- <b> --><![CDATA[<c>]]><d/><e y=\"/>\"/>".repeat(997);
    let nested = format!("{SOMA}{open}{}", "</a>".repeat(997));
    assert_eq!(read(&nested).unwrap().section_names, ["soma"]);
}

#[test]
fn groups_nested_too_deep_are_an_error() {
    // A chain of 5,000 groups, each including the next, stops at the depth limit.
    let mut body = String::from(SOMA);
    for g in 0..5_000 {
        let id = if g == 0 {
            "soma_group".to_string()
        } else {
            format!("g{g}")
        };
        body.push_str(&format!(
            "<segmentGroup id=\"{id}\"><include segmentGroup=\"g{}\"/></segmentGroup>\n",
            g + 1
        ));
    }
    body.push_str("<segmentGroup id=\"g5000\"><member segment=\"0\"/></segmentGroup>\n");
    let e = read(&body).unwrap_err();
    assert!(matches!(e, NeuroMlError::GroupsTooDeep { .. }), "{e}");
}
