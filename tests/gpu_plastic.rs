//! The plastic solve on the GPU: the stress-update and tangent kernels
//! against their CPU mirrors (and the mirrors against the CPU plastic
//! code), the uniaxial J2 curve of a solid block, and the curve of a
//! lattice against the CPU's. On whatever adapter there is (lavapipe in
//! CI); without one the GPU parts print that they were skipped, unless
//! VOXFE_REQUIRE_GPU=1.

mod common;

use common::{assert_bilinear_curve, j2_tantalum as tantalum, plastic_opts as opts};
use rand::{Rng, SeedableRng};
use std::path::Path;
use voxfe::fem::hex8::Element;
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::fem::mesh::ActiveMesh;
use voxfe::fem::{Preconditioner, Problem};
use voxfe::gpu::mirror;
use voxfe::gpu::plastic::GpuPlastic;
use voxfe::gpu::{context_or_skip, AdapterRequest, GpuContext};
use voxfe::grid::VoxelGrid;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::plastic::curve::offset_yield;
use voxfe::plastic::elements::{Assembly, Bricks};
use voxfe::plastic::engine::DeviceBricks;
use voxfe::plastic::material::State;
use voxfe::plastic::solve::{solve, solve_on};
use voxfe::scene::Scene;

const COMPRESSION: LoadCase = LoadCase::Compression {
    platens: Platens::Frictionless,
};

fn context(what: &str) -> Option<GpuContext> {
    context_or_skip(&AdapterRequest::default(), what)
}

/// The small RD lattice (2×2×2 cells of 1.5 mm, 70 %) at voxel size `h`
/// with fraction fill (φ² weights): full, partial and void voxels.
fn rd_fraction(h: f64) -> VoxelGrid {
    let set = ["voxel.fraction_exponent=2".to_string()];
    let s = Scene::parse(&common::small_rd(h), Path::new("rd.toml"), &set).unwrap();
    let grid = voxelize_scene(&s).unwrap().1.grid;
    assert!(grid.fraction.is_some(), "fraction fill");
    grid
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, &x| a.max(x.abs()))
}

/// A compressed displacement with noise, so that some points yield and
/// others do not; and converged states with plastic strain at some points.
fn loaded(mesh: &ActiveMesh, grid: &VoxelGrid, points: usize, seed: u64) -> (Vec<f64>, Vec<State>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let lz = grid.size()[2];
    let mut u = vec![0.0; 3 * mesh.len()];
    for n in 0..mesh.len() {
        let z = mesh.coords(n)[2] as f64 * grid.h;
        u[3 * n + 2] = -0.004 * z;
        for q in 0..3 {
            u[3 * n + q] += 2e-4 * lz * rng.random_range(-1.0..1.0);
        }
    }
    let old = (0..points)
        .map(|p| {
            if p % 3 == 0 {
                let e: [f64; 6] = std::array::from_fn(|_| 1e-4 * rng.random_range(-1.0..1.0));
                State {
                    plastic_strain: [e[0], e[1], -e[0] - e[1], e[3], e[4], e[5]],
                    alpha: 2e-4 * rng.random_range(0.0..1.0),
                }
            } else {
                State::default()
            }
        })
        .collect();
    (u, old)
}

fn flat_states(s: &[State]) -> Vec<f64> {
    s.iter()
        .flat_map(|s| s.plastic_strain.into_iter().chain([s.alpha]))
        .collect()
}

