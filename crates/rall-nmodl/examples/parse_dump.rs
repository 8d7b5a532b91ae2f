fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        match rall_nmodl::compile(&path, &text) {
            Ok(c) => {
                let ir = &c.ir;
                let adv = match &ir.advance {
                    rall_nmodl::ir::Advance::None => "none".to_string(),
                    rall_nmodl::ir::Advance::Explicit(k) => format!("explicit {} outputs", k.outputs.len()),
                    rall_nmodl::ir::Advance::Implicit { states, .. } => format!("implicit {} states", states.len()),
                };
                println!(
                    "OK {path}: {} slots, {} nodes, init {} current {} advance {adv}, notes {:?}",
                    ir.slots.len(),
                    ir.graph.len(),
                    ir.initial.outputs.len(),
                    ir.current.outputs.len(),
                    ir.notes
                );
            }
            Err((src, d)) => {
                println!("REJECTED {path}: {} diagnostics", d.len());
                print!("{}", rall_nmodl::diagnostics::render_all(&d, &src));
            }
        }
    }
}
