//! voxfe: a GPU-accelerated voxel finite-element simulator for 3D-printed
//! porous lattice implants.
pub mod design;
pub mod fem;
pub mod fit;
pub mod gpu;
pub mod grid;
pub mod implant;
pub mod lattice;
pub mod material;
pub mod plot;
pub mod progress;
pub mod report;
pub mod run;
pub mod scene;
pub mod sweep;
pub mod voxelize;
pub mod vtk;
