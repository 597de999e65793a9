//! Reliable updates (mixed-precision CG) of [`GpuPcg`]: the f64 solution
//! and true residual kept on the host ([`Reliable`]), when an update is due
//! ([`RELIABLE_DROP`]), when CG restarts ([`RESTART_DRIFT`]), how often the
//! multigrid solver reads ‖r‖ ([`MULTIGRID_CHECK_EVERY`]), and the solution.

use super::{mirror, GpuError, GpuPcg, Kernel, Slot};
use crate::fem::problem::FineOperator;
use crate::fem::vector::{norm_sq, residual};

/// Reliable updates (mixed-precision CG): the solution is accumulated in
/// f64 on the host and, whenever the f32 recursive residual has dropped by
/// [`RELIABLE_DROP`] since the last update (or reached the stop level), the
/// device's r is replaced by the true residual b − A·x computed in f64,
/// keeping the search direction p. CG then converges as in f64 while all
/// iterations run in f32 on the device.
pub(super) struct Reliable<'p> {
    pub(super) op: FineOperator<'p>,
    pub(super) b: Vec<f64>,
    pub(super) x: Vec<f64>,
    /// ‖r‖² at the last update.
    pub(super) rr_last: f64,
    /// ‖r‖² at which the solver will stop.
    pub(super) rr_stop: f64,
    pub(super) updates: usize,
}

/// A reliable update happens when ‖r‖ has dropped by this factor.
pub const RELIABLE_DROP: f64 = 0.1;

/// CG restarts at a reliable update when the true ‖r‖ is this many times
/// the recursive one.
pub const RESTART_DRIFT: f64 = 2.0;

/// With multigrid the host reads ‖r‖ at least every this many iterations:
/// each iteration cuts ‖r‖ about twofold, and reliable updates can only
/// happen at a read.
pub const MULTIGRID_CHECK_EVERY: usize = 2;

impl<'c> GpuPcg<'c> {
    /// Turns on reliable updates against the f64 operator `op` and
    /// right-hand side `b`; the solver stops at ‖r‖ ≤ `tolerance`·‖b‖.
    pub fn enable_reliable_updates(&mut self, op: FineOperator<'c>, b: Vec<f64>, tolerance: f64) {
        let bb = norm_sq(&b);
        self.set_rhs(&b);
        self.reliable = Some(Reliable {
            op,
            x: vec![0.0; b.len()],
            b,
            rr_last: bb,
            rr_stop: tolerance * tolerance * bb,
            updates: 0,
        });
    }

    /// Number of reliable updates so far.
    pub fn reliable_updates(&self) -> usize {
        self.reliable.as_ref().map_or(0, |r| r.updates)
    }

    /// Number of CG restarts at reliable updates so far.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// x_f64 += x_f32, x_f32 = 0, r = b − A x_f64; returns the true ‖r‖².
    /// `rr_device` is the recursive ‖r‖² the device had reached: when the
    /// true residual is more than [`RESTART_DRIFT`] times larger, the kept
    /// search direction no longer fits the residual and CG restarts (p = z).
    pub(super) fn reliable_update(&mut self, rr_device: f64) -> Result<f64, GpuError> {
        let x32: Vec<f32> = self.read(Slot::X)?;
        let n = x32.len();
        let rel = self.reliable.as_mut().expect("reliable updates are on");
        for (x, d) in rel.x.iter_mut().zip(&x32) {
            *x += *d as f64;
        }
        // The true residual as the stop rule and the result compute it.
        let (r, rr) = residual(&rel.op, &rel.b, &rel.x);
        rel.rr_last = rr;
        rel.updates += 1;
        self.write(Slot::X, &vec![0.0f32; n]);
        self.set_rhs(&r);
        // Recompute ρ = r·M⁻¹r and ‖r‖² for the new r; p is kept unless
        // the recursive residual had drifted from the true one.
        let restart = rr > RESTART_DRIFT * RESTART_DRIFT * rr_device;
        if restart {
            self.restarts += 1;
        }
        let mut kernels = if self.multigrid.is_some() {
            vec![Kernel::VCycle, Kernel::DotPair, Kernel::ReduceStart]
        } else {
            // With α = 0 update_xr only sums r·D⁻¹r and r·r.
            self.ctx.queue.write_buffer(
                self.buffer(Slot::Scalars),
                (4 * mirror::ALPHA) as u64,
                bytemuck::bytes_of(&0.0f32),
            );
            vec![Kernel::UpdateXr, Kernel::ReduceStart]
        };
        if restart {
            // β = 0 after reduce_start: p = M⁻¹r.
            kernels.push(if self.multigrid.is_some() {
                Kernel::UpdatePz
            } else {
                Kernel::UpdateP
            });
        }
        self.run(&kernels)?;
        Ok(rr)
    }

    /// The solution: the f64 accumulation plus the device's f32 part.
    pub fn solution(&mut self) -> Result<Vec<f64>, GpuError> {
        self.flush()?;
        let x32: Vec<f32> = self.read(Slot::X)?;
        Ok(match &self.reliable {
            Some(rel) => rel.x.iter().zip(&x32).map(|(x, d)| x + *d as f64).collect(),
            None => x32.iter().map(|&v| v as f64).collect(),
        })
    }
}
