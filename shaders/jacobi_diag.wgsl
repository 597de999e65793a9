// inv_diag = 1 / diag(A): the centre block's diagonal of the node's stencil,
// 1 on fixed dofs. CPU mirror: src/gpu/mirror.rs `jacobi_diag`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> stencil: array<f32>;
@group(0) @binding(3) var<storage, read_write> inv_diag: array<f32>;

@compute @workgroup_size(WG_NODES)
fn jacobi_diag(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = linear_group(wg, num) * WG_NODES + li;
    if (n >= params.n_nodes) {
        return;
    }
    let f = flags[n];
    let p = f & 0xffu;
    let centre = (p * 27u + 13u) * 9u;
    for (var c = 0u; c < 3u; c = c + 1u) {
        var v = 1.0;
        if (((f >> 8u) & (1u << c)) == 0u) {
            v = 1.0 / stencil[centre + 4u * c];
        }
        inv_diag[3u * n + c] = v;
    }
}
