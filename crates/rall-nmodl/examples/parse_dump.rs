fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let src = rall_nmodl::SourceFile::new(path.clone(), text);
        let (m, mut d) = rall_nmodl::parse::parse(&src);
        rall_nmodl::sema::check_module(&m, &mut d);
        println!(
            "== {path}: {} diagnostics, {} params {} states {} procs {} funcs",
            d.len(),
            m.parameters.len(),
            m.states.len(),
            m.procedures.len(),
            m.functions.len()
        );
        print!("{}", rall_nmodl::diagnostics::render_all(&d, &src));
    }
}
