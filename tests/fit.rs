//! As-built calibration (`voxfe fit`, the scene's `[as_built]`): the test
//! file's errors, the recovery of known knockdowns from voxfe's own
//! simulations with 5 % log-normal noise, the refusal of fits with too few
//! specimens, the JSON and plots, and the fit used by run and design.
//!
//! The simulations are kept cheap: RD cubes of 2×2×2 cells of M = 1.5 mm
//! at h = 0.25 mm (6 voxels a cell) on the CPU. The full Table 2 fit at
//! h = 0.05 is a documented command (docs/guide.md), not a test.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{assert_real_png, scene_path, use_test_cache, voxfe};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use voxfe::scene::Scene;
use voxfe::study::as_built::model::{fit, ModelKind, SimPoint};
use voxfe::study::as_built::{data, simulate, Simulated, DEFAULT_OFFSETS};

const TINY: &str = r#"
name = "tiny-fit"
[material]
preset = "tantalum"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.75
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.25
[load]
case = "compression"
[solver]
backend = "cpu"
"#;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `voxfe fit` of [`TINY`] (written to `dir`) on the tests `csv`, the
/// constant and power-law models, into `dir/fit`, with `extra` arguments;
/// asserts that it succeeded.
fn fit_tiny(dir: &Path, csv: &str, extra: &[&str]) -> (PathBuf, std::process::Output) {
    let scene = write(dir, "tiny.toml", TINY);
    let tests = write(dir, "tests.csv", csv);
    let out_dir = dir.join("fit");
    let mut args = vec![
        "fit",
        scene.to_str().unwrap(),
        "--tests",
        tests.to_str().unwrap(),
        "--models",
        "constant,power-law",
        "--out",
        out_dir.to_str().unwrap(),
        "-q",
    ];
    args.extend(extra);
    let out = voxfe(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out_dir, out)
}

/// [`TINY`] with `[as_built] from` the fit in `fit_dir`, written to `dir`.
fn with_fit(dir: &Path, fit_dir: &Path) -> PathBuf {
    let text = format!(
        "{TINY}[as_built]\nfrom = \"{}\"\n",
        fit_dir.join("fit.json").display()
    );
    write(dir, "fitted.toml", &text)
}

/// Six specimens, 60–85 % porosity.
const POROSITIES: [f64; 6] = [0.60, 0.65, 0.70, 0.75, 0.80, 0.85];

fn csv(moduli: &[f64]) -> String {
    let mut s = String::from("specimen,porosity,cells,modulus_mpa\n");
    for (i, (p, e)) in POROSITIES.iter().zip(moduli).enumerate() {
        s.push_str(&format!("S{i},{p},2,{e}\n"));
    }
    s
}

/// The six specimens simulated once (with the strut offsets), for every
/// recovery test.
fn sims() -> &'static Vec<Simulated> {
    static SIMS: OnceLock<Vec<Simulated>> = OnceLock::new();
    SIMS.get_or_init(|| {
        use_test_cache();
        let scene = Scene::parse(TINY, Path::new("tiny.toml"), &[]).unwrap();
        let tests = data::parse(&csv(&[100.0; 6]), Path::new("t.csv")).unwrap();
        simulate(&scene, &tests, &DEFAULT_OFFSETS, 1, |_| {}).unwrap()
    })
}

