//! Model files: a valid file builds the cell it describes; each kind of mistake
//! is reported with the file, line and column of the offending key or value.

use rall::mechanism::Catalogue;
use rall::model::{Model, ModelError, parse_model};
use std::path::PathBuf;

fn parse(text: &str) -> Result<Model, ModelError> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    parse_model(text, "model.toml", &base, &Catalogue::default())
}

const GOOD: &str = r#"
[simulation]
t_stop = 5.0
dt = 0.01
sample_interval = 0.5
integrator = "crank-nicolson"

[morphology]
[[morphology.cylinder]]
length = 20.0
diameter = 20.0
tag = 1
[[morphology.cylinder]]
parent = 0
length = 200.0
diameter = 2.0

[labels]
mid = "(location 1 0.5)"

[discretization]
policy = "max-extent"
max_extent = 10.0

[cable]
ra = 150.0
v_init = -70.0
[[cable.region]]
region = "(tag 3)"
cm = 2.0

[[mechanism]]
name = "pas"
parameters = { g = 1e-4, e = -70.0 }

[[stimulus]]
at = "mid"
delay = 1.0
duration = 2.0
amplitude = 0.1

[[ion]]
name = "na"
region = "soma"
e = 55.0

[[probe]]
name = "soma"
at = "(location 0 0.5)"
"#;

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn error_with(replace: &str, by: &str) -> (ModelError, String) {
    assert!(GOOD.contains(replace), "{replace}");
    let text = GOOD.replacen(replace, by, 1);
    (parse(&text).unwrap_err(), text)
}

#[test]
fn a_valid_file_builds_the_cell_it_describes() {
    let model = parse(GOOD).unwrap();
    assert_eq!(model.cells.len(), 1);
    let o = &model.options;
    assert_eq!((o.t_stop_ms, o.dt_ms, o.sample_interval_ms), (5.0, 0.01, 0.5));
    assert_eq!(o.integrator, rall::engine::Integrator::CrankNicolson);
    let cell = &model.cells[0].1;
    assert_eq!(cell.morphology.branches.len(), 2);
    assert_eq!(cell.decor.cable.ra_ohm_cm.default, 150.0);
    assert_eq!(cell.decor.cable.v_init_mv, -70.0);
    assert_eq!(cell.decor.paints[0].parameters.len(), 2);
    assert_eq!(cell.decor.clamps[0].locset.locations[0].branch, 1);
    assert_eq!(
        (cell.decor.ions[0].species.as_str(), cell.decor.ions[0].e_mv),
        ("na", Some(55.0))
    );
    let layout = rall::cell::lower_cell(cell, &Catalogue::default()).unwrap();
    // 20 µm soma -> 2 CVs, 200 µm dendrite -> 20 CVs, plus root and two end junctions
    assert_eq!(layout.geometry.len(), 2 + 20 + 3);
}

#[test]
fn unknown_keys_are_reported_at_their_line() {
    let (e, text) = error_with("ra = 150.0", "rA = 150.0");
    assert_eq!(e.place.unwrap().0, line_of(&text, "rA = 150.0"), "{e}");
    assert!(e.message.contains("unknown field `rA`"), "{e}");
}

#[test]
fn unknown_mechanisms_and_parameters_get_suggestions() {
    let (e, text) = error_with("name = \"pas\"", "name = \"pass\"");
    assert_eq!(e.place.unwrap().0, line_of(&text, "\"pass\""));
    assert!(
        e.to_string().contains("unknown mechanism `pass` (did you mean `pas`?)"),
        "{e}"
    );
    let (e, _) = error_with("g = 1e-4", "gbar = 1e-4");
    assert!(e.to_string().contains("has no parameter `gbar`"), "{e}");
    assert!(e.to_string().starts_with("model.toml:"), "{e}");
}

#[test]
fn label_errors_point_into_the_label() {
    let (e, text) = error_with("(location 1 0.5)", "(locaton 1 0.5)");
    let (line, column) = e.place.unwrap();
    assert_eq!(line, line_of(&text, "locaton"));
    // `mid = "(locaton` : the label starts at column 8, the bad word at column 9.
    assert_eq!(column, 8 + 1);
    assert!(e.message.contains("did you mean `location`"), "{e}");
    let (e, _) = error_with("at = \"mid\"", "at = \"midd\"");
    assert!(e.message.contains("no label named `midd` (did you mean `mid`?)"), "{e}");
}

