//! The reports of a run: the voxelization's ([`VoxelReport`], what
//! `voxfe voxelize` prints) and the run's ([`RunReport`]: the voxelization
//! and its solve, as `voxfe run` prints it), and the run's record
//! ([`RunRecord`]: its parts flattened into one JSON object, what
//! `voxfe run --json` prints and every sweep row holds). The pipeline
//! fills them; they depend on nothing of it.

use crate::calibration::accuracy::Accuracy;
use crate::fem::load::StrengthQuantities;
use crate::fem::result::nan_if_null;
use crate::fem::SolveResult;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A run's record: its parts, flattened in this order into one JSON
/// object (`voxfe run --json`, a sweep row): the voxelization
/// ([`VoxelReport`]), the solve ([`SolveResult`], its GPU-only columns
/// `null` on the CPU), the error of its moduli ([`AccuracyFields`]), the
/// load case and the solid's modulus, the strength criteria
/// ([`StrengthCriteria`]), the load case's strength estimates
/// ([`StrengthQuantities`]) and their error statement. A field added to a
/// part is in every output.
/// `Default` is an empty run, for synthetic rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    #[serde(flatten)]
    pub voxel: VoxelReport,
    /// The solve's scalars (no field arrays: they are not serialized).
    #[serde(flatten)]
    pub solve: SolveResult,
    /// The estimated error of the moduli and how the exponent was set
    /// (absent from results written before them).
    #[serde(flatten)]
    pub accuracy: AccuracyFields,
    /// The scene's `load.case`.
    pub load_case: String,
    /// Young's modulus of the solid, MPa.
    #[serde(deserialize_with = "nan_if_null")]
    pub material_e: f64,
    #[serde(flatten)]
    pub criteria: StrengthCriteria,
    /// The load case's strength estimates (none unless converged; absent
    /// from results written before them).
    #[serde(flatten)]
    pub strength: StrengthQuantities,
    /// How far the strength estimates are known to be from converged
    /// ([`crate::strength::strength_error_statement`]); `None` without
    /// strength estimates.
    #[serde(default)]
    pub strength_error_statement: Option<String>,
    /// The as-built modulus of a scene with an `[as_built]` model (absent
    /// otherwise).
    #[serde(flatten)]
    pub as_built: AsBuiltFields,
}

/// The as-built value of a run's E_eff ([`crate::study::as_built`]): the
/// scene's knockdown model applied, its band (the ideal value's and the
/// fit's leave-one-out error in quadrature), the model, and how far the
/// run's porosity lies outside the tested range. All absent from runs of
/// a scene without `[as_built]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AsBuiltFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_eff_as_built: Option<f64>,
    /// Relative error band of `e_eff_as_built` (a fraction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_eff_as_built_error_estimate: Option<f64>,
    /// The model and its parameters, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_built_model: Option<String>,
    /// The distance in porosity outside the tested range (an
    /// extrapolation); absent inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_built_extrapolation: Option<f64>,
    /// The as-built yield strength: the fit's yield model (`[as_built]
    /// from` a fit whose tests gave yield strengths) applied to the run's
    /// first-yield stress, MPa (compression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yield_stress_as_built: Option<f64>,
    /// Relative error band of `yield_stress_as_built` (a fraction): the
    /// yield fit's leave-one-out error (the first-yield stress has no band
    /// of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yield_stress_as_built_error_estimate: Option<f64>,
    /// The yield model and its parameters, in words, with what the
    /// simulated yield is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_built_yield_model: Option<String>,
}

/// The error of a run's moduli as flat record fields: each modulus's
/// estimated relative error (a fraction; set only when the modulus is and
/// the run has an estimate: a calibrated exponent's band or a convergence
/// study's error), and [`AccuracySummary`]. All `None` in results written
/// before them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccuracyFields {
    pub e_eff_error_estimate: Option<f64>,
    pub e_flex_error_estimate: Option<f64>,
    pub stiffness_error_estimate: Option<f64>,
    pub apparent_modulus_error_estimate: Option<f64>,
    #[serde(flatten)]
    pub summary: AccuracySummary,
}

