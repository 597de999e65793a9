//! Voxelization of lattices against their nominal porosity.

use std::path::Path;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

const RD: &str = r#"
name = "rd"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.8
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.1
"#;

fn scene(text: &str, set: &[String]) -> Scene {
    Scene::parse(text, Path::new("test.toml"), set).unwrap()
}

/// Measured porosity of 2×2×2 RD cells of M = 1.5 mm with `cells_per_voxel`
/// binary voxels along a cell and strut diameter `d`.
fn rd_measured(d: f64, voxels_per_cell: usize) -> (f64, f64, usize) {
    let h = 1.5 / voxels_per_cell as f64;
    let set = vec![
        // Centre-sampled voxels (fraction fill is within 0.2 points at any
        // D/h: tests/fraction.rs).
        "voxel.fill=binary".to_string(),
        format!("lattice.strut={d}"),
        format!("voxel.size={h}"),
        format!(
            "specimen.size=[{s}, {s}, {s}]",
            s = 2.0 * voxels_per_cell as f64 * h
        ),
    ];
    let s = scene(RD, &set);
    let (_, _, r) = voxelize_scene(&s).unwrap();
    (r.porosity_measured, r.porosity_nominal, r.removed_voxels)
}

#[test]
fn rd_porosity_matches_the_design_formula_at_d_over_h_10() {
    // Nominal porosity from 70 % to 88 %, D/h ≥ 10: voxel porosity within
    // 0.5 percentage points of the spec's formula.
    for d in [0.175f64, 0.21, 0.245, 0.28] {
        let voxels_per_cell = (10.0 * 1.5 / d).ceil() as usize;
        let (measured, nominal, removed) = rd_measured(d, voxels_per_cell);
        assert!(
            (0.70..=0.88).contains(&nominal),
            "D = {d}: nominal {nominal}"
        );
        assert!(
            (measured - nominal).abs() <= 0.005,
            "D = {d}, M/h = {voxels_per_cell}: measured {measured:.5}, nominal {nominal:.5}"
        );
        assert_eq!(removed, 0, "a whole number of RD cells is one component");
    }
}

/// Porosity of the centre-sampled voxels of one RD cell (M = 1.5 mm, 80 %
/// nominal) with `n` voxels along the cell, before the component search.
fn rd_one_cell_sampled(n: usize) -> (f64, f64) {
    let h = 1.5 / n as f64;
    let set = vec![
        format!("voxel.size={h}"),
        "specimen.size=[1.5, 1.5, 1.5]".to_string(),
    ];
    let s = scene(RD, &set);
    let lattice = s.lattice().unwrap();
    let grid = voxfe::voxelize::sample(s.dims(), h, |p| lattice.contains(p));
    let measured = 1.0 - grid.solid_count() as f64 / grid.voxel_count() as f64;
    (measured, lattice.nominal_porosity())
}

#[test]
fn rd_porosity_converges_as_h_shrinks() {
    // The voxel grid is aligned with the cell, so the error oscillates with
    // M/h (aliasing) while its envelope shrinks: compare coarse and fine.
    let errors: Vec<(usize, f64)> = [20, 40, 80, 160]
        .iter()
        .map(|&n| {
            let (m, nom) = rd_one_cell_sampled(n);
            (n, (m - nom).abs())
        })
        .collect();
    let (coarse, fine) = (errors[0].1, errors[3].1);
    assert!(
        fine < coarse / 4.0,
        "errors {errors:?} should shrink with h"
    );
    assert!(errors[2].1.max(fine) < 0.003, "errors {errors:?}");
}

