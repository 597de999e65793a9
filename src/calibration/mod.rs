//! Calibration results computed once and reused: the on-disk [`cache`].
pub mod cache;
