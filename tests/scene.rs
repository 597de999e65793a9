//! Scene loading: every bad input gets an error that names the key, the
//! value and what is allowed; the binary exits non-zero without panicking.

mod common;

use common::voxfe;
use std::path::Path;
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::scene::{Backend, Scene};

const BASE: &str = r#"
name = "t"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
strut = 0.3
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.1
"#;

fn parse(text: &str, set: &[&str]) -> Result<Scene, String> {
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    Scene::parse(text, Path::new("test.toml"), &set).map_err(|e| e.to_string())
}

/// Builds the scene and its lattice, as `voxfe voxelize` does.
fn build(text: &str, set: &[&str]) -> Result<(), String> {
    let scene = parse(text, set)?;
    scene.lattice().map(|_| ()).map_err(|e| e.to_string())
}

fn assert_err(result: Result<(), String>, needles: &[&str]) {
    let msg = result.expect_err("expected an error");
    for n in needles {
        assert!(msg.contains(n), "error {msg:?} should mention {n:?}");
    }
}

#[test]
fn defaults_are_applied() {
    let s = parse(BASE, &[]).unwrap();
    assert_eq!(s.material().unwrap().e, 186_000.0);
    assert_eq!(s.solver.backend, Backend::Auto);
    assert_eq!(s.solver.tolerance, 1e-6);
    assert_eq!(s.solver.max_iterations, 20000);
    assert_eq!(s.dims(), [30, 30, 30]);
    assert_eq!(
        s.load_case(),
        LoadCase::Compression {
            platens: Platens::Frictionless
        }
    );
}

#[test]
fn shipped_scenes_load() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenes")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let scene =
                Scene::load(&path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            scene
                .lattice()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // Every case of the scene's own sweep is a valid scene too.
            let variations: Vec<voxfe::study::sweep::Variation> = scene
                .sweep
                .vary
                .iter()
                .map(|v| {
                    voxfe::study::sweep::Variation::parse(v)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                })
                .collect();
            if variations.is_empty() {
                continue;
            }
            for case in voxfe::study::sweep::cases(&variations) {
                let s = Scene::load(&path, &case.set_args())
                    .unwrap_or_else(|e| panic!("{} {:?}: {e}", path.display(), case.set_args()));
                s.lattice()
                    .unwrap_or_else(|e| panic!("{} {:?}: {e}", path.display(), case.set_args()));
            }
        }
    }
}

#[test]
fn malformed_toml_names_line_and_column() {
    let text = BASE.replace("cell = 1.5", "cell = = 1.5");
    assert_err(
        parse(&text, &[]).map(|_| ()),
        &["test.toml", "line 5, column"],
    );
}

#[test]
fn unknown_keys_are_rejected() {
    let text = BASE.replace("cell = 1.5", "cell = 1.5\nstrutt = 0.3");
    assert_err(parse(&text, &[]).map(|_| ()), &["strutt", "line 6"]);
    let text = format!("{BASE}\n[solver]\ntolerence = 1e-6\n");
    assert_err(parse(&text, &[]).map(|_| ()), &["tolerence"]);
    assert_err(
        parse(BASE, &["voxel.sise=0.1"]).map(|_| ()),
        &["sise", "after set=voxel.sise=0.1"],
    );
}

#[test]
fn unknown_enum_values_list_the_allowed_ones() {
    let text = BASE.replace("rhombic-dodecahedron", "rhombic");
    assert_err(parse(&text, &[]).map(|_| ()), &["rhombic", "bcc", "gyroid"]);
    assert_err(
        parse(BASE, &["solver.backend=cuda"]).map(|_| ()),
        &["cuda", "auto"],
    );
}

