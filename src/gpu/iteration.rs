//! The CG iteration of [`GpuPcg`]: its [`PcgBackend`] implementation, so
//! the CG loop is the CPU solver's ([`crate::fem::cg::pcg`]), with the
//! kernels of one iteration recorded into one compute pass and a reliable
//! update ([`super::reliable`]) at the reads of ‖r‖ where one is due.

use super::abi::{BREAKDOWN, PQ, RR, SCALARS};
use super::error::GpuError;
use super::kernels::{Kernel, Slot};
use super::pcg::GpuPcg;
use super::reliable::RELIABLE_DROP;
use crate::fem::cg::{PcgBackend, PcgError};

/// With multigrid the host reads ‖r‖ at least every this many iterations:
/// each iteration cuts ‖r‖ about twofold, and reliable updates can only
/// happen at a read.
pub const MULTIGRID_CHECK_EVERY: usize = 2;

/// The kernels of one PCG iteration.
const ITERATION: [Kernel; 6] = [
    Kernel::ApplyK,
    Kernel::DotPartial,
    Kernel::ReduceAlpha,
    Kernel::UpdateXr,
    Kernel::ReduceBeta,
    Kernel::UpdateP,
];

/// The kernels of one multigrid-preconditioned iteration: `update_xr`'s
/// partial sums are replaced by `dot_pair`'s (r·z, r·r) after the V-cycle.
const ITERATION_MG: [Kernel; 8] = [
    Kernel::ApplyK,
    Kernel::DotPartial,
    Kernel::ReduceAlpha,
    Kernel::UpdateXr,
    Kernel::VCycle,
    Kernel::DotPair,
    Kernel::ReduceBeta,
    Kernel::UpdatePz,
];

impl PcgBackend for GpuPcg<'_> {
    type Error = GpuError;

    fn start(&mut self) -> Result<f64, GpuError> {
        self.pending.clear();
        let zeros = vec![0.0f32; self.params.n_dofs as usize];
        self.write(Slot::X, &zeros);
        self.write(Slot::Scalars, &[0.0f32; SCALARS]);
        if self.multigrid.is_some() {
            // z = M⁻¹ r, ρ = r·z, p = z.
            self.run(&[
                Kernel::VCycle,
                Kernel::DotPair,
                Kernel::ReduceStart,
                Kernel::UpdatePz,
            ])?;
        } else {
            // α = 0: update_xr leaves x and r alone and sums r·D⁻¹r and r·r.
            self.run(&[Kernel::UpdateXr, Kernel::ReduceStart, Kernel::UpdateP])?;
        }
        let s: Vec<f32> = self.read(Slot::Scalars)?;
        Ok(match &self.reliable {
            Some(rel) => rel.rr_last,
            None => s[RR] as f64,
        })
    }

    fn step(&mut self) -> Result<(), GpuError> {
        if self.multigrid.is_some() {
            self.pending.extend_from_slice(&ITERATION_MG);
        } else {
            self.pending.extend_from_slice(&ITERATION);
        }
        // Submit in batches: one submission per iteration costs more than
        // the kernels on small grids.
        if self.pending.len() >= 16 * ITERATION.len() {
            self.flush()?;
        }
        Ok(())
    }

    fn residual_norm_sq(&mut self) -> Result<f64, GpuError> {
        self.flush()?;
        let s: Vec<f32> = self.read(Slot::Scalars)?;
        if s[BREAKDOWN] != 0.0 {
            return Err(PcgError::Breakdown {
                iteration: 0,
                pq: s[PQ] as f64,
            }
            .into());
        }
        let rr = s[RR] as f64;
        let due = match &self.reliable {
            Some(rel) => rr <= RELIABLE_DROP * RELIABLE_DROP * rel.rr_last || rr <= rel.rr_stop,
            None => false,
        };
        if due {
            return self.reliable_update(rr);
        }
        Ok(rr)
    }

    /// With multigrid at least every [`MULTIGRID_CHECK_EVERY`] iterations:
    /// reliable updates happen only at a read.
    fn check_every(&self, requested: usize) -> usize {
        if self.multigrid.is_some() {
            requested.min(MULTIGRID_CHECK_EVERY)
        } else {
            requested
        }
    }
}
