//! [`solve_gpu`]: one load case solved on the device with reliable updates,
//! and its settings ([`GpuSolverOptions`]).

use super::{GpuContext, GpuError, GpuPcg, MULTIGRID_CHECK_EVERY};
use crate::fem::cg::{pcg, PcgError, PcgOptions};
use crate::fem::load::LoadCase;
use crate::fem::{Preconditioner, Problem, SolveError, SolveResult};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use std::time::Instant;

/// GPU solver settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuSolverOptions {
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Read the residual back every this many iterations.
    pub check_every: usize,
    /// Jacobi, or a multigrid V-cycle (hierarchy built on the host, cycle
    /// on the device).
    pub preconditioner: Preconditioner,
}

/// Solves `load` on `grid` on the GPU of `ctx`.
pub fn solve_gpu(
    ctx: &GpuContext,
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &GpuSolverOptions,
) -> Result<SolveResult, GpuError> {
    let start = Instant::now();
    let problem = Problem::new(grid, material, load)?;
    let b = problem.rhs();
    let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed[..]);
    let mut gpu = match opts.preconditioner {
        Preconditioner::Jacobi => GpuPcg::new(ctx, mesh, table, fixed)?,
        Preconditioner::Multigrid => {
            let mg = crate::fem::multigrid::Multigrid::new(mesh, table, fixed);
            GpuPcg::with_multigrid(ctx, mesh, table, fixed, &mg)?
        }
    };
    let hierarchy = gpu.multigrid().map(|m| (m.nodes.clone(), m.bytes));
    gpu.enable_reliable_updates(problem.operator(), b, opts.tolerance);
    let stats = pcg(
        &mut gpu,
        &PcgOptions {
            tolerance: opts.tolerance,
            max_iterations: opts.max_iterations,
            check_every: match opts.preconditioner {
                Preconditioner::Jacobi => opts.check_every,
                Preconditioner::Multigrid => opts.check_every.min(MULTIGRID_CHECK_EVERY),
            },
        },
    )
    .map_err(|e| match e {
        PcgError::Backend(m) => GpuError::Device(m),
        e => GpuError::Solve(SolveError::Pcg(e)),
    })?;
    let w = gpu.solution()?;
    drop(gpu);
    let seconds = start.elapsed().as_secs_f64();
    let mut result = problem.finish(
        w,
        stats,
        opts.tolerance,
        seconds,
        "gpu",
        &ctx.adapter_name(),
    );
    if let Some((nodes, bytes)) = hierarchy {
        result.preconditioner = Preconditioner::Multigrid;
        result.multigrid_levels = Some(nodes);
        result.multigrid_bytes = Some(bytes as usize);
    }
    Ok(result)
}
