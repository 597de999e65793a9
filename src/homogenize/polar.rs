//! The directional-modulus picture: E(d) of one or more homogenized
//! stiffnesses in the three coordinate planes, as polar curves.
//!
//! One panel per plane (xy, yz, zx; [`Plane`]), each an equal-aspect chart
//! whose horizontal and vertical axes are E·cos θ and E·sin θ in MPa, so a
//! curve's distance from the origin is E along that direction (the tick
//! labels are that distance, so never negative). Every
//! material is one colour in all three panels, named in the legend under
//! them, and all panels share one scale so that they compare directly.
//! E is taken from the symmetric part of each C, as in
//! [`super::tensor::Homogenized`]. Written as PNG and SVG by
//! [`crate::plot::png_and_svg`].

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::directional::Plane;
use super::tensor::{Stiffness, TensorError};
use crate::plot::{colour, png_and_svg, tick, Figure, PlotError, FONT};

/// Angles per polar cut (one per degree).
pub const ANGLES: usize = 360;
/// Width and height of one panel, px.
pub const PANEL: u32 = 500;
const TITLE_BAND: u32 = 44;
const LEGEND_BAND: u32 = 44;
/// The picture's size, px: three panels side by side, a title above and
/// the legend below.
pub const SIZE: (u32, u32) = (3 * PANEL, TITLE_BAND + PANEL + LEGEND_BAND);

/// Why the picture could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PolarError {
    /// A stiffness has no compliance (not positive definite, …).
    #[error("directional modulus of '{label}': {source}")]
    Tensor {
        label: String,
        #[source]
        source: TensorError,
    },
    #[error("no material to plot: give at least one (label, stiffness)")]
    Empty,
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The provenance text of the PNG written.
    #[error(transparent)]
    PngText(#[from] crate::provenance::PngTextError),
}

/// The closed curve (E cos θ, E sin θ) of one material in each plane of
/// [`Plane::ALL`].
type PlaneCurves = [Vec<(f64, f64)>; 3];

/// The polar cuts of every material, ready to draw.
struct PolarCuts<'a> {
    title: &'a str,
    /// Per material: its label and its curves.
    curves: Vec<(&'a str, PlaneCurves)>,
    /// Half the span of both axes, MPa.
    radius: f64,
}

/// Writes `stem.png` and `stem.svg` ([`SIZE`]): E(d) of each
/// `(label, C)` of `materials` in the xy, yz and zx planes, overlaid.
pub fn plot_directional(
    stem: &Path,
    materials: &[(&str, &Stiffness)],
    title: &str,
) -> Result<Vec<PathBuf>, PolarError> {
    if materials.is_empty() {
        return Err(PolarError::Empty);
    }
    let mut curves = Vec::with_capacity(materials.len());
    let mut e_max: f64 = 0.0;
    for &(label, c) in materials {
        let s = c
            .symmetrized()
            .compliance()
            .map_err(|source| PolarError::Tensor {
                label: label.to_string(),
                source,
            })?;
        let planes = Plane::ALL.map(|plane| {
            let mut points: Vec<(f64, f64)> = s
                .polar_cut(plane, ANGLES)
                .into_iter()
                .map(|(theta, e)| {
                    e_max = e_max.max(e);
                    (e * theta.cos(), e * theta.sin())
                })
                .collect();
            points.push(points[0]);
            points
        });
        curves.push((label, planes));
    }
    let cuts = PolarCuts {
        title,
        curves,
        radius: 1.08 * e_max,
    };
    Ok(png_and_svg(stem, SIZE, &cuts)?)
}

impl Figure for PolarCuts<'_> {
    fn text(&self) -> Vec<(&'static str, String)> {
        let axes: Vec<String> = Plane::ALL
            .iter()
            .map(|plane| {
                let (a, b) = plane.axes();
                format!("{}: E along {a} (MPa), E along {b} (MPa)", plane.label())
            })
            .collect();
        let legend: Vec<&str> = self.curves.iter().map(|(l, _)| *l).collect();
        vec![
            ("Title", self.title.to_string()),
            ("Axes", axes.join("; ")),
            ("Legend", legend.join("; ")),
        ]
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let centred = |size: u32| {
            TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Center, VPos::Center))
        };
        root.fill(&WHITE).map_err(e)?;
        let (top, rest) = root.split_vertically(TITLE_BAND);
        let (panels, legend) = rest.split_vertically(PANEL);
        top.draw(&Text::new(
            self.title,
            ((3 * PANEL / 2) as i32, (TITLE_BAND / 2) as i32),
            centred(22),
        ))
        .map_err(e)?;
        let r = self.radius;
        for (p, (area, plane)) in panels
            .split_evenly((1, 3))
            .iter()
            .zip(Plane::ALL)
            .enumerate()
        {
            area.draw(&Text::new(
                plane.label(),
                ((PANEL / 2) as i32, 20),
                centred(18),
            ))
            .map_err(e)?;
            // Equal aspect: the plot area is 390 × 390 px (500 less the
            // margins and label areas on either axis).
            let mut chart = ChartBuilder::on(area)
                .margin_top(40)
                .margin_bottom(10)
                .margin_left(10)
                .margin_right(20)
                .x_label_area_size(60)
                .y_label_area_size(80)
                .build_cartesian_2d(-r..r, -r..r)
                .map_err(e)?;
            let (a, b) = plane.axes();
            let (x_desc, y_desc) = (format!("E along {a} (MPa)"), format!("E along {b} (MPa)"));
            chart
                .configure_mesh()
                .x_labels(7)
                .y_labels(7)
                // Distances from the origin: E along ±d is E(d), never
                // negative.
                .x_label_formatter(&|v| tick(v.abs()))
                .y_label_formatter(&|v| tick(v.abs()))
                .x_desc(x_desc)
                .y_desc(y_desc)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .light_line_style(WHITE)
                .draw()
                .map_err(e)?;
            let grey = RGBColor(150, 150, 150);
            for axis in [[(-r, 0.0), (r, 0.0)], [(0.0, -r), (0.0, r)]] {
                chart.draw_series(LineSeries::new(axis, grey)).map_err(e)?;
            }
            for (i, (_, planes)) in self.curves.iter().enumerate() {
                chart
                    .draw_series(LineSeries::new(
                        planes[p].iter().copied(),
                        colour(i).stroke_width(2),
                    ))
                    .map_err(e)?;
            }
        }
        // The legend: one slot per material across the band.
        let slot = (3 * PANEL / self.curves.len().max(1) as u32).min(400) as i32;
        let y = (LEGEND_BAND / 2) as i32;
        for (i, (label, _)) in self.curves.iter().enumerate() {
            let x = 40 + i as i32 * slot;
            legend
                .draw(&PathElement::new(
                    vec![(x, y), (x + 30, y)],
                    colour(i).stroke_width(3),
                ))
                .map_err(e)?;
            legend
                .draw(&Text::new(
                    *label,
                    (x + 40, y),
                    TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(e)?;
        }
        Ok(())
    }
}
