// Shared by every voxfe kernel. Kept in sync with `GpuParams` in src/gpu/abi.rs
// (a test asserts the sizes match).
struct Params {
    // Active nodes of this dispatch's chunk (the whole mesh when the vectors
    // fit in one storage binding).
    n_nodes: u32,
    // Length of the chunk's dof vectors: 3 * n_nodes.
    n_dofs: u32,
    // Grid nodes along x and y: nx + 1, ny + 1.
    sx: u32,
    sy: u32,
    // Partial sums of the whole mesh (what the second reduction pass sums).
    n_partials: u32,
    // Partial sums written by this chunk, from partial_base on.
    chunk_partials: u32,
    partial_base: u32,
    // Active index of the chunk's first node: per-node bindings of the
    // chunk (nodes, y, the CG vectors) start there.
    node_base: u32,
    // Active index where the neighbour window of apply_k (flags, x) starts.
    win_base: u32,
    // Grid node id where the node_map window of apply_k starts.
    map_base: u32,
    // 1: sub-voxel fill, every voxel's stiffness scaled by its φ (the
    // kernels read the phi and element bindings); 0: binary fill.
    fill: u32,
    // Always 0: the double-single kernels (reliable_ds.wgsl) read it as a
    // zero the shader compiler cannot see.
    _pad1: u32,
}

// Workgroup index when a dispatch is split over x and y (x ≤ 65535).
fn linear_group(wg: vec3<u32>, num: vec3<u32>) -> u32 {
    return wg.x + wg.y * num.x;
}

// Slots of the device-side CG scalars.
const RHO: u32 = 0u;
const PQ: u32 = 1u;
const ALPHA: u32 = 2u;
const BETA: u32 = 3u;
const RR: u32 = 4u;
const RHO_NEW: u32 = 5u;
const BREAKDOWN: u32 = 6u;
// Length of the scalars buffer (the slots above and one spare).
const SCALARS: u32 = 8u;

// Elements summed by one workgroup of the reduction kernels: 256 threads × 4.
const REDUCE_WG: u32 = 256u;
const REDUCE_PER_THREAD: u32 = 4u;

// Threads per workgroup: one per node (apply_k, jacobi_diag, the multigrid
// kernels) and one per dof (update_p, update_pz). Kept in sync, as every
// constant here, with src/gpu/abi.rs (a test compares them).
const WG_NODES: u32 = 64u;
const WG_DOFS: u32 = 256u;
