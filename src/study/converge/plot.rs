//! The convergence plot of `voxfe converge --plot STEM`: a modulus against
//! the voxel size h from h = 0, one series per study (one fill, or both
//! with `--compare-fill`), and for each study in its asymptotic range the
//! Richardson value E∞ as a dashed horizontal line with the band
//! E∞ ± |E₃ − E∞| (the study's error estimate of its finest solve: the
//! extrapolation is taken as uncertain as the correction it makes) and
//! the fit E(h) = E∞ + C·hᵖ the estimate stands for, as a solid curve down
//! to h = 0. [`write_plot_of_json`] draws the same from a study's JSON. Drawn
//! with [`crate::plot::png_and_svg`]; the PNG carries the provenance as
//! text chunks, as the sweep plots do.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{modulus_quantity, ConvergeError, ConvergeReport};
use crate::plot::{png_and_svg, Band, Chart, Line, PlotError, Series};
use crate::provenance::Provenance;
use crate::scene::Scene;

/// Pixel size of the chart.
pub const SIZE: (u32, u32) = (900, 640);

/// The y-axis label (with its unit) of the quantities `--plot` draws, the
/// moduli of the load cases; `None` for any other.
pub fn axis_label(quantity: &str) -> Option<&'static str> {
    match quantity {
        "e_eff" => Some("E_eff (MPa)"),
        "e_flex" => Some("E_f (MPa)"),
        "apparent_modulus" => Some("apparent modulus (MPa)"),
        "stiffness" => Some("k (N/mm)"),
        _ => None,
    }
}

/// Checks the `--plot` flags before any solve: `stem`'s directory exists
/// and the load case's modulus (what the plot draws) is among
/// `quantities` (empty: the defaults, which hold it). Returns the
/// modulus's name.
pub fn check_plot(
    scene: &Scene,
    stem: &Path,
    quantities: &[String],
) -> Result<&'static str, ConvergeError> {
    let modulus = modulus_quantity(&scene.load_case());
    if !quantities.is_empty() && !quantities.iter().any(|q| q == modulus) {
        return Err(ConvergeError::PlotQuantity {
            modulus: modulus.into(),
            asked: quantities.join(" quantity="),
        });
    }
    let bad = |why: &str| ConvergeError::PlotPath {
        stem: stem.display().to_string(),
        why: why.into(),
    };
    if stem.as_os_str().is_empty() || stem.is_dir() {
        return Err(bad("a directory, not a file stem"));
    }
    let dir = match stem.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(bad(&format!(
            "directory '{}' does not exist",
            dir.display()
        )));
    }
    Ok(modulus)
}

/// The unit of a quantity `--plot` draws ("MPa", "N/mm"); empty for any
/// other.
pub fn unit(quantity: &str) -> &'static str {
    match quantity {
        "e_eff" | "e_flex" | "apparent_modulus" => "MPa",
        "stiffness" => "N/mm",
        _ => "",
    }
}

/// The symbol of a quantity in the legend ("E_eff"); its name for any other.
fn symbol(quantity: &str) -> &str {
    match quantity {
        "e_eff" => "E_eff",
        "e_flex" => "E_f",
        "apparent_modulus" => "E_app",
        "stiffness" => "k",
        q => q,
    }
}

/// One study as the plot draws it: its label, its values of the quantity
/// against h (coarse to fine) and the estimate of its three finest.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyCurve {
    pub label: String,
    /// `(h, q)`, coarse to fine; levels without a value left out.
    pub points: Vec<(f64, f64)>,
    /// Observed order p, Richardson value q∞ and its error estimate
    /// (`None` where the study gives none).
    pub order: Option<f64>,
    pub extrapolated: Option<f64>,
    pub error_estimate: Option<f64>,
    pub monotone: bool,
    pub asymptotic: bool,
    /// Whether the study gave an estimate at all.
    pub estimated: bool,
}

