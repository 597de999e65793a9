//! `voxfe._voxfe`: the Python binding of the voxfe library (the package
//! `voxfe` in `python/voxfe/` wraps it). Each call loads or edits a
//! [`Scene`] or hands one to the library exactly as the CLI does (the same
//! JSON objects, provenance included), with the GIL released while it
//! works. Every solve of a call is watched ([`voxfe::progress::observe`]):
//! the observer calls the progress callback and checks for Ctrl-C, and
//! stops the solve when either raised; the Python exception is raised in
//! place of the library's error. Errors become `voxfe.SceneError` (bad
//! input, naming the key), `voxfe.NotConverged` (with the residual),
//! `voxfe.VoxfeError` (anything else), and a panic `voxfe.InternalError`:
//! nothing unwinds into Python.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pyo3::create_exception;
use pyo3::exceptions::{PyBufferError, PyException};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Map, Value};

use voxfe::grid::VoxelGrid;
use voxfe::homogenize::run::HomogenizeReport;

use voxfe::progress::SolveStep;
use voxfe::provenance::Provenance;
use voxfe::report::RunReport;
use voxfe::scene::{Backend, Scene, Setting};

create_exception!(
    _voxfe,
    VoxfeError,
    PyException,
    "A voxfe call that failed (the base of voxfe's exceptions)."
);
create_exception!(
    _voxfe,
    SceneError,
    VoxfeError,
    "Bad input: a scene key or value (`key`, `value`, `allowed` where known), a file, a study's settings."
);
create_exception!(
    _voxfe,
    NotConverged,
    VoxfeError,
    "A solve that did not converge (`residual`, `iterations`, `tolerance`; `result` holds what it gave)."
);
create_exception!(
    _voxfe,
    InternalError,
    VoxfeError,
    "A bug in voxfe (a Rust panic, caught at the boundary)."
);

/// An error on its way to Python (one raised in Python while voxfe
/// worked, Ctrl-C or a progress callback, is [`Watch`]'s).
enum Fail {
    Scene {
        message: String,
        key: Option<String>,
        value: Option<String>,
        allowed: Option<String>,
    },
    NotConverged {
        message: String,
        residual: Option<f64>,
        iterations: Option<usize>,
        tolerance: Option<f64>,
        result: Option<Box<Map<String, Value>>>,
    },
    Other(String),
}

impl Fail {
    fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            Fail::Scene {
                message,
                key,
                value,
                allowed,
            } => with_attrs(
                py,
                SceneError::new_err(message),
                &[
                    ("key", key.into_pyobject(py).ok().map(Bound::into_any)),
                    ("value", value.into_pyobject(py).ok().map(Bound::into_any)),
                    (
                        "allowed",
                        allowed.into_pyobject(py).ok().map(Bound::into_any),
                    ),
                ],
            ),
            Fail::NotConverged {
                message,
                residual,
                iterations,
                tolerance,
                result,
            } => {
                let result = result.map(|m| json_to_py(py, &Value::Object(*m)));
                with_attrs(
                    py,
                    NotConverged::new_err(message),
                    &[
                        (
                            "residual",
                            residual.into_pyobject(py).ok().map(Bound::into_any),
                        ),
                        (
                            "iterations",
                            iterations.into_pyobject(py).ok().map(Bound::into_any),
                        ),
                        (
                            "tolerance",
                            tolerance.into_pyobject(py).ok().map(Bound::into_any),
                        ),
                        ("result", result.transpose().ok().flatten()),
                    ],
                )
            }
            Fail::Other(message) => VoxfeError::new_err(message),
        }
    }
}

/// `err` with attributes set on its exception object.
fn with_attrs(py: Python<'_>, err: PyErr, attrs: &[(&str, Option<Bound<'_, PyAny>>)]) -> PyErr {
    let value = err.value(py);
    for (name, v) in attrs {
        let v = v.clone().unwrap_or_else(|| py.None().into_bound(py));
        let _ = value.setattr(*name, v);
    }
    err
}

