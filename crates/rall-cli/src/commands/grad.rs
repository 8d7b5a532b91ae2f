//! `rall grad`: a model file and parameters in, voltage and sensitivity traces (CSV, plot) and, against a
//! target, the loss and its exact gradient (table and JSON) out.

use super::run::{RunArgs, simulate, title};
use rall::fit::{TargetTraces, Window, check_before_run, mse_loss};
use rall::sensitivity::ParameterSpec;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct GradArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// More parameters: NAME[@REGION][:value|multiplier|log], e.g. hh.gnabar@soma:multiplier
    /// (added to the model's [[parameter]] entries).
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// A CSV of target traces (t in ms, columns named like the probes).
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// Loss window START:END[:WEIGHT] in ms (repeatable; default: the whole run).
    #[arg(long = "window")]
    pub windows: Vec<String>,
    /// Write the loss and gradient as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Parses `hh.gnabar@soma:multiplier`.
pub fn parse_param(text: &str) -> Result<ParameterSpec, String> {
    ParameterSpec::parse(text).map_err(|e| format!("--param {e}"))
}

fn parse_window(text: &str) -> Result<Window, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("--window `{text}`: expected START:END[:WEIGHT] in ms"))
    };
    match parts.as_slice() {
        [a, b] => Ok(Window {
            start_ms: number(a)?,
            end_ms: number(b)?,
            weight: 1.0,
        }),
        [a, b, w] => Ok(Window {
            start_ms: number(a)?,
            end_ms: number(b)?,
            weight: number(w)?,
        }),
        _ => Err(format!("--window `{text}`: expected START:END[:WEIGHT] in ms")),
    }
}

pub fn grad(args: &GradArgs) -> Result<(), String> {
    let extra: Vec<ParameterSpec> = args.params.iter().map(|p| parse_param(p)).collect::<Result<_, _>>()?;
    let windows: Vec<Window> = args.windows.iter().map(|w| parse_window(w)).collect::<Result<_, _>>()?;
    // The target and the windows are checked before the simulation, not after it.
    let target = match &args.target {
        Some(path) => Some(TargetTraces::read_csv(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let (model, traces) = simulate(&args.run, |model| {
        if let Some(target) = &target {
            let warning = check_before_run(target, &windows, model.options.t_stop_ms).map_err(|e| e.to_string())?;
            if let Some(warning) = warning {
                eprintln!("warning: {}: {warning}", args.target.as_ref().unwrap().display());
            }
        }
        let specs = specs_of(model, &extra);
        if specs.is_empty() {
            return Err(format!(
                "{}: no parameters to differentiate: add [[parameter]] entries or --param NAME[@REGION]",
                args.run.model.display()
            ));
        }
        Ok(specs)
    })?;
    let loss = match &target {
        Some(target) => Some(mse_loss(&traces, target, &windows).map_err(|e| e.to_string())?),
        None => None,
    };
    if let Some(png) = &args.run.plot {
        let range = args
            .run
            .plot_window
            .as_deref()
            .map(crate::plot::parse_window)
            .transpose()?;
        let shown = crate::plot::window(&traces, range);
        let mut extra_plot = crate::plot::SensitivityPlot {
            units: specs_of(&model, &extra)
                .iter()
                .map(|spec| (spec.label(), sensitivity_unit(&model, spec)))
                .collect(),
            ..Default::default()
        };
        if let (Some(target), Some(path), Some((loss, _))) = (&target, &args.target, &loss) {
            for (c, name) in target.names.iter().enumerate() {
                let values = shown
                    .time_ms
                    .iter()
                    .map(|&t| target.at(c, t).unwrap_or(f64::NAN))
                    .collect();
                extra_plot.target.push((format!("{name} (target)"), values));
            }
            let file = path
                .file_name()
                .map_or(path.display().to_string(), |f| f.to_string_lossy().into());
            extra_plot.note = Some(format!("loss {loss:.4e} against {file}"));
        }
        crate::plot::plot_with_sensitivities(&shown, &title(&args.run.model), png, &extra_plot)?;
        eprintln!("wrote the plot to {}", png.display());
    }
    let (Some(target_path), Some((loss, gradient))) = (&args.target, loss) else {
        return Ok(());
    };
    out!(
        "loss = {loss:.9e} (½ mean squared error against {})",
        target_path.display()
    );
    out!("{:<36} {:>18}", "parameter", "dL/dθ");
    for (name, g) in &gradient {
        out!("{name:<36} {g:>18.9e}");
    }
    if let Some(json) = &args.json {
        let object = serde_json::json!({
            "model": args.run.model.display().to_string(),
            "target": target_path.display().to_string(),
            "loss": loss,
            "gradient": gradient.iter().map(|(n, g)| (n.clone(), serde_json::json!(g))).collect::<serde_json::Map<_, _>>(),
        });
        std::fs::write(json, serde_json::to_string_pretty(&object).unwrap())
            .map_err(|e| format!("{}: {e}", json.display()))?;
        eprintln!("wrote the gradient to {}", json.display());
    }
    Ok(())
}

/// The model's `[[parameter]]`s followed by the command line's `--param`s.
fn specs_of(model: &rall::model::Model, extra: &[ParameterSpec]) -> Vec<ParameterSpec> {
    let mut specs = model.parameters.clone();
    specs.extend(extra.iter().cloned());
    specs
}

/// The unit of `dV/dθ` for a parameter: mV for a multiplier or a logarithm (θ has no unit), mV per the
/// parameter's own unit for a value.
fn sensitivity_unit(model: &rall::model::Model, spec: &ParameterSpec) -> String {
    use rall::sensitivity::Transform;
    match spec.transform {
        Transform::Multiplier | Transform::Log => "mV".into(),
        Transform::Value => {
            let unit = match spec.name.split_once('.') {
                Some((mechanism, parameter)) => model
                    .catalogue
                    .parameters(mechanism)
                    .ok()
                    .and_then(|ps| ps.into_iter().find(|p| p.name == parameter))
                    .and_then(|p| p.unit),
                None => match spec.name.as_str() {
                    "cm" => Some("uF/cm2".into()),
                    "ra" => Some("ohm cm".into()),
                    _ if spec.name.ends_with(".amplitude") => Some("nA".into()),
                    _ => None,
                },
            };
            unit.map_or("mV per unit of θ".into(), |u| format!("mV per {u}"))
        }
    }
}
