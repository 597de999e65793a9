//! The slice figure of `voxfe run --slice`: one voxel field on a plane
//! through the grid, titled with what it shows (scene, load case and load,
//! voxel size, the field and its unit), with a viridis colour bar whose
//! range is the 1st–99th percentile of the plane's solid voxels (a contact
//! peak does not wash out the rest) and says so, with the field's minimum
//! and maximum on the plane.
//!
//! The plane is a position in mm. On a voxel boundary (the mid-plane of an
//! even number of layers, the default on most specimens) the figure shows
//! the mean of the two layers it separates, so that the plane drawn is the
//! plane named; elsewhere the layer that holds it.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{fonts, round_values, tick, PlotError, FONT};
use crate::report::RunReport;

/// The percentiles (of the plane's solid voxels) that span the colour bar.
pub const COLOUR_RANGE: (f64, f64) = (0.01, 0.99);

/// Width in pixels of the colour-bar strip right of the slice: a margin,
/// the bar itself, its tick labels and its name.
pub const COLOUR_BAR_STRIP: u32 = 190;
const COLOUR_BAR_MARGIN: i32 = 16;
const COLOUR_BAR_WIDTH: i32 = 28;
/// Height of the title band (two lines) and of the note under the slice.
const TITLE_BAND: u32 = 64;
/// The colour bar's least height, px.
const MIN_BAR: u32 = 240;
const NOTE_BAND: u32 = 48;
/// Plot margins: left (y labels), bottom (x labels), right, top.
const PLOT_LEFT: u32 = 70;
const PLOT_BOTTOM: u32 = 50;
const PLOT_RIGHT: u32 = 20;
const PLOT_TOP: u32 = 10;
/// Left of the y axis's name.
const PLOT_MARGIN: u32 = 12;
/// Font sizes: title, axis and colour-bar labels, tick labels.
const TITLE_FONT: u32 = 18;
const LABEL_FONT: u32 = 16;
const TICK_FONT: u32 = 15;

/// What a slice shows, for its title, colour bar and PNG text chunks.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceText {
    /// The scene: its name and file name.
    pub scene: String,
    /// The load case and the load applied.
    pub load: String,
    /// The field with its unit ("von Mises stress (MPa)"), and a remark
    /// where there is one ("…, NOT CONVERGED"): the colour bar's label.
    pub field: String,
    /// The field's unit ("MPa"; "mm/mm" for a strain), for the range note.
    pub unit: String,
}

impl SliceText {
    /// The text of a slice of `field` (its label, with `unit`) of the run
    /// `report`: the scene's name and file, the load case with the applied
    /// displacement δ (and δ/Lz) and the reaction force.
    pub fn of_run(report: &RunReport, field: &str, unit: &str) -> SliceText {
        let file = Path::new(&report.provenance.scene_path)
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        let name = &report.voxel.name;
        let scene = match (name.is_empty(), file.is_empty()) {
            (_, true) => name.clone(),
            (true, false) => file,
            (false, false) => format!("{name} ({file})"),
        };
        let s = &report.solve;
        let lz = report.grid.dims[2] as f64 * report.grid.h;
        let mut load = report.load_case.replace('-', " ");
        if let crate::fem::load::LoadCase::ThreePointBending { span, .. } = report.load {
            load.push_str(&format!(" over {} mm", tick(span)));
        }
        load.push_str(&format!(": δ = {} mm", tick(s.delta)));
        if lz > 0.0 {
            load.push_str(&format!(" (δ/Lz = {} %)", tick(100.0 * s.delta / lz)));
        }
        if let Some(f) = s.reaction_force.filter(|f| f.is_finite()) {
            load.push_str(&format!(", F = {} N", tick(f)));
        }
        SliceText {
            scene,
            load,
            field: field.to_string(),
            unit: unit.to_string(),
        }
    }
}

/// A slice of a voxel field through the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    X = 0,
    Y = 1,
    Z = 2,
}

