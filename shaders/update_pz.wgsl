// p = z + β p, z the multigrid-preconditioned residual.
// CPU mirror: src/gpu/mirror/update_pz.rs `update_pz`.
#import shared/params.wgsl

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scalars: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read_write> p: array<f32>;

@compute @workgroup_size(WG_DOFS)
fn update_pz(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = linear_group(wg, num) * WG_DOFS + li;
    if (i < params.n_dofs) {
        p[i] = z[i] + scalars[BETA] * p[i];
    }
}
