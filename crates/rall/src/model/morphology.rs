//! The `[morphology]` table of a model file: a file name (SWC, Neurolucida ASC or NeuroML2) or hand-built cylinders,
//! and the edits to apply (BluePyOpt's axon replacement), in; a [`Morphology`] out.

use super::build::{Context, ModelError};
use super::spec::MorphologySpec;
use crate::morphology::{
    Attachment, AxonStub, Morphology, MorphologyBuilder, Point3, load_asc, load_neuroml, load_swc,
};
use toml::Spanned;

impl Context<'_> {
    pub(super) fn morphology(&self, spec: &Spanned<MorphologySpec>) -> Result<Morphology, ModelError> {
        let m = spec.get_ref();
        let file = match (&m.file, &m.swc) {
            (Some(_), Some(swc)) => {
                return Err(self.error(Some(swc.span()), "give the morphology as `file` or as `swc`, not both"));
            }
            (f, s) => f.as_ref().or(s.as_ref()),
        };
        let morphology = match (file, m.cylinder.is_empty()) {
            (Some(file), true) => self.morphology_file(file)?,
            (None, false) => self.cylinders(spec)?,
            _ => {
                return Err(self.error(
                    Some(spec.span()),
                    "[morphology] needs either `file = \"cell.swc\"` (or `.asc`, `.nml`) or a list of [[morphology.cylinder]]",
                ));
            }
        };
        let morphology = match &m.delete {
            None => morphology,
            Some(text) => self.delete_subtrees(morphology, text)?,
        };
        let Some(stub) = &m.replace_axon else {
            return Ok(morphology);
        };
        let s = stub.get_ref();
        let stub_spec = AxonStub {
            length_um: s.length.unwrap_or(AxonStub::default().length_um),
            nseg_frequency_um: s.nseg_frequency.unwrap_or(AxonStub::default().nseg_frequency_um),
        };
        if !(stub_spec.length_um > 0.0 && stub_spec.nseg_frequency_um > 0.0) {
            return Err(self.error(Some(stub.span()), "`length` and `nseg_frequency` must be positive (µm)"));
        }
        morphology
            .replace_axon(&stub_spec)
            .map(|r| r.morphology)
            .map_err(|e| self.error(Some(stub.span()), &format!("axon replacement: {e}")))
    }

    /// `delete = "(tag 2)"`: the branches that lie wholly in the region go, with their subtrees.
    fn delete_subtrees(&self, morphology: Morphology, text: &Spanned<String>) -> Result<Morphology, ModelError> {
        let region = crate::labels::LabelDictionary::default()
            .region(&morphology, text.get_ref())
            .map_err(|e| self.label_error(text.span(), &e))?;
        // `covered_length` is the fraction of the branch the region covers.
        let whole = |b: usize| region.covered_length(b, 0.0, 1.0) >= 1.0 - 1e-12;
        morphology
            .without_subtrees(&whole)
            .map_err(|e| self.error(Some(text.span()), &format!("`delete`: {e}")))
    }

    fn morphology_file(&self, file: &Spanned<String>) -> Result<Morphology, ModelError> {
        let path = self.base.join(file.get_ref());
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let loaded = match extension.as_str() {
            "swc" => load_swc(&path).map_err(|e| e.to_string()),
            "asc" => load_asc(&path).map_err(|e| e.to_string()),
            "nml" => load_neuroml(&path).map_err(|e| e.to_string()),
            other => Err(format!(
                "`{}`: unknown morphology format `.{other}`; rall reads `.swc`, Neurolucida `.asc` and NeuroML2 `.nml`",
                file.get_ref()
            )),
        };
        loaded.map_err(|e| self.error(Some(file.span()), &e))
    }

    fn cylinders(&self, spec: &Spanned<MorphologySpec>) -> Result<Morphology, ModelError> {
        let m = spec.get_ref();
        let mut builder = MorphologyBuilder::new();
        // Cylinders run along x; a child starts where it attaches on its parent.
        let mut starts: Vec<(Point3, f64)> = Vec::new();
        for (i, c) in m.cylinder.iter().enumerate() {
            let spec = c.get_ref();
            let positive = |x: f64| x.is_finite() && x > 0.0;
            if !positive(spec.length) || !positive(spec.diameter) {
                return Err(self.error(
                    Some(c.span()),
                    &format!(
                        "cylinder {i} has length {} µm and diameter {} µm; both must be positive and finite",
                        spec.length, spec.diameter
                    ),
                ));
            }
            if !(0.0..=1.0).contains(&spec.at) {
                return Err(self.error(
                    Some(c.span()),
                    &format!(
                        "cylinder {i} attaches at {} of its parent; expected a position in [0, 1]",
                        spec.at
                    ),
                ));
            }
            let (attachment, start) = match spec.parent {
                None if i == 0 => (None, Point3::new(0.0, 0.0, 0.0)),
                None => {
                    return Err(self.error(Some(c.span()), "every cylinder after the first needs a `parent`"));
                }
                Some(p) if p < i => {
                    let (s, len) = starts[p];
                    (
                        Some(Attachment {
                            parent: p,
                            pos: spec.at,
                        }),
                        Point3::new(s.x + spec.at * len, s.y, s.z),
                    )
                }
                Some(p) => {
                    return Err(self.error(
                        Some(c.span()),
                        &format!("parent {p} must be an earlier cylinder (0 to {})", i.max(1) - 1),
                    ));
                }
            };
            builder
                .add_cylinder(attachment, start, spec.length, 0.5 * spec.diameter, spec.tag)
                .map_err(|e| self.error(Some(c.span()), &e.to_string()))?;
            starts.push((start, spec.length));
        }
        builder
            .finish()
            .map_err(|e| self.error(Some(spec.span()), &e.to_string()))
    }
}
