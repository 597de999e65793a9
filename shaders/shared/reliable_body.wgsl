// The reliable-update kernels, written once over a high-precision number
// type `Hi` and its operations (hi_zero, hi_of, hi_add, hi_sub, hi_mul,
// hi_round), which the importing file defines: f64 in reliable_f64.wgsl,
// double-single (two f32) in reliable_ds.wgsl. Every Hi buffer holds 8 bytes
// per value in both, so one binding table serves both files.
// The importing file also imports shared/params.wgsl (imports do not nest).
// CPU mirror: src/gpu/mirror/reliable_body.rs (generic over the same operations).

@group(0) @binding(0) var<uniform> params: Params;
// Grid node id of each active node of the chunk.
@group(0) @binding(1) var<storage, read> nodes: array<u32>;
// Per active node of the window: occupancy pattern (bits 0–7) | fixed dofs (bits 8–10).
@group(0) @binding(2) var<storage, read> flags: array<u32>;
// Active index of each grid node of the window (0xffffffff: inactive).
@group(0) @binding(3) var<storage, read> node_map: array<u32>;
// Stencil blocks in Hi: [pattern][27][9], row-major 3×3.
@group(0) @binding(4) var<storage, read> stencil: array<Hi>;
// Per pattern, bit d set when block d is not structurally zero.
@group(0) @binding(5) var<storage, read> neighbours: array<u32>;
// The high-precision solution over the chunk's neighbour window.
@group(0) @binding(6) var<storage, read> x_hi: array<Hi>;
// The right-hand side over the chunk's nodes.
@group(0) @binding(7) var<storage, read> b: array<Hi>;
// The CG residual (f32) over the chunk's nodes: r = b − A·x_hi, rounded.
@group(0) @binding(8) var<storage, read_write> r: array<f32>;
// One partial ‖r‖² per workgroup of WG_NODES nodes, whole mesh.
@group(0) @binding(9) var<storage, read_write> partials: array<Hi>;
// Sub-voxel fill: φ of the 8 voxels around each node of the chunk.
@group(0) @binding(10) var<storage, read> phi: array<f32>;
// The element stiffness in Hi: 64 row-major 3×3 blocks, block 8a + b.
@group(0) @binding(11) var<storage, read> element: array<Hi>;
// accumulate: the device's f32 solution over the chunk's nodes (zeroed).
@group(0) @binding(12) var<storage, read_write> x: array<f32>;
// accumulate: the high-precision solution over the chunk's nodes.
@group(0) @binding(13) var<storage, read_write> x_acc: array<Hi>;
// reduce_rr: ‖r‖² of the whole mesh.
@group(0) @binding(14) var<storage, read_write> total: array<Hi>;

// x_hi += x, x = 0: one thread per dof of the chunk.
@compute @workgroup_size(WG_DOFS)
fn accumulate(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = linear_group(wg, num) * WG_DOFS + li;
    if (i >= params.n_dofs) {
        return;
    }
    x_acc[i] = hi_add(x_acc[i], hi_of(x[i]));
    x[i] = 0.0;
}

// x_hi at window index m with its fixed dofs zeroed, minus un.
fn hi_difference(m: u32, un: array<Hi, 3>) -> array<Hi, 3> {
    let fm = flags[m] >> 8u;
    var u: array<Hi, 3>;
    for (var c = 0u; c < 3u; c = c + 1u) {
        var v = x_hi[3u * m + c];
        if ((fm & (1u << c)) != 0u) {
            v = hi_zero();
        }
        u[c] = hi_sub(v, un[c]);
    }
    return u;
}

// Row r of the 3×3 block `blk` times u.
fn hi_row(blk: array<Hi, 9>, r: u32, u: array<Hi, 3>) -> Hi {
    return hi_add(hi_add(hi_mul(blk[3u * r], u[0]), hi_mul(blk[3u * r + 1u], u[1])), hi_mul(blk[3u * r + 2u], u[2]));
}

fn stencil_block(s: u32) -> array<Hi, 9> {
    var blk: array<Hi, 9>;
    for (var j = 0u; j < 9u; j = j + 1u) {
        blk[j] = stencil[s + j];
    }
    return blk;
}

fn element_block(e: u32) -> array<Hi, 9> {
    var blk: array<Hi, 9>;
    for (var j = 0u; j < 9u; j = j + 1u) {
        blk[j] = element[e + j];
    }
    return blk;
}

var<workgroup> node_rr: array<Hi, WG_NODES>;

