//! The multigrid hierarchy built on the device (`voxfe::gpu::galerkin`):
//! each kernel against its CPU mirror and against the host hierarchy of
//! `voxfe::fem::multigrid` (blocks, neighbours, inverse diagonal blocks,
//! λ_max, the coarsest inverse), and whole solves with the device-built
//! hierarchy against the host-built one: the same iteration counts and the
//! same solution to f32 round-off. On whatever adapter there is (lavapipe
//! here); skipped without one unless VOXFE_REQUIRE_GPU=1.

mod common;

use common::rd_grid;
use std::path::Path;
use voxfe::fem::cg::pcg;
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::fem::multigrid::Multigrid;
use voxfe::fem::{Preconditioner, Problem, SolverOptions};
use voxfe::gpu::abi::GalerkinParams;
use voxfe::gpu::galerkin::{galerkin_params, node_sets, weighted_element};
use voxfe::gpu::shaders;
use voxfe::gpu::{context_or_skip, mirror, AdapterRequest, GpuContext, GpuPcg, Slot};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

fn context(what: &str) -> Option<GpuContext> {
    context_or_skip(&AdapterRequest::default(), what)
}

/// The grid of `rd_grid(h)` with sub-voxel fill.
fn rd_fraction_grid(h: f64) -> VoxelGrid {
    let toml = common::small_rd(h).replace(
        &format!("[voxel]\nsize = {h}\n"),
        &format!("[voxel]\nsize = {h}\nfill = \"fraction\"\n"),
    );
    let s = Scene::parse(&toml, Path::new("rd.toml"), &[]).unwrap();
    let grid = voxelize_scene(&s).unwrap().1.grid;
    assert!(grid.fraction.is_some(), "fraction fill");
    grid
}

/// The problems of the tests: binary and fractional RD lattices in
/// frictionless and bonded compression, and a solid bar in three-point
/// bending.
fn cases() -> Vec<(&'static str, VoxelGrid, LoadCase)> {
    let frictionless = LoadCase::Compression {
        platens: Platens::Frictionless,
    };
    let bonded = LoadCase::Compression {
        platens: Platens::Bonded,
    };
    vec![
        (
            "rd binary, frictionless",
            rd_grid(0.1),
            frictionless.clone(),
        ),
        ("rd binary, bonded", rd_grid(0.1), bonded.clone()),
        (
            "rd fraction, frictionless",
            rd_fraction_grid(0.1),
            frictionless,
        ),
        ("rd fraction, bonded", rd_fraction_grid(0.1), bonded),
        (
            "bar, bending",
            VoxelGrid::full([40, 8, 8], 1.0),
            LoadCase::ThreePointBending {
                span: 30.0,
                contact: 2.0,
            },
        ),
    ]
}

#[test]
fn galerkin_params_struct_matches_its_wgsl_twin() {
    let src = shaders::source("mg_galerkin_fine.wgsl").unwrap();
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("GalerkinParams"))
        .expect("GalerkinParams");
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("a struct")
    };
    assert_eq!(
        (*span as usize, members.len()),
        (std::mem::size_of::<GalerkinParams>(), 16)
    );
}

/// |a − b| ≤ rel·(largest |b|) entry by entry.
fn assert_close(what: &str, got: &[f32], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    assert!(scale > 0.0, "{what}: all zero");
    let worst = got
        .iter()
        .zip(want)
        .map(|(&g, &w)| (g as f64 - w).abs())
        .fold(0.0f64, f64::max);
    assert!(
        worst <= rel * scale,
        "{what}: worst difference {worst:e}, scale {scale:e}, tolerance {rel}"
    );
}

