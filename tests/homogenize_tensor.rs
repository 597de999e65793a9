//! What is derived from a homogenized stiffness, checked against closed
//! forms: isotropic and cubic (copper) moduli, orthotropic engineering
//! constants recovered, the directional modulus invariant under rotation
//! (which catches wrong shear factors), its extremes and their
//! directions, the typed errors, and the polar picture read back from its
//! files.
mod common;

use nalgebra::Matrix6;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use voxfe::homogenize::directional::Plane;
use voxfe::homogenize::polar::{plot_directional, PolarError, SIZE};
use voxfe::homogenize::tensor::{Compliance, Homogenized, Stiffness, TensorError, VOIGT_ORDER};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(a.abs())
}

macro_rules! assert_close {
    ($a:expr, $b:expr, $rel:expr) => {{
        let (a, b) = ($a, $b);
        assert!(
            close(a, b, $rel),
            "{} = {a}, expected {b} (rel {})",
            stringify!($a),
            $rel
        );
    }};
}

/// Isotropic C written out from E and ν (not through voxfe's materials).
fn isotropic(e: f64, nu: f64) -> Stiffness {
    let f = e / ((1.0 + nu) * (1.0 - 2.0 * nu));
    let (c11, c12, c44) = (f * (1.0 - nu), f * nu, e / (2.0 * (1.0 + nu)));
    let mut c = [[0.0; 6]; 6];
    for (i, row) in c.iter_mut().enumerate() {
        if i < 3 {
            row[..3].fill(c12);
            row[i] = c11;
        } else {
            row[i] = c44;
        }
    }
    Stiffness(c)
}

fn unit(d: [f64; 3]) -> [f64; 3] {
    let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    [d[0] / n, d[1] / n, d[2] / n]
}

fn random_direction(rng: &mut StdRng) -> [f64; 3] {
    loop {
        let d: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        let n2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if n2 > 0.01 && n2 <= 1.0 {
            return unit(d);
        }
    }
}

/// A random rotation matrix from a random unit quaternion.
fn random_rotation(rng: &mut StdRng) -> [[f64; 3]; 3] {
    let q: [f64; 4] = loop {
        let q: [f64; 4] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
        if n > 0.1 && n <= 1.0 {
            break q.map(|v| v / n);
        }
    };
    let [w, x, y, z] = q;
    [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ]
}

fn apply(r: &[[f64; 3]; 3], d: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| (0..3).map(|j| r[i][j] * d[j]).sum())
}

/// C = S⁻¹ of an orthotropic S from its engineering constants
/// (E1, E2, E3, G23, G13, G12, ν12, ν13, ν23), ν_ji = ν_ij E_j/E_i.
fn orthotropic(k: [f64; 9]) -> Stiffness {
    let [e1, e2, e3, g23, g13, g12, nu12, nu13, nu23] = k;
    let mut s = Matrix6::<f64>::zeros();
    s[(0, 0)] = 1.0 / e1;
    s[(1, 1)] = 1.0 / e2;
    s[(2, 2)] = 1.0 / e3;
    s[(1, 0)] = -nu12 / e1;
    s[(2, 0)] = -nu13 / e1;
    s[(2, 1)] = -nu23 / e2;
    s[(0, 1)] = s[(1, 0)];
    s[(0, 2)] = s[(2, 0)];
    s[(1, 2)] = s[(2, 1)];
    s[(3, 3)] = 1.0 / g23;
    s[(4, 4)] = 1.0 / g13;
    s[(5, 5)] = 1.0 / g12;
    let c = s.try_inverse().unwrap();
    Stiffness(std::array::from_fn(|i| std::array::from_fn(|j| c[(i, j)])))
}

const COPPER: (f64, f64, f64) = (168_400.0, 121_400.0, 75_400.0);

/// Textbook cubic compliances: S11, S12, S44 from C11, C12, C44.
fn cubic_s(c11: f64, c12: f64, c44: f64) -> (f64, f64, f64) {
    let d = (c11 - c12) * (c11 + 2.0 * c12);
    ((c11 + c12) / d, -c12 / d, 1.0 / c44)
}

