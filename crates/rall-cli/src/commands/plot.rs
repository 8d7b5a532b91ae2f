//! `rall plot`: CSV files (as `rall run` and `rall fit` write them) in, one PNG with a column of each
//! against another out, e.g. the loss of several fits against wall time, or a parameter of several runs.

use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct PlotArgs {
    /// CSV files with a header line.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Column for the x axis.
    #[arg(long, default_value = "t")]
    pub x: String,
    /// Column(s) for the y axis (repeat for several).
    #[arg(long, required = true)]
    pub y: Vec<String>,
    /// Legend label per file (default: the file name).
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Plot log10 of y.
    #[arg(long)]
    pub log_y: bool,
    /// Divide x by this (e.g. 1000 for ms to s).
    #[arg(long, default_value_t = 1.0)]
    pub x_scale: f64,
    /// Axis labels (default: the column names).
    #[arg(long)]
    pub x_label: Option<String>,
    #[arg(long)]
    pub y_label: Option<String>,
    #[arg(long, default_value = "")]
    pub title: String,
    /// The plot to write: PNG, or SVG for a name ending in .svg.
    #[arg(short, long)]
    pub output: PathBuf,
}

fn read(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>), String> {
    let text = rall::read_text(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let mut columns = vec![Vec::new(); header.len()];
    for (i, line) in lines.enumerate() {
        for (c, field) in line.split(',').enumerate().take(header.len()) {
            let x = field.trim().parse::<f64>().map_err(|_| {
                format!(
                    "{}:{}: column `{}` must be a number, found `{field}`",
                    path.display(),
                    i + 2,
                    header[c]
                )
            })?;
            columns[c].push(x);
        }
    }
    Ok((header, columns))
}

pub fn plot(args: &PlotArgs) -> Result<(), String> {
    let mut series: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    for (k, file) in args.files.iter().enumerate() {
        let (header, columns) = read(file)?;
        let find = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                let hint = rall::suggest::did_you_mean(name, header.iter().map(String::as_str));
                format!("{}: no column `{name}`{hint}", file.display())
            })
        };
        let x: Vec<f64> = columns[find(&args.x)?].iter().map(|v| v / args.x_scale).collect();
        let label = args.labels.get(k).cloned().unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        for y in &args.y {
            let values = columns[find(y)?]
                .iter()
                .map(|v| if args.log_y { v.max(1e-300).log10() } else { *v })
                .collect();
            let name = if args.y.len() > 1 {
                format!("{label}: {y}")
            } else {
                label.clone()
            };
            series.push((name, x.clone(), values));
        }
    }
    let y_label = match (&args.y_label, args.log_y) {
        (Some(l), _) => l.clone(),
        (None, true) => format!("log10 {}", args.y.join(", ")),
        (None, false) => args.y.join(", "),
    };
    let x_label = args.x_label.as_deref().unwrap_or(&args.x);
    crate::plot::plot_xy_series(&args.output, &args.title, x_label, &y_label, &series)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}
