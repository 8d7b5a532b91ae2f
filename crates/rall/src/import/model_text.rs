//! A [`Recipe`] in, the text of a rall model file out: BluePyOpt's ordered, overriding parameter entries
//! resolved per tag (rall paints a mechanism once per region), each mechanism painted on the groups of tags
//! whose values agree, cable properties and reversal potentials likewise, the chosen protocol's pulses and
//! recordings at the places BluePyOpt puts them.

use super::ImportError;
use super::bluepyopt::{Given, ParameterEntry, Protocol, Recipe};
use crate::cell::ScaleExpr;
use crate::mechanism::Catalogue;
use crate::morphology::{AxonStub, Morphology, load_asc, load_swc, path_between_um};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What a parameter entry sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Cm,
    Ra,
    Reversal(String),
    Mechanism { suffix: String, parameter: String },
}

/// A value on a tag, with the scale expression of a distance distribution.
type Setting = (f64, Option<String>);

/// A mechanism parameter on a tag: its name, the value's bits (comparable) and its scale expression.
type PaintedValue = (String, u64, Option<String>);

const TAG_NAMES: [(i32, &str); 4] = [(1, "soma"), (2, "axon"), (3, "dend"), (4, "apic")];

fn region(tags: &[i32], present: &[i32]) -> String {
    if tags == present {
        return "(all)".into();
    }
    if let [tag] = tags
        && let Some((_, name)) = TAG_NAMES.iter().find(|(t, _)| t == tag)
    {
        return (*name).into();
    }
    let parts: Vec<String> = tags.iter().map(|t| format!("(tag {t})")).collect();
    format!("(join {})", parts.join(" "))
}

fn toml_number(x: f64) -> String {
    // `{:?}` prints the shortest text that reads back to the same f64, with a decimal point or exponent.
    format!("{x:?}")
}

