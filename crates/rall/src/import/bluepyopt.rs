//! A BluePyOpt cell-model folder in (the L5PC layout: `config/mechanisms.json`, `parameters.json`,
//! `protocols.json`; or the recipe layout of the thalamocortical example: `config/recipes.json` naming each
//! e-type's morphology, parameter and protocol files), a [`Recipe`] out: what BluePyOpt would insert, set
//! and stimulate, with the free parameters' values and the section lists as rall tags.

use super::ImportError;
use super::ordered_json::Ordered;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What to import besides the folder.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The protocol whose stimuli and recordings the model file gets (default: the first in the file).
    pub protocol: Option<String>,
    /// The e-type of a recipe-layout folder (required when it has several).
    pub etype: Option<String>,
    /// The row of `results/<etype>_params.csv` that gives the free parameters (recipe layout).
    pub row: Option<usize>,
    /// A JSON object `{"name.sectionlist": value}` of free-parameter values (overrides the folder's own).
    pub params: Option<PathBuf>,
}

/// A free or fixed value as the configuration gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    Fixed(f64),
    Free { lower: f64, upper: f64 },
}

/// One entry of the parameter list, in the order BluePyOpt applies them.
#[derive(Debug, Clone)]
pub struct ParameterEntry {
    /// NEURON's name (`gIhbar_Ih`, `cm`, `ena`, `g_pas`).
    pub name: String,
    /// The section list's key as the file names it (`apical`, `alldend`): with `name`, BluePyOpt's parameter
    /// name `name.key`, the key of the free values.
    pub list: String,
    /// The rall tags the list covers.
    pub tags: Vec<i32>,
    pub given: Given,
    /// A distance distribution (`{distance}`, `{value}` and `math.` functions), if the value varies.
    pub distribution: Option<String>,
    /// The mechanism and its parameter when the file says so (L5PC's `mech`, `mech_param`).
    pub mechanism: Option<(String, String)>,
    /// The file the entry comes from, for errors.
    pub file: PathBuf,
}

/// A square current pulse at the soma's middle [ms, nA].
#[derive(Debug, Clone, PartialEq)]
pub struct Pulse {
    pub delay: f64,
    pub duration: f64,
    pub amplitude: f64,
    pub total_duration: f64,
}

/// A voltage recording at a path distance from the soma's middle in a section list.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceRecording {
    pub name: String,
    pub distance_um: f64,
    pub tag: i32,
}

#[derive(Debug, Clone)]
pub struct Protocol {
    pub name: String,
    pub pulses: Vec<Pulse>,
    pub recordings: Vec<DistanceRecording>,
}

/// A BluePyOpt cell model, read.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub folder: PathBuf,
    /// The e-type (recipe layout), for the header.
    pub etype: Option<String>,
    pub morphology: PathBuf,
    /// `.mod` files of the folder's `mechanisms/`.
    pub mechanism_files: Vec<PathBuf>,
    /// Mechanisms (NMODL SUFFIXes) inserted on each list's tags, in file order.
    pub inserts: Vec<(Vec<i32>, String)>,
    /// Global parameters (`celsius`, `v_init`).
    pub globals: Vec<(String, f64)>,
    pub parameters: Vec<ParameterEntry>,
    pub protocols: Vec<Protocol>,
    /// Values of the free parameters by `name.list`, and where they came from.
    pub free_values: HashMap<String, f64>,
    pub free_values_source: String,
}

/// rall's tags of BluePyOpt's section lists (NEURON's Import3d: soma 1 somatic, axon 2 axonal, dend 3
/// basal, apic 4 apical) and of the thalamocortical example's unions of them.
fn list_tags(list: &str) -> Option<Vec<i32>> {
    Some(match list {
        "all" => vec![1, 2, 3, 4],
        "somatic" => vec![1],
        "axonal" => vec![2],
        "basal" => vec![3],
        "apical" => vec![4],
        "myelinated" => vec![],
        "alldend" => vec![3],
        "somadend" => vec![3, 1],
        "somaxon" => vec![2, 1],
        "allact" => vec![3, 1, 2],
        _ => return None,
    })
}

