//! `rall run`: a model file in, probe traces (CSV, .npy or .npz; optionally a PNG or SVG plot) out.

use indicatif::{ProgressBar, ProgressStyle};
use rall::Traces;
use rall::mechanism::Catalogue;
use rall::model::{Model, load_model};
use rall::sensitivity::ParameterSpec;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What every simulating subcommand takes.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The TOML model file.
    pub model: PathBuf,
    /// Output file: CSV (t in ms, probes in their units, sensitivities per unit of their parameter); with a
    /// `.npy` extension NumPy's format (one structured array, a named float64 field per CSV column); with
    /// `.npz` a NumPy archive of time, traces [time, probe], sensitivities [time, probe, parameter], spike
    /// times and gids, and their names; `-` writes the CSV to standard output.
    #[arg(short, long, default_value = "traces.csv")]
    pub output: PathBuf,
    /// Also draw the traces (and sensitivities) into this file: PNG, or SVG for a name ending in .svg.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write the spikes (t, gid, cell) to this CSV (default for networks: OUTPUT with `_spikes.csv`).
    #[arg(long)]
    pub spikes: Option<PathBuf>,
    /// Plot only the window START:END [ms].
    #[arg(long)]
    pub plot_window: Option<String>,
    /// Override the simulated time [ms].
    #[arg(long)]
    pub t_stop: Option<f64>,
    /// Override the time step [ms].
    #[arg(long)]
    pub dt: Option<f64>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// With [homeostasis]: skip the short probe runs that estimate the loop gain and the stability limit of α.
    #[arg(long)]
    pub skip_stability_check: bool,
}

pub fn run(args: &RunArgs) -> Result<(), String> {
    let (model, traces) = simulate(args, |_| Ok(Vec::new()))?;
    if let Some(png) = &args.plot {
        let range = args.plot_window.as_deref().map(crate::plot::parse_window).transpose()?;
        let shown = crate::plot::window(&traces, range);
        match &model.homeostasis {
            // Long controlled runs: the rate against its target and the parameters, not raw traces.
            Some(h) => crate::plot_activity::plot_homeostasis(&shown, h.target_hz, png)?,
            None => crate::plot::plot_traces(&shown, &title(&args.model), png)?,
        }
        eprintln!("wrote the plot to {}", png.display());
        if model.network.is_some() {
            let stem = png.file_stem().unwrap_or_default().to_string_lossy();
            let extension = png.extension().unwrap_or_default().to_string_lossy();
            let spikes_png = png.with_file_name(format!("{stem}_spikes.{extension}"));
            crate::plot_activity::plot_network(&traces, model.cells.len(), model.options.t_stop_ms, &spikes_png)?;
            eprintln!("wrote the spike raster and rate histogram to {}", spikes_png.display());
        }
    }
    Ok(())
}

