//! `voxfe design` on a periodic cell (`load.case = "periodic"`): the same
//! search ([`super::search`]) over the lattice porosity, each probe a
//! homogenization ([`homogenize`]) whose modulus is E_h = 1/S33 of
//! C^H, the homogenized modulus along z.

use super::{search_scene, DesignOptions, Designed, ProbeError, RunDesignError};
use crate::fem::cg::PcgError;
use crate::fem::mesh::MeshError;
use crate::fem::SolveError;
use crate::gpu::GpuError;
use crate::homogenize::run::{homogenize, HomogenizeReport, HomogenizeRunError};
use crate::homogenize::solve::HomogenizeError;
use crate::pipeline::voxelize::VoxelizeError;
use crate::scene::Scene;
use crate::voxelize::VoxelError;

/// The probe error of a homogenization that failed:
/// [`ProbeError::NoLoadPath`] for an empty voxelization or mesh or a CG
/// breakdown (a cell that does not hold together), else
/// [`ProbeError::Failed`].
pub fn probe_error(e: &HomogenizeRunError) -> ProbeError {
    let apart = |s: &SolveError| {
        matches!(
            s,
            SolveError::Mesh(MeshError::Empty) | SolveError::Pcg(PcgError::Breakdown { .. })
        )
    };
    let falls_apart = match e {
        HomogenizeRunError::Voxelize(VoxelizeError::Voxel(VoxelError::Empty { .. })) => true,
        HomogenizeRunError::Homogenize(HomogenizeError::Solve(s))
        | HomogenizeRunError::Homogenize(HomogenizeError::Gpu(GpuError::Solve(s))) => apart(s),
        _ => false,
    };
    if falls_apart {
        ProbeError::NoLoadPath(e.to_string())
    } else {
        ProbeError::Failed(e.to_string())
    }
}

/// E_h of a homogenization: an error when a solve did not converge
/// ([`ProbeError::Failed`]) or C^H has no compliance (a cell that does not
/// carry every strain: [`ProbeError::NoLoadPath`]).
pub fn e_h(report: &HomogenizeReport) -> Result<f64, ProbeError> {
    let r = &report.result;
    if !r.converged {
        let worst = r
            .columns
            .iter()
            .map(|c| c.relative_residual)
            .fold(f64::NAN, f64::max);
        return Err(ProbeError::Failed(format!(
            "not converged: relative residual {worst:.3e} (the largest of the six solves)"
        )));
    }
    match &report.derived {
        Some(d) => Ok(d.e_h),
        None => Err(ProbeError::NoLoadPath(report.notices.join("; "))),
    }
}

/// Searches the porosity of the periodic scene `base` whose E_h hits
/// `opts.target`, homogenizing each probe on the scene's
/// `solver.backend`. `on_solve(n, φ, report, E_h)` is called after each
/// homogenization that gave E_h.
pub fn run(
    base: &Scene,
    opts: &DesignOptions,
    on_solve: impl FnMut(usize, f64, &HomogenizeReport, f64),
) -> Result<Designed<HomogenizeReport>, RunDesignError> {
    if !base.load_case().is_periodic() {
        return Err(RunDesignError::NotCompression {
            scene: base.path().display().to_string(),
        });
    }
    search_scene(base, opts, on_solve, |scene| {
        let report = homogenize(scene).map_err(|e| probe_error(&e))?;
        Ok((e_h(&report)?, report))
    })
}
