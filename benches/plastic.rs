//! The plastic solve's two brick passes on `scenes/rd-compression.toml`
//! as `voxfe plastic` runs it (fraction fill, the B̄ hex8 brick): the
//! consistent tangent's action (in f64, and in f32 as every PCG iteration
//! of a Newton step applies it) and
//! the internal forces with the J2 stress update (every Newton step).
//!
//! `cargo bench --bench plastic` (`-- "tangent apply"` for one). The
//! displacement is a uniform compression of 0.4 %, past first yield at
//! most of the lattice's points, so the tangent has the plateau's mix of
//! yielding and elastic points. `VOXFE_SCENES` names another scenes
//! folder; `VOXFE_BENCH_H` another voxel size (mm).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use voxfe::fem::hex8::Element;
use voxfe::fem::Problem;
use voxfe::pipeline::load::load_case;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::plastic::elements::{Assembly, Bricks};
use voxfe::plastic::material::{State, J2};
use voxfe::scene::Scene;

fn scenes_dir() -> PathBuf {
    std::env::var("VOXFE_SCENES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes"))
}

fn brick_passes(c: &mut Criterion) {
    let h = std::env::var("VOXFE_BENCH_H").unwrap_or_else(|_| "0.05".into());
    let set = [format!("voxel.size={h}"), "solver.element=hex8".to_string()];
    let scene = Scene::load(&scenes_dir().join("rd-compression.toml"), &set).expect("scene loads");
    let (_, vox, _) = voxelize_scene(&scene).expect("voxelizes");
    let load = load_case(&scene).expect("load case");
    let grid = vox.grid;
    let elastic = scene.material().expect("material");
    let problem = Problem::with_element(&grid, elastic, &load, Element::Hex8).expect("problem");
    let bricks = Bricks::new(&grid, &problem.mesh, true);
    let assembly = Assembly {
        grid: &grid,
        mesh: &problem.mesh,
        bricks: &bricks,
        material: J2 {
            elastic,
            yield_strength: 103.0,
            hardening: 0.0,
        },
    };
    let n = problem.mesh.len();
    let mut u = vec![0.0; 3 * n];
    for (node, un) in u.chunks_mut(3).enumerate() {
        let p = problem.mesh.position(node);
        un[0] = 0.0016 * p[0];
        un[1] = 0.0016 * p[1];
        un[2] = -0.004 * p[2];
    }
    let points = 8 * bricks.len();
    let old = vec![State::default(); points];
    let mut trial = old.clone();
    let mut tangent = vec![assembly.material.elastic_tangent().into(); points];
    let mut buffer = Vec::new();
    let yielding = assembly
        .internal_force(&u, &old, &mut trial, &mut tangent, &mut buffer)
        .plastic_points;
    eprintln!(
        "h = {h} mm: {} bricks, {n} active nodes, {yielding} of {points} points yielding",
        bricks.len()
    );
    let mut g = c.benchmark_group("plastic rd-compression");
    g.throughput(Throughput::Elements(bricks.len() as u64));
    let mut y = vec![0.0; 3 * n];
    g.bench_function(format!("tangent apply h={h} (bricks)"), |b| {
        b.iter(|| assembly.apply_tangent(&tangent, &u, &mut y, &mut buffer))
    });
    // What a Newton step's PCG applies: the same product in f32, with the
    // load case's constraints.
    let mut single = Vec::new();
    let fixed = &problem.bc.fixed;
    g.bench_function(format!("tangent apply f32 h={h} (bricks)"), |b| {
        b.iter(|| assembly.apply_constrained_single(&tangent, fixed, &u, &mut y, &mut single))
    });
    g.bench_function(format!("internal force h={h} (bricks)"), |b| {
        b.iter(|| assembly.internal_force(&u, &old, &mut trial, &mut tangent, &mut buffer))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = brick_passes
}
criterion_main!(benches);