impl AccuracyFields {
    /// The fields of a run with `accuracy` whose solve gave `solve`.
    pub fn of(accuracy: &Accuracy, solve: &SolveResult) -> AccuracyFields {
        let band = |q: Option<f64>| q.and(accuracy.error_estimate);
        AccuracyFields {
            e_eff_error_estimate: band(solve.e_eff),
            e_flex_error_estimate: band(solve.e_flex),
            stiffness_error_estimate: band(solve.stiffness),
            apparent_modulus_error_estimate: band(solve.apparent_modulus),
            summary: AccuracySummary::of(accuracy),
        }
    }
}

/// How a run's exponent was set and what is known of its error, as flat
/// JSON fields of a run's record and of a periodic cell's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccuracySummary {
    /// "auto" (calibrated), "hand", "binary", "image" or "none" (not a
    /// lattice) ([`Accuracy::exponent_source`]).
    pub exponent_source: Option<String>,
    /// One sentence: what the band is made of (or which study gave the
    /// error), or how large the error is known to be at this D/h and which
    /// settings fix it ([`Accuracy::statement`]).
    pub error_statement: Option<String>,
    /// "hit", "miss" or "bypassed" (a calibrated exponent only).
    pub calibration_cache: Option<String>,
    /// Wall time of the calibration, s (a calibrated exponent only).
    pub calibration_seconds: Option<f64>,
}

impl AccuracySummary {
    pub fn of(a: &Accuracy) -> AccuracySummary {
        AccuracySummary {
            exponent_source: Some(a.exponent_source.to_string()),
            error_statement: Some(a.statement.clone()),
            calibration_cache: a.cache.map(str::to_string),
            calibration_seconds: a.seconds,
        }
    }
}

/// A relative error `x` (a fraction) in percent with one decimal, as the
/// calibration's statement gives its band ("2.4 %", "0.1 %"); two below
/// 0.05 %, which one decimal would print as 0 ("0.03 %").
pub fn percent(x: f64) -> String {
    let p = 100.0 * x;
    if p.abs() >= 0.05 {
        format!("{p:.1} %")
    } else {
        format!("{p:.2} %")
    }
}

/// What the value line of a modulus carries after its unit: " ± 2.4 %"
/// with an error estimate, "" for a run that is not of a lattice and has
/// none, else " (error not estimated: see accuracy)" (the accuracy line
/// then states how large the error is known to be).
pub fn value_band(a: &Accuracy) -> String {
    match a.error_estimate {
        Some(e) => format!(" ± {}", percent(e)),
        None if a.exponent_source == "none" => String::new(),
        None => " (error not estimated: see accuracy)".into(),
    }
}

/// The text line under the moduli, "accuracy         STATEMENT"; `None`
/// for a run that is not of a lattice and has no error estimate.
pub fn accuracy_line(a: &Accuracy) -> Option<String> {
    (a.error_estimate.is_some() || a.exponent_source != "none")
        .then(|| format!("accuracy         {}", a.statement))
}

/// The material strength of the strength estimates and the criteria's
/// constants ([`crate::strength`]); `None` in rows written before them and
/// where a run has no estimates (a periodic cell).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StrengthCriteria {
    /// σ_y of the solid, MPa (`material.yield_strength`).
    pub yield_strength: Option<f64>,
    /// ε_c of the Pistoia criterion.
    pub critical_strain: Option<f64>,
    /// [`crate::strength::CRITICAL_VOLUME_PERCENT`].
    pub critical_volume_percent: Option<f64>,
    /// [`crate::strength::YIELD_PERCENTILE`].
    pub yield_percentile: Option<f64>,
}

impl StrengthCriteria {
    /// The criteria of a loaded run with material strength `p`.
    pub fn of(p: &crate::strength::StrengthParams) -> StrengthCriteria {
        StrengthCriteria {
            yield_strength: p.yield_strength,
            critical_strain: Some(p.critical_strain),
            ..StrengthCriteria::constants()
        }
    }

    /// The criteria's constants alone (no material strength).
    pub fn constants() -> StrengthCriteria {
        StrengthCriteria {
            yield_strength: None,
            critical_strain: None,
            critical_volume_percent: Some(crate::strength::CRITICAL_VOLUME_PERCENT),
            yield_percentile: Some(crate::strength::YIELD_PERCENTILE),
        }
    }
}

