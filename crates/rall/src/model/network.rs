//! The network part of a model file: `[[population]]`, `[[spike_source]]` and `[[connection]]` tables and
//! the `[[cell]]` templates in; a checked [`Network`] (cells named `population[i]`) out.

use super::build::{Context, ModelError};
use super::spec::{ConnectionToml, GapJunctionToml, PopulationToml, SpikeSourceToml};
use crate::Cell;
use crate::network::{Connection, ConnectionRule, Network, SpikeSource, WeightAdjuster, expand};
use std::ops::Range;
use toml::Spanned;

/// The keys of a connection rule, shared by `[[connection]]` and `[[gap_junction]]`.
pub(super) struct RuleFields<'a> {
    pub rule: Option<&'a Spanned<String>>,
    pub probability: Option<f64>,
    pub indegree: Option<usize>,
    pub offset: usize,
    pub pairs: &'a [[usize; 2]],
    pub seed: u64,
}

/// Named groups of gids (populations, then spike sources): name, gids, whether they are cells.
pub(super) type Groups = Vec<(String, Range<usize>, bool)>;

impl Context<'_> {
    pub(super) fn network(
        &self,
        templates: &[(String, Cell)],
        populations: &[Spanned<PopulationToml>],
        sources: &[Spanned<SpikeSourceToml>],
        connections: &[Spanned<ConnectionToml>],
        gap_junctions: &[Spanned<GapJunctionToml>],
        t_stop_ms: f64,
    ) -> Result<Network, ModelError> {
        let mut network = Network::default();
        // Named groups of gids: populations first (cells), then spike sources.
        let mut groups: Groups = Vec::new();
        for p in populations {
            let span = p.span();
            let p = p.get_ref();
            let Some((_, template)) = templates.iter().find(|(n, _)| n == p.cell.get_ref()) else {
                let names: Vec<&str> = templates.iter().map(|(n, _)| n.as_str()).collect();
                let hint = crate::suggest::did_you_mean(p.cell.get_ref(), names.iter().copied());
                return Err(self.error(
                    Some(p.cell.span()),
                    &format!("no [[cell]] is named `{}`{hint}", p.cell.get_ref()),
                ));
            };
            self.check_new_group(&groups, &p.name, span.clone())?;
            let (count, count_span) = super::spec::count_of(&p.count, span.clone());
            self.check_gid_budget(network.cells.len() + network.sources.len(), count, &p.name, count_span)?;
            let start = network.cells.len();
            for i in 0..count {
                network.cells.push((format!("{}[{i}]", p.name), template.clone()));
            }
            groups.push((p.name.clone(), start..network.cells.len(), true));
        }
        for s in sources {
            let span = s.span();
            let s = s.get_ref();
            self.check_new_group(&groups, &s.name, span.clone())?;
            let (count, count_span) = super::spec::count_of(&s.count, span.clone());
            self.check_gid_budget(network.cells.len() + network.sources.len(), count, &s.name, count_span)?;
            let start = network.cells.len() + network.sources.len();
            for i in 0..count {
                let source = self.spike_source(s, i, span.clone(), t_stop_ms)?;
                network.sources.push((format!("{}[{i}]", s.name), source));
            }
            groups.push((s.name.clone(), start..start + count, false));
        }
        let find = |name: &Spanned<String>| -> Result<(Range<usize>, bool), ModelError> {
            match groups.iter().find(|(n, _, _)| n == name.get_ref()) {
                Some((_, range, is_cells)) => Ok((range.clone(), *is_cells)),
                None => {
                    let names: Vec<&str> = groups.iter().map(|(n, _, _)| n.as_str()).collect();
                    let hint = crate::suggest::did_you_mean(name.get_ref(), names.iter().copied());
                    Err(self.error(
                        Some(name.span()),
                        &format!("no population or spike source is named `{}`{hint}", name.get_ref()),
                    ))
                }
            }
        };
        for c in connections {
            let span = c.span();
            let c = c.get_ref();
            let (from, from_cells) = find(&c.from)?;
            let (to, to_cells) = find(&c.to)?;
            if !to_cells {
                return Err(self.error(Some(c.to.span()), "connections end on a population of cells"));
            }
            let rule = self.rule(
                RuleFields {
                    rule: c.rule.as_ref(),
                    probability: c.probability,
                    indegree: c.indegree,
                    offset: c.offset,
                    pairs: &c.pairs,
                    seed: c.seed,
                },
                span.clone(),
            )?;
            let same = from == to;
            let pairs = expand(&rule, from, to, c.allow_self || !same)
                .map_err(|e| self.error(Some(span.clone()), &e.to_string()))?;
            if !(c.delay >= 0.0 && c.delay.is_finite() && c.weight.is_finite()) {
                return Err(self.error(Some(span), "a connection needs a finite weight and a delay >= 0 ms"));
            }
            let adjuster = match &c.adjuster {
                Some(a) => {
                    network.adjusters.push(self.adjuster(a)?);
                    Some(network.adjusters.len() - 1)
                }
                None => None,
            };
            let first = network.connections.len();
            for (source, target) in pairs {
                network.connections.push(Connection {
                    source,
                    detector: if from_cells { c.detector } else { 0 },
                    target,
                    synapse: c.synapse,
                    weight: c.weight,
                    delay_ms: c.delay,
                    adjuster,
                });
            }
            // The first connection of the rule stands for all: detector and synapse indices are per template.
            if network.connections.len() > first {
                let probe = Network {
                    cells: network.cells.clone(),
                    sources: network.sources.clone(),
                    connections: vec![network.connections[first]],
                    adjusters: network.adjusters.clone(),
                };
                let message = |e: crate::network::NetworkError| {
                    let message = e.to_string().replacen("connection 0: ", "", 1);
                    self.error(Some(span.clone()), &message)
                };
                probe.check().map_err(message)?;
                probe.with_weight_adjusters().map_err(message)?;
            }
        }
        for g in gap_junctions {
            self.gap_junction(&mut network, &groups, g)?;
        }
        Ok(network)
    }

    /// A connection's `adjuster` table, checked against the catalogue: a point process with that POINTER and
    /// those parameters.
    fn adjuster(&self, a: &Spanned<crate::model::spec::AdjusterToml>) -> Result<WeightAdjuster, ModelError> {
        let span = a.span();
        let a = a.get_ref();
        let name = a.mechanism.get_ref();
        let compiled = self
            .catalogue
            .get(name)
            .map_err(|e| self.error(Some(a.mechanism.span()), &e))?;
        if !compiled.info.pointers.contains(&a.pointer) {
            let message = format!(
                "the weight adjuster `{name}` has no POINTER `{}` to hold the weight (its POINTERs: {})",
                a.pointer,
                compiled.info.pointers.join(", ")
            );
            return Err(self.error(Some(span), &message));
        }
        for p in a.parameters.keys() {
            self.catalogue
                .parameter_index(name, p)
                .map_err(|e| self.error(Some(span.clone()), &e))?;
        }
        if !(0.0..=1.0).contains(&a.dendritic_delay_fraction) {
            return Err(self.error(Some(span), "dendritic_delay_fraction is a fraction from 0 to 1"));
        }
        Ok(WeightAdjuster {
            mechanism: name.clone(),
            parameters: a.parameters.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            pointer: a.pointer.clone(),
            post_spikes: a.post_spikes,
            dendritic_delay_fraction: a.dendritic_delay_fraction,
        })
    }

    fn check_new_group(
        &self,
        groups: &[(String, Range<usize>, bool)],
        name: &str,
        span: Range<usize>,
    ) -> Result<(), ModelError> {
        if groups.iter().any(|(n, _, _)| n == name) {
            return Err(self.error(
                Some(span),
                &format!("two populations or spike sources are named `{name}`"),
            ));
        }
        Ok(())
    }

    /// A group of `count` more gids after `so_far` must stay within what one process holds.
    fn check_gid_budget(&self, so_far: usize, count: usize, name: &str, span: Range<usize>) -> Result<(), ModelError> {
        let limit = crate::limits::max_gids();
        if so_far.saturating_add(count) > limit {
            return Err(self.error(
                Some(span),
                &format!(
                    "`{name}` has count {count}, which would make {} cells and spike sources; one process holds \
                     at most {limit} (the environment variable RALL_MAX_GIDS raises the limit)",
                    so_far.saturating_add(count)
                ),
            ));
        }
        Ok(())
    }

    fn spike_source(
        &self,
        s: &SpikeSourceToml,
        index: usize,
        span: Range<usize>,
        t_stop_ms: f64,
    ) -> Result<SpikeSource, ModelError> {
        let stop_ms = s.stop.unwrap_or(t_stop_ms);
        let need = |value: Option<f64>, what: &str| {
            value.filter(|v| *v >= 0.0 && v.is_finite()).ok_or_else(|| {
                self.error(
                    Some(span.clone()),
                    &format!("a {} source needs {what} >= 0", s.kind.get_ref()),
                )
            })
        };
        let misplaced = [("number", s.number.is_some()), ("noise", s.noise.is_some())];
        if s.kind.get_ref() != "NetStim"
            && let Some((key, _)) = misplaced.iter().find(|(_, given)| *given)
        {
            let message = format!("`{key}` belongs to a NetStim source, not to a {} one", s.kind.get_ref());
            return Err(self.error(Some(span), &message));
        }
        Ok(match s.kind.get_ref().as_str() {
            "NetStim" => {
                if s.stop.is_some() || s.rate.is_some() {
                    let message = "a NetStim source takes `interval`, `number`, `start` and `noise` (NEURON's \
                                   parameters), not `stop` or `rate`";
                    return Err(self.error(Some(span), message));
                }
                let (interval_ms, number, start_ms, noise) = (
                    s.interval.unwrap_or(10.0),
                    s.number.unwrap_or(10.0),
                    s.start.unwrap_or(50.0),
                    s.noise.unwrap_or(0.0),
                );
                if ![interval_ms, number, start_ms, noise].iter().all(|v| v.is_finite()) {
                    return Err(self.error(Some(span), "NetStim parameters must be finite numbers"));
                }
                SpikeSource::NetStim {
                    interval_ms,
                    number,
                    start_ms,
                    noise,
                    seed: s.seed.wrapping_add(index as u64),
                }
            }
            "poisson" => SpikeSource::Poisson {
                rate_hz: need(s.rate, "`rate` [Hz]")?,
                start_ms: s.start.unwrap_or(0.0),
                stop_ms,
                seed: s.seed.wrapping_add(index as u64),
            },
            "regular" => {
                let interval_ms = need(s.interval, "`interval` [ms]")?;
                if interval_ms <= 0.0 {
                    return Err(self.error(Some(span), "a regular source needs `interval` > 0 ms"));
                }
                SpikeSource::Regular {
                    start_ms: s.start.unwrap_or(0.0),
                    interval_ms,
                    stop_ms,
                }
            }
            "times" | "VecStim" => SpikeSource::Times(s.times.clone()),
            "file" => {
                let Some(file) = &s.file else {
                    return Err(self.error(Some(span), "a file source needs `file = \"spikes.csv\"`"));
                };
                let gid = (super::spec::count_of(&s.count, 0..0).0 > 1).then_some(index);
                SpikeSource::from_csv(&self.base.join(file.get_ref()), gid)
                    .map_err(|e| self.error(Some(file.span()), &e.to_string()))?
            }
            other => {
                let known = ["poisson", "regular", "NetStim", "times", "VecStim", "file"];
                let hint = crate::suggest::did_you_mean(other, known.iter().copied());
                return Err(self.error(
                    Some(s.kind.span()),
                    &format!(
                        "unknown spike source kind `{other}`{hint}; use one of {}",
                        known.join(", ")
                    ),
                ));
            }
        })
    }

    pub(super) fn rule(&self, c: RuleFields<'_>, span: Range<usize>) -> Result<ConnectionRule, ModelError> {
        let name = c.rule.map_or("all-to-all", |r| r.get_ref().as_str());
        Ok(match name {
            "all-to-all" => ConnectionRule::AllToAll {
                probability: c.probability.unwrap_or(1.0),
                seed: c.seed,
            },
            "fixed-indegree" => ConnectionRule::FixedIndegree {
                indegree: c
                    .indegree
                    .ok_or_else(|| self.error(Some(span), "rule \"fixed-indegree\" needs `indegree`"))?,
                seed: c.seed,
            },
            "one-to-one" => ConnectionRule::OneToOne { offset: c.offset },
            "list" => ConnectionRule::List(c.pairs.iter().map(|[a, b]| (*a, *b)).collect()),
            other => {
                let known = ["all-to-all", "fixed-indegree", "one-to-one", "list"];
                let hint = crate::suggest::did_you_mean(other, known.iter().copied());
                let at = c.rule.map(|r| r.span());
                return Err(self.error(
                    at,
                    &format!(
                        "unknown connection rule `{other}`{hint}; use one of {}",
                        known.join(", ")
                    ),
                ));
            }
        })
    }
}
