//! Trace plots: sampled traces (and sensitivities) in, PNGs with one line per probe (time in ms) out.

use plotters::coord::Shift;
use plotters::prelude::*;
use rall::Traces;
use std::path::Path;
use std::sync::Once;

pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in, so plots need no system fonts.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// One panel: every series against time, with a legend.
fn panel(area: &Area, title: &str, y_label: &str, time: &[f64], series: &[(&str, &[f64])]) -> Result<(), String> {
    panel_xy(area, title, "t [ms]", y_label, time, series)
}

/// One panel: every series against `x`, with a legend.
pub(crate) fn panel_xy(
    area: &Area,
    title: &str,
    x_label: &str,
    y_label: &str,
    time: &[f64],
    series: &[(&str, &[f64])],
) -> Result<(), String> {
    let lines: Vec<(&str, &[f64], &[f64])> = series.iter().map(|(n, v)| (*n, time, *v)).collect();
    lines_panel(area, title, x_label, y_label, &lines)
}

/// One panel of lines, each with its own x values (non-finite points skipped), with a legend.
fn lines_panel(
    area: &Area,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[(&str, &[f64], &[f64])],
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw the plot: {e}");
    let range = |values: &mut dyn Iterator<Item = &f64>| {
        values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (mut x0, mut x1) = range(&mut lines.iter().flat_map(|l| l.1.iter()));
    let (mut lo, mut hi) = range(&mut lines.iter().flat_map(|l| l.2.iter()));
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if !lo.is_finite() {
        (lo, hi) = (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9 + 1e-3 * hi.abs().max(lo.abs()));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1.max(x0 + 1e-9), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, (name, x, y)) in lines.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let points = x.iter().copied().zip(y.iter().copied());
        chart
            .draw_series(LineSeries::new(
                points.filter(|(a, b)| a.is_finite() && b.is_finite()),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    // A legend of more than a dozen lines would hide the plot (networks: one line per cell).
    if lines.len() <= 12 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

fn check(traces: &Traces, path: &Path) -> Result<(), String> {
    if traces.time_ms.is_empty() || traces.values.is_empty() {
        return Err(format!("{}: nothing to plot (no probes)", path.display()));
    }
    Ok(())
}

/// The probe traces in one panel.
pub fn plot_traces(traces: &Traces, title: &str, path: &Path) -> Result<(), String> {
    check(traces, path)?;
    register_fonts();
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let series: Vec<(&str, &[f64])> = traces
        .names
        .iter()
        .map(String::as_str)
        .zip(traces.values.iter().map(Vec::as_slice))
        .collect();
    panel(&root, title, "V [mV]", &traces.time_ms, &series).map_err(|e| format!("{}: {e}", path.display()))?;
    root.present().map_err(|e| format!("{}: {e}", path.display()))
}

/// The probe traces above their sensitivities (one panel per parameter).
pub fn plot_with_sensitivities(traces: &Traces, title: &str, path: &Path) -> Result<(), String> {
    check(traces, path)?;
    register_fonts();
    let parameters = traces.parameters();
    let panels = 1 + parameters.len();
    let root = BitMapBackend::new(path, (1100, 380 * panels as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels, 1));
    let at = |e: String| format!("{}: {e}", path.display());
    let series: Vec<(&str, &[f64])> = traces
        .names
        .iter()
        .map(String::as_str)
        .zip(traces.values.iter().map(Vec::as_slice))
        .collect();
    panel(&areas[0], title, "V [mV]", &traces.time_ms, &series).map_err(at)?;
    for (area, parameter) in areas[1..].iter().zip(&parameters) {
        let series: Vec<(&str, &[f64])> = traces
            .tangent_names
            .iter()
            .zip(&traces.tangents)
            .filter(|(n, _)| n.ends_with(&format!("/d{parameter}")))
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        panel(
            area,
            &format!("sensitivity to {parameter}"),
            &format!("dV/d{parameter}"),
            &traces.time_ms,
            &series,
        )
        .map_err(at)?;
    }
    root.present().map_err(|e| format!("{}: {e}", path.display()))
}

/// The samples of `traces` between `start` and `end` [ms], for plotting a window.
pub fn window(traces: &Traces, range: Option<(f64, f64)>) -> Traces {
    let Some((start, end)) = range else {
        return traces.clone();
    };
    let keep: Vec<usize> = (0..traces.time_ms.len())
        .filter(|&k| traces.time_ms[k] >= start && traces.time_ms[k] <= end)
        .collect();
    let pick = |column: &Vec<f64>| keep.iter().map(|&k| column[k]).collect::<Vec<f64>>();
    Traces {
        time_ms: pick(&traces.time_ms),
        names: traces.names.clone(),
        values: traces.values.iter().map(pick).collect(),
        tangent_names: traces.tangent_names.clone(),
        tangents: traces.tangents.iter().map(pick).collect(),
        spikes: traces
            .spikes
            .iter()
            .filter(|s| s.t_ms >= start && s.t_ms <= end)
            .copied()
            .collect(),
        gids: traces.gids.clone(),
    }
}

/// Parses `START:END` [ms].
pub fn parse_window(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("--plot-window `{text}`: expected START:END in ms");
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    let (a, b) = (
        a.trim().parse::<f64>().map_err(|_| bad())?,
        b.trim().parse::<f64>().map_err(|_| bad())?,
    );
    if b > a { Ok((a, b)) } else { Err(bad()) }
}

/// One panel of [`plot_panels`]: `(title, x label, y label, x, named series)`.
pub type Panel<'a> = (&'a str, &'a str, &'a str, &'a [f64], Vec<(&'a str, &'a [f64])>);

/// Panels stacked vertically.
pub fn plot_panels(path: &Path, panels: &[Panel]) -> Result<(), String> {
    register_fonts();
    let root = BitMapBackend::new(path, (1000, 380 * panels.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (area, (title, x_label, y_label, x, series)) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        if x.is_empty() {
            continue;
        }
        panel_xy(area, title, x_label, y_label, x, series).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    root.present().map_err(|e| format!("{}: {e}", path.display()))
}

/// Series with their own x values, in one panel (for `rall plot`).
pub fn plot_xy_series(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<f64>, Vec<f64>)],
) -> Result<(), String> {
    register_fonts();
    if !series.iter().any(|s| s.2.iter().any(|v| v.is_finite())) {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let at = |e: String| format!("{}: {e}", path.display());
    let root = BitMapBackend::new(path, (1100, 650)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| at(e.to_string()))?;
    let lines: Vec<(&str, &[f64], &[f64])> = series
        .iter()
        .map(|(n, x, y)| (n.as_str(), x.as_slice(), y.as_slice()))
        .collect();
    lines_panel(&root, title, x_label, y_label, &lines).map_err(at)?;
    root.present().map_err(|e| at(e.to_string()))
}