/// The model file's text for `recipe` under `protocol`, written to `out_dir` (paths are made relative to it).
pub fn model_text(recipe: &Recipe, protocol: &str, out_dir: &Path) -> Result<String, ImportError> {
    let protocol = recipe
        .protocols
        .iter()
        .find(|p| p.name == protocol)
        .ok_or_else(|| ImportError::Invalid {
            path: recipe.folder.display().to_string(),
            key: protocol.to_string(),
            message: format!(
                "no such protocol (the model has: {})",
                recipe
                    .protocols
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    // The mechanisms of the folder, by SUFFIX.
    let mut catalogue = Catalogue::default();
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for f in &recipe.mechanism_files {
        match catalogue.add_file(f) {
            Ok(name) => {
                files.insert(name, f.clone());
            }
            Err(e) => {
                refused.insert(f.display().to_string(), e.to_string());
            }
        }
    }
    for (_, suffix) in &recipe.inserts {
        if catalogue.get(suffix).is_err() {
            return Err(ImportError::Mechanism {
                suffix: suffix.clone(),
                message: if refused.is_empty() {
                    format!(
                        "no .mod file of {} declares it",
                        recipe.folder.join("mechanisms").display()
                    )
                } else {
                    format!(
                        "no accepted .mod file declares it; refused: {}",
                        refused
                            .iter()
                            .map(|(f, e)| format!("{f}: {e}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                },
            });
        }
    }
    let morphology = final_morphology(&recipe.morphology)?;
    let present: Vec<i32> = TAG_NAMES
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| (0..morphology.branches.len()).any(|b| morphology.branch_tag(b) == *t))
        .collect();

    // Mechanisms per tag, in the order of the configuration.
    let mut inserted: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut suffix_order: Vec<String> = Vec::new();
    for (tags, suffix) in &recipe.inserts {
        if !suffix_order.contains(suffix) {
            suffix_order.push(suffix.clone());
        }
        for t in tags.iter().filter(|t| present.contains(t)) {
            let list = inserted.entry(*t).or_default();
            if !list.contains(suffix) {
                list.push(suffix.clone());
            }
        }
    }
    // Settings per tag: later entries override earlier ones, as BluePyOpt applies them in order.
    let mut settings: BTreeMap<i32, BTreeMap<Target, Setting>> = BTreeMap::new();
    for entry in &recipe.parameters {
        let value = value_of(recipe, entry)?;
        let scale = entry.distribution.as_ref().map(|d| scale_of(entry, d)).transpose()?;
        for &tag in entry.tags.iter().filter(|t| present.contains(t)) {
            let here = inserted.get(&tag).map(Vec::as_slice).unwrap_or_default();
            let target = target_of(entry, here, &catalogue)?;
            settings.entry(tag).or_default().insert(target, (value, scale.clone()));
        }
    }
    let global = |name: &str| recipe.globals.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    let t_stop = protocol.pulses.iter().map(|p| p.total_duration).fold(0.0, f64::max);

    let mut out = String::new();
    let folder = relative_path(&recipe.folder, out_dir);
    let _ = writeln!(
        out,
        "# Imported by `rall import bluepyopt` from {}{}, protocol {}.",
        folder.display(),
        recipe
            .etype
            .as_ref()
            .map(|e| format!(" (e-type {e})"))
            .unwrap_or_default(),
        protocol.name
    );
    let _ = writeln!(out, "# Free parameters from {}.", recipe.free_values_source);
    let _ = writeln!(
        out,
        "# BluePyOpt's examples run NEURON with CVode; rall runs fixed steps of dt (NEURON's h.dt, 0.025 ms)."
    );
    let _ = writeln!(
        out,
        "# Other protocols: {}.",
        recipe
            .protocols
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| *n != protocol.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let used: Vec<&PathBuf> = suffix_order.iter().filter_map(|s| files.get(s)).collect();
    let _ = writeln!(out, "mod_files = [");
    for f in used {
        let _ = writeln!(out, "  \"{}\",", relative_path(f, out_dir).display());
    }
    let _ = writeln!(out, "]\n");
    let _ = writeln!(out, "[simulation]");
    let _ = writeln!(out, "t_stop = {}", toml_number(t_stop));
    let _ = writeln!(out, "dt = 0.025");
    let _ = writeln!(out, "celsius = {}", toml_number(global("celsius").unwrap_or(6.3)));
    let _ = writeln!(out, "\n[morphology]");
    let _ = writeln!(
        out,
        "file = \"{}\"",
        relative_path(&recipe.morphology, out_dir).display()
    );
    let _ = writeln!(
        out,
        "[morphology.replace_axon]       # BluePyOpt's default: a 60 µm stub of two sections"
    );
    let _ = writeln!(out, "\n[labels]\nsoma_centre = \"(location 0 0.5)\"");
    let _ = writeln!(
        out,
        "\n[discretization]\npolicy = \"odd-per-length\"       # BluePyOpt: nseg = 1 + 2 int(L / 40)\nlength = 40.0"
    );
    write_cable(&mut out, &settings, &present, global("v_init").unwrap_or(-65.0));
    write_ions(&mut out, &settings, &present);
    write_mechanisms(&mut out, &suffix_order, &inserted, &settings, &present);
    write_protocol(&mut out, protocol, &morphology)?;
    Ok(out)
}

/// The morphology as BluePyOpt's cell has it: the file read as Import3d reads it, the axon replaced.
fn final_morphology(path: &Path) -> Result<Morphology, ImportError> {
    let bad = |message: String| ImportError::Morphology {
        path: path.display().to_string(),
        message,
    };
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let m = match extension.as_str() {
        "asc" => load_asc(path).map_err(|e| bad(e.to_string()))?,
        "swc" => load_swc(path).map_err(|e| bad(e.to_string()))?,
        other => return Err(bad(format!("unknown morphology format `.{other}`"))),
    };
    Ok(m.replace_axon(&AxonStub::default())
        .map_err(|e| bad(e.to_string()))?
        .morphology)
}

fn value_of(recipe: &Recipe, entry: &ParameterEntry) -> Result<f64, ImportError> {
    match entry.given {
        Given::Fixed(v) => Ok(v),
        Given::Free { .. } => {
            let key = format!("{}.{}", entry.name, entry.list);
            recipe
                .free_values
                .get(&key)
                .copied()
                .ok_or_else(|| ImportError::Invalid {
                    path: recipe.free_values_source.clone(),
                    key,
                    message: "no value for this free parameter".into(),
                })
        }
    }
}

/// BluePyOpt's distribution (`(-0.8696 + 2.087*math.exp(({distance})*0.0031))*{value}`) as a rall scale
/// expression of `distance`: the factor that multiplies the value. Refused unless proportional to the value.
fn scale_of(entry: &ParameterEntry, distribution: &str) -> Result<String, ImportError> {
    let key = format!("{}.{}", entry.name, entry.list);
    let bad = |message: String| ImportError::Invalid {
        path: entry.file.display().to_string(),
        key: key.clone(),
        message,
    };
    let with = |value: &str| {
        let text = distribution
            .replace("math.", "")
            .replace("{distance}", "distance")
            .replace("{value}", value);
        ScaleExpr::parse(&text).map_err(|e| bad(format!("distribution `{distribution}`: {e}")))
    };
    let (one, two) = (with("1")?, with("2")?);
    for d in [0.0, 50.0, 300.0, 1000.0] {
        let (a, b) = (one.at(d), two.at(d));
        if !((b - 2.0 * a).abs() <= 1e-12 * b.abs().max(1e-300)) {
            return Err(bad(format!(
                "distribution `{distribution}` is not proportional to {{value}} (at {d} µm: {a} for 1, {b} for 2); \
                 rall scales a painted value"
            )));
        }
    }
    // BluePyOpt's `(...)*{value}` leaves a factor of 1 here: drop it.
    let text = one.text.trim();
    let text = text
        .strip_suffix("*1")
        .or_else(|| text.strip_suffix("* 1"))
        .unwrap_or(text)
        .trim();
    Ok(ScaleExpr::parse(text).map(|e| e.text).unwrap_or(one.text))
}

/// What a NEURON parameter name sets on a tag with the mechanisms `here`.
fn target_of(entry: &ParameterEntry, here: &[String], catalogue: &Catalogue) -> Result<Target, ImportError> {
    let key = format!("{}.{}", entry.name, entry.list);
    let bad = |message: String| ImportError::Invalid {
        path: entry.file.display().to_string(),
        key: key.clone(),
        message,
    };
    let name = entry.name.as_str();
    match name {
        "cm" => return Ok(Target::Cm),
        "Ra" => return Ok(Target::Ra),
        _ => {}
    }
    let uses_ion = |ion: &str| {
        here.iter()
            .any(|s| catalogue.get(s).is_ok_and(|c| c.info.ions.iter().any(|i| i.ion == ion)))
    };
    if let Some(ion) = name.strip_prefix('e')
        && !ion.is_empty()
        && ion.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return if uses_ion(ion) {
            Ok(Target::Reversal(ion.to_string()))
        } else {
            Err(bad(format!(
                "no mechanism on {} uses the ion `{ion}` (NEURON refuses it too)",
                entry.list
            )))
        };
    }
    // `<parameter>_<SUFFIX>`, the longest SUFFIX inserted here; or the file's own mech/mech_param.
    let (suffix, parameter) = match &entry.mechanism {
        Some((m, p)) => (m.clone(), p.clone()),
        None => here
            .iter()
            .filter_map(|s| {
                name.strip_suffix(s.as_str())
                    .and_then(|p| p.strip_suffix('_'))
                    .filter(|p| !p.is_empty())
                    .map(|p| (s.clone(), p.to_string()))
            })
            .max_by_key(|(s, _)| s.len())
            .ok_or_else(|| {
                bad(format!(
                    "`{name}` is no parameter of a mechanism inserted on {} ({})",
                    entry.list,
                    here.join(", ")
                ))
            })?,
    };
    if !here.contains(&suffix) {
        return Err(bad(format!(
            "`{suffix}` is not inserted on {} (NEURON refuses it too)",
            entry.list
        )));
    }
    catalogue.parameter_index(&suffix, &parameter).map_err(bad)?;
    Ok(Target::Mechanism { suffix, parameter })
}

/// Groups tags by equal values (in tag order).
fn groups<V: PartialEq + Clone>(per_tag: &[(i32, V)]) -> Vec<(Vec<i32>, V)> {
    let mut out: Vec<(Vec<i32>, V)> = Vec::new();
    for (tag, v) in per_tag {
        match out.iter_mut().find(|(_, w)| w == v) {
            Some((tags, _)) => tags.push(*tag),
            None => out.push((vec![*tag], v.clone())),
        }
    }
    out
}

fn write_cable(out: &mut String, settings: &BTreeMap<i32, BTreeMap<Target, Setting>>, present: &[i32], v_init: f64) {
    // NEURON's defaults where the configuration sets nothing.
    let per_tag = |target: Target, default: f64| -> Vec<(i32, u64)> {
        present
            .iter()
            .map(|t| {
                let v = settings
                    .get(t)
                    .and_then(|s| s.get(&target))
                    .map_or(default, |(v, _)| *v);
                (*t, v.to_bits())
            })
            .collect()
    };
    let (cm, ra) = (groups(&per_tag(Target::Cm, 1.0)), groups(&per_tag(Target::Ra, 35.4)));
    // The commonest value is the cell's; the others are region overrides.
    let commonest = |g: &[(Vec<i32>, u64)]| g.iter().max_by_key(|(tags, _)| tags.len()).map(|(_, v)| *v).unwrap();
    let (cm0, ra0) = (commonest(&cm), commonest(&ra));
    let _ = writeln!(out, "\n[cable]");
    let _ = writeln!(out, "cm = {}", toml_number(f64::from_bits(cm0)));
    let _ = writeln!(out, "ra = {}", toml_number(f64::from_bits(ra0)));
    let _ = writeln!(out, "v_init = {}", toml_number(v_init));
    for (name, g, base) in [("cm", &cm, cm0), ("ra", &ra, ra0)] {
        for (tags, v) in g.iter().filter(|(_, v)| *v != base) {
            let _ = writeln!(
                out,
                "[[cable.region]]\nregion = \"{}\"\n{name} = {}",
                region(tags, present),
                toml_number(f64::from_bits(*v))
            );
        }
    }
}

fn write_ions(out: &mut String, settings: &BTreeMap<i32, BTreeMap<Target, Setting>>, present: &[i32]) {
    let mut ions: Vec<String> = settings
        .values()
        .flat_map(|s| s.keys())
        .filter_map(|t| match t {
            Target::Reversal(ion) => Some(ion.clone()),
            _ => None,
        })
        .collect();
    ions.sort();
    ions.dedup();
    for ion in ions {
        let per_tag: Vec<(i32, u64)> = present
            .iter()
            .filter_map(|t| {
                let (v, _) = settings.get(t)?.get(&Target::Reversal(ion.clone()))?;
                Some((*t, v.to_bits()))
            })
            .collect();
        for (tags, v) in groups(&per_tag) {
            let _ = writeln!(
                out,
                "\n[[ion]]\nname = \"{ion}\"\nregion = \"{}\"\ne = {}",
                region(&tags, present),
                toml_number(f64::from_bits(v))
            );
        }
    }
}

fn write_mechanisms(
    out: &mut String,
    suffix_order: &[String],
    inserted: &BTreeMap<i32, Vec<String>>,
    settings: &BTreeMap<i32, BTreeMap<Target, Setting>>,
    present: &[i32],
) {
    for suffix in suffix_order {
        // Per tag where it is inserted: its parameters (name, value bits, scale).
        let per_tag: Vec<(i32, Vec<PaintedValue>)> = present
            .iter()
            .filter(|t| inserted.get(t).is_some_and(|l| l.contains(suffix)))
            .map(|t| {
                let params = settings
                    .get(t)
                    .into_iter()
                    .flatten()
                    .filter_map(|(target, (v, scale))| match target {
                        Target::Mechanism { suffix: s, parameter } if s == suffix => {
                            Some((parameter.clone(), v.to_bits(), scale.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                (*t, params)
            })
            .collect();
        for (tags, params) in groups(&per_tag) {
            let _ = writeln!(
                out,
                "\n[[mechanism]]\nname = \"{suffix}\"\nregion = \"{}\"",
                region(&tags, present)
            );
            if !params.is_empty() {
                let values: Vec<String> = params
                    .iter()
                    .map(|(p, v, _)| format!("{p} = {}", toml_number(f64::from_bits(*v))))
                    .collect();
                let _ = writeln!(out, "parameters = {{ {} }}", values.join(", "));
            }
            let scales: Vec<String> = params
                .iter()
                .filter_map(|(p, _, s)| s.as_ref().map(|s| format!("{p} = \"{s}\"")))
                .collect();
            if !scales.is_empty() {
                // BluePyOpt measures distances from soma[0](0.5).
                let _ = writeln!(
                    out,
                    "scale = {{ {} }}\ndistance_from = \"soma_centre\"",
                    scales.join(", ")
                );
            }
        }
    }
}

fn write_protocol(out: &mut String, protocol: &Protocol, morphology: &Morphology) -> Result<(), ImportError> {
    for p in &protocol.pulses {
        let _ = writeln!(
            out,
            "\n[[stimulus]]\nat = \"soma_centre\"\ndelay = {}\nduration = {}\namplitude = {}",
            toml_number(p.delay),
            toml_number(p.duration),
            toml_number(p.amplitude)
        );
    }
    let _ = writeln!(out, "\n[[probe]]\nname = \"soma\"\nat = \"soma_centre\"");
    for r in &protocol.recordings {
        let (branch, x) =
            soma_distance_location(morphology, r.tag, r.distance_um).ok_or_else(|| ImportError::Invalid {
                path: protocol.name.clone(),
                key: r.name.clone(),
                message: format!(
                    "no branch of tag {} reaches {} µm from the soma's middle",
                    r.tag, r.distance_um
                ),
            })?;
        let _ = writeln!(
            out,
            "\n[[probe]]                       # {} µm from the soma's middle\nname = \"{}\"\nat = \"(location {branch} {x:?})\"",
            r.distance_um, r.name
        );
    }
    let _ = writeln!(out, "\n[[detector]]\nat = \"soma_centre\"\nthreshold = -20.0");
    Ok(())
}

/// BluePyOpt's `NrnSomaDistanceCompLocation`: among the branches of `tag` in order, the last whose two ends
/// lie either side of `distance_um` from the soma's middle, and the position there, linear in path distance.
pub fn soma_distance_location(m: &Morphology, tag: i32, distance_um: f64) -> Option<(usize, f64)> {
    let mut found = None;
    for b in (0..m.branches.len()).filter(|&b| m.branch_tag(b) == tag) {
        let start = path_between_um(m, (0, 0.5), (b, 0.0));
        let end = path_between_um(m, (0, 0.5), (b, 1.0));
        let (lo, hi) = (start.min(end), start.max(end));
        if lo <= distance_um && distance_um <= hi && hi > lo {
            found = Some((b, (distance_um - lo) / (hi - lo)));
        }
    }
    found
}

/// `path` relative to `from` (both made absolute), or `path` itself when they share no root.
pub fn relative_path(path: &Path, from: &Path) -> PathBuf {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (path, from) = (absolute(path), absolute(from));
    let (a, b): (Vec<_>, Vec<_>) = (path.components().collect(), from.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return path;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c);
    }
    out
}
