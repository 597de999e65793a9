// First pass of a · b: each workgroup sums REDUCE_WG × REDUCE_PER_THREAD
// consecutive elements with a tree reduction in workgroup memory and writes
// one partial sum. CPU mirror: src/gpu/mirror/dot_partial.rs `dot_partial`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

var<workgroup> sums: array<f32, REDUCE_WG>;

@compute @workgroup_size(REDUCE_WG)
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
    for (var w = REDUCE_WG / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            sums[li] = sums[li] + sums[li + w];
        }
        workgroupBarrier();
    }
    if (li == 0u && g < params.chunk_partials) {
        partials[params.partial_base + g] = sums[0];
    }
}

var<workgroup> aa_sums: array<f32, REDUCE_WG>;

// First pass of ρ' = r·z and ‖r‖² for the multigrid-preconditioned
// iteration (a = r, b = z): two partial sums per workgroup, in the layout
// of update_xr's, so reduce_beta and reduce_start finish both.
// CPU mirror: src/gpu/mirror/dot_partial.rs `dot_pair`.
@compute @workgroup_size(REDUCE_WG)
fn dot_pair(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, num);
    let base = g * REDUCE_WG * REDUCE_PER_THREAD;
    var ab = 0.0;
    var aa = 0.0;
    for (var k = 0u; k < REDUCE_PER_THREAD; k = k + 1u) {
        let i = base + k * REDUCE_WG + li;
        if (i < params.n_dofs) {
            ab = ab + a[i] * b[i];
            aa = aa + a[i] * a[i];
        }
    }
    sums[li] = ab;
    aa_sums[li] = aa;
    workgroupBarrier();
    for (var w = REDUCE_WG / 2u; w > 0u; w = w >> 1u) {
        if (li < w) {
            sums[li] = sums[li] + sums[li + w];
            aa_sums[li] = aa_sums[li] + aa_sums[li + w];
        }
        workgroupBarrier();
    }
    if (li == 0u && g < params.chunk_partials) {
        partials[2u * (params.partial_base + g)] = sums[0];
        partials[2u * (params.partial_base + g) + 1u] = aa_sums[0];
    }
}
