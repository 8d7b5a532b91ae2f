//! Trace losses: traces with sensitivities and a target CSV in, `½ Σ_windows w · mean((v - target)²)` and its exact gradient out.

use crate::Traces;
use std::path::Path;

/// Target traces: a time column [ms] and named columns, linearly interpolated between samples.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetTraces {
    pub time_ms: Vec<f64>,
    pub names: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

/// A time window of the loss with its weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub start_ms: f64,
    pub end_ms: f64,
    pub weight: f64,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            start_ms: f64::NEG_INFINITY,
            end_ms: f64::INFINITY,
            weight: 1.0,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LossError {
    #[error("{file}: {message}")]
    Target { file: String, message: String },
    #[error("no probe of the simulation appears in the target (target columns: {target}; probes: {probes})")]
    NothingToCompare { target: String, probes: String },
    #[error("window {start}..{end} ms holds no sample")]
    EmptyWindow { start: f64, end: f64 },
    #[error("window {start}..{end} ms lies outside the run (0..{t_stop} ms)")]
    WindowOutsideRun { start: f64, end: f64, t_stop: f64 },
}

/// Checks, before a run of `t_stop` ms, that every loss window overlaps it; returns a warning when the
/// target covers less of the time the loss looks at (its samples there are left out of the loss).
pub fn check_before_run(target: &TargetTraces, windows: &[Window], t_stop: f64) -> Result<Option<String>, LossError> {
    for w in windows {
        if w.end_ms < 0.0 || w.start_ms > t_stop || w.start_ms > w.end_ms {
            return Err(LossError::WindowOutsideRun {
                start: w.start_ms,
                end: w.end_ms,
                t_stop,
            });
        }
    }
    let (start, end) = if windows.is_empty() {
        (0.0, t_stop)
    } else {
        let start = windows
            .iter()
            .map(|w| w.start_ms.max(0.0))
            .fold(f64::INFINITY, f64::min);
        let end = windows
            .iter()
            .map(|w| w.end_ms.min(t_stop))
            .fold(f64::NEG_INFINITY, f64::max);
        (start, end)
    };
    let (Some(&first), Some(&last)) = (target.time_ms.first(), target.time_ms.last()) else {
        return Ok(None);
    };
    let slack = 1e-9 * (1.0 + end.abs());
    Ok((first > start + slack || last < end - slack).then(|| {
        format!(
            "the target covers {first}..{last} ms but the loss looks at {start}..{end} ms: the samples outside the \
             target are left out of the loss (give a longer target, --t-stop, or --window)"
        )
    }))
}