#[test]
fn porosity_round_trips_through_the_solved_strut() {
    // A porosity in the scene solves D; voxelizing with that D reproduces it.
    for kind in [
        "rhombic-dodecahedron",
        "bcc",
        "octet",
        "diamond",
        "kelvin",
        "fcc",
        "gyroid",
    ] {
        let set = vec![
            format!("lattice.kind={kind}"),
            "lattice.porosity=0.8".to_string(),
            // Centre sampling, as the check on `sample` below.
            "voxel.fill=binary".to_string(),
            // h = M/100: D/h ≥ 10 for every kind at 80 % porosity.
            "voxel.size=0.015".to_string(),
            "specimen.size=[1.5, 1.5, 1.5]".to_string(),
        ];
        let s = scene(RD, &set);
        let (lattice, _, r) = voxelize_scene(&s).unwrap();
        assert!(
            (lattice.nominal_porosity() - 0.8).abs() < 1e-3,
            "{kind}: {}",
            lattice.nominal_porosity()
        );
        // One cell with whole-component removal can drop a few cut fragments:
        // compare the sampled solid before the component search.
        let grid = voxfe::voxelize::sample(s.dims(), s.voxel.size, |p| lattice.contains(p));
        let sampled = 1.0 - grid.solid_count() as f64 / grid.voxel_count() as f64;
        assert!(
            (sampled - 0.8).abs() <= 0.005,
            "{kind}: sampled porosity {sampled:.5} (after component search {:.5})",
            r.porosity_measured
        );
    }
}

#[test]
fn voxelizing_is_reproducible() {
    let s = scene(RD, &[]);
    let (_, a, _) = voxelize_scene(&s).unwrap();
    let (_, b, _) = voxelize_scene(&s).unwrap();
    assert_eq!(a.grid, b.grid);
}

#[test]
fn thin_struts_warn_below_twelve_voxels_per_diameter() {
    // Spec, Resolution: binary voxels are trustworthy only from D/h ≈ 12;
    // Voigt-scaled fraction fill (p = 1) measured no better. The warning
    // says what is known of the error there and which settings fix it.
    for (h, fill, p) in [
        ("0.1", "binary", None),
        ("0.05", "binary", None),
        ("0.05", "fraction", Some("1")),
    ] {
        let mut set = vec![
            format!("voxel.size={h}"),
            "lattice.strut=0.3".into(),
            format!("voxel.fill=\"{fill}\""),
        ];
        set.extend(p.map(|p| format!("voxel.fraction_exponent={p}")));
        let s = scene(RD, &set);
        let (_, _, r) = voxelize_scene(&s).unwrap();
        let d_over_h = 0.3 / h.parse::<f64>().unwrap();
        assert!((r.d_over_h.unwrap() - d_over_h).abs() < 1e-12);
        let said = format!("D/h = {d_over_h:.2} < 12: {fill} voxels");
        let w = r.warnings.iter().find(|w| w.contains(&said));
        let w = w.unwrap_or_else(|| panic!("{said}: {:?}", r.warnings));
        assert!(
            w.contains("error not estimated; measured +")
                && w.contains("at their defaults (\"fraction\", \"auto\")")
                && !w.contains("voxfe calibrate"),
            "{w}"
        );
    }
    // At D/h = 12 binary voxels do not warn; a calibrated exponent
    // ("auto", the default) never does: its error band replaces the warning.
    for set in [
        vec![
            "voxel.size=0.025".to_string(),
            "voxel.fill=\"binary\"".into(),
        ],
        vec!["voxel.size=0.05".to_string()],
    ] {
        let mut set = set;
        set.push("lattice.strut=0.3".into());
        let (_, _, r) = voxelize_scene(&scene(RD, &set)).unwrap();
        assert!(
            r.warnings.iter().all(|w| !w.contains("D/h")),
            "{set:?}: {:?}",
            r.warnings
        );
    }
}

#[test]
fn weighted_fraction_voxels_warn_below_six_voxels_per_diameter() {
    // docs/validation.md, "Calibrated fraction exponent": φ²-weighted voxels are
    // within ±5 % from D/h ≈ 6 on the strut lattices measured.
    // Any exponent above 1 set by hand takes that threshold; Voigt (p = 1)
    // keeps 12.
    for (h, p, warns) in [
        ("0.075", "2", true),
        ("0.05", "2", false),
        ("0.05", "2.183", false),
        ("0.05", "1", true),
    ] {
        let s = scene(
            RD,
            &[
                format!("voxel.size={h}"),
                "lattice.strut=0.3".into(),
                "voxel.fill=\"fraction\"".into(),
                format!("voxel.fraction_exponent={p}"),
            ],
        );
        let (_, _, r) = voxelize_scene(&s).unwrap();
        let min = if p == "1" { 12 } else { 6 };
        let said = format!(
            "D/h = {:.2} < {min}: fraction voxels",
            0.3 / h.parse::<f64>().unwrap()
        );
        assert_eq!(
            r.warnings.iter().any(|w| w.contains(&said)),
            warns,
            "h = {h}, p = {p}: {:?}",
            r.warnings
        );
    }
}

