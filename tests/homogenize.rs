//! Periodic homogenization against exact solutions: a solid cell gives the
//! isotropic C of its material, a two-phase laminate the exact laminate
//! stiffness, and both backends, both preconditioners and both elements
//! agree; the multigrid's iteration counts stay flat in h.

#![allow(clippy::needless_range_loop)]

use approx::assert_relative_eq;
use voxfe::fem::hex8::Element;
use voxfe::fem::{Preconditioner, SolverOptions};
use voxfe::grid::VoxelGrid;
use voxfe::homogenize::solve::{homogenize_cpu, homogenize_gpu, Homogenization};
use voxfe::homogenize::tensor::Stiffness;
use voxfe::material::YoungPoisson;

const TA: YoungPoisson = YoungPoisson {
    e: 186_000.0,
    nu: 0.34,
};

fn opts(preconditioner: Preconditioner) -> SolverOptions {
    SolverOptions {
        tolerance: 1e-10,
        preconditioner,
        ..Default::default()
    }
}

/// The isotropic C of `m` in Voigt order 11 22 33 23 13 12.
fn isotropic(m: YoungPoisson, scale: f64) -> [[f64; 6]; 6] {
    let d = m.elasticity_matrix();
    std::array::from_fn(|i| std::array::from_fn(|j| scale * d[(i, j)]))
}

fn assert_close(c: &Stiffness, expected: &[[f64; 6]; 6], rel: f64) {
    let scale = expected
        .iter()
        .flatten()
        .fold(0.0f64, |a, v| a.max(v.abs()));
    for i in 0..6 {
        for j in 0..6 {
            assert!(
                (c.0[i][j] - expected[i][j]).abs() <= rel * scale,
                "C[{i}][{j}] = {} expected {} (C = {:?})",
                c.0[i][j],
                expected[i][j],
                c.0
            );
        }
    }
}

fn converged(h: Homogenization) -> Homogenization {
    assert!(h.converged, "not converged: {:?}", h.columns);
    h
}

#[test]
fn a_solid_cell_gives_the_isotropic_stiffness_of_its_material() {
    let grid = VoxelGrid::full([4, 3, 5], 0.1);
    for element in [Element::Hex8, Element::Incompatible] {
        let o = SolverOptions {
            element,
            ..opts(Preconditioner::Jacobi)
        };
        let h = converged(homogenize_cpu(&grid, TA, &o).unwrap());
        assert_close(&h.stiffness, &isotropic(TA, 1.0), 1e-12);
        assert_eq!(h.solid_fraction, 1.0);
        // An affine field is the exact solution: no fluctuation to solve
        // (the condensed incompatible element's rows sum to zero only to
        // round-off, so it iterates on that round-off).
        if element == Element::Hex8 {
            assert!(
                h.columns.iter().all(|c| c.iterations == 0),
                "{:?}",
                h.columns
            );
        }
    }
}

/// Layers normal to z: `phi[k]` the solid fraction of voxel layer k.
fn laminate(n: usize, phi: &[f32]) -> VoxelGrid {
    let mut grid = VoxelGrid::full([n, n, phi.len()], 0.05);
    let per_layer = n * n;
    grid.fraction = Some(
        phi.iter()
            .flat_map(|&p| std::iter::repeat_n(p, per_layer))
            .collect(),
    );
    grid
}

/// The exact stiffness of layers normal to 3 whose phases are the material's
/// C scaled by `s` (equal volumes): C_ab = ⟨C_ab − C_a3 C_3b / C_33⟩ +
/// ⟨C_a3/C_33⟩⟨C_3b/C_33⟩/⟨1/C_33⟩ for in-plane a, b; C_a3 = ⟨C_a3/C_33⟩/⟨1/C_33⟩;
/// C_33 and the transverse shears C_44, C_55 harmonic (Reuss), C_66
/// arithmetic (Voigt).
fn laminate_exact(m: YoungPoisson, s: &[f64]) -> [[f64; 6]; 6] {
    let c = isotropic(m, 1.0);
    let mean = |f: &dyn Fn(f64) -> f64| s.iter().map(|&x| f(x)).sum::<f64>() / s.len() as f64;
    let arith = mean(&|x| x);
    let harm = 1.0 / mean(&|x| 1.0 / x);
    let mut out = [[0.0; 6]; 6];
    // In the laminate's own derivation with proportional phases:
    let r = c[0][2] / c[2][2];
    for a in 0..2 {
        for b in 0..2 {
            out[a][b] = arith * (c[a][b] - c[a][2] * c[2][b] / c[2][2]) + r * r * c[2][2] * harm;
        }
        out[a][2] = r * c[2][2] * harm;
        out[2][a] = out[a][2];
    }
    out[2][2] = c[2][2] * harm;
    out[3][3] = c[3][3] * harm;
    out[4][4] = c[4][4] * harm;
    out[5][5] = c[5][5] * arith;
    out
}

