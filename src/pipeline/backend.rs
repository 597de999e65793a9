//! Backend policy: which solver runs a scene (`auto`, `gpu`, `cpu`), and
//! the fallbacks, each with a notice: multigrid that does not fit the GPU's
//! bindings → GPU Jacobi; no GPU or only a software adapter (`auto`) → CPU;
//! a failed GPU solve (`auto`) → CPU; reliable updates whose device path
//! cannot be built → the host's. A bad `WGPU_BACKEND` is an error
//! on every backend but `cpu`.

use super::RunError;
use crate::fem::load::LoadCase;
use crate::fem::{solve_cpu, Preconditioner, SolveResult, SolverOptions};
use crate::gpu::{solve_gpu, AdapterRequest, GpuContext, GpuError};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use crate::scene::{Backend, Scene};

/// The GPU solve. A multigrid hierarchy that cannot be split over the
/// adapter's storage bindings (a periodic cell's levels are bound whole; a
/// block of coarse nodes with its grid layers must fit one binding) is
/// solved with Jacobi instead, with a notice.
pub fn solve_on_gpu(
    ctx: &GpuContext,
    grid: &crate::grid::VoxelGrid,
    material: crate::material::YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
    notices: &mut Vec<String>,
) -> Result<SolveResult, GpuError> {
    let result = match solve_gpu(ctx, grid, material, load, opts) {
        Err(e @ GpuError::TooLarge { .. }) if opts.preconditioner == Preconditioner::Multigrid => {
            notices.push(format!(
                "multigrid does not fit on {}: {e}; solving with solver.preconditioner = \"jacobi\"",
                ctx.adapter_name()
            ));
            let jacobi = SolverOptions {
                preconditioner: Preconditioner::Jacobi,
                ..*opts
            };
            solve_gpu(ctx, grid, material, load, &jacobi)
        }
        r => r,
    }?;
    if let Some(why) = &result.reliable_fallback {
        notices.push(reliable_fallback_notice(ctx, why));
    }
    Ok(result)
}

/// The notice of reliable updates that ran on the host because the device
/// path could not be built on `ctx`'s adapter (`why`: the error it gave).
pub fn reliable_fallback_notice(ctx: &GpuContext, why: &str) -> String {
    format!(
        "reliable updates ran on the host (slower: x and r cross the bus at each one): the device path could not be built on {}: {why}",
        ctx.adapter_name()
    )
}

/// Solves `grid` under `load` on `backend` with the scene's `[solver]`
/// settings; fallbacks push a notice onto `notices`.
pub fn solve(
    scene: &Scene,
    backend: Backend,
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    notices: &mut Vec<String>,
) -> Result<SolveResult, RunError> {
    let opts = scene.solver.options();
    with_backend(
        scene,
        backend,
        notices,
        || Ok(solve_cpu(grid, material, load, &opts)?),
        |ctx, notices| Ok(solve_on_gpu(ctx, grid, material, load, &opts, notices)?),
        RunError::is_bad_input,
    )
}

/// The backend policy of any solve (`voxfe run`'s and a periodic cell's):
/// `cpu` solves on the CPU, `gpu` on an adapter of the scene's request.
/// `auto` takes a hardware adapter, else the CPU with a notice (no adapter,
/// or only a software one); a GPU solve that fails for a reason other than
/// the input (`is_bad_input`) is solved again on the CPU, with a notice. A
/// bad `WGPU_BACKEND` is an error on every backend but `cpu`.
pub fn with_backend<T, E: From<GpuError> + std::fmt::Display>(
    scene: &Scene,
    backend: Backend,
    notices: &mut Vec<String>,
    cpu: impl FnOnce() -> Result<T, E>,
    gpu: impl FnOnce(&GpuContext, &mut Vec<String>) -> Result<T, E>,
    is_bad_input: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let request = AdapterRequest {
        name: scene.solver.adapter.clone(),
        ..Default::default()
    };
    match backend {
        Backend::Cpu => cpu(),
        Backend::Gpu => gpu(&GpuContext::new(&request)?, notices),
        Backend::Auto => match GpuContext::new(&request) {
            // A bad WGPU_BACKEND is the user's input, not a missing GPU.
            Err(e @ (GpuError::BadBackendEnv { .. } | GpuError::BadBindingEnv { .. })) => {
                Err(e.into())
            }
            Err(e) => {
                notices.push(format!("no GPU: {e}; solving on the CPU"));
                cpu()
            }
            // A software adapter (lavapipe, llvmpipe) runs the kernels on
            // the CPU, several times slower than the CPU solver itself.
            Ok(ctx) if ctx.is_software() => {
                notices.push(format!(
                    "only a software GPU adapter ({}) was found; the CPU solver is faster (use --backend gpu to run on it)",
                    ctx.adapter_name()
                ));
                cpu()
            }
            Ok(ctx) => match gpu(&ctx, notices) {
                // The input's fault: the CPU would fail the same way.
                Err(e) if is_bad_input(&e) => Err(e),
                Err(e) => {
                    notices.push(format!(
                        "the GPU solve on {} failed: {e}; solving again on the CPU",
                        ctx.adapter_name()
                    ));
                    cpu()
                }
                ok => ok,
            },
        },
    }
}
