//! `rall run/grad -o FILE.npy`: NumPy itself (in `.venv`, which `.ci/run` makes) reads the file, finds every CSV
//! column by name, and gets the CSV's numbers to the last bit (both hold the same float64 values).

#[path = "../../rall/tests/common/mod.rs"]
mod common;

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
