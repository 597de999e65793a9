//! `voxfe calibrate`: the verbose view of `voxel.fraction_exponent =
//! "auto"`. It is the calibration a run makes (the p it prints is the p a
//! run with the defaults uses, through the same cache), its band is the sum
//! of its terms, the `--set` line it prints pins that p, and bad input is
//! refused with the key named.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::small_rd;
use serde_json::Value;
use voxfe::calibration::cache::Cache;
use voxfe::calibration::reference::{compute_reference, ReferenceKey, REFERENCE_EXPONENT};
use voxfe::calibration::table::Table;
use voxfe::calibration::Reference;
use voxfe::calibration::{SEARCH_TOLERANCE, SPECIMEN_EFFECT};
use voxfe::scene::Scene;
use voxfe::study::calibrate::calibrate;

/// Runs `voxfe` with its calibration cache in `cache`.
fn voxfe_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voxfe"))
        .args(args)
        .env("VOXFE_CACHE_DIR", cache)
        .env_remove("VOXFE_NO_CACHE")
        .output()
        .expect("runs voxfe")
}

/// 2×2×2 RD cells at 70 %, h = M/10, compression, on the CPU.
fn scene() -> Scene {
    Scene::parse(&small_rd(0.15), Path::new("rd.toml"), &[]).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A cache of its own holding the reference of [`scene`]'s lattice (three
/// fine cells, computed once for the tests of this binary and copied):
/// the tests calibrate at h without paying for the reference each.
fn seeded_cache() -> tempfile::TempDir {
    static SEED: OnceLock<tempfile::TempDir> = OnceLock::new();
    let seed = SEED.get_or_init(|| {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let scene = scene();
        let key = ReferenceKey::of(&scene, &scene.lattice().unwrap()).unwrap();
        let r = compute_reference(&scene, &mut Vec::new(), |_| {}).unwrap();
        Cache::at(dir.path()).put("reference", &key, &r).unwrap();
        dir
    });
    let copy = tempfile::tempdir().unwrap();
    copy_dir(seed.path(), copy.path());
    copy
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_view_is_the_calibration_a_run_makes_and_the_cache_serves_it_again() {
    let dir = seeded_cache();
    let cache = Cache::at(dir.path());
    let scene = scene();
    let mut seen = 0;
    let v = calibrate(&scene, &cache, &mut |_| seen += 1).unwrap();
    let c = v.calibrated().clone();
    assert_eq!(
        (c.n, v.lattice, v.element),
        (10, "rhombic-dodecahedron", "incompatible")
    );
    assert_eq!(v.accuracy.exponent_source, "auto");
    assert_eq!(v.accuracy.cache, Some("miss"));
    // The reference from the cache (with the cells it was computed from)
    // or the shipped table (none); every cell solved was told: the
    // search's, which starts at p = 2 and ends within the tolerance.
    match c.reference_source.as_str() {
        "cache" => assert_eq!(c.reference.cells.len(), 3),
        "shipped" => assert!(c.reference.cells.is_empty()),
        other => panic!("reference {other}, with the reference cached"),
    }
    assert_eq!(seen, c.trials.len());
    assert_eq!(c.trials[0].exponent, REFERENCE_EXPONENT);
    assert!(
        c.relative_miss.abs() <= SEARCH_TOLERANCE,
        "{}",
        c.relative_miss
    );
    assert!((1.0..=4.0).contains(&c.exponent));
    // The band is the sum of its terms, the specimen's included (a
    // compression specimen, not a periodic cell).
    let t = v.accuracy.terms.unwrap();
    assert_eq!(t.specimen, SPECIMEN_EFFECT);
    assert_eq!(v.accuracy.error_estimate, Some(t.total()));
    assert_eq!(t.search, c.relative_miss.abs());
    let text = v.to_string();
    assert!(
        text.contains(&format!(
            "± {:.2} % of the lattice modulus",
            100.0 * t.total()
        )),
        "{text}"
    );
    assert!(text.contains("cache            miss"), "{text}");

    // Again: read from the cache, no cell solved, the same calibration.
    let again = calibrate(&scene, &cache, &mut |_| seen += 1).unwrap();
    assert_eq!(again.accuracy.cache, Some("hit"));
    assert_eq!(seen, c.trials.len());
    assert_eq!(again.calibrated(), &c);

    // A scene with binary fill is shown what the defaults do, and says so.
    let binary = scene
        .with_settings(&[voxfe::scene::Setting::new("voxel.fill", "binary")])
        .unwrap();
    let b = calibrate(&binary, &cache, &mut |_| panic!("cached")).unwrap();
    assert_eq!(b.calibrated().exponent, c.exponent);
    assert!(b
        .to_string()
        .contains("the scene sets voxel.fill = \"binary\""));
}

/// A cached exponent belongs to the reference it was searched against: when
/// the reference changes (a new shipped table, a recomputed reference) the
/// old entry is not reused, and the old reference finds it again.
#[test]
fn a_calibration_against_another_reference_is_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    // hex8: no shipped reference, so the cached one is the one used.
    let scene = scene()
        .with_settings(&[voxfe::scene::Setting::new("solver.element", "hex8")])
        .unwrap();
    let key = ReferenceKey::of(&scene, &scene.lattice().unwrap()).unwrap();
    let shipped_key = ReferenceKey {
        element: "incompatible".into(),
        ..key.clone()
    };
    let near = Table::shipped()
        .lookup(&shipped_key)
        .expect("RD 70 % is shipped")
        .reference;
    let put = |e_rel: f64| {
        let r = Reference {
            e_rel,
            ..near.clone()
        };
        cache.put("reference", &key, &r).unwrap();
    };
    let run = || {
        let v = calibrate(&scene, &cache, &mut |_| {}).unwrap();
        (v.calibrated().exponent, v.accuracy.cache.unwrap())
    };
    put(near.e_rel);
    let (p1, first) = run();
    assert_eq!(first, "miss");
    assert_eq!(run(), (p1, "hit"));
    // A softer reference: searched again, a larger exponent.
    put(near.e_rel * 0.97);
    let (p2, again) = run();
    assert_eq!(again, "miss");
    assert!(p2 > p1, "p {p2} against {p1}");
    // The first reference back: its own entry, read.
    put(near.e_rel);
    assert_eq!(run(), (p1, "hit"));
}

#[test]
fn the_printed_exponent_is_the_runs_and_the_pin_line_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = seeded_cache();
    let cache = seeded.path();
    let path = dir.path().join("rd.toml");
    std::fs::write(&path, small_rd(0.15)).unwrap();
    let p = path.to_str().unwrap();

    let v = json_of(&voxfe_in(cache, &["calibrate", p, "--json", "-q"]));
    let exponent = v["accuracy"]["exponent"].as_f64().unwrap();
    assert_eq!(v["accuracy"]["calibration"]["exponent"], exponent);
    assert_eq!(v["accuracy"]["cache"], "miss");
    assert_eq!(v["provenance"]["scene_path"], p);
    let pin = format!("--set voxel.fill=fraction --set voxel.fraction_exponent={exponent}");
    assert_eq!(v["pin"], pin.as_str());

    // The text, from the cache: the same p, the pin line, nothing to apply.
    let out = voxfe_in(cache, &["calibrate", p, "-q"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("p = {exponent} (")), "{text}");
    assert!(
        text.contains(&format!("pin p by hand    {pin} (")),
        "{text}"
    );
    assert!(text.contains("cache            hit"), "{text}");
    assert!(text.contains("nothing to apply"), "{text}");

    // A run with the defaults uses that p (from the cache), and the pinned
    // p gives the same modulus.
    let auto = json_of(&voxfe_in(cache, &["run", p, "--json", "-q"]));
    assert_eq!(auto["fraction_exponent"], exponent);
    let e = auto["e_eff"].as_f64().unwrap();
    let set = format!("voxel.fraction_exponent={exponent}");
    let pinned = json_of(&voxfe_in(cache, &["run", p, "--json", "-q", "--set", &set]));
    let e_pinned = pinned["e_eff"].as_f64().unwrap();
    assert!((e_pinned / e - 1.0).abs() < 1e-12, "{e_pinned} vs {e}");
}

#[test]
fn bad_input_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rd.toml");
    std::fs::write(&path, small_rd(0.15)).unwrap();
    let p = path.to_str().unwrap();
    for (set, names) in [
        ("lattice.kind=solid", "lattice.kind"),
        // M/3: too coarse to calibrate.
        ("voxel.size=0.5", "voxel.size"),
        ("voxel.fraction_exponent=7", "voxel.fraction_exponent"),
    ] {
        let out = voxfe_in(dir.path(), &["calibrate", p, "--set", set]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(names), "{set}: {err}");
    }
}