#[test]
fn bad_values_and_missing_files_are_reported() {
    let (e, _) = error_with("policy = \"max-extent\"", "policy = \"max-extend\"");
    assert!(e.message.contains("did you mean `max-extent`"), "{e}");
    let (e, _) = error_with("integrator = \"crank-nicolson\"", "integrator = \"rk4\"");
    assert!(e.message.contains("unknown integrator `rk4`"), "{e}");
    let (e, text) = error_with(
        "integrator = \"crank-nicolson\"",
        "integrator = \"crank-nicolson\"\nconductance = \"nueron\"",
    );
    assert!(e.message.contains("did you mean `neuron`"), "{e}");
    assert_eq!(e.place.unwrap().0, line_of(&text, "nueron"));
    let (e, text) = error_with("dt = 0.01", "dt = -1.0");
    assert!(e.message.contains("dt must be a positive, finite number"), "{e}");
    assert_eq!(
        e.place.unwrap(),
        (line_of(&text, "dt = -1.0"), 1),
        "at the key, not the table: {e}"
    );
    let (e, _) = error_with(
        "[morphology]\n[[morphology.cylinder]]",
        "[morphology]\nswc = \"nowhere.swc\"\n[[morphology.cylinder]]",
    );
    assert!(e.message.contains("either `file"), "{e}");
    let text = GOOD.replace("[morphology]\n", "[morphology]\nswc = \"nowhere.swc\"\n").replace("[[morphology.cylinder]]\nlength = 20.0\ndiameter = 20.0\ntag = 1\n[[morphology.cylinder]]\nparent = 0\nlength = 200.0\ndiameter = 2.0\n", "");
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("nowhere.swc: cannot read"), "{e}");
    let e = parse("[simulation\nt_stop = 1").unwrap_err();
    assert_eq!(e.place.unwrap().0, 1, "{e}");
}

#[test]
fn hostile_simulation_numbers_are_refused_at_their_key() {
    for (replace, by, expected) in [
        ("dt = 0.01", "dt = inf", "dt must be a positive, finite number"),
        ("dt = 0.01", "dt = nan", "dt must be a positive, finite number"),
        ("dt = 0.01", "dt = 1e-300", "steps is more than rall takes (1e12)"),
        (
            "t_stop = 5.0",
            "t_stop = inf",
            "t_stop must be a finite, non-negative number",
        ),
        (
            "sample_interval = 0.5",
            "sample_interval = inf",
            "sample_interval must be a positive, finite number",
        ),
        (
            "sample_interval = 0.5",
            "sample_interval = 0.5\ncelsius = -inf",
            "celsius must be a finite temperature",
        ),
    ] {
        let (e, text) = error_with(replace, by);
        assert!(e.message.contains(expected), "{by}: {e}");
        let key = by.lines().last().unwrap();
        assert_eq!(e.place.unwrap(), (line_of(&text, key), 1), "{by}: {e}");
    }
    // No branch can have zero CVs (it was taken as one).
    let (e, _) = error_with(
        "policy = \"max-extent\"\nmax_extent = 10.0",
        "policy = \"fixed-per-branch\"\nper_branch = 0",
    );
    assert!(e.message.contains("needs `per_branch ≥ 1"), "{e}");
}

/// CV rules and diameters that would give one CV, 1e303 CVs or an unsolvable cable are refused at the key
/// or the table they come from, before anything is allocated.
#[test]
fn hostile_cv_rules_and_diameters_are_refused_at_their_place() {
    let rule = "policy = \"max-extent\"\nmax_extent = 10.0";
    for (by, expected, key) in [
        (
            "policy = \"d-lambda\"\nd_lambda = -0.1",
            "d_lambda must be a positive, finite number (a fraction of λ), found -0.1",
            "d_lambda = -0.1",
        ),
        (
            "policy = \"d-lambda\"\nd_lambda = nan",
            "d_lambda must be a positive, finite number",
            "d_lambda = nan",
        ),
        (
            "policy = \"d-lambda\"\nfrequency = 0.0",
            "frequency must be a positive, finite number of Hz, found 0",
            "frequency = 0.0",
        ),
        (
            "policy = \"d-lambda\"\nfrequency = 1e300",
            // d_lambda's count grows as sqrt(frequency): 1e149 times the ~10 CVs at 100 Hz.
            "e149 CVs; rall allows at most 10000000",
            "policy = \"d-lambda\"",
        ),
        (
            "policy = \"max-extent\"\nmax_extent = 1e-300",
            // 220 µm of cable in pieces of 1e-300 µm.
            "the discretisation gives 2.200e302 CVs",
            "policy = \"max-extent\"",
        ),
    ] {
        let (e, text) = error_with(rule, by);
        assert!(e.message.contains(expected), "{by}: {e}");
        assert_eq!(e.place.unwrap().0, line_of(&text, key), "{by}: {e}");
    }
    // Diameters whose axial conductance overflows or vanishes: refused at the morphology, naming the CV
    // (was an unlocated "non-positive pivot" at t = 0).
    for (diameter, conductance) in [("1e300", "inf"), ("1e-300", "0e0")] {
        let (e, text) = error_with("diameter = 2.0", &format!("diameter = {diameter}"));
        assert!(
            e.message.contains(&format!(
                "the CV on branch 1 from 0.000 to 0.050 has axial conductance to its parent [µS] {conductance}"
            )),
            "{diameter}: {e}"
        );
        assert_eq!(e.place.unwrap().0, line_of(&text, "[morphology]"), "{diameter}: {e}");
    }
}