impl RunRecord {
    /// The record of a run that failed after its voxelization: the
    /// voxelization's report (`removed_voxels`, `d_over_h`, the warnings
    /// …), the load case, the material and the criteria's constants; the
    /// solve's fields empty (`null`, zero counts, not converged).
    pub fn unsolved(voxel: &VoxelReport, load_case: &str, material_e: f64) -> RunRecord {
        RunRecord {
            voxel: voxel.clone(),
            solve: SolveResult {
                delta: f64::NAN,
                relative_residual: f64::NAN,
                tolerance: f64::NAN,
                solve_seconds: f64::NAN,
                setup_seconds: f64::NAN,
                iterations_seconds: f64::NAN,
                ..Default::default()
            },
            accuracy: AccuracyFields::default(),
            load_case: load_case.to_string(),
            material_e,
            criteria: StrengthCriteria::constants(),
            strength: Default::default(),
            strength_error_statement: None,
            as_built: AsBuiltFields::default(),
        }
    }
}

/// A voxelization and its solve.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub voxel: VoxelReport,
    pub solve: SolveResult,
    pub notices: Vec<String>,
    /// The scene's `load.case`.
    pub load_case: &'static str,
    /// Young's modulus of the solid, MPa.
    pub material_e: f64,
    /// The material strength of the strength estimates.
    pub strength_params: crate::strength::StrengthParams,
    /// The load case's strength estimates (none unless converged).
    pub strength: crate::fem::load::StrengthQuantities,
    /// The solid's material (E and ν), for field and mesh export.
    pub material: crate::material::YoungPoisson,
    /// The load case that was solved, for mesh export (its constraints).
    pub load: crate::fem::load::LoadCase,
    /// The voxel grid that was solved (for field output).
    pub grid: crate::grid::VoxelGrid,
    /// How the exponent was set and the error band of the lattice result.
    pub accuracy: crate::calibration::accuracy::Accuracy,
    /// What produced it (the scene as given, the backend that solved).
    pub provenance: crate::provenance::Provenance,
    /// The as-built modulus (a scene with `[as_built]` only).
    pub as_built: AsBuiltFields,
}

impl RunReport {
    /// The run's record: its scalars, without the solve's field arrays.
    pub fn record(&self) -> RunRecord {
        let s = &self.solve;
        RunRecord {
            voxel: self.voxel.clone(),
            solve: SolveResult {
                gpu: s.gpu.clone(),
                backend: s.backend.clone(),
                adapter: s.adapter.clone(),
                multigrid_levels: s.multigrid_levels.clone(),
                von_mises: Vec::new(),
                sed: Vec::new(),
                ees: Vec::new(),
                displacement: Vec::new(),
                ..*s
            },
            accuracy: AccuracyFields::of(&self.accuracy, s),
            load_case: self.load_case.to_string(),
            material_e: self.material_e,
            criteria: StrengthCriteria::of(&self.strength_params),
            strength: self.strength,
            strength_error_statement: self.strength_error_statement(),
            as_built: self.as_built.clone(),
        }
    }

    /// How far the strength estimates are known to be from converged;
    /// `None` without estimates.
    pub fn strength_error_statement(&self) -> Option<String> {
        let q = &self.strength;
        (q.yield_load.is_some() || q.failure_load.is_some()).then(|| {
            crate::strength::strength_error_statement(
                self.voxel.d_over_h,
                self.accuracy.exponent_source,
            )
        })
    }

