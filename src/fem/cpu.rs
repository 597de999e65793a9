//! The CPU backend ([`Cpu`]): [`HostPcg`] (f64, rayon) with point Jacobi
//! or the multigrid V-cycle as its preconditioner.

use crate::fem::cg::{pcg, pcg_many, HostPcg, PcgStats, Solved};
use crate::fem::load::LoadCase;
use crate::fem::multigrid::Multigrid;
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::precond::Jacobi;
use crate::fem::problem::FineOperator;
use crate::fem::result::{SolveError, SolveResult};
use crate::fem::solver::{LinearSolver, Loaded, SolverBackend, SolverSetup, System, Task};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;

/// The CPU: PCG in f64 on rayon's threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

/// The CPU's preconditioner.
enum HostPreconditioner<'p> {
    Jacobi(Jacobi),
    Multigrid(Box<Multigrid<'p>>),
}

/// PCG on the CPU, set up on one [`System`].
pub struct CpuSolver<'p> {
    a: FineOperator<'p>,
    m: HostPreconditioner<'p>,
    opts: SolverOptions,
}

impl SolverBackend for Cpu {
    type Error = SolveError;
    type Solver<'p> = CpuSolver<'p>;

    fn build<'p>(
        &'p self,
        system: System<'p>,
        opts: &SolverOptions,
    ) -> Result<CpuSolver<'p>, SolveError> {
        let a = system.operator();
        let m =
            match opts.preconditioner {
                Preconditioner::Jacobi => HostPreconditioner::Jacobi(Jacobi::new(&a)),
                // A periodic mesh gets its periodic hierarchy.
                Preconditioner::Multigrid => HostPreconditioner::Multigrid(Box::new(
                    Multigrid::new(system.mesh, system.table, system.fixed)?,
                )),
            };
        Ok(CpuSolver { a, m, opts: *opts })
    }
}

impl LinearSolver for CpuSolver<'_> {
    type Error = SolveError;

    fn solve(&mut self, b: Vec<f64>) -> Result<(Vec<f64>, PcgStats), SolveError> {
        fn run(
            mut cg: HostPcg<'_, FineOperator<'_>, impl crate::fem::precond::Preconditioner>,
            opts: &SolverOptions,
        ) -> Result<(Vec<f64>, PcgStats), SolveError> {
            let stats = pcg(&mut cg, opts)?;
            Ok((cg.into_solution(), stats))
        }
        match &self.m {
            HostPreconditioner::Jacobi(m) => run(HostPcg::new(&self.a, m, b), &self.opts),
            HostPreconditioner::Multigrid(m) => run(HostPcg::new(&self.a, &**m, b), &self.opts),
        }
    }

    /// The right-hand sides in lockstep ([`pcg_many`]): the multigrid's
    /// coarse levels are read once for all of them; each solution has the
    /// bits of [`LinearSolver::solve`] on its right-hand side alone.
    fn solve_many(&mut self, bs: &[Vec<f64>]) -> Result<Vec<Solved>, SolveError> {
        Ok(match &self.m {
            HostPreconditioner::Jacobi(m) => pcg_many(&self.a, m, bs, &self.opts)?,
            HostPreconditioner::Multigrid(m) => pcg_many(&self.a, &**m, bs, &self.opts)?,
        })
    }

    fn setup(&self) -> SolverSetup {
        SolverSetup {
            backend: "cpu",
            adapter: format!("rayon, {} threads", rayon::current_num_threads()),
            multigrid: match &self.m {
                HostPreconditioner::Jacobi(_) => None,
                HostPreconditioner::Multigrid(m) => {
                    let info = m.info();
                    Some((info.nodes, info.bytes))
                }
            },
        }
    }
}

/// Solves `load` on `grid` with PCG on the CPU, preconditioned as `opts`
/// says (no fallback: the backend policy is `crate::pipeline::solver`'s).
pub fn solve_cpu(
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
) -> Result<SolveResult, SolveError> {
    Loaded {
        grid,
        material,
        load,
    }
    .solve(&Cpu, opts)
}