#[test]
fn voxelize_json_and_vti_from_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("rd.vti");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voxfe"))
        .args([
            "voxelize",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/rd-compression.toml"),
            "--json",
            "--vti",
        ])
        .arg(&vti)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "porosity_measured",
        "porosity_nominal",
        "solid_voxels",
        "removed_voxels",
        "dims",
        "strut_diameter",
        "cell",
    ] {
        assert!(v.get(key).is_some(), "--json lacks {key}: {v}");
    }
    assert_eq!(v["dims"], serde_json::json!([90, 90, 90]));
    let c = voxfe::vtk::read_vti(&vti).unwrap();
    assert_eq!(c.dims, [90, 90, 90]);
    let voxfe::vtk::ArrayData::U8(mask) = &c.cell[0].data else {
        panic!("mask is UInt8")
    };
    assert_eq!(
        mask.iter().filter(|&&m| m == 1).count() as u64,
        v["solid_voxels"].as_u64().unwrap()
    );
}

fn porosity_warnings(r: &voxfe::report::VoxelReport) -> Vec<&String> {
    r.warnings
        .iter()
        .filter(|w| w.contains("percentage points"))
        .collect()
}

#[test]
fn a_lattice_far_from_its_nominal_porosity_warns() {
    // 4 binary voxels per cell: the struts break apart and the part is
    // nearly empty (fraction fill keeps the porosity near nominal).
    let s = scene(
        RD,
        &[
            "lattice.cell=0.4".into(),
            "lattice.porosity=0.5".into(),
            "voxel.fill=binary".into(),
        ],
    );
    let (_, _, r) = voxelize_scene(&s).unwrap();
    assert!(r.porosity_measured - r.porosity_nominal > 0.4, "{r:?}");
    let w = porosity_warnings(&r);
    assert_eq!(w.len(), 1, "{:?}", r.warnings);
    assert!(
        w[0].contains("more than 5 points") && w[0].contains("nominal 0.5000"),
        "{}",
        w[0]
    );
    // The same warning reaches stderr of the binary (with exit 0).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coarse.toml");
    std::fs::write(&path, RD).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voxfe"))
        .arg("voxelize")
        .arg(&path)
        .args(["--set", "lattice.cell=0.4", "--set", "lattice.porosity=0.5"])
        .args(["--set", "voxel.fill=binary"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: the lattice's measured porosity"),
        "{err}"
    );
}

#[test]
fn the_porosity_warning_compares_the_lattice_alone() {
    // A resolved lattice: no warning. With end plates and a wall the part's
    // porosity is far from nominal, but the lattice's own is not: no warning.
    let resolved = ["voxel.size=0.05".to_string()];
    let (_, _, r) = voxelize_scene(&scene(RD, &resolved)).unwrap();
    assert!(
        (r.porosity_measured - r.porosity_nominal).abs() < 0.05,
        "{r:?}"
    );
    assert!(porosity_warnings(&r).is_empty(), "{:?}", r.warnings);
    let mut featured = resolved.to_vec();
    featured.extend([
        "specimen.end_plates=0.5".to_string(),
        "specimen.wall=0.3".to_string(),
    ]);
    let (_, _, r) = voxelize_scene(&scene(RD, &featured)).unwrap();
    assert!(r.porosity_nominal - r.porosity_measured > 0.2, "{r:?}");
    assert!(porosity_warnings(&r).is_empty(), "{:?}", r.warnings);
}
