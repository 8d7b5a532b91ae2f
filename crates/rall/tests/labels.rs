//! Region and locset expressions evaluated on a small hand-built tree, against cables worked out by hand.

use rall::labels::{Cable, LabelDictionary, Location};
use rall::morphology::{Attachment, Morphology, MorphologyBuilder, Point3};

/// b0 soma (20 µm, tag 1); b1 dendrite (100 µm) at the soma's end; b2, b3
/// dendrites (50 µm) at b1's end; b4 axon (100 µm, tag 2) at the soma's end.
fn tree() -> Morphology {
    let mut b = MorphologyBuilder::new();
    let o = Point3::new(0.0, 0.0, 0.0);
    let at = |parent| Some(Attachment { parent, pos: 1.0 });
    b.add_cylinder(None, o, 20.0, 5.0, 1).unwrap();
    b.add_cylinder(at(0), o, 100.0, 1.0, 3).unwrap();
    b.add_cylinder(at(1), o, 50.0, 0.5, 3).unwrap();
    b.add_cylinder(at(1), o, 50.0, 0.5, 3).unwrap();
    b.add_cylinder(at(0), o, 100.0, 0.5, 2).unwrap();
    b.finish().unwrap()
}

fn cables(d: &LabelDictionary, m: &Morphology, text: &str) -> Vec<(usize, f64, f64)> {
    let r = d.region(m, text).unwrap_or_else(|e| panic!("{text}: {e}"));
    r.cables
        .iter()
        .map(|c: &Cable| (c.branch, (c.prox * 1e9).round() / 1e9, (c.dist * 1e9).round() / 1e9))
        .collect()
}

#[test]
fn tags_complements_and_set_operations() {
    let (m, d) = (tree(), LabelDictionary::default());
    assert_eq!(
        cables(&d, &m, "(tag 3)"),
        vec![(1, 0.0, 1.0), (2, 0.0, 1.0), (3, 0.0, 1.0)]
    );
    assert_eq!(
        cables(&d, &m, "(complement (tag 3))"),
        vec![(0, 0.0, 1.0), (4, 0.0, 1.0)]
    );
    assert_eq!(
        cables(&d, &m, "(difference (all) (join (tag 1) (tag 2)))"),
        cables(&d, &m, "(tag 3)")
    );
    assert_eq!(
        cables(&d, &m, "(intersect (tag 3) (cable 1 0.25 0.5) (branch 1))"),
        vec![(1, 0.25, 0.5)]
    );
    assert_eq!(
        cables(&d, &m, "(join (cable 1 0 0.5) (cable 1 0.25 0.75))"),
        vec![(1, 0.0, 0.75)]
    );
    assert_eq!(cables(&d, &m, "dend"), cables(&d, &m, "(tag 3)"));
    assert!(cables(&d, &m, "(nil)").is_empty());
}

#[test]
fn intervals_walk_the_tree_by_path_distance() {
    let (m, d) = (tree(), LabelDictionary::default());
    // From the middle of b1 (50 µm left on it), 75 µm distally reaches 25 µm into b2 and b3.
    assert_eq!(
        cables(&d, &m, "(distal-interval (location 1 0.5) 75)"),
        vec![(1, 0.5, 1.0), (2, 0.0, 0.5), (3, 0.0, 0.5)]
    );
    // Without a distance: the whole subtree.
    assert_eq!(
        cables(&d, &m, "(distal-interval (location 1 0.5))"),
        vec![(1, 0.5, 1.0), (2, 0.0, 1.0), (3, 0.0, 1.0)]
    );
    // From the middle of b2 (25 µm to its start), 60 µm proximally reaches 35 µm back into b1.
    assert_eq!(
        cables(&d, &m, "(proximal-interval (location 2 0.5) 60)"),
        vec![(1, 0.65, 1.0), (2, 0.0, 0.5)]
    );
}

