// x += α p, r −= α q, and the first pass of ρ' = r·D⁻¹r and ‖r‖² in the
// same sweep (two partial sums per workgroup). CPU mirror: src/gpu/mirror/update_xr.rs
// `update_xr`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scalars: array<f32>;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;
@group(0) @binding(4) var<storage, read> inv_diag: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> r: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;

var<workgroup> rz_sums: array<f32, REDUCE_WG>;
var<workgroup> rr_sums: array<f32, REDUCE_WG>;

@compute @workgroup_size(REDUCE_WG)
fn update_xr(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, num);
    let alpha = scalars[ALPHA];
    let base = g * REDUCE_WG * REDUCE_PER_THREAD;
    var rz = 0.0;
    var rr = 0.0;
    for (var k = 0u; k < REDUCE_PER_THREAD; k = k + 1u) {
        let i = base + k * REDUCE_WG + li;
        if (i < params.n_dofs) {
            x[i] = x[i] + alpha * p[i];
            let ri = r[i] - alpha * q[i];
            r[i] = ri;
            rz = rz + ri * ri * inv_diag[i];
            rr = rr + ri * ri;
        }
    }
    rz_sums[li] = rz;
    rr_sums[li] = rr;
    workgroupBarrier();
    for (var w = REDUCE_WG / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            rz_sums[li] = rz_sums[li] + rz_sums[li + w];
            rr_sums[li] = rr_sums[li] + rr_sums[li + w];
        }
        workgroupBarrier();
    }
    if (li == 0u && g < params.chunk_partials) {
        partials[2u * (params.partial_base + g)] = rz_sums[0];
        partials[2u * (params.partial_base + g) + 1u] = rr_sums[0];
    }
}
