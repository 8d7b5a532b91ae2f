//! The README's Rust snippet against the program that compiles it (`examples/readme_snippet.rs`, built by
//! `cargo test`): every line of the snippet must appear there, in order, so the README shows code that builds.

#[test]
fn the_readme_rust_snippet_is_the_compiled_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/readme_snippet.rs")).unwrap();
    let start = readme.find("```rust\n").expect("the README has a Rust snippet") + "```rust\n".len();
    let snippet = &readme[start..start + readme[start..].find("```").unwrap()];
    let mut lines = example.lines().map(str::trim);
    for wanted in snippet.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(
            lines.any(|l| l == wanted),
            "the README's line `{wanted}` is not (in this order) in examples/readme_snippet.rs"
        );
    }
}
