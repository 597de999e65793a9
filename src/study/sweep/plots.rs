//! The plots of a sweep ([`write_plots`]): modulus and strength against
//! relative density with the Gibson–Ashby fits, the flexural modulus
//! against porosity, and an implant's stiffness against a varied key; each
//! as PNG and SVG. The rows' grouping and points are here too
//! ([`by_lattice`], [`relative_modulus`], [`relative_strength`]): the
//! summary's fit tables ([`super::outputs`]) take the same.

use std::path::{Path, PathBuf};

use super::band::{band, legend};
use super::{homogenized, Row};
use crate::fit::fit_gibson_ashby;
use crate::plot::{png_and_svg, Chart, PlotError, PowerLaw, Series};

/// `Some` when finite: JSON writes NaN and infinity as `null`, which the
/// summary and the plots show as no value.
pub(super) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// `(ρ, E_eff/E_s)` of a compression row, ρ = 1 − measured porosity.
pub(super) fn relative_modulus(row: &Row) -> Option<(f64, f64)> {
    let run = row.run.as_ref()?;
    let rho = 1.0 - finite(Some(run.voxel.porosity_measured))?;
    Some((
        rho,
        finite(run.solve.e_eff)? / finite(Some(run.material_e))?,
    ))
}

/// `(ρ, σ/σ_y)` of a compression row: the apparent first-yield stress over
/// the yield strength of the solid, ρ = 1 − measured porosity.
pub(super) fn relative_strength(row: &Row) -> Option<(f64, f64)> {
    let run = row.run.as_ref()?;
    let rho = 1.0 - finite(Some(run.voxel.porosity_measured))?;
    Some((
        rho,
        finite(run.strength.yield_stress)? / finite(run.criteria.yield_strength)?,
    ))
}

/// `(ρ, σ_0.2/σ_y)` of a row with an elastoplastic curve (`[sweep]
/// plastic`): its offset yield strength over the solid's yield strength.
pub(super) fn relative_offset_yield(row: &Row) -> Option<(f64, f64)> {
    let run = row.run.as_ref()?;
    let rho = 1.0 - finite(Some(run.voxel.porosity_measured))?;
    let sigma = run.plastic.as_ref()?.yield_stress_offset;
    Some((rho, finite(sigma)? / finite(run.criteria.yield_strength)?))
}

/// Rows that ran, grouped by lattice kind (in order of appearance).
pub(super) fn by_lattice<'r>(rows: impl Iterator<Item = &'r Row>) -> Vec<(&'r str, Vec<&'r Row>)> {
    let mut groups: Vec<(&str, Vec<&Row>)> = Vec::new();
    for r in rows {
        let Some(run) = &r.run else { continue };
        let kind = run.voxel.lattice.as_str();
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push(r),
            None => groups.push((kind, vec![r])),
        }
    }
    groups
}

