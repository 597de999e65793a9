//! The CPU reference solver against exact answers.

mod common;

use common::rd_grid;
use rand::{Rng, SeedableRng};
use voxfe::fem::hex8::{centre_stress, corner};
use voxfe::fem::load::{BcError, LoadCase, Platens};
use voxfe::fem::operator::{BlockRows, LinearOperator};
use voxfe::fem::{solve_cpu, Problem, SolveError, SolverOptions};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;

const FRICTIONLESS: LoadCase = LoadCase::Compression {
    platens: Platens::Frictionless,
};
const BONDED: LoadCase = LoadCase::Compression {
    platens: Platens::Bonded,
};

fn tight() -> SolverOptions {
    SolverOptions {
        tolerance: 1e-10,
        max_iterations: 20000,
        ..Default::default()
    }
}

fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

#[test]
fn solid_block_in_frictionless_compression_gives_e() {
    let m = YoungPoisson::tantalum();
    for load in [FRICTIONLESS] {
        let grid = VoxelGrid::full([6, 5, 4], 0.5);
        let r = solve_cpu(&grid, m, &load, &tight()).unwrap();
        assert!(r.converged);
        let e = r.e_eff.unwrap();
        assert!((e / m.e - 1.0).abs() < 1e-6, "E_eff = {e}");
        // Uniform uniaxial stress: von Mises equals the applied stress everywhere.
        let sigma = r.reaction_force.unwrap() / (3.0 * 2.5);
        for &v in &r.von_mises {
            assert!(
                (v as f64 / sigma - 1.0).abs() < 1e-5,
                "von Mises {v} vs {sigma}"
            );
        }
        assert!((r.peak_von_mises_per_nominal.unwrap() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn bonded_platens_stiffen_a_solid_block() {
    let m = YoungPoisson::tantalum();
    let grid = VoxelGrid::full([6, 6, 4], 0.5);
    let free = solve_cpu(&grid, m, &FRICTIONLESS, &tight())
        .unwrap()
        .e_eff
        .unwrap();
    let bonded = solve_cpu(&grid, m, &BONDED, &tight())
        .unwrap()
        .e_eff
        .unwrap();
    // Lateral expansion is held at the platens: stiffer, but below the
    // fully confined (oedometric) modulus.
    let oedometric = m.e * (1.0 - m.nu) / ((1.0 + m.nu) * (1.0 - 2.0 * m.nu));
    assert!(
        bonded > free * 1.01 && bonded < oedometric,
        "{free} {bonded} {oedometric}"
    );
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

/// Timoshenko three-point bending (bending + shear, κ = 5/6):
/// δ = F S³/(48 E I) + F S/(4 κ G A), hence E_f = 1 / (1/E + t²/(κ G S²)).
fn timoshenko_e_flex(m: YoungPoisson, t: f64, span: f64) -> f64 {
    let g = m.e / (2.0 * (1.0 + m.nu));
    1.0 / (1.0 / m.e + t * t / (5.0 / 6.0 * g * span * span))
}

#[test]
fn solid_bar_in_three_point_bending_is_near_timoshenko() {
    let m = YoungPoisson::tantalum();
    let expected = timoshenko_e_flex(m, 10.0, 60.0);
    let load = LoadCase::ThreePointBending {
        span: 60.0,
        contact: 1.0,
    };
    // h = 0.5 mm: c/2 is one voxel.
    let grid = VoxelGrid::full([160, 20, 20], 0.5);
    let r = solve_cpu(&grid, m, &load, &SolverOptions::default()).unwrap();
    assert!(r.converged);
    assert_eq!(r.contact_width, Some(1.0));
    let ef = r.e_flex.unwrap();
    // Contact indentation (softer) and hex8 bending stiffness (stiffer)
    // leave a few per cent; see README for the table.
    assert!(
        (ef / expected - 1.0).abs() < 0.10,
        "E_f = {ef:.0}, Timoshenko {expected:.0}"
    );
    assert!(
        (r.flexural_stress_per_newton.unwrap() - 3.0 * 60.0 / (2.0 * 10.0 * 100.0)).abs() < 1e-15
    );
}

#[test]
fn repeated_solves_are_bit_identical() {
    let grid = rd_grid(0.15);
    let m = YoungPoisson::tantalum();
    let a = solve_cpu(&grid, m, &FRICTIONLESS, &SolverOptions::default()).unwrap();
    let b = solve_cpu(&grid, m, &FRICTIONLESS, &SolverOptions::default()).unwrap();
    assert_eq!(a.e_eff.unwrap().to_bits(), b.e_eff.unwrap().to_bits());
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.displacement, b.displacement);
}

#[test]
fn a_solve_that_does_not_converge_says_so() {
    let grid = rd_grid(0.15);
    let r = solve_cpu(
        &grid,
        YoungPoisson::tantalum(),
        &FRICTIONLESS,
        &SolverOptions {
            tolerance: 1e-6,
            max_iterations: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!r.converged);
    assert_eq!(r.iterations, 5);
    assert!(r.relative_residual > 1e-6);
    assert!(r.e_eff.is_none() && r.reaction_force.is_none());
}

#[test]
fn no_load_path_is_reported_before_solving() {
    // A slab that does not reach the top face.
    let mut grid = VoxelGrid::empty([4, 4, 6], 0.5);
    for k in 0..3 {
        for j in 0..4 {
            for i in 0..4 {
                let v = grid.voxel_id(i, j, k);
                grid.solid[v] = 1;
            }
        }
    }
    let e = solve_cpu(
        &grid,
        YoungPoisson::tantalum(),
        &FRICTIONLESS,
        &SolverOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, SolveError::Bc(BcError::NoLoadPath { .. })),
        "{e}"
    );
    assert!(
        e.to_string().contains("no load path") && e.to_string().contains("top face"),
        "{e}"
    );
    let bend = LoadCase::ThreePointBending {
        span: 1.0,
        contact: 0.5,
    };
    let e = solve_cpu(
        &grid,
        YoungPoisson::tantalum(),
        &bend,
        &SolverOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("loading strip"), "{e}");
}

fn multigrid() -> SolverOptions {
    SolverOptions {
        preconditioner: voxfe::fem::Preconditioner::Multigrid,
        ..Default::default()
    }
}

fn jacobi() -> SolverOptions {
    SolverOptions {
        preconditioner: voxfe::fem::Preconditioner::Jacobi,
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

/// Tolerance 1e-8: at 1e-6 the multigrid moduli are up to 5e-5 off (the
/// residual of a few big multigrid steps is not spread like Jacobi's), at
/// 1e-8 within 1e-6 of the 1e-10 reference.
fn at_1e8(o: SolverOptions) -> SolverOptions {
    SolverOptions {
        tolerance: 1e-8,
        ..o
    }
}

#[test]
fn multigrid_gives_the_jacobi_moduli_in_far_fewer_iterations() {
    // RD lattice (both platen kinds) and the solid bar in bending.
    let cases = [
        (rd_grid(0.1), FRICTIONLESS),
        (rd_grid(0.1), BONDED),
        (
            VoxelGrid::full([80, 10, 10], 1.0),
            LoadCase::ThreePointBending {
                span: 60.0,
                contact: 2.0,
            },
        ),
    ];
    let m = YoungPoisson::tantalum();
    for (grid, load) in cases {
        let j = solve_cpu(&grid, m, &load, &at_1e8(jacobi())).unwrap();
        let g = solve_cpu(&grid, m, &load, &at_1e8(multigrid())).unwrap();
        assert!(j.converged && g.converged);
        let modulus = |r: &voxfe::fem::SolveResult| r.e_eff.or(r.e_flex).unwrap();
        let (a, b) = (modulus(&j), modulus(&g));
        assert!(
            (a - b).abs() <= 1e-5 * a,
            "{load:?}: jacobi {a}, multigrid {b}"
        );
        assert!(
            5 * g.iterations < j.iterations,
            "{load:?}: multigrid {} iterations, jacobi {}",
            g.iterations,
            j.iterations
        );
    }
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
