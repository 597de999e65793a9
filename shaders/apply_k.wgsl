// y = A x: the constrained matrix-free stiffness operator, one thread per
// active node, gathering the node's 27-point stencil of 3×3 blocks from the
// occupancy-pattern table (see src/fem/operator.rs). No atomics.
// Buffers larger than a storage binding are bound in chunks of nodes: nodes
// and y from node_base, flags and x over the window of every neighbour of
// the chunk from win_base, node_map from map_base (see Params).
// Sub-voxel fill (params.fill = 1): voxel e's stiffness is φ_e·Ke, and the
// node's row is summed element by element from the element blocks and the
// node's 8 corner fractions (phi, bound per chunk like nodes) instead of the
// pattern table; binary fill keeps the table path.
// CPU mirror: src/gpu/mirror/apply_k.rs `apply_k`.
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
// Sub-voxel fill: φ of the 8 voxels around each node of the chunk, entry c
// for pattern bit c (unused under binary fill).
@group(0) @binding(8) var<storage, read> phi: array<f32>;
// The element stiffness: 64 row-major 3×3 blocks, block 8a + b.
@group(0) @binding(9) var<storage, read> element: array<f32>;

// x at active index m of the window with its fixed dofs zeroed, minus un.
fn masked_difference(m: u32, un: vec3<f32>) -> vec3<f32> {
    let fm = flags[m] >> 8u;
    var u = vec3<f32>(x[3u * m], x[3u * m + 1u], x[3u * m + 2u]);
    if ((fm & 1u) != 0u) { u.x = 0.0; }
    if ((fm & 2u) != 0u) { u.y = 0.0; }
    if ((fm & 4u) != 0u) { u.z = 0.0; }
    return u - un;
}

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
    if (params.fill == 0u) {
        var bits = neighbours[p] & ~(1u << 13u);
        while (bits != 0u) {
            let d = firstTrailingBit(bits);
            bits = bits & (bits - 1u);
            let dx = i32(d % 3u) - 1;
            let dy = i32((d / 3u) % 3u) - 1;
            let dz = i32(d / 9u) - 1;
            let m = node_map[u32(id + dx + sx * dy + sxy * dz) - params.map_base] - params.win_base;
            let u = masked_difference(m, un);
            let b = (p * 27u + d) * 9u;
            acc.x = acc.x + stencil[b] * u.x + stencil[b + 1u] * u.y + stencil[b + 2u] * u.z;
            acc.y = acc.y + stencil[b + 3u] * u.x + stencil[b + 4u] * u.y + stencil[b + 5u] * u.z;
            acc.z = acc.z + stencil[b + 6u] * u.x + stencil[b + 7u] * u.y + stencil[b + 8u] * u.z;
        }
    } else {
        // Each element's blocks sum to zero too: Σ_c φ_c Σ_b Ke[a(c), b] (u_b − u_n),
        // a(c) = 7 − c, neighbour offset (c + b − 1) per axis.
        for (var c = 0u; c < 8u; c = c + 1u) {
            if ((p & (1u << c)) == 0u) {
                continue;
            }
            let w = phi[8u * k + c];
            let a = 7u - c;
            for (var b = 0u; b < 8u; b = b + 1u) {
                let ox = (c & 1u) + (b & 1u);
                let oy = ((c >> 1u) & 1u) + ((b >> 1u) & 1u);
                let oz = ((c >> 2u) & 1u) + ((b >> 2u) & 1u);
                if (ox == 1u && oy == 1u && oz == 1u) {
                    continue;
                }
                let m = node_map[u32(id + i32(ox) - 1 + sx * (i32(oy) - 1) + sxy * (i32(oz) - 1)) - params.map_base]
                    - params.win_base;
                let u = masked_difference(m, un);
                let e = (8u * a + b) * 9u;
                let t = vec3<f32>(
                    element[e] * u.x + element[e + 1u] * u.y + element[e + 2u] * u.z,
                    element[e + 3u] * u.x + element[e + 4u] * u.y + element[e + 5u] * u.z,
                    element[e + 6u] * u.x + element[e + 7u] * u.y + element[e + 8u] * u.z,
                );
                acc = acc + w * t;
            }
        }
    }
    if ((fixed & 1u) != 0u) { acc.x = x[3u * n]; }
    if ((fixed & 2u) != 0u) { acc.y = x[3u * n + 1u]; }
    if ((fixed & 4u) != 0u) { acc.z = x[3u * n + 2u]; }
    y[3u * k] = acc.x;
    y[3u * k + 1u] = acc.y;
    y[3u * k + 2u] = acc.z;
}
