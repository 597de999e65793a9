//! The one [`Solver`]: the solve settings (options, backend, adapter) and
//! the backend policy with its notices, for every task
//! ([`crate::fem::solver::Task`]: a loaded specimen, a periodic cell's six
//! columns).
//!
//! The policy: `cpu` solves on the CPU, `gpu` on an adapter of the
//! settings' request. `auto` takes a hardware adapter, else the CPU with a
//! notice (no adapter, or only a software one); a GPU solve that fails for
//! a reason other than the input is solved again on the CPU, with a notice.
//! On the GPU a multigrid hierarchy that cannot be split over the adapter's
//! storage bindings (a periodic cell's levels are bound whole; a block of
//! coarse nodes with its grid layers must fit one binding) is solved with
//! Jacobi instead, and reliable updates whose device path cannot be built
//! run on the host; each with a notice. A bad `WGPU_BACKEND` is an error on
//! every backend but `cpu`.

use crate::fem::cpu::Cpu;
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::result::SolveError;
use crate::fem::solver::Task;
use crate::gpu::{AdapterRequest, Gpu, GpuContext, GpuError};
use crate::scene::{Backend, SolverSpec};

/// Why a solve could not be carried out (a solve that does not converge is
/// a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum SolverError {
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl SolverError {
    /// Whether the input is at fault (exit status 2): the CPU would fail
    /// the same way.
    pub fn is_bad_input(&self) -> bool {
        match self {
            SolverError::Solve(e) => e.is_bad_input(),
            SolverError::Gpu(e) => Self::is_bad_gpu_input(e),
        }
    }

    /// Whether a GPU error is the input's fault.
    pub fn is_bad_gpu_input(e: &GpuError) -> bool {
        match e {
            GpuError::Solve(s) => s.is_bad_input(),
            GpuError::BadBackendEnv { .. } | GpuError::BadBindingEnv { .. } => true,
            _ => false,
        }
    }
}

/// The solver of a scene: its options, its backend and adapter, and the
/// notices of the fallbacks it took.
#[derive(Debug, Clone)]
pub struct Solver {
    pub options: SolverOptions,
    pub backend: Backend,
    /// Substring of the adapter name (GPU backends).
    pub adapter: Option<String>,
    notices: Vec<String>,
}

impl Solver {
    /// The solver of `[solver]` settings, on their backend.
    pub fn new(settings: &SolverSpec) -> Solver {
        Solver {
            options: settings.options(),
            backend: settings.backend,
            adapter: settings.adapter.clone(),
            notices: Vec::new(),
        }
    }

    /// The same solver on `backend`.
    pub fn on(self, backend: Backend) -> Solver {
        Solver { backend, ..self }
    }

    /// Whether a solve runs on the CPU under the policy above: `cpu`, or
    /// `auto` with no hardware adapter (probed once per process). Studies
    /// use it to solve several cases at once only where the CPU is the
    /// solver.
    pub fn runs_on_cpu(&self) -> bool {
        match self.backend {
            Backend::Cpu => true,
            Backend::Gpu => false,
            Backend::Auto => !matches!(self.auto(), Auto::Gpu(_)),
        }
    }

    /// The adapter request of the settings.
    fn request(&self) -> AdapterRequest {
        AdapterRequest {
            name: self.adapter.clone(),
            ..Default::default()
        }
    }

    /// What `auto` takes: a hardware adapter, else the CPU (why, as a
    /// notice); a bad `WGPU_BACKEND` is the user's input, not a missing GPU.
    fn auto(&self) -> Auto {
        match GpuContext::new(&self.request()) {
            Err(e @ (GpuError::BadBackendEnv { .. } | GpuError::BadBindingEnv { .. })) => {
                Auto::BadInput(e)
            }
            Err(e) => Auto::Cpu(format!("no GPU: {e}; solving on the CPU")),
            // A software adapter (lavapipe, llvmpipe) runs the kernels
            // on the CPU, several times slower than the CPU solver.
            Ok(ctx) if ctx.is_software() => Auto::Cpu(format!(
                "only a software GPU adapter ({}) was found; the CPU solver is faster (solver.backend = \"gpu\" runs on it)",
                ctx.adapter_name()
            )),
            Ok(ctx) => Auto::Gpu(Box::new(ctx)),
        }
    }

