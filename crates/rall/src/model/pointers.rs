//! POINTERs of a model file: a `[[synapse]]`'s `pointers` table in, each POINTER bound to a membrane potential
//! on its own cell or on another `[[cell]]`, errors naming file, line and key.

use super::build::{Context, ModelError};
use super::spec::{CellSpec, SynapseSpec};
use crate::Cell;

impl Context<'_> {
    /// Every key of `pointers` names a POINTER of the synapse's mechanism.
    pub(super) fn check_pointer_names(&self, syn: &SynapseSpec) -> Result<(), ModelError> {
        let mechanism = syn.mechanism.get_ref();
        let ir = &self
            .catalogue
            .get(mechanism)
            .map_err(|e| self.error(Some(syn.mechanism.span()), &e))?
            .ir;
        for key in syn.pointers.keys() {
            if !ir.info.pointers.contains(key.get_ref()) {
                let message = if ir.info.pointers.is_empty() {
                    format!("`{mechanism}` has no POINTER")
                } else {
                    let hint = crate::suggest::did_you_mean(key.get_ref(), ir.info.pointers.iter().map(String::as_str));
                    format!(
                        "`{mechanism}` has no POINTER `{}` (its POINTERs: {}){hint}",
                        key.get_ref(),
                        ir.info.pointers.join(", ")
                    )
                };
                return Err(self.error(Some(key.span()), &message));
            }
        }
        Ok(())
    }

    /// Binds the POINTERs that read another cell's voltage, once every cell is built (`specs[i]` built
    /// `cells[i]`, and each `[[synapse]]` made one placement, in order).
    pub(super) fn bind_pointers_between_cells(
        &self,
        specs: &[CellSpec],
        cells: &mut [(String, Cell)],
    ) -> Result<(), ModelError> {
        for (index, spec) in specs.iter().enumerate() {
            for (k, syn) in spec.synapse.iter().enumerate() {
                for (pointer, target) in &syn.pointers {
                    let Some(other) = &target.cell else { continue };
                    let Some(source) = cells.iter().position(|(n, _)| n == other.get_ref()) else {
                        let hint = crate::suggest::did_you_mean(other.get_ref(), cells.iter().map(|(n, _)| n.as_str()));
                        return Err(self.error(
                            Some(other.span()),
                            &format!("no [[cell]] is named `{}`{hint}", other.get_ref()),
                        ));
                    };
                    let at = cells[source]
                        .1
                        .locset(target.at.get_ref())
                        .map_err(|e| self.cell_error(target.at.span(), e))?;
                    let [at] = at.locations[..] else {
                        let message = format!(
                            "`{}` names {} locations on cell `{}`; a POINTER reads one",
                            target.at.get_ref(),
                            at.locations.len(),
                            other.get_ref()
                        );
                        return Err(self.error(Some(target.at.span()), &message));
                    };
                    cells[index].1.decor.synapses[k]
                        .pointers
                        .push(crate::cell::PointerBinding {
                            pointer: pointer.get_ref().clone(),
                            target: crate::cell::PointerTarget::OtherCell {
                                cell: other.get_ref().clone(),
                                at,
                            },
                        });
                }
            }
        }
        Ok(())
    }
}