/// 1/E of a cubic crystal along unit (l, m, n):
/// S11 − 2(S11 − S12 − S44/2)(l²m² + m²n² + n²l²).
fn cubic_inverse_e(c: (f64, f64, f64), d: [f64; 3]) -> f64 {
    let (s11, s12, s44) = cubic_s(c.0, c.1, c.2);
    let [l, m, n] = unit(d);
    s11 - 2.0 * (s11 - s12 - s44 / 2.0) * (l * l * m * m + m * m * n * n + n * n * l * l)
}

#[test]
fn isotropic_constants_zener_and_directional_modulus() {
    let (e, nu) = (110_000.0, 0.32);
    let c = isotropic(e, nu);
    assert_eq!(c.symmetry_error(), 0.0);
    assert!(c.cubic_deviation() < 1e-15, "{}", c.cubic_deviation());
    assert_close!(c.zener_ratio().unwrap(), 1.0, 1e-12);
    assert!(c.is_positive_definite());
    let s = c.compliance().unwrap();
    let k = s.engineering_constants();
    let g = e / (2.0 * (1.0 + nu));
    for v in [k.e1, k.e2, k.e3] {
        assert_close!(v, e, 1e-12);
    }
    for v in [k.g23, k.g13, k.g12] {
        assert_close!(v, g, 1e-12);
    }
    for v in [k.nu12, k.nu13, k.nu21, k.nu23, k.nu31, k.nu32] {
        assert_close!(v, nu, 1e-12);
    }
    let mut rng = StdRng::seed_from_u64(16);
    for _ in 0..200 {
        let d = random_direction(&mut rng);
        assert_close!(s.directional(d).unwrap(), e, 1e-12);
    }
    let h = Homogenized::new(&c).unwrap();
    assert_close!(h.e_min, e, 1e-12);
    assert_close!(h.e_max, e, 1e-12);
    assert_close!(h.e_h, e, 1e-12);
    assert_close!(h.zener_ratio, 1.0, 1e-12);
    // voxfe's own isotropic constructor agrees with the written-out one.
    let own = Stiffness::isotropic(e, nu);
    for i in 0..6 {
        for j in 0..6 {
            assert!((own.0[i][j] - c.0[i][j]).abs() <= 1e-9, "{i}{j}");
        }
    }
}

#[test]
fn copper_moduli_along_the_cube_axes_and_its_extremes() {
    let (c11, c12, c44) = COPPER;
    let c = Stiffness::cubic(c11, c12, c44);
    let s = c.compliance().unwrap();
    // Closed forms of the textbooks.
    let e100 = (c11 - c12) * (c11 + 2.0 * c12) / (c11 + c12);
    let e111 = 3.0 * c44 * (c11 + 2.0 * c12) / (c11 + 2.0 * c12 + c44);
    // ... and the same from the general cubic 1/E formula.
    assert_close!(1.0 / cubic_inverse_e(COPPER, [1.0, 0.0, 0.0]), e100, 1e-12);
    assert_close!(1.0 / cubic_inverse_e(COPPER, [1.0, 1.0, 1.0]), e111, 1e-12);
    // Copper: E<100> ≈ 66.7 GPa, E<111> ≈ 191 GPa.
    assert!((66_000.0..67_500.0).contains(&e100), "{e100}");
    assert!((190_000.0..192_500.0).contains(&e111), "{e111}");
    for d in [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -3.0]] {
        assert_close!(s.directional(d).unwrap(), e100, 1e-12);
    }
    for d in [[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]] {
        assert_close!(s.directional(d).unwrap(), e111, 1e-12);
    }
    let mut rng = StdRng::seed_from_u64(100);
    for _ in 0..200 {
        let d = random_direction(&mut rng);
        assert_close!(
            s.directional(d).unwrap(),
            1.0 / cubic_inverse_e(COPPER, d),
            1e-12
        );
    }
    assert_close!(c.zener_ratio().unwrap(), 2.0 * c44 / (c11 - c12), 1e-14);
    assert!(c.cubic_deviation() < 1e-15);

    let h = Homogenized::new(&c).unwrap();
    assert_close!(h.e_min, e100, 1e-12);
    assert_close!(h.e_max, e111, 1e-12);
    // Min along a cube axis, max along a body diagonal.
    let mut dmin = h.d_min.map(f64::abs);
    dmin.sort_by(f64::total_cmp);
    assert!(
        dmin[0] < 1e-6 && dmin[1] < 1e-6 && (dmin[2] - 1.0).abs() < 1e-12,
        "{:?}",
        h.d_min
    );
    for v in h.d_max {
        assert!((v.abs() - 1.0 / 3f64.sqrt()).abs() < 1e-6, "{:?}", h.d_max);
    }
    assert_close!(h.e_max_over_min, e111 / e100, 1e-12);
    assert_eq!(h.voigt_order, VOIGT_ORDER);
}

