//! Loop gain of homeostatic control from a short probe run: a cell and its `[homeostasis]` spec in;
//! the direction signal's sensitivities, the rate's response to each parameter, the loop gain
//! `G = Σ_k ∂g/∂m_k · ∂f/∂m_k` and the stability limit `α < λ (λ + 1/τ_f) / G` out (docs/homeostasis.md).
//!
//! `∂g/∂m_k` is the co-simulated sensitivity of the direction signal, averaged over the second half of
//! the probe; `∂f/∂m_k` is a central difference of the mean rate at multipliers `1 ± δ` on the same noise
//! path, the rate over `[a, b]` read exactly from the sensor as `(∫f dt + τ_f (f(b) − f(a))) / (b − a)`.

use super::HomeostasisSpec;
use crate::mechanism::Catalogue;
use crate::sensitivity::perturbed;
use crate::{Cell, RunOptions, Simulation};
use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct LoopGain {
    /// Mean `∂g/∂m_k` over the second half of the probe [units of g, e.g. mV].
    pub direction_sensitivity: Vec<f64>,
    /// `∂f/∂m_k` [Hz].
    pub rate_response: Vec<f64>,
    /// The untuned rate over the second half [Hz].
    pub rate_hz: f64,
    /// `G = Σ_k ∂g/∂m_k ∂f/∂m_k` [mV·Hz]; positive for negative feedback.
    pub gain: f64,
    /// The sensor's time constant used [ms].
    pub sensor_tau_ms: f64,
    /// `λ (λ + 1/τ_f) / G` [1/ms] (infinite when G <= 0).
    pub alpha_limit: f64,
}

/// The probe runs' options for a model run with `options`: 20 s, sampled every 1 ms or every step if that is
/// longer (the sensor and the direction are low-passed over seconds; sampling every step took 402 MB for the
/// homeostasis example, this 24 MB, and moved G by 8e-6 relative).
pub fn probe_options(options: &RunOptions) -> RunOptions {
    RunOptions {
        t_stop_ms: 20_000.0,
        sample_interval_ms: options.dt_ms.max(1.0),
        ..*options
    }
}

/// Runs the probe: `1 + 2P` simulations of `options.t_stop_ms` (in parallel), multipliers changed by `±delta`.
pub fn estimate_loop_gain(
    cell: &Cell,
    catalogue: &Catalogue,
    spec: &HomeostasisSpec,
    options: &RunOptions,
    delta: f64,
) -> Result<LoopGain, String> {
    let mut cell = cell.clone();
    let at = cell.locset(&spec.at).map_err(|e| e.to_string())?;
    for (name, (m, v)) in [("sensor", &spec.sensor), ("direction", &spec.direction)] {
        cell.decor.probes.push(crate::cell::Probe {
            name: format!("homeostasis.{name}"),
            locset: at.clone(),
            variable: Some((m.clone(), v.clone())),
        });
    }
    let sensor_tau_ms = catalogue
        .parameters(&spec.sensor.0)
        .ok()
        .and_then(|ps| ps.into_iter().find(|p| p.name == "tau_f"))
        .map(|p| {
            cell.decor
                .paints
                .iter()
                .filter(|paint| paint.mechanism == spec.sensor.0)
                .find_map(|paint| paint.parameters.iter().find(|(n, _)| n == "tau_f").map(|(_, v)| *v))
                .unwrap_or(p.default)
        })
        .unwrap_or(10_000.0);
    let specs = spec.multiplier_specs();
    let half = options.t_stop_ms / 2.0;
    // The mean rate over the second half, read exactly from the low-passed sensor.
    let mean_rate = |traces: &crate::Traces| -> f64 {
        let f = traces.column("homeostasis.sensor").unwrap_or(&[]);
        let t = &traces.time_ms;
        let start = t.iter().position(|&x| x >= half).unwrap_or(0);
        let last = f.len().saturating_sub(1);
        let integral: f64 = (start..last).map(|k| 0.5 * (f[k] + f[k + 1]) * (t[k + 1] - t[k])).sum();
        (integral + sensor_tau_ms * (f[last] - f[start])) / (t[last] - t[start]).max(1e-9)
    };
    let runs: Vec<(usize, f64)> = std::iter::once((usize::MAX, 1.0))
        .chain((0..specs.len()).flat_map(|k| [(k, 1.0 + delta), (k, 1.0 - delta)]))
        .collect();
    let results: Vec<crate::Traces> = runs
        .par_iter()
        .map(|&(k, factor)| {
            let cells = if k == usize::MAX {
                vec![(String::new(), cell.clone())]
            } else {
                let c = perturbed(&cell, catalogue, &specs[k], factor).map_err(|e| e.to_string())?;
                vec![(String::new(), c)]
            };
            let mut sim = Simulation::new(&cells, catalogue).map_err(|e| e.to_string())?;
            if k == usize::MAX {
                sim.enable_sensitivities(&cells, catalogue, &specs, 0.0)
                    .map_err(|e| e.to_string())?;
            }
            sim.run(options, |_| {}).map_err(|e| e.to_string())
        })
        .collect::<Result<_, String>>()?;
    let base = &results[0];
    let start = base.time_ms.iter().position(|&x| x >= half).unwrap_or(0);
    let direction_sensitivity: Vec<f64> = specs
        .iter()
        .map(|s| {
            let d = base.tangent("homeostasis.direction", &s.label()).unwrap_or(&[]);
            d[start..].iter().sum::<f64>() / d[start..].len().max(1) as f64
        })
        .collect();
    let rate_response: Vec<f64> = (0..specs.len())
        .map(|k| (mean_rate(&results[1 + 2 * k]) - mean_rate(&results[2 + 2 * k])) / (2.0 * delta))
        .collect();
    let gain: f64 = direction_sensitivity
        .iter()
        .zip(&rate_response)
        .map(|(s, r)| s * r)
        .sum();
    let lambda = spec.forgetting_per_ms;
    let alpha_limit = if gain > 0.0 {
        lambda * (lambda + 1.0 / sensor_tau_ms) / gain
    } else {
        f64::INFINITY
    };
    Ok(LoopGain {
        direction_sensitivity,
        rate_response,
        rate_hz: mean_rate(base),
        gain,
        sensor_tau_ms,
        alpha_limit,
    })
}
