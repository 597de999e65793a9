// The coarsest multigrid level: x = A_L⁻¹ b with the dense inverse computed
// on the host (A_L has at most a few hundred nodes), one thread per row, so
// the V-cycle needs no round trip to the host.
// CPU mirror: src/gpu/mirror/mg_coarse.rs `mg_coarse_solve`.
#import shared/params.wgsl
#import shared/mg_params.wgsl

@group(0) @binding(0) var<uniform> mg: MgParams;
// Rows of the dispatch (mg.n of them, from row mg.node_base), row-major,
// mg.cols columns; b and x whole (the coarsest level is small).
@group(0) @binding(1) var<storage, read> inverse: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(WG_NODES)
fn coarse_solve(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = linear_group(wg, num) * WG_NODES + li;
    if (row >= mg.n) {
        return;
    }
    var acc = 0.0;
    for (var j = 0u; j < mg.cols; j = j + 1u) {
        acc = acc + inverse[row * mg.cols + j] * b[j];
    }
    x[mg.node_base + row] = acc;
}
