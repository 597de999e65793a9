//! Voxelizer throughput: a 256³ rhombic dodecahedron grid (16.8 M voxels)
//! of binary voxels (`voxel.fill = "binary"`, set here: the default is
//! fraction fill), centre sampling plus the largest-component search.
//!
//! `cargo bench --bench voxelize`. Target: under 1 s on a 2-core machine.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

fn rd_256() -> Scene {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenes/rd-compression.toml"
    ));
    // 8 cells of M = 1.5 mm at h = M/32: 256 voxels along each axis.
    let set = [
        "specimen.size=[12.0, 12.0, 12.0]",
        "voxel.size=0.046875",
        "lattice.porosity=0.80",
        "voxel.fill=binary",
    ]
    .map(String::from);
    Scene::load(path, &set).expect("bench scene loads")
}

fn bench(c: &mut Criterion) {
    let scene = rd_256();
    assert_eq!(scene.dims(), [256, 256, 256]);
    let mut g = c.benchmark_group("voxelize");
    g.sample_size(10);
    g.throughput(Throughput::Elements(256 * 256 * 256));
    g.bench_function("rd_256^3_porosity_0.80", |b| {
        b.iter(|| voxelize_scene(&scene).expect("voxelizes"))
    });
    let lattice = scene.lattice().unwrap();
    g.bench_function("rd_256^3_sampling_only", |b| {
        b.iter(|| voxfe::voxelize::sample(scene.dims(), scene.voxel.size, |p| lattice.contains(p)))
    });
    g.finish();
}

// No plots: criterion's plotters backend needs system fonts, which headless
// machines (CI, the lent GPU machines) do not have; the numbers are printed.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