#[test]
fn zener_below_one_swaps_the_extremes() {
    // A = 2·40/(250 − 100) = 0.533: stiffest along the cube axes.
    let k = (250.0, 100.0, 40.0);
    let h = Homogenized::new(&Stiffness::cubic(k.0, k.1, k.2)).unwrap();
    assert_close!(h.zener_ratio, 80.0 / 150.0, 1e-14);
    assert_close!(h.e_max, 1.0 / cubic_inverse_e(k, [1.0, 0.0, 0.0]), 1e-12);
    assert_close!(h.e_min, 1.0 / cubic_inverse_e(k, [1.0, 1.0, 1.0]), 1e-12);
    let mut dmax = h.d_max.map(f64::abs);
    dmax.sort_by(f64::total_cmp);
    assert!(
        dmax[1] < 1e-6 && (dmax[2] - 1.0).abs() < 1e-12,
        "{:?}",
        h.d_max
    );
    for v in h.d_min {
        assert!((v.abs() - 1.0 / 3f64.sqrt()).abs() < 1e-6, "{:?}", h.d_min);
    }
}

const ORTHO: [f64; 9] = [1000.0, 2000.0, 3000.0, 500.0, 400.0, 300.0, 0.2, 0.25, 0.3];

#[test]
fn orthotropic_constants_are_recovered() {
    let [e1, e2, e3, g23, g13, g12, nu12, nu13, nu23] = ORTHO;
    let c = orthotropic(ORTHO);
    let k = c.compliance().unwrap().engineering_constants();
    let want = [
        (k.e1, e1),
        (k.e2, e2),
        (k.e3, e3),
        (k.g23, g23),
        (k.g13, g13),
        (k.g12, g12),
        (k.nu12, nu12),
        (k.nu13, nu13),
        (k.nu23, nu23),
        // Reciprocity: ν_ji = ν_ij E_j / E_i.
        (k.nu21, nu12 * e2 / e1),
        (k.nu31, nu13 * e3 / e1),
        (k.nu32, nu23 * e3 / e2),
    ];
    for (i, (got, expected)) in want.into_iter().enumerate() {
        assert!(
            close(got, expected, 1e-12),
            "constant {i}: {got} vs {expected}"
        );
    }
    let h = Homogenized::new(&c).unwrap();
    assert_close!(h.e_h, e3, 1e-12);
    for i in 0..6 {
        for j in 0..i {
            assert_eq!(h.s[i][j], h.s[j][i], "S{i}{j}");
        }
    }
    assert!(h.cubic_deviation > 0.1, "{}", h.cubic_deviation);
    // JSON carries the order and the constants by name.
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["voigt_order"][3], "23");
    assert_close!(
        json["engineering"]["nu21"].as_f64().unwrap(),
        nu12 * e2 / e1,
        1e-12
    );
    assert_eq!(json["c"].as_array().unwrap().len(), 6);
}

#[test]
fn transversely_isotropic_is_round_in_its_plane() {
    // Isotropic in xy (E_p, ν_p, G12 = E_p/(2(1+ν_p))), stiffer along z.
    let (ep, nup, e3, g, nu31) = (900.0, 0.3, 2500.0, 350.0, 0.35);
    let nu13 = nu31 * ep / e3;
    let c = orthotropic([ep, ep, e3, g, g, ep / (2.0 * (1.0 + nup)), nup, nu13, nu13]);
    let s = c.compliance().unwrap();
    let k = s.engineering_constants();
    assert_close!(k.nu31, nu31, 1e-12);
    assert_close!(k.nu32, nu31, 1e-12);
    for (_, e) in s.polar_cut(Plane::Xy, 72) {
        assert_close!(e, ep, 1e-12);
    }
    // The yz cut: E_p along y (θ = 0), E3 along z (θ = 90°).
    let yz = s.polar_cut(Plane::Yz, 4);
    assert_close!(yz[0].1, ep, 1e-12);
    assert_close!(yz[1].1, e3, 1e-12);
    assert_close!(yz[1].0, std::f64::consts::FRAC_PI_2, 1e-15);
    let zx = s.polar_cut(Plane::Zx, 4);
    assert_close!(zx[0].1, e3, 1e-12);
    assert_close!(zx[1].1, ep, 1e-12);
}

