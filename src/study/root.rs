//! The root finder of the studies: a bracket of a root of a monotone `f`
//! narrowed by regula falsi with the Illinois modification ([`Bracket`]),
//! bisection where interpolation gains nothing (a binary-voxel staircase,
//! [`Bracket::on_treads`]), an end where `f` has no value below every
//! target (a lattice that falls apart: no load path,
//! [`Bracket::set_undefined`]), and the secant step that looks for a
//! bracket ([`secant_slope`], [`secant_step`]).
//!
//! `voxfe design` ([`super::design::search`]: x = ln ρ, f = ln E − ln
//! E_target) and `voxfe calibrate` ([`super::calibrate`]: x = p, f = ln
//! E_h(p)/E_ref) both narrow their bracket here; [`find_root`] is the
//! whole search on a plain function (bracketing by secant steps, then
//! Illinois), with the staircase and no-value cases as options.

/// An end of a bracket: the one where `f > 0` or the one where `f < 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Pos,
    Neg,
}

/// One end of a bracket: `x`, `f(x)` as evaluated, and the Illinois
/// weight of `f` (halved each time the other end is replaced twice
/// running).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct End {
    pub x: f64,
    pub f: f64,
    /// The value as evaluated (`f` unless the caller gives its own, e.g.
    /// E for f = ln E − ln E_target), compared bit for bit on a staircase.
    pub value: f64,
    weight: f64,
}

impl End {
    /// `f` with its Illinois weight, as the falsi chord takes it.
    pub fn weighted(&self) -> f64 {
        // A power of two: exact, as halving f each time.
        self.f * self.weight
    }
}

/// The ends of a bracket of a root, either possibly missing while the
/// root is not bracketed yet: `pos` where `f > 0`, `neg` where `f < 0`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bracket {
    pub pos: Option<End>,
    pub neg: Option<End>,
    /// The end replaced last by a value of `f`.
    last: Option<Side>,
}

impl Bracket {
    /// No end yet.
    pub fn new() -> Bracket {
        Bracket::default()
    }

    /// Both ends, as after a bracketing step that replaced neither.
    pub fn of(pos: (f64, f64), neg: (f64, f64)) -> Bracket {
        let end = |(x, f)| {
            Some(End {
                x,
                f,
                value: f,
                weight: 1.0,
            })
        };
        Bracket {
            pos: end(pos),
            neg: end(neg),
            last: None,
        }
    }

    /// Whether both ends are known.
    pub fn is_bracketed(&self) -> bool {
        self.pos.is_some() && self.neg.is_some()
    }

    /// Puts `(x, f)` in place of the end on `f`'s side (`f > 0`: `pos`,
    /// else `neg`). Illinois: when the same end is replaced twice running,
    /// the other end's `f` is halved, so that the chord moves it too.
    /// Returns the side replaced.
    pub fn replace(&mut self, x: f64, f: f64) -> Side {
        let side = if f > 0.0 { Side::Pos } else { Side::Neg };
        self.put(side, x, f, f);
        side
    }

    /// [`Bracket::replace`] of the end on `side` (the caller's sign test),
    /// keeping `value` as evaluated.
    pub fn put(&mut self, side: Side, x: f64, f: f64, value: f64) {
        let (this, other) = match side {
            Side::Pos => (&mut self.pos, &mut self.neg),
            Side::Neg => (&mut self.neg, &mut self.pos),
        };
        if self.last == Some(side) {
            if let Some(o) = other {
                o.weight *= 0.5;
            }
        }
        *this = Some(End {
            x,
            f,
            value,
            weight: 1.0,
        });
        self.last = Some(side);
    }

    /// Puts `x` in place of the `neg` end as a point where `f` has no value
    /// and lies below every target (a lattice that falls apart: `f = −∞`).
    /// It does not count as a replacement for the Illinois weights.
    pub fn set_undefined(&mut self, x: f64) {
        self.neg = Some(End {
            x,
            f: f64::NEG_INFINITY,
            value: f64::NEG_INFINITY,
            weight: 1.0,
        });
    }

    /// Whether the `neg` end has no value ([`Bracket::set_undefined`]).
    pub fn neg_undefined(&self) -> bool {
        self.neg.is_some_and(|e| e.f.is_infinite())
    }

    /// The regula falsi point: where the chord through the ends (their
    /// `f` with the Illinois weights) crosses zero. Both ends must be known.
    pub fn falsi(&self) -> f64 {
        let (s, w) = self.ends();
        let (xs, fs) = (s.x, s.weighted());
        let (xw, fw) = (w.x, w.weighted());
        xs - fs * (xw - xs) / (fw - fs)
    }

