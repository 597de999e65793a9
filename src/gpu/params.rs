//! [`GpuParams`], the uniform every PCG kernel reads at binding 0: the
//! chunk's node and partial-sum ranges and the grid size. Kept in sync with
//! `Params` in `shaders/shared/params.wgsl`.

use bytemuck::{Pod, Zeroable};

/// Uniform parameters of every kernel. Kept in sync with `Params` in
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
