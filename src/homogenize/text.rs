//! What `voxfe homogenize` prints of a [`HomogenizeReport`]: the text
//! ([`std::fmt::Display`]), the JSON object ([`HomogenizeReport::to_json`])
//! and the directional-modulus picture ([`HomogenizeReport::plot`]).

use std::fmt;
use std::path::{Path, PathBuf};

use super::polar::{plot_directional, PolarError};
use super::run::HomogenizeReport;
use super::tensor::VOIGT_ORDER;
use crate::provenance::Provenance;
use crate::report::{accuracy_line, value_band, AccuracySummary};

impl HomogenizeReport {
    /// The JSON object: the report's fields, `e_h_error_estimate` (the
    /// relative error of E_h, a fraction; `null` without E_h or an
    /// estimate) and the accuracy's flat fields ([`AccuracySummary`]:
    /// `exponent_source`, `error_statement`, `calibration_cache`,
    /// `calibration_seconds`), `voigt_order`, and the provenance (when
    /// given) last.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("a report serializes");
        v["e_h_error_estimate"] = serde_json::json!(self.e_h_error_estimate());
        let serde_json::Value::Object(summary) =
            serde_json::to_value(AccuracySummary::of(&self.accuracy)).expect("serializes")
        else {
            unreachable!("a struct serializes to an object")
        };
        for (k, x) in summary {
            v[k] = x;
        }
        v["voigt_order"] = serde_json::json!(VOIGT_ORDER);
        v["provenance"] = self.provenance.to_json();
        v
    }

    /// The estimated relative error of E_h (a fraction): the run's error
    /// band, when it has E_h and an estimate.
    pub fn e_h_error_estimate(&self) -> Option<f64> {
        self.derived.as_ref().and(self.accuracy.error_estimate)
    }

    /// Writes E(d) of C^H in the xy, yz and zx planes as `stem.png` and
    /// `stem.svg`, titled with `scene_name`, the PNG carrying
    /// `provenance`. Returns the files written.
    pub fn plot(
        &self,
        stem: &Path,
        scene_name: &str,
        provenance: &Provenance,
    ) -> Result<Vec<PathBuf>, PolarError> {
        let title = format!(
            "Directional Young's modulus of {scene_name} ({}, {:.1} % porous)",
            self.voxel.lattice,
            100.0 * self.voxel.porosity_measured
        );
        let label = self.voxel.lattice.to_string();
        let files = plot_directional(stem, &[(label.as_str(), &self.result.stiffness)], &title)?;
        for f in &files {
            if f.extension().is_some_and(|e| e == "png") {
                crate::provenance::add_png_text(f, &provenance.pairs())?;
            }
        }
        Ok(files)
    }
}

/// The text report: the voxelization, C^H and how it was solved.
impl fmt::Display for HomogenizeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.result;
        writeln!(f, "{}", self.voxel)?;
        let [a, b, c] = self.cells;
        writeln!(
            f,
            "load case        periodic homogenization, {a}×{b}×{c} cells"
        )?;
        if r.converged {
            writeln!(
                f,
                "C^H (MPa)        Voigt order {}, engineering shear strains",
                VOIGT_ORDER.join(" ")
            )?;
            for row in &r.stiffness.0 {
                let cells: Vec<String> = row.iter().map(|v| format!("{v:>12.1}")).collect();
                writeln!(f, "  {}", cells.join(""))?;
            }
        } else {
            writeln!(f, "C^H              not reported: a solve did not converge")?;
        }
        if let Some(d) = &self.derived {
            let e = &d.engineering;
            writeln!(
                f,
                "symmetry error   {:.2e} (‖C − Cᵀ‖/‖C‖)",
                d.symmetry_error
            )?;
            writeln!(
                f,
                "E_h              {:.1} MPa{} (1/S33, along z)",
                d.e_h,
                value_band(&self.accuracy)
            )?;
            if let Some(line) = accuracy_line(&self.accuracy) {
                writeln!(f, "{line}")?;
            }
            writeln!(
                f,
                "E1 E2 E3         {:.1} {:.1} {:.1} MPa",
                e.e1, e.e2, e.e3
            )?;
            writeln!(
                f,
                "G23 G13 G12      {:.1} {:.1} {:.1} MPa",
                e.g23, e.g13, e.g12
            )?;
            writeln!(
                f,
                "ν12 ν23 ν31      {:.4} {:.4} {:.4}",
                e.nu12, e.nu23, e.nu31
            )?;
            writeln!(
                f,
                "Zener ratio      {:.4} (cubic projection; deviation from cubic {:.2e})",
                d.zener_ratio, d.cubic_deviation
            )?;
            let dir = |v: [f64; 3]| format!("[{:.3}, {:.3}, {:.3}]", v[0], v[1], v[2]);
            writeln!(
                f,
                "E(d) min / max   {:.1} MPa along {} / {:.1} MPa along {} (ratio {:.3})",
                d.e_min,
                dir(d.d_min),
                d.e_max,
                dir(d.d_max),
                d.e_max_over_min
            )?;
        }
        writeln!(f, "solid fraction   {:.4}", r.solid_fraction)?;
        let solves: Vec<String> = r
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{} {} it {:.1e}",
                    c.strain, c.iterations, c.relative_residual
                )
            })
            .collect();
        writeln!(f, "solves           {}", solves.join(", "))?;
        writeln!(
            f,
            "unknowns         {} ({} active nodes), {} element, {} preconditioner{}",
            r.unknowns,
            r.active_nodes,
            r.element.name(),
            match r.preconditioner {
                crate::fem::Preconditioner::Multigrid => "multigrid",
                crate::fem::Preconditioner::Jacobi => "jacobi",
            },
            r.multigrid_levels
                .as_ref()
                .map_or(String::new(), |l| format!(" ({} levels)", l.len()))
        )?;
        writeln!(
            f,
            "solve time       {:.2} s (set-up {:.2} s) on {} ({})",
            r.solve_seconds, r.setup_seconds, r.backend, r.adapter
        )
    }
}
