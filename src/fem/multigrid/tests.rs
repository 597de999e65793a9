//! Tests of the hierarchy: Galerkin products, the finest rows, the
//! V-cycle's symmetry, singular blocks and the bounded coarsest factor.

use super::levels::{invert, offset};
use super::smoother::dot;
use super::*;
use crate::fem::hex8::element_stiffness;
use crate::fem::operator::{mul_add, BlockRows, Pass};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;

/// A 28×22×18 grid, about 70 % solid (deterministic pattern), with the
/// bottom layer's nodes fixed: more than one level below the fine one.
fn problem() -> (ActiveMesh, StencilTable, Vec<u8>) {
    let mut grid = VoxelGrid::empty([28, 22, 18], 0.1);
    for (v, s) in grid.solid.iter_mut().enumerate() {
        *s = ((v * 2_654_435_761usize) % 10 < 7) as u8;
    }
    let mesh = ActiveMesh::new(&grid).unwrap();
    let table = StencilTable::new(&element_stiffness(YoungPoisson::tantalum(), 0.1));
    let fixed = (0..mesh.len())
        .map(|a| if mesh.coords(a)[2] == 0 { 7 } else { 0 })
        .collect();
    (mesh, table, fixed)
}

fn random(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (((i + seed) * 2_246_822_519usize) % 1000) as f64 / 500.0 - 1.0)
        .collect()
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs() / scale))
}

#[test]
fn coarse_operators_are_galerkin_products() {
    let (mesh, table, fixed) = problem();
    let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
    assert!(mg.levels.len() >= 2, "{:?}", mg.info());
    // Every stored level: A_{l+1} x = Pᵀ A_l P x.
    for l in 0..mg.levels.len() {
        let nf = 3 * mg.nodes(l).len();
        let nc = 3 * mg.nodes(l + 1).len();
        let xc = random(nc, l);
        let mut px = vec![0.0; nf];
        mg.prolong_add(l, &xc, 1, 0, &mut px, 1);
        let mut apx = vec![0.0; nf];
        mg.apply_level(l, &px, &mut apx, 1);
        let mut galerkin = vec![0.0; nc];
        mg.restrict(l, &apx, 1, &mut galerkin, 1, 0);
        let mut stored = vec![0.0; nc];
        mg.apply_level(l + 1, &xc, &mut stored, 1);
        // The stored blocks are the f64 product rounded to f32 (relative
        // 2⁻²⁴ ≈ 6e-8 each); rows that nearly cancel can lose a little more,
        // so the bound on the applied result is 2e-7 of its largest entry
        // (measured: 3.3e-8 and 3.6e-8). An f64 product gave ≤ 1e-12.
        let err = max_rel(&stored, &galerkin);
        assert!(err < 2e-7, "level {}: {err:e}", l + 1);
        assert!(err > 0.0, "level {}: stored in f32, so not exact", l + 1);
    }
}

#[test]
fn fine_rows_are_the_constrained_operator() {
    let (mesh, table, fixed) = problem();
    let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
    let x = random(3 * mesh.len(), 3);
    let mut y = vec![0.0; x.len()];
    mg.apply_level(0, &x, &mut y, 1);
    let rows = mg.rows(0);
    let mut z = vec![0.0; x.len()];
    for a in 0..mesh.len() {
        let c = mg.fine.nodes.coords(a);
        let mut acc = [0.0; 3];
        rows.row(a, |d, m, b| {
            let o = offset(d);
            let at = [c[0] + o[0], c[1] + o[1], c[2] + o[2]];
            assert_eq!(mg.fine.nodes.index(at), Some(m));
            mul_add(&mut acc, b, &x[3 * m..3 * m + 3]);
        });
        z[3 * a..3 * a + 3].copy_from_slice(&acc);
    }
    assert!(max_rel(&z, &y) < 1e-12);
}

#[test]
fn a_singular_block_has_no_inverse() {
    assert_eq!(invert(&[0.0; 9]), None);
    let mut rank2 = [0.0; 9];
    rank2[0] = 1.0;
    rank2[4] = 1.0;
    assert_eq!(invert(&rank2), None);
    let id = [1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 4.0];
    assert_eq!(
        invert(&id),
        Some([1.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.25])
    );
}

#[test]
fn the_coarsest_factorisation_is_bounded() {
    // Semi-definite: factored after a small shift.
    let semi = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
    assert!(factor_shifted(semi).is_ok());
    // NaN entries used to loop forever; an indefinite matrix is refused
    // after the last shift.
    let nan = nalgebra::DMatrix::from_row_slice(2, 2, &[f64::NAN, 0.0, 0.0, 1.0]);
    assert!(matches!(
        factor_shifted(nan),
        Err(MultigridError::CoarsestNotPositive { dofs: 2, .. })
    ));
    let indefinite = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, -1.0]);
    match factor_shifted(indefinite) {
        Err(MultigridError::CoarsestNotPositive { shift, scale, .. }) => {
            assert_eq!(scale, 1.0);
            assert!((shift - 1e-2).abs() < 1e-12, "{shift}");
        }
        r => panic!("{r:?}"),
    }
}