    /// The record as one flat JSON object (`voxfe run --json`).
    /// `voxfe run --json`: the record's fields, then `provenance`.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = match serde_json::to_value(self.record()).expect("serializes") {
            Value::Object(m) => m,
            _ => unreachable!("a struct serializes to an object"),
        };
        m.insert("provenance".into(), self.provenance.to_json());
        m
    }
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.voxel)?;
        let s = &self.solve;
        match s.gpu.as_ref().and_then(|g| g.reliable_updates.as_ref()) {
            Some(path) => writeln!(
                f,
                "backend          {} ({}; reliable updates {path})",
                s.backend, s.adapter
            )?,
            None => writeln!(f, "backend          {} ({})", s.backend, s.adapter)?,
        }
        writeln!(f, "active nodes     {}", s.active_nodes)?;
        writeln!(f, "unknowns         {}", s.unknowns)?;
        writeln!(f, "element          {}", s.element.name())?;
        match (&s.multigrid_levels, s.multigrid_bytes) {
            (Some(levels), Some(bytes)) => writeln!(
                f,
                "preconditioner   multigrid ({} levels, hierarchy {:.1} MB)",
                levels.len(),
                bytes as f64 / 1e6
            )?,
            _ => writeln!(f, "preconditioner   jacobi")?,
        }
        writeln!(f, "iterations       {}", s.iterations)?;
        writeln!(
            f,
            "rel. residual    {:.3e} (tolerance {:.1e})",
            s.relative_residual, s.tolerance
        )?;
        writeln!(f, "solve time       {:.3} s", s.solve_seconds)?;
        if !s.converged {
            return write!(
                f,
                "NOT CONVERGED    relative residual {:.3e} after {} iterations, above the tolerance {:.1e}: no modulus is reported",
                s.relative_residual, s.iterations, s.tolerance
            );
        }
        writeln!(f, "delta            {:.6} mm", s.delta)?;
        if let Some(c) = s.contact_width {
            writeln!(f, "contact width    {c:.4} mm (loading strip as used)")?;
        }
        writeln!(
            f,
            "reaction force   {:.6} N",
            s.reaction_force.unwrap_or(f64::NAN)
        )?;
        let band = value_band(&self.accuracy);
        if let Some(k) = s.stiffness {
            writeln!(f, "stiffness k      {k:.2} N/mm{band}")?;
            writeln!(
                f,
                "apparent E       {:.2} MPa{band} (k·H/A)",
                s.apparent_modulus.unwrap_or(f64::NAN)
            )?;
        }
        if let Some(e) = s.e_eff {
            writeln!(f, "E_eff            {e:.2} MPa{band}")?;
        }
        if let (Some(e), Some(m)) = (self.as_built.e_eff_as_built, &self.as_built.as_built_model) {
            let b = self.as_built.e_eff_as_built_error_estimate.unwrap_or(0.0);
            writeln!(
                f,
                "E_eff as built   {e:.2} MPa ± {} (the [as_built] fit: {m})",
                percent(b)
            )?;
        }
        if let Some(e) = s.e_flex {
            writeln!(f, "E_f              {e:.2} MPa{band}")?;
        }
        if s.stiffness.is_some() || s.e_eff.is_some() || s.e_flex.is_some() {
            if let Some(line) = accuracy_line(&self.accuracy) {
                writeln!(f, "{line}")?;
            }
        }
        if s.e_flex.is_some() {
            writeln!(
                f,
                "σ_f per newton   {:.6e} MPa/N",
                s.flexural_stress_per_newton.unwrap_or(f64::NAN)
            )?;
        }
        if let Some(k) = s.peak_von_mises_per_nominal {
            write!(f, "peak von Mises   {k:.3} × the nominal stress (a voxel-corner peak, not a strength)")?;
        }
        self.fmt_strength(f)
    }
}

impl RunReport {
    /// The strength lines of the text report (a converged solve only).
    fn fmt_strength(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::strength::{CRITICAL_VOLUME_PERCENT, YIELD_PERCENTILE};
        let q = &self.strength;
        let p = &self.strength_params;
        if let (Some(fy), Some(sy)) = (q.yield_load, p.yield_strength) {
            write!(
                f,
                "\nfirst yield      {fy:.4} N (von Mises at the {YIELD_PERCENTILE} % volume percentile reaches σ_y = {sy} MPa)"
            )?;
        }
        if let Some(y) = q.yield_stress {
            write!(f, "\nyield stress     {y:.4} MPa (apparent, F_y/(Lx·Ly))")?;
        }
        if let (Some(y), Some(m)) = (
            self.as_built.yield_stress_as_built,
            &self.as_built.as_built_yield_model,
        ) {
            let b = self
                .as_built
                .yield_stress_as_built_error_estimate
                .unwrap_or(0.0);
            write!(
                f,
                "\nyield as built   {y:.4} MPa ± {} (the [as_built] fit's yield model: {m})",
                percent(b)
            )?;
        }
        if let Some(y) = q.flexural_strength {
            write!(f, "\nflexural str.    {y:.4} MPa (3·F_y·S/(2·w·t²))")?;
        }
        if let Some(ff) = q.failure_load {
            write!(
                f,
                "\nfailure load     {ff:.4} N (Pistoia: {CRITICAL_VOLUME_PERCENT} % of the solid at EES = {})",
                p.critical_strain
            )?;
        }
        if let Some(s) = q.failure_stress {
            write!(
                f,
                "\nfailure stress   {s:.4} MPa (apparent, at the failure load)"
            )?;
        }
        if let Some(statement) = self.strength_error_statement() {
            write!(f, "\n                 estimates from a linear solution of the ideal geometry, not a measured strength")?;
            write!(f, "\nstrength error   {statement}")?;
        }
        Ok(())
    }
}

