//! The device: [`AdapterRequest`] (which adapter, which limits),
//! [`GpuContext`] (adapter choice, device and queue, the sink of uncaptured
//! device errors, dispatch sizes split over y), [`context_or_skip`] for tests
//! and benches, and [`read_buffer`] to read a buffer back.
//!
//! Adapters are probed once per process and set of backends
//! ([`probe_counts`] counts them): a sweep opens a device per case
//! but never enumerates the drivers again. The primary backends (Vulkan,
//! Metal, DX12) are probed first; GL only when they hold no hardware
//! adapter with compute shaders. Drivers print to the process's stderr
//! while probed (Mesa's Vulkan device-select layer and EGL both write
//! "error: XDG_RUNTIME_DIR is invalid or not set in the environment."
//! without a desktop session), so on Unix file descriptor 2 is pointed at
//! an unlinked temporary file for the probe only: what they wrote is kept
//! and shown in the error when no adapter is found, never on the user's
//! terminal otherwise. Other threads' stderr during those milliseconds
//! goes there too (nothing else runs while voxfe probes).
//!
//! `WGPU_BACKEND` (a comma-separated list of vulkan, metal, dx12, gl) is
//! checked here: wgpu ignores names it does not know, which turned a typo
//! into "no GPU adapter: found none".

use super::error::GpuError;
use bytemuck::Pod;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Which adapter to use and how to limit it.
#[derive(Debug, Clone, Default)]
pub struct AdapterRequest {
    /// Case-insensitive substring of the adapter name (`--adapter`);
    /// default: `WGPU_ADAPTER_NAME`, else none.
    pub name: Option<String>,
    /// Backends to search; default: all, as overridden by `WGPU_BACKEND`.
    pub backends: Option<wgpu::Backends>,
    /// Lower `max_storage_buffer_binding_size` to this (tests); default:
    /// `VOXFE_MAX_STORAGE_BINDING` ([`env_binding_cap`]), else none.
    pub max_storage_binding: Option<u64>,
    /// Split dispatches at this many workgroups along x (default 65 535; tests lower it).
    pub max_groups_x: Option<u32>,
    /// Where reliable updates should run (tests force one); default: in
    /// f64 on the device where the adapter has `SHADER_F64`, else in
    /// double-single. A path that cannot be built falls back to the next
    /// (f64 → double-single → host).
    pub reliable: Option<ReliablePath>,
}

/// Where reliable updates run: the high-precision solution and the true
/// residual b − A·x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReliablePath {
    /// On the device, in f64 (adapters with `SHADER_F64`).
    DeviceF64,
    /// On the device, in double-single (two-f32) arithmetic.
    DeviceDs,
    /// On the host in f64: x read back and r uploaded at every update.
    Host,
}

impl ReliablePath {
    /// "device-f64", "device-ds" or "host" (the result's `reliable_updates`).
    pub fn name(self) -> &'static str {
        match self {
            ReliablePath::DeviceF64 => "device-f64",
            ReliablePath::DeviceDs => "device-ds",
            ReliablePath::Host => "host",
        }
    }

    /// The paths tried, in order, when `self` is asked for: each falls back
    /// to the next (f64 → double-single → host).
    pub(super) fn fallbacks(self) -> &'static [ReliablePath] {
        use ReliablePath::*;
        match self {
            DeviceF64 => &[DeviceF64, DeviceDs, Host],
            DeviceDs => &[DeviceDs, Host],
            Host => &[Host],
        }
    }
}

/// A headless device.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub max_groups_x: u32,
    /// The reliable-update path asked for ([`AdapterRequest::reliable`]).
    pub reliable: Option<ReliablePath>,
    /// Errors the device reported outside an error scope, as wgpu typed
    /// them, until [`GpuContext::check`] takes them.
    errors: Arc<Mutex<Vec<wgpu::Error>>>,
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

