//! `rall fit`: a model file with a `[fit]` table in, the fitted parameters (CSV history, JSON best, PNG plots) out.

use indicatif::{ProgressBar, ProgressStyle};
use rall::Traces;
use rall::fit::{FitProblem, FitResult, Identifiability, Record};
use rall::mechanism::Catalogue;
use rall::model::{Optimizer, load_model};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct FitArgs {
    /// The TOML model file, with a [fit] table.
    pub model: PathBuf,
    /// One row per iteration: iteration, simulations, seconds, loss, every multiplier.
    #[arg(short, long, default_value = "fit.csv")]
    pub output: PathBuf,
    /// The best parameters as JSON (rewritten after every iteration; default: OUTPUT with .json).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write PLOT_loss.png, PLOT_parameters.png and PLOT_trace.png (.svg for a PLOT ending in .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Override [fit] iterations.
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Override the simulated time [ms].
    #[arg(long)]
    pub t_stop: Option<f64>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Start from the multipliers of a JSON that `rall fit` wrote (to continue a fit, or to lengthen it with
    /// --t-stop), instead of the parameters' `start`.
    #[arg(long, value_name = "FIT.json")]
    pub start: Option<PathBuf>,
    /// Do not optimise: report how well the loss identifies each parameter at the start (`start`) or at
    /// the `truth` multipliers, and write it to --json (default: OUTPUT's stem + `_identifiability.json`).
    #[arg(long, value_name = "start|truth")]
    pub identify_at: Option<IdentifyAt>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum IdentifyAt {
    Start,
    Truth,
}

pub fn fit(args: &FitArgs) -> Result<(), String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", args.model.display());
    let mut model = load_model(&args.model, &Catalogue::default()).map_err(|e| e.to_string())?;
    for warning in &model.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(t) = args.t_stop {
        model.options.t_stop_ms = t;
    }
    let mut spec = model
        .fit
        .clone()
        .ok_or_else(|| at(&"no [fit] table: add one with [[fit.parameter]] entries"))?;
    if let Some(path) = &args.start {
        let labels: Vec<String> = spec.parameters.iter().map(|p| p.spec.label()).collect();
        for (p, m) in spec.parameters.iter_mut().zip(read_start(path, &labels)?) {
            if !(p.lower <= m && m <= p.upper) {
                return Err(format!(
                    "{}: the multiplier of `{}` is {m}, outside its bounds [{}, {}]",
                    path.display(),
                    p.spec.label(),
                    p.lower,
                    p.upper
                ));
            }
            p.start = m;
        }
    }
    let labels: Vec<String> = spec.parameters.iter().map(|p| p.spec.label()).collect();
    let problem = model.fit_problem(&spec)?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if let Some(point) = args.identify_at {
        // Its own file, so that a fit's JSON (perhaps the --start file) is never overwritten.
        let json_path = args.json.clone().unwrap_or_else(|| {
            let stem = args.output.file_stem().unwrap_or_default().to_string_lossy();
            args.output.with_file_name(format!("{stem}_identifiability.json"))
        });
        if args.start.as_ref() == Some(&json_path) {
            return Err(format!(
                "{}: is the --start file; name another with --json",
                json_path.display()
            ));
        }
        let m: Vec<f64> = match point {
            IdentifyAt::Start => spec.parameters.iter().map(|p| p.start).collect(),
            IdentifyAt::Truth => spec
                .truth
                .clone()
                .ok_or_else(|| at(&"--identify-at truth needs a `truth` on every [[fit.parameter]]"))?,
        };
        let identifiability = problem.identifiability(&m).map_err(|e| at(&e))?;
        print_identifiability(&identifiability);
        let json = serde_json::json!({ "identifiability": identifiability_json(&identifiability) });
        write_json(&json_path, &json)?;
        eprintln!("wrote {}", json_path.display());
        return Ok(());
    }
    let json_path = args.json.clone().unwrap_or_else(|| args.output.with_extension("json"));
    let iterations = args.iterations.unwrap_or(spec.iterations);
    let cost = problem.cost_of_gradient().map_err(|e| at(&e))?;
    let mut csv = std::io::BufWriter::new(
        std::fs::File::create(&args.output).map_err(|e| format!("{}: {e}", args.output.display()))?,
    );
    writeln!(csv, "iteration,simulations,seconds,loss,{}", labels.join(",")).map_err(|e| e.to_string())?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(iterations as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} fitting [{bar:30}] {pos}/{len} {elapsed} loss {msg}").unwrap(),
    );
    let mut best = f64::INFINITY;
    let mut failure = None;
    // Every iteration is written (and flushed) as it comes, with the best parameters so far:
    // an interrupted fit keeps what it found.
    let observe = |r: &Record| {
        let row: Vec<String> = r.multipliers.iter().map(|m| format!("{m}")).collect();
        if let Err(e) = writeln!(
            csv,
            "{},{},{:.6},{:e},{}",
            r.iteration,
            r.simulations,
            r.seconds,
            r.loss,
            row.join(",")
        )
        .and_then(|_| csv.flush())
        {
            failure = Some(e.to_string());
            return false;
        }
        if r.loss < best {
            best = r.loss;
            if let Err(e) = write_json(&json_path, &best_json(&labels, &r.multipliers, r.loss, r.iteration)) {
                failure = Some(e);
                return false;
            }
        }
        bar.set_position(r.iteration as u64 + 1);
        bar.set_message(format!("{:.4e}", r.loss));
        true
    };
    let result = match spec.optimizer {
        Optimizer::Adam(s) => problem.adam(s, iterations, observe),
        Optimizer::Lbfgs(s) => problem.lbfgs(s, iterations, observe),
        Optimizer::LevenbergMarquardt(s) => problem.levenberg_marquardt(s, iterations, observe),
        Optimizer::Cmaes(s) => problem.cmaes(s, iterations, observe),
    }
    .map_err(|e| at(&e))?;
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    report(&result, &labels, cost);
    // How sharply the loss pins each parameter at the best point (one simulation with every sensitivity).
    let identifiability = problem.identifiability(&result.best_multipliers).map_err(|e| at(&e))?;
    print_identifiability(&identifiability);
    let mut json = best_json(
        &labels,
        &result.best_multipliers,
        result.best_loss,
        result.best_iteration,
    );
    json["identifiability"] = identifiability_json(&identifiability);
    write_json(&json_path, &json)?;
    if let Some(prefix) = &args.plot {
        plots(prefix, &result, &labels, &problem)?;
    }
    eprintln!(
        "wrote the history to {} and the best parameters to {}",
        args.output.display(),
        json_path.display()
    );
    Ok(())
}

