//! Plot files: a path and a size in, a drawing backend out that writes a PNG or an SVG by the path's extension.

use plotters::prelude::{BitMapBackend, SVGBackend};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};
use std::path::Path;

/// A PNG (bitmap) or an SVG (vector) file; every plot of the CLI draws on one.
pub(crate) enum PlotFile<'a> {
    Png(BitMapBackend<'a>),
    Svg(SVGBackend<'a>),
}

/// What went wrong while drawing, as the backend said it.
#[derive(Debug)]
pub(crate) struct PlotFileError(String);

impl std::fmt::Display for PlotFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlotFileError {}

impl<'a> PlotFile<'a> {
    /// A `.png` or `.svg` file of `size` pixels; any other extension is an error that says which are known.
    pub fn new(path: &'a Path, size: (u32, u32)) -> Result<Self, String> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(PlotFile::Png(BitMapBackend::new(path, size))),
            Some("svg") => Ok(PlotFile::Svg(SVGBackend::new(path, size))),
            _ => Err(format!(
                "{}: a plot is written as .png or .svg (by the file's extension)",
                path.display()
            )),
        }
    }
}

/// The backend's own error, kept as its message.
fn convert<E: std::error::Error + Send + Sync>(e: DrawingErrorKind<E>) -> DrawingErrorKind<PlotFileError> {
    match e {
        DrawingErrorKind::DrawingError(e) => DrawingErrorKind::DrawingError(PlotFileError(e.to_string())),
        DrawingErrorKind::FontError(e) => DrawingErrorKind::FontError(e),
    }
}

/// Calls the same method on whichever backend the file has.
macro_rules! each {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            PlotFile::Png($b) => $call.map_err(convert),
            PlotFile::Svg($b) => $call.map_err(convert),
        }
    };
}

impl DrawingBackend for PlotFile<'_> {
    type ErrorType = PlotFileError;

    fn get_size(&self) -> (u32, u32) {
        match self {
            PlotFile::Png(b) => b.get_size(),
            PlotFile::Svg(b) => b.get_size(),
        }
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.ensure_prepared())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.present())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.draw_pixel(point, color))
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.draw_line(from, to, style))
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.draw_rect(upper_left, bottom_right, style, fill))
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.draw_path(path, style))
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.draw_circle(center, radius, style, fill))
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.fill_polygon(vert, style))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.draw_text(text, style, pos))
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.estimate_text_size(text, style))
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<PlotFileError>> {
        each!(self, b => b.blit_bitmap(pos, size, src))
    }
}