/// `e` and its sources, joined by ": " (as the CLI prints an error).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// A scene error, naming the key where it can be told: the error's own,
/// or the override an unknown-field message names.
fn scene_fail(e: &voxfe::scene::SceneError, overrides: &[String]) -> Fail {
    use voxfe::scene::SceneError as E;
    let message = chain(e);
    let (key, value, allowed) = match e {
        E::Invalid {
            key,
            value,
            allowed,
        } => (
            Some(key.to_string()),
            Some(value.clone()),
            Some(allowed.clone()),
        ),
        E::NotFinite { key, value } => (
            Some(key.clone()),
            Some(value.to_string()),
            Some("a finite number (not nan or inf)".to_string()),
        ),
        E::BadOverride { arg } => (
            Some(arg.split('=').next().unwrap_or(arg).trim().to_string()),
            None,
            Some("key=value with a dotted key, e.g. lattice.porosity=0.85".to_string()),
        ),
        E::Toml { message: m, .. } => {
            let named = overrides.iter().find_map(|o| {
                let (k, v) = o.split_once('=')?;
                let last = k.trim().rsplit('.').next()?;
                m.contains(&format!("`{last}`"))
                    .then(|| (k.trim().to_string(), v.trim().to_string()))
            });
            match named {
                Some((k, v)) => (Some(k), Some(v), None),
                None => (None, None, None),
            }
        }
        _ => (None, None, None),
    };
    Fail::Scene {
        message,
        key,
        value,
        allowed,
    }
}

/// A failure that is the input's (`bad_input`) or not.
fn fail_of(e: &(dyn std::error::Error + 'static), bad_input: bool) -> Fail {
    if bad_input {
        Fail::Scene {
            message: chain(e),
            key: None,
            value: None,
            allowed: None,
        }
    } else {
        Fail::Other(chain(e))
    }
}

/// Runs `work` with the GIL released and every solve in it watched: the
/// observer checks for Ctrl-C and calls `progress` (a callable taking one
/// dict) at each residual check; either raising stops the solve and is
/// raised in place of what `work` returns. A panic is an `InternalError`.
fn watched<T: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    work: impl FnOnce(&Watch) -> Result<T, Fail> + Send,
) -> PyResult<T> {
    let watch = Watch {
        raised: Arc::new(Mutex::new(None)),
        progress: progress.map(Arc::new),
    };
    let out = py.detach(|| {
        let w = watch.clone();
        let observer = move |s: SolveStep| w.step(s);
        catch_unwind(AssertUnwindSafe(|| {
            voxfe::progress::observe(observer, || work(&watch))
        }))
    });
    if let Some(e) = watch.raised.lock().ok().and_then(|mut r| r.take()) {
        return Err(e);
    }
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(f.into_pyerr(py)),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Err(InternalError::new_err(format!(
                "internal error in voxfe (please report it): {why}"
            )))
        }
    }
}

/// What the observer of a [`watched`] call shares with it: the Python
/// exception that stopped it, and the progress callback.
#[derive(Clone)]
struct Watch {
    raised: Arc<Mutex<Option<PyErr>>>,
    progress: Option<Arc<Py<PyAny>>>,
}

impl Watch {
    /// A residual check: `false` once Ctrl-C or the callback raised.
    fn step(&self, s: SolveStep) -> bool {
        self.event(&[
            ("stage", Value::from("solve")),
            ("iteration", Value::from(s.iteration)),
            ("relative_residual", Value::from(s.relative_residual)),
            ("tolerance", Value::from(s.tolerance)),
        ])
    }

