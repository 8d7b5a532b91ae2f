//! Stimuli of a model file: a `[[stimulus]]` table in, a [`CurrentClamp`] (with its waveform from inline
//! points or a CSV file) out, errors naming file, line and key.

use super::build::{Context, ModelError};
use crate::Cell;
use crate::cell::CurrentClamp;

impl Context<'_> {
    pub(super) fn clamp(&self, cell: &Cell, s: &super::spec::StimulusSpec) -> Result<CurrentClamp, ModelError> {
        let locset = cell
            .locset(s.at.get_ref())
            .map_err(|e| self.cell_error(s.at.span(), e))?;
        let waveform = self.waveform(s)?;
        let (duration, amplitude) = match (&waveform, s.duration, s.amplitude) {
            (_, Some(d), Some(a)) => (d, a),
            (Some(_), d, a) => (d.unwrap_or(f64::INFINITY), a.unwrap_or(1.0)),
            (None, _, _) => {
                return Err(self.error(
                    Some(s.at.span()),
                    "a stimulus needs `duration` and `amplitude` (or a `waveform`/`waveform_file`)",
                ));
            }
        };
        if !(duration >= 0.0 && s.delay.is_finite() && amplitude.is_finite()) {
            return Err(self.error(
                Some(s.at.span()),
                "a stimulus needs a finite delay and amplitude and a non-negative duration",
            ));
        }
        Ok(CurrentClamp {
            locset,
            delay_ms: s.delay,
            duration_ms: duration,
            amplitude_na: amplitude,
            waveform,
        })
    }

    /// A stimulus's waveform from `waveform` points or a `waveform_file` CSV: finite, increasing times.
    fn waveform(&self, s: &super::spec::StimulusSpec) -> Result<Option<crate::cell::Waveform>, ModelError> {
        let (points, span, file): (Vec<(f64, f64)>, _, Option<String>) = match (&s.waveform, &s.waveform_file) {
            (None, None) => return Ok(None),
            (Some(_), Some(f)) => {
                return Err(self.error(Some(f.span()), "give `waveform` or `waveform_file`, not both"));
            }
            (Some(w), None) => (w.get_ref().iter().map(|p| (p[0], p[1])).collect(), w.span(), None),
            (None, Some(f)) => {
                let path = self.base.join(f.get_ref());
                let text = crate::read_text(&path)
                    .map_err(|e| self.error(Some(f.span()), &format!("{}: cannot read: {e}", path.display())))?;
                let mut points = Vec::new();
                for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
                    let parsed = match fields.as_slice() {
                        [t, v] => t.parse::<f64>().ok().zip(v.parse::<f64>().ok()),
                        _ => None,
                    };
                    match parsed {
                        Some(p) => points.push(p),
                        None if i == 0 => {} // a header
                        None => {
                            return Err(self.error(
                                Some(f.span()),
                                &format!(
                                    "{}:{}: expected `t,value` (two numbers), found `{line}`",
                                    path.display(),
                                    i + 1
                                ),
                            ));
                        }
                    }
                }
                (points, f.span(), Some(path.display().to_string()))
            }
        };
        let what = file.map_or("the waveform".to_string(), |f| format!("the waveform in {f}"));
        if points.is_empty() {
            return Err(self.error(Some(span), &format!("{what} has no points")));
        }
        if points.iter().any(|(t, v)| !t.is_finite() || !v.is_finite()) || points.windows(2).any(|w| w[1].0 <= w[0].0) {
            return Err(self.error(Some(span), &format!("{what} needs finite values at increasing times")));
        }
        Ok(Some(crate::cell::Waveform { points }))
    }
}