/// The backends `WGPU_BACKEND` names, `None` when it is unset; a name
/// that is not a native backend is an error naming the variable, its value
/// and what is allowed.
pub fn env_backends() -> Result<Option<wgpu::Backends>, GpuError> {
    match std::env::var("WGPU_BACKEND") {
        Ok(value) => parse_backends(&value).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(GpuError::BadBackendEnv {
            value: v.to_string_lossy().into_owned(),
            unknown: v.to_string_lossy().into_owned(),
        }),
    }
}

/// `VOXFE_MAX_STORAGE_BINDING`: bytes to lower the adapter's
/// `max_storage_buffer_binding_size` to (to run a large GPU's split
/// bindings on a small problem), `None` when it is unset; anything but an
/// integer of at least 4 is an error naming the variable.
pub fn env_binding_cap() -> Result<Option<u64>, GpuError> {
    match std::env::var("VOXFE_MAX_STORAGE_BINDING") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(bytes) if bytes >= 4 => Ok(Some(bytes)),
            _ => Err(GpuError::BadBindingEnv { value }),
        },
        Err(std::env::VarError::NotUnicode(v)) => Err(GpuError::BadBindingEnv {
            value: v.to_string_lossy().into_owned(),
        }),
    }
}

/// A comma-separated list of backend names (case-insensitive, as wgpu
/// reads `WGPU_BACKEND`): vulkan (vk), metal (mtl), dx12 (d3d12), gl
/// (gles, opengl).
fn parse_backends(value: &str) -> Result<wgpu::Backends, GpuError> {
    let mut backends = wgpu::Backends::empty();
    for name in value.split(',') {
        backends |= match name.trim().to_lowercase().as_str() {
            "vulkan" | "vk" => wgpu::Backends::VULKAN,
            "metal" | "mtl" => wgpu::Backends::METAL,
            "dx12" | "d3d12" => wgpu::Backends::DX12,
            "gl" | "gles" | "opengl" => wgpu::Backends::GL,
            _ => {
                return Err(GpuError::BadBackendEnv {
                    value: value.to_string(),
                    unknown: name.trim().to_string(),
                })
            }
        };
    }
    Ok(backends)
}

/// Probes of the drivers made by this process (see the module docs).
static PROBES: AtomicUsize = AtomicUsize::new(0);

/// Each set of backends probed, with its adapters, the drivers' messages
/// and the instances that own the adapters.
type Probed = (
    wgpu::Backends,
    Vec<wgpu::Instance>,
    Vec<wgpu::Adapter>,
    String,
);
static CACHE: Mutex<Vec<Probed>> = Mutex::new(Vec::new());

/// How many times this process has enumerated adapters for each set of
/// backends: `(backends, probes)`, probes at most 1.
pub fn probe_counts() -> Vec<(wgpu::Backends, usize)> {
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let mut counts: Vec<(wgpu::Backends, usize)> = Vec::new();
    for p in cache.iter() {
        match counts.iter_mut().find(|c| c.0 == p.0) {
            Some(c) => c.1 += 1,
            None => counts.push((p.0, 1)),
        }
    }
    counts
}

/// The adapters of `backends`, probed once per process and set of
/// backends; with the drivers' own messages written while probing.
fn adapters(backends: wgpu::Backends) -> (Vec<wgpu::Adapter>, String) {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, adapters, said)) = cache.iter().find(|p| p.0 == backends) {
        return (adapters.clone(), said.clone());
    }
    PROBES.fetch_add(1, Ordering::Relaxed);
    let enumerate = |b: wgpu::Backends| {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
        desc.backends = b;
        let instance = wgpu::Instance::new(desc);
        let adapters = pollster::block_on(instance.enumerate_adapters(b));
        (instance, adapters)
    };
    let hardware_compute = |a: &wgpu::Adapter| {
        a.get_info().device_type != wgpu::DeviceType::Cpu
            && a.get_downlevel_capabilities()
                .flags
                .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
    };
    let ((instances, adapters), said) = quietly(|| {
        let (mut instances, mut adapters) = (Vec::new(), Vec::new());
        let primary = backends - wgpu::Backends::GL;
        if !primary.is_empty() {
            let (i, a) = enumerate(primary);
            instances.push(i);
            adapters.extend(a);
        }
        if backends.contains(wgpu::Backends::GL) && !adapters.iter().any(hardware_compute) {
            let (i, a) = enumerate(wgpu::Backends::GL);
            instances.push(i);
            adapters.extend(a);
        }
        (instances, adapters)
    });
    cache.push((backends, instances, adapters.clone(), said.clone()));
    (adapters, said)
}

