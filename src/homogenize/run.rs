//! A periodic scene end to end: the cell voxelized with its components
//! joined across the wrap, the six solves on the one
//! [`crate::pipeline::solver::Solver`] (its backend policy and notices),
//! and the report ([`HomogenizeReport`], its text its `Display`).

use serde::Serialize;

use super::solve::{Homogenization, HomogenizeError, Periodic};
use super::tensor::Homogenized;
use crate::calibration::{Accuracy, CalibrationError};
use crate::material::YoungPoisson;
use crate::pipeline::kind::SceneKind;
use crate::pipeline::solver::Solver;
use crate::pipeline::voxelize::{voxelize_resolved, VoxelizeError};
use crate::provenance::Provenance;
use crate::report::VoxelReport;
use crate::scene::Scene;

/// Why a periodic scene could not be homogenized.
#[derive(Debug, thiserror::Error)]
pub enum HomogenizeRunError {
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error(transparent)]
    Homogenize(#[from] HomogenizeError),
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
}

impl HomogenizeRunError {
    /// Whether the input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            HomogenizeRunError::Voxelize(_) => true,
            HomogenizeRunError::Homogenize(e) => e.is_bad_input(),
            HomogenizeRunError::Calibration(e) => e.is_bad_input(),
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
    /// How the exponent was set and the error band of E_h.
    pub accuracy: Accuracy,
    /// What produced it (the scene as given, the backend that solved):
    /// the last field of [`HomogenizeReport::to_json`].
    #[serde(skip)]
    pub provenance: Provenance,
}

/// Voxelizes and homogenizes the periodic `scene` with its own
/// `[solver]` settings (backend and adapter included):
/// [`crate::pipeline::evaluate`] of a periodic cell.
pub fn homogenize(scene: &Scene) -> Result<HomogenizeReport, HomogenizeRunError> {
    homogenize_with(scene, Solver::new(&scene.solver))
}

/// Voxelizes the periodic `scene` and homogenizes it with `solver`: the
/// six columns on one solver.
pub(crate) fn homogenize_with(
    scene: &Scene,
    mut solver: Solver,
) -> Result<HomogenizeReport, HomogenizeRunError> {
    assert!(SceneKind::is_periodic(scene), "a periodic scene");
    let provenance = Provenance::of_scene(scene);
    let resolved = crate::calibration::resolve(scene)?;
    let scene = resolved.scene.as_ref();
    let specimen = voxelize_resolved(&resolved)?;
    let material = scene.material().map_err(VoxelizeError::from)?;
    let m = specimen.lattice.cell();
    let cells = scene.box_size().map(|l| (l / m).round().max(1.0) as usize);
    let grid = specimen.vox.grid;
    let solved = solver.solve(&Periodic {
        grid: &grid,
        material,
    });
    let mut notices = resolved.notices;
    notices.extend(solver.into_notices());
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
        derived,
        notices,
        accuracy: resolved.accuracy,
        provenance: provenance.with_backend(&result.backend, &result.adapter),
        result,
    })
}