/// Geometry, ions, network sizes and files that would give a silent wrong answer or exhaust the machine are
/// refused with their line.
#[test]
fn hostile_geometry_ions_sizes_and_files_are_refused() {
    for (replace, by, expected, key) in [
        (
            "length = 20.0",
            "length = -20.0",
            "cylinder 0 has length -20 µm and diameter 20 µm; both must be positive",
            "[[morphology.cylinder]]",
        ),
        (
            "diameter = 2.0",
            "diameter = 0.0",
            "cylinder 1 has length 200 µm and diameter 0 µm",
            "parent = 0",
        ),
        (
            "parent = 0",
            "parent = 0\nat = 1.5",
            "attaches at 1.5 of its parent; expected a position in [0, 1]",
            "parent = 0",
        ),
        (
            "e = 55.0",
            "e = 55.0\nvalence = 0.0",
            "valence 0: an uncharged species",
            "name = \"na\"",
        ),
    ] {
        let (e, text) = error_with(replace, by);
        assert!(e.message.contains(expected), "{by}: {e}");
        // The cylinder's table starts at its header line or its first key.
        let line = e.place.unwrap().0;
        let at = line_of(&text, key);
        assert!(
            line == at || line == at + 1 || line + 1 == at,
            "{by}: line {line}, expected near {at}: {e}"
        );
    }
    // A population beyond what one process holds, refused before any cell is copied.
    let ring =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/ring.toml")).unwrap();
    let huge = ring.replacen("count = 10", "count = 1000000000000", 1);
    let e = parse(&huge).unwrap_err();
    assert!(e.message.contains("one process holds at most 1000000"), "{e}");
    // Not a text file: /dev/zero is refused at its first byte, not read until the memory runs out.
    let e = rall::model::load_model(std::path::Path::new("/dev/zero"), &Catalogue::default()).unwrap_err();
    assert!(
        e.to_string().contains("not a text file (a NUL byte at offset 0)"),
        "{e}"
    );
}

#[test]
fn several_cells_live_under_cell_tables() {
    let text = r#"
[simulation]
t_stop = 1.0

[[cell]]
name = "ball"
morphology = { swc = "data/C4A.swc" }

[[cell]]
name = "stick"
[cell.morphology]
cylinder = [{ length = 100.0, diameter = 1.0 }]
"#;
    let model = parse(text).unwrap();
    let names: Vec<&str> = model.cells.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["ball", "stick"]);
    assert_eq!(model.cells[1].1.morphology.branches.len(), 1);
}