/// Runs `f` with file descriptor 2 pointed at an unlinked temporary file;
/// returns `f`'s result and what was written there. Without a temporary
/// file (or off Unix) `f` runs as is.
#[cfg(unix)]
fn quietly<T>(f: impl FnOnce() -> T) -> (T, String) {
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join(format!(
        "voxfe-probe-{}-{}",
        std::process::id(),
        PROBES.load(Ordering::Relaxed)
    ));
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path);
    let _ = std::fs::remove_file(&path);
    let Ok(mut file) = file else {
        return (f(), String::new());
    };
    let _ = std::io::stderr().flush();
    // SAFETY: dup and dup2 on descriptor 2 and on a file this function
    // owns; the saved descriptor is restored and closed below.
    let saved = unsafe { libc::dup(2) };
    if saved < 0 || unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0 {
        if saved >= 0 {
            // SAFETY: `saved` is a descriptor dup returned above.
            unsafe { libc::close(saved) };
        }
        return (f(), String::new());
    }
    let out = f();
    let _ = std::io::stderr().flush();
    // SAFETY: `saved` is the original descriptor 2, duplicated above.
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
    let mut said = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut said));
    (out, said.trim().to_string())
}

#[cfg(not(unix))]
fn quietly<T>(f: impl FnOnce() -> T) -> (T, String) {
    (f(), String::new())
}

impl GpuContext {
    /// Finds an adapter and opens a device on it.
    pub fn new(req: &AdapterRequest) -> Result<GpuContext, GpuError> {
        let backends = match env_backends()? {
            Some(b) => b,
            None => req.backends.unwrap_or(wgpu::Backends::all()),
        };
        let cap = match req.max_storage_binding {
            Some(cap) => Some(cap),
            None => env_binding_cap()?,
        };
        let (adapters, said) = adapters(backends);
        let found = if adapters.is_empty() {
            "none".to_string()
        } else {
            adapters
                .iter()
                .map(|a| {
                    let i = a.get_info();
                    format!("'{}' ({:?}, {:?})", i.name, i.backend, i.device_type)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let found = if said.is_empty() {
            found
        } else {
            format!("{found} (the drivers said: {})", said.replace('\n', "; "))
        };
        let name = req
            .name
            .clone()
            .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok());
        let needle = name.as_ref().map(|n| n.to_lowercase());
        let adapter = adapters
            .into_iter()
            .filter(|a| {
                let i = a.get_info();
                needle
                    .as_ref()
                    .is_none_or(|n| i.name.to_lowercase().contains(n))
                    && a.get_downlevel_capabilities()
                        .flags
                        .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .min_by_key(|a| {
                let i = a.get_info();
                (rank(i.device_type), i.backend != wgpu::Backend::Vulkan)
            })
            .ok_or(GpuError::NoAdapter {
                requested: name,
                found,
            })?;
        let info = adapter.get_info();
        let mut limits = adapter.limits();
        if let Some(cap) = cap {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(cap);
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("voxfe"),
            // f64 in shaders, where there is, for the reliable updates.
            required_features: adapter.features() & wgpu::Features::SHADER_F64,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice {
            adapter: info.name.clone(),
            message: e.to_string(),
        })?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| sink.lock().unwrap().push(e)));
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
            max_groups_x: req.max_groups_x.unwrap_or(65_535).clamp(1, 65_535),
            reliable: req.reliable,
            errors,
        })
    }

