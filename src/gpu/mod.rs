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
//!   `update_pz` (p = z + βp).
//! - [`GpuPcg`]: the buffers and pipelines of one problem; it implements
//!   [`PcgBackend`], so the CG loop is the one of the CPU solver
//!   ([`crate::fem::cg::pcg`]): iterations are recorded into one compute
//!   pass (six dispatches, or about fifteen per level with multigrid), and
//!   the host reads ‖r‖² back only every `check_every` iterations (with
//!   multigrid at least every [`MULTIGRID_CHECK_EVERY`]).
//! - [`solve_gpu`]: f32 PCG with *reliable updates*: the solution is
//!   accumulated in f64 on the host and the device's residual is replaced by
//!   the true one, computed in f64, each time it has dropped tenfold, so the
//!   stop rule is checked on the true residual and CG converges as in f64.
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
//! The multigrid binds its buffers whole: where that does not fit it is a
//! typed [`GpuError::TooLarge`] (and `voxfe run` solves with Jacobi).
//!
//! Memory on the device: 5 f32 vectors of 3 values per active node (60 B),
//! 8 B of node id and flags per active node, 4 B per grid node (the node
//! map) and a 249 KB stencil table; with multigrid, one more vector (z) and
//! the hierarchy ([`multigrid`]).

pub mod mirror;
pub mod multigrid;
pub mod shaders;

use crate::fem::cg::{pcg, PcgBackend, PcgError};
use crate::fem::load::LoadCase;
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::StencilTable;
use crate::fem::problem::FineOperator;
use crate::fem::{Preconditioner, Problem, SolveError, SolveResult, SolverOptions};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use bytemuck::{Pod, Zeroable};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wgpu::util::DeviceExt;

/// Uniform parameters of every kernel. Kept in sync with `Params` in
/// `shaders/shared/params.wgsl` (a test compares the sizes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuParams {
    /// Active nodes of the chunk (the whole mesh in [`GpuPcg::params`]).
    pub n_nodes: u32,
    /// 3 · `n_nodes`.
    pub n_dofs: u32,
    /// Grid nodes along x and y.
    pub sx: u32,
    pub sy: u32,
    /// Partial sums of the whole mesh.
    pub n_partials: u32,
    /// Partial sums of the chunk, written from `partial_base` on.
    pub chunk_partials: u32,
    pub partial_base: u32,
    /// Active index of the chunk's first node.
    pub node_base: u32,
    /// Active index where `apply_k`'s neighbour window (flags, x) starts.
    pub win_base: u32,
    /// Grid node id where `apply_k`'s node-map window starts.
    pub map_base: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// One chunk of active nodes, dispatched with its own bindings so that no
/// binding exceeds `max_storage_buffer_binding_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub params: GpuParams,
    /// End (exclusive) of the neighbour window, an active index.
    pub win_end: u32,
    /// End (exclusive) of the node-map window, a grid node id.
    pub map_end: u32,
}

/// How a kernel binds a buffer for one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// The whole buffer.
    Whole,
    /// The chunk's nodes (bytes per node).
    Own(u64),
    /// The chunk's neighbour window (bytes per node), or for the node map
    /// its window of grid ids.
    Window(u64),
}

/// GPU failures, each with the numbers that explain it.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter{}: found {found}", .requested.as_ref().map(|n| format!(" matching --adapter '{n}'")).unwrap_or_default())]
    NoAdapter {
        requested: Option<String>,
        found: String,
    },
    #[error("the adapter '{adapter}' refused a device: {message}")]
    RequestDevice { adapter: String, message: String },
    #[error(
        "buffer '{name}' needs {bytes} bytes, over the adapter's limit of {limit} bytes ({what})"
    )]
    TooLarge {
        name: &'static str,
        bytes: u64,
        limit: u64,
        what: &'static str,
    },
    #[error("out of GPU memory allocating {bytes} bytes: {message}")]
    OutOfMemory { bytes: u64, message: String },
    #[error("shader '{name}' failed to compile: {message}")]
    ShaderCompile { name: String, message: String },
    #[error("the GPU device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

impl From<PcgError> for GpuError {
    fn from(e: PcgError) -> GpuError {
        GpuError::Solve(SolveError::Pcg(e))
    }
}

/// Which adapter to use and how to limit it.
#[derive(Debug, Clone, Default)]
pub struct AdapterRequest {
    /// Case-insensitive substring of the adapter name (`--adapter`);
    /// default: `WGPU_ADAPTER_NAME`, else none.
    pub name: Option<String>,
    /// Backends to search; default: all, as overridden by `WGPU_BACKEND`.
    pub backends: Option<wgpu::Backends>,
    /// Lower `max_storage_buffer_binding_size` to this (tests).
    pub max_storage_binding: Option<u64>,
    /// Split dispatches at this many workgroups along x (default 65 535; tests lower it).
    pub max_groups_x: Option<u32>,
}

/// A headless device.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub max_groups_x: u32,
    errors: Arc<Mutex<Vec<String>>>,
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

