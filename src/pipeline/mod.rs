//! `voxfe run`'s pipeline, one way: scene → voxels ([`voxelize`]) → load
//! case ([`load`]) → solver on a backend ([`backend`]) → [`RunReport`].

pub mod backend;
pub mod load;
pub mod voxelize;

use crate::fem::load::LoadCase;
use crate::fem::{SolveError, SolveResult};
use crate::gpu::GpuError;
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use crate::report::RunReport;
use crate::report::VoxelReport;
use crate::scene::{Backend, Scene};
use crate::strength::StrengthParams;
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
        match self {
            RunError::Voxelize(_) => true,
            RunError::Solve(e) | RunError::Gpu(GpuError::Solve(e)) => e.is_bad_input(),
            RunError::Gpu(GpuError::BadBackendEnv { .. } | GpuError::BadBindingEnv { .. }) => true,
            RunError::Gpu(_) => false,
        }
    }
}

/// Voxelizes and solves `scene` on `backend`.
pub fn run_scene(scene: &Scene, backend: Backend) -> Result<RunReport, RunError> {
    let prepared = prepare(scene)?;
    let mut notices = Vec::new();
    let solve = prepared.solve(scene, backend, &mut notices)?;
    Ok(prepared.into_report(solve, notices))
}

/// A scene voxelized, with its load case and material: everything a solve
/// needs, and the voxelization's report.
pub struct Prepared {
    pub voxel: VoxelReport,
    pub grid: VoxelGrid,
    pub load: LoadCase,
    pub material: YoungPoisson,
    /// The material strength of the strength estimates.
    pub strength: StrengthParams,
}

/// The steps of [`run_scene`] before the solve. The envelope is built once
/// (by the voxelize step) and dropped here, before the solve.
pub fn prepare(scene: &Scene) -> Result<Prepared, RunError> {
    let specimen = voxelize_specimen(scene)?;
    let material = scene.material().map_err(VoxelizeError::from)?;
    let strength = scene.strength().map_err(VoxelizeError::from)?;
    let load = load::specimen_load_case(scene, &specimen).map_err(VoxelizeError::from)?;
    let Specimen {
        vox, report: voxel, ..
    } = specimen;
    Ok(Prepared {
        voxel,
        grid: vox.grid,
        load,
        material,
        strength,
    })
}

impl Prepared {
    /// Solves on `backend` with the scene's `[solver]` settings; fallbacks
    /// push a notice onto `notices`.
    pub fn solve(
        &self,
        scene: &Scene,
        backend: Backend,
        notices: &mut Vec<String>,
    ) -> Result<SolveResult, RunError> {
        backend::solve(
            scene,
            backend,
            &self.grid,
            self.material,
            &self.load,
            notices,
        )
    }

    /// The run report of `solve`, with the load case's strength estimates
    /// (none unless the solve converged).
    pub fn into_report(self, solve: SolveResult, notices: Vec<String>) -> RunReport {
        let loads = self.strength.loads(
            solve.von_mises_percentile_per_newton,
            solve.ees_percentile_per_newton,
        );
        RunReport {
            strength: self.load.strength(&loads, self.grid.size()),
            strength_params: self.strength,
            load_case: self.load.name(),
            material_e: self.material.e,
            material: self.material,
            load: self.load,
            voxel: self.voxel,
            solve,
            notices,
            grid: self.grid,
        }
    }
}
