//! Progress bars on stderr: voxelizing (rows of voxels) and each solve
//! (the iteration count and ‖r‖/‖b‖ against the tolerance, the bar the
//! residual's way to it on a log scale). Hidden when stderr is not a terminal
//! (CI logs, pipes) and by `--quiet`.
//!
//! A host that embeds voxfe (the Python binding) watches the solves run by
//! its thread with [`observe`]: its observer sees each residual check
//! ([`SolveStep`]) and stops the solve by returning `false`
//! (Ctrl-C, a progress callback that raised).

use std::cell::RefCell;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Hides every progress bar from now on (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether informational output (progress, per-case lines) is wanted.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress bar, or nothing when hidden.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// The solve's tolerance on ‖r‖/‖b‖ (solve bars only).
    tolerance: f64,
}

impl Progress {
    fn new(len: u64, template: &str) -> Progress {
        if is_quiet() || !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                tolerance: 0.0,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            tolerance: 0.0,
        }
    }

    /// Voxelizing `rows` rows of voxels.
    pub fn voxelize(rows: u64) -> Progress {
        Progress::new(
            rows,
            "voxelize [{elapsed_precise}] [{bar:30}] {percent:>3} %",
        )
    }

    /// A solve to relative residual `tolerance`: the bar is the residual's
    /// way there on a log scale (‖r‖/‖b‖ from 1 down to the tolerance),
    /// with the iteration count and ‖r‖/‖b‖ against the tolerance; not a
    /// fraction of `max_iterations`, which a converging solve never nears.
    pub fn solve(tolerance: f64) -> Progress {
        let mut p = Progress::new(SOLVE_STEPS, SOLVE_TEMPLATE);
        p.tolerance = tolerance;
        p
    }

    /// Advances by `n`.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Sets the iteration and the relative residual; tells the thread's
    /// observer ([`observe`]). Returns whether the solve goes on (`false`:
    /// the observer asked it to stop).
    pub fn iteration(&self, iteration: usize, relative_residual: f64) -> bool {
        if let Some(b) = &self.bar {
            let done = residual_fraction(relative_residual, self.tolerance);
            b.set_position((done * SOLVE_STEPS as f64).round() as u64);
            b.set_message(solve_line(iteration, relative_residual, self.tolerance));
        }
        OBSERVER.with(|o| match o.borrow_mut().as_mut() {
            Some(observer) => observer(SolveStep {
                iteration,
                relative_residual,
                tolerance: self.tolerance,
            }),
            None => true,
        })
    }
}

/// A residual check of a solve, as an observer ([`observe`]) sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveStep {
    pub iteration: usize,
    /// ‖r‖/‖b‖ at the check.
    pub relative_residual: f64,
    /// The solve's tolerance on ‖r‖/‖b‖.
    pub tolerance: f64,
}

/// An observer of the solves of one thread: `false` stops the solve.
type Observer = Box<dyn FnMut(SolveStep) -> bool>;

thread_local! {
    static OBSERVER: RefCell<Option<Observer>> = const { RefCell::new(None) };
}

/// Runs `work` with `observer` called at each residual check of every solve
/// that `work` runs on this thread (each iteration on the CPU, every
/// `solver.check_every` on the GPU). When it returns `false` the solve
/// stops with [`crate::fem::cg::PcgError::Cancelled`]. The observer before
/// is back afterwards, also when `work` panics.
pub fn observe<R>(
    observer: impl FnMut(SolveStep) -> bool + 'static,
    work: impl FnOnce() -> R,
) -> R {
    struct Restore(Option<Observer>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            OBSERVER.with(|o| *o.borrow_mut() = before);
        }
    }
    let before = OBSERVER.with(|o| o.borrow_mut().replace(Box::new(observer)));
    let _restore = Restore(before);
    work()
}

/// Steps of the solve bar.
const SOLVE_STEPS: u64 = 1000;

/// The solve bar: elapsed time, the residual's way to the tolerance, and
/// [`solve_line`].
/// 78 columns with [`solve_line`], to fit an 80-column terminal.
const SOLVE_TEMPLATE: &str = "solve    [{elapsed_precise}] [{bar:16}] {msg}";

/// How far ‖r‖/‖b‖ has come from 1 to `tolerance` on a log scale, in
/// [0, 1].
pub fn residual_fraction(relative_residual: f64, tolerance: f64) -> f64 {
    let valid = relative_residual > 0.0 && tolerance > 0.0 && tolerance < 1.0;
    if !valid {
        return if relative_residual <= tolerance {
            1.0
        } else {
            0.0
        };
    }
    (relative_residual.ln() / tolerance.ln()).clamp(0.0, 1.0)
}

/// "iteration 17, ‖r‖/‖b‖ 7.45e-7 → 1.0e-6" (the residual → the tolerance).
pub fn solve_line(iteration: usize, relative_residual: f64, tolerance: f64) -> String {
    format!("iteration {iteration}, ‖r‖/‖b‖ {relative_residual:.2e} → {tolerance:.1e}")
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solve_bar_counts_residual_not_max_iterations() {
        assert!(!SOLVE_TEMPLATE.contains("{len}"), "{SOLVE_TEMPLATE}");
        assert_eq!(
            solve_line(17, 7.453e-7, 1e-6),
            "iteration 17, ‖r‖/‖b‖ 7.45e-7 → 1.0e-6"
        );
        assert_eq!(residual_fraction(1.0, 1e-6), 0.0);
        assert!((residual_fraction(1e-3, 1e-6) - 0.5).abs() < 1e-12);
        assert_eq!(residual_fraction(1e-7, 1e-6), 1.0);
        assert_eq!(residual_fraction(2.0, 1e-6), 0.0);
        assert_eq!(residual_fraction(0.0, 1e-6), 1.0);
    }

    /// The observer sees each check and stops the solve; outside
    /// [`observe`] (and after it) nothing is observed.
    #[test]
    fn an_observer_sees_the_checks_and_can_stop_them() {
        let p = Progress::solve(1e-6);
        assert!(p.iteration(1, 0.5));
        let seen = std::rc::Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let went_on = observe(
            move |s| {
                log.borrow_mut().push(s.iteration);
                s.iteration < 2
            },
            || [p.iteration(1, 0.5), p.iteration(2, 0.1)],
        );
        assert_eq!(went_on, [true, false]);
        assert_eq!(*seen.borrow(), [1, 2]);
        assert!(p.iteration(3, 0.01));
        assert_eq!(seen.borrow().len(), 2);
    }
}
