//! What `voxfe fit` reports: the text (per quantity, the table of
//! specimens: simulated, fitted, measured, leave-one-out prediction and its
//! error; each model with its parameters, their 95 % intervals and its
//! leave-one-out error; the model chosen and why), the JSON
//! ([`FitReport::to_json`], with the provenance) and the plots
//! ([`write_plots`]: the parity plot, predicted against measured on log
//! axes with the 1:1 line and the leave-one-out predictions marked, and
//! the modulus–porosity plot with the tests, the ideal curve, the fitted
//! curve and its band; PNG and SVG).

use std::fmt;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::model::{ModelFit, ModelKind};
use super::{FitReport, QuantityFit, INTERVALS};
use crate::plot::{colour, log_ticks, png_and_svg, tick, Figure, PlotError, FONT};

impl FitReport {
    /// The report as one JSON object (what `[as_built] from` reads: its
    /// `as_built` object).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("a fit serializes");
        v["intervals"] = INTERVALS.into();
        v["model_choice"] = format!(
            "the lowest leave-one-out rms error of ln value; a model with more parameters must beat a simpler one by {:.0} % of its error",
            100.0 * super::model::PARSIMONY
        )
        .into();
        if let Some(p) = &self.provenance {
            v["provenance"] = p.to_json();
        }
        v
    }

    /// The name of specimen `i` of the tests.
    fn name(&self, i: usize) -> &str {
        &self.simulated[i].specimen.name
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scene            {}", self.scene)?;
        writeln!(
            f,
            "tests            {} ({} specimens)",
            self.tests,
            self.simulated.len()
        )?;
        writeln!(
            f,
            "tested porosity  {:.4} – {:.4}",
            self.porosity_range.0, self.porosity_range.1
        )?;
        if !self.offsets_mm.is_empty() {
            writeln!(
                f,
                "strut offsets    δ = {} mm simulated per specimen (interpolated in log–log: quadratic of ln E in ln(D + δ))",
                self.offsets_mm
                    .iter()
                    .map(|d| format!("{d:+.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        writeln!(f, "intervals        {INTERVALS}")?;
        writeln!(f)?;
        self.fmt_quantity(f, &self.modulus, "E", "MPa")?;
        writeln!(f)?;
        match &self.yield_strength {
            Some(y) => {
                writeln!(f, "yield strength: {}", self.yield_note)?;
                self.fmt_quantity(f, y, "σ_y", "MPa")?;
            }
            None => writeln!(f, "yield strength: {}", self.yield_note)?,
        }
        writeln!(f)?;
        writeln!(
            f,
            "as built         {} — [as_built] from = \"<this fit's JSON record>\" applies it to run, sweep and design",
            self.as_built.describe()
        )
    }
}

impl FitReport {
    fn fmt_quantity(
        &self,
        f: &mut fmt::Formatter<'_>,
        q: &QuantityFit,
        sym: &str,
        unit: &str,
    ) -> fmt::Result {
        let c = q.chosen_fit();
        writeln!(
            f,
            "{sym} ({unit}), chosen model {} = {}: {}",
            c.model.name(),
            c.model.formula(),
            q.why
        )?;
        writeln!(
            f,
            "{:<12} {:>9} {:>12} {:>12} {:>12} {:>12} {:>8}",
            "specimen", "porosity", "simulated", "fitted", "measured", "LOO pred.", "LOO err"
        )?;
        for (j, &i) in q.specimens.iter().enumerate() {
            writeln!(
                f,
                "{:<12} {:>9.4} {:>12.2} {:>12.2} {:>12.2} {:>12.2} {:>+7.1}%",
                self.name(i),
                self.simulated[i].porosity,
                q.simulated[j],
                c.fitted[j],
                q.measured[j],
                c.loo[j],
                100.0 * (c.loo[j] / q.measured[j] - 1.0)
            )?;
        }
        writeln!(f, "models:")?;
        for m in &q.models {
            writeln!(
                f,
                "  {:<13} {:<11} {}; rms {:.1} %, leave-one-out rms {:.1} % (ln), {:.1} % (relative){}",
                m.model.name(),
                m.model.formula(),
                params_text(m),
                100.0 * m.rms_log,
                100.0 * m.loo_rms_log,
                100.0 * m.loo_rms_relative,
                if m.model == q.chosen { "  <- chosen" } else { "" }
            )?;
        }
        for r in &q.refused {
            writeln!(f, "  refused: {r}")?;
        }
        Ok(())
    }
}

/// "k = 0.21 [0.18, 0.25], m = …" with each 95 % interval.
fn params_text(m: &ModelFit) -> String {
    m.params
        .iter()
        .map(|p| {
            let unit = if p.name == "strut_offset" { " mm" } else { "" };
            let name = if p.name == "strut_offset" {
                "δ"
            } else {
                &p.name
            };
            format!(
                "{name} = {:.4}{unit} [{:.4}, {:.4}]{}",
                p.value,
                p.ci95.0,
                p.ci95.1,
                if p.censored {
                    " (interval reaches the simulated offsets' end)"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `parity.png/.svg` and `modulus-porosity.png/.svg` into `dir`;
/// returns the files written.
pub fn write_plots(report: &FitReport, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut files = png_and_svg(&dir.join("parity"), (900, 760), &Parity(report))?;
    files.extend(png_and_svg(
        &dir.join("modulus-porosity"),
        (900, 760),
        &ModulusPorosity(report),
    )?);
    Ok(files)
}

/// Predicted (fitted) against measured modulus, log axes.
struct Parity<'a>(&'a FitReport);

impl Figure for Parity<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let q = &self.0.modulus;
        let c = q.chosen_fit();
        root.fill(&WHITE).map_err(e)?;
        let all = q
            .measured
            .iter()
            .chain(&c.fitted)
            .chain(&c.loo)
            .chain(&q.simulated);
        let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let (lo, hi) = (lo / 1.4, hi * 1.4);
        let title = format!(
            "As built: {} fit ({}), E in MPa",
            c.model.name(),
            c.model.formula()
        );
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            )
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .x_desc("measured E (MPa)")
            .y_desc("predicted E (MPa)")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(e)?;
        let grey = RGBColor(90, 90, 90);
        chart
            .draw_series(LineSeries::new([(lo, lo), (hi, hi)], grey.stroke_width(1)))
            .map_err(e)?
            .label("1:1")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
        let ideal = colour(7);
        chart
            .draw_series(
                q.measured
                    .iter()
                    .zip(&q.simulated)
                    .map(|(&m, &s)| TriangleMarker::new((m, s), 6, ideal.filled())),
            )
            .map_err(e)?
            .label("ideal geometry (simulated)")
            .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, ideal.filled()));
        let fit = colour(0);
        chart
            .draw_series(
                q.measured
                    .iter()
                    .zip(&c.fitted)
                    .map(|(&m, &p)| Circle::new((m, p), 6, fit.filled())),
            )
            .map_err(e)?
            .label(format!("fitted ({})", c.model.name()))
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, fit.filled()));
        let loo = colour(3);
        chart
            .draw_series(
                q.measured
                    .iter()
                    .zip(&c.loo)
                    .map(|(&m, &p)| Cross::new((m, p), 7, loo.stroke_width(2))),
            )
            .map_err(e)?
            .label(format!(
                "leave-one-out prediction (rms {:.1} %)",
                100.0 * c.loo_rms_log
            ))
            .legend(move |(x, y)| Cross::new((x + 10, y), 6, loo.stroke_width(2)));
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(e)?;
        Ok(())
    }
}