#[test]
fn device_hierarchy_matches_its_mirrors_and_the_host_hierarchy() {
    let Some(ctx) = context("device_hierarchy_matches_its_mirrors_and_the_host_hierarchy") else {
        return;
    };
    let m = YoungPoisson::tantalum();
    for (name, grid, load) in cases() {
        let problem = Problem::new(&grid, m, &load).unwrap();
        let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed);
        let host = Multigrid::new(mesh, table, fixed).unwrap();
        let gpu = GpuPcg::with_device_multigrid(&ctx, mesh, table, fixed).unwrap();
        let dmg = gpu.multigrid().unwrap();
        let depth = host.depth();
        assert!(depth >= 3, "{name}: {depth} levels");
        assert_eq!(dmg.nodes, host.info().nodes, "{name}: nodes per level");
        let sets = node_sets(mesh);
        assert_eq!(sets.len() + 1, depth);
        for (l, set) in sets.iter().enumerate() {
            let view = host.level(l + 1);
            assert_eq!((&set.ids[..], &set.map[..]), (view.ids, view.map), "{name}");
        }
        let flags: Vec<u32> = gpu.read(Slot::Flags).unwrap();
        let node_map: Vec<u32> = gpu.read(Slot::NodeMap).unwrap();
        let phi: Vec<f32> = gpu.read(Slot::Phi).unwrap();
        let element: Vec<f32> = gpu.read(Slot::Element).unwrap();
        let fill = mesh.has_fractions();
        for l in 1..depth {
            let (fine, coarse) = (host.level(l - 1), host.level(l));
            let n = coarse.ids.len();
            let gp = galerkin_params(n, fill, fine.size, coarse.size);
            let (blocks, nbrs) = dmg.stencil(&ctx, l).unwrap().unwrap();
            // The kernel against its mirror, run on the same inputs.
            let mut mb = vec![f32::NAN; 243 * n];
            let mut mn = vec![0u32; 27 * n];
            if l == 1 {
                let weighted = weighted_element(&table.element);
                mirror::mg_galerkin_fine(
                    &gp, coarse.ids, coarse.map, &node_map, &flags, &phi, &element, &weighted,
                    &mut mb, &mut mn,
                );
            } else {
                let (fb, fnb) = dmg.stencil(&ctx, l - 1).unwrap().unwrap();
                mirror::mg_galerkin_stencil(
                    &gp, coarse.ids, coarse.map, fine.map, &fb, &fnb, &mut mb, &mut mn,
                );
            }
            let mb64: Vec<f64> = mb.iter().map(|&v| v as f64).collect();
            assert_close(
                &format!("{name}: level {l} vs mirror"),
                &blocks,
                &mb64,
                1e-6,
            );
            // Against the host's Galerkin product (summed in f64, stored in f32).
            let (hb, hn) = coarse.stencil.unwrap();
            let hb: Vec<f64> = hb.iter().flatten().map(|&v| v as f64).collect();
            assert_close(&format!("{name}: level {l} vs host"), &blocks, &hb, 2e-6);
            // Neighbours: the same wherever the host's block is more than
            // round-off (a zero block may round to a tiny one in f64).
            let scale = hb.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            for k in 0..27 * n {
                let big = hb[9 * k..9 * k + 9].iter().any(|v| v.abs() > 1e-6 * scale);
                if big || (nbrs[k] == u32::MAX) == (hn[k] == u32::MAX) {
                    assert_eq!(nbrs[k], hn[k], "{name}: level {l} neighbour {k}");
                }
                assert_eq!(nbrs[k], mn[k], "{name}: level {l} neighbour {k} vs mirror");
            }
        }
        for l in 0..depth - 1 {
            let view = host.level(l);
            let (inv, lambda) = view.smoother.unwrap();
            let got = dmg.inverse_diagonal(&ctx, l).unwrap();
            let n = view.ids.len();
            // The mirror of the inversion kernel on the device's inputs.
            let gp = galerkin_params(n, fill, view.size, view.size);
            let mut mi = vec![f32::NAN; 9 * n];
            let mut singular = u32::MAX;
            if l == 0 {
                mirror::mg_fine_inverse_diagonal(
                    &gp,
                    &flags,
                    &phi,
                    &element,
                    &mut mi,
                    &mut singular,
                );
            } else {
                let (b, _) = dmg.stencil(&ctx, l).unwrap().unwrap();
                mirror::mg_stencil_inverse_diagonal(&gp, &b, &mut mi, &mut singular);
            }
            assert_eq!(singular, u32::MAX);
            // Block by block: each inverse against its own scale.
            let inv: Vec<f64> = inv.iter().flatten().map(|&v| v as f64).collect();
            for a in 0..n {
                let r = 9 * a..9 * a + 9;
                let mi64: Vec<f64> = mi[r.clone()].iter().map(|&v| v as f64).collect();
                assert_close(
                    &format!("{name}: inverse diagonal {l}/{a} vs mirror"),
                    &got[r.clone()],
                    &mi64,
                    1e-5,
                );
                assert_close(
                    &format!("{name}: inverse diagonal {l}/{a} vs host"),
                    &got[r.clone()],
                    &inv[r],
                    1e-4,
                );
            }
            let dl = dmg.lambdas[l];
            assert!(
                (dl - lambda).abs() <= 1e-4 * lambda,
                "{name}: λ_max of level {l}: device {dl}, host {lambda}"
            );
        }
        // The coarsest inverse: the inverse of the device's own coarsest
        // blocks, assembled and factored here in f64 (the host's inverse,
        // of f64 blocks, differs by the operator's condition number times
        // the blocks' f32 round-off, up to 2 % on the fractional lattice;
        // the solve test below checks that this changes no iteration).
        let inv = dmg.coarsest_inverse(&ctx).unwrap();
        let (cb, cn) = dmg.stencil(&ctx, depth - 1).unwrap().unwrap();
        let nc = dmg.nodes[depth - 1];
        let mut a = nalgebra::DMatrix::<f64>::zeros(3 * nc, 3 * nc);
        for i in 0..nc {
            for d in 0..27 {
                let j = cn[27 * i + d];
                if j != u32::MAX {
                    for r in 0..3 {
                        for c in 0..3 {
                            a[(3 * i + r, 3 * j as usize + c)] +=
                                cb[(27 * i + d) * 9 + 3 * r + c] as f64;
                        }
                    }
                }
            }
        }
        // Cholesky, as the host factors: it reads the lower triangle.
        let want = nalgebra::Cholesky::new(a)
            .expect("positive definite")
            .inverse();
        let want: Vec<f64> = (0..9 * nc * nc)
            .map(|k| want[(k / (3 * nc), k % (3 * nc))])
            .collect();
        assert_close(&format!("{name}: coarsest inverse"), &inv, &want, 1e-5);
    }
}