#[test]
fn non_positive_sizes_are_rejected() {
    assert_err(
        parse(BASE, &["voxel.size=0"]).map(|_| ()),
        &["voxel.size = 0", "positive"],
    );
    assert_err(
        parse(BASE, &["voxel.size=-0.1"]).map(|_| ()),
        &["voxel.size = -0.1"],
    );
    assert_err(
        parse(BASE, &["specimen.size=[3.0, 0.0, 3.0]"]).map(|_| ()),
        &["specimen.size", "positive", "y size is 0"],
    );
    assert_err(
        parse(BASE, &["lattice.cell=-1.5"]).map(|_| ()),
        &["lattice.cell = -1.5", "positive"],
    );
    assert_err(
        parse(BASE, &["lattice.strut=0"]).map(|_| ()),
        &["lattice.strut = 0"],
    );
    assert_err(
        parse(BASE, &["material.E=-5", "material.nu=0.3"]).map(|_| ()),
        &["E"],
    );
}

#[test]
fn box_not_a_whole_number_of_voxels_names_both() {
    assert_err(
        parse(BASE, &["voxel.size=0.07"]).map(|_| ()),
        &[
            "specimen.size",
            "x size 3 mm",
            "voxel.size = 0.07",
            "whole number",
        ],
    );
}

#[test]
fn porosity_out_of_range_is_rejected() {
    assert_err(
        parse(BASE, &["lattice.porosity=1.2"]).map(|_| ()),
        &["lattice.porosity = 1.2", "0 < porosity < 1"],
    );
}

#[test]
fn unreachable_porosity_names_the_reachable_range() {
    // RD struts cannot fill 95 % of the cell.
    assert_err(
        build(BASE, &["lattice.porosity=0.05"]),
        &["porosity", "0.05"],
    );
}

#[test]
fn too_thick_strut_is_rejected() {
    assert_err(build(BASE, &["lattice.strut=1.2"]), &["strut", "1.2"]);
}

#[test]
fn memory_cap_is_enforced() {
    assert_err(
        parse(BASE, &["voxel.size=0.01", "voxel.max_memory_mb=100"]).map(|_| ()),
        &[
            "voxel.max_memory_mb = 100",
            "MiB",
            "300×300×300",
            "solver.preconditioner = \"jacobi\"",
        ],
    );
}

#[test]
fn set_overrides_any_key_and_porosity_replaces_strut() {
    let s = parse(
        BASE,
        &["lattice.porosity=0.85", "lattice.kind=bcc", "name=other"],
    )
    .unwrap();
    assert_eq!(s.lattice.porosity, Some(0.85));
    assert_eq!(s.lattice.strut, None);
    assert_eq!(s.name, "other");
    assert_err(
        parse(BASE, &["novalue"]).map(|_| ()),
        &["set='novalue'", "key=value"],
    );
}

#[test]
fn load_keys_must_fit_the_case() {
    assert_err(
        parse(BASE, &["load.span=10"]).map(|_| ()),
        &["load.span", "three-point-bending"],
    );
    let bend = |extra: &[&str]| {
        let mut set = vec![
            "load.case=three-point-bending",
            "lattice.kind=solid",
            "specimen.size=[12.0, 3.0, 3.0]",
        ];
        set.extend_from_slice(extra);
        let text = BASE.replace("strut = 0.3", "");
        parse(&text, &set).map(|_| ())
    };
    bend(&[]).unwrap();
    assert_err(bend(&["load.span=13"]), &["load.span = 13", "Lx = 12"]);
    assert_err(
        bend(&["load.span=11.5"]),
        &["load.span = 11.5", "must lie on the bar"],
    );
    assert_err(
        bend(&["load.contact=0.05"]),
        &["load.contact = 0.05", "one voxel"],
    );
    assert_err(
        bend(&["load.platens=bonded"]),
        &["load.platens", "compression"],
    );
}

#[test]
fn load_table_errors_name_the_key_and_the_allowed_values() {
    assert_err(
        parse(BASE, &["load.case=bogus"]).map(|_| ()),
        &["unknown variant `bogus`, expected one of `compression`, `three-point-bending`, `implant-compression`, `periodic`"],
    );
    assert_err(
        parse(BASE, &["load.platens=glued"]).map(|_| ()),
        &["unknown variant `glued`, expected `frictionless` or `bonded`"],
    );
    assert_err(
        parse(BASE, &["load.foo=1"]).map(|_| ()),
        &["unknown field `foo`, expected one of `case`, `platens`, `span`, `contact`"],
    );
    let in_file = BASE.to_string() + "[load]\ncase = \"twisting\"\n";
    assert_err(
        parse(&in_file, &[]).map(|_| ()),
        &["line 13", "unknown variant `twisting`", "`periodic`"],
    );
}

