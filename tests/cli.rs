//! `voxfe run` end to end: the JSON fields, the exit status of a solve that
//! does not converge, and the backend choice.

use std::process::Command;

const SCENE: &str = r#"
name = "small"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.7
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.1
[solver]
backend = "cpu"
"#;

fn voxfe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_voxfe"))
        .args(args)
        .output()
        .expect("runs voxfe")
}

#[test]
fn run_json_has_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    std::fs::write(&path, SCENE).unwrap();
    let out = voxfe(&["run", path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "e_eff",
        "reaction_force",
        "porosity_measured",
        "porosity_nominal",
        "solid_voxels",
        "removed_voxels",
        "total_voxels",
        "unknowns",
        "iterations",
        "relative_residual",
        "converged",
        "backend",
        "adapter",
        "solve_seconds",
        "dims",
        "strut_diameter",
        "d_over_h",
        "peak_von_mises_per_nominal",
    ] {
        assert!(v.get(key).is_some(), "--json lacks {key}: {v}");
    }
    assert_eq!(v["backend"], "cpu");
    assert_eq!(v["converged"], true);
    let e = v["e_eff"].as_f64().unwrap();
    assert!(e > 1000.0 && e < 20000.0, "E_eff {e}");
}

#[test]
fn a_solve_that_does_not_converge_exits_3_without_a_modulus() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    std::fs::write(&path, SCENE).unwrap();
    let out = voxfe(&[
        "run",
        path.to_str().unwrap(),
        "--set",
        "solver.max_iterations=3",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("NOT CONVERGED") && !stdout.contains("E_eff"),
        "{stdout}"
    );
    assert!(
        stderr.contains("did not converge") && stderr.contains("relative residual"),
        "{stderr}"
    );
}

#[test]
fn no_load_path_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    // Struts too thin for the voxels (D/h ≈ 1): nothing reaches the platens.
    std::fs::write(&path, SCENE).unwrap();
    let out = voxfe(&[
        "run",
        path.to_str().unwrap(),
        "--set",
        "lattice.porosity=0.9",
        "--set",
        "voxel.size=0.15",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no load path"), "{stderr}");
}

/// The RD scene at a coarse voxel size, with the lattice shifted off the
/// voxel grid so that E_eff changes in small steps with D.
const COARSE_RD: [&str; 6] = [
    "design",
    "scenes/rd-compression.toml",
    "--set",
    "voxel.size=0.1",
    "--set",
    "lattice.origin=[0.0137,0.0291,0.0073]",
];

#[test]
fn design_hits_a_target_modulus_within_one_percent() {
    let mut args = COARSE_RD.to_vec();
    args.extend(["--target-modulus", "3500", "--backend", "cpu", "--json"]);
    let out = voxfe(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = v["e_eff"].as_f64().unwrap();
    assert!((e / 3500.0 - 1.0).abs() <= 0.01, "E_eff {e}");
    let solves = v["solves"].as_u64().unwrap();
    assert!((1..=24).contains(&solves), "{solves} solves");
    assert!(v["strut_diameter"].as_f64().unwrap() > 0.0);
    assert!(v["porosity_measured"].as_f64().is_some() && v["pore_size"].as_f64().is_some());
}

#[test]
fn design_reports_an_unreachable_target_with_the_range() {
    let mut args = COARSE_RD.to_vec();
    args.extend(["--target-modulus", "150000", "--backend", "cpu"]);
    let out = voxfe(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not reachable") && err.contains("densest"),
        "{err}"
    );
    assert!(err.contains("MPa (porosity 0.3"), "{err}");
}
