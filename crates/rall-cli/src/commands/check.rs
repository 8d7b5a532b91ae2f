//! `rall check`: `.mod` files in, each mechanism's interface (or every diagnostic with file, line and caret) out.

use rall_nmodl::ast::MechanismKind;
use rall_nmodl::diagnostics::render_all;
use rall_nmodl::ir::{Advance, SlotKind};
use rall_nmodl::{Compiled, compile};
use std::fmt::Write;
use std::path::PathBuf;

/// For the well-known VERBATIM spike generators: the built-in source that replaces them.
fn built_in_equivalent(text: &str) -> Option<&'static str> {
    let declares = |name: &str| {
        text.lines().any(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[1] == name && w[0].ends_with("CELL"))
        })
    };
    if declares("NetStim") {
        Some("rall has NEURON's NetStim built in: [[spike_source]] kind = \"NetStim\" (docs/model-format.md)")
    } else if declares("VecStim") {
        Some("rall has VecStim built in: [[spike_source]] kind = \"VecStim\" with `times` (docs/model-format.md)")
    } else {
        None
    }
}

/// Checks every file; fails if any is rejected.
pub fn check(files: &[PathBuf], quiet: bool) -> Result<(), String> {
    let (mut accepted, mut rejected) = (0, 0);
    for path in files {
        let name = path.display().to_string();
        let text = match rall::read_text(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                rejected += 1;
                continue;
            }
        };
        match compile(&name, &text) {
            Ok(c) => {
                accepted += 1;
                if !quiet {
                    print!("{}", describe(&name, &c));
                }
                if !c.warnings.is_empty() {
                    eprint!("{}", render_all(&c.warnings, &c.source));
                }
            }
            Err((source, diagnostics)) => {
                rejected += 1;
                eprint!("{}", render_all(&diagnostics, &source));
                eprintln!(
                    "{name}: rejected ({} errors)",
                    diagnostics.iter().filter(|d| d.is_error()).count()
                );
                if let Some(note) = built_in_equivalent(&text) {
                    eprintln!("  note: {note}");
                }
            }
        }
    }
    out!("{accepted} accepted, {rejected} rejected");
    if rejected > 0 {
        Err(format!("{rejected} of {} files rejected", files.len()))
    } else {
        Ok(())
    }
}

/// The mechanism's interface: kind, parameters with units and defaults, states, ions, currents, solver.
pub fn describe(name: &str, c: &Compiled) -> String {
    let ir = &c.ir;
    let mut out = String::new();
    let kind = match c.info.kind {
        MechanismKind::Density => "density mechanism (SUFFIX), currents in mA/cm2",
        MechanismKind::PointProcess => "point process (POINT_PROCESS), currents in nA",
        MechanismKind::ArtificialCell => "artificial cell",
    };
    let _ = writeln!(out, "{name}: `{}`, {kind}", c.info.name);
    if let Some(t) = &c.info.title {
        let _ = writeln!(out, "  title: {t}");
    }
    let unit = |u: &Option<String>| u.as_ref().map(|u| format!(" ({u})")).unwrap_or_default();
    let _ = writeln!(out, "  parameters:");
    for (_, s) in ir.slots_where(|k| *k == SlotKind::Parameter) {
        let bounds = s
            .bounds
            .map(|(lo, hi)| format!("  <{}, {}>", compact(lo), compact(hi)))
            .unwrap_or_default();
        let _ = writeln!(out, "    {} = {}{}{bounds}", s.name, compact(s.default), unit(&s.unit));
    }
    let states: Vec<String> = ir
        .slots_where(|k| *k == SlotKind::State)
        .map(|(_, s)| format!("{}{}", s.name, unit(&s.unit)))
        .collect();
    let _ = writeln!(
        out,
        "  states: {}",
        if states.is_empty() {
            "none".into()
        } else {
            states.join(", ")
        }
    );
    for ion in &c.info.ions {
        let _ = writeln!(
            out,
            "  ion {}: reads [{}], writes [{}]",
            ion.ion,
            ion.read.join(", "),
            ion.write.join(", ")
        );
    }
    if !c.info.nonspecific_currents.is_empty() {
        let _ = writeln!(
            out,
            "  nonspecific currents: {}",
            c.info.nonspecific_currents.join(", ")
        );
    }
    if !c.info.electrode_currents.is_empty() {
        let _ = writeln!(out, "  electrode currents: {}", c.info.electrode_currents.join(", "));
    }
    if !c.info.pointers.is_empty() {
        let _ = writeln!(
            out,
            "  POINTERs (bound by the model: `pointers = {{ name = {{ at = ... }} }}`): {}",
            c.info.pointers.join(", ")
        );
    }
    let advance = match &ir.advance {
        Advance::None => "no states to integrate".to_string(),
        Advance::Explicit(k) => format!("explicit update of {} values (cnexp or euler)", k.outputs.len()),
        Advance::Implicit { states, .. } => format!(
            "implicit backward Euler over {} states (Newton, symbolic Jacobian)",
            states.len()
        ),
    };
    let _ = writeln!(out, "  state update: {advance}");
    if let Some(a) = &ir.algebraic {
        let _ = writeln!(
            out,
            "  then a LINEAR or NONLINEAR block solved for {} unknowns (Newton, symbolic Jacobian)",
            a.states.len()
        );
    }
    let _ = writeln!(
        out,
        "  NET_RECEIVE: {}",
        if ir.net_receive.is_some() { "yes" } else { "no" }
    );
    match &ir.procedural {
        Some(p) => {
            let _ = writeln!(
                out,
                "  runs procedurally, statement by statement ({}); {} slots, no sensitivities through it",
                p.reason,
                ir.slots.len()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  IR: {} slots, {} graph nodes (di/dv exact)",
                ir.slots.len(),
                ir.graph.len()
            );
        }
    }
    for note in &ir.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

/// `1e9` rather than `1000000000`, `0.12` as it is.
fn compact(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}