impl TargetTraces {
    /// Reads a CSV with a header `t,<name>,...` (t in ms), as `rall run` writes.
    pub fn read_csv(path: &Path) -> Result<Self, LossError> {
        let file = path.display().to_string();
        let text = crate::read_text(path).map_err(|e| LossError::Target {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse_csv(&text, &file)
    }

    pub fn parse_csv(text: &str, file: &str) -> Result<Self, LossError> {
        let err = |line: usize, message: String| LossError::Target {
            file: format!("{file}:{line}"),
            message,
        };
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or_else(|| err(1, "empty file".into()))?;
        let names: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
        if names.first().map(String::as_str) != Some("t") {
            return Err(err(
                1,
                format!("the first column must be `t` (ms), found `{}`", names[0]),
            ));
        }
        let mut columns = vec![Vec::new(); names.len()];
        for (i, line) in lines {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() {
                return Err(err(
                    i + 1,
                    format!("expected {} columns, found {}", names.len(), fields.len()),
                ));
            }
            for (c, f) in fields.iter().enumerate() {
                let x: f64 = f
                    .trim()
                    .parse()
                    .map_err(|_| err(i + 1, format!("column {} must be a number, found `{f}`", c + 1)))?;
                columns[c].push(x);
            }
        }
        if columns[0].windows(2).any(|w| w[1] <= w[0]) {
            return Err(err(2, "times must increase".into()));
        }
        let time_ms = columns.remove(0);
        Ok(Self {
            time_ms,
            names: names[1..].to_vec(),
            values: columns,
        })
    }

    /// A target column at time `t` (linear interpolation), or `None` outside its time range.
    pub fn at(&self, column: usize, t: f64) -> Option<f64> {
        let times = &self.time_ms;
        if times.is_empty() || t < times[0] - 1e-9 || t > times[times.len() - 1] + 1e-9 {
            return None;
        }
        let k = times.partition_point(|&x| x <= t).clamp(1, times.len().max(2) - 1);
        if times.len() == 1 {
            return Some(self.values[column][0]);
        }
        let (t0, t1) = (times[k - 1], times[k]);
        let (v0, v1) = (self.values[column][k - 1], self.values[column][k]);
        Some(v0 + (v1 - v0) * ((t - t0) / (t1 - t0)).clamp(0.0, 1.0))
    }
}

/// The loss as a sum of squares, `L = ½ |r|²`, with `r = sqrt(weight / samples in the window) · (v - target)`
/// over the windows' samples and probes, and the Jacobian `∂r/∂θ` from the traces' sensitivity columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Residuals {
    pub values: Vec<f64>,
    /// The parameters of the traces' sensitivities, in their order.
    pub parameters: Vec<String>,
    /// One column per parameter, as long as `values` (zeros where a probe has no sensitivity to it).
    pub jacobian: Vec<Vec<f64>>,
}

impl Residuals {
    /// Probes missing from the target are ignored; samples outside the target's time range are skipped.
    pub fn new(traces: &Traces, target: &TargetTraces, windows: &[Window]) -> Result<Self, LossError> {
        let pairs: Vec<(usize, usize)> = traces
            .names
            .iter()
            .enumerate()
            .filter_map(|(p, name)| target.names.iter().position(|n| n == name).map(|c| (p, c)))
            .collect();
        if pairs.is_empty() {
            return Err(LossError::NothingToCompare {
                target: target.names.join(", "),
                probes: traces.names.join(", "),
            });
        }
        let parameters = traces.parameters();
        let tangents: Vec<Vec<Option<&[f64]>>> = traces
            .names
            .iter()
            .map(|probe| parameters.iter().map(|q| traces.tangent(probe, q)).collect())
            .collect();
        let default = [Window::default()];
        let windows = if windows.is_empty() { &default[..] } else { windows };
        let mut values = Vec::new();
        let mut jacobian = vec![Vec::new(); parameters.len()];
        for w in windows {
            let first = values.len();
            let mut count = 0usize;
            for (k, &t) in traces.time_ms.iter().enumerate() {
                if t < w.start_ms || t > w.end_ms {
                    continue;
                }
                let mut used = false;
                for &(p, c) in &pairs {
                    let Some(goal) = target.at(c, t) else { continue };
                    used = true;
                    values.push(traces.values[p][k] - goal);
                    for (column, tangent) in jacobian.iter_mut().zip(&tangents[p]) {
                        column.push(tangent.map_or(0.0, |d| d[k]));
                    }
                }
                count += usize::from(used);
            }
            if count == 0 {
                return Err(LossError::EmptyWindow {
                    start: w.start_ms,
                    end: w.end_ms,
                });
            }
            let scale = (w.weight / count as f64).sqrt();
            values[first..].iter_mut().for_each(|r| *r *= scale);
            for column in &mut jacobian {
                column[first..].iter_mut().for_each(|d| *d *= scale);
            }
        }
        Ok(Self {
            values,
            parameters,
            jacobian,
        })
    }

    pub fn loss(&self) -> f64 {
        0.5 * self.values.iter().map(|r| r * r).sum::<f64>()
    }

    /// `∂L/∂θ = Jᵀ r`.
    pub fn gradient(&self) -> Vec<f64> {
        self.jacobian.iter().map(|c| dot(c, &self.values)).collect()
    }
}

/// The Gauss-Newton curvature `JᵀJ` of a loss `½|r|²` from the Jacobian's columns (row-major `n × n`): the
/// Hessian without the residual-weighted second derivatives, exact where the residuals vanish.
pub fn gram(columns: &[Vec<f64>]) -> Vec<f64> {
    let n = columns.len();
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let x = dot(&columns[i], &columns[j]);
            h[i * n + j] = x;
            h[j * n + i] = x;
        }
    }
    h
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `L = ½ Σ_windows weight · mean over the window's samples of Σ_probes (v - target)²` and `dL/dθ` per
/// parameter, from the traces' sensitivity columns (exact, as the tangents are). Probes missing from
/// the target are ignored; samples outside the target's time range are skipped.
pub fn mse_loss(
    traces: &Traces,
    target: &TargetTraces,
    windows: &[Window],
) -> Result<(f64, Vec<(String, f64)>), LossError> {
    let r = Residuals::new(traces, target, windows)?;
    let gradient = r.gradient();
    Ok((r.loss(), r.parameters.into_iter().zip(gradient).collect()))
}