    /// The midpoint of the ends. Both ends must be known.
    pub fn bisect(&self) -> f64 {
        let (s, w) = self.ends();
        (s.x + w.x) / 2.0
    }

    /// Both ends: `(pos, neg)`.
    fn ends(&self) -> (End, End) {
        (
            self.pos.expect("a bracketed root"),
            self.neg.expect("a bracketed root"),
        )
    }

    /// Whether both ends sit on treads of a staircase: each end's value was
    /// seen, bit for bit, at another evaluation too (`seen(value)` counts
    /// the evaluations that gave it), so the function did not change there
    /// and interpolation gains nothing: bisect.
    pub fn on_treads(&self, seen: impl Fn(f64) -> usize) -> bool {
        let (s, w) = self.ends();
        seen(s.value) >= 2 && seen(w.value) >= 2
    }
}

/// The slope of `y(x)` through the last two `points` (x, y), within
/// `clamp`; `default` with fewer than two points or two at the same x.
/// (For a power law E ∝ ρⁿ in (ln ρ, ln E): the Gibson–Ashby exponent n.)
pub fn secant_slope(points: &[(f64, f64)], default: f64, clamp: (f64, f64)) -> f64 {
    match points {
        [.., (x0, y0), (x1, y1)] if (x1 - x0).abs() > 1e-12 => {
            ((y1 - y0) / (x1 - x0)).clamp(clamp.0, clamp.1)
        }
        _ => default,
    }
}

/// The step in x from `(x, y)` to `target` along a line of slope `n`.
pub fn secant_step(y: f64, target: f64, n: f64) -> f64 {
    (target - y) / n
}

/// Settings of [`find_root`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RootOptions {
    /// The range searched, `lo < hi`.
    pub range: (f64, f64),
    /// Stop when `|f| ≤ tolerance`.
    pub tolerance: f64,
    /// At most this many evaluations.
    pub max_evaluations: usize,
    /// The slope assumed before two values are known, and the range the
    /// secant slope is held in while bracketing (f increasing in x).
    pub slope: f64,
    pub slope_range: (f64, f64),
    /// Bisect when both ends sit on treads of a staircase.
    pub staircase: bool,
}

/// Why [`find_root`] found no root.
#[derive(Debug, Clone, PartialEq)]
pub enum RootError {
    /// `f` keeps one sign over the whole range: `f(lo)` and `f(hi)`.
    NotBracketed { f_lo: f64, f_hi: f64 },
    /// No `|f| ≤ tolerance` within the evaluations allowed; the closest.
    MaxEvaluations { x: f64, f: f64 },
    /// `f` has no value at `x` with no `pos` end to bound the search.
    Undefined { x: f64 },
}

