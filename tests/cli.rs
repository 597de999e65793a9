//! `voxfe run` end to end: the JSON fields, the exit status of a solve that
//! does not converge, and the backend choice.

mod common;

use common::voxfe;

/// The small RD scene at h = 0.1 mm (tests/common).
fn scene() -> String {
    common::small_rd(0.1)
}

#[test]
fn run_json_has_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    std::fs::write(&path, scene()).unwrap();
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
        "e_eff_error_estimate",
        "e_flex_error_estimate",
        "stiffness_error_estimate",
        "exponent_source",
        "error_statement",
        "calibration_cache",
        "calibration_seconds",
        "strength_error_statement",
    ] {
        assert!(v.get(key).is_some(), "--json lacks {key}: {v}");
    }
    assert_eq!(v["backend"], "cpu");
    assert_eq!(v["converged"], true);
    let e = v["e_eff"].as_f64().unwrap();
    assert!(e > 1000.0 && e < 20000.0, "E_eff {e}");
    // The defaults calibrate the exponent: E_eff carries its band, a
    // compression run has no E_f to carry one.
    assert_eq!(v["exponent_source"], "auto");
    let band = v["e_eff_error_estimate"].as_f64().unwrap();
    assert!(band > 0.0 && band < 0.05, "{band}");
    assert!(v["e_flex_error_estimate"].is_null());
    let statement = v["error_statement"].as_str().unwrap();
    assert!(
        statement.starts_with("± ") && statement.contains("calibrated at M/15"),
        "{statement}"
    );
    assert!(v["calibration_seconds"].as_f64().unwrap() >= 0.0);
    let strength = v["strength_error_statement"].as_str().unwrap();
    assert!(
        strength.starts_with("not converged at this h (D/h = 2.9)"),
        "{strength}"
    );
}

/// The value lines of `voxfe run`'s text (stdout) and its stderr.
fn run_text(path: &str, set: &[&str]) -> (String, String) {
    let mut args = vec!["run", path];
    for s in set {
        args.extend(["--set", s]);
    }
    let out = voxfe(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).to_string(), stderr)
}

#[test]
fn the_text_carries_the_error_band_or_says_on_stdout_why_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_scene(dir.path(), "small.toml", "");
    // Calibrated (the defaults): the band on the value line, what it is
    // made of below, and no D/h warning.
    let (text, err) = run_text(&path, &[]);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line: {text}"))
            .to_string()
    };
    let e_eff = line("E_eff            ");
    assert!(
        e_eff.contains(" MPa ± ") && e_eff.ends_with(" %"),
        "{e_eff}"
    );
    assert!(
        line("accuracy         ± ").contains("calibrated at M/15"),
        "{text}"
    );
    assert!(!err.contains("D/h ="), "{err}");
    assert!(
        line("strength error   ").contains("not converged at this h (D/h = 2.9)"),
        "{text}"
    );
    // Binary voxels and a hand-set exponent: no band; the known error and
    // the settings that fix it on stdout, and the D/h warning names them.
    for (set, said) in [
        ("voxel.fill=\"binary\"", "binary voxels at D/h = 2.9"),
        (
            "voxel.fraction_exponent=2",
            "p = 2 set by hand at D/h = 2.9",
        ),
    ] {
        let (text, err) = run_text(&path, &[set]);
        let e_eff = text.lines().find(|l| l.starts_with("E_eff")).unwrap();
        assert!(
            e_eff.ends_with(" MPa (error not estimated: see accuracy)"),
            "{set}: {e_eff}"
        );
        let accuracy = text.lines().find(|l| l.starts_with("accuracy")).unwrap();
        assert!(
            accuracy.contains(said)
                && accuracy.contains("voxel.fraction_exponent at their defaults"),
            "{set}: {accuracy}"
        );
        let warning = err.lines().find(|l| l.contains("D/h = 2.90 <")).unwrap();
        assert!(
            warning.contains(said) && !warning.contains("voxfe calibrate"),
            "{warning}"
        );
    }
    // A solid is not a lattice: no band, no accuracy line.
    let block = dir.path().join("block.toml");
    std::fs::write(
        &block,
        "name = \"block\"\n[lattice]\nkind = \"solid\"\n[specimen]\nshape = \"box\"\n\
         size = [1.0, 1.0, 2.0]\n[voxel]\nsize = 0.25\n[solver]\nbackend = \"cpu\"\n",
    )
    .unwrap();
    let (text, _) = run_text(block.to_str().unwrap(), &[]);
    let e_eff = text.lines().find(|l| l.starts_with("E_eff")).unwrap();
    assert!(e_eff.ends_with(" MPa"), "{e_eff}");
    assert!(!text.contains("accuracy "), "{text}");
}

