//! Reliable updates on the device: the f64 and double-single kernels
//! (`shaders/reliable_*.wgsl`) against their CPU mirrors
//! (`voxfe::gpu::mirror::reliable_body`) and against the f64 CPU operator, and
//! the iteration counts of whole solves against the host path's. Without
//! an adapter the tests print that they were skipped, unless
//! VOXFE_REQUIRE_GPU=1.

mod common;

use common::rd_grid;
use rand::{Rng, SeedableRng};
use std::path::Path;
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::fem::operator::residual;
use voxfe::fem::operator::LinearOperator;
use voxfe::fem::{Preconditioner, Problem};
use voxfe::gpu::abi::Ds;
use voxfe::gpu::mirror::reliable_body::{self as rm, Hi};
use voxfe::gpu::{
    context_or_skip, solve_gpu, AdapterRequest, GpuContext, GpuPcg, ReliablePath, Slot,
};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

fn forced(path: ReliablePath, max_storage_binding: Option<u64>, what: &str) -> Option<GpuContext> {
    let request = AdapterRequest {
        reliable: Some(path),
        max_storage_binding,
        ..Default::default()
    };
    context_or_skip(&request, what)
}

fn random64(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |a, b| a.max(b.abs()))
}

/// The grid of `rd_grid(h)` with sub-voxel fill.
fn rd_fraction_grid(h: f64) -> VoxelGrid {
    let toml = common::small_rd(h).replace(
        &format!("[voxel]\nsize = {h}\n"),
        &format!("[voxel]\nsize = {h}\nfill = \"fraction\"\n"),
    );
    let s = Scene::parse(&toml, Path::new("rd.toml"), &[]).unwrap();
    voxelize_scene(&s).unwrap().1.grid
}

/// The largest |gpu − cpu| over max|scale|.
fn worst(gpu: &[f32], cpu: &[f64], scale: f64) -> f64 {
    gpu.iter()
        .zip(cpu)
        .map(|(&g, &c)| {
            assert!(g.is_finite(), "r not written");
            (g as f64 - c).abs()
        })
        .fold(0.0, f64::max)
        / scale
}

/// The kernels' residual and ‖r‖² as the mirror computes them over the
/// whole mesh, in `H`.
fn mirror_residual<H: Hi>(
    gpu: &GpuPcg,
    problem: &Problem,
    x_hi: &[f64],
    b: &[f64],
) -> (Vec<f32>, f64) {
    let hi = |v: &[f64]| v.iter().map(|&v| H::of_f64(v)).collect::<Vec<H>>();
    let stencil: Vec<f64> = problem.table.blocks.iter().flatten().copied().collect();
    let element: Vec<f64> = problem.table.element.iter().flatten().copied().collect();
    let flags: Vec<u32> = gpu.read(Slot::Flags).unwrap();
    let phi: Vec<f32> = gpu.read(Slot::Phi).unwrap();
    let (stencil, element) = (hi(&stencil), hi(&element));
    let mesh = rm::ResidualMesh {
        nodes: &problem.mesh.nodes,
        flags: &flags,
        node_map: &problem.mesh.node_map,
        stencil: &stencil,
        neighbours: &problem.table.neighbours,
        phi: &phi,
        element: &element,
    };
    let p = gpu.params;
    let mut r = vec![f32::NAN; b.len()];
    let mut partials = vec![H::default(); (p.n_nodes as usize).div_ceil(64)];
    rm::residual(&p, &mesh, &hi(x_hi), &hi(b), &mut r, &mut partials);
    (r, rm::reduce_rr(&p, &partials).value())
}

