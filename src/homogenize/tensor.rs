//! The homogenized stiffness tensor in Voigt notation.
//!
//! Voigt order 11, 22, 33, 23, 13, 12 (index 0..6), engineering shear
//! strains (γ_ij = 2ε_ij), stresses and moduli in MPa: σ = C·ε with
//! ε = (ε11, ε22, ε33, γ23, γ13, γ12).

use serde::Serialize;

/// The Voigt order of the rows and columns, as stated in every output.
pub const VOIGT_ORDER: [&str; 6] = ["11", "22", "33", "23", "13", "12"];

/// A 6×6 stiffness matrix C^H, MPa, row-major in [`VOIGT_ORDER`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stiffness(pub [[f64; 6]; 6]);
