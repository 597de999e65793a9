//! Mirror of the `Hi` operations of `shaders/reliable_f64.wgsl`: plain
//! f64.

use super::reliable_body::Hi;

impl Hi for f64 {
    fn of(v: f32) -> f64 {
        v as f64
    }
    fn of_f64(v: f64) -> f64 {
        v
    }
    fn add(self, b: f64) -> f64 {
        self + b
    }
    fn sub(self, b: f64) -> f64 {
        self - b
    }
    fn mul(self, b: f64) -> f64 {
        self * b
    }
    fn round(self) -> f32 {
        self as f32
    }
    fn value(self) -> f64 {
        self
    }
}