fn best_json(labels: &[String], multipliers: &[f64], loss: f64, iteration: usize) -> serde_json::Value {
    let parameters: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .zip(multipliers)
        .map(|(l, m)| (l.clone(), serde_json::json!(m)))
        .collect();
    serde_json::json!({ "loss": loss, "iteration": iteration, "multipliers": parameters })
}

/// The multipliers (in the model's parameter order) of a fit's JSON.
fn read_start(path: &std::path::Path, labels: &[String]) -> Result<Vec<f64>, String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let text = rall::read_text(path).map_err(|e| at(&e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| at(&e))?;
    let multipliers = json["multipliers"]
        .as_object()
        .ok_or_else(|| at(&"no `multipliers` object (expected the JSON that rall fit writes)"))?;
    labels
        .iter()
        .map(|label| {
            multipliers
                .get(label)
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| {
                    let known: Vec<&String> = multipliers.keys().collect();
                    at(&format!("no multiplier for `{label}` (the file has {known:?})"))
                })
        })
        .collect()
}

fn write_json(path: &std::path::Path, json: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(json).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Infinite bounds (a parameter the loss cannot see) become JSON nulls.
fn identifiability_json(id: &Identifiability) -> serde_json::Value {
    let finite = |x: f64| {
        if x.is_finite() {
            serde_json::json!(x)
        } else {
            serde_json::Value::Null
        }
    };
    let parameters: Vec<serde_json::Value> = id
        .parameters
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "multiplier": p.multiplier,
                "loss_rise_5_percent_alone": p.rise_alone_5_percent,
                "loss_rise_5_percent_compensated": p.rise_compensated_5_percent,
                "relative_error_bound": finite(p.relative_error_bound),
            })
        })
        .collect();
    serde_json::json!({
        "loss": id.loss,
        "scaled_eigenvalues": id.eigenvalues,
        "curvature": id.curvature.chunks(id.parameters.len().max(1)).collect::<Vec<_>>(),
        "loss_for_5_percent": id.loss_for_5_percent(),
        "parameters": parameters,
    })
}

fn print_identifiability(id: &Identifiability) {
    out!(
        "identifiability at loss {:.4e} (loss rise when a parameter is 5% off, alone and with the others compensating; \
         error bound from the loss reached, quadratic model):",
        id.loss
    );
    print!("{}", id.table());
}