impl GpuContext {
    /// Finds an adapter and opens a device on it.
    pub fn new(req: &AdapterRequest) -> Result<GpuContext, GpuError> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = req.backends.unwrap_or(wgpu::Backends::all()).with_env();
        let instance = wgpu::Instance::new(desc.with_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let found = if adapters.is_empty() {
            "none".to_string()
        } else {
            adapters
                .iter()
                .map(|a| {
                    let i = a.get_info();
                    format!("'{}' ({:?}, {:?})", i.name, i.backend, i.device_type)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let name = req
            .name
            .clone()
            .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok());
        let needle = name.as_ref().map(|n| n.to_lowercase());
        let adapter = adapters
            .into_iter()
            .filter(|a| {
                let i = a.get_info();
                needle
                    .as_ref()
                    .is_none_or(|n| i.name.to_lowercase().contains(n))
                    && a.get_downlevel_capabilities()
                        .flags
                        .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .min_by_key(|a| {
                let i = a.get_info();
                (rank(i.device_type), i.backend != wgpu::Backend::Vulkan)
            })
            .ok_or(GpuError::NoAdapter {
                requested: name,
                found,
            })?;
        let info = adapter.get_info();
        let mut limits = adapter.limits();
        if let Some(cap) = req.max_storage_binding {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(cap);
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("voxfe"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice {
            adapter: info.name.clone(),
            message: e.to_string(),
        })?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock().unwrap().push(e.to_string())
        }));
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
            max_groups_x: req.max_groups_x.unwrap_or(65_535).clamp(1, 65_535),
            errors,
        })
    }

    /// "name / backend", e.g. "llvmpipe (LLVM 15.0.6, 256 bits) / Vulkan".
    pub fn adapter_name(&self) -> String {
        format!("{} / {:?}", self.info.name, self.info.backend)
    }

    /// Whether the adapter is a software rasteriser (lavapipe, llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The first error the device reported since the last call, if any.
    fn check(&self) -> Result<(), GpuError> {
        let mut e = self.errors.lock().unwrap();
        if e.is_empty() {
            Ok(())
        } else {
            let msg = e.join("; ");
            e.clear();
            Err(
                if msg.contains("Out of memory") || msg.contains("OutOfMemory") {
                    GpuError::OutOfMemory {
                        bytes: 0,
                        message: msg,
                    }
                } else {
                    GpuError::Device(msg)
                },
            )
        }
    }

    /// Workgroup counts for `groups` workgroups, split over y past `max_groups_x`.
    pub fn dispatch_size(&self, groups: u32) -> (u32, u32) {
        let x = groups.clamp(1, self.max_groups_x);
        (x, groups.max(1).div_ceil(x))
    }
}

/// A context for a test or a benchmark, or `None` after printing that it
/// was skipped. With `VOXFE_REQUIRE_GPU=1` (set by CI) a missing adapter
/// is a failure instead.
pub fn context_or_skip(request: &AdapterRequest, what: &str) -> Option<GpuContext> {
    match GpuContext::new(request) {
        Ok(ctx) => Some(ctx),
        Err(e) if std::env::var("VOXFE_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("VOXFE_REQUIRE_GPU=1 but {what} found no GPU adapter: {e}")
        }
        Err(e) => {
            eprintln!("skipped {what}: no GPU adapter ({e})");
            None
        }
    }
}

/// The buffers of one problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Nodes,
    Flags,
    NodeMap,
    Stencil,
    Neighbours,
    X,
    R,
    P,
    Q,
    InvDiag,
    Partials,
    Scalars,
    /// z = M⁻¹ r (multigrid only).
    Z,
}

const SLOTS: [Slot; 13] = [
    Slot::Nodes,
    Slot::Flags,
    Slot::NodeMap,
    Slot::Stencil,
    Slot::Neighbours,
    Slot::X,
    Slot::R,
    Slot::P,
    Slot::Q,
    Slot::InvDiag,
    Slot::Partials,
    Slot::Scalars,
    Slot::Z,
];

/// The kernels (entry points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    ApplyK,
    JacobiDiag,
    DotPartial,
    ReduceAlpha,
    UpdateXr,
    ReduceBeta,
    ReduceStart,
    UpdateP,
    /// Multigrid: partial sums of r·z and r·r.
    DotPair,
    /// Multigrid: p = z + βp.
    UpdatePz,
    /// Multigrid: the dispatches of one V-cycle, z = M⁻¹ r
    /// ([`multigrid::GpuMultigrid`]).
    VCycle,
}

const KERNEL_LIST: [Kernel; 10] = [
    Kernel::ApplyK,
    Kernel::JacobiDiag,
    Kernel::DotPartial,
    Kernel::ReduceAlpha,
    Kernel::UpdateXr,
    Kernel::ReduceBeta,
    Kernel::ReduceStart,
    Kernel::UpdateP,
    Kernel::DotPair,
    Kernel::UpdatePz,
];