    /// Checks for Ctrl-C and tells the callback `fields` (a dict); `false`
    /// once either raised (and from then on).
    fn event(&self, fields: &[(&str, Value)]) -> bool {
        let Ok(mut raised) = self.raised.lock() else {
            return false;
        };
        if raised.is_some() {
            return false;
        }
        Python::attach(|py| {
            let r = py.check_signals().and_then(|()| match &self.progress {
                Some(cb) => {
                    let d = PyDict::new(py);
                    for (k, v) in fields {
                        d.set_item(*k, json_to_py(py, v)?)?;
                    }
                    cb.call1(py, (d,)).map(drop)
                }
                None => Ok(()),
            });
            match r {
                Ok(()) => true,
                Err(e) => {
                    *raised = Some(e);
                    false
                }
            }
        })
    }
}

/// A JSON value as the Python object `json.loads` would give (floats
/// exact: serde_json keeps every f64 bit).
fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(json_to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// `auto`, `cpu` or `gpu`.
fn backend_of(name: &str) -> Result<Backend, Fail> {
    match name {
        "auto" => Ok(Backend::Auto),
        "cpu" => Ok(Backend::Cpu),
        "gpu" => Ok(Backend::Gpu),
        _ => Err(Fail::Scene {
            message: format!("backend = {name}: allowed: auto, cpu, gpu"),
            key: Some("backend".into()),
            value: Some(name.into()),
            allowed: Some("auto, cpu, gpu".into()),
        }),
    }
}

/// A scene: loaded from a file or TOML text, with `key=value` overrides,
/// validated as the CLI validates it. Immutable: edits give a new scene.
#[pyclass(name = "Scene", module = "voxfe._voxfe", frozen)]
struct PyScene {
    inner: Arc<Scene>,
}

impl PyScene {
    fn new(scene: Scene) -> PyScene {
        PyScene {
            inner: Arc::new(scene),
        }
    }
}

#[pymethods]
impl PyScene {
    /// The scene file at `path` with `overrides` (`key=value` strings, as
    /// `--set`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, overrides: Vec<String>) -> PyResult<PyScene> {
        Scene::load(&path, &overrides)
            .map(PyScene::new)
            .map_err(|e| scene_fail(&e, &overrides).into_pyerr(py))
    }

    /// Scene TOML text (`name` names it in errors and provenance; relative
    /// paths in it are taken from `base_dir`'s folder).
    #[staticmethod]
    fn parse(
        py: Python<'_>,
        text: &str,
        name: PathBuf,
        overrides: Vec<String>,
    ) -> PyResult<PyScene> {
        Scene::parse(text, &name, &overrides)
            .map(PyScene::new)
            .map_err(|e| scene_fail(&e, &overrides).into_pyerr(py))
    }

    /// This scene with `overrides` (`key=value` strings) applied and checked
    /// as a whole, as the file loaded with them would be.
    fn with_settings(&self, py: Python<'_>, overrides: Vec<String>) -> PyResult<PyScene> {
        let settings = overrides
            .iter()
            .map(|o| Setting::parse(o))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|s| self.inner.with_settings(&s));
        settings
            .map(PyScene::new)
            .map_err(|e| scene_fail(&e, &overrides).into_pyerr(py))
    }

    /// This scene solved on `backend` (`auto`, `cpu`, `gpu`) and, where
    /// given, the adapter whose name holds `adapter` (as `--backend`,
    /// `--adapter`).
    #[pyo3(signature = (backend, adapter=None))]
    fn with_backend(
        &self,
        py: Python<'_>,
        backend: &str,
        adapter: Option<&str>,
    ) -> PyResult<PyScene> {
        let b = backend_of(backend).map_err(|f| f.into_pyerr(py))?;
        let mut scene = (*self.inner).clone().with_backend(b);
        if let Some(a) = adapter {
            scene = scene.with_adapter(a);
        }
        Ok(PyScene::new(scene))
    }

    /// This scene as a periodic cell of `cells` lattice cells per axis.
    fn with_cells(&self, py: Python<'_>, cells: usize) -> PyResult<PyScene> {
        self.inner
            .with_cells(cells)
            .map(PyScene::new)
            .map_err(|e| scene_fail(&e, &[]).into_pyerr(py))
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// The scene file as given.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    /// The overrides and edits applied, as `key=value`.
    #[getter]
    fn overrides(&self) -> Vec<String> {
        self.inner.overrides().to_vec()
    }

    /// The scene's `load.case`.
    #[getter]
    fn load_case(&self) -> &'static str {
        self.inner.load_case().name()
    }

    /// Whether the scene is a periodic cell (`load.case = "periodic"`).
    #[getter]
    fn is_periodic(&self) -> bool {
        voxfe::pipeline::SceneKind::is_periodic(&self.inner)
    }

    /// `voxel.size`, mm.
    #[getter]
    fn voxel_size(&self) -> f64 {
        self.inner.voxel.size
    }

    /// `solver.backend`.
    #[getter]
    fn backend(&self) -> &'static str {
        self.inner.solver.backend.name()
    }

    /// The canonical TOML of the scene: every key after overrides and
    /// defaults (what provenance records as `scene`).
    fn to_toml(&self) -> String {
        voxfe::provenance::canonical_toml(&self.inner)
    }

    fn __eq__(&self, other: PyRef<'_, PyScene>) -> bool {
        *self.inner == *other.inner
    }

    fn __repr__(&self) -> String {
        let o = self.inner.overrides();
        if o.is_empty() {
            format!("Scene('{}')", self.inner.path().display())
        } else {
            format!("Scene('{}', {})", self.inner.path().display(), o.join(", "))
        }
    }
}