/// A root of the increasing function `f` on `opts.range`, from `start`:
/// secant steps ([`secant_slope`]) until the root is bracketed, then
/// Illinois regula falsi ([`Bracket`]), bisecting on a staircase when
/// `opts.staircase`. `f` returns `None` where it has no value below every
/// target (a bound once a `pos` end is known). Returns the root and the
/// number of evaluations.
pub fn find_root(
    start: f64,
    opts: &RootOptions,
    mut f: impl FnMut(f64) -> Option<f64>,
) -> Result<(f64, usize), RootError> {
    let (lo, hi) = opts.range;
    let mut values: Vec<(f64, f64)> = Vec::new();
    let mut bracket = Bracket::new();
    let mut evaluations = 0;
    let mut x = start.clamp(lo, hi);
    loop {
        if evaluations >= opts.max_evaluations {
            let (x, f) = values
                .iter()
                .copied()
                .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .unwrap_or((x, f64::NAN));
            return Err(RootError::MaxEvaluations { x, f });
        }
        evaluations += 1;
        let Some(y) = f(x) else {
            if bracket.pos.is_none() {
                return Err(RootError::Undefined { x });
            }
            bracket.set_undefined(x);
            x = (x + bracket.pos.expect("a pos end").x) / 2.0;
            continue;
        };
        if y.abs() <= opts.tolerance {
            return Ok((x, evaluations));
        }
        values.push((x, y));
        bracket.replace(x, y);
        x = if bracket.is_bracketed() {
            if bracket.neg_undefined() {
                (bracket.bisect() + bracket.pos.expect("a pos end").x) / 2.0
            } else if opts.staircase
                && bracket.on_treads(|v| values.iter().filter(|p| p.1 == v).count())
            {
                bracket.bisect()
            } else {
                bracket.falsi()
            }
        } else {
            let n = secant_slope(&values, opts.slope, opts.slope_range);
            let at_end = if y > 0.0 { lo } else { hi };
            if (x - at_end).abs() < 1e-12 {
                // At the end of the range and still on one side: the other
                // end, unless it is known to be on the same side too.
                let other = if y > 0.0 { hi } else { lo };
                if values.iter().any(|p| p.0 == other) {
                    let f_of = |x: f64| values.iter().find(|p| p.0 == x).map_or(f64::NAN, |p| p.1);
                    return Err(RootError::NotBracketed {
                        f_lo: f_of(lo),
                        f_hi: f_of(hi),
                    });
                }
                other
            } else {
                (x + secant_step(y, 0.0, n)).clamp(lo, hi)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RootOptions {
        RootOptions {
            range: (-4.0, 4.0),
            tolerance: 1e-10,
            max_evaluations: 60,
            slope: 2.0,
            slope_range: (0.1, 10.0),
            staircase: true,
        }
    }

    #[test]
    fn known_functions_converge_to_their_root() {
        for (f, root) in [
            (
                Box::new(|x: f64| x * x * x - 2.0) as Box<dyn Fn(f64) -> f64>,
                2f64.cbrt(),
            ),
            (Box::new(|x: f64| x.exp() - 3.0), 3f64.ln()),
            (
                Box::new(|x: f64| (x / 4.0).atan() - 0.3),
                4.0 * 0.3f64.tan(),
            ),
        ] {
            for start in [-3.0, 0.0, 3.5] {
                let (x, n) = find_root(start, &opts(), |x| Some(f(x))).unwrap();
                assert!((x - root).abs() < 1e-8, "start {start}: {x} vs {root}");
                assert!(n <= 30, "start {start}: {n} evaluations");
            }
        }
    }

    #[test]
    fn illinois_halves_the_end_kept_twice() {
        let mut b = Bracket::of((1.0, 2.0), (0.0, -1.0));
        b.replace(0.5, 1.0);
        assert_eq!(b.neg.unwrap().weighted(), -1.0);
        b.replace(0.4, 0.5);
        assert_eq!(b.neg.unwrap().weighted(), -0.5);
        b.replace(0.3, 0.25);
        assert_eq!(b.neg.unwrap().weighted(), -0.25);
        // Replacing the other end resets its weight and halves nothing.
        b.replace(0.1, -0.5);
        assert_eq!(b.neg.unwrap().weighted(), -0.5);
        assert_eq!(b.pos.unwrap().weighted(), 0.25);
        // The chord through (0.3, 0.25) and (0.1, -0.5).
        assert!((b.falsi() - (0.3 - 0.25 * (0.1 - 0.3) / (-0.5 - 0.25))).abs() < 1e-15);
    }

    #[test]
    fn a_staircase_is_bisected_between_treads() {
        // Steps of 0.25: f has the same value over each tread.
        let f = |x: f64| Some((x / 0.25).floor() * 0.25 - 1.1);
        let o = RootOptions {
            tolerance: 0.2,
            ..opts()
        };
        let (x, _) = find_root(-3.0, &o, f).unwrap();
        assert!((f(x).unwrap()).abs() <= 0.2, "{x}");
        // Both ends on treads bisect.
        let b = Bracket::of((2.0, 0.4), (1.0, -0.1));
        assert!(b.on_treads(|_| 2));
        assert!(!b.on_treads(|v| if v > 0.0 { 2 } else { 1 }));
        assert_eq!(b.bisect(), 1.5);
    }

    #[test]
    fn a_function_of_one_sign_is_not_bracketed() {
        let e = find_root(0.0, &opts(), |x| Some(x.exp() + 1.0)).unwrap_err();
        let RootError::NotBracketed { f_lo, f_hi } = e else {
            panic!("{e:?}")
        };
        assert!(f_lo > 0.0 && f_hi > 0.0);
    }

    #[test]
    fn the_evaluations_are_capped_and_the_closest_reported() {
        let o = RootOptions {
            max_evaluations: 3,
            tolerance: 1e-15,
            ..opts()
        };
        let mut calls = 0;
        let e = find_root(3.0, &o, |x| {
            calls += 1;
            Some(x * x * x - 2.0)
        })
        .unwrap_err();
        assert_eq!(calls, 3);
        let RootError::MaxEvaluations { f, .. } = e else {
            panic!("{e:?}")
        };
        assert!(f.abs() < 25.0);
    }

    #[test]
    fn no_value_below_a_pos_end_bounds_the_search() {
        // f has no value below x = 0.5 (falls apart); the root is at 1.
        let f = |x: f64| (x >= 0.5).then_some(x - 1.0);
        let (x, _) = find_root(3.0, &opts(), f).unwrap();
        assert!((x - 1.0).abs() < 1e-9, "{x}");
        // Without a pos end first, no value is an error.
        let e = find_root(0.0, &opts(), f).unwrap_err();
        assert_eq!(e, RootError::Undefined { x: 0.0 });
    }
}