/// The stored levels' vector rows (AVX, where the processor has it) give
/// the portable loop's bits, and both the sums of the blocks as
/// [`BlockRows::row`] reads them back by rows.
#[test]
fn the_stored_rows_have_the_portable_bits() {
    for (mesh, table, fixed) in [problem(), periodic_problem()] {
        let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
        for level in &mg.levels {
            let matrix = &level.matrix;
            let n = matrix.nodes();
            let x = random(3 * n, n);
            let mut fast = vec![0.0; 3 * n];
            crate::fem::operator::apply_rows(matrix, &x, &mut fast);
            let mut portable = vec![0.0; 3 * n];
            crate::fem::operator::rows_one_by_one(matrix, 0, &x, &Pass::default(), &mut portable);
            let mut by_rows = vec![0.0; 3 * n];
            for (a, out) in by_rows.chunks_exact_mut(3).enumerate() {
                let mut acc = [0.0; 3];
                matrix.row(a, |_, m, b| mul_add(&mut acc, b, &x[3 * m..3 * m + 3]));
                out.copy_from_slice(&acc);
            }
            for i in 0..3 * n {
                assert_eq!(fast[i].to_bits(), portable[i].to_bits(), "{i} of {n} nodes");
                assert_eq!(
                    portable[i].to_bits(),
                    by_rows[i].to_bits(),
                    "{i} of {n} nodes"
                );
            }
        }
    }
}

#[test]
fn the_v_cycle_is_symmetric_positive_definite() {
    let (mesh, table, fixed) = problem();
    let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
    let n = 3 * mesh.len();
    let (x, y) = (random(n, 5), random(n, 9));
    let (mut mx, mut my) = (vec![0.0; n], vec![0.0; n]);
    mg.apply(&x, &mut mx);
    mg.apply(&y, &mut my);
    let (a, b) = (dot(&y, &mx), dot(&x, &my));
    assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{a} vs {b}");
    assert!(dot(&x, &mx) > 0.0 && dot(&y, &my) > 0.0);
}

/// A 23×20×21 periodic cell (odd and even axes), about 70 % solid with a
/// third of its voxels partial, its first node pinned.
fn periodic_problem() -> (ActiveMesh, StencilTable, Vec<u8>) {
    let mut grid = VoxelGrid::empty([23, 20, 21], 0.1);
    for (v, s) in grid.solid.iter_mut().enumerate() {
        *s = ((v * 2_654_435_761usize) % 10 < 7) as u8;
    }
    grid.fraction = Some(
        (0..grid.solid.len())
            .map(|v| [1.0, 0.6, 0.3][(v * 40_503) % 3])
            .collect(),
    );
    let mesh = ActiveMesh::periodic(&grid).unwrap();
    let table = StencilTable::new(&element_stiffness(YoungPoisson::tantalum(), 0.1));
    let mut fixed = vec![0u8; mesh.len()];
    fixed[0] = 7;
    (mesh, table, fixed)
}

#[test]
fn a_batched_v_cycle_gives_each_column_the_bits_of_its_own() {
    for (mesh, table, fixed) in [problem(), periodic_problem()] {
        let mg = Multigrid::new(&mesh, &table, &fixed).unwrap();
        assert!(mg.levels.len() >= 2, "{:?}", mg.info());
        let n = 3 * mesh.len();
        // 2 columns, and 7 (a batch of six and one alone).
        for k in [2, 7] {
            let rs: Vec<Vec<f64>> = (0..k).map(|j| random(n, 11 * j + 1)).collect();
            let alone: Vec<Vec<f64>> = rs
                .iter()
                .map(|r| {
                    let mut z = vec![0.0; n];
                    mg.apply(r, &mut z);
                    z
                })
                .collect();
            // The batch's vectors hold stale values from the last batch.
            let mut zs = vec![vec![1.0; n]; k];
            let r_refs: Vec<&[f64]> = rs.iter().map(|r| &r[..]).collect();
            let mut z_refs: Vec<&mut [f64]> = zs.iter_mut().map(|z| &mut z[..]).collect();
            let rz = mg.apply_dot_many(&r_refs, &mut z_refs);
            for j in 0..k {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert!(bits(&zs[j]) == bits(&alone[j]), "column {j} of {k}");
                let alone_rz = crate::fem::vector::dot(&rs[j], &alone[j]);
                assert_eq!(rz[j].to_bits(), alone_rz.to_bits());
            }
        }
    }
}