/// A solved grid, kept for the fields asked of it later: the solid mask,
/// the solid fraction and the active nodes' grid ids.
#[pyclass(module = "voxfe._voxfe", frozen)]
struct Grid {
    grid: VoxelGrid,
}

#[pymethods]
impl Grid {
    /// Voxel counts `(nx, ny, nz)`.
    #[getter]
    fn dims(&self) -> (usize, usize, usize) {
        let [x, y, z] = self.grid.dims;
        (x, y, z)
    }

    /// Voxel edge h, mm.
    #[getter]
    fn h(&self) -> f64 {
        self.grid.h
    }

    /// The solid mask, one byte per voxel in voxel-id order (x fastest).
    fn solid(&self) -> Buffer {
        Buffer::U8(self.grid.solid.clone())
    }

    /// The solid volume fraction φ of each voxel (voxel-id order); the
    /// mask as 0 and 1 for binary fill.
    fn fraction(&self) -> Buffer {
        Buffer::F32(match &self.grid.fraction {
            Some(f) => f.clone(),
            None => self.grid.solid.iter().map(|&s| s as f32).collect(),
        })
    }

    /// The grid node id of each active node, in the order of the
    /// displacement's rows.
    fn node_ids(&self) -> PyResult<Buffer> {
        let mesh = voxfe::fem::mesh::ActiveMesh::new(&self.grid)
            .map_err(|e| VoxfeError::new_err(e.to_string()))?;
        Ok(Buffer::U32(mesh.nodes))
    }
}

/// A vector of the library's, handed to numpy without a copy: a read-only
/// buffer of its bytes (`numpy.frombuffer(b, b.dtype)` views it; the
/// array keeps the buffer, and so the vector, alive).
#[pyclass(module = "voxfe._voxfe", frozen)]
enum Buffer {
    F64(Vec<f64>),
    F32(Vec<f32>),
    U32(Vec<u32>),
    U8(Vec<u8>),
}

impl Buffer {
    fn bytes(&self) -> &[u8] {
        match self {
            Buffer::F64(v) => bytemuck::cast_slice(v),
            Buffer::F32(v) => bytemuck::cast_slice(v),
            Buffer::U32(v) => bytemuck::cast_slice(v),
            Buffer::U8(v) => v,
        }
    }
}

