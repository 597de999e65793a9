//! voxfe: a GPU-accelerated voxel finite-element simulator for 3D-printed
//! porous lattice implants.
//!
//! Data flows one way: [`scene`] (what to simulate; an [`image`] can be
//! the specimen) → [`pipeline`]
//! (voxelize the specimen, build the load case, solve on a backend:
//! [`fem`] on the CPU, [`gpu`]) → [`report`] (the run report, text and
//! JSON) → [`fields`] and [`vtk`] (field files). The [`study`] module
//! (sweep, design, converge, calibrate) runs many scenes through that
//! pipeline; [`fit`] and [`plot`] turn their rows into fits and charts. [`export`]
//! writes a run's mesh for other FE codes (`.vtu`, Abaqus `.inp`);
//! [`provenance`] says what produced every output.
pub mod calibration;
pub mod export;
pub mod fem;
pub mod fields;
pub mod fit;
pub mod gpu;
pub mod grid;
pub mod homogenize;
pub mod image;
pub mod implant;
pub mod lattice;
pub mod material;
pub mod pipeline;
pub mod plastic;
pub mod plot;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod scene;
pub mod strength;
pub mod study;
pub mod text;
pub mod voxelize;
pub mod vtk;