#[test]
fn directional_modulus_turns_with_the_material() {
    let mut rng = StdRng::seed_from_u64(7);
    for c in [
        orthotropic(ORTHO),
        Stiffness::cubic(COPPER.0, COPPER.1, COPPER.2),
    ] {
        let s = c.compliance().unwrap();
        let h = Homogenized::new(&c).unwrap();
        for _ in 0..5 {
            let r = random_rotation(&mut rng);
            let turned = c.rotated(&r);
            // Fully anisotropic now, still symmetric.
            assert!(turned.symmetry_error() < 1e-14);
            let st = turned.compliance().unwrap();
            for _ in 0..40 {
                let d = random_direction(&mut rng);
                assert_close!(
                    st.directional(apply(&r, d)).unwrap(),
                    s.directional(d).unwrap(),
                    1e-10
                );
            }
            let ht = Homogenized::new(&turned).unwrap();
            assert_close!(ht.e_min, h.e_min, 1e-9);
            assert_close!(ht.e_max, h.e_max, 1e-9);
            // The extreme directions turn too: turned back by Rᵀ they are
            // extreme directions of the unturned material.
            let rt: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| r[j][i]));
            assert_close!(s.directional(apply(&rt, ht.d_max)).unwrap(), h.e_max, 1e-9);
            assert_close!(s.directional(apply(&rt, ht.d_min)).unwrap(), h.e_min, 1e-9);
        }
    }
    // A quarter turn about z maps a cubic C onto itself.
    let c = Stiffness::cubic(COPPER.0, COPPER.1, COPPER.2);
    let quarter = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let t = c.rotated(&quarter);
    for i in 0..6 {
        for j in 0..6 {
            assert!(
                (t.0[i][j] - c.0[i][j]).abs() < 1e-9,
                "{i}{j}: {}",
                t.0[i][j]
            );
        }
    }
}

#[test]
fn shear_factors_of_the_compliance_tensor() {
    // S_ijkl from S_mn: 1, 1/2, 1/4 for 0, 1, 2 shear indices.
    let c = orthotropic(ORTHO);
    let s = c.compliance().unwrap();
    let t = s.tensor();
    assert_eq!(t[0][0][1][1], s.0[0][1]);
    assert_eq!(t[0][0][1][2], 0.5 * s.0[0][3]);
    assert_eq!(t[1][2][2][1], 0.25 * s.0[3][3]);
    assert_eq!(t[0][1][1][0], 0.25 * s.0[5][5]);
    // The stiffness tensor has no factors, and reads back.
    let ct = c.tensor();
    assert_eq!(ct[1][2][1][2], c.0[3][3]);
    assert_eq!(Stiffness::from_tensor(&ct), c);
}

#[test]
fn symmetry_error_of_a_non_symmetric_c() {
    // C = 2·I plus C[0][1] = 1: ‖C − Cᵀ‖ = √2, ‖C‖ = √(6·4 + 1) = 5.
    let mut m = [[0.0; 6]; 6];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 2.0;
    }
    m[0][1] = 1.0;
    let c = Stiffness(m);
    assert_close!(c.symmetry_error(), 2f64.sqrt() / 5.0, 1e-15);
    let sym = c.symmetrized();
    assert_eq!(sym.0[0][1], 0.5);
    assert_eq!(sym.0[1][0], 0.5);
    assert_eq!(sym.symmetry_error(), 0.0);
    // The summary keeps C as given and derives from its symmetric part:
    // S11 of [[2, ½], [½, 2]]⁻¹ = 2/3.75.
    let h = Homogenized::new(&c).unwrap();
    assert_eq!(h.c, m);
    assert_close!(h.symmetry_error, 2f64.sqrt() / 5.0, 1e-15);
    assert_close!(h.s[0][0], 2.0 / 3.75, 1e-14);
    assert_close!(h.s[0][1], -0.5 / 3.75, 1e-14);
    // compliance() inverts C as given: S·C = I.
    let s = c.compliance().unwrap();
    assert_close!(s.0[0][1], -0.25, 1e-14);
}

