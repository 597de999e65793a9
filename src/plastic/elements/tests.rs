//! The brick passes against the linear solver's stiffness, their
//! derivative, symmetry and constraints.

use super::*;
use crate::fem::hex8::element_stiffness;
use crate::fem::operator::{LinearOperator, StencilRows, StencilTable};
use crate::material::YoungPoisson;
use crate::plastic::material::State;

/// A small grid with holes and partial voxels.
fn grid() -> VoxelGrid {
    let mut g = VoxelGrid::full([4, 3, 3], 0.1);
    g.solid[5] = 0;
    g.solid[17] = 0;
    let f: Vec<f32> = (0..36)
        .map(|v| {
            if g.solid[v] == 0 {
                0.0
            } else {
                0.2 + 0.8 * ((v * 7) % 11) as f32 / 10.0
            }
        })
        .map(|p: f32| p.min(1.0))
        .collect();
    g.fraction = Some(f);
    g.fraction_exponent = 1.7;
    g
}

/// Without plastic strain, f(u) and the tangent are the linear solver's
/// hex8 stiffness with its φᵖ weights: K u.
#[test]
fn elastic_forces_and_tangent_are_the_linear_stiffness() {
    let g = grid();
    let mesh = ActiveMesh::new(&g).unwrap();
    let m = YoungPoisson { e: 1000.0, nu: 0.3 };
    let table = StencilTable::new(&element_stiffness(m, g.h));
    let k = StencilRows::new(&mesh, &table);
    let bricks = Bricks::new(&g, &mesh, false);
    let asm = Assembly {
        grid: &g,
        mesh: &mesh,
        bricks: &bricks,
        material: J2 {
            elastic: m,
            yield_strength: 1e9,
            hardening: 0.0,
        },
    };
    let u: Vec<f64> = (0..3 * mesh.len())
        .map(|i| 1e-4 * ((i * 37 % 23) as f64 - 11.0))
        .collect();
    let mut want = vec![0.0; u.len()];
    k.apply(&u, &mut want);
    let n = 8 * bricks.len();
    let old = vec![State::default(); n];
    let mut trial = old.clone();
    let mut tangent = vec![asm.material.elastic_tangent().into(); n];
    let mut buf = Vec::new();
    let f = asm.internal_force(&u, &old, &mut trial, &mut tangent, &mut buf);
    let mut y = vec![0.0; u.len()];
    asm.apply_tangent(&tangent, &u, &mut y, &mut buf);
    let mut ke = vec![0.0; u.len()];
    asm.apply_elastic(&u, &mut ke, &mut buf);
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for i in 0..u.len() {
        assert!((f.force[i] - want[i]).abs() < 1e-10 * scale, "f[{i}]");
        assert!((ke[i] - want[i]).abs() < 1e-10 * scale, "Kx[{i}]");
        // The stored tangent is f32 (PackedTangent).
        assert!((y[i] - want[i]).abs() < 1e-6 * scale, "Kᵀx[{i}]");
    }
    assert_eq!(f.plastic_points, 0);
}

/// The tangent is the derivative of the internal forces at a plastic
/// state: f(u + s x) − f(u − s x) ≈ 2 s Kᵀ x.
#[test]
fn the_tangent_apply_is_the_derivative_of_the_internal_forces() {
    for bbar in [false, true] {
        tangent_is_the_derivative(bbar);
    }
}

fn tangent_is_the_derivative(bbar: bool) {
    let g = grid();
    let mesh = ActiveMesh::new(&g).unwrap();
    let bricks = Bricks::new(&g, &mesh, bbar);
    let asm = Assembly {
        grid: &g,
        mesh: &mesh,
        bricks: &bricks,
        material: J2 {
            elastic: YoungPoisson { e: 1000.0, nu: 0.3 },
            yield_strength: 0.5,
            hardening: 20.0,
        },
    };
    let len = 3 * mesh.len();
    let u: Vec<f64> = (0..len)
        .map(|i| 2e-4 * ((i * 37 % 23) as f64 - 11.0))
        .collect();
    let x: Vec<f64> = (0..len)
        .map(|i| ((i * 13 % 7) as f64 - 3.0) / 3.0)
        .collect();
    let n = 8 * bricks.len();
    let old = vec![State::default(); n];
    let (mut trial, mut tangent, mut buf) = (
        old.clone(),
        vec![asm.material.elastic_tangent().into(); n],
        Vec::new(),
    );
    let f0 = asm.internal_force(&u, &old, &mut trial, &mut tangent, &mut buf);
    assert!(
        f0.plastic_points > n / 4,
        "{} of {n} yielding",
        f0.plastic_points
    );
    let mut y = vec![0.0; len];
    asm.apply_tangent(&tangent, &x, &mut y, &mut buf);
    // Symmetric: u·(K x) = x·(K u).
    let mut ku = vec![0.0; len];
    asm.apply_tangent(&tangent, &u, &mut ku, &mut buf);
    let (a, b): (f64, f64) = (
        u.iter().zip(&y).map(|(p, q)| p * q).sum(),
        x.iter().zip(&ku).map(|(p, q)| p * q).sum(),
    );
    assert!((a - b).abs() < 1e-10 * a.abs().max(b.abs()), "{a} vs {b}");
    // Constrained in the apply's own passes, the bits of masking x,
    // applying and setting y = x on the fixed dofs, for the tangent
    // and the elastic stiffness.
    let fixed: Vec<u8> = (0..mesh.len()).map(|n| [0, 0, 1, 0, 6, 7][n % 6]).collect();
    for t in [Some(&tangent[..]), None] {
        let mut masked = x.clone();
        for (n, &f) in fixed.iter().enumerate() {
            for c in 0..3 {
                if f & (1 << c) != 0 {
                    masked[3 * n + c] = 0.0;
                }
            }
        }
        let mut want = vec![0.0; len];
        match t {
            Some(t) => asm.apply_tangent(t, &masked, &mut want, &mut buf),
            None => asm.apply_elastic(&masked, &mut want, &mut buf),
        }
        for (n, &f) in fixed.iter().enumerate() {
            for c in 0..3 {
                if f & (1 << c) != 0 {
                    want[3 * n + c] = x[3 * n + c];
                }
            }
        }
        let mut got = vec![0.0; len];
        asm.apply_constrained(t, &fixed, &x, &mut got, &mut buf);
        assert_eq!(got, want, "constrained apply, tangent {}", t.is_some());
    }
    // The assembled rows multiply as the apply does, to their f32
    // rounding.
    let rows = asm.tangent_rows(&tangent);
    let mut z = vec![0.0; len];
    crate::fem::operator::apply_rows(&rows, &x, &mut z);
    let top = y.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for i in 0..len {
        assert!(
            (z[i] - y[i]).abs() < 1e-6 * top,
            "row {i}: {} vs {}",
            z[i],
            y[i]
        );
    }
    let s = 1e-9;
    let shifted = |sign: f64| {
        let v: Vec<f64> = u.iter().zip(&x).map(|(a, b)| a + sign * s * b).collect();
        let (mut tr, mut tg, mut b) = (old.clone(), tangent.clone(), Vec::new());
        asm.internal_force(&v, &old, &mut tr, &mut tg, &mut b).force
    };
    let (fp, fm) = (shifted(1.0), shifted(-1.0));
    let scale = y.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for i in 0..len {
        let fd = (fp[i] - fm[i]) / (2.0 * s);
        assert!(
            (fd - y[i]).abs() < 1e-5 * scale,
            "dof {i}: FD {fd} vs {}",
            y[i]
        );
    }
}
