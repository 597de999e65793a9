//! A command reads its scene file once: the studies take a loaded
//! [`Scene`] (no study entry point takes a path) and make typed edits of
//! it, and [`voxfe::scene::loads`] counts every read of a scene file. One
//! test in this binary, so that no other test's reads are counted.

mod common;

use common::small_rd;
use voxfe::scene::{loads, Scene, Setting};
use voxfe::study::{calibrate, converge, design, sweep};

#[test]
fn every_study_runs_on_the_scene_loaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    std::fs::write(&path, small_rd(0.15)).unwrap();
    let before = loads();
    let scene = Scene::load(&path, &["solver.tolerance=1e-7".to_string()]).unwrap();
    assert_eq!(loads(), before + 1);

    // Typed edits: re-checked as a load would check them, never read again.
    let edited = scene.with_voxel_size(0.075).unwrap();
    assert_eq!(edited.voxel.size, 0.075);
    assert_eq!(
        edited.overrides(),
        ["solver.tolerance=1e-7", "voxel.size=0.075"]
    );
    let as_loaded = Scene::parse(
        &small_rd(0.15),
        &path,
        &["solver.tolerance=1e-7".into(), "voxel.size=0.075".into()],
    )
    .unwrap();
    assert_eq!(edited, as_loaded);
    // The same refusal, naming the same key and value, as a load gives.
    let edit = scene.with_porosity(1.5).unwrap_err().to_string();
    let load = Scene::parse(&small_rd(0.15), &path, &["lattice.porosity=1.5".into()])
        .unwrap_err()
        .to_string();
    assert_eq!(edit, load);
    assert!(edit.contains("lattice.porosity"), "{edit}");
    let bad = scene
        .with_settings(&[Setting::parse("lattice.kind=cube").unwrap()])
        .unwrap_err()
        .to_string();
    assert!(bad.contains("lattice.kind=cube"), "{bad}");

    // Every study, on the scene.
    let (_, rows) = sweep::run(
        &scene,
        &["lattice.porosity=0.7,0.75".into()],
        None,
        |_, _, _| {},
    )
    .unwrap();
    assert!(rows.iter().all(|r| r.is_ok()), "{rows:?}");
    let opts = design::DesignOptions {
        target: 1000.0,
        max_solves: 1,
        ..Default::default()
    };
    let _ = design::run(&scene, &opts, |_, _, _, _| {});
    converge::level_scenes(&scene, 3, 2.0).unwrap();
    // The lattice's reference is cached by the sweep above.
    let cache = voxfe::calibration::process_cache();
    calibrate::calibrate(&scene, cache, &mut |_| {}).unwrap();
    assert_eq!(loads(), before + 1, "a study read the scene file again");
}
