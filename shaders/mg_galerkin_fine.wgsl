// The first coarse level of the multigrid hierarchy on the device: one
// thread per coarse node I computes its 27 3×3 blocks of Pᵀ A P (P
// trilinear) directly from the fine voxels, A = P_f K P_f + (I − P_f) the
// constrained fine stiffness (src/fem/constrained.rs), K = Σ_e φ_e K_e:
//   A_c(I, J) = Σ_e φ_e Σ_{a,b} w_I(n_a) w_J(n_b) M_a K_e[a, b] M_b
//             + Σ_i w_I(i) w_J(i) F_i
// over the fine voxels e in the support of I (4 per axis), M_n the mask of
// the free dofs of node n, F_i the diagonal of its fixed dofs. A voxel is
// solid when bit 0 of the pattern of its corner node (+1, +1, +1) is set;
// its φ is that node's corner fraction 0. The neighbour of an entry is the
// coarse node there when the block is not zero (NO_NODE otherwise), as the
// host's `galerkin` (src/fem/multigrid/levels.rs) sets it.
// CPU mirror: src/gpu/mirror.rs `mg_galerkin_fine`.
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

@compute @workgroup_size(WG_NODES)
fn galerkin_fine(
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
    // The voxels with a corner in the support of I, at offset r from 2I
    // (the same for every thread: the weights and accumulator entries are).
    for (var rz = -2; rz <= 1; rz = rz + 1) {
        for (var ry = -2; ry <= 1; ry = ry + 1) {
            for (var rx = -2; rx <= 1; rx = rx + 1) {
                let v = 2 * ci + vec3<i32>(rx, ry, rz);
                // Solid when the corner node (+1, +1, +1) is active with pattern bit 0.
                let top = fine_index(v.x + 1, v.y + 1, v.z + 1);
                if (v.x < 0 || v.y < 0 || v.z < 0 || top == NO_NODE) {
                    continue;
                }
                if ((flags[top] & 1u) == 0u) {
                    continue;
                }
                var phi_e = 1.0;
                if (gp.fill == 1u) {
                    phi_e = phi[8u * top];
                }
                // Weights of the corners from I, and their fixed dofs.
                var wa: array<f32, 8>;
                var fixed: array<u32, 8>;
                for (var a = 0u; a < 8u; a = a + 1u) {
                    let c = vec3<i32>(i32(a & 1u), i32((a >> 1u) & 1u), i32((a >> 2u) & 1u));
                    wa[a] = axis_weight(rx + c.x) * axis_weight(ry + c.y) * axis_weight(rz + c.z);
                    let n = v + c;
                    fixed[a] = flags[fine_index(n.x, n.y, n.z)] >> 8u;
                }
                for (var b = 0u; b < 8u; b = b + 1u) {
                    // T = Σ_a w_I(n_a) M_a K_e[a, b] M_b.
                    var t: array<f32, 9>;
                    for (var k = 0u; k < 9u; k = k + 1u) {
                        t[k] = 0.0;
                    }
                    for (var a = 0u; a < 8u; a = a + 1u) {
                        if (wa[a] == 0.0) {
                            continue;
                        }
                        let e = (8u * a + b) * 9u;
                        for (var r = 0u; r < 3u; r = r + 1u) {
                            if ((fixed[a] & (1u << r)) != 0u) {
                                continue;
                            }
                            for (var s = 0u; s < 3u; s = s + 1u) {
                                t[3u * r + s] = t[3u * r + s] + wa[a] * element[e + 3u * r + s];
                            }
                        }
                    }
                    for (var r = 0u; r < 3u; r = r + 1u) {
                        for (var s = 0u; s < 3u; s = s + 1u) {
                            if ((fixed[b] & (1u << s)) != 0u) {
                                t[3u * r + s] = 0.0;
                            }
                        }
                    }
                    let o = vec3<i32>(rx + i32(b & 1u), ry + i32((b >> 1u) & 1u), rz + i32((b >> 2u) & 1u));
                    scatter(&acc, o, phi_e, t);
                }
            }
        }
    }
    // The identity rows of the fixed fine dofs in the support of I.
    for (var dz = -1; dz <= 1; dz = dz + 1) {
        for (var dy = -1; dy <= 1; dy = dy + 1) {
            for (var dx = -1; dx <= 1; dx = dx + 1) {
                let f = vec3<i32>(2 * ci.x + dx, 2 * ci.y + dy, 2 * ci.z + dz);
                let i = fine_index(f.x, f.y, f.z);
                if (i == NO_NODE) {
                    continue;
                }
                let fi = flags[i] >> 8u;
                if (fi == 0u) {
                    continue;
                }
                var t: array<f32, 9>;
                for (var k = 0u; k < 9u; k = k + 1u) {
                    t[k] = 0.0;
                }
                for (var r = 0u; r < 3u; r = r + 1u) {
                    if ((fi & (1u << r)) != 0u) {
                        t[4u * r] = 1.0;
                    }
                }
                scatter(&acc, vec3<i32>(dx, dy, dz), axis_weight(dx) * axis_weight(dy) * axis_weight(dz), t);
            }
        }
    }
    write_row(ca, ci, &acc);
}
