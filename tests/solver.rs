//! The CPU operator and multigrid against exact answers (element-level
//! checks; the solver tests that run on every backend are in
//! `tests/backends.rs`).

mod common;

use common::rd_grid;
use rand::{Rng, SeedableRng};
use voxfe::fem::hex8::{centre_stress, corner};
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::fem::operator::{BlockRows, LinearOperator};
use voxfe::fem::{solve_cpu, Problem, SolverOptions};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;

const FRICTIONLESS: LoadCase = LoadCase::Compression {
    platens: Platens::Frictionless,
};

fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

#[test]
fn patch_test_linear_field_gives_uniform_stress_and_no_interior_force() {
    let m = YoungPoisson { e: 1000.0, nu: 0.3 };
    let grid = VoxelGrid::full([4, 3, 5], 0.25);
    let p = Problem::new(&grid, m, &FRICTIONLESS).unwrap();
    // u = G·x for a general displacement gradient G.
    let g = [
        [1e-3, 2e-4, -3e-4],
        [5e-4, -2e-3, 1e-4],
        [-4e-4, 3e-4, 1.5e-3],
    ];
    let mut u = vec![0.0; 3 * p.mesh.len()];
    for n in 0..p.mesh.len() {
        let x = p.mesh.position(n);
        for c in 0..3 {
            u[3 * n + c] = (0..3).map(|d| g[c][d] * x[d]).sum();
        }
    }
    // Interior nodes are in equilibrium.
    let mut ku = vec![0.0; u.len()];
    p.stiffness().apply(&u, &mut ku);
    let scale = ku.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    for n in 0..p.mesh.len() {
        let [i, j, k] = p.mesh.coords(n);
        if i > 0 && j > 0 && k > 0 && i < 4 && j < 3 && k < 5 {
            for c in 0..3 {
                assert!(
                    ku[3 * n + c].abs() < 1e-12 * scale,
                    "node {n}: {}",
                    ku[3 * n + c]
                );
            }
        }
    }
    // Every voxel has the stress D·ε.
    let eps = [
        g[0][0],
        g[1][1],
        g[2][2],
        g[0][1] + g[1][0],
        g[1][2] + g[2][1],
        g[2][0] + g[0][2],
    ];
    let expected = m.elasticity_matrix() * nalgebra::SVector::<f64, 6>::from(eps);
    for k in 0..5 {
        for j in 0..3 {
            for i in 0..4 {
                let mut ue = nalgebra::SVector::<f64, 24>::zeros();
                for a in 0..8 {
                    let c = corner(a);
                    let n = p.mesh.node_map[grid.node_id(i + c[0], j + c[1], k + c[2])] as usize;
                    for d in 0..3 {
                        ue[3 * a + d] = u[3 * n + d];
                    }
                }
                let s = centre_stress(m, grid.h, &ue);
                assert!(
                    (s - expected).amax() < 1e-10 * expected.amax(),
                    "voxel {i},{j},{k}: {s:?}"
                );
            }
        }
    }
}

#[test]
fn operator_is_symmetric_on_a_lattice_grid() {
    let grid = rd_grid(0.15);
    let p = Problem::new(&grid, YoungPoisson::tantalum(), &FRICTIONLESS).unwrap();
    fn check<A: LinearOperator>(name: &str, op: &A) {
        let x = random(op.len(), 1);
        let y = random(op.len(), 2);
        let (mut kx, mut ky) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        op.apply(&x, &mut kx);
        op.apply(&y, &mut ky);
        let (a, b) = (dot(&x, &ky), dot(&y, &kx));
        let scale = dot(&x, &kx).abs().max(dot(&y, &ky).abs());
        assert!(
            (a - b).abs() <= 1e-12 * scale,
            "{name}: x·Ky = {a}, y·Kx = {b}"
        );
    }
    check("K", &p.stiffness());
    check("constrained", &p.operator());
}

