//! Tests of the stencil rows: the table, partial voxels, and the vector
//! paths against the portable loops.

#![allow(clippy::needless_range_loop)]
use super::*;
use crate::fem::hex8::element_stiffness;
use crate::material::YoungPoisson;

/// The bits of each value, for equality to the bit.
fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|v| v.to_bits()).collect()
}

fn table() -> StencilTable {
    StencilTable::new(&element_stiffness(YoungPoisson::tantalum(), 0.05))
}

#[test]
fn unit_fractions_give_the_table_bit_for_bit() {
    let t = table();
    let mut own = [[0.0; 9]; 27];
    for p in 0..256usize {
        fraction_stencil(&t.element, p as u8, &[1.0; 8], &mut own);
        for d in 0..27 {
            assert_eq!(
                own[d].map(f64::to_bits),
                t.blocks[27 * p + d].map(f64::to_bits),
                "pattern {p}, entry {d}"
            );
        }
    }
}

#[test]
fn a_fractional_stencil_is_the_weighted_sum_of_single_voxel_stencils() {
    // S[p; φ] = Σ_c φ_c S[{c}] for any weights: check against the table's
    // one-voxel patterns, summed by hand.
    let t = table();
    let phi = [0.3, 1.0, 0.0, 0.55, 0.9, 0.125, 0.7, 0.02];
    let p = 0b1011_1011u8;
    let mut own = [[0.0; 9]; 27];
    fraction_stencil(&t.element, p, &phi, &mut own);
    for d in 0..27 {
        for r in 0..9 {
            let want: f64 = (0..8)
                .filter(|c| p & (1 << c) != 0)
                .map(|c| phi[c] as f64 * t.blocks[27 * (1 << c) + d][r])
                .sum();
            assert!(
                (own[d][r] - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{d} {r}"
            );
        }
    }
}

/// A 5×4×3 grid with void voxels, full voxels and partial ones.
fn mixed_grid() -> crate::grid::VoxelGrid {
    let mut g = crate::grid::VoxelGrid::full([5, 4, 3], 0.05);
    let n = g.voxel_count();
    for v in 0..n {
        g.solid[v] = (v % 7 != 3) as u8;
    }
    g.fraction = Some(
        (0..n)
            .map(|v| match v % 3 {
                0 => 1.0,
                1 => 0.15 + 0.8 * ((v * 37 % 11) as f32 / 11.0),
                _ => (v * 13 % 5) as f32 / 5.0,
            })
            .collect(),
    );
    g
}

#[test]
fn the_apply_with_element_products_is_the_built_rows_to_round_off() {
    let t = table();
    let g = mixed_grid();
    for mesh in [
        ActiveMesh::new(&g).unwrap(),
        ActiveMesh::periodic(&g).unwrap(),
    ] {
        let k = StencilRows::new(&mesh, &t);
        assert!(k.partial_voxels() > 0);
        let x: Vec<f64> = (0..k.len()).map(|i| (i as f64 * 0.61).sin()).collect();
        let mut y = vec![0.0; k.len()];
        k.apply(&x, &mut y);
        let scale = t.element[0][0] * x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for a in 0..mesh.len() {
            let mut want = [0.0; 3];
            k.row(a, |_, m, b| mul_add(&mut want, b, &x[3 * m..3 * m + 3]));
            for c in 0..3 {
                assert!(
                    (y[3 * a + c] - want[c]).abs() <= 1e-13 * scale,
                    "node {a} dof {c}: {} against {} (periodic {})",
                    y[3 * a + c],
                    want[c],
                    mesh.periodic
                );
            }
        }
        // A second apply (its buffer a spare one) gives the same bits.
        let mut again = vec![0.0; k.len()];
        k.apply(&x, &mut again);
        assert_eq!(y, again);
    }
}

#[test]
fn products_made_piecewise_give_the_bits_of_one_pass() {
    // A box mesh of many chunks, with void and partial voxels: the
    // apply makes its products run by run, chunk by chunk; one pass
    // before all rows must give the same bits, with any thread count.
    let t = table();
    let mut g = crate::grid::VoxelGrid::full([34, 30, 26], 0.05);
    let n = g.voxel_count();
    for v in (0..n).filter(|v| v % 17 == 3) {
        g.solid[v] = 0;
    }
    g.fraction = Some(
        (0..n)
            .map(|v| {
                if v % 4 == 1 {
                    0.2 + (v % 9) as f32 / 12.0
                } else {
                    1.0
                }
            })
            .collect(),
    );
    let mesh = ActiveMesh::new(&g).unwrap();
    assert!(mesh.len() > 8 * CHUNK_NODES, "{} nodes", mesh.len());
    let k = StencilRows::new(&mesh, &t);
    let x: Vec<f64> = (0..k.len()).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut one = vec![0.0; k.len()];
    chunks_after_pass(&k, &x, &mut one, |start, out, pass| {
        k.rows_times(start, &x, pass, out)
    });
    for threads in [1, 2, 3, 7] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut piecewise = vec![1.0; k.len()];
        pool.install(|| k.apply(&x, &mut piecewise));
        assert_eq!(bits(&piecewise), bits(&one), "{threads} threads");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_avx2_element_products_have_the_portable_bits() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        eprintln!("no AVX2 on this processor: the comparison is skipped");
        return;
    }
    let t = table();
    let g = mixed_grid();
    let mesh = ActiveMesh::new(&g).unwrap();
    let k = StencilRows::new(&mesh, &t);
    let corners = &k.partial.as_ref().unwrap().corner;
    let x: Vec<f64> = (0..k.len()).map(|i| (i as f64 * 0.61).sin()).collect();
    let mut portable = vec![0.0; 24 * corners.len()];
    let mut avx2 = vec![1.0; 24 * corners.len()];
    k.element_products(corners, &x, &mut portable);
    // SAFETY: the processor has AVX2, checked above.
    unsafe { k.element_products_avx2(corners, &x, &mut avx2) };
    assert_eq!(bits(&portable), bits(&avx2));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_avx_rows_have_the_portable_bits() {
    if !(std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")) {
        eprintln!("no AVX and FMA on this processor: the comparison is skipped");
        return;
    }
    let t = table();
    // A 7×6×5 block with a few void voxels: nodes inside the solid (all
    // 27 neighbours), on its faces and next to the voids; binary, and
    // with partial voxels.
    let mut g = crate::grid::VoxelGrid::full([7, 6, 5], 0.05);
    let n = g.voxel_count();
    for v in (0..n).filter(|v| v % 23 == 5) {
        g.solid[v] = 0;
    }
    let mut fractional = g.clone();
    fractional.fraction = Some((0..n).map(|v| if v % 5 == 2 { 0.4 } else { 1.0 }).collect());
    let mut full_nodes = 0;
    let mut periodic_pairs = 0;
    for g in [&g, &fractional] {
        for mesh in [
            ActiveMesh::new(g).unwrap(),
            ActiveMesh::periodic(g).unwrap(),
        ] {
            full_nodes += mesh.pattern.iter().filter(|&&p| p == 255).count();
            let k = StencilRows::new(&mesh, &t);
            if mesh.periodic {
                periodic_pairs += (0..mesh.len() - 1).filter(|&a| k.inner_pair(a)).count();
            }
            let x: Vec<f64> = (0..k.len()).map(|i| (i as f64 * 0.61).sin()).collect();
            let pass = k.pass(&x);
            let mut portable = vec![0.0; k.len()];
            let mut avx = vec![1.0; k.len()];
            rows_one_by_one(&k, 0, &x, &pass, &mut portable);
            // SAFETY: the processor has AVX, checked above.
            unsafe { k.rows_times_avx(0, &x, &pass, &mut avx) };
            assert_eq!(
                bits(&portable),
                bits(&avx),
                "periodic {}, fractions {}",
                mesh.periodic,
                mesh.has_fractions()
            );
            // And the portable rows are the table's rows, block by block
            // (BlockRows::row, summed by mul_add in another order), to
            // round-off where no voxel is partial.
            if !mesh.has_fractions() {
                for a in 0..mesh.len() {
                    let mut want = [0.0; 3];
                    let mut scale = 0.0f64;
                    k.row(a, |_, m, b| {
                        mul_add(&mut want, b, &x[3 * m..3 * m + 3]);
                        scale += b.iter().map(|v| v.abs()).sum::<f64>();
                    });
                    for c in 0..3 {
                        approx::assert_abs_diff_eq!(
                            want[c],
                            portable[3 * a + c],
                            epsilon = 1e-14 * scale
                        );
                    }
                }
            }
        }
    }
    assert!(full_nodes > 20, "{full_nodes} nodes inside the solid");
    // The paired rows run on the periodic mesh too, away from its wrap.
    assert!(
        periodic_pairs > 5,
        "{periodic_pairs} pairs on the periodic mesh"
    );
}

#[test]
fn fractional_rows_sum_to_zero_and_the_diagonal_matches_the_row() {
    use crate::grid::VoxelGrid;
    let mut g = VoxelGrid::full([3, 2, 2], 0.05);
    let f: Vec<f32> = (0..12).map(|v| 0.1 + 0.075 * v as f32).collect();
    g.fraction = Some(f);
    let mesh = ActiveMesh::new(&g).unwrap();
    let t = table();
    let k = StencilRows::new(&mesh, &t);
    for a in 0..mesh.len() {
        let mut sum = [0.0; 9];
        let mut diag = None;
        k.row(a, |d, _, b| {
            for r in 0..9 {
                sum[r] += b[r];
            }
            if d == 13 {
                diag = Some(*b);
            }
        });
        // Rigid translations are in the kernel of every φ·Ke.
        assert!(
            sum.iter().all(|s| s.abs() < 1e-9 * t.element[0][0]),
            "{sum:?}"
        );
        assert_eq!(diag.unwrap(), k.diagonal_block(a));
    }
}
