// y = A x for the constrained consistent tangent A = P Kᵀ P + (I − P) of
// the plastic solve, in f32: the host's src/plastic/elements.rs
// `Assembly::apply_tangent` and the constraint of src/plastic/solve.rs.
// - tangent_brick, one thread per brick: x at the brick's 8 nodes (fixed
//   dofs zeroed), the strains of the 8 points (B̄ as in plastic_update),
//   each point's compact tangent dσ = K tr(dε) m + a dev(dε) + b N (N·dε),
//   and w·det J·Σ_g B̄ᵀ dσ_g into the brick's 24 products;
// - tangent_gather, one thread per active node: the products of the ≤ 8
//   bricks around it in pattern-bit order, and y = x on its fixed dofs.
// In the PCG these two replace apply_k (x = p, y = q).
// CPU mirror: src/gpu/mirror/plastic_tangent.rs.
#import shared/params.wgsl
#import shared/plastic_params.wgsl
#import shared/plastic_brick.wgsl

alias Real = f32;

@group(0) @binding(0) var<uniform> params: PlasticParams;
// Active index of local node a of brick e: brick_nodes[8e + a].
@group(0) @binding(1) var<storage, read> brick_nodes: array<u32>;
// K, seven unused, then the gradients from GRADS.
@group(0) @binding(2) var<storage, read> constants: array<f32>;
// w_e · det J of each brick.
@group(0) @binding(3) var<storage, read> scale: array<f32>;
// Per active node: occupancy pattern (bits 0–7) | fixed dofs (bits 8–10).
@group(0) @binding(4) var<storage, read> flags: array<u32>;
@group(0) @binding(5) var<storage, read> x: array<f32>;
// Compact tangent of point 8e + g: a, b, then N (6), from plastic_update.
@group(0) @binding(6) var<storage, read> tangent: array<f32>;
// The 24 products of each brick.
@group(0) @binding(7) var<storage, read_write> products: array<f32>;
// Per active node, the brick of each of its 8 voxels, or NO_BRICK.
@group(0) @binding(8) var<storage, read> node_bricks: array<u32>;
@group(0) @binding(9) var<storage, read_write> y: array<f32>;

fn grad(g: u32, a: u32, i: u32) -> f32 {
    return constants[GRADS + 24u * g + 3u * a + i];
}

@compute @workgroup_size(WG_NODES)
fn tangent_brick(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = linear_group(wg, num) * WG_NODES + li;
    if (e >= params.n_bricks) {
        return;
    }
    let bulk = constants[0];
    var xe: array<Real, 24>;
    for (var a = 0u; a < 8u; a = a + 1u) {
        let n = brick_nodes[8u * e + a];
        let fixed = flags[n] >> 8u;
        for (var q = 0u; q < 3u; q = q + 1u) {
            if ((fixed & (1u << q)) != 0u) {
                xe[3u * a + q] = 0.0;
            } else {
                xe[3u * a + q] = x[3u * n + q];
            }
        }
    }
    var de = brick_strains(xe);
    if (params.mean_dilatation != 0u) {
        de = mean_dilatation(de);
    }
    // dσ = C dε at each point (src/plastic/material.rs `Tangent::apply`).
    var ds: array<Real, 48>;
    for (var g = 0u; g < 8u; g = g + 1u) {
        let t = 8u * (8u * e + g);
        let ta = tangent[t];
        let tb = tangent[t + 1u];
        let tr = de[6u * g] + de[6u * g + 1u] + de[6u * g + 2u];
        var nd = 0.0;
        for (var i = 0u; i < 6u; i = i + 1u) {
            nd = nd + tangent[t + 2u + i] * de[6u * g + i];
        }
        for (var i = 0u; i < 3u; i = i + 1u) {
            ds[6u * g + i] = bulk * tr + ta * (de[6u * g + i] - tr / 3.0) + tb * tangent[t + 2u + i] * nd;
            ds[6u * g + i + 3u] = 0.5 * ta * de[6u * g + i + 3u] + tb * tangent[t + 5u + i] * nd;
        }
    }
    if (params.mean_dilatation != 0u) {
        ds = mean_dilatation(ds);
    }
    let fe = brick_forces(ds, scale[e]);
    for (var i = 0u; i < 24u; i = i + 1u) {
        products[24u * e + i] = fe[i];
    }
}

@compute @workgroup_size(WG_NODES)
fn tangent_gather(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = linear_group(wg, num) * WG_NODES + li;
    if (n >= params.n_nodes) {
        return;
    }
    var acc = vec3<f32>(0.0, 0.0, 0.0);
    for (var c = 0u; c < 8u; c = c + 1u) {
        let e = node_bricks[8u * n + c];
        if (e == NO_BRICK) {
            continue;
        }
        let b = 24u * e + 3u * (7u - c);
        acc = acc + vec3<f32>(products[b], products[b + 1u], products[b + 2u]);
    }
    let fixed = flags[n] >> 8u;
    if ((fixed & 1u) != 0u) { acc.x = x[3u * n]; }
    if ((fixed & 2u) != 0u) { acc.y = x[3u * n + 1u]; }
    if ((fixed & 4u) != 0u) { acc.z = x[3u * n + 2u]; }
    y[3u * n] = acc.x;
    y[3u * n + 1u] = acc.y;
    y[3u * n + 2u] = acc.z;
}
