//! `voxfe sweep` and `voxfe merge` end to end.

mod common;

use common::assert_real_png;
use std::path::Path;
use std::process::Command;
use voxfe::sweep::{read_jsonl, Row, RunFields, Status};

const SCENE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/rd-compression.toml");

fn voxfe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_voxfe"))
        .args(args)
        .output()
        .expect("runs voxfe")
}

/// A coarse 3 lattices × 5 porosities sweep into `out`, optionally sharded.
fn sweep(out: &Path, shard: Option<&str>) -> std::process::Output {
    let mut args = vec![
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

/// Rows without the wall-clock fields, which differ between runs.
fn timeless(rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter()
        .map(|mut r| {
            if let Some(run) = &mut r.run {
                run.voxelize_seconds = 0.0;
                run.solve_seconds = 0.0;
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
    for key in v.as_object().unwrap().keys() {
        assert!(header.contains(&key.as_str()), "results.csv lacks {key}");
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
        run: Some(RunFields {
            lattice: kind.into(),
            porosity_measured: porosity,
            e_flex: Some(e_flex),
            stiffness: Some(k),
            material_e: 186000.0,
            ..Default::default()
        }),
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
    let written = voxfe::sweep::write_plots(dir.path(), &rows, &["specimen.height"]).unwrap();
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
