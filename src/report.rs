//! The reports of a run: the voxelization's ([`VoxelReport`], what
//! `voxfe voxelize` prints) and the run's ([`RunReport`]: the voxelization
//! and its solve, as `voxfe run` prints it), and the run's record
//! ([`RunRecord`]: its parts flattened into one JSON object, what
//! `voxfe run --json` prints and every sweep row holds). The pipeline
//! fills them; they depend on nothing of it.

use crate::fem::load::StrengthQuantities;
use crate::fem::result::nan_if_null;
use crate::fem::SolveResult;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A run's record: its parts, flattened in this order into one JSON
/// object (`voxfe run --json`, a sweep row): the voxelization
/// ([`VoxelReport`]), the solve ([`SolveResult`], its GPU-only columns
/// `null` on the CPU), the load case and the solid's modulus, the strength
/// criteria ([`StrengthCriteria`]) and the load case's strength estimates
/// ([`StrengthQuantities`]). A field added to a part is in every output.
/// `Default` is an empty run, for synthetic rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    #[serde(flatten)]
    pub voxel: VoxelReport,
    /// The solve's scalars (no field arrays: they are not serialized).
    #[serde(flatten)]
    pub solve: SolveResult,
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
            load_case: load_case.to_string(),
            material_e,
            criteria: StrengthCriteria::constants(),
            strength: Default::default(),
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
    pub accuracy: crate::calibration::Accuracy,
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
            load_case: self.load_case.to_string(),
            material_e: self.material_e,
            criteria: StrengthCriteria::of(&self.strength_params),
            strength: self.strength,
        }
    }

    /// The record as one flat JSON object (`voxfe run --json`).
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self.record()).expect("serializes") {
            Value::Object(m) => m,
            _ => unreachable!("a struct serializes to an object"),
        }
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
        if let Some(k) = s.stiffness {
            writeln!(f, "stiffness k      {k:.2} N/mm")?;
            writeln!(
                f,
                "apparent E       {:.2} MPa (k·H/A)",
                s.apparent_modulus.unwrap_or(f64::NAN)
            )?;
        }
        if let Some(e) = s.e_eff {
            writeln!(f, "E_eff            {e:.2} MPa")?;
        }
        if let Some(e) = s.e_flex {
            writeln!(f, "E_f              {e:.2} MPa")?;
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
        if q.yield_load.is_some() || q.failure_load.is_some() {
            write!(f, "\n                 estimates from a linear solution of the ideal geometry, not a measured strength")?;
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
