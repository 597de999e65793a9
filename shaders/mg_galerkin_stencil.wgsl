// A deeper coarse level of the multigrid hierarchy on the device, stencil
// to stencil: one thread per coarse node I of level l + 1 sums
//   A_{l+1}(I, J) = Σ_i w_I(i) Σ_e w_J(j_e) A_l(i, j_e)
// over the fine nodes i of level l in the support of I (27) and the stored
// blocks e of each (the neighbour j_e at offset e; NO_NODE: skipped), as the
// host's `galerkin` over a stored level (src/fem/multigrid/levels.rs).
// The constraints are already in A_l (level 1 from mg_galerkin_fine.wgsl).
// CPU mirror: src/gpu/mirror.rs `mg_galerkin_stencil`.
#import shared/params.wgsl
#import shared/mg_params.wgsl
#import shared/mg_galerkin_params.wgsl
#import shared/mg_galerkin_row.wgsl

@group(0) @binding(0) var<uniform> gp: GalerkinParams;
// Grid id of each coarse node.
@group(0) @binding(1) var<storage, read> coarse_ids: array<u32>;
// Active index of each coarse grid node (NO_NODE: none).
@group(0) @binding(2) var<storage, read> coarse_map: array<u32>;
// Active index of each grid node of level l (NO_NODE: none).
@group(0) @binding(3) var<storage, read> fine_map: array<u32>;
// Level l: 27 row-major 3×3 blocks per node and their neighbours.
@group(0) @binding(4) var<storage, read> fine_blocks: array<f32>;
@group(0) @binding(5) var<storage, read> fine_nbrs: array<u32>;
// Output: 27 row-major 3×3 blocks per coarse node, and their neighbours.
@group(0) @binding(7) var<storage, read_write> blocks: array<f32>;
@group(0) @binding(8) var<storage, read_write> nbrs: array<u32>;

@compute @workgroup_size(WG_NODES)
fn galerkin_stencil(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ca = linear_group(wg, num) * WG_NODES + li;
    if (ca >= gp.n) {
        return;
    }
    let cid = coarse_ids[ca];
    let ci = vec3<i32>(i32(cid % gp.csx), i32((cid / gp.csx) % gp.csy), i32(cid / (gp.csx * gp.csy)));
    var acc: array<f32, 243>;
    for (var k = 0u; k < 243u; k = k + 1u) {
        acc[k] = 0.0;
    }
    for (var dz = -1; dz <= 1; dz = dz + 1) {
        for (var dy = -1; dy <= 1; dy = dy + 1) {
            for (var dx = -1; dx <= 1; dx = dx + 1) {
                let f = vec3<i32>(2 * ci.x + dx, 2 * ci.y + dy, 2 * ci.z + dz);
                let i = fine_index(f.x, f.y, f.z);
                if (i == NO_NODE) {
                    continue;
                }
                let wi = axis_weight(dx) * axis_weight(dy) * axis_weight(dz);
                for (var e = 0u; e < 27u; e = e + 1u) {
                    if (fine_nbrs[27u * i + e] == NO_NODE) {
                        continue;
                    }
                    var t: array<f32, 9>;
                    for (var k = 0u; k < 9u; k = k + 1u) {
                        t[k] = fine_blocks[(27u * i + e) * 9u + k];
                    }
                    let o = vec3<i32>(dx, dy, dz)
                        + vec3<i32>(i32(e % 3u) - 1, i32((e / 3u) % 3u) - 1, i32(e / 9u) - 1);
                    scatter(&acc, o, wi, t);
                }
            }
        }
    }
    write_row(ca, ci, &acc);
}