fn report(result: &FitResult, labels: &[String], cost: f64) {
    let last = result.history.last();
    let first = result.history.first().map_or(f64::NAN, |r| r.loss);
    out!(
        "loss {first:.6e} -> {:.6e} after {} iterations, {} simulations, {:.2} s (a gradient run costs {cost:.2} plain runs)",
        result.best_loss,
        result.history.len(),
        last.map_or(0, |r| r.simulations),
        last.map_or(0.0, |r| r.seconds)
    );
    out!("{:<32} {:>14}", "parameter", "multiplier");
    for (l, m) in labels.iter().zip(&result.best_multipliers) {
        out!("{l:<32} {m:>14.6}");
    }
}

fn plots(prefix: &std::path::Path, result: &FitResult, labels: &[String], problem: &FitProblem) -> Result<(), String> {
    // A prefix that ends in .svg (or .png) picks the format and loses its extension.
    let (prefix, extension) = match prefix.extension().and_then(|e| e.to_str()) {
        Some(e @ ("svg" | "png")) => (prefix.with_extension(""), e),
        _ => (prefix.to_path_buf(), "png"),
    };
    let path = |suffix: &str| PathBuf::from(format!("{}_{suffix}.{extension}", prefix.display()));
    let iterations: Vec<f64> = result.history.iter().map(|r| r.iteration as f64).collect();
    let seconds: Vec<f64> = result.history.iter().map(|r| r.seconds).collect();
    let log_loss: Vec<f64> = result.history.iter().map(|r| r.loss.max(1e-300).log10()).collect();
    crate::plot::plot_panels(
        &path("loss"),
        &[
            (
                "loss against iterations",
                "iteration",
                "log10 loss",
                &iterations,
                vec![("loss", log_loss.as_slice())],
            ),
            (
                "loss against wall time",
                "wall time [s]",
                "log10 loss",
                &seconds,
                vec![("loss", log_loss.as_slice())],
            ),
        ],
    )?;
    let trajectories: Vec<Vec<f64>> = (0..labels.len())
        .map(|k| result.history.iter().map(|r| r.multipliers[k]).collect())
        .collect();
    let series: Vec<(&str, &[f64])> = labels
        .iter()
        .map(String::as_str)
        .zip(trajectories.iter().map(Vec::as_slice))
        .collect();
    crate::plot::plot_panels(
        &path("parameters"),
        &[("parameters", "iteration", "multiplier", &iterations, series)],
    )?;
    // Each protocol's target, the start's traces and the fit's, one panel per protocol (drawn in that order,
    // each line thinner than the one under it, so a fit on its target shows as a stripe).
    let start: Vec<f64> = problem.parameters.iter().map(|p| p.start).collect();
    let mut panels = Vec::new();
    for protocol in &problem.protocols {
        let fitted: Traces = problem.simulate_protocol(protocol, &result.best_multipliers, false, f64::INFINITY)?;
        let started: Traces = problem.simulate_protocol(protocol, &start, false, f64::INFINITY)?;
        let axis = crate::plot::TimeAxis::for_span(fitted.time_ms.last().copied().unwrap_or(0.0));
        let mut series: Vec<(String, Vec<f64>)> = Vec::new();
        for (name, values) in fitted.names.iter().zip(&fitted.values) {
            let Some(c) = protocol.target.names.iter().position(|n| n == name) else {
                continue;
            };
            let target = fitted
                .time_ms
                .iter()
                .map(|&t| protocol.target.at(c, t).unwrap_or(f64::NAN));
            series.push((format!("{name} (target)"), target.collect()));
            if let Some(first) = started.column(name) {
                series.push((format!("{name} (start)"), first.to_vec()));
            }
            series.push((format!("{name} (fit)"), values.clone()));
        }
        panels.push((protocol.name.clone(), axis, axis.convert(&fitted.time_ms), series));
    }
    let panels: Vec<_> = panels
        .iter()
        .map(|(name, axis, time, series)| {
            let refs: Vec<(&str, &[f64])> = series.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
            (name.as_str(), axis.label, "V [mV]", time.as_slice(), refs)
        })
        .collect();
    crate::plot::plot_panels(&path("trace"), &panels)?;
    eprintln!(
        "wrote {}, {} and {}",
        path("loss").display(),
        path("parameters").display(),
        path("trace").display()
    );
    Ok(())
}