#[test]
fn locsets_list_their_locations() {
    let (m, d) = (tree(), LabelDictionary::default());
    let locs = |t: &str| d.locset(&m, t).unwrap().locations;
    let tips: Vec<usize> = locs("(terminal)").iter().map(|l| l.branch).collect();
    assert_eq!(tips, vec![2, 3, 4]);
    assert_eq!(locs("(root)"), vec![Location { branch: 0, pos: 0.0 }]);
    assert_eq!(locs("(join (location 2 0.25) (root))").len(), 2);
    assert_eq!(locs("(on-branches 0.5)").len(), 5);

    let drawn = locs("(uniform (tag 3) 0 9 42)");
    assert_eq!(drawn.len(), 10);
    assert!(drawn.iter().all(|l| (1..=3).contains(&l.branch)));
    assert_eq!(drawn, locs("(uniform (tag 3) 0 9 42)"), "same seed, same locations");
    assert_ne!(drawn, locs("(uniform (tag 3) 0 9 43)"));
    assert_eq!(locs("(uniform (tag 3) 3 5 42)"), drawn[3..=5].to_vec());
    // Uniform by length: b1 holds 100 of the 200 µm of dendrite; about half of many draws land there.
    let many = locs("(uniform (tag 3) 0 3999 7)");
    let on_b1 = many.iter().filter(|l| l.branch == 1).count() as f64 / many.len() as f64;
    assert!((on_b1 - 0.5).abs() < 0.03, "{on_b1}");
}

#[test]
fn named_labels_resolve_and_bad_names_get_suggestions() {
    let m = tree();
    let mut d = LabelDictionary::default();
    d.define("dendrites", "(tag 3)").unwrap();
    d.define("tips", "(terminal)").unwrap();
    d.define(
        "proximal_dendrites",
        "(intersect (region \"dendrites\") (proximal-interval (locset \"tips\") 30))",
    )
    .unwrap();
    assert_eq!(cables(&d, &m, "proximal_dendrites"), vec![(2, 0.4, 1.0), (3, 0.4, 1.0)]);

    let e = d.region(&m, "(region \"dendrite\")").unwrap_err();
    assert!(
        e.message
            .contains("no label named `dendrite` (did you mean `dendrites`?)"),
        "{e}"
    );
    let e = d.region(&m, "tips").unwrap_err();
    assert!(e.message.contains("is a locset, but a region is expected"), "{e}");
    d.define("a", "(region \"b\")").unwrap();
    d.define("b", "(join (tag 1) (region \"a\"))").unwrap();
    let e = d.region(&m, "a").unwrap_err();
    assert!(e.message.contains("refers to itself"), "{e}");
    let e = d.region(&m, "(branch 9)").unwrap_err();
    assert!(e.message.contains("branch 9 does not exist"), "{e}");
}

/// Hostile nesting (each once overflowed the stack or took seconds) is an error naming the limit: 100,000
/// `(`, 30,000 nested `join`s or `complement`s, 30,000 labels each naming the next. 150 levels still work.
#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_crash() {
    let (m, mut d) = (tree(), LabelDictionary::default());
    let deep = [
        "(".repeat(100_000),
        format!("{}(tag 1){}", "(join (tag 2) ".repeat(30_000), ")".repeat(30_000)),
        format!("{}(tag 1){}", "(complement ".repeat(30_000), ")".repeat(30_000)),
    ];
    for text in &deep {
        let e = d.region(&m, text).unwrap_err().to_string();
        assert!(e.contains("nests deeper than 200 levels"), "{e:.200}");
    }
    let fine = format!("{}(tag 1){}", "(join (tag 2) ".repeat(150), ")".repeat(150));
    assert_eq!(cables(&d, &m, &fine), vec![(0, 0.0, 1.0), (4, 0.0, 1.0)]);
    for k in 0..30_000 {
        d.define(&format!("l{k}"), &format!("(region \"l{}\")", k + 1)).unwrap();
    }
    d.define("l30000", "(tag 1)").unwrap();
    let e = d.region(&m, "l0").unwrap_err().to_string();
    assert!(e.contains("labels refer to labels more than 200 deep"), "{e}");
    assert_eq!(cables(&d, &m, "l29900"), vec![(0, 0.0, 1.0)]);
}
