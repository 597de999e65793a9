// The first coarse level of the multigrid hierarchy on the device: one
// thread per coarse node I and entry D (J = I + D) computes the block of
// Pᵀ A P (P trilinear) directly from the fine voxels, A = P_f K P_f +
// (I − P_f) the constrained fine stiffness (src/fem/constrained.rs),
// K = Σ_e φ_e K_e:
//   A_c(I, J) = Σ_e φ_e Σ_b w(n_b − 2D) Σ_a w(n_a) M_a K_e[a, b] M_b
//             + Σ_i w(i) w(i − 2D) F_i
// over the fine voxels e at offset r from 2I (r in −2..1 per axis, and
// only those with a corner b where |r + b − 2D| ≤ 1), w the trilinear
// weight by offset from 2I (shared/mg_galerkin_row.wgsl), M_n the mask of
// the free dofs of node n, F_i the diagonal of the fixed dofs of fine node
// i. For a voxel without fixed dofs Σ_a w(n_a) K_e[a, b] depends on r and
// b only: it is read from `weighted` (host-made once, [`weighted_element`]
// in src/gpu/galerkin.rs). A voxel is solid when bit 0 of the pattern of
// its corner node (+1, +1, +1) is set; its φ is that node's corner
// fraction 0.
// Split bindings: coarse_ids, blocks and nbrs are the dispatch's coarse
// nodes; fine_map, flags and phi windows of the fine level (gp.*_base).
// CPU mirror: src/gpu/mirror/mg_galerkin_fine.rs `mg_galerkin_fine`.
#import shared/params.wgsl
#import shared/mg_params.wgsl
#import shared/mg_galerkin_params.wgsl
#import shared/mg_galerkin_row.wgsl

@group(0) @binding(0) var<uniform> gp: GalerkinParams;
// Grid id of each coarse node.
@group(0) @binding(1) var<storage, read> coarse_ids: array<u32>;
// Active index of each coarse grid node (NO_NODE: none).
@group(0) @binding(2) var<storage, read> coarse_map: array<u32>;
// Active index of each fine grid node (NO_NODE: inactive).
@group(0) @binding(3) var<storage, read> fine_map: array<u32>;
// Per fine node: occupancy pattern (bits 0–7) | fixed dofs (bits 8–10).
@group(0) @binding(4) var<storage, read> flags: array<u32>;
// Sub-voxel fill: φ of the 8 voxels around each fine node (entry c for
// pattern bit c); unused under binary fill.
@group(0) @binding(5) var<storage, read> phi: array<f32>;
// The element stiffness: 64 row-major 3×3 blocks, block 8a + b.
@group(0) @binding(6) var<storage, read> element: array<f32>;
// Output: 27 row-major 3×3 blocks per coarse node, and their neighbours.
@group(0) @binding(7) var<storage, read_write> blocks: array<f32>;
@group(0) @binding(8) var<storage, read_write> nbrs: array<u32>;
// Σ_a w(r + a) K_e[a, b] per voxel offset r and corner b: block
// 8((rx + 2) + 4(ry + 2) + 16(rz + 2)) + b, row-major.
@group(0) @binding(9) var<storage, read> weighted: array<f32>;

// The fixed dofs of the active fine node at f (a corner of a solid voxel).
fn fixed_of(f: vec3<i32>) -> u32 {
    return flags[fine_index(f) - gp.fine_win_base] >> 8u;
}

fn corner(a: u32) -> vec3<i32> {
    return vec3<i32>(i32(a & 1u), i32((a >> 1u) & 1u), i32((a >> 2u) & 1u));
}