#[pymethods]
impl Buffer {
    /// The numpy dtype of the values ("<f8", "<f4", "<u4", "|u1").
    #[getter]
    fn dtype(&self) -> &'static str {
        match self {
            Buffer::F64(_) => "<f8",
            Buffer::F32(_) => "<f4",
            Buffer::U32(_) => "<u4",
            Buffer::U8(_) => "|u1",
        }
    }

    fn __len__(&self) -> usize {
        match self {
            Buffer::F64(v) => v.len(),
            Buffer::F32(v) => v.len(),
            Buffer::U32(v) => v.len(),
            Buffer::U8(v) => v.len(),
        }
    }

    /// The bytes, read-only, one dimension (the buffer protocol).
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: std::ffi::c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("View is null"));
        }
        if (flags & ffi::PyBUF_WRITABLE) == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("voxfe's fields are read-only"));
        }
        let data = slf.get().bytes();
        // SAFETY: `view` is the non-null buffer Python asks to fill; the
        // bytes belong to `slf`, a frozen object whose reference the view
        // keeps (`obj`), so they outlive it unchanged.
        unsafe {
            (*view).buf = data.as_ptr() as *mut std::ffi::c_void;
            (*view).len = data.len() as isize;
            (*view).readonly = 1;
            (*view).itemsize = 1;
            (*view).format = if (flags & ffi::PyBUF_FORMAT) == ffi::PyBUF_FORMAT {
                c"B".as_ptr() as *mut std::ffi::c_char
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = 1;
            (*view).shape = if (flags & ffi::PyBUF_ND) == ffi::PyBUF_ND {
                &mut (*view).len
            } else {
                std::ptr::null_mut()
            };
            (*view).strides = if (flags & ffi::PyBUF_STRIDES) == ffi::PyBUF_STRIDES {
                &mut (*view).itemsize
            } else {
                std::ptr::null_mut()
            };
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
            (*view).obj = slf.into_any().into_ptr();
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}

/// A loaded run for Python: its JSON object (as `run --json`), the
/// warnings to show, and the fields.
struct Loaded {
    json: Map<String, Value>,
    warnings: Vec<String>,
    report: RunReport,
}

/// A periodic cell's homogenization for Python.
struct Periodic {
    json: Map<String, Value>,
    warnings: Vec<String>,
    report: HomogenizeReport,
}

/// What `run` gives: a loaded specimen's run or a periodic cell's
/// homogenization (as `voxfe run` on each).
enum Evaluated {
    Loaded(Box<Loaded>),
    Periodic(Box<Periodic>),
}

/// A calibration whose solves did not converge (no solve's residual to
/// report: the calibration's message says which cell and why).
fn calibration_not_converged(e: &(dyn std::error::Error + 'static)) -> Fail {
    Fail::NotConverged {
        message: chain(e),
        residual: None,
        iterations: None,
        tolerance: None,
        result: None,
    }
}

/// `voxfe run` of one scene ([`run_one` of the CLI]): the library's report
/// (its provenance last), the discretization error from a study where given
/// inserted before the provenance, as the CLI's `--json`.
fn run_loaded(scene: &Scene, error_from: Option<&Path>) -> Result<Loaded, Fail> {
    let study = match error_from {
        Some(f) => Some(
            voxfe::study::converge::error::StudyFile::load(f, scene)
                .map_err(|e| fail_of(&e, true))?,
        ),
        None => None,
    };
    let mut report = voxfe::pipeline::run(scene).map_err(|e| match &e {
        voxfe::pipeline::RunError::Calibration(c) if c.is_not_converged() => {
            calibration_not_converged(&e)
        }
        _ => fail_of(&e, e.is_bad_input()),
    })?;
    let discretization = match &study {
        Some(s) => Some(s.apply(scene, &mut report).map_err(|e| fail_of(&e, true))?),
        None => None,
    };
    let mut warnings: Vec<String> = discretization
        .iter()
        .filter(|d| d.relative.is_none())
        .map(|d| d.statement.clone())
        .collect();
    warnings.extend(report.voxel.warnings.iter().chain(&report.notices).cloned());
    let mut json = report.to_json();
    if let Some(d) = &discretization {
        // Before the provenance, which stays last (as the CLI's --json).
        let at = json.len() - 1;
        json.shift_insert(
            at,
            "discretization_error".into(),
            serde_json::to_value(d).map_err(|e| Fail::Other(e.to_string()))?,
        );
    }
    Ok(Loaded {
        json,
        warnings,
        report,
    })
}

/// `voxfe homogenize` of the periodic `scene` (`homogenize_one` of the CLI).
fn run_periodic(scene: &Scene) -> Result<Periodic, Fail> {
    let report = voxfe::homogenize::run::homogenize(scene).map_err(|e| match &e {
        voxfe::homogenize::run::HomogenizeRunError::Calibration(c) if c.is_not_converged() => {
            calibration_not_converged(&e)
        }
        _ => fail_of(&e, e.is_bad_input()),
    })?;
    let warnings = report
        .voxel
        .warnings
        .iter()
        .chain(&report.notices)
        .cloned()
        .collect();
    let json = match report.to_json() {
        Value::Object(m) => m,
        _ => unreachable!("a report serializes to an object"),
    };
    Ok(Periodic {
        json,
        warnings,
        report,
    })
}

/// Runs the scene as `voxfe run` does (a periodic scene homogenized).
/// Returns `(kind, dict, warnings, extras)`: `kind` "loaded" or
/// "periodic", `dict` the `--json` object, `extras` the fields as numpy
/// arrays and the grid (loaded), or `C` (periodic). A solve that did not
/// converge raises `NotConverged` carrying the dict as `result`.
#[pyfunction]
#[pyo3(signature = (scene, progress=None, error_from=None))]
fn run<'py>(
    py: Python<'py>,
    scene: PyRef<'py, PyScene>,
    progress: Option<Py<PyAny>>,
    error_from: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let scene = scene.inner.clone();
    let evaluated = watched(py, progress, move |_| {
        if voxfe::pipeline::SceneKind::is_periodic(&scene) {
            if let Some(f) = &error_from {
                // Refused (a periodic scene has no study), not ignored.
                voxfe::study::converge::error::StudyFile::load(f, &scene)
                    .map_err(|e| fail_of(&e, true))?;
            }
            run_periodic(&scene).map(|p| Evaluated::Periodic(Box::new(p)))
        } else {
            run_loaded(&scene, error_from.as_deref()).map(|l| Evaluated::Loaded(Box::new(l)))
        }
    })?;
    match evaluated {
        Evaluated::Loaded(l) => loaded_to_py(py, *l),
        Evaluated::Periodic(p) => periodic_to_py(py, *p),
    }
}

/// `(kind, dict, warnings, extras)` of a loaded run; raises
/// `NotConverged` when the solve did not converge.
fn loaded_to_py(py: Python<'_>, l: Loaded) -> PyResult<Bound<'_, PyAny>> {
    let Loaded {
        json,
        warnings,
        mut report,
    } = l;
    let s = &mut report.solve;
    if !s.converged {
        let message = format!(
            "scene '{}' did not converge: relative residual {:.3e} after {} iterations (tolerance {:.1e})",
            json.get("provenance")
                .and_then(|p| p.get("scene_path"))
                .and_then(Value::as_str)
                .unwrap_or("?"),
            s.relative_residual,
            s.iterations,
            s.tolerance
        );
        return Err(Fail::NotConverged {
            message,
            residual: Some(s.relative_residual),
            iterations: Some(s.iterations),
            tolerance: Some(s.tolerance),
            result: Some(Box::new(json)),
        }
        .into_pyerr(py));
    }
    let extras = PyDict::new(py);
    let take = std::mem::take::<Vec<f32>>;
    extras.set_item(
        "displacement",
        Buffer::F64(std::mem::take(&mut s.displacement)),
    )?;
    extras.set_item("von_mises", Buffer::F32(take(&mut s.von_mises)))?;
    extras.set_item("sed", Buffer::F32(take(&mut s.sed)))?;
    extras.set_item("ees", Buffer::F32(take(&mut s.ees)))?;
    extras.set_item(
        "grid",
        Grid {
            grid: std::mem::replace(&mut report.grid, VoxelGrid::empty([0, 0, 0], 1.0)),
        },
    )?;
    let out = (
        "loaded",
        json_to_py(py, &Value::Object(json))?,
        warnings,
        extras,
    );
    Ok(out.into_pyobject(py)?.into_any())
}

/// `(kind, dict, warnings, extras)` of a homogenization (`extras`: `C`,
/// 6×6, MPa); raises `NotConverged` when a solve did not converge.
fn periodic_to_py(py: Python<'_>, p: Periodic) -> PyResult<Bound<'_, PyAny>> {
    let r = &p.report.result;
    if !r.converged {
        let worst = r
            .columns
            .iter()
            .map(|c| c.relative_residual)
            .fold(f64::NAN, f64::max);
        return Err(Fail::NotConverged {
            message: format!(
                "scene '{}' did not converge (tolerance {:.1e}): {}",
                p.json
                    .get("provenance")
                    .and_then(|p| p.get("scene_path"))
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                r.tolerance,
                r.unconverged()
            ),
            residual: Some(worst),
            iterations: r.columns.iter().map(|c| c.iterations).max(),
            tolerance: Some(r.tolerance),
            result: Some(Box::new(p.json)),
        }
        .into_pyerr(py));
    }
    let extras = PyDict::new(py);
    extras.set_item("C", r.stiffness.0.map(Vec::from).to_vec())?;
    let out = (
        "periodic",
        json_to_py(py, &Value::Object(p.json))?,
        p.warnings,
        extras,
    );
    Ok(out.into_pyobject(py)?.into_any())
}

/// `voxfe converge` of the scene: the study's JSON object (as `converge
/// --json`); a level that did not converge raises `NotConverged` with it.
#[pyfunction]
#[pyo3(signature = (scene, levels, ratio, quantities, progress=None))]
fn converge<'py>(
    py: Python<'py>,
    scene: PyRef<'py, PyScene>,
    levels: usize,
    ratio: f64,
    quantities: Vec<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    use voxfe::study::converge::{self as study, Studies};
    let scene = scene.inner.clone();
    let (json, converged, last) = watched(py, progress, move |w| {
        let provenance = Provenance::of_scene(&scene);
        let r = study::run(&scene, levels, ratio, &quantities, |i, r| {
            w.event(&[
                ("stage", "level".into()),
                ("level", i.into()),
                ("voxel_size", r.voxel.voxel_size.into()),
                ("iterations", r.solve.iterations.into()),
                ("solve_seconds", r.solve.solve_seconds.into()),
            ]);
        })
        .map_err(|e| fail_of(&e, e.is_bad_input()))?;
        let last = r.levels.last().map(|l| (l.relative_residual, l.iterations));
        let converged = r.converged;
        Ok((Studies::one(r, provenance).to_json(), converged, last))
    })?;
    if !converged {
        let (residual, iterations) = last.unzip();
        let result = match json {
            Value::Object(m) => Some(Box::new(m)),
            _ => None,
        };
        return Err(Fail::NotConverged {
            message: "a level of the convergence study did not converge; no estimate".into(),
            residual,
            iterations,
            tolerance: None,
            result,
        }
        .into_pyerr(py));
    }
    json_to_py(py, &json)
}

/// `voxfe design` of the scene: the design's JSON object (as `design
/// --json`).
#[pyfunction]
#[pyo3(signature = (scene, target_modulus, tolerance, porosity_range, max_solves, progress=None))]
fn design<'py>(
    py: Python<'py>,
    scene: PyRef<'py, PyScene>,
    target_modulus: f64,
    tolerance: f64,
    porosity_range: (f64, f64),
    max_solves: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    use voxfe::study::design::{self as d, DesignOptions};
    let opts = DesignOptions {
        target: target_modulus,
        tolerance,
        porosity_range,
        max_solves,
        ..Default::default()
    };
    let scene = scene.inner.clone();
    let json = watched(py, progress, move |w| {
        let failed = |e: d::RunDesignError| fail_of(&e, e.is_bad_input());
        let event = |n: usize, phi: f64, e: f64| {
            w.event(&[
                ("stage", "probe".into()),
                ("solve", n.into()),
                ("porosity", phi.into()),
                ("modulus", e.into()),
            ]);
        };
        if scene.load_case().is_periodic() {
            let designed = d::periodic::run(&scene, &opts, |n, phi, _: &HomogenizeReport, e| {
                event(n, phi, e)
            })
            .map_err(failed)?;
            Ok(designed.to_json())
        } else {
            let designed = d::run(&scene, &opts, |n, phi, _: &RunReport, e| event(n, phi, e))
                .map_err(failed)?;
            Ok(Value::Object(designed.to_json()))
        }
    })?;
    json_to_py(py, &json)
}

/// `voxfe sweep` of the scene without writing anything: the rows (as
/// `results.jsonl`'s lines), one per case; `vary` as `--vary`.
#[pyfunction]
#[pyo3(signature = (scene, vary, progress=None))]
fn sweep<'py>(
    py: Python<'py>,
    scene: PyRef<'py, PyScene>,
    vary: Vec<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    use voxfe::study::sweep::plan;
    let scene = scene.inner.clone();
    let rows = watched(py, progress, move |w| {
        let plan = plan(&scene, &vary, None).map_err(|e| fail_of(&e, e.is_bad_input()))?;
        let rows = plan
            .run(&[], |case, total, outcome| {
                let went_on = w.event(&[
                    ("stage", "case".into()),
                    ("case", case.index.into()),
                    ("total", total.into()),
                    ("status", outcome.row.status.as_str().into()),
                    ("settings", case.set_args().into()),
                ]);
                if went_on {
                    Ok(())
                } else {
                    Err(Fail::Other("stopped".into()))
                }
            })
            .map_err(|f| match f {
                Fail::Other(_) => Fail::Other("the sweep was stopped".into()),
                f => f,
            })?;
        Ok(rows
            .iter()
            .map(|r| Value::Object(r.to_json()))
            .collect::<Vec<_>>())
    })?;
    json_to_py(py, &Value::Array(rows))
}

