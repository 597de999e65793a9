//! `voxfe calibrate`: the exponent it finds brings one coarse periodic cell
//! to the reference of finer cells, the reference is what `homogenize`
//! gives on those cells, the printed exponent applied with `--set`
//! reproduces the calibrated cell, and bad input is refused with the key or
//! flag named.

mod common;

use common::{scene_path, voxfe};
use serde_json::Value;
use voxfe::study::calibrate::{calibrate, CalibrateOptions, REFERENCE_EXPONENT};
use voxfe::study::converge::estimate;

/// The shipped RD scene at h = M/10, its cells on the CPU.
const COARSE: [&str; 2] = ["voxel.size=0.15", "solver.backend=cpu"];

/// E_h of `voxfe homogenize` on the scene at `path` with voxel size `h`
/// and fraction exponent `p`.
fn cell_e_h(path: &std::path::Path, h: f64, p: f64) -> f64 {
    let (size, exponent) = (
        format!("voxel.size={h}"),
        format!("voxel.fraction_exponent={p}"),
    );
    let out = voxfe(&[
        "homogenize",
        path.to_str().unwrap(),
        "--backend",
        "cpu",
        "--json",
        "--set",
        &size,
        "--set",
        "voxel.fill=fraction",
        "--set",
        &exponent,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["derived"]["e_h"].as_f64().unwrap()
}

#[test]
fn the_calibrated_exponent_brings_the_coarse_cell_to_the_reference() {
    let path = scene_path("rd-compression.toml");
    let set: Vec<String> = COARSE.iter().map(|s| s.to_string()).collect();
    let opts = CalibrateOptions::default();
    let mut seen = 0;
    let scene = voxfe::scene::Scene::load_as_periodic(&path, &set, Some(1)).unwrap();
    let c = calibrate(&scene, &opts, |_| seen += 1).unwrap();
    assert_eq!(
        (c.n, c.lattice, c.element),
        (10, "rhombic-dodecahedron", "hex8")
    );
    assert_eq!(seen, c.reference_cells.len() + c.trials.len());

    // The reference cells are M/15, M/20 and M/30 with φ² fill, as
    // `voxfe homogenize` gives them, and the reference is their Richardson
    // value or, not asymptotic, the finest.
    let ns: Vec<usize> = c.reference_cells.iter().map(|r| r.n).collect();
    assert_eq!(ns, [15, 20, 30]);
    for r in &c.reference_cells {
        let direct = cell_e_h(&path, r.voxel_size, REFERENCE_EXPONENT);
        assert!(
            (direct / r.e_h - 1.0).abs() < 1e-12,
            "M/{}: {direct} vs {}",
            r.n,
            r.e_h
        );
    }
    let f = [0, 1, 2].map(|i| c.reference_cells[i].e_h);
    let h = [0, 1, 2].map(|i| c.reference_cells[i].voxel_size);
    let est = estimate(h, f, 10.0 * 1e-6);
    let expected = match est.extrapolated {
        Some(e) if est.asymptotic => e,
        _ => f[2],
    };
    assert_eq!(c.reference, expected);
    // Taking the finest cell is said, with the cells' own verdict.
    let said = c
        .notices
        .iter()
        .any(|n| n.starts_with("the reference cells are not in the asymptotic range"));
    assert_eq!(said, c.reference_from == "finest", "{:?}", c.notices);

    // The search starts at p = 2, which is far off on so coarse a grid, and
    // ends within the tolerance at a p inside [1, 4].
    assert_eq!(c.trials[0].exponent, REFERENCE_EXPONENT);
    assert!(
        c.relative_miss_p2.abs() > 0.2,
        "p = 2 misses by {}",
        c.relative_miss_p2
    );
    assert!(
        c.relative_miss.abs() <= opts.tolerance,
        "{}",
        c.relative_miss
    );
    assert!((1.0..=4.0).contains(&c.exponent));
    assert!(c.trials.len() <= opts.max_trials);

    // The exponent as printed, applied with --set, gives the calibrated cell.
    let applied = cell_e_h(&path, 0.15, c.exponent);
    assert!(
        (applied / c.e_h - 1.0).abs() < 1e-12,
        "{applied} vs {}",
        c.e_h
    );
}

#[test]
fn the_command_prints_the_exponent_and_how_to_apply_it() {
    let path = scene_path("rd-compression.toml");
    let mut args = vec!["calibrate", path.to_str().unwrap(), "-q"];
    for s in COARSE {
        args.extend(["--set", s]);
    }
    let text = voxfe(&args);
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let text = String::from_utf8(text.stdout).unwrap();
    args.push("--json");
    let json = voxfe(&args);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let p = v["exponent"].as_f64().unwrap();
    assert!(
        text.contains(&format!(
            "--set voxel.fill=fraction --set voxel.fraction_exponent={p}\n"
        )),
        "{text}"
    );
    assert_eq!(v["provenance"]["scene_path"], path.to_str().unwrap());
}

#[test]
fn bad_input_is_refused_with_the_key_named() {
    let path = scene_path("rd-compression.toml");
    let p = path.to_str().unwrap();
    for (args, names) in [
        // M = 1.5 mm is not a whole number of 0.07 mm voxels.
        (vec!["--set", "voxel.size=0.07"], "voxel.size"),
        (vec!["--set", "lattice.kind=solid"], "lattice.kind"),
        (vec!["--tolerance", "0"], "--tolerance"),
        (vec!["--max-trials", "1"], "--max-trials"),
    ] {
        let mut a = vec!["calibrate", p, "--backend", "cpu"];
        a.extend(args);
        let out = voxfe(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{a:?}: {err}");
        assert!(err.contains(names), "{a:?}: {err}");
    }
}
