//! Elastoplastic (J2) solves against closed forms: a solid block between
//! frictionless platens is in uniform uniaxial stress, so its apparent
//! curve is the material's bilinear curve exactly (slope E, yield at σ_y,
//! then E·H/(E + H)).

use voxfe::fem::load::{LoadCase, Platens};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;
use voxfe::plastic::curve::offset_yield;
use voxfe::plastic::material::J2;
use voxfe::plastic::solve::{solve, PlasticOptions, PlasticSolveError};

const COMPRESSION: LoadCase = LoadCase::Compression {
    platens: Platens::Frictionless,
};

fn tantalum(hardening: f64) -> J2 {
    J2 {
        elastic: YoungPoisson::tantalum(),
        yield_strength: 103.0,
        hardening,
    }
}

/// σ(ε) of the bilinear uniaxial curve.
fn bilinear(m: &J2, strain: f64) -> f64 {
    let (e, h) = (m.elastic.e, m.hardening);
    let ey = m.yield_strength / e;
    if strain <= ey {
        e * strain
    } else {
        m.yield_strength + e * h / (e + h) * (strain - ey)
    }
}

fn opts(strain: f64, increments: usize) -> PlasticOptions {
    PlasticOptions {
        strain,
        increments,
        ..PlasticOptions::default()
    }
}

#[test]
fn a_solid_block_reproduces_the_uniaxial_j2_curve() {
    let grid = VoxelGrid::full([3, 3, 4], 0.25);
    for h in [0.0, 5_000.0] {
        let m = tantalum(h);
        let s = solve(&grid, m, &COMPRESSION, &opts(0.004, 16)).unwrap();
        assert!(
            (s.elastic_modulus - m.elastic.e).abs() < 1e-6 * m.elastic.e,
            "E_eff {}",
            s.elastic_modulus
        );
        assert_eq!(s.points.len(), 16);
        for p in &s.points {
            let want = bilinear(&m, p.strain);
            assert!(
                (p.stress - want).abs() < 1e-6 * want,
                "H {h}: ε {} σ {} vs {want}",
                p.strain,
                p.stress
            );
            assert!(p.newton <= 4, "{} Newton steps at ε {}", p.newton, p.strain);
        }
        // σ_0.2 of the bilinear curve: σ_y + slope·(ε − ε_y) where it meets
        // E(ε − 0.002).
        let curve: Vec<(f64, f64)> = s.points.iter().map(|p| (p.strain, p.stress)).collect();
        let o = offset_yield(&curve, s.elastic_modulus).unwrap();
        let (e, sy) = (m.elastic.e, m.yield_strength);
        let slope = e * h / (e + h);
        let strain = (sy - slope * sy / e + 0.002 * e) / (e - slope);
        let want = bilinear(&m, strain);
        assert!((o.stress - want).abs() < 1e-6 * want, "σ_0.2 {} vs {want}", o.stress);
    }
}

/// The partial-voxel rule: a voxel of weight w = φᵖ is a scaled copy of a
/// full one (stiffness and yield strength both × w), so a block of equal
/// partial voxels has w times the full block's curve.
#[test]
fn a_block_of_partial_voxels_is_a_scaled_copy() {
    let full = VoxelGrid::full([2, 2, 3], 0.25);
    let mut part = full.clone();
    part.fraction = Some(vec![0.6; full.voxel_count()]);
    part.fraction_exponent = 1.6;
    let w = part.weight(0);
    let m = tantalum(2_000.0);
    let a = solve(&full, m, &COMPRESSION, &opts(0.003, 6)).unwrap();
    let b = solve(&part, m, &COMPRESSION, &opts(0.003, 6)).unwrap();
    assert!((b.elastic_modulus - w * a.elastic_modulus).abs() < 1e-6 * b.elastic_modulus);
    for (p, q) in a.points.iter().zip(&b.points) {
        assert!(
            (q.stress - w * p.stress).abs() < 1e-6 * q.stress,
            "ε {}: {} vs w·{}",
            p.strain,
            q.stress,
            p.stress
        );
    }
}

/// An increment that cannot converge (no Newton step allowed: only a
/// predictor that is already in equilibrium passes, the elastic one) is cut back, and after the last cut-back the solve
/// stops naming its load step and residual, the curve up to there kept.
#[test]
fn an_increment_that_does_not_converge_stops_with_its_step_and_the_curve_so_far() {
    let grid = VoxelGrid::full([2, 2, 2], 0.25);
    let o = PlasticOptions {
        max_newton: 0,
        max_cutbacks: 2,
        ..opts(0.004, 8)
    };
    let e = solve(&grid, tantalum(0.0), &COMPRESSION, &o).unwrap_err();
    let PlasticSolveError::NotConverged {
        step,
        residual,
        curve,
        cutbacks,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(*cutbacks, 2);
    assert!(*residual > o.newton_tolerance, "{residual}");
    // Step 1 (ε = 5e-4) is elastic, its predictor exact; ε_y = 103/186000
    // ≈ 5.5e-4 lies in step 2, and its halves 7.5e-4 and 6.25e-4 yield too.
    assert_eq!(*step, 2, "{e}");
    assert_eq!(curve.points.len(), 1, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&format!("step {step}")) && msg.contains("did not converge"), "{msg}");
}