impl Kernel {
    /// (WGSL file, entry point, bindings 1.. as slots and views; binding 0
    /// is the uniform).
    fn spec(self) -> (&'static str, &'static str, &'static [(Slot, View)]) {
        use Slot::*;
        use View::*;
        const V: u64 = 12;
        match self {
            Kernel::ApplyK => (
                "apply_k.wgsl",
                "apply_k",
                &[
                    (Nodes, Own(4)),
                    (Flags, Window(4)),
                    (NodeMap, Window(4)),
                    (Stencil, Whole),
                    (Neighbours, Whole),
                    (P, Window(V)),
                    (Q, Own(V)),
                ],
            ),
            Kernel::JacobiDiag => (
                "jacobi_diag.wgsl",
                "jacobi_diag",
                &[(Flags, Own(4)), (Stencil, Whole), (InvDiag, Own(V))],
            ),
            Kernel::DotPartial => (
                "dot_partial.wgsl",
                "dot_partial",
                &[(P, Own(V)), (Q, Own(V)), (Partials, Whole)],
            ),
            Kernel::ReduceAlpha => (
                "reduce_alpha.wgsl",
                "reduce_alpha",
                &[(Partials, Whole), (Scalars, Whole)],
            ),
            Kernel::UpdateXr => (
                "update_xr.wgsl",
                "update_xr",
                &[
                    (Scalars, Whole),
                    (P, Own(V)),
                    (Q, Own(V)),
                    (InvDiag, Own(V)),
                    (X, Own(V)),
                    (R, Own(V)),
                    (Partials, Whole),
                ],
            ),
            Kernel::ReduceBeta => (
                "reduce_beta.wgsl",
                "reduce_beta",
                &[(Partials, Whole), (Scalars, Whole)],
            ),
            Kernel::ReduceStart => (
                "reduce_beta.wgsl",
                "reduce_start",
                &[(Partials, Whole), (Scalars, Whole)],
            ),
            Kernel::UpdateP => (
                "update_p.wgsl",
                "update_p",
                &[
                    (Scalars, Whole),
                    (R, Own(V)),
                    (InvDiag, Own(V)),
                    (P, Own(V)),
                ],
            ),
            Kernel::DotPair => (
                "dot_partial.wgsl",
                "dot_pair",
                &[(R, Own(V)), (Z, Own(V)), (Partials, Whole)],
            ),
            Kernel::UpdatePz => (
                "update_pz.wgsl",
                "update_pz",
                &[(Scalars, Whole), (Z, Own(V)), (P, Own(V))],
            ),
            Kernel::VCycle => unreachable!("the V-cycle is a list of dispatches, not one kernel"),
        }
    }

    /// Whether the kernel is only built for the multigrid iteration.
    fn is_multigrid(self) -> bool {
        matches!(self, Kernel::DotPair | Kernel::UpdatePz | Kernel::VCycle)
    }

    /// Whether the kernel runs once over the whole mesh (the second
    /// reduction passes) rather than once per chunk.
    fn is_global(self) -> bool {
        matches!(
            self,
            Kernel::ReduceAlpha | Kernel::ReduceBeta | Kernel::ReduceStart
        )
    }
}

/// Splits the active nodes into chunks whose bindings all fit in `limit`
/// bytes, with binding offsets that are multiples of `align` bytes.
///
/// Chunks start at multiples of [`REDUCE_BLOCK`] nodes (so that a chunk's
/// partial sums are whole workgroups) and are as long as the limit allows:
/// 12 B per node for the chunk's vectors, 12 B per node of its neighbour
/// window (the chunk plus the active nodes of one z-layer of grid nodes on
/// either side) and 4 B per grid id of its node-map window.
pub fn plan_chunks(mesh: &ActiveMesh, limit: u64, align: u64) -> Result<Vec<Chunk>, GpuError> {
    let n = mesh.len();
    let sx = mesh.dims[0] as u64 + 1;
    let sy = mesh.dims[1] as u64 + 1;
    let grid_nodes = mesh.node_map.len() as u64;
    let reach = sx * sy + sx + 1;
    // Bases in elements of 4 bytes that keep 4 B and 12 B offsets aligned.
    let step = (align / 4).max(1);
    let n_partials = (3 * n as u64).div_ceil(REDUCE_BLOCK as u64) as u32;
    let block = REDUCE_BLOCK as usize;
    let chunk = |n0: usize, n1: usize| -> Chunk {
        let id_lo = (mesh.nodes[n0] as u64).saturating_sub(reach);
        let id_hi = (mesh.nodes[n1 - 1] as u64 + reach).min(grid_nodes - 1);
        let m_lo = mesh.nodes.partition_point(|&id| (id as u64) < id_lo) as u64;
        let m_hi = mesh.nodes.partition_point(|&id| (id as u64) <= id_hi) as u64;
        let count = (n1 - n0) as u32;
        let partials = (3 * count).div_ceil(REDUCE_BLOCK);
        Chunk {
            params: GpuParams {
                n_nodes: count,
                n_dofs: 3 * count,
                sx: sx as u32,
                sy: sy as u32,
                n_partials,
                chunk_partials: partials,
                partial_base: (3 * n0 / block) as u32,
                node_base: n0 as u32,
                win_base: (m_lo / step * step) as u32,
                map_base: (id_lo / step * step) as u32,
                _pad0: 0,
                _pad1: 0,
            },
            win_end: m_hi as u32,
            map_end: id_hi as u32 + 1,
        }
    };
    let fits = |c: &Chunk| {
        let p = &c.params;
        12 * (c.win_end - p.win_base) as u64 <= limit
            && 4 * (c.map_end - p.map_base) as u64 <= limit
            && 12 * p.n_nodes as u64 <= limit
    };
    // Everything fits: one chunk, bound whole.
    if 12 * n as u64 <= limit && 4 * grid_nodes <= limit {
        return Ok(vec![Chunk {
            params: GpuParams {
                n_nodes: n as u32,
                n_dofs: 3 * n as u32,
                sx: sx as u32,
                sy: sy as u32,
                n_partials,
                chunk_partials: n_partials,
                partial_base: 0,
                node_base: 0,
                win_base: 0,
                map_base: 0,
                _pad0: 0,
                _pad1: 0,
            },
            win_end: n as u32,
            map_end: grid_nodes as u32,
        }]);
    }
    let mut chunks = Vec::new();
    let mut n0 = 0;
    while n0 < n {
        // The most blocks of nodes that fit (the window grows with the chunk).
        let blocks = (n - n0).div_ceil(block);
        let end = |b: usize| (n0 + b * block).min(n);
        if !fits(&chunk(n0, end(1))) {
            let c = chunk(n0, end(1));
            return Err(GpuError::TooLarge {
                name: "apply_k neighbour window",
                bytes: (12 * (c.win_end - c.params.win_base) as u64)
                    .max(4 * (c.map_end - c.params.map_base) as u64),
                limit,
                what: "max_storage_buffer_binding_size: one z-layer of grid nodes on either side of a chunk does not fit in one binding",
            });
        }
        let (mut lo, mut hi) = (1, blocks);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(&chunk(n0, end(mid))) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        chunks.push(chunk(n0, end(lo)));
        n0 = end(lo);
    }
    Ok(chunks)
}

