//! Unit tests of the design search on synthetic E(φ): smooth curves
//! (solves counted), staircases (voxel steps), lattices that fall apart,
//! failed solves.

use super::*;

fn gibson_ashby(phi: f64) -> f64 {
    186_000.0 * 0.3 * (1.0 - phi).powf(2.1)
}

#[test]
fn zero_solves_is_bad_input_before_any_solve() {
    let opts = DesignOptions {
        max_solves: 0,
        ..Default::default()
    };
    let e = search(0.80, &opts, |_| panic!("no solve may start")).unwrap_err();
    assert_eq!(e, DesignError::BadMaxSolves(0));
    assert!(e.to_string().contains("max_solves=0"), "{e}");
    assert!(RunDesignError::Search(e).is_bad_input());
}

#[test]
fn hits_a_smooth_target_in_few_solves() {
    let opts = DesignOptions::default();
    let d = search(0.80, &opts, |phi| Ok(gibson_ashby(phi))).unwrap();
    assert!((d.e_eff / 3500.0 - 1.0).abs() <= 0.01);
    assert!(d.probes.len() <= 4, "{:?}", d.probes);
}

/// Smooth monotone E(φ) curves of lattice kinds: power laws from
/// stretch- (n = 1) to bending-dominated (n = 3), a mixed law and a
/// percolation-like curve that vanishes at ρ = 0.08.
/// A named E(φ).
type Curve = (&'static str, Box<dyn Fn(f64) -> f64>);

fn smooth_curves() -> Vec<Curve> {
    let es = 186_000.0;
    let mut curves: Vec<Curve> = Vec::new();
    for (name, c, n) in [
        ("n = 1", 0.3, 1.0),
        ("n = 1.5", 0.3, 1.5),
        ("n = 2", 0.6, 2.0),
        ("n = 2.5", 0.8, 2.5),
        ("n = 3", 1.0, 3.0),
    ] {
        curves.push((name, Box::new(move |phi: f64| es * c * (1.0 - phi).powf(n))));
    }
    curves.push((
        "mixed",
        Box::new(move |phi: f64| {
            let rho = 1.0 - phi;
            es * (0.02 * rho + 0.5 * rho * rho)
        }),
    ));
    curves.push((
        "percolation",
        Box::new(move |phi: f64| es * 0.9 * ((1.0 - phi) - 0.08).max(0.0).powf(1.8)),
    ));
    curves
}

#[test]
fn smooth_curves_converge_in_eight_solves_over_70_to_88_percent() {
    // Targets E(φ*) for φ* across 70–88 %, from the scene's 80 % start
    // and from the ends, to the default tolerance (1 %).
    let opts = DesignOptions::default();
    let mut worst = 0;
    for (name, e_of) in smooth_curves() {
        for i in 0..=18 {
            let phi_star = 0.70 + 0.01 * i as f64;
            let target = e_of(phi_star);
            for start in [0.80, 0.70, 0.88] {
                let mut solves = 0;
                let d = search(start, &DesignOptions { target, ..opts }, |phi| {
                    solves += 1;
                    Ok(e_of(phi))
                })
                .unwrap_or_else(|e| panic!("{name}, φ* {phi_star}, start {start}: {e}"));
                assert!((d.e_eff / target - 1.0).abs() <= 0.01);
                assert_eq!(d.probes.len(), solves);
                assert!(
                    solves <= 8,
                    "{name}, φ* {phi_star}, start {start}: {solves} solves {:?}",
                    d.probes
                );
                worst = worst.max(solves);
            }
        }
    }
    assert!(worst >= 2, "the test needs targets away from the start");
    // A bisection after a lattice that fell apart (percolation curve,
    // start at 70 %) took 8; the Gibson–Ashby step from the stiff end
    // takes at most 6.
    assert!(worst <= 6, "worst {worst} solves");
}

#[test]
fn a_staircase_reports_its_step_not_a_design() {
    // A binary-voxel-like E: a smooth law taken at porosities rounded
    // to steps of 0.004; a target inside a jump is a voxel step, a
    // target on a tread is hit.
    let e_of = |phi: f64| 186_000.0 * 0.6 * (1.0 - (phi / 0.004).floor() * 0.004).powi(2);
    let opts = DesignOptions::default();
    let tread = e_of(0.8121);
    let d = search(
        0.80,
        &DesignOptions {
            target: tread,
            ..opts
        },
        |phi| Ok(e_of(phi)),
    )
    .unwrap();
    assert_eq!(d.e_eff, tread);
    let jump = 0.5 * (e_of(0.8119) + e_of(0.8121));
    let mut solves = 0;
    let e = search(
        0.80,
        &DesignOptions {
            target: jump,
            ..opts
        },
        |phi| {
            solves += 1;
            Ok(e_of(phi))
        },
    )
    .unwrap_err();
    // Bisection once both ends are treads (regula falsi alone: 13).
    assert!(solves <= 16, "{solves} solves");
    let DesignError::VoxelStep {
        phi_a,
        phi_b,
        e_a,
        e_b,
        ..
    } = e
    else {
        panic!("{e}")
    };
    assert!((phi_a - 0.812).abs() < 1e-4 && (phi_b - 0.812).abs() < 1e-4);
    assert!(e_a > jump && e_b < jump);
}

/// The step `voxfe design scenes/rd-compression.toml --target-modulus 3500
/// --set voxel.size=0.075` meets (measured): 4178.3 MPa up to porosity
/// 0.823916, 1210.5 MPa above.
fn rd_step(phi: f64) -> f64 {
    if phi < 0.823916 {
        4178.3
    } else {
        1210.5
    }
}

#[test]
fn a_wide_step_is_bisected_once_both_ends_are_treads() {
    let mut solves = 0;
    let e = search(0.80, &DesignOptions::default(), |phi| {
        solves += 1;
        Ok(rd_step(phi))
    })
    .unwrap_err();
    assert!(matches!(e, DesignError::VoxelStep { .. }), "{e}");
    // Regula falsi with the Illinois halving took 22 solves on this step.
    assert!(solves <= 15, "{solves} solves");
}

#[test]
fn targets_beyond_the_densest_lattice_are_unreachable_with_the_range() {
    let opts = DesignOptions {
        target: 40_000.0,
        ..Default::default()
    };
    let e = search(0.80, &opts, |phi| Ok(gibson_ashby(phi))).unwrap_err();
    let DesignError::Unreachable { dense, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(dense, &format!("{:.1}", gibson_ashby(0.30)));
    assert!(e.to_string().contains("porosity 0.3"), "{e}");
}

#[test]
fn a_staircase_step_over_the_target_is_reported() {
    // E jumps from 3000 to 4000 at φ = 0.83: no porosity gives 3500.
    let opts = DesignOptions::default();
    let e = search(0.80, &opts, |phi| {
        Ok(if phi < 0.83 { 4000.0 } else { 3000.0 })
    })
    .unwrap_err();
    assert!(matches!(e, DesignError::VoxelStep { .. }), "{e}");
}

#[test]
fn a_lattice_that_falls_apart_bounds_the_search() {
    // Below ρ = 0.1 the lattice has no load path.
    let opts = DesignOptions {
        target: 500.0,
        ..Default::default()
    };
    let d = search(0.80, &opts, |phi| {
        if phi > 0.9 {
            Err(ProbeError::NoLoadPath("no load path".into()))
        } else {
            Ok(gibson_ashby(phi))
        }
    })
    .unwrap();
    assert!((d.e_eff / 500.0 - 1.0).abs() <= 0.01);
}

#[test]
fn a_failed_solve_is_an_error_not_a_missing_load_path() {
    // The second probe (φ ≈ 0.90, sparser than the stiff first one)
    // does not converge: that is no bound on the search.
    let opts = DesignOptions {
        target: 500.0,
        ..Default::default()
    };
    let e = search(0.80, &opts, |phi| {
        if phi > 0.85 {
            Err(ProbeError::Failed("did not converge".into()))
        } else {
            Ok(gibson_ashby(phi))
        }
    })
    .unwrap_err();
    let DesignError::Solve { porosity, message } = &e else {
        panic!("{e}")
    };
    assert!(*porosity > 0.85 && message == "did not converge", "{e}");
    // The same for the sparse end of the range, solved to report the
    // reachable range of an unreachable target.
    let opts = DesignOptions {
        target: 40_000.0,
        ..Default::default()
    };
    let e = search(0.80, &opts, |phi| {
        if phi > 0.9 {
            Err(ProbeError::Failed("GPU lost".into()))
        } else {
            Ok(gibson_ashby(phi))
        }
    })
    .unwrap_err();
    assert_eq!(
        e,
        DesignError::Solve {
            porosity: 0.95,
            message: "GPU lost".into()
        }
    );
}

#[test]
fn run_errors_are_classified() {
    use crate::fem::load::BcError;
    let no_path = RunError::Solve(SolveError::Bc(BcError::NoLoadPath {
        face: "top face",
        what: "the upper platen",
    }));
    assert!(matches!(
        ProbeError::of_run(&no_path),
        ProbeError::NoLoadPath(_)
    ));
    let breakdown = RunError::Gpu(GpuError::Solve(SolveError::Pcg(PcgError::Breakdown {
        iteration: 3,
        pq: -1.0,
    })));
    assert!(matches!(
        ProbeError::of_run(&breakdown),
        ProbeError::NoLoadPath(_)
    ));
    let lost = RunError::Gpu(GpuError::Device("device lost".into()));
    assert_eq!(
        ProbeError::of_run(&lost),
        ProbeError::Failed(lost.to_string())
    );
}

/// E(φ) with the calibration's jitter: each porosity's modulus off the
/// smooth curve by up to ± SEARCH_TOLERANCE (a deterministic hash of φ),
/// jumping between neighbours.
fn jittered(phi: f64) -> f64 {
    let h = (phi * 1e9).round() as u64;
    let h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    let u = (h % 2001) as f64 / 1000.0 - 1.0; // in [−1, 1]
    gibson_ashby(phi) * (1.0 + crate::calibration::SEARCH_TOLERANCE * u)
}

/// A tolerance below the calibration's noise is raised to it: the search
/// stops within CALIBRATION_NOISE on a jittered curve, from either end,
/// and says which tolerance it used; with no noise declared the same
/// tolerance is still bounded by max_solves (never a loop).
#[test]
fn a_tolerance_below_the_calibration_noise_stops_at_the_noise() {
    for target in [2000.0, 3500.0, 6000.0, 9000.0] {
        for start in [0.70, 0.80, 0.88] {
            let opts = DesignOptions {
                target,
                tolerance: 1e-4,
                noise: CALIBRATION_NOISE,
                ..Default::default()
            };
            assert!(opts.below_noise());
            assert_eq!(opts.stop_tolerance(), CALIBRATION_NOISE);
            let d = search(start, &opts, |phi| Ok(jittered(phi)))
                .unwrap_or_else(|e| panic!("target {target}, start {start}: {e}"));
            assert!((d.e_eff / target - 1.0).abs() <= CALIBRATION_NOISE);
            assert!(d.probes.len() <= 10, "{target} {start}: {:?}", d.probes);
        }
    }
    let opts = DesignOptions {
        target: 3500.0,
        tolerance: 1e-7,
        max_solves: 12,
        ..Default::default()
    };
    match search(0.80, &opts, |phi| Ok(jittered(phi))) {
        Ok(d) => assert!((d.e_eff / 3500.0 - 1.0).abs() <= 1e-7),
        Err(DesignError::NotFound { solves, .. }) => assert_eq!(solves, 12),
        Err(DesignError::VoxelStep { .. }) => {}
        Err(e) => panic!("{e}"),
    }
}

/// With the exponent "auto" the scene declares the calibration's noise;
/// a hand-set exponent or binary voxels declare none.
#[test]
fn the_noise_follows_the_scenes_exponent() {
    let scene = |set: &[&str]| {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        crate::scene::Scene::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/rd-compression.toml"),
            &set,
        )
        .unwrap()
    };
    assert_eq!(modulus_noise(&scene(&[])), CALIBRATION_NOISE);
    assert_eq!(modulus_noise(&scene(&["voxel.fraction_exponent=2"])), 0.0);
    assert_eq!(modulus_noise(&scene(&["voxel.fill=binary"])), 0.0);
}