/// One reliable update's arithmetic on the device in `path`, twice, against
/// the f64 CPU operator and the mirror; returns (r error over max|b| in the
/// cancelling case, ‖r‖² relative error in the plain one).
fn check_update(ctx: &GpuContext, grid: &VoxelGrid, path: ReliablePath) -> (f64, f64) {
    let problem = Problem::new(
        grid,
        YoungPoisson::tantalum(),
        &LoadCase::Compression {
            platens: Platens::Frictionless,
        },
    )
    .unwrap();
    let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed[..]);
    let mut gpu = GpuPcg::new(ctx, mesh, table, fixed).unwrap();
    let n = 3 * mesh.len();
    let op = problem.operator();
    let mirror = |gpu: &GpuPcg, x: &[f64], b: &[f64]| match path {
        ReliablePath::DeviceF64 => mirror_residual::<f64>(gpu, &problem, x, b),
        _ => mirror_residual::<Ds>(gpu, &problem, x, b),
    };

    // Plain: random b and x, r of the size of b.
    let b = random64(n, 3);
    gpu.enable_reliable_updates(problem.operator(), b.clone(), 1e-8);
    assert_eq!(
        gpu.reliable_path(),
        Some(path),
        "{:?}",
        gpu.reliable_fallback()
    );
    let x: Vec<f32> = random64(n, 4).iter().map(|&v| v as f32).collect();
    gpu.write(Slot::X, &x);
    let rr_gpu = gpu.true_residual().unwrap();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let (r64, rr64) = residual(&op, &b, &x64);
    let r_gpu: Vec<f32> = gpu.read(Slot::R).unwrap();
    let plain = (rr_gpu / rr64 - 1.0).abs();
    // r comes back rounded to f32.
    let e = worst(&r_gpu, &r64, max_abs(&r64));
    assert!(e <= 1e-7, "{path:?}: r error {e:e}");
    let (r_mirror, rr_mirror) = mirror(&gpu, &x64, &b);
    assert!(
        worst(
            &r_gpu,
            &r_mirror.iter().map(|&v| v as f64).collect::<Vec<_>>(),
            max_abs(&r64)
        ) <= 1e-7
    );
    assert!(
        (rr_gpu / rr_mirror - 1.0).abs() <= 1e-13,
        "{path:?}: gpu {rr_gpu}, mirror {rr_mirror}"
    );
    // x was moved into x_hi: the solution is x, exactly; x is zero.
    assert_eq!(gpu.solution().unwrap(), x64);
    assert!(gpu.read::<f32>(Slot::X).unwrap().iter().all(|&v| v == 0.0));

    // Cancelling: b = A·x_true and x the f32 rounding of x_true, so r is
    // about 1e-7 of b and every digit of it past f32 is the kernel's.
    let x_true = random64(n, 5);
    let mut b = vec![0.0; n];
    op.apply(&x_true, &mut b);
    gpu.enable_reliable_updates(problem.operator(), b.clone(), 1e-8);
    let x1: Vec<f32> = x_true.iter().map(|&v| v as f32).collect();
    gpu.write(Slot::X, &x1);
    let rr_gpu = gpu.true_residual().unwrap();
    let x1_64: Vec<f64> = x1.iter().map(|&v| v as f64).collect();
    let (r64, rr64) = residual(&op, &b, &x1_64);
    let r_gpu: Vec<f32> = gpu.read(Slot::R).unwrap();
    let scale = max_abs(&b);
    assert!(max_abs(&r64) < 1e-5 * scale, "r cancels");
    let cancel = worst(&r_gpu, &r64, scale);
    let (r_mirror, rr_mirror) = mirror(&gpu, &x1_64, &b);
    let mirror_err = worst(
        &r_gpu,
        &r_mirror.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        scale,
    );
    assert!(
        mirror_err <= 1e-13,
        "{path:?}: gpu against mirror {mirror_err:e}"
    );
    assert!(
        (rr_gpu / rr_mirror - 1.0).abs() <= 1e-6,
        "{path:?}: gpu {rr_gpu}, mirror {rr_mirror}"
    );
    assert!(
        (rr_gpu / rr64 - 1.0).abs() <= 1e-3,
        "{path:?}: gpu {rr_gpu}, cpu {rr64}"
    );
    // A second part accumulates exactly: x_hi = x1 + x2.
    let x2: Vec<f32> = x_true
        .iter()
        .zip(&x1)
        .map(|(&t, &v)| (t - v as f64) as f32)
        .collect();
    gpu.write(Slot::X, &x2);
    gpu.true_residual().unwrap();
    let sum: Vec<f64> = x1
        .iter()
        .zip(&x2)
        .map(|(&a, &b)| a as f64 + b as f64)
        .collect();
    assert_eq!(gpu.solution().unwrap(), sum);
    eprintln!(
        "{path:?}: r error {cancel:.2e} of max|b| (cancelling), ‖r‖² relative error {plain:.2e}"
    );
    (cancel, plain)
}

/// The device paths this adapter has: f64 where it has `SHADER_F64`, and
/// double-single always.
fn device_paths(ctx: &GpuContext) -> Vec<ReliablePath> {
    let mut paths = vec![ReliablePath::DeviceDs];
    if ctx.has_f64() {
        paths.insert(0, ReliablePath::DeviceF64);
    }
    paths
}

#[test]
fn reliable_update_kernels_match_the_f64_operator_and_their_mirrors() {
    let what = "reliable_update_kernels_match_the_f64_operator";
    let Some(probe) = forced(ReliablePath::DeviceDs, None, what) else {
        return;
    };
    eprintln!("{}: SHADER_F64 {}", probe.adapter_name(), probe.has_f64());
    for path in device_paths(&probe) {
        let ctx = forced(path, None, what).unwrap();
        for grid in [rd_grid(0.1), rd_fraction_grid(0.1)] {
            let (cancel, plain) = check_update(&ctx, &grid, path);
            let (r_bound, rr_bound) = match path {
                // f64: 2⁻⁵³ per operation.
                ReliablePath::DeviceF64 => (1e-14, 1e-12),
                // double-single: about 2⁻⁴⁴ per operation.
                _ => (1e-13, 1e-12),
            };
            assert!(cancel <= r_bound, "{path:?}: r error {cancel:e} of max|b|");
            assert!(plain <= rr_bound, "{path:?}: ‖r‖² relative error {plain:e}");
        }
    }
}

