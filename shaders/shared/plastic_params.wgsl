// Shared by the plastic kernels (plastic_update.wgsl, plastic_tangent.wgsl).
// Kept in sync with `PlasticParams` in src/gpu/abi.rs (a test asserts the
// sizes match).
struct PlasticParams {
    // Solid voxels (bricks), one thread each in the per-brick kernels.
    n_bricks: u32,
    // Active nodes, one thread each in the per-node kernels.
    n_nodes: u32,
    // 1: mean dilatation (B̄, every point takes its brick's mean volumetric
    // strain); 0: the plain 2×2×2 B.
    mean_dilatation: u32,
    _pad: u32,
}

// "No brick" in node_bricks (NO_NODE in src/gpu/abi.rs).
const NO_BRICK: u32 = 0xffffffffu;
// Where the shape-function gradients start in `constants`: ∇N_a at Gauss
// point g, component i, is constants[GRADS + 24g + 3a + i].
const GRADS: u32 = 8u;
