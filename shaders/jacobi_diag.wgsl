// inv_diag = 1 / diag(A): the centre block's diagonal of the node's stencil,
// 1 on fixed dofs. Sub-voxel fill (params.fill = 1): the centre block is
// Σ_c φ_c Ke[a(c), a(c)], a(c) = 7 − c, over the node's solid voxels c.
// CPU mirror: src/gpu/mirror/jacobi_diag.rs `jacobi_diag`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> stencil: array<f32>;
@group(0) @binding(3) var<storage, read_write> inv_diag: array<f32>;
// Sub-voxel fill: 8 corner fractions per node (unused under binary fill).
@group(0) @binding(4) var<storage, read> phi: array<f32>;
// The element stiffness: 64 row-major 3×3 blocks, block 8a + b.
@group(0) @binding(5) var<storage, read> element: array<f32>;

@compute @workgroup_size(WG_NODES)
fn jacobi_diag(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = linear_group(wg, num) * WG_NODES + li;
    if (n >= params.n_nodes) {
        return;
    }
    let f = flags[n];
    let p = f & 0xffu;
    let centre = (p * 27u + 13u) * 9u;
    for (var c = 0u; c < 3u; c = c + 1u) {
        var v = 1.0;
        if (((f >> 8u) & (1u << c)) == 0u) {
            var s = 0.0;
            if (params.fill == 0u) {
                s = stencil[centre + 4u * c];
            } else {
                for (var q = 0u; q < 8u; q = q + 1u) {
                    if ((p & (1u << q)) != 0u) {
                        s = s + phi[8u * n + q] * element[9u * (7u - q) * 9u + 4u * c];
                    }
                }
            }
            v = 1.0 / s;
        }
        inv_diag[3u * n + c] = v;
    }
}
