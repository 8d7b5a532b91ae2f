//! `rall run/grad -o FILE.npy`: NumPy itself (in `.venv`, which `.ci/run` makes) reads the file, finds every CSV
//! column by name, and gets the CSV's numbers to the last bit (both hold the same float64 values).

use crate::common;

use std::path::PathBuf;
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

const COMPARE: &str = r#"
import csv, sys
import numpy as np
array = np.load(sys.argv[1])
with open(sys.argv[2]) as f:
    rows = list(csv.reader(f))
names, values = rows[0], np.array(rows[1:], dtype=float)
assert list(array.dtype.names) == names, (array.dtype.names, names)
assert array.shape == (values.shape[0],), array.shape
worst = max(np.max(np.abs(array[n] - values[:, k])) for k, n in enumerate(names))
print(f"{len(names)} columns, {values.shape[0]} rows, largest difference {worst}")
assert worst == 0.0
"#;

#[test]
#[ignore = "needs NumPy in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn numpy_reads_the_npy_output_as_the_csv_columns() {
    let python = common::python();
    let dir = std::env::temp_dir().join(format!("rall-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = repo("examples/hh_tree.toml");
    for output in ["traces.npy", "traces.csv"] {
        let out = Command::new(env!("CARGO_BIN_EXE_rall"))
            .args([
                "grad",
                model.to_str().unwrap(),
                "-o",
                dir.join(output).to_str().unwrap(),
            ])
            .args(["--t-stop", "20"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new(&python)
        .args(["-c", COMPARE])
        .arg(dir.join("traces.npy"))
        .arg(dir.join("traces.csv"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    // Measured: 5 columns (t, soma, three sensitivities), 801 rows, largest difference 0.
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
}

const COMPARE_NPZ: &str = r#"
import csv, sys
import numpy as np
archive = np.load(sys.argv[1])
with open(sys.argv[2]) as f:
    rows = list(csv.reader(f))
names, values = rows[0], np.array(rows[1:], dtype=float)
probes, parameters = list(archive["probes"]), list(archive.get("parameters", []))
assert np.array_equal(archive["time"], values[:, 0])
worst = 0.0
for p, probe in enumerate(probes):
    worst = max(worst, np.max(np.abs(archive["traces"][:, p] - values[:, names.index(probe)])))
    for q, parameter in enumerate(parameters):
        column = values[:, names.index(f"d{probe}/d{parameter}")]
        worst = max(worst, np.max(np.abs(archive["sensitivities"][:, p, q] - column)))
spikes = 0
if len(sys.argv) > 3:
    with open(sys.argv[3]) as f:
        spike_rows = list(csv.reader(f))[1:]
    assert np.array_equal(archive["spike_times"], [float(r[0]) for r in spike_rows])
    assert np.array_equal(archive["spike_gids"], [int(r[1]) for r in spike_rows])
    assert [archive["gids"][int(r[1])] for r in spike_rows] == [r[2] for r in spike_rows]
    spikes = len(spike_rows)
print(f"{sys.argv[1]}: {len(probes)} probes, {len(parameters)} parameters, {values.shape[0]} rows, "
      f"{spikes} spikes, largest difference {worst}")
assert worst == 0.0
"#;

/// `-o FILE.npz`: NumPy reads the archive's arrays (traces [time, probe], sensitivities [time, probe,
/// parameter], spike times and gids) and finds the CSV's numbers and the spike CSV's rows in them, to the bit.
#[test]
#[ignore = "needs NumPy in .venv: run `bash .ci/run`, or `cargo test -- --include-ignored`"]
fn numpy_reads_the_npz_archive_as_the_csv_and_the_spikes() {
    let python = common::python();
    let dir = std::env::temp_dir().join(format!("rall-npz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (command, model, stem, spikes) in [
        ("grad", "examples/hh_tree.toml", "grad", false),
        ("run", "examples/ring.toml", "ring", true),
    ] {
        for extension in ["npz", "csv"] {
            let output = dir.join(format!("{stem}.{extension}"));
            let out = Command::new(env!("CARGO_BIN_EXE_rall"))
                .args([command, repo(model).to_str().unwrap(), "-o", output.to_str().unwrap()])
                .args(["--t-stop", "50"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        // The archive holds the spikes: no spike CSV beside it.
        assert!(!dir.join(format!("{stem}_spikes.npz")).exists());
        let mut compare = Command::new(&python);
        compare
            .args(["-c", COMPARE_NPZ])
            .arg(dir.join(format!("{stem}.npz")))
            .arg(dir.join(format!("{stem}.csv")));
        if spikes {
            compare.arg(dir.join(format!("{stem}_spikes.csv")));
        }
        let out = compare.output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        println!("{report}");
        // Measured: hh_tree 1 probe, 3 parameters, 2001 rows; ring 10 probes, 101 rows, 7 spikes; difference 0.
        assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    }
}