#[test]
fn a_two_phase_laminate_gives_the_exact_laminate_stiffness() {
    let phi = [1.0f32, 1.0, 0.25, 0.25, 0.25, 1.0];
    let s: Vec<f64> = phi.iter().map(|&p| p as f64).collect();
    let grid = laminate(3, &phi);
    let exact = laminate_exact(TA, &s);
    for pre in [Preconditioner::Jacobi, Preconditioner::Multigrid] {
        let h = converged(homogenize_cpu(&grid, TA, &opts(pre)).unwrap());
        assert_close(&h.stiffness, &exact, 1e-8);
    }
    // Normal to z: the stacking direction is the soft (Reuss) one, the
    // in-plane shear the stiff (Voigt) one.
    let e = isotropic(TA, 1.0);
    assert!(exact[2][2] < exact[0][0]);
    assert_relative_eq!(exact[5][5], e[5][5] * 0.625, max_relative = 1e-12);
    assert_relative_eq!(
        exact[3][3],
        e[3][3] / (0.5 + 0.5 / 0.25),
        max_relative = 1e-12
    );
}

#[test]
fn the_fraction_exponent_gives_the_laminate_of_the_weighted_phases() {
    // With p = 2 the soft layers' stiffness is 0.25²·C, the laminate's
    // exact C follows with those weights, while Σφ (the volume) is as
    // for p = 1.
    let phi = [1.0f32, 0.25, 0.25, 1.0];
    let mut grid = laminate(3, &phi);
    grid.fraction_exponent = 2.0;
    let s: Vec<f64> = phi.iter().map(|&p| (p as f64).powi(2)).collect();
    let exact = laminate_exact(TA, &s);
    for pre in [Preconditioner::Jacobi, Preconditioner::Multigrid] {
        let h = converged(homogenize_cpu(&grid, TA, &opts(pre)).unwrap());
        assert_close(&h.stiffness, &exact, 1e-8);
    }
}

#[test]
fn multigrid_and_jacobi_agree_on_a_porous_cell_and_multigrid_stays_flat_in_h() {
    // A cubic frame: three orthogonal square bars through the cell centre
    // (a simple-cubic lattice), which percolates only through the wrap.
    let frame = |n: usize| {
        let mut g = VoxelGrid::empty([n, n, n], 1.0 / n as f64);
        let bar = |x: usize| {
            let c = (x as f64 + 0.5) / n as f64;
            (c - 0.5).abs() < 0.2
        };
        for k in 0..n {
            for j in 0..n {
                for i in 0..n {
                    let inside = [bar(i) && bar(j), bar(j) && bar(k), bar(i) && bar(k)];
                    if inside.iter().any(|&b| b) {
                        let v = g.voxel_id(i, j, k);
                        g.solid[v] = 1;
                    }
                }
            }
        }
        g
    };
    let o = |p| SolverOptions {
        tolerance: 1e-8,
        preconditioner: p,
        ..Default::default()
    };
    let g = frame(20);
    let mg = converged(homogenize_cpu(&g, TA, &o(Preconditioner::Multigrid)).unwrap());
    let jac = converged(homogenize_cpu(&g, TA, &o(Preconditioner::Jacobi)).unwrap());
    assert_close(&mg.stiffness, &jac.stiffness.0, 1e-6);
    assert!(mg.multigrid_levels.as_ref().unwrap().len() >= 3);
    // Cubic symmetry of the frame: C11 = C22 = C33, C44 = C55 = C66.
    let c = &mg.stiffness.0;
    assert_relative_eq!(c[0][0], c[2][2], max_relative = 1e-6);
    assert_relative_eq!(c[3][3], c[5][5], max_relative = 1e-6);
    let iters = |h: &Homogenization| h.columns.iter().map(|c| c.iterations).max().unwrap();
    let fine = converged(homogenize_cpu(&frame(40), TA, &o(Preconditioner::Multigrid)).unwrap());
    assert!(
        iters(&fine) <= iters(&mg) + 6,
        "multigrid iterations grew from {} (n = 20) to {} (n = 40)",
        iters(&mg),
        iters(&fine)
    );
    assert!(iters(&jac) > 2 * iters(&mg));
}

#[test]
fn the_gpu_homogenizes_as_the_cpu_does() {
    let Some(ctx) = voxfe::gpu::context_or_skip(&Default::default(), "periodic homogenization")
    else {
        return;
    };
    let phi = [1.0f32, 0.5, 0.25, 1.0];
    // Voigt scaling (p = 1) and the weights φ² (p = 2).
    for p in [1, 2] {
        let mut grid = laminate(4, &phi);
        grid.fraction_exponent = p as f64;
        let exact = laminate_exact(TA, &phi.map(|f| (f as f64).powi(p)));
        for pre in [Preconditioner::Jacobi, Preconditioner::Multigrid] {
            let o = SolverOptions {
                tolerance: 1e-8,
                preconditioner: pre,
                ..Default::default()
            };
            let h = converged(homogenize_gpu(&ctx, &grid, TA, &o).unwrap());
            assert_close(&h.stiffness, &exact, 1e-6);
            assert_eq!(h.backend, "gpu");
        }
    }
}

