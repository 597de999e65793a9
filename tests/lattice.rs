//! The lattice library: geometry of every cell, periodicity, densities and
//! the porosity solve.

use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use voxfe::lattice::{rd_relative_density, Lattice, LatticeError, LatticeKind, LatticeSize};

const STRUT_KINDS: [LatticeKind; 6] = [
    LatticeKind::RhombicDodecahedron,
    LatticeKind::Bcc,
    LatticeKind::Fcc,
    LatticeKind::Octet,
    LatticeKind::Diamond,
    LatticeKind::Kelvin,
];

fn len(s: &[[f64; 3]; 2]) -> f64 {
    (0..3)
        .map(|c| (s[1][c] - s[0][c]).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Valence of every node of the tiled lattice whose position (quarter units)
/// lies in the cell [0, 4)³, counting the struts of a 3×3×3 block of cells.
fn valences(kind: LatticeKind) -> HashMap<[i64; 3], usize> {
    let mut v = HashMap::new();
    for s in Lattice::cell_struts(kind) {
        for dz in -1..=1 {
            for dy in -1..=1 {
                for dx in -1..=1 {
                    for e in s {
                        let q = [
                            e[0] * 4.0 + 4.0 * dx as f64,
                            e[1] * 4.0 + 4.0 * dy as f64,
                            e[2] * 4.0 + 4.0 * dz as f64,
                        ];
                        let q = q.map(|c| c.round() as i64);
                        if q.iter().all(|&c| (0..4).contains(&c)) {
                            *v.entry(q).or_insert(0) += 1;
                        }
                    }
                }
            }
        }
    }
    v
}

#[test]
fn rd_cell_has_32_struts_of_length_root3_m_over_4() {
    let struts = Lattice::cell_struts(LatticeKind::RhombicDodecahedron);
    assert_eq!(struts.len(), 32);
    for s in &struts {
        assert!((len(s) - 3f64.sqrt() / 4.0).abs() < 1e-12, "{s:?}");
    }
}

#[test]
fn rd_nodes_meet_four_struts_at_tetrahedral_and_eight_at_octahedral_sites() {
    let v = valences(LatticeKind::RhombicDodecahedron);
    let mut tetra = 0;
    let mut octa = 0;
    for (q, n) in &v {
        if q.iter().all(|c| c % 2 == 1) {
            assert_eq!(*n, 4, "tetrahedral site {q:?}");
            tetra += 1;
        } else {
            assert!(
                q.iter().all(|c| c % 2 == 0) && q.iter().sum::<i64>() % 4 == 2,
                "unexpected node {q:?}"
            );
            assert_eq!(*n, 8, "octahedral site {q:?}");
            octa += 1;
        }
    }
    // 8 tetrahedral and 4 octahedral sites per cell: 8·4 = 4·8 = 32 strut ends each.
    assert_eq!((tetra, octa), (8, 4));
}

#[test]
fn strut_lattices_have_their_counts_lengths_and_valences() {
    let r2 = 2f64.sqrt();
    let r3 = 3f64.sqrt();
    // kind, struts per cell, length / M, node valences (sorted, distinct)
    let table: [(LatticeKind, usize, f64, &[usize]); 5] = [
        (LatticeKind::Bcc, 8, r3 / 2.0, &[8]),
        (LatticeKind::Fcc, 12, r2 / 2.0, &[4, 12]),
        (LatticeKind::Octet, 24, r2 / 2.0, &[12]),
        (LatticeKind::Diamond, 16, r3 / 4.0, &[4]),
        (LatticeKind::Kelvin, 24, r2 / 4.0, &[4]),
    ];
    for (kind, count, length, valence) in table {
        let struts = Lattice::cell_struts(kind);
        assert_eq!(struts.len(), count, "{kind:?}");
        for s in &struts {
            assert!((len(s) - length).abs() < 1e-12, "{kind:?} {s:?}");
        }
        let mut seen: Vec<usize> = valences(kind).values().copied().collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, valence, "{kind:?}");
    }
}

fn random_points(n: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            [
                rng.random_range(-3.0..6.0),
                rng.random_range(-3.0..6.0),
                rng.random_range(-3.0..6.0),
            ]
        })
        .collect()
}

