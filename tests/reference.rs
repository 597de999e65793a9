//! Committed reference values: the shipped scenes' moduli, iteration and
//! node counts on the CPU solver (`tests/reference_values/`), so that a
//! change that moves a number is seen; with the defaults (fraction fill,
//! incompatible element, calibrated exponent) and, for the scenes that
//! have one, the classic binary hex8 path (an entry's `set` overrides);
//! and every shipped scene loads.

mod common;

use common::{scene_path, voxfe, SHIPPED_SCENES};
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference_values/shipped-scenes.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `--set` overrides of a reference entry (none when it has no `set`).
fn overrides(entry: &Value) -> Vec<String> {
    entry["set"].as_array().map_or_else(Vec::new, |set| {
        set.iter()
            .map(|s| s.as_str().expect("`set` holds strings").to_string())
            .collect()
    })
}

/// Runs `scene` with the overrides `set` as the reference file's command
/// says and checks its values against the entry with exactly those
/// overrides.
fn check(scene: &str, set: &[&str]) {
    let doc = reference();
    let tol = doc["rel_tol"].as_f64().unwrap();
    let entry = doc["scenes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["scene"] == scene && overrides(e) == set)
        .unwrap_or_else(|| panic!("{scene} {set:?} has no reference values"));
    let path = format!("{}/{scene}", env!("CARGO_MANIFEST_DIR"));
    let mut args = vec!["run", &path, "--backend", "cpu", "--json", "-q"];
    for s in set {
        args.extend(["--set", s]);
    }
    let out = voxfe(&args);
    assert!(
        out.status.success(),
        "{scene}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (key, want) in entry["values"].as_object().unwrap() {
        let (g, w) = (got[key].as_f64().unwrap(), want.as_f64().unwrap());
        assert!(
            (g - w).abs() <= tol * w.abs(),
            "{scene} {set:?}: {key} = {g:?}, reference {w:?} (rel. tol. {tol:e}, {:e} off)",
            (g / w - 1.0).abs()
        );
    }
    for key in ["active_nodes", "iterations", "multigrid_levels"] {
        assert_eq!(got[key], entry[key], "{scene} {set:?}: {key}");
    }
}

/// The classic voxel model: binary fill and the trilinear brick.
const BINARY_HEX8: [&str; 2] = ["voxel.fill=binary", "solver.element=hex8"];

#[test]
fn rd_compression_gives_its_reference_modulus() {
    check("scenes/rd-compression.toml", &[]);
}

#[test]
fn rd_compression_binary_hex8_gives_its_reference_modulus() {
    check("scenes/rd-compression.toml", &BINARY_HEX8);
}

#[test]
fn bar_bending_gives_its_reference_modulus() {
    check("scenes/bar-bending.toml", &[]);
}

#[test]
fn bar_bending_binary_hex8_gives_its_reference_modulus() {
    check("scenes/bar-bending.toml", &BINARY_HEX8);
}

#[test]
fn vbr_25_gives_its_reference_stiffness() {
    check("scenes/vbr-25.toml", &[]);
}

#[test]
fn vbr_25_stl_gives_its_reference_stiffness() {
    check("scenes/vbr-25-stl.toml", &[]);
}

#[test]
fn every_shipped_scene_loads_and_is_listed() {
    let mut listed: Vec<String> = std::fs::read_dir(scene_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    listed.sort();
    assert_eq!(listed, SHIPPED_SCENES, "tests/common SHIPPED_SCENES");
    for name in SHIPPED_SCENES {
        let path = scene_path(name);
        let out = voxfe(&["voxelize", path.to_str().unwrap(), "--json"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