#[test]
fn rigid_body_motions_are_in_the_kernel_of_k() {
    let grid = rd_grid(0.15);
    let p = Problem::new(&grid, YoungPoisson::tantalum(), &FRICTIONLESS).unwrap();
    let k = p.stiffness();
    let n = p.mesh.len();
    let probe = random(3 * n, 3);
    let mut kp = vec![0.0; 3 * n];
    k.apply(&probe, &mut kp);
    let scale = kp.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    // Three translations and the three infinitesimal rotations ω × x.
    for mode in 0..6 {
        let mut u = vec![0.0; 3 * n];
        for a in 0..n {
            let x = p.mesh.position(a);
            let v = match mode {
                0..=2 => {
                    let mut v = [0.0; 3];
                    v[mode] = 1.0;
                    v
                }
                3 => [0.0, -x[2], x[1]],
                4 => [x[2], 0.0, -x[0]],
                _ => [-x[1], x[0], 0.0],
            };
            u[3 * a..3 * a + 3].copy_from_slice(&v);
        }
        let mut ku = vec![0.0; 3 * n];
        k.apply(&u, &mut ku);
        let worst = ku.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        assert!(
            worst < 1e-11 * scale,
            "mode {mode}: |K u| = {worst:e} (scale {scale:e})"
        );
    }
}

#[test]
fn jacobi_diagonal_is_the_diagonal_of_k() {
    let mut grid = VoxelGrid::full([3, 3, 3], 0.1);
    grid.solid[4] = 0;
    grid.solid[13] = 0;
    let p = Problem::new(&grid, YoungPoisson::tantalum(), &FRICTIONLESS).unwrap();
    fn check<A: LinearOperator + BlockRows>(op: &A) {
        let d = op.diagonal();
        let mut e = vec![0.0; op.len()];
        let mut ke = vec![0.0; op.len()];
        for i in 0..op.len() {
            e[i] = 1.0;
            op.apply(&e, &mut ke);
            assert!(
                (ke[i] - d[i]).abs() <= 1e-12 * d[i].abs(),
                "dof {i}: {} vs {}",
                ke[i],
                d[i]
            );
            e[i] = 0.0;
        }
    }
    check(&p.stiffness());
    check(&p.operator());
}

#[test]
fn operator_matches_element_by_element_assembly() {
    // K x computed voxel by voxel with the 24×24 element matrix.
    let grid = rd_grid(0.15);
    let m = YoungPoisson::tantalum();
    let p = Problem::new(&grid, m, &FRICTIONLESS).unwrap();
    let ke = voxfe::fem::hex8::element_stiffness(m, grid.h);
    let x = random(3 * p.mesh.len(), 5);
    let mut y = vec![0.0; x.len()];
    let [nx, ny, nz] = grid.dims;
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                if !grid.is_solid(i, j, k) {
                    continue;
                }
                let ids: Vec<usize> = (0..8)
                    .map(|a| {
                        let c = corner(a);
                        p.mesh.node_map[grid.node_id(i + c[0], j + c[1], k + c[2])] as usize
                    })
                    .collect();
                for a in 0..8 {
                    for r in 0..3 {
                        let mut s = 0.0;
                        for b in 0..8 {
                            for c in 0..3 {
                                s += ke[(3 * a + r, 3 * b + c)] * x[3 * ids[b] + c];
                            }
                        }
                        y[3 * ids[a] + r] += s;
                    }
                }
            }
        }
    }
    let mut z = vec![0.0; x.len()];
    p.stiffness().apply(&x, &mut z);
    let scale = y.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let worst = y
        .iter()
        .zip(&z)
        .fold(0.0f64, |a, (y, z)| a.max((y - z).abs()));
    assert!(worst < 1e-12 * scale, "{worst:e} vs {scale:e}");
}

fn multigrid() -> SolverOptions {
    SolverOptions {
        preconditioner: voxfe::fem::Preconditioner::Multigrid,
        ..Default::default()
    }
}

#[test]
fn multigrid_is_the_default() {
    assert_eq!(
        SolverOptions::default().preconditioner,
        voxfe::fem::Preconditioner::Multigrid
    );
}

#[test]
fn multigrid_iterations_do_not_grow_with_resolution() {
    // The same RD specimen at h = M/15, M/20, M/30.
    let its: Vec<usize> = [0.1, 0.075, 0.05]
        .iter()
        .map(|&h| {
            let r = solve_cpu(
                &rd_grid(h),
                YoungPoisson::tantalum(),
                &FRICTIONLESS,
                &multigrid(),
            )
            .unwrap();
            assert!(r.converged);
            r.iterations
        })
        .collect();
    assert!(
        its[2] as f64 <= 1.5 * its[0] as f64,
        "multigrid iterations {its:?}"
    );
}