fn read_text(path: &Path) -> Result<String, ImportError> {
    crate::read_text(path).map_err(|e| ImportError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ImportError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| ImportError::Json {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn invalid(path: &Path, key: &str, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        path: path.display().to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

fn tags_of(path: &Path, key: &str, list: &str) -> Result<Vec<i32>, ImportError> {
    list_tags(list).ok_or_else(|| {
        invalid(
            path,
            key,
            format!(
                "unknown section list `{list}` (BluePyOpt's lists: all, somatic, axonal, basal, apical, myelinated; \
                 and alldend, somadend, somaxon, allact)"
            ),
        )
    })
}

fn number(path: &Path, key: &str, v: &Value) -> Result<f64, ImportError> {
    v.as_f64()
        .ok_or_else(|| invalid(path, key, format!("expected a number, found {v}")))
}

fn mod_files(folder: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let dir = folder.join("mechanisms");
    let entries = std::fs::read_dir(&dir).map_err(|e| ImportError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "mod"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads a BluePyOpt cell-model folder of either layout.
pub fn read_recipe(folder: &Path, options: &ImportOptions) -> Result<Recipe, ImportError> {
    let mut recipe = if folder.join("config/recipes.json").exists() {
        read_recipe_layout(folder, options)?
    } else if folder.join("config/parameters.json").exists() {
        read_l5pc_layout(folder, options)?
    } else {
        return Err(ImportError::Layout {
            path: folder.display().to_string(),
        });
    };
    if let Some(path) = &options.params {
        let values: Ordered<Value> = read_json(path)?;
        recipe.free_values.clear();
        for (key, v) in &values.0 {
            recipe.free_values.insert(key.clone(), number(path, key, v)?);
        }
        recipe.free_values_source = path.display().to_string();
    }
    Ok(recipe)
}

// ---- the L5PC layout ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct L5pcParameter {
    param_name: String,
    #[serde(rename = "type")]
    kind: String,
    sectionlist: Option<String>,
    dist_type: Option<String>,
    dist: Option<String>,
    value: Option<f64>,
    bounds: Option<[f64; 2]>,
    mech: Option<String>,
    mech_param: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct L5pcProtocol {
    stimuli: Vec<L5pcStimulus>,
    #[serde(default)]
    extra_recordings: Vec<L5pcRecording>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct L5pcStimulus {
    delay: f64,
    amp: f64,
    duration: f64,
    totduration: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct L5pcRecording {
    var: String,
    somadistance: f64,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    seclist_name: String,
    // Arbor's branch numbers, for BluePyOpt's Arbor export: not needed here.
    #[serde(default)]
    #[allow(dead_code)]
    arbor_branch_index: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    arbor_branch_index_with_replaced_axon: Option<u64>,
}

fn read_l5pc_layout(folder: &Path, options: &ImportOptions) -> Result<Recipe, ImportError> {
    let config = folder.join("config");
    let mechanisms_path = config.join("mechanisms.json");
    let mechanisms: Ordered<Vec<String>> = read_json(&mechanisms_path)?;
    let mut inserts = Vec::new();
    for (list, suffixes) in &mechanisms.0 {
        let tags = tags_of(&mechanisms_path, list, list)?;
        inserts.extend(suffixes.iter().map(|s| (tags.clone(), s.clone())));
    }
    let parameters_path = config.join("parameters.json");
    let entries: Vec<L5pcParameter> = read_json(&parameters_path)?;
    let (mut globals, mut parameters) = (Vec::new(), Vec::new());
    for e in entries {
        let key = match &e.sectionlist {
            Some(list) => format!("{}.{list}", e.param_name),
            None => e.param_name.clone(),
        };
        let given = match (e.value, e.bounds) {
            (Some(v), _) => Given::Fixed(v),
            (None, Some([lower, upper])) => Given::Free { lower, upper },
            (None, None) => return Err(invalid(&parameters_path, &key, "neither `value` nor `bounds`")),
        };
        match e.kind.as_str() {
            "global" => match given {
                Given::Fixed(v) => globals.push((e.param_name.clone(), v)),
                Given::Free { .. } => {
                    return Err(invalid(
                        &parameters_path,
                        &key,
                        "a free global parameter cannot be imported",
                    ));
                }
            },
            "section" | "range" => {
                let list = e
                    .sectionlist
                    .clone()
                    .ok_or_else(|| invalid(&parameters_path, &key, "no `sectionlist`"))?;
                let distribution = match e.dist_type.as_deref() {
                    None | Some("uniform") => None,
                    Some("exp") if e.kind == "range" => Some(
                        e.dist
                            .clone()
                            .ok_or_else(|| invalid(&parameters_path, &key, "`dist_type` exp needs a `dist`"))?,
                    ),
                    Some("exp") => {
                        return Err(invalid(
                            &parameters_path,
                            &key,
                            "a distance distribution on a `section` parameter (BluePyOpt itself fails on it)",
                        ));
                    }
                    Some(other) => {
                        return Err(invalid(
                            &parameters_path,
                            &key,
                            format!("unknown `dist_type` `{other}` (BluePyOpt reads `uniform` and `exp`)"),
                        ));
                    }
                };
                parameters.push(ParameterEntry {
                    name: e.param_name.clone(),
                    tags: tags_of(&parameters_path, &key, &list)?,
                    list,
                    given,
                    distribution,
                    mechanism: e.mech.clone().zip(e.mech_param.clone()),
                    file: parameters_path.clone(),
                });
            }
            other => {
                return Err(invalid(
                    &parameters_path,
                    &key,
                    format!("unknown `type` `{other}` (global, section or range)"),
                ));
            }
        }
    }
    let protocols_path = config.join("protocols.json");
    let raw: Ordered<L5pcProtocol> = read_json(&protocols_path)?;
    let mut protocols = Vec::new();
    for (name, p) in raw.0 {
        let pulses = p
            .stimuli
            .iter()
            .map(|s| Pulse {
                delay: s.delay,
                duration: s.duration,
                amplitude: s.amp,
                total_duration: s.totduration,
            })
            .collect();
        let mut recordings = Vec::new();
        for r in p.extra_recordings {
            let key = format!("{name}.{}", r.name);
            if r.kind != "somadistance" || r.var != "v" {
                return Err(invalid(
                    &protocols_path,
                    &key,
                    format!(
                        "a recording of `{}` of type `{}`; rall imports voltage recordings of type somadistance",
                        r.var, r.kind
                    ),
                ));
            }
            let tags = tags_of(&protocols_path, &key, &r.seclist_name)?;
            let [tag] = tags[..] else {
                return Err(invalid(
                    &protocols_path,
                    &key,
                    "a somadistance recording in a union of lists",
                ));
            };
            recordings.push(DistanceRecording {
                name: r.name,
                distance_um: r.somadistance,
                tag,
            });
        }
        protocols.push(Protocol {
            name,
            pulses,
            recordings,
        });
    }
    // The morphology and the release values are named in the example's Python, not in its JSON.
    let morphology_dir = folder.join("morphology");
    let morphology = single_morphology(&morphology_dir)?;
    let (free_values, free_values_source) = if options.params.is_some() {
        (HashMap::new(), String::new())
    } else {
        let path = folder.join("l5pc_analysis.py");
        (release_params(&path)?, format!("{} (release_params)", path.display()))
    };
    Ok(Recipe {
        folder: folder.to_path_buf(),
        etype: None,
        morphology,
        mechanism_files: mod_files(folder)?,
        inserts,
        globals,
        parameters,
        protocols,
        free_values,
        free_values_source,
    })
}

/// The one `.asc` or `.swc` file of a folder.
fn single_morphology(dir: &Path) -> Result<PathBuf, ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImportError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("asc") || e.eq_ignore_ascii_case("swc"))
        })
        .collect();
    files.sort();
    match files.len() {
        1 => Ok(files.remove(0)),
        n => Err(ImportError::Invalid {
            path: dir.display().to_string(),
            key: "morphology".into(),
            message: format!("expected one .asc or .swc file, found {n}"),
        }),
    }
}

/// The literal dict `release_params = { 'name.list': number, ... }` of the L5PC example's analysis script.
fn release_params(path: &Path) -> Result<HashMap<String, f64>, ImportError> {
    let text = read_text(path)?;
    let bad = |message: &str| invalid(path, "release_params", message);
    let start = text
        .find("release_params = {")
        .or_else(|| text.find("release_params={"))
        .ok_or_else(|| bad("no `release_params = {...}` dict (give the values with --params)"))?;
    let body_start = start + text[start..].find('{').unwrap() + 1;
    let body_end = body_start
        + text[body_start..]
            .find('}')
            .ok_or_else(|| bad("the dict is not closed"))?;
    let mut values = HashMap::new();
    for item in text[body_start..body_end].split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (key, value) = item
            .split_once(':')
            .ok_or_else(|| bad(&format!("expected `'name': value`, found `{item}`")))?;
        let key = key.trim().trim_matches(|c| c == '\'' || c == '"');
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| bad(&format!("`{key}`: `{}` is not a number", value.trim())))?;
        values.insert(key.to_string(), value);
    }
    Ok(values)
}

// ---- the recipe layout (thalamocortical example) ----

#[derive(Deserialize)]
struct RecipeEntry {
    morph_path: String,
    morphology: String,
    params: String,
    protocol: String,
    #[allow(dead_code)]
    features: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsFile {
    mechanisms: Ordered<MechanismList>,
    #[serde(default)]
    distributions: Ordered<Distribution>,
    parameters: Ordered<Value>,
}

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MechanismList {
    mech: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Distribution {
    fun: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeParameter {
    name: String,
    val: Value,
    dist: Option<String>,
}

fn read_recipe_layout(folder: &Path, options: &ImportOptions) -> Result<Recipe, ImportError> {
    let recipes_path = folder.join("config/recipes.json");
    let recipes: Ordered<RecipeEntry> = read_json(&recipes_path)?;
    let etype = match (&options.etype, recipes.0.len()) {
        (Some(e), _) => e.clone(),
        (None, 1) => recipes.0[0].0.clone(),
        (None, _) => {
            return Err(invalid(
                &recipes_path,
                "etype",
                format!(
                    "several e-types; choose one with --etype ({})",
                    recipes.keys().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    };
    let entry = recipes.get(&etype).ok_or_else(|| {
        invalid(
            &recipes_path,
            &etype,
            format!(
                "no such e-type (the file has: {})",
                recipes.keys().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let params_path = folder.join(&entry.params);
    let params: ParamsFile = read_json(&params_path)?;
    let mut inserts = Vec::new();
    for (list, m) in &params.mechanisms.0 {
        let tags = tags_of(&params_path, list, list)?;
        inserts.extend(m.mech.iter().map(|s| (tags.clone(), s.clone())));
    }
    let (mut globals, mut parameters) = (Vec::new(), Vec::new());
    for (list, entries) in &params.parameters.0 {
        if list.starts_with("__") {
            continue; // "__comment"
        }
        let entries: Vec<RecipeParameter> = serde_json::from_value(entries.clone()).map_err(|e| ImportError::Json {
            path: params_path.display().to_string(),
            message: format!("parameters.{list}: {e}"),
        })?;
        for e in entries {
            let key = format!("{}.{list}", e.name);
            let given = match &e.val {
                Value::Array(bounds) if bounds.len() == 2 => Given::Free {
                    lower: number(&params_path, &key, &bounds[0])?,
                    upper: number(&params_path, &key, &bounds[1])?,
                },
                v => Given::Fixed(number(&params_path, &key, v)?),
            };
            if list == "global" {
                match given {
                    Given::Fixed(v) => globals.push((e.name.clone(), v)),
                    Given::Free { .. } => {
                        return Err(invalid(
                            &params_path,
                            &key,
                            "a free global parameter cannot be imported",
                        ));
                    }
                }
                continue;
            }
            let distribution = match e.dist.as_deref() {
                None | Some("uniform") => None,
                Some(name) => Some(
                    params
                        .distributions
                        .get(name)
                        .ok_or_else(|| invalid(&params_path, &key, format!("no distribution `{name}`")))?
                        .fun
                        .clone(),
                ),
            };
            parameters.push(ParameterEntry {
                name: e.name.clone(),
                tags: tags_of(&params_path, &key, list)?,
                list: list.clone(),
                given,
                distribution,
                mechanism: None,
                file: params_path.clone(),
            });
        }
    }
    let protocols_path = folder.join(&entry.protocol);
    let protocols = read_step_protocols(&protocols_path)?;
    let (free_values, free_values_source) = match (options.row, &options.params) {
        (_, Some(_)) => (HashMap::new(), String::new()),
        (Some(row), None) => {
            let csv = folder.join(format!("results/{etype}_params.csv"));
            (
                csv_row_values(&csv, row, &parameters)?,
                format!("{} row {row}", csv.display()),
            )
        }
        (None, None) => {
            return Err(invalid(
                &recipes_path,
                &etype,
                format!(
                    "the free parameters need values: --row N picks an optimised model of results/{etype}_params.csv \
                     (the example's notebook shows row 62 of cAD_ltb and 78 of cNAD_ltb), or --params FILE.json"
                ),
            ));
        }
    };
    Ok(Recipe {
        folder: folder.to_path_buf(),
        etype: Some(etype),
        morphology: folder.join(&entry.morph_path).join(&entry.morphology),
        mechanism_files: mod_files(folder)?,
        inserts,
        globals,
        parameters,
        protocols,
        free_values,
        free_values_source,
    })
}

/// `{name: {"type": "StepProtocol", "stimuli": {"step": {...}, "holding": {...}}}}`.
fn read_step_protocols(path: &Path) -> Result<Vec<Protocol>, ImportError> {
    let raw: Ordered<Value> = read_json(path)?;
    let mut protocols = Vec::new();
    for (name, p) in &raw.0 {
        if name.starts_with("__") {
            continue;
        }
        match p.get("type").and_then(Value::as_str) {
            Some("StepProtocol") => {}
            other => {
                return Err(invalid(
                    path,
                    name,
                    format!("protocol type {other:?}: rall imports StepProtocol"),
                ));
            }
        }
        let mut pulses = Vec::new();
        for part in ["step", "holding"] {
            let Some(s) = p.get("stimuli").and_then(|s| s.get(part)) else {
                continue;
            };
            let field = |k: &str| {
                s.get(k)
                    .ok_or_else(|| invalid(path, &format!("{name}.{part}"), format!("no `{k}`")))
                    .and_then(|v| number(path, &format!("{name}.{part}.{k}"), v))
            };
            pulses.push(Pulse {
                delay: field("delay")?,
                duration: field("duration")?,
                amplitude: field("amp")?,
                total_duration: field("totduration")?,
            });
        }
        if pulses.is_empty() {
            return Err(invalid(path, name, "no `stimuli.step`"));
        }
        protocols.push(Protocol {
            name: name.clone(),
            pulses,
            recordings: Vec::new(),
        });
    }
    Ok(protocols)
}

/// One row of an optimisation's results (no header; one value per free parameter, in file order).
fn csv_row_values(path: &Path, row: usize, parameters: &[ParameterEntry]) -> Result<HashMap<String, f64>, ImportError> {
    let text = read_text(path)?;
    let free: Vec<String> = parameters
        .iter()
        .filter(|p| matches!(p.given, Given::Free { .. }))
        .map(|p| format!("{}.{}", p.name, p.list))
        .collect();
    let rows: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let line = rows.get(row).ok_or_else(|| {
        invalid(
            path,
            &format!("row {row}"),
            format!(
                "the file has {} rows (0 to {})",
                rows.len(),
                rows.len().saturating_sub(1)
            ),
        )
    })?;
    let values: Vec<&str> = line.split(',').map(str::trim).collect();
    if values.len() != free.len() {
        return Err(invalid(
            path,
            &format!("row {row}"),
            format!("{} values for {} free parameters", values.len(), free.len()),
        ));
    }
    free.into_iter()
        .zip(values)
        .map(|(name, v)| {
            let x: f64 = v
                .trim_matches('"')
                .parse()
                .map_err(|_| invalid(path, &format!("row {row}"), format!("`{v}` is not a number")))?;
            Ok((name, x))
        })
        .collect()
}