#[test]
fn every_case_name_gives_its_load_case_with_its_defaults() {
    let bar = |set: &[&str]| {
        let mut all = vec!["lattice.kind=solid", "specimen.size=[12.0, 3.0, 3.0]"];
        all.extend_from_slice(set);
        parse(&BASE.replace("strut = 0.3", ""), &all).unwrap()
    };
    for name in LoadCase::NAMES {
        let s = if name == "periodic" {
            parse(
                BASE,
                &["load.case=periodic", "specimen.size=[1.5, 1.5, 1.5]"],
            )
            .unwrap()
        } else {
            bar(&[&format!("load.case={name}")])
        };
        assert_eq!(s.load_case().name(), name);
        assert_eq!(s.load_case().is_periodic(), name == "periodic");
    }
    assert_eq!(
        bar(&["load.case=three-point-bending"]).load_case(),
        LoadCase::ThreePointBending {
            span: 9.0,
            contact: 1.0
        }
    );
    assert_eq!(
        bar(&[
            "load.case=three-point-bending",
            "load.span=10",
            "load.contact=0.5"
        ])
        .load_case(),
        LoadCase::ThreePointBending {
            span: 10.0,
            contact: 0.5
        }
    );
    assert_eq!(
        bar(&["load.case=implant-compression", "load.platens=bonded"]).load_case(),
        LoadCase::ImplantCompression {
            platens: Platens::Bonded,
            footprint_area: 36.0,
            height: 3.0,
            envelope: None,
        }
    );
    // The canonical TOML holds what the file gave, not the defaults.
    let toml = voxfe::provenance::canonical_toml(&bar(&["load.case=three-point-bending"]));
    assert!(
        toml.contains("[load]\ncase = \"three-point-bending\"\n\n"),
        "{toml}"
    );
}

#[test]
fn material_presets_and_explicit_values() {
    let s = parse(BASE, &["material.preset=ti6al4v"]).unwrap();
    assert_eq!(s.material().unwrap().e, 110_000.0);
    assert_err(
        parse(BASE, &["material.preset=unobtainium"]).map(|_| ()),
        &["unobtainium", "tantalum"],
    );
    assert_err(parse(BASE, &["material.E=1000"]).map(|_| ()), &["nu"]);
    assert_err(
        parse(BASE, &["material.E=1000", "material.nu=0.5"]).map(|_| ()),
        &["material.nu = 0.5"],
    );
}

