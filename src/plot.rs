//! Plots as PNG and SVG (plotters): scatter charts of plain series (with
//! fitted power laws and horizontal reference bands) and stress slices
//! through a voxel grid. Nothing here
//! knows where the series come from (a sweep builds its own in
//! `sweep/outputs.rs`).
//!
//! Text is set in DejaVu Sans, embedded in the binary (`assets/fonts`), so
//! plots render the same on machines without any font installed.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

mod slice;
pub use slice::{slice_png, Axis, SliceText, COLOUR_BAR_STRIP, COLOUR_RANGE};

pub(crate) const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Why a plot could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("plot '{path}': {message}")]
pub struct PlotError {
    pub path: PathBuf,
    pub message: String,
}

pub(crate) fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is a valid TrueType file; a failure here would
        // only drop text from plots, which the plot tests would catch.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// A picture that draws itself on any plotters backend ([`png_and_svg`]
/// draws it twice: bitmap and SVG).
pub trait Figure {
    /// Draws on `root`; the error is the message of a [`PlotError`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;

    /// What the figure says in words, written into the PNG's text chunks
    /// by [`png_and_svg`] (keyword, text): its `Title`, axis labels with
    /// their units, legend entries. None by default.
    fn text(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

impl Figure for Chart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        Chart::draw(self, root)
    }

    fn text(&self) -> Vec<(&'static str, String)> {
        let legend: Vec<&str> = self
            .bands
            .iter()
            .map(|b| b.label.as_str())
            .chain(self.series.iter().map(|s| s.label.as_str()))
            .chain(self.fits.iter().flatten().map(|f| f.label.as_str()))
            .chain(self.lines.iter().map(|l| l.label.as_str()))
            .chain(self.marks.iter().map(|m| m.label.as_str()))
            .collect();
        vec![
            ("Title", self.title.to_string()),
            ("x axis", self.x_desc.to_string()),
            ("y axis", self.y_desc.to_string()),
            ("Legend", legend.join("; ")),
        ]
    }
}

/// Draws `chart` into `stem.png` and `stem.svg` of `size` pixels, the
/// chart's [`Figure::text`] in the PNG's text chunks; returns both paths.
pub fn png_and_svg(
    stem: &Path,
    size: (u32, u32),
    chart: &impl Figure,
) -> Result<Vec<PathBuf>, PlotError> {
    fonts();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let fail = |path: &Path, message: String| PlotError {
        path: path.to_path_buf(),
        message,
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        chart.draw(&root).map_err(|m| fail(&png, m))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        chart.draw(&root).map_err(|m| fail(&svg, m))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    let text = chart.text();
    if !text.is_empty() {
        crate::provenance::add_png_text(&png, &text).map_err(|e| fail(&png, e.to_string()))?;
    }
    Ok(vec![png, svg])
}

/// A series: its label (the legend entry) and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A fitted power law `y = c·x^n`, drawn as a line over the x-span of its
/// series (with the chart's margin), within `x_limits`.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerLaw {
    /// The legend entry.
    pub label: String,
    pub c: f64,
    pub n: f64,
    /// The x-range the curve may not leave (e.g. a relative density ≤ 1).
    pub x_limits: (f64, f64),
}

impl PowerLaw {
    /// The curve over the x-span of `points`: a power law is a straight
    /// line on log–log axes, so exactly its two end points (no sampled
    /// points, whose rounding to pixels would kink it).
    fn curve(&self, points: &[(f64, f64)]) -> Series {
        let (lo, hi) = span(points.iter().map(|p| p.0), false);
        let (lo, hi) = (lo.max(self.x_limits.0), hi.min(self.x_limits.1));
        let points = [lo, hi]
            .into_iter()
            .map(|x| (x, self.c * x.powf(self.n)))
            .collect();
        Series {
            label: self.label.clone(),
            points,
        }
    }
}

/// A horizontal reference value across the whole chart, in the colour of
/// series `series`, with an optional band ± `half_width` (e.g. an
/// extrapolated limit and its error estimate).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The legend entry.
    pub label: String,
    pub y: f64,
    pub half_width: Option<f64>,
    /// The series whose colour it takes.
    pub series: usize,
}

