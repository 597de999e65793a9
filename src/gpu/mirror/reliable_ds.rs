//! Mirror of the `Hi` operations of `shaders/reliable_ds.wgsl`:
//! double-single arithmetic on [`Ds`] (two f32), Knuth's TwoSum and
//! Dekker's TwoProd step for step.

use super::reliable_body::Hi;
use crate::gpu::abi::Ds;

/// s + e = a + b exactly (Knuth's TwoSum).
fn two_sum(a: f32, b: f32) -> Ds {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    Ds { hi: s, lo: e }
}

/// The top 12 significand bits of `a`, and the rest (both exact).
fn split(a: f32) -> (f32, f32) {
    let hi = f32::from_bits(a.to_bits() & 0xffff_f000);
    (hi, a - hi)
}

/// p + e = a · b exactly (Dekker's TwoProd).
fn two_prod(a: f32, b: f32) -> Ds {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    Ds { hi: p, lo: e }
}

impl Hi for Ds {
    fn of(v: f32) -> Ds {
        Ds { hi: v, lo: 0.0 }
    }
    fn of_f64(v: f64) -> Ds {
        Ds::from_f64(v)
    }
    fn add(self, b: Ds) -> Ds {
        let s = two_sum(self.hi, b.hi);
        let t = two_sum(self.lo, b.lo);
        let u = two_sum(s.hi, s.lo + t.hi);
        two_sum(u.hi, u.lo + t.lo)
    }
    fn sub(self, b: Ds) -> Ds {
        self.add(Ds {
            hi: -b.hi,
            lo: -b.lo,
        })
    }
    fn mul(self, b: Ds) -> Ds {
        let p = two_prod(self.hi, b.hi);
        two_sum(p.hi, p.lo + (self.hi * b.lo + self.lo * b.hi))
    }
    fn round(self) -> f32 {
        self.hi
    }
    fn value(self) -> f64 {
        Ds::value(self)
    }
}
