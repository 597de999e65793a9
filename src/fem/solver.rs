//! One linear solver for every solve: a [`LinearSolver`] is set up once on
//! a [`System`] (the operator's mesh and stencils, and the constraints: its
//! fixed dofs) and then solves A u = b for as many right-hand sides as the
//! task has: a loaded specimen one ([`Loaded`]), a periodic cell six (one
//! per unit strain, `crate::homogenize::solve::Periodic`, solved together
//! where the backend can: [`LinearSolver::solve_many`]). A
//! [`SolverBackend`] builds it: [`crate::fem::cpu::Cpu`] (PCG in f64 with
//! rayon) or `crate::gpu::Gpu` (f32 PCG on a device with reliable updates).
//! Which backend runs, and the fallbacks between them, is the policy of
//! `crate::pipeline::solver::Solver`.

use std::time::Instant;

use crate::fem::cg::{PcgStats, Solved};
use crate::fem::constrained::Constrained;
use crate::fem::load::LoadCase;
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::{StencilRows, StencilTable};
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::problem::{FineOperator, Problem};
use crate::fem::result::{GpuStats, SolveError, SolveResult, Timing};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;

/// What a linear solver solves: the operator (the active mesh and its
/// stencils) and its constraints (the fixed-dof flags, 3 bits a node).
#[derive(Clone, Copy)]
pub struct System<'p> {
    pub mesh: &'p ActiveMesh,
    pub table: &'p StencilTable,
    pub fixed: &'p [u8],
}

impl<'p> System<'p> {
    /// The system of a loaded problem: its mesh, stencils and constraints.
    pub fn of(problem: &'p Problem<'_>) -> System<'p> {
        System {
            mesh: &problem.mesh,
            table: &problem.table,
            fixed: &problem.bc.fixed,
        }
    }

    /// The constrained operator A = P K P + (I − P).
    pub fn operator(&self) -> FineOperator<'p> {
        Constrained::new(StencilRows::new(self.mesh, self.table), self.fixed)
    }
}

/// Where a linear solver runs and the preconditioner it built.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverSetup {
    /// "cpu" or "gpu".
    pub backend: &'static str,
    /// The thread pool or the device.
    pub adapter: String,
    /// Multigrid: active nodes per level (finest first) and the hierarchy's
    /// bytes; `None` under Jacobi.
    pub multigrid: Option<(Vec<usize>, usize)>,
}

/// A solver of A u = b, set up once for its [`System`].
pub trait LinearSolver {
    type Error;
    /// The solution of A u = b and how PCG ended.
    fn solve(&mut self, b: Vec<f64>) -> Result<(Vec<f64>, PcgStats), Self::Error>;
    /// The solutions of A u_j = b_j for several right-hand sides, each as
    /// [`LinearSolver::solve`] gives it alone, with its seconds. This one
    /// solves them one after another; a solver may run them together
    /// (the CPU's [`crate::fem::cg::pcg_many`]).
    fn solve_many(&mut self, bs: &[Vec<f64>]) -> Result<Vec<Solved>, Self::Error> {
        bs.iter()
            .map(|b| {
                let t = Instant::now();
                let (x, stats) = self.solve(b.clone())?;
                Ok(Solved {
                    x,
                    stats,
                    seconds: t.elapsed().as_secs_f64(),
                })
            })
            .collect()
    }
    /// Where it runs and what it built.
    fn setup(&self) -> SolverSetup;
    /// The device's figures (`None` on the CPU).
    fn gpu_stats(&self) -> Option<GpuStats> {
        None
    }
}

/// What builds a [`LinearSolver`] for a system: the CPU or a GPU.
pub trait SolverBackend {
    type Error: From<SolveError>;
    type Solver<'p>: LinearSolver<Error = Self::Error>
    where
        Self: 'p;
    /// Sets the solver up on `system` (uploads, preconditioner) with the
    /// preconditioner and element of `opts`.
    fn build<'p>(
        &'p self,
        system: System<'p>,
        opts: &SolverOptions,
    ) -> Result<Self::Solver<'p>, Self::Error>;
}

/// A task for the solver: a problem built, solved on a backend and
/// reported. A loaded specimen is [`Loaded`]; a periodic cell is
/// `crate::homogenize::solve::Periodic`.
pub trait Task {
    type Output;
    /// Builds the problem and solves it on `backend`.
    fn solve<B: SolverBackend>(
        &self,
        backend: &B,
        opts: &SolverOptions,
    ) -> Result<Self::Output, B::Error>;
    /// Why the reliable updates of a GPU solve ran on the host, if they did.
    fn reliable_fallback(output: &Self::Output) -> Option<&str>;
}

/// A loaded specimen: the grid under its load case (one right-hand side).
pub struct Loaded<'a> {
    pub grid: &'a VoxelGrid,
    pub material: YoungPoisson,
    pub load: &'a LoadCase,
}

impl Task for Loaded<'_> {
    type Output = SolveResult;

    fn solve<B: SolverBackend>(
        &self,
        backend: &B,
        opts: &SolverOptions,
    ) -> Result<SolveResult, B::Error> {
        let start = Instant::now();
        let problem = Problem::with_element(self.grid, self.material, self.load, opts.element)?;
        let mut solver = backend.build(System::of(&problem), opts)?;
        let iterations = Instant::now();
        let (w, stats) = solver.solve(problem.rhs())?;
        let iterations_seconds = iterations.elapsed().as_secs_f64();
        let (setup, gpu) = (solver.setup(), solver.gpu_stats());
        drop(solver);
        let timing = Timing {
            setup_seconds: (iterations - start).as_secs_f64(),
            iterations_seconds,
            solve_seconds: start.elapsed().as_secs_f64(),
        };
        let mut result = problem.finish(
            w,
            stats,
            opts.tolerance,
            timing,
            setup.backend,
            &setup.adapter,
        );
        result.gpu = gpu;
        if let Some((levels, bytes)) = setup.multigrid {
            result.preconditioner = Preconditioner::Multigrid;
            result.multigrid_levels = Some(levels);
            result.multigrid_bytes = Some(bytes);
        }
        Ok(result)
    }

    fn reliable_fallback(output: &SolveResult) -> Option<&str> {
        output.gpu.as_ref()?.reliable_fallback.as_deref()
    }
}
