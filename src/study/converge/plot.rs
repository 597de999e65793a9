//! The convergence plot of `voxfe converge --plot STEM`: a modulus against
//! the voxel size h, one series per study (one fill, or both with
//! `--compare-fill`), and for each study in its asymptotic range the
//! Richardson value E∞ as a dashed horizontal line with the band
//! E∞ ± |E₃ − E∞| (the study's error estimate of its finest solve: the
//! extrapolation is taken as uncertain as the correction it makes). Drawn
//! with [`crate::plot::png_and_svg`]; the PNG carries the provenance as
//! text chunks, as the sweep plots do.

use std::path::{Path, PathBuf};

use super::{modulus_quantity, ConvergeError, ConvergeReport};
use crate::plot::{png_and_svg, Band, Chart, PlotError, Series};
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

/// The series (quantity against h, coarse to fine, levels without a value
/// left out) and the bands (E∞ ± error estimate, studies in their
/// asymptotic range only) of `studies` (label, report).
pub fn chart_data(studies: &[(&str, &ConvergeReport)], quantity: &str) -> (Vec<Series>, Vec<Band>) {
    let mut series = Vec::new();
    let mut bands = Vec::new();
    for (i, (label, r)) in studies.iter().enumerate() {
        let q = r.quantities.iter().position(|s| s.name == quantity);
        let points = r
            .levels
            .iter()
            .filter_map(|l| Some((l.voxel_size, l.values.get(q?).copied().flatten()?)))
            .collect();
        let est = r.estimate(quantity);
        let verdict = match est {
            Some(e) if e.asymptotic => match e.order {
                Some(p) => format!("p = {p:.2}"),
                None => "flat".into(),
            },
            Some(e) if e.monotone => "not asymptotic".into(),
            Some(_) => "not monotone".into(),
            None => "no estimate".into(),
        };
        series.push(Series {
            label: format!("{label} ({verdict})"),
            points,
        });
        if let Some(e) = est.filter(|e| e.asymptotic) {
            if let Some(y) = e.extrapolated {
                let w = e.error_estimate.unwrap_or(0.0);
                bands.push(Band {
                    label: format!("{label}: Richardson E∞ = {y:.1} ± {w:.1}"),
                    y,
                    half_width: Some(w),
                    series: i,
                });
            }
        }
    }
    (series, bands)
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
    let (series, bands) = chart_data(studies, quantity);
    let fits = vec![None; series.len()];
    let scene = studies.first().map_or("", |(_, r)| r.scene.as_str());
    let title = format!("Convergence in the voxel size: {scene}");
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