#[test]
fn every_lattice_is_periodic() {
    let m = 1.5;
    for kind in LatticeKind::ALL {
        let size = match kind {
            LatticeKind::Gyroid => LatticeSize::Level(0.3),
            _ => LatticeSize::Strut(0.25),
        };
        let l = Lattice::new(kind, m, size, [0.1, -0.2, 0.3]).unwrap();
        for p in random_points(20_000, 7) {
            for axis in 0..3 {
                let mut q = p;
                q[axis] += m;
                // Points within rounding of the surface may flip; none here.
                assert_eq!(
                    l.contains(p),
                    l.contains(q),
                    "{kind:?} at {p:?} axis {axis}"
                );
            }
        }
    }
}

#[test]
fn contains_agrees_with_brute_force_distance_to_every_strut() {
    let m = 1.5;
    let o = [0.1, -0.2, 0.3];
    for kind in STRUT_KINDS {
        let d = 0.3;
        let l = Lattice::new(kind, m, LatticeSize::Strut(d), o).unwrap();
        let struts = Lattice::cell_struts(kind);
        let mut hits = 0;
        for p in random_points(20_000, 11) {
            let u = [0, 1, 2].map(|c| (p[c] - o[c]) / m);
            let cell = u.map(f64::floor);
            let mut best = f64::INFINITY;
            for dz in -1..=1 {
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let shift = [
                            cell[0] + dx as f64,
                            cell[1] + dy as f64,
                            cell[2] + dz as f64,
                        ];
                        for s in &struts {
                            let a = [0, 1, 2].map(|c| s[0][c] + shift[c]);
                            let b = [0, 1, 2].map(|c| s[1][c] + shift[c]);
                            let ab = [0, 1, 2].map(|c| b[c] - a[c]);
                            let t = ((0..3).map(|c| (u[c] - a[c]) * ab[c]).sum::<f64>()
                                / (0..3).map(|c| ab[c] * ab[c]).sum::<f64>())
                            .clamp(0.0, 1.0);
                            let dist = (0..3)
                                .map(|c| (u[c] - a[c] - t * ab[c]).powi(2))
                                .sum::<f64>()
                                .sqrt();
                            best = best.min(dist);
                        }
                    }
                }
            }
            let expected = best * m <= d / 2.0;
            hits += expected as usize;
            if ((best * m) - d / 2.0).abs() > 1e-9 {
                assert_eq!(
                    l.contains(p),
                    expected,
                    "{kind:?} at {p:?}: distance {}",
                    best * m
                );
            }
        }
        assert!(
            hits > 500,
            "{kind:?}: only {hits} solid points, the test would prove little"
        );
    }
}

#[test]
fn rd_nominal_porosity_is_the_spec_formula() {
    let m = 1.5;
    let a = 3f64.sqrt() * m / 4.0;
    for d in [0.15, 0.25, 0.35] {
        let l = Lattice::new(
            LatticeKind::RhombicDodecahedron,
            m,
            LatticeSize::Strut(d),
            [0.0; 3],
        )
        .unwrap();
        let x: f64 = d / 2.0 / a;
        let rho = 1.5 * 3f64.sqrt() * std::f64::consts::PI * x * x - 6.75 * 2f64.sqrt() * x.powi(3);
        assert!((l.nominal_porosity() - (1.0 - rho)).abs() < 1e-15);
        assert!(l.nominal_is_closed_form());
        assert!((l.pore_size().unwrap() - (0.816 * m - d)).abs() < 1e-15);
    }
}

#[test]
fn computed_rd_solid_fraction_matches_the_formula_over_45_to_88_percent() {
    let m = 1.5;
    for porosity in [0.45, 0.55, 0.65, 0.75, 0.8, 0.88] {
        let l = Lattice::new(
            LatticeKind::RhombicDodecahedron,
            m,
            LatticeSize::Porosity(porosity),
            [0.0; 3],
        )
        .unwrap();
        let computed = 1.0 - l.computed_solid_fraction();
        assert!(
            (computed - porosity).abs() < 5e-4,
            "porosity {porosity}: computed from geometry {computed:.6}"
        );
    }
}

