//! POINTER variables of NMODL mechanisms at run time: bindings in (the membrane potential of a CV of the cell,
//! or a value the cell gives each step), the POINTER slots' values and voltage tangents out, loaded before each
//! kernel runs as NEURON reads through a pointer when the mechanism's code runs.
//!
//! POINTERs bound to a voltage are read only: a mechanism whose blocks assign such a POINTER is refused when it
//! is bound, so nothing it writes is silently lost. A POINTER bound to a network connection's weight (PyNN's
//! weight adjusters write a NetCon's weight through one) is the weight's storage, which NET_RECEIVE may change.

use super::nmodl::NmodlMechanism;
use crate::discretize::CvIndex;
use rall_nmodl::ir::{Advance, MechanismIr, SlotId, SlotKind};

/// Where one instance's POINTER reads from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum PointerBinding {
    Unbound,
    /// The membrane potential of a CV of this cell.
    Voltage(CvIndex),
    /// A value set by the cell ([`crate::mechanism::Mechanism::set_pointer`]), e.g. another cell's voltage.
    Given,
    /// A connection's weight, held in the slot: set by the cell at initialisation, changed by NET_RECEIVE.
    Weight,
}

/// One POINTER slot and the binding of each instance.
#[derive(Clone, Debug)]
pub(super) struct PointerColumn {
    pub slot: SlotId,
    pub bindings: Vec<PointerBinding>,
}

/// The POINTER slots of a mechanism with `n` instances, all unbound.
pub(super) fn pointer_columns(ir: &MechanismIr, n: usize) -> Vec<PointerColumn> {
    ir.slots_where(|k| *k == SlotKind::Pointer)
        .map(|(slot, _)| PointerColumn {
            slot,
            bindings: vec![PointerBinding::Unbound; n],
        })
        .collect()
}

/// The block that assigns `slot`, if any.
fn block_writing(ir: &MechanismIr, slot: SlotId) -> Option<&'static str> {
    let writes = |outputs: &[(SlotId, _)]| outputs.iter().any(|(s, _)| *s == slot);
    if writes(&ir.initial.outputs) {
        return Some("INITIAL");
    }
    if writes(&ir.current.outputs) {
        return Some("BREAKPOINT");
    }
    let advance = match &ir.advance {
        Advance::None => false,
        Advance::Explicit(k) => writes(&k.outputs),
        Advance::Implicit { states, assigned, .. } => states.contains(&slot) || writes(assigned),
    };
    if advance {
        return Some("the SOLVEd block");
    }
    let receive = ir
        .net_receive
        .as_ref()
        .is_some_and(|r| writes(&r.kernel.outputs) || r.initial.as_ref().is_some_and(|k| writes(&k.outputs)));
    receive.then_some("NET_RECEIVE")
}

impl NmodlMechanism {
    /// Binds POINTER `pointer` of `instance` to CV `cv`'s membrane potential (`Some`) or to a given value;
    /// returns the handle [`NmodlMechanism::set_pointer_value`] takes.
    pub(super) fn bind_pointer_to(
        &mut self,
        pointer: &str,
        instance: usize,
        cv: Option<CvIndex>,
    ) -> Result<usize, String> {
        let name = &self.ir.info.name;
        let Some(handle) = self
            .pointers
            .iter()
            .position(|c| self.ir.slots[c.slot as usize].name == pointer)
        else {
            let names: Vec<&str> = self.ir.info.pointers.iter().map(String::as_str).collect();
            return Err(if names.is_empty() {
                format!("`{name}` has no POINTER, so it has no `{pointer}` to bind")
            } else {
                format!(
                    "`{name}` has no POINTER `{pointer}` (its POINTERs: {})",
                    names.join(", ")
                )
            });
        };
        if let Some(block) = block_writing(&self.ir, self.pointers[handle].slot) {
            return Err(format!(
                "`{name}` assigns its POINTER `{pointer}` in {block}; rall binds POINTERs for reading only \
                 (a membrane potential), so this mechanism cannot run yet"
            ));
        }
        let slot = self.pointers[handle].slot;
        if cv.is_none()
            && super::nmodl::KernelNodes::of(&self.ir)
                .advance
                .iter()
                .any(|&node| self.ir.graph.depends_on(node, slot))
        {
            return Err(format!(
                "`{name}` reads its POINTER `{pointer}` in its state update; a POINTER to another cell gets that \
                 cell's voltage at the start of each step only, so this is not supported yet"
            ));
        }
        let Some(b) = self.pointers[handle].bindings.get_mut(instance) else {
            return Err(format!("internal: `{name}` has no instance {instance}"));
        };
        *b = cv.map_or(PointerBinding::Given, PointerBinding::Voltage);
        Ok(handle)
    }

