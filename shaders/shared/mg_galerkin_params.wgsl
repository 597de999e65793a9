// Uniform parameters of the kernels that build the multigrid hierarchy on
// the device (mg_galerkin_*.wgsl). Kept in sync with `GalerkinParams` in
// src/gpu/abi.rs (a test compares sizes).
struct GalerkinParams {
    // Threads of the dispatch: coarse nodes (galerkin_*), or the nodes of
    // the level whose diagonal blocks are inverted (*_inverse_diagonal).
    n: u32,
    // 1: sub-voxel fill (φ per voxel from phi); 0: binary fill.
    fill: u32,
    // Node grid sizes of the fine and the coarse level.
    fsx: u32,
    fsy: u32,
    fsz: u32,
    csx: u32,
    csy: u32,
    csz: u32,
    // *_inverse_diagonal: the entry of `singular` for this level.
    slot: u32,
    // Split bindings (src/gpu/plan/levels.rs): the active index of the
    // dispatch's first node (its own bindings start there), the first
    // active node and the first grid id of the finer level's window, the
    // first grid id of the coarse node map's window (stored indices are
    // global: the kernels subtract these); all 0 for one chunk.
    node_base: u32,
    fine_win_base: u32,
    fine_map_base: u32,
    coarse_map_base: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
}

// Trilinear weight of a fine node at offset o (per axis, in fine nodes)
// from coarse node 2I: 1 at 0, ½ at ±1, 0 beyond.
fn axis_weight(o: i32) -> f32 {
    if (o == 0) {
        return 1.0;
    }
    if (o == 1 || o == -1) {
        return 0.5;
    }
    return 0.0;
}