/// Elements reduced by one workgroup of the reduction kernels.
const REDUCE_BLOCK: u32 = (mirror::REDUCE_WG * mirror::REDUCE_PER_THREAD) as u32;

/// Jacobi-PCG state of one problem on the device.
pub struct GpuPcg<'c> {
    ctx: &'c GpuContext,
    /// The whole mesh's parameters (equal to the only chunk's when the
    /// vectors fit in one binding).
    pub params: GpuParams,
    /// The chunks each per-node kernel is dispatched over.
    pub chunks: Vec<Chunk>,
    buffers: Vec<wgpu::Buffer>,
    /// Per kernel: its pipeline and one bind group per chunk (one in all
    /// for the global reductions); `None` for the multigrid kernels of a
    /// Jacobi solver.
    pipelines: Vec<Option<(wgpu::ComputePipeline, Vec<wgpu::BindGroup>)>>,
    /// Kernels recorded by `step` and not yet submitted.
    pending: Vec<Kernel>,
    reliable: Option<Reliable<'c>>,
    /// CG restarts at reliable updates (see [`RESTART_DRIFT`]).
    restarts: usize,
    /// The multigrid preconditioner, when there is one.
    multigrid: Option<multigrid::GpuMultigrid>,
}

/// Reliable updates (mixed-precision CG): the solution is accumulated in
/// f64 on the host and, whenever the f32 recursive residual has dropped by
/// [`RELIABLE_DROP`] since the last update (or reached the stop level), the
/// device's r is replaced by the true residual b − A·x computed in f64,
/// keeping the search direction p. CG then converges as in f64 while all
/// iterations run in f32 on the device.
struct Reliable<'p> {
    op: FineOperator<'p>,
    b: Vec<f64>,
    x: Vec<f64>,
    /// ‖r‖² at the last update.
    rr_last: f64,
    /// ‖r‖² at which the solver will stop.
    rr_stop: f64,
    updates: usize,
}

/// A reliable update happens when ‖r‖ has dropped by this factor.
pub const RELIABLE_DROP: f64 = 0.1;

/// CG restarts at a reliable update when the true ‖r‖ is this many times
/// the recursive one.
pub const RESTART_DRIFT: f64 = 2.0;

/// With multigrid the host reads ‖r‖ at least every this many iterations:
/// each iteration cuts ‖r‖ about twofold, and reliable updates can only
/// happen at a read.
pub const MULTIGRID_CHECK_EVERY: usize = 2;

/// Compiles entry point `entry` of kernel file `file`.
pub(crate) fn pipeline(
    ctx: &GpuContext,
    file: &str,
    entry: &str,
) -> Result<wgpu::ComputePipeline, GpuError> {
    let device = &ctx.device;
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let source = shaders::source(file).expect("every kernel file is listed");
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(file),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    });
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(GpuError::ShaderCompile {
            name: format!("{file}::{entry}"),
            message: e.to_string(),
        });
    }
    Ok(pipeline)
}