impl StudyCurve {
    /// The curve of `quantity` in `report`.
    pub fn of_report(label: &str, report: &ConvergeReport, quantity: &str) -> StudyCurve {
        let q = report.quantities.iter().position(|s| s.name == quantity);
        let points = report
            .levels
            .iter()
            .filter_map(|l| Some((l.voxel_size, l.values.get(q?).copied().flatten()?)))
            .collect();
        let est = report.estimate(quantity);
        StudyCurve {
            label: label.to_string(),
            points,
            order: est.and_then(|e| e.order),
            extrapolated: est.and_then(|e| e.extrapolated),
            error_estimate: est.and_then(|e| e.error_estimate),
            monotone: est.is_some_and(|e| e.monotone),
            asymptotic: est.is_some_and(|e| e.asymptotic),
            estimated: est.is_some(),
        }
    }

    /// The curve of `quantity` in a study of `voxfe converge --json` (a
    /// plain study, or one fill of a compare study): its levels' values
    /// and its `quantities.QUANTITY` estimate.
    pub fn of_json(label: &str, study: &Value, quantity: &str) -> StudyCurve {
        let points = study["levels"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| Some((l["voxel_size"].as_f64()?, l[quantity].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let est = &study["quantities"][quantity];
        StudyCurve {
            label: label.to_string(),
            points,
            order: est["order"].as_f64(),
            extrapolated: est["extrapolated"].as_f64(),
            error_estimate: est["error_estimate"].as_f64(),
            monotone: est["monotone"].as_bool().unwrap_or(false),
            asymptotic: est["asymptotic"].as_bool().unwrap_or(false),
            estimated: est.is_object(),
        }
    }

    /// The fit the study's estimate stands for, q(h) = q∞ + C·hᵖ through
    /// the finest value (the three finest, as the three-level Richardson
    /// estimate is exact on them): `(q∞, C, p)`; `None` unless asymptotic
    /// with an order.
    pub fn fit(&self) -> Option<(f64, f64, f64)> {
        let (p, q0) = (self.order?, self.extrapolated?);
        let &(h, q) = self.points.last()?;
        (self.asymptotic && h > 0.0).then(|| (q0, (q - q0) / h.powf(p), p))
    }
}

/// What the chart draws of `studies`, the `quantity` against h: one series
/// per study, the Richardson value q∞ of each study in its asymptotic
/// range with its band q∞ ± error estimate, and the fitted curve
/// q∞ + C·hᵖ from h = 0 to the coarsest of the three levels it rests on.
pub fn chart_data(studies: &[StudyCurve], quantity: &str) -> (Vec<Series>, Vec<Band>, Vec<Line>) {
    let (mut series, mut bands, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    let (sym, unit) = (symbol(quantity), unit(quantity));
    for (i, s) in studies.iter().enumerate() {
        let verdict = match (s.estimated, s.asymptotic, s.order) {
            (true, true, Some(p)) => format!("p = {p:.2}"),
            (true, true, None) => "flat".into(),
            (true, false, _) if s.monotone => "not asymptotic".into(),
            (true, false, _) => "not monotone".into(),
            (false, ..) => "no estimate".into(),
        };
        series.push(Series {
            label: format!("{} ({verdict})", s.label),
            points: s.points.clone(),
        });
        if !s.asymptotic {
            continue;
        }
        if let Some(y) = s.extrapolated {
            let w = s.error_estimate.unwrap_or(0.0);
            bands.push(Band {
                label: format!("{}: Richardson {sym}∞ = {y:.1} ± {w:.1} {unit}", s.label),
                y,
                half_width: Some(w),
                series: i,
            });
        }
        if let Some((q0, c, p)) = s.fit() {
            // Over the three levels the estimate rests on, down to h = 0.
            let h_max = s.points[s.points.len().saturating_sub(3)].0;
            const SAMPLES: usize = 40;
            lines.push(Line {
                label: format!(
                    "{}: fit {sym}(h) = {sym}∞ + C·h^p, C = {c:.3e} {unit}/mm^p, p = {p:.2}",
                    s.label
                ),
                points: (0..=SAMPLES)
                    .map(|k| {
                        let h = h_max * k as f64 / SAMPLES as f64;
                        (h, q0 + c * h.powf(p))
                    })
                    .collect(),
                series: i,
                dashed: false,
            });
        }
    }
    (series, bands, lines)
}

/// Draws `stem.png` and `stem.svg` of `quantity` against h for `studies`
/// (label, report), with `provenance` in the PNG's text chunks; returns
/// both paths.
pub fn write_plot(
    stem: &Path,
    studies: &[(&str, &ConvergeReport)],
    quantity: &str,
    provenance: Option<&Provenance>,
) -> Result<Vec<PathBuf>, PlotError> {
    let curves: Vec<StudyCurve> = studies
        .iter()
        .map(|(label, r)| StudyCurve::of_report(label, r, quantity))
        .collect();
    let scene = studies.first().map_or("", |(_, r)| r.scene.as_str());
    let case = studies.first().map_or("", |(_, r)| r.load_case);
    draw(stem, &curves, scene, case, quantity, provenance)
}

/// Draws `stem.png` and `stem.svg` of the modulus against h from the
/// output of `voxfe converge --json` (a plain study or `--compare-fill`):
/// the plot `--plot` would have drawn, without solving again, the PNG
/// with the study's provenance. Returns both paths.
pub fn write_plot_of_json(stem: &Path, json: &Value) -> Result<Vec<PathBuf>, PlotError> {
    let fail = |message: &str| PlotError {
        path: stem.to_path_buf(),
        message: message.to_string(),
    };
    let provenance: Option<Provenance> = serde_json::from_value(json["provenance"].clone()).ok();
    // The fraction fill's exponent, where the scene sets a number.
    let exponent = provenance
        .as_ref()
        .and_then(|p| p.scene.parse::<toml::Table>().ok())
        .and_then(|t| t.get("voxel")?.get("fraction_exponent")?.as_float());
    let studies: Vec<(String, &Value)> = match json.get("fills").and_then(Value::as_object) {
        Some(fills) => fills
            .iter()
            .map(|(fill, s)| {
                let label = match exponent {
                    Some(p) if fill == "fraction" && p != 1.0 => format!("fraction φ^{p} fill"),
                    _ => format!("{fill} fill"),
                };
                (label, s)
            })
            .collect(),
        None => vec![(String::new(), json)],
    };
    let first = studies
        .first()
        .ok_or_else(|| fail("no study in the JSON"))?
        .1;
    let case = first["load_case"].as_str().unwrap_or("");
    let quantity = match case {
        "three-point-bending" => "e_flex",
        "implant-compression" => "apparent_modulus",
        _ => "e_eff",
    };
    let curves: Vec<StudyCurve> = studies
        .iter()
        .map(|(label, s)| StudyCurve::of_json(label, s, quantity))
        .collect();
    if curves.iter().all(|c| c.points.is_empty()) {
        return Err(fail(&format!("no level with a value of {quantity}")));
    }
    let scene = first["scene"].as_str().unwrap_or("");
    draw(stem, &curves, scene, case, quantity, provenance.as_ref())
}

/// The chart of `curves` ([`chart_data`]), x from h = 0, as `stem.png` and
/// `stem.svg`.
fn draw(
    stem: &Path,
    curves: &[StudyCurve],
    scene: &str,
    case: &str,
    quantity: &str,
    provenance: Option<&Provenance>,
) -> Result<Vec<PathBuf>, PlotError> {
    let (series, bands, lines) = chart_data(curves, quantity);
    let fits = vec![None; series.len()];
    let title = format!("Convergence in the voxel size: {scene} ({case})");
    let chart = Chart {
        title: &title,
        x_desc: "voxel size h (mm)",
        y_desc: axis_label(quantity).unwrap_or(quantity),
        log: false,
        series: &series,
        fits: &fits,
        join: true,
        bands: &bands,
        marks: None,
        lines: &lines,
        x_from_zero: true,
    };
    let written = png_and_svg(stem, SIZE, &chart)?;
    if let Some(p) = provenance {
        let png = &written[0];
        crate::provenance::add_png_text(png, &p.pairs()).map_err(|e| PlotError {
            path: png.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(written)
}

/// A study's label on the chart, from the run of its finest level: the
/// fill, with its stiffness exponent: "fraction φ^p (p auto)" when
/// calibrated at each h, "fraction φ^2" when set by hand (not Voigt's 1).
pub fn fill_label(finest: &crate::report::RunReport) -> String {
    let voxel = &finest.voxel;
    match voxel.fraction_exponent {
        Some(_) if finest.accuracy.exponent_source == "auto" => {
            format!("{} φ^p (p auto)", voxel.fill)
        }
        Some(p) if p != 1.0 => format!("{} φ^{p}", voxel.fill),
        _ => voxel.fill.to_string(),
    }
}
