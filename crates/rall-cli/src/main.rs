//! The `rall` command: arguments in, subcommands run (run, grad, fit, plot, check, import, inspect), errors printed with their file and line.

/// `println!` for a command's results: when the reader stops early (`rall check *.mod | head`), the program
/// ends quietly instead of panicking on the closed pipe.
macro_rules! out {
    () => {
        $crate::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::print_line(format_args!($($arg)*))
    };
}

mod commands;
mod plot;
mod plot_activity;
mod plot_file;

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
    /// How NMODL kernels run: cranelift (compiled inside rall, the default), cc (built by the machine's C
    /// compiler at full vector width, cached; needs the system-compiler feature) or interpreter (the
    /// reference). Default: $RALL_BACKEND, else cranelift.
    #[arg(long, global = true, value_name = "BACKEND")]
    backend: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a model file and write the probe traces as CSV (t in ms, probes in mV).
    Run(commands::run::RunArgs),
    /// Simulate with exact sensitivities: writes `t`, each probe and `d<probe>/d<param>` columns;
    /// with --target, prints the loss and its gradient.
    Grad(commands::grad::GradArgs),
    /// Fit the parameters of a model's [fit] table with exact gradients (Adam, L-BFGS) or CMA-ES.
    Fit(commands::fit::FitArgs),
    /// Plot columns of CSV files (as run and fit write them) against each other, several files in one PNG.
    Plot(commands::plot::PlotArgs),
    /// Parse and check NMODL files; print each mechanism's interface or its diagnostics.
    Check {
        /// The .mod files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print only diagnostics and the summary line.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Write a rall model file from another tool's cell model (BluePyOpt), using its files in place.
    #[command(subcommand)]
    Import(commands::import::ImportFrom),
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
    if let Some(name) = &cli.backend
        && let Err(message) = rall_nmodl::ir::Backend::from_name(name).and_then(rall_nmodl::ir::Backend::choose)
    {
        eprintln!("error: --backend: {message}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Run(args) => commands::run::run(&args),
        Command::Grad(args) => commands::grad::grad(&args),
        Command::Fit(args) => commands::fit::fit(&args),
        Command::Plot(args) => commands::plot::plot(&args),
        Command::Check { files, quiet } => commands::check::check(&files, quiet),
        Command::Import(from) => commands::import::import(&from),
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

/// Writes one line to standard output; a closed pipe ends the program with success (the reader has what it
/// wanted), any other write error with a message.
fn print_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}
