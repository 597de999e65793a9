// First pass of a · b: each workgroup sums REDUCE_WG × REDUCE_PER_THREAD
// consecutive elements with a tree reduction in workgroup memory and writes
// one partial sum. CPU mirror: src/gpu/mirror.rs `dot_partial`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn dot_partial(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, num);
    let base = g * REDUCE_WG * REDUCE_PER_THREAD;
    var s = 0.0;
    for (var k = 0u; k < REDUCE_PER_THREAD; k = k + 1u) {
        let i = base + k * REDUCE_WG + li;
        if (i < params.n_dofs) {
            s = s + a[i] * b[i];
        }
    }
    sums[li] = s;
    workgroupBarrier();
    for (var w = 128u; w > 0u; w = w >> 1u) {
        if (li < w) {
            sums[li] = sums[li] + sums[li + w];
        }
        workgroupBarrier();
    }
    if (li == 0u && g < params.chunk_partials) {
        partials[params.partial_base + g] = sums[0];
    }
}
