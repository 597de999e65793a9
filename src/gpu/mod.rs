//! The GPU solver: PCG in WGSL compute shaders through `wgpu`, headless,
//! f32, preconditioned by a multigrid V-cycle ([`multigrid`], the default)
//! or by Jacobi.
//!
//! # Pieces
//!
//! - [`GpuContext`]: an adapter, a device and a queue, no window. The
//!   adapter is chosen among those of the requested backends (`WGPU_BACKEND`
//!   and the other `wgpu` variables are honoured): the one whose name holds
//!   `--adapter NAME`, else the best kind, discrete > integrated > virtual >
//!   software (CPU).
//! - Kernels, one WGSL file each in `shaders/` with a CPU mirror of the same
//!   name in [`mirror`]: `apply_k` (the node-gather operator), `jacobi_diag`,
//!   `dot_partial` + `reduce_alpha` (p·q, then α = ρ/(p·q) on the device),
//!   `update_xr` + `reduce_beta` (x += αp, r −= αq with the partial sums of
//!   r·D⁻¹r and r·r in the same sweep, then β on the device) and `update_p`;
//!   with multigrid, the V-cycle's kernels, then `dot_pair` (r·z, r·r) and
//!   `update_pz` (p = z + βp); for the plastic solve ([`plastic`]),
//!   `plastic_update` + `plastic_force` (the J2 update and the internal
//!   forces, f64) and `tangent_brick` + `tangent_gather` (the tangent).
//! - [`GpuPcg`]: the buffers and pipelines of one problem; it implements
//!   [`PcgBackend`](crate::fem::cg::PcgBackend), so the CG loop is the one
//!   of the CPU solver ([`crate::fem::cg::pcg`]): iterations are recorded into one compute
//!   pass (six dispatches, or about fifteen per level with multigrid), and
//!   the host reads ‖r‖² back only every `check_every` iterations (with
//!   multigrid at least every [`MULTIGRID_CHECK_EVERY`]).
//! - [`solve_gpu`]: f32 PCG with *reliable updates*: the solution is
//!   accumulated in high precision and the device's residual is replaced by
//!   the true one, computed in high precision, each time it has dropped
//!   tenfold, so the stop rule is checked on the true residual and CG
//!   converges as in f64. Both live on the device ([`ReliablePath`]): in
//!   f64 where the adapter has `SHADER_F64`, else in double-single (two
//!   f32), with only ‖r‖² read back per update; on the host (x read back,
//!   r uploaded) only as the fallback. The result says which ran.
//!   `apply_k` sums stencil blocks times *differences* u_m − u_n (the blocks
//!   of a row sum to zero), which keeps f32 from cancelling away the smooth
//!   displacement fields that set the moduli. A result whose true residual
//!   misses the tolerance says so. When the true residual has drifted more
//!   than [`RESTART_DRIFT`]× from the recursive one, CG restarts (p = M⁻¹r)
//!   at the update.
//!
//! Adapter limits: dispatches over 65 535 workgroups are split over y, and
//! per-node buffers larger than `max_storage_buffer_binding_size` (128 MiB
//! on lavapipe) are bound in chunks of nodes ([`plan_chunks`]): each
//! per-node kernel is dispatched once per chunk with the chunk's sub-ranges
//! bound (for `apply_k` the chunk's neighbour window of flags, x and node
//! map), and the second reduction passes sum the partials of all chunks.
//! The multigrid is split the same way ([`plan::levels`]): the fine level's
//! chunks are the CG's (sized for its 36 B of inverse diagonal blocks a
//! node), every coarser level is cut into node ranges whose stencil
//! blocks, neighbours and windows (one grid layer around the chunk on its
//! own level, one or two on the finer one, its parents' layers on the
//! coarser one) fit, and the coarsest inverse into rows. Only a block of
//! coarse nodes whose windows do not fit one binding, or a periodic cell
//! (bound whole) over the limit, is a typed [`GpuError::TooLarge`] (and
//! `voxfe run` solves with Jacobi).
//!
//! Memory on the device: 5 f32 vectors of 3 values per active node (60 B),
//! 8 B of node id and flags per active node, 4 B per grid node (the node
//! map) and a 249 KB stencil table; with multigrid, one more vector (z) and
//! the hierarchy ([`multigrid`]). With sub-voxel fill (`GpuParams::fill`)
//! 32 B of corner fractions per active node (bound in the vectors' chunks)
//! and the 2.3 KB element blocks, read by `apply_k` and `jacobi_diag`.
//! Reliable updates on the device: x_hi and b, 48 B per active node, and
//! the stencil table and element blocks again in 8-byte values (0.5 MB).
//!
//! Errors are typed ([`GpuError`]): limits are checked before allocating,
//! and out-of-memory is told from other device errors by wgpu's error type
//! (`wgpu::Error::OutOfMemory`), not by its message.
//!
//! # Files
//!
//! Bottom to top: each file imports only files listed before it (no import
//! circle; `fem` is below all of them and imports none):
//!
//! - [`abi`]: what the host, the WGSL and the mirrors share: the uniform
//!   structs ([`GpuParams`], [`MgParams`](abi::MgParams),
//!   [`GalerkinParams`](abi::GalerkinParams)), the storage element
//!   [`Ds`](abi::Ds), the scalar slots, the workgroup sizes ([`WG_NODES`],
//!   [`WG_DOFS`], [`WG_REDUCE`], [`REDUCE_BLOCK`]) and `NO_NODE`, each
//!   kept in sync with its WGSL twin and checked against it.
//! - `error.rs`: [`GpuError`]. [`shaders`]: the WGSL sources, the
//!   `#import` expander, naga validation.
//! - [`mirror`]: a CPU mirror of every kernel, one file per shader
//!   (`shaders/apply_k.wgsl` ↔ `mirror/apply_k.rs`); read by the tests
//!   only.
//! - `context.rs`: [`AdapterRequest`], [`ReliablePath`], [`GpuContext`]
//!   (adapter choice, device, the sink of uncaptured device errors,
//!   dispatch sizes), [`context_or_skip`], `read_buffer`.
//! - `kernels.rs`: the PCG binding and kernel table: [`Slot`],
//!   [`Kernel`], each kernel's file, entry point, workgroup size and
//!   bindings, the bind-group layouts spelled out from it, `pipeline`, and
//!   the workgroups of each dispatch. [`mg_kernels`]: the multigrid's
//!   tables (the V-cycle's kernels and the hierarchy's).
//! - [`plan`]: chunk and buffer planning: the CG's chunks ([`Chunk`],
//!   [`plan_chunks`]), the multigrid levels' chunks and windows, the
//!   hierarchy's size checks.
//! - `mg_buffers.rs`: the multigrid's buffers before the cycle is
//!   recorded (allocation, one dispatch per chunk, bind groups);
//!   [`multigrid`]: the V-cycle on the device; [`galerkin`]: the
//!   hierarchy built on the device (the Galerkin and inverse-diagonal
//!   kernels, λ_max).
//! - `reliable_device.rs`: reliable updates on the device (x_hi, b, the
//!   kernels `shaders/reliable_{f64,ds}.wgsl` over
//!   `shaders/shared/reliable_body.wgsl`, their binding table).
//! - `pcg.rs`: [`GpuPcg`]: buffers, pipelines and bind groups of one
//!   problem, the kernels it runs (or, in `apply_k`'s place, another
//!   operator's dispatches).
//! - [`plastic`]: the plastic solve's device work (`shaders/plastic_update.wgsl`
//!   in f64, `shaders/plastic_tangent.wgsl` in f32, over
//!   `shaders/shared/plastic_brick.wgsl`), its binding table, and a
//!   [`GpuPcg`] with the tangent as its operator; `crate::plastic::engine`
//!   drives it.
//! - `reliable.rs`: reliable updates of a [`GpuPcg`] ([`RELIABLE_DROP`],
//!   [`RESTART_DRIFT`]), the host fallback and the solution;
//!   `iteration.rs`: its `PcgBackend` (the kernels of one iteration,
//!   [`MULTIGRID_CHECK_EVERY`]).
//! - `solve.rs`: [`Gpu`], the GPU backend of the one
//!   [`crate::fem::solver::LinearSolver`] (the settings are the CPU's,
//!   [`crate::fem::SolverOptions`]), and [`solve_gpu`].
//! - `wgsl_checks.rs` (tests): the kernel tables and the constants against
//!   the WGSL as naga parses it, without an adapter.

pub mod abi;
mod context;
mod error;
pub mod galerkin;
mod iteration;
mod kernels;
mod mg_buffers;
pub mod mg_kernels;
pub mod mirror;
pub mod multigrid;
mod pcg;
pub mod plan;
pub mod plastic;
mod reliable;
mod reliable_device;
pub mod shaders;
mod solve;
#[cfg(test)]
mod wgsl_checks;

pub use abi::{GpuParams, REDUCE_BLOCK, WG_DOFS, WG_NODES, WG_REDUCE};
pub use context::{
    context_or_skip, env_backends, env_binding_cap, probe_counts, AdapterRequest, GpuContext,
    ReliablePath,
};
pub use error::GpuError;
pub use iteration::MULTIGRID_CHECK_EVERY;
pub use kernels::{Kernel, Slot};
pub use pcg::GpuPcg;
pub use plan::{plan_chunks, Chunk};
pub use reliable::{RELIABLE_DROP, RESTART_DRIFT};
pub use solve::{solve_gpu, Gpu, GpuSolver};