/// Reads a whole buffer back.
pub(crate) fn read_buffer<T: Pod>(
    ctx: &GpuContext,
    src: &wgpu::Buffer,
) -> Result<Vec<T>, GpuError> {
    let size = src.size();
    let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("read"),
        });
    enc.copy_buffer_to_buffer(src, 0, &staging, 0, size);
    ctx.queue.submit([enc.finish()]);
    let slice = staging.slice(..);
    let result = Arc::new(Mutex::new(None));
    let sink = result.clone();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        *sink.lock().unwrap() = Some(r)
    });
    ctx.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| GpuError::Device(e.to_string()))?;
    match result.lock().unwrap().take() {
        Some(Ok(())) => {}
        Some(Err(e)) => return Err(GpuError::Device(format!("mapping a buffer failed: {e}"))),
        None => return Err(GpuError::Device("mapping a buffer did not complete".into())),
    }
    let view = slice
        .get_mapped_range()
        .map_err(|e| GpuError::Device(format!("reading a mapped buffer failed: {e}")))?;
    let out = bytemuck::cast_slice::<u8, T>(&view).to_vec();
    drop(view);
    staging.unmap();
    ctx.check()?;
    Ok(out)
}

impl<'c> GpuPcg<'c> {
    /// Uploads the mesh, the stencils and the constraints, and builds the
    /// pipelines of Jacobi-PCG.
    pub fn new(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
    ) -> Result<GpuPcg<'c>, GpuError> {
        Self::build(ctx, mesh, table, fixed, None)
    }

    /// As [`GpuPcg::new`], preconditioned with one V-cycle of the hierarchy
    /// `mg` (built on the host for the same problem) on the device.
    pub fn with_multigrid(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
        mg: &crate::fem::multigrid::Multigrid,
    ) -> Result<GpuPcg<'c>, GpuError> {
        Self::build(ctx, mesh, table, fixed, Some(mg))
    }

    fn build(
        ctx: &'c GpuContext,
        mesh: &ActiveMesh,
        table: &StencilTable,
        fixed: &[u8],
        mg: Option<&crate::fem::multigrid::Multigrid>,
    ) -> Result<GpuPcg<'c>, GpuError> {
        let n = mesh.len() as u32;
        let n_dofs = 3 * n;
        let lim = &ctx.limits;
        let chunks = plan_chunks(
            mesh,
            lim.max_storage_buffer_binding_size,
            lim.min_storage_buffer_offset_alignment as u64,
        )?;
        if mg.is_some() && chunks.len() > 1 {
            return Err(GpuError::TooLarge {
                name: "multigrid vector",
                bytes: 12 * n as u64,
                limit: lim.max_storage_buffer_binding_size,
                what: "max_storage_buffer_binding_size: the GPU multigrid binds every vector whole; solver.preconditioner = \"jacobi\" splits vectors into chunks",
            });
        }
        let params = GpuParams {
            n_nodes: n,
            n_dofs,
            chunk_partials: chunks[0].params.n_partials,
            partial_base: 0,
            node_base: 0,
            win_base: 0,
            map_base: 0,
            ..chunks[0].params
        };
        let flags: Vec<u32> = mesh
            .pattern
            .iter()
            .zip(fixed)
            .map(|(&p, &f)| p as u32 | (f as u32) << 8)
            .collect();
        let stencil: Vec<f32> = table.blocks.iter().flatten().map(|&v| v as f32).collect();
        let vec_bytes = 4 * n_dofs as u64;
        let sizes: [(Slot, &'static str, u64); 13] = [
            (Slot::Nodes, "active node ids", 4 * n as u64),
            (Slot::Flags, "node flags", 4 * n as u64),
            (
                Slot::NodeMap,
                "grid node map",
                4 * mesh.node_map.len() as u64,
            ),
            (Slot::Stencil, "stencil table", 4 * stencil.len() as u64),
            (Slot::Neighbours, "stencil neighbours", 4 * 256),
            (Slot::X, "x", vec_bytes),
            (Slot::R, "r", vec_bytes),
            (Slot::P, "p", vec_bytes),
            (Slot::Q, "q", vec_bytes),
            (Slot::InvDiag, "inverse diagonal", vec_bytes),
            (Slot::Partials, "partial sums", 8 * params.n_partials as u64),
            (Slot::Scalars, "CG scalars", 4 * mirror::SCALARS as u64),
            (Slot::Z, "z", if mg.is_some() { vec_bytes } else { 4 }),
        ];
        for &(slot, name, bytes) in &sizes {
            // Per-node buffers are bound in chunks; the others whole.
            let chunked = matches!(
                slot,
                Slot::Nodes
                    | Slot::Flags
                    | Slot::NodeMap
                    | Slot::X
                    | Slot::R
                    | Slot::P
                    | Slot::Q
                    | Slot::InvDiag
                    | Slot::Z
            );
            if !chunked && bytes > lim.max_storage_buffer_binding_size {
                return Err(GpuError::TooLarge {
                    name,
                    bytes,
                    limit: lim.max_storage_buffer_binding_size,
                    what: "max_storage_buffer_binding_size",
                });
            }
            if bytes > lim.max_buffer_size {
                return Err(GpuError::TooLarge {
                    name,
                    bytes,
                    limit: lim.max_buffer_size,
                    what: "max_buffer_size",
                });
            }
        }
        let total: u64 = sizes.iter().map(|s| s.2).sum();
        let device = &ctx.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let init = |name: &str, bytes: &[u8]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytes,
                usage,
            })
        };
        let mut buffers = Vec::with_capacity(12);
        for &(slot, name, bytes) in &sizes {
            let b = match slot {
                Slot::Nodes => init(name, bytemuck::cast_slice(&mesh.nodes)),
                Slot::Flags => init(name, bytemuck::cast_slice(&flags)),
                Slot::NodeMap => init(name, bytemuck::cast_slice(&mesh.node_map)),
                Slot::Stencil => init(name, bytemuck::cast_slice(&stencil)),
                Slot::Neighbours => init(name, bytemuck::cast_slice(&table.neighbours)),
                _ => device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(name),
                    size: bytes.max(4),
                    usage,
                    mapped_at_creation: false,
                }),
            };
            buffers.push(b);
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                bytes: total,
                message: e.to_string(),
            });
        }
        let uniforms: Vec<wgpu::Buffer> = chunks
            .iter()
            .map(|c| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: bytemuck::bytes_of(&c.params),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
            })
            .collect();
        let mut pipelines = Vec::new();
        for kernel in KERNEL_LIST {
            if kernel.is_multigrid() && mg.is_none() {
                pipelines.push(None);
                continue;
            }
            let (file, entry, slots) = kernel.spec();
            let pipeline = pipeline(ctx, file, entry)?;
            let layout = pipeline.get_bind_group_layout(0);
            let used = if kernel.is_global() { 1 } else { chunks.len() };
            let groups = chunks[..used]
                .iter()
                .zip(&uniforms)
                .map(|(chunk, uniform)| {
                    let p = &chunk.params;
                    let mut entries = vec![wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniform.as_entire_binding(),
                    }];
                    for (k, &(slot, view)) in slots.iter().enumerate() {
                        let idx = SLOTS.iter().position(|s| *s == slot).unwrap();
                        let buffer = &buffers[idx];
                        let (offset, size) = match (view, slot) {
                            (View::Whole, _) => (0, buffer.size()),
                            (View::Own(b), _) => (b * p.node_base as u64, b * p.n_nodes as u64),
                            (View::Window(b), Slot::NodeMap) => (
                                b * p.map_base as u64,
                                b * (chunk.map_end - p.map_base) as u64,
                            ),
                            (View::Window(b), _) => (
                                b * p.win_base as u64,
                                b * (chunk.win_end - p.win_base) as u64,
                            ),
                        };
                        entries.push(wgpu::BindGroupEntry {
                            binding: k as u32 + 1,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer,
                                offset,
                                // An empty range still binds 4 bytes.
                                size: wgpu::BufferSize::new(size.max(4)),
                            }),
                        });
                    }
                    device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some(entry),
                        layout: &layout,
                        entries: &entries,
                    })
                })
                .collect();
            pipelines.push(Some((pipeline, groups)));
        }
        ctx.check()?;
        let mut gpu = GpuPcg {
            ctx,
            params,
            chunks,
            buffers,
            pipelines,
            pending: Vec::new(),
            reliable: None,
            restarts: 0,
            multigrid: None,
        };
        gpu.run(&[Kernel::JacobiDiag])?;
        if let Some(mg) = mg {
            let apply_k = &gpu.kernel(Kernel::ApplyK).0;
            let fine = multigrid::FineBuffers {
                params: &uniforms[0],
                nodes: gpu.buffer(Slot::Nodes),
                flags: gpu.buffer(Slot::Flags),
                node_map: gpu.buffer(Slot::NodeMap),
                stencil: gpu.buffer(Slot::Stencil),
                neighbours: gpu.buffer(Slot::Neighbours),
                apply_k,
                r: gpu.buffer(Slot::R),
                z: gpu.buffer(Slot::Z),
            };
            let device_mg = multigrid::GpuMultigrid::new(ctx, mg, &fine)?;
            gpu.multigrid = Some(device_mg);
        }
        Ok(gpu)
    }

    /// The pipeline and bind groups of `kernel`.
    fn kernel(&self, kernel: Kernel) -> &(wgpu::ComputePipeline, Vec<wgpu::BindGroup>) {
        self.pipelines[KERNEL_LIST
            .iter()
            .position(|x| *x == kernel)
            .expect("a kernel")]
        .as_ref()
        .expect("the kernel is built for this preconditioner")
    }

    /// The device multigrid, when the solver has one.
    pub fn multigrid(&self) -> Option<&multigrid::GpuMultigrid> {
        self.multigrid.as_ref()
    }

    /// Runs dispatches `range` of the V-cycle alone (tests).
    pub fn run_multigrid_ops(&self, range: std::ops::Range<usize>) -> Result<(), GpuError> {
        let mg = self.multigrid.as_ref().expect("a multigrid solver");
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe multigrid"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("multigrid"),
                timestamp_writes: None,
            });
            mg.encode(self.ctx, &mut pass, range);
        }
        self.ctx.queue.submit([enc.finish()]);
        self.ctx.check()
    }

    fn buffer(&self, slot: Slot) -> &wgpu::Buffer {
        &self.buffers[SLOTS.iter().position(|s| *s == slot).unwrap()]
    }

    /// Workgroups of a kernel's dispatch over the chunk with parameters `p`.
    fn groups(kernel: Kernel, p: &GpuParams) -> u32 {
        match kernel {
            Kernel::ApplyK | Kernel::JacobiDiag => p.n_nodes.div_ceil(64),
            Kernel::DotPartial | Kernel::UpdateXr | Kernel::DotPair => p.chunk_partials,
            Kernel::ReduceAlpha | Kernel::ReduceBeta | Kernel::ReduceStart | Kernel::VCycle => 1,
            Kernel::UpdateP | Kernel::UpdatePz => p.n_dofs.div_ceil(256),
        }
    }

    /// Encodes `kernels` in order in one compute pass and submits them.
    pub fn run(&self, kernels: &[Kernel]) -> Result<(), GpuError> {
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("voxfe"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("pcg"),
                timestamp_writes: None,
            });
            for &k in kernels {
                if k == Kernel::VCycle {
                    let mg = self.multigrid.as_ref().expect("a multigrid solver");
                    mg.encode(self.ctx, &mut pass, 0..mg.ops.len());
                    continue;
                }
                let (pipeline, groups) = self.kernel(k);
                pass.set_pipeline(pipeline);
                for (group, chunk) in groups.iter().zip(&self.chunks) {
                    pass.set_bind_group(0, group, &[]);
                    let (gx, gy) = self.ctx.dispatch_size(Self::groups(k, &chunk.params));
                    pass.dispatch_workgroups(gx, gy, 1);
                }
            }
        }
        self.ctx.queue.submit([enc.finish()]);
        self.ctx.check()
    }

    /// Writes f32 (or u32, as bits) data into a buffer.
    pub fn write<T: Pod>(&self, slot: Slot, data: &[T]) {
        self.ctx
            .queue
            .write_buffer(self.buffer(slot), 0, bytemuck::cast_slice(data));
    }

    /// Reads a whole buffer back.
    pub fn read<T: Pod>(&self, slot: Slot) -> Result<Vec<T>, GpuError> {
        read_buffer(self.ctx, self.buffer(slot))
    }

    /// Sets the right-hand side (r = b) for the next [`PcgBackend::start`].
    pub fn set_rhs(&self, b: &[f64]) {
        let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        self.write(Slot::R, &b32);
    }
}