/// Specimens solved three at a time give the one-at-a-time results to the
/// bit, in the tests' order.
#[test]
fn specimens_solved_at_once_give_the_same_results() {
    use_test_cache();
    let scene = Scene::parse(TINY, Path::new("tiny.toml"), &[]).unwrap();
    let tests = data::parse(&csv(&[100.0; 6]), Path::new("t.csv")).unwrap();
    let lines = std::sync::Mutex::new(Vec::new());
    let at_once = simulate(&scene, &tests, &DEFAULT_OFFSETS, 3, |l| {
        lines.lock().unwrap().push(l.to_string())
    })
    .unwrap();
    assert_eq!(&at_once, sims());
    let names: Vec<_> = at_once.iter().map(|s| s.specimen.name.as_str()).collect();
    assert_eq!(names, ["S0", "S1", "S2", "S3", "S4", "S5"]);
    // One line per solve: each specimen's offsets (5) solved.
    assert_eq!(lines.into_inner().unwrap().len(), 6 * DEFAULT_OFFSETS.len());
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut rand::rngs::StdRng) -> f64 {
    let u: f64 = rng.random_range(1e-12..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Measured values of `truth` (each specimen's exact as-built value) with
/// 5 % log-normal noise of `seed`.
fn noisy(truth: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    truth
        .iter()
        .map(|t| t * (0.05 * normal(&mut rng)).exp())
        .collect()
}

/// Fits `model` to `truth` with noise for seeds 1..=40: each true
/// parameter inside its 95 % interval for seeds 1, 2 and 3, and in at
/// least 34 of the 40 (the intervals cover about 95 %: 34 or fewer of 40
/// has a probability below 1 %).
fn recovers(model: ModelKind, truth: &[f64], params: &[(&str, f64)]) {
    let points: Vec<SimPoint> = sims().iter().map(Simulated::modulus_point).collect();
    let mut inside = vec![0usize; params.len()];
    for seed in 1..=40u64 {
        let f = fit(model, &points, &noisy(truth, seed)).unwrap();
        for (j, (name, value)) in params.iter().enumerate() {
            let p = f.params.iter().find(|p| p.name == *name).unwrap();
            let hit = p.ci95.0 <= *value && *value <= p.ci95.1;
            assert!(
                hit || seed > 3,
                "{} seed {seed}: {name} = {value} outside {:?} (fitted {})",
                model.name(),
                p.ci95,
                p.value
            );
            inside[j] += hit as usize;
        }
    }
    for (j, (name, _)) in params.iter().enumerate() {
        assert!(
            inside[j] >= 34,
            "{}: {name} inside its 95 % interval for {} of 40 seeds",
            model.name(),
            inside[j]
        );
    }
}

#[test]
fn a_constant_factor_is_recovered_within_its_interval() {
    let truth: Vec<f64> = sims().iter().map(|s| 0.2 * s.e_eff).collect();
    recovers(ModelKind::Constant, &truth, &[("k", 0.2)]);
}

#[test]
fn a_power_law_is_recovered_within_its_intervals() {
    let truth: Vec<f64> = sims()
        .iter()
        .map(|s| 0.3 * (1.0 - s.porosity).powf(-0.5) * s.e_eff)
        .collect();
    recovers(ModelKind::PowerLaw, &truth, &[("k", 0.3), ("m", -0.5)]);
}

#[test]
fn a_strut_offset_is_recovered_within_its_intervals() {
    // The true offset is a simulated one (−0.15 of the thinnest strut):
    // the measured values are voxfe's own solves with the strut D + δ.
    let s = sims();
    let delta = s[0].offsets[1].0;
    assert!(delta < 0.0, "{:?}", s[0].offsets);
    let truth: Vec<f64> = s
        .iter()
        .map(|p| {
            let o = p.offsets.iter().find(|o| o.0 == delta).unwrap();
            0.5 * o.1
        })
        .collect();
    recovers(
        ModelKind::StrutOffset,
        &truth,
        &[("k", 0.5), ("strut_offset", delta)],
    );
}

#[test]
fn fits_with_too_few_specimens_are_refused() {
    let points: Vec<SimPoint> = sims()[..3].iter().map(Simulated::modulus_point).collect();
    let measured: Vec<f64> = points.iter().map(|p| 0.2 * p.ideal).collect();
    assert!(fit(ModelKind::Constant, &points, &measured).is_ok());
    for m in [ModelKind::PowerLaw, ModelKind::StrutOffset] {
        let e = fit(m, &points, &measured).unwrap_err().to_string();
        assert!(e.contains("3 specimens") && e.contains("at least 4"), "{e}");
    }
    // Through the command: two specimens fit no model at all (exit 2).
    let dir = tmp();
    let scene = write(dir.path(), "tiny.toml", TINY);
    let tests = write(
        dir.path(),
        "two.csv",
        "porosity,cells,modulus_mpa\n0.7,2,300\n0.8,2,120\n",
    );
    let out = voxfe(&[
        "fit",
        scene.to_str().unwrap(),
        "--tests",
        tests.to_str().unwrap(),
        "--models",
        "constant,power-law",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no model could be fitted") && err.contains("at least 3"),
        "{err}"
    );
}

#[test]
fn bad_test_files_are_refused_naming_file_row_and_column() {
    let dir = tmp();
    let scene = scene_path("tantalum-sebm.toml");
    for (text, want) in [
        (
            "porosity_pct,cells,modulus_gpa\n45.5,3,4.71\n73.9,3,-1.28\n",
            &["row 2", "line 3", "column 'modulus_gpa'", "'-1.28'"][..],
        ),
        (
            "porosity,cells,modulus_gpa\n45.5,3,4.71\n",
            &["row 1", "column 'porosity'", "0 < porosity < 1"][..],
        ),
        (
            "porosity,cells,modulus_gpa\n0.5,three,4.71\n",
            &["row 1", "column 'cells'", "not a number"][..],
        ),
        (
            "porosity,cells\n0.5,3\n",
            &["header", "'modulus_gpa' or 'modulus_mpa'"][..],
        ),
        (
            "porosity,cells,modulus_gpa\n0.5,3\n",
            &["row 1", "2 fields"][..],
        ),
    ] {
        let tests = write(dir.path(), "bad.csv", text);
        let out = voxfe(&[
            "fit",
            scene.to_str().unwrap(),
            "--tests",
            tests.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(tests.to_str().unwrap()), "{err}");
        for w in want {
            assert!(err.contains(w), "{text}: no {w:?} in {err}");
        }
    }
    let shipped = data::read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/data/tantalum-sebm-table2.csv"),
    )
    .unwrap();
    assert_eq!(shipped.specimens.len(), 5);
    assert!((shipped.specimens[0].modulus - 4710.0).abs() < 1e-9);
    assert_eq!(shipped.specimens[4].yield_strength, Some(2.16));
}

/// `voxfe fit --json --out`: the JSON's shape and the plots; then the fit
/// used by run (`e_eff_as_built` with its widened band) and by design
/// (the as-built modulus targeted); a bad `[as_built]` refused.
#[test]
fn fit_json_plots_and_the_fit_in_run_and_design() {
    let dir = tmp();
    let truth = [900.0, 700.0, 520.0, 380.0, 260.0, 160.0];
    let (out_dir, out) = fit_tiny(dir.path(), &csv(&truth), &["--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("fit.json")).unwrap()).unwrap();
    assert_eq!(v["as_built"], file["as_built"]);
    let ab = &v["as_built"];
    assert!(["constant", "power-law"].contains(&ab["model"].as_str().unwrap()));
    assert!(ab["k"].as_f64().unwrap() > 0.0 && ab["loo_error"].as_f64().unwrap() > 0.0);
    assert_eq!(ab["porosity_range"][1].as_f64().unwrap(), 0.85);
    let models = v["modulus"]["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        assert_eq!(m["loo"].as_array().unwrap().len(), 6);
        assert_eq!(m["fitted"].as_array().unwrap().len(), 6);
        for p in m["params"].as_array().unwrap() {
            let (lo, hi) = (
                p["ci95"][0].as_f64().unwrap(),
                p["ci95"][1].as_f64().unwrap(),
            );
            let x = p["value"].as_f64().unwrap();
            assert!(lo <= x && x <= hi, "{p}");
        }
        assert!(m["loo_rms_log"].as_f64().unwrap() > 0.0);
    }
    assert!(v["modulus"]["why"]
        .as_str()
        .unwrap()
        .contains("leave-one-out"));
    assert!(v["intervals"].as_str().unwrap().contains("profile"));
    assert!(v["provenance"]["scene_hash"].as_str().is_some());
    assert_eq!(v["simulated"].as_array().unwrap().len(), 6);
    assert!(v["yield_strength"].is_null());
    for name in ["parity.png", "modulus-porosity.png"] {
        assert_real_png(&out_dir.join(name), (900, 760));
        assert!(out_dir.join(name).with_extension("svg").exists());
    }

    // The fit in a scene: run reports both values.
    let fitted = with_fit(dir.path(), &out_dir);
    let out = voxfe(&["run", fitted.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (e, e_ab) = (
        r["e_eff"].as_f64().unwrap(),
        r["e_eff_as_built"].as_f64().unwrap(),
    );
    let loo = ab["loo_error"].as_f64().unwrap();
    assert!(e_ab < e, "{e_ab} vs {e}");
    assert!(r["e_eff_as_built_error_estimate"].as_f64().unwrap() >= loo);
    assert!(r["as_built_model"]
        .as_str()
        .unwrap()
        .contains("leave-one-out"));

    // Outside the tested range: warned with the distance.
    let out = voxfe(&[
        "run",
        fitted.to_str().unwrap(),
        "--set",
        "lattice.porosity=0.9",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("0.0500 outside the tested porosities"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("E_eff as built"));

    // A sweep's rows carry the as-built modulus beside the ideal one.
    let sweep_dir = dir.path().join("sweep");
    let out = voxfe(&[
        "sweep",
        fitted.to_str().unwrap(),
        "--vary",
        "lattice.porosity=0.7,0.8",
        "--out",
        sweep_dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = std::fs::read_to_string(sweep_dir.join("results.jsonl")).unwrap();
    for line in rows.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let (e, e_ab) = (
            row["e_eff"].as_f64().unwrap(),
            row["e_eff_as_built"].as_f64().unwrap(),
        );
        assert!(e_ab > 0.0 && e_ab < e, "{row}");
    }
    let header = std::fs::read_to_string(sweep_dir.join("results.csv")).unwrap();
    assert!(header.lines().next().unwrap().contains("e_eff_as_built"));

    // Design targets the as-built modulus and says so.
    let target = format!("{:.0}", e_ab);
    let out = voxfe(&[
        "design",
        fitted.to_str().unwrap(),
        "--target-modulus",
        &target,
        "--tolerance",
        "0.02",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["design_targets"], "e_eff_as_built");
    let reached = d["e_eff_as_built"].as_f64().unwrap();
    let t: f64 = target.parse().unwrap();
    assert!((reached / t - 1.0).abs() <= 0.02, "{reached} vs {t}");

    // A bad [as_built] names the key, the value and what is allowed.
    let bad = write(
        dir.path(),
        "bad.toml",
        &format!("{TINY}[as_built]\nmodel = \"linear\"\nk = 0.2\n"),
    );
    let out = voxfe(&["run", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("as_built.model = \"linear\"") && err.contains("power-law"),
        "{err}"
    );
    let bad = write(
        dir.path(),
        "bad2.toml",
        &format!("{TINY}[as_built]\nmodel = \"constant\"\nk = 0.2\nm = 1.0\n"),
    );
    let out = voxfe(&["run", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("as_built.m = 1") && err.contains("only model = \"power-law\""),
        "{err}"
    );
}

/// Tests with yield strengths: the fit's yield model reaches run through
/// `[as_built] from` (`yield_stress_as_built`, exactly the model applied to
/// the run's first-yield stress, with the yield fit's leave-one-out error as
/// its band); a model given inline describes the modulus only.
#[test]
fn the_yield_fit_in_run() {
    let dir = tmp();
    let moduli = [900.0, 700.0, 520.0, 380.0, 260.0, 160.0];
    let yields = [9.0, 7.4, 5.9, 4.1, 3.2, 2.0];
    let mut text = String::from("specimen,porosity,cells,modulus_mpa,yield_mpa\n");
    for (i, ((p, e), y)) in POROSITIES.iter().zip(moduli).zip(yields).enumerate() {
        text.push_str(&format!("S{i},{p},2,{e},{y}\n"));
    }
    let (out_dir, _) = fit_tiny(dir.path(), &text, &[]);
    let fit: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("fit.json")).unwrap()).unwrap();
    let ym = &fit["yield_strength"]["as_built"];
    let (k, m, loo) = (
        ym["k"].as_f64().unwrap(),
        ym["m"].as_f64().unwrap_or(0.0),
        ym["loo_error"].as_f64().unwrap(),
    );
    assert!(loo > 0.0, "{ym}");

    let fitted = with_fit(dir.path(), &out_dir);
    let out = voxfe(&["run", fitted.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let y = r["yield_stress"].as_f64().unwrap();
    let rho = 1.0 - r["porosity_nominal"].as_f64().unwrap();
    let want = match ym["model"].as_str().unwrap() {
        "constant" => k * y,
        "power-law" => k * rho.powf(m) * y,
        other => panic!("{other}"),
    };
    let got = r["yield_stress_as_built"].as_f64().unwrap();
    assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
    assert_eq!(
        r["yield_stress_as_built_error_estimate"].as_f64().unwrap(),
        loo
    );
    assert!(r["as_built_yield_model"]
        .as_str()
        .unwrap()
        .contains("elastic proxy"));
    let out = voxfe(&["run", fitted.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("yield as built"));

    // Inline keys describe the modulus: no yield as built.
    let inline = write(
        dir.path(),
        "inline.toml",
        &format!("{TINY}[as_built]\nmodel = \"constant\"\nk = 0.2\n"),
    );
    let out = voxfe(&["run", inline.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["e_eff_as_built"].as_f64().is_some());
    assert!(r.get("yield_stress_as_built").is_none(), "{r}");
}
