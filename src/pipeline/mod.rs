//! `voxfe run`'s pipeline, one way: scene → voxels ([`voxelize`]) → load
//! case ([`load`]) → solver on a backend ([`backend`]) → [`RunReport`].

pub mod backend;
pub mod load;
pub mod voxelize;

use crate::fem::SolveError;
use crate::gpu::GpuError;
use crate::report::RunReport;
use crate::scene::{Backend, Scene};
use voxelize::{voxelize_specimen, Specimen, VoxelizeError};

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl RunError {
    /// Whether the failure comes from the input (exit status 2) rather than
    /// from the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RunError::Voxelize(_)
                | RunError::Solve(SolveError::Bc(_) | SolveError::Mesh(_))
                | RunError::Gpu(GpuError::Solve(SolveError::Bc(_) | SolveError::Mesh(_)))
                | RunError::Gpu(GpuError::BadBackendEnv { .. })
        )
    }
}

/// Voxelizes and solves `scene` on `backend`.
pub fn run_scene(scene: &Scene, backend: Backend) -> Result<RunReport, RunError> {
    let specimen = voxelize_specimen(scene)?;
    let material = scene.material().expect("validated");
    let load = load::specimen_load_case(scene, &specimen);
    // The envelope is no longer needed: free it before the solve.
    let Specimen {
        vox, report: voxel, ..
    } = specimen;
    let mut notices = Vec::new();
    let solve = backend::solve(scene, backend, &vox.grid, material, &load, &mut notices)?;
    Ok(RunReport {
        load_case: load.name(),
        material_e: material.e,
        voxel,
        solve,
        notices,
        grid: vox.grid,
    })
}