/// A sampled curve (e.g. a fit q(h) = q∞ + C·hᵖ), in the colour of series
/// `series`, solid or dashed; its legend sample is drawn the same way.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The legend entry.
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// The series whose colour it takes.
    pub series: usize,
    pub dashed: bool,
}

/// The ends of the two segments of a legend sample 24 px long: touching
/// (a solid line) or with a gap (a dashed one, as drawn).
fn legend_dashes(dashed: bool) -> [[(i32, i32); 2]; 2] {
    if dashed {
        [[(0, 0), (9, 0)], [(15, 0), (24, 0)]]
    } else {
        [[(0, 0), (12, 0)], [(12, 0), (24, 0)]]
    }
}

/// Tick values for a log axis over `lo..hi` (`0 < lo < hi`): powers of 10
/// over two decades or more; 1, 2, 5 × 10^k over at least one; less than a
/// decade (where plotters' own log axis shows none), evenly spaced round
/// values (steps of 1, 2 or 5 × 10^k), about six of them.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let in_range = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let decades = |mantissas: &[f64]| -> Vec<f64> {
        let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|&v| in_range(v))
            .collect()
    };
    let ratio = hi / lo;
    if ratio >= 100.0 {
        let t = decades(&[1.0]);
        if t.len() >= 3 {
            return t;
        }
    }
    if ratio >= 10.0 {
        return decades(&[1.0, 2.0, 5.0]);
    }
    round_values(lo, hi, 6.0)
        .into_iter()
        .filter(|&v| v > 0.0)
        .collect()
}

/// Evenly spaced round values (steps of 1, 2 or 5 × 10^k) inside `lo..hi`,
/// about `count` of them.
pub(crate) fn round_values(lo: f64, hi: f64, count: f64) -> Vec<f64> {
    let raw = (hi - lo) / count;
    if !(raw > 0.0 && raw.is_finite()) {
        return Vec::new();
    }
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Axis range with a margin; on a log axis a factor, else a fraction of the span.
fn span(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return if log { (0.1, 1.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.3, hi * 1.3)
    } else {
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-12);
        (lo - pad, hi + pad)
    }
}

/// Distinguishable series colours (Tableau 10).
pub(crate) fn colour(i: usize) -> RGBAColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[i % TAB10.len()];
    RGBColor(r, g, b).to_rgba()
}

/// A tick label with at most three significant digits, trailing zeros
/// after the decimal point dropped ("0.15", not "0.150").
pub(crate) fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Scatter-and-line chart of `series`, with fitted curves `fits`.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// Log scale on both axes.
    pub log: bool,
    pub series: &'a [Series],
    /// Per series (same order): a fit drawn as a line in its colour.
    pub fits: &'a [Option<PowerLaw>],
    /// Join the points of each series with a line.
    pub join: bool,
    /// Horizontal reference values (with bands), drawn under the series.
    pub bands: &'a [Band],
    /// Points to mark (e.g. results whose error band is too wide), drawn
    /// as black rings over the series, with their label in the legend.
    pub marks: Option<&'a Series>,
    /// Sampled curves (e.g. fits on linear axes), drawn over the series.
    pub lines: &'a [Line],
    /// The x axis starts at 0 (e.g. a voxel size, to show the limit h → 0).
    pub x_from_zero: bool,
}