#[test]
fn singular_indefinite_and_non_finite_c_are_typed_errors() {
    let base = isotropic(1000.0, 0.3);
    let mut singular = base;
    singular.0[5][5] = 0.0;
    let err = singular.compliance().unwrap_err();
    assert!(
        matches!(err, TensorError::Singular { min_eigenvalue, .. } if min_eigenvalue.abs() < 1e-9),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("singular") && text.contains("smallest eigenvalue"),
        "{text}"
    );
    assert!(!singular.is_positive_definite());

    let mut indefinite = base;
    indefinite.0[4][4] = -10.0;
    match indefinite.compliance() {
        Err(TensorError::NotPositiveDefinite { min_eigenvalue }) => {
            assert_close!(min_eigenvalue, -10.0, 1e-12)
        }
        other => panic!("{other:?}"),
    }
    assert!(Homogenized::new(&indefinite)
        .unwrap_err()
        .to_string()
        .contains("-10"));

    let mut nan = base;
    nan.0[2][3] = f64::NAN;
    let err = Homogenized::new(&nan).unwrap_err();
    assert!(
        matches!(err, TensorError::NonFinite { row: 2, col: 3, value } if value.is_nan()),
        "{err:?}"
    );
    assert!(err.to_string().contains("C[2][3] = NaN"), "{err}");

    let zero = Stiffness([[0.0; 6]; 6]);
    assert!(matches!(
        zero.compliance(),
        Err(TensorError::Singular { .. })
    ));
    assert!(base.is_positive_definite());
}

/// The points of every `<polyline>` of stroke width 2 in the SVG.
fn curves(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter(|t| t.split('>').next().unwrap().contains("stroke-width=\"2\""))
        .map(|t| {
            let points = t
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            points
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

#[test]
fn polar_plot_files_and_curves() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("directional");
    let iso = isotropic(100_000.0, 0.3);
    let copper = Stiffness::cubic(COPPER.0, COPPER.1, COPPER.2);
    let files = plot_directional(
        &stem,
        &[("isotropic", &iso), ("copper", &copper)],
        "Directional Young's modulus",
    )
    .unwrap();
    assert_eq!(
        files,
        vec![stem.with_extension("png"), stem.with_extension("svg")]
    );
    common::assert_real_png(&files[0], SIZE);
    let svg = std::fs::read_to_string(&files[1]).unwrap();
    for text in [
        "xy plane",
        "yz plane",
        "zx plane",
        "isotropic",
        "copper",
        "E along x (MPa)",
        "E along z (MPa)",
    ] {
        assert!(svg.contains(text), "no '{text}' in the SVG");
    }
    // Per panel: the isotropic curve, then copper's.
    let curves = curves(&svg);
    assert_eq!(curves.len(), 6);
    let radii = |c: &Vec<(f64, f64)>| -> Vec<f64> {
        let n = (c.len() - 1) as f64;
        let (cx, cy) = c[..c.len() - 1]
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
        c.iter()
            .map(|p| ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt())
            .collect()
    };
    let e100 = 1.0 / cubic_inverse_e(COPPER, [1.0, 0.0, 0.0]);
    let e110 = 1.0 / cubic_inverse_e(COPPER, [1.0, 1.0, 0.0]);
    for panel in 0..3 {
        let iso_r = radii(&curves[2 * panel]);
        let (lo, hi) = iso_r
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
        assert!(
            hi - lo < 1.5,
            "panel {panel}: isotropic radius {lo}..{hi} px"
        );
        // Copper in a cube plane: E from E<100> (axes) to E<110>
        // (diagonals), on the same scale as the isotropic circle.
        let cu = radii(&curves[2 * panel + 1]);
        let (clo, chi) = cu
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
        let px_per_mpa = (lo + hi) / 2.0 / 100_000.0;
        assert!(
            (clo / px_per_mpa - e100).abs() < 0.01 * e100,
            "panel {panel}: {clo} px"
        );
        assert!(
            (chi / px_per_mpa - e110).abs() < 0.01 * e110,
            "panel {panel}: {chi} px"
        );
    }
}

#[test]
fn polar_plot_errors_name_the_material() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = isotropic(1000.0, 0.3);
    bad.0[3][3] = 0.0;
    let good = isotropic(1000.0, 0.3);
    let err = plot_directional(
        &dir.path().join("x"),
        &[("ok", &good), ("broken cell", &bad)],
        "t",
    )
    .unwrap_err();
    assert!(matches!(err, PolarError::Tensor { .. }));
    assert!(
        err.to_string().contains("'broken cell'") && err.to_string().contains("singular"),
        "{err}"
    );
    assert!(matches!(
        plot_directional(&dir.path().join("y"), &[], "t"),
        Err(PolarError::Empty)
    ));
    assert!(!dir.path().join("x.png").exists());
}

#[test]
fn compliance_is_the_inverse() {
    let c = orthotropic(ORTHO).rotated(&random_rotation(&mut StdRng::seed_from_u64(3)));
    let Compliance(s) = c.compliance().unwrap();
    for (i, row) in s.iter().enumerate() {
        for j in 0..6 {
            let v: f64 = (0..6).map(|k| row[k] * c.0[k][j]).sum();
            assert!(
                (v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12,
                "{i}{j}: {v}"
            );
        }
    }
}

/// `n` directions of a Fibonacci lattice over the whole sphere.
fn dense_sphere(n: usize) -> impl Iterator<Item = [f64; 3]> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n).map(move |k| {
        let z = 1.0 - 2.0 * (k as f64 + 0.5) / n as f64;
        let r = (1.0 - z * z).sqrt();
        let (s, c) = (k as f64 * golden).sin_cos();
        [r * c, r * s, z]
    })
}

