//! Gap junctions of a network in a model file: `[[gap_junction]]` tables (two populations, a pairing rule,
//! the location on each cell, the conductance) in; per pair of cells two point processes, each reading the
//! other end's voltage through its POINTER, added to the network's cells; errors naming file, line and key.

use super::build::{Context, ModelError};
use super::network::{Groups, RuleFields};
use super::spec::GapJunctionToml;
use crate::cell::{PointerBinding, PointerTarget, SynapsePlacement};
use crate::labels::Location;
use crate::network::{Network, expand};
use std::collections::BTreeSet;
use toml::Spanned;

impl Context<'_> {
    /// Couples the pairs of one `[[gap_junction]]` table. A pair listed both ways, or twice, is one junction.
    pub(super) fn gap_junction(
        &self,
        network: &mut Network,
        groups: &Groups,
        spec: &Spanned<GapJunctionToml>,
    ) -> Result<(), ModelError> {
        let span = spec.span();
        let g = spec.get_ref();
        let population = |name: &Spanned<String>| match groups.iter().find(|(n, _, _)| n == name.get_ref()) {
            Some((_, range, true)) => Ok(range.clone()),
            Some(_) => Err(self.error(
                Some(name.span()),
                "gap junctions join cells of populations, not spike sources",
            )),
            None => {
                let hint = crate::suggest::did_you_mean(name.get_ref(), groups.iter().map(|(n, _, _)| n.as_str()));
                Err(self.error(
                    Some(name.span()),
                    &format!("no population is named `{}`{hint}", name.get_ref()),
                ))
            }
        };
        let (from, to) = (population(&g.from)?, population(&g.to)?);
        if !(g.g >= 0.0 && g.g.is_finite()) {
            return Err(self.error(Some(span), "a gap junction needs a conductance g >= 0 µS"));
        }
        let mechanism = g.mechanism.get_ref();
        let compiled = self.catalogue.get(mechanism).map_err(|e| {
            let at = (!g.mechanism.span().is_empty()).then(|| g.mechanism.span());
            self.error(at.or(Some(span.clone())), &e)
        })?;
        if !compiled.info.pointers.contains(&g.pointer) {
            let message = format!(
                "`{mechanism}` has no POINTER `{}` to read the other end's voltage (its POINTERs: {})",
                g.pointer,
                compiled.info.pointers.join(", ")
            );
            return Err(self.error(Some(span), &message));
        }
        self.catalogue
            .parameter_index(mechanism, "g")
            .map_err(|e| self.error(Some(span.clone()), &e))?;
        let (from_at, to_at) = match (&g.at, &g.from_at, &g.to_at) {
            (Some(at), None, None) => (at, at),
            (None, Some(a), Some(b)) => (a, b),
            _ => {
                let message = "give `at` (the same location on both cells), or `from_at` and `to_at`";
                return Err(self.error(Some(span), message));
            }
        };
        let rule = self.rule(
            RuleFields {
                rule: g.rule.as_ref(),
                probability: g.probability,
                indegree: g.indegree,
                offset: g.offset,
                pairs: &g.pairs,
                seed: g.seed,
            },
            span.clone(),
        )?;
        let pairs = expand(&rule, from, to, false).map_err(|e| self.error(Some(span.clone()), &e.to_string()))?;
        let mut seen = BTreeSet::new();
        for (a, b) in pairs {
            if a == b || !seen.insert((a.min(b), a.max(b))) {
                continue;
            }
            let at_a = self.one_location(network, a, from_at)?;
            let at_b = self.one_location(network, b, to_at)?;
            let (name_a, name_b) = (network.cells[a].0.clone(), network.cells[b].0.clone());
            for (cell, here, other, there) in [(a, at_a, name_b, at_b), (b, at_b, name_a, at_a)] {
                network.cells[cell].1.decor.synapses.push(SynapsePlacement {
                    locset: crate::labels::Locset { locations: vec![here] },
                    mechanism: mechanism.clone(),
                    parameters: vec![("g".into(), g.g)],
                    events_ms: Vec::new(),
                    weight: 0.0,
                    pointers: vec![PointerBinding {
                        pointer: g.pointer.clone(),
                        target: PointerTarget::OtherCell { cell: other, at: there },
                    }],
                });
            }
        }
        Ok(())
    }

    /// The one location a locset expression names on cell `gid`.
    fn one_location(&self, network: &Network, gid: usize, at: &Spanned<String>) -> Result<Location, ModelError> {
        let (name, cell) = &network.cells[gid];
        let locset = cell.locset(at.get_ref()).map_err(|e| self.cell_error(at.span(), e))?;
        match locset.locations[..] {
            [l] => Ok(l),
            _ => Err(self.error(
                Some(at.span()),
                &format!(
                    "`{}` names {} locations on cell `{name}`; a gap junction joins one location on each cell",
                    at.get_ref(),
                    locset.locations.len()
                ),
            )),
        }
    }
}
