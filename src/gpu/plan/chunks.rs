//! Chunk planning of the CG's per-node buffers: [`plan_chunks`] splits
//! the active nodes into [`Chunk`]s whose bindings fit
//! `max_storage_buffer_binding_size`, each starting at a multiple of
//! [`REDUCE_BLOCK`] nodes; `split`, the search both this and the
//! multigrid's level chunks (`levels.rs`) use; `Chunk::range`, the bytes
//! of a buffer one chunk binds.

use crate::fem::mesh::ActiveMesh;
use crate::gpu::abi::{GpuParams, REDUCE_BLOCK};
use crate::gpu::error::GpuError;
use crate::gpu::kernels::{Slot, View};

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

/// Splits the active nodes into chunks whose bindings all fit in `limit`
/// bytes, with binding offsets that are multiples of `align` bytes.
///
/// Chunks start at multiples of [`REDUCE_BLOCK`] nodes (so that a chunk's
/// partial sums are whole workgroups) and are as long as the limit allows:
/// 12 B per node for the chunk's vectors (and 32 B of corner fractions with
/// sub-voxel fill), 12 B per node of its neighbour
/// window (the chunk plus the active nodes of one z-layer of grid nodes on
/// either side) and 4 B per grid id of its node-map window.
pub fn plan_chunks(mesh: &ActiveMesh, limit: u64, align: u64) -> Result<Vec<Chunk>, GpuError> {
    plan_chunks_with(mesh, limit, align, 12)
}

/// As [`plan_chunks`], with `own_bytes` bytes per node in the largest of
/// the chunk's own bindings (at least the 12 B of a vector; 36 B of
/// inverse diagonal blocks under multigrid).
pub(crate) fn plan_chunks_with(
    mesh: &ActiveMesh,
    limit: u64,
    align: u64,
    own_bytes: u64,
) -> Result<Vec<Chunk>, GpuError> {
    let n = mesh.len();
    let [sx, sy, _] = mesh.node_grid().map(|s| s as u64);
    let grid_nodes = mesh.node_map.len() as u64;
    let reach = sx * sy + sx + 1;
    // Bases in elements of 4 bytes that keep 4 B and 12 B offsets aligned.
    let step = (align / 4).max(1);
    let n_partials = (3 * n as u64).div_ceil(REDUCE_BLOCK as u64) as u32;
    let block = REDUCE_BLOCK as usize;
    let fill = mesh.has_fractions() as u32;
    // The largest own binding: a vector, the corner fractions (sub-voxel
    // fill: 8 f32 per node) or `own_bytes`.
    let own = own_bytes.max(32 * fill as u64).max(12);
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
                fill,
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
            && own * p.n_nodes as u64 <= limit
    };
    // Everything fits: one chunk, bound whole.
    if 12 * n as u64 <= limit && 4 * grid_nodes <= limit && own * n as u64 <= limit {
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
                fill,
                _pad1: 0,
            },
            win_end: n as u32,
            map_end: grid_nodes as u32,
        }]);
    }
    if mesh.periodic {
        // A wrapped neighbour lies anywhere in the active numbering, so a
        // chunk's window would be the whole mesh.
        return Err(GpuError::TooLarge {
            name: "periodic mesh vectors",
            bytes: (12 * n as u64).max(4 * grid_nodes).max(own * n as u64),
            limit,
            what: "max_storage_buffer_binding_size: a periodic cell's vectors are bound whole (its wrapped neighbours defeat chunking); use a coarser voxel.size or the CPU backend",
        });
    }
    let ranges = split(n, block, |n0, n1| fits(&chunk(n0, n1))).map_err(|n0| {
        let c = chunk(n0, (n0 + block).min(n));
        GpuError::TooLarge {
            name: "apply_k neighbour window",
            bytes: (12 * (c.win_end - c.params.win_base) as u64)
                .max(4 * (c.map_end - c.params.map_base) as u64),
            limit,
            what: "max_storage_buffer_binding_size: one z-layer of grid nodes on either side of a chunk does not fit in one binding",
        }
    })?;
    Ok(ranges.into_iter().map(|(n0, n1)| chunk(n0, n1)).collect())
}

/// Splits the nodes `0..n` into consecutive ranges that start at multiples
/// of `block`, each the longest that `fits` (whose bindings grow with the
/// range); `Err(start)` when not even one block from `start` fits.
pub(super) fn split(
    n: usize,
    block: usize,
    fits: impl Fn(usize, usize) -> bool,
) -> Result<Vec<(usize, usize)>, usize> {
    let mut out = Vec::new();
    let mut n0 = 0;
    while n0 < n {
        let blocks = (n - n0).div_ceil(block);
        let end = |b: usize| (n0 + b * block).min(n);
        if !fits(n0, end(1)) {
            return Err(n0);
        }
        let (mut lo, mut hi) = (1, blocks);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(n0, end(mid)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        out.push((n0, end(lo)));
        n0 = end(lo);
    }
    Ok(out)
}

impl Chunk {
    /// The byte range (offset, size) of a buffer of `buffer_size` bytes
    /// that a kernel binds for this chunk as `view` of `slot` (`None`: a
    /// buffer that is not one of the problem's slots, bound by node).
    pub(crate) fn range(&self, view: View, slot: Option<Slot>, buffer_size: u64) -> (u64, u64) {
        let p = &self.params;
        match (view, slot) {
            (View::Whole, _) => (0, buffer_size),
            // Binary fill: the unused 32 bytes, whole.
            (View::Own(_), Some(Slot::Phi)) if p.fill == 0 => (0, buffer_size),
            (View::Own(b), _) => (b * p.node_base as u64, b * p.n_nodes as u64),
            (View::Window(b), Some(Slot::NodeMap)) => (
                b * p.map_base as u64,
                b * (self.map_end - p.map_base) as u64,
            ),
            (View::Window(b), _) => (
                b * p.win_base as u64,
                b * (self.win_end - p.win_base) as u64,
            ),
        }
    }

    /// The binding of [`Chunk::range`] of `buffer` (an empty range still
    /// binds 4 bytes, the least a binding may be).
    pub(crate) fn binding<'a>(
        &self,
        buffer: &'a wgpu::Buffer,
        view: View,
        slot: Option<Slot>,
    ) -> wgpu::BindingResource<'a> {
        let (offset, size) = self.range(view, slot, buffer.size());
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset,
            size: wgpu::BufferSize::new(size.max(4)),
        })
    }
}