#[test]
fn device_hierarchy_solves_in_the_host_hierarchys_iterations() {
    let Some(ctx) = context("device_hierarchy_solves_in_the_host_hierarchys_iterations") else {
        return;
    };
    let m = YoungPoisson::tantalum();
    let opts = SolverOptions {
        tolerance: 1e-8,
        max_iterations: 1000,
        check_every: 25,
        preconditioner: Preconditioner::Multigrid,
        element: voxfe::fem::hex8::Element::Hex8,
    };
    for (name, grid, load) in cases() {
        let problem = Problem::new(&grid, m, &load).unwrap();
        let (mesh, table, fixed) = (&problem.mesh, &problem.table, &problem.bc.fixed);
        let host = Multigrid::new(mesh, table, fixed).unwrap();
        let h = GpuPcg::with_multigrid(&ctx, mesh, table, fixed, &host).unwrap();
        let (ih, uh) = solve(h, &problem, &opts);
        let d = GpuPcg::with_device_multigrid(&ctx, mesh, table, fixed).unwrap();
        let (id, ud) = solve(d, &problem, &opts);
        assert_eq!(
            id, ih,
            "{name}: iterations, device-built vs host-built hierarchy"
        );
        let scale = uh.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let worst = uh
            .iter()
            .zip(&ud)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= 1e-6 * scale,
            "{name}: solutions differ by {worst:e} (scale {scale:e})"
        );
    }
}

/// Solves `problem` with `gpu` as `solve_gpu` does (reliable updates):
/// iterations and solution.
fn solve<'c>(mut gpu: GpuPcg<'c>, problem: &'c Problem, opts: &SolverOptions) -> (usize, Vec<f64>) {
    gpu.enable_reliable_updates(problem.operator(), problem.rhs(), opts.tolerance);
    let stats = pcg(&mut gpu, opts).unwrap();
    assert!(stats.converged);
    (stats.iterations, gpu.solution().unwrap())
}
