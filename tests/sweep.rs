//! `voxfe sweep` and `voxfe merge` end to end.

mod common;

use common::{assert_real_png, voxfe};
use std::path::Path;
use std::process::Command;
use voxfe::study::sweep::{band, read_jsonl, Row, RunFields, Status};

const SCENE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/rd-compression.toml");

/// A coarse 3 lattices × 5 porosities sweep into `out`, optionally
/// sharded. The exponent is pinned: this sweep is about the files, and
/// with "auto" each of its 15 lattices would compute its reference (three
/// fine cells) where the shipped table does not cover it.
fn sweep(out: &Path, shard: Option<&str>) -> std::process::Output {
    let mut args = vec![
        "sweep",
        SCENE,
        "--backend",
        "cpu",
        "--set",
        "voxel.fraction_exponent=2",
        "--set",
        "specimen.size=[4.0, 4.0, 4.0]",
        "--set",
        "voxel.size=0.1",
        "--set",
        "lattice.cell=2.0",
        "--vary",
        "lattice.kind=rhombic-dodecahedron,bcc,octet",
        "--vary",
        "lattice.porosity=0.6:0.8:5",
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(s) = shard {
        args.extend(["--shard", s]);
    }
    voxfe(&args)
}

/// Rows without the wall-clock fields and the provenance's date, which
/// differ between runs.
fn timeless(rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter()
        .map(|mut r| {
            if let Some(p) = &mut r.provenance {
                p.date.clear();
            }
            if let Some(run) = &mut r.run {
                run.voxel.voxelize_seconds = 0.0;
                run.solve.solve_seconds = 0.0;
                run.solve.setup_seconds = 0.0;
                run.solve.iterations_seconds = 0.0;
            }
            r
        })
        .collect()
}

#[test]
fn sweep_csv_has_a_row_per_case_with_every_field_and_shards_merge_back() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let out = sweep(&full, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(full.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(lines.count(), 15);
    // Every field of `voxfe run --json`, under the same names.
    let run = voxfe(&[
        "run",
        SCENE,
        "--backend",
        "cpu",
        "--json",
        "--set",
        "voxel.size=0.1",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    // (The provenance object as its columns: version, commit, hashes.)
    for key in v.as_object().unwrap().keys().filter(|k| *k != "provenance") {
        assert!(header.contains(&key.as_str()), "results.csv lacks {key}");
    }
    for key in voxfe::provenance::CSV_COLUMNS {
        assert!(header.contains(&key), "results.csv lacks {key}");
    }
    for key in [
        "case",
        "lattice.kind",
        "lattice.porosity",
        "status",
        "e_eff",
    ] {
        assert!(header.contains(&key), "results.csv lacks {key}");
    }
    let rows = read_jsonl(&full.join("results.jsonl")).unwrap();
    assert!(rows.iter().all(|r| r.status == Status::Ok), "{rows:?}");
    let summary = std::fs::read_to_string(full.join("summary.md")).unwrap();
    for kind in ["rhombic-dodecahedron", "bcc", "octet"] {
        assert!(
            summary.contains(&format!("| {kind} | ")),
            "no fit for {kind}:\n{summary}"
        );
    }

    // The plot, as a real image with data, and as SVG with labelled axes.
    assert_real_png(&full.join("modulus-density.png"), (900, 640));
    let svg = std::fs::read_to_string(full.join("modulus-density.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("E_eff / E_s"),
        "{svg:.200}"
    );
    assert!(svg.contains("relative density"));
    assert!(summary.contains("modulus-density.png"), "{summary}");

    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(sweep(&a, Some("0/2")).status.success());
    assert!(sweep(&b, Some("1/2")).status.success());
    assert_eq!(read_jsonl(&a.join("results.jsonl")).unwrap().len(), 8);
    let merged = dir.path().join("merged");
    let out = voxfe(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        timeless(read_jsonl(&merged.join("results.jsonl")).unwrap()),
        timeless(rows),
        "merged shards differ from the unsharded sweep"
    );
    assert_real_png(&merged.join("modulus-density.png"), (900, 640));
    // A shard on its own is not a whole sweep.
    let out = voxfe(&[
        "merge",
        a.to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}

#[test]
fn a_failing_case_is_recorded_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = voxfe(&[
        "sweep",
        SCENE,
        "--backend",
        "cpu",
        "--set",
        "specimen.size=[4.0, 4.0, 4.0]",
        "--set",
        "voxel.size=0.1",
        "--set",
        "lattice.cell=2.0",
        "--vary",
        "lattice.porosity=0.7,0.05,0.75",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_jsonl(&dir.path().join("results.jsonl")).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].status, Status::Ok);
    assert_eq!(rows[1].status, Status::Failed);
    assert!(
        rows[1]
            .error
            .as_deref()
            .unwrap()
            .contains("lattice.porosity = 0.05"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2].status, Status::Ok);
}

#[test]
fn bending_and_implant_sweeps_plot_their_own_quantities() {
    let dir = tempfile::tempdir().unwrap();
    let row = |kind: &str, porosity: f64, height: f64, e_flex: f64, k: f64| Row {
        case: 0,
        settings: vec![("specimen.height".into(), height.into())],
        status: Status::Ok,
        error: None,
        run: Some({
            let mut run = RunFields::default();
            run.voxel.lattice = kind.into();
            run.voxel.porosity_measured = porosity;
            run.solve.e_flex = Some(e_flex);
            run.solve.stiffness = Some(k);
            run.material_e = 186000.0;
            run
        }),
        provenance: None,
    };
    let rows: Vec<Row> = (0..5)
        .flat_map(|i| {
            let p = 0.70 + 0.04 * i as f64;
            [
                row(
                    "rhombic-dodecahedron",
                    p,
                    21.0 + 2.0 * i as f64,
                    9000.0 * (1.0 - p),
                    3.0e4 / (1.0 + i as f64),
                ),
                row(
                    "bcc",
                    p,
                    21.0 + 2.0 * i as f64,
                    7000.0 * (1.0 - p),
                    2.0e4 / (1.0 + i as f64),
                ),
            ]
        })
        .collect();
    let written =
        voxfe::study::sweep::write_plots(dir.path(), &rows, &["specimen.height"]).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "flexural-modulus.png",
            "flexural-modulus.svg",
            "stiffness.png",
            "stiffness.svg"
        ]
    );
    assert_real_png(&dir.path().join("flexural-modulus.png"), (900, 640));
    assert_real_png(&dir.path().join("stiffness.png"), (900, 640));
    let svg = std::fs::read_to_string(dir.path().join("flexural-modulus.svg")).unwrap();
    assert!(svg.contains("E_f (MPa)") && svg.contains("measured porosity (%)"));
    let svg = std::fs::read_to_string(dir.path().join("stiffness.svg")).unwrap();
    assert!(svg.contains("k (N/mm)") && svg.contains("specimen.height (mm)"));
}

/// The small RD scene (tests/common) at h = 0.15 mm, for the sweeps below.
fn small() -> String {
    common::small_rd(0.15)
}

/// Writes [`small`] into `dir` and returns its path.
fn small_scene(dir: &Path) -> String {
    let p = dir.join("small.toml");
    std::fs::write(&p, small()).unwrap();
    p.to_str().unwrap().to_string()
}

/// Complete lines (ending in a newline) of a file, none if it is missing.
fn complete_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
}

#[test]
fn an_interrupted_sweep_keeps_its_rows_and_the_same_command_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path());
    let out = dir.path().join("out");
    // Four cases, the last the slowest (216 000 voxels).
    let args = [
        "sweep",
        scene.as_str(),
        "--vary",
        "voxel.size=0.15,0.1,0.075,0.05",
        "--out",
        out.to_str().unwrap(),
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_voxfe"))
        .args(args)
        .env("VOXFE_CACHE_DIR", common::cache_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let jsonl = out.join("results.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while complete_lines(&jsonl) == 0 {
        assert!(std::time::Instant::now() < deadline, "no row after 120 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        running,
        "the first row appeared only when the sweep was over"
    );
    // What the interrupted sweep kept: whole rows in both files, each CSV
    // row under the full header.
    let kept = read_jsonl(&jsonl).unwrap();
    assert!((1..4).contains(&kept.len()), "{} rows", kept.len());
    assert_eq!(kept[0].case, 0);
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + kept.len(), "{csv}");
    assert!(lines[0].starts_with("case,voxel.size,status,error,name,"));
    assert!(lines[0].contains(",e_eff,"));
    let columns = lines[0].split(',').count();
    assert!(lines[1].starts_with("0,0.15,ok,"), "{}", lines[1]);
    assert!(lines[1].split(',').count() >= columns, "{}", lines[1]);
    assert!(out.join("sweep.json").is_file());

    // The same command resumes: the kept cases are skipped, not rerun.
    let again = voxfe(&args);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert!(
        err.contains(&format!("resuming: {} of 4 cases", kept.len())),
        "{err}"
    );
    assert!(
        !err.contains("case 1/4 [voxel.size=0.15]"),
        "case 1 ran again: {err}"
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!(
            "4 cases run ({} from an earlier run), 0 failed",
            kept.len()
        )),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let rows = read_jsonl(&jsonl).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.case).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        rows[..kept.len()],
        kept[..],
        "the kept rows are kept as they were"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv"))
            .unwrap()
            .lines()
            .count(),
        5
    );
    assert!(out.join("summary.md").is_file() && out.join("modulus-density.png").is_file());

    // --restart runs every case again.
    let restart: Vec<&str> = args.iter().copied().chain(["--restart"]).collect();
    let again = voxfe(&restart[..]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert!(
        !err.contains("resuming") && err.contains("case 1/4 [voxel.size=0.15]: ok"),
        "{err}"
    );
    assert_eq!(read_jsonl(&jsonl).unwrap().len(), 4);
}

#[test]
fn an_out_that_cannot_take_the_sweep_is_refused_before_the_first_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path());
    let sweep_into = |out: &Path, vary: &str, extra: &[&str]| {
        let mut args = vec![
            "sweep",
            scene.as_str(),
            "--vary",
            vary,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        voxfe(&args)
    };
    let refused = |o: &std::process::Output, what: &str| {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("--out") && err.contains(what), "{err}");
        assert!(!err.contains("case 1/"), "a case ran: {err}");
    };
    // A regular file, and a path below one.
    let file = dir.path().join("file");
    std::fs::write(&file, "mine").unwrap();
    refused(&sweep_into(&file, "lattice.porosity=0.7", &[]), "is a file");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    refused(
        &sweep_into(&file.join("sub"), "lattice.porosity=0.7", &[]),
        "cannot be created",
    );
    // A directory of other files.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "x").unwrap();
    refused(
        &sweep_into(&other, "lattice.porosity=0.7", &[]),
        "holds no voxfe sweep (no readable sweep.json; found notes.txt)",
    );
    assert!(!other.join("results.jsonl").exists());
    // A different sweep: refused, named, unless --force.
    let out = dir.path().join("out");
    assert!(sweep_into(&out, "lattice.porosity=0.7", &[])
        .status
        .success());
    std::fs::write(out.join("stiffness.png"), "a stale plot").unwrap();
    std::fs::write(out.join("notes.txt"), "x").unwrap();
    let o = sweep_into(&out, "lattice.porosity=0.75", &[]);
    refused(&o, "holds a different sweep");
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("--vary [lattice.porosity=0.7] vs [lattice.porosity=0.75]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = sweep_into(&out, "lattice.porosity=0.75", &["--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = read_jsonl(&out.join("results.jsonl")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].setting("lattice.porosity").unwrap(), 0.75);
    assert!(
        !out.join("stiffness.png").exists(),
        "the stale plot is gone"
    );
    assert!(
        out.join("notes.txt").exists(),
        "--force keeps files not voxfe's"
    );
}

