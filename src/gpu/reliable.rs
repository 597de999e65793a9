//! Reliable updates (mixed-precision CG) of [`GpuPcg`]: where the f64
//! solution and the true residual live ([`ReliablePath`]: on the device in
//! f64 or double-single, [`DeviceReliable`], or on the host as the
//! fallback), when an update is due ([`RELIABLE_DROP`]), when CG restarts
//! ([`RESTART_DRIFT`]), and the solution. The iteration that calls them:
//! `iteration.rs`.

use super::abi::ALPHA;
use super::context::ReliablePath;
use super::error::GpuError;
use super::kernels::{Kernel, Slot};
use super::pcg::{GpuPcg, Reliable, Store};
use super::reliable_device::DeviceReliable;
use crate::fem::operator::residual;
use crate::fem::problem::FineOperator;
use crate::fem::vector::norm_sq;
use std::time::Instant;

/// A reliable update happens when ‖r‖ has dropped by this factor.
pub const RELIABLE_DROP: f64 = 0.1;

/// CG restarts at a reliable update when the true ‖r‖ is this many times
/// the recursive one.
pub const RESTART_DRIFT: f64 = 2.0;

impl<'c> GpuPcg<'c> {
    /// Turns on reliable updates against the f64 operator `op` and
    /// right-hand side `b`; the solver stops at ‖r‖ ≤ `tolerance`·‖b‖.
    /// They run on the device in f64 where the adapter has `SHADER_F64`,
    /// else in double-single, else on the host (or from the path the
    /// context asks for, [`AdapterRequest::reliable`](super::AdapterRequest::reliable), on).
    pub fn enable_reliable_updates(&mut self, op: FineOperator<'c>, b: Vec<f64>, tolerance: f64) {
        let bb = norm_sq(&b);
        self.set_rhs(&b);
        self.reliable = None;
        let asked = self.ctx.reliable.unwrap_or(ReliablePath::DeviceF64);
        let mut fallback = None;
        let mut store = None;
        for &path in asked.fallbacks() {
            let f64 = match path {
                ReliablePath::Host => break,
                ReliablePath::DeviceF64 => true,
                ReliablePath::DeviceDs => false,
            };
            if f64 && !self.ctx.has_f64() {
                continue;
            }
            match DeviceReliable::new(self.ctx, &self.params, |s| self.buffer(s), &op, &b, f64) {
                Ok(d) => {
                    store = Some(Store::Device(d));
                    break;
                }
                Err(e) => fallback = Some(format!("{}: {e}", path.name())),
            }
        }
        let store = store.unwrap_or_else(|| Store::Host {
            op: Box::new(op),
            x: vec![0.0; b.len()],
            b,
        });
        self.reliable = Some(Reliable {
            store,
            rr_last: bb,
            rr_stop: tolerance * tolerance * bb,
            updates: 0,
            seconds: 0.0,
            fallback,
        });
    }

    /// Where reliable updates run, `None` before they are enabled.
    pub fn reliable_path(&self) -> Option<ReliablePath> {
        self.reliable.as_ref().map(|r| match &r.store {
            Store::Device(d) if d.is_f64() => ReliablePath::DeviceF64,
            Store::Device(_) => ReliablePath::DeviceDs,
            Store::Host { .. } => ReliablePath::Host,
        })
    }

    /// Why a device path was not used (the error building it), if it was not.
    pub fn reliable_fallback(&self) -> Option<&str> {
        self.reliable.as_ref()?.fallback.as_deref()
    }

    /// Number of reliable updates so far.
    pub fn reliable_updates(&self) -> usize {
        self.reliable.as_ref().map_or(0, |r| r.updates)
    }

    /// Wall time spent in reliable updates so far, s.
    pub fn reliable_seconds(&self) -> f64 {
        self.reliable.as_ref().map_or(0.0, |r| r.seconds)
    }

    /// Bytes of the reliable updates' own buffers on the device.
    pub fn reliable_bytes(&self) -> u64 {
        match self.reliable.as_ref().map(|r| &r.store) {
            Some(Store::Device(d)) => d.bytes,
            _ => 0,
        }
    }

    /// Number of CG restarts at reliable updates so far.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// x_hi += x_f32, x_f32 = 0, r = b − A x_hi; returns the true ‖r‖².
    /// `rr_device` is the recursive ‖r‖² the device had reached: when the
    /// true residual is more than [`RESTART_DRIFT`] times larger, the kept
    /// search direction no longer fits the residual and CG restarts (p = z).
    pub(super) fn reliable_update(&mut self, rr_device: f64) -> Result<f64, GpuError> {
        let t = Instant::now();
        let rr = self.true_residual()?;
        let rel = self.reliable.as_mut().expect("reliable updates are on");
        rel.rr_last = rr;
        rel.updates += 1;
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
                (4 * ALPHA) as u64,
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
        if let Some(rel) = self.reliable.as_mut() {
            rel.seconds += t.elapsed().as_secs_f64();
        }
        Ok(rr)
    }

    /// The arithmetic of one reliable update alone: x_hi += x, x = 0 and
    /// r = b − A·x_hi into the device's r (f32); returns the true ‖r‖².
    /// The CG scalars and p are left alone (tests call it directly).
    pub fn true_residual(&mut self) -> Result<f64, GpuError> {
        self.flush()?;
        let rel = self.reliable.as_ref().expect("reliable updates are on");
        match &rel.store {
            Store::Device(d) => d.update(self.ctx),
            Store::Host { .. } => self.host_update(),
        }
    }

    /// The host fallback of an update: x read back and added into the f64
    /// x, r = b − A x in f64 on the host, x zeroed and r uploaded.
    fn host_update(&mut self) -> Result<f64, GpuError> {
        let x32: Vec<f32> = self.read(Slot::X)?;
        let n = x32.len();
        let Some(Reliable {
            store: Store::Host { op, b, x },
            ..
        }) = self.reliable.as_mut()
        else {
            unreachable!("a host update of a host store")
        };
        for (x, d) in x.iter_mut().zip(&x32) {
            *x += *d as f64;
        }
        // The true residual as the stop rule and the result compute it.
        let (r, rr) = residual(&**op, b, x);
        self.write(Slot::X, &vec![0.0f32; n]);
        self.set_rhs(&r);
        Ok(rr)
    }

    /// The solution: the high-precision accumulation plus the device's f32
    /// part.
    pub fn solution(&mut self) -> Result<Vec<f64>, GpuError> {
        self.flush()?;
        if let Some(Reliable {
            store: Store::Device(d),
            ..
        }) = &self.reliable
        {
            return d.solution(self.ctx);
        }
        let x32: Vec<f32> = self.read(Slot::X)?;
        Ok(match &self.reliable {
            Some(Reliable {
                store: Store::Host { x, .. },
                ..
            }) => x.iter().zip(&x32).map(|(x, d)| x + *d as f64).collect(),
            _ => x32.iter().map(|&v| v as f64).collect(),
        })
    }
}
