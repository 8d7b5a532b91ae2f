//! A crate's `tests/` folder and its `tests/suite.rs` in; a failure naming every test file that suite.rs does not
//! declare as a module (with `autotests = false` such a file would be compiled by nothing) out.

pub fn check_every_test_file_is_a_module(manifest_dir: &str) {
    let folder = std::path::Path::new(manifest_dir).join("tests");
    let suite = std::fs::read_to_string(folder.join("suite.rs")).unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "suite"
            && !suite.lines().any(|l| l == format!("mod {module};"))
        {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "tests/suite.rs does not include {missing:?}");
}