// r = b − A·x_hi in Hi (A as in apply_k.wgsl: stencil blocks times the
// differences x̃_m − x̃_n, or element by element with sub-voxel fill;
// x_hi on fixed dofs), r rounded to f32 for CG, and one partial ‖r‖² per
// workgroup (a tree over its nodes). One thread per node of the chunk.
@compute @workgroup_size(WG_NODES)
fn residual(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, num);
    let k = g * WG_NODES + li;
    var rr = hi_zero();
    if (k < params.n_nodes) {
        // Index of the node in the window bindings.
        let n = params.node_base + k - params.win_base;
        let id = i32(nodes[k]);
        let f = flags[n];
        let p = f & 0xffu;
        let fixed = f >> 8u;
        let sx = i32(params.sx);
        let sxy = i32(params.sx * params.sy);
        var un: array<Hi, 3>;
        var acc: array<Hi, 3>;
        for (var c = 0u; c < 3u; c = c + 1u) {
            un[c] = x_hi[3u * n + c];
            if ((fixed & (1u << c)) != 0u) {
                un[c] = hi_zero();
            }
            acc[c] = hi_zero();
        }
        if (params.fill == 0u) {
            var bits = neighbours[p] & ~(1u << 13u);
            while (bits != 0u) {
                let d = firstTrailingBit(bits);
                bits = bits & (bits - 1u);
                let dx = i32(d % 3u) - 1;
                let dy = i32((d / 3u) % 3u) - 1;
                let dz = i32(d / 9u) - 1;
                let m = node_map[u32(id + dx + sx * dy + sxy * dz) - params.map_base] - params.win_base;
                let u = hi_difference(m, un);
                let blk = stencil_block((p * 27u + d) * 9u);
                for (var c = 0u; c < 3u; c = c + 1u) {
                    acc[c] = hi_add(acc[c], hi_row(blk, c, u));
                }
            }
        } else {
            for (var c = 0u; c < 8u; c = c + 1u) {
                if ((p & (1u << c)) == 0u) {
                    continue;
                }
                let w = hi_of(phi[8u * k + c]);
                let a = 7u - c;
                for (var e = 0u; e < 8u; e = e + 1u) {
                    let ox = (c & 1u) + (e & 1u);
                    let oy = ((c >> 1u) & 1u) + ((e >> 1u) & 1u);
                    let oz = ((c >> 2u) & 1u) + ((e >> 2u) & 1u);
                    if (ox == 1u && oy == 1u && oz == 1u) {
                        continue;
                    }
                    let m = node_map[u32(id + i32(ox) - 1 + sx * (i32(oy) - 1) + sxy * (i32(oz) - 1)) - params.map_base]
                        - params.win_base;
                    let u = hi_difference(m, un);
                    let blk = element_block((8u * a + e) * 9u);
                    for (var j = 0u; j < 3u; j = j + 1u) {
                        acc[j] = hi_add(acc[j], hi_mul(w, hi_row(blk, j, u)));
                    }
                }
            }
        }
        for (var c = 0u; c < 3u; c = c + 1u) {
            var y = acc[c];
            if ((fixed & (1u << c)) != 0u) {
                y = x_hi[3u * n + c];
            }
            let rc = hi_sub(b[3u * k + c], y);
            r[3u * k + c] = hi_round(rc);
            rr = hi_add(rr, hi_mul(rc, rc));
        }
    }
    node_rr[li] = rr;
    workgroupBarrier();
    for (var w = WG_NODES / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            node_rr[li] = hi_add(node_rr[li], node_rr[li + w]);
        }
        workgroupBarrier();
    }
    // Chunks start at multiples of REDUCE_BLOCK nodes, so of WG_NODES.
    if (li == 0u && g * WG_NODES < params.n_nodes) {
        partials[params.node_base / WG_NODES + g] = node_rr[0];
    }
}

var<workgroup> sums: array<Hi, REDUCE_WG>;

// ‖r‖² of the whole mesh from residual's partials (params: the whole
// mesh's): thread t sums partials t, t + REDUCE_WG, … in order, then a tree.
@compute @workgroup_size(REDUCE_WG)
fn reduce_rr(@builtin(local_invocation_index) li: u32) {
    let count = (params.n_nodes + WG_NODES - 1u) / WG_NODES;
    var s = hi_zero();
    for (var i = li; i < count; i = i + REDUCE_WG) {
        s = hi_add(s, partials[i]);
    }
    sums[li] = s;
    workgroupBarrier();
    for (var w = REDUCE_WG / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            sums[li] = hi_add(sums[li], sums[li + w]);
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        total[0] = sums[0];
    }
}