#[test]
fn vary_keys_and_values_are_checked_before_the_first_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path());
    let out = dir.path().join("out");
    for (vary, names) in [
        (
            &["lattice.porosity=0.7,0.8", "lattice.porosity=0.75"][..],
            &["lattice.porosity", "0.75", "already varied"][..],
        ),
        (
            &["lattice.porsity=0.7,0.8"][..],
            &["porsity", "unknown field"][..],
        ),
        (
            &["lattice.porosity=0.7,abc"][..],
            &["case 1", "lattice.porosity=abc"][..],
        ),
    ] {
        let mut args = vec![
            "-q",
            "sweep",
            scene.as_str(),
            "--out",
            out.to_str().unwrap(),
        ];
        for v in vary {
            args.extend(["--vary", v]);
        }
        let o = voxfe(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{vary:?}: {err}");
        for n in names {
            assert!(err.contains(n), "{vary:?}: no '{n}' in {err}");
        }
        assert!(!out.exists(), "{vary:?}: --out was written");
    }
}

#[test]
fn quiet_sweeps_still_print_each_cases_warnings_and_failures_keep_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path());
    let out = dir.path().join("out");
    // 0.9 at h = 0.15, binary voxels: struts of one voxel, no load path
    // after voxelizing (fraction voxels keep one).
    let o = voxfe(&[
        "-q",
        "sweep",
        &scene,
        "--set",
        "voxel.fill=binary",
        "--vary",
        "lattice.porosity=0.7,0.9",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("warning: case 1/2 [lattice.porosity=0.7]: D/h = "),
        "{err}"
    );
    assert!(
        err.contains("error: case 2/2 [lattice.porosity=0.9]: no load path"),
        "{err}"
    );
    assert!(
        !err.contains(": ok"),
        "-q hides the per-case progress: {err}"
    );
    let rows = read_jsonl(&out.join("results.jsonl")).unwrap();
    assert_eq!(rows[1].status, Status::Failed);
    let run = rows[1].run.as_ref().expect("the voxelization's fields");
    assert!(run.voxel.removed_voxels > 0, "{run:?}");
    assert!(run.voxel.d_over_h.unwrap() < 2.0, "{run:?}");
    assert!(!run.solve.converged && run.solve.e_eff.is_none());
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    // The failed CSV row carries them too (after its quoted error text).
    let failed = csv.lines().nth(2).unwrap();
    assert!(
        failed.starts_with("1,0.9,failed,\"no load path")
            && failed.contains(&format!(",{},", run.voxel.removed_voxels))
            && failed.contains(",\"[20,20,20]\","),
        "{failed}"
    );
}