#[test]
fn a_solve_that_does_not_converge_exits_3_without_a_modulus() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.toml");
    std::fs::write(&path, scene()).unwrap();
    // A hand-set exponent: the run's own solve is the one that stops (a
    // calibration would stop first).
    let out = voxfe(&[
        "run",
        path.to_str().unwrap(),
        "--set",
        "solver.max_iterations=3",
        "--set",
        "voxel.fraction_exponent=2",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("NOT CONVERGED") && !stdout.contains("E_eff"),
        "{stdout}"
    );
    assert!(
        stdout.contains("preconditioner   multigrid (") && stdout.contains("levels, hierarchy"),
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
    // Struts too thin for binary voxels (D/h ≈ 1): nothing reaches the
    // platens.
    std::fs::write(&path, scene()).unwrap();
    let out = voxfe(&[
        "run",
        path.to_str().unwrap(),
        "--set",
        "lattice.porosity=0.9",
        "--set",
        "voxel.size=0.15",
        "--set",
        "voxel.fill=binary",
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

#[test]
fn run_writes_fields_as_vtk_and_a_stress_slice_as_png() {
    let dir = tempfile::tempdir().unwrap();
    let (vti, png) = (dir.path().join("f.vti"), dir.path().join("s.png"));
    let out = voxfe(&[
        "run",
        "scenes/rd-compression.toml",
        "--backend",
        "cpu",
        "--set",
        "voxel.size=0.1",
        "--vtk",
        vti.to_str().unwrap(),
        "--slice",
        png.to_str().unwrap(),
        "--slice-axis",
        "z",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let delta = v["delta"].as_f64().unwrap();
    let f = voxfe::vtk::read_vti(&vti).unwrap();
    assert_eq!(f.dims, [45, 45, 45]);
    assert_eq!(f.field, [("converged".to_string(), 1)]);
    let cell = |name: &str| f.cell.iter().find(|a| a.name == name).unwrap().clone();
    let voxfe::vtk::ArrayData::U8(solid) = cell("solid").data else {
        panic!("solid is UInt8")
    };
    let voxfe::vtk::ArrayData::F32(vm) = cell("von_mises").data else {
        panic!("von_mises is Float32")
    };
    assert_eq!(
        solid.iter().filter(|&&s| s != 0).count() as u64,
        v["solid_voxels"].as_u64().unwrap()
    );
    // Stress in the solid, none in the void.
    assert!(solid.iter().zip(&vm).all(|(&s, &m)| s != 0 || m == 0.0));
    assert!(vm.iter().cloned().fold(0.0, f32::max) > 0.0);
    let u = f.point.iter().find(|a| a.name == "displacement").unwrap();
    assert_eq!(u.components, 3);
    let voxfe::vtk::ArrayData::F32(u) = &u.data else {
        panic!("displacement is Float32")
    };
    // Every active top-face node moves down by δ (inactive nodes hold 0).
    let top = 46 * 46 * 45;
    let uz: Vec<f32> = (0..46 * 46)
        .map(|i| u[3 * (top + i) + 2])
        .filter(|&z| z != 0.0)
        .collect();
    assert!(!uz.is_empty());
    assert!(
        uz.iter()
            .all(|&z| ((z as f64) + delta).abs() < 1e-6 * delta.max(1.0)),
        "{uz:?}"
    );
    // 45 voxels at 17 px each, plus the axes and the colour-bar strip
    // (292 px across), the title, x axis and range note (172 px down).
    common::assert_real_png(&png, (1057, 937));
}

#[test]
fn a_slice_outside_the_specimen_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("s.png");
    let out = voxfe(&[
        "run",
        "scenes/rd-compression.toml",
        "--backend",
        "cpu",
        "--set",
        "voxel.size=0.3",
        "--slice",
        png.to_str().unwrap(),
        "--slice-at",
        "7.5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--slice-at 7.5 mm") && err.contains("4.5 mm"),
        "{err}"
    );
}

#[test]
fn progress_is_hidden_off_a_terminal_and_quiet_drops_info_lines() {
    let dir = tempfile::tempdir().unwrap();
    let vti = dir.path().join("bar.vti");
    let args = [
        "run",
        "scenes/bar-bending.toml",
        "--backend",
        "cpu",
        "--set",
        "voxel.size=1.0",
        // Strips of three node columns (c = 1 mm would be one: a warning).
        "--set",
        "load.contact=2.0",
        "--vtk",
        vti.to_str().unwrap(),
    ];
    // stderr is a pipe here: no progress bar, only the informational line.
    let out = voxfe(&args);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("iteration") && !err.contains("voxelize"),
        "{err}"
    );
    assert!(err.contains("wrote"), "{err}");
    // --quiet (global, before or after the subcommand) drops that too.
    for quiet in [&["--quiet"][..], &["-q"][..]] {
        let out = voxfe(&[quiet, &args[..]].concat());
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
    let mut late = args.to_vec();
    late.push("--quiet");
    assert_eq!(String::from_utf8_lossy(&voxfe(&late).stderr), "");
}

#[test]
fn multigrid_runs_on_both_backends_and_bad_names_are_refused() {
    let base = [
        "run",
        "scenes/bar-bending.toml",
        "--set",
        "voxel.size=1.0",
        "--set",
        "solver.preconditioner=multigrid",
        "--json",
    ];
    let mut moduli = Vec::new();
    for backend in ["cpu", "gpu"] {
        if backend == "gpu"
            && voxfe::gpu::context_or_skip(&Default::default(), "the GPU multigrid CLI run")
                .is_none()
        {
            continue;
        }
        // Converges in a handful of iterations and says so.
        let out = voxfe(&[&base[..], &["--backend", backend]].concat());
        assert!(
            out.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["backend"], backend);
        assert_eq!(v["preconditioner"], "multigrid");
        assert!(
            v["iterations"].as_u64().unwrap() < 50,
            "{backend}: {}",
            v["iterations"]
        );
        assert!(v["multigrid_levels"].as_array().unwrap().len() >= 2);
        assert!(v["multigrid_bytes"].as_u64().unwrap() > 0);
        moduli.push(v["e_flex"].as_f64().unwrap());
    }
    if let [cpu, gpu] = moduli[..] {
        assert!((cpu - gpu).abs() <= 1e-4 * cpu, "cpu {cpu}, gpu {gpu}");
    }
    // An unknown preconditioner names the allowed ones.
    let out = voxfe(&[&base[..], &["--set", "solver.preconditioner=ilu"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ilu") && err.contains("multigrid"), "{err}");
}

/// Writes the small scene to `dir/name`, with `extra` TOML lines appended.
fn small_scene(dir: &std::path::Path, name: &str, extra: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{}{extra}", scene())).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn run_with_several_scenes_runs_each_and_names_the_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = small_scene(dir.path(), "good.toml", "");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, scene().replace("porosity = 0.7", "porosity = 1.7")).unwrap();
    let bad = bad.to_str().unwrap();
    let out = voxfe(&["run", &good, bad, &good, "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The worst of 0, 2, 0.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let results: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 2, "both good scenes report");
    assert!(results.iter().all(|v| v["converged"] == true));
    assert!(
        stderr.contains(bad) && stderr.contains("porosity"),
        "the error names the file and the key: {stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
}

#[test]
fn a_field_file_that_cannot_be_written_is_refused_before_the_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path(), "small.toml", "");
    let missing = dir.path().join("no-such-folder/f.vti");
    for (flag, file) in [
        ("--vtk", missing.clone()),
        ("--slice", missing.with_extension("png")),
        ("--vtk", dir.path().to_path_buf()),
    ] {
        let out = voxfe(&["run", &scene, flag, file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(file.to_str().unwrap()),
            "{stderr}"
        );
        // Refused before the solve: no result printed.
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn a_field_file_failure_comes_after_the_result() {
    // /dev/full takes the file but fails every write (no space left).
    let full = std::path::Path::new("/dev/full");
    let probe = std::path::Path::new("/dev/.voxfe-test-probe");
    if !full.exists() || std::fs::File::create(probe).is_err() {
        eprintln!("skipped: no /dev/full, or /dev does not take new files here");
        return;
    }
    let _ = std::fs::remove_file(probe);
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path(), "small.toml", "");
    let out = voxfe(&["run", &scene, "--vtk", "/dev/full", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["e_eff"].as_f64().unwrap() > 0.0,
        "the modulus is out: {v}"
    );
    assert!(stderr.contains("/dev/full"), "{stderr}");
}

#[test]
fn fields_of_a_solve_that_did_not_converge_are_marked() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path(), "small.toml", "");
    let vti = dir.path().join("f.vti");
    let out = voxfe(&[
        "run",
        &scene,
        "--set",
        "solver.max_iterations=3",
        "--set",
        "voxel.fraction_exponent=2",
        "--vtk",
        vti.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let f = voxfe::vtk::read_vti(&vti).unwrap();
    assert_eq!(f.field, [("converged".to_string(), 0)]);
}

#[test]
fn a_contact_strip_of_one_node_column_is_warned_about() {
    let bar = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/bar-bending.toml");
    let small = [
        "specimen.size=[20.0, 4.0, 4.0]",
        "load.span=15.0",
        "solver.backend=cpu",
    ];
    // c = 1 mm at h = 1 mm: the loading strip |x − 10| ≤ 0.5 holds the
    // nodes at x = 10 only.
    let (out, err) = run_text(bar, &[&small[..], &["voxel.size=1.0"]].concat());
    assert!(out.contains("contact width    0.0000 mm"), "{out}");
    assert!(
        err.contains("warning: load.contact = 1 mm at voxel.size = 1 mm holds one column of nodes"),
        "{err}"
    );
    // At h = 0.5 the strip holds three columns, 1 mm wide: no warning.
    let (out, err) = run_text(bar, &[&small[..], &["voxel.size=0.5"]].concat());
    assert!(out.contains("contact width    1.0000 mm"), "{out}");
    assert!(!err.contains("column of nodes"), "{err}");
}

#[test]
fn cells_and_test_files_are_named_as_written_and_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("small.toml");
    std::fs::write(&path, scene()).unwrap();
    let s = path.to_str().unwrap();
    let has_control = |e: &str| e.chars().any(|c| c.is_control() && c != '\n');
    // A periodic specimen too large for the node ids: the cells named,
    // not the specimen size they make.
    let out = voxfe(&["homogenize", s, "--cells", "100000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cells = 100000"), "{err}");
    assert!(!err.contains("specimen.size"), "{err}");
    // Control bytes in a test file's header and cells, and a binary file.
    for (name, bytes, says) in [
        (
            "h.csv",
            &b"po\x1b[2Jrosity,modulus_gpa\n0.7,1\n"[..],
            "po\\u{1b}[2j",
        ),
        (
            "c.csv",
            &b"porosity,modulus_gpa\n0.7\x1b[31m,1\n"[..],
            "0.7\\u{1b}[31m",
        ),
        (
            "b.csv",
            &b"\x7fELF\x02\x01\x01\x00\xff\xfe\x1b[2J"[..],
            "b.csv",
        ),
    ] {
        let csv = d.join(name);
        std::fs::write(&csv, bytes).unwrap();
        let out = voxfe(&["fit", s, "--tests", csv.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(!has_control(&err), "{name}: {err:?}");
    }
}
