// Uniform parameters of the multigrid kernels. Kept in sync with `MgParams`
// in src/gpu/abi.rs (a test asserts the sizes match).
struct MgParams {
    // Nodes the dispatch runs over (one thread each; rows for coarse_solve).
    n: u32,
    // chebyshev: 0 = from zero (r = b, x = d), 1 = first step (r = b − q,
    // x += d), 2 = next step (r −= q, x += d).
    mode: u32,
    // chebyshev: d = c1·d + c2·D⁻¹r (d is not read when mode < 2).
    c1: f32,
    c2: f32,
    // Node grid sizes of the fine and the coarse level (transfers).
    fsx: u32,
    fsy: u32,
    fsz: u32,
    csx: u32,
    csy: u32,
    csz: u32,
    // Transfers: 1 when the node grids wrap (periodic homogenization).
    periodic: u32,
    // Split bindings (src/gpu/plan/levels.rs): the active index of the
    // dispatch's first node (for the host; its own bindings start there),
    // the first active node and the first grid id of the window a thread's
    // neighbours are read through (stored indices are global: a kernel
    // subtracts these), all 0 when a level is one chunk.
    node_base: u32,
    win_base: u32,
    map_base: u32,
    // coarse_solve: the columns of the inverse (its rows, n, are this
    // dispatch's).
    cols: u32,
    _pad1: u32,
}

// "No node" in neighbour tables and node maps (NO_NODE in src/gpu/abi.rs).
const NO_NODE: u32 = 0xffffffffu;