/// The voxel layers a plane at `at` mm shows along an axis of `n` voxels
/// of edge `h`: one layer, or the two a voxel boundary separates (their
/// mean is drawn).
fn layers(n: usize, h: f64, at: f64) -> (usize, Option<usize>) {
    let k = at / h;
    let boundary = k.round();
    if (k - boundary).abs() < 1e-6 && boundary >= 1.0 && (boundary as usize) < n {
        let b = boundary as usize;
        return (b - 1, Some(b));
    }
    ((k.floor().max(0.0) as usize).min(n - 1), None)
}

/// The value at fraction `q` of the sorted `values` (linear between ranks).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let r = q * (sorted.len() - 1) as f64;
    let (i, f) = (r.floor() as usize, r.fract());
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + f * (sorted[j] - sorted[i])
}

/// Writes a PNG of `values` (one per voxel of `grid`, voxel-id order) on the
/// plane normal to `axis` at `at` mm (`None`: the mid-plane), void voxels
/// in light grey, titled with `text`, with a colour bar over the
/// [`COLOUR_RANGE`] percentiles of the plane's solid voxels (values
/// beyond take the end colours) and a note of that range and of the
/// field's extremes on the plane. The title, field, unit and range (with
/// the extremes) are
/// also the PNG's text chunks (`Title`, `Field`, `Unit`, `Colour range`).
pub fn slice_png(
    path: &Path,
    grid: &crate::grid::VoxelGrid,
    values: &[f32],
    axis: Axis,
    at: Option<f64>,
    text: &SliceText,
) -> Result<(), PlotError> {
    fonts();
    let fail = |message: String| PlotError {
        path: path.to_path_buf(),
        message,
    };
    let (h, solid) = (grid.h, &grid.solid);
    let [nx, ny, nz] = grid.dims;
    let (a, b, names) = match axis {
        Axis::X => (ny, nz, ("y (mm)", "z (mm)", "x")),
        Axis::Y => (nx, nz, ("x (mm)", "z (mm)", "y")),
        Axis::Z => (nx, ny, ("x (mm)", "y (mm)", "z")),
    };
    let along = grid.dims[axis as usize];
    let length = along as f64 * h;
    let at = at.unwrap_or(length / 2.0);
    if !(at >= 0.0 && at < length) || along == 0 {
        return Err(fail(format!(
            "slice at {at} mm: allowed: 0 ≤ at < {length} mm along {}",
            names.2
        )));
    }
    let (first, second) = layers(along, h, at);
    let id = |layer: usize, i: usize, j: usize| {
        let (x, y, z) = match axis {
            Axis::X => (layer, i, j),
            Axis::Y => (i, layer, j),
            Axis::Z => (i, j, layer),
        };
        x + nx * (y + ny * z)
    };
    // The plane's value at (i, j): the solid layers' mean; None if void.
    let value = |i: usize, j: usize| -> Option<f64> {
        let (sum, count) = std::iter::once(first)
            .chain(second)
            .map(|l| id(l, i, j))
            .filter(|&v| solid[v] != 0)
            .fold((0.0, 0), |(s, c), v| (s + values[v] as f64, c + 1));
        (count > 0).then(|| sum / count as f64)
    };
    let plane: Vec<Option<f64>> = (0..b)
        .flat_map(|j| (0..a).map(move |i| (i, j)))
        .map(|(i, j)| value(i, j))
        .collect();
    let mut sorted: Vec<f64> = plane
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi, min, max) = if sorted.is_empty() {
        (0.0, 1.0, f64::NAN, f64::NAN)
    } else {
        let (lo, hi) = (
            percentile(&sorted, COLOUR_RANGE.0),
            percentile(&sorted, COLOUR_RANGE.1),
        );
        let hi = if hi > lo {
            hi
        } else {
            lo + lo.abs().max(1e-30)
        };
        (lo, hi, sorted[0], sorted[sorted.len() - 1])
    };
    let colour_of = |v: f64| ViridisRGB.get_color_normalized(v.clamp(lo, hi), lo, hi);

    let position = match second {
        Some(s) => format!(
            "{} = {} mm (the boundary of layers {first} and {s}: their mean)",
            names.2,
            tick3(at)
        ),
        None => format!(
            "{} = {} mm (layer {first}, centre {} mm)",
            names.2,
            tick3(at),
            tick3((first as f64 + 0.5) * h)
        ),
    };
    let title1 = format!("{} — {}", text.field, text.scene);
    let title2 = format!("{}; h = {} mm; {position}", text.load, tick3(h));
    let range = format!(
        "colour range: {}st–{}th percentile of the plane's solid voxels, {} to {} {u} (beyond: the end colours)",
        (100.0 * COLOUR_RANGE.0).round(),
        (100.0 * COLOUR_RANGE.1).round(),
        tick3(lo),
        tick3(hi),
        u = text.unit
    );
    let extremes = format!(
        "on the plane: min {} {u}, max {} {u}",
        tick3(min),
        tick3(max),
        u = text.unit
    );

    // Pixels per voxel: at least 2, the slice about 800 px on its long side.
    let px = (800 / a.max(b)).max(2) as u32;
    let (pw, ph) = (a as u32 * px, b as u32 * px);
    // The colour bar is as tall as the slice, and no less than
    // MIN_BAR px (a flat slice, e.g. along a bar, leaves room under it).
    let bar_h = ph.max(MIN_BAR);
    let w = (PLOT_MARGIN + PLOT_LEFT + pw + PLOT_RIGHT + COLOUR_BAR_STRIP).max(900);
    let hgt = TITLE_BAND + PLOT_TOP + bar_h + PLOT_BOTTOM + NOTE_BAND;
    {
        let root = BitMapBackend::new(path, (w, hgt)).into_drawing_area();
        let e = |e: DrawingAreaErrorKind<_>| fail(e.to_string());
        root.fill(&WHITE).map_err(e)?;
        let left = |size: u32| {
            TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Left, VPos::Center))
        };
        root.draw(&Text::new(title1.as_str(), (12, 18), left(TITLE_FONT)))
            .map_err(e)?;
        root.draw(&Text::new(title2.as_str(), (12, 44), left(TICK_FONT)))
            .map_err(e)?;
        for (k, line) in [&range, &extremes].into_iter().enumerate() {
            root.draw(&Text::new(
                line.as_str(),
                (12, (hgt - NOTE_BAND + 12 + 20 * k as u32) as i32),
                left(TICK_FONT - 1),
            ))
            .map_err(e)?;
        }
        // The slice: its chart spans exactly the voxels' pixels.
        let plot = root.margin(TITLE_BAND, NOTE_BAND, 0, 0);
        let plot_width = PLOT_MARGIN + PLOT_LEFT + pw + PLOT_RIGHT;
        let (plot, bar) = plot.split_horizontally(plot_width);
        // Exactly the slice's pixels inside the axes: equal aspect.
        let (plot, _) = plot.split_vertically(PLOT_TOP + ph + PLOT_BOTTOM);
        let (la, lb) = (a as f64 * h, b as f64 * h);
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(PLOT_TOP)
            .margin_left(PLOT_MARGIN)
            .margin_right(PLOT_RIGHT)
            .x_label_area_size(PLOT_BOTTOM)
            .y_label_area_size(PLOT_LEFT)
            .build_cartesian_2d(0.0..la, 0.0..lb)
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels((pw / 70).max(2) as usize)
            .y_labels((ph / 30).max(3) as usize)
            .x_desc(names.0)
            .y_desc(names.1)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, TICK_FONT))
            .axis_desc_style((FONT, LABEL_FONT))
            .draw()
            .map_err(e)?;
        let grey = RGBColor(225, 225, 225);
        chart
            .draw_series(
                (0..b)
                    .flat_map(|j| (0..a).map(move |i| (i, j)))
                    .zip(&plane)
                    .map(|((i, j), v)| {
                        let colour = v.map_or(grey, colour_of);
                        Rectangle::new(
                            [
                                (i as f64 * h, j as f64 * h),
                                ((i + 1) as f64 * h, (j + 1) as f64 * h),
                            ],
                            colour.filled(),
                        )
                    }),
            )
            .map_err(e)?;
        // The colour bar, in pixels: as tall as the slice, its ends ticked
        // and labelled, round values between.
        let (top, bottom) = (PLOT_TOP as i32, (PLOT_TOP + bar_h) as i32);
        let (x0, x1) = (COLOUR_BAR_MARGIN, COLOUR_BAR_MARGIN + COLOUR_BAR_WIDTH);
        let y_of = |v: f64| bottom - ((v - lo) / (hi - lo) * (bottom - top) as f64).round() as i32;
        for y in top..bottom {
            let v = lo + (bottom - y) as f64 / (bottom - top) as f64 * (hi - lo);
            bar.draw(&Rectangle::new(
                [(x0, y), (x1, y + 1)],
                colour_of(v).filled(),
            ))
            .map_err(e)?;
        }
        bar.draw(&Rectangle::new([(x0, top), (x1, bottom)], BLACK))
            .map_err(e)?;
        let mut ticks = vec![lo, hi];
        let spacing = (TICK_FONT + 4) as i32;
        for v in round_values(lo, hi, 5.0) {
            if ticks.iter().all(|&t| (y_of(t) - y_of(v)).abs() >= spacing) {
                ticks.push(v);
            }
        }
        let mut widest = 0;
        for v in ticks {
            let (y, label) = (y_of(v), tick3(v));
            bar.draw(&PathElement::new(vec![(x1, y), (x1 + 6, y)], BLACK))
                .map_err(e)?;
            let style = left(TICK_FONT);
            widest = widest.max(bar.estimate_text_size(&label, &style).map_err(e)?.0 as i32);
            bar.draw(&Text::new(label, (x1 + 9, y), style)).map_err(e)?;
        }
        let label = text.field.as_str();
        let rotated = TextStyle::from(
            (FONT, LABEL_FONT)
                .into_font()
                .transform(FontTransform::Rotate270),
        )
        .pos(Pos::new(HPos::Center, VPos::Center));
        bar.draw(&Text::new(
            label,
            (
                x1 + 9 + widest + 8 + LABEL_FONT as i32 / 2,
                (top + bottom) / 2,
            ),
            rotated,
        ))
        .map_err(e)?;
        root.present().map_err(e)?;
    }
    crate::provenance::add_png_text(
        path,
        &[
            ("Title", format!("{title1}; {title2}")),
            ("Field", text.field.clone()),
            ("Unit", text.unit.clone()),
            ("Colour range", format!("{range}; {extremes}")),
        ],
    )
    .map_err(|e| fail(e.to_string()))
}

/// A value with four significant digits at most (colour-bar ends and the
/// range note): "0.001234", "812.4", "1.235e5" beyond 10⁵.
fn tick3(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v != 0.0 && !(1e-4..1e5).contains(&v.abs()) {
        return format!("{v:.3e}");
    }
    let digits = if v == 0.0 {
        0
    } else {
        (3 - v.abs().log10().floor() as i32).max(0) as usize
    };
    let t = format!("{v:.digits$}");
    if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mid-plane of an even number of layers is their boundary (both
    /// neighbours drawn); of an odd number, the middle layer's centre.
    #[test]
    fn the_mid_plane_is_the_mid_plane() {
        assert_eq!(layers(20, 0.5, 5.0), (9, Some(10)));
        assert_eq!(layers(21, 0.5, 5.25), (10, None));
        // Inside a layer: that layer; on the outer face: the first.
        assert_eq!(layers(20, 0.5, 5.1), (10, None));
        assert_eq!(layers(20, 0.5, 0.0), (0, None));
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.01), 1.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[2.0, 4.0], 0.5), 3.0);
    }
}
