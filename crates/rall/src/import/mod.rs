//! Other tools' cell models in, rall model files out: `rall import bluepyopt` reads a BluePyOpt cell-model
//! folder ([`bluepyopt`]) and writes the model file that runs the same cell from the original files
//! ([`model_text`]).

pub mod bluepyopt;
pub mod model_text;
mod ordered_json;

pub use bluepyopt::{ImportOptions, Recipe, read_recipe};
pub use model_text::{model_text, relative_path, soma_distance_location};

/// Why a folder could not be imported; each names the file (and key) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: {message}")]
    Json { path: String, message: String },
    #[error("{path}: `{key}`: {message}")]
    Invalid { path: String, key: String, message: String },
    #[error(
        "{path}: not a BluePyOpt cell-model folder (expected config/parameters.json, mechanisms.json and \
         protocols.json as in BluePyOpt's examples/l5pc, or config/recipes.json as in examples/thalamocortical-cell)"
    )]
    Layout { path: String },
    #[error("mechanism `{suffix}`: {message}")]
    Mechanism { suffix: String, message: String },
    #[error("{path}: {message}")]
    Morphology { path: String, message: String },
}

/// Imports a BluePyOpt folder: the model file's text for `options.protocol` (default: the first protocol),
/// to be written in `out_dir`.
pub fn import_bluepyopt(
    folder: &std::path::Path,
    options: &ImportOptions,
    out_dir: &std::path::Path,
) -> Result<String, ImportError> {
    let recipe = read_recipe(folder, options)?;
    let protocol = match &options.protocol {
        Some(p) => p.clone(),
        None => recipe
            .protocols
            .first()
            .map(|p| p.name.clone())
            .ok_or_else(|| ImportError::Invalid {
                path: folder.display().to_string(),
                key: "protocols".into(),
                message: "no protocol".into(),
            })?,
    };
    model_text(&recipe, &protocol, out_dir)
}
