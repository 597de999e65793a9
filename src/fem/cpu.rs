//! The CPU backend: [`HostPcg`] (f64, rayon) with point Jacobi or the
//! multigrid V-cycle as its preconditioner.

use std::time::Instant;

use crate::fem::cg::{pcg, HostPcg};
use crate::fem::load::LoadCase;
use crate::fem::multigrid::Multigrid;
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::precond::Jacobi;
use crate::fem::problem::Problem;
use crate::fem::result::{SolveError, SolveResult};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;

/// Solves `load` on `grid` with PCG on the CPU, preconditioned as `opts`
/// says.
pub fn solve_cpu(
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
) -> Result<SolveResult, SolveError> {
    let start = Instant::now();
    let problem = Problem::new(grid, material, load)?;
    let a = problem.operator();
    let (w, stats, info) = match opts.preconditioner {
        Preconditioner::Jacobi => {
            let m = Jacobi::new(&a);
            let mut cg = HostPcg::new(&a, &m, problem.rhs());
            let stats = pcg(&mut cg, opts)?;
            (cg.into_solution(), stats, None)
        }
        Preconditioner::Multigrid => {
            let m = Multigrid::new(&problem.mesh, &problem.table, &problem.bc.fixed)?;
            let mut cg = HostPcg::new(&a, &m, problem.rhs());
            let stats = pcg(&mut cg, opts)?;
            (cg.into_solution(), stats, Some(m.info()))
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let adapter = format!("rayon, {} threads", rayon::current_num_threads());
    let mut result = problem.finish(w, stats, opts.tolerance, seconds, "cpu", &adapter);
    if let Some(info) = info {
        result.preconditioner = Preconditioner::Multigrid;
        result.multigrid_levels = Some(info.nodes);
        result.multigrid_bytes = Some(info.bytes);
    }
    Ok(result)
}