/// The name of the GPU adapter a `gpu` backend would take, or `None`
/// when there is none.
#[pyfunction]
fn gpu_adapter(py: Python<'_>) -> PyResult<Option<String>> {
    watched(py, None, |_| {
        Ok(
            voxfe::gpu::GpuContext::new(&voxfe::gpu::AdapterRequest::default())
                .ok()
                .map(|c| c.adapter_name()),
        )
    })
}

/// Panics inside a watched call: the check that a Rust panic reaches
/// Python as `InternalError` (tests/test_errors.py).
#[pyfunction]
fn _panic(py: Python<'_>, message: String) -> PyResult<()> {
    watched(py, None, move |_| -> Result<(), Fail> {
        panic!("{message}")
    })
}

#[pymodule]
fn _voxfe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyScene>()?;
    m.add_class::<Grid>()?;
    m.add_class::<Buffer>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(converge, m)?)?;
    m.add_function(wrap_pyfunction!(design, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_adapter, m)?)?;
    m.add_function(wrap_pyfunction!(_panic, m)?)?;
    m.add("VoxfeError", py.get_type::<VoxfeError>())?;
    m.add("SceneError", py.get_type::<SceneError>())?;
    m.add("NotConverged", py.get_type::<NotConverged>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("__version__", voxfe::provenance::VERSION)?;
    m.add("COMMIT", voxfe::provenance::COMMIT)?;
    Ok(())
}