#[test]
fn fit_protocols_replace_the_stimuli_and_are_checked() {
    let fit = r#"
[fit]
[[fit.parameter]]
name = "pas.g"
truth = 1.2
[[fit.protocol]]
name = "two steps"
stimulus = [{ at = "mid", delay = 1.0, duration = 1.0, amplitude = 0.2 }, { at = "(location 0 0.5)", duration = 1.0, amplitude = -0.1 }]
weight = 3.0
[[fit.protocol]]
t_stop = 2.0
"#;
    let model = parse(&format!("{GOOD}{fit}")).unwrap();
    let spec = model.fit.unwrap();
    assert_eq!(spec.protocols.len(), 2);
    let (first, second) = (&spec.protocols[0], &spec.protocols[1]);
    assert_eq!((first.name.as_str(), first.weight), ("two steps", 3.0));
    let amplitudes: Vec<f64> = first.cells[0].1.decor.clamps.iter().map(|c| c.amplitude_na).collect();
    assert_eq!(amplitudes, vec![0.2, -0.1]);
    // The second protocol has no stimulus at all (the model's 0.1 nA step is replaced).
    assert!(second.cells[0].1.decor.clamps.is_empty());
    assert_eq!((second.name.as_str(), second.t_stop_ms), ("protocol 2", Some(2.0)));
    assert_eq!(model.cells[0].1.decor.clamps.len(), 1);
    // A protocol without a target needs the truth of every parameter.
    let text = format!("{GOOD}{}", fit.replace("truth = 1.2\n", ""));
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("protocol `two steps` has no `target"), "{e}");
    // Bad stimuli point at their place.
    let text = format!("{GOOD}{}", fit.replace("at = \"mid\"", "at = \"midd\""));
    let e = parse(&text).unwrap_err();
    assert_eq!(e.place.unwrap().0, line_of(&text, "midd"), "{e}");
    // Windows need start <= end and a weight >= 0; Levenberg-Marquardt's damping must be > 0.
    let text = format!(
        "{GOOD}{}",
        fit.replace("t_stop = 2.0", "t_stop = 2.0\nwindows = [[0.0, 1.0, -1.0]]")
    );
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("weight >= 0"), "{e}");
    let text = format!(
        "{GOOD}{}",
        fit.replace("[fit]\n", "[fit]\noptimizer = \"levenberg-marquardt\"\ndamping = 0.0\n")
    );
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("damping must be a finite number > 0"), "{e}");
}

#[test]
fn network_mistakes_name_their_line() {
    let text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/ring.toml")).unwrap();
    let model = parse(&text).unwrap();
    let network = model.network.as_ref().unwrap();
    assert_eq!(
        (network.cells.len(), network.sources.len(), network.connections.len()),
        (10, 1, 11)
    );
    assert_eq!(model.cells[3].0, "ring[3]");
    let broken = |from: &str, to: &str| -> (ModelError, String) {
        assert!(text.contains(from), "{from}");
        let t = text.replacen(from, to, 1);
        (parse(&t).unwrap_err(), t)
    };
    let (e, t) = broken("cell = \"ball_and_stick\"", "cell = \"ball_and_stik\"");
    assert!(e.message.contains("did you mean `ball_and_stick`"), "{e}");
    assert_eq!(e.place.unwrap().0, line_of(&t, "ball_and_stik\""));
    let (e, t) = broken("from = \"kick\"", "from = \"kik\"");
    assert!(
        e.message.contains("no population or spike source is named `kik`"),
        "{e}"
    );
    assert_eq!(e.place.unwrap().0, line_of(&t, "\"kik\""));
    let (e, _) = broken("rule = \"one-to-one\"", "rule = \"one-by-one\"");
    assert!(e.message.contains("unknown connection rule"), "{e}");
    let (e, _) = broken("offset = 1 ", "synapse = 3\noffset = 1 ");
    assert!(e.message.contains("not a synapse 3"), "{e}");
    let (e, _) = broken("[[cell.detector]]\nat = \"(location 0 0.5)\"\nthreshold = 10.0", "");
    assert!(e.message.contains("spike detector"), "{e}");
    let (e, _) = broken("kind = \"times\"", "kind = \"poison\"");
    assert!(e.message.contains("did you mean `poisson`"), "{e}");
    let (e, _) = broken("delay = 5.0 ", "delay = -5.0 ");
    assert!(e.message.contains("delay >= 0"), "{e}");
    // NetStim with NEURON's defaults (interval 10, number 10, start 50): 50, 60, ..., 140 ms, by hand.
    let t = text.replacen("kind = \"times\"\ntimes = [9.0]", "kind = \"NetStim\"", 1);
    let model = parse(&t).unwrap();
    let stim = &model.network.as_ref().unwrap().sources[0].1;
    let expected: Vec<f64> = (0..10).map(|k| 50.0 + 10.0 * k as f64).collect();
    assert_eq!(stim.times(1000.0), expected);
    let (e, _) = broken("times = [9.0]", "noise = 0.5");
    assert!(e.message.contains("`noise` belongs to a NetStim source"), "{e}");
    let (e, _) = broken("kind = \"times\"\ntimes = [9.0]", "kind = \"NetStim\"\nstop = 9.0");
    assert!(e.message.contains("not `stop` or `rate`"), "{e}");
}

