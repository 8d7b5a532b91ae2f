//! Activity plots for long runs: spikes and controller columns in; PNGs or SVGs of the firing rate against time with
//! its target, the controlled parameters against time, a spike raster and a histogram of the cells' rates out.

use crate::plot::{Area, TimeAxis, colour, frame, panel_xy, register_fonts, ticks};
use plotters::prelude::*;
use rall::Traces;
use std::path::Path;

/// Rate (sensor) and multipliers against time (s for runs over 20 s), one panel each, for a run with
/// `[homeostasis]`.
pub fn plot_homeostasis(traces: &Traces, target_hz: f64, path: &Path) -> Result<(), String> {
    register_fonts();
    let at = |e: String| format!("{}: {e}", path.display());
    let axis = TimeAxis::for_span(traces.time_ms.last().copied().unwrap_or(0.0));
    let seconds = axis.convert(&traces.time_ms);
    let pick = |f: &dyn Fn(&str) -> bool| -> Vec<(String, &[f64])> {
        traces
            .names
            .iter()
            .zip(&traces.values)
            .filter(|(n, _)| f(n))
            .map(|(n, v)| (n.clone(), v.as_slice()))
            .collect()
    };
    let rates = pick(&|n| n.ends_with("homeostasis.rate"));
    let multipliers = pick(&|n| n.contains("homeostasis.m["));
    if rates.is_empty() {
        return Err(at("no homeostasis columns to plot".into()));
    }
    let target = vec![target_hz; seconds.len()];
    let mut rate_series: Vec<(&str, &[f64])> = rates.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    rate_series.push(("target", &target));
    let m_series: Vec<(&str, &[f64])> = multipliers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let root = crate::plot_file::PlotFile::new(path, (1100, 760))?.into_drawing_area();
    root.fill(&WHITE).map_err(|e| at(e.to_string()))?;
    let areas = root.split_evenly((2, 1));
    panel_xy(
        &areas[0],
        "firing rate (sensor) and target",
        axis.label,
        "rate [Hz]",
        &seconds,
        &rate_series,
    )
    .map_err(at)?;
    panel_xy(
        &areas[1],
        "controlled parameters",
        axis.label,
        "multiplier of the initial value",
        &seconds,
        &m_series,
    )
    .map_err(at)?;
    root.present().map_err(|e| at(e.to_string()))
}

/// A spike raster of the cells (gid against time) above a histogram of their rates over the second half.
pub fn plot_network(traces: &Traces, cells: usize, t_stop_ms: f64, path: &Path) -> Result<(), String> {
    register_fonts();
    let at = |e: &dyn std::fmt::Display| format!("{}: cannot draw the plot: {e}", path.display());
    let root = crate::plot_file::PlotFile::new(path, (1100, 760))?.into_drawing_area();
    root.fill(&WHITE).map_err(|e| at(&e))?;
    let areas = root.split_evenly((2, 1));
    raster(&areas[0], traces, cells, t_stop_ms).map_err(|e| at(&e))?;
    // Rates over the second half, after the transient (a controlled network's operating point).
    let seconds = t_stop_ms / 2000.0;
    let mut rates = vec![0.0; cells];
    for s in traces
        .spikes
        .iter()
        .filter(|s| s.gid < cells && s.t_ms > t_stop_ms / 2.0)
    {
        rates[s.gid] += 1.0 / seconds;
    }
    histogram(&areas[1], &rates).map_err(|e| at(&e))?;
    root.present().map_err(|e| at(&e))
}

fn raster(area: &Area, traces: &Traces, cells: usize, t_stop_ms: f64) -> Result<(), String> {
    let axis = TimeAxis::for_span(t_stop_ms);
    // Spike sources get their own rows above the cells (gids after the cells'), in the second colour.
    let gids = traces.gids.len().max(cells);
    let caption = match gids - cells {
        0 => format!("spikes of the {cells} cells"),
        1 => format!("spikes of the {cells} cells and of the spike source (gid {cells}, orange)"),
        n => format!(
            "spikes of the {cells} cells and of the {n} spike sources (gids {cells}-{}, orange)",
            gids - 1
        ),
    };
    // Room for a dot's radius around the data: 1 % of each axis (a spike at t = 0 or on the last row).
    let x_end = t_stop_ms.max(1e-9) * axis.per_ms;
    let (x_pad, y_pad) = (0.01 * x_end, 0.5 + 0.01 * gids as f64);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(46)
        .y_label_area_size(70)
        .build_cartesian_2d(-x_pad..x_end + x_pad, -y_pad..(gids as f64 - 1.0 + y_pad))
        .map_err(|e| e.to_string())?;
    // Gids are whole numbers from 0: label only those.
    let gid = |y: &f64| {
        if y.fract() == 0.0 && (0.0..gids as f64).contains(y) {
            format!("{y:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc(axis.label)
        .y_desc("gid")
        .x_label_formatter(&ticks(0.0, x_end))
        .y_label_formatter(&gid)
        .y_labels(gids.clamp(2, 11))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| e.to_string())?;
    frame(&chart)?;
    let radius = if gids > 200 { 1 } else { 2 };
    let points = traces.spikes.iter().filter(|s| s.gid < gids).map(|s| {
        let row = if s.gid < cells { colour(0) } else { colour(1) };
        Circle::new((s.t_ms * axis.per_ms, s.gid as f64), radius, row.filled())
    });
    chart.draw_series(points).map_err(|e| e.to_string())?;
    if gids > cells {
        let boundary = cells as f64 - 0.5;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-x_pad, boundary), (x_end + x_pad, boundary)],
                BLACK.mix(0.5).stroke_width(1),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn histogram(area: &Area, rates: &[f64]) -> Result<(), String> {
    let top = rates.iter().copied().fold(0.0f64, f64::max).max(1e-3) * 1.05;
    let bins = 20;
    let width = top / bins as f64;
    let mut counts = vec![0usize; bins];
    for r in rates {
        counts[((r / width) as usize).min(bins - 1)] += 1;
    }
    let highest = counts.iter().copied().max().unwrap_or(1).max(1);
    let mean = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("rates of the cells over the second half of the run (mean {mean:.3} Hz)"),
            ("sans-serif", 22),
        )
        .margin(12)
        .margin_right(40)
        .x_label_area_size(46)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..top, 0.0..(highest as f64 * 1.1))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("rate [Hz]")
        .y_desc("cells")
        .x_label_formatter(&ticks(0.0, top))
        .y_label_formatter(&ticks(0.0, highest as f64 * 1.1))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| e.to_string())?;
    frame(&chart)?;
    let bars = counts.iter().enumerate().map(|(k, &c)| {
        let x0 = k as f64 * width;
        Rectangle::new([(x0, 0.0), (x0 + width * 0.9, c as f64)], colour(0).mix(0.7).filled())
    });
    chart.draw_series(bars).map_err(|e| e.to_string())?;
    Ok(())
}