/// `plastic_update` + `plastic_force` (f64) against their mirrors, and
/// the mirrors against the CPU plastic code (`Assembly::internal_force`):
/// the forces, the trial states and the count of yielding points; then
/// `tangent_brick` + `tangent_gather` (f32) against their mirrors on the
/// tangents the device computed, and the mirrors against the CPU's
/// constrained tangent apply.
#[test]
fn the_plastic_kernels_match_their_mirrors_and_the_cpu_code() {
    let grid = rd_fraction(0.25);
    let m = tantalum(2_000.0);
    let problem = Problem::with_element(&grid, m.elastic, &COMPRESSION, Element::Hex8).unwrap();
    let (mesh, fixed) = (&problem.mesh, &problem.bc.fixed);
    let bricks = Bricks::new(&grid, mesh, true);
    let asm = Assembly {
        grid: &grid,
        mesh,
        bricks: &bricks,
        material: m,
    };
    let points = 8 * bricks.len();
    let (u, old) = loaded(mesh, &grid, points, 7);
    // The CPU plastic code.
    let mut trial = vec![State::default(); points];
    let mut tangent = vec![m.elastic_tangent().into(); points];
    let mut buffer = Vec::new();
    let cpu = asm.internal_force(&u, &old, &mut trial, &mut tangent, &mut buffer);
    assert!(
        cpu.plastic_points > points / 20 && cpu.plastic_points < points,
        "{} of {points} points yield",
        cpu.plastic_points
    );
    // The mirrors.
    let arrays = DeviceBricks::of(&asm);
    let input = arrays.input(&asm);
    let params = input.params();
    let constants = input.constants();
    let old_flat = flat_states(&old);
    let brick_nodes: Vec<u32> = bricks.nodes.iter().flatten().copied().collect();
    let node_bricks: Vec<u32> = arrays.node_bricks.iter().flatten().copied().collect();
    let mut m_trial = vec![0.0; 7 * points];
    let mut m_tangent = vec![0.0f32; 8 * points];
    let mut m_forces = vec![0.0; 24 * bricks.len()];
    let bindings = mirror::UpdateBindings {
        brick_nodes: &brick_nodes,
        constants: &constants,
        scale: &arrays.scale,
        u: &u,
        old_state: &old_flat,
    };
    let m_count = mirror::plastic_update(
        &params,
        &bindings,
        &mut m_trial,
        &mut m_tangent,
        &mut m_forces,
    );
    let mut m_force = vec![0.0; u.len()];
    mirror::plastic_force(&params, &node_bricks, &m_forces, &mut m_force);
    assert_eq!(m_count as usize, cpu.plastic_points);
    let scale = max_abs(&cpu.force);
    for (a, b) in m_force.iter().zip(&cpu.force) {
        assert!(
            (a - b).abs() <= 1e-12 * scale,
            "mirror force {a} vs cpu {b}"
        );
    }
    for (a, b) in m_trial.iter().zip(&flat_states(&trial)) {
        assert!(
            (a - b).abs() <= 1e-15 + 1e-12 * b.abs(),
            "mirror state {a} vs cpu {b}"
        );
    }
    // The tangent mirrors on the CPU's point tangents, against the CPU's
    // constrained apply: y = P Kᵀ P x + (I − P) x.
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let x: Vec<f64> = (0..u.len())
        .map(|_| rng.random_range(-1e-3..1e-3))
        .collect();
    let mut masked = x.clone();
    for (n, &f) in fixed.iter().enumerate() {
        for c in 0..3 {
            if f & (1 << c) != 0 {
                masked[3 * n + c] = 0.0;
            }
        }
    }
    let mut y_cpu = vec![0.0; x.len()];
    asm.apply_tangent(&tangent, &masked, &mut y_cpu, &mut buffer);
    for (n, &f) in fixed.iter().enumerate() {
        for c in 0..3 {
            if f & (1 << c) != 0 {
                y_cpu[3 * n + c] = x[3 * n + c];
            }
        }
    }
    let flags: Vec<u32> = mesh
        .pattern
        .iter()
        .zip(fixed)
        .map(|(&p, &f)| p as u32 | (f as u32) << 8)
        .collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let constants32 = input.constants32();
    let scale32: Vec<f32> = arrays.scale.iter().map(|&v| v as f32).collect();
    let mirror_apply = |tangent32: &[f32]| {
        let tb = mirror::TangentBindings {
            brick_nodes: &brick_nodes,
            constants: &constants32,
            scale: &scale32,
            flags: &flags,
            x: &x32,
            tangent: tangent32,
        };
        let mut products = vec![0.0f32; 24 * bricks.len()];
        mirror::tangent_brick(&params, &tb, &mut products);
        let mut y = vec![0.0f32; x.len()];
        mirror::tangent_gather(&params, &flags, &x32, &products, &node_bricks, &mut y);
        y.iter().map(|&v| v as f64).collect::<Vec<f64>>()
    };
    let y_mirror = mirror_apply(&m_tangent);
    let ys = max_abs(&y_cpu);
    for (a, b) in y_mirror.iter().zip(&y_cpu) {
        assert!((a - b).abs() <= 2e-5 * ys, "mirror tangent {a} vs cpu {b}");
    }

    let Some(ctx) = context("the plastic kernels") else {
        return;
    };
    if !ctx.has_f64() {
        eprintln!(
            "skipped the plastic kernels: {} has no SHADER_F64",
            ctx.adapter_name()
        );
        return;
    }
    let gpu = GpuPlastic::new(
        &ctx,
        mesh,
        &problem.table,
        fixed,
        &input,
        Preconditioner::Multigrid,
    )
    .unwrap();
    gpu.set_states(&old_flat);
    let (g_force, g_count) = gpu.internal_force(&u).unwrap();
    assert_eq!(g_count, m_count as usize, "yielding points");
    for (a, b) in g_force.iter().zip(&m_force) {
        assert!(
            (a - b).abs() <= 1e-12 * scale,
            "device force {a} vs mirror {b}"
        );
    }
    let (g_trial, g_tangent) = gpu.trial().unwrap();
    for (a, b) in g_trial.iter().zip(&m_trial) {
        assert!(
            (a - b).abs() <= 1e-15 + 1e-12 * b.abs(),
            "device state {a} vs mirror {b}"
        );
    }
    for (a, b) in g_tangent.iter().zip(&m_tangent) {
        assert!(
            (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
            "device tangent {a} vs mirror {b}"
        );
    }
    let y_gpu = gpu.apply_tangent(&x).unwrap();
    let y_mirror = mirror_apply(&g_tangent);
    for (a, b) in y_gpu.iter().zip(&y_mirror) {
        assert!(
            (a - b).abs() <= 1e-5 * ys,
            "device tangent apply {a} vs mirror {b}"
        );
    }
    // A commit makes the trial states the converged ones.
    gpu.commit().unwrap();
    let states = gpu.states().unwrap();
    assert_eq!(states[..7 * points], g_trial[..7 * points]);
}

#[test]
fn a_solid_block_reproduces_the_uniaxial_j2_curve_on_the_gpu() {
    let Some(ctx) = context("the plastic block on the GPU") else {
        return;
    };
    if !ctx.has_f64() {
        eprintln!("skipped: {} has no SHADER_F64", ctx.adapter_name());
        return;
    }
    let grid = VoxelGrid::full([3, 3, 4], 0.25);
    for h in [0.0, 5_000.0] {
        let m = tantalum(h);
        let s = solve_on(&grid, m, &COMPRESSION, &opts(0.004, 16), Some(&ctx)).unwrap();
        assert_eq!(s.backend, "gpu");
        assert_bilinear_curve(&s, &m, 16);
    }
}

/// The GPU's curve of an RD lattice with partial voxels is the CPU's to
/// 1e-4 at every step (both converge Newton to 10⁻⁶ of the forces; the
/// GPU's PCG runs in f32), and so are E_eff and σ_0.2.
#[test]
fn gpu_and_cpu_curves_agree_on_a_lattice() {
    let Some(ctx) = context("the plastic lattice on the GPU") else {
        return;
    };
    if !ctx.has_f64() {
        eprintln!("skipped: {} has no SHADER_F64", ctx.adapter_name());
        return;
    }
    let grid = rd_fraction(0.15);
    let m = tantalum(0.0);
    let o = opts(0.012, 6);
    let cpu = solve(&grid, m, &COMPRESSION, &o).unwrap();
    let gpu = solve_on(&grid, m, &COMPRESSION, &o, Some(&ctx)).unwrap();
    assert!(cpu.points.iter().any(|p| p.plastic_points > 0), "it yields");
    assert_eq!(cpu.points.len(), gpu.points.len());
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(
        rel(gpu.elastic_modulus, cpu.elastic_modulus) < 1e-4,
        "E_eff {} vs {}",
        gpu.elastic_modulus,
        cpu.elastic_modulus
    );
    for (g, c) in gpu.points.iter().zip(&cpu.points) {
        assert_eq!(g.strain, c.strain);
        assert!(
            rel(g.stress, c.stress) < 1e-4,
            "ε {}: σ {} (GPU) vs {} (CPU)",
            c.strain,
            g.stress,
            c.stress
        );
    }
    let curve = |s: &voxfe::plastic::solve::PlasticSolution| -> Vec<(f64, f64)> {
        s.points.iter().map(|p| (p.strain, p.stress)).collect()
    };
    let (og, oc) = (
        offset_yield(&curve(&gpu), gpu.elastic_modulus).unwrap(),
        offset_yield(&curve(&cpu), cpu.elastic_modulus).unwrap(),
    );
    assert!(
        rel(og.stress, oc.stress) < 1e-4,
        "σ_0.2 {} vs {}",
        og.stress,
        oc.stress
    );
    let (ag, ac) = (&gpu.voxel_plastic_strain, &cpu.voxel_plastic_strain);
    let amax = max_abs(ac);
    assert!(amax > 0.0);
    for (a, b) in ag.iter().zip(ac) {
        assert!((a - b).abs() <= 1e-3 * amax, "ᾱ {a} vs {b}");
    }
}