#[test]
fn merge_refuses_shards_run_on_different_scene_text() {
    let dir = tempfile::tempdir().unwrap();
    let scene = small_scene(dir.path());
    let shard = |i: &str| {
        let out = dir.path().join(i);
        let o = voxfe(&[
            "sweep",
            &scene,
            "--vary",
            "lattice.porosity=0.7,0.75",
            "--shard",
            &format!("{i}/2"),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let a = shard("0");
    // The scene file edited between the shards.
    std::fs::write(
        &scene,
        small().replace("[voxel]", "[material]\nE = 110000.0\nnu = 0.3\n[voxel]"),
    )
    .unwrap();
    let b = shard("1");
    let o = voxfe(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        dir.path().join("m").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("different text of scene 'small'"), "{err}");
}

/// The cases whose modulus has an error band above
/// [`band::BAND_THRESHOLD`], or none (binary voxels), are marked in
/// `summary.md` (the error-band column and a count) and ringed in the
/// plots; a calibrated case's row carries the exponent it was calibrated
/// to (`fraction_exponent`).
#[test]
fn a_sweep_marks_the_cases_whose_band_is_too_wide_or_missing() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("rd.toml");
    std::fs::write(&scene, common::small_rd(0.15)).unwrap();
    let out = dir.path().join("out");
    let run = voxfe(&[
        "sweep",
        scene.to_str().unwrap(),
        "--vary",
        "voxel.fill=binary,fraction",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows = read_jsonl(&out.join("results.jsonl")).unwrap();
    let (binary, fraction) = (&rows[0], &rows[1]);
    assert!(binary
        .run
        .as_ref()
        .unwrap()
        .voxel
        .fraction_exponent
        .is_none());
    let p = fraction
        .run
        .as_ref()
        .unwrap()
        .voxel
        .fraction_exponent
        .unwrap();
    assert!((1.0..=4.0).contains(&p) && p != 2.0, "p = {p}");
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(jsonl.lines().nth(1).unwrap()).unwrap();
    assert_eq!(line["fraction_exponent"], p);

    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| error band |"), "{summary}");
    assert_eq!(
        band::band(binary),
        Some(band::Band::NoEstimate("binary".into()))
    );
    assert!(
        summary.contains("| binary | ok, ⚠ no band | E_eff (MPa) = ")
            && summary.contains("| ⚠ no estimate (binary) |"),
        "{summary}"
    );
    // The calibrated case as its row's band reads: marked when above the
    // threshold (or while the record carries no estimate).
    let b = band::band(fraction).unwrap();
    if let Some(e) = line["e_eff_error_estimate"].as_f64() {
        assert_eq!(b.is_marked(), e > band::BAND_THRESHOLD, "{line}");
    }
    assert!(summary.contains(&format!("| {} |", b.cell())), "{summary}");
    let marked = rows
        .iter()
        .filter(|r| band::band(r).is_some_and(|b| b.is_marked()))
        .count();
    assert!(
        summary.contains(&format!("⚠ {marked} of 2 cases: {}", band::legend())),
        "{summary}"
    );
    // One black ring per marked case, with the legend.
    let svg = std::fs::read_to_string(out.join("modulus-density.svg")).unwrap();
    let rings = svg
        .matches(r##"r="9" opacity="1" fill="none" stroke="#000000""##)
        .count();
    assert_eq!(rings, marked, "{svg:.400}");
    assert!(svg.contains(&band::legend()));
}

#[test]
fn a_plastic_sweep_reports_each_cases_offset_yield_and_fits_it() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("plastic.toml");
    std::fs::write(
        &scene,
        format!(
            "{}[sweep]\nplastic = true\n[plastic]\nstrain = 0.012\nincrements = 6\ngrowth = 1\n",
            common::small_rd(0.25)
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    // A pinned exponent: no calibration solves in the test.
    let run = voxfe(&[
        "sweep",
        scene.to_str().unwrap(),
        "--set",
        "voxel.fraction_exponent=2.4",
        "--vary",
        "lattice.porosity=0.7,0.8",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows = read_jsonl(&out.join("results.jsonl")).unwrap();
    let offset: Vec<f64> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.status, Status::Ok, "{:?}", r.error);
            let p = r
                .run
                .as_ref()
                .unwrap()
                .plastic
                .clone()
                .expect("plastic fields");
            assert!(p.plastic_steps >= 6, "six increments, and cut-backs");
            assert_eq!(p.plastic_element, "hex8-bbar");
            p.yield_stress_offset.expect("σ_0.2 reached by ε = 0.012")
        })
        .collect();
    assert!(
        offset[0] > offset[1] && offset[1] > 0.0,
        "σ_0.2 falls with porosity: {offset:?}"
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(",yield_stress_offset,") && header.contains(",limit_stress,"),
        "{header}"
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("## Offset yield fits: σ_0.2 / σ_y = C · ρ^n"),
        "{summary}"
    );
    // Refused before any solve: with [sweep] converge, and on a periodic case.
    for (set, says) in [
        ("sweep.converge={levels=3}", "give one or the other"),
        ("load.case=\"periodic\"", "periodic"),
    ] {
        let bad = voxfe(&[
            "sweep",
            scene.to_str().unwrap(),
            "--set",
            set,
            "--vary",
            "lattice.porosity=0.7,0.8",
            "--out",
            dir.path().join("bad").to_str().unwrap(),
            "-q",
        ]);
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(bad.status.code(), Some(2), "{set}: {err}");
        assert!(
            err.contains("[sweep] plastic = true") && err.contains(says),
            "{set}: {err}"
        );
    }
}
