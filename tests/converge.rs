//! `voxfe converge` end to end: the JSON of a study (each level's modulus
//! against `voxfe run` at that voxel size, the estimate against its
//! defining equations), a solid block whose modulus is E at every h, bad
//! flags refused before the first solve (exit 2), a level that does not
//! converge (exit 3), a `[sweep] converge` sweep's columns and
//! `voxfe design --converged`; `--compare-fill` with `--plot` (both fills'
//! series in the JSON, the PNG and SVG with the provenance) and `voxfe run
//! --error-from` (the error the study implies at a run's h, computed here
//! from the study's numbers; a study of another scene refused).

mod common;

use common::voxfe;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn converge_json_levels_match_run_and_the_estimate_its_equations() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.1));
    let s = scene.to_str().unwrap();
    let v = json(&voxfe(&["converge", s, "--json", "-q"]));
    assert_eq!(v["converged"], true);
    assert!(v["provenance"]["scene_hash"].is_string(), "{v}");
    assert_eq!(v["load_case"], "compression");
    let levels = v["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 3);
    // h = 0.1, then 3/45 and 3/68: the admissible sizes nearest h/1.5ⁱ.
    let h: Vec<f64> = levels.iter().map(|l| f(&l["voxel_size"])).collect();
    assert_eq!(h[0], 0.1);
    assert!((h[1] - 3.0 / 45.0).abs() < 1e-15 && (h[2] - 3.0 / 68.0).abs() < 1e-15);
    assert!((f(&levels[2]["ratio"]) - h[1] / h[2]).abs() < 1e-12);
    let mut e = Vec::new();
    for l in levels {
        for key in [
            "d_over_h",
            "dims",
            "unknowns",
            "iterations",
            "solve_seconds",
        ] {
            assert!(!l[key].is_null(), "level lacks {key}: {l}");
        }
        // The level's modulus is `voxfe run`'s at its voxel size, exactly.
        let set = format!("voxel.size={}", f(&l["voxel_size"]));
        let run = json(&voxfe(&["run", s, "--json", "--set", &set]));
        assert_eq!(l["e_eff"], run["e_eff"], "{set}");
        assert_eq!(l["unknowns"], run["unknowns"]);
        e.push(f(&l["e_eff"]));
    }
    let q = &v["quantities"]["e_eff"];
    let monotone = (e[1] - e[0]).signum() == (e[2] - e[1]).signum();
    assert_eq!(q["monotone"], monotone, "{q}");
    let spread =
        e.iter().cloned().fold(f64::MIN, f64::max) - e.iter().cloned().fold(f64::MAX, f64::min);
    assert!((f(&q["spread"]) - spread).abs() < 1e-9 * spread);
    if let Some(p) = q["order"].as_f64() {
        // p solves (e₂ − e₁)/(e₃ − e₂) = r₃₂ᵖ (r₂₁ᵖ − 1)/(r₃₂ᵖ − 1) and
        // e∞ = e₃ + (e₃ − e₂)/(r₃₂ᵖ − 1).
        let (r21, r32) = (h[0] / h[1], h[1] / h[2]);
        let g = r32.powf(p) * (r21.powf(p) - 1.0) / (r32.powf(p) - 1.0);
        assert!(
            (g / ((e[1] - e[0]) / (e[2] - e[1])) - 1.0).abs() < 1e-9,
            "{q}"
        );
        let e_inf = e[2] + (e[2] - e[1]) / (r32.powf(p) - 1.0);
        assert!((f(&q["extrapolated"]) - e_inf).abs() < 1e-9 * e_inf);
        assert!((f(&q["error_estimate"]) - (e[2] - e_inf).abs()).abs() < 1e-9 * e_inf);
        let gci = 1.25 * ((e[2] - e[1]) / e[2]).abs() / (r32.powf(p) - 1.0);
        assert!((f(&q["gci_fine"]) - gci).abs() < 1e-12);
        assert_eq!(q["asymptotic"], (0.5..=4.0).contains(&p));
    } else {
        assert!(
            q["extrapolated"].is_null() && q["asymptotic"] == false,
            "{q}"
        );
    }
    assert!(!q["statement"].as_str().unwrap().is_empty());
    // The text names the order, the extrapolation and the GCI.
    let out = voxfe(&["converge", s, "-q"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "observed order p",
        "extrapolated (Richardson)",
        "GCI",
        "asymptotic range",
    ] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn a_solid_block_converges_to_e_exactly() {
    // E_eff = E at every h (the spec): the study is flat, E∞ = E.
    let dir = tempfile::tempdir().unwrap();
    let scene = write(
        dir.path(),
        "block.toml",
        r#"
name = "block"
[lattice]
kind = "solid"
[specimen]
shape = "box"
size = [1.0, 1.0, 2.0]
[voxel]
size = 0.25
[solver]
backend = "cpu"
"#,
    );
    let v = json(&voxfe(&["converge", scene.to_str().unwrap(), "--json"]));
    let q = &v["quantities"]["e_eff"];
    assert_eq!(q["asymptotic"], true, "{q}");
    assert!(
        (f(&q["extrapolated"]) / 186_000.0 - 1.0).abs() < 1e-5,
        "{q}"
    );
    assert_eq!(f(&q["error_estimate"]), 0.0);
}

#[test]
fn bad_flags_are_refused_before_the_first_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.1));
    let s = scene.to_str().unwrap();
    for (args, says) in [
        (vec!["--levels", "2"], "--levels 2"),
        (vec!["--ratio", "1"], "--ratio 1"),
        (vec!["--ratio", "0.5"], "--ratio 0.5"),
        (vec!["--quantity", "e_nope"], "--quantity e_nope"),
        // Levels 1 and 2 (31³, 46³ nodes) fit 150 MiB with the
        // incompatible element, level 3 (69³) does not.
        (
            vec!["--set", "voxel.max_memory_mb=150"],
            "level 3 (voxel.size = 0.04411764705882353 mm): voxel.size",
        ),
    ] {
        let mut all = vec!["converge", s];
        all.extend(&args);
        let started = std::time::Instant::now();
        let out = voxfe(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("level 1:"), "a solve started: {err}");
        assert!(started.elapsed().as_secs_f64() < 5.0);
    }
    // A quantity this load case does not give: after the first solve.
    let out = voxfe(&["converge", s, "--quantity", "e_flex"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--quantity e_flex: level 1 reports null")
    );
}

