//! Trace plots: sampled traces (and sensitivities) in, PNGs or SVGs with one line per probe (time in ms) out.

use plotters::coord::Shift;
use plotters::prelude::*;
use rall::Traces;
use std::path::Path;
use std::sync::Once;

use crate::plot_file::PlotFile;

pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in, so plots need no system fonts.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

pub(crate) type Area<'a> = DrawingArea<PlotFile<'a>, Shift>;

/// Line colours: distinct on white and for most colour-blind readers (Okabe and Ito's palette without its
/// yellow, then darker tones), cycled for more lines.
const COLOURS: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(120, 60, 160),
    RGBColor(140, 86, 75),
    RGBColor(68, 170, 153),
];

/// The colour of a target line (`target`, `soma (target)`): a dark grey that no data line has.
const TARGET: RGBColor = RGBColor(70, 70, 70);

fn is_target(name: &str) -> bool {
    name == "target" || name.ends_with("(target)")
}

pub(crate) fn colour(k: usize) -> RGBColor {
    COLOURS[k % COLOURS.len()]
}

/// Line widths: with a few lines, each drawn thinner than the one before it and on top of it, so equal traces
/// (a soma and a nearby dendrite, a fit on its target) show as stripes rather than one hiding the other; a
/// dense line (more than two points per pixel column, e.g. a long spiking trace, whose spikes would thicken into
/// blocks) at most 3 pixels wide.
fn width(k: usize, lines: usize, dense: bool) -> u32 {
    match (lines, dense) {
        (1, _) => 2,
        (2..=4, false) => [5, 3, 2, 1][k],
        (2..=4, true) => [3, 2, 1, 1][k],
        (5..=12, _) => 2,
        _ => 1,
    }
}

/// Time in ms, or in s for a run longer than 20 s (so tick labels stay short).
#[derive(Clone, Copy)]
pub(crate) struct TimeAxis {
    pub per_ms: f64,
    pub label: &'static str,
}

impl TimeAxis {
    pub fn for_span(t_end_ms: f64) -> Self {
        if t_end_ms > 20_000.0 {
            Self {
                per_ms: 1e-3,
                label: "t [s]",
            }
        } else {
            Self {
                per_ms: 1.0,
                label: "t [ms]",
            }
        }
    }

    pub fn convert(self, time_ms: &[f64]) -> Vec<f64> {
        time_ms.iter().map(|t| t * self.per_ms).collect()
    }
}

/// A tick label with at most four significant digits and no trailing zeros (`-60`, `2.5`, `1.2e5`).
#[cfg(test)]
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 4) as usize;
    trimmed(format!("{v:.decimals$}"))
}

/// Tick labels for an axis from `lo` to `hi`: as many digits as tell neighbouring ticks apart (about ten
/// across the axis: 0.9995 and 1 on a multiplier axis from 0.997 to 1.001, not 1 and 1) and no trailing
/// zeros; exponents outside 1e-3..1e5.
pub(crate) fn ticks(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let step = (hi - lo).abs() / 10.0;
    let magnitude = lo.abs().max(hi.abs());
    move |v: &f64| {
        if *v == 0.0 || !(step > 0.0 && step.is_finite()) {
            return trimmed(format!("{v}"));
        }
        if (1e-3..1e5).contains(&magnitude) {
            let decimals = (-step.log10()).ceil().clamp(0.0, 8.0) as usize;
            trimmed(format!("{v:.decimals$}"))
        } else {
            let digits = (magnitude / step).log10().ceil().clamp(1.0, 8.0) as usize;
            format!("{v:.digits$e}")
        }
    }
}

/// `-0.50` as `-0.5`, `2.000` as `2`, `-0` as `0`.
fn trimmed(text: String) -> String {
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" { "0".into() } else { text.into() }
}

