//! The multigrid kernel tables: the V-cycle's kernels ([`MgKernel`], the
//! vectors of a level [`MgVec`], one dispatch [`MgOp`]) with their WGSL
//! file, entry point and bindings (`PIPELINES`, `layout`), and the
//! kernels that build the hierarchy on the device ([`GalerkinKernel`],
//! `GALERKIN_PIPELINES`, `galerkin_layout`). Every one runs
//! [`WG_NODES`] threads a workgroup; binding 0 is the uniform
//! [`MgParams`] or [`GalerkinParams`]. `gpu::wgsl_checks` compares the
//! tables with the WGSL.

#[cfg(doc)]
use super::abi::WG_NODES;
use super::abi::{GalerkinParams, MgParams};
use super::kernels::{storage_entry, uniform_entry, Access};

/// The multigrid kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MgKernel {
    /// `apply_k` on the finest level: q = A x or A d.
    FineApply,
    /// `mg_apply` on a stored level: q = A x or A d.
    Apply,
    Chebyshev,
    Residual,
    /// From this level to the next coarser.
    Restrict,
    /// From the next coarser level to this one.
    Prolong,
    CoarseSolve,
}

/// The vectors of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MgVec {
    /// Right-hand side (the finest: the CG's r).
    B,
    /// Solution (the finest: the CG's z).
    X,
    R,
    D,
    Q,
}

/// Every vector of a level.
pub const VECS: [MgVec; 5] = [MgVec::B, MgVec::X, MgVec::R, MgVec::D, MgVec::Q];

/// One dispatch of the V-cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MgOp {
    pub kernel: MgKernel,
    pub level: usize,
    pub params: MgParams,
    /// `FineApply`/`Apply`: the vector applied to (X or D).
    pub input: MgVec,
    /// The chunk of the level the threads run over (the fine level's
    /// chunks are the CG's; the coarse solve's are rows of the inverse).
    pub chunk: usize,
}

/// Bindings 1.. of a multigrid kernel: (binding index, how it is used).
pub(crate) type MgBindings = &'static [(u32, Access)];

/// The multigrid kernels' table: the kernel, its WGSL file and entry
/// point, and its bindings 1.. (binding index, how the kernel uses it);
/// binding 0 is the uniform [`MgParams`]. Every one runs [`WG_NODES`]
/// threads a workgroup, one per node (per row for `coarse_solve`).
pub(crate) const PIPELINES: [(MgKernel, &str, &str, MgBindings); 6] = {
    use Access::*;
    [
        (
            MgKernel::Apply,
            "mg_apply.wgsl",
            "mg_apply",
            &[
                (1, Read),      // blocks: 27 row-major 3×3 blocks per node
                (2, Read),      // nbrs: the node of each block (NO_NODE: none)
                (3, Read),      // x
                (4, ReadWrite), // y = A_l x
            ],
        ),
        (
            MgKernel::Chebyshev,
            "mg_smooth.wgsl",
            "chebyshev",
            &[
                (1, Read),      // b
                (2, Read),      // q = A x or A d
                (3, Read),      // inv_diag: inverse 3×3 diagonal blocks
                (4, ReadWrite), // r
                (5, ReadWrite), // d
                (6, ReadWrite), // x
            ],
        ),
        (
            MgKernel::Residual,
            "mg_smooth.wgsl",
            "residual",
            &[
                (1, Read),      // b
                (2, Read),      // q = A x
                (4, ReadWrite), // r = b − q
            ],
        ),
        (
            MgKernel::Restrict,
            "mg_transfer.wgsl",
            "restrict_residual",
            &[
                (1, Read),      // ids: coarse grid ids
                (2, Read),      // map: the fine node map
                (3, Read),      // src: the fine residual
                (4, ReadWrite), // dst: the coarse right-hand side
            ],
        ),
        (
            MgKernel::Prolong,
            "mg_transfer.wgsl",
            "prolong_add",
            &[
                (1, Read),      // ids: fine grid ids
                (2, Read),      // map: the coarse node map
                (3, Read),      // src: the coarse correction
                (4, ReadWrite), // dst: the fine x, added to
            ],
        ),
        (
            MgKernel::CoarseSolve,
            "mg_coarse.wgsl",
            "coarse_solve",
            &[
                (1, Read),      // inverse: the coarsest A⁻¹, row-major
                (2, Read),      // b
                (3, ReadWrite), // x = A⁻¹ b
            ],
        ),
    ]
};