    /// Binds POINTER `pointer` of `instance` as the storage of a connection's weight; only NET_RECEIVE may
    /// assign it.
    pub(super) fn bind_weight_pointer_to(&mut self, pointer: &str, instance: usize) -> Result<usize, String> {
        let name = &self.ir.info.name;
        let Some(handle) = self
            .pointers
            .iter()
            .position(|c| self.ir.slots[c.slot as usize].name == pointer)
        else {
            return Err(format!(
                "`{name}` has no POINTER `{pointer}` to hold a connection's weight (its POINTERs: {})",
                self.ir.info.pointers.join(", ")
            ));
        };
        match block_writing(&self.ir, self.pointers[handle].slot) {
            None | Some("NET_RECEIVE") => {}
            Some(block) => {
                return Err(format!(
                    "`{name}` assigns its POINTER `{pointer}` in {block}; a connection's weight may change only \
                     in NET_RECEIVE"
                ));
            }
        }
        let Some(b) = self.pointers[handle].bindings.get_mut(instance) else {
            return Err(format!("internal: `{name}` has no instance {instance}"));
        };
        *b = PointerBinding::Weight;
        Ok(handle)
    }

    pub(super) fn set_pointer_value(&mut self, handle: usize, instance: usize, value: f64) {
        let slot = self.pointers[handle].slot as usize;
        self.columns[slot][instance] = value;
    }

    /// The first POINTER of an instance left unbound: `(pointer, instance)`.
    pub(super) fn first_unbound_pointer(&self) -> Option<(String, usize)> {
        self.pointers.iter().find_map(|c| {
            let k = c.bindings.iter().position(|b| *b == PointerBinding::Unbound)?;
            Some((self.ir.slots[c.slot as usize].name.clone(), k))
        })
    }

    /// Copies the bound membrane potentials into the POINTER slots.
    pub(super) fn load_pointers(&mut self, v_mv: &[f64]) {
        for c in &self.pointers {
            let column = &mut self.columns[c.slot as usize];
            for (k, b) in c.bindings.iter().enumerate() {
                if let PointerBinding::Voltage(cv) = *b {
                    column[k] = v_mv[cv];
                }
            }
        }
    }

    /// Copies the bound voltages' tangents (lane-major over CVs) into the POINTER slots' tangent columns.
    pub(super) fn load_pointer_tangents(&mut self, v_dot: &[f64]) {
        let n = self.width();
        let Some(t) = self.tangents.as_mut() else { return };
        let cvs = v_dot.len() / t.lanes.max(1);
        for c in &self.pointers {
            let column = &mut t.columns[c.slot as usize];
            for p in 0..t.lanes {
                for (k, b) in c.bindings.iter().enumerate() {
                    if let PointerBinding::Voltage(cv) = *b {
                        column[p * n + k] = v_dot[p * cvs + cv];
                    }
                }
            }
        }
    }

    /// Sensitivities flow through POINTERs bound to this cell's voltages only.
    pub(super) fn check_pointer_tangents(&self) -> Result<(), String> {
        for c in &self.pointers {
            if c.bindings.contains(&PointerBinding::Weight) {
                return Err(format!(
                    "`{}`: sensitivities through an adjusted connection weight (the POINTER `{}`) are not \
                     supported yet",
                    self.ir.info.name, self.ir.slots[c.slot as usize].name
                ));
            }
            if c.bindings.contains(&PointerBinding::Given) {
                return Err(format!(
                    "`{}`: sensitivities through the POINTER `{}`, bound to another cell's voltage, are not \
                     supported yet",
                    self.ir.info.name, self.ir.slots[c.slot as usize].name
                ));
            }
        }
        Ok(())
    }
}
