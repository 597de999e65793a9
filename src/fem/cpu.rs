//! The CPU backend: [`HostPcg`] (f64, rayon) with point Jacobi or the
//! multigrid V-cycle as its preconditioner.

use std::time::Instant;

use crate::fem::cg::{pcg, HostPcg, PcgError, PcgStats};
use crate::fem::load::LoadCase;
use crate::fem::multigrid::Multigrid;
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::precond::{self, Jacobi};
use crate::fem::problem::{FineOperator, Problem};
use crate::fem::result::{SolveError, SolveResult, Timing};
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
    let problem = Problem::with_element(grid, material, load, opts.element)?;
    let a = problem.operator();
    let ((w, stats, iterations), info) = match opts.preconditioner {
        Preconditioner::Jacobi => (iterate(&a, &Jacobi::new(&a), &problem, opts)?, None),
        Preconditioner::Multigrid => {
            let m = Multigrid::new(&problem.mesh, &problem.table, &problem.bc.fixed)?;
            (iterate(&a, &m, &problem, opts)?, Some(m.info()))
        }
    };
    let timing = Timing {
        setup_seconds: (iterations - start).as_secs_f64(),
        iterations_seconds: iterations.elapsed().as_secs_f64(),
        solve_seconds: start.elapsed().as_secs_f64(),
    };
    let adapter = format!("rayon, {} threads", rayon::current_num_threads());
    let mut result = problem.finish(w, stats, opts.tolerance, timing, "cpu", &adapter);
    if let Some(info) = info {
        result.preconditioner = Preconditioner::Multigrid;
        result.multigrid_levels = Some(info.nodes);
        result.multigrid_bytes = Some(info.bytes);
    }
    Ok(result)
}

/// PCG on `a` preconditioned by `m`: the solution, how it ended, and when
/// the iterations started.
fn iterate(
    a: &FineOperator,
    m: &impl precond::Preconditioner,
    problem: &Problem,
    opts: &SolverOptions,
) -> Result<(Vec<f64>, PcgStats, Instant), PcgError> {
    let mut cg = HostPcg::new(a, m, problem.rhs());
    let started = Instant::now();
    let stats = pcg(&mut cg, opts)?;
    Ok((cg.into_solution(), stats, started))
}