    /// The device a solve outside [`Solver::solve`]'s tasks runs on (the
    /// plastic solve, `crate::plastic`), under the policy above: `None`
    /// for the CPU (under `auto` with the notice of why); under `gpu` a
    /// missing adapter is an error, and so is a bad `WGPU_BACKEND` under
    /// either.
    pub fn device(&mut self) -> Result<Option<GpuContext>, GpuError> {
        match self.backend {
            Backend::Cpu => Ok(None),
            Backend::Gpu => Ok(Some(GpuContext::new(&self.request())?)),
            Backend::Auto => match self.auto() {
                Auto::BadInput(e) => Err(e),
                Auto::Cpu(notice) => {
                    self.notices.push(notice);
                    Ok(None)
                }
                Auto::Gpu(ctx) => Ok(Some(*ctx)),
            },
        }
    }

    /// Records a fallback taken outside [`Solver::solve`].
    pub fn notice(&mut self, notice: String) {
        self.notices.push(notice);
    }

    /// The fallbacks taken so far, in order.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The fallbacks taken, in order.
    pub fn into_notices(self) -> Vec<String> {
        self.notices
    }

    /// Solves `task` on the solver's backend, with the policy of the
    /// module's documentation.
    pub fn solve<T: Task>(&mut self, task: &T) -> Result<T::Output, SolverError> {
        let opts = self.options;
        let cpu = || -> Result<T::Output, SolverError> { Ok(task.solve(&Cpu, &opts)?) };
        match self.backend {
            Backend::Cpu => cpu(),
            Backend::Gpu => {
                let ctx = GpuContext::new(&self.request())?;
                Ok(solve_on_gpu(&ctx, task, &opts, &mut self.notices)?)
            }
            Backend::Auto => match self.auto() {
                Auto::BadInput(e) => Err(e.into()),
                Auto::Cpu(notice) => {
                    self.notices.push(notice);
                    cpu()
                }
                Auto::Gpu(ctx) => match solve_on_gpu(&ctx, task, &opts, &mut self.notices) {
                    // The input's fault: the CPU would fail the same way.
                    Err(e) if SolverError::is_bad_gpu_input(&e) => Err(e.into()),
                    Err(e) => {
                        self.notices.push(format!(
                            "the GPU solve on {} failed: {e}; solving again on the CPU",
                            ctx.adapter_name()
                        ));
                        cpu()
                    }
                    Ok(out) => Ok(out),
                },
            },
        }
    }
}

/// The choice of `auto` ([`Solver::auto`]).
enum Auto {
    Gpu(Box<GpuContext>),
    /// The CPU, with the notice that says why.
    Cpu(String),
    BadInput(GpuError),
}

/// `task` on the GPU of `ctx`. A multigrid hierarchy that does not fit the
/// adapter's bindings is solved with Jacobi instead; reliable updates that
/// ran on the host are said; each with a notice.
pub fn solve_on_gpu<T: Task>(
    ctx: &GpuContext,
    task: &T,
    opts: &SolverOptions,
    notices: &mut Vec<String>,
) -> Result<T::Output, GpuError> {
    let out = match task.solve(&Gpu(ctx), opts) {
        Err(e @ GpuError::TooLarge { .. }) if opts.preconditioner == Preconditioner::Multigrid => {
            notices.push(format!(
                "multigrid does not fit on {}: {e}; solving with solver.preconditioner = \"jacobi\"",
                ctx.adapter_name()
            ));
            let jacobi = SolverOptions {
                preconditioner: Preconditioner::Jacobi,
                ..*opts
            };
            task.solve(&Gpu(ctx), &jacobi)
        }
        r => r,
    }?;
    if let Some(why) = T::reliable_fallback(&out) {
        notices.push(reliable_fallback_notice(ctx, why));
    }
    Ok(out)
}

/// The notice of reliable updates that ran on the host because the device
/// path could not be built on `ctx`'s adapter (`why`: the error it gave).
pub fn reliable_fallback_notice(ctx: &GpuContext, why: &str) -> String {
    format!(
        "reliable updates ran on the host (slower: x and r cross the bus at each one): the device path could not be built on {}: {why}",
        ctx.adapter_name()
    )
}