/// The kernels of one PCG iteration.
const ITERATION: [Kernel; 6] = [
    Kernel::ApplyK,
    Kernel::DotPartial,
    Kernel::ReduceAlpha,
    Kernel::UpdateXr,
    Kernel::ReduceBeta,
    Kernel::UpdateP,
];

/// The kernels of one multigrid-preconditioned iteration: `update_xr`'s
/// partial sums are replaced by `dot_pair`'s (r·z, r·r) after the V-cycle.
const ITERATION_MG: [Kernel; 8] = [
    Kernel::ApplyK,
    Kernel::DotPartial,
    Kernel::ReduceAlpha,
    Kernel::UpdateXr,
    Kernel::VCycle,
    Kernel::DotPair,
    Kernel::ReduceBeta,
    Kernel::UpdatePz,
];

impl<'c> GpuPcg<'c> {
    /// Submits the recorded iterations.
    fn flush(&mut self) -> Result<(), GpuError> {
        if !self.pending.is_empty() {
            let k = std::mem::take(&mut self.pending);
            self.run(&k)?;
        }
        Ok(())
    }

    /// Turns on reliable updates against the f64 operator `op` and
    /// right-hand side `b`; the solver stops at ‖r‖ ≤ `tolerance`·‖b‖.
    pub fn enable_reliable_updates(&mut self, op: FineOperator<'c>, b: Vec<f64>, tolerance: f64) {
        let bb = crate::fem::vector::norm_sq(&b);
        self.set_rhs(&b);
        self.reliable = Some(Reliable {
            op,
            x: vec![0.0; b.len()],
            b,
            rr_last: bb,
            rr_stop: tolerance * tolerance * bb,
            updates: 0,
        });
    }

