//! `rall import bluepyopt`: a BluePyOpt cell-model folder in, a rall model file that runs the same cell from
//! the original files out (checked by loading it before it is written).

use clap::{Args, Subcommand};
use rall::import::{ImportOptions, import_bluepyopt};
use rall::mechanism::Catalogue;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ImportFrom {
    /// A BluePyOpt cell-model folder: the L5PC layout (config/mechanisms.json, parameters.json,
    /// protocols.json) or the recipe layout of the thalamocortical example (config/recipes.json).
    Bluepyopt(BluepyoptArgs),
}

#[derive(Args)]
pub struct BluepyoptArgs {
    /// The folder (e.g. BluePyOpt's examples/l5pc).
    pub folder: PathBuf,
    /// The model file to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The protocol whose stimuli and recordings the model gets (default: the first of the file).
    #[arg(long)]
    pub protocol: Option<String>,
    /// The e-type of a recipe folder (e.g. cAD_ltb).
    #[arg(long)]
    pub etype: Option<String>,
    /// The row of results/<etype>_params.csv with the free parameters' values (recipe folders).
    #[arg(long)]
    pub row: Option<usize>,
    /// A JSON object {"name.sectionlist": value} with the free parameters' values.
    #[arg(long)]
    pub params: Option<PathBuf>,
}

pub fn import(from: &ImportFrom) -> Result<(), String> {
    let ImportFrom::Bluepyopt(args) = from;
    let options = ImportOptions {
        protocol: args.protocol.clone(),
        etype: args.etype.clone(),
        row: args.row,
        params: args.params.clone(),
    };
    let out_dir = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let text = import_bluepyopt(&args.folder, &options, &out_dir).map_err(|e| e.to_string())?;
    std::fs::write(&args.output, &text).map_err(|e| format!("{}: {e}", args.output.display()))?;
    // What was written must load: otherwise say so rather than leave a broken file unannounced.
    let model = rall::model::load_model(&args.output, &Catalogue::default())
        .map_err(|e| format!("the imported model does not load (a bug in the importer): {e}"))?;
    out!(
        "wrote {} ({} mechanisms painted, {} ms)",
        args.output.display(),
        text.matches("[[mechanism]]").count(),
        model.options.t_stop_ms
    );
    Ok(())
}