#[test]
fn a_level_that_does_not_converge_exits_3_with_the_levels_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.1));
    let out = voxfe(&[
        "converge",
        scene.to_str().unwrap(),
        "--json",
        "--set",
        "solver.max_iterations=2",
        // Pinned: with "auto" the calibration's cells would fail first.
        "--set",
        "voxel.fraction_exponent=2",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("level 1 (h = 0.1 mm) did not converge"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["converged"], false);
    assert_eq!(v["levels"].as_array().unwrap().len(), 1);
    assert!(v["quantities"]["e_eff"].is_null());
}

#[test]
fn a_converge_sweep_adds_the_study_columns() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::small_rd(0.15)
        + "[sweep]\nvary = [\"lattice.porosity=0.7,0.75\"]\nconverge = { levels = 3, ratio = 1.5 }\n";
    let scene = write(dir.path(), "sweep.toml", &text);
    let s = scene.to_str().unwrap();
    let out_dir = dir.path().join("out");
    let out = voxfe(&["sweep", s, "--out", out_dir.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(out_dir.join("results.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for c in ["e_extrapolated", "e_error_estimate", "order", "asymptotic"] {
        assert!(header.contains(&c), "results.csv lacks {c}: {header:?}");
    }
    let rows: Vec<Value> = std::fs::read_to_string(out_dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for (row, phi) in rows.iter().zip(["0.7", "0.75"]) {
        // The row is the study's finest solve with its estimate.
        let set = format!("lattice.porosity={phi}");
        let v = json(&voxfe(&["converge", s, "--json", "-q", "--set", &set]));
        let fine = &v["levels"][2];
        assert_eq!(row["voxel_size"], fine["voxel_size"]);
        assert_eq!(row["e_eff"], fine["e_eff"]);
        let q = &v["quantities"]["e_eff"];
        assert_eq!(row["asymptotic"], q["asymptotic"]);
        assert_eq!(row.get("order").unwrap_or(&Value::Null), &q["order"]);
        assert_eq!(
            row.get("e_extrapolated").unwrap_or(&Value::Null),
            &q["extrapolated"]
        );
    }
    // A study of two levels is refused by the scene check.
    let bad = text.replace("levels = 3", "levels = 2");
    let scene = write(dir.path(), "bad.toml", &bad);
    let out = voxfe(&[
        "sweep",
        scene.to_str().unwrap(),
        "--out",
        dir.path().join("o2").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sweep.converge.levels = 2"));
}

#[test]
fn design_converged_reports_the_study_at_the_design() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.15));
    let s = scene.to_str().unwrap();
    // Bad study flags: refused before the search.
    let out = voxfe(&[
        "design",
        s,
        "--target-modulus",
        "9000",
        "--converged",
        "--levels",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--levels 2"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("solve 1"));
    let v = json(&voxfe(&[
        "design",
        s,
        "--target-modulus",
        "8000",
        "--tolerance",
        "0.2",
        "--converged",
        "--json",
        "-q",
    ]));
    let design = &v["design"];
    let e = f(&design["e_eff"]);
    // The scene's own porosity (8 404 MPa at h = 0.15, p calibrated) is
    // within 20 %.
    assert!((e / 8000.0 - 1.0).abs() <= 0.2, "{design}");
    assert_eq!(design["solves"], 1);
    // Level 1 of the study is the design's own solve.
    assert_eq!(v["levels"][0]["e_eff"], design["e_eff"]);
    assert_eq!(v["levels"].as_array().unwrap().len(), 3);
    assert!(v["quantities"]["e_eff"]["statement"].is_string());
    // The design's provenance names the porosity it found and its backend.
    let p = &design["provenance"];
    let overrides = p["overrides"].to_string();
    assert!(overrides.contains("lattice.porosity="), "{p}");
    assert_eq!(p["backend"], design["backend"], "{p}");
    assert!(
        p["commit"].is_string() && p["scene_hash"].is_string(),
        "{p}"
    );
}

/// Whether `bytes` holds `needle`.
fn holds(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn compare_fill_plots_both_fills_and_run_takes_its_error_from_the_study() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.1));
    let s = scene.to_str().unwrap();
    let stem = dir.path().join("conv");
    let out = voxfe(&[
        "converge",
        s,
        "--compare-fill",
        "--plot",
        stem.to_str().unwrap(),
        "--json",
        "-q",
    ]);
    let v = json(&out);
    let study = write(dir.path(), "study.json", &v.to_string());
    // Both series, on the same voxel sizes; each its own study hash.
    let (b, fr) = (&v["fills"]["binary"], &v["fills"]["fraction"]);
    assert_eq!(v["compare_fill"], true);
    let sizes = |x: &Value| -> Vec<f64> {
        x["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| f(&l["voxel_size"]))
            .collect()
    };
    assert_eq!(sizes(b).len(), 3);
    assert_eq!(sizes(b), sizes(fr));
    assert_ne!(b["study_hash"], fr["study_hash"]);
    for l in fr["levels"].as_array().unwrap() {
        // Fraction fill: the nominal porosity within 0.2 points.
        assert!((f(&l["porosity_measured"]) - 0.7).abs() < 2e-3, "{l}");
    }
    assert!(!b["quantities"]["e_eff"]["monotone"].is_null());
    // The plot: both files, a real PNG with the provenance as text.
    let files: Vec<&str> = v["plot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{v}");
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    common::assert_real_png(&png, voxfe::study::converge::plot::SIZE);
    let bytes = std::fs::read(&png).unwrap();
    let hash = v["provenance"]["scene_hash"].as_str().unwrap();
    assert!(holds(&bytes, format!("tEXtscene_hash\0{hash}").as_bytes()));
    let text = std::fs::read_to_string(&svg).unwrap();
    for word in [
        "voxel size h (mm)",
        "E_eff (MPa)",
        "binary fill",
        // The fraction leg is the default: p calibrated at each h.
        "fraction φ^p (p auto) fill",
    ] {
        assert!(text.contains(word), "svg lacks {word}");
    }

    // `voxfe run --error-from`: at each level's h of each fill the run's
    // E_eff is the level's, and the error is |E_h − E∞|/E∞ of the study.
    let mut estimated = Vec::new();
    for (fill, st) in [("binary", b), ("fraction", fr)] {
        let q = &st["quantities"]["e_eff"];
        let Some(e_inf) = q["extrapolated"]
            .as_f64()
            .filter(|_| q["asymptotic"] == true)
        else {
            continue;
        };
        let p = f(&q["order"]);
        let levels = st["levels"].as_array().unwrap();
        let (h3, e3) = (f(&levels[2]["voxel_size"]), f(&levels[2]["e_eff"]));
        let c = (e3 - e_inf) / h3.powf(p);
        let l = &levels[1];
        let (h, e_h) = (f(&l["voxel_size"]), f(&l["e_eff"]));
        let out = voxfe(&[
            "run",
            s,
            "--json",
            "--error-from",
            study.to_str().unwrap(),
            "--set",
            &format!("voxel.fill={fill}"),
            "--set",
            &format!("voxel.size={h}"),
        ]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let r = json(&out);
        assert_eq!(f(&r["e_eff"]), e_h);
        let d = &r["discretization_error"];
        let expected = (e_h - e_inf).abs() / e_inf;
        assert!((f(&d["relative"]) - expected).abs() < 1e-12, "{d}");
        // The fitted E∞ + C·hᵖ passes through every level.
        assert!((f(&d["model_relative"]) - (c * h.powf(p) / e_inf).abs()).abs() < 1e-12);
        assert!((f(&d["model_relative"]) - expected).abs() < 1e-9, "{d}");
        assert_eq!(d["in_range"], true);
        assert_eq!(d["study_hash"], st["study_hash"]);
        // The estimate replaces the run's error band and the D/h warning.
        assert!(
            (f(&r["e_eff_error_estimate"]) - expected).abs() < 1e-12,
            "{r}"
        );
        assert_eq!(r["error_statement"], d["statement"]);
        assert!(!err.contains("D/h ="), "{err}");
        estimated.push(fill);
    }
    // (With "auto" the fraction leg recalibrates at each h: its sequence
    // need not be asymptotic.)
    assert!(
        !estimated.is_empty(),
        "neither fill's study is asymptotic: {v}"
    );
    // Text: the statement, in percent.
    let fill = format!("voxel.fill={}", estimated[0]);
    let out = voxfe(&[
        "run",
        s,
        "--error-from",
        study.to_str().unwrap(),
        "--set",
        &fill,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("estimated discretization error of e_eff at h = 0.1 mm"),
        "{text}"
    );

    // A study of another scene is refused before the solve, naming both.
    let started = std::time::Instant::now();
    let out = voxfe(&[
        "run",
        s,
        "--error-from",
        study.to_str().unwrap(),
        "--set",
        "lattice.porosity=0.8",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the study is of another scene"), "{err}");
    assert!(err.contains(b["study_hash"].as_str().unwrap()), "{err}");
    assert!(started.elapsed().as_secs_f64() < 5.0);

    // A study not in its asymptotic range gives no estimate: the run says
    // so and keeps its own error band (the calibrated exponent's).
    let mut plain = fr.clone();
    plain["quantities"]["e_eff"]["asymptotic"] = false.into();
    plain["quantities"]["e_eff"]["extrapolated"] = Value::Null;
    let flat = write(dir.path(), "plain.json", &plain.to_string());
    let out = voxfe(&[
        "run",
        s,
        "--json",
        "--error-from",
        flat.to_str().unwrap(),
        "--set",
        "voxel.fill=fraction",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let r = json(&out);
    assert!(r["discretization_error"]["relative"].is_null());
    assert!(err.contains("no estimate"), "{err}");
    assert_eq!(r["exponent_source"], "auto");
    assert!(f(&r["e_eff_error_estimate"]) > 0.0, "{r}");
    assert!(
        r["error_statement"].as_str().unwrap().starts_with("± "),
        "{r}"
    );
}

#[test]
fn bad_plot_fill_and_study_flags_exit_2_before_the_first_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.1));
    let s = scene.to_str().unwrap();
    let junk = write(dir.path(), "junk.json", "{\"e_eff\": 1}");
    let missing = dir.path().join("none").join("conv");
    let d = dir.path().to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "converge",
                s,
                "--compare-fill",
                "--set",
                "voxel.fill=binary",
            ],
            "--compare-fill with --set voxel.fill=binary",
        ),
        (
            vec!["converge", s, "--plot", missing.to_str().unwrap()],
            "does not exist",
        ),
        (
            vec!["converge", s, "--plot", d],
            "a directory, not a file stem",
        ),
        (
            vec!["converge", s, "--plot", "x", "--quantity", "yield_stress"],
            "the convergence plot draws e_eff, the modulus of this load case, and --quantity yield_stress",
        ),
        (
            vec!["run", s, "--error-from", "no-such-study.json"],
            "--error-from 'no-such-study.json': cannot read it",
        ),
        (
            vec!["run", s, "--error-from", junk.to_str().unwrap()],
            "not the JSON record of a convergence study (voxfe converge --json) (no study_hash)",
        ),
    ];
    for (args, says) in cases {
        let started = std::time::Instant::now();
        let out = voxfe(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("level 1:"), "a solve started: {err}");
        assert!(started.elapsed().as_secs_f64() < 5.0, "{args:?}");
    }
}

#[test]
fn compare_fill_with_a_fraction_exponent_applies_it_to_the_fraction_leg_only() {
    let dir = tempfile::tempdir().unwrap();
    let scene = write(dir.path(), "small.toml", &common::small_rd(0.1));
    let s = scene.to_str().unwrap();
    let stem = dir.path().join("conv");
    let v = json(&voxfe(&[
        "converge",
        s,
        "--compare-fill",
        "--set",
        "voxel.fraction_exponent=2",
        "--plot",
        stem.to_str().unwrap(),
        "--json",
        "-q",
    ]));
    let level = |fill: &str| v["fills"][fill]["levels"][0].clone();
    // Each leg's first level is the run of that fill at the scene's h.
    for (fill, set) in [
        ("binary", vec!["--set", "voxel.fill=binary"]),
        (
            "fraction",
            vec![
                "--set",
                "voxel.fill=fraction",
                "--set",
                "voxel.fraction_exponent=2",
            ],
        ),
    ] {
        let mut args = vec!["run", s, "--json", "-q"];
        args.extend(set);
        let run = json(&voxfe(&args));
        assert_eq!(f(&level(fill)["e_eff"]), f(&run["e_eff"]), "{fill}");
    }
    let text = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
    assert!(text.contains("fraction φ^2 fill"), "svg lacks the exponent");
}