#[test]
fn apply_k_wraps_as_its_mirror_and_the_f64_periodic_operator_do() {
    use voxfe::gpu::{mirror, GpuPcg, Kernel, Slot};
    use voxfe::homogenize::solve::PeriodicProblem;
    let Some(ctx) = voxfe::gpu::context_or_skip(&Default::default(), "periodic apply_k") else {
        return;
    };
    let phi = [1.0f32, 0.5, 0.25, 1.0, 0.75];
    let mut grid = laminate(3, &phi);
    // Some void, so that patterns differ across the wrap.
    grid.solid[1] = 0;
    grid.fraction.as_mut().unwrap()[1] = 0.0;
    for fill in [false, true] {
        let mut g = grid.clone();
        if !fill {
            g.fraction = None;
        }
        let problem = PeriodicProblem::new(&g, TA, Element::Hex8).unwrap();
        let gpu = GpuPcg::new(&ctx, &problem.mesh, &problem.table, &problem.fixed).unwrap();
        let prm = gpu.params;
        let n = prm.n_dofs as usize;
        let p: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        gpu.write(Slot::P, &p);
        gpu.run(&[Kernel::ApplyK]).unwrap();
        let q: Vec<f32> = gpu.read(Slot::Q).unwrap();
        let flags: Vec<u32> = gpu.read(Slot::Flags).unwrap();
        let stencil: Vec<f32> = gpu.read(Slot::Stencil).unwrap();
        let neighbours: Vec<u32> = gpu.read(Slot::Neighbours).unwrap();
        let phi: Vec<f32> = gpu.read(Slot::Phi).unwrap();
        let element: Vec<f32> = gpu.read(Slot::Element).unwrap();
        let mut cpu = vec![0.0f32; n];
        mirror::apply_k(
            &prm,
            &problem.mesh.nodes,
            &flags,
            &problem.mesh.node_map,
            &stencil,
            &neighbours,
            &mirror::FillBindings {
                phi: &phi,
                element: &element,
            },
            &p,
            &mut cpu,
        );
        let p64: Vec<f64> = p.iter().map(|&v| v as f64).collect();
        let mut q64 = vec![0.0; n];
        voxfe::fem::operator::LinearOperator::apply(&problem.operator(), &p64, &mut q64);
        let scale = q64.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for i in 0..n {
            assert!(
                (q[i] as f64 - q64[i]).abs() <= 1e-4 * scale,
                "fill {fill}: apply_k[{i}] = {} f64 {}",
                q[i],
                q64[i]
            );
            assert!(
                (cpu[i] as f64 - q64[i]).abs() <= 1e-4 * scale,
                "mirror[{i}]"
            );
        }
    }
}

#[test]
fn the_six_columns_solved_together_have_the_bits_of_six_solves_alone() {
    use voxfe::fem::cpu::Cpu;
    use voxfe::fem::solver::{LinearSolver, SolverBackend};
    use voxfe::homogenize::solve::PeriodicProblem;
    // A 21×18×19 cell, about 70 % solid, a third of its voxels partial:
    // two coarse levels below the fine one.
    let mut grid = VoxelGrid::empty([21, 18, 19], 0.1);
    for (v, s) in grid.solid.iter_mut().enumerate() {
        *s = ((v * 2_654_435_761usize) % 10 < 7) as u8;
    }
    grid.fraction = Some(
        (0..grid.solid.len())
            .map(|v| [1.0, 0.6, 0.3][(v * 40_503) % 3])
            .collect(),
    );
    for pre in [Preconditioner::Multigrid, Preconditioner::Jacobi] {
        let o = SolverOptions {
            tolerance: 1e-8,
            preconditioner: pre,
            element: Element::Incompatible,
            ..Default::default()
        };
        let problem = PeriodicProblem::new(&grid, TA, o.element).unwrap();
        let mut solver = Cpu.build(problem.system(), &o).unwrap();
        if pre == Preconditioner::Multigrid {
            let levels = solver.setup().multigrid.unwrap().0;
            assert!(levels.len() >= 3, "{levels:?}");
        }
        let together = problem.solve_columns(&mut solver, &o).unwrap();
        let (together, us) = (together.columns, together.fields);
        for j in 0..6 {
            let (alone, _, u) = problem.solve_column(&mut solver, j, &o).unwrap();
            assert!(alone.converged && alone.iterations > 3, "{alone:?}");
            assert_eq!(
                together[j].iterations, alone.iterations,
                "{pre:?} column {j}"
            );
            assert_eq!(
                together[j].relative_residual.to_bits(),
                alone.relative_residual.to_bits()
            );
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert!(bits(&us[j]) == bits(&u), "{pre:?} column {j}");
        }
    }
}
