// Second pass of p · q in one workgroup, then α = ρ / (p·q) on the device.
// p·q ≤ 0 marks a breakdown and sets α = 0. CPU mirror: src/gpu/mirror/reduce_alpha.rs
// `reduce_alpha`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;

var<workgroup> sums: array<f32, REDUCE_WG>;

@compute @workgroup_size(REDUCE_WG)
fn reduce_alpha(@builtin(local_invocation_index) li: u32) {
    var s = 0.0;
    for (var i = li; i < params.n_partials; i = i + REDUCE_WG) {
        s = s + partials[i];
    }
    sums[li] = s;
    workgroupBarrier();
    for (var w = REDUCE_WG / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            sums[li] = sums[li] + sums[li + w];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        let pq = sums[0];
        scalars[PQ] = pq;
        if (pq > 0.0 && scalars[BREAKDOWN] == 0.0) {
            scalars[ALPHA] = scalars[RHO] / pq;
        } else {
            scalars[ALPHA] = 0.0;
            scalars[BREAKDOWN] = 1.0;
        }
    }
}