pub fn title(model: &Path) -> String {
    model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Loads the model, applies the overrides, simulates (with the sensitivities `parameters` picks
/// from the model), writes the CSV and reports; returns the model and the traces.
pub fn simulate(
    args: &RunArgs,
    parameters: impl Fn(&Model) -> Result<Vec<ParameterSpec>, String>,
) -> Result<(Model, Traces), String> {
    let mut model = load_model(&args.model, &Catalogue::default()).map_err(|e| e.to_string())?;
    for warning in &model.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(t) = args.t_stop {
        model.options.t_stop_ms = t;
    }
    if let Some(dt) = args.dt {
        model.options.dt_ms = dt;
    }
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", args.model.display());
    let specs = parameters(&model)?;
    if let Some(h) = &model.homeostasis {
        if !specs.is_empty() {
            return Err(at(
                &"[homeostasis] brings its own sensitivities: run it without --param or [[parameter]]",
            ));
        }
        if !args.skip_stability_check {
            stability_check(&model, h).map_err(|e| at(&e))?;
        }
    }
    // Sensitivities of a single cell are split over the threads (each share of lanes repeats the run).
    let mut simulation = model
        .simulation_over_threads(&model.cells, &specs)
        .map_err(|e| at(&e))?;
    let cvs = simulation.cv_count();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1000)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating [{bar:40}] {percent:>3}% {elapsed} (eta {eta})").unwrap(),
    );
    let start = Instant::now();
    let traces = simulation
        .run_with(&model.options, |fraction| {
            bar.set_position((fraction * 1000.0) as u64);
            true
        })
        .map_err(|e| at(&e))?;
    bar.finish_and_clear();
    let wall = start.elapsed().as_secs_f64();
    for warning in simulation.accuracy_warnings() {
        eprintln!("warning: {}: {warning}", args.model.display());
    }
    write_traces(&traces, &args.output)?;
    let to_stdout = args.output == Path::new("-");
    let has_detectors = model.cells.iter().any(|(_, c)| !c.decor.detectors.is_empty());
    // An .npz archive holds the spikes itself.
    let spikes_path = args.spikes.clone().or_else(|| {
        (!to_stdout && extension(&args.output) != "npz" && (model.network.is_some() || has_detectors)).then(|| {
            let stem = args.output.file_stem().unwrap_or_default().to_string_lossy();
            args.output.with_file_name(format!("{stem}_spikes.csv"))
        })
    });
    if let Some(path) = &spikes_path {
        let mut text = String::from("t,gid,cell\n");
        for s in &traces.spikes {
            text.push_str(&format!("{},{},{}\n", s.t_ms, s.gid, traces.gids[s.gid]));
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {} spikes to {}", traces.spikes.len(), path.display());
    } else if !traces.spikes.is_empty() && to_stdout {
        eprintln!(
            "{} spikes not written (standard output holds the traces): --spikes FILE writes them",
            traces.spikes.len()
        );
    }
    let o = &model.options;
    eprintln!(
        "simulated {} ms ({} cells, {cvs} CVs, dt {} ms{}) in {wall:.3} s; wrote {} samples of {} columns to {}",
        o.t_stop_ms,
        model.cells.len(),
        o.dt_ms,
        if specs.is_empty() {
            String::new()
        } else {
            format!(", {} sensitivities", specs.len())
        },
        traces.time_ms.len(),
        traces.names.len() + traces.tangent_names.len(),
        if to_stdout {
            "standard output".into()
        } else {
            args.output.display().to_string()
        }
    );
    Ok((model, traces))
}

/// Estimates the loop gain from 20 s probe runs of the first cell and warns when α exceeds the linear limit.
fn stability_check(model: &Model, h: &rall::control::HomeostasisSpec) -> Result<(), String> {
    let options = rall::control::probe_options(&model.options);
    let (_, cell) = &model.cells[0];
    let g = rall::control::estimate_loop_gain(cell, &model.catalogue, h, &options, 0.05)?;
    eprintln!(
        "homeostasis: loop gain G = {:.4} (mV·Hz, from 20 s probe runs at {:.2} Hz); linear stability needs α < λ(λ + 1/τ_f)/G = {:.3e} /ms",
        g.gain, g.rate_hz, g.alpha_limit
    );
    if h.learning_rate_per_ms > g.alpha_limit {
        let regime = match h.clip {
            Some(c) => format!(
                "with clip = {c} the update moves at the fixed speed α·clip, so expect the parameters to swing around their operating point by an amount that grows with α (docs/homeostasis.md)"
            ),
            None => "without clipping the loop will oscillate or diverge: lower α, raise λ, or set clip".into(),
        };
        eprintln!(
            "warning: α = {:.3e} /ms exceeds the linear stability limit {:.3e} /ms; {regime}",
            h.learning_rate_per_ms, g.alpha_limit
        );
    }
    Ok(())
}

/// A path's extension in lower case (empty without one).
fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn write_traces(traces: &Traces, path: &Path) -> Result<(), String> {
    if path == Path::new("-") {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let written = traces.write_csv(&mut out).and_then(|_| std::io::Write::flush(&mut out));
        return match written {
            // A reader that stops early (`| head`) is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("standard output: {e}")),
            _ => Ok(()),
        };
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    rall::export::write_traces_file(traces, path).map_err(|e| format!("{}: {e}", path.display()))
}
