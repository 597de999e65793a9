//! Progress bars on stderr: voxelizing (rows of voxels) and each solve
//! (iterations, relative residual). Hidden when stderr is not a terminal
//! (CI logs, pipes) and by `--quiet`.

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
pub struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(len: u64, template: &str) -> Progress {
        if is_quiet() || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress(Some(bar))
    }

    /// Voxelizing `rows` rows of voxels.
    pub fn voxelize(rows: u64) -> Progress {
        Progress::new(
            rows,
            "voxelize [{elapsed_precise}] [{bar:30}] {percent:>3} %",
        )
    }

    /// A solve of at most `max_iterations` iterations.
    pub fn solve(max_iterations: u64) -> Progress {
        Progress::new(
            max_iterations,
            "solve    [{elapsed_precise}] iteration {pos}/{len}, ‖r‖/‖b‖ {msg}",
        )
    }

    /// Advances by `n`.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    /// Sets the iteration and the relative residual.
    pub fn iteration(&self, iteration: usize, relative_residual: f64) {
        if let Some(b) = &self.0 {
            b.set_position(iteration as u64);
            b.set_message(format!("{relative_residual:.3e}"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
