//! The GPU multigrid over `max_storage_buffer_binding_size`
//! (`voxfe::gpu::plan::levels`): with the binding limit lowered so that every
//! level, the fine level's vectors and the coarsest inverse are split over
//! several chunks, the device-built hierarchy is the unsplit one (stencils
//! and inverse diagonal blocks equal), and a solve gives the modulus of
//! the unsplit GPU solve and of the CPU solver in the same iterations, on
//! a solid bar and on a fractionally filled RD bar; a periodic cell, bound
//! whole, is a typed error over the limit. The V-cycle's kernels per chunk
//! against their mirrors: `split_multigrid_kernels_match_their_cpu_mirrors`
//! in tests/gpu.rs. On whatever adapter there is (lavapipe here); skipped
//! without one unless VOXFE_REQUIRE_GPU=1.

mod common;

use std::path::Path;
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::fem::{solve_cpu, Preconditioner, Problem, SolveResult, SolverOptions};
use voxfe::gpu::{context_or_skip, solve_gpu, AdapterRequest, GpuContext, GpuError, GpuPcg};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

/// The small RD lattice stretched to a 3 × 3 × 24 mm bar, with sub-voxel
/// fill: many thin grid layers, so that every level can be split into
/// chunks whose neighbour windows still fit a small binding.
pub fn rd_fraction_bar(h: f64) -> VoxelGrid {
    let toml = common::small_rd(h)
        .replace("size = [3.0, 3.0, 3.0]", "size = [3.0, 3.0, 24.0]")
        .replace(
            &format!("[voxel]\nsize = {h}\n"),
            &format!("[voxel]\nsize = {h}\nfill = \"fraction\"\n"),
        );
    let s = Scene::parse(&toml, Path::new("rd-bar.toml"), &[]).unwrap();
    let grid = voxelize_scene(&s).unwrap().1.grid;
    assert!(grid.fraction.is_some(), "fraction fill");
    grid
}

/// The two scenes and a binding limit that splits every one of their
/// multigrid levels.
fn cases() -> Vec<(&'static str, VoxelGrid, u64)> {
    vec![
        ("solid bar", VoxelGrid::full([16, 16, 240], 0.1), 768 * 1024),
        ("fractional RD bar", rd_fraction_bar(0.125), 1024 * 1024),
    ]
}

fn context(limit: Option<u64>, what: &str) -> Option<GpuContext> {
    let request = AdapterRequest {
        max_storage_binding: limit,
        ..Default::default()
    };
    context_or_skip(&request, what)
}

fn options(preconditioner: Preconditioner) -> SolverOptions {
    SolverOptions {
        tolerance: 1e-6,
        max_iterations: 2000,
        check_every: 10,
        preconditioner,
        element: voxfe::fem::hex8::Element::Hex8,
    }
}

