//! The `rall` command: arguments in, subcommands run (run, inspect), errors printed with their file and line.

mod commands;
mod plot;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rall",
    version,
    about = "Multicompartmental neuron simulator with exact gradients"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a model file and write the probe traces as CSV (t in ms, probes in mV).
    Run {
        /// The TOML model file.
        model: PathBuf,
        /// Output CSV file.
        #[arg(short, long, default_value = "traces.csv")]
        output: PathBuf,
        /// Also draw the traces into this PNG file.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Plot only the window START:END [ms].
        #[arg(long)]
        plot_window: Option<String>,
        /// Override the simulated time [ms].
        #[arg(long)]
        t_stop: Option<f64>,
        /// Override the time step [ms].
        #[arg(long)]
        dt: Option<f64>,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Simulate with exact sensitivities: writes `t`, each probe and `d<probe>/d<param>` columns;
    /// with --target, prints the loss and its gradient.
    Grad {
        /// The TOML model file (its [[parameter]] entries are differentiated).
        model: PathBuf,
        /// Output CSV file.
        #[arg(short, long, default_value = "sensitivities.csv")]
        output: PathBuf,
        /// More parameters: NAME[@REGION][:value|multiplier|log], e.g. hh.gnabar@soma:multiplier.
        #[arg(long = "param")]
        params: Vec<String>,
        /// A CSV of target traces (t in ms, columns named like the probes).
        #[arg(long)]
        target: Option<PathBuf>,
        /// Loss window START:END[:WEIGHT] in ms (repeatable; default: the whole run).
        #[arg(long = "window")]
        windows: Vec<String>,
        /// Write the loss and gradient as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Draw the voltages and sensitivities into this PNG file.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Plot only the window START:END [ms].
        #[arg(long)]
        plot_window: Option<String>,
        /// Override the simulated time [ms].
        #[arg(long)]
        t_stop: Option<f64>,
        /// Override the time step [ms].
        #[arg(long)]
        dt: Option<f64>,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Parse and check NMODL files; print each mechanism's interface or its diagnostics.
    Check {
        /// The .mod files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print only diagnostics and the summary line.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Print the morphology and discretisation summary of a model file.
    Inspect {
        /// The TOML model file.
        model: PathBuf,
        /// Also list every branch: parent, tag, length, path distance from the root.
        #[arg(long)]
        branches: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            model,
            output,
            plot,
            plot_window,
            t_stop,
            dt,
            quiet,
        } => commands::run::run(&commands::run::RunArgs {
            model,
            output,
            plot,
            t_stop,
            dt,
            quiet,
            plot_window,
        }),
        Command::Grad {
            model,
            output,
            params,
            target,
            windows,
            json,
            plot,
            plot_window,
            t_stop,
            dt,
            quiet,
        } => {
            let run = commands::run::RunArgs {
                model,
                output,
                plot,
                t_stop,
                dt,
                quiet,
                plot_window,
            };
            commands::grad::grad(&commands::grad::GradArgs {
                run,
                params,
                target,
                windows,
                json,
            })
        }
        Command::Check { files, quiet } => commands::check::check(&files, quiet),
        Command::Inspect { model, branches } => commands::inspect::inspect(&model, branches),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