/// The voxelization summary. Field names are shared with `voxfe run --json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VoxelReport {
    pub name: String,
    pub lattice: String,
    pub dims: [usize; 3],
    #[serde(deserialize_with = "nan_if_null")]
    pub voxel_size: f64,
    pub total_voxels: usize,
    pub solid_voxels: usize,
    pub removed_voxels: usize,
    /// Voxels whose centre lies inside the envelope (all of them for a box).
    pub envelope_voxels: usize,
    /// `voxel.fill`: "binary" or "fraction" (rows written before the key
    /// existed were binary).
    #[serde(default = "binary_fill")]
    pub fill: String,
    /// Fraction fill: the exponent p of the stiffness weight φₑ^p
    /// (`voxel.fraction_exponent`; 1 = Voigt scaling). `None` under binary
    /// fill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction_exponent: Option<f64>,
    /// `1 − Σφ / envelope_voxels` (`1 − solid_voxels / envelope_voxels`
    /// under binary fill).
    #[serde(deserialize_with = "nan_if_null")]
    pub porosity_measured: f64,
    /// STL envelopes: zero-area triangles ignored while reading.
    pub stl_degenerate_triangles: Option<usize>,
    #[serde(deserialize_with = "nan_if_null")]
    pub porosity_nominal: f64,
    /// Whether `porosity_nominal` comes from a closed-form design formula
    /// (true) or from the solid fraction computed from the cell geometry.
    pub porosity_nominal_closed_form: bool,
    pub cell: Option<f64>,
    pub strut_diameter: Option<f64>,
    pub level: Option<f64>,
    pub pore_size: Option<f64>,
    pub d_over_h: Option<f64>,
    #[serde(deserialize_with = "nan_if_null")]
    pub voxelize_seconds: f64,
    pub warnings: Vec<String>,
}

fn binary_fill() -> String {
    "binary".into()
}

