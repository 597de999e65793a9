//! A periodic scene end to end: the cell voxelized with its components
//! joined across the wrap, the six solves on the one
//! [`crate::pipeline::solver::Solver`] (its backend policy and notices),
//! and the report ([`HomogenizeReport`], its text its `Display`).

use serde::Serialize;

use super::solve::{Homogenization, HomogenizeError, Periodic};
use super::tensor::{Homogenized, VOIGT_ORDER};
use crate::fem::Preconditioner;
use crate::gpu::GpuError;
use crate::material::YoungPoisson;
use crate::pipeline::kind::SceneKind;
use crate::pipeline::solver::Solver;
use crate::pipeline::voxelize::{voxelize_specimen, VoxelizeError};
use crate::report::VoxelReport;
use crate::scene::{Backend, Scene};

/// Why a periodic scene could not be homogenized.
#[derive(Debug, thiserror::Error)]
pub enum HomogenizeRunError {
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error(transparent)]
    Homogenize(#[from] HomogenizeError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl HomogenizeRunError {
    /// Whether the input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            HomogenizeRunError::Voxelize(_) => true,
            HomogenizeRunError::Homogenize(e) => e.is_bad_input(),
            HomogenizeRunError::Gpu(e) => HomogenizeError::is_bad_gpu_input(e),
        }
    }
}

/// A homogenized periodic scene.
#[derive(Debug, Clone, Serialize)]
pub struct HomogenizeReport {
    pub voxel: VoxelReport,
    /// Cells per axis of the specimen.
    pub cells: [usize; 3],
    pub material: YoungPoisson,
    pub result: Homogenization,
    /// What C^H gives ([`Homogenized`]: S, engineering constants, Zener
    /// ratio, directional extremes, E_h); `None` when a solve did not
    /// converge or C^H has no compliance (said in `notices`).
    pub derived: Option<Homogenized>,
    /// Fallbacks taken, in order, and why `derived` is missing.
    pub notices: Vec<String>,
}

/// Voxelizes and homogenizes the periodic `scene` on `backend` (its
/// `solver.backend` replaced); [`crate::pipeline::evaluate`] is the same on
/// the scene's own.
pub fn homogenize_scene(
    scene: &Scene,
    backend: Backend,
) -> Result<HomogenizeReport, HomogenizeRunError> {
    homogenize_with(scene, Solver::new(&scene.solver).on(backend))
}

/// Voxelizes the periodic `scene` and homogenizes it with `solver`: the
/// six columns on one solver.
pub(crate) fn homogenize_with(
    scene: &Scene,
    mut solver: Solver,
) -> Result<HomogenizeReport, HomogenizeRunError> {
    assert!(SceneKind::is_periodic(scene), "a periodic scene");
    let specimen = voxelize_specimen(scene)?;
    let material = scene.material().map_err(VoxelizeError::from)?;
    let m = specimen.lattice.cell();
    let cells = scene.box_size().map(|l| (l / m).round().max(1.0) as usize);
    let grid = specimen.vox.grid;
    let solved = solver.solve(&Periodic {
        grid: &grid,
        material,
    });
    let mut notices = solver.into_notices();
    let result = solved?;
    let derived = if result.converged {
        Homogenized::new(&result.stiffness)
            .map_err(|e| notices.push(format!("C^H gives no derived quantities: {e}")))
            .ok()
    } else {
        None
    };
    Ok(HomogenizeReport {
        voxel: specimen.report,
        cells,
        material,
        result,
        derived,
        notices,
    })
}

impl HomogenizeReport {
    /// The report as one JSON object (`voxfe homogenize --json`): its
    /// fields, then `voigt_order` (the order of C^H's rows and columns).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let serde_json::Value::Object(mut m) = serde_json::to_value(self).expect("serializes")
        else {
            unreachable!("a struct serializes to an object")
        };
        m.insert("voigt_order".into(), serde_json::json!(VOIGT_ORDER));
        m
    }
}

impl std::fmt::Display for HomogenizeReport {
    /// The text report: the voxelization, C^H and how it was solved (one
    /// line each, the last one ending the text).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
            writeln!(f, "E_h              {:.1} MPa (1/S33, along z)", d.e_h)?;
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
                Preconditioner::Multigrid => "multigrid",
                Preconditioner::Jacobi => "jacobi",
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