    /// "name / backend", e.g. "llvmpipe (LLVM 15.0.6, 256 bits) / Vulkan".
    pub fn adapter_name(&self) -> String {
        format!("{} / {:?}", self.info.name, self.info.backend)
    }

    /// Whether the device runs f64 in shaders (`SHADER_F64`).
    pub fn has_f64(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_F64)
    }

    /// Whether the adapter is a software rasteriser (lavapipe, llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Whether a buffer `name` of `bytes` fits the adapter's
    /// `max_buffer_size` (a [`GpuError::TooLarge`] naming it if not).
    pub(crate) fn fits_buffer(&self, name: &'static str, bytes: u64) -> Result<(), GpuError> {
        let limit = self.limits.max_buffer_size;
        if bytes > limit {
            return Err(GpuError::TooLarge {
                name,
                bytes,
                limit,
                what: "max_buffer_size",
            });
        }
        Ok(())
    }

    /// Whether a buffer `name` of `bytes`, bound whole, fits the adapter's
    /// `max_storage_buffer_binding_size`.
    pub(crate) fn fits_binding(&self, name: &'static str, bytes: u64) -> Result<(), GpuError> {
        let limit = self.limits.max_storage_buffer_binding_size;
        if bytes > limit {
            return Err(GpuError::TooLarge {
                name,
                bytes,
                limit,
                what: "max_storage_buffer_binding_size",
            });
        }
        Ok(())
    }

    /// The errors the device reported since the last call, if any, as one
    /// (see [`device_error`]).
    pub(crate) fn check(&self) -> Result<(), GpuError> {
        let errors = std::mem::take(&mut *self.errors.lock().unwrap());
        device_error(&errors).map_or(Ok(()), Err)
    }

    /// A storage buffer holding `contents` (readable, writable, copyable).
    pub(crate) fn storage_init(&self, name: &str, contents: &[u8]) -> wgpu::Buffer {
        use wgpu::util::DeviceExt;
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents,
                usage: STORAGE_USAGE,
            })
    }

    /// A zeroed storage buffer of `size` bytes (at least 8).
    pub(crate) fn storage_zeroed(&self, name: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(name),
            size: size.max(8),
            usage: STORAGE_USAGE,
            mapped_at_creation: false,
        })
    }

    /// Workgroup counts for `groups` workgroups, split over y past `max_groups_x`.
    pub fn dispatch_size(&self, groups: u32) -> (u32, u32) {
        let x = groups.clamp(1, self.max_groups_x);
        (x, groups.max(1).div_ceil(x))
    }
}

/// The usage of the solvers' storage buffers.
const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_DST)
    .union(wgpu::BufferUsages::COPY_SRC);

/// Uncaptured device errors as one [`GpuError`], `None` when there are
/// none: [`GpuError::OutOfMemory`] when wgpu reported any of them as
/// `wgpu::Error::OutOfMemory`, else [`GpuError::Device`]; the message joins
/// them all.
fn device_error(errors: &[wgpu::Error]) -> Option<GpuError> {
    if errors.is_empty() {
        return None;
    }
    let message = errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let out_of_memory = errors
        .iter()
        .any(|e| matches!(e, wgpu::Error::OutOfMemory { .. }));
    Some(if out_of_memory {
        GpuError::OutOfMemory { bytes: 0, message }
    } else {
        GpuError::Device(message)
    })
}

/// A context for a test or a benchmark, or `None` after printing that it
/// was skipped. With `VOXFE_REQUIRE_GPU=1` (set by CI) a missing adapter
/// is a failure instead.
pub fn context_or_skip(request: &AdapterRequest, what: &str) -> Option<GpuContext> {
    match GpuContext::new(request) {
        Ok(ctx) => Some(ctx),
        Err(e) if std::env::var("VOXFE_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("VOXFE_REQUIRE_GPU=1 but {what} found no GPU adapter: {e}")
        }
        Err(e) => {
            eprintln!("skipped {what}: no GPU adapter ({e})");
            None
        }
    }
}

/// Polls [`read_buffer`] makes before a mapping that never completes is an
/// error.
const MAP_POLLS: usize = 10_000;