    /// Number of reliable updates so far.
    pub fn reliable_updates(&self) -> usize {
        self.reliable.as_ref().map_or(0, |r| r.updates)
    }

    /// Number of CG restarts at reliable updates so far.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// x_f64 += x_f32, x_f32 = 0, r = b − A x_f64; returns the true ‖r‖².
    /// `rr_device` is the recursive ‖r‖² the device had reached: when the
    /// true residual is more than [`RESTART_DRIFT`] times larger, the kept
    /// search direction no longer fits the residual and CG restarts (p = z).
    fn reliable_update(&mut self, rr_device: f64) -> Result<f64, GpuError> {
        let x32: Vec<f32> = self.read(Slot::X)?;
        let n = x32.len();
        let rel = self.reliable.as_mut().expect("reliable updates are on");
        for (x, d) in rel.x.iter_mut().zip(&x32) {
            *x += *d as f64;
        }
        // The true residual as the stop rule and the result compute it.
        let (r, rr) = crate::fem::vector::residual(&rel.op, &rel.b, &rel.x);
        rel.rr_last = rr;
        rel.updates += 1;
        self.write(Slot::X, &vec![0.0f32; n]);
        self.set_rhs(&r);
        // Recompute ρ = r·M⁻¹r and ‖r‖² for the new r; p is kept unless
        // the recursive residual had drifted from the true one.
        let restart = rr > RESTART_DRIFT * RESTART_DRIFT * rr_device;
        if restart {
            self.restarts += 1;
        }
        let mut kernels = if self.multigrid.is_some() {
            vec![Kernel::VCycle, Kernel::DotPair, Kernel::ReduceStart]
        } else {
            // With α = 0 update_xr only sums r·D⁻¹r and r·r.
            self.ctx.queue.write_buffer(
                self.buffer(Slot::Scalars),
                (4 * mirror::ALPHA) as u64,
                bytemuck::bytes_of(&0.0f32),
            );
            vec![Kernel::UpdateXr, Kernel::ReduceStart]
        };
        if restart {
            // β = 0 after reduce_start: p = M⁻¹r.
            kernels.push(if self.multigrid.is_some() {
                Kernel::UpdatePz
            } else {
                Kernel::UpdateP
            });
        }
        self.run(&kernels)?;
        Ok(rr)
    }