/// `[[gap_junction]]`: each pair of cells gets a `gap` at both ends, each POINTER naming the other cell (pairs
/// given both ways count once); mistakes are located.
#[test]
fn gap_junctions_couple_pairs_and_their_mistakes_name_their_line() {
    let text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/gap_network.toml"))
            .unwrap();
    let model = parse(&text).unwrap();
    let network = model.network.as_ref().unwrap();
    // A ring of 8: 8 junctions, two `gap`s each, one per cell end: every cell has ExpSyn and two gaps.
    for (name, cell) in &network.cells {
        let gaps: Vec<_> = cell.decor.synapses.iter().filter(|s| s.mechanism == "gap").collect();
        assert_eq!(gaps.len(), 2, "{name}");
    }
    let first = &network.cells[0].1.decor.synapses[1];
    assert_eq!(first.parameters, vec![("g".to_string(), 0.05)]);
    match &first.pointers[0].target {
        rall::cell::PointerTarget::OtherCell { cell, .. } => assert_eq!(cell, "ring[1]"),
        other => panic!("{other:?}"),
    }
    // The same pairs listed both ways: still one junction per pair.
    let both_ways = text.replacen(
        "rule = \"one-to-one\"\noffset = 1 ",
        "rule = \"list\"\npairs = [[0, 1], [1, 0], [1, 2]]\n#",
        1,
    );
    let model = parse(&both_ways).unwrap();
    let gaps = |k: usize| {
        model.network.as_ref().unwrap().cells[k]
            .1
            .decor
            .synapses
            .iter()
            .filter(|s| s.mechanism == "gap")
            .count()
    };
    assert_eq!((gaps(0), gaps(1), gaps(2), gaps(3)), (1, 2, 1, 0));
    let broken = |from: &str, to: &str| -> (ModelError, String) {
        assert!(text.contains(from), "{from}");
        let t = text.replacen(from, to, 1);
        (parse(&t).unwrap_err(), t)
    };
    let (e, t) = broken(
        "from = \"ring\"\nto = \"ring\"\nrule = \"one-to-one\"",
        "from = \"drive\"\nto = \"ring\"\nrule = \"one-to-one\"",
    );
    assert!(e.message.contains("not spike sources"), "{e}");
    let table = t
        .find("from = \"drive\"\nto = \"ring\"\nrule = \"one-to-one\"")
        .unwrap();
    assert_eq!(e.place.unwrap().0, t[..table].matches('\n').count() + 1);
    let (e, _) = broken("at = \"(location 0 0.5)\" #", "at = \"(on-branches 0.5)\" #");
    assert!(
        e.message.contains("a gap junction joins one location on each cell"),
        "{e}"
    );
    let (e, _) = broken("g = 0.05  ", "g = -0.05  ");
    assert!(e.message.contains("g >= 0"), "{e}");
}

/// A stimulus with a waveform, inline or from a CSV file (relative to the model file): the same clamp, the
/// amplitude defaulting to 1 and the duration to the whole run; bad waveforms are located.
#[test]
fn stimulus_waveforms_come_inline_or_from_a_file_and_bad_ones_are_located() {
    let dir = std::env::temp_dir().join(format!("rall-waveform-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ramp.csv"), "t,nA\n0,0\n10,0.2\n20,0\n").unwrap();
    let model = |stimulus: &str| {
        format!(
            "[simulation]\nt_stop = 30.0\n[morphology]\ncylinder = [{{ length = 20.0, diameter = 20.0, tag = 1 }}]\n[[mechanism]]\nname = \"pas\"\n[[stimulus]]\nat = \"(location 0 0.5)\"\n{stimulus}\n"
        )
    };
    let parse_in = |text: &str| parse_model(text, "w.toml", &dir, &Catalogue::default());
    let clamp = |text: &str| {
        parse_in(text)
            .map(|m| m.cells[0].1.decor.clamps[0].clone())
            .map_err(|e| e.to_string())
    };
    let inline = clamp(&model("waveform = [[0, 0], [10, 0.2], [20, 0]]")).unwrap();
    let file = clamp(&model("waveform_file = \"ramp.csv\"")).unwrap();
    assert_eq!(inline, file);
    assert_eq!((inline.amplitude_na, inline.duration_ms), (1.0, f64::INFINITY));
    let w = inline.waveform.unwrap();
    assert_eq!((w.at(5.0), w.at(15.0), w.at(25.0), w.at(-1.0)), (0.1, 0.1, 0.0, 0.0));
    let e = clamp(&model("waveform = [[0, 0], [10, 0.2], [5, 0]]")).unwrap_err();
    assert!(e.starts_with("w.toml:9:") && e.contains("increasing times"), "{e}");
    std::fs::write(dir.join("bad.csv"), "t,nA\n0,0\n10,x\n").unwrap();
    let e = clamp(&model("waveform_file = \"bad.csv\"")).unwrap_err();
    assert!(e.contains("bad.csv:3: expected `t,value`"), "{e}");
    let e = clamp(&model("delay = 1.0")).unwrap_err();
    assert!(e.contains("needs `duration` and `amplitude`"), "{e}");
}