/// The bind-group layout of a multigrid kernel with `bindings` (a row of
/// [`PIPELINES`]): the uniform [`MgParams`], then storage buffers of at
/// least one element.
pub(crate) fn layout(bindings: &[(u32, Access)]) -> Vec<wgpu::BindGroupLayoutEntry> {
    std::iter::once(uniform_entry(std::mem::size_of::<MgParams>() as u64))
        .chain(bindings.iter().map(|&(b, a)| storage_entry(b, a, 4)))
        .collect()
}

/// The hierarchy kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GalerkinKernel {
    /// The first coarse level from the fine voxels.
    Fine,
    /// A deeper level from the stencils of the one above.
    Stencil,
    /// Inverse diagonal blocks of the fine level.
    FineInverseDiagonal,
    /// Inverse diagonal blocks of a stored level.
    StencilInverseDiagonal,
}

/// The hierarchy kernels' table: kernel, WGSL file, entry point and its
/// bindings 1.. (binding 0 is the uniform [`GalerkinParams`]); one thread
/// a node, [`WG_NODES`] a workgroup.
pub(crate) const GALERKIN_PIPELINES: [(GalerkinKernel, &str, &str, MgBindings); 4] = {
    use Access::*;
    [
        (
            GalerkinKernel::Fine,
            "mg_galerkin_fine.wgsl",
            "galerkin_fine",
            &[
                (1, Read),      // coarse ids
                (2, Read),      // coarse map
                (3, Read),      // fine node map
                (4, Read),      // fine flags: pattern | fixed << 8
                (5, Read),      // phi: corner fractions
                (6, Read),      // element blocks
                (7, ReadWrite), // blocks: 27 per coarse node
                (8, ReadWrite), // nbrs
                (9, Read),      // weighted element blocks (`weighted_element`)
            ],
        ),
        (
            GalerkinKernel::Stencil,
            "mg_galerkin_stencil.wgsl",
            "galerkin_stencil",
            &[
                (1, Read),      // coarse ids
                (2, Read),      // coarse map
                (3, Read),      // fine map
                (4, Read),      // fine blocks
                (5, Read),      // fine nbrs
                (7, ReadWrite), // blocks
                (8, ReadWrite), // nbrs
            ],
        ),
        (
            GalerkinKernel::FineInverseDiagonal,
            "mg_galerkin_diag.wgsl",
            "fine_inverse_diagonal",
            &[
                (1, Read),      // flags
                (2, Read),      // phi
                (3, Read),      // element blocks
                (5, ReadWrite), // inverse diagonal blocks
                (6, ReadWrite), // singular: the least singular node per level
            ],
        ),
        (
            GalerkinKernel::StencilInverseDiagonal,
            "mg_galerkin_diag.wgsl",
            "stencil_inverse_diagonal",
            &[
                (4, Read),      // the level's blocks
                (5, ReadWrite), // inverse diagonal blocks
                (6, ReadWrite), // singular
            ],
        ),
    ]
};

/// The bind-group layout of a hierarchy kernel with `bindings`.
pub(crate) fn galerkin_layout(bindings: &[(u32, Access)]) -> Vec<wgpu::BindGroupLayoutEntry> {
    std::iter::once(uniform_entry(std::mem::size_of::<GalerkinParams>() as u64))
        .chain(bindings.iter().map(|&(b, a)| storage_entry(b, a, 4)))
        .collect()
}