impl Chart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let curves: Vec<Option<Series>> = self
            .fits
            .iter()
            .zip(self.series)
            .map(|(f, s)| f.as_ref().map(|f| f.curve(&s.points)))
            .collect();
        let all = || {
            self.series
                .iter()
                .chain(curves.iter().flatten())
                .flat_map(|s| s.points.iter())
                .chain(self.lines.iter().flat_map(|l| l.points.iter()))
        };
        let (mut x0, x1) = span(all().map(|p| p.0), self.log);
        if self.x_from_zero && !self.log {
            x0 = 0.0;
        }
        let band_ys = self.bands.iter().flat_map(|b| {
            let w = b.half_width.unwrap_or(0.0).abs();
            [b.y - w, b.y + w]
        });
        let (y0, y1) = span(all().map(|p| p.1).chain(band_ys), self.log);
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(self.title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80);
        macro_rules! body {
            ($chart:ident) => {{
                $chart
                    .configure_mesh()
                    .x_labels(10)
                    .y_labels(10)
                    .x_label_formatter(&|v| tick(*v))
                    .y_label_formatter(&|v| tick(*v))
                    .x_desc(self.x_desc)
                    .y_desc(self.y_desc)
                    .label_style((FONT, 14))
                    .axis_desc_style((FONT, 16))
                    .draw()
                    .map_err(e)?;
                for b in self.bands {
                    let colour = colour(b.series);
                    let w = b.half_width.map_or(0.0, f64::abs);
                    if w > 0.0 {
                        $chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(x0, b.y - w), (x1, b.y + w)],
                                colour.mix(0.15).filled(),
                            )))
                            .map_err(e)?;
                    }
                    // The legend sample as drawn: dashed, over the band's
                    // shade where there is a band.
                    let shade = if w > 0.0 { 0.15 } else { 0.0 };
                    let [d0, d1] = legend_dashes(true);
                    $chart
                        .draw_series(DashedLineSeries::new(
                            [(x0, b.y), (x1, b.y)],
                            8,
                            5,
                            colour.stroke_width(2),
                        ))
                        .map_err(e)?
                        .label(b.label.as_str())
                        .legend(move |(x, y)| {
                            EmptyElement::at((x, y))
                                + Rectangle::new([(0, -6), (24, 6)], colour.mix(shade).filled())
                                + PathElement::new(d0.to_vec(), colour.stroke_width(2))
                                + PathElement::new(d1.to_vec(), colour.stroke_width(2))
                        });
                }
                for (i, Series { label, points: pts }) in self.series.iter().enumerate() {
                    let colour = colour(i);
                    $chart
                        .draw_series(
                            pts.iter()
                                .map(|&(x, y)| Circle::new((x, y), 5, colour.filled())),
                        )
                        .map_err(e)?
                        .label(label.as_str())
                        .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
                    if self.join && pts.len() > 1 {
                        $chart
                            .draw_series(LineSeries::new(pts.iter().copied(), colour))
                            .map_err(e)?;
                    }
                    if let Some(Some(Series {
                        label: fit_label,
                        points: curve,
                    })) = curves.get(i)
                    {
                        $chart
                            .draw_series(LineSeries::new(
                                curve.iter().copied(),
                                colour.stroke_width(2),
                            ))
                            .map_err(e)?
                            .label(fit_label.as_str())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                            });
                    }
                }
                for l in self.lines {
                    let style = colour(l.series).stroke_width(2);
                    let [d0, d1] = legend_dashes(l.dashed);
                    let drawn = if l.dashed {
                        $chart.draw_series(DashedLineSeries::new(
                            l.points.iter().copied(),
                            8,
                            5,
                            style,
                        ))
                    } else {
                        $chart.draw_series(LineSeries::new(l.points.iter().copied(), style))
                    };
                    drawn
                        .map_err(e)?
                        .label(l.label.as_str())
                        .legend(move |(x, y)| {
                            EmptyElement::at((x, y))
                                + PathElement::new(d0.to_vec(), style)
                                + PathElement::new(d1.to_vec(), style)
                        });
                }
                if let Some(m) = self.marks.filter(|m| !m.points.is_empty()) {
                    let ring = BLACK.stroke_width(2);
                    $chart
                        .draw_series(m.points.iter().map(|&(x, y)| Circle::new((x, y), 9, ring)))
                        .map_err(e)?
                        .label(m.label.as_str())
                        .legend(move |(x, y)| Circle::new((x + 10, y), 7, ring));
                }
                $chart
                    .configure_series_labels()
                    .label_font((FONT, 14))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .position(SeriesLabelPosition::UpperLeft)
                    .draw()
                    .map_err(e)?;
            }};
        }
        if self.log {
            let mut chart = builder
                .build_cartesian_2d(
                    (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
                    (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
                )
                .map_err(e)?;
            body!(chart);
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?;
            body!(chart);
        }
        Ok(())
    }
}
