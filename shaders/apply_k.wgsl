// y = A x: the constrained matrix-free stiffness operator, one thread per
// active node, gathering the node's 27-point stencil of 3×3 blocks from the
// occupancy-pattern table (see src/fem/operator.rs). No atomics.
// Buffers larger than a storage binding are bound in chunks of nodes: nodes
// and y from node_base, flags and x over the window of every neighbour of
// the chunk from win_base, node_map from map_base (see Params).
// CPU mirror: src/gpu/mirror.rs `apply_k`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
// Grid node id of each active node of the chunk.
@group(0) @binding(1) var<storage, read> nodes: array<u32>;
// Per active node of the window: occupancy pattern (bits 0–7) | fixed dofs (bits 8–10).
@group(0) @binding(2) var<storage, read> flags: array<u32>;
// Active index of each grid node of the window (0xffffffff: inactive).
@group(0) @binding(3) var<storage, read> node_map: array<u32>;
// Stencil blocks: [pattern][27][9], row-major 3×3.
@group(0) @binding(4) var<storage, read> stencil: array<f32>;
// Per pattern, bit d set when block d is not structurally zero.
@group(0) @binding(5) var<storage, read> neighbours: array<u32>;
@group(0) @binding(6) var<storage, read> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG_NODES)
fn apply_k(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = linear_group(wg, num) * WG_NODES + li;
    if (k >= params.n_nodes) {
        return;
    }
    // Index of the node in the window bindings.
    let n = params.node_base + k - params.win_base;
    let id = i32(nodes[k]);
    let f = flags[n];
    let p = f & 0xffu;
    let sx = i32(params.sx);
    let sxy = i32(params.sx * params.sy);
    // The node's own (masked) displacement.
    let fixed = f >> 8u;
    var un = vec3<f32>(x[3u * n], x[3u * n + 1u], x[3u * n + 2u]);
    if ((fixed & 1u) != 0u) { un.x = 0.0; }
    if ((fixed & 2u) != 0u) { un.y = 0.0; }
    if ((fixed & 4u) != 0u) { un.z = 0.0; }
    var acc = vec3<f32>(0.0, 0.0, 0.0);
    // Every stencil's blocks sum to zero (rigid translations are in the
    // kernel of K), so (K u)_n = Σ_d S_d (u_m − u_n): differences first keeps
    // f32 from cancelling away smooth fields, the bending and compression
    // modes that set the moduli. The centre block (d = 13) drops out.
    var bits = neighbours[p] & ~(1u << 13u);
    while (bits != 0u) {
        let d = firstTrailingBit(bits);
        bits = bits & (bits - 1u);
        let dx = i32(d % 3u) - 1;
        let dy = i32((d / 3u) % 3u) - 1;
        let dz = i32(d / 9u) - 1;
        let m = node_map[u32(id + dx + sx * dy + sxy * dz) - params.map_base] - params.win_base;
        let fm = flags[m] >> 8u;
        var u = vec3<f32>(x[3u * m], x[3u * m + 1u], x[3u * m + 2u]);
        if ((fm & 1u) != 0u) { u.x = 0.0; }
        if ((fm & 2u) != 0u) { u.y = 0.0; }
        if ((fm & 4u) != 0u) { u.z = 0.0; }
        u = u - un;
        let b = (p * 27u + d) * 9u;
        acc.x = acc.x + stencil[b] * u.x + stencil[b + 1u] * u.y + stencil[b + 2u] * u.z;
        acc.y = acc.y + stencil[b + 3u] * u.x + stencil[b + 4u] * u.y + stencil[b + 5u] * u.z;
        acc.z = acc.z + stencil[b + 6u] * u.x + stencil[b + 7u] * u.y + stencil[b + 8u] * u.z;
    }
    if ((fixed & 1u) != 0u) { acc.x = x[3u * n]; }
    if ((fixed & 2u) != 0u) { acc.y = x[3u * n + 1u]; }
    if ((fixed & 4u) != 0u) { acc.z = x[3u * n + 2u]; }
    y[3u * k] = acc.x;
    y[3u * k + 1u] = acc.y;
    y[3u * k + 2u] = acc.z;
}
