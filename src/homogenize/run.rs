//! A periodic scene end to end: the cell voxelized with its components
//! joined across the wrap, the six solves on a backend (the policy of
//! [`crate::pipeline::backend::with_backend`]: `auto` takes a hardware
//! GPU, else the CPU; a multigrid that does not fit the GPU falls back to
//! Jacobi; each fallback is a notice), and the report
//! ([`HomogenizeReport`]).

use serde::Serialize;

use super::solve::{homogenize_cpu, homogenize_gpu, Homogenization, HomogenizeError};
use super::tensor::Homogenized;
use crate::fem::{Preconditioner, SolverOptions};
use crate::gpu::{GpuContext, GpuError};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
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

/// Voxelizes and homogenizes the periodic `scene` on `backend`.
pub fn homogenize_scene(
    scene: &Scene,
    backend: Backend,
) -> Result<HomogenizeReport, HomogenizeRunError> {
    assert!(scene.load_case().is_periodic(), "a periodic scene");
    let specimen = voxelize_specimen(scene)?;
    let material = scene.material().map_err(VoxelizeError::from)?;
    let m = specimen.lattice.cell();
    let cells = scene.box_size().map(|l| (l / m).round().max(1.0) as usize);
    let grid = specimen.vox.grid;
    let mut notices = Vec::new();
    let result = solve(scene, backend, &grid, material, &mut notices)?;
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

fn solve(
    scene: &Scene,
    backend: Backend,
    grid: &VoxelGrid,
    material: YoungPoisson,
    notices: &mut Vec<String>,
) -> Result<Homogenization, HomogenizeRunError> {
    let opts = scene.solver.options();
    crate::pipeline::backend::with_backend(
        scene,
        backend,
        notices,
        || Ok(homogenize_cpu(grid, material, &opts)?),
        |ctx, notices| Ok(on_gpu(ctx, grid, material, &opts, notices)?),
        HomogenizeRunError::is_bad_input,
    )
}

/// The GPU solve; a multigrid that does not fit the adapter's bindings is
/// solved with Jacobi, with a notice.
fn on_gpu(
    ctx: &GpuContext,
    grid: &VoxelGrid,
    material: YoungPoisson,
    opts: &SolverOptions,
    notices: &mut Vec<String>,
) -> Result<Homogenization, HomogenizeError> {
    let h = match homogenize_gpu(ctx, grid, material, opts) {
        Err(HomogenizeError::Gpu(e @ GpuError::TooLarge { .. }))
            if opts.preconditioner == Preconditioner::Multigrid =>
        {
            notices.push(format!(
                "multigrid does not fit on {}: {e}; solving with solver.preconditioner = \"jacobi\"",
                ctx.adapter_name()
            ));
            let jacobi = SolverOptions {
                preconditioner: Preconditioner::Jacobi,
                ..*opts
            };
            homogenize_gpu(ctx, grid, material, &jacobi)
        }
        r => r,
    }?;
    if let Some(why) = &h.reliable_fallback {
        notices.push(crate::pipeline::backend::reliable_fallback_notice(ctx, why));
    }
    Ok(h)
}
