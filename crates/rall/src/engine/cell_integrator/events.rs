//! A cell's events: the queue (time, then queuing order), event streams with their NET_RECEIVE arguments,
//! input and connection events in, self-events, `net_move`, voltage writes and spikes from NET_RECEIVE out, and
//! the detectors' threshold crossings.

use super::{CellIntegrator, EngineError};
use crate::cell::EventLayout;
use crate::mechanism::{EventDelivery, EventEffects};
use std::cmp::{Ordering, Reverse};

/// An event in the queue, ordered by time and then by the order it was queued.
#[derive(Clone, Debug)]
pub(super) struct PendingEvent {
    t_ms: f64,
    order: u64,
    event: EventLayout,
    /// 0 for an input event, the flag of a self-event.
    flag: f64,
    /// The event stream whose arguments NET_RECEIVE sees ([`NO_STREAM`]: zeros).
    stream: usize,
}

/// The stream of a self-event sent from INITIAL or by a WATCH.
pub(super) const NO_STREAM: usize = usize::MAX;

impl PartialEq for PendingEvent {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PendingEvent {}

impl PartialOrd for PendingEvent {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PendingEvent {
    fn cmp(&self, other: &Self) -> Ordering {
        self.t_ms.total_cmp(&other.t_ms).then(self.order.cmp(&other.order))
    }
}

impl CellIntegrator {
    /// The index of the event stream from `origin` to one instance, set up (NET_RECEIVE's INITIAL at the
    /// present time) when first seen.
    pub(super) fn stream(&mut self, origin: usize, mechanism: usize, instance: usize) -> usize {
        if let Some(&k) = self.stream_index.get(&(origin, mechanism, instance)) {
            return k;
        }
        let mut arguments = vec![0.0];
        self.mechanisms[mechanism].initialise_event_stream(instance, 0.0, &mut arguments);
        self.stream_arguments.push(arguments);
        let k = self.stream_arguments.len() - 1;
        self.stream_index.insert((origin, mechanism, instance), k);
        k
    }

    /// Queues the self-events, voltages and spikes an event (or INITIAL) of mechanism `m` asked for; then
    /// `net_move`s reschedule the instance's latest outstanding self-event.
    pub(super) fn apply_effects(&mut self, m: usize, stream: usize, effects: EventEffects) -> Result<(), EngineError> {
        for (cv, v) in effects.voltages {
            self.v_mv[cv] = v;
        }
        for (instance, t_ms, flag) in effects.sends {
            self.queue_self_event(m, instance, t_ms, flag, stream);
        }
        for (instance, t_ms) in effects.spikes {
            self.event_spikes.push((m, instance, t_ms));
            if let Some(j) = self.event_detectors.iter().position(|&d| d == (m, instance)) {
                self.spikes.push((self.detectors.len() + j, t_ms));
            }
        }
        for (instance, t_ms) in effects.moves {
            let Some((order, flag, stream)) = self.movable.remove(&(m, instance)) else {
                return Err(EngineError::Mechanism(format!(
                    "`{}` (instance {instance}) calls net_move at t = {:.4} ms with no self-event outstanding",
                    self.mechanisms[m].name(),
                    self.t_ms
                )));
            };
            self.moved.insert(order);
            self.queue_self_event(m, instance, t_ms, flag, stream);
        }
        Ok(())
    }

    /// Queues a self-event of one instance; it becomes the one `net_move` would move.
    pub(super) fn queue_self_event(&mut self, m: usize, instance: usize, t_ms: f64, flag: f64, stream: usize) {
        let event = EventLayout {
            mechanism: m,
            instance,
            t_ms,
            weight: 0.0,
            source: usize::MAX,
        };
        self.movable.insert((m, instance), (self.queued, flag, stream));
        self.queue(event, flag, stream);
    }

    pub(super) fn queue(&mut self, event: EventLayout, flag: f64, stream: usize) {
        self.pending.push(Reverse(PendingEvent {
            t_ms: event.t_ms,
            order: self.queued,
            event,
            flag,
            stream,
        }));
        self.queued += 1;
    }

    /// Queues an event of `weight` for synapse placement `placement` (every instance of it) at `t_ms`.
    /// The event carries no weight tangent; all such events to one instance form one event stream.
    pub fn push_event(&mut self, placement: usize, t_ms: f64, weight: f64) -> Result<(), EngineError> {
        self.push_event_from(placement, None, t_ms, weight)
    }