#[test]
fn extremes_bound_a_dense_sampling_of_anisotropic_c() {
    // Random positive definite C = AᵀA + I·100 (every entry set), and
    // strongly anisotropic ones (an orthotropic C with E ratios of 50,
    // turned): the search's extremes bound E on 200 000 directions and
    // are attained along the directions it reports.
    let mut rng = StdRng::seed_from_u64(2026);
    let mut cases: Vec<Stiffness> = (0..4)
        .map(|_| {
            let a = Matrix6::<f64>::from_fn(|_, _| rng.random_range(-100.0..100.0));
            let c = a.transpose() * a + Matrix6::identity() * 100.0;
            Stiffness(std::array::from_fn(|i| std::array::from_fn(|j| c[(i, j)])))
        })
        .collect();
    let stiff = orthotropic([100.0, 5000.0, 800.0, 40.0, 900.0, 60.0, 0.02, 0.1, 0.05]);
    for _ in 0..3 {
        cases.push(stiff.rotated(&random_rotation(&mut rng)));
    }
    for (n, c) in cases.iter().enumerate() {
        let s = c.compliance().unwrap();
        let h = Homogenized::new(c).unwrap();
        assert_close!(s.directional(h.d_min).unwrap(), h.e_min, 1e-12);
        assert_close!(s.directional(h.d_max).unwrap(), h.e_max, 1e-12);
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        for d in dense_sphere(200_000) {
            let e = s.directional(d).unwrap();
            lo = lo.min(e);
            hi = hi.max(e);
        }
        assert!(
            h.e_min <= lo * (1.0 + 1e-12),
            "case {n}: {} > sampled {lo}",
            h.e_min
        );
        assert!(
            h.e_max >= hi * (1.0 - 1e-12),
            "case {n}: {} < sampled {hi}",
            h.e_max
        );
        // ... and the sampling comes close to them (a coarse check that
        // the reported extremes are real).
        assert!(
            lo < h.e_min * (1.0 + 1e-3) && hi > h.e_max * (1.0 - 1e-3),
            "case {n}"
        );
        // Deterministic: the same answer twice.
        assert_eq!(Homogenized::new(c).unwrap(), h);
    }
}
