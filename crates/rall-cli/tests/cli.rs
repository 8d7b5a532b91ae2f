//! The `rall` binary as a user runs it: the Rallpack 1 example against its
//! published reference traces, the plot file, and error messages for bad input.

use std::path::PathBuf;
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn rall(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rall")).args(args).output().unwrap()
}

fn read_csv(path: &PathBuf) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn run_writes_csv_and_plot_matching_the_rallpack1_reference() {
    let dir = tempdir("rallpack1");
    let csv = dir.join("out.csv");
    let png = dir.join("out.png");
    let out = rall(&[
        "run",
        repo("examples/rallpack1.toml").to_str().unwrap(),
        "-o",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (header, rows) = read_csv(&csv);
    assert_eq!(header, vec!["t", "x0", "x1"]);
    assert_eq!(rows.len(), 5001);
    for (column, reference) in [
        (1, "validation/rallpack/ref_cable.0"),
        (2, "validation/rallpack/ref_cable.x"),
    ] {
        let text = std::fs::read_to_string(repo(reference)).unwrap();
        let expected: Vec<(f64, f64)> = text
            .lines()
            .map(|l| {
                let mut it = l.split_whitespace().map(|x| x.parse::<f64>().unwrap());
                (it.next().unwrap() * 1e3, it.next().unwrap() * 1e3)
            })
            .collect();
        let range = expected.iter().map(|e| e.1).fold(f64::NEG_INFINITY, f64::max)
            - expected.iter().map(|e| e.1).fold(f64::INFINITY, f64::min);
        let mut max_error: f64 = 0.0;
        for (row, (t, v)) in rows.iter().zip(&expected) {
            assert!((row[0] - t).abs() < 1e-9);
            max_error = max_error.max((row[column] - v).abs());
        }
        assert!(
            max_error < 5e-3 * range,
            "{reference}: max error {max_error} mV of range {range} mV"
        );
    }
    let png_bytes = std::fs::read(&png).unwrap();
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png_bytes.len() > 10_000);
}

#[test]
fn inspect_summarises_the_c4a_discretisation() {
    let out = rall(&["inspect", repo("examples/c4a_passive.toml").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("113 membrane CVs"), "{text}");
    // The C4A soma samples have tag 1, the dendrites tag 3 and the axon stub tag 2.
    for region in ["soma", "dend", "axon", "all"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(region)),
            "{region} missing in\n{text}"
        );
    }
}

#[test]
fn errors_name_the_file_and_line_and_exit_non_zero() {
    let dir = tempdir("bad");
    let model = dir.join("bad.toml");
    std::fs::write(
        &model,
        "[simulation]\nt_stop = 10\n\n[morphology]\nswc = \"missing.swc\"\n",
    )
    .unwrap();
    let out = rall(&[
        "run",
        model.to_str().unwrap(),
        "-o",
        dir.join("x.csv").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:5:7") && err.contains("missing.swc: cannot read"),
        "{err}"
    );
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rall-cli-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