#[test]
fn porosity_round_trips_for_every_kind() {
    for kind in LatticeKind::ALL
        .into_iter()
        .filter(|k| *k != LatticeKind::Solid)
    {
        for porosity in [0.6, 0.8, 0.9] {
            let l = Lattice::new(kind, 2.0, LatticeSize::Porosity(porosity), [0.0; 3]).unwrap();
            assert!(
                (l.nominal_porosity() - porosity).abs() < 1e-5,
                "{kind:?}: {}",
                l.nominal_porosity()
            );
            // Building again from the solved size gives the same porosity.
            let again = match kind {
                LatticeKind::Gyroid => {
                    Lattice::new(kind, 2.0, LatticeSize::Level(l.level().unwrap()), [0.0; 3])
                }
                _ => Lattice::new(
                    kind,
                    2.0,
                    LatticeSize::Strut(l.strut_diameter().unwrap()),
                    [0.0; 3],
                ),
            }
            .unwrap();
            assert!(
                (again.nominal_porosity() - porosity).abs() < 1e-5,
                "{kind:?}"
            );
        }
    }
}

#[test]
fn rd_porosity_solve_inverts_the_formula_exactly() {
    let l = Lattice::new(
        LatticeKind::RhombicDodecahedron,
        1.5,
        LatticeSize::Porosity(0.8),
        [0.0; 3],
    )
    .unwrap();
    let a = 3f64.sqrt() * 1.5 / 4.0;
    assert!((1.0 - rd_relative_density(l.strut_diameter().unwrap() / 2.0 / a) - 0.8).abs() < 1e-12);
}

#[test]
fn bad_sizes_are_errors_naming_the_key() {
    let rd = LatticeKind::RhombicDodecahedron;
    let e = Lattice::new(rd, 1.5, LatticeSize::Strut(0.9), [0.0; 3]).unwrap_err();
    assert!(matches!(e, LatticeError::TooThick { .. }), "{e}");
    assert!(e.to_string().contains("lattice.strut = 0.9"), "{e}");
    let e = Lattice::new(rd, 1.5, LatticeSize::Porosity(0.05), [0.0; 3]).unwrap_err();
    assert!(
        e.to_string().contains("lattice.porosity = 0.05") && e.to_string().contains("0.116"),
        "{e}"
    );
    let e = Lattice::new(LatticeKind::Bcc, 1.5, LatticeSize::Porosity(0.01), [0.0; 3]).unwrap_err();
    assert!(matches!(e, LatticeError::Unreachable { .. }), "{e}");
    let e = Lattice::new(LatticeKind::Octet, 1.5, LatticeSize::Strut(0.8), [0.0; 3]).unwrap_err();
    assert!(matches!(e, LatticeError::TooThick { .. }), "{e}");
    let e = Lattice::new(rd, 0.0, LatticeSize::Strut(0.3), [0.0; 3]).unwrap_err();
    assert_eq!(e, LatticeError::BadCell { cell: 0.0 });
    let e = Lattice::new(rd, 1.5, LatticeSize::Strut(-0.1), [0.0; 3]).unwrap_err();
    assert_eq!(e, LatticeError::BadStrut { strut: -0.1 });
    let e = Lattice::new(LatticeKind::Gyroid, 1.5, LatticeSize::Level(1.7), [0.0; 3]).unwrap_err();
    assert_eq!(e, LatticeError::BadLevel { level: 1.7 });
    let e = Lattice::new(LatticeKind::Gyroid, 1.5, LatticeSize::Strut(0.3), [0.0; 3]).unwrap_err();
    assert!(
        e.to_string().contains("lattice.strut does not apply"),
        "{e}"
    );
}

#[test]
fn solid_is_solid_everywhere() {
    let l = Lattice::new(LatticeKind::Solid, 1.0, LatticeSize::Strut(0.0), [0.0; 3]).unwrap();
    assert!(random_points(100, 3).into_iter().all(|p| l.contains(p)));
    assert_eq!(l.nominal_porosity(), 0.0);
}