/// The points of a line that look like all of them at `columns` pixels across `x0..x1`: per pixel column the
/// first, lowest, highest and last point, in their order. `None` marks a gap (a non-finite point).
fn decimate(x: &[f64], y: &[f64], (x0, x1): (f64, f64), columns: usize) -> Vec<Option<(f64, f64)>> {
    let mut out = Vec::new();
    let column_of = |x: f64| ((x - x0) / (x1 - x0).max(1e-300) * columns as f64).floor() as i64;
    let mut bucket: Vec<(usize, f64, f64)> = Vec::new();
    let mut current = None;
    let flush = |bucket: &mut Vec<(usize, f64, f64)>, out: &mut Vec<Option<(f64, f64)>>| {
        if bucket.len() <= 4 {
            out.extend(bucket.iter().map(|&(_, a, b)| Some((a, b))));
        } else {
            let lowest = bucket.iter().min_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
            let highest = bucket.iter().max_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
            let mut keep = [bucket[0], *lowest, *highest, *bucket.last().unwrap()];
            keep.sort_by_key(|p| p.0);
            let mut last = usize::MAX;
            for p in keep {
                if p.0 != last {
                    out.push(Some((p.1, p.2)));
                    last = p.0;
                }
            }
        }
        bucket.clear();
    };
    for (k, (&a, &b)) in x.iter().zip(y).enumerate() {
        if !(a.is_finite() && b.is_finite()) {
            flush(&mut bucket, &mut out);
            out.push(None);
            current = None;
            continue;
        }
        let column = column_of(a);
        if current != Some(column) {
            flush(&mut bucket, &mut out);
            current = Some(column);
        }
        bucket.push((k, a, b));
    }
    flush(&mut bucket, &mut out);
    out
}

/// One panel: every series against time, with a legend.
fn panel(area: &Area, title: &str, y_label: &str, time: &[f64], series: &[(&str, &[f64])]) -> Result<(), String> {
    let axis = TimeAxis::for_span(time.last().copied().unwrap_or(0.0));
    let time = axis.convert(time);
    panel_xy(area, title, axis.label, y_label, &time, series)
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
    lines_panel(area, title, x_label, y_label, &lines).map(|_| ())
}

/// One panel of lines, each with its own x values, with a legend (up to a dozen lines); returns the plotting
/// area's pixel ranges. Lines are drawn as separate segments of at most four points per pixel column: a
/// thick path's joins at a spike's sharp turn would otherwise reach far outside the plot.
fn lines_panel(
    area: &Area,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[(&str, &[f64], &[f64])],
) -> Result<(std::ops::Range<i32>, std::ops::Range<i32>), String> {
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
    // Past a dozen lines a legend would cover the data: the lines take a colour scale by their order instead.
    let scaled = lines.len() > 12;
    let caption = if scaled {
        format!("{title} ({} lines)", lines.len())
    } else {
        title.to_string()
    };
    let label_width = if scaled {
        let widest = [lines[0].0, lines[lines.len() - 1].0]
            .map(|n| n.chars().count())
            .into_iter()
            .max();
        34 + 9 * widest.unwrap_or(0) as u32
    } else {
        0
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .margin_right(40 + label_width)
        .x_label_area_size(46)
        .y_label_area_size(84)
        .build_cartesian_2d(x0..x1.max(x0 + 1e-9), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&ticks(x0, x1))
        .y_label_formatter(&ticks(lo - pad, hi + pad))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| err(&e))?;
    frame(&chart).map_err(|e| err(&e))?;
    let (columns, rows) = chart.plotting_area().get_pixel_range();
    let pixels = (columns.end - columns.start).max(1) as usize;
    // Targets in grey, the other lines in the palette's colours in their order (a target would otherwise
    // share its colour with the line ten places before or after it).
    let mut next_colour = 0;
    for (k, (name, x, y)) in lines.iter().enumerate() {
        let dense = x.len() > 2 * pixels;
        let line_colour = if is_target(name) {
            TARGET
        } else if scaled {
            ramp(k as f64 / (lines.len() - 1) as f64)
        } else {
            next_colour += 1;
            colour(next_colour - 1)
        };
        let style = line_colour.stroke_width(width(k, lines.len(), dense));
        let points = decimate(x, y, (x0, x1), pixels);
        let segments = points.windows(2).filter_map(move |w| match (w[0], w[1]) {
            (Some(a), Some(b)) => Some(PathElement::new(vec![a, b], style)),
            _ => None,
        });
        chart
            .draw_series(segments)
            .map_err(|e| err(&e))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    if scaled {
        colour_scale(area, (&columns, &rows), lines[0].0, lines[lines.len() - 1].0).map_err(|e| err(&e))?;
    } else {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| err(&e))?;
    }
    Ok((columns, rows))
}

