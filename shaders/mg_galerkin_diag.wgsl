// The smoothers' inverse 3×3 diagonal blocks, on the device, one thread per
// node: `fine_inverse_diagonal` from the fine voxels (Σ_c φ_c K_e[7 − c,
// 7 − c] over the node's pattern bits c, the rows and columns of fixed dofs
// replaced by the identity's, as src/fem/constrained.rs does), and
// `stencil_inverse_diagonal` from block 13 of a stored level. A singular
// block (zero determinant, or an inverse that is not finite) writes the
// least such node into `singular` (NO_NODE when there is none), which the
// host turns into MultigridError::SingularBlock. Split bindings: flags,
// phi, level_blocks and inv_diag are the dispatch's nodes, from node
// gp.node_base on (the node written to `singular` is global).
// CPU mirror: src/gpu/mirror/mg_galerkin_diag.rs `mg_fine_inverse_diagonal`,
// `mg_stencil_inverse_diagonal`.
#import shared/params.wgsl
#import shared/mg_params.wgsl
#import shared/mg_galerkin_params.wgsl

@group(0) @binding(0) var<uniform> gp: GalerkinParams;
// Fine level: per node, occupancy pattern | fixed dofs << 8, the corner
// fractions (sub-voxel fill) and the element blocks.
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> phi: array<f32>;
@group(0) @binding(3) var<storage, read> element: array<f32>;
// Stored level: 27 row-major 3×3 blocks per node.
@group(0) @binding(4) var<storage, read> level_blocks: array<f32>;
// Output: the inverse diagonal block of each node, and the least singular node.
@group(0) @binding(5) var<storage, read_write> inv_diag: array<f32>;
@group(0) @binding(6) var<storage, read_write> singular: array<atomic<u32>>;

// Writes the inverse of b (row-major) for node a, or marks a singular.
fn write_inverse(a: u32, b: array<f32, 9>) {
    let c00 = b[4] * b[8] - b[5] * b[7];
    let c01 = b[5] * b[6] - b[3] * b[8];
    let c02 = b[3] * b[7] - b[4] * b[6];
    let det = b[0] * c00 + b[1] * c01 + b[2] * c02;
    var inv: array<f32, 9>;
    inv[0] = c00;
    inv[1] = b[2] * b[7] - b[1] * b[8];
    inv[2] = b[1] * b[5] - b[2] * b[4];
    inv[3] = c01;
    inv[4] = b[0] * b[8] - b[2] * b[6];
    inv[5] = b[2] * b[3] - b[0] * b[5];
    inv[6] = c02;
    inv[7] = b[1] * b[6] - b[0] * b[7];
    inv[8] = b[0] * b[4] - b[1] * b[3];
    var ok = det != 0.0;
    for (var k = 0u; k < 9u; k = k + 1u) {
        inv[k] = inv[k] / det;
        // Finite: an exponent field that is not all ones.
        ok = ok && (bitcast<u32>(inv[k]) & 0x7f800000u) != 0x7f800000u;
        inv_diag[9u * a + k] = inv[k];
    }
    if (!ok) {
        atomicMin(&singular[gp.slot], gp.node_base + a);
    }
}

@compute @workgroup_size(WG_NODES)
fn fine_inverse_diagonal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let a = linear_group(wg, num) * WG_NODES + li;
    if (a >= gp.n) {
        return;
    }
    let f = flags[a];
    let p = f & 0xffu;
    let fixed = f >> 8u;
    var b: array<f32, 9>;
    for (var k = 0u; k < 9u; k = k + 1u) {
        b[k] = 0.0;
    }
    for (var c = 0u; c < 8u; c = c + 1u) {
        if ((p & (1u << c)) == 0u) {
            continue;
        }
        var w = 1.0;
        if (gp.fill == 1u) {
            w = phi[8u * a + c];
        }
        let e = (8u * (7u - c) + (7u - c)) * 9u;
        for (var k = 0u; k < 9u; k = k + 1u) {
            b[k] = b[k] + w * element[e + k];
        }
    }
    for (var r = 0u; r < 3u; r = r + 1u) {
        for (var s = 0u; s < 3u; s = s + 1u) {
            if ((fixed & ((1u << r) | (1u << s))) != 0u) {
                b[3u * r + s] = select(0.0, 1.0, r == s);
            }
        }
    }
    write_inverse(a, b);
}

@compute @workgroup_size(WG_NODES)
fn stencil_inverse_diagonal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let a = linear_group(wg, num) * WG_NODES + li;
    if (a >= gp.n) {
        return;
    }
    var b: array<f32, 9>;
    for (var k = 0u; k < 9u; k = k + 1u) {
        b[k] = level_blocks[(27u * a + 13u) * 9u + k];
    }
    write_inverse(a, b);
}
