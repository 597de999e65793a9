//! The ABI shared with the WGSL: every uniform and storage struct, the
//! scalar slots, the workgroup sizes and the sentinels that the host, the
//! kernels (`shaders/`) and their CPU mirrors ([`super::mirror`]) agree on.
//! Each is kept in sync with its WGSL twin, named in its doc, and checked
//! against it: the constants and the workgroup sizes by naga in
//! `gpu::wgsl_checks`, the structs' sizes in `tests/gpu.rs` and
//! `tests/gpu_galerkin.rs` and, as each uniform binding's size, in
//! `gpu::wgsl_checks`.

use bytemuck::{Pod, Zeroable};

/// Scalar slots of the device-side CG scalars buffer. Kept in sync with
/// `shaders/shared/params.wgsl` (`gpu::wgsl_checks` compares every
/// constant here with its WGSL twin).
pub const RHO: usize = 0;
pub const PQ: usize = 1;
pub const ALPHA: usize = 2;
pub const BETA: usize = 3;
pub const RR: usize = 4;
pub const RHO_NEW: usize = 5;
pub const BREAKDOWN: usize = 6;
/// Number of scalar slots.
pub const SCALARS: usize = 8;

/// Threads of a reduction workgroup and elements per thread. Kept in sync
/// with `shaders/shared/params.wgsl` (a test compares).
pub const REDUCE_WG: usize = 256;
pub const REDUCE_PER_THREAD: usize = 4;

/// Elements reduced by one workgroup of the reduction kernels,
/// `REDUCE_WG * REDUCE_PER_THREAD` as in `shaders/shared/params.wgsl` (from
/// the two constants a test compares).
pub const REDUCE_BLOCK: u32 = (REDUCE_WG * REDUCE_PER_THREAD) as u32;

/// Threads per workgroup of the per-node kernels (`apply_k`,
/// `jacobi_diag`, every multigrid kernel and the reliable-update
/// `residual`): one thread per node. Kept in sync with `WG_NODES` in
/// `shaders/shared/params.wgsl` (a test compares).
pub const WG_NODES: u32 = 64;

/// Threads per workgroup of the per-dof kernels (`update_p`, `update_pz`,
/// the reliable-update `accumulate`): one thread per dof. Kept in sync
/// with `WG_DOFS` in `shaders/shared/params.wgsl` (a test compares).
pub const WG_DOFS: u32 = 256;

/// Threads per workgroup of the reductions (`dot_partial`, `dot_pair`,
/// `update_xr`, `reduce_*`): [`REDUCE_WG`], kept in sync with `REDUCE_WG`
/// in `shaders/shared/params.wgsl` (a test compares).
pub const WG_REDUCE: u32 = REDUCE_WG as u32;

/// "No node" in neighbour tables and node maps. Kept in sync with `NO_NODE`
/// in `shaders/shared/mg_params.wgsl` (a test compares).
pub const NO_NODE: u32 = u32::MAX;

/// Uniform parameters of every PCG kernel (binding 0) and of the
/// reliable-update kernels: the chunk's node and partial-sum ranges and
/// the grid size. Kept in sync with `Params` in
/// `shaders/shared/params.wgsl` (a test compares the sizes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuParams {
    /// Active nodes of the chunk (the whole mesh in [`GpuPcg::params`](super::GpuPcg::params)).
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
    /// 1 with sub-voxel fill (`apply_k` and `jacobi_diag` scale each
    /// voxel's element by φ from the phi binding), 0 with binary fill.
    pub fill: u32,
    /// Always 0 (`shaders/reliable_ds.wgsl` reads it as an opaque zero).
    pub _pad1: u32,
}

