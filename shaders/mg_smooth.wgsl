// Multigrid smoothing, one thread per node: a Chebyshev step (`chebyshev`)
// on block-Jacobi D⁻¹A, and the residual r = b − q (`residual`).
// q holds A·x (first step) or A·d (next steps), applied before.
// CPU mirrors: src/gpu/mirror/mg_smooth.rs `mg_chebyshev`, `mg_residual`.
#import shared/params.wgsl
#import shared/mg_params.wgsl

@group(0) @binding(0) var<uniform> mg: MgParams;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
// Inverse 3×3 diagonal blocks, row-major, 9 per node.
@group(0) @binding(3) var<storage, read> inv_diag: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> d: array<f32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;

fn node(wg: vec3<u32>, num: vec3<u32>, li: u32) -> u32 {
    return linear_group(wg, num) * WG_NODES + li;
}

@compute @workgroup_size(WG_NODES)
fn chebyshev(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let a = node(wg, num, li);
    if (a >= mg.n) {
        return;
    }
    var ra: vec3<f32>;
    for (var c = 0u; c < 3u; c = c + 1u) {
        let i = 3u * a + c;
        var v: f32;
        if (mg.mode == 0u) {
            v = b[i];
        } else if (mg.mode == 1u) {
            v = b[i] - q[i];
        } else {
            v = r[i] - q[i];
        }
        r[i] = v;
        ra[c] = v;
    }
    let k = 9u * a;
    for (var c = 0u; c < 3u; c = c + 1u) {
        let i = 3u * a + c;
        let z = inv_diag[k + 3u * c] * ra.x + inv_diag[k + 3u * c + 1u] * ra.y
            + inv_diag[k + 3u * c + 2u] * ra.z;
        var dn = mg.c2 * z;
        if (mg.mode == 2u) {
            dn = mg.c1 * d[i] + dn;
        }
        d[i] = dn;
        if (mg.mode == 0u) {
            x[i] = dn;
        } else {
            x[i] = x[i] + dn;
        }
    }
}

@compute @workgroup_size(WG_NODES)
fn residual(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let a = node(wg, num, li);
    if (a >= mg.n) {
        return;
    }
    for (var c = 0u; c < 3u; c = c + 1u) {
        let i = 3u * a + c;
        r[i] = b[i] - q[i];
    }
}
