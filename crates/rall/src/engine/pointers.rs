//! POINTER bindings of a cell: the layout's bindings in, each mechanism instance's POINTER bound (a voltage of
//! this cell, read by the mechanism itself), the list of those another cell's voltage feeds, and the POINTERs
//! that hold a network connection's weight out.

use super::EngineError;
use crate::cell::{PointerLayout, PointerSource};
use crate::labels::Location;
use crate::mechanism::Mechanism;

/// A POINTER fed from another cell: the simulation sets it to that cell's voltage before every step.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalPointer {
    pub mechanism: usize,
    pub instance: usize,
    /// The handle the mechanism gave when it was bound.
    pub handle: usize,
    /// The source cell's name and location.
    pub cell: String,
    pub at: Location,
    pub pointer: String,
}

/// A POINTER that holds the weight of a network connection ending on this cell (a weight adjuster's).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightPointer {
    pub connection: usize,
    pub mechanism: usize,
    pub instance: usize,
    pub handle: usize,
    pub pointer: String,
    /// The weight every initialisation starts from.
    pub initial: f64,
}

/// Binds every POINTER of the layout; fails on a POINTER left unbound or one that cannot be bound.
pub(super) fn bind_pointers(
    pointers: &[PointerLayout],
    mechanisms: &mut [Box<dyn Mechanism>],
) -> Result<(Vec<ExternalPointer>, Vec<WeightPointer>), EngineError> {
    let (mut external, mut weights) = (Vec::new(), Vec::new());
    for p in pointers {
        let m = &mut mechanisms[p.mechanism];
        let cv = match &p.source {
            PointerSource::Voltage(cv) => Some(*cv),
            PointerSource::OtherCell { .. } => None,
            PointerSource::ConnectionWeight { connection, weight } => {
                let handle = m
                    .bind_weight_pointer(&p.pointer, p.instance)
                    .map_err(EngineError::Mechanism)?;
                weights.push(WeightPointer {
                    connection: *connection,
                    mechanism: p.mechanism,
                    instance: p.instance,
                    handle,
                    pointer: p.pointer.clone(),
                    initial: *weight,
                });
                continue;
            }
        };
        let handle = m
            .bind_pointer(&p.pointer, p.instance, cv)
            .map_err(EngineError::Mechanism)?;
        if let PointerSource::OtherCell { cell, at } = &p.source {
            external.push(ExternalPointer {
                mechanism: p.mechanism,
                instance: p.instance,
                handle,
                cell: cell.clone(),
                at: *at,
                pointer: p.pointer.clone(),
            });
        }
    }
    for m in mechanisms.iter() {
        if let Some((pointer, instance)) = m.unbound_pointer() {
            return Err(EngineError::Mechanism(format!(
                "the POINTER `{pointer}` of `{}` (instance {instance}) is not bound: give the synapse \
                 `pointers = {{ {pointer} = {{ at = \"(location ...)\" }} }}` (and `cell = \"...\"` for a voltage of \
                 another cell)",
                m.name()
            )));
        }
    }
    Ok((external, weights))
}

/// The weight a weight pointer holds now.
pub(super) fn current_weight(w: &WeightPointer, mechanisms: &[Box<dyn Mechanism>]) -> f64 {
    mechanisms[w.mechanism]
        .variable(&w.pointer)
        .map_or(f64::NAN, |(_, values)| values[w.instance])
}