/// The colours of many lines in order, from navy through blue and teal to vermilion (`f` from 0 to 1): each
/// readable on white, neighbours alike, the ends far apart.
fn ramp(f: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (33.0, 49.0, 140.0),
        (0.0, 114.0, 178.0),
        (0.0, 158.0, 115.0),
        (150.0, 150.0, 0.0),
        (213.0, 94.0, 0.0),
    ];
    let x = f.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let (a, b, t) = (STOPS[k], STOPS[k + 1], x - k as f64);
    let mix = |p: f64, q: f64| (p + (q - p) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A colour bar right of the plotting area (whose pixel columns and rows are given) for lines coloured by
/// [`ramp`], the first line's name at its top and the last one's at its bottom.
fn colour_scale(
    area: &Area,
    (columns, rows): (&std::ops::Range<i32>, &std::ops::Range<i32>),
    first: &str,
    last: &str,
) -> Result<(), String> {
    let (x0, y0) = area.get_base_pixel();
    let (left, top, bottom) = (columns.end - x0 + 12, rows.start - y0, rows.end - y0);
    let steps = 64;
    for i in 0..steps {
        let (a, b) = (top + (bottom - top) * i / steps, top + (bottom - top) * (i + 1) / steps);
        area.draw(&Rectangle::new(
            [(left, a), (left + 14, b)],
            ramp(i as f64 / (steps - 1) as f64).filled(),
        ))
        .map_err(|e| e.to_string())?;
    }
    area.draw(&Rectangle::new(
        [(left, top), (left + 14, bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| e.to_string())?;
    let style = ("sans-serif", 14).into_font().color(&BLACK);
    area.draw(&Text::new(first.to_string(), (left + 20, top), style.clone()))
        .map_err(|e| e.to_string())?;
    let below = style.pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Bottom,
    ));
    area.draw(&Text::new(last.to_string(), (left + 20, bottom), below))
        .map_err(|e| e.to_string())
}

/// A thin black frame around a chart's plotting area (boxed axes; in an SVG it marks the area that every
/// line and point of data stays inside).
pub(crate) fn frame(
    chart: &ChartContext<
        PlotFile,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
) -> Result<(), String> {
    let (x, y) = (chart.x_range(), chart.y_range());
    chart
        .plotting_area()
        .draw(&Rectangle::new(
            [(x.start, y.start), (x.end, y.end)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())
}

fn check(traces: &Traces, path: &Path) -> Result<(), String> {
    if traces.time_ms.is_empty() || traces.values.is_empty() {
        return Err(format!("{}: nothing to plot (no probes)", path.display()));
    }
    Ok(())
}

/// The axis label of a group of columns in one unit.
fn unit_label(unit: &str, names: &[&str]) -> String {
    match (unit, names.len()) {
        ("mV", _) => "V [mV]".into(),
        ("", 1) => names[0].into(),
        ("", _) => "value".into(),
        (_, 1 | 2) => format!("{} [{unit}]", names.join(", ")),
        _ => format!("[{unit}]"),
    }
}

/// Named columns of one unit: `(unit, [(name, values)])`.
type UnitGroup<'a> = (String, Vec<(&'a str, &'a [f64])>);

/// The probe columns grouped by unit, in the order each unit first appears.
fn by_unit(traces: &Traces) -> Vec<UnitGroup<'_>> {
    let mut groups: Vec<UnitGroup> = Vec::new();
    for (k, (name, values)) in traces.names.iter().zip(&traces.values).enumerate() {
        let unit = traces.units.get(k).map(String::as_str).unwrap_or("mV");
        match groups.iter_mut().find(|(u, _)| u == unit) {
            Some((_, columns)) => columns.push((name.as_str(), values.as_slice())),
            None => groups.push((unit.to_string(), vec![(name.as_str(), values.as_slice())])),
        }
    }
    groups
}

/// The probe traces, one panel per unit (a rate in Hz is not drawn on a voltage axis).
pub fn plot_traces(traces: &Traces, title: &str, path: &Path) -> Result<(), String> {
    check(traces, path)?;
    register_fonts();
    let groups = by_unit(traces);
    let height = if groups.len() == 1 {
        600
    } else {
        380 * groups.len() as u32
    };
    let root = PlotFile::new(path, (1000, height))?.into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (k, (area, (unit, series))) in root.split_evenly((groups.len(), 1)).iter().zip(&groups).enumerate() {
        let names: Vec<&str> = series.iter().map(|s| s.0).collect();
        let title = if k == 0 { title } else { "" };
        panel(area, title, &unit_label(unit, &names), &traces.time_ms, series)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    root.present().map_err(|e| format!("{}: {e}", path.display()))
}

/// What the sensitivity plots say about the parameters and what they are compared with.
#[derive(Default)]
pub struct SensitivityPlot {
    /// The unit of a sensitivity `dV/dθ` per parameter name (`mV` for a multiplier, `mV per S/cm2` for a
    /// value); without an entry, `mV per unit of θ`.
    pub units: Vec<(String, String)>,
    /// A target's columns to draw under the traces: `(name, values at the traces' times)`.
    pub target: Vec<(String, Vec<f64>)>,
    /// A line under the title (the loss against the target).
    pub note: Option<String>,
}

/// The probe traces (and a target) above their sensitivities, one panel per parameter.
pub fn plot_with_sensitivities(
    traces: &Traces,
    title: &str,
    path: &Path,
    extra: &SensitivityPlot,
) -> Result<(), String> {
    check(traces, path)?;
    register_fonts();
    let parameters = traces.parameters();
    let panels = 1 + parameters.len();
    let root = PlotFile::new(path, (1100, 380 * panels as u32))?.into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels, 1));
    let at = |e: String| format!("{}: {e}", path.display());
    let mut series: Vec<(&str, &[f64])> = extra.target.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
    series.extend(
        traces
            .names
            .iter()
            .map(String::as_str)
            .zip(traces.values.iter().map(Vec::as_slice)),
    );
    let heading = match &extra.note {
        Some(note) => format!("{title}: {note}"),
        None => title.to_string(),
    };
    panel(&areas[0], &heading, "V [mV]", &traces.time_ms, &series).map_err(at)?;
    for (area, parameter) in areas[1..].iter().zip(&parameters) {
        let series: Vec<(&str, &[f64])> = traces
            .tangent_names
            .iter()
            .zip(&traces.tangents)
            .filter(|(n, _)| n.ends_with(&format!("/d{parameter}")))
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let unit = extra
            .units
            .iter()
            .find(|(p, _)| p == parameter)
            .map_or("mV per unit of θ", |(_, u)| u.as_str());
        panel(
            area,
            &format!("sensitivity to {parameter}"),
            &format!("dV/dθ [{unit}]"),
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
        units: traces.units.clone(),
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
    let root = PlotFile::new(path, (1000, 380 * panels.len() as u32))?.into_drawing_area();
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
    let root = PlotFile::new(path, (1100, 650))?.into_drawing_area();
    root.fill(&WHITE).map_err(|e| at(e.to_string()))?;
    let lines: Vec<(&str, &[f64], &[f64])> = series
        .iter()
        .map(|(n, x, y)| (n.as_str(), x.as_slice(), y.as_slice()))
        .collect();
    lines_panel(&root, title, x_label, y_label, &lines).map_err(at)?;
    root.present().map_err(|e| at(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dense spiking trace (a sharp turn at every sample) is drawn inside the plotting area only: no pixel of
    /// its colour in the title, the tick labels or the margins. The reference is the plotting area's own pixel
    /// rectangle. (Drawn as one 2-pixel path, as before, 13,192 of its pixels fell outside.)
    #[test]
    fn a_spiking_trace_stays_inside_the_plotting_area() {
        register_fonts();
        let (w, h) = (800u32, 500u32);
        let mut buffer = vec![0u8; (w * h * 3) as usize];
        let x: Vec<f64> = (0..20_000).map(|k| k as f64 * 0.05).collect();
        let y: Vec<f64> = (0..20_000)
            .map(|k| if k % 7 == 0 { 40.0 } else { -75.0 + (k % 5) as f64 })
            .collect();
        let (columns, rows) = {
            let root = PlotFile::Png(BitMapBackend::with_buffer(&mut buffer, (w, h))).into_drawing_area();
            root.fill(&WHITE).unwrap();
            let ranges = lines_panel(&root, "spikes", "t [ms]", "V [mV]", &[("v", &x, &y)]).unwrap();
            root.present().unwrap();
            ranges
        };
        let c = colour(0);
        let mut outside = 0;
        let mut inside = 0;
        for py in 0..h as i32 {
            for px in 0..w as i32 {
                let i = ((py as u32 * w + px as u32) * 3) as usize;
                if (buffer[i], buffer[i + 1], buffer[i + 2]) != (c.0, c.1, c.2) {
                    continue;
                }
                // The line's half width beyond the area's edge is allowed.
                if (columns.start - 2..columns.end + 2).contains(&px) && (rows.start - 2..rows.end + 2).contains(&py) {
                    inside += 1;
                } else {
                    outside += 1;
                }
            }
        }
        // Measured: 0 pixels outside (and tens of thousands inside).
        assert!(inside > 1000, "the trace was not drawn ({inside} pixels)");
        assert_eq!(outside, 0, "{outside} pixels of the trace outside the plotting area");
    }

    /// Decimation keeps each pixel column's extremes, so a one-sample spike survives it.
    #[test]
    fn decimation_keeps_a_one_sample_spike() {
        let x: Vec<f64> = (0..10_000).map(f64::from).collect();
        let mut y = vec![-65.0; 10_000];
        y[5_003] = 30.0;
        let points = decimate(&x, &y, (0.0, 9_999.0), 100);
        assert!(points.len() <= 400, "{} points", points.len());
        assert!(points.iter().flatten().any(|p| p.1 == 30.0));
    }

    /// Neighbouring ticks differ in their labels however narrow the axis (plotters puts about ten on it).
    #[test]
    fn tick_labels_tell_neighbouring_ticks_apart() {
        for (lo, hi, step) in [
            (0.997, 1.001, 0.0005),
            (-80.0, 40.0, 20.0),
            (0.0, 4.2, 0.5),
            (1e5, 1.0004e5, 5.0),
        ] {
            let format = ticks(lo, hi);
            let labels: Vec<String> = (0..)
                .map(|k| lo + k as f64 * step)
                .take_while(|v| *v <= hi)
                .map(|v| format(&v))
                .collect();
            for pair in labels.windows(2) {
                assert_ne!(pair[0], pair[1], "{lo}..{hi}: {labels:?}");
            }
            assert!(labels.iter().all(|l| l.len() <= 9), "{labels:?}");
        }
        assert_eq!(ticks(0.997, 1.001)(&0.9995), "0.9995");
        assert_eq!(ticks(-80.0, 40.0)(&-60.0), "-60");
        assert_eq!(ticks(0.0, 4.2)(&3.5), "3.5");
    }

    #[test]
    fn tick_labels_are_short() {
        let labels: Vec<String> = [-60.0, 2.5, 0.0, 1.0e5, 20_000.0, 0.125, -0.0]
            .iter()
            .map(tick)
            .collect();
        assert_eq!(labels, ["-60", "2.5", "0", "1.0e5", "20000", "0.125", "0"]);
    }
}