#[test]
fn reliable_update_kernels_run_in_chunks() {
    // 512 KiB per binding: the high-precision stencil table (486 KiB) fits,
    // the 24-byte-a-node x_hi and b of the RD grid are bound in chunks.
    let what = "reliable_update_kernels_run_in_chunks";
    let Some(probe) = forced(ReliablePath::DeviceDs, Some(512 * 1024), what) else {
        return;
    };
    let grid = rd_grid(0.075);
    for path in device_paths(&probe) {
        let ctx = forced(path, Some(512 * 1024), what).unwrap();
        let n = voxfe::fem::mesh::ActiveMesh::new(&grid).unwrap().len() as u64;
        assert!(24 * n > 2 * 256 * 1024, "{n} nodes: more than one chunk");
        check_update(&ctx, &grid, path);
    }
}

#[test]
fn a_device_path_that_cannot_be_built_falls_back_to_the_host_and_says_why() {
    // 256 KiB per binding: the high-precision stencil table (486 KiB) does
    // not fit, so neither device path can be built; the solve still
    // converges, on host updates, and the result and a notice say why.
    let what = "a_device_path_that_cannot_be_built_falls_back_to_the_host_and_says_why";
    let Some(ctx) = forced(ReliablePath::DeviceF64, Some(256 * 1024), what) else {
        return;
    };
    let grid = rd_grid(0.15);
    let load = LoadCase::Compression {
        platens: Platens::Frictionless,
    };
    let opts = voxfe::fem::SolverOptions {
        preconditioner: Preconditioner::Jacobi,
        ..Default::default()
    };
    let mut notices = Vec::new();
    let task = voxfe::fem::solver::Loaded {
        grid: &grid,
        material: YoungPoisson::tantalum(),
        load: &load,
    };
    let r = voxfe::pipeline::solver::solve_on_gpu(&ctx, &task, &opts, &mut notices).unwrap();
    assert!(r.converged && r.relative_residual <= opts.tolerance);
    let g = r.gpu.expect("a GPU solve's figures");
    assert_eq!(g.reliable_updates.as_deref(), Some("host"));
    let why = g.reliable_fallback.as_deref().expect("a reason");
    assert!(why.contains("high-precision stencil table"), "{why}");
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("reliable updates ran on the host") && n.contains(why)),
        "{notices:?}"
    );
}

#[test]
fn device_updates_keep_the_host_paths_iteration_counts() {
    // The shipped RD scene at h = 0.1, binary hex8 voxels (the classic
    // model, quick on a software adapter): every path makes the same
    // decisions, so iterations and updates agree within one.
    let what = "device_updates_keep_the_host_paths_iteration_counts";
    let Some(probe) = forced(ReliablePath::Host, None, what) else {
        return;
    };
    let scene = Scene::load(
        &common::scene_path("rd-compression.toml"),
        &[
            "voxel.size=0.1".to_string(),
            "voxel.fill=binary".to_string(),
            "solver.element=hex8".to_string(),
        ],
    )
    .unwrap();
    let (_, vox, _) = voxelize_scene(&scene).unwrap();
    let load = voxfe::pipeline::load::load_case(&scene).unwrap();
    let m = YoungPoisson::tantalum();
    let mut paths = device_paths(&probe);
    paths.push(ReliablePath::Host);
    for p in [Preconditioner::Jacobi, Preconditioner::Multigrid] {
        let opts = voxfe::fem::SolverOptions {
            preconditioner: p,
            ..scene.solver.options()
        };
        let runs: Vec<_> = paths
            .iter()
            .map(|&path| {
                let ctx = forced(path, None, what).unwrap();
                let r = solve_gpu(&ctx, &vox.grid, m, &load, &opts).unwrap();
                let g = r.gpu.as_ref().expect("a GPU solve's figures");
                assert_eq!(g.reliable_updates.as_deref(), Some(path.name()));
                assert!(r.converged && r.relative_residual <= opts.tolerance);
                eprintln!(
                    "{p:?} {}: {} iterations, {} updates ({:.3} s of {:.3} s), E {}",
                    path.name(),
                    r.iterations,
                    g.reliable_update_count,
                    g.reliable_update_seconds,
                    r.iterations_seconds,
                    r.e_eff.unwrap()
                );
                r
            })
            .collect();
        let host = runs.last().unwrap();
        for r in &runs {
            assert!(
                r.iterations.abs_diff(host.iterations) <= 1,
                "{p:?} {:?}: {} iterations, host {}",
                r.gpu.as_ref().map(|g| &g.reliable_updates),
                r.iterations,
                host.iterations
            );
            let u = |r: &voxfe::fem::SolveResult| r.gpu.as_ref().unwrap().reliable_update_count;
            assert!(u(r).abs_diff(u(host)) <= 1);
            let (a, b) = (r.e_eff.unwrap(), host.e_eff.unwrap());
            assert!((a - b).abs() <= 1e-5 * b, "{p:?}: {a} against {b}");
        }
    }
}