/// Reads a whole buffer back.
pub(crate) fn read_buffer<T: Pod>(
    ctx: &GpuContext,
    src: &wgpu::Buffer,
) -> Result<Vec<T>, GpuError> {
    let size = src.size();
    let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("read"),
        });
    enc.copy_buffer_to_buffer(src, 0, &staging, 0, size);
    ctx.queue.submit([enc.finish()]);
    let slice = staging.slice(..);
    let result = Arc::new(Mutex::new(None));
    let sink = result.clone();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        *sink.lock().unwrap() = Some(r)
    });
    // Another thread polling the same device may run the callback after
    // this poll returned: poll again, a bounded number of times.
    let mut polls = 0;
    while result.lock().unwrap().is_none() && polls < MAP_POLLS {
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Device(e.to_string()))?;
        if polls > 0 {
            std::thread::yield_now();
        }
        polls += 1;
    }
    match result.lock().unwrap().take() {
        Some(Ok(())) => {}
        Some(Err(e)) => return Err(GpuError::Device(format!("mapping a buffer failed: {e}"))),
        None => return Err(GpuError::Device("mapping a buffer did not complete".into())),
    }
    let view = slice
        .get_mapped_range()
        .map_err(|e| GpuError::Device(format!("reading a mapped buffer failed: {e}")))?;
    let out = bytemuck::cast_slice::<u8, T>(&view).to_vec();
    drop(view);
    staging.unmap();
    ctx.check()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> wgpu::ErrorSource {
        Box::new(std::io::Error::other(text.to_string()))
    }

    #[test]
    fn wgpu_backend_names_are_checked() {
        use wgpu::Backends;
        assert_eq!(parse_backends("vulkan").unwrap(), Backends::VULKAN);
        assert_eq!(
            parse_backends(" VK , gl").unwrap(),
            Backends::VULKAN | Backends::GL
        );
        assert_eq!(
            parse_backends("d3d12,mtl").unwrap(),
            Backends::DX12 | Backends::METAL
        );
        for (value, unknown) in [
            ("nonsense", "nonsense"),
            ("vulkan,vulcan", "vulcan"),
            ("", ""),
        ] {
            let e = parse_backends(value).unwrap_err();
            let text = e.to_string();
            assert!(
                matches!(&e, GpuError::BadBackendEnv { unknown: u, .. } if u == unknown)
                    && text.contains(&format!("WGPU_BACKEND = '{value}'"))
                    && text.contains("vulkan, metal, dx12, gl"),
                "{text}"
            );
        }
    }

    #[test]
    fn adapters_are_probed_once_per_process() {
        // A set of backends no other test asks for.
        let backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL;
        let request = AdapterRequest {
            backends: Some(backends),
            ..Default::default()
        };
        if std::env::var_os("WGPU_BACKEND").is_some() {
            return; // the variable overrides the request's backends
        }
        let first = GpuContext::new(&request).map(|c| c.adapter_name());
        let second = GpuContext::new(&request).map(|c| c.adapter_name());
        let probes = probe_counts()
            .into_iter()
            .find(|c| c.0 == backends)
            .map(|c| c.1);
        assert_eq!(probes, Some(1));
        assert_eq!(first.ok(), second.ok());
    }

    #[test]
    fn out_of_memory_is_recognised_by_its_type_not_its_text() {
        assert!(device_error(&[]).is_none());
        let oom = wgpu::Error::OutOfMemory {
            source: source("not enough memory left"),
        };
        let validation = |text: &str| wgpu::Error::Validation {
            source: source(text),
            description: text.to_string(),
        };
        assert!(matches!(
            device_error(&[validation("first"), oom]),
            Some(GpuError::OutOfMemory { bytes: 0, ref message }) if message.contains("first")
        ));
        // A validation error that mentions memory is still a device error.
        assert!(matches!(
            device_error(&[validation("Out of memory")]),
            Some(GpuError::Device(ref message)) if message.contains("Out of memory")
        ));
    }
}