impl std::fmt::Display for VoxelReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [nx, ny, nz] = self.dims;
        writeln!(f, "scene            {}", self.name)?;
        writeln!(f, "lattice          {}", self.lattice)?;
        if let Some(m) = self.cell {
            writeln!(f, "cell M           {m} mm")?;
        }
        if let Some(d) = self.strut_diameter {
            writeln!(f, "strut D          {d:.5} mm")?;
        }
        if let Some(t) = self.level {
            writeln!(f, "gyroid level t   {t:.5}")?;
        }
        if let Some(hp) = self.pore_size {
            writeln!(f, "pore size H      {hp:.4} mm")?;
        }
        writeln!(f, "voxel h          {} mm", self.voxel_size)?;
        if let Some(r) = self.d_over_h {
            writeln!(f, "D/h              {r:.2}")?;
        }
        writeln!(
            f,
            "grid             {nx} × {ny} × {nz} = {} voxels",
            self.total_voxels
        )?;
        match self.fraction_exponent {
            Some(p) if p != 1.0 => {
                writeln!(f, "fill             {} (stiffness φ^{p}·Kₑ)", self.fill)?
            }
            _ => writeln!(f, "fill             {}", self.fill)?,
        }
        writeln!(f, "solid voxels     {}", self.solid_voxels)?;
        writeln!(f, "removed voxels   {}", self.removed_voxels)?;
        if self.lattice == crate::image::IMAGE_LATTICE {
            writeln!(
                f,
                "porosity         {:.4} measured (1 − Σφ / voxels of the image)",
                self.porosity_measured
            )?;
            return write!(f, "voxelize time    {:.3} s", self.voxelize_seconds);
        }
        writeln!(
            f,
            "porosity         {:.4} measured, {:.4} nominal ({})",
            self.porosity_measured,
            self.porosity_nominal,
            if self.porosity_nominal_closed_form {
                "design formula"
            } else {
                "computed from the cell geometry"
            }
        )?;
        write!(f, "voxelize time    {:.3} s", self.voxelize_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accuracy(source: &'static str, estimate: Option<f64>, statement: &str) -> Accuracy {
        Accuracy {
            exponent_source: source,
            exponent: Some(2.1),
            error_estimate: estimate,
            terms: None,
            statement: statement.into(),
            calibration: None,
            cache: (source == "auto").then_some("hit"),
            seconds: (source == "auto").then_some(0.25),
        }
    }

    #[test]
    fn the_value_line_carries_the_band_or_says_it_is_not_estimated() {
        let auto = accuracy(
            "auto",
            Some(0.0237),
            "± 2.4 % (p = 2.1 calibrated at M/30: …)",
        );
        assert_eq!(value_band(&auto), " ± 2.4 %");
        assert_eq!(
            accuracy_line(&auto).unwrap(),
            "accuracy         ± 2.4 % (p = 2.1 calibrated at M/30: …)"
        );
        assert_eq!(value_band(&accuracy("auto", Some(0.0013), "")), " ± 0.1 %");
        assert_eq!(value_band(&accuracy("auto", Some(0.0003), "")), " ± 0.03 %");
        for source in ["binary", "hand", "image"] {
            let a = accuracy(
                source,
                None,
                "binary voxels at D/h = 4.6: error not estimated; …",
            );
            assert_eq!(value_band(&a), " (error not estimated: see accuracy)");
            assert_eq!(
                accuracy_line(&a).unwrap(),
                "accuracy         binary voxels at D/h = 4.6: error not estimated; …"
            );
        }
        // Not a lattice: no band and no accuracy line, unless a study gave
        // an estimate.
        let solid = accuracy("none", None, "not a lattice: no lattice error band");
        assert_eq!(value_band(&solid), "");
        assert_eq!(accuracy_line(&solid), None);
        let studied = accuracy("none", Some(0.012), "estimated discretization error …");
        assert_eq!(value_band(&studied), " ± 1.2 %");
        assert!(accuracy_line(&studied).is_some());
    }

    #[test]
    fn record_fields_carry_the_band_of_each_modulus_the_run_has() {
        let solve = SolveResult {
            e_eff: Some(3071.8),
            ..Default::default()
        };
        let f = AccuracyFields::of(&accuracy("auto", Some(0.024), "band"), &solve);
        assert_eq!(f.e_eff_error_estimate, Some(0.024));
        assert_eq!(
            (
                f.e_flex_error_estimate,
                f.stiffness_error_estimate,
                f.apparent_modulus_error_estimate
            ),
            (None, None, None)
        );
        assert_eq!(f.summary.exponent_source.as_deref(), Some("auto"));
        assert_eq!(f.summary.error_statement.as_deref(), Some("band"));
        assert_eq!(f.summary.calibration_cache.as_deref(), Some("hit"));
        assert_eq!(f.summary.calibration_seconds, Some(0.25));
        let binary = AccuracyFields::of(&accuracy("binary", None, "known"), &solve);
        assert_eq!(binary.e_eff_error_estimate, None);
        assert_eq!(binary.summary.calibration_cache, None);
        assert_eq!(binary.summary.error_statement.as_deref(), Some("known"));
    }

    #[test]
    fn records_without_the_accuracy_fields_still_read_and_new_keys_follow_the_solve() {
        let mut record = RunRecord {
            load_case: "compression".into(),
            material_e: 1.0,
            voxel: VoxelReport {
                voxel_size: 0.1,
                porosity_measured: 0.5,
                porosity_nominal: 0.5,
                voxelize_seconds: 0.0,
                ..Default::default()
            },
            ..Default::default()
        };
        record.solve.delta = 0.0;
        let Value::Object(mut m) = serde_json::to_value(&record).unwrap() else {
            panic!("an object")
        };
        let keys: Vec<&String> = m.keys().collect();
        let at = |k: &str| keys.iter().position(|x| *x == k).unwrap();
        assert!(at("e_eff") < at("e_eff_error_estimate"));
        assert!(at("e_eff_error_estimate") < at("exponent_source"));
        assert!(at("calibration_seconds") < at("load_case"));
        assert_eq!(keys.last().unwrap().as_str(), "strength_error_statement");
        // A row written before the fields existed.
        for k in [
            "e_eff_error_estimate",
            "e_flex_error_estimate",
            "stiffness_error_estimate",
            "apparent_modulus_error_estimate",
            "exponent_source",
            "error_statement",
            "calibration_cache",
            "calibration_seconds",
            "strength_error_statement",
        ] {
            assert!(m.remove(k).is_some(), "{k}");
        }
        let old: RunRecord = serde_json::from_value(Value::Object(m)).unwrap();
        assert_eq!(old.accuracy, AccuracyFields::default());
        assert_eq!(old.strength_error_statement, None);
    }
}
