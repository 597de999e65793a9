// y = A_l x on a stored (coarse) multigrid level: one thread per node, 27
// row-major 3×3 blocks per node (Galerkin PᵀAP, assembled on the host) and
// the neighbour of each block (NO_NODE: none or a zero block). Split
// bindings: blocks, nbrs and y are the dispatch's nodes, x its window.
// CPU mirror: src/gpu/mirror/mg_apply.rs `mg_apply`.
#import shared/params.wgsl
#import shared/mg_params.wgsl

@group(0) @binding(0) var<uniform> mg: MgParams;
@group(0) @binding(1) var<storage, read> blocks: array<f32>;
@group(0) @binding(2) var<storage, read> nbrs: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG_NODES)
fn mg_apply(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let a = linear_group(wg, num) * WG_NODES + li;
    if (a >= mg.n) {
        return;
    }
    var acc = vec3<f32>(0.0, 0.0, 0.0);
    for (var d = 0u; d < 27u; d = d + 1u) {
        let m = nbrs[27u * a + d];
        if (m == NO_NODE) {
            continue;
        }
        // x is bound from node mg.win_base on.
        let j = m - mg.win_base;
        let u = vec3<f32>(x[3u * j], x[3u * j + 1u], x[3u * j + 2u]);
        let b = (27u * a + d) * 9u;
        acc.x = acc.x + blocks[b] * u.x + blocks[b + 1u] * u.y + blocks[b + 2u] * u.z;
        acc.y = acc.y + blocks[b + 3u] * u.x + blocks[b + 4u] * u.y + blocks[b + 5u] * u.z;
        acc.z = acc.z + blocks[b + 6u] * u.x + blocks[b + 7u] * u.y + blocks[b + 8u] * u.z;
    }
    y[3u * a] = acc.x;
    y[3u * a + 1u] = acc.y;
    y[3u * a + 2u] = acc.z;
}