    /// The solution: the f64 accumulation plus the device's f32 part.
    pub fn solution(&mut self) -> Result<Vec<f64>, GpuError> {
        self.flush()?;
        let x32: Vec<f32> = self.read(Slot::X)?;
        Ok(match &self.reliable {
            Some(rel) => rel.x.iter().zip(&x32).map(|(x, d)| x + *d as f64).collect(),
            None => x32.iter().map(|&v| v as f64).collect(),
        })
    }
}

impl PcgBackend for GpuPcg<'_> {
    type Error = GpuError;

    fn start(&mut self) -> Result<f64, GpuError> {
        self.pending.clear();
        let zeros = vec![0.0f32; self.params.n_dofs as usize];
        self.write(Slot::X, &zeros);
        self.write(Slot::Scalars, &[0.0f32; mirror::SCALARS]);
        if self.multigrid.is_some() {
            // z = M⁻¹ r, ρ = r·z, p = z.
            self.run(&[
                Kernel::VCycle,
                Kernel::DotPair,
                Kernel::ReduceStart,
                Kernel::UpdatePz,
            ])?;
        } else {
            // α = 0: update_xr leaves x and r alone and sums r·D⁻¹r and r·r.
            self.run(&[Kernel::UpdateXr, Kernel::ReduceStart, Kernel::UpdateP])?;
        }
        let s: Vec<f32> = self.read(Slot::Scalars)?;
        Ok(match &self.reliable {
            Some(rel) => rel.rr_last,
            None => s[mirror::RR] as f64,
        })
    }

    fn step(&mut self) -> Result<(), GpuError> {
        if self.multigrid.is_some() {
            self.pending.extend_from_slice(&ITERATION_MG);
        } else {
            self.pending.extend_from_slice(&ITERATION);
        }
        // Submit in batches: one submission per iteration costs more than
        // the kernels on small grids.
        if self.pending.len() >= 16 * ITERATION.len() {
            self.flush()?;
        }
        Ok(())
    }

    fn residual_norm_sq(&mut self) -> Result<f64, GpuError> {
        self.flush()?;
        let s: Vec<f32> = self.read(Slot::Scalars)?;
        if s[mirror::BREAKDOWN] != 0.0 {
            return Err(PcgError::Breakdown {
                iteration: 0,
                pq: s[mirror::PQ] as f64,
            }
            .into());
        }
        let rr = s[mirror::RR] as f64;
        let due = match &self.reliable {
            Some(rel) => rr <= RELIABLE_DROP * RELIABLE_DROP * rel.rr_last || rr <= rel.rr_stop,
            None => false,
        };
        if due {
            return self.reliable_update(rr);
        }
        Ok(rr)
    }

    /// With multigrid at least every [`MULTIGRID_CHECK_EVERY`] iterations:
    /// reliable updates happen only at a read.
    fn check_every(&self, requested: usize) -> usize {
        if self.multigrid.is_some() {
            requested.min(MULTIGRID_CHECK_EVERY)
        } else {
            requested
        }
    }
}

/// Solves `load` on `grid` on the GPU of `ctx`.
pub fn solve_gpu(
    ctx: &GpuContext,
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
) -> Result<SolveResult, GpuError> {
    let start = Instant::now();
    let problem = Problem::new(grid, material, load)?;
    let b = problem.rhs();
    let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed[..]);
    let mut gpu = match opts.preconditioner {
        Preconditioner::Jacobi => GpuPcg::new(ctx, mesh, table, fixed)?,
        Preconditioner::Multigrid => {
            let mg = crate::fem::multigrid::Multigrid::new(mesh, table, fixed)
                .map_err(SolveError::from)?;
            GpuPcg::with_multigrid(ctx, mesh, table, fixed, &mg)?
        }
    };
    let hierarchy = gpu.multigrid().map(|m| (m.nodes.clone(), m.bytes));
    gpu.enable_reliable_updates(problem.operator(), b, opts.tolerance);
    let stats = pcg(&mut gpu, opts)?;
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
