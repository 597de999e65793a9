//! The run report ([`RunReport`]): a scene's voxelization and its solve,
//! as `voxfe run` prints it (text) and as one flat JSON object
//! (`voxfe run --json`, sweep rows).

use crate::fem::SolveResult;
use crate::pipeline::voxelize::VoxelReport;
use serde_json::{Map, Value};

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
    /// The voxel grid that was solved (for field output).
    pub grid: crate::grid::VoxelGrid,
}

impl RunReport {
    /// One flat JSON object: every voxel field and every solve field.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = match serde_json::to_value(&self.voxel).expect("serializes") {
            Value::Object(m) => m,
            _ => unreachable!("a struct serializes to an object"),
        };
        if let Value::Object(s) = serde_json::to_value(&self.solve).expect("serializes") {
            m.extend(s);
        }
        m.insert("load_case".into(), self.load_case.into());
        m.insert("material_e".into(), self.material_e.into());
        m
    }
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.voxel)?;
        let s = &self.solve;
        writeln!(f, "backend          {} ({})", s.backend, s.adapter)?;
        writeln!(f, "active nodes     {}", s.active_nodes)?;
        writeln!(f, "unknowns         {}", s.unknowns)?;
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
            write!(f, "peak von Mises   {k:.3} × the nominal stress")?;
        }
        Ok(())
    }
}
