// A deeper coarse level of the multigrid hierarchy on the device, stencil
// to stencil: one thread per coarse node I of level l + 1 and entry D
// (J = I + D) sums
//   A_{l+1}(I, J) = Σ_a w(a) Σ_e w(a + e − 2D) A_l(i_a, e)
// over the nodes i_a of level l at offset a from 2I (its support) and their
// stored blocks e (NO_NODE: skipped), w the trilinear weight by offset
// (shared/mg_galerkin_row.wgsl); per axis only the e with |a + e − 2D| ≤ 1
// are visited. As the host's `galerkin` over a stored level
// (src/fem/multigrid/levels.rs); the constraints are already in A_l.
// Split bindings: coarse_ids, blocks and nbrs are the dispatch's coarse
// nodes; fine_map, fine_blocks and fine_nbrs windows of level l (gp.*_base).
// CPU mirror: src/gpu/mirror/mg_galerkin_stencil.rs `mg_galerkin_stencil`.
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
    let k = linear_group(wg, num) * WG_NODES + li;
    if (k >= 27u * gp.n) {
        return;
    }
    let en = entry_of(k);
    let two_d = 2 * en.off;
    var r0 = vec3<f32>(0.0, 0.0, 0.0);
    var r1 = r0;
    var r2 = r0;
    for (var az = -1; az <= 1; az = az + 1) {
        for (var ay = -1; ay <= 1; ay = ay + 1) {
            for (var ax = -1; ax <= 1; ax = ax + 1) {
                let a = vec3<i32>(ax, ay, az);
                var i = fine_index(2 * en.ci + a);
                if (i == NO_NODE) {
                    continue;
                }
                i = i - gp.fine_win_base;
                let wa = weight(a);
                // e with |a + e − 2D| ≤ 1 per axis.
                let lo = max(vec3<i32>(-1), two_d - 1 - a);
                let hi = min(vec3<i32>(1), two_d + 1 - a);
                for (var ez = lo.z; ez <= hi.z; ez = ez + 1) {
                    for (var ey = lo.y; ey <= hi.y; ey = ey + 1) {
                        for (var ex = lo.x; ex <= hi.x; ex = ex + 1) {
                            let e = u32((ex + 1) + 3 * (ey + 1) + 9 * (ez + 1));
                            if (fine_nbrs[27u * i + e] == NO_NODE) {
                                continue;
                            }
                            let w = wa * weight(a + vec3<i32>(ex, ey, ez) - two_d);
                            let b = (27u * i + e) * 9u;
                            r0 = r0 + w * vec3<f32>(fine_blocks[b], fine_blocks[b + 1u], fine_blocks[b + 2u]);
                            r1 = r1 + w * vec3<f32>(fine_blocks[b + 3u], fine_blocks[b + 4u], fine_blocks[b + 5u]);
                            r2 = r2 + w * vec3<f32>(fine_blocks[b + 6u], fine_blocks[b + 7u], fine_blocks[b + 8u]);
                        }
                    }
                }
            }
        }
    }
    write_entry(en, r0, r1, r2);
}