#[test]
fn split_device_hierarchy_is_the_unsplit_one() {
    let what = "split_device_hierarchy_is_the_unsplit_one";
    let Some(whole) = context(None, what) else {
        return;
    };
    let load = LoadCase::Compression {
        platens: Platens::Bonded,
    };
    for (name, grid, limit) in cases() {
        let split = context(Some(limit), what).unwrap();
        let problem = Problem::new(&grid, YoungPoisson::tantalum(), &load).unwrap();
        let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed);
        let a = GpuPcg::with_device_multigrid(&whole, mesh, table, fixed).unwrap();
        let b = GpuPcg::with_device_multigrid(&split, mesh, table, fixed).unwrap();
        let (ma, mb) = (a.multigrid().unwrap(), b.multigrid().unwrap());
        // Unsplit: one chunk everywhere; split: several on every level.
        assert_eq!(a.chunks.len(), 1, "{name}");
        assert!(ma.chunks.iter().all(|&c| c == 1), "{name}: {:?}", ma.chunks);
        assert_eq!(ma.inverse_chunks, 1, "{name}");
        assert!(
            b.chunks.len() >= 2,
            "{name}: {} fine chunks",
            b.chunks.len()
        );
        assert_eq!(b.chunks.len(), mb.chunks[0], "{name}");
        assert!(mb.chunks.len() >= 4, "{name}: levels {:?}", mb.nodes);
        assert!(
            mb.chunks.iter().all(|&c| c >= 2),
            "{name}: chunks per level {:?}",
            mb.chunks
        );
        assert!(mb.inverse_chunks >= 2, "{name}: {}", mb.inverse_chunks);
        assert_eq!(ma.nodes, mb.nodes, "{name}");
        // The same device bytes, split or not.
        assert_eq!((a.bytes, ma.bytes), (b.bytes, mb.bytes), "{name}");
        // Every thread sums the same terms in the same order: equal bits.
        for l in 0..ma.nodes.len() {
            let sa = ma.stencil(&whole, l).unwrap();
            let sb = mb.stencil(&split, l).unwrap();
            assert!(sa == sb, "{name}: stencil of level {l}");
            if l + 1 < ma.nodes.len() {
                let (ia, ib) = (
                    ma.inverse_diagonal(&whole, l).unwrap(),
                    mb.inverse_diagonal(&split, l).unwrap(),
                );
                assert!(ia == ib, "{name}: inverse diagonal of level {l}");
            }
        }
        assert_eq!(ma.lambdas, mb.lambdas, "{name}: λ_max");
        assert_eq!(
            ma.coarsest_inverse(&whole).unwrap(),
            mb.coarsest_inverse(&split).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn split_multigrid_solves_as_the_unsplit_gpu_and_the_cpu() {
    let what = "split_multigrid_solves_as_the_unsplit_gpu_and_the_cpu";
    let Some(whole) = context(None, what) else {
        return;
    };
    let m = YoungPoisson::tantalum();
    let opts = options(Preconditioner::Multigrid);
    let modulus = |r: &SolveResult| r.e_eff.or(r.e_flex).unwrap();
    for (name, grid, limit) in cases() {
        let split = context(Some(limit), what).unwrap();
        for platens in [Platens::Frictionless, Platens::Bonded] {
            let load = LoadCase::Compression { platens };
            let cpu = solve_cpu(&grid, m, &load, &opts).unwrap();
            let a = solve_gpu(&whole, &grid, m, &load, &opts).unwrap();
            // `voxfe run`'s path: no fallback to Jacobi, no notice.
            let mut notices = Vec::new();
            let task = voxfe::fem::solver::Loaded {
                grid: &grid,
                material: m,
                load: &load,
            };
            let b =
                voxfe::pipeline::solver::solve_on_gpu(&split, &task, &opts, &mut notices).unwrap();
            assert!(notices.is_empty(), "{name}: {notices:?}");
            assert_eq!(b.preconditioner, Preconditioner::Multigrid, "{name}");
            assert!(cpu.converged && a.converged && b.converged, "{name}");
            assert!(
                b.relative_residual <= 1e-6,
                "{name}: {}",
                b.relative_residual
            );
            let (c, ea, eb) = (modulus(&cpu), modulus(&a), modulus(&b));
            println!(
                "{name} {platens:?}: cpu {c} ({} it), gpu {ea} ({} it), split gpu {eb} ({} it)",
                cpu.iterations, a.iterations, b.iterations
            );
            // Split and unsplit: the same kernels on the same numbers.
            assert!((ea - eb).abs() <= 1e-9 * ea, "{name}: gpu {ea}, split {eb}");
            assert!(a.iterations.abs_diff(b.iterations) <= 1, "{name}");
            // Against the CPU: the tolerance of tests/gpu.rs.
            assert!(
                (c - eb).abs() <= 1e-4 * c,
                "{name}: cpu {c}, split gpu {eb}"
            );
            assert!(cpu.iterations.abs_diff(b.iterations) <= 1, "{name}");
            assert_eq!(
                a.gpu.as_ref().map(|g| g.device_bytes),
                b.gpu.as_ref().map(|g| g.device_bytes),
                "{name}"
            );
        }
    }
}

#[test]
fn a_periodic_multigrid_over_the_limit_is_a_typed_error() {
    use voxfe::homogenize::solve::PeriodicProblem;
    // 1 MiB: the periodic cell's vectors fit whole, its level-1 stencil
    // blocks (972 B a node) do not, and a periodic level is bound whole.
    let what = "a_periodic_multigrid_over_the_limit_is_a_typed_error";
    let Some(ctx) = context(Some(1024 * 1024), what) else {
        return;
    };
    let grid = common::rd_grid(0.1);
    let problem =
        PeriodicProblem::new(&grid, YoungPoisson::tantalum(), Default::default()).unwrap();
    let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.fixed);
    assert!(GpuPcg::new(&ctx, mesh, table, fixed).is_ok(), "Jacobi fits");
    let e = GpuPcg::with_device_multigrid(&ctx, mesh, table, fixed)
        .err()
        .expect("over the limit");
    assert!(
        matches!(e, GpuError::TooLarge { limit: 1048576, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("periodic"), "{e}");
}

#[test]
fn a_bad_binding_cap_is_bad_input() {
    // VOXFE_MAX_STORAGE_BINDING lowers the binding limit of `voxfe run`
    // (to run the split path on a small problem); nonsense is exit 2.
    let scene = common::scene_path("rd-compression.toml");
    for value in ["lots", "2"] {
        let out = common::voxfe_command()
            .args(["run", scene.to_str().unwrap(), "--backend", "gpu"])
            .env("VOXFE_MAX_STORAGE_BINDING", value)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {err}");
        assert!(
            err.contains("VOXFE_MAX_STORAGE_BINDING") && err.contains(value),
            "{err}"
        );
    }
}