    /// As [`CellIntegrator::push_event`], for network connection `connection`: each connection is its own
    /// event stream (NEURON: its NetCon), with its own NET_RECEIVE arguments.
    pub fn push_connection_event(
        &mut self,
        placement: usize,
        connection: usize,
        t_ms: f64,
        weight: f64,
    ) -> Result<(), EngineError> {
        self.push_event_from(placement, Some(connection), t_ms, weight)
    }

    pub(super) fn push_event_from(
        &mut self,
        placement: usize,
        connection: Option<usize>,
        t_ms: f64,
        weight: f64,
    ) -> Result<(), EngineError> {
        let Some(targets) = self.synapse_targets.get(placement) else {
            return Err(EngineError::Mechanism(format!(
                "an event for synapse {placement}, but the cell has {} synapse placements",
                self.synapse_targets.len()
            )));
        };
        for k in 0..targets.len() {
            let (mechanism, instance) = self.synapse_targets[placement][k];
            // Connection streams are keyed apart from the decor's placements (origins below `placements`).
            let stream = connection.map_or(NO_STREAM, |c| self.stream(self.placements + c, mechanism, instance));
            if let Some(c) = connection
                && let Some(w) = self.weight_pointers.iter().position(|w| w.connection == c)
            {
                self.stream_weights.insert(stream, w);
            }
            self.queue(
                EventLayout {
                    mechanism,
                    instance,
                    t_ms,
                    weight,
                    source: usize::MAX,
                },
                0.0,
                stream,
            );
        }
        Ok(())
    }

    /// Delivers every event due by `due` [ms], in time order (ties in the order they were queued), with what
    /// each asks for applied before the next.
    pub(super) fn deliver_events_until(&mut self, due: f64) -> Result<(), EngineError> {
        while self.pending.peek().is_some_and(|Reverse(p)| p.t_ms <= due) {
            let Reverse(PendingEvent {
                event: e,
                flag,
                stream,
                order,
                ..
            }) = self.pending.pop().unwrap();
            if self.moved.remove(&order) {
                continue;
            }
            let (m, instance, t) = (e.mechanism, e.instance, e.t_ms);
            if self.movable.get(&(m, instance)).is_some_and(|(o, _, _)| *o == order) {
                self.movable.remove(&(m, instance));
            }
            // Input events belong to their stream (for a network event without a connection: the synapse's);
            // self-events see the stream of the event that sent them.
            let stream = if flag == 0.0 && stream == NO_STREAM {
                self.stream(e.source, m, instance)
            } else {
                stream
            };
            // The event's arguments in a buffer kept between events: delivering one allocates nothing.
            let mut arguments = std::mem::take(&mut self.event_arguments);
            arguments.clear();
            match self.stream_arguments.get(stream) {
                Some(a) => arguments.extend_from_slice(a),
                None => arguments.resize(self.mechanisms[m].event_argument_count(), 0.0),
            }
            if flag == 0.0 {
                // A connection whose weight an adjuster holds delivers the weight it has now.
                arguments[0] = match self.stream_weights.get(&stream) {
                    Some(&w) => crate::engine::pointers::current_weight(&self.weight_pointers[w], &self.mechanisms),
                    None => e.weight,
                };
            }
            let weight_tangent = self.tangents.as_ref().map_or(&[][..], |ts| ts.weight_tangent(e.source));
            let mut effects = EventEffects::default();
            let delivery = EventDelivery {
                instance,
                t_ms: t,
                flag,
                arguments: &mut arguments,
                weight_tangent,
                v_mv: &self.v_mv,
            };
            self.mechanisms[m]
                .deliver_event(delivery, &mut effects)
                .map_err(|e| EngineError::Mechanism(format!("event at t = {t} ms: {e}")))?;
            if let Some(a) = self.stream_arguments.get_mut(stream) {
                a.clear();
                a.extend_from_slice(&arguments);
            }
            self.event_arguments = arguments;
            self.apply_effects(m, stream, effects)?;
        }
        Ok(())
    }

    /// A detector spikes at the end of a step that took its potential above threshold (NEURON's NetCon rule).
    pub(super) fn detect_spikes(&mut self) {
        for (d, ((cv, threshold), armed)) in self.detectors.iter().zip(&mut self.armed).enumerate() {
            let above = self.v_mv[*cv] > *threshold;
            if above && *armed {
                self.spikes.push((d, self.t_ms));
            }
            *armed = !above;
        }
    }
}
