//! Studies: many evaluations of one scene under typed edits. [`sweep`] runs
//! the product of scene variations, [`design`] searches the porosity that
//! hits a target modulus, [`converge`] solves a scene on finer grids for an
//! order and an extrapolated value, and [`calibrate`] finds the fraction
//! exponent of a lattice at a voxel size from periodic cells, and
//! [`as_built`] fits a knockdown of the simulated to the measured modulus
//! of tested specimens (`voxfe fit`).

pub mod as_built;
pub mod calibrate;
pub mod converge;
pub mod design;
pub mod root;
pub mod sweep;