/// Uniform parameters of the multigrid kernels. Kept in sync with
/// `MgParams` in `shaders/shared/mg_params.wgsl` (a test compares sizes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct MgParams {
    /// Nodes the dispatch runs over (rows of the dense inverse for
    /// `coarse_solve`).
    pub n: u32,
    /// `chebyshev`: 0 from zero (r = b, x = d), 1 first step (r = b − q,
    /// x += d), 2 next step (r −= q, x += d).
    pub mode: u32,
    /// `chebyshev`: d = c1·d + c2·D⁻¹r.
    pub c1: f32,
    pub c2: f32,
    /// Node grid size of the fine level of a transfer.
    pub fsx: u32,
    pub fsy: u32,
    pub fsz: u32,
    /// Node grid size of the coarse level of a transfer.
    pub csx: u32,
    pub csy: u32,
    pub csz: u32,
    /// Transfers: 1 when the node grids wrap (periodic homogenization).
    pub periodic: u32,
    /// Split bindings ([`super::plan`]): the dispatch's first node
    /// (its own bindings start there; the coarse solve's first row), the
    /// first node and grid id of the window neighbours are read through;
    /// 0 when a level is one chunk.
    pub node_base: u32,
    pub win_base: u32,
    pub map_base: u32,
    /// `coarse_solve`: the columns of the inverse.
    pub cols: u32,
    pub _pad1: u32,
}

/// Uniform parameters of the hierarchy kernels. Kept in sync with
/// `GalerkinParams` in `shaders/shared/mg_galerkin_params.wgsl` (a test
/// compares sizes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct GalerkinParams {
    /// Threads: coarse nodes, or the nodes whose diagonal is inverted.
    pub n: u32,
    /// 1: sub-voxel fill (φ per voxel); 0: binary fill.
    pub fill: u32,
    /// Node grid size of the fine level.
    pub fsx: u32,
    pub fsy: u32,
    pub fsz: u32,
    /// Node grid size of the coarse level.
    pub csx: u32,
    pub csy: u32,
    pub csz: u32,
    /// `*_inverse_diagonal`: the entry of `singular` for this level.
    pub slot: u32,
    /// Split bindings ([`super::plan`]): the dispatch's first node, the
    /// first active node and grid id of the finer level's window, the first
    /// grid id of the coarse node map's window; 0 for one chunk.
    pub node_base: u32,
    pub fine_win_base: u32,
    pub fine_map_base: u32,
    pub coarse_map_base: u32,
    pub _pad1: u32,
    pub _pad2: u32,
    pub _pad3: u32,
}

/// A double-single number: the unevaluated sum `hi + lo` of two f32 with
/// |lo| ≤ ulp(hi)/2, the element of the reliable-update buffers (x_hi, b,
/// the stencil and element tables) without `SHADER_F64`. Kept in sync with
/// `Hi = vec2<f32>` in `shaders/reliable_ds.wgsl` (a test compares its size
/// with the WGSL's array stride); its arithmetic is mirrored in
/// `mirror/reliable_ds.rs`. About 44
/// significant bits, a relative rounding error near 2⁻⁴⁴ ≈ 6·10⁻¹⁴ per
/// operation.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct Ds {
    pub hi: f32,
    pub lo: f32,
}

impl Ds {
    /// The nearest double-single to an f64 (what the host uploads).
    pub fn from_f64(v: f64) -> Ds {
        let hi = v as f32;
        Ds {
            hi,
            lo: (v - hi as f64) as f32,
        }
    }

    /// The value as f64 (what the host reads back).
    pub fn value(self) -> f64 {
        self.hi as f64 + self.lo as f64
    }
}

/// Uniform parameters of the plastic kernels (`plastic_update.wgsl`,
/// `plastic_tangent.wgsl`). Kept in sync with `PlasticParams` in
/// `shaders/shared/plastic_params.wgsl` (`gpu::wgsl_checks` compares the
/// uniform binding's size).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct PlasticParams {
    /// Solid voxels (bricks).
    pub n_bricks: u32,
    /// Active nodes.
    pub n_nodes: u32,
    /// 1: mean dilatation (B̄); 0: the plain B.
    pub mean_dilatation: u32,
    pub _pad: u32,
}

/// Where the shape-function gradients start in the plastic kernels'
/// `constants` (`GRADS` in `shaders/shared/plastic_params.wgsl`; a test
/// compares): ∇N_a at Gauss point g, component i, is at
/// `PLASTIC_GRADS + 24 g + 3 a + i`.
pub const PLASTIC_GRADS: usize = 8;
