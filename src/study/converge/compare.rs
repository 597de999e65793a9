//! `voxfe converge --compare-fill`: the same study once per voxel fill
//! (binary, then fraction) on the same voxel sizes, so that both
//! sequences can be compared and plotted on one chart. The fraction leg is
//! the scene's own (the defaults: the exponent `"auto"`, calibrated at each
//! h, unless `--set voxel.fraction_exponent=P` pins it); the binary leg is
//! what other voxel codes do.

use super::run::prepare;
use super::{run_levels, ConvergeError, ConvergeReport};
use crate::report::RunReport;
use crate::scene::{Fill, Scene};

/// The fills `--compare-fill` runs, in this order.
pub const COMPARE_FILLS: [Fill; 2] = [Fill::Binary, Fill::Fraction];

/// The overrides of the scene a fill comparison starts from: `set` with
/// `voxel.fill=fraction` (its fraction leg, where every key,
/// `voxel.fraction_exponent` included, applies). An override of
/// `voxel.fill` in `set` is an error: the comparison sets the fill itself.
pub fn compare_fill_overrides(set: &[String]) -> Result<Vec<String>, ConvergeError> {
    if let Some(s) = set.iter().find(|s| {
        s.split_once('=')
            .is_some_and(|(k, _)| k.trim() == "voxel.fill")
    }) {
        return Err(ConvergeError::FillConflict { set: s.clone() });
    }
    let mut leg = set.to_vec();
    leg.push("voxel.fill=fraction".into());
    Ok(leg)
}

/// `voxfe converge --compare-fill`: the study of [`super::run`] once per
/// fill of [`COMPARE_FILLS`] on the same voxel sizes (planned from the
/// scene's h, which the fill does not change). `fraction` is the fraction
/// leg (the scene loaded with [`compare_fill_overrides`]: the exponent
/// `"auto"` unless the scene or `--set` pins one); the binary leg is the
/// same scene with `voxel.fill = "binary"` and the exponent back at its
/// default `"auto"` (an exponent has no meaning for binary voxels, and a
/// value other than 1 is refused there). Both
/// fills' levels are checked before the first solve. `on_level(fill, i,
/// report)` after each solve.
pub fn run_fills(
    fraction: &Scene,
    levels: usize,
    ratio: f64,
    quantities: &[String],
    mut on_level: impl FnMut(Fill, usize, &RunReport),
) -> Result<Vec<(Fill, ConvergeReport)>, ConvergeError> {
    let prepared = COMPARE_FILLS
        .iter()
        .map(|&fill| {
            let leg = match fill {
                Fill::Fraction => fraction.clone(),
                Fill::Binary => fraction.with_settings(&[
                    crate::scene::Setting::new("voxel.fill", fill.name()),
                    crate::scene::Setting::new("voxel.fraction_exponent", "auto"),
                ])?,
            };
            prepare(&leg, levels, ratio, quantities).map(|p| (fill, p))
        })
        .collect::<Result<Vec<_>, _>>()?;
    prepared
        .into_iter()
        .map(|(fill, (scenes, notes, names))| {
            run_levels(&scenes, notes, &names, ratio, |i, r| on_level(fill, i, r))
                .map(|r| (fill, r))
        })
        .collect()
}

/// What `voxfe converge` reports: one study, or one per fill
/// (`--compare-fill`), each with its label ("binary fill", "fraction φ^p
/// (p auto) fill", "fraction φ^2 fill"), the provenance of the scene, and the files of its plot.
#[derive(Debug, Clone)]
pub struct Studies {
    pub studies: Vec<(String, ConvergeReport)>,
    pub compare_fill: bool,
    pub provenance: crate::provenance::Provenance,
    /// The files `--plot` wrote (`None`: no plot asked).
    pub plot: Option<Vec<std::path::PathBuf>>,
}

impl Studies {
    /// The study of `report` (labelled by its fill).
    pub fn one(report: ConvergeReport, provenance: crate::provenance::Provenance) -> Studies {
        let label = format!("{} fill", super::plot::fill_label(&report.finest));
        Studies {
            studies: vec![(label, report)],
            compare_fill: false,
            provenance,
            plot: None,
        }
    }

    /// The studies of [`run_fills`], each labelled by its fill.
    pub fn fills(
        reports: Vec<(Fill, ConvergeReport)>,
        provenance: crate::provenance::Provenance,
    ) -> Studies {
        Studies {
            studies: reports
                .into_iter()
                .map(|(_, r)| (super::plot::fill_label(&r.finest), r))
                .collect(),
            compare_fill: true,
            provenance,
            plot: None,
        }
    }

    /// Draws `modulus` against h of every study as `stem.png` and
    /// `stem.svg` (the PNG with the provenance), and keeps the files.
    pub fn plot(&mut self, stem: &std::path::Path, modulus: &str) -> Result<(), ConvergeError> {
        let labels: Vec<String> = self
            .studies
            .iter()
            .map(|(l, _)| match self.compare_fill {
                true => format!("{l} fill"),
                false => l.clone(),
            })
            .collect();
        let studies: Vec<(&str, &ConvergeReport)> = labels
            .iter()
            .zip(&self.studies)
            .map(|(l, (_, r))| (l.as_str(), r))
            .collect();
        let files = super::plot::write_plot(stem, &studies, modulus, Some(&self.provenance))?;
        self.plot = Some(files);
        Ok(())
    }

    /// Every level of every study converged.
    pub fn converged(&self) -> bool {
        self.studies.iter().all(|(_, r)| r.converged)
    }

    /// One JSON object: the provenance, the plot's files, then the study
    /// (or `compare_fill` and the studies keyed by fill).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("provenance".into(), self.provenance.to_json());
        if let Some(files) = &self.plot {
            let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
            m.insert("plot".into(), files.into());
        }
        if self.compare_fill {
            let fills: serde_json::Map<String, serde_json::Value> = self
                .studies
                .iter()
                .map(|(_, r)| (r.finest.voxel.fill.to_string(), r.to_json().into()))
                .collect();
            m.insert("compare_fill".into(), true.into());
            m.insert("fills".into(), fills.into());
        } else {
            m.extend(self.studies[0].1.to_json());
        }
        serde_json::Value::Object(m)
    }
}

/// The studies as text (each under its fill when compared); the files
/// written are the command's to announce (on stderr).
impl std::fmt::Display for Studies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.compare_fill {
            for (label, r) in &self.studies {
                writeln!(f, "{label} fill:")?;
                writeln!(f, "{r}")?;
            }
        } else {
            write!(f, "{}", self.studies[0].1)?;
        }
        Ok(())
    }
}
