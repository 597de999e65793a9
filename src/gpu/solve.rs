//! [`solve_gpu`]: one load case solved on the device with reliable updates
//! (the settings are the CPU's, [`SolverOptions`]).

use super::{GpuContext, GpuError, GpuPcg};
use crate::fem::cg::pcg;
use crate::fem::load::LoadCase;
use crate::fem::{Preconditioner, Problem, SolveResult, SolverOptions, Timing};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use std::time::Instant;

/// Solves `load` on `grid` on the GPU of `ctx`.
pub fn solve_gpu(
    ctx: &GpuContext,
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
) -> Result<SolveResult, GpuError> {
    let start = Instant::now();
    let problem = Problem::with_element(grid, material, load, opts.element)?;
    let b = problem.rhs();
    let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed[..]);
    let mut gpu = match opts.preconditioner {
        Preconditioner::Jacobi => GpuPcg::new(ctx, mesh, table, fixed)?,
        // The hierarchy is built on the device: no f64 levels on the host.
        Preconditioner::Multigrid => GpuPcg::with_device_multigrid(ctx, mesh, table, fixed)?,
    };
    let hierarchy = gpu.multigrid().map(|m| (m.nodes.clone(), m.bytes));
    gpu.enable_reliable_updates(problem.operator(), b, opts.tolerance);
    let device_bytes = gpu.bytes + gpu.reliable_bytes() + hierarchy.as_ref().map_or(0, |h| h.1);
    let iterations = Instant::now();
    let stats = pcg(&mut gpu, opts)?;
    let iterations_seconds = iterations.elapsed().as_secs_f64();
    let w = gpu.solution()?;
    let reliable = (
        gpu.reliable_path().map(|p| p.name().to_string()),
        gpu.reliable_updates(),
        gpu.reliable_seconds(),
        gpu.reliable_fallback().map(str::to_string),
    );
    drop(gpu);
    let timing = Timing {
        setup_seconds: (iterations - start).as_secs_f64(),
        iterations_seconds,
        solve_seconds: start.elapsed().as_secs_f64(),
    };
    let mut result = problem.finish(w, stats, opts.tolerance, timing, "gpu", &ctx.adapter_name());
    result.device_bytes = Some(device_bytes);
    result.reliable_updates = reliable.0;
    result.reliable_update_count = Some(reliable.1);
    result.reliable_update_seconds = Some(reliable.2);
    result.reliable_fallback = reliable.3;
    if let Some((nodes, bytes)) = hierarchy {
        result.preconditioner = Preconditioner::Multigrid;
        result.multigrid_levels = Some(nodes);
        result.multigrid_bytes = Some(bytes as usize);
    }
    Ok(result)
}