/// Modulus against porosity: the tests, the ideal simulated curve, the
/// fitted curve and its band (± the leave-one-out rms error).
struct ModulusPorosity<'a>(&'a FitReport);

impl Figure for ModulusPorosity<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let r = self.0;
        let q = &r.modulus;
        let c = q.chosen_fit();
        root.fill(&WHITE).map_err(e)?;
        let mut order: Vec<usize> = (0..q.specimens.len()).collect();
        order.sort_by(|&a, &b| {
            r.simulated[q.specimens[a]]
                .porosity
                .total_cmp(&r.simulated[q.specimens[b]].porosity)
        });
        let phi = |j: usize| r.simulated[q.specimens[j]].porosity;
        let band = c.loo_rms_log.exp();
        let constant = q
            .model(ModelKind::Constant)
            .map_or(&[][..], |k| &k.fitted[..]);
        let ys = q
            .measured
            .iter()
            .chain(&q.simulated)
            .chain(&c.fitted)
            .chain(constant)
            .copied()
            .chain(c.fitted.iter().map(|v| v * band))
            .chain(c.fitted.iter().map(|v| v / band));
        let (ylo, yhi) = ys.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (ylo, yhi) = (ylo / 1.3, yhi * 1.3);
        let (plo, phi_hi) = (r.porosity_range.0, r.porosity_range.1);
        let pad = ((phi_hi - plo) * 0.08).max(0.01);
        let (x0, x1) = ((plo - pad).max(0.0), (phi_hi + pad).min(1.0));
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Modulus against porosity: tests, ideal and as built",
                (FONT, 22),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(
                x0..x1,
                (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
            )
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_labels(10)
            .light_line_style(WHITE)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .x_desc("porosity (as built)")
            .y_desc("E (MPa)")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(e)?;
        let fit = colour(0);
        let upper: Vec<(f64, f64)> = order
            .iter()
            .map(|&j| (phi(j), c.fitted[j] * band))
            .collect();
        let lower: Vec<(f64, f64)> = order
            .iter()
            .rev()
            .map(|&j| (phi(j), c.fitted[j] / band))
            .collect();
        let poly: Vec<(f64, f64)> = upper.into_iter().chain(lower).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(poly, fit.mix(0.18).filled())))
            .map_err(e)?
            .label(format!(
                "band ± leave-one-out error ({:.1} %)",
                100.0 * c.loo_rms_log
            ))
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], fit.mix(0.18).filled())
            });
        let ideal = colour(7);
        chart
            .draw_series(LineSeries::new(
                order.iter().map(|&j| (phi(j), q.simulated[j])),
                ideal.stroke_width(2),
            ))
            .map_err(e)?
            .label("ideal geometry (simulated)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], ideal.stroke_width(2))
            });
        chart
            .draw_series(
                order
                    .iter()
                    .map(|&j| Circle::new((phi(j), q.simulated[j]), 4, ideal.filled())),
            )
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(
                order.iter().map(|&j| (phi(j), c.fitted[j])),
                fit.stroke_width(2),
            ))
            .map_err(e)?
            .label(format!(
                "as built: {} ({})",
                c.model.name(),
                c.model.formula()
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], fit.stroke_width(2)));
        let test = colour(3);
        chart
            .draw_series(
                order
                    .iter()
                    .map(|&j| Circle::new((phi(j), q.measured[j]), 6, test.filled())),
            )
            .map_err(e)?
            .label("tests (measured)")
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, test.filled()));
        if c.model != ModelKind::Constant {
            if let Some(k) = q.model(ModelKind::Constant) {
                let grey = RGBColor(120, 120, 120);
                chart
                    .draw_series(DashedLineSeries::new(
                        order.iter().map(|&j| (phi(j), k.fitted[j])),
                        6,
                        4,
                        grey.stroke_width(1),
                    ))
                    .map_err(e)?
                    .label(format!(
                        "constant factor (leave-one-out {:.1} %)",
                        100.0 * k.loo_rms_log
                    ))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
            }
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(e)?;
        Ok(())
    }
}