/// POINTER bindings of examples/gap_junction.toml: a misspelt POINTER, an unknown cell and a locset of several
/// locations are reported at their line.
#[test]
fn pointer_mistakes_name_their_line() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/gap_junction.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let catalogue = rall::mechanism::Catalogue::default();
    let load = |t: &str| rall::model::parse_model(t, "gap.toml", std::path::Path::new("."), &catalogue);
    let model = load(&text).unwrap();
    assert_eq!(model.cells[0].1.decor.synapses[0].pointers.len(), 1);

    let t = text.replacen("pointers = { vgap", "pointers = { vgp", 1);
    let e = load(&t).err().unwrap();
    assert_eq!(e.place.unwrap().0, line_of(&t, "vgp ="), "{e}");
    assert!(
        e.to_string().contains("no POINTER `vgp`") && e.to_string().contains("vgap"),
        "{e}"
    );

    let t = text.replacen("cell = \"b\" }", "cell = \"c\" }", 1);
    let e = load(&t).err().unwrap();
    assert_eq!(e.place.unwrap().0, line_of(&t, "cell = \"c\""), "{e}");
    assert!(e.to_string().contains("no [[cell]] is named `c`"), "{e}");

    let t = text.replacen(
        "{ at = \"(location 0 0.5)\", cell = \"b\" }",
        "{ at = \"(join (location 0 0.5) (location 1 0.5))\", cell = \"b\" }",
        1,
    );
    let e = load(&t).err().unwrap();
    assert!(e.to_string().contains("a POINTER reads one"), "{e}");
}

/// `[morphology] delete`: the branches wholly in a region go with their subtrees (C4A without its axon has
/// the length of C4A less the axon's branches, counted here from the full morphology).
#[test]
fn deleting_subtrees_by_label_removes_the_branches_and_everything_beyond() {
    let dir = std::env::temp_dir().join(format!("rall-delete-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let swc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/C4A.swc");
    let full = rall::morphology::load_swc(&swc).unwrap();
    let (mut axon_length, mut axon_branches) = (0.0, 0);
    for b in 0..full.branches.len() {
        // A branch goes when it or an ancestor is axon (tag 2).
        let mut a = Some(b);
        let mut doomed = false;
        while let Some(x) = a {
            doomed |= full.branch_tag(x) == 2;
            a = full.branches[x].attachment.map(|t| t.parent);
        }
        if doomed {
            axon_length += full.branches[b].length_um();
            axon_branches += 1;
        }
    }
    assert!(axon_branches > 0, "C4A has an axon");
    let text = format!(
        "[simulation]\nt_stop = 1.0\n[morphology]\nfile = \"{}\"\ndelete = \"axon\"\n",
        swc.display()
    );
    let path = dir.join("m.toml");
    std::fs::write(&path, text).unwrap();
    let model = rall::model::load_model(&path, &rall::mechanism::Catalogue::default()).unwrap();
    let m = &model.cells[0].1.morphology;
    assert_eq!(m.branches.len(), full.branches.len() - axon_branches);
    assert!((m.total_length_um() - (full.total_length_um() - axon_length)).abs() < 1e-9);
    assert!((0..m.branches.len()).all(|b| m.branch_tag(b) != 2));
    // A bad region is a located error.
    let bad = format!(
        "[simulation]\nt_stop = 1.0\n[morphology]\nfile = \"{}\"\ndelete = \"(tagg 2)\"\n",
        swc.display()
    );
    std::fs::write(&path, bad).unwrap();
    let e = rall::model::load_model(&path, &rall::mechanism::Catalogue::default()).unwrap_err();
    assert_eq!(e.place.map(|p| p.0), Some(5), "{e}");
    assert!(e.to_string().contains("tagg"), "{e}");
}
