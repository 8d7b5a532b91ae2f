//! The optimisation tables of a model file: `[fit]`, `[homeostasis]` and `[[parameter]]` in, checked
//! [`FitSpec`], homeostasis and sensitivity specifications out, each error at its key.

use super::build::{Context, FitSpec, ModelError, Optimizer, ProtocolSpec};
use crate::cell::Cell;
use std::ops::Range;
use toml::Spanned;

impl Context<'_> {
    /// The `[fit]` table: optimiser, parameters (checked against every cell), target and windows.
    pub(super) fn fit(
        &self,
        f: &Spanned<super::spec::FitToml>,
        cells: &[(String, Cell)],
    ) -> Result<FitSpec, ModelError> {
        use crate::fit::{AdamSettings, CmaesSettings, FitParameter, LbfgsSettings, LevenbergMarquardtSettings, Space};
        use crate::sensitivity::{ParameterSpec, Transform, setup_for};
        let spec = f.get_ref();
        let pick = |value: &Option<Spanned<String>>, known: &[&str]| -> Result<String, ModelError> {
            match value {
                None => Ok(known[0].to_string()),
                Some(v) if known.contains(&v.get_ref().as_str()) => Ok(v.get_ref().clone()),
                Some(v) => {
                    let hint = crate::suggest::did_you_mean(v.get_ref(), known.iter().copied());
                    Err(self.error(
                        Some(v.span()),
                        &format!("unknown value `{}`{hint}; use one of {}", v.get_ref(), known.join(", ")),
                    ))
                }
            }
        };
        let optimizer = match pick(&spec.optimizer, &["adam", "lbfgs", "levenberg-marquardt", "cmaes"])?.as_str() {
            "adam" => Optimizer::Adam(AdamSettings {
                learning_rate: spec.learning_rate.unwrap_or(1e-2),
                beta1: spec.beta1.unwrap_or(0.9),
                beta2: spec.beta2.unwrap_or(0.999),
                decay: spec.decay.unwrap_or(1.0),
                clip_norm: spec.clip,
                epsilon: spec.epsilon.unwrap_or(1e-8),
                relative_epsilon: spec.relative_epsilon.unwrap_or(0.0),
            }),
            "lbfgs" => Optimizer::Lbfgs(LbfgsSettings::default()),
            "levenberg-marquardt" => {
                let damping = spec.damping.unwrap_or(1e-2);
                if !(damping > 0.0 && damping.is_finite()) {
                    return Err(self.error(
                        Some(f.span()),
                        &format!("[fit] damping must be a finite number > 0 (got {damping})"),
                    ));
                }
                Optimizer::LevenbergMarquardt(LevenbergMarquardtSettings {
                    initial_damping: damping,
                    ..Default::default()
                })
            }
            _ => Optimizer::Cmaes(CmaesSettings {
                population: spec.population,
                step: spec.step.unwrap_or(0.1),
                seed: spec.seed,
            }),
        };
        let space = match pick(&spec.space, &["multiplier", "log", "sigmoid"])?.as_str() {
            "log" => Space::Log,
            "sigmoid" => Space::Sigmoid,
            _ => Space::Multiplier,
        };
        let mut parameters = Vec::new();
        let mut truth = Vec::new();
        for p in &spec.parameter {
            let mut s = ParameterSpec::new(
                p.name.get_ref(),
                p.region.as_ref().map(|r| r.get_ref().as_str()),
                Transform::Multiplier,
            );
            s.alias = p.label.clone();
            for (_, cell) in cells {
                setup_for(cell, self.catalogue, std::slice::from_ref(&s))
                    .map_err(|e| self.error(Some(p.name.span()), &e.to_string()))?;
            }
            let (lower, upper, start) = (p.lower.unwrap_or(1e-3), p.upper.unwrap_or(1e3), p.start.unwrap_or(1.0));
            if !(lower > 0.0 && lower <= start && start <= upper) {
                return Err(self.error(
                    Some(p.name.span()),
                    &format!("need 0 < lower <= start <= upper (got {lower}, {start}, {upper})"),
                ));
            }
            truth.push(p.truth);
            parameters.push(FitParameter {
                spec: s,
                start,
                lower,
                upper,
            });
        }
        if parameters.is_empty() {
            return Err(self.error(Some(f.span()), "[fit] needs at least one [[fit.parameter]]"));
        }
        let windows = self.windows(&spec.windows, f.span())?;
        let mut protocols = Vec::new();
        if spec.protocol.is_empty() {
            protocols.push(ProtocolSpec {
                name: "model".into(),
                cells: cells.to_vec(),
                target: spec.target.as_ref().map(|t| self.base.join(t.get_ref())),
                windows: windows.clone(),
                weight: 1.0,
                t_stop_ms: None,
            });
        } else if let Some(t) = &spec.target {
            return Err(self.error(
                Some(t.span()),
                "with [[fit.protocol]] entries each protocol names its own `target`",
            ));
        }
        for (k, p) in spec.protocol.iter().enumerate() {
            let span = p.span();
            let p = p.get_ref();
            let mut protocol_cells = Vec::new();
            for (name, cell) in cells {
                let mut c = cell.clone();
                c.decor.clamps.clear();
                for s in &p.stimulus {
                    let clamp = self.clamp(&c, s)?;
                    c.decor.clamps.push(clamp);
                }
                protocol_cells.push((name.clone(), c));
            }
            let weight = p.weight.unwrap_or(1.0);
            if !(weight >= 0.0 && weight.is_finite()) || p.t_stop.is_some_and(|t| !(t > 0.0)) {
                return Err(self.error(Some(span), "a protocol needs weight >= 0 and t_stop > 0"));
            }
            protocols.push(ProtocolSpec {
                name: p.name.clone().unwrap_or_else(|| format!("protocol {}", k + 1)),
                cells: protocol_cells,
                target: p.target.as_ref().map(|t| self.base.join(t.get_ref())),
                windows: match &p.windows {
                    Some(w) => self.windows(w, span.clone())?,
                    None => windows.clone(),
                },
                weight,
                t_stop_ms: p.t_stop,
            });
        }
        let truth = if truth.iter().all(Option::is_some) {
            Some(truth.into_iter().flatten().collect())
        } else if let Some(p) = protocols.iter().find(|p| p.target.is_none()) {
            return Err(self.error(
                Some(f.span()),
                &format!(
                    "[fit] protocol `{}` has no `target = \"file.csv\"`, so every [[fit.parameter]] needs a `truth` multiplier",
                    p.name
                ),
            ));
        } else {
            None
        };
        let curriculum = match spec.curriculum.as_deref() {
            None => None,
            Some([first, n]) if *first > 0.0 && *n >= 1.0 => Some((*first, *n as usize)),
            Some(_) => {
                return Err(self.error(
                    Some(f.span()),
                    "curriculum is [first t_stop in ms, iterations to reach the full t_stop]",
                ));
            }
        };
        Ok(FitSpec {
            optimizer,
            iterations: spec.iterations,
            space,
            parameters,
            truth,
            protocols,
            curriculum,
        })
    }

    /// The `[homeostasis]` table, resolved on every cell.
    pub(super) fn homeostasis(
        &self,
        h: &Spanned<super::spec::HomeostasisToml>,
        cells: &[(String, Cell)],
    ) -> Result<crate::control::HomeostasisSpec, ModelError> {
        use crate::sensitivity::{ParameterSpec, Transform};
        let t = h.get_ref();
        let pair = |s: &Spanned<String>| -> Result<(String, String), ModelError> {
            s.get_ref()
                .split_once('.')
                .map(|(m, v)| (m.to_string(), v.to_string()))
                .ok_or_else(|| self.error(Some(s.span()), "expected `mechanism.state`, e.g. \"hh_rate.f\""))
        };
        let mut parameters = Vec::new();
        for p in &t.parameter {
            let mut spec = ParameterSpec::new(
                p.name.get_ref(),
                p.region.as_ref().map(|r| r.get_ref().as_str()),
                Transform::Multiplier,
            );
            spec.alias = p.label.clone();
            let (lower, upper) = (p.lower.unwrap_or(0.0), p.upper.unwrap_or(f64::INFINITY));
            if !(lower <= 1.0 && 1.0 <= upper) {
                return Err(self.error(
                    Some(p.name.span()),
                    &format!("the bounds must hold the start multiplier 1 (got {lower}, {upper})"),
                ));
            }
            parameters.push((spec, lower, upper));
        }
        if parameters.is_empty() {
            return Err(self.error(
                Some(h.span()),
                "[homeostasis] needs at least one [[homeostasis.parameter]]",
            ));
        }
        let good = |x: f64| x.is_finite() && x >= 0.0;
        if !(good(t.target) && good(t.learning_rate) && good(t.forgetting)) {
            return Err(self.error(
                Some(h.span()),
                "target, learning_rate and forgetting must be finite and >= 0",
            ));
        }
        let spec = crate::control::HomeostasisSpec {
            sensor: pair(&t.sensor)?,
            direction: pair(&t.direction)?,
            at: t.at.get_ref().clone(),
            target_hz: t.target,
            parameters,
            learning_rate_per_ms: t.learning_rate,
            forgetting_per_ms: t.forgetting,
            clip: match t.clip {
                Some(c) if c <= 0.0 => None,
                Some(c) => Some(c),
                None => Some(1.0),
            },
            every: t.every.unwrap_or(1).max(1),
        };
        for (_, cell) in cells {
            crate::control::Homeostasis::new(&spec, cell, self.catalogue)
                .map_err(|e| self.error(Some(h.span()), &e.to_string()))?;
        }
        Ok(spec)
    }

    /// Loss windows `[start, end]` or `[start, end, weight]` [ms].
    pub(super) fn windows(&self, list: &[Vec<f64>], span: Range<usize>) -> Result<Vec<crate::fit::Window>, ModelError> {
        list.iter()
            .map(|w| {
                let (start_ms, end_ms, weight) = match w.as_slice() {
                    [a, b] => (*a, *b, 1.0),
                    [a, b, c] => (*a, *b, *c),
                    _ => {
                        return Err(self.error(
                            Some(span.clone()),
                            "a window is [start, end] or [start, end, weight] in ms",
                        ));
                    }
                };
                if !(start_ms <= end_ms && weight >= 0.0 && weight.is_finite()) {
                    return Err(self.error(
                        Some(span.clone()),
                        &format!("a window needs start <= end and a finite weight >= 0 (got {w:?})"),
                    ));
                }
                Ok(crate::fit::Window {
                    start_ms,
                    end_ms,
                    weight,
                })
            })
            .collect()
    }

    /// `[[parameter]]` entries, each checked against every cell.
    pub(super) fn parameters(
        &self,
        specs: &[super::spec::ParameterToml],
        cells: &[(String, Cell)],
    ) -> Result<Vec<crate::sensitivity::ParameterSpec>, ModelError> {
        use crate::sensitivity::{ParameterSpec, Transform, setup_for};
        let mut out = Vec::new();
        for p in specs {
            let transform = match p.scale.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
                None | Some(("value", _)) => Transform::Value,
                Some(("multiplier", _)) => Transform::Multiplier,
                Some(("log", _)) => Transform::Log,
                Some((other, span)) => {
                    let hint = crate::suggest::did_you_mean(other, ["value", "multiplier", "log"]);
                    return Err(self.error(
                        Some(span),
                        &format!("unknown scale `{other}`{hint}; use value, multiplier or log"),
                    ));
                }
            };
            let spec = ParameterSpec {
                name: p.name.get_ref().clone(),
                region: p.region.as_ref().map(|r| r.get_ref().clone()),
                transform,
                alias: p.label.clone(),
            };
            for (_, cell) in cells {
                setup_for(cell, self.catalogue, std::slice::from_ref(&spec))
                    .map_err(|e| self.error(Some(p.name.span()), &e.to_string()))?;
            }
            out.push(spec);
        }
        Ok(out)
    }
}
