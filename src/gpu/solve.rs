//! The GPU backend ([`Gpu`]): f32 PCG on the device of a [`GpuContext`]
//! with reliable updates (the settings are the CPU's, [`SolverOptions`]).

use super::{GpuContext, GpuError, GpuPcg};
use crate::fem::cg::{pcg, PcgStats};
use crate::fem::load::LoadCase;
use crate::fem::result::GpuStats;
use crate::fem::solver::{LinearSolver, Loaded, SolverBackend, SolverSetup, System, Task};
use crate::fem::{Preconditioner, SolveResult, SolverOptions};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;

/// The device of a [`GpuContext`].
#[derive(Clone, Copy)]
pub struct Gpu<'c>(pub &'c GpuContext);

/// PCG on the device, set up on one [`System`]: its buffers and
/// multigrid hierarchy are uploaded once for every right-hand side.
pub struct GpuSolver<'p> {
    gpu: GpuPcg<'p>,
    system: System<'p>,
    opts: SolverOptions,
    adapter: String,
    /// The hierarchy's active nodes per level and bytes.
    hierarchy: Option<(Vec<usize>, u64)>,
}

impl<'c> SolverBackend for Gpu<'c> {
    type Error = GpuError;
    type Solver<'p>
        = GpuSolver<'p>
    where
        Self: 'p;

    fn build<'p>(
        &'p self,
        system: System<'p>,
        opts: &SolverOptions,
    ) -> Result<GpuSolver<'p>, GpuError> {
        let (ctx, mesh, table, fixed) = (self.0, system.mesh, system.table, system.fixed);
        let gpu = match opts.preconditioner {
            Preconditioner::Jacobi => GpuPcg::new(ctx, mesh, table, fixed)?,
            // A box's hierarchy is built on the device (no f64 levels on
            // the host); a periodic one on the host.
            Preconditioner::Multigrid => GpuPcg::with_device_multigrid(ctx, mesh, table, fixed)?,
        };
        let hierarchy = gpu.multigrid().map(|m| (m.nodes.clone(), m.bytes));
        Ok(GpuSolver {
            gpu,
            system,
            opts: *opts,
            adapter: ctx.adapter_name(),
            hierarchy,
        })
    }
}

impl LinearSolver for GpuSolver<'_> {
    type Error = GpuError;

    fn solve(&mut self, b: Vec<f64>) -> Result<(Vec<f64>, PcgStats), GpuError> {
        self.gpu
            .enable_reliable_updates(self.system.operator(), b, self.opts.tolerance);
        let stats = pcg(&mut self.gpu, &self.opts)?;
        Ok((self.gpu.solution()?, stats))
    }

    fn setup(&self) -> SolverSetup {
        SolverSetup {
            backend: "gpu",
            adapter: self.adapter.clone(),
            multigrid: self
                .hierarchy
                .as_ref()
                .map(|(nodes, bytes)| (nodes.clone(), *bytes as usize)),
        }
    }

    fn gpu_stats(&self) -> Option<GpuStats> {
        let g = &self.gpu;
        Some(GpuStats {
            device_bytes: g.bytes + g.reliable_bytes() + self.hierarchy.as_ref().map_or(0, |h| h.1),
            reliable_updates: g.reliable_path().map(|p| p.name().to_string()),
            reliable_fallback: g.reliable_fallback().map(str::to_string),
            reliable_update_count: g.reliable_updates(),
            reliable_update_seconds: g.reliable_seconds(),
        })
    }
}

/// Solves `load` on `grid` on the GPU of `ctx` (no fallback: the backend
/// policy is `crate::pipeline::solver`'s).
pub fn solve_gpu(
    ctx: &GpuContext,
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
) -> Result<SolveResult, GpuError> {
    Loaded {
        grid,
        material,
        load,
    }
    .solve(&Gpu(ctx), opts)
}
