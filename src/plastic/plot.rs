//! The stress–strain plot of a plastic run: the curve, the offset line of
//! slope E_eff through ε = 0.002, σ_0.2 as a dashed level, and the first
//! maximum, as PNG and SVG ([`crate::plot::png_and_svg`]).

use std::path::{Path, PathBuf};

use crate::plastic::curve::OFFSET;
use crate::plastic::run::PlasticReport;
use crate::plot::{png_and_svg, Band, Chart, PlotError, Series};

/// Writes `stem.png` and `stem.svg`; returns both paths.
pub fn write(report: &PlasticReport, stem: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let s = &report.solution;
    let mut curve = vec![(0.0, 0.0)];
    curve.extend(s.points.iter().map(|p| (p.strain, p.stress)));
    // The lines rise to 1.45× the highest stress: head room above the
    // curve for the legend, which sits at the upper left.
    let top = curve.iter().fold(0.0f64, |m, p| m.max(p.1)) * 1.45;
    let e = s.elastic_modulus;
    let mut series = vec![
        Series {
            label: format!(
                "apparent stress–strain ({}, J2, {})",
                report.load_case,
                report.element()
            ),
            points: curve,
        },
        Series {
            label: format!("offset line: slope E_eff = {e:.0} MPa through ε = 0.002"),
            points: vec![(OFFSET, 0.0), (OFFSET + top / e, top)],
        },
        Series {
            label: "elastic line: slope E_eff".into(),
            points: vec![(0.0, 0.0), (top / e, top)],
        },
    ];
    if let Some((x, y)) = report.first_maximum {
        series.push(Series {
            label: format!("first maximum {y:.1} MPa at ε = {x:.4}"),
            points: vec![(x, y)],
        });
    }
    let bands: Vec<Band> = report
        .offset
        .map(|o| Band {
            label: format!("σ_0.2 = {:.1} MPa (ε = {:.4})", o.stress, o.strain),
            y: o.stress,
            half_width: None,
            series: 1,
        })
        .into_iter()
        .collect();
    let marks = report.offset.map(|o| Series {
        label: "σ_0.2".into(),
        points: vec![(o.strain, o.stress)],
    });
    let title = format!("{}: elastoplastic curve", report.name);
    let fits = vec![None; series.len()];
    let chart = Chart {
        title: &title,
        x_desc: "apparent strain δ/Lz",
        y_desc: "apparent stress, MPa",
        log: false,
        series: &series,
        fits: &fits,
        join: true,
        bands: &bands,
        marks: marks.as_ref(),
        lines: &[],
        x_from_zero: false,
    };
    png_and_svg(stem, (900, 640), &chart)
}