#[test]
fn binary_exits_non_zero_with_a_clear_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (BASE.replace("cell = 1.5", "cell = [1.5"), "line"),
        (BASE.replace("cell = 1.5", "cel = 1.5"), "cel"),
        (BASE.replace("size = 0.1", "size = 0.07"), "whole number"),
        (BASE.replace("strut = 0.3", "strut = 1.2"), "strut"),
    ];
    for (n, (text, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{n}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = voxfe(&["voxelize", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {n}: {err}");
        assert!(err.contains(needle), "case {n}: {err}");
        assert!(!err.contains("panicked"), "case {n}: {err}");
    }
    let out = voxfe(&["voxelize", "/nonexistent/scene.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/scene.toml"));
}

/// Writes `text` as a scene file in `dir` and returns its path.
fn scene_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn design_with_zero_solves_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path(), "d.toml", BASE);
    let out = voxfe(&[
        "design",
        &scene,
        "--target-modulus",
        "3500",
        "--max-solves",
        "0",
        "--backend",
        "cpu",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--max-solves 0"), "{err}");
    assert!(err.contains("at least 1"), "{err}");
    assert!(!err.contains("NaN"), "{err}");
}

#[test]
fn slice_options_without_slice_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path(), "s.toml", BASE);
    for flag in [["--slice-at", "1.0"], ["--slice-axis", "x"]] {
        let out = voxfe(&["run", &scene, "--backend", "cpu", flag[0], flag[1]]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {err}");
        assert!(
            err.contains(flag[0]) && err.contains("--slice"),
            "{flag:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{flag:?}: nothing may be solved");
    }
}

/// A cylinder scene with one hole (position, direction, diameter, depth
/// given as TOML text), and an STL scene, to reach every float key.
fn cylinder_with_hole(position: &str, direction: &str, diameter: &str, depth: &str) -> String {
    format!(
        r#"
name = "c"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
strut = 0.3
[specimen]
shape = "cylinder"
diameter = 3.0
height = 3.0
[[specimen.holes]]
position = {position}
direction = {direction}
diameter = {diameter}
depth = {depth}
[voxel]
size = 0.1
"#
    )
}

const STL: &str = r#"
name = "s"
[lattice]
kind = "bcc"
cell = 1.5
strut = 0.3
[specimen]
shape = "stl"
path = "part.stl"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.1
"#;

#[test]
fn every_non_finite_float_is_refused_by_its_key() {
    let (p, d) = ("[1.5, 1.5, 0.0]", "[0.0, 0.0, 1.0]");
    let cyl = cylinder_with_hole(p, d, "0.5", "1.0");
    let holes = [
        (
            cylinder_with_hole("[nan, 1.5, 0.0]", d, "0.5", "1.0"),
            "specimen.holes[0].position[0] = NaN",
        ),
        (
            cylinder_with_hole("[1.5, 1.5, inf]", d, "0.5", "1.0"),
            "specimen.holes[0].position[2] = inf",
        ),
        (
            cylinder_with_hole(p, "[0.0, nan, 1.0]", "0.5", "1.0"),
            "specimen.holes[0].direction[1] = NaN",
        ),
        (
            cylinder_with_hole(p, d, "nan", "1.0"),
            "specimen.holes[0].diameter = NaN",
        ),
        (
            cylinder_with_hole(p, d, "0.5", "inf"),
            "specimen.holes[0].depth = inf",
        ),
    ];
    for (text, expected) in &holes {
        let msg = parse(text, &[]).map(|_| ()).expect_err(expected);
        assert!(
            msg.starts_with(&format!("{expected}: ")) && msg.contains("finite"),
            "{expected}: {msg}"
        );
    }
    let sets: [(&str, &[&str], &str); 11] = [
        (&cyl, &["specimen.wedge=nan"], "specimen.wedge = NaN"),
        (&cyl, &["specimen.height=inf"], "specimen.height = inf"),
        (
            STL,
            &["specimen.rotate=[nan, 0, 0]"],
            "specimen.rotate[0] = NaN",
        ),
        (
            STL,
            &["specimen.translate=[0, 0, -inf]"],
            "specimen.translate[2] = -inf",
        ),
        (STL, &["specimen.scale=inf"], "specimen.scale = inf"),
        (
            BASE,
            &["lattice.origin=[0, nan, 0]"],
            "lattice.origin[1] = NaN",
        ),
        (
            BASE,
            &["specimen.size=[3.0, 3.0, inf]"],
            "specimen.size[2] = inf",
        ),
        (
            BASE,
            &["specimen.end_plates=nan"],
            "specimen.end_plates = NaN",
        ),
        (
            BASE,
            &["material.E=nan", "material.nu=0.3"],
            "material.E = NaN",
        ),
        (BASE, &["solver.tolerance=nan"], "solver.tolerance = NaN"),
        (
            BASE,
            &["voxel.max_memory_mb=inf"],
            "voxel.max_memory_mb = inf",
        ),
    ];
    for (text, set, expected) in sets {
        let msg = parse(text, set).map(|_| ()).expect_err(expected);
        assert!(
            msg.starts_with(&format!("{expected}: ")) && msg.contains("finite"),
            "{expected}: {msg}"
        );
    }
}

#[test]
fn a_grid_beyond_32_bit_node_ids_is_refused_before_any_allocation() {
    // 2000 × 2000 × 1100 voxels: 4.4e9 nodes, with the memory cap raised out of the way.
    let msg = parse(
        BASE,
        &[
            "specimen.size=[100.0, 100.0, 55.0]",
            "voxel.size=0.05",
            "voxel.max_memory_mb=1e12",
        ],
    )
    .map(|_| ())
    .expect_err("a grid over 2^32 nodes");
    for needle in [
        "specimen.size = [100.0, 100.0, 55.0]",
        "2000×2000×1100",
        "32-bit",
        "voxel.size",
    ] {
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    // Sizes so large that the voxel counts overflow blame the size, not voxel.size.
    let msg = parse(BASE, &["specimen.size=[1e308, 3.0, 3.0]"])
        .map(|_| ())
        .expect_err("a 1e308 mm specimen");
    assert!(
        msg.starts_with("specimen.size = [1e308, 3.0, 3.0]: "),
        "{msg}"
    );
    assert!(msg.contains("32-bit"), "{msg}");
    let cyl = BASE.replace(
        "shape = \"box\"\nsize = [3.0, 3.0, 3.0]",
        "shape = \"cylinder\"\ndiameter = 3.0\nheight = 1e300",
    );
    let msg = parse(&cyl, &[])
        .map(|_| ())
        .expect_err("a 1e300 mm cylinder");
    assert!(msg.starts_with("specimen.height = 1e300: "), "{msg}");
}

#[test]
fn moduli_outside_the_range_of_real_solids_are_refused() {
    for e in ["1e-308", "1e-4", "1.3e6", "1e200", "1e308"] {
        let msg = parse(BASE, &[&format!("material.E={e}"), "material.nu=0.3"])
            .map(|_| ())
            .expect_err(e);
        let shown: f64 = e.parse().unwrap();
        assert!(
            msg.starts_with(&format!("material.E = {shown:?}: ")),
            "{e}: {msg}"
        );
        assert!(
            msg.contains("0.001 ≤ E ≤ 1200000 MPa") && msg.contains("diamond"),
            "{e}: {msg}"
        );
    }
    for nu in ["0.495", "-0.95"] {
        let msg = parse(BASE, &["material.E=1000", &format!("material.nu={nu}")])
            .map(|_| ())
            .expect_err(nu);
        assert!(
            msg.starts_with(&format!("material.nu = {nu}: ")) && msg.contains("-0.9 ≤ nu ≤ 0.49"),
            "{nu}: {msg}"
        );
    }
    // A voxel size so absurd that E·h overflows: refused before any solve.
    let msg = parse(
        &BASE.replace(
            "kind = \"rhombic-dodecahedron\"\ncell = 1.5\nstrut = 0.3",
            "kind = \"solid\"",
        ),
        &[
            "voxel.size=1e305",
            "specimen.size=[1e305, 1e305, 1e305]",
            "material.E=1e6",
            "material.nu=0.3",
        ],
    )
    .map(|_| ())
    .expect_err("an infinite element stiffness");
    assert!(
        msg.starts_with("voxel.size = ") && msg.contains("not finite"),
        "{msg}"
    );
}

/// E_eff / E_s of the CPU solve of BASE with `set`.
fn relative_modulus(dir: &Path, set: &[&str]) -> f64 {
    let scene = scene_file(dir, "m.toml", BASE);
    let mut args = vec!["run", scene.as_str(), "--backend", "cpu", "--json"];
    for s in set {
        args.extend(["--set", s]);
    }
    let out = voxfe(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{set:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["e_eff"].as_f64().unwrap() / v["material_e"].as_f64().unwrap()
}

#[test]
fn the_ends_of_the_modulus_range_give_the_same_relative_modulus() {
    let dir = tempfile::tempdir().unwrap();
    let reference = relative_modulus(dir.path(), &["material.E=1000", "material.nu=0.34"]);
    assert!(reference > 0.01 && reference < 0.5, "{reference}");
    for e in ["0.001", "1200000"] {
        let r = relative_modulus(
            dir.path(),
            &[&format!("material.E={e}"), "material.nu=0.34"],
        );
        assert!(
            (r / reference - 1.0).abs() < 1e-6,
            "E = {e}: {r} vs {reference}"
        );
    }
}

#[test]
fn geometry_that_leaves_no_lattice_is_refused_naming_the_key() {
    // BASE: a 3 mm box, h = 0.1 mm.
    let cyl = BASE.replace(
        "shape = \"box\"\nsize = [3.0, 3.0, 3.0]",
        "shape = \"cylinder\"\ndiameter = 3.0\nheight = 3.0",
    );
    let wedged = cyl.replace("height = 3.0", "height = 3.0\nwedge = 20.0");
    let refused: [(&str, &[&str], &[&str]); 8] = [
        // A cell smaller than a voxel, and one of fewer than 4 voxels.
        (
            BASE,
            &["lattice.cell=0.05", "lattice.porosity=0.8"],
            &["lattice.cell = 0.05", "at least 4 voxels", "0.4 mm"],
        ),
        (
            BASE,
            &["lattice.cell=0.35", "lattice.porosity=0.8"],
            &["lattice.cell = 0.35", "quarter cell"],
        ),
        (
            BASE,
            &["specimen.end_plates=1.5"],
            &["specimen.end_plates = 1.5", "half", "3 mm"],
        ),
        (
            &cyl,
            &["specimen.end_plates=2.0"],
            &["specimen.end_plates = 2", "height H (3 mm)"],
        ),
        // 20° over a radius of 1.5 mm: the lowest top is at 3 − 0.546 = 2.454 mm.
        (
            &wedged,
            &["specimen.end_plates=1.25"],
            &["specimen.end_plates = 1.25", "lowest height"],
        ),
        (
            BASE,
            &["specimen.wall=1.5"],
            &["specimen.wall = 1.5", "half the smaller side (1.5 mm)"],
        ),
        (
            BASE,
            &["specimen.size=[3.0, 2.0, 3.0]", "specimen.wall=1.0"],
            &["specimen.wall = 1", "(1 mm)"],
        ),
        (
            &cyl,
            &["specimen.wall=1.5"],
            &["specimen.wall = 1.5", "the radius (1.5 mm)"],
        ),
    ];
    for (text, set, needles) in refused {
        assert_err(parse(text, set).map(|_| ()), needles);
    }
    // Just inside each limit is accepted.
    let accepted: [(&str, &[&str]); 5] = [
        (BASE, &["lattice.cell=0.4", "lattice.porosity=0.8"]),
        (BASE, &["specimen.end_plates=1.4"]),
        (&wedged, &["specimen.end_plates=1.2"]),
        (BASE, &["specimen.wall=1.4"]),
        (&cyl, &["specimen.wall=1.4"]),
    ];
    for (text, set) in accepted {
        parse(text, set).unwrap_or_else(|e| panic!("{set:?}: {e}"));
    }
}

#[test]
fn a_part_turned_solid_by_its_features_is_not_solved() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path(), "solid.toml", BASE);
    for set in ["specimen.end_plates=1.5", "specimen.wall=2.0"] {
        let out = voxfe(&["run", &scene, "--backend", "cpu", "--set", set]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        let key = set.split('=').next().unwrap();
        assert!(err.contains(key), "{set}: {err}");
        assert!(out.stdout.is_empty(), "{set}: no modulus may be reported");
    }
}

#[test]
fn a_grid_too_large_from_cells_names_the_cells() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rd.toml");
    std::fs::write(&path, BASE).unwrap();
    let err = |cells: usize| -> String {
        Scene::load_as_periodic(&path, &[], Some(cells))
            .map(|_| ())
            .expect_err("a grid too large")
            .to_string()
    };
    // 1.5e6 voxels per axis: over the 32-bit node ids.
    let msg = err(100_000);
    assert!(msg.starts_with("cells = 100000: "), "{msg}");
    for needle in [
        "100000×100000×100000 cells",
        "lattice.cell = 1.5",
        "32-bit",
        "fewer cells",
    ] {
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    // 750 voxels per axis: within the ids, over the memory cap.
    let msg = err(50);
    assert!(msg.starts_with("cells = 50: "), "{msg}");
    for needle in [
        "750×750×750 voxels",
        "voxel.max_memory_mb = 16384",
        "fewer cells",
    ] {
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    // Neither names the specimen size the cells make: the scene's is 3 mm.
    for cells in [100_000, 50] {
        assert!(!err(cells).contains("specimen.size"), "{cells}");
    }
    // A few cells load.
    assert_eq!(
        Scene::load_as_periodic(&path, &[], Some(2)).unwrap().dims(),
        [30, 30, 30]
    );
}

#[test]
fn control_and_binary_bytes_of_a_scene_are_never_printed_raw() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let has_control = |s: &str| s.chars().any(|c| c.is_control() && c != '\n');
    // TOML escapes that reach toml's own messages (an unknown variant, an
    // unknown key) and a value of ours (a path).
    let cases = [
        (
            BASE.replace("rhombic-dodecahedron", "rd\\u001b[2J\\u0007"),
            "rd\\u{1b}[2J\\u{7}",
        ),
        (
            BASE.replace("cell = 1.5", "\"c\\u001bl\" = 1.5"),
            "c\\u{1b}l",
        ),
        (
            format!("{BASE}[load]\ncase = \"compression\\r\\n\"\n"),
            "compression\\r\\n",
        ),
        (
            BASE.replace(
                "shape = \"box\"",
                "shape = \"stl\"\npath = \"m\\u001b[31m.stl\"",
            ),
            "m\\u{1b}[31m.stl",
        ),
    ];
    for (n, (text, says)) in cases.iter().enumerate() {
        let path = scene_file(d, &format!("c{n}.toml"), text);
        let out = voxfe(&["voxelize", &path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {n}: {err}");
        assert!(err.contains(says), "case {n}: {err}");
        assert!(!has_control(&err), "case {n}: {err:?}");
    }
    // A scene path with an escape sequence; an as-built fit whose JSON
    // holds one.
    let out = voxfe(&["voxelize", &d.join("gone\u{1b}[2J.toml").to_string_lossy()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("gone\\u{1b}[2J.toml"), "{err}");
    assert!(!has_control(&err), "{err:?}");
    std::fs::write(
        d.join("fit.json"),
        "{\"as_built\": {\"model\": \"po\\u001b[31mwer\"}}",
    )
    .unwrap();
    let path = scene_file(
        d,
        "ab.toml",
        &format!("{BASE}[as_built]\nfrom = \"fit.json\"\n"),
    );
    let out = voxfe(&["voxelize", &path]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("as_built.from") && err.contains("po\\u{1b}[31mwer"),
        "{err}"
    );
    assert!(!has_control(&err), "{err:?}");
    // A binary file given as the scene; raw control bytes in a file that
    // is valid UTF-8.
    let mut binary = b"\x7fELF\x02\x01\x01\x00\x1b[2J".to_vec();
    binary.extend((0u8..=255).cycle().take(4000));
    let mut controls = b"name = \"x\"\n\x01\x02\x1b[2J = 1\n".to_vec();
    controls.extend(std::iter::repeat_n(b'\x07', 100));
    for (name, bytes) in [("bin.toml", binary), ("ctl.toml", controls)] {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = voxfe(&["voxelize", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(!has_control(&err), "{name}: {err:?}");
        assert!(err.len() < 400, "{name}: {err}");
    }
}

#[test]
fn a_voxel_size_that_does_not_divide_the_cell_names_the_cell_not_the_cells_box() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rd.toml");
    std::fs::write(&path, BASE).unwrap();
    for cells in [None, Some(3)] {
        let msg = Scene::load_as_periodic(&path, &["voxel.size=0.07".to_string()], cells)
            .map(|_| ())
            .expect_err("1.5 mm is not whole voxels of 0.07 mm")
            .to_string();
        assert!(msg.starts_with("voxel.size = 0.07: "), "{cells:?}: {msg}");
        assert!(msg.contains("lattice.cell = 1.5 mm"), "{cells:?}: {msg}");
        assert!(!msg.contains("specimen.size"), "{cells:?}: {msg}");
    }
}
