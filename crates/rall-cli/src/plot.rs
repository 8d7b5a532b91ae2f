//! Trace plots: sampled traces in, a PNG with one line per probe (time in ms, voltage in mV) out.

use plotters::prelude::*;
use rall::Traces;
use std::path::Path;
use std::sync::Once;

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in, so plots need no system fonts.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

pub fn plot_traces(traces: &Traces, title: &str, path: &Path) -> Result<(), String> {
    register_fonts();
    let err = |e: &dyn std::fmt::Display| format!("{}: cannot draw the plot: {e}", path.display());
    if traces.time_ms.is_empty() || traces.values.is_empty() {
        return Err(format!("{}: nothing to plot (no probes)", path.display()));
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in traces.values.iter().flatten() {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    let pad = ((hi - lo) * 0.05).max(0.5);
    let t_end = *traces.time_ms.last().unwrap();
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_end.max(1e-9), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("t [ms]")
        .y_desc("V [mV]")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, (name, values)) in traces.names.iter().zip(&traces.values).enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(
                traces.time_ms.iter().copied().zip(values.iter().copied()),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
