//! What `voxfe design` reports of a design found ([`Designed`]): the text
//! ([`std::fmt::Display`]) and the JSON object ([`Designed::to_json`]:
//! the design's run or homogenization, the target, the solves and the
//! provenance of the design's own scene).

use std::fmt;

use serde_json::{Map, Value};

use super::{DesignOptions, Designed};
use crate::calibration::Accuracy;
use crate::homogenize::run::HomogenizeReport;
use crate::provenance::Provenance;
use crate::report::RunReport;
use crate::study::converge::ConvergeReport;

impl Designed<RunReport> {
    /// `voxfe run --json`'s fields of the design's solve, then
    /// `target_modulus`, `solves` and the provenance of its scene.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = self.report.to_json();
        // The provenance last, of the design's scene.
        m.shift_remove("provenance");
        m.insert("target_modulus".into(), self.opts.target.into());
        insert_tolerance(&mut m, &self.opts);
        m.insert("solves".into(), self.design.probes.len().into());
        m.insert(
            "design_targets".into(),
            if self.targets_as_built() {
                "e_eff_as_built"
            } else {
                "e_eff"
            }
            .into(),
        );
        let s = &self.report.solve;
        let p = Provenance::of_scene(&self.scene).with_backend(&s.backend, &s.adapter);
        m.insert("provenance".into(), p.to_json());
        m
    }
}

impl Designed<RunReport> {
    /// `--converged`: the design's object as `design`, then the fields of
    /// the convergence study at the design.
    pub fn with_study_json(&self, study: &ConvergeReport) -> Value {
        let mut m = Map::new();
        m.insert("design".into(), self.to_json().into());
        m.extend(study.to_json());
        Value::Object(m)
    }
}

impl Designed<RunReport> {
    /// Whether the design targeted the as-built modulus (a scene with an
    /// `[as_built]` model).
    pub fn targets_as_built(&self) -> bool {
        self.report.as_built.e_eff_as_built.is_some()
    }
}

impl fmt::Display for Designed<RunReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, o, v) = (&self.design, &self.opts, &self.report.voxel);
        if self.targets_as_built() {
            let a = &self.report.as_built;
            writeln!(
                f,
                "target            E_eff as built (the scene's [as_built] fit: {})",
                a.as_built_model.as_deref().unwrap_or("")
            )?;
            writeln!(
                f,
                "target E_ab       {:.1} MPa (within {} %)",
                o.target,
                100.0 * o.stop_tolerance()
            )?;
            noise_note(f, o)?;
            writeln!(
                f,
                "reached E_ab      {:.1} MPa ({:+.2} %) ± {} (the ideal E_eff's band and the fit's leave-one-out error) at h = {} mm",
                d.e_eff,
                100.0 * (d.e_eff / o.target - 1.0),
                crate::report::percent(a.e_eff_as_built_error_estimate.unwrap_or(0.0)),
                v.voxel_size
            )?;
            writeln!(
                f,
                "ideal E_eff       {:.1} MPa (the ideal geometry at the design)",
                self.report.solve.e_eff.unwrap_or(f64::NAN)
            )?;
            if let Some(x) = a.as_built_extrapolation {
                writeln!(
                    f,
                    "extrapolation     the design's porosity lies {x:.4} outside the tested range"
                )?;
            }
            return self.fmt_geometry(f);
        }
        writeln!(
            f,
            "target E_eff      {:.1} MPa (within {} %)",
            o.target,
            100.0 * o.stop_tolerance()
        )?;
        noise_note(f, o)?;
        writeln!(
            f,
            "reached E_eff     {:.1} MPa ({:+.2} %) at h = {} mm",
            d.e_eff,
            100.0 * (d.e_eff / o.target - 1.0),
            v.voxel_size
        )?;
        self.fmt_geometry(f)
    }
}

impl Designed<RunReport> {
    /// The design's geometry, its solves and its error band.
    fn fmt_geometry(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, v) = (&self.design, &self.report.voxel);
        if let Some(d) = v.strut_diameter {
            writeln!(f, "strut diameter D  {d:.4} mm")?;
        }
        if let Some(t) = v.level {
            writeln!(f, "gyroid level      {t:.4}")?;
        }
        writeln!(
            f,
            "porosity          {:.4} measured, {:.4} nominal",
            v.porosity_measured, v.porosity_nominal
        )?;
        if let Some(p) = v.pore_size {
            writeln!(f, "pore size         {p:.4} mm")?;
        }
        writeln!(f, "solves            {}", d.probes.len())?;
        band_line(f, &self.report.accuracy, "E_eff")
    }
}

/// `design_tolerance` (the search's stop: `--tolerance`, never below the
/// modulus's noise) and `design_noise` (that noise) in a design's JSON
/// object.
fn insert_tolerance(m: &mut Map<String, Value>, o: &DesignOptions) {
    m.insert("design_tolerance".into(), o.stop_tolerance().into());
    m.insert("design_noise".into(), o.noise.into());
}

/// A note when the tolerance asked is below the modulus's noise.
fn noise_note(f: &mut fmt::Formatter<'_>, o: &DesignOptions) -> fmt::Result {
    if o.below_noise() {
        writeln!(
            f,
            "note              tolerance={} % is below the noise of the calibrated modulus between porosities ({} %: twice the calibration's search tolerance); the search stopped within {} %",
            100.0 * o.tolerance,
            100.0 * o.noise,
            100.0 * o.stop_tolerance()
        )?;
    }
    Ok(())
}

/// The error band of the design's modulus: how close it is to the
/// lattice's converged modulus, whatever the design's tolerance.
fn band_line(f: &mut fmt::Formatter<'_>, a: &Accuracy, name: &str) -> fmt::Result {
    match a.error_estimate {
        // The statement starts with the band: "± 2.1 % (p = … calibrated …)".
        Some(_) => writeln!(f, "error band        {name} {}", a.statement),
        None => writeln!(f, "error band        not estimated: {}", a.statement),
    }
}

impl Designed<HomogenizeReport> {
    /// `voxfe homogenize --json`'s object of the design's cell, then
    /// `target_modulus`, `e_h`, `porosity`, `solves` and the provenance of
    /// its scene.
    pub fn to_json(&self) -> Value {
        let mut v = self.report.to_json();
        // The provenance last, of the design's scene.
        if let Some(m) = v.as_object_mut() {
            m.shift_remove("provenance");
        }
        v["target_modulus"] = self.opts.target.into();
        if let Some(m) = v.as_object_mut() {
            insert_tolerance(m, &self.opts);
        }
        v["e_h"] = self.design.e_eff.into();
        v["porosity"] = self.design.porosity.into();
        v["solves"] = self.design.probes.len().into();
        let r = &self.report.result;
        v["provenance"] = Provenance::of_scene(&self.scene)
            .with_backend(&r.backend, &r.adapter)
            .to_json();
        v
    }
}

impl fmt::Display for Designed<HomogenizeReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, o) = (&self.design, &self.opts);
        writeln!(
            f,
            "target E_h        {:.1} MPa (within {} %; E_h = 1/S33 of C^H, along z)",
            o.target,
            100.0 * o.stop_tolerance()
        )?;
        noise_note(f, o)?;
        writeln!(
            f,
            "reached E_h       {:.1} MPa ({:+.2} %) at porosity {} (nominal)",
            d.e_eff,
            100.0 * (d.e_eff / o.target - 1.0),
            d.porosity
        )?;
        writeln!(f, "solves            {}", d.probes.len())?;
        band_line(f, &self.report.accuracy, "E_h")?;
        writeln!(f)?;
        write!(f, "{}", self.report)
    }
}