/// `point` of every row of `groups` whose band is marked
/// ([`super::band`]), as the series of the chart's marks.
fn marked<'r>(
    groups: &[(&str, Vec<&'r Row>)],
    point: impl Fn(&'r Row) -> Option<(f64, f64)>,
) -> Series {
    Series {
        label: legend(),
        points: groups
            .iter()
            .flat_map(|(_, rs)| rs.iter())
            .filter(|r| band(r).is_some_and(|b| b.is_marked()))
            .filter_map(|r| point(r))
            .collect(),
    }
}

/// One series per lattice kind: `point` of each of its rows, sorted by x
/// when `sorted`; kinds without a point left out.
fn series<'r>(
    groups: &[(&str, Vec<&'r Row>)],
    point: impl Fn(&'r Row) -> Option<(f64, f64)>,
    sorted: bool,
) -> Vec<Series> {
    groups
        .iter()
        .map(|(kind, rs)| {
            let mut points: Vec<(f64, f64)> = rs.iter().filter_map(|r| point(r)).collect();
            if sorted {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            Series {
                label: kind.to_string(),
                points,
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The plots of a sweep, written to `dir`; returns the files written.
///
/// - Compression (`e_eff`): `modulus-density`, log–log E_eff/E_s against
///   relative density per lattice kind, with the Gibson–Ashby fits (and
///   periodic cases, `e_h`: E_h/E_s the same way, series "KIND (E_h)"); and
///   (`yield_stress`) `strength-density`, σ_y,app/σ_y the same way.
/// - Three-point bending (`e_flex`): `flexural-modulus`, E_f against
///   measured porosity per lattice kind.
/// - Implant compression (`stiffness`): `stiffness`, k against the first
///   varied key.
///
/// The moduli of cases whose error band is above
/// [`super::band::BAND_THRESHOLD`] or not estimated are ringed in black.
pub fn write_plots(dir: &Path, rows: &[Row], varied: &[&str]) -> Result<Vec<PathBuf>, PlotError> {
    let groups = by_lattice(rows.iter().filter(|r| r.is_ok()));
    let mut written = Vec::new();
    let size = (900, 640);
    // E_eff/E_s and σ_y,app/σ_y against ρ.
    for (name, point, title, y_desc) in [
        (
            "modulus-density",
            relative_modulus as fn(&Row) -> Option<(f64, f64)>,
            "Effective modulus against relative density",
            "E_eff / E_s (–)",
        ),
        (
            "strength-density",
            relative_strength,
            "First-yield strength (linear estimate) against relative density",
            "σ_y,app / σ_y (–)",
        ),
    ] {
        let points = |r: &Row| point(r).filter(|&(x, y)| x > 0.0 && y > 0.0);
        let mut data = series(&groups, points, false);
        let mut marks = Series {
            label: legend(),
            points: Vec::new(),
        };
        if name == "modulus-density" {
            marks = marked(&groups, points);
        }
        let mut y_desc = y_desc.to_string();
        if name == "modulus-density" {
            // Periodic cases: E_h / E_s, one series per lattice kind.
            let e_h = |r: &Row| homogenized::relative_e_h(r).filter(|&(x, y)| x > 0.0 && y > 0.0);
            let mut h = series(&groups, e_h, false);
            marks.points.extend(marked(&groups, e_h).points);
            for s in &mut h {
                s.label.push_str(" (E_h)");
            }
            y_desc = match (data.is_empty(), h.is_empty()) {
                (_, true) => y_desc,
                (true, false) => "E_h / E_s (–), E_h = 1/S33 of C^H".to_string(),
                (false, false) => "E_eff / E_s, E_h / E_s (–)".to_string(),
            };
            data.extend(h);
        }
        if data.is_empty() {
            continue;
        }
        let fits: Vec<Option<PowerLaw>> = data
            .iter()
            .map(|s| {
                let f = fit_gibson_ashby(&s.points)?;
                Some(PowerLaw {
                    label: format!(
                        "{}: {:.3}·ρ^{:.2} ({})",
                        s.label,
                        f.c,
                        f.n,
                        f.quality_text(2)
                    ),
                    c: f.c,
                    n: f.n,
                    x_limits: (1e-3, 1.0),
                })
            })
            .collect();
        let chart = Chart {
            title,
            x_desc: "relative density ρ = 1 − measured porosity (–)",
            log: true,
            y_desc: &y_desc,
            series: &data,
            fits: &fits,
            join: false,
            bands: &[],
            marks: Some(&marks),
            lines: &[],
            x_from_zero: false,
        };
        written.extend(png_and_svg(&dir.join(name), size, &chart)?);
    }
    // E_f against porosity.
    let e_flex = |r: &Row| {
        let run = r.run.as_ref()?;
        let porosity = finite(Some(run.voxel.porosity_measured))?;
        Some((100.0 * porosity, finite(run.solve.e_flex)?))
    };
    let flexural = series(&groups, e_flex, true);
    let flexural_marks = marked(&groups, e_flex);
    if !flexural.is_empty() {
        let chart = Chart {
            title: "Flexural modulus (three-point bending)",
            x_desc: "measured porosity (%)",
            y_desc: "E_f (MPa)",
            log: false,
            series: &flexural,
            fits: &[],
            join: true,
            bands: &[],
            marks: Some(&flexural_marks),
            lines: &[],
            x_from_zero: false,
        };
        written.extend(png_and_svg(&dir.join("flexural-modulus"), size, &chart)?);
    }
    // Implant stiffness against the first numeric varied key.
    let num = |r: &Row, key: &str| finite(r.setting(key)?.as_f64());
    let stiffness = |r: &Row| finite(r.run.as_ref()?.solve.stiffness);
    let key = varied.iter().find(|k| {
        rows.iter()
            .any(|r| num(r, k).is_some() && stiffness(r).is_some())
    });
    if let Some(key) = key {
        let point = |r: &Row| Some((num(r, key)?, stiffness(r)?));
        let series = series(&groups, point, true);
        let marks = marked(&groups, point);
        let x_desc = format!("{key}{}", unit_of(key));
        let chart = Chart {
            title: "Implant axial stiffness",
            x_desc: &x_desc,
            y_desc: "k (N/mm)",
            log: false,
            series: &series,
            fits: &[],
            join: true,
            bands: &[],
            marks: Some(&marks),
            lines: &[],
            x_from_zero: false,
        };
        written.extend(png_and_svg(&dir.join("stiffness"), size, &chart)?);
    }
    Ok(written)
}

/// The unit of a scene key, for axis labels.
fn unit_of(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or("") {
        "porosity" => " (–)",
        "wedge" => " (°)",
        "preset" | "kind" | "platens" | "case" | "backend" | "shape" => "",
        "e" => " (MPa)",
        "nu" => " (–)",
        _ => " (mm)",
    }
}