@compute @workgroup_size(WG_NODES)
fn galerkin_fine(
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
    // Voxels at offset r with a corner b where |r + b − 2D| ≤ 1.
    let lo = max(vec3<i32>(-2), two_d - 2);
    let hi = min(vec3<i32>(1), two_d + 1);
    for (var rz = lo.z; rz <= hi.z; rz = rz + 1) {
        for (var ry = lo.y; ry <= hi.y; ry = ry + 1) {
            for (var rx = lo.x; rx <= hi.x; rx = rx + 1) {
                let r = vec3<i32>(rx, ry, rz);
                let v = 2 * en.ci + r;
                if (any(v < vec3<i32>(0))) {
                    continue;
                }
                // Solid when the corner node (+1, +1, +1) is active with pattern bit 0.
                let top = fine_index(v + vec3<i32>(1));
                if (top == NO_NODE) {
                    continue;
                }
                let t = top - gp.fine_win_base;
                if ((flags[t] & 1u) == 0u) {
                    continue;
                }
                var phi_e = 1.0;
                if (gp.fill == 1u) {
                    phi_e = phi[8u * t];
                }
                var any_fixed = 0u;
                for (var a = 0u; a < 8u; a = a + 1u) {
                    any_fixed = any_fixed | fixed_of(v + corner(a));
                }
                let slot = u32((rx + 2) + 4 * (ry + 2) + 16 * (rz + 2));
                for (var b = 0u; b < 8u; b = b + 1u) {
                    let wb = weight(r + corner(b) - two_d);
                    if (wb == 0.0) {
                        continue;
                    }
                    var t0: vec3<f32>;
                    var t1: vec3<f32>;
                    var t2: vec3<f32>;
                    if (any_fixed == 0u) {
                        let q = (8u * slot + b) * 9u;
                        t0 = vec3<f32>(weighted[q], weighted[q + 1u], weighted[q + 2u]);
                        t1 = vec3<f32>(weighted[q + 3u], weighted[q + 4u], weighted[q + 5u]);
                        t2 = vec3<f32>(weighted[q + 6u], weighted[q + 7u], weighted[q + 8u]);
                    } else {
                        // Σ_a w(n_a) M_a K_e[a, b] M_b.
                        t0 = vec3<f32>(0.0);
                        t1 = t0;
                        t2 = t0;
                        for (var a = 0u; a < 8u; a = a + 1u) {
                            let wa = weight(r + corner(a));
                            if (wa == 0.0) {
                                continue;
                            }
                            let fa = fixed_of(v + corner(a));
                            let e = (8u * a + b) * 9u;
                            let keep = vec3<f32>(select(1.0, 0.0, (fa & 1u) != 0u),
                                select(1.0, 0.0, (fa & 2u) != 0u), select(1.0, 0.0, (fa & 4u) != 0u));
                            t0 = t0 + (wa * keep.x) * vec3<f32>(element[e], element[e + 1u], element[e + 2u]);
                            t1 = t1 + (wa * keep.y) * vec3<f32>(element[e + 3u], element[e + 4u], element[e + 5u]);
                            t2 = t2 + (wa * keep.z) * vec3<f32>(element[e + 6u], element[e + 7u], element[e + 8u]);
                        }
                        let fb = fixed_of(v + corner(b));
                        let cols = vec3<f32>(select(1.0, 0.0, (fb & 1u) != 0u),
                            select(1.0, 0.0, (fb & 2u) != 0u), select(1.0, 0.0, (fb & 4u) != 0u));
                        t0 = t0 * cols;
                        t1 = t1 * cols;
                        t2 = t2 * cols;
                    }
                    let w = phi_e * wb;
                    r0 = r0 + w * t0;
                    r1 = r1 + w * t1;
                    r2 = r2 + w * t2;
                }
            }
        }
    }
    // The identity rows of the fixed fine dofs i at offset o from 2I, |o − 2D| ≤ 1.
    let ilo = max(vec3<i32>(-1), two_d - 1);
    let ihi = min(vec3<i32>(1), two_d + 1);
    for (var oz = ilo.z; oz <= ihi.z; oz = oz + 1) {
        for (var oy = ilo.y; oy <= ihi.y; oy = oy + 1) {
            for (var ox = ilo.x; ox <= ihi.x; ox = ox + 1) {
                let o = vec3<i32>(ox, oy, oz);
                let i = fine_index(2 * en.ci + o);
                if (i == NO_NODE) {
                    continue;
                }
                let fi = flags[i - gp.fine_win_base] >> 8u;
                let w = weight(o) * weight(o - two_d);
                if ((fi & 1u) != 0u) { r0.x = r0.x + w; }
                if ((fi & 2u) != 0u) { r1.y = r1.y + w; }
                if ((fi & 4u) != 0u) { r2.z = r2.z + w; }
            }
        }
    }
    write_entry(en, r0, r1, r2);
}
